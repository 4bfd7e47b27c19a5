/**
 * Results folders for the dashboard's tests and load benchmark, written by
 * hand in the layout `deno task analyze` writes (see the README's "Results
 * folder" table): the same files, columns and summary fields, with
 * synthetic values, so that a test gets a realistic folder in a second
 * instead of running the demo for minutes.
 *
 * @module
 */

import { join } from "node:path";
import { encodeNpy } from "@brainorg/common";
import { rng } from "@brainorg/kernels";
import { encodeNifti1 } from "@brainorg/neuro";
import {
  modelFiles,
  type ModelRoiGroup,
  RESULT_FILES,
  type ResultsSummary,
  type TableSpec,
  templateFiles,
  voxelFiles,
} from "@brainorg/core/results";

/** What {@linkcode writeResultsFolder} writes. Every field has a default. */
export interface FixtureOptions {
  /** Model names (folder names under `models/` and `voxels/`). Default: the demo's two. */
  models?: string[];
  /** Atoms per model. Default: 16. */
  atoms?: number;
  /** Transformer blocks per model. Default: 5. */
  layers?: number;
  /** Volumes on the TR grid. Default: 362 (the Alice story). */
  volumes?: number;
  /** Words of the story. Default: 2,127 (the Alice story). */
  words?: number;
  /** Voxel grid of the maps. Default: 45×54×45 (MNI at 4 mm, as the demo). */
  grid?: [number, number, number];
  /** Subjects with per-subject maps. Default: 2. */
  subjects?: number;
  /** Text put where the writer puts free text: words, ROI and network names, parameters. */
  text?: string;
}

/** The Yeo-7 names as `voxels/networks_Yeo-7.csv` has them. */
export const YEO7 = [
  "1_Visual_Area",
  "2_Somatomotor_Area",
  "3_Dorsal_Area",
  "4_Ventral_Area",
  "5_Lymbic_Area",
  "6_Frontoparietal_Area",
  "7_Default_Network_Area",
];

const ROIS = ["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"];

function csv(header: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "NaN") : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

async function write(dir: string, path: string, content: string | Uint8Array): Promise<void> {
  const file = join(dir, path);
  await Deno.mkdir(join(file, ".."), { recursive: true });
  if (typeof content === "string") await Deno.writeTextFile(file, content);
  else await Deno.writeFile(file, content);
}

/** ANs per layer of the fixture's models. */
const UNITS = 64;

/**
 * A member every fixture model has: atom 0's strongest AN (|code| above all
 * others, which stay below 0.9), unit 17 of layer 2 (the fixtures have 3
 * layers or more).
 */
export const KNOWN_MEMBER = { atom: 0, layer: 2, unit: 17, code: 0.97, text: "L2.u17 +0.97" };

/**
 * Codes (K × L·64, about a fifth non-zero, every 29th AN dead) with
 * {@linkcode KNOWN_MEMBER} planted, and the rows of `members.csv` for them
 * (layer, unit, atom, code; by atom, then |code| descending), computed here
 * on their own rather than by the pipeline's code.
 */
function memberTable(K: number, L: number, seed: number) {
  const rand = rng(seed), N = L * UNITS, codes = new Float32Array(K * N);
  for (let i = 0; i < codes.length; i++) {
    if (i % N % 29 !== 5 && rand() < 0.2) codes[i] = (rand() - 0.5) * 1.8;
  }
  codes[KNOWN_MEMBER.atom * N + KNOWN_MEMBER.layer * UNITS + KNOWN_MEMBER.unit] = KNOWN_MEMBER.code;
  const rows: unknown[][] = [];
  for (let k = 0; k < K; k++) {
    const js = Array.from({ length: N }, (_, j) => j).filter((j) => codes[k * N + j] !== 0);
    js.sort((a, b) => Math.abs(codes[k * N + b]) - Math.abs(codes[k * N + a]) || a - b);
    for (const j of js) rows.push([Math.floor(j / UNITS), j % UNITS, k, codes[k * N + j]]);
  }
  return { codes, rows };
}

