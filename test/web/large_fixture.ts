/**
 * A results folder of a Llama-sized run for the dashboard's page timings
 * (`bench/web_pages.ts`): 64 atoms per model, 3 models of 32 layers × 4,096
 * FFN units (131,072 ANs), a members table of about 1.7 × 10⁶ rows (34 MiB)
 * and a codes matrix (32 MiB) per model, networks tables for Yeo-7, Yeo-17
 * and Giles' 39 maps, and the maps the atom page shows (anatomy, Yeo-7
 * labels, each model's 64-volume group t map) on the 2 mm MNI grid
 * (91×109×91). Everything else is {@linkcode writeResultsFolder}'s, on a
 * small grid no timed page opens.
 *
 * @module
 */

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeNpy } from "@brainorg/common";
import { rng } from "@brainorg/kernels";
import { encodeNifti1 } from "@brainorg/neuro";
import {
  modelFiles,
  RESULT_FILES,
  type ResultsSummary,
  templateFiles,
  voxelFiles,
} from "@brainorg/core/results";
import { writeResultsFolder, YEO7 } from "./fixture.ts";

/** Sizes of a Llama-sized run. */
export const LARGE = {
  models: ["llama-7b", "llama-7b-random", "llama-7b-shuffled"],
  atoms: 64,
  layers: 32,
  units: 4096,
  /** Share of (atom, AN) pairs with a non-zero code: 64 × 131,072 × 0.2 ≈ 1.7 × 10⁶ rows. */
  density: 0.2,
  grid: [91, 109, 91] as [number, number, number],
};

/** The 2 mm MNI affine (voxel → mm), row-major 4×4. */
const AFFINE_2MM = Float64Array.of(2, 0, 0, -90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1);

/** A NIfTI at 2 mm, gzipped natively at level 1 (fflate would take minutes for 3 × 231 MB). */
function nifti2mm(data: Float32Array, nt: number, datatype: "float32" | "int16" = "float32") {
  const [nx, ny, nz] = LARGE.grid;
  const raw = encodeNifti1(
    { shape: nt > 1 ? [nx, ny, nz, nt] : [nx, ny, nz], affine: AFFINE_2MM, data },
    { datatype, gzip: false },
  );
  return gzipSync(raw, { level: 1 });
}

/** Members rows (by atom, |code| descending), codes (K × N) and per-layer counts of one model. */
function members(seed: number) {
  const { atoms: K, layers: L, units: U, density } = LARGE, N = L * U, rand = rng(seed);
  const codes = new Float32Array(K * N), chunks: string[] = ["layer,unit,atom,code\n"];
  const counts: number[][] = [];
  let rows = 0;
  for (let k = 0; k < K; k++) {
    const js: number[] = [];
    for (let j = 0; j < N; j++) {
      if (rand() < density) {
        codes[k * N + j] = Math.fround((rand() - 0.5) * 1.8);
        js.push(j);
      }
    }
    js.sort((a, b) => Math.abs(codes[k * N + b]) - Math.abs(codes[k * N + a]) || a - b);
    const perLayer = Array.from({ length: L }, () => [0, 0]);
    let text = "";
    for (const j of js) {
      const c = codes[k * N + j], l = Math.floor(j / U);
      perLayer[l][c > 0 ? 0 : 1]++;
      text += `${l},${j % U},${k},${Number(c.toPrecision(6))}\n`;
    }
    chunks.push(text);
    counts.push(...perLayer.map(([p, n], l) => [k, l, p, n]));
    rows += js.length;
  }
  return { text: chunks.join(""), codes, counts, rows };
}

/**
 * Write the folder (about 40 s and 500 MB on disk).
 *
 * @param dir the folder to create
 * @returns the model names and the members rows per model
 */
