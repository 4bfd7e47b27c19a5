import { AllModels, type Column } from "../components/AllModels.tsx";
import { Island } from "../components/Island.tsx";
import { Layout } from "../components/Layout.tsx";
import { Preload } from "../components/Preload.tsx";
import { MatchedPairs, SideMetrics } from "../components/MatchedPairs.tsx";
import {
  chooseModels,
  type MatchedPair,
  matchedPairs,
  shareAbove,
  type Side,
  sideKey,
  type SideView,
  sideView,
} from "../compare_data.ts";
import { checkMap, type MapCheck } from "../maps.ts";
import type { LoadedData, PageProps, RouteContext } from "../router.ts";
import type { Problem } from "../problems.ts";
import { fmt, layerCounts, networkNames, VIEWER_ATLAS, viewerThreshold } from "../run_data.ts";
import type { ModelView } from "../summary.ts";
import { surfaceViewerProps } from "../surfaces.ts";
import { viewerBackground } from "../template.ts";
import { fileHref, NIIVUE_URL, volumeHref } from "../urls.ts";
import { resolveRunFile, type Run } from "../runs.ts";
import { cachedVolume } from "../volumes.ts";
import { RESULT_FILES, templateFiles, voxelFiles } from "@brainorg/core/results";

/** Every model of every readable run (or of `?runs=a,b`), one column each. */
async function allColumns(ctx: RouteContext, problems: Problem[]): Promise<Column[]> {
  const wanted = ctx.url.searchParams.get("runs")?.split(",");
  const columns: Column[] = [];
  for (
    const run of ctx.runs.filter((r) => r.status === "ready" && (!wanted || wanted.includes(r.id)))
  ) {
    const s = run.summary!, mine = [...run.problems];
    for (const m of s.models) {
      const { positive, negative } = await layerCounts(run, m.name, mine);
      const layers = (positive[0] ?? []).map((_, l) =>
        positive.reduce((a, p, k) => a + p[l] + negative[k][l], 0)
      );
      const voxel = s.voxel?.models.find((v) => v.name === m.name);
      let best: ModelView["group"][number] | undefined;
      for (const g of m.group) {
        if (g.variant === "atoms+baseline" && !(g.tGain <= (best?.tGain ?? -Infinity))) best = g;
      }
      columns.push({
        run: run.id,
        model: m.name,
        layers,
        metrics: voxel?.templates[0]?.metrics,
        ...(best
          ? { bestGain: { roi: best.roi, gain: best.gainOverBaseline, t: best.tGain } }
          : {}),
      });
    }
    // Several runs share this page: each problem names its run's folder.
    problems.push(...mine.map((p) => ({ ...p, file: `${run.id}/${p.file}` })));
  }
  return columns;
}

/** The two models' group t maps (one volume per atom) and the viewer's anatomy and atlas. */
interface Maps {
  a?: MapCheck;
  b?: MapCheck;
  /** The viewers' background URL (see {@linkcode viewerBackground}), from A's run. */
  background?: string;
  atlas?: MapCheck;
  atlasNames: Record<string, string>;
  /** Whether each side's run has the label volume its surface borders come from. */
  borders: { a: boolean; b: boolean };
}

/** A side's problems, named by its run's folder (the page shows two runs' at once). */
const tagged = (run: Run, ps: Problem[]) => ps.map((p) => ({ ...p, file: `${run.id}/${p.file}` }));

