/**
 * Which ANs belong to each atom's sub-group, as the pages show it: read
 * from `models/<model>/members.csv` through the results schema, reduced on
 * the server to each atom's size and strongest ANs, so that the page gets
 * at most `top` ANs per atom and never the code matrix.
 *
 * @module
 */

import { fileCache } from "./file_cache.ts";
import type { Problem } from "./problems.ts";
import { MAX_LAYERS } from "./run_data.ts";
import { resolveRunFile, type Run } from "./runs.ts";
import { MAX_ATOMS } from "./summary.ts";
import { type Row, scanTable } from "./tables.ts";
import { modelFiles } from "@brainorg/core/results";

/** The largest unit index read (far above any model's FFN width). */
export const MAX_UNITS = 2 ** 20;

const MEMBER = {
  layer: { kind: "int", max: MAX_LAYERS - 1 },
  unit: { kind: "int", max: MAX_UNITS - 1 },
  atom: { kind: "int", max: MAX_ATOMS - 1 },
  code: { kind: "number" },
} as const;

/** An AN of a sub-group: where it is and its code. */
export interface MemberView {
  layer: number;
  unit: number;
  code: number;
}

/** An atom's sub-group: its size and its strongest ANs. */
export interface AtomMembersView {
  atom: number;
  /** ANs with a non-zero code on the atom (rows of the table). */
  size: number;
  positive: number;
  negative: number;
  /** The strongest, by |code| descending (NaN last), at most the `top` asked for. */
  top: MemberView[];
}

/** What {@linkcode atomMembers} found. */
export interface MembersView {
  /** Per atom that has a member, by atom. */
  atoms: AtomMembersView[];
  /** Whether the run has no members table (runs written before it existed). */
  missing: boolean;
}

/** Whether the run names the model (in its models or its voxel level): its model page exists. */
export function knownModel(run: Run, model: string): boolean {
  const s = run.summary;
  return !!s && [...s.models, ...(s.voxel?.models ?? [])].some((m) => m.name === model);
}

/** What a reduced table costs per AN kept, as the cache counts (a few small objects per atom). */
const BYTES_PER_TOP = 64 * 64;

/** |code| as a sort key: NaN below every number. */
const strength = (code: number) => (Number.isNaN(code) ? -1 : Math.abs(code));

/**
 * A large model's table (1.7 × 10⁶ rows, 34 MiB at 131,072 ANs × 64 atoms)
 * is scanned row by row, never kept parsed ({@linkcode scanTable}), and
 * reduced once per file version and `top` (kept in {@linkcode fileCache}):
 * only the few hundred ANs shown stay in memory.
 */
/** Each atom's size and its `top` strongest ANs, row by row (one pass, nothing else kept). */
function reducer(top: number) {
  const byAtom = new Map<number, AtomMembersView>();
  return {
    add(r: Row<typeof MEMBER>): void {
      let a = byAtom.get(r.atom);
      if (!a) byAtom.set(r.atom, a = { atom: r.atom, size: 0, positive: 0, negative: 0, top: [] });
      a.size++;
      if (r.code > 0) a.positive++;
      else if (r.code < 0) a.negative++;
      // The writer sorts by |code| already; a kept list of `top` makes any order right.
      const s = strength(r.code), list = a.top;
      if (list.length === top && s <= strength(list[top - 1].code)) return;
      let i = list.length;
      while (i > 0 && strength(list[i - 1].code) < s) i--;
      list.splice(i, 0, { layer: r.layer, unit: r.unit, code: r.code });
      if (list.length > top) list.pop();
    },
    atoms: () => [...byAtom.values()].sort((a, b) => a.atom - b.atom),
  };
}

/**
 * Each atom's sub-group of a model: its size and its strongest ANs.
 *
 * @param run the run
 * @param model the model's name (its folder under `models/`)
 * @param problems where rows that do not fit the table's columns are reported
 * @param top ANs kept per atom. Default: 20.
 */
