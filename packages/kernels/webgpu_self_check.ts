/**
 * The kernel self-check of a WebGPU adapter: tiny problems for every kernel
 * family, run on the device and compared with the CPU reference, so an
 * adapter that runs a kernel wrongly (a miscompiled shader, a driver's loop
 * limit, a lost device) is refused before it returns wrong science. A
 * kernel that is wrong on one conforming adapter is wrong on some user's
 * GPU too; this is how that user finds out.
 *
 * The problems are small (≈ 10⁵ multiply-adds in all), so the check costs
 * little beyond compiling the pipelines, which the backend keeps for its
 * real work.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import {
  columnCorrelationReference,
  columnStatsReference,
  gemmReference,
  stackedR2Reference,
} from "./cpu_reference.ts";
import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { lassoCDReference } from "./lasso_cd_reference.ts";
import type { Matrix } from "./matrix.ts";
import { rng } from "./random.ts";

/** One kernel family that failed, and how. */
export interface SelfCheckFailure {
  /**
   * The kernel family: `gemm`, `gemm_large`, `column_stats`,
   * `column_correlation`, `stacked_r2` or `lasso_cd`.
   */
  kernel: string;
  /** What went wrong: the largest error against the reference, or the exception's message. */
  error: string;
}

/** The verdict of a self-check. */
export interface SelfCheckReport {
  /** True when every kernel family matched the reference. */
  ok: boolean;
  /** The kernel families checked, in order. */
  checked: string[];
  /** The families that did not match, with the reason; empty when `ok`. */
  failures: SelfCheckFailure[];
  /** Wall time of the check, in ms (of the check that made the verdict, when cached). */
  ms: number;
  /** When each family's check ended, in ms from the start (they run concurrently). */
  msByKernel: Record<string, number>;
  /** Whether the verdict was cached from an earlier check of the same device and kernels. */
  cached: boolean;
}

/** What the self-check runs: a backend's primitives, LASSO with a chosen dispatch length. */
export interface SelfCheckTarget
  extends Pick<Backend, "gemm" | "columnStats" | "columnCorrelation" | "stackedR2"> {
  /** `Backend.lassoCD` with at most `steps` kernel steps per dispatch. */
  lassoCD(batch: LassoBatch, steps?: number): Promise<LassoBatchResult>;
}

/**
 * An adapter refused by the self-check; `report` says which kernels failed and how.
 *
 * @example
 * ```ts
 * import { createWebGpuBackend, WebGpuSelfCheckError } from "@brainorg/kernels";
 * try {
 *   (await createWebGpuBackend()).dispose();
 * } catch (err) {
 *   if (err instanceof WebGpuSelfCheckError) console.log(err.report.failures);
 *   else throw err;
 * }
 * ```
 */
export class WebGpuSelfCheckError extends Error {
  /**
   * An error whose message names the adapter and every failed kernel.
   *
   * @param adapter the adapter's description
   * @param report the failed check, kept as {@linkcode WebGpuSelfCheckError.report}
   */
  constructor(adapter: string, readonly report: SelfCheckReport) {
    super(
      `the WebGPU adapter "${adapter}" failed the kernel self-check, so its results cannot be ` +
        `trusted: ${describeFailures(report.failures)}. Use the CPU backend (--backend cpu).`,
    );
    this.name = "WebGpuSelfCheckError";
  }
}

/**
 * The failures in one line, `kernel: error; kernel: error`, each error cut to
 * its first two lines (a compiler's diagnostic follows them).
 *
 * @param failures from a {@linkcode SelfCheckReport}
 * @returns one line for a message or a log; empty for no failures
 *
 * @example
 * ```ts
 * import { describeFailures } from "@brainorg/kernels";
 * const line = describeFailures([{ kernel: "gemm", error: "max error 0.5 at 17\n(details)" }]);
 * // "gemm: max error 0.5 at 17 (details)"
 * ```
 */
