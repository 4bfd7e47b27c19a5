import type { RouteContext } from "../../../../router.ts";
import { resolveRunFile } from "../../../../runs.ts";

const TYPES: Record<string, string> = {
  ".json": "application/json",
  ".csv": "text/csv; charset=utf-8",
  ".html": "text/plain; charset=utf-8", // never rendered as a page: results are data, not code
  ".gz": "application/gzip",
  ".nii": "application/octet-stream",
  ".svg": "text/plain; charset=utf-8",
};

/** A file of a run, only from inside its folder; 404 for anything else. */
export async function GET(ctx: RouteContext): Promise<Response> {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const file = run ? await resolveRunFile(run, ctx.params.path) : null;
  let body: ReadableStream<Uint8Array> | null | undefined;
  try {
    // HEAD gets the headers only: an opened file would wait for a reader that never comes.
    if (file) body = ctx.req.method === "HEAD" ? null : (await Deno.open(file)).readable;
  } catch { /* removed or unreadable since it was resolved */ }
  if (!file || body === undefined) {
    return new Response("not found", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const ext = /\.[a-z]+$/.exec(file)?.[0] ?? "";
  return new Response(body, {
    headers: {
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox",
    },
  });
}
