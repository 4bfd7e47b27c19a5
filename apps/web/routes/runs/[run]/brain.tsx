import { Island } from "../../../components/Island.tsx";
import { Layout } from "../../../components/Layout.tsx";
import { checkMap } from "../../../maps.ts";
import type { Problem } from "../../../problems.ts";
import type { LoadedData, PageProps, RouteContext } from "../../../router.ts";
import { findRun, networkNames, VIEWER_ATLAS, viewerThreshold } from "../../../run_data.ts";
import { listRunFiles } from "../../../runs.ts";
import { MAX_ATOMS } from "../../../summary.ts";
import { fileHref, volumeHref } from "../../../urls.ts";
import { RESULT_FILES, templateFiles } from "@brainorg/core/results";

/** The run's maps, the one asked for (`?map=`), checked with the anatomy and the network outlines. */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const problems: Problem[] = [];
  const maps = (await listRunFiles(run, problems, { sizes: false })).map((f) => f.path).filter((
    p,
  ) =>
    p.startsWith("voxels/") && p.endsWith(".nii.gz") && p !== RESULT_FILES.anatomy &&
    !/networks_[^/]+\.nii\.gz$/.test(p)
  );
  const asked = ctx.url.searchParams.get("map") ?? "";
  const map = maps.includes(asked)
    ? asked
    : maps.find((m) => m.endsWith("group_t.nii.gz")) ?? maps[0];
  if (!map) return { run, maps, problems };
  const [check, anatomy, atlas] = await Promise.all(
    [map, RESULT_FILES.anatomy, templateFiles(VIEWER_ATLAS).labels].map((p) => checkMap(run, p)),
  );
  for (const c of [check, anatomy, atlas]) if (!c.ok) problems.push(c.problem);
  const atlasNames = atlas.ok ? await networkNames(run, VIEWER_ATLAS, problems) : {};
  return { run, maps, map, check, anatomy, atlas, atlasNames, problems };
}

/** The brain viewer over any map of the run. */
export default function Brain(props: PageProps<LoadedData<typeof load>>) {
  const d = props.data;
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
          name="VolumeViewer"
          props={{
            // One volume at a time, cut out by the server: a 4-D map whole is too much to inflate.
            maps: volumes > 1
              ? Array.from({ length: volumes }, (_, k) => ({
                label: `${perAtom ? "atom" : "volume"} ${k}`,
                url: volumeHref(run.id, map, k),
              }))
              : [{ label: map, url: fileHref(run.id, map) }],
            ...(d.anatomy?.ok ? { anatomy: fileHref(run.id, d.anatomy.path) } : {}),
            ...(d.atlas?.ok
              ? { atlas: fileHref(run.id, d.atlas.path), atlasNames: d.atlasNames }
              : {}),
            threshold: viewerThreshold(run, map),
            title: map.replace(/^voxels\//, ""),
          }}
        />
      )}
    </Layout>
  );
}
