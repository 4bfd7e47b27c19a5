import { ChecksumError, DataNotFoundError, InputError } from "@brainorg/common";
import { encodeMz3 } from "@brainorg/neuro";
import type { RouteContext } from "../../../../../../router.ts";
import type { Hemisphere } from "@brainorg/datasets";
import { surfaceNetworks, surfaceValues } from "../../../../../../surfaces.ts";
import { textResponse } from "../../../../../../render.ts";

const NAME = /^(lh|rh)\.(values\.mz3|borders\.mz3|json)$/;

const text = textResponse;

function binary(bytes: Uint8Array): Response {
  return new Response(bytes.slice(), {
    headers: {
      "content-type": "application/octet-stream",
      "x-content-type-options": "nosniff",
      // Recomputed from the files at each request; revalidated, never served stale.
      "cache-control": "no-cache",
    },
  });
}

/**
 * An atom's group t map on a hemisphere's surface, and that hemisphere's
 * network borders, for `/runs/:run/surfaces/:model/:atom/<hemi>.<what>`:
 *
 * - `lh.values.mz3`: the values as an MZ3 scalar layer (float32 per vertex,
 *   what NiiVue loads onto the mesh; a vertex without a value is 0, below
 *   any threshold);
 * - `lh.borders.mz3`: 1 on the vertices of a network border, 0 elsewhere;
 * - `lh.json`: `{ hemisphere, vertices, interpolation, map, atlas, values,
 *   labels, border }` with `values` (null where none), `labels` (each
 *   vertex's network, 0 = none) and `border` (vertex indices), the last two
 *   empty when the run has no label volume.
 */
export async function GET(ctx: RouteContext): Promise<Response> {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const m = NAME.exec(ctx.params.file);
  const atom = /^\d{1,9}$/.test(ctx.params.atom) ? Number(ctx.params.atom) : NaN;
  if (!run || !m || !Number.isInteger(atom)) return text("not found", 404);
  const hemi = m[1] as Hemisphere, what = m[2];
  try {
    if (what === "borders.mz3") {
      const nets = await surfaceNetworks(run, hemi);
      if (!nets.ok) return text(nets.message, nets.status);
      const on = new Float32Array(nets.labels.length);
      for (const v of nets.border) on[v] = 1;
      return binary(encodeMz3({ nVertices: on.length, scalars: [on] }));
    }
    const values = await surfaceValues(run, ctx.params.model, atom, hemi);
    if (!values.ok) return text(values.message, values.status);
    if (what === "values.mz3") {
      const shown = values.values.map((v) => (Number.isFinite(v) ? v : 0));
      return binary(encodeMz3({ nVertices: shown.length, scalars: [shown] }));
    }
    const nets = await surfaceNetworks(run, hemi);
    return new Response(
      JSON.stringify({
        hemisphere: hemi,
        vertices: values.values.length,
        interpolation: values.interpolation,
        map: values.map,
        atlas: nets.ok ? nets.atlas : null,
        values: Array.from(
          values.values,
          (v) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null),
        ),
        labels: nets.ok ? Array.from(nets.labels) : [],
        border: nets.ok ? Array.from(nets.border) : [],
      }),
      { headers: { "content-type": "application/json", "x-content-type-options": "nosniff" } },
    );
  } catch (err) {
    // A bad map or label volume, or a mesh found nowhere or corrupt: said, not a 500.
    if (
      err instanceof InputError || err instanceof DataNotFoundError || err instanceof ChecksumError
    ) {
      return text((err as Error).message, 422);
    }
    throw err;
  }
}
