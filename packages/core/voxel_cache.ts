/**
 * A model's voxel results on disk, so that an interrupted or repeated run
 * resumes from the models it has finished: `result.json` (everything but
 * the maps) and one raw little-endian file per map (`*.f32`, `*.f64`),
 * written atomically into a folder named by the key.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import type { ModelVoxelResult } from "./voxel_analysis.ts";

const SCHEMA = "brainorg.voxel-result/1";

/** SHA-256 over JSON-able parts and typed arrays, in order. */
export function cacheKey(parts: (string | ArrayBufferView)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    if (typeof p === "string") h.update(p);
    else h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    h.update("\u0000");
  }
  return h.digest("hex");
}

type Arrays = Record<string, Float32Array | Float64Array>;

function arraysOf(r: ModelVoxelResult): Arrays {
  const out: Arrays = {
    "group_t": r.group.t.data,
    "group_p": r.group.p,
    "group_meanR": r.group.meanR,
    "group_pR": r.group.pR,
    "group_qR": r.group.qR,
  };
  r.subjects.forEach((s, i) => {
    Object.assign(out, {
      [`s${i}_r`]: s.r,
      [`s${i}_r2`]: s.r2,
      [`s${i}_alpha`]: s.alpha,
      [`s${i}_p`]: s.p,
      [`s${i}_q`]: s.q,
      [`s${i}_weights`]: s.weights.data,
      [`s${i}_z`]: s.z.data,
    });
  });
  return out;
}

/** Store a model's result under `dir` (replaced atomically). */
export async function saveVoxelResult(dir: string, r: ModelVoxelResult): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    const arrays = arraysOf(r);
    for (const [name, a] of Object.entries(arrays)) {
      const ext = a instanceof Float64Array ? "f64" : "f32";
      await writeFileAtomic(
        join(tmp, `${name}.${ext}`),
        new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      );
    }
    await writeJsonAtomic(join(tmp, "result.json"), {
      schema: SCHEMA,
      model: r.model,
      threshold: r.threshold,
      templates: r.templates,
      group: { subjects: r.group.subjects, K: r.group.t.rows, V: r.group.t.cols },
      subjects: r.subjects.map((s) => ({ id: s.id })),
    });
  });
}

/** A stored result, or null when absent or unreadable (then it is recomputed). */
export async function loadVoxelResult(dir: string): Promise<ModelVoxelResult | null> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(join(dir, "result.json")));
    if (meta.schema !== SCHEMA) return null;
    const { K, V } = meta.group;
    const f32 = async (name: string, n: number) => {
      const b = await Deno.readFile(join(dir, `${name}.f32`));
      if (b.byteLength !== 4 * n) throw new Error(`${name}: wrong size`);
      return new Float32Array(b.buffer, b.byteOffset, n);
    };
    const f64 = async (name: string, n: number) => {
      const b = await Deno.readFile(join(dir, `${name}.f64`));
      if (b.byteLength !== 8 * n) throw new Error(`${name}: wrong size`);
      return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + 8 * n));
    };
    const mat = (data: Float32Array): Matrix => ({ rows: K, cols: V, data });
    const subjects = [];
    for (const [i, s] of (meta.subjects as { id: string }[]).entries()) {
      subjects.push({
        id: s.id,
        r: await f32(`s${i}_r`, V),
        r2: await f32(`s${i}_r2`, V),
        alpha: await f64(`s${i}_alpha`, V),
        p: await f64(`s${i}_p`, V),
        q: await f64(`s${i}_q`, V),
        weights: mat(await f32(`s${i}_weights`, K * V)),
        z: mat(await f32(`s${i}_z`, K * V)),
      });
    }
    return {
      model: meta.model,
      threshold: meta.threshold,
      templates: meta.templates,
      subjects,
      group: {
        subjects: meta.group.subjects,
        t: mat(await f32("group_t", K * V)),
        p: await f64("group_p", K * V),
        meanR: await f32("group_meanR", V),
        pR: await f64("group_pR", V),
        qR: await f64("group_qR", V),
      },
    };
  } catch {
    return null;
  }
}