async function viewerMaps(a: Side, b: Side, pair: MatchedPair, problems: Problem[]) {
  const maps: Maps = { atlasNames: {}, borders: { a: false, b: false } };
  const usable = async (side: Side, atom: number) => {
    const c = await checkMap(side.run, voxelFiles(side.model).groupT);
    if (!c.ok) return (problems.push(...tagged(side.run, [c.problem])), undefined);
    if (!(c.volumes > atom)) return undefined;
    // Cut out now, not awaited: the browser asks for the volume as soon as it reads the head.
    const file = await resolveRunFile(side.run, c.path);
    if (file) cachedVolume(file, atom).catch(() => {});
    return c;
  };
  maps.a = await usable(a, pair.atomA);
  maps.b = await usable(b, pair.atomB);
  if (!maps.a && !maps.b) return maps;
  // Anatomy and outlines from A's run: both maps are drawn on the same background.
  const [anatomy, atlas] = await Promise.all(
    [RESULT_FILES.anatomy, templateFiles(VIEWER_ATLAS).labels].map((p) => checkMap(a.run, p)),
  );
  maps.background = await viewerBackground(
    a.run,
    voxelFiles((maps.a ? a : b).model).groupT,
    anatomy,
  );
  maps.borders = {
    a: atlas.ok,
    b: a.run === b.run ? atlas.ok : (await checkMap(b.run, templateFiles(VIEWER_ATLAS).labels)).ok,
  };
  if (atlas.ok) {
    maps.atlas = atlas;
    const mine: Problem[] = [];
    maps.atlasNames = await networkNames(a.run, VIEWER_ATLAS, mine);
    problems.push(...tagged(a.run, mine));
  }
  return maps;
}

/**
 * Two models (`?a=`, `?b=`; by default a model and its control) with their
 * atoms matched by time course, the pair `?pair=<A's atom>` drawn side by
 * side; then every model of every run (or of `?runs=a,b`).
 */
export async function load(ctx: RouteContext) {
  const problems: Problem[] = [];
  const columns = await allColumns(ctx, problems);
  const choice = chooseModels(ctx.runs, ctx.url.searchParams);
  const options = ctx.runs.filter((r) => r.status === "ready" && r.summary).flatMap((r) =>
    r.summary!.models.map((m) => ({ key: sideKey(r.id, m.name), label: `${m.name} (${r.id})` }))
  );
  if ("message" in choice) {
    const none = { keys: undefined, a: undefined, b: undefined, pair: undefined, maps: undefined };
    return {
      columns,
      problems,
      options,
      ...none,
      pairs: [],
      threshold: 0,
      message: choice.message,
    };
  }
  const mineA: Problem[] = [], mineB: Problem[] = [];
  const a = await sideView(choice.a, mineA), b = await sideView(choice.b, mineB);
  problems.push(...tagged(choice.a.run, mineA), ...tagged(choice.b.run, mineB));
  const pairs = matchedPairs(a.courses, b.courses);
  const unmatched = a.courses.length && b.courses.length && !pairs.length
    ? `The two models' time courses cover different volumes (${a.courses[0].length} and ` +
      `${b.courses[0].length}): their atoms cannot be matched.`
    : undefined;
  const wanted = Number(ctx.url.searchParams.get("pair"));
  const pair = pairs.find((p) => p.atomA === wanted && ctx.url.searchParams.has("pair")) ??
    pairs[0];
  const maps = pair && (a.view.voxel || b.view.voxel)
    ? await viewerMaps(choice.a, choice.b, pair, problems)
    : undefined;
  return {
    columns,
    problems,
    options,
    keys: { a: sideKey(a.view.run, a.view.model), b: sideKey(b.view.run, b.view.model) },
    a: a.view,
    b: b.view,
    pairs,
    pair,
    maps,
    threshold: viewerThreshold(choice.a.run, voxelFiles(choice.a.model).groupT),
    ...(unmatched ? { message: unmatched } : {}),
  };
}

type Data = LoadedData<typeof load>;

function Picker(props: { data: Data }) {
  const { options, keys } = props.data;
  const select = (name: "a" | "b") => (
    <select name={name}>
      {options.map((o) => (
        <option key={o.key} value={o.key} selected={keys?.[name] === o.key}>{o.label}</option>
      ))}
    </select>
  );
  return (
    <form method="get" action="/compare" data-testid="picker">
      A {select("a")} B {select("b")} <button type="submit">compare</button>
    </form>
  );
}

