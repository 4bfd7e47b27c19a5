/**
 * Ridge refits of many designs at a fixed α per target: what a permutation
 * null repeats for every surrogate of the regressors, at the arithmetic
 * limit of that job.
 *
 * For each design X_b (n × K) of a batch and each target y (a voxel), this
 * computes what {@linkcode ridgeFixedAlpha} computes for X_b alone: the
 * held-out Pearson r over contiguous folds (each fold's r through Fisher's
 * z, averaged) at the target's α, and the weights refit on all samples,
 * `w = argmin ||y − X w − b||² + α_w ||w||²`. The work that touches every
 * sample is one product per fold for the whole batch, the designs stacked
 * side by side: `P_f = [X_1 … X_B]_fᵀ Y_f`, (B·K × V) — a large product that
 * runs at the backend's full speed where the per-design products (K rows)
 * would not. Each design's small algebra (training eigenbasis, held-out
 * Gram, 1/(s² + α) per α of the grid) is float64 on the host, once per
 * design. What is left is per target and O(K²): `wasm/ridge_null.c`, four
 * targets to a SIMD vector, reading nothing from memory but P; or, with
 * `perTarget: "gemm"`, BLAS products in each fold's training eigenbasis
 * over blocks of targets, with Σ_f P_f as one more stacked product
 * (`ridge_null_gemm.ts`).
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { centeredDesign } from "./cross_validation.ts";
import type { Matrix, MatrixView } from "./matrix.ts";
import { designOn } from "./ridge_design.ts";
import { refitRecordSize, type RefitShare, refitShareWasm } from "./ridge_null_wasm.ts";
import {
  type EigenDesign,
  eigenDesigns,
  type NullPasses,
  refitShareGemm,
} from "./ridge_null_gemm.ts";
import { newWasmInstance } from "./_wasm.ts";
import { cores, WorkerPool } from "./_worker_pool.ts";

/** Options of {@linkcode RidgeRefits}. */
export interface RidgeRefitOptions {
  /** Contiguous folds as `[start, end)` row ranges (at least 2). */
  folds: [number, number][];
  /** The penalties targets choose from for their fold fits (by index). */
  alphas: ArrayLike<number>;
  /** The penalties targets choose from for their all-sample weights. Default: `alphas`. */
  weightAlphas?: ArrayLike<number>;
  /** Fit an intercept. Default: true. */
  intercept?: boolean;
  /**
   * Threads for the WebAssembly kernel's per-target work (worker threads,
   * each on a share of the designs; 1: this thread; the BLAS path runs in
   * this thread with the library's own threads). Default: the CPU backend's
   * threads, else the number of cores.
   */
  threads?: number;
  /**
   * Where the O(K²) work per target runs: `"wasm"`, WebAssembly SIMD on the
   * worker threads (`wasm/ridge_null.c`); `"gemm"`, the backend's matrix
   * products in the training eigenbasis, a few per design, fold and block
   * of targets, with the O(K) passes between them in WebAssembly SIMD in
   * this thread (`ridge_null_gemm.ts`); `"auto"`, `"gemm"` where it was
   * measured faster (a CPU backend with OpenBLAS and K ≥
   * {@linkcode GEMM_MIN_REGRESSORS}), else `"wasm"`. Default: `"auto"`.
   */
  perTarget?: "wasm" | "gemm" | "auto";
}

/**
 * The fewest regressors for which `perTarget: "auto"` takes the BLAS path:
 * it does twice the kernel's multiply-adds per target (3 K² per fold
 * against 1.5 K²), which OpenBLAS's wider vectors repay at K = 64 but not
 * at K = 32 (bench/null_paths.ts).
 */
export const GEMM_MIN_REGRESSORS = 48;

/** A batch of designs, prepared by {@linkcode RidgeRefits.designs}. */
export interface RefitDesigns {
  /** Designs in the batch (B). */
  count: number;
  /**
   * Per fold, the designs' rows in it side by side and transposed: (B·K ×
   * n_f), row-major (both BLAS libraries run the untransposed product of
   * this shape several times faster).
   */
  foldBlocks: Float32Array[];
  /**
   * The designs' rows side by side and transposed, all of them (B·K × n),
   * for the BLAS path, which takes Σ_f P_f as one more product; else empty.
   */
  allRows: Float32Array;
  /** Per design, the record `wasm/ridge_null.c` reads: (B × record size). */
  records: Float32Array;
}

