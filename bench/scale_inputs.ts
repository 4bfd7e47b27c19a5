/**
 * Synthetic inputs of the scale benchmark (bench/scale.ts), written to disk
 * in the formats the pipeline reads: an activation cache entry
 * (`cachedCaptureStream`'s layer files), a brain mask and one 4-D NIfTI run
 * per subject on the 2 mm MNI grid.
 *
 * The AN series follow a low-rank-plus-noise model fitted to a real
 * capture (stories260K's 320 ANs over the Alice story, from the activation
 * cache): its leading principal word series, with loadings drawn to match
 * its eigenvalue spectrum, and independent noise for the rest of the
 * variance. Voxels mix the same word series on the TR grid, so that atoms
 * can explain them.
 *
 * Run as a script (by bench/scale.ts, in its own process so that its memory
 * does not count against the stages): `deno run -A bench/scale_inputs.ts DIR SIZES_JSON`.
 *
 * @module
 */

import { join } from "node:path";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { createCpuBackend, eigh, type Matrix } from "@brainorg/kernels";
import { cachedCaptureStream } from "@brainorg/models";
import {
  applyDesign,
  buildWordDesign,
  encodeNifti1,
  type Transcript,
  unmask,
  writeNifti,
} from "@brainorg/neuro";
import { brainMask } from "@brainorg/core";
import { InputError } from "@brainorg/common";
import { seeded } from "./_data.ts";

/** Sizes of a scale run. */
export interface ScaleSizes {
  /** ANs (layers × units per layer). */
  ans: number;
  /** Layers the ANs are split over. */
  layers: number;
  /** Words of the story. */
  words: number;
  /** Voxels of the mask (≤ the 2 mm MNI mask's). */
  voxels: number;
  /** Subjects. */
  subjects: number;
  /** Volumes per subject (TR 2 s). */
  volumes: number;
}

/** Repetition time of the synthetic runs (s). */
export const SCALE_TR = 2;

/** A low-rank-plus-noise model of per-word AN responses. */
export interface LowRankModel {
  /** Unit-variance word series of the leading components: (words × r), row-major. */
  factors: Float32Array;
  /** Words of `factors`. */
  words: number;
  /** Components kept (r). */
  rank: number;
  /** Variance of each component's loading, per AN of unit variance (r). */
  loadingVariance: Float64Array;
  /** Variance left to independent noise, per AN: 1 − Σ loadingVariance. */
  noiseVariance: number;
  /** Where the model was fitted. */
  source: string;
}

/**
 * Fit a low-rank-plus-noise model to per-word responses: z-score each AN,
 * eigen-decompose the AN correlation matrix C = Zᵀ Z / W, keep the `rank`
 * leading components. Factor j is Z v_j / √λ_j (unit variance over
 * words); an AN's loading on it has variance λ_j / N, and the noise the
 * variance the components leave, so a synthetic AN has unit variance and
 * the same share of variance in each component.
 *
 * @param x responses (W words × N ANs), row-major; constant ANs are skipped
 * @returns the model (see {@linkcode LowRankModel})
 */
