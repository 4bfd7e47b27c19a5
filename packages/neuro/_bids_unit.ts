/**
 * The checks of one run of a BIDS dataset: its preprocessed BOLD in the
 * space asked for (header readable, data complete), brain mask, confounds,
 * events (stimulus onset), TR and the task's transcript. Each problem
 * becomes a reason, never an exception. Private to `@brainorg/neuro`.
 *
 * @module
 */

import { basename, join } from "node:path";
import { readFile } from "node:fs/promises";
import { InputError } from "@brainorg/common";
import { readTranscript } from "./transcript.ts";
import { type NiftiHeaderInfo, readNiftiHeaderInfo } from "./nifti_header.ts";
import { applicableFiles, sidecarWithCache } from "./bids_sidecar.ts";
import type { BidsFsCache } from "./_bids_fs.ts";
import type { FuncFile, UnitFiles } from "./_bids_discover.ts";
import type { BidsRun } from "./bids_types.ts";

/** What a scan shares among its runs. */
export interface ScanContext {
  cache: BidsFsCache;
  root: string;
  derivatives: string;
  space: string;
  res?: string;
  requireConfounds: boolean;
  transcript: (task: string) => Promise<TranscriptFound>;
}

/** A run after its checks: problems make it unusable, remarks do not. */
export interface Examined {
  unit: UnitFiles;
  run: Partial<BidsRun>;
  problems: string[];
  remarks: string[];
  files: string[];
}

/** A task's transcript, or why there is none. */
export interface TranscriptFound {
  path?: string;
  words?: number;
  /** Why there is none, short: it is repeated on every run of the task. */
  problem?: string;
  /** Where it was looked for (said once, on the task's line). */
  lookedFor?: string;
  remark?: string;
}

/** Where a task's transcript may be, most preferred first. */
export function transcriptCandidates(root: string, task: string): string[] {
  return [
    join(root, "stimuli", "gentle", task, "align.json"),
    join(root, "stimuli", "gentle", task, "align.csv"),
    join(root, "stimuli", `${task}.TextGrid`),
    join(root, "stimuli", `${task}_align.csv`),
  ];
}

/**
 * The first candidate transcript that exists and reads; one that exists
 * but does not read is passed over with a remark (or is the problem when
 * none reads).
 */
export async function findTranscript(
  cache: BidsFsCache,
  root: string,
  task: string,
): Promise<TranscriptFound> {
  const candidates = transcriptCandidates(root, task);
  const failed: string[] = [];
  for (const path of candidates) {
    const dir = path.slice(0, path.length - basename(path).length - 1);
    if (!(await cache.list(dir)).some((e) => !e.isDir && e.name === basename(path))) continue;
    try {
      const t = await readTranscript(path);
      return {
        path,
        words: t.words.length,
        ...(failed.length ? { remark: `transcript ${failed.join("; ")} unreadable` } : {}),
      };
    } catch (err) {
      failed.push(`${rel(root, path)} (${(err as Error).message})`);
    }
  }
  if (failed.length) return { problem: `transcript unreadable: ${failed.join("; ")}` };
  return {
    problem: `no transcript for task ${task}`,
    lookedFor: `looked for ${candidates.map((c) => rel(root, c)).join(", ")}`,
  };
}

function rel(root: string, path: string): string {
  return path.startsWith(root + "/") ? path.slice(root.length + 1) : path;
}

/** Seconds with at least one decimal: `2.0 s`, `1.5 s`, `0.72 s`. */
export function seconds(t: number): string {
  const s = Number.isInteger(t) ? t.toFixed(1) : String(Number(t.toPrecision(6)));
  return `${s} s`;
}

function describeSpaces(files: FuncFile[]): string {
  const seen = new Set(
    files.map((f) =>
      f.name.entities.space === undefined
        ? "(no space)"
        : f.name.entities.space + (f.name.entities.res ? ` (res-${f.name.entities.res})` : "")
    ),
  );
  return [...seen].join(", ");
}

/** The preprocessed BOLD in the space and resolution asked for, with any remark. */
function choosePreproc(u: UnitFiles, ctx: ScanContext): { bold?: FuncFile; note?: string } {
  let inSpace = u.preproc.filter((f) => f.name.entities.space === ctx.space);
  if (ctx.res !== undefined) {
    inSpace = inSpace.filter((f) => {
      const r = f.name.entities.res;
      return r === ctx.res || (ctx.res === "native" && r === undefined);
    });
  }
  if (inSpace.length === 0) return {};
  const resolutions = new Set(inSpace.map((f) => f.name.entities.res ?? "(none)"));
  if (resolutions.size > 1) {
    const bold = inSpace[0];
    return {
      bold,
      note: `several resolutions (res-${[...resolutions].join(", res-")}); used res-${
        bold.name.entities.res ?? "(none)"
      } (set res to choose)`,
    };
  }
  return { bold: inSpace[0] };
}

