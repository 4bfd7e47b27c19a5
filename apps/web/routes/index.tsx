import { Layout } from "../components/Layout.tsx";
import type { RouteContext } from "../router.ts";
import { fmt } from "../run_data.ts";

export default function Runs(props: { ctx: RouteContext }) {
  const runs = props.ctx.runs;
  return (
    <Layout title="Runs">
      <h1>Results folders</h1>
      {runs.length === 0 && (
        <p class="muted">
          No folders given: run <code>deno task web FOLDER…</code>.
        </p>
      )}
      <div class="cards">
        {runs.map((r) => {
          const s = r.summary;
          if (r.status !== "ready") {
            return (
              <div class="card error" data-run={r.id}>
                <strong>{r.id}</strong> — {r.status}
                <p>{r.problem}</p>
                <p class="muted">{r.dir}</p>
              </div>
            );
          }
          const v = s.voxel;
          return (
            <div class="card" data-run={r.id}>
              <strong>
                <a href={`/runs/${r.id}`}>{r.id}</a>
              </strong>
              <p class="muted">
                {r.dir}
                <br />
                {r.createdAt ?? "date unknown"} · brainorg {s.brainorg}
              </p>
              <p>
                Models: {(s.models ?? []).map((m: { name: string }) => m.name).join(", ")}
                <br />
                Data: {s.kind === "analysis"
                  ? `${s.stimulus?.transcript}; ${v?.subjects} subjects, ${v?.voxels} voxels`
                  : `Alice story, ${s.subjects?.length ?? 0} ROI subjects` +
                    (v?.phantom
                      ? `; phantom, ${v.phantom.subjects} subjects, ${v.phantom.voxels} voxels`
                      : "")}
              </p>
              {v && (
                <table>
                  <tr>
                    <th>model</th>
                    <th>Yeo-7 links</th>
                    <th>networks</th>
                    <th>precision</th>
                    <th>recall</th>
                  </tr>
                  {v.models.map((
                    m: {
                      name: string;
                      templates: { links: unknown[]; metrics: { networksEngaged: number } }[];
                      recovery: { precision: number; recall: number };
                    },
                  ) => (
                    <tr>
                      <td>{m.name}</td>
                      <td>{m.templates[0].links.length}</td>
                      <td>{m.templates[0].metrics.networksEngaged}</td>
                      <td>{fmt(m.recovery?.precision ?? NaN, 2)}</td>
                      <td>{fmt(m.recovery?.recall ?? NaN, 2)}</td>
                    </tr>
                  ))}
                </table>
              )}
            </div>
          );
        })}
      </div>
    </Layout>
  );
}
