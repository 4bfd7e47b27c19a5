/**
 * Writes a results folder as `results.ts` describes it, atomically: the
 * folder is built beside its place and swapped in whole.
 *
 * @module
 */

import { join } from "node:path";
import {
  npyParts,
  type Provenance,
  writeDirAtomic,
  writeFileAtomic,
  writeJsonAtomic,
  writeProvenance,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import { csvChunks } from "./csv.ts";
import { atomsCsv } from "./phantom_files.ts";
import { modelFiles, RESULT_FILES, type ResultsSummary, type ResultTable } from "./results.ts";

/** Everything a results folder holds. */
export interface ResultsContent {
  /** Written as `summary.json`. */
  summary: ResultsSummary;
  /** Every table, each with its path and columns from `results.ts`. */
  tables: ResultTable[];
  /** Each model's atoms (T × K): `models/<model>/atoms.csv`. */
  atoms: { model: string; atoms: Matrix }[];
  /** Binary files at their paths from `results.ts` (each model's `codes.npy`). Default: none. */
  files?: ResultFile[];
  /** The static report's HTML. */
  report: string;
  /** Inputs, parameters, seed, backend and command, written as `provenance.json`. */
  provenance: Provenance;
  /** Writes the maps (NIfTI) into the folder, where there is a voxel level. */
  maps?: (dir: string) => Promise<void>;
  /**
   * Finishes the report once everything else is in the folder (the pipeline
   * adds the self-contained brain maps, read from the maps just written).
   * Default: the report as given.
   */
  finishReport?: (dir: string, html: string) => Promise<string>;
}

/** A binary file of the results folder. */
export interface ResultFile {
  /** Its path within the results folder, from `results.ts`. */
  path: string;
  /** Its bytes, or their pieces in order (written one after another, never joined). */
  data: Uint8Array | Iterable<Uint8Array>;
}

/**
 * A matrix as a NumPy `.npy` file of the results folder (float32, C order,
 * shape (rows, cols)); its values are written from the matrix itself, not copied.
 *
 * @param path its path within the results folder, e.g. `modelFiles(name).codes`
 * @param matrix the values, row-major
 *
 * @example
 * ```ts
 * import { modelFiles, npyFile } from "@brainorg/core";
 * const codes = { rows: 2, cols: 3, data: new Float32Array(6) };
 * npyFile(modelFiles("m").codes, codes).path; // "models/m/codes.npy"
 * ```
 */
export function npyFile(path: string, matrix: Matrix): ResultFile {
  return { path, data: npyParts({ shape: [matrix.rows, matrix.cols], data: matrix.data }) };
}

/**
 * Write one table into the results folder `dir`, at its path, with its
 * columns in order. The rows are formatted and written in pieces, so a
 * table of millions of rows (a generator) is never held as one string.
 *
 * @param dir the results folder (or the temporary one being built)
 * @param table the table's spec from `results.ts` and its rows
 */
export async function writeTable(dir: string, table: ResultTable): Promise<void> {
  const rows = table.rows as Iterable<Record<string, unknown>>;
  const encoder = new TextEncoder();
  function* bytes() {
    for (const piece of csvChunks(table.columns, rows)) yield encoder.encode(piece);
  }
  await writeFileAtomic(join(dir, table.path), bytes());
}

/**
 * Write (replace) a results folder.
 *
 * @param outDir the folder; an existing one is replaced only when the new one is complete
 * @throws {OutputError} naming the folder when it cannot be written
 */
export async function writeResults(outDir: string, content: ResultsContent): Promise<void> {
  await writeDirAtomic(outDir, async (dir) => {
    await writeJsonAtomic(join(dir, RESULT_FILES.summary), content.summary);
    for (const t of content.tables) await writeTable(dir, t);
    for (const f of content.files ?? []) await writeFileAtomic(join(dir, f.path), f.data);
    for (const a of content.atoms) {
      await writeTextFileAtomic(join(dir, modelFiles(a.model).atoms), atomsCsv(a.atoms));
    }
    await content.maps?.(dir);
    const report = content.finishReport
      ? await content.finishReport(dir, content.report)
      : content.report;
    await writeTextFileAtomic(join(dir, RESULT_FILES.report), report);
    await writeProvenance(dir, content.provenance);
  }, { what: "the results folder" });
}
