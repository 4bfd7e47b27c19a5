import { Bars, Heatmap } from "../../../components/charts.tsx";
import { Layout } from "../../../components/Layout.tsx";
import type { LoadedData, PageProps, RouteContext } from "../../../router.ts";
import type { Problem } from "../../../problems.ts";
import { type Cell, findRun, fmt, networkCells } from "../../../run_data.ts";
import { resolveRunFile, type Run } from "../../../runs.ts";
import type { IntervalView, MetricsView, ReappearanceView } from "../../../summary.ts";
import { runHref } from "../../../urls.ts";
import { modelFiles } from "@brainorg/core/results";

interface ModelTables {
  name: string;
  /** Whether the model's atoms table is there (its atoms have pages). */
  hasAtoms: boolean;
  templates: {
    name: string;
    cells: Cell[];
    metrics: MetricsView;
    intervals?: IntervalView[];
    reappearance?: ReappearanceView[];
    seedRanges?: IntervalView[];
  }[];
  recovery?: { precision: number; recall: number };
}

/**
 * The run's voxel-level models with their network-matching tables, for one
 * template set (`?set=`, default: each model's first): a Llama-sized run's
 * three sets are 12,000 heatmap cells, 2.2 MB of HTML, where one set is a
 * seventh of that.
 */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const problems: Problem[] = [];
  const models: ModelTables[] = [];
  const voxelModels = run.summary!.voxel?.models ?? [];
  const sets = [...new Set(voxelModels.flatMap((m) => m.templates.map((t) => t.name)))];
  const asked = ctx.url.searchParams.get("set");
  const set = asked !== null && sets.includes(asked) ? asked : sets[0];
  for (const m of voxelModels) {
    const templates = [];
    for (const t of m.templates.filter((t) => t.name === set)) {
      templates.push({
        name: t.name,
        cells: await networkCells(run, m.name, t.name, problems),
        metrics: t.metrics,
        ...(t.intervals ? { intervals: t.intervals, reappearance: t.reappearance } : {}),
        ...(t.seedRanges ? { seedRanges: t.seedRanges } : {}),
      });
    }
    const atoms = modelFiles(m.name).atoms, hasAtoms = !!(await resolveRunFile(run, atoms));
    if (!hasAtoms) problems.push({ file: atoms, message: "is missing" });
    models.push({ name: m.name, hasAtoms, templates, recovery: m.recovery });
  }
  return { run, models, sets, set, problems };
}

/** The most heatmap cells drawn (64 atoms × 400 networks is 25,600); a bigger table is named. */
const MAX_CELLS = 40_000;

function Matrix(props: { run: Run; model: string; cells: Cell[]; link: boolean }) {
  // One pass into a map: a lookup per drawn cell, not a scan of the table.
  const byKey = new Map<string, Cell>(), names = new Map<number, string>();
  let K = 0;
  for (const c of props.cells) {
    byKey.set(`${c.atom} ${c.network} ${c.sign}`, c);
    names.set(c.network, c.networkName);
    K = Math.max(K, c.atom + 1);
  }
  const networks = [...names.entries()].sort((a, b) => a[0] - b[0]);
  if (K * networks.length > MAX_CELLS) {
    return (
      <p class="muted">
        {K} atoms × {networks.length} networks: too many cells to draw (at most {MAX_CELLS}).
      </p>
    );
  }
  const cell = (k: number, j: number, s: number) => byKey.get(`${k} ${networks[j][0]} ${s}`);
  const best = (k: number, j: number) => {
    const p = cell(k, j, 1), m = cell(k, j, -1);
    return (p?.dice ?? 0) >= (m?.dice ?? 0) ? { c: p, s: 1 } : { c: m, s: -1 };
  };
  return (
    <Heatmap
      rows={Array.from({ length: K }, (_, k) => `atom ${k}`)}
      cols={networks.map(([, n]) => n)}
      value={(k, j) => best(k, j).s * (best(k, j).c?.dice ?? 0)}
      flag={(k, j) => !!(cell(k, j, 1)?.linked || cell(k, j, -1)?.linked)}
      title={(k, j) => {
        const b = best(k, j).c;
        return b
          ? `atom ${k} ${b.sign > 0 ? "activates" : "deactivates"} ${b.networkName}: Dice ${
            fmt(b.dice)
          }, overlap ${fmt(b.overlap)}, p ${fmt(b.p)}, q ${fmt(b.q, 4)}${
            b.linked ? " (linked)" : ""
          }`
          : "";
      }}
      href={props.link ? (k) => runHref(props.run.id, "atoms", props.model, k) : undefined}
    />
  );
}

