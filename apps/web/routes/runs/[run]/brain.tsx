import { Island } from "../../../components/Island.tsx";
import { Layout } from "../../../components/Layout.tsx";
import type { RouteContext } from "../../../router.ts";
import { findRun, networkNames } from "../../../run_data.ts";
import { listRunFiles, type Run } from "../../../runs.ts";

export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const maps = (await listRunFiles(run)).map((f) => f.path).filter((p) =>
    p.startsWith("voxels/") && p.endsWith(".nii.gz") && !p.endsWith("anatomy.nii.gz") &&
    !/networks_[^/]+\.nii\.gz$/.test(p)
  );
  const first = maps.find((m) => m.endsWith("group_t.nii.gz")) ?? maps[0];
  const map = maps.includes(ctx.url.searchParams.get("map") ?? "")
    ? ctx.url.searchParams.get("map")!
    : first;
  const atoms = run.summary.models?.[0]?.atoms ?? 0;
  return { run, maps, map, atlasNames: await networkNames(run, "Yeo-7"), atoms };
}

// deno-lint-ignore no-explicit-any
export default function Brain(props: { ctx: RouteContext; data: any }) {
  const { run, maps, map, atlasNames, atoms } = props.data as {
    run: Run;
    maps: string[];
    map?: string;
    atlasNames: Record<string, string>;
    atoms: number;
  };
  const base = `/runs/${run.id}`;
  const multi = map && (/group_t|_z\.nii/.test(map));
  return (
    <Layout title={`${run.id}: brain`} runId={run.id}>
      <h1>Brain viewer</h1>
      {!map && <p class="error" data-testid="error">This run has no voxel maps.</p>}
      {map && (
        <>
          <form method="get">
            map{" "}
            <select name="map" onChange={undefined}>
              {maps.map((m) => (
                <option value={m} selected={m === map}>{m.replace(/^voxels\//, "")}</option>
              ))}
            </select>{" "}
            <button type="submit">show</button>{" "}
            <a href={`${base}/files/${map}`} download>download this map</a>
          </form>
          <Island
            name="BrainViewer"
            props={{
              map: `${base}/files/${map}`,
              volume: 0,
              ...(multi ? { volumes: Array.from({ length: atoms }, (_, k) => `atom ${k}`) } : {}),
              anatomy: `${base}/files/voxels/anatomy.nii.gz`,
              atlas: `${base}/files/voxels/networks_Yeo-7.nii.gz`,
              atlasNames,
              threshold: map.includes("mean_r") ? 0.1 : map.includes("labels") ? 0.5 : 2,
              title: map.replace(/^voxels\//, ""),
            }}
          />
        </>
      )}
    </Layout>
  );
}