/** One subject's targets, prepared by {@linkcode RidgeRefits.subject}. */
export interface RefitSubject {
  /** The targets as given: (n × V). */
  y: MatrixView;
  /** Σ y over each fold's rows: (F × V). */
  foldSum: Float32Array;
  /** Σ (y − ȳ_f)² over each fold's rows: (F × V). */
  foldSS: Float32Array;
  /** Each target's index into `alphas` (V). */
  alphaIndex: Int32Array;
  /** Each target's index into `weightAlphas` (V). */
  weightIndex: Int32Array;
}

/** What {@linkcode RidgeRefits.refit} returns for targets v0 … v0 + vb − 1. */
export interface RefitResult {
  /** Held-out r per design and target: (B × vb). */
  r: Float32Array;
  /** Weights per design: (B × K × vb), design-major. */
  weights: Float32Array;
}

/**
 * Designs per batch that fill a large product: about 512 stacked columns.
 *
 * @param K regressors per design
 * @returns designs per {@linkcode RidgeRefits.designs} batch, at least 1
 *
 * @example
 * ```ts
 * import { refitBatchSize } from "@brainorg/kernels";
 * const B = refitBatchSize(16); // 32 surrogates of a 16-atom design per batch
 * ```
 */
export function refitBatchSize(K: number): number {
  return Math.max(1, Math.round(512 / K));
}

/**
 * Refits at fixed α for batches of designs of one shape (n × K) and one set
 * of folds; one instance serves every subject and batch of a null.
 *
 * @example
 * ```ts
 * import { contiguousFolds, createCpuBackend, RidgeRefits } from "@brainorg/kernels";
 * const backend = await createCpuBackend();
 * const x = { rows: 100, cols: 3, data: Float32Array.from({ length: 300 }, Math.random) };
 * const y = { rows: 100, cols: 8, data: Float32Array.from({ length: 800 }, Math.random) };
 * const refits = new RidgeRefits(backend, 100, 3, { folds: contiguousFolds(100, 5), alphas: [1, 10] });
 * const subject = refits.subject(y, new Int32Array(8), new Int32Array(8));
 * const { r, weights } = await refits.refit(refits.designs([x]), subject, 0, 8);
 * // r: (1 × 8) held-out r, weights: (1 × 3 × 8)
 * backend.dispose();
 * ```
 */
export class RidgeRefits {
  readonly #backend: Backend;
  readonly #n: number;
  readonly #K: number;
  readonly #folds: [number, number][];
  readonly #alphas: Float64Array;
  readonly #weightAlphas: Float64Array;
  readonly #intercept: boolean;
  readonly #pool: WorkerPool;
  readonly #gemm: boolean;
  /** Per batch of designs, its eigenbasis rotations for the BLAS path. */
  readonly #eigen = new WeakMap<RefitDesigns, EigenDesign[]>();
  /** The BLAS path's module instance, and its calls one after another (they share its memory). */
  #passes?: NullPasses;
  #passesQueue: Promise<unknown> = Promise.resolve();
  #queue: Promise<unknown> = Promise.resolve();
  /**
   * Buffers that go round between calls and workers, by length: fresh
   * buffers of tens of megabytes cost more in page faults than the
   * arithmetic they hold.
   */
  readonly #spare = new Map<number, Float32Array[]>();
  #yBlock = new Float32Array(0);

