/**
 * The registry of reference files brainorg knows: each file's path relative
 * to a data folder, SHA-256, size, and the collection it belongs to (licence,
 * citation, where to download it).
 *
 * @module
 */

import registryJson from "./registry.json" with { type: "json" };

/** A published collection of files, with its terms and origin. */
export interface Collection {
  /** Short id, e.g. `"alice"`. */
  id: string;
  /** What the collection is, in a line. */
  title: string;
  /** Its licence, as an SPDX identifier, e.g. `"CC-BY-4.0"`. */
  license: string;
  /** The publication(s) to cite when using it. */
  citation: string;
  /** Where a person can read about and obtain it. */
  homepage: string;
  /** A direct download URL for a file's registry path, when the publisher offers one. */
  urlFor?: (path: string) => string[];
}

/** One registered file. */
export interface RegistryEntry {
  /** Path relative to a data folder, with `/` separators; also the file's name in the registry. */
  path: string;
  /** SHA-256 of the content, lowercase hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** The collection it belongs to. */
  collection: Collection;
  /** Direct download URLs, tried in order; empty when only the homepage serves it. */
  urls: string[];
}

const NEUROPARC = "https://github.com/neurodata/neuroparc/raw/master/atlases";

const COLLECTIONS: Collection[] = [
  {
    id: "neuroparc",
    title: "Yeo 2011 network parcellations and MNI152 templates, as packaged by neuroparc",
    license: "Apache-2.0",
    citation: "Yeo BTT et al. (2011) J Neurophysiol 106:1125–1165; Lawrence RM et al. (2021) " +
      "Standardizing human brain parcellations. Sci Data 8:78.",
    homepage: "https://github.com/neurodata/neuroparc",
    urlFor: (path) => {
      const name = path.split("/").pop()!;
      if (name.startsWith("MNI152")) return [`${NEUROPARC}/reference_brains/${name}`];
      if (name.endsWith(".csv")) return [`${NEUROPARC}/label/Human/Anatomical-labels-csv/${name}`];
      return [`${NEUROPARC}/label/Human/${name}`];
    },
  },
  {
    id: "giles",
    title: "Giles 39-parcel continuous network maps (8 mm), from osl-dynamics",
    license: "Apache-2.0",
    citation: "Colclough GL et al. (2015) NeuroImage 117:439–448; osl-dynamics (Gohil C et al., " +
      "2024, eLife).",
    homepage: "https://github.com/OHBA-analysis/osl-dynamics",
    urlFor: (path) => [
      "https://github.com/OHBA-analysis/osl-dynamics/raw/main/osl_dynamics/files/parcellation/" +
      path.split("/").pop(),
    ],
  },
  {
    id: "alice",
    title: "Alice in Wonderland fMRI: ROI time courses, regressors and stimulus TextGrid",
    license: "CC-BY-4.0",
    citation: "Brennan JR, Stabler EP, Van Wagenen SE, Luh W-M, Hale JT (2016) Abstract " +
      "linguistic structure correlates with temporal activity during naturalistic " +
      "comprehension. Brain Lang 157–158:81–94. doi:10.1016/j.bandl.2016.04.008",
    homepage: "https://deepblue.lib.umich.edu (search: Brennan, Alice in Wonderland fMRI)",
  },
  {
    id: "lpp",
    title: "Le Petit Prince (English) word timings, 9 runs",
    license: "MIT",
    citation: "Li J et al. (2022) Le Petit Prince multilingual naturalistic fMRI corpus. " +
      "Sci Data 9:530.",
    homepage: "https://github.com/neuranna/le-petit-prince",
  },
  {
    id: "niivue",
    title: "ICBM152 2009 cortical surface meshes (MZ3, MNI mm), from NiiVue's demo images",
    license: "BSD-2-Clause",
    citation: "Fonov VS et al. (2011) NeuroImage 54:313–327 (ICBM 2009 template, © McConnell " +
      "Brain Imaging Centre); meshes from Surf Ice / NiiVue (Rorden C et al.).",
    homepage: "https://github.com/niivue/niivue",
    urlFor: (path) => {
      const name = path.split("/").pop()!;
      return [
        `https://niivue.github.io/niivue-demo-images/${name}`,
        `https://github.com/niivue/niivue/raw/main/packages/niivue/demos/images/${name}`,
      ];
    },
  },
  {
    id: "tinyllamas",
    title: "stories260K: a 260K-parameter Llama trained on TinyStories (GGUF)",
    license: "MIT",
    citation: "Karpathy A. llama2.c / tinyllamas (2023); Eldan R, Li Y (2023) TinyStories.",
    homepage: "https://github.com/karpathy/llama2.c",
    urlFor:
      () => ["https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf"],
  },
];

function collectionOf(path: string): Collection {
  const id = path.startsWith("alice/")
    ? "alice"
    : path.startsWith("lpp/")
    ? "lpp"
    : path.startsWith("meshes/")
    ? "niivue"
    : path.startsWith("models/")
    ? "tinyllamas"
    : path.includes("Giles")
    ? "giles"
    : "neuroparc";
  return COLLECTIONS.find((c) => c.id === id)!;
}

/** Every registered reference file, sorted by path. */
export const REGISTRY: readonly RegistryEntry[] = registryJson.files.map((f) => {
  const collection = collectionOf(f.path);
  return { ...f, collection, urls: collection.urlFor?.(f.path) ?? [] };
});

/** The collections the registry's files come from. */
export const REGISTRY_COLLECTIONS: readonly Collection[] = COLLECTIONS;

/**
 * Look up a registered file by its path.
 *
 * @param name registry path, e.g. `"atlases/Yeo-7.csv"`
 * @returns its entry: SHA-256, size, collection and download URLs
 * @throws {RangeError} naming close matches when `name` is not registered
 *
 * @example
 * ```ts
 * import { registryEntry } from "@brainorg/datasets";
 * const e = registryEntry("models/stories260K.gguf");
 * console.log(e.bytes, e.sha256, e.collection.license); // …, …, "MIT"
 * ```
 */
export function registryEntry(name: string): RegistryEntry {
  const entry = REGISTRY.find((e) => e.path === name);
  if (entry) return entry;
  const base = name.split("/").pop()!.toLowerCase();
  const close = REGISTRY.filter((e) => e.path.toLowerCase().includes(base.slice(0, 4)))
    .slice(0, 5).map((e) => e.path);
  throw new RangeError(
    `"${name}" is not a registered reference file` +
      (close.length ? `; did you mean: ${close.join(", ")}?` : "") +
      " (`deno task data list` prints them all)",
  );
}

/** The two cortical hemispheres, as the registered meshes' file names spell them. */
export const HEMISPHERES = ["lh", "rh"] as const;
/** A hemisphere: `"lh"` (left) or `"rh"` (right). */
export type Hemisphere = typeof HEMISPHERES[number];

/**
 * The registry path of a hemisphere's ICBM152 pial mesh (MZ3, 40,962
 * vertices, MNI mm): what the dashboard's and the report's surface views draw.
 *
 * @param hemi `"lh"` or `"rh"`
 * @returns e.g. `"meshes/BrainMesh_ICBM152.lh.mz3"`
 *
 * @example
 * ```ts
 * import { meshPath, resolveDataFile } from "@brainorg/datasets";
 * const lh = await resolveDataFile(meshPath("lh")); // verified against its SHA-256
 * console.log(lh.path);
 * ```
 */
export function meshPath(hemi: Hemisphere): string {
  return `meshes/BrainMesh_ICBM152.${hemi}.mz3`;
}
