import type { RouteContext } from "../../router.ts";
import { type Hemisphere, HEMISPHERES } from "@brainorg/datasets";
import { surfaceMesh } from "../../surfaces.ts";

/**
 * A hemisphere's cortical mesh, `/surfaces/lh.mz3` or `/surfaces/rh.mz3`:
 * the registered reference file (ICBM152, MNI mm), served as it is once its
 * checksum is verified; 404 for any other name, 503 when the mesh is found
 * nowhere (the message says where it was looked for).
 */
export async function GET(ctx: RouteContext): Promise<Response> {
  const hemi = ctx.params.mesh.replace(/\.mz3$/, "") as Hemisphere;
  if (!ctx.params.mesh.endsWith(".mz3") || !HEMISPHERES.includes(hemi)) {
    return new Response("not found", { status: 404 });
  }
  let file: string;
  try {
    file = (await surfaceMesh(hemi)).file;
  } catch (err) {
    return new Response(String((err as Error).message), {
      status: 503,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(ctx.req.method === "HEAD" ? null : (await Deno.open(file)).readable, {
    headers: {
      "content-type": "application/octet-stream",
      "x-content-type-options": "nosniff",
      // A registered file never changes: its name stands for its checksum.
      "cache-control": "public, max-age=86400",
    },
  });
}