function PairMaps(
  props: { a: SideView; b: SideView; pair: MatchedPair; maps: Maps; threshold: number },
) {
  const { a, b, pair, maps } = props;
  const viewer = (s: SideView, map: MapCheck | undefined, atom: number) =>
    map?.ok
      ? (
        <Island
          name="VolumeViewer"
          props={{
            maps: [{ label: `${s.model} atom ${atom}`, url: volumeHref(s.run, map.path, atom) }],
            ...(maps.background ? { anatomy: maps.background } : {}),
            ...(maps.atlas?.ok
              ? { atlas: fileHref(a.run, maps.atlas.path), atlasNames: maps.atlasNames }
              : {}),
            threshold: props.threshold,
            title: `${s.model} atom ${atom}: group t map (outlines: ${VIEWER_ATLAS})`,
          }}
        />
      )
      : <p class="muted">No group t map of {s.model} atom {atom}.</p>;
  // The same four views of both atoms, one under the other's volume viewer; created only
  // once scrolled into view (each view is a WebGL context and a mesh: seconds without a GPU).
  const surfaces = (s: SideView, map: MapCheck | undefined, atom: number, borders: boolean) =>
    map?.ok && (
      <div data-testid={`pair-surfaces-${s === a ? "a" : "b"}`}>
        <Island
          name="SurfaceViewer"
          props={{
            ...surfaceViewerProps(s.run, s.model, atom, { borders, threshold: props.threshold }),
            title: `${s.model} atom ${atom} on the cortex`,
            height: 200,
          }}
        />
      </div>
    );
  return (
    <div class="grid2" data-testid="pair-maps">
      <div>{viewer(a, maps.a, pair.atomA)}</div>
      <div>{viewer(b, maps.b, pair.atomB)}</div>
      <div>{surfaces(a, maps.a, pair.atomA, maps.borders.a)}</div>
      <div>{surfaces(b, maps.b, pair.atomB, maps.borders.b)}</div>
    </div>
  );
}

/** What the pair's volume viewers will fetch, started with the page (see Preload). */
function pairFetches(d: Data): string[] {
  const { a, b, pair, maps } = d;
  if (!a || !b || !pair || !maps) return [];
  return [
    maps.background,
    maps.a?.ok ? volumeHref(a.run, maps.a.path, pair.atomA) : undefined,
    maps.b?.ok ? volumeHref(b.run, maps.b.path, pair.atomB) : undefined,
    maps.atlas?.ok ? fileHref(a.run, maps.atlas.path) : undefined,
  ].filter((u): u is string => !!u);
}

/** Two models' matched atoms, their maps and metrics; then every model side by side. */
export default function Compare(props: PageProps<Data>) {
  const d = props.data;
  const pairHref = (atomA: number) =>
    `/compare?a=${encodeURIComponent(d.keys!.a)}&b=${encodeURIComponent(d.keys!.b)}` +
    `&pair=${atomA}`;
  const fetches = pairFetches(d);
  return (
    <Layout
      title="Compare"
      problems={d.problems}
      head={fetches.length > 0 && <Preload modules={[NIIVUE_URL]} fetches={fetches} />}
    >
      <h1>Two models, atom by atom</h1>
      {d.options.length > 1 && <Picker data={d} />}
      {d.message && <p class="muted" data-testid="compare-message">{d.message}</p>}
      {d.a && d.b && (
        <>
          <p>
            A: <b>{d.a.model}</b> ({d.a.run}) · B: <b>{d.b.model}</b>{" "}
            ({d.b.run}). Atoms paired one to one by their time courses (Hungarian assignment on |r|,
            as the pipeline matches a model with its control):{" "}
            <b data-testid="share">{d.pairs.length ? fmt(100 * shareAbove(d.pairs), 0) : "—"}%</b>
            {" "}
            of {d.pairs.length} pairs have |r| &gt; 0.5.
          </p>
          <h2>Organization</h2>
          <SideMetrics a={d.a} b={d.b} />
          {d.pair && d.maps && (
            <>
              <h2>Pair: {d.a.model} atom {d.pair.atomA} · {d.b.model} atom {d.pair.atomB}</h2>
              <p class="muted">r = {fmt(d.pair.r)}; both at |t| ≥ {d.threshold}.</p>
              <PairMaps a={d.a} b={d.b} pair={d.pair} maps={d.maps} threshold={d.threshold} />
            </>
          )}
          <h2>Matched atoms, by |r|</h2>
          <MatchedPairs
            a={d.a}
            b={d.b}
            pairs={d.pairs}
            selected={d.pair?.atomA}
            pairHref={pairHref}
          />
        </>
      )}
      <h2>Every model</h2>
      <AllModels columns={d.columns} />
    </Layout>
  );
}