  /**
   * Check the folds and penalties and set up the pool of worker threads.
   *
   * @param backend computes the stacked products
   * @param n samples (rows of every design and target)
   * @param K regressors (columns of every design)
   * @param options folds, penalties, intercept, threads (see {@linkcode RidgeRefitOptions})
   * @throws {RangeError} for folds that do not tile 0 … n − 1, or a non-positive α
   */
  constructor(backend: Backend, n: number, K: number, options: RidgeRefitOptions) {
    const { folds } = options;
    if (folds.length < 2) {
      throw new RangeError(`RidgeRefits: need at least 2 folds, got ${folds.length}`);
    }
    let at = 0;
    for (const [s, e] of folds) {
      if (s !== at || e <= s) {
        throw new RangeError(
          `RidgeRefits: folds must be contiguous, non-empty and start at 0: got ${
            JSON.stringify(folds)
          }`,
        );
      }
      at = e;
    }
    if (at !== n) throw new RangeError(`RidgeRefits: folds end at ${at}, the data has ${n} rows`);
    const alphas = Float64Array.from(options.alphas);
    const weightAlphas = Float64Array.from(options.weightAlphas ?? options.alphas);
    for (const a of [...alphas, ...weightAlphas]) {
      if (!(a > 0) || !Number.isFinite(a)) {
        throw new RangeError(`RidgeRefits: every alpha must be > 0 and finite: got ${a}`);
      }
    }
    this.#backend = backend;
    this.#n = n;
    this.#K = K;
    this.#folds = folds;
    this.#alphas = alphas;
    this.#weightAlphas = weightAlphas;
    this.#intercept = options.intercept ?? true;
    const backendThreads = backend.info.details.threads;
    const threads = Math.floor(
      options.threads ??
        (typeof backendThreads === "number" ? backendThreads : cores()),
    );
    this.#pool = new WorkerPool(Math.max(1, threads));
    const perTarget = options.perTarget ?? "auto";
    if (!["wasm", "gemm", "auto"].includes(perTarget)) {
      throw new RangeError(
        `RidgeRefits: perTarget must be "wasm", "gemm" or "auto": got ${JSON.stringify(perTarget)}`,
      );
    }
    // MLAS's calls (through onnxruntime) cost too much for the BLAS path's
    // many mid-sized products: the SIMD kernel is faster there
    // (measured: bench/null_paths.ts).
    const openBlas = backend.info.name === "cpu" && backend.info.details.products === "openblas";
    this.#gemm = perTarget === "gemm" ||
      (perTarget === "auto" && openBlas && K >= GEMM_MIN_REGRESSORS);
  }

  /** Where the per-target work runs: `"gemm"` or `"wasm"` (`perTarget` resolved). */
  get perTarget(): "gemm" | "wasm" {
    return this.#gemm ? "gemm" : "wasm";
  }

  /** Stop the worker threads now (they also stop after a second without work). */
  dispose(): void {
    this.#pool.close();
  }

