import type { RouteContext } from "../../../../router.ts";
import { basename } from "node:path";
import { resolveRunFile } from "../../../../runs.ts";
import { cachedVolume } from "../../../../volumes.ts";

const TYPES: Record<string, string> = {
  ".json": "application/json",
  ".csv": "text/csv; charset=utf-8",
  ".html": "text/plain; charset=utf-8", // never rendered as a page: results are data, not code
  ".gz": "application/gzip",
  ".nii": "application/octet-stream",
  ".svg": "text/plain; charset=utf-8",
};

/**
 * A file of a run, only from inside its folder; 404 for anything else.
 * `?volume=k` on a NIfTI map: its volume k alone, as a 3-D `.nii` (what a
 * page showing one atom hands its viewer), 422 when the map has none.
 */
export async function GET(ctx: RouteContext): Promise<Response> {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const file = run ? await resolveRunFile(run, ctx.params.path) : null;
  const volume = ctx.url.searchParams.get("volume");
  if (file && volume !== null && /\.nii(\.gz)?$/.test(file)) return await oneVolume(file, volume);
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

async function oneVolume(file: string, volume: string): Promise<Response> {
  const k = /^\d{1,6}$/.test(volume) ? Number(volume) : NaN;
  const bytes = Number.isInteger(k)
    ? await cachedVolume(file, k)
    : `volume must be a whole number: current value is ${JSON.stringify(volume)}`;
  if (bytes === null) return new Response("not found", { status: 404 });
  if (typeof bytes === "string") {
    return new Response(`${basename(file)}: ${bytes}`, {
      status: 422,
      headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
    });
  }
  return new Response(bytes.slice(), {
    headers: {
      "content-type": "application/octet-stream",
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox",
    },
  });
}
