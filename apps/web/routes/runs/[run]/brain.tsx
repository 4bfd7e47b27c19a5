import { Island } from "../../../components/Island.tsx";
import { Layout } from "../../../components/Layout.tsx";
import { checkMap, type MapCheck } from "../../../maps.ts";
import type { Problem } from "../../../problems.ts";
import type { RouteContext } from "../../../router.ts";
import { findRun, networkNames } from "../../../run_data.ts";
import { listRunFiles, type Run } from "../../../runs.ts";
import { MAX_ATOMS } from "../../../summary.ts";
import { fileHref } from "../../../urls.ts";

/** The run's maps, the one asked for (`?map=`), checked with the anatomy and the network outlines. */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const problems: Problem[] = [];
  const maps = (await listRunFiles(run, problems, { sizes: false })).map((f) => f.path).filter((
    p,
  ) =>
    p.startsWith("voxels/") && p.endsWith(".nii.gz") && !p.endsWith("anatomy.nii.gz") &&
    !/networks_[^/]+\.nii\.gz$/.test(p)
  );
  const asked = ctx.url.searchParams.get("map") ?? "";
  const map = maps.includes(asked)
    ? asked
    : maps.find((m) => m.endsWith("group_t.nii.gz")) ?? maps[0];
  if (!map) return { run, maps, problems };
  const [check, anatomy, atlas] = await Promise.all(
    [map, "voxels/anatomy.nii.gz", "voxels/networks_Yeo-7.nii.gz"].map((p) => checkMap(run, p)),
  );
  for (const c of [check, anatomy, atlas]) if (!c.ok) problems.push(c.problem);
  const atlasNames = atlas.ok ? await networkNames(run, "Yeo-7", problems) : {};
  return { run, maps, map, check, anatomy, atlas, atlasNames, problems };
}

/** The brain viewer over any map of the run. */
// deno-lint-ignore no-explicit-any
export default function Brain(props: { ctx: RouteContext; data: any }) {
  const d = props.data as {
    run: Run;
    maps: string[];
    map?: string;
    check?: MapCheck;
    anatomy?: MapCheck;
    atlas?: MapCheck;
    atlasNames?: Record<string, string>;
    problems: Problem[];
  };
  const { run, map, check } = d;
  const perAtom = !!map && /group_t|_z\.nii/.test(map);
  // The picker lists at most MAX_ATOMS volumes: a map with more is still drawn, from its first.
  const volumes = Math.min(MAX_ATOMS, check?.ok ? check.volumes : 1);
  return (
    <Layout title={`${run.id}: brain`} runId={run.id} problems={[...run.problems, ...d.problems]}>
      <h1>Brain viewer</h1>
      {!map && <p class="error" data-testid="error">This run has no voxel maps.</p>}
      {map && (
        <form method="get">
          map{" "}
          <select name="map">
            {d.maps.map((m) => (
              <option value={m} selected={m === map}>{m.replace(/^voxels\//, "")}</option>
            ))}
          </select>{" "}
          <button type="submit">show</button>{" "}
          {check?.ok && <a href={fileHref(run.id, map)} download>download this map</a>}
        </form>
      )}
      {map && !check?.ok && (
        <p class="error" data-testid="error">
          {map} cannot be shown: see above for what is wrong with it.
        </p>
      )}
      {map && check?.ok && (
        <Island
          name="BrainViewer"
          props={{
            map: fileHref(run.id, map),
            volume: 0,
            ...(volumes > 1
              ? {
                volumes: Array.from(
                  { length: volumes },
                  (_, k) => `${perAtom ? "atom" : "volume"} ${k}`,
                ),
              }
              : {}),
            ...(d.anatomy?.ok ? { anatomy: fileHref(run.id, d.anatomy.path) } : {}),
            ...(d.atlas?.ok
              ? { atlas: fileHref(run.id, d.atlas.path), atlasNames: d.atlasNames }
              : {}),
            threshold: map.includes("mean_r") ? 0.1 : map.includes("labels") ? 0.5 : 2,
            title: map.replace(/^voxels\//, ""),
          }}
        />
      )}
    </Layout>
  );
}