  /**
   * Stack a batch of designs and do each one's small algebra.
   *
   * @param xs B designs, each (n × K)
   */
  designs(xs: Matrix[]): RefitDesigns {
    const n = this.#n, K = this.#K, F = this.#folds.length, B = xs.length;
    const nA = this.#alphas.length, nW = this.#weightAlphas.length;
    const rec = refitRecordSize(K, F, nA, nW);
    const BK = B * K, records = new Float32Array(B * rec);
    const foldBlocks = this.#folds.map(([s, e]) => new Float32Array(BK * (e - s)));
    const allRows = new Float32Array(this.#gemm ? BK * n : 0);
    xs.forEach((x, b) => {
      if (x.rows !== n || x.cols !== K) {
        throw new RangeError(
          `RidgeRefits: design ${b} is ${x.rows} × ${x.cols}; expected ${n} × ${K}`,
        );
      }
      const blocks: [Float32Array, number, number][] = this.#folds.map(([s, e], f) => [
        foldBlocks[f],
        s,
        e,
      ]);
      if (this.#gemm) blocks.push([allRows, 0, n]);
      for (const [block, s, e] of blocks) {
        const nf = e - s;
        for (let t = s; t < e; t++) {
          for (let j = 0; j < K; j++) block[(b * K + j) * nf + t - s] = x.data[t * K + j];
        }
      }
      let o = b * rec;
      const put = (v: ArrayLike<number>) => {
        records.set(v, o);
        o += v.length;
      };
      // Per α: 1/(s² + α) in the eigenbasis, and (G + αI)⁻¹ itself.
      const solvers = (s2: Float64Array, vectors: Float64Array, alphas: Float64Array) => {
        const d = new Float64Array(alphas.length * K), m = new Float64Array(alphas.length * K * K);
        alphas.forEach((a, i) => {
          for (let k = 0; k < K; k++) d[i * K + k] = 1 / (s2[k] + a);
          for (let r = 0; r < K; r++) {
            for (let c = 0; c < K; c++) {
              let acc = 0;
              for (let k = 0; k < K; k++) {
                acc += vectors[r * K + k] * d[i * K + k] * vectors[c * K + k];
              }
              m[(i * K + r) * K + c] = acc;
            }
          }
        });
        return { d, m };
      };
      for (const [s, e] of this.#folds) {
        const train = designOn(x, (r) => r < s || r >= e, this.#intercept);
        // r is unchanged by an intercept, so the held-out rows are always centered.
        const held = centeredDesign(x, (r) => r >= s && r < e, true);
        const { d, m } = solvers(train.s2, train.vectors, this.#alphas);
        put(train.mean);
        put(held.mean);
        put(train.vectors);
        put(d);
        put(m);
        put(upperFactor(held.gram, K));
      }
      const full = designOn(x, () => true, this.#intercept);
      const { d, m } = solvers(full.s2, full.vectors, this.#weightAlphas);
      put(full.mean);
      put(full.vectors);
      put(d);
      put(m);
    });
    return { count: B, foldBlocks, records, allRows };
  }

  /**
   * One subject's per-fold sums of its targets, and each target's α.
   *
   * @param y targets (n × V)
   * @param alphaIndex index into `alphas` per target (V)
   * @param weightIndex index into `weightAlphas` per target (V)
   */
  subject(
    y: MatrixView,
    alphaIndex: ArrayLike<number>,
    weightIndex: ArrayLike<number>,
  ): RefitSubject {
    const V = y.cols, F = this.#folds.length;
    if (y.rows !== this.#n) {
      throw new RangeError(`RidgeRefits: y has ${y.rows} rows; the designs have ${this.#n}`);
    }
    for (
      const [name, idx, count] of [
        ["alphaIndex", alphaIndex, this.#alphas.length],
        ["weightIndex", weightIndex, this.#weightAlphas.length],
      ] as const
    ) {
      if (idx.length !== V) {
        throw new RangeError(`RidgeRefits: ${name} has ${idx.length} values for ${V} targets`);
      }
      for (let v = 0; v < V; v++) {
        if (!(idx[v] >= 0 && idx[v] < count && Number.isInteger(idx[v]))) {
          throw new RangeError(
            `RidgeRefits: ${name}[${v}] is ${idx[v]}; expected 0 … ${count - 1}`,
          );
        }
      }
    }
    const stride = y.rowStride ?? V, off = y.offset ?? 0;
    const foldSum = new Float32Array(F * V), foldSS = new Float32Array(F * V);
    const sum = new Float64Array(V), ss = new Float64Array(V);
    this.#folds.forEach(([s, e], f) => {
      sum.fill(0);
      ss.fill(0);
      for (let t = s; t < e; t++) {
        const row = off + t * stride;
        for (let v = 0; v < V; v++) sum[v] += y.data[row + v];
      }
      for (let v = 0; v < V; v++) foldSum[f * V + v] = sum[v];
      for (let v = 0; v < V; v++) sum[v] /= e - s;
      for (let t = s; t < e; t++) {
        const row = off + t * stride;
        for (let v = 0; v < V; v++) {
          const d = y.data[row + v] - sum[v];
          ss[v] += d * d;
        }
      }
      for (let v = 0; v < V; v++) foldSS[f * V + v] = ss[v];
    });
    return {
      y,
      foldSum,
      foldSS,
      alphaIndex: Int32Array.from(alphaIndex),
      weightIndex: Int32Array.from(weightIndex),
    };
  }

  /**
   * Held-out r and weights of every design of a batch, for targets
   * v0 … v0 + vb − 1 of a subject. The products of one call run after those
   * of the calls before it; its per-target work may overlap the next
   * call's products.
   */
  refit(
    designs: RefitDesigns,
    subject: RefitSubject,
    v0: number,
    vb: number,
    out?: RefitResult,
  ): Promise<RefitResult> {
    const K = this.#K, B = designs.count;
    if (out && (out.r.length < B * vb || out.weights.length < B * K * vb)) {
      throw new RangeError(
        `RidgeRefits: out holds ${out.r.length} r and ${out.weights.length} weights; ` +
          `${B} designs × ${vb} targets need ${B * vb} and ${B * K * vb}`,
      );
    }
    const staged = this.#queue.then(() => this.#products(designs, subject, v0, vb));
    this.#queue = staged.catch(() => {});
    return staged.then((work) =>
      this.#finish(work, designs, v0, vb, out).catch((err) => {
        // The shares went to workers that never started: redo this call in this thread.
        if (this.#pool.broken && work.shares.length > 1) {
          return this.refit(designs, subject, v0, vb, out);
        }
        throw err;
      })
    );
  }

  #eigenOf(designs: RefitDesigns): EigenDesign[] {
    let e = this.#eigen.get(designs);
    if (!e) {
      e = eigenDesigns(designs.records, {
        K: this.#K,
        F: this.#folds.length,
        B: designs.count,
        nA: this.#alphas.length,
        nW: this.#weightAlphas.length,
      });
      this.#eigen.set(designs, e);
    }
    return e;
  }

  #take(length: number): Float32Array {
    return this.#spare.get(length)?.pop() ?? new Float32Array(length);
  }

