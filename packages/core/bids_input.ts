/**
 * The analysis of a BIDS dataset with fMRIPrep derivatives (Narratives and
 * the like): its stories, subjects, runs, masks and confounds found by
 * their names, and what cannot be used set aside with the reason. The
 * result is an ordinary analysis — the stories as the stimulus' runs, each
 * subject's runs as its files — so one pipeline runs every input.
 *
 * Every subject analysed heard every story selected: all share one
 * stimulus grid (one design, one null). A subject missing a story is
 * listed with that reason; select the stories (`bids.tasks`) to analyse a
 * group that heard them all.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "@brainorg/common";
import {
  assertSameGrid,
  type BidsRun,
  type BidsScan,
  type BidsVerdict,
  formatBidsListing,
  maskFromImage,
  readNifti,
  scanBids,
  subsetMask,
  unmask,
  writeNifti,
} from "@brainorg/neuro";
import type { AnalysisConfig, AnalysisDescription } from "./analysis_config.ts";
import { storiesStimulus, type StoryRun } from "./stories.ts";
import { cacheKey } from "./voxel_cache.ts";
import { phantomBidsTruthPath, readPhantomBidsTruth } from "./phantom_bids_truth.ts";
import { NETWORK_CHOICES } from "./_options_spec.ts";
import { templateSetName } from "./templates.ts";
import type { PlantedTruth } from "./voxels.ts";

/**
 * The analysis `--bids DIR` runs without `--config`: its `bids.root` is set
 * by the flag (stories260K and its control, nilearn's `simple` confounds,
 * Yeo-7 and Giles).
 */
export const BIDS_DEFAULT_FILE: string = join(
  dirname(fileURLToPath(import.meta.url)),
  "bids_default.json",
);

/** Where the BIDS data are, for errors: the analysis file's field. */
const FIELD = "bids";

/** What a BIDS dataset gives an analysis, and what it sets aside. */
export interface BidsPlan {
  /** The scan of the dataset (every unit found, and its verdict). */
  scan: BidsScan;
  /** The stories' runs, in the order every subject's rows follow: task, then run. */
  stories: (StoryRun & { session?: string; run?: number })[];
  /** The subjects analysed, each with one unit per story run, in that order. */
  subjects: { id: string; units: BidsRun[] }[];
  /** Every verdict: the scan's, then those of this plan (grids, subjects missing a story). */
  verdicts: BidsVerdict[];
}

/** A (session, task, run) of the dataset: one story run. */
const slot = (u: { session?: string; task: string; run?: number }) =>
  `${u.session ? `ses-${u.session}_` : ""}task-${u.task}${
    u.run !== undefined ? `_run-${u.run}` : ""
  }`;

/** The most common value, ties to the first seen. */
function mode<T>(values: T[]): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}

/**
 * Scan the dataset an analysis names and decide what is analysed: per story
 * run the TR, volumes and stimulus onset most runs share (a run that differs
 * is excluded: one stimulus grid serves everyone), then the subjects with a
 * usable run of every story.
 *
 * @throws {InputError} for a dataset that is not one (see `scanBids`), a
 *   non-MNI space, stories with different TRs, or fewer than 2 subjects left
 */
