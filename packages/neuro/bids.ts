/**
 * Scanning a BIDS dataset with fMRIPrep derivatives (e.g. Narratives,
 * OpenNeuro ds002345) for the runs an analysis can use: per run, the
 * preprocessed BOLD in one space, its brain mask, confounds, events,
 * TR and the task's transcript; every run that cannot be used is listed
 * with the reason instead of stopping the scan.
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { InputError } from "@brainorg/common";
import { entitiesSubset } from "./bids_name.ts";
import { BidsFsCache } from "./_bids_fs.ts";
import { collectRuns, funcFolders, type UnitFiles } from "./_bids_discover.ts";
import {
  examineUnit,
  findTranscript,
  type ScanContext,
  seconds,
  type TranscriptFound,
} from "./_bids_unit.ts";
import type { BidsQuery, BidsRun, BidsScan, BidsTaskSummary, BidsVerdict } from "./bids_types.ts";

export * from "./bids_types.ts";
export * from "./bids_name.ts";
export { type BidsSidecar, readSidecar } from "./bids_sidecar.ts";
export * from "./nifti_header.ts";
export * from "./bids_listing.ts";

const LABEL = /^[a-zA-Z0-9]+$/;
/** Runs examined at once: enough to overlap file-system latency, few enough for open-file limits. */
const CONCURRENCY = 16;
const EXCLUDED = "excluded by the analysis (exclude)";

/** `sub-01` or `01` → `01`, checked. */
function labels(values: string[] | undefined, prefix: string, field: string): string[] | undefined {
  if (values === undefined) return undefined;
  return values.map((v) => {
    const label = v.startsWith(`${prefix}-`) ? v.slice(prefix.length + 1) : v;
    if (!LABEL.test(label)) {
      throw new InputError(`not a ${prefix} label`, {
        field,
        expected: `letters and digits, with or without "${prefix}-" (e.g. "${prefix}-01")`,
        found: JSON.stringify(v),
      });
    }
    return label;
  });
}

/** `sub-01_task-alice_run-1` (or a bare subject label) → entities, checked. */
function excludeEntry(entry: string): Record<string, string> {
  const parts = entry.includes("-") ? entry.split("_") : [`sub-${entry}`];
  const out: Record<string, string> = {};
  for (const p of parts) {
    const m = p.match(/^([a-zA-Z]+)-([a-zA-Z0-9]+)$/);
    if (!m || m[1] in out) {
      throw new InputError("not a subject or run in exclude", {
        field: "bids.exclude",
        expected: 'entities of runs, e.g. "sub-01", "sub-01_task-alice", "sub-01_task-alice_run-1"',
        found: JSON.stringify(entry),
      });
    }
    out[m[1]] = m[2];
  }
  return out;
}

function list(values: string[], max = 10): string {
  if (values.length === 0) return "none";
  const shown = values.slice(0, max).join(", ");
  return values.length > max ? `${shown}, … (${values.length} in all)` : shown;
}

const compare = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/** Order by subject, task, session, run, then id or file name. */
function byKey(a: { key: string[] }, b: { key: string[] }): number {
  for (let i = 0; i < a.key.length; i++) {
    const c = compare(a.key[i], b.key[i]);
    if (c !== 0) return c;
  }
  return 0;
}

