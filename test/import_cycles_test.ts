/**
 * The module graph, as Deno resolves it: no import cycles (type-only imports
 * included, since a cycle through types still ties two modules' meaning
 * together), and packages import only the layers below them.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Lower layers first: a package imports only packages of lower layers (the kernels need no datasets, the web app no CLI). */
const LAYER: Record<string, number> = {
  "packages/common": 0,
  "packages/datasets": 1,
  "packages/neuro": 1,
  "packages/kernels": 1,
  "packages/models": 2,
  "packages/core": 3,
  "apps/cli": 4,
  "apps/web": 4,
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory && e.name !== "node_modules") out.push(...sources(p));
    else if (/\.tsx?$/.test(e.name) && !/(^|_)test(_\w+)?\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

interface DenoInfo {
  modules: {
    specifier: string;
    error?: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

/** Every module of the repository (tests aside) and the repository modules it imports. */
async function moduleGraph(): Promise<Map<string, string[]>> {
  const files = ["packages", "apps"].flatMap((d) => sources(join(ROOT, d)));
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};`).join("\n"),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(ROOT, "deno.json"), entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info: DenoInfo = JSON.parse(new TextDecoder().decode(out.stdout));
    const own = (s: string) =>
      s.startsWith("file://") && !s.includes("/node_modules/") &&
      fileURLToPath(s).startsWith(ROOT + "/");
    const graph = new Map<string, string[]>();
    for (const m of info.modules) {
      if (!own(m.specifier)) continue;
      assert.equal(m.error, undefined, `${m.specifier}: ${m.error}`);
      const deps = (m.dependencies ?? [])
        .flatMap((d) => [d.code?.specifier, d.type?.specifier])
        .filter((s): s is string => !!s && own(s));
      graph.set(relative(ROOT, fileURLToPath(m.specifier)), [
        ...new Set(deps.map((s) => relative(ROOT, fileURLToPath(s)))),
      ]);
    }
    for (const f of files) assert.ok(graph.has(relative(ROOT, f)), `${f} missing from the graph`);
    return graph;
  } finally {
    await Deno.remove(entry);
  }
}

/** A cycle as the list of modules around it, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (m: string): string[] | null => {
    state.set(m, "open");
    stack.push(m);
    for (const d of graph.get(m) ?? []) {
      if (state.get(d) === "open") return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(m, "done");
    return null;
  };
  for (const m of [...graph.keys()].sort()) {
    if (!state.has(m)) {
      const c = visit(m);
      if (c) return c;
    }
  }
  return null;
}

const packageOf = (m: string) => m.split("/").slice(0, 2).join("/");

const graph = await moduleGraph();

Deno.test("no module imports itself through others (types included)", () => {
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `import cycle: ${cycle?.join(" -> ")}`);
});

Deno.test("the cycle check finds a planted cycle", () => {
  const planted = new Map(graph);
  planted.set("packages/common/mod.ts", [
    ...(graph.get("packages/common/mod.ts") ?? []),
    "packages/core/mod.ts",
  ]);
  const cycle = findCycle(planted);
  assert.ok(cycle, "a cycle through common → core → … → common must be found");
  assert.equal(cycle[0], cycle.at(-1));
});

Deno.test("packages import only the layers below them", () => {
  const wrong: string[] = [];
  for (const [m, deps] of graph) {
    const from = packageOf(m);
    for (const d of deps) {
      const to = packageOf(d);
      if (from === to) continue;
      assert.ok(from in LAYER, `${m}: not in a known package`);
      assert.ok(to in LAYER, `${m} imports ${d}, outside every package`);
      if (LAYER[to] >= LAYER[from]) wrong.push(`${m} -> ${d}`);
    }
  }
  assert.deepEqual(wrong, []);
});
