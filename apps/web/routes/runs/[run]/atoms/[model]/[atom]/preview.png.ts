import type { RouteContext } from "../../../../../../router.ts";
import { cachedPreview } from "../../../../../../preview.ts";
import { viewerThreshold } from "../../../../../../run_data.ts";
import { voxelFiles } from "@brainorg/core/results";
import { textResponse } from "../../../../../../render.ts";

const text = textResponse;

/**
 * The static first view of an atom's group t map (`preview.ts`): a PNG of
 * three slices through its peak, `?threshold=t` (|value|, default the
 * viewer's). 404 naming what was expected when the run, the map or the
 * atom is not there; 400 for a threshold that is not a number ≥ 0; 422 when
 * the map does not decode. Revalidated by its entity tag (the PNG's
 * SHA-1), since a new run may rewrite the folder.
 */
export async function GET(ctx: RouteContext): Promise<Response> {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  if (!run) return text(`no run ${JSON.stringify(ctx.params.run)}`, 404);
  const atom = /^\d{1,9}$/.test(ctx.params.atom) ? Number(ctx.params.atom) : NaN;
  if (!Number.isInteger(atom)) {
    return text(
      `atom: expected a whole number from 0, found ${JSON.stringify(ctx.params.atom)}`,
      404,
    );
  }
  const asked = ctx.url.searchParams.get("threshold");
  const threshold = asked === null
    ? viewerThreshold(run, voxelFiles(ctx.params.model).groupT)
    : /^\d+(\.\d+)?$/.test(asked)
    ? Number(asked)
    : NaN;
  if (!(threshold >= 0 && threshold < 1e6)) {
    return text(`threshold: expected a number ≥ 0, found ${JSON.stringify(asked)}`, 400);
  }
  const png = await cachedPreview(run, ctx.params.model, atom, threshold);
  if (!(png instanceof Uint8Array)) return text(png.message, png.status);
  const body = png.slice();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", body));
  const etag = `"${
    Array.from(digest.subarray(0, 10), (b) => b.toString(16).padStart(2, "0")).join("")
  }"`;
  const headers = {
    "content-type": "image/png",
    "cache-control": "no-cache",
    etag,
    "x-content-type-options": "nosniff",
  };
  if (ctx.req.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(ctx.req.method === "HEAD" ? null : body, { headers });
}