export async function writeLargeResultsFolder(
  dir: string,
): Promise<{ models: string[]; memberRows: number }> {
  const { atoms: K, layers: L, units: U, grid } = LARGE;
  await writeResultsFolder(dir, {
    models: LARGE.models,
    atoms: K,
    layers: L,
    grid: [10, 12, 10],
    subjects: 1,
  });
  const summary: ResultsSummary = JSON.parse(
    await Deno.readTextFile(join(dir, RESULT_FILES.summary)),
  );
  const put = async (path: string, content: string | Uint8Array) => {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(join(dir, path), content);
    else await Deno.writeFile(join(dir, path), content);
  };

  // The brain: an ellipsoid in the 2 mm grid; Yeo-7: seven slabs from back to front.
  const [nx, ny, nz] = grid, V = nx * ny * nz, rand = rng(3);
  const labels = new Float32Array(V), inside: number[] = [];
  for (let k = 0, i = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let x = 0; x < nx; x++, i++) {
        const d = ((x - nx / 2) / (nx * 0.42)) ** 2 + ((j - ny / 2) / (ny * 0.45)) ** 2 +
          ((k - nz / 2) / (nz * 0.42)) ** 2;
        if (d < 1) (labels[i] = 1 + Math.min(6, Math.floor((j / ny) * 7))), inside.push(i);
      }
    }
  }
  const anatomy = new Float32Array(V);
  for (const i of inside) anatomy[i] = 3000 + 2000 * rand();
  await put(RESULT_FILES.anatomy, nifti2mm(anatomy, 1));
  await put(templateFiles("Yeo-7").labels, nifti2mm(labels, 1, "int16"));

  const sets = [
    ["Yeo-7", YEO7],
    ["Yeo-17", Array.from({ length: 17 }, (_, n) => `network ${n + 1}`)],
    ["Giles-39", Array.from({ length: 39 }, (_, n) => `map ${n + 1}`)],
  ] as const;
  let memberRows = 0;
  for (const [m, model] of LARGE.models.entries()) {
    const mf = modelFiles(model), vf = voxelFiles(model);
    const table = members(101 + m);
    memberRows = table.rows;
    await put(mf.members.path, table.text);
    await put(mf.codes, encodeNpy({ shape: [K, L * U], data: table.codes }));
    await put(
      mf.subgroups.path,
      "atom,layer,positive,negative\n" + table.counts.map((r) => r.join(",")).join("\n") + "\n",
    );
    // Group t maps: each atom a slab network plus noise, zero outside the brain.
    const t = new Float32Array(V * K);
    for (let k = 0; k < K; k++) {
      const net = 1 + (k % 7);
      for (const i of inside) t[k * V + i] = (labels[i] === net ? 4 : 0) + 2 * (rand() - 0.5);
    }
    await put(vf.groupT, nifti2mm(t, K));

    const templates = [];
    for (const [set, names] of sets) {
      const spec = vf.networks(set), lines = [spec.columns.join(",")], links = [];
      for (let k = 0; k < K; k++) {
        for (const sign of [1, -1] as const) {
          for (let n = 0; n < names.length; n++) {
            const dice = rand() * 0.5, linked = sign === 1 && n === k % names.length;
            const cell = {
              atom: k,
              sign,
              network: n + 1,
              networkName: names[n],
              voxels: 2000,
              dice,
              overlap: dice,
              p: linked ? 0.001 : rand(),
              z: 3 * rand(),
              q: linked ? 0.01 : rand(),
              pFWE: rand(),
              linked,
            };
            lines.push(spec.columns.map((c) => String(cell[c as keyof typeof cell])).join(","));
            if (linked) links.push(cell);
          }
        }
      }
      await put(spec.path, lines.join("\n") + "\n");
      const first = summary.voxel!.models[m].templates[0];
      templates.push({
        ...first,
        name: set,
        links,
        metrics: { ...first.metrics, networks: names.length, links: links.length },
      });
    }
    summary.voxel!.models[m].templates = templates;
    summary.models[m].ans = L * U;
  }
  await put(RESULT_FILES.summary, JSON.stringify(summary, null, 2));
  return { models: LARGE.models, memberRows };
}
