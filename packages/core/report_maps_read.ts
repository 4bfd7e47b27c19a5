/**
 * The report's maps read back from a results folder: each model's group t
 * maps (`voxels/<model>/group_t.nii.gz`), the anatomy and the first label
 * template as the voxel stage wrote them, packed by {@linkcode packReportMaps},
 * and the cortical meshes the page draws them on (`report_surfaces.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { InputError } from "@brainorg/common";
import type { ResolveOptions } from "@brainorg/datasets";
import { type NiftiImage, readNifti } from "@brainorg/neuro";
import { networkDisplayName } from "./network_names.ts";
import { type ModelMaps, packReportMaps } from "./report_maps.ts";
import { readReportSurfaces, type ReportPayload } from "./report_surfaces.ts";
import { RESULT_FILES, type ResultsSummary, templateFiles, voxelFiles } from "./results.ts";

/** Whether a file exists (a missing optional image is no error). */
async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** `index,name` rows of a template's names table (names may be quoted). */
async function readNames(path: string): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  const lines = (await Deno.readTextFile(path)).split(/\r?\n/).slice(1);
  for (const line of lines) {
    const m = /^(\d+),(.*)$/.exec(line);
    if (m) names[m[1]] = m[2].replace(/^"(.*)"$/, "$1").replaceAll('""', '"');
  }
  return names;
}

/** Row-major 4×4 of an image's affine. */
function affine16(img: NiftiImage): number[] {
  return Array.from(img.affine as ArrayLike<number>).slice(0, 16);
}

/**
 * Read a results folder's group maps and pack them for the report (see
 * `report_maps.ts`). The mask is every voxel where some model's mean r map
 * or some atom's t map is finite and non-zero: the voxels the analysis kept.
 *
 * @param dir the results folder (its `summary.json` already given as `summary`)
 * @param summary the folder's summary (models, threshold, links)
 * @param data where the cortical meshes are looked for (data folder, cache, offline); default: the environment's
 * @returns the payload, or null when the folder has no voxel level
 * @throws {InputError} naming the file when a map is unreadable or off the anatomy's grid
 *
 * @example
 * ```ts
 * import { readReportMaps } from "@brainorg/core";
 * const summary = JSON.parse(await Deno.readTextFile("results/demo/summary.json"));
 * const payload = await readReportMaps("results/demo", summary);
 * console.log(payload?.voxels);
 * ```
 */
export async function readReportMaps(
  dir: string,
  summary: ResultsSummary,
  data: ResolveOptions = {},
): Promise<ReportPayload | null> {
  const voxel = summary.voxel;
  if (!voxel || !voxel.models.length) return null;
  const grids: { file: string; img: NiftiImage }[] = [];
  const read = async (path: string) => {
    const img = await readNifti(join(dir, path));
    const first = grids[0];
    if (first && img.shape.slice(0, 3).join("×") !== first.img.shape.slice(0, 3).join("×")) {
      throw new InputError("a map of the results folder is not on the analysis grid", {
        file: join(dir, path),
        field: "dim",
        expected: first.img.shape.slice(0, 3).join("×"),
        found: img.shape.slice(0, 3).join("×"),
      });
    }
    grids.push({ file: path, img });
    return img;
  };
  const models: ModelMaps[] = [];
  const meanR: Float32Array[] = [];
  for (const m of voxel.models) {
    const files = voxelFiles(m.name);
    const t = await read(files.groupT);
    const K = t.shape[3] ?? 1;
    const linkText = new Map<number, string[]>();
    const set = m.templates[0];
    for (const l of set?.links ?? []) {
      const text = `${l.sign > 0 ? "+" : "−"}${networkDisplayName(set.name, l.networkName)}`;
      linkText.set(l.atom, [...linkText.get(l.atom) ?? [], text]);
    }
    models.push({
      name: m.name,
      maps: t.data,
      atoms: Array.from({ length: K }, (_, k) => ({ atom: k, links: linkText.get(k) ?? [] })),
    });
    if (await exists(join(dir, files.groupMeanR))) meanR.push((await read(files.groupMeanR)).data);
  }
  const grid = grids[0].img, [nx, ny, nz] = grid.shape, N = nx * ny * nz;
  const inside = new Uint8Array(N);
  const mark = (data: Float32Array) => {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v !== 0 && Number.isFinite(v)) inside[i % N] = 1;
    }
  };
  for (const r of meanR) mark(r);
  for (const m of models) mark(m.maps);
  const background = await exists(join(dir, RESULT_FILES.anatomy))
    ? (await read(RESULT_FILES.anatomy)).data
    : undefined;
  const set = voxel.models[0].templates[0]?.name;
  const tf = set ? templateFiles(set) : null;
  let atlas, atlasImg: NiftiImage | undefined;
  if (tf && await exists(join(dir, tf.labels)) && await exists(join(dir, tf.names.path))) {
    const raw = await readNames(join(dir, tf.names.path));
    const names = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, networkDisplayName(set!, v)]),
    );
    atlasImg = await read(tf.labels);
    atlas = { name: set!, names, labels: atlasImg.data };
  }
  const surfaces = await readReportSurfaces(
    grid,
    atlasImg ? { name: set!, img: atlasImg } : undefined,
    data,
  );
  const payload = packReportMaps({
    shape: [nx, ny, nz],
    affine: affine16(grid),
    inside,
    ...(background ? { background } : {}),
    ...(atlas ? { atlas } : {}),
    quantity: "group t (one-sample t over subjects)",
    threshold: voxel.threshold,
    models,
  });
  return "surfaces" in surfaces
    ? { ...payload, surfaces: surfaces.surfaces }
    : { ...payload, surfacesUnavailable: surfaces.unavailable };
}