export function fitLowRank(
  x: { data: Float32Array; words: number; units: number },
  rank: number,
  source: string,
): LowRankModel {
  const W = x.words, N0 = x.units;
  const cols: number[] = [];
  const mean = new Float64Array(N0), sd = new Float64Array(N0);
  for (let n = 0; n < N0; n++) {
    let s = 0, q = 0;
    for (let w = 0; w < W; w++) s += x.data[w * N0 + n];
    mean[n] = s / W;
    for (let w = 0; w < W; w++) q += (x.data[w * N0 + n] - mean[n]) ** 2;
    sd[n] = Math.sqrt(q / W);
    if (sd[n] > 1e-8 * (Math.abs(mean[n]) + 1)) cols.push(n);
  }
  const N = cols.length, r = Math.min(rank, N);
  const z = new Float64Array(W * N);
  for (let w = 0; w < W; w++) {
    cols.forEach((n, j) => (z[w * N + j] = (x.data[w * N0 + n] - mean[n]) / sd[n]));
  }
  const c = new Float64Array(N * N);
  for (let w = 0; w < W; w++) {
    for (let i = 0; i < N; i++) {
      const zi = z[w * N + i];
      for (let j = 0; j < N; j++) c[i * N + j] += zi * z[w * N + j] / W;
    }
  }
  const { values, vectors } = eigh(c, N);
  const factors = new Float32Array(W * r), loadingVariance = new Float64Array(r);
  for (let k = 0; k < r; k++) {
    const lambda = Math.max(values[k], 1e-12);
    loadingVariance[k] = lambda / N;
    for (let w = 0; w < W; w++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += z[w * N + i] * vectors[i * N + k];
      factors[w * r + k] = s / Math.sqrt(lambda);
    }
  }
  const explained = loadingVariance.reduce((a, b) => a + b, 0);
  return {
    factors,
    words: W,
    rank: r,
    loadingVariance,
    noiseVariance: Math.max(0, 1 - explained),
    source,
  };
}

/**
 * The real capture to fit: the largest stories260K (`ffn_down_proj`, not the
 * random control) entry of an activation cache folder.
 *
 * @returns its words × ANs responses and folder, or undefined where none is cached
 */
export async function findRealCapture(
  dir: string,
): Promise<{ data: Float32Array; words: number; units: number; folder: string } | undefined> {
  let best: { folder: string; words: number; layers: number; per: number } | undefined;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const folder = join(dir, name);
    const meta = await readFile(join(folder, "meta.json"), "utf8").then(JSON.parse, () => null);
    if (!meta || !/:ffn_down_proj$/.test(meta.model) || meta.model.includes(":random:")) continue;
    if (!best || meta.words > best.words) {
      best = { folder, words: meta.words, layers: meta.layers, per: meta.unitsPerLayer };
    }
  }
  if (!best) return undefined;
  const { folder, words, layers, per } = best, units = layers * per;
  const data = new Float32Array(words * units);
  for (let l = 0; l < layers; l++) {
    const bytes = await readFile(join(folder, `layer_${String(l).padStart(2, "0")}.f32`));
    const block = new Float32Array(bytes.buffer, bytes.byteOffset, words * per);
    for (let w = 0; w < words; w++) {
      data.set(block.subarray(w * per, (w + 1) * per), w * units + l * per);
    }
  }
  return { data, words, units, folder };
}

/** The synthetic story: `words` words evenly over the run, the first at 1 s. */
export function scaleTranscript(words: number, volumes: number): Transcript {
  const step = (volumes * SCALE_TR - 2) / words;
  return {
    words: Array.from({ length: words }, (_, i) => ({
      word: `w${i}`,
      onset: 1 + i * step,
      offset: 1 + (i + 0.8) * step,
      run: 0,
    })),
    runCount: 1,
    source: "synthetic",
    format: "table",
    dropped: [],
  };
}

/** The activation cache key of the synthetic capture (the stages read it with the same key). */
export function scaleActivationKey(sizes: ScaleSizes): {
  model: string;
  words: string[];
  options: Record<string, unknown>;
} {
  return {
    model: `synthetic-lowrank:${sizes.ans}:${sizes.layers}:ffn_down_proj`,
    words: Array.from({ length: sizes.words }, (_, i) => `w${i}`),
    options: { context: 64, aggregate: "mean" },
  };
}

/** Paths of the inputs under the inputs folder. */
export function scalePaths(dir: string, subjects: number) {
  return {
    activations: join(dir, "activations"),
    mask: join(dir, "mask.nii.gz"),
    bold: Array.from({ length: subjects }, (_, s) => join(dir, `sub-${s + 1}_bold.nii`)),
    done: join(dir, "inputs.json"),
  };
}

/** Word series of the model, cycled to `words` words: (words × r). */
function factorsFor(model: LowRankModel, words: number): Float32Array {
  const r = model.rank, out = new Float32Array(words * r);
  for (let w = 0; w < words; w++) {
    out.set(model.factors.subarray((w % model.words) * r, (w % model.words + 1) * r), w * r);
  }
  return out;
}

