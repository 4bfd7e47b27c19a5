/**
 * The text a user reads to see what a BIDS scan found: per task, per run,
 * and the totals (what the CLI's `--list` prints).
 *
 * @module
 */

import type { BidsScan, BidsVerdict } from "./bids_types.ts";
import { seconds } from "./_bids_unit.ts";

function relative(root: string, path: string): string {
  return path.startsWith(root + "/") ? path.slice(root.length + 1) : path;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** Pad to `width`, or leave as it is when longer (one long id does not widen every line). */
function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

/**
 * The listing of a scan: the dataset and space, one line per task
 * (transcript or why none, TR, runs usable), one line per run (usable or
 * excluded, with the reason or remarks; TR, volumes and stimulus onset of
 * usable runs), verdicts without a task (a caller's, e.g. a subject set
 * aside), misnamed files, warnings and the totals. Counts come from
 * `scan.verdicts`, so a caller may pass its own verdicts. One line per run
 * keeps a 345-subject dataset greppable (`grep EXCLUDED`).
 *
 * @param scan what {@linkcode scanBids} returned
 * @returns the text, lines joined by `\n`, ending with the totals line
 *
 * @example
 * ```ts
 * import { formatBidsListing, scanBids } from "@brainorg/neuro";
 * console.log(formatBidsListing(await scanBids({ root: "/data/narratives" })));
 * // Tasks (1):
 * //   pieman  transcript stimuli/gentle/pieman/align.json (957 words)  TR 1.5 s  2 of 3 runs usable
 * // Runs (3):
 * //   usable    sub-001_task-pieman  TR 1.5 s, 300 volumes, onset 0 s
 * //   EXCLUDED  sub-002_task-pieman  no desc-confounds_timeseries.tsv
 * ```
 */
export function formatBidsListing(scan: BidsScan): string {
  const rel = (p: string) => relative(scan.root, p);
  const lines: string[] = [];
  lines.push(`BIDS dataset: ${scan.root}`);
  lines.push(`fMRIPrep derivatives: ${rel(scan.derivatives)}`);
  lines.push(
    `Space: ${scan.space}${scan.res !== undefined ? ` (res-${scan.res})` : ""}; ` +
      `spaces of the preprocessed BOLD: ${scan.spaces.join(", ") || "none"}`,
  );

  // Counted from the verdicts, not the summaries: a caller may set more
  // runs aside (e.g. a run whose volumes differ from its story's) and pass
  // its own verdicts.
  const isMisnamed = (v: BidsVerdict) => v.reason.startsWith("misnamed:");
  const runs = scan.verdicts.filter((v) => !isMisnamed(v) && v.task !== undefined);
  const misnamed = scan.verdicts.filter(isMisnamed);
  const others = scan.verdicts.filter((v) => !isMisnamed(v) && v.task === undefined);

  lines.push("", `Tasks (${scan.taskSummaries.length}):`);
  const taskWidth = Math.max(0, ...scan.taskSummaries.map((t) => t.task.length));
  const transcriptText = scan.taskSummaries.map((t) =>
    t.transcript
      ? `transcript ${rel(t.transcript)}${
        t.words !== undefined ? ` (${plural(t.words, "word")})` : ""
      }`
      : `NO TRANSCRIPT: ${
        (t.transcriptProblem ?? "none found").replace(/^no transcript for task \S+ /, "")
      }`
  );
  const transcriptWidth = Math.min(70, Math.max(0, ...transcriptText.map((t) => t.length)));
  scan.taskSummaries.forEach((t, i) => {
    const ofTask = runs.filter((v) => v.task === t.task);
    lines.push(
      `  ${pad(t.task, taskWidth)}  ${pad(transcriptText[i], transcriptWidth)}  ` +
        `${t.tr !== undefined ? `TR ${seconds(t.tr)}` : "TR unknown"}  ` +
        `${ofTask.filter((v) => v.usable).length} of ${plural(ofTask.length, "run")} usable`,
    );
  });

  const byId = new Map(scan.units.map((u) => [u.id, u]));
  const idWidth = Math.min(48, Math.max(0, ...runs.map((v) => v.unit.length)));
  lines.push("", `Runs (${runs.length}):`);
  for (const v of runs) {
    const u = v.usable ? byId.get(v.unit) : undefined;
    const facts = u
      ? `TR ${seconds(u.tr)}, ${plural(u.volumes, "volume")}, onset ${
        String(Number(u.stimulusOnset.toPrecision(6)))
      } s`
      : "";
    const detail = [facts, v.reason].filter((s) => s !== "").join(" — ");
    lines.push(
      `  ${v.usable ? "usable  " : "EXCLUDED"}  ${pad(v.unit, idWidth)}  ${detail}`.trimEnd(),
    );
  }
  if (others.length) {
    lines.push("", `Other verdicts (${others.length}):`);
    for (const v of others) {
      lines.push(`  ${v.usable ? "usable  " : "EXCLUDED"}  ${v.unit}  ${v.reason}`.trimEnd());
    }
  }
  if (misnamed.length) {
    lines.push("", `Misnamed files (${misnamed.length}):`);
    for (const v of misnamed) lines.push(`  MISNAMED  ${rel(v.files[0] ?? v.unit)}  ${v.reason}`);
  }
  if (scan.warnings.length) {
    lines.push("", `Warnings (${scan.warnings.length}):`);
    for (const w of scan.warnings) lines.push(`  ${w}`);
  }
  const usable = runs.filter((v) => v.usable).length;
  lines.push(
    "",
    `Total: ${plural(runs.length, "run")} of ${plural(scan.subjects.length, "subject")} and ` +
      `${plural(scan.tasks.length, "task")}: ${usable} usable, ${runs.length - usable} excluded` +
      (misnamed.length ? `; ${plural(misnamed.length, "misnamed file")}` : ""),
  );
  return lines.join("\n");
}
