/**
 * Network templates on an analysis mask: the MNI152 brain mask at 4 or
 * 2 mm, and the template sets the maps are matched with (Yeo-7, Yeo-17,
 * Giles' 39 ICA maps), resampled onto the mask through their affines.
 *
 * @module
 */

import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import {
  type BrainMask,
  continuousNetworks,
  labelNetworks,
  maskFromImage,
  type NetworkTemplate,
  parseLabelNames,
  readNifti,
} from "@brainorg/neuro";

/** Template sets a phantom (or an analysis) can use as networks. */
export type NetworkChoice = "yeo7" | "yeo17" | "giles";

const MASKS = {
  4: "atlases/MNI152NLin6_res-4x4x4_T1w_descr-brainmask.nii.gz",
  2: "atlases/MNI152NLin6_res-2x2x2_T1w_descr-brainmask.nii.gz",
} as const;

/** The analysis mask at a resolution (the MNI152 brain mask). */
export async function brainMask(
  resolution: 2 | 4,
  data: ResolveOptions = {},
): Promise<{ mask: BrainMask; path: string }> {
  const file = await resolveDataFile(MASKS[resolution], data);
  return { mask: maskFromImage(await readNifti(file.path), file.path), path: file.path };
}

/**
 * A template set on the mask: Yeo-7 (4 mm file at 4 mm, else 2 mm), Yeo-17
 * (2 mm), or the 39 Giles ICA maps (8 mm, trilinear).
 */
export async function templateNetworks(
  choice: NetworkChoice,
  mask: BrainMask,
  resolution: 2 | 4,
  data: ResolveOptions = {},
): Promise<TemplateSet> {
  if (choice === "giles") {
    const f = await resolveDataFile(
      "atlases/atlas-Giles_nparc-39_space-MNI_res-8x8x8.nii.gz",
      data,
    );
    return {
      name: "Giles-39",
      kind: "continuous",
      networks: continuousNetworks(await readNifti(f.path), mask, [], f.path),
    };
  }
  const path = choice === "yeo7"
    ? `atlases/Yeo-7_space-MNI152NLin6_res-${resolution}x${resolution}x${resolution}.nii.gz`
    : "atlases/Yeo-17_space-MNI152NLin6_res-2x2x2.nii.gz";
  const f = await resolveDataFile(path, data);
  const names = choice === "yeo7"
    ? parseLabelNames(
      await Deno.readTextFile((await resolveDataFile("atlases/Yeo-7.csv", data)).path),
      "Yeo-7.csv",
    )
    : new Map<number, string>();
  return {
    name: choice === "yeo7" ? "Yeo-7" : "Yeo-17",
    kind: "labels",
    networks: labelNetworks(await readNifti(f.path), mask, names, f.path),
  };
}

/** A set of network templates on the mask. */
export interface TemplateSet {
  /** The set's name in the results: `Yeo-7`, `Yeo-17` or `Giles-39`. */
  name: string;
  /** Label networks (0/1 membership), or continuous maps (thresholded when matched). */
  kind: "labels" | "continuous";
  /** The set's networks, on the mask's voxels. */
  networks: NetworkTemplate[];
}

/** The name a template set has in the results (`Yeo-7`, `Yeo-17`, `Giles-39`). */
export function templateSetName(choice: NetworkChoice): string {
  return { yeo7: "Yeo-7", yeo17: "Yeo-17", giles: "Giles-39" }[choice];
}