  #give(...arrays: Float32Array[]): void {
    for (const a of arrays) {
      const list = this.#spare.get(a.length) ?? [];
      if (list.length < 4) list.push(a);
      this.#spare.set(a.length, list);
    }
  }

  /**
   * The fold products of each share of the designs, and the share's inputs:
   * for the kernel with the block's targets sorted by their α (see
   * `wasm/ridge_null.c`), for the BLAS path as they are, with Σ_f P_f as
   * one more slab.
   */
  async #products(
    designs: RefitDesigns,
    subject: RefitSubject,
    v0: number,
    vb: number,
  ): Promise<{ shares: RefitShare[]; order?: Int32Array }> {
    const V = subject.y.cols;
    if (!(v0 >= 0 && vb >= 1 && v0 + vb <= V)) {
      throw new RangeError(`RidgeRefits: targets ${v0} … ${v0 + vb - 1} outside 0 … ${V - 1}`);
    }
    const n = this.#n, K = this.#K, F = this.#folds.length, B = designs.count;
    const nA = this.#alphas.length, nW = this.#weightAlphas.length;
    const vp = Math.ceil(vb / 4) * 4, rec = designs.records.length / B;
    // The kernel wants neighbours sharing their α; the BLAS path takes the targets as they are.
    const order = this.#gemm ? undefined : sortedByAlpha(subject, v0, vb, nW);
    // The targets in that order, dense and padded to whole SIMD vectors:
    // each fold's rows are then one contiguous block for every backend. The
    // padding is zeroed: a stale α index would read outside the records.
    const y = subject.y, stride = y.rowStride ?? V, off = y.offset ?? 0, yd = y.data;
    if (this.#yBlock.length < n * vp) this.#yBlock = new Float32Array(n * vp);
    const yb = this.#yBlock.subarray(0, n * vp);
    const gathered = <A extends Float32Array | Int32Array>(
      src: A,
      rows: number,
      dst: A,
      at = 0,
      srcStride = V,
    ) => {
      for (let r = 0; r < rows; r++) {
        const from = at + r * srcStride, to = r * vp;
        if (order) { for (let c = 0; c < vb; c++) dst[to + c] = src[from - v0 + order[c]]; }
        else dst.set(src.subarray(from, from + vb), to);
        dst.fill(0, to + vb, to + vp);
      }
      return dst;
    };
    gathered(yd, n, yb, off + v0, stride);
    const foldSum = gathered(subject.foldSum, F, new Float32Array(F * vp), v0);
    const foldSS = gathered(subject.foldSS, F, new Float32Array(F * vp), v0);
    const alphaIndex = gathered(subject.alphaIndex, 1, new Int32Array(vp), v0);
    const weightIndex = gathered(subject.weightIndex, 1, new Int32Array(vp), v0);
    // The BLAS path runs in this thread (the library has threads of its own).
    const count = this.#pool.broken || this.#gemm ? 1 : Math.min(this.#pool.size, B);
    const shares: RefitShare[] = [];
    for (let h = 0; h < count; h++) {
      const b0 = Math.round((h * B) / count), b1 = Math.round(((h + 1) * B) / count);
      const slabs = this.#gemm ? F + 1 : F;
      const nb = b1 - b0, rows = nb * K, P = this.#take(slabs * rows * vp);
      for (const [f, [s, e]] of this.#folds.entries()) {
        const nf = e - s;
        await this.#backend.gemm(
          { rows, cols: nf, data: designs.foldBlocks[f].subarray(b0 * K * nf, b1 * K * nf) },
          { rows: nf, cols: vp, data: yb.subarray(s * vp, e * vp) },
          { out: P.subarray(f * rows * vp, (f + 1) * rows * vp) },
        );
      }
      if (this.#gemm) {
        await this.#backend.gemm(
          { rows, cols: n, data: designs.allRows.subarray(b0 * K * n, b1 * K * n) },
          { rows: n, cols: vp, data: yb },
          { out: P.subarray(F * rows * vp) },
        );
      }
      shares.push({
        K,
        F,
        nb,
        vp,
        nA,
        nW,
        P,
        foldSum,
        foldSS,
        alphaIndex,
        weightIndex,
        records: designs.records.subarray(b0 * rec, b1 * rec),
        rOut: this.#take(nb * vp),
        weightsOut: this.#take(nb * K * vp),
      });
    }
    return { shares, order };
  }

  /** Run the shares (on the workers where there are several) and put the targets back in order. */
  async #finish(
    work: { shares: RefitShare[]; order?: Int32Array },
    designs: RefitDesigns,
    v0: number,
    vb: number,
    out?: RefitResult,
  ): Promise<RefitResult> {
    const K = this.#K, B = designs.count, { order } = work;
    let shares = work.shares;
    if (this.#gemm) {
      const passes = this.#passes ??= newWasmInstance<NullPasses>("ridge_null");
      const run = this.#passesQueue.then(() =>
        refitShareGemm(this.#backend, shares[0], this.#eigenOf(designs), passes)
      );
      this.#passesQueue = run.catch(() => {});
      await run;
    } else if (shares.length === 1) refitShareWasm(shares[0]);
    else {
      shares = await Promise.all(
        shares.map((share, h) =>
          this.#pool.run<RefitShare>(
            h,
            { kind: "refit", share },
            [share.P, share.rOut, share.weightsOut].map((a) => a.buffer as ArrayBuffer),
          )
        ),
      );
    }
    const r = out?.r ?? new Float32Array(B * vb);
    const weights = out?.weights ?? new Float32Array(B * K * vb);
    const at = order && Int32Array.from(order, (v) => v - v0);
    // Each row of a share's (rows × vp) back to (rows × vb), in the targets' order.
    const vp = shares[0].vp;
    const put = (src: Float32Array, rows: number, dst: Float32Array, row0: number) => {
      for (let i = 0; i < rows; i++) {
        const from = i * vp, to = (row0 + i) * vb;
        if (at) { for (let c = 0; c < vb; c++) dst[to + at[c]] = src[from + c]; }
        else dst.set(src.subarray(from, from + vb), to);
      }
    };
    let b = 0;
    for (const { nb, rOut, weightsOut, P } of shares) {
      put(rOut, nb, r, b);
      put(weightsOut, nb * K, weights, b * K);
      b += nb;
      this.#give(P, rOut, weightsOut);
    }
    return { r, weights };
  }
}

