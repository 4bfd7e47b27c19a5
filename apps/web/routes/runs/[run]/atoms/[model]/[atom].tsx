import { h } from "preact";
import { Bars } from "../../../../../components/charts.tsx";
import { ErrorPage } from "../../../../../components/ErrorPage.tsx";
import { Island } from "../../../../../components/Island.tsx";
import { Layout } from "../../../../../components/Layout.tsx";
import { checkMap, type MapCheck } from "../../../../../maps.ts";
import { type Problem, problemText } from "../../../../../problems.ts";
import { htmlResponse } from "../../../../../render.ts";
import type { LoadedData, PageProps, RouteContext } from "../../../../../router.ts";
import {
  atomCourses,
  type Cell,
  findRun,
  fmt,
  layerCounts,
  networkCells,
  networkNames,
  VIEWER_ATLAS,
  viewerThreshold,
} from "../../../../../run_data.ts";
import { knownModel } from "../../../../../members.ts";
import { resolveRunFile } from "../../../../../runs.ts";
import { readTable } from "../../../../../tables.ts";
import { fileHref, runHref, volumeHref } from "../../../../../urls.ts";
import { RESULT_FILES, templateFiles, voxelFiles } from "@brainorg/core/results";

/**
 * The words heard during each volume's acquisition window (the TR before
 * it), aggregated here so that the page carries one string per volume, not
 * the whole transcript.
 */
function wordsPerVolume(words: { word: string; onset: number }[], times: number[], tr: number) {
  const sorted = words.filter((w) => Number.isFinite(w.onset)).sort((a, b) => a.onset - b.onset);
  let first = 0;
  return times.map((t) => {
    while (first < sorted.length && sorted[first].onset <= t - tr) first++;
    const heard = [];
    for (let i = first; i < sorted.length && sorted[i].onset <= t; i++) heard.push(sorted[i].word);
    return heard.join(" ");
  });
}

const WORDS = { word: { kind: "string" }, onset: { kind: "number" } } as const;
const TIMES = { time: { kind: "number" } } as const;

/** One atom of one model: its time course, sub-group, networks and map. */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const problems: Problem[] = [];
  const model = ctx.params.model,
    atom = /^\d{1,9}$/.test(ctx.params.atom) ? Number(ctx.params.atom) : NaN;
  const courses = await atomCourses(run, model, problems);
  if (!(atom < courses.length)) {
    return htmlResponse(
      h(ErrorPage, {
        title: "Unknown atom",
        message: `Model "${model}" of run ${run.id} has no atom ${ctx.params.atom} ` +
          `(it has ${courses.length})` +
          (problems.length ? `: ${problems.map(problemText).join("; ")}` : "."),
        runId: run.id,
      }),
      404,
    );
  }
  const summary = run.summary!, tr = Number.isFinite(summary.stimulus.tr) ? summary.stimulus.tr : 2;
  const words =
    (await readTable(run, { table: RESULT_FILES.words, columns: WORDS, problems })).rows;
  const times = (await readTable(run, { table: RESULT_FILES.wordRate, columns: TIMES, problems }))
    .rows
    .map((r) => r.time).slice(0, courses[atom].length);
  const layers = await layerCounts(run, model, problems);
  const voxelModel = summary.voxel?.models.find((m) => m.name === model);
  const templates: { name: string; cells: Cell[] }[] = [];
  for (const t of voxelModel?.templates ?? []) {
    templates.push({
      name: t.name,
      cells: (await networkCells(run, model, t.name, problems)).filter((c) => c.atom === atom),
    });
  }
  const mapPath = voxelFiles(model).groupT;
  let map: MapCheck | undefined, anatomy: MapCheck | undefined, atlas: MapCheck | undefined;
  if (voxelModel || await resolveRunFile(run, mapPath)) {
    [map, anatomy, atlas] = await Promise.all(
      [mapPath, RESULT_FILES.anatomy, templateFiles(VIEWER_ATLAS).labels].map((p) =>
        checkMap(run, p)
      ),
    );
    if (map.ok && map.volumes <= atom) {
      problems.push({
        file: mapPath,
        field: 'field "dim[4]"',
        expected: `a volume per atom (at least ${atom + 1})`,
        found: `${map.volumes} volumes`,
      });
      map = undefined;
    }
    for (const c of [map, anatomy, atlas]) if (c && !c.ok) problems.push(c.problem);
  }
  return {
    run,
    model,
    atom,
    atoms: courses.length,
    course: courses[atom],
    times,
    heard: wordsPerVolume(words, times, tr),
    positive: layers.positive[atom] ?? [],
    negative: layers.negative[atom] ?? [],
    templates,
    map,
    anatomy,
    atlas,
    atlasNames: atlas?.ok ? await networkNames(run, VIEWER_ATLAS, problems) : {},
    problems,
  };
}

/** The atom view. */
export default function AtomView(props: PageProps<LoadedData<typeof load>>) {
  const d = props.data;
  const atomHref = (k: number) => runHref(d.run.id, "atoms", d.model, k);
  const total = (xs: number[]) => xs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return (
    <Layout
      title={`${d.model} atom ${d.atom}`}
      runId={d.run.id}
      problems={[...d.run.problems, ...d.problems]}
    >
      <h1>{d.model} · atom {d.atom}</h1>
      <p>
        {d.atom > 0 && <a data-testid="prev" href={atomHref(d.atom - 1)}>← atom {d.atom - 1}</a>}
        {" · "}
        {d.atom + 1 < d.atoms && (
          <a data-testid="next" href={atomHref(d.atom + 1)}>atom {d.atom + 1} →</a>
        )}
      </p>
      <Island
        name="TimeCourse"
        props={{
          values: d.course,
          times: d.times,
          heard: d.heard,
          title: "Time course over the story",
        }}
      />
      <div class="grid2">
        <div>
          <h2>Sub-group: {total(d.positive) + total(d.negative)} ANs</h2>
          <p class="muted">
            ANs with a non-zero code on this atom, per layer: positive (red) and negative (blue)
            codes.{knownModel(d.run, d.model) && (
              <>
                {" "}Which ANs:{" "}
                <a href={runHref(d.run.id, "models", d.model)}>{d.model}'s members</a>.
              </>
            )}
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
      {d.map?.ok && (
        <Island
          name="BrainViewer"
          props={{
            // The atom's volume only: a 64-atom 2 mm map is 231 MB for the browser to inflate.
            map: volumeHref(d.run.id, d.map.path, d.atom),
            volume: 0,
            ...(d.anatomy?.ok ? { anatomy: fileHref(d.run.id, d.anatomy.path) } : {}),
            ...(d.atlas?.ok
              ? { atlas: fileHref(d.run.id, d.atlas.path), atlasNames: d.atlasNames }
              : {}),
            threshold: viewerThreshold(d.run, voxelFiles(d.model).groupT),
            title: `Group t map of atom ${d.atom} (outlines: Yeo-7)`,
          }}
        />
      )}
    </Layout>
  );
}
