/**
 * A mini-Narratives whose truth is known (`deno task phantom --bids DIR`):
 * a BIDS dataset in which every subject heard two stories (Alice and the
 * first run of Le Petit Prince), one scanner run each, with fMRIPrep-style
 * derivatives (preprocessed BOLD on the 4 mm MNI grid, brain mask,
 * confounds with fMRIPrep's columns). The BOLD holds stories260K's atoms,
 * learned on both stories exactly as the pipeline learns them, planted in
 * Yeo-7 networks; plus a speech-locked head-motion artefact: a word-rate
 * series in `trans_z` and `rot_x` that also drives one network no atom
 * drives, so that a spurious link appears unless confounds are regressed.
 *
 * Layout: `stimuli/gentle/<task>/` (align.json for alice, align.csv for
 * lpp, transcript.txt), `task-<task>_bold.json`, `sub-XX/func/` (events and
 * stand-in raw BOLD), `derivatives/fmriprep/sub-XX/func/`, and the truth in
 * `derivatives/brainorg-phantom/truth.json` (a derivative dataset of its own).
 *
 * @module
 */

import { join } from "node:path";
import {
  InputError,
  writeDirAtomic,
  writeFileAtomic,
  writeJsonAtomic,
  writeTextFileAtomic,
} from "@brainorg/common";
import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import { type Backend, type Matrix, rng } from "@brainorg/kernels";
import {
  encodeNifti1,
  type NetworkTemplate,
  readTranscript,
  unmask,
  writeNifti,
} from "@brainorg/neuro";
import { confoundsTsv, fmriprepConfounds, gaussian, motionParameters } from "./_bids_confounds.ts";
import { boundary, centred, networkWeights, plan, zscore } from "./_phantom_bids_plan.ts";
import {
  PHANTOM_BIDS_RES,
  PHANTOM_BIDS_SPACE,
  runFiles,
  subjectId,
  TRUTH_DIR,
  writeDescriptions,
  writeEvents,
  writeGentle,
  writeTsv,
} from "./_phantom_bids_layout.ts";
import { captureModelAtoms } from "./capture_atoms.ts";
import { demoConfig } from "./demo.ts";
import { networkSets } from "./networks.ts";
import { resolveSettings } from "./options.ts";
import { generatePhantom } from "./phantom.ts";
import {
  PHANTOM_BIDS_SCHEMA,
  type PhantomBidsStory,
  type PhantomBidsTruth,
  phantomBidsTruthPath,
  readPhantomBidsTruth,
} from "./phantom_bids_truth.ts";
import { resolveDataPaths } from "./pipeline.ts";
import { median, pearson } from "./stats.ts";
import { prepareStimulus } from "./stimulus.ts";
import { storiesStimulus, type StoryRun, storySpans } from "./stories.ts";
import { brainMask, templateNetworks } from "./templates.ts";

export { PHANTOM_BIDS_RES, PHANTOM_BIDS_SPACE } from "./_phantom_bids_layout.ts";
export * from "./phantom_bids_truth.ts";

/** The stories of the phantom: the BIDS task, its reference transcript and how it is shipped. */
export const PHANTOM_BIDS_STORIES: readonly {
  task: string;
  source: string;
  run: number;
  format: "csv" | "json";
}[] = [
  {
    task: "alice",
    source: "data:alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid",
    run: 0,
    format: "json",
  },
  { task: "lpp", source: "data:lpp/lpp_en_regressors.csv", run: 0, format: "csv" },
];