export async function atomMembers(
  run: Run,
  model: string,
  problems: Problem[],
  top = 20,
): Promise<MembersView> {
  const table = modelFiles(model).members, file = await resolveRunFile(run, table.path);
  const hit = file
    ? await fileCache.get(file, `members:${top}`, async () => {
      const mine: Problem[] = [], reduced = reducer(top);
      await scanTable(run, { table, columns: MEMBER, problems: mine }, reduced.add);
      return { atoms: reduced.atoms(), problems: mine };
    }, { bytes: () => top * BYTES_PER_TOP })
    : null;
  if (!hit) return { atoms: [], missing: true };
  problems.push(...hit.problems);
  return { atoms: hit.atoms, missing: false };
}

/** How a sub-group's table may be ordered: `code` is by |code| descending (NaN last). */
export const MEMBER_SORTS = ["code", "layer", "unit"] as const;

/** One of {@linkcode MEMBER_SORTS}. */
export type MemberSort = typeof MEMBER_SORTS[number];

/**
 * ANs in a table's order: by |code| descending, or by layer or unit
 * ascending with |code| descending within a tie (a new array).
 *
 * @example
 * ```ts
 * sortMembers([{ layer: 1, unit: 0, code: 0.9 }, { layer: 0, unit: 5, code: -0.2 }], "layer")[0].layer; // 0
 * ```
 */
export function sortMembers(members: MemberView[], sort: MemberSort): MemberView[] {
  const byCode = (a: MemberView, b: MemberView) => strength(b.code) - strength(a.code);
  const key = sort === "code" ? null : sort;
  return [...members].sort((a, b) =>
    (key ? a[key] - b[key] || (key === "layer" ? a.unit - b.unit : a.layer - b.layer) : 0) ||
    byCode(a, b)
  );
}

/** The rows of members.csv read per chunk of the streamed download. */
const LINES_PER_CHUNK = 4096;

/**
 * One atom's rows of a model's `members.csv`, streamed as CSV (the file's
 * header, then its rows whose `atom` column is `atom`, as written), so that
 * a 1.7 × 10⁶-row table is filtered without being held in memory.
 *
 * @param run the run
 * @param model the model's name
 * @param atom the atom's index
 * @returns the CSV bytes; null when the table is absent; a problem when its header has no `atom` column
 */
export async function atomMembersCsv(
  run: Run,
  model: string,
  atom: number,
): Promise<ReadableStream<Uint8Array> | Problem | null> {
  const path = modelFiles(model).members.path, file = await resolveRunFile(run, path);
  let handle: Deno.FsFile;
  try {
    if (!file) return null;
    handle = await Deno.open(file);
  } catch {
    return null;
  }
  const lines = splitLines(handle.readable.pipeThrough(new TextDecoderStream()));
  const first = await lines.next();
  const header = first.done ? "" : first.value, column = header.split(",").indexOf("atom");
  if (column < 0) {
    await lines.return(undefined);
    return {
      file: path,
      field: "header",
      expected: "columns layer, unit, atom, code",
      found: header ? header.slice(0, 80) : "an empty file",
    };
  }
  const wanted = String(atom), encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(header + "\n"));
    },
    async pull(controller) {
      // A pull that enqueues nothing is not called again: read on until a line matches or the end.
      let out = "";
      for (let n = 0; n < LINES_PER_CHUNK || !out; n++) {
        const next = await lines.next();
        if (next.done) {
          if (out) controller.enqueue(encoder.encode(out));
          controller.close();
          return;
        }
        // Cells are numbers (the writer quotes nothing here), so a split finds the column.
        if (next.value.split(",", column + 1)[column] === wanted) out += next.value + "\n";
      }
      controller.enqueue(encoder.encode(out));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

/** A text stream's lines, without their line ends; empty lines are skipped. */
async function* splitLines(text: ReadableStream<string>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of text) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) {
      const line = p.replace(/\r$/, "");
      if (line) yield line;
    }
  }
  const line = rest.replace(/\r$/, "");
  if (line) yield line;
}

/**
 * An AN and its code as the pages print them: `L3.u117 +0.82`.
 *
 * @example
 * ```ts
 * memberText({ layer: 3, unit: 117, code: 0.8213 }); // "L3.u117 +0.82"
 * ```
 */
export function memberText(m: MemberView): string {
  const code = Number.isFinite(m.code) ? `${m.code >= 0 ? "+" : ""}${m.code.toFixed(2)}` : "—";
  return `L${m.layer}.u${m.unit} ${code}`;
}
