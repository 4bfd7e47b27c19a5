import { h } from "preact";
import { Bars } from "../../../../../components/charts.tsx";
import { ErrorPage } from "../../../../../components/ErrorPage.tsx";
import { Island } from "../../../../../components/Island.tsx";
import { Layout } from "../../../../../components/Layout.tsx";
import { Preload } from "../../../../../components/Preload.tsx";
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
  type SpatialCell,
  spatialNullCells,
  VIEWER_ATLAS,
  viewerThreshold,
} from "../../../../../run_data.ts";
import { topVolumes, wordEnrichment, wordsPerVolume } from "../../../../../atom_words.ts";
import {
  atomMembers,
  knownModel,
  MEMBER_SORTS,
  type MemberSort,
  sortMembers,
} from "../../../../../members.ts";
import { resolveRunFile } from "../../../../../runs.ts";
import { surfaceViewerProps } from "../../../../../surfaces.ts";
import { readTable } from "../../../../../tables.ts";
import { viewerBackground } from "../../../../../template.ts";
import { cachedVolume } from "../../../../../volumes.ts";
import { cachedPreview, previewSize } from "../../../../../preview.ts";
import { fileHref, NIIVUE_URL, runHref, volumeHref } from "../../../../../urls.ts";
import { RESULT_FILES, templateFiles, voxelFiles } from "@brainorg/core/results";

const WORDS = { word: { kind: "string" }, onset: { kind: "number" } } as const;
const TIMES = { time: { kind: "number" } } as const;

/** ANs of the sub-group listed on the page; the rest are in the CSV download. */
export const MEMBERS_SHOWN = 200;

/** Volumes listed under "Words that drive the atom". */
const TOP_VOLUMES = 10;

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
  const heard = wordsPerVolume(words, times, tr);
  // One scan per file version serves every atom of the model (cached with its top lists).
  const members = await atomMembers(run, model, problems, MEMBERS_SHOWN);
  const asked = ctx.url.searchParams.get("sort") ?? "code";
  const sort = MEMBER_SORTS.find((k) => k === asked) ?? "code";
  const group = members.atoms.find((a) => a.atom === atom);
  const voxelModel = summary.voxel?.models.find((m) => m.name === model);
  const templates: { name: string; cells: Cell[]; spatial?: Map<string, SpatialCell> }[] = [];
  for (const t of voxelModel?.templates ?? []) {
    // The spatial null's p beside the shift null's, where the run computed it (an optional table).
    const spatial = await spatialNullCells(run, model, t.name, problems);
    templates.push({
      name: t.name,
      cells: (await networkCells(run, model, t.name, problems)).filter((c) => c.atom === atom),
      ...(spatial.size ? { spatial } : {}),
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
  const background = map?.ok ? await viewerBackground(run, mapPath, anatomy) : undefined;
  if (map?.ok) {
    // Cut out now, not awaited: the browser asks for the volume as soon as it reads the head.
    const file = await resolveRunFile(run, mapPath);
    if (file) cachedVolume(file, atom).catch(() => {});
    // And its first view, drawn from that volume: the page's <img> asks for it next.
    cachedPreview(run, model, atom, viewerThreshold(run, mapPath)).catch(() => {});
  }
  return {
    run,
    model,
    atom,
    atoms: courses.length,
    course: courses[atom],
    times,
    heard: heard.map((w) => w.join(" ")),
    topVolumes: topVolumes(courses[atom], times, heard, TOP_VOLUMES),
    enrichment: wordEnrichment(courses[atom], heard),
    members: {
      missing: members.missing,
      size: group?.size ?? 0,
      sort,
      top: sortMembers(group?.top ?? [], sort),
    },
    positive: layers.positive[atom] ?? [],
    negative: layers.negative[atom] ?? [],
    templates,
    map,
    background,
    atlas,
    atlasNames: atlas?.ok ? await networkNames(run, VIEWER_ATLAS, problems) : {},
    start: ctx.url.searchParams.get("viewer") === "interact"
      ? "interact" as const
      : "shown" as const,
    problems,
  };
}

/** The atom view. */
export default function AtomView(props: PageProps<LoadedData<typeof load>>) {
  const d = props.data;
  const atomHref = (k: number) => runHref(d.run.id, "atoms", d.model, k);
  const total = (xs: number[]) => xs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  // The atom's volume only: a 64-atom 2 mm map is 231 MB for the browser to inflate.
  const mapUrl = d.map?.ok ? volumeHref(d.run.id, d.map.path, d.atom) : undefined;
  const atlasUrl = d.atlas?.ok ? fileHref(d.run.id, d.atlas.path) : undefined;
  const threshold = viewerThreshold(d.run, voxelFiles(d.model).groupT);
  return (
    <Layout
      title={`${d.model} atom ${d.atom}`}
      runId={d.run.id}
      problems={[...d.run.problems, ...d.problems]}
      head={mapUrl && (
        // Downloads started with the page: the viewer finds its module and volumes under way.
        <Preload
          modules={[NIIVUE_URL]}
          fetches={[d.background, mapUrl, atlasUrl].filter((u): u is string => !!u)}
        />
      )}
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
                    {tpl.spatial && <th>spatial p</th>}
                    {tpl.spatial && <th>both nulls</th>}
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
                      {tpl.spatial && (
                        <td>
                          {fmt(
                            tpl.spatial.get(`${c.atom}/${c.sign}/${c.network}`)?.spatialP ?? NaN,
                          )}
                        </td>
                      )}
                      {tpl.spatial && (
                        <td>
                          {tpl.spatial.get(`${c.atom}/${c.sign}/${c.network}`)?.linkedBoth
                            ? "yes"
                            : ""}
                        </td>
                      )}
                    </tr>
                  ))}
                </table>
              </>
            );
          })}
        </div>
      </div>
      <div class="grid2">
        <MembersTable data={d} />
        <AtomWords data={d} />
      </div>
      {mapUrl && (
        <Island
          name="VolumeViewer"
          props={{
            maps: [{ label: `atom ${d.atom}`, url: mapUrl }],
            ...(d.background ? { anatomy: d.background } : {}),
            ...(atlasUrl ? { atlas: atlasUrl, atlasNames: d.atlasNames } : {}),
            threshold,
            title: `Group t map of atom ${d.atom} (outlines: ${VIEWER_ATLAS})`,
            // Shown at once; NiiVue starts when it is on screen (`?viewer=interact`: on first use).
            preview: {
              url: runHref(d.run.id, "atoms", d.model, d.atom) + "/preview.png",
              ...previewSize(d.map!.ok ? d.map!.shape : [91, 109, 91]),
              alt: `Group t map of ${d.model} atom ${d.atom} over the MNI anatomy` +
                (atlasUrl ? `, ${VIEWER_ATLAS} outlines` : ""),
            },
            start: d.start,
          }}
        />
      )}
      {d.map?.ok && (
        <Island
          name="SurfaceViewer"
          props={surfaceViewerProps(d.run.id, d.model, d.atom, {
            borders: d.atlas?.ok ?? false,
            threshold: viewerThreshold(d.run, voxelFiles(d.model).groupT),
          })}
        />
      )}
    </Layout>
  );
}