/** Options of {@linkcode writePhantomBids}. */
export interface PhantomBidsOptions {
  /** Subjects. Default: 4. */
  subjects?: number;
  /** Median true R² of the planted atoms in driven voxels. Default: 0.1. */
  r2?: number;
  /** Seed of dictionary learning (as the pipeline's), of the phantom and of the motion. Default: 0. */
  seed?: number;
  /** Atoms learned from stories260K. Default: 16. */
  atoms?: number;
  /** Code density the sparsity is calibrated to. Default: 0.2. */
  targetDensity?: number;
  /**
   * Median over the artefact network's voxels of the artefact's share of
   * their variance. Default: 0.3.
   */
  artefactR2?: number;
  /** Scanner time (s) at which each story's audio starts. Default: 6 (three volumes). */
  stimulusOffset?: number;
  /** Seconds scanned after each story's last word (the HRF's tail). Default: 20. */
  tail?: number;
  /** Where the reference data (transcripts, atlases, model) is found. */
  data?: ResolveOptions;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

/**
 * Refuse to replace a folder that holds anything but a previous BIDS phantom:
 * a dataset of the user's must never be swept away by a typo.
 *
 * @throws {InputError} naming the folder and what it holds
 */
async function checkReplaceable(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new InputError("the --bids folder cannot be read", {
      file: dir,
      field: "--bids",
      expected: "a new or empty folder, or a previous phantom",
      found: (err as Error).message,
    });
  }
  if (entries.length === 0) return;
  try {
    await readPhantomBidsTruth(dir);
  } catch {
    throw new InputError("the --bids folder holds something else than a phantom", {
      file: dir,
      field: "--bids",
      expected: `a new or empty folder, or a previous phantom (with ${TRUTH_DIR}/truth.json)`,
      found: `${entries.length} entries: ${entries.slice(0, 5).join(", ")}` +
        (entries.length > 5 ? ", …" : ""),
    });
  }
}

/**
 * Generate the BIDS phantom and write it atomically to `dir` (a temporary
 * sibling, then a rename). `dir` must be missing, empty or a previous
 * phantom.
 *
 * @param dir the dataset's root
 * @param backend products (the phantom's signal, CompCor) run there
 * @param options subjects, R², seed, atoms, artefact strength, timing, data (see {@linkcode PhantomBidsOptions})
 * @returns the truth, as written to `derivatives/brainorg-phantom/truth.json`
 * @throws {InputError} when `dir` holds something else than a phantom
 *
 * @example
 * ```ts
 * import { createBackend } from "@brainorg/kernels";
 * import { writePhantomBids } from "@brainorg/core";
 * const backend = await createBackend({ backend: "cpu" });
 * const truth = await writePhantomBids("/tmp/mini-narratives", backend, { subjects: 2 });
 * console.log(truth.links.length, truth.artefact.networkName);
 * backend.dispose();
 * ```
 */
export async function writePhantomBids(
  dir: string,
  backend: Backend,
  options: PhantomBidsOptions = {},
): Promise<PhantomBidsTruth> {
  const subjects = options.subjects ?? 4;
  if (!(Number.isInteger(subjects) && subjects >= 1)) {
    throw new RangeError(`subjects must be a positive integer: current value is ${subjects}`);
  }
  await checkReplaceable(dir);
  let truth!: PhantomBidsTruth;
  await writeDirAtomic(dir, async (tmp) => {
    truth = await buildPhantomBids(tmp, backend, { ...options, subjects });
  }, { what: "the BIDS phantom" });
  return truth;
}

/** The stories' stimulus files, timings and the stimulus the pipeline will build from them. */
async function writeStories(
  root: string,
  options: { data: ResolveOptions; tr: number; offset: number; tail: number },
): Promise<{ stories: PhantomBidsStory[]; runs: StoryRun[] }> {
  const stories: PhantomBidsStory[] = [], runs: StoryRun[] = [];
  let row = 0;
  for (const s of PHANTOM_BIDS_STORIES) {
    const file = await resolveDataFile(s.source.slice("data:".length), options.data);
    const words = (await readTranscript(file.path)).words.filter((w) => w.run === s.run);
    const path = await writeGentle(root, s.task, words, s.format);
    // Gentle's times as written (3 decimals) are the times the pipeline reads.
    const duration = Math.round(words[words.length - 1].offset * 1000) / 1000;
    const volumes = Math.ceil((options.offset + duration + options.tail) / options.tr);
    stories.push({
      task: s.task,
      source: s.source,
      transcript: path.slice(root.length + 1),
      words: words.length,
      stimulusOffset: options.offset,
      duration,
      volumes,
      rows: [row, row + volumes],
    });
    runs.push({
      story: s.task,
      transcript: path,
      tr: options.tr,
      volumes,
      stimulusOffset: options.offset,
    });
    row += volumes;
  }
  return { stories, runs };
}