async function isFolder(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The most common TR of a task; several when they tie. */
function commonTrs(trs: number[]): number[] {
  const counts = new Map<number, number>();
  for (const t of trs) {
    const k = [...counts.keys()].find((c) => Math.abs(c - t) < 1e-4) ?? t;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const best = Math.max(...counts.values());
  return [...counts].filter(([, n]) => n === best).map(([t]) => t).sort((a, b) => a - b);
}

/**
 * Scan a BIDS dataset and its fMRIPrep derivatives for the runs an
 * analysis can use, with a verdict for every run.
 *
 * A run is one (subject, session, task, run) BOLD series, found by its raw
 * BOLD or its fMRIPrep outputs. It is usable when it has a readable,
 * complete preprocessed BOLD in `space` (and `res`), confounds (unless
 * `requireConfounds` is false), a TR that agrees with the task's other
 * runs, a task transcript, and is not in `exclude`. Missing events
 * (stimulus onset 0), a missing brain mask and a TR taken from the NIfTI
 * header are remarks on a usable run. Files in func folders whose names
 * are not BIDS names, or whose `sub-`/`ses-` disagree with their folders,
 * get a `misnamed: …` verdict. Runs of subjects or tasks filtered out are
 * not listed.
 *
 * @param query the dataset, derivatives, filters and space (see {@linkcode BidsQuery})
 * @returns usable runs, every verdict, tasks, subjects, spaces, per-task
 *   summaries and warnings (see {@linkcode BidsScan})
 * @throws {InputError} only for the dataset as a whole: the root missing or
 *   not a folder, no `dataset_description.json`, the derivatives folder
 *   missing, a malformed filter, or no run matching the filters
 *
 * @example
 * ```ts
 * import { formatBidsListing, scanBids } from "@brainorg/neuro";
 * const scan = await scanBids({ root: "/data/narratives", tasks: ["pieman"], res: "2" });
 * for (const run of scan.units) console.log(run.id, run.bold, run.tr, run.volumes, run.stimulusOnset);
 * console.log(formatBidsListing(scan));
 * ```
 */
export async function scanBids(query: BidsQuery): Promise<BidsScan> {
  const root = query.root;
  const space = query.space ?? "MNI152NLin2009cAsym";
  if (!LABEL.test(space)) {
    throw new InputError("not a space label", {
      field: "bids.space",
      expected: 'letters and digits, e.g. "MNI152NLin2009cAsym"',
      found: JSON.stringify(space),
    });
  }
  if (query.res !== undefined && !LABEL.test(query.res)) {
    throw new InputError("not a resolution label", {
      field: "bids.res",
      expected: 'letters and digits, e.g. "2" or "native"',
      found: JSON.stringify(query.res),
    });
  }
  const subjects = labels(query.subjects, "sub", "bids.subjects");
  const tasks = labels(query.tasks, "task", "bids.tasks");
  const excludes = (query.exclude ?? []).map((e) => ({ entry: e, entities: excludeEntry(e) }));

  const rootKind = await isFolder(root);
  if (rootKind !== true) {
    throw new InputError("the BIDS dataset folder cannot be used", {
      file: root,
      field: "bids.root",
      expected: "a folder holding dataset_description.json and sub-* folders",
      found: rootKind === undefined ? "no such folder" : "a file, not a folder",
    });
  }
  const cache = new BidsFsCache();
  const top = await cache.list(root);
  if (!top.some((e) => !e.isDir && e.name === "dataset_description.json")) {
    throw new InputError("not a BIDS dataset: dataset_description.json is missing", {
      file: root,
      field: "bids.root",
      expected: "dataset_description.json at the top level",
      found: `the folder holds ${list(top.map((e) => e.name + (e.isDir ? "/" : "")))}`,
    });
  }
  const derivatives = query.derivatives === undefined
    ? join(root, "derivatives", "fmriprep")
    : isAbsolute(query.derivatives)
    ? query.derivatives
    : join(root, query.derivatives);
  if ((await isFolder(derivatives)) !== true) {
    const parent = await cache.list(join(root, "derivatives"));
    throw new InputError("the fMRIPrep derivatives folder does not exist", {
      file: derivatives,
      field: "bids.derivatives",
      expected: "fMRIPrep's outputs (sub-*/func/*_desc-preproc_bold.nii.gz)",
      found: `no such folder; ${join(root, "derivatives")} holds ${
        list(parent.filter((e) => e.isDir).map((e) => e.name))
      }`,
    });
  }

  // Discovery.
  const keepSubject = (s: string) => subjects === undefined || subjects.includes(s);
  const allTasks = new Set<string>();
  const keepTask = (t: string) => (allTasks.add(t), tasks === undefined || tasks.includes(t));
  const raw = await funcFolders(cache, root, keepSubject);
  const derived = await funcFolders(cache, derivatives, keepSubject);
  const { units, misnamed } = await collectRuns(
    cache,
    root,
    raw.folders,
    derived.folders,
    keepTask,
  );
  const warnings: string[] = [
    ...[...raw.skipped, ...derived.skipped].map((p) => `skipped ${p}: not a sub-<label> folder`),
  ];
  if (derived.subjects.length === 0) {
    // fMRIPrep before 21 nested its outputs one level deeper (…/fmriprep/fmriprep/sub-*).
    const inside = (await cache.list(derivatives)).filter((e) => e.isDir).map((e) => e.name);
    warnings.push(
      `the derivatives folder ${derivatives} has no sub-* folders (it holds ${list(inside)}); ` +
        "set derivatives to the folder that holds fMRIPrep's sub-* folders",
    );
  }
  const present = new Set([...raw.subjects, ...derived.subjects]);
  for (const s of subjects ?? []) {
    if (!present.has(s)) warnings.push(`subject sub-${s} is not in the dataset`);
  }
  for (const t of tasks ?? []) {
    if (!allTasks.has(t)) warnings.push(`task ${t} has no run among the subjects scanned`);
  }
  if (units.size === 0) {
    const field = subjects && ![...present].some(keepSubject)
      ? "bids.subjects"
      : tasks
      ? "bids.tasks"
      : "bids.root";
    throw new InputError("no BOLD run matches the filters", {
      file: root,
      field,
      expected: `runs of subjects ${subjects ? list(subjects) : "(any)"} and tasks ${
        tasks ? list(tasks) : "(any)"
      } (raw *_bold.nii[.gz] or fMRIPrep *_desc-preproc_bold.nii[.gz] in sub-*/[ses-*/]func/)`,
      found: `subjects in the dataset: ${list([...present].sort(compare))}; tasks of the ` +
        `subjects scanned: ${list([...allTasks].sort(compare))}`,
    });
  }

  // Checks, run by run.
  const transcripts = new Map<string, Promise<TranscriptFound>>();
  const ctx: ScanContext = {
    cache,
    root,
    derivatives,
    space,
    ...(query.res !== undefined ? { res: query.res } : {}),
    requireConfounds: query.requireConfounds ?? true,
    transcript: (task) => {
      let p = transcripts.get(task);
      if (!p) transcripts.set(task, p = findTranscript(cache, root, task));
      return p;
    },
  };
  const usedExcludes = new Set<string>();
  const isExcluded = (u: UnitFiles) => {
    const hit = excludes.filter((x) => entitiesSubset(x.entities, u.key));
    for (const x of hit) usedExcludes.add(x.entry);
    return hit.length > 0;
  };
  const all = [...units.values()];
  const examined = await mapLimit(all, CONCURRENCY, async (u) => {
    if (isExcluded(u)) return { unit: u, excluded: true as const };
    return { ...(await examineUnit(u, ctx)), excluded: false as const };
  });
  for (const x of excludes) {
    if (!usedExcludes.has(x.entry)) warnings.push(`exclude entry ${x.entry} matches no run`);
  }

  // TR agreement within each task, among runs with a TR.
  const trsOf = new Map<string, number[]>();
  for (const e of examined) {
    if (!e.excluded && e.run.tr !== undefined) {
      const list = trsOf.get(e.unit.key.task) ?? [];
      list.push(e.run.tr);
      trsOf.set(e.unit.key.task, list);
    }
  }
  const common = new Map([...trsOf].map(([task, trs]) => [task, commonTrs(trs)]));
  for (const e of examined) {
    if (e.excluded || e.run.tr === undefined) continue;
    const best = common.get(e.unit.key.task)!;
    if (best.length === 1 && Math.abs(best[0] - e.run.tr) < 1e-4) continue;
    e.problems.unshift(
      best.length === 1
        ? `TR ${seconds(e.run.tr)}, the task's other runs have ${seconds(best[0])}`
        : `TR ${seconds(e.run.tr)}; the task's runs disagree (${
          best.map(seconds).join(", ")
        }, as many runs each)`,
    );
  }

  // Verdicts and usable runs, in a stable order.
  const keyed: (BidsVerdict & { key: string[] })[] = [];
  const usable: { run: BidsRun; key: string[] }[] = [];
  for (const e of examined) {
    const k = e.unit.key;
    const key = [k.sub, k.task, k.ses ?? "", k.run ?? "", e.unit.id];
    const base = { unit: e.unit.id, subject: k.sub, task: k.task, key };
    if (e.excluded) {
      const files = [...e.unit.preproc, ...e.unit.raw].map((f) => f.path);
      keyed.push({ ...base, usable: false, reason: EXCLUDED, files });
      continue;
    }
    const ok = e.problems.length === 0;
    keyed.push({
      ...base,
      usable: ok,
      reason: [...e.problems, ...e.remarks].join("; "),
      files: e.files,
    });
    if (ok) usable.push({ run: e.run as BidsRun, key });
  }
  for (const m of misnamed) {
    keyed.push({
      unit: m.file,
      subject: m.subject,
      ...(m.task !== undefined ? { task: m.task } : {}),
      usable: false,
      reason: m.reason,
      files: [m.path],
      key: [m.subject, m.task ?? "", "", "", m.file],
    });
  }
  keyed.sort(byKey);
  usable.sort(byKey);
  const verdicts: BidsVerdict[] = keyed.map(({ key: _, ...v }) => v);

  const taskNames = [...new Set(all.map((u) => u.key.task))].sort(compare);
  const taskSummaries: BidsTaskSummary[] = [];
  for (const task of taskNames) {
    const t = await ctx.transcript(task);
    const ofTask = examined.filter((e) => e.unit.key.task === task);
    const best = common.get(task);
    taskSummaries.push({
      task,
      ...(t.path ? { transcript: t.path, words: t.words } : {}),
      ...(t.problem
        ? { transcriptProblem: t.problem + (t.lookedFor ? ` (${t.lookedFor})` : "") }
        : {}),
      ...(best?.length === 1 ? { tr: best[0] } : {}),
      runs: ofTask.length,
      usable: usable.filter((u) => u.run.task === task).length,
    });
  }
  const spaces = new Set<string>();
  for (const u of all) {
    for (const f of u.preproc) if (f.name.entities.space) spaces.add(f.name.entities.space);
  }
  return {
    root,
    derivatives,
    space,
    ...(query.res !== undefined ? { res: query.res } : {}),
    units: usable.map((u) => u.run),
    verdicts,
    tasks: taskNames,
    subjects: [...new Set(all.map((u) => u.key.sub))].sort(compare),
    spaces: [...spaces].sort(compare),
    taskSummaries,
    warnings,
  };
}