export function describeFailures(failures: SelfCheckFailure[]): string {
  const short = (e: string) =>
    e.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 2).join(" ");
  return failures.map((f) => `${f.kernel}: ${short(f.error)}`).join("; ");
}

// Largest error tolerated, relative to the largest reference value: float32
// rounding is ≈ 1e-6 here, a wrong kernel is off by far more.
const TOLERANCE = 1e-4;

/** Max |got − want| over the largest |want| (or 1), and where. */
function worstError(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; at: number } {
  if (got.length !== want.length) {
    throw new Error(`returned ${got.length} values; expected ${want.length}`);
  }
  let scale = 0, worst = -1, at = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    // A NaN compares false with everything: count it as the worst.
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
      if (worst === Infinity) break;
    }
  }
  return { err: Math.max(worst, 0) / (scale || 1), at };
}

/** Throws when `got` is further from `want` than {@linkcode TOLERANCE}, naming the value. */
function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  const { err, at } = worstError(got, want);
  if (!(err <= TOLERANCE)) {
    throw new Error(
      `${what}[${at}] is ${Number(got[at]).toPrecision(6)}, expected ` +
        `${Number(want[at]).toPrecision(6)} (error ${err.toExponential(1)} of the ` +
        `largest value; tolerance ${TOLERANCE})`,
    );
  }
}

function matrix(rows: number, cols: number, rand: () => number, offset = 0): Matrix {
  return {
    rows,
    cols,
    data: Float32Array.from({ length: rows * cols }, () => offset + 2 * rand() - 1),
  };
}

/** AᵀB over rows [r0, r1) of A (n × p) and B (n × q): (p × q), float32 of a float64 sum. */
function crossProduct(a: Matrix, b: Matrix, r0: number, r1: number): Float32Array {
  const out = new Float32Array(a.cols * b.cols);
  for (let j = 0; j < a.cols; j++) {
    for (let k = 0; k < b.cols; k++) {
      let s = 0;
      for (let r = r0; r < r1; r++) s += a.data[r * a.cols + j] * b.data[r * b.cols + k];
      out[j * b.cols + k] = s;
    }
  }
  return out;
}

/**
 * Two LASSO batches on one small design: a held-out path (the CV pass) and a
 * warm-started, positive elastic net stopped at a penalty per target (the
 * refit), with enough targets that neighbouring invocations diverge.
 */
function lassoProblems(): { path: LassoBatch; refit: LassoBatch } {
  const rand = rng(20240501);
  const n = 40, nTrain = 30, p = 8, V = 24, nA = 6;
  const x = matrix(n, p, rand);
  const y = matrix(n, V, rand);
  // A few planted weights per target, of varied strength.
  for (let v = 0; v < V; v++) {
    for (let t = 0; t < 3; t++) {
      const j = Math.floor(rand() * p), w = (rand() - 0.5) * 4 * (1 + (v % 4));
      for (let r = 0; r < n; r++) y.data[r * V + v] += w * x.data[r * p + j];
    }
  }
  const gram = crossProduct(x, x, 0, nTrain), q = crossProduct(x, y, 0, nTrain);
  const yy = new Float32Array(V), hyy = new Float32Array(V), scale = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    for (let r = 0; r < n; r++) {
      const val = y.data[r * V + v] ** 2;
      if (r < nTrain) yy[v] += val;
      else hyy[v] += val;
    }
    for (let j = 0; j < p; j++) scale[v] = Math.max(scale[v], Math.abs(q[j * V + v]));
  }
  const path = Float64Array.from({ length: nA }, (_, i) => 0.9 * 0.4 ** i);
  const common = { p, gram, q, yy, scale, path, tol: 1e-6, maxIter: 1000 };
  return {
    path: {
      ...common,
      heldOut: { gram: crossProduct(x, x, nTrain, n), q: crossProduct(x, y, nTrain, n), yy: hyy },
    },
    refit: {
      ...common,
      l1Ratio: 0.7,
      positive: true,
      warmStart: Float32Array.from({ length: p * V }, () => rand() * 0.5),
      stopIndex: Uint16Array.from({ length: V }, () => Math.floor(rand() * nA)),
    },
  };
}

