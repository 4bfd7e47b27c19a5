import { Layout } from "../components/Layout.tsx";
import { Problems } from "../components/Problems.tsx";
import type { PageProps } from "../router.ts";
import { fmt } from "../run_data.ts";
import { runHref } from "../urls.ts";

/** The runs: one card per folder given, with what is wrong with it when it cannot be shown. */
export default function Runs(props: PageProps) {
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
          if (r.status !== "ready" || !s) {
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
                <a href={runHref(r.id)}>{r.id}</a>
              </strong>
              <p class="muted">
                {r.dir}
                <br />
                {r.provenance.createdAt ?? "date unknown"} · brainorg {s.brainorg || "?"}
              </p>
              <p>
                Models: {s.models.map((m) => m.name).join(", ") || "none"}
                <br />
                Data: {[
                  s.stimulus.transcript,
                  s.roiSubjects ? `${s.roiSubjects} ROI subjects` : "",
                  v
                    ? `${v.phantom ? "phantom, " : ""}${fmt(v.subjects, 0)} subjects, ${
                      fmt(v.voxels, 0)
                    } voxels`
                    : "",
                ].filter(Boolean).join("; ")}
              </p>
              {v && v.models.length > 0 && (
                <table>
                  <tr>
                    <th>model</th>
                    <th>Yeo-7 links</th>
                    <th>networks</th>
                    <th>precision</th>
                    <th>recall</th>
                  </tr>
                  {v.models.map((m) => (
                    <tr>
                      <td>{m.name}</td>
                      <td>{m.templates[0]?.links ?? "—"}</td>
                      <td>{fmt(m.templates[0]?.metrics.networksEngaged, 0)}</td>
                      <td>{fmt(m.recovery?.precision, 2)}</td>
                      <td>{fmt(m.recovery?.recall, 2)}</td>
                    </tr>
                  ))}
                </table>
              )}
              <Problems problems={r.problems} title="Some fields could not be read" />
            </div>
          );
        })}
      </div>
    </Layout>
  );
}