export async function planBids(described: AnalysisDescription): Promise<BidsPlan> {
  const b = described.bids!;
  if (!/^MNI/i.test(b.space)) {
    throw new InputError("the data are not in an MNI space", {
      file: described.file,
      field: `${FIELD}.space`,
      expected: "an MNI space (e.g. MNI152NLin2009cAsym): the network templates are in MNI " +
        "space, and templates in the data's own space cannot be given yet",
      found: b.space,
    });
  }
  const confounds = described.voxels?.confounds ?? "simple";
  const scan = await scanBids({
    root: b.root,
    ...(b.derivatives ? { derivatives: b.derivatives } : {}),
    ...(b.tasks ? { tasks: b.tasks } : {}),
    ...(b.subjects ? { subjects: b.subjects } : {}),
    space: b.space,
    ...(b.res ? { res: b.res } : {}),
    ...(b.exclude ? { exclude: b.exclude } : {}),
    requireConfounds: confounds !== "none",
  });
  const verdicts: BidsVerdict[] = [...scan.verdicts];
  const usable = scan.units;
  const slots = [...new Set(usable.map(slot))].sort();
  const stories: BidsPlan["stories"] = [];
  const fits = new Map<string, BidsRun[]>();
  for (const s of slots) {
    const runs = usable.filter((u) => slot(u) === s);
    const grid = {
      tr: mode(runs.map((u) => u.tr)),
      volumes: mode(runs.map((u) => u.volumes)),
      onset: mode(runs.map((u) => u.stimulusOnset)),
    };
    const ok: BidsRun[] = [];
    for (const u of runs) {
      const off = u.tr !== grid.tr
        ? `TR ${u.tr} s; the story's other runs have ${grid.tr} s`
        : u.volumes !== grid.volumes
        ? `${u.volumes} volumes; the story's other runs have ${grid.volumes} ` +
          "(one stimulus grid serves every subject)"
        : u.stimulusOnset !== grid.onset
        ? `the story starts at ${u.stimulusOnset} s; in the other runs at ${grid.onset} s`
        : "";
      if (off) exclude(verdicts, u, off);
      else ok.push(u);
    }
    fits.set(s, ok);
    stories.push({
      story: runs[0].task,
      ...(runs[0].session ? { session: runs[0].session } : {}),
      ...(runs[0].run !== undefined ? { run: runs[0].run } : {}),
      transcript: runs[0].transcript!,
      tr: grid.tr,
      volumes: grid.volumes,
      stimulusOffset: grid.onset,
    });
  }
  const trs = [...new Set(stories.map((s) => s.tr))];
  if (trs.length > 1) {
    throw new InputError("the stories were scanned with different TRs", {
      file: described.file,
      field: `${FIELD}.tasks`,
      expected: "stories with one TR (select them with tasks)",
      found: stories.map((s) => `${slot({ ...s, task: s.story })}: ${s.tr} s`).join(", "),
    });
  }
  const subjects: BidsPlan["subjects"] = [];
  for (const label of [...new Set(usable.map((u) => u.subject))].sort()) {
    const id = `sub-${label}`;
    const units = slots.map((s) => fits.get(s)!.find((u) => u.subject === label));
    const missing = slots.filter((_, i) => !units[i]);
    if (missing.length) {
      verdicts.push({
        unit: id,
        subject: label,
        usable: false,
        reason: `lacks a usable run of ${missing.join(", ")} (every subject analysed hears ` +
          "every story selected; choose the stories with tasks)",
        files: [],
      });
      continue;
    }
    subjects.push({ id, units: units as BidsRun[] });
  }
  if (subjects.length < 2) {
    throw new InputError("fewer than 2 subjects heard every story selected", {
      file: described.file,
      field: FIELD,
      expected: "at least 2 subjects with a usable run of every story (see --list)",
      found: `${subjects.length} (stories: ${slots.join(", ") || "none usable"})`,
    });
  }
  return { scan, stories, subjects, verdicts };
}

/** Mark a unit unusable with a reason (replacing its verdict). */
function exclude(verdicts: BidsVerdict[], u: BidsRun, reason: string): void {
  const i = verdicts.findIndex((v) => v.unit === u.id);
  const verdict: BidsVerdict = {
    unit: u.id,
    subject: u.subject,
    task: u.task,
    usable: false,
    reason,
    files: [u.bold],
  };
  if (i >= 0) verdicts[i] = verdict;
  else verdicts.push(verdict);
}

/**
 * What `--list` prints: the dataset's units with their verdicts, then the
 * stories and subjects the analysis would use.
 */
export function formatBidsPlan(plan: BidsPlan): string {
  const lines = [formatBidsListing({ ...plan.scan, verdicts: plan.verdicts })];
  lines.push("", "would analyse:");
  for (const s of plan.stories) {
    lines.push(
      `  story ${slot({ ...s, task: s.story })}: ${s.volumes} volumes at TR ${s.tr} s, ` +
        `audio from ${s.stimulusOffset} s, transcript ${s.transcript}`,
    );
  }
  lines.push(`  ${plan.subjects.length} subjects: ${plan.subjects.map((s) => s.id).join(" ")}`);
  const out = plan.verdicts.filter((v) => !v.usable && v.unit === `sub-${v.subject}`);
  if (out.length) lines.push(`  ${out.length} subjects set aside (see above)`);
  return lines.join("\n");
}

/**
 * The analysis a BIDS description amounts to: the stories as the stimulus
 * (combined transcript written into `workDir`), the subjects' runs as their
 * files, the mask (given, or the intersection of the subjects' brain masks,
 * written into `workDir`).
 *
 * @throws {InputError} as {@linkcode planBids}, and for brain masks on different grids
 */