/** The demo's 4 mm MNI affine (voxel → mm), row-major 4×4, for any grid. */
function affine(): Float64Array {
  return Float64Array.of(4, 0, 0, -90, 0, 4, 0, -126, 0, 0, 4, -72, 0, 0, 0, 1);
}

/** A small folder (4 atoms, one subject, a 10 × 12 × 10 grid) for tests of one page's lines. */
export const SMALL_FOLDER: FixtureOptions = {
  atoms: 4,
  volumes: 60,
  words: 200,
  grid: [10, 12, 10],
  subjects: 1,
};

/**
 * Write a complete results folder (voxel level included) into `dir`.
 *
 * @param dir the folder to create (its parents are created too)
 * @param options sizes and names; see {@linkcode FixtureOptions}
 * @returns the model names and every file written, relative to `dir`
 *
 * @example
 * ```ts
 * const { files } = await writeResultsFolder("/tmp/run", { grid: [12, 14, 12] });
 * ```
 */
export async function writeResultsFolder(
  dir: string,
  options: FixtureOptions = {},
): Promise<{ models: string[]; files: string[] }> {
  const models = options.models ?? ["stories260K", "stories260K-random"];
  const K = options.atoms ?? 16, L = options.layers ?? 5, T = options.volumes ?? 362;
  const nWords = options.words ?? 2127, [nx, ny, nz] = options.grid ?? [45, 54, 45];
  const nSubjects = options.subjects ?? 2, text = options.text;
  const rand = rng(7), files: string[] = [];
  const put = async (path: string, content: string | Uint8Array) => {
    await write(dir, path, content);
    files.push(path);
  };
  // Tables at the schema's paths, rows given in the schema's column order.
  const putTable = (table: TableSpec, rows: unknown[][]) =>
    put(table.path, csv([...table.columns], rows));
  const nifti = (data: Float32Array, nt = 1, datatype: "float32" | "int16" = "float32") =>
    encodeNifti1(
      { shape: nt > 1 ? [nx, ny, nz, nt] : [nx, ny, nz], affine: affine(), data },
      { datatype },
    );
  const networks = YEO7.map((n) => (text ? `${n} ${text}` : n));
  const rois = text ? [...ROIS.slice(1), text] : ROIS;

  // The brain: an ellipsoid; its networks: seven slabs from back to front.
  const V = nx * ny * nz, inside = new Uint8Array(V), labels = new Float32Array(V);
  for (let k = 0, i = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let x = 0; x < nx; x++, i++) {
        const d = ((x - nx / 2) / (nx * 0.42)) ** 2 + ((j - ny / 2) / (ny * 0.45)) ** 2 +
          ((k - nz / 2) / (nz * 0.42)) ** 2;
        if (d < 1) (inside[i] = 1), (labels[i] = 1 + Math.min(6, Math.floor((j / ny) * 7)));
      }
    }
  }
  const brainVoxels = inside.reduce((a, b) => a + b, 0);
  const anatomy = Float32Array.from(inside, (v) => (v ? 3000 + 2000 * rand() : 0));
  const volumeMaps = (n: number, scale: number) => {
    const out = new Float32Array(V * n);
    for (let a = 0; a < n; a++) {
      const net = 1 + (a % 7);
      for (let i = 0; i < V; i++) {
        if (inside[i]) out[a * V + i] = (labels[i] === net ? scale : 0) + (rand() - 0.5) * scale;
      }
    }
    return out;
  };

  await put(RESULT_FILES.anatomy, nifti(anatomy));
  await put(templateFiles("Yeo-7").labels, nifti(labels, 1, "int16"));
  await putTable(templateFiles("Yeo-7").names, networks.map((n, i) => [i + 1, n]));

  const words = Array.from({ length: nWords }, (_, w) => {
    const onset = 20 + (w * (T * 2 - 40)) / nWords;
    return [text && w % 50 === 0 ? text : `word${w}`, onset, onset + 0.3, 1 + Math.floor(w / 500)];
  });
  await putTable(RESULT_FILES.words, words);
  await putTable(
    RESULT_FILES.wordRate,
    Array.from({ length: T }, (_, t) => [t, 20 + 2 * t, rand()]),
  );
  const subjects = Array.from({ length: 4 }, (_, s) => `s${String(s + 1).padStart(2, "0")}`);
  await putTable(RESULT_FILES.roiSubjects, subjects.map((s) => [s, true, ""]));
  await putTable(
    RESULT_FILES.baselineRoi,
    subjects.flatMap((s) => rois.map((r) => [s, r, 0.1 * rand(), rand(), rand(), 10])),
  );
  const modelRoi: unknown[][] = [], modelGroup: unknown[][] = [];
  for (const m of models) {
    for (const variant of ["atoms", "atoms+baseline"]) {
      for (const r of rois) {
        for (const s of subjects) modelRoi.push([m, variant, s, r, 0.2 * rand(), rand(), 1, 10]);
        modelGroup.push([m, variant, r, 4, 0.1 * rand(), 3 * rand(), 1, 0.05, 2 * rand()]);
      }
    }
  }
  await putTable(RESULT_FILES.modelsRoi, modelRoi);
  await putTable(RESULT_FILES.modelsGroup, modelGroup);

  const summaryModels = [], voxelModels = [], roiModels: ModelRoiGroup[] = [];
  for (const m of models) {
    const mf = modelFiles(m), vf = voxelFiles(m);
    await put(
      mf.atoms,
      csv(
        ["volume", ...Array.from({ length: K }, (_, k) => `atom${k}`)],
        Array.from({ length: T }, (_, t) => [t, ...Array.from({ length: K }, () => rand() - 0.5)]),
      ),
    );
    await putTable(
      mf.subgroups,
      Array.from(
        { length: K * L },
        (_, i) => [Math.floor(i / L), i % L, Math.floor(rand() * 9), Math.floor(rand() * 5)],
      ),
    );
    const layerR2 = Array.from({ length: L }, () => rand());
    await putTable(mf.layerR2, layerR2.map((r, l) => [l, r]));
    const members = memberTable(K, L, 11 + models.indexOf(m));
    await put(mf.codes, encodeNpy({ shape: [K, L * UNITS], data: members.codes }));
    await putTable(mf.members, members.rows);
    await put(vf.groupT, nifti(volumeMaps(K, 4), K));
    await put(vf.groupMeanR, nifti(volumeMaps(1, 0.2)));
    await put(vf.groupNegLog10Q, nifti(volumeMaps(1, 3)));
    await put(vf.atomLabels, nifti(Float32Array.from(labels), 1, "int16"));
    for (const s of subjects.slice(0, nSubjects)) {
      await put(vf.subjectMap(s, "r"), nifti(volumeMaps(1, 0.3)));
      await put(vf.subjectMap(s, "z"), nifti(volumeMaps(K, 2), K));
    }
    await putTable(vf.subjects, subjects.map((s) => [s, 0.05, 0.01, 100]));
    const templates = [];
    for (const [set, names] of [["Yeo-7", networks], ["Giles-39", ["A", "B", "C", "D"]]] as const) {
      const cells = [];
      for (let k = 0; k < K; k++) {
        for (const sign of [1, -1] as const) {
          for (let n = 0; n < names.length; n++) {
            const dice = rand() * 0.5, linked = sign === 1 && n === k % names.length;
            cells.push({
              atom: k,
              sign,
              network: n + 1,
              networkName: names[n],
              voxels: 200,
              dice,
              overlap: dice,
              p: linked ? 0.001 : rand(),
              z: 3 * rand(),
              q: linked ? 0.01 : rand(),
              pFWE: rand(),
              linked,
            });
          }
        }
      }
      const table = vf.networks(set);
      await putTable(table, cells.map((c) => table.columns.map((h) => c[h as keyof typeof c])));
      const links = cells.filter((c) => c.linked);
      templates.push({
        name: set,
        metrics: {
          atoms: K,
          linkedAtoms: links.length,
          links: links.length,
          networks: names.length,
          networksEngaged: Math.min(names.length, links.length),
          assignmentEntropy: 2.5,
          normalizedEntropy: 0.9,
          layerSpread: 0.5,
          consistency: { timeCourse: 0.3, mapOverlap: 0.2, perNetwork: [] },
        },
        links,
      });
    }
    summaryModels.push({
      name: m,
      source: "fixture",
      ans: L * UNITS,
      deadAns: 0,
      atoms: K,
      alpha: 0.1,
      codeDensity: 0.2,
      layerR2,
    });
    roiModels.push(
      ...modelGroup.filter((g) => g[0] === m).map((g) => ({
        model: m,
        variant: g[1] as ModelRoiGroup["variant"],
        roi: g[2] as string,
        subjects: g[3] as number,
        meanR: g[4] as number,
        t: g[5] as number,
        significant: g[6] as number,
        gainOverBaseline: g[7] as number,
        tGain: g[8] as number,
      })),
    );
    voxelModels.push({
      name: m,
      subjects: subjects.slice(0, nSubjects).map((s) => ({
        subject: s,
        medianR: 0.05,
        medianR2: 0.01,
        voxelsQ05: 100,
      })),
      voxelsMeanRQ05: 500,
      medianFractionOfCeiling: 0.4,
      templates,
      recovery: {
        truePositives: 7,
        falsePositives: 0,
        falseNegatives: 1,
        precision: 1,
        recall: 0.875,
        undrivenLinked: [],
      },
    });
  }
  const summary: ResultsSummary = {
    schema: "brainorg.results/2",
    brainorg: "0.1.0",
    steps: [],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: {
      transcript: "story.TextGrid",
      words: nWords,
      dropped: 0,
      volumes: T,
      tr: 2,
      discarded: [10],
      check: {
        name: "reference",
        subjects: subjects.map((s) => ({ subject: s, r: 0.99 })),
        minR: 0.99,
      },
    },
    rois: {
      rois,
      subjects: subjects.map((id) => ({ id, usable: true, reason: "" })),
      folds: 5,
      permutations: 0,
      baseline: {
        regressors: ["word_rate", "sound_power"],
        group: rois.map((roi) => ({ roi, subjects: 4, meanR: 0.1, t: 3, significant: 1 })),
      },
      models: roiModels,
    },
    models: summaryModels,
    voxel: {
      dataset: "phantom",
      subjects: nSubjects,
      voxels: brainVoxels,
      phantom: {
        links: [],
        undrivenAtoms: [],
        subjects: nSubjects,
        r2: 0.1,
        medianR2: Array.from({ length: nSubjects }, () => 0.1),
        voxels: brainVoxels,
        noise: "spatially smooth Gaussian",
        seed: 0,
        networks: "Yeo-7",
        resolutionMm: 4,
        model: models[0],
      },
      permutations: 19,
      voxelP: 0.01,
      threshold: 3.1,
      noiseCeiling: {
        median: 0.21,
        medianIsc: 0.09,
        minCeiling: 0.2,
        voxelsAboveMin: 1,
        definition: "ceiling = √ρ",
      },
      models: voxelModels,
    },
  };
  await put(RESULT_FILES.summary, JSON.stringify(summary, null, 2));
  await put(
    RESULT_FILES.provenance,
    JSON.stringify({
      schema: "brainorg.provenance/1",
      tool: { name: "brainorg", version: "0.1.0" },
      createdAt: "2025-01-01T00:00:00.000Z",
      inputs: [{ role: "transcript", path: "alice.TextGrid", sha256: "0".repeat(64), bytes: 1 }],
      parameters: { atoms: K, ...(text ? { [text]: text } : {}) },
      seed: 0,
    }),
  );
  await put(RESULT_FILES.report, "<!doctype html><h1>brainorg results</h1>");
  return { models, files };
}
