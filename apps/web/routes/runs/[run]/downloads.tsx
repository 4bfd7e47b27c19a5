import { Layout } from "../../../components/Layout.tsx";
import type { RouteContext } from "../../../router.ts";
import { findRun } from "../../../run_data.ts";
import { listRunFiles, type Run } from "../../../runs.ts";

export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  return { run, files: await listRunFiles(run) };
}

// deno-lint-ignore no-explicit-any
export default function Downloads(props: { ctx: RouteContext; data: any }) {
  const { run, files } = props.data as { run: Run; files: { path: string; size: number }[] };
  return (
    <Layout title={`${run.id}: files`} runId={run.id}>
      <h1>Every file of {run.id}</h1>
      <table data-testid="files">
        <tr>
          <th>file</th>
          <th>size</th>
        </tr>
        {files.map((f) => (
          <tr>
            <td>
              <a href={`/runs/${run.id}/files/${f.path}`} download>{f.path}</a>
            </td>
            <td>
              {f.size < 1024
                ? `${f.size} B`
                : f.size < 2 ** 20
                ? `${(f.size / 1024).toFixed(1)} KiB`
                : `${(f.size / 2 ** 20).toFixed(1)} MiB`}
            </td>
          </tr>
        ))}
      </table>
    </Layout>
  );
}
