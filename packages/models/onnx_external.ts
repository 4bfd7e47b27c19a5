/**
 * Models whose weights live in external data files (`model.onnx` +
 * `model.onnx_data`, as every export over protobuf's 2 GB limit is
 * published): the graph file holds only each initializer's location,
 * offset and length. brainorg decodes and rewrites the graph alone and
 * never reads the data; onnxruntime reads it, but only from the graph's
 * own folder (it refuses absolute paths, `..` and symbolic links out of
 * the folder), so the rewritten graph is written there for the moment
 * the session loads it, then removed.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import { basename, dirname, isAbsolute, join, normalize, posix } from "node:path";
import { InputError } from "@brainorg/common";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

/** One initializer stored outside the graph file. */
export interface ExternalTensor {
  /** The initializer's name. */
  tensor: string;
  /** The data file, relative to the graph's folder. */
  location: string;
  /** Byte offset in the file. Default (absent in the graph): 0. */
  offset: number;
  /** Byte length; `undefined` when the graph leaves it to the file's end. */
  length?: number;
}

const EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL

/**
 * The initializers a decoded graph keeps in external data files.
 *
 * @param model a decoded model (see {@linkcode decodeOnnx})
 * @returns one entry per external initializer, in graph order; empty for a self-contained graph
 *
 * @example
 * ```ts
 * import { decodeOnnx, externalTensors } from "@brainorg/models";
 * const model = decodeOnnx(await Deno.readFile("model.onnx"));
 * console.log(new Set(externalTensors(model).map((t) => t.location))); // e.g. {"model.onnx_data"}
 * ```
 */
// deno-lint-ignore no-explicit-any
export function externalTensors(model: any): ExternalTensor[] {
  // deno-lint-ignore no-explicit-any
  return (model.graph?.initializer ?? []).filter((i: any) => i.dataLocation === EXTERNAL).map(
    // deno-lint-ignore no-explicit-any
    (i: any) => {
      const kv = new Map<string, string>(
        (i.externalData ?? []).map((e: { key: string; value: string }) => [e.key, e.value]),
      );
      return {
        tensor: i.name,
        location: kv.get("location") ?? "",
        offset: Number(kv.get("offset") ?? 0),
        length: kv.has("length") ? Number(kv.get("length")) : undefined,
      };
    },
  );
}

/**
 * The external data files a graph names, as paths relative to the model
 * folder (beside the graph's own path): what a download must fetch with it.
 *
 * @param bytes the graph file's bytes
 * @param graphPath the graph's path in the folder, e.g. `onnx/model.onnx`
 * @returns e.g. `["onnx/model.onnx_data"]`; none for a self-contained graph,
 *   or for bytes that are no ONNX model (the loader reports those)
 *
 * @example
 * ```ts
 * import { externalDataFiles } from "@brainorg/models";
 * console.log(externalDataFiles(await Deno.readFile("onnx/model.onnx"), "onnx/model.onnx"));
 * ```
 */
export function externalDataFiles(bytes: Uint8Array, graphPath: string): string[] {
  let tensors: ExternalTensor[];
  try {
    tensors = externalTensors(onnx.ModelProto.decode(bytes));
  } catch {
    return [];
  }
  const dir = posix.dirname(graphPath.replaceAll("\\", "/"));
  return [...new Set(tensors.map((t) => t.location))]
    .filter((l) => l && !isAbsolute(l) && !normalize(l).startsWith(".."))
    .map((l) => posix.join(dir, l));
}

/**
 * Check, without reading them, that a graph's external data files are
 * where onnxruntime will look (beside the graph, by a relative path that
 * stays in its folder) and long enough for every tensor's offset + length.
 *
 * @param tensors from {@linkcode externalTensors}
 * @param file the graph file's path: data locations are relative to its folder
 * @returns the data files' paths, each once
 * @throws {InputError} naming the graph, the tensor and its location when a
 *   location is absolute or leaves the folder, a file is missing, or it is too short
 *
 * @example
 * ```ts
 * import { checkExternalData, decodeOnnx, externalTensors } from "@brainorg/models";
 * const path = "Llama-3-8B-onnx/model.onnx";
 * await checkExternalData(externalTensors(decodeOnnx(await Deno.readFile(path))), path);
 * ```
 */
