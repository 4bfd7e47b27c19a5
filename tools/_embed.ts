/**
 * The shape both generators share: one exported record, one entry per
 * source file of a folder (by name without the extension), in name order.
 *
 * @module
 */

import { join } from "node:path";

/** The text of a generated module embedding `dir/*ext`. */
export async function renderEmbedding(o: {
  /** The folder of the sources. */
  dir: string;
  /** Their extension, with the dot. */
  ext: string;
  /** The first comment line (who generated it, and how to regenerate). */
  header: string;
  /** The record's doc comment. */
  doc: string;
  /** The record's name. */
  name: string;
  /** Each source's entry: a TypeScript expression. */
  value: (path: string) => Promise<string>;
}): Promise<string> {
  const names = [...Deno.readDirSync(o.dir)].map((e) => e.name).filter((n) => n.endsWith(o.ext))
    .sort();
  let out = `// ${o.header}\n\n/** ${o.doc} */\n`;
  out += `export const ${o.name}: Readonly<Record<string, string>> = {\n`;
  for (const name of names) {
    out += `  ${JSON.stringify(name.slice(0, -o.ext.length))}: ${await o.value(
      join(o.dir, name),
    )},\n`;
  }
  return out + "};\n";
}
