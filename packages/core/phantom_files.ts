/**
 * The phantom on disk: its space from the real atlases (MNI mask, Yeo 7/17
 * or Giles networks at 4 or 2 mm) and its files — one 4-D NIfTI per
 * subject, the mask, the ground-truth networks and `truth.json`.
 *
 * @module
 */

import { join } from "node:path";
import {
  checkCacheEntry,
  readCacheEntryFile,
  writeCacheEntry,
  writeDirAtomic,
  writeJsonAtomic,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { ResolveOptions } from "@brainorg/datasets";
import type { Backend, Matrix } from "@brainorg/kernels";
import { type NetworkTemplate, unmask, writeNifti } from "@brainorg/neuro";
import { brainMask, type NetworkChoice, templateNetworks } from "./templates.ts";
import { networkSets } from "./networks.ts";
import { generatePhantom, type PhantomOptions, type PhantomTruth } from "./phantom.ts";

/** Where a phantom lives and which networks drive it. */
export interface PhantomSpace {
  /** Voxel size of the MNI152 grid, in mm. */
  resolution: 2 | 4;
  /** The template set whose networks the atoms drive. */
  networks: NetworkChoice;
}

/** Atoms as a CSV: `volume,atom0,atom1,…`. */
export function atomsCsv(atoms: Matrix): string {
  const K = atoms.cols;
  const header = ["volume", ...Array.from({ length: K }, (_, k) => `atom${k}`)].join(",");
  const lines = Array.from(
    { length: atoms.rows },
    (_, t) => [t, ...Array.from(atoms.data.subarray(t * K, (t + 1) * K))].join(","),
  );
  return [header, ...lines].join("\n") + "\n";
}

/** The files of a phantom folder. */
export interface PhantomFiles {
  /** `mask.nii.gz`: the brain mask (uint8). */
  mask: string;
  /** `truth.json`: what was planted ({@linkcode WrittenPhantomTruth}). */
  truth: string;
  /** `networks.nii.gz`: the ground-truth networks as labels (1-based, in the truth's order). */
  networks: string;
  /** `atoms.csv`: the planted atoms' time courses ({@linkcode atomsCsv}). */
  atoms: string;
  /** Each subject's id (`sub-01`, …) and 4-D BOLD file (`sub-01_bold.nii`). */
  subjects: { id: string; path: string }[];
}

/** Paths of a phantom folder's files. */
export function phantomFiles(dir: string, subjects: number): PhantomFiles {
  return {
    mask: join(dir, "mask.nii.gz"),
    truth: join(dir, "truth.json"),
    networks: join(dir, "networks.nii.gz"),
    atoms: join(dir, "atoms.csv"),
    subjects: Array.from({ length: subjects }, (_, s) => ({
      id: `sub-${String(s + 1).padStart(2, "0")}`,
      path: join(dir, `sub-${String(s + 1).padStart(2, "0")}_bold.nii`),
    })),
  };
}

/** Options of {@linkcode writePhantom} and {@linkcode cachedPhantom}. */
export type WritePhantomOptions = PhantomOptions & {
  /** Repetition time written in the headers, in seconds. Default: 2. */
  tr?: number;
  /** Where the atlases are found. */
  data?: ResolveOptions;
  /** Told as each subject's file is written. */
  log?: (l: string) => void;
};

/** A phantom's truth as written to `truth.json`. */
export type WrittenPhantomTruth = PhantomTruth & { space: PhantomSpace; templates: string };

/**
 * Generate a phantom and write its folder atomically: `mask.nii.gz`,
 * `networks.nii.gz` (the ground-truth networks as labels), `atoms.csv`,
 * `sub-NN_bold.nii` (int16 with a scale factor, TR in the header) and
 * `truth.json`.
 */
export async function writePhantom(
  dir: string,
  backend: Backend,
  atoms: Matrix,
  space: PhantomSpace,
  options: WritePhantomOptions = {},
): Promise<WrittenPhantomTruth> {
  let truth!: WrittenPhantomTruth;
  await writeDirAtomic(dir, async (tmp) => {
    truth = await buildPhantom(tmp, backend, atoms, space, options);
  });
  return truth;
}

/** Options of {@linkcode cachedPhantom}. */
export interface CachedPhantomOptions extends WritePhantomOptions {
  /** Told before a phantom is generated (the cache missed). */
  onMiss?: () => void;
  /** Told why an entry in place was not used, before it is replaced. Default: `console.warn`. */
  warn?: (line: string) => void;
}

/**
 * The phantom kept as the cache entry `dir` (see {@linkcode writeCacheEntry}),
 * generated and stored first when absent or damaged. Every file is checked
 * against the size in the entry's manifest, `truth.json` also against its SHA-256.
 *
 * @param dir the cache entry, named by everything that shapes the phantom
 * @returns the truth and whether it came from the cache
 * @throws {OutputError} when the entry cannot be written
 */
export async function cachedPhantom(
  dir: string,
  backend: Backend,
  atoms: Matrix,
  space: PhantomSpace,
  options: CachedPhantomOptions = {},
): Promise<{ truth: WrittenPhantomTruth; cached: boolean }> {
  // Sizes only: hashing the BOLD files (450 MB for the demo) would add most
  // of a second to every warm run; truth.json is checked against its digest.
  const found = await checkCacheEntry(dir, { hashes: false });
  let damaged = found.state === "damaged" ? found.reason : undefined;
  if (found.state === "whole") {
    try {
      return {
        truth: parseTruth(await readCacheEntryFile(dir, found.manifest, "truth.json")),
        cached: true,
      };
    } catch (err) {
      damaged = (err as Error).message;
    }
  }
  if (damaged) {
    (options.warn ?? console.warn)(
      `warning: the cached phantom in ${dir} is not usable (${damaged}); generating it again`,
    );
  }
  options.onMiss?.();
  await writeCacheEntry(
    dir,
    async (tmp) => void await buildPhantom(tmp, backend, atoms, space, options),
    { replace: damaged !== undefined },
  );
  // What is in place now (this run's, or an equal one another run put there first) is what is read.
  return { truth: parseTruth(await Deno.readFile(join(dir, "truth.json"))), cached: false };
}

function parseTruth(bytes: Uint8Array): WrittenPhantomTruth {
  const truth = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof truth !== "object" || truth === null || !Array.isArray(truth.links)) {
    throw new Error("truth.json holds no list of links");
  }
  return truth;
}