type AtomData = LoadedData<typeof load>;

/** The table's columns, in the order its rows print them. */
const MEMBER_COLUMNS: readonly MemberSort[] = ["layer", "unit", "code"];

/** The sub-group's strongest ANs, with links that re-sort them on the server. */
function MembersTable({ data: d }: { data: AtomData }) {
  const m = d.members, here = runHref(d.run.id, "atoms", d.model, d.atom);
  const csv = runHref(d.run.id, "members", d.model, d.atom);
  if (m.missing) {
    return (
      <div>
        <h2>Members</h2>
        <p class="muted" data-testid="members-missing">
          This run has no members table (models/{d.model}/members.csv), so the sub-group's ANs
          cannot be listed.
        </p>
      </div>
    );
  }
  return (
    <div>
      <h2>Members</h2>
      <p class="muted" data-testid="members-count">
        {m.size === 0
          ? "No AN has a non-zero code on this atom."
          : `The ${Math.min(m.top.length, m.size)} strongest of ${m.size} ANs (by |code|), ` +
            `sorted by ${m.sort}. `}
        {m.size > 0 && <a data-testid="members-csv" href={csv} download>all {m.size} as CSV</a>}
      </p>
      {m.size > 0 && (
        <table data-testid="atom-members">
          <tr>
            {MEMBER_COLUMNS.map((k) => (
              <th>
                {k === m.sort
                  ? <>{k} ▾</>
                  : <a href={k === "code" ? here : `${here}?sort=${k}`}>{k}</a>}
              </th>
            ))}
          </tr>
          {m.top.map((a) => (
            <tr>
              <td>{a.layer}</td>
              <td>{a.unit}</td>
              <td>{Number.isFinite(a.code) ? a.code.toFixed(3) : "—"}</td>
            </tr>
          ))}
        </table>
      )}
    </div>
  );
}

/** The volumes where the atom is highest and the words over-represented in them. */
function AtomWords({ data: d }: { data: AtomData }) {
  const e = d.enrichment;
  return (
    <div>
      <h2>Words that drive the atom</h2>
      <p class="muted">
        The {d.topVolumes.length}{" "}
        volumes where the time course is highest, with the words heard in each one's acquisition
        window (the TR before it).
      </p>
      <ol data-testid="top-volumes">
        {d.topVolumes.map((v) => (
          <li>
            volume {v.volume}
            {Number.isFinite(v.time) && <>, {fmt(v.time)} s</>} ({fmt(v.value)}):{" "}
            {v.words.length ? v.words.join(" ") : <span class="muted">no word</span>}
          </li>
        ))}
      </ol>
      <h3>Enriched words</h3>
      <p class="muted">
        Words heard at least 3 times in the story, by how much more often they are heard in the top
        10% of volumes ({e.topVolumes} volumes, {e.topWords}{" "}
        words) than in all volumes ({e.allWords} words): ratio = (top count /{" "}
        {e.topWords}) / (all count / {e.allWords}). A count, not a test.
      </p>
      {e.words.length === 0
        ? <p class="muted">No word heard at least 3 times is heard in the top volumes.</p>
        : (
          <table data-testid="enriched-words">
            <tr>
              <th>word</th>
              <th>top 10%</th>
              <th>all</th>
              <th>ratio</th>
            </tr>
            {e.words.map((w) => (
              <tr>
                <td>{w.word}</td>
                <td>{w.top}</td>
                <td>{w.all}</td>
                <td>{fmt(w.ratio)}</td>
              </tr>
            ))}
          </table>
        )}
    </div>
  );
}
