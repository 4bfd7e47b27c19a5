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
import { MAX_TABLE_BYTES, scanTable } from "./tables.ts";
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
    add(layer: number, unit: number, atom: number, code: number): void {
      let a = byAtom.get(atom);
      if (!a) byAtom.set(atom, a = { atom, size: 0, positive: 0, negative: 0, top: [] });
      a.size++;
      if (code > 0) a.positive++;
      else if (code < 0) a.negative++;
      // The writer sorts by |code| already; a kept list of `top` makes any order right.
      const s = strength(code), list = a.top;
      if (list.length === top && s <= strength(list[top - 1].code)) return;
      let i = list.length;
      while (i > 0 && strength(list[i - 1].code) < s) i--;
      list.splice(i, 0, { layer, unit, code });
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
    ? await fileCache.get(file, `members:${top}`, async (f, stat) => {
      // The writer's plain layout is read from the bytes (a 1.7 × 10⁶-row table in about a
      // tenth of the time); anything else, or any cell that does not fit, by the table reader,
      // which says what is wrong where.
      let reduced = reducer(top);
      const bytes = stat.size <= MAX_TABLE_BYTES ? await readBytes(f, stat.size) : null;
      if (bytes && scanPlainMembers(bytes, reduced.add)) {
        return { atoms: reduced.atoms(), problems: [] };
      }
      const mine: Problem[] = [];
      reduced = reducer(top);
      await scanTable(
        run,
        { table, columns: MEMBER, problems: mine },
        (r) => reduced.add(r.layer, r.unit, r.atom, r.code),
      );
      return { atoms: reduced.atoms(), problems: mine };
    }, { bytes: () => top * BYTES_PER_TOP })
    : null;
  if (!hit) return { atoms: [], missing: true };
  problems.push(...hit.problems);
  return { atoms: hit.atoms, missing: false };
}

/**
 * A file's bytes into a buffer of its known size (Deno.readFile grows one:
 * 2–3 times slower for a 33 MB table); null when it is not that size now.
 */
async function readBytes(file: string, size: number): Promise<Uint8Array | null> {
  using f = await Deno.open(file);
  const buf = new Uint8Array(size);
  for (let at = 0; at < size;) {
    const got = await f.read(buf.subarray(at));
    if (got === null) return null;
    at += got;
  }
  return buf;
}

/** The header {@linkcode scanPlainMembers} reads: the writer's, exactly. */
const PLAIN_HEADER = "layer,unit,atom,code";

/** 10^k for the decimal fractions of a code (exact doubles up to 10^22). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A members table in the writer's plain layout, row by row from its bytes:
 * the header `layer,unit,atom,code` (LF or CRLF line ends, empty lines
 * skipped), whole numbers in range for the first three columns and a plain
 * decimal code (`-0.899987`; up to 15 significant digits it is
 * `digits / 10^k`, the correctly rounded value `Number()` gives, and
 * `Number()` of the cell beyond or with an exponent). It stops
 * at the first line of any other form, having called `add` for the lines
 * before it.
 *
 * @param bytes the file's bytes
 * @param add called per row with its layer, unit, atom and code
 * @returns whether every line was read (false: read the table the general way)
 *
 * @example
 * ```ts
 * const rows: number[][] = [];
 * scanPlainMembers(new TextEncoder().encode("layer,unit,atom,code\n3,117,0,-0.82\n"), (...r) => rows.push(r));
 * // rows: [[3, 117, 0, -0.82]]
 * ```
 */
export function scanPlainMembers(
  bytes: Uint8Array,
  add: (layer: number, unit: number, atom: number, code: number) => void,
): boolean {
  const n = bytes.length;
  let i = 0;
  for (; i < PLAIN_HEADER.length; i++) {
    if (bytes[i] !== PLAIN_HEADER.charCodeAt(i)) return false;
  }
  if (bytes[i] === 13) i++;
  if (i < n && bytes[i++] !== 10) return false;
  const limits = [MAX_LAYERS - 1, MAX_UNITS - 1, MAX_ATOMS - 1], ints = [0, 0, 0];
  while (i < n) {
    let c = bytes[i];
    if (c === 10 || (c === 13 && bytes[i + 1] === 10)) {
      i += c === 10 ? 1 : 2;
      continue;
    }
    for (let k = 0; k < 3; k++) {
      let v = 0, digits = 0;
      for (; i < n && (c = bytes[i]) >= 48 && c <= 57; i++, digits++) v = v * 10 + c - 48;
      if (!digits || v > limits[k] || bytes[i++] !== 44) return false;
      ints[k] = v;
    }
    const start = i, negative = bytes[i] === 45;
    if (negative) i++;
    let mantissa = 0, significant = 0, fraction = 0, digits = 0, point = false;
    for (; i < n; i++) {
      c = bytes[i];
      if (c >= 48 && c <= 57) {
        if (significant || c !== 48) significant++;
        mantissa = mantissa * 10 + c - 48;
        digits++;
        if (point) fraction++;
      } else if (c === 46 && !point) point = true;
      else break;
    }
    if (!digits) return false;
    // An exponent (a writer may print 1.2e-7): the cell goes to Number().
    let exponent = false;
    if (c === 101 || c === 69) {
      exponent = true;
      if (bytes[++i] === 43 || bytes[i] === 45) i++;
      const from = i;
      while (i < n && (c = bytes[i]) >= 48 && c <= 57) i++;
      if (i === from) return false;
    }
    const end = i;
    if (end - start > 64) return false; // no writer's number: the general reader says so
    if (i < n && c === 13) i++;
    if (i < n && bytes[i++] !== 10) return false;
    // Longer codes (a float32 printed in full has 16–17 digits) are parsed by Number().
    const code = significant <= 15 && fraction <= 22 && !exponent
      ? (negative ? -mantissa : mantissa) / POW10[fraction]
      : Number(String.fromCharCode(...bytes.subarray(start, end)));
    if (!Number.isFinite(code)) return false;
    add(ints[0], ints[1], ints[2], code);
  }
  return true;
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
