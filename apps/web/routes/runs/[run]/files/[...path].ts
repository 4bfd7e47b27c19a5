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

/** A file of a run, only from inside its folder. */
export async function GET(ctx: RouteContext): Promise<Response> {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const file = run ? await resolveRunFile(run, ctx.params.path) : null;
  if (!file) return new Response("not found", { status: 404 });
  const ext = /\.[a-z]+$/.exec(file)?.[0] ?? "";
  return new Response((await Deno.open(file)).readable, {
    headers: {
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox",
    },
  });
}
