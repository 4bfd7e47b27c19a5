// The kernels' API reference is their doc comments (`deno task docs`); every
// exported function and class there has an `@example`, and every example of
// the public surface runs: `deno test --doc` on the files that declare what
// packages/kernels/mod.ts exports, as a subprocess. (`deno task test` runs
// test files only: `--doc` on the whole repository would also run examples
// that need the reference data or the network, e.g. the models' GGUF file.)
// Without a WebGPU adapter, the examples that ask for one are left out, and a
// red notice says so (CI fails instead).
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { haveWebGpu } from "./webgpu.ts";

const ROOT = join(import.meta.dirname!, "..");
const MOD = "packages/kernels/mod.ts";

async function deno(args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** A symbol of `deno doc --json`, as far as this test reads it. */
interface DocSymbol {
  name: string;
  declarations: {
    kind: string;
    location: { filename: string };
    jsDoc?: { tags?: { kind: string }[] };
  }[];
}

/** What mod.ts exports, from `deno doc --json`. */
async function publicSymbols(): Promise<DocSymbol[]> {
  const r = await deno(["doc", "--json", MOD]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { nodes: Record<string, { symbols: DocSymbol[] }> };
  const symbols = Object.values(doc.nodes).flatMap((n) => n.symbols);
  assert.ok(symbols.length > 50, `deno doc --json lists only ${symbols.length} exports`);
  return symbols;
}

/** A fenced code block of a doc comment that `deno test --doc` runs. */
interface DocBlock {
  /** File URL and the line of the opening fence, as the test's name begins. */
  name: string;
  needsWebGpu: boolean;
}

const RUN_LANGS = /^(ts|tsx|js|jsx|typescript|javascript)$/;
const ASKS_FOR_WEBGPU = /createWebGpuBackend\(|acquireDevice\(|backend:\s*"webgpu"/;

/** The runnable code blocks in a file's doc comments. */
function docBlocks(file: string, text: string): DocBlock[] {
  const blocks: DocBlock[] = [], lines = text.split("\n");
  let inDoc = false, open: { line: number; lang: string } | undefined, code: string[] = [];
  lines.forEach((line, i) => {
    if (!inDoc && /^\s*\/\*\*/.test(line)) inDoc = true;
    if (inDoc) {
      const fence = /^\s*\*?\s*```(\S*)\s*$/.exec(line);
      if (fence && !open) {
        open = { line: i + 1, lang: fence[1] };
        code = [];
      } else if (fence && open) {
        if (RUN_LANGS.test(open.lang)) {
          blocks.push({
            name: `${pathToFileURL(join(ROOT, file)).href}#${open.line}-`,
            needsWebGpu: ASKS_FOR_WEBGPU.test(code.join("\n")),
          });
        }
        open = undefined;
      } else if (open) code.push(line);
    }
    if (inDoc && line.includes("*/")) inDoc = false;
  });
  return blocks;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

Deno.test("every exported function and class of the kernels has an @example", async () => {
  const symbols = await publicSymbols();
  const lacking = symbols.filter((s) =>
    s.declarations.some((d) =>
      (d.kind === "function" || d.kind === "class") &&
      !(d.jsDoc?.tags ?? []).some((t) => t.kind === "example")
    )
  ).map((s) => s.name);
  assert.deepEqual(lacking, [], `exports without an @example: ${lacking.join(", ")}`);
});

Deno.test({
  name: "the kernels' doc examples run (deno test --doc on the public surface)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const symbols = await publicSymbols();
    const files = [
      ...new Set([
        MOD,
        ...symbols.flatMap((s) =>
          s.declarations.map((d) => relative(ROOT, new URL(d.location.filename).pathname))
        ),
      ]),
    ].sort();
    const blocks: DocBlock[] = [];
    for (const f of files) blocks.push(...docBlocks(f, await Deno.readTextFile(join(ROOT, f))));
    assert.ok(blocks.length >= 40, `only ${blocks.length} examples found in ${files}`);
    const gpu = await haveWebGpu();
    const want = blocks.filter((b) => gpu || !b.needsWebGpu);
    const filter = gpu ? [] : ["--filter", `/${want.map((b) => escape(b.name)).join("|")}/`];

    const started = performance.now();
    const r = await deno(["test", "--doc", "--allow-all", "--parallel", ...filter, ...files]);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${want.length} doc examples of ${files.length} files in ${seconds.toFixed(1)} s` +
        (gpu ? "" : ` (${blocks.length - want.length} that need WebGPU left out)`),
    );
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 0, `deno test --doc failed:\n${output.slice(-8000)}`);
    const passed = new Set(
      [...r.stdout.matchAll(/(file:\S+#\d+-)\d+\.\w+ \.\.\. ok\b/g)].map((m) => m[1]),
    );
    const missed = want.filter((b) => !passed.has(b.name)).map((b) => b.name);
    assert.deepEqual(missed, [], `examples that did not run and pass:\n${output.slice(-8000)}`);
    assert.match(r.stdout, new RegExp(`ok \\| ${want.length} passed \\| 0 failed`));
  },
});
