/**
 * The background the brain viewers draw a run's maps on. A run stores the
 * MNI152 T1 resampled onto its analysis grid (`voxels/anatomy.nii.gz`,
 * float32); where the maps are on a 2 mm grid, the viewers get the
 * registered 2 mm template itself instead (FSL's MNI152NLin6, brain only,
 * 91×109×91, int16: 0.4 MB gzipped against 1.3 MB for a run's float32
 * copy), served once per server from the reference data with its checksum
 * verified and cached by the browser. It is never downloaded for a page:
 * when it is not on this machine, the run's own anatomy is drawn.
 *
 * @module
 */

import { resolveDataFile } from "@brainorg/datasets";
import { readNiftiHeaderInfo } from "@brainorg/neuro";
import { fileCache } from "./file_cache.ts";
import type { MapCheck } from "./maps.ts";
import { resolveRunFile, type Run } from "./runs.ts";
import { fileHref } from "./urls.ts";

/** The registry path of the 2 mm MNI152 T1 (brain-extracted). */
export const TEMPLATE_2MM = "atlases/MNI152NLin6_res-2x2x2_T1w_descr-brain.nii.gz";

/** Where the dashboard serves {@linkcode TEMPLATE_2MM} (`routes/templates/[file].ts`). */
export const TEMPLATE_2MM_URL = "/templates/mni152-2mm.nii.gz";

/** Voxel sizes within this of 2 mm count as 2 mm (headers store float32). */
const TOLERANCE_MM = 1e-3;

let resolved: Promise<string | undefined> | undefined;

/**
 * The local, verified copy of {@linkcode TEMPLATE_2MM} (data folder,
 * `$BRAINORG_DATA`, `../shared/data`, the cache; never a download), looked
 * up once per server.
 *
 * @returns its path, or undefined when it is on none of them (or corrupt)
 */
export function template2mmFile(): Promise<string | undefined> {
  resolved ??= resolveDataFile(TEMPLATE_2MM, { download: false }).then(
    (r) => r.path,
    () => undefined,
  );
  return resolved;
}

/**
 * A map's voxel sizes in mm (`pixdim[1..3]`), read from its header once
 * per file version; undefined when the file is missing or not NIfTI.
 *
 * @param run the run
 * @param path the map, relative to the run's folder
 * @returns `[x, y, z]` in mm, or undefined
 */
export async function voxelSizes(run: Run, path: string): Promise<number[] | undefined> {
  const file = await resolveRunFile(run, path);
  if (!file) return undefined;
  const sizes = await fileCache.get(file, "voxel-sizes", async (f) => {
    try {
      // The header only: the map's size was checked by checkMap; no inflating here.
      const h = await readNiftiHeaderInfo(f, { inflateWhenUnsure: false });
      const scale = h.spaceUnit === "m" ? 1000 : h.spaceUnit === "um" ? 1e-3 : 1;
      return h.pixdim.slice(0, 3).map((d) => Math.abs(d) * scale);
    } catch {
      return undefined;
    }
  }, { bytes: () => 0 });
  return sizes ?? undefined;
}

/**
 * The background URL of a viewer of `mapPath`: the registered 2 mm template
 * when the map's voxels are 2 mm and the template is on this machine; else
 * the run's own anatomy when it decodes; else none (the map drawn alone).
 *
 * @param run the run whose map is drawn
 * @param mapPath the map, relative to the run's folder
 * @param anatomy the check of the run's `voxels/anatomy.nii.gz`, when made
 * @returns a URL for the viewer's `anatomy` prop, or undefined
 *
 * @example
 * ```ts
 * const anatomy = await checkMap(run, RESULT_FILES.anatomy);
 * const back = await viewerBackground(run, voxelFiles("m").groupT, anatomy);
 * ```
 */
export async function viewerBackground(
  run: Run,
  mapPath: string,
  anatomy: MapCheck | undefined,
): Promise<string | undefined> {
  const sizes = await voxelSizes(run, mapPath);
  const is2mm = sizes?.length === 3 && sizes.every((d) => Math.abs(d - 2) < TOLERANCE_MM);
  if (is2mm && await template2mmFile()) return TEMPLATE_2MM_URL;
  return anatomy?.ok ? fileHref(run.id, anatomy.path) : undefined;
}