export async function bidsAnalysis(
  described: AnalysisDescription,
  plan: BidsPlan,
  workDir: string,
): Promise<AnalysisConfig> {
  const b = described.bids!;
  const key = cacheKey([
    JSON.stringify(plan.stories),
    JSON.stringify(plan.subjects.map((s) => s.units.map((u) => u.bold))),
    b.mask ?? "",
  ]).slice(0, 24);
  const dir = join(workDir, key);
  const stimulus = await storiesStimulus(plan.stories, dir);
  const mask = b.mask ?? await intersectMasks(
    plan.subjects.flatMap((s) => s.units.map((u) => u.mask!)),
    join(dir, "mask.nii.gz"),
    described.file,
  );
  return {
    ...described,
    stimulus,
    voxels: {
      ...voxelDefaults(described),
      mask,
      subjects: plan.subjects.map((s) => ({
        id: s.id,
        bold: s.units.map((u) => u.bold),
        ...(s.units.every((u) => u.confounds)
          ? { confounds: s.units.map((u) => u.confounds!) }
          : {}),
      })),
    },
  };
}

/** The voxel settings of a description, with the file's defaults where absent. */
function voxelDefaults(d: AnalysisDescription): NonNullable<AnalysisConfig["voxels"]> {
  return d.voxels ?? {
    discarded: 0,
    confounds: "simple",
    highPassSeconds: 128,
    voxelP: 0.01,
    maps: "ridge",
    maxBadVoxelShare: 0.1,
  };
}

/**
 * The voxels inside every brain mask (all on one grid), written as a uint8
 * NIfTI.
 *
 * @returns the path written
 */
async function intersectMasks(paths: string[], out: string, file: string): Promise<string> {
  const unique = [...new Set(paths)];
  if (unique.length === 0 || unique.some((p) => !p)) {
    throw new InputError("a subject's run has no brain mask", {
      file,
      field: `${FIELD}.mask`,
      expected: "desc-brain_mask files in the derivatives, or a mask given",
      found: "a run without one",
    });
  }
  let mask = maskFromImage(await readNifti(unique[0]), unique[0]);
  for (const p of unique.slice(1)) {
    const img = await readNifti(p);
    // Masks are intersected voxel by voxel: they must share one grid (and affine).
    assertSameGrid(mask, img, p);
    const other = maskFromImage(img, p), inside = new Set(other.indices);
    mask = subsetMask(mask, Array.from(mask.indices, (i) => (inside.has(i) ? 1 : 0)));
  }
  if (mask.indices.length === 0) {
    throw new InputError("the subjects' brain masks share no voxel", {
      file,
      field: `${FIELD}.mask`,
      expected: "brain masks that overlap (or a mask given)",
      found: `${unique.length} masks, empty intersection`,
    });
  }
  await writeNifti(out, unmask(new Float32Array(mask.indices.length).fill(1), mask), {
    datatype: "uint8",
    description: `intersection of ${unique.length} brain masks (brainorg)`,
  });
  return out;
}

/** The rows of `qc/bids_units.csv`: every unit's (and subject's) verdict. */
export function bidsUnitRows(plan: BidsPlan): Record<string, unknown>[] {
  return plan.verdicts.map((v) => ({
    unit: v.unit,
    subject: v.subject ?? "",
    task: v.task ?? "",
    usable: v.usable,
    reason: v.reason,
  }));
}

/**
 * The truth of a phantom dataset (`deno task phantom --bids` writes it into
 * `derivatives/brainorg-phantom/`), so that its links are scored; undefined
 * for any other dataset.
 *
 * @throws {InputError} for a truth file that is there but unreadable
 */
export async function plantedTruthOf(root: string): Promise<PlantedTruth | undefined> {
  try {
    await Deno.stat(phantomBidsTruthPath(root));
  } catch {
    return undefined;
  }
  const truth = await readPhantomBidsTruth(root);
  const networks = NETWORK_CHOICES.find((c) => templateSetName(c) === truth.space.templates);
  if (!networks) {
    throw new InputError("a phantom truth names networks brainorg does not know", {
      file: phantomBidsTruthPath(root),
      field: "space.templates",
      expected: NETWORK_CHOICES.map(templateSetName).join(", "),
      found: truth.space.templates,
    });
  }
  return { truth, networks, model: truth.model.name };
}