const METRICS: [keyof MetricsView, string, number][] = [
  ["linkedAtoms", "atoms linked", 0],
  ["links", "links", 0],
  ["networksEngaged", "networks engaged", 0],
  ["assignmentEntropy", "assignment entropy (bits)", 3],
  ["normalizedEntropy", "normalized entropy", 3],
  ["layerSpread", "layer spread", 3],
];

/** The run overview: atoms × networks per model, metrics, parameters and provenance. */
export default function Overview(props: PageProps<LoadedData<typeof load>>) {
  const { run, models, sets, set, problems } = props.data;
  const s = run.summary!, provenance = run.provenance;
  return (
    <Layout title={run.id} runId={run.id} problems={[...run.problems, ...problems]}>
      <h1>{run.id}</h1>
      <p class="muted">
        {run.dir} · {provenance.createdAt ?? ""} · schema {s.schema} · backend {s.backend}
      </p>
      <p data-testid="models">
        Models' sub-groups (which ANs load on each atom): {s.models.map((m, i) => (
          <>
            {i > 0 && ", "}
            <a href={runHref(run.id, "models", m.name)}>{m.name}</a>
          </>
        ))}
      </p>
      {!s.voxel && (
        <p class="muted">This run has no voxel level (run without --no-phantom to get one).</p>
      )}
      {models.length > 0 && (
        <>
          <h2>Organization at a glance</h2>
          <p class="muted">
            Dice of each atom's thresholded group map (|t| &gt;{" "}
            {fmt(s.voxel?.threshold, 2)}) with each network; red: the atom's positive (activated)
            part, blue: its negative part; ● linked (per-cell p ≤ 0.05 and FDR q ≤ 0.05 against{" "}
            {fmt(s.voxel?.permutations, 0)}{" "}
            circularly shifted surrogates). Click an atom for its view.
          </p>
          {sets.length > 1 && (
            <p data-testid="template-sets">
              Networks: {sets.map((t, i) => (
                <>
                  {i > 0 && " · "}
                  {t === set
                    ? <strong>{t}</strong>
                    : <a href={`${runHref(run.id)}?set=${encodeURIComponent(t)}`}>{t}</a>}
                </>
              ))}
            </p>
          )}
          {s.voxel?.noiseCeiling && (
            <p class="muted" data-testid="noise-ceiling">
              Noise ceiling (the r of a perfect model of the response shared across subjects):
              median {fmt(s.voxel.noiseCeiling.median)}{" "}
              over the voxels; mean r as a fraction of it (median where it exceeds{" "}
              {fmt(s.voxel.noiseCeiling.minCeiling, 2)}): {s.voxel.models.map((m) =>
                `${m.name} ${fmt(m.fractionOfCeiling, 2)}`
              ).join(", ")}.
            </p>
          )}
          {s.voxel?.models.some((m) => m.variancePartition) && (
            <p class="muted" data-testid="variance-partition">
              Variance partitioning (banded ridge, held-out R², median over voxels) against{" "}
              {s.voxel.models.find((m) =>
                m.variancePartition
              )!.variancePartition!.lowLevel.join(
                " + ",
              )}: {s.voxel.models.filter((m) => m.variancePartition).map((m) => {
                const v = m.variancePartition!;
                return `${m.name} unique atoms ${
                  fmt(v.medianUniqueAtoms, 4)
                } (top ${v.topVoxels} ` +
                  `voxels ${fmt(v.topMedianUniqueAtoms, 4)}), unique low level ${
                    fmt(v.medianUniqueLowLevel, 4)
                  }, shared ${fmt(v.medianShared, 4)}`;
              }).join("; ")}. Maps: unique_atoms_r2 in the brain viewer.
            </p>
          )}
          <div class="grid2">
            {models.map((m) => (
              <div data-model={m.name}>
                <h2>{m.name}</h2>
                {m.templates.map((t, i) => (
                  <details open={i === 0}>
                    <summary>{t.name}</summary>
                    <Matrix run={run} model={m.name} cells={t.cells} link={m.hasAtoms} />
                    <NetworkCounts cells={t.cells} />
                  </details>
                ))}
                {m.templates.length > 0 && (
                  <table data-testid="metrics">
                    <tr>
                      <th>metric ({m.templates[0].name})</th>
                      <th>value</th>
                      {m.templates[0].intervals && (
                        <th>{Math.round((s.voxel?.bootstrap?.level ?? 0.95) * 100)}% interval</th>
                      )}
                      {m.templates[0].seedRanges && (
                        <th title="min – max over the reference and the other dictionary seeds">
                          seeds' range
                        </th>
                      )}
                    </tr>
                    {METRICS.map(([k, label, digits]) => (
                      <tr>
                        <td>{label}</td>
                        <td>{fmt(m.templates[0].metrics[k], digits)}</td>
                        <IntervalCell t={m.templates[0]} metric={k} digits={digits} />
                        <SeedRangeCell t={m.templates[0]} metric={k} digits={digits} />
                      </tr>
                    ))}
                    <tr>
                      <td>consistency: time courses</td>
                      <td>{fmt(m.templates[0].metrics.timeCourse)}</td>
                      <IntervalCell t={m.templates[0]} metric="consistency.timeCourse" digits={3} />
                      <SeedRangeCell
                        t={m.templates[0]}
                        metric="consistency.timeCourse"
                        digits={3}
                      />
                    </tr>
                    <tr>
                      <td>consistency: map overlap</td>
                      <td>{fmt(m.templates[0].metrics.mapOverlap)}</td>
                      <IntervalCell t={m.templates[0]} metric="consistency.mapOverlap" digits={3} />
                      <SeedRangeCell
                        t={m.templates[0]}
                        metric="consistency.mapOverlap"
                        digits={3}
                      />
                    </tr>
                    {m.recovery && (
                      <tr>
                        <td>recovery of the planted links</td>
                        <td>
                          precision {fmt(m.recovery.precision, 2)}, recall{" "}
                          {fmt(m.recovery.recall, 2)}
                        </td>
                      </tr>
                    )}
                  </table>
                )}
                {m.templates[0]?.reappearance && (
                  <Reappearance
                    links={m.templates[0].reappearance}
                    resamples={s.voxel?.bootstrap?.resamples}
                  />
                )}
              </div>
            ))}
          </div>
        </>
      )}
      <h2>Parameters and provenance</h2>
      <table>
        {provenance.parameters.map(([k, v]) => (
          <tr>
            <td>{k}</td>
            <td>{v}</td>
          </tr>
        ))}
        <tr>
          <td>seed</td>
          <td>{provenance.seed ?? ""}</td>
        </tr>
        <tr>
          <td>inputs</td>
          <td>{provenance.inputs} files with SHA-256 (see provenance.json)</td>
        </tr>
      </table>
    </Layout>
  );
}