/** Kernel families in the order they are checked. */
export const SELF_CHECK_KERNELS = [
  "gemm",
  "gemm_large",
  "column_stats",
  "column_correlation",
  "stacked_r2",
  "lasso_cd",
] as const;

/**
 * Run the self-check on a backend's primitives: every family of
 * {@linkcode SELF_CHECK_KERNELS} on tiny problems, against the CPU reference.
 * Never throws: an exception in a family is that family's failure.
 *
 * @param target the backend's primitives
 * @returns the verdict (`cached` false)
 */
export async function runSelfCheck(target: SelfCheckTarget): Promise<SelfCheckReport> {
  const t0 = performance.now();
  const rand = rng(7);
  const checks: Record<(typeof SELF_CHECK_KERNELS)[number], () => Promise<void>> = {
    async gemm() {
      // Aᵀ·B with odd sizes: packing, padding and the 64 × 64 tiles.
      const a = matrix(29, 37, rand), b = matrix(29, 45, rand);
      const got = await target.gemm(a, b, { transA: true });
      expectClose("C", got.data, gemmReference(a, b, { transA: true }).data);
    },
    async gemm_large() {
      // 128 × 128 outputs take the 128 × 128-tile kernel.
      const a = matrix(128, 12, rand), b = matrix(12, 128, rand);
      expectClose("C", (await target.gemm(a, b)).data, gemmReference(a, b).data);
    },
    async column_stats() {
      const x = matrix(40, 9, rand, 3);
      const got = await target.columnStats(x), want = columnStatsReference(x);
      expectClose("mean", got.mean, want.mean);
      expectClose("std", got.std, want.std);
    },
    async column_correlation() {
      const a = matrix(40, 9, rand), b = matrix(40, 9, rand);
      for (let r = 0; r < 40; r++) {
        b.data[r * 9 + 1] = a.data[r * 9 + 1] * 2 + b.data[r * 9 + 1] * 0.3;
        b.data[r * 9 + 4] = 0.5; // a constant column: r = 0
      }
      expectClose("r", await target.columnCorrelation(a, b), columnCorrelationReference(a, b));
    },
    async stacked_r2() {
      const y = matrix(40, 9, rand, 1), pred = matrix(120, 9, rand, 1);
      // Three predictions of y, each off by its own noise.
      for (let i = 0; i < 1080; i++) pred.data[i] = y.data[i % 360] + 0.3 * pred.data[i];
      expectClose("R²", (await target.stackedR2(pred, y)).data, stackedR2Reference(pred, y).data);
    },
    async lasso_cd() {
      const { path, refit } = lassoProblems();
      // A short dispatch, so the path also crosses dispatches mid-phase.
      const got = await target.lassoCD(path, 37), want = lassoCDReference(path);
      expectClose("held-out error", got.sse ?? [], want.sse!);
      const gotW = await target.lassoCD(refit), wantW = lassoCDReference(refit);
      expectClose("weights", gotW.weights ?? [], wantW.weights!);
    },
  };
  // All at once: each check mostly waits for its read-backs, and those overlap.
  const msByKernel: Record<string, number> = {};
  const outcomes = await Promise.allSettled(
    SELF_CHECK_KERNELS.map((kernel) =>
      checks[kernel]().finally(() => (msByKernel[kernel] = Math.round(performance.now() - t0)))
    ),
  );
  const failures: SelfCheckFailure[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === "rejected") {
      failures.push({
        kernel: SELF_CHECK_KERNELS[i],
        error: (o.reason as Error)?.message ?? String(o.reason),
      });
    }
  });
  return {
    ok: failures.length === 0,
    checked: [...SELF_CHECK_KERNELS],
    failures,
    ms: performance.now() - t0,
    msByKernel,
    cached: false,
  };
}
