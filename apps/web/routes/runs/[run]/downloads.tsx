import { Layout } from "../../../components/Layout.tsx";
import type { Problem } from "../../../problems.ts";
import type { LoadedData, PageProps, RouteContext } from "../../../router.ts";
import { findRun } from "../../../run_data.ts";
import { listRunFiles } from "../../../runs.ts";
import { fileHref } from "../../../urls.ts";

/** Every file of the run, with its size. */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const problems: Problem[] = [];
  return { run, files: await listRunFiles(run, problems), problems };
}

function size(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 2 ** 20
    ? `${(bytes / 1024).toFixed(1)} KiB`
    : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Downloads: links to every file of the run (served as data, never as a page). */
export default function Downloads(props: PageProps<LoadedData<typeof load>>) {
  const { run, files, problems } = props.data;
  return (
    <Layout title={`${run.id}: files`} runId={run.id} problems={[...run.problems, ...problems]}>
      <h1>Every file of {run.id}</h1>
      <table data-testid="files">
        <tr>
          <th>file</th>
          <th>size</th>
        </tr>
        {files.map((f) => (
          <tr>
            <td>
              <a href={fileHref(run.id, f.path)} download>{f.path}</a>
            </td>
            <td>{size(f.size)}</td>
          </tr>
        ))}
      </table>
    </Layout>
  );
}
