/**
 * What is generated from the options' descriptions is current: the README's
 * option tables and `packages/core/options_types.ts`. A changed option,
 * default or doc line fails here until
 * `deno run --allow-read --allow-write tools/generate_options.ts` rewrites them.
 */

import assert from "node:assert/strict";
import {
  OPTION_TABLES,
  optionTablesIn,
  renderOptionTypes,
  tableCells,
} from "../packages/core/options_docs.ts";
import { OPTION_TYPES, README } from "../tools/generate_options.ts";

const REGENERATE = "deno run --allow-read --allow-write tools/generate_options.ts";

Deno.test("the README's option tables are generated from the options' descriptions", async () => {
  const inReadme = optionTablesIn(await Deno.readTextFile(README));
  assert.deepEqual(Object.keys(inReadme).sort(), Object.keys(OPTION_TABLES).sort());
  for (const [name, table] of Object.entries(OPTION_TABLES)) {
    assert.deepEqual(
      inReadme[name],
      tableCells(table()),
      `README table "${name}" is stale: run ${REGENERATE}`,
    );
  }
});

Deno.test("the tables cover every analysis-file field and every flag", async () => {
  const { ANALYSIS_FILE, MODES, OPTIONS, flagIn } = await import("../packages/core/options.ts");
  const { fieldsOf } = await import("../packages/core/options_schema.ts");
  const fields = OPTION_TABLES["analysis-file"]();
  for (const f of fieldsOf(ANALYSIS_FILE)) {
    assert.ok(fields.includes(`\`${f.parent ? `${f.parent}.${f.key}` : f.key}\``), f.key);
  }
  const flags = OPTION_TABLES["analysis-flags"]() + OPTION_TABLES["run-flags"]();
  for (const def of Object.values(OPTIONS)) {
    for (const mode of MODES) {
      const flag = flagIn(def, mode);
      if (flag) assert.match(flags, new RegExp(`\`--${flag}[ \`]`), flag);
    }
  }
});

Deno.test("the options' TypeScript declarations are generated from their descriptions", async () => {
  assert.equal(
    await Deno.readTextFile(OPTION_TYPES),
    renderOptionTypes(),
    `packages/core/options_types.ts is stale: run ${REGENERATE}`,
  );
});
