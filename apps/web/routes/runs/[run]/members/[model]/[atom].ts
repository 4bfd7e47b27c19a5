import type { RouteContext } from "../../../../../router.ts";
import { atomMembersCsv } from "../../../../../members.ts";
import { problemText } from "../../../../../problems.ts";
import { textResponse } from "../../../../../render.ts";

const text = textResponse;

/**
 * One atom's sub-group as CSV (`layer,unit,atom,code`, the rows of
 * `models/<model>/members.csv` for that atom), streamed as it is filtered;
 * 404 when the run, the table or the atom's number is not there, 422 when
 * the table has no `atom` column.
 */
export async function GET(ctx: RouteContext): Promise<Response> {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const atom = /^\d{1,9}$/.test(ctx.params.atom) ? Number(ctx.params.atom) : NaN;
  if (!run || !Number.isInteger(atom)) return text("not found", 404);
  const csv = await atomMembersCsv(run, ctx.params.model, atom);
  if (csv === null) return text("not found", 404);
  if (!(csv instanceof ReadableStream)) return text(problemText(csv), 422);
  if (ctx.req.method === "HEAD") await csv.cancel();
  // A file name from a model name that may hold anything: letters, digits and `._-` only.
  const name = `${ctx.params.model.replace(/[^\w.-]+/g, "_")}_atom${atom}_members.csv`;
  return new Response(ctx.req.method === "HEAD" ? null : csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${name}"`,
      "x-content-type-options": "nosniff",
    },
  });
}
