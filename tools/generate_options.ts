/**
 * Writes what is generated from the options' descriptions
 * (`packages/core/_options_spec.ts`): the README's option tables (between
 * their `<!-- generated: options NAME -->` markers) and the TypeScript
 * declarations of the options' values (`packages/core/options_types.ts`).
 * Run `deno run --allow-read --allow-write tools/generate_options.ts` after
 * changing an option; `test/options_generated_test.ts` fails while either
 * is stale.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// The option modules alone: the whole core package would load onnxruntime (and need --allow-ffi).
import { renderOptionTypes, updateOptionTables } from "../packages/core/options_docs.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The README whose option tables this writes. */
export const README = join(root, "README.md");

/** The generated declarations of the options' values. */
export const OPTION_TYPES = join(root, "packages", "core", "options_types.ts");

if (import.meta.main) {
  await Deno.writeTextFile(README, updateOptionTables(await Deno.readTextFile(README)));
  await Deno.writeTextFile(OPTION_TYPES, renderOptionTypes());
  console.log(`wrote the option tables of ${README} and ${OPTION_TYPES}`);
}