/** The onset of the story's row of an events.tsv (see {@linkcode BidsRun.stimulusOnset}). */
export function stimulusOnsetOf(text: string, task: string): number | string {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return "events.tsv is empty";
  const header = lines[0].split("\t").map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  const onsetAt = col("onset");
  if (onsetAt < 0) return `events.tsv has no onset column (columns: ${header.join(", ")})`;
  const named = [col("trial_type"), col("stim_file")].filter((c) => c >= 0);
  const want = task.toLowerCase();
  let first: number | undefined;
  for (const line of lines.slice(1)) {
    const cells = line.split("\t");
    const onset = Number(cells[onsetAt]);
    if (cells[onsetAt] === undefined || cells[onsetAt].trim() === "" || !Number.isFinite(onset)) {
      continue;
    }
    if (named.some((c) => (cells[c] ?? "").toLowerCase().includes(want))) return onset;
    first ??= onset;
  }
  return first ?? "events.tsv has no row with a numeric onset";
}

/** RepetitionTime from a sidecar chain: the value and the sidecar that set it. */
async function sidecarTr(
  ctx: ScanContext,
  root: string,
  file: string,
): Promise<{ tr?: number; from?: string; problem?: string }> {
  let chain;
  try {
    chain = await sidecarWithCache(ctx.cache, root, file);
  } catch (err) {
    return { problem: `unreadable sidecar: ${(err as Error).message}` };
  }
  const value = chain.metadata.RepetitionTime;
  if (value === undefined) return {};
  let from: string | undefined;
  for (const f of chain.files) if ("RepetitionTime" in await ctx.cache.json(f)) from = f;
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    return {
      problem: `RepetitionTime ${JSON.stringify(value)} in ${from} is not a positive number`,
    };
  }
  return { tr: value, from };
}

async function header(path: string): Promise<NiftiHeaderInfo | string> {
  try {
    return await readNiftiHeaderInfo(path);
  } catch (err) {
    // Listed but not there: a link into a DataLad/git-annex store whose content was never fetched.
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (err instanceof InputError && err.field === "(file)" && code === "ENOENT") {
      return `${basename(path)} is listed but cannot be opened (a broken link? in a DataLad ` +
        "dataset, fetch it with `datalad get`)";
    }
    return (err as Error).message;
  }
}

