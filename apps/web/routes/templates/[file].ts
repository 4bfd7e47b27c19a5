import { basename } from "node:path";
import type { RouteContext } from "../../router.ts";
import { template2mmFile, TEMPLATE_2MM, TEMPLATE_2MM_URL } from "../../template.ts";

/**
 * The 2 mm MNI152 T1 the viewers draw 2 mm maps on, `/templates/mni152-2mm.nii.gz`:
 * the registered reference file, checksum verified, served as stored (gzip)
 * and cached by the browser; 404 for any other name, 503 when it is not on
 * this machine (pages then use the run's own anatomy instead).
 */
export async function GET(ctx: RouteContext): Promise<Response> {
  if (ctx.params.file !== basename(TEMPLATE_2MM_URL)) {
    return new Response("not found", { status: 404 });
  }
  const file = await template2mmFile();
  if (!file) {
    return new Response(`${TEMPLATE_2MM} is not in the reference data on this machine`, {
      status: 503,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(ctx.req.method === "HEAD" ? null : (await Deno.open(file)).readable, {
    headers: {
      "content-type": "application/gzip",
      "x-content-type-options": "nosniff",
      // A registered file never changes: its name stands for its checksum.
      "cache-control": "public, max-age=86400",
    },
  });
}
