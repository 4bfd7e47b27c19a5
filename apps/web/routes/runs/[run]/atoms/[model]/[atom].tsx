import { Bars } from "../../../../../components/charts.tsx";
import { Island } from "../../../../../components/Island.tsx";
import { Layout } from "../../../../../components/Layout.tsx";
import type { RouteContext } from "../../../../../router.ts";
import {
  atomCourses,
  type Cell,
  findRun,
  fmt,
  layerCounts,
  networkCells,
  networkNames,
} from "../../../../../run_data.ts";
import { readRunCsv, resolveRunFile, type Run } from "../../../../../runs.ts";
import { ErrorPage } from "../../../../../components/ErrorPage.tsx";
import { h } from "preact";
import { htmlResponse } from "../../../../../render.ts";

export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const model = ctx.params.model, atom = Number(ctx.params.atom);
  const courses = await atomCourses(run, model);
  if (!Number.isInteger(atom) || atom < 0 || atom >= courses.length) {
    return htmlResponse(
      h(ErrorPage, {
        title: "Unknown atom",
        message: `Model "${model}" of run ${run.id} has no atom ${ctx.params.atom} ` +
          `(it has ${courses.length}).`,
        runId: run.id,
      }),
      404,
    );
  }
  const words = (await readRunCsv(run, "stimulus/words.csv")).map((w) => ({
    word: w.word,
    onset: Number(w.onset),
  }));
  const times = (await readRunCsv(run, "stimulus/word_rate.csv")).map((r) => Number(r.time));
  const layers = await layerCounts(run, model);
  const templates: { name: string; cells: Cell[] }[] = [];
  for (
    const t
      of run.summary.voxel?.models.find((m: { name: string }) => m.name === model)?.templates ?? []
  ) {
    templates.push({
      name: t.name,
      cells: (await networkCells(run, model, t.name)).filter((c) => c.atom === atom),
    });
  }
  const hasMap = !!(await resolveRunFile(run, `voxels/${model}/group_t.nii.gz`));
  return {
    run,
    model,
    atom,
    atoms: courses.length,
    course: courses[atom],
    words,
    times,
    positive: layers.positive[atom] ?? [],
    negative: layers.negative[atom] ?? [],
    templates,
    hasMap,
    atlasNames: await networkNames(run, "Yeo-7"),
  };
}

// deno-lint-ignore no-explicit-any
export default function AtomView(props: { ctx: RouteContext; data: any }) {
  const d = props.data as {
    run: Run;
    model: string;
    atom: number;
    atoms: number;
    course: number[];
    words: { word: string; onset: number }[];
    times: number[];
    positive: number[];
    negative: number[];
    templates: { name: string; cells: Cell[] }[];
    hasMap: boolean;
    atlasNames: Record<string, string>;
  };
  const base = `/runs/${d.run.id}`;
  const size = d.positive.reduce((a, b) => a + b, 0) + d.negative.reduce((a, b) => a + b, 0);
  const t = d.run.summary.voxel?.threshold ?? 2;
  return (
    <Layout title={`${d.model} atom ${d.atom}`} runId={d.run.id}>
      <h1>{d.model} · atom {d.atom}</h1>
      <p>
        {d.atom > 0 && (
          <a data-testid="prev" href={`${base}/atoms/${d.model}/${d.atom - 1}`}>
            ← atom {d.atom - 1}
          </a>
        )}
        {" · "}
        {d.atom + 1 < d.atoms && (
          <a data-testid="next" href={`${base}/atoms/${d.model}/${d.atom + 1}`}>
            atom {d.atom + 1} →
          </a>
        )}
      </p>
      <Island
        name="TimeCourse"
        props={{
          values: d.course,
          times: d.times,
          words: d.words,
          tr: d.run.summary.stimulus?.tr ?? 2,
          title: "Time course over the story",
        }}
      />
      <div class="grid2">
        <div>
          <h2>Sub-group: {size} ANs</h2>
          <p class="muted">
            ANs with a non-zero code on this atom, per layer: positive (red) and negative (blue)
            codes.
          </p>
          <Bars labels={d.positive.map((_, l) => `L${l}`)} values={d.positive} colour="#e45756" />
          <Bars labels={d.negative.map((_, l) => `L${l}`)} values={d.negative} colour="#4c78a8" />
        </div>
        <div>
          <h2>Networks</h2>
          {d.templates.length === 0 && <p class="muted">No voxel level in this run.</p>}
          {d.templates.map((tpl) => {
            const rows = tpl.cells.filter((c) => c.linked || c.dice > 0).sort((a, b) =>
              b.dice - a.dice
            ).slice(0, 8);
            return (
              <>
                <h3>{tpl.name}</h3>
                <table data-testid={`networks-${tpl.name}`}>
                  <tr>
                    <th>network</th>
                    <th>part</th>
                    <th>Dice</th>
                    <th>overlap</th>
                    <th>p</th>
                    <th>q</th>
                    <th>linked</th>
                  </tr>
                  {rows.map((c) => (
                    <tr class={c.linked ? "sig" : ""}>
                      <td>{c.networkName}</td>
                      <td>{c.sign > 0 ? "activated" : "deactivated"}</td>
                      <td>{fmt(c.dice)}</td>
                      <td>{fmt(c.overlap)}</td>
                      <td>{fmt(c.p)}</td>
                      <td>{fmt(c.q, 4)}</td>
                      <td>{c.linked ? "yes" : ""}</td>
                    </tr>
                  ))}
                </table>
              </>
            );
          })}
        </div>
      </div>
      {d.hasMap && (
        <Island
          name="BrainViewer"
          props={{
            map: `${base}/files/voxels/${d.model}/group_t.nii.gz`,
            volume: d.atom,
            anatomy: `${base}/files/voxels/anatomy.nii.gz`,
            atlas: `${base}/files/voxels/networks_Yeo-7.nii.gz`,
            atlasNames: d.atlasNames,
            threshold: Number(t.toFixed(1)),
            title: `Group t map of atom ${d.atom} (outlines: Yeo-7)`,
          }}
        />
      )}
    </Layout>
  );
}