/**
 * Targets v0 … v0 + vb − 1 ordered by their (α, weight α) indices (a
 * counting sort: stable, O(vb)), so that neighbours share their α.
 */
function sortedByAlpha(subject: RefitSubject, v0: number, vb: number, nW: number): Int32Array {
  const key = (v: number) => subject.alphaIndex[v] * nW + subject.weightIndex[v];
  let keys = 0;
  for (let c = 0; c < vb; c++) keys = Math.max(keys, key(v0 + c) + 1);
  const start = new Int32Array(keys + 1);
  for (let c = 0; c < vb; c++) start[key(v0 + c) + 1]++;
  for (let k = 0; k < keys; k++) start[k + 1] += start[k];
  const order = new Int32Array(vb);
  for (let c = 0; c < vb; c++) order[start[key(v0 + c)]++] = v0 + c;
  return order;
}

/**
 * An upper-triangular R with RᵀR = C for a symmetric positive semidefinite
 * C (K × K, float64): Cholesky, with the rows of pivots that rounding leaves
 * at or below zero set to zero, as a rank-deficient Gram matrix needs (a
 * fold with fewer samples than regressors).
 */
export function upperFactor(c: Float64Array, K: number): Float64Array {
  const r = new Float64Array(K * K);
  let scale = 0;
  for (let i = 0; i < K; i++) scale = Math.max(scale, c[i * K + i]);
  const tol = scale * 1e-12;
  for (let i = 0; i < K; i++) {
    let d = c[i * K + i];
    for (let k = 0; k < i; k++) d -= r[k * K + i] ** 2;
    if (!(d > tol)) continue; // this row stays zero
    const rii = Math.sqrt(d);
    r[i * K + i] = rii;
    for (let j = i + 1; j < K; j++) {
      let acc = c[i * K + j];
      for (let k = 0; k < i; k++) acc -= r[k * K + i] * r[k * K + j];
      r[i * K + j] = acc / rii;
    }
  }
  return r;
}