/** Every check of one run that is not excluded (the TR's agreement with the task's other runs comes later). */
export async function examineUnit(u: UnitFiles, ctx: ScanContext): Promise<Examined> {
  const problems: string[] = [], remarks: string[] = [];
  const task = u.key.task;
  const run: Partial<BidsRun> = {
    id: u.id,
    subject: u.key.sub,
    ...(u.key.ses !== undefined ? { session: u.key.ses } : {}),
    task,
    ...(u.key.run !== undefined ? { run: Number(u.key.run) } : {}),
  };
  const rawBold = u.raw[0];
  if (rawBold) run.rawBold = rawBold.path;
  if (u.raw.length > 1 && u.raw.every((f) => f.name.entities.echo === undefined)) {
    remarks.push(
      `several raw bolds (${u.raw.map((f) => f.file).join(", ")}); used ${rawBold.file}`,
    );
  }

  // The preprocessed BOLD and its header.
  const { bold, note } = choosePreproc(u, ctx);
  let h: NiftiHeaderInfo | undefined;
  if (!bold) {
    const want = ctx.space + (ctx.res !== undefined ? ` (res-${ctx.res})` : "");
    problems.push(
      u.preproc.length
        ? `no preproc bold in space ${want}; this run has ${describeSpaces(u.preproc)}`
        : `no preproc bold in space ${want}; fMRIPrep wrote no preproc bold for this run`,
    );
  } else {
    run.bold = bold.path;
    run.space = ctx.space;
    if (bold.name.entities.res !== undefined) run.res = bold.name.entities.res;
    if (note) remarks.push(note);
    const got = await header(bold.path);
    if (typeof got === "string") problems.push(`unreadable header: ${got}`);
    else {
      h = got;
      if (h.size.status === "truncated") problems.push(`truncated image: ${h.size.detail}`);
      else if (h.size.status === "corrupt") problems.push(`corrupt image: ${h.size.detail}`);
      else if (h.size.status === "not checked") remarks.push(`size not checked: ${h.size.detail}`);
      if (h.dims.length < 4 || h.volumes < 2) {
        problems.push(`the preproc bold is not a time series (dims ${h.dims.join("×")})`);
      }
      run.volumes = h.volumes;
    }
    const maskEntities = { ...bold.name.entities, desc: "brain" };
    const mask = u.masks.find((m) =>
      Object.keys(maskEntities).length === Object.keys(m.name.entities).length &&
      Object.entries(maskEntities).every(([k, v]) => m.name.entities[k] === v)
    );
    if (!mask) remarks.push("no brain mask in this space");
    else {
      run.mask = mask.path;
      const mh = await header(mask.path);
      if (typeof mh === "string") problems.push(`unreadable brain mask header: ${mh}`);
      else if (mh.size.status === "truncated" || mh.size.status === "corrupt") {
        problems.push(`${mh.size.status} brain mask: ${mh.size.detail}`);
      } else if (h && mh.dims.slice(0, 3).join("×") !== h.dims.slice(0, 3).join("×")) {
        problems.push(
          `brain mask grid ${mh.dims.slice(0, 3).join("×")} differs from the bold's ${
            h.dims.slice(0, 3).join("×")
          }`,
        );
      }
    }
  }

  // Confounds.
  const confounds = u.confounds[0];
  if (confounds) {
    run.confounds = confounds.path;
    if (confounds.name.suffix === "regressors") {
      remarks.push("confounds from desc-confounds_regressors.tsv (fMRIPrep before 20.2)");
    }
  } else if (ctx.requireConfounds) problems.push("no desc-confounds_timeseries.tsv");
  else remarks.push("no desc-confounds_timeseries.tsv");

  // Events, by inheritance: the closest events.tsv that applies.
  const eventsFor = { entities: rawBold ? rawBold.name.entities : u.key, suffix: "events" };
  const events = (await applicableFiles(ctx.cache, ctx.root, u.rawDir, eventsFor, ".tsv")).at(-1);
  if (events) {
    run.events = events;
    let onset: number | string;
    try {
      onset = stimulusOnsetOf(await readFile(events, "utf8"), task);
    } catch (err) {
      onset = `events.tsv unreadable: ${(err as Error).message}`;
    }
    if (typeof onset === "string") problems.push(`${onset} (${basename(events)})`);
    else run.stimulusOnset = onset;
  } else {
    run.stimulusOnset = 0;
    remarks.push("no events.tsv: stimulus onset taken as 0 s");
  }

  // TR: the raw BOLD's sidecars (a raw BOLD not in the dataset still
  // inherits top-level sidecars), then the preprocessed BOLD's, then the header.
  const rawTarget = rawBold?.path ?? join(u.rawDir, `${u.id}_bold.nii.gz`);
  let t = await sidecarTr(ctx, ctx.root, rawTarget);
  if (t.tr === undefined && !t.problem && bold) {
    t = await sidecarTr(ctx, ctx.derivatives, bold.path);
  }
  if (t.problem) problems.push(t.problem);
  else if (t.tr !== undefined) {
    run.tr = t.tr;
    if (h?.tr !== undefined && Math.abs(h.tr - t.tr) > 1e-3) {
      remarks.push(
        `the NIfTI header's pixdim[4] says ${seconds(h.tr)}; the sidecar's ${
          seconds(t.tr)
        } is used`,
      );
    }
  } else if (h?.tr !== undefined) {
    run.tr = h.tr;
    remarks.push(
      "TR from the NIfTI header (no sidecar)" +
        (h.timeUnit === "unknown" ? " (time unit unknown, taken as seconds)" : ""),
    );
  } else if (h) {
    problems.push("no TR: no RepetitionTime in any sidecar and no time step in the NIfTI header");
  }

  // The task's transcript.
  const tr = await ctx.transcript(task);
  if (tr.path) run.transcript = tr.path;
  if (tr.problem) problems.push(tr.problem);
  if (tr.remark) remarks.push(tr.remark);

  const files = [
    run.bold,
    run.mask,
    run.confounds,
    run.events,
    run.rawBold,
    run.transcript,
    ...(bold ? [] : u.preproc.map((f) => f.path)),
  ].filter((f): f is string => f !== undefined);
  return { unit: u, run, problems, remarks, files };
}
