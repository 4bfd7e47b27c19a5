/**
 * Matrix products through onnxruntime-node, whose MLAS kernels (AVX2,
 * AVX-512, NEON; multithreaded) arrive with the npm package: the CPU
 * backend's fast path on a machine where nothing was installed by hand.
 * Deno or Node only: loaded dynamically, never in a browser.
 *
 * One ONNX `Gemm` graph per (transA, transB), with symbolic dimensions, so
 * four sessions serve every shape; a fifth scores ridge CV's stacked
 * predictions where MLAS computes them ({@linkcode scoreModel}).
 *
 * @module
 */

import type { GemmOptions } from "./backend.ts";
import { gemmShape } from "./backend.ts";
import { densify, type Matrix, type MatrixView } from "./matrix.ts";
import type { FoldErrors, FoldProducts } from "./ridge_folds.ts";

/** The products of a loaded onnxruntime. */
export interface Mlas {
  /** `onnxruntime-node <version>`. */
  library: string;
  /** Intra-op threads of every session. */
  threads: number;
  sgemm(a: MatrixView, b: MatrixView, options?: GemmOptions): Promise<Matrix>;
  /** Squared errors of stacked products, fused in one session (see {@linkcode StackedErrors}). */
  stackedErrors(a: MatrixView, b: MatrixView, y: MatrixView): Promise<StackedErrors>;
  /** Ridge CV's per-block fold products and errors in one session run (see {@linkcode foldErrorsModel}). */
  foldErrors(input: FoldProducts): Promise<FoldErrors>;
  close(): Promise<void>;
}

/**
 * What ridge CV scores every α of a fold by, for A (S·n × k), B (k × m) and
 * Y (n × m), all float32 sums.
 */
export interface StackedErrors {
  /** `Σ_i ((A·B)[s·n + i, j] − Y[i, j])²`: (S × m), row-major. */
  sse: Float32Array;
  /** `Σ_i (Y[i, j] − ȳ_j)²`: (m); exactly 0 for a constant column. */
  sst: Float32Array;
}