/** Generate the dataset into the empty folder `root`. */
async function buildPhantomBids(
  root: string,
  backend: Backend,
  options: PhantomBidsOptions & { subjects: number },
): Promise<PhantomBidsTruth> {
  const data = options.data ?? {}, log = options.log ?? (() => {});
  const seed = options.seed ?? 0, atomsK = options.atoms ?? 16;
  const targetDensity = options.targetDensity ?? 0.2, artefactR2 = options.artefactR2 ?? 0.3;
  if (!(artefactR2 > 0 && artefactR2 < 1)) {
    throw new RangeError(`artefactR2 must be in (0, 1): current value is ${artefactR2}`);
  }
  // The demo's model and stimulus settings: the pipeline on this dataset must learn the same atoms.
  const described = await demoConfig({
    ...resolveSettings("demo", {}, { scope: "analysis" }),
    atoms: atomsK,
    seed,
    targetDensity,
    phantom: false,
  });
  const tr = described.stimulus.tr;
  const { stories, runs } = await writeStories(root, {
    data,
    tr,
    offset: options.stimulusOffset ?? 6,
    tail: options.tail ?? 20,
  });
  const { config, sha256 } = await resolveDataPaths(described, data);
  const scratch = await Deno.makeTempDir({ prefix: "brainorg-phantom-bids-" });
  let atoms: Matrix, rate: Float32Array;
  try {
    const stimulusSection = await storiesStimulus(runs, scratch);
    const stimulus = await prepareStimulus(
      { ...config, stimulus: stimulusSection },
      stimulusSection.transcript,
    );
    rate = stimulus.rate;
    const spans = storySpans(stimulusSection.runs);
    if (spans.map((s) => s.rows.join()).join() !== stories.map((s) => s.rows.join()).join()) {
      throw new Error(`the stories' rows disagree: ${JSON.stringify(spans)}`);
    }
    const model = config.models[0];
    const [captured] = await captureModelAtoms(
      backend,
      stimulus,
      [{
        ...model,
        // The control's atoms are not planted; its capture would only cost time.
        randomControl: false,
        ...(model.gguf && sha256.has(model.gguf) ? { sha256: sha256.get(model.gguf)! } : {}),
      }],
      { data, atoms: atomsK, targetDensity, seed, log, quiet: true },
    );
    atoms = captured.atoms.atoms;
    log(
      `phantom: ${captured.name}'s ${atoms.cols} atoms on ${
        stories.map((s) => s.task).join(" + ")
      } (${atoms.rows} volumes)`,
    );
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }

  const resolution = PHANTOM_BIDS_RES;
  const { mask } = await brainMask(resolution, data);
  const t = await templateNetworks("yeo7", mask, resolution, data);
  const sets = networkSets(t.networks, t.kind);
  const networks: NetworkTemplate[] = sets.map((s) => ({
    index: s.index,
    name: s.name,
    values: Float32Array.from(s.member),
  }));
  // The limbic network (orbitofrontal, temporal poles) is where motion and susceptibility
  // artefacts live in real data; it is also the one network no atom drives here.
  const artefactNetwork = sets.findIndex((s) => /limbic|lymbic/i.test(s.name));
  if (artefactNetwork < 0) throw new Error(`no limbic network in ${sets.map((s) => s.name)}`);
  const { links, rateAtom, atomRateCorrelation } = plan(atoms, rate, artefactNetwork, sets.length);

  const V = mask.indices.length, T = atoms.rows;
  const inNetwork = new Uint8Array(V);
  for (const s of sets) s.member.forEach((m, v) => m && (inNetwork[v] = 1));
  const edge = boundary(mask);
  const wm: number[] = [], csf: number[] = [];
  for (let v = 0; v < V; v++) if (!inNetwork[v]) (edge[v] ? csf : wm).push(v);
  const artMembers = sets[artefactNetwork].member;
  // A separate stream: the planted signal and noise are generatePhantom's own, by seed.
  const rand = rng(seed + 7919);
  const correlationBySubject: number[][] = [];

  await writeDescriptions(root, { subjects: options.subjects, stories, tr, seed });
  const maskImage = unmask(new Float32Array(V).fill(1), mask);
  const truth = await generatePhantom(backend, mask, networks, atoms, async (s, m) => {
    const id = subjectId(s);
    // Speech-locked motion: each run's z-scored word rate plus noise, in trans_z (mm) and rot_x (rad).
    const motion = stories.map((st) => {
      const n = st.volumes, mo = motionParameters(n, rand);
      const locked = zscore(Float64Array.from(
        zscore(rate.subarray(st.rows[0], st.rows[1])),
        (x) => x + 0.5 * gaussian(rand),
      ));
      for (let t = 0; t < n; t++) {
        mo[t * 6 + 2] += 0.1 * locked[t];
        mo[t * 6 + 3] += 0.002 * locked[t];
      }
      return mo;
    });
    // The BOLD artefact: a fixed combination of trans_z and rot_x (centred per run), so that
    // regressing those columns with each run's mean removes it exactly.
    const sd = (c: number) => {
      const all = motion.flatMap((mo, r) => Array.from(centred(mo, stories[r].volumes, c)));
      return Math.sqrt(all.reduce((a, x) => a + x * x, 0) / all.length) || 1;
    };
    const sdZ = sd(2), sdX = sd(3);
    const series = new Float64Array(T);
    correlationBySubject.push(stories.map((st, r) => {
      const z = centred(motion[r], st.volumes, 2), x = centred(motion[r], st.volumes, 3);
      for (let t = 0; t < st.volumes; t++) series[st.rows[0] + t] = z[t] / sdZ + x[t] / sdX;
      return pearson(
        series.subarray(st.rows[0], st.rows[1]),
        rate.subarray(st.rows[0], st.rows[1]),
      );
    }));
    const weights = networkWeights(mask, artMembers, rand);
    let sVar = 0;
    for (let t = 0; t < T; t++) sVar += series[t] ** 2 / T;
    const noiseVar: number[] = [], wv: number[] = [];
    for (let v = 0; v < V; v++) {
      if (!artMembers[v]) continue;
      let mu = 0, ss = 0;
      for (let t = 0; t < T; t++) mu += m.data[t * V + v] / T;
      for (let t = 0; t < T; t++) ss += (m.data[t * V + v] - mu) ** 2 / T;
      noiseVar.push(ss);
      wv.push(weights[v] ** 2 * sVar);
    }
    // The amplitude whose median artefact share over the network's voxels is artefactR2.
    const share = (a: number) => median(wv.map((w, i) => a * a * w / (a * a * w + noiseVar[i])));
    let lo = 1e-6, hi = 1e6;
    for (let i = 0; i < 100; i++) {
      const mid = Math.sqrt(lo * hi);
      if (share(mid) < artefactR2) lo = mid;
      else hi = mid;
    }
    const amplitude = Math.sqrt(lo * hi);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        // A baseline of 1000 (generatePhantom's 100, plus 900), as scanner intensities go: the
        // int16 step is then 1/30 of a unit, which gzip stores in half the bytes of 1/300.
        m.data[t * V + v] += 900 + amplitude * weights[v] * series[t];
      }
    }
    for (const [r, st] of stories.entries()) {
      const files = runFiles(id, st.task);
      for (const f of Object.values(files)) {
        await Deno.mkdir(join(root, f, ".."), { recursive: true });
      }
      const run = m.data.subarray(st.rows[0] * V, st.rows[1] * V);
      await writeGzipped(
        join(root, files.preproc),
        encodeNifti1({
          ...unmask(run, mask),
          tr,
          description: `brainorg phantom ${id} ${st.task}`,
        }, { datatype: "int16", scale: true, gzip: false }),
      );
      await writeJsonAtomic(join(root, files.preprocJson), {
        RepetitionTime: tr,
        TaskName: st.task,
        SkullStripped: false,
        Sources: [`bids:raw:${runFiles(id, st.task).rawBold}`],
      });
      await writeNifti(join(root, files.mask), { ...maskImage, description: "brain mask" }, {
        datatype: "uint8",
      });
      const table = await fmriprepConfounds(backend, run, motion[r], {
        volumes: st.volumes,
        voxels: V,
        tr,
        wm,
        csf,
      });
      await writeTextFileAtomic(join(root, files.confounds), confoundsTsv(table.columns));
      await writeJsonAtomic(join(root, files.confoundsJson), table.sidecar);
      await writeEvents(join(root, files.events), st);
      // The raw BOLD is a stand-in: 8 voxels, the run's volumes and TR. They hold the global
      // signal plus noise: a file of zeros gzips below NIfTI's header size, which validators refuse.
      const global = table.columns.find((c) => c.name === "global_signal")!.values;
      const stand = Float32Array.from(
        { length: 8 * st.volumes },
        (_, i) => global[Math.floor(i / 8)] + gaussian(rand),
      );
      await writeNifti(join(root, files.rawBold), {
        shape: [2, 2, 2, st.volumes],
        affine: Float64Array.from([4, 0, 0, -4, 0, 4, 0, -4, 0, 0, 4, -4, 0, 0, 0, 1]),
        data: stand,
        tr,
        description: "stand-in: see the dataset's README",
      }, { datatype: "int16", scale: true, space: "scanner" });
    }
    log(`phantom: ${id} written`);
  }, { subjects: options.subjects, r2: options.r2 ?? 0.1, seed, links });

  const labels = new Float32Array(V);
  networks.forEach((n, i) =>
    n.values.forEach((v, k) => v > 0 && labels[k] === 0 && (labels[k] = i + 1))
  );
  await writeNifti(
    join(
      root,
      TRUTH_DIR,
      `space-${PHANTOM_BIDS_SPACE}_res-${resolution}_desc-networks_dseg.nii.gz`,
    ),
    {
      ...unmask(labels, mask),
      description: `${t.name} ground truth`,
    },
    { datatype: "int16", intent: { code: 1002 } },
  );
  const K = atoms.cols;
  await writeTsv(
    join(root, TRUTH_DIR, "atoms.tsv"),
    ["task", "volume", ...Array.from({ length: K }, (_, k) => `atom${k}`)],
    Array.from({ length: T }, (_, row) => {
      const st = stories.find((s) => row < s.rows[1])!;
      return [
        st.task,
        row - st.rows[0],
        ...Array.from(atoms.data.subarray(row * K, (row + 1) * K)),
      ];
    }),
  );
  const correlations = correlationBySubject.flat();
  const { schema: _, ...planted } = truth;
  const out: PhantomBidsTruth = {
    schema: PHANTOM_BIDS_SCHEMA,
    ...planted,
    space: { name: PHANTOM_BIDS_SPACE, resolution, templates: t.name },
    tr,
    model: { name: config.models[0].name, atoms: atomsK, targetDensity, seed },
    stories,
    atomRateCorrelation,
    artefact: {
      network: artefactNetwork,
      networkName: sets[artefactNetwork].name,
      confoundColumns: ["trans_z", "rot_x"],
      correlationWithWordRate: correlations.reduce((a, b) => a + b, 0) / correlations.length,
      correlationBySubject,
      r2: artefactR2,
      rateAtom,
      description: "per run: z(z(word rate) + 0.5 N(0,1)) added to trans_z (× 0.1 mm) and " +
        "rot_x (× 0.002 rad) over a random-walk-with-jumps motion; the BOLD artefact is " +
        "(trans_z − run mean)/SD + (rot_x − run mean)/SD times smooth positive weights in " +
        "the network, scaled to the median share r2 of the voxels' variance",
    },
  };
  await writeJsonAtomic(phantomBidsTruthPath(root), out);
  return out;
}

/**
 * Gzip with the runtime's own zlib: several times faster than fflate's
 * JavaScript on the 80 MB of a run, and a smaller file.
 */
async function writeGzipped(path: string, bytes: Uint8Array): Promise<void> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  await writeFileAtomic(path, new Uint8Array(await new Response(stream).arrayBuffer()));
}