function NetworkCounts(props: { cells: Cell[] }) {
  const names = new Map<number, string>(), counts = new Map<string, number>();
  for (const c of props.cells) {
    names.set(c.network, c.networkName);
    const key = `${c.network} ${c.sign}`;
    if (c.linked) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const networks = [...names.entries()].sort((a, b) => a[0] - b[0]);
  const short = networks.map(([, n]) => n.replace(/^\d+_/, "").slice(0, 5));
  const count = (s: number) => networks.map(([n]) => counts.get(`${n} ${s}`) ?? 0);
  return (
    <div>
      <p class="muted">Atoms per network: activated (red), deactivated (blue)</p>
      <Bars labels={short} values={count(1)} colour="#e45756" height={110} />
      <Bars labels={short} values={count(-1)} colour="#4c78a8" height={110} />
    </div>
  );
}

/** A metric's bootstrap interval as a cell, where the run computed intervals (no cell otherwise). */
function IntervalCell(
  props: { t: { intervals?: IntervalView[] }; metric: string; digits: number },
) {
  if (!props.t.intervals) return null;
  const i = props.t.intervals.find((x) => x.metric === props.metric);
  return <td>{i ? `${fmt(i.low, props.digits)} – ${fmt(i.high, props.digits)}` : "—"}</td>;
}

/** A metric's min – max across dictionary seeds as a cell, where the run computed it (no cell otherwise). */
function SeedRangeCell(
  props: { t: { seedRanges?: IntervalView[] }; metric: string; digits: number },
) {
  if (!props.t.seedRanges) return null;
  const i = props.t.seedRanges.find((x) => x.metric === props.metric);
  return (
    <td data-testid="seed-range">
      {i ? `${fmt(i.low, props.digits)} – ${fmt(i.high, props.digits)}` : "—"}
    </td>
  );
}

/** The full sample's links with the share of bootstrap resamples that find each again. */
function Reappearance(props: { links: ReappearanceView[]; resamples?: number }) {
  return (
    <details data-testid="reappearance">
      <summary>
        Links' reappearance over {fmt(props.resamples, 0)} bootstrap resamples of the subjects
      </summary>
      <table>
        <tr>
          <th>atom</th>
          <th>part</th>
          <th>network</th>
          <th>reappearance</th>
        </tr>
        {props.links.map((l) => (
          <tr>
            <td>{l.atom}</td>
            <td>{l.sign > 0 ? "activated" : "deactivated"}</td>
            <td>{l.networkName}</td>
            <td>{fmt(l.reappearance, 2)}</td>
          </tr>
        ))}
      </table>
    </details>
  );
}
