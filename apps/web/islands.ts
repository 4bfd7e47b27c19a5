/**
 * Islands, as Fresh has them: interactive components rendered on the server
 * like any other and hydrated in the browser from one esbuild bundle, each
 * with the props it was rendered with (serialized as JSON in the page).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleBrowserModule } from "./_bundle.ts";

const ISLANDS = join(dirname(fileURLToPath(import.meta.url)), "islands");

/** Bundle every island and the code that hydrates them (minified ESM). */
export async function buildIslands(): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(ISLANDS)) {
    if (e.isFile && e.name.endsWith(".tsx")) names.push(e.name.replace(/\.tsx$/, ""));
  }
  names.sort();
  const entry = [
    `import { h, hydrate } from "preact";`,
    ...names.map((n) => `import ${n} from "./${n}.tsx";`),
    `const islands = { ${names.join(", ")} };`,
    `for (const el of document.querySelectorAll("[data-island]")) {`,
    `  const C = islands[el.dataset.island];`,
    `  if (C) hydrate(h(C, JSON.parse(el.dataset.props || "{}")), el);`,
    `}`,
    // For bench/web_pages.ts: when every island of the page has hydrated.
    `performance.mark("islands:hydrated");`,
  ].join("\n");
  return await bundleBrowserModule(
    { contents: entry, resolveDir: ISLANDS, loader: "tsx" },
    { jsx: "automatic", jsxImportSource: "preact" },
  );
}