export function checkExternalData(
  tensors: ExternalTensor[],
  file: string,
): Promise<string[]> {
  try {
    return Promise.resolve(checkExternalDataSync(tensors, file));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * {@linkcode checkExternalData}, synchronously.
 *
 * @param tensors from {@linkcode externalTensors}
 * @param file the graph file's path: data locations are relative to its folder
 * @returns the data files' paths, each once
 * @throws {InputError} as {@linkcode checkExternalData}
 */
export function checkExternalDataSync(tensors: ExternalTensor[], file: string): string[] {
  const sizes = new Map<string, number>();
  for (const t of tensors) {
    const rel = normalize(t.location);
    if (!t.location || isAbsolute(t.location) || rel.startsWith("..")) {
      throw new InputError("an external data location leaves the model's folder", {
        file,
        field: `initializer ${t.tensor}: external_data location`,
        expected: "a relative path inside the graph's folder, e.g. model.onnx_data",
        found: JSON.stringify(t.location),
      });
    }
    const path = join(dirname(file), rel);
    if (!sizes.has(path)) {
      try {
        sizes.set(path, Deno.statSync(path).size);
      } catch {
        throw new InputError("an external data file is missing", {
          file,
          field: `initializer ${t.tensor}: external_data location`,
          expected: `${path} beside the graph (download every *.onnx_data / *.onnx.data file)`,
          found: "no such file",
        });
      }
    }
    const end = t.offset + (t.length ?? 0);
    if (!Number.isFinite(end) || t.offset < 0 || end > sizes.get(path)!) {
      throw new InputError("an external data file is shorter than the graph says", {
        file,
        field: `initializer ${t.tensor}: external_data offset/length`,
        expected: `bytes ${t.offset}–${end} within ${path}`,
        found: `${sizes.get(path)} bytes (an interrupted download?)`,
      });
    }
  }
  return [...sizes.keys()];
}

/**
 * Open a graph in onnxruntime-node: from memory when it is self-contained,
 * else from a file written beside the original (so that onnxruntime finds
 * the data files there), removed once the session holds the weights.
 *
 * @param bytes the (rewritten) graph
 * @param file the original graph's path: its folder holds the data files
 * @param external whether the graph has external data (see {@linkcode externalTensors})
 * @returns the session
 * @throws {InputError} when the graph's folder is not writable, or
 *   onnxruntime cannot load the graph
 */
export async function createOnnxSession(
  bytes: Uint8Array,
  file: string,
  external: boolean,
): Promise<ort.InferenceSession> {
  const load = async (source: Uint8Array | string) => {
    try {
      return await ort.InferenceSession.create(source as string);
    } catch (err) {
      throw new InputError("onnxruntime cannot load the model's graph", {
        file,
        field: "graph",
        expected: "an ONNX model onnxruntime can run (exported for transformers.js)",
        found: String((err as Error).message ?? err).slice(0, 300),
        cause: err,
      });
    }
  };
  if (!external) return await load(bytes);
  const staged = join(
    dirname(file),
    `.${basename(file)}.brainorg-${crypto.randomUUID().slice(0, 8)}.onnx`,
  );
  try {
    await Deno.writeFile(staged, bytes, { createNew: true });
  } catch (err) {
    throw new InputError("cannot write the rewritten graph beside its external data", {
      file,
      field: "folder",
      expected: `a writable folder ${dirname(file)} (onnxruntime reads external data only ` +
        `from the graph's own folder; copy the model to a writable place)`,
      found: (err as Error).message,
      cause: err,
    });
  }
  try {
    return await load(staged);
  } finally {
    await Deno.remove(staged).catch(() => {});
  }
}