// A minimal protobuf writer for the one fixed graph below: the kernels
// package stays free of protobuf libraries, and the graph has five kinds of
// field.
const enc = new TextEncoder();
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (num: number, bytes: number[] | Uint8Array): number[] => [
  ...varint((num << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];
const intField = (num: number, v: number): number[] => [...varint(num << 3), ...varint(v)];
const str = (num: number, s: string) => field(num, enc.encode(s));

/** ValueInfoProto: a float tensor of two symbolic dimensions. */
function matrixInfo(name: string, d0: string, d1: string): number[] {
  const dim = (p: string) => field(1, str(2, p)); // Dimension.dim_param
  const shape = field(2, [...dim(d0), ...dim(d1)]); // Tensor.shape
  const tensor = field(1, [...intField(1, 1), ...shape]); // TypeProto.tensor_type, FLOAT
  return [...str(1, name), ...field(2, tensor)];
}

/** ValueInfoProto: a tensor of `elemType` (1 float, 7 int64) with the given symbolic dimensions. */
function tensorInfo(name: string, elemType: number, dims: string[]): number[] {
  const shape = field(2, dims.flatMap((d) => field(1, str(2, d))));
  return [...str(1, name), ...field(2, field(1, [...intField(1, elemType), ...shape]))];
}

/** NodeProto with integer-list (`ints`) and integer attributes. */
function node(
  op: string,
  inputs: string[],
  output: string,
  attrs: Record<string, number | number[]> = {},
): number[] {
  const attr = Object.entries(attrs).flatMap(([name, v]) =>
    field(
      5,
      Array.isArray(v)
        ? [...str(1, name), ...v.flatMap((i) => intField(8, i)), ...intField(20, 7)]
        : [...str(1, name), ...intField(3, v), ...intField(20, 2)],
    )
  );
  return [
    ...inputs.flatMap((i) => str(1, i)),
    ...str(2, output),
    ...str(3, output),
    ...str(4, op),
    ...attr,
  ];
}

/**
 * ModelProto of ridge CV's scoring step, fused so that the stacked
 * predictions never leave onnxruntime (opset 13, float32). Inputs: A
 * (S·n × k), B (k × m), Y (n × m), `shape` = [S, n, m] and `first` = [0]
 * (int64). Outputs: `SSE[s, j] = Σ_i ((A·B)[s·n + i, j] − Y[i, j])²`
 * (S × m) and `SST[j] = Σ_i (Y[i, j] − ȳ_j)²` (m), the latter taken on Y
 * less its first row, so that a constant column gives exactly 0.
 */
export function scoreModel(): Uint8Array {
  const graph = [
    ...field(1, node("MatMul", ["A", "B"], "P")),
    ...field(1, node("Reshape", ["P", "shape"], "P3")),
    ...field(1, node("Sub", ["P3", "Y"], "E")),
    ...field(1, node("ReduceSumSquare", ["E"], "SSE", { axes: [1], keepdims: 0 })),
    ...field(1, node("Gather", ["Y", "first"], "Y0", { axis: 0 })),
    ...field(1, node("Sub", ["Y", "Y0"], "D0")),
    ...field(1, node("ReduceMean", ["D0"], "M", { axes: [0], keepdims: 1 })),
    ...field(1, node("Sub", ["D0", "M"], "D")),
    ...field(1, node("ReduceSumSquare", ["D"], "SST", { axes: [0], keepdims: 0 })),
    ...str(2, "brainorg_score"),
    ...field(11, tensorInfo("A", 1, ["sn", "k"])),
    ...field(11, tensorInfo("B", 1, ["k", "m"])),
    ...field(11, tensorInfo("Y", 1, ["n", "m"])),
    ...field(11, tensorInfo("shape", 7, ["three"])),
    ...field(11, tensorInfo("first", 7, ["one"])),
    ...field(12, tensorInfo("SSE", 1, ["s", "m"])),
    ...field(12, tensorInfo("SST", 1, ["m"])),
  ];
  return Uint8Array.from([
    ...intField(1, 8), // ir_version
    ...str(2, "brainorg"),
    ...field(7, graph),
    ...field(8, [...str(1, ""), ...intField(2, 13)]), // opset_import
  ]);
}

/**
 * ModelProto of ridge CV's work on one block of targets, all folds in one
 * session run, so that a block costs one call and every step runs on all
 * cores (opset 13, float32; shapes as in {@linkcode FoldProducts}, F folds
 * of L rows, S maps, k = p + 1, m targets). Inputs: `Y` (F × L × m), `XH`
 * (F × k × L), `G` (F × S·L × k), `W` (F × L × 1), `CNT` (F × 1 × 1),
 * `shape4` = [F, S, L, m], `shapeY` = [F, 1, L, m], `axis0` = [0], `axis1`
 * = [1] (int64). Outputs: `H = XH·Y` (F × k × m), `ALL = Σ_f H`
 * (1 × k × m), `SSE[f, s, j] = Σ_i ((G·(ALL − H))[f, s·L + i, j] −
 * Y[f, i, j])²` (F × S × m) and `SST[f, j] = Σ_i W (Y − Y[f, 0] − mean)²`
 * (F × m), the mean over the fold's real rows, so that a constant column
 * gives exactly 0.
 */
export function foldErrorsModel(): Uint8Array {
  const graph = [
    ...field(1, node("MatMul", ["XH", "Y"], "H")),
    ...field(1, node("ReduceSum", ["H", "axis0"], "ALL", { keepdims: 1 })),
    ...field(1, node("Sub", ["ALL", "H"], "D")),
    ...field(1, node("MatMul", ["G", "D"], "P")),
    ...field(1, node("Reshape", ["P", "shape4"], "P4")),
    ...field(1, node("Reshape", ["Y", "shapeY"], "Y4")),
    ...field(1, node("Sub", ["P4", "Y4"], "E")),
    ...field(1, node("ReduceSumSquare", ["E"], "SSE", { axes: [2], keepdims: 0 })),
    ...field(1, node("Gather", ["Y", "axis0"], "Y0", { axis: 1 })),
    ...field(1, node("Sub", ["Y", "Y0"], "D0r")),
    ...field(1, node("Mul", ["D0r", "W"], "D0")),
    ...field(1, node("ReduceSum", ["D0", "axis1"], "S0", { keepdims: 1 })),
    ...field(1, node("Div", ["S0", "CNT"], "M")),
    ...field(1, node("Sub", ["D0", "M"], "DMr")),
    ...field(1, node("Mul", ["DMr", "W"], "DM")),
    ...field(1, node("ReduceSumSquare", ["DM"], "SST", { axes: [1], keepdims: 0 })),
    ...str(2, "brainorg_fold_errors"),
    ...field(11, tensorInfo("Y", 1, ["f", "l", "m"])),
    ...field(11, tensorInfo("XH", 1, ["f", "k", "l"])),
    ...field(11, tensorInfo("G", 1, ["f", "sl", "k"])),
    ...field(11, tensorInfo("W", 1, ["f", "l", "one"])),
    ...field(11, tensorInfo("CNT", 1, ["f", "one", "one"])),
    ...field(11, tensorInfo("shape4", 7, ["four"])),
    ...field(11, tensorInfo("shapeY", 7, ["four"])),
    ...field(11, tensorInfo("axis0", 7, ["one"])),
    ...field(11, tensorInfo("axis1", 7, ["one"])),
    ...field(12, tensorInfo("H", 1, ["f", "k", "m"])),
    ...field(12, tensorInfo("ALL", 1, ["one", "k", "m"])),
    ...field(12, tensorInfo("SSE", 1, ["f", "s", "m"])),
    ...field(12, tensorInfo("SST", 1, ["f", "m"])),
  ];
  return Uint8Array.from([
    ...intField(1, 8), // ir_version
    ...str(2, "brainorg"),
    ...field(7, graph),
    ...field(8, [...str(1, ""), ...intField(2, 13)]), // opset_import
  ]);
}

/** ModelProto of C = op(A) · op(B) (ONNX Gemm, opset 13). */
export function gemmModel(transA: boolean, transB: boolean): Uint8Array {
  const attr = (
    name: string,
    v: boolean,
  ) => [...str(1, name), ...intField(3, v ? 1 : 0), ...intField(20, 2)];
  const node = [
    ...str(1, "A"),
    ...str(1, "B"),
    ...str(2, "C"),
    ...str(3, "gemm"),
    ...str(4, "Gemm"),
    ...field(5, attr("transA", transA)),
    ...field(5, attr("transB", transB)),
  ];
  const graph = [
    ...field(1, node),
    ...str(2, "brainorg_gemm"),
    ...field(11, matrixInfo("A", "a0", "a1")),
    ...field(11, matrixInfo("B", "b0", "b1")),
    ...field(12, matrixInfo("C", "m", "n")),
  ];
  return Uint8Array.from([
    ...intField(1, 8), // ir_version
    ...str(2, "brainorg"),
    ...field(7, graph),
    ...field(8, [...str(1, ""), ...intField(2, 13)]), // opset_import
  ]);
}

/** A view as a dense array onnxruntime can read: rows end to end, no copy where they already are. */
function denseData(v: MatrixView): Float32Array {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0;
  if (stride === v.cols) return v.data.subarray(off, off + v.rows * v.cols);
  return densify(v).data;
}

/**
 * Load onnxruntime-node and build its Gemm sessions, or explain why not.
 *
 * @param threads intra-op threads (the calling thread counts as one)
 * @returns the products, or `{ reason }` (no Node-API runtime, the package
 *   missing, no FFI permission in Deno)
 */
export async function loadMlas(threads: number): Promise<Mlas | { reason: string }> {
  // deno-lint-ignore no-explicit-any
  let ort: any;
  try {
    // Not a literal: bundlers for the browser must not follow it into a
    // Node-API addon.
    const name = "onnxruntime-node";
    ort = (await import(name)).default;
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0];
    if (/--allow-ffi|NotCapable|permission/i.test(msg)) {
      return { reason: "onnxruntime-node needs --allow-ffi" };
    }
    return { reason: `onnxruntime-node did not load: ${msg}` };
  }
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // Spinning workers would take the cores from the JavaScript that runs
    // between products.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
  // deno-lint-ignore no-explicit-any
  const sessions: any[] = [];
  try {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        sessions.push(await ort.InferenceSession.create(gemmModel(tA, tB), options));
      }
    }
  } catch (err) {
    for (const s of sessions) await s.release();
    return { reason: `onnxruntime-node could not build a Gemm session: ${(err as Error).message}` };
  }
  let scorer;
  try {
    scorer = await ort.InferenceSession.create(scoreModel(), options);
  } catch (err) {
    for (const s of sessions) await s.release();
    return {
      reason: `onnxruntime-node could not build the scoring session: ${(err as Error).message}`,
    };
  }
  sessions.push(scorer);
  let folder;
  try {
    folder = await ort.InferenceSession.create(foldErrorsModel(), options);
  } catch (err) {
    for (const s of sessions) await s.release();
    return {
      reason: `onnxruntime-node could not build the fold session: ${(err as Error).message}`,
    };
  }
  sessions.push(folder);
  const axis1 = new ort.Tensor("int64", BigInt64Array.of(1n), [1]);
  const first = new ort.Tensor("int64", BigInt64Array.of(0n), [1]);
  const version = ort.env?.versions?.common ?? "?";
  return {
    library: `onnxruntime-node ${version}`,
    threads,
    async sgemm(a, b, options = {}) {
      const { m, n } = gemmShape(a, b, options);
      const session = sessions[(options.transA ? 2 : 0) + (options.transB ? 1 : 0)];
      if (options.out && options.out.length < m * n) {
        throw new RangeError(`gemm: out holds ${options.out.length} values; C needs ${m * n}`);
      }
      // Measured: onnxruntime writing into its own output and one copy into
      // `out` runs several times faster than handing it `out` to write to.
      const res = await session.run({
        A: new ort.Tensor("float32", denseData(a), [a.rows, a.cols]),
        B: new ort.Tensor("float32", denseData(b), [b.rows, b.cols]),
      });
      const c = res.C.data as Float32Array;
      if (!options.out) return { rows: m, cols: n, data: c };
      options.out.set(c.subarray(0, m * n));
      return { rows: m, cols: n, data: options.out.subarray(0, m * n) };
    },
    async stackedErrors(a, b, y) {
      const n = y.rows, m = y.cols, k = a.cols;
      if (b.rows !== k || b.cols !== m || n === 0 || a.rows % n !== 0) {
        throw new RangeError(
          `stackedErrors: A is ${a.rows} × ${k}, B ${b.rows} × ${b.cols}, Y ${n} × ${m}; ` +
            "expected S·n × k, k × m, n × m",
        );
      }
      const S = a.rows / n;
      const res = await scorer.run({
        A: new ort.Tensor("float32", denseData(a), [a.rows, k]),
        B: new ort.Tensor("float32", denseData(b), [k, m]),
        Y: new ort.Tensor("float32", denseData(y), [n, m]),
        shape: new ort.Tensor("int64", BigInt64Array.of(BigInt(S), BigInt(n), BigInt(m)), [3]),
        first,
      });
      return { sse: res.SSE.data as Float32Array, sst: res.SST.data as Float32Array };
    },
    async foldErrors(input) {
      const { folds: F, rows: L, maps: S, k, m } = input;
      const int = (...v: number[]) => BigInt64Array.from(v, BigInt);
      const res = await folder.run({
        Y: new ort.Tensor("float32", input.y.subarray(0, F * L * m), [F, L, m]),
        XH: new ort.Tensor("float32", input.xh.subarray(0, F * k * L), [F, k, L]),
        G: new ort.Tensor("float32", input.g.subarray(0, F * S * L * k), [F, S * L, k]),
        W: new ort.Tensor("float32", input.mask.subarray(0, F * L), [F, L, 1]),
        CNT: new ort.Tensor("float32", input.counts.subarray(0, F), [F, 1, 1]),
        shape4: new ort.Tensor("int64", int(F, S, L, m), [4]),
        shapeY: new ort.Tensor("int64", int(F, 1, L, m), [4]),
        axis0: first,
        axis1,
      });
      return {
        held: res.H.data as Float32Array,
        all: res.ALL.data as Float32Array,
        sse: res.SSE.data as Float32Array,
        sst: res.SST.data as Float32Array,
      };
    },
    async close() {
      for (const s of sessions) await s.release();
    },
  };
}