/** Generate a phantom into the (empty) folder `dir`; returns its truth. */
async function buildPhantom(
  dir: string,
  backend: Backend,
  atoms: Matrix,
  space: PhantomSpace,
  options: WritePhantomOptions,
): Promise<WrittenPhantomTruth> {
  const data = options.data ?? {}, tr = options.tr ?? 2;
  const { mask } = await brainMask(space.resolution, data);
  const t = await templateNetworks(space.networks, mask, space.resolution, data);
  // Ground truth must be voxel sets: continuous maps are thresholded as network matching does.
  const sets = networkSets(t.networks, t.kind);
  const networks: NetworkTemplate[] = sets.map((s) => ({
    index: s.index,
    name: s.name,
    values: Float32Array.from(s.member),
  }));
  const files = phantomFiles(dir, options.subjects ?? 6);
  const truth = await generatePhantom(backend, mask, networks, atoms, async (s, m) => {
    const img = unmask(m.data, mask); // (T × V) rows are volumes
    await writeNifti(files.subjects[s].path, {
      ...img,
      tr,
      description: `brainorg phantom ${files.subjects[s].id}`,
    }, {
      datatype: "int16",
      scale: true,
    });
    options.log?.(`phantom: ${files.subjects[s].id} written`);
  }, options);
  await writeNifti(files.mask, {
    ...unmask(new Float32Array(mask.indices.length).fill(1), mask),
    description: "brain mask",
  }, {
    datatype: "uint8",
  });
  const labels = new Float32Array(mask.indices.length);
  networks.forEach((n, i) =>
    n.values.forEach((v, k) => v > 0 && labels[k] === 0 && (labels[k] = i + 1))
  );
  await writeNifti(files.networks, {
    ...unmask(labels, mask),
    description: `${t.name} ground truth`,
  }, {
    datatype: "int16",
    intent: { code: 1002 },
  });
  await writeTextFileAtomic(files.atoms, atomsCsv(atoms));
  await writeJsonAtomic(files.truth, { ...truth, space, templates: t.name, tr });
  return { ...truth, space, templates: t.name };
}
