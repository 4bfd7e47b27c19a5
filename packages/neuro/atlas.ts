/**
 * Functional network templates: label atlases (e.g. Yeo 7/17, integer labels
 * stored as float) and continuous 4-D maps (e.g. the Giles ICA maps), brought
 * onto an analysis mask through their affines.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { BrainMask } from "./masker.ts";
import { type NiftiImage, volumeCount, voxelsPerVolume } from "./nifti_image.ts";
import { resampleToGrid } from "./resample.ts";

/** A network of a template set, on the mask's voxels. */
export interface NetworkTemplate {
  /** The label value (label atlases) or 1-based map index (continuous maps). */
  index: number;
  /** The network's name, e.g. `"7Networks_1"`, or `"network N"` / `"map N"` when unnamed. */
  name: string;
  /** Per mask voxel: membership (0/1) for labels, the map value for continuous maps. */
  values: Float32Array;
}

/**
 * Parse a label table `index,name` (a header row is allowed). Label 0 is
 * background and is left out.
 *
 * @param text the table (comma- or tab-separated)
 * @param file its name, for errors
 * @returns label → name, without label 0
 * @throws {InputError} naming the line for a row without an integer index
 *
 * @example
 * ```ts
 * import { parseLabelNames } from "@brainorg/neuro";
 * const names = parseLabelNames("index,name\n0,background\n1,Visual\n2,Somatomotor\n", "yeo7.csv");
 * console.log(names.get(2)); // "Somatomotor"
 * ```
 */
export function parseLabelNames(text: string, file: string): Map<number, string> {
  const names = new Map<number, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const [idx, ...rest] = line.split(/[,\t]/);
    const n = Number(idx);
    if (!Number.isInteger(n)) {
      if (i === 0) return; // header
      throw new InputError("label table row has no integer index", {
        file,
        field: `line ${i + 1}`,
        expected: "index,name",
        found: JSON.stringify(line),
      });
    }
    if (n !== 0) names.set(n, rest.join(",").trim());
  });
  return names;
}

/**
 * Networks of a label atlas on the mask's voxels, resampled by nearest
 * neighbour.
 *
 * @param atlas a 3-D label image (any grid that covers the mask's space)
 * @param mask the analysis mask
 * @param names label → name; labels without a name are called `network N`. Default: none.
 * @param sourceName the atlas's file name, for errors. Default: `"atlas"`.
 * @returns one template per non-zero label present in the atlas, ascending
 * @throws {InputError} for a 4-D atlas, non-integer labels, or a grid that does not cover the mask
 *
 * @example
 * ```ts
 * import { labelNetworks, maskFromImage, parseLabelNames, readNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const names = parseLabelNames(await Deno.readTextFile("Yeo-7.csv"), "Yeo-7.csv");
 * const yeo = labelNetworks(await readNifti("Yeo-7.nii.gz"), mask, names, "Yeo-7.nii.gz");
 * console.log(yeo.map((n) => n.name)); // seven networks, each a 0/1 vector over the mask
 * ```
 */
export function labelNetworks(
  atlas: NiftiImage,
  mask: BrainMask,
  names: Map<number, string> = new Map(),
  sourceName = "atlas",
): NetworkTemplate[] {
  if (volumeCount(atlas) !== 1) {
    throw new InputError("a label atlas must be 3-D", {
      file: sourceName,
      field: "dim",
      expected: "one volume of integer labels",
      found: `${volumeCount(atlas)} volumes (use continuousNetworks for 4-D maps)`,
    });
  }
  const onGrid = resampleToGrid(atlas, mask.grid, { interpolation: "nearest", sourceName });
  const labels = new Set<number>();
  for (let i = 0; i < voxelsPerVolume(atlas); i++) {
    const v = atlas.data[i];
    if (v !== 0 && Number.isFinite(v)) {
      if (Math.abs(v - Math.round(v)) > 1e-3) {
        throw new InputError("label atlas holds non-integer values", {
          file: sourceName,
          field: `voxel ${i}`,
          expected: "integer labels (stored as integers or floats)",
          found: String(v),
        });
      }
      labels.add(Math.round(v));
    }
  }
  return [...labels].sort((a, b) => a - b).map((label) => {
    const values = new Float32Array(mask.indices.length);
    mask.indices.forEach((vox, k) => {
      if (Math.round(onGrid.data[vox]) === label) values[k] = 1;
    });
    return { index: label, name: names.get(label) ?? `network ${label}`, values };
  });
}

/**
 * Continuous network maps (4-D, one map per volume) on the mask's voxels,
 * resampled trilinearly.
 *
 * @param maps a 4-D image, one network per volume
 * @param mask the analysis mask
 * @param names one name per map, in order; the rest are called `map N`. Default: none.
 * @param sourceName the maps' file name, for errors. Default: `"maps"`.
 * @returns one template per volume, in order, indexed from 1
 * @throws {InputError} for a grid that does not cover the mask
 *
 * @example
 * ```ts
 * import { continuousNetworks, maskFromImage, readNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const giles = continuousNetworks(await readNifti("Giles_39.nii.gz"), mask, [], "Giles_39.nii.gz");
 * console.log(giles.length); // 39 maps, each a value per mask voxel
 * ```
 */
export function continuousNetworks(
  maps: NiftiImage,
  mask: BrainMask,
  names: string[] = [],
  sourceName = "maps",
): NetworkTemplate[] {
  const onGrid = resampleToGrid(maps, mask.grid, { interpolation: "linear", sourceName });
  const K = volumeCount(maps);
  const N = voxelsPerVolume(onGrid);
  return Array.from({ length: K }, (_, k) => {
    const values = new Float32Array(mask.indices.length);
    mask.indices.forEach((vox, v) => (values[v] = onGrid.data[k * N + vox]));
    return { index: k + 1, name: names[k] ?? `map ${k + 1}`, values };
  });
}
