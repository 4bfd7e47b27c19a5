/**
 * Writes a results folder as `results.ts` describes it, atomically: the
 * folder is built beside its place and swapped in whole.
 *
 * @module
 */

import { join } from "node:path";
import {
  type Provenance,
  writeDirAtomic,
  writeJsonAtomic,
  writeProvenance,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import { toCsv } from "./csv.ts";
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
  /** The static report's HTML. */
  report: string;
  /** Inputs, parameters, seed, backend and command, written as `provenance.json`. */
  provenance: Provenance;
  /** Writes the maps (NIfTI) into the folder, where there is a voxel level. */
  maps?: (dir: string) => Promise<void>;
}

/**
 * Write one table into the results folder `dir`, at its path, with its columns in order.
 *
 * @param dir the results folder (or the temporary one being built)
 * @param table the table's spec from `results.ts` and its rows
 */
export async function writeTable(dir: string, table: ResultTable): Promise<void> {
  const rows = table.rows as readonly Record<string, unknown>[];
  await writeTextFileAtomic(
    join(dir, table.path),
    toCsv<Record<string, unknown>>(table.columns, rows),
  );
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
    for (const a of content.atoms) {
      await writeTextFileAtomic(join(dir, modelFiles(a.model).atoms), atomsCsv(a.atoms));
    }
    await content.maps?.(dir);
    await writeTextFileAtomic(join(dir, RESULT_FILES.report), content.report);
    await writeProvenance(dir, content.provenance);
  }, { what: "the results folder" });
}
