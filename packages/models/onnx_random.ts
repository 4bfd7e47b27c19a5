/**
 * The random-weights control of an ONNX model, for graphs as published:
 * float32, float16 or bfloat16 weights, inline or in external data files
 * (read one tensor at a time; the redrawn ones written to a data file of
 * their own beside the original, which stays untouched).
 *
 * @module
 */

import onnxProto from "onnx-proto";
import { basename, dirname, join } from "node:path";
import { InputError } from "@brainorg/common";
import { rng } from "@brainorg/kernels";
import { redrawNormal } from "./capture.ts";
import { decodeOnnx } from "./onnx_decode.ts";
import { checkExternalDataSync, type ExternalTensor, externalTensors } from "./onnx_external.ts";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

const FLOAT = 1, FLOAT16 = 10, BFLOAT16 = 16;
/** Ops whose weights are quantized: their redraw would need the quantizer, which we do not have. */
const QUANTIZED = new Set([
  "MatMulInteger",
  "MatMulNBits",
  "QLinearMatMul",
  "DynamicQuantizeMatMul",
  "MatMulIntegerToFloat",
]);

/** Weight values as float32, from their stored type. */
function toFloat32(raw: Uint8Array, type: number): Float32Array {
  // protobufjs may hand out a Node Buffer, whose slice() is a view: copy.
  const buf = new Uint8Array(raw).buffer;
  if (type === FLOAT) return new Float32Array(buf);
  if (type === FLOAT16) return Float32Array.from(new Float16Array(buf));
  const bits = new Uint16Array(buf), out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** Float32 values stored as `type` (bfloat16 rounded to nearest even). */
function fromFloat32(w: Float32Array, type: number): Uint8Array {
  if (type === FLOAT) {
    return new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
  }
  if (type === FLOAT16) return new Uint8Array(Float16Array.from(w).buffer);
  const u = new Uint32Array(w.buffer, w.byteOffset, w.length), out = new Uint16Array(w.length);
  for (let i = 0; i < u.length; i++) out[i] = (u[i] + 0x7fff + ((u[i] >> 16) & 1)) >>> 16;
  return new Uint8Array(out.buffer);
}

/** Read one external tensor's bytes, and only those. */
function readExternal(t: ExternalTensor, file: string, bytes: number): Uint8Array {
  const f = Deno.openSync(join(dirname(file), t.location), { read: true });
  try {
    f.seekSync(t.offset, Deno.SeekMode.Start);
    const out = new Uint8Array(t.length ?? bytes);
    for (let off = 0; off < out.length;) {
      const n = f.readSync(out.subarray(off));
      if (!n) break;
      off += n;
    }
    return out;
  } finally {
    f.close();
  }
}

/**
 * The random-weights control of an ONNX model: every weight matrix (a
 * float initializer that a MatMul or Gemm multiplies by, or that a Gather
 * reads embeddings from) redrawn from a normal distribution with its own
 * mean and standard deviation; norms, biases and tables are kept. Weights
 * in external data files are read one tensor at a time and the redrawn
 * ones written to `<graph>.random<seed>.data` beside the graph (the
 * returned graph points there; the other tensors keep their files).
 *
 * @param bytes a serialized ONNX model
 * @param seed seed of the draws
 * @param file the model's path (external data is relative to its folder). Default: `"model.onnx"`.
 * @returns the control's bytes
 * @throws {InputError} when the bytes are not an ONNX model, its weights are
 *   quantized (redraw the float export instead), or a weight matrix is not
 *   float32, float16 or bfloat16
 *
 * @example
 * ```ts
 * import { randomizeOnnxWeights } from "@brainorg/models";
 * const control = randomizeOnnxWeights(await Deno.readFile("model.onnx"), 0, "model.onnx");
 * await Deno.writeFile("model_random.onnx", control);
 * ```
 */
export function randomizeOnnxWeights(
  bytes: Uint8Array,
  seed: number,
  file = "model.onnx",
): Uint8Array {
  const model = decodeOnnx(bytes, file);
  const weights = new Set<string>(), products = new Set<string>();
  for (const n of model.graph.node as { opType: string; input: string[] }[]) {
    if (QUANTIZED.has(n.opType)) {
      throw new InputError("the random-weights control of a quantized graph is not supported", {
        file,
        field: `graph node ${n.opType}`,
        expected: "float weights (redraw the float32 or float16 export of the same model)",
        found: `a ${n.opType} node`,
      });
    }
    if (n.opType === "MatMul" || n.opType === "Gemm") {
      (weights.add(n.input[1]), products.add(n.input[1]));
    }
    if (n.opType === "Gather") weights.add(n.input[0]);
  }
  const external = new Map(externalTensors(model).map((t) => [t.tensor, t]));
  if (external.size) checkExternalDataSync([...external.values()], file);
  const dataName = `${basename(file)}.random${seed}.data`, parts: Uint8Array[] = [];
  let dataSize = 0;
  const uniform = rng(seed);
  // deno-lint-ignore no-explicit-any
  for (const init of model.graph.initializer as any[]) {
    if (!weights.has(init.name) || (init.dims?.length ?? 0) < 2) continue;
    if (![FLOAT, FLOAT16, BFLOAT16].includes(init.dataType)) {
      if (!products.has(init.name)) continue; // e.g. an integer table a Gather reads
      throw new InputError("a weight matrix has a type the control cannot redraw", {
        file,
        field: `initializer ${init.name}`,
        expected: "float32, float16 or bfloat16",
        found: `TensorProto data type ${init.dataType}`,
      });
    }
    const count = init.dims.reduce((a: number, d: unknown) => a * Number(d), 1);
    const size = count * (init.dataType === FLOAT ? 4 : 2);
    const ext = external.get(init.name);
    const raw: Uint8Array = ext
      ? readExternal(ext, file, size)
      : init.rawData?.length
      ? init.rawData
      : init.dataType === FLOAT
      ? new Uint8Array(Float32Array.from(init.floatData as number[]).buffer)
      : new Uint8Array(Uint16Array.from(init.int32Data as number[]).buffer);
    const redrawn = fromFloat32(
      redrawNormal(toFloat32(raw, init.dataType), uniform),
      init.dataType,
    );
    init.floatData = [];
    init.int32Data = [];
    if (!ext) {
      init.rawData = redrawn;
      continue;
    }
    const pad = (64 - (dataSize % 64)) % 64;
    parts.push(new Uint8Array(pad), redrawn);
    init.externalData = [
      { key: "location", value: dataName },
      { key: "offset", value: String(dataSize + pad) },
      { key: "length", value: String(redrawn.length) },
    ];
    dataSize += pad + redrawn.length;
  }
  if (parts.length) {
    // Written whole then renamed, so that a killed run never leaves a half file under the name.
    const path = join(dirname(file), dataName),
      tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const f = Deno.openSync(tmp, { write: true, createNew: true });
    try {
      for (const p of parts) for (let off = 0; off < p.length;) off += f.writeSync(p.subarray(off));
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  }
  return onnx.ModelProto.encode(model).finish();
}