/**
 * Write every input of a run of these sizes into `dir` (skipped where
 * `inputs.json` says they are there already).
 *
 * @returns what was written and how long it took
 */
export async function writeScaleInputs(
  dir: string,
  sizes: ScaleSizes,
  options: { realCache?: string; rank?: number; log?: (line: string) => void } = {},
): Promise<Record<string, unknown>> {
  const log = options.log ?? (() => {});
  const paths = scalePaths(dir, sizes.subjects);
  const prior = await readFile(paths.done, "utf8").then(JSON.parse, () => null);
  // Inputs of the same sizes but fewer subjects are reused: only the missing subjects are written.
  const same = prior &&
    JSON.stringify({ ...prior.sizes, subjects: 0 }) === JSON.stringify({ ...sizes, subjects: 0 });
  const have = same ? prior.sizes.subjects as number : 0;
  if (have >= sizes.subjects) return { ...prior, sizes };
  if (sizes.ans % sizes.layers !== 0) {
    throw new InputError("the ANs must split evenly over the layers", {
      file: "bench/scale.ts",
      field: "--ans",
      expected: `a multiple of --layers (${sizes.layers})`,
      found: String(sizes.ans),
    });
  }
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const real = await findRealCapture(options.realCache ?? "");
  const model = real
    ? fitLowRank(real, options.rank ?? 32, real.folder)
    : fallbackModel(options.rank ?? 32);
  log(
    `low-rank model: ${model.rank} components of ${model.source}, noise variance ${
      model.noiseVariance.toFixed(3)
    }`,
  );
  const backend = await createCpuBackend();
  try {
    // Activations, streamed in chunks of words: never the whole words × ANs twice.
    const N = sizes.ans, r = model.rank, F = factorsFor(model, sizes.words);
    const loadings = seeded(r * N, 1);
    for (let k = 0; k < r; k++) {
      // Uniform on [−½, ½) has variance 1/12.
      const scale = Math.sqrt(12 * model.loadingVariance[k]);
      for (let n = 0; n < N; n++) loadings[k * N + n] *= scale;
    }
    const A: Matrix = { rows: r, cols: N, data: loadings };
    const noiseScale = Math.sqrt(12 * model.noiseVariance);
    const key = scaleActivationKey(sizes);
    if (have === 0) {
      await cachedCaptureStream(paths.activations, key, sizes.layers, async (sink) => {
        const chunk = 64;
        for (let w0 = 0; w0 < sizes.words; w0 += chunk) {
          const nw = Math.min(chunk, sizes.words - w0);
          const f: Matrix = { rows: nw, cols: r, data: F.slice(w0 * r, (w0 + nw) * r) };
          const rows = (await backend.gemm(f, A)).data;
          const noise = seeded(nw * N, 1000 + w0);
          for (let i = 0; i < rows.length; i++) rows[i] += noiseScale * noise[i];
          await sink(rows, nw, N);
        }
        return { tokens: key.words.map((_, i) => [i]) };
      });
      log(`activations: ${sizes.words} words × ${N} ANs`);
    }
    // The mask: the 2 mm MNI brain mask, or every n-th of its voxels.
    const { mask: full } = await brainMask(2);
    const Vfull = full.indices.length;
    if (sizes.voxels > Vfull) {
      throw new InputError("more voxels than the 2 mm MNI brain mask holds", {
        file: "bench/scale.ts",
        field: "--voxels",
        expected: `at most ${Vfull}`,
        found: String(sizes.voxels),
      });
    }
    const on = new Float32Array(Vfull);
    for (let i = 0; i < sizes.voxels; i++) on[Math.floor(i * Vfull / sizes.voxels)] = 1;
    await writeNifti(paths.mask, { ...unmask(on, full), description: "scale bench mask" }, {
      datatype: "uint8",
    });
    const indices = full.indices.filter((_, v) => on[v] === 1), V = indices.length;
    // Voxels: one of the first 16 word series on the TR grid each (by slab), plus AR(1) noise.
    const T = sizes.volumes;
    const design = buildWordDesign(scaleTranscript(sizes.words, T), {
      tr: SCALE_TR,
      runs: [{ volumes: T }],
    });
    const drivers = Math.min(16, r), G = applyDesign(design, F); // (T × r)
    const gsd = new Float64Array(r);
    for (let k = 0; k < r; k++) {
      let q = 0;
      for (let t = 0; t < T; t++) q += G[t * r + k] ** 2;
      gsd[k] = Math.sqrt(q / T) || 1;
    }
    const [nx, ny, nz] = full.grid.shape, nvox = nx * ny * nz;
    for (let s = have; s < sizes.subjects; s++) {
      const y = new Float32Array(T * V), noise = seeded(T * V, 5000 + s);
      for (let v = 0; v < V; v++) {
        const k = Math.floor(((indices[v] / (nx * ny)) | 0) * drivers / nz) % drivers;
        let a = 0;
        for (let t = 0; t < T; t++) {
          a = 0.5 * a + noise[t * V + v];
          y[t * V + v] = 100 + 0.4 * G[t * r + k] / gsd[k] + 2 * a;
        }
      }
      // Header of a 1-volume image, its dims patched to T volumes, then one volume at a time.
      const header = encodeNifti1(
        { shape: [nx, ny, nz], affine: full.grid.affine, data: new Float32Array(nvox) },
        { gzip: false },
      ).slice(0, 352);
      const view = new DataView(header.buffer);
      view.setInt16(40, 4, true);
      view.setInt16(48, T, true);
      view.setFloat32(92, SCALE_TR, true);
      view.setUint8(123, 10); // xyzt_units: mm and seconds
      const partial = `${paths.bold[s]}.partial`;
      const file = await Deno.open(partial, { write: true, create: true, truncate: true });
      try {
        await file.write(header);
        const vol = new Float32Array(nvox);
        for (let t = 0; t < T; t++) {
          for (let v = 0; v < V; v++) vol[indices[v]] = y[t * V + v];
          const bytes = new Uint8Array(vol.buffer);
          for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
        }
      } finally {
        file.close();
      }
      await Deno.rename(partial, paths.bold[s]);
      log(`subject ${s + 1}: ${T} volumes × ${V} voxels`);
    }
  } finally {
    backend.dispose();
  }
  const info = {
    sizes,
    model: {
      source: model.source,
      rank: model.rank,
      noiseVariance: model.noiseVariance,
      leadingShare: model.loadingVariance[0],
    },
    seconds: (performance.now() - t0) / 1000,
    bytes: (await Promise.all(
      scalePaths(dir, sizes.subjects).bold.map((p) => stat(p).then((s) => s.size)),
    )).reduce((a, b) => a + b, 0),
  };
  await Deno.writeTextFile(paths.done, JSON.stringify(info, null, 2));
  return info;
}

/** Where no real capture is cached: a power-law spectrum over smooth random word series. */
function fallbackModel(rank: number): LowRankModel {
  const W = 2000, noise = seeded(W * rank, 7), factors = new Float32Array(W * rank);
  for (let k = 0; k < rank; k++) {
    let a = 0, q = 0;
    for (let w = 0; w < W; w++) q += (a = 0.7 * a + noise[w * rank + k]) ** 2;
    const sd = Math.sqrt(q / W);
    a = 0;
    for (let w = 0; w < W; w++) factors[w * rank + k] = (a = 0.7 * a + noise[w * rank + k]) / sd;
  }
  const loadingVariance = Float64Array.from({ length: rank }, (_, k) => 0.15 / (k + 1));
  const explained = loadingVariance.reduce((a, b) => a + b, 0);
  return {
    factors,
    words: W,
    rank,
    loadingVariance,
    noiseVariance: 1 - explained,
    source: "power-law fallback (no real capture cached)",
  };
}

if (import.meta.main) {
  const [dir, sizes, realCache] = Deno.args;
  const info = await writeScaleInputs(dir, JSON.parse(sizes), {
    realCache,
    log: (l) => console.error(l),
  });
  console.log(JSON.stringify(info));
}
