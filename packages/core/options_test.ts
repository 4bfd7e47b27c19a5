import assert from "node:assert/strict";
import {
  ANALYSIS_FILE,
  flagIn,
  type Mode,
  MODES,
  type OptionDef,
  OptionError,
  OPTIONS,
  optionsIn,
  resolveSettings,
  specIn,
} from "./options.ts";
import { fieldAt } from "./options_schema.ts";
import type { InferredFile, InferredSettings, OPTION_DEFS } from "./_options_spec.ts";
import type {
  AnalysisFile,
  ConfigRunSettings,
  DemoRunSettings,
  DemoSettings,
  OptionName,
  PhantomRunSettings,
  PhantomSettings,
} from "./options_types.ts";
import { runDemo } from "./demo.ts";

Deno.test("each mode's settings: given values checked, the mode's defaults filled in", () => {
  const demo = resolveSettings("demo", {}, { scope: "analysis" });
  assert.deepEqual(demo, {
    atoms: 16,
    permutations: 200,
    seed: 0,
    voxelPermutations: 100,
    phantomSubjects: 6,
    phantom: true,
    ablation: false,
    r2: 0.1,
    // The analysis file's defaults: one value for the demo and a user's file.
    targetDensity: fieldAt(ANALYSIS_FILE, "targetDensity").default,
    voxelP: fieldAt(ANALYSIS_FILE, "voxels.voxelP").default,
  });
  assert.equal(demo.targetDensity, 0.2);
  assert.equal(
    resolveSettings("demo", { atoms: 8, phantom: false }, { scope: "analysis" }).atoms,
    8,
  );
  const phantom = resolveSettings("phantom", { r2: 0.05 }, { scope: "analysis" });
  assert.deepEqual(
    [phantom.atoms, phantom.phantomSubjects, phantom.resolution, phantom.networks, phantom.r2],
    [16, 6, 4, "yeo7", 0.05],
  );
  // With --config the file's fields are the file's: the settings are the run's only.
  const config = resolveSettings("config", { atoms: 3, config: "s.json" }, { scope: "run" });
  assert.ok(!("atoms" in config) && !("seed" in config) && !("permutations" in config));
  assert.equal(config.backend, "auto");
  assert.equal(config.config, "s.json");
  // Keys that are not options of the mode pass through unread.
  assert.ok(!("outDir" in resolveSettings("demo", { outDir: "x" } as never, { scope: "run" })));
});

Deno.test("a bad value, alone or with another option, is an OptionError naming the option", () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof OptionError && e instanceof RangeError, String(e));
      return e;
    }
    throw new assert.AssertionError({ message: "accepted" });
  };
  const analysis = { scope: "analysis" } as const;
  let e = err(() => resolveSettings("demo", { permutations: -1 }, analysis));
  assert.equal(e.option, "permutations");
  assert.equal(
    e.message,
    "`permutations` must be a whole number ≥ 0 and ≤ 100000: current value is -1",
  );
  e = err(() => resolveSettings("phantom", { atoms: 5 }, analysis));
  assert.equal(e.expected, "a whole number ≥ 7 and ≤ 4096");
  // Fine alone, not with the phantom, which plants 7 atoms.
  e = err(() => resolveSettings("demo", { atoms: 5 }, analysis));
  assert.match(e.message, /`atoms` must be ≥ 7 for the phantom, which plants 7 atoms/);
  assert.equal(resolveSettings("demo", { atoms: 5, phantom: false }, analysis).atoms, 5);
  e = err(() => resolveSettings("phantom", { networks: "aal" }, analysis));
  assert.equal(e.expected, '"yeo7", "yeo17" or "giles"');
});

Deno.test("the demo checks its options before it computes anything", async () => {
  await assert.rejects(
    () => runDemo({ outDir: "/nonexistent/never-written", atoms: 3, quiet: true }),
    (e: unknown) => e instanceof OptionError && e.option === "atoms",
  );
  await assert.rejects(
    () => runDemo({ outDir: "/nonexistent/never-written", r2: 2, quiet: true }),
    (e: unknown) => e instanceof OptionError && e.option === "r2",
  );
});

Deno.test("the options are consistent: flags unique per mode, file fields real, mode defaults valid", () => {
  for (const mode of MODES) {
    const flags = optionsIn(mode).map(([, d]) => flagIn(d, mode)).filter(Boolean);
    assert.equal(new Set(flags).size, flags.length, `${mode}: a flag used twice`);
    for (const [name, def] of optionsIn(mode)) {
      // Building a mode's variant checks its default against its range.
      const spec = specIn(def, mode);
      if (def.modes[mode]?.default !== undefined) {
        assert.equal(spec.default, def.modes[mode]!.default, `${name} in ${mode}`);
      }
      // A flag with an argument must be readable from text.
      if (flagIn(def, mode) && def.arg) assert.ok(spec.readText, `${name}: no text reader`);
      if (!def.arg && flagIn(def, mode)) assert.equal(spec.kind, "boolean", name);
    }
  }
  for (const [name, def] of Object.entries(OPTIONS) as [string, OptionDef][]) {
    if (def.file) assert.equal(fieldAt(ANALYSIS_FILE, def.file), def.spec, `${name} → ${def.file}`);
    assert.ok(Object.keys(def.modes).length > 0, `${name} applies nowhere`);
    assert.ok(def.spec.doc.length > 0, `${name} has no doc line`);
  }
  // With --config an analysis option either sets the file's field or is refused: never dropped.
  for (const [name, def] of optionsIn("config")) {
    assert.ok(def.scope === "run" || def.file, `${name} would be dropped with --config`);
  }
});

Deno.test("every option in help order is reachable from some mode's flag or the demo", () => {
  const reachable = new Set<string>();
  for (const mode of MODES as Mode[]) {
    for (const [name, def] of optionsIn(mode)) {
      if (flagIn(def, mode) || def.modes[mode]?.flag === false) reachable.add(name);
    }
  }
  assert.deepEqual([...reachable].sort(), Object.keys(OPTIONS).sort());
});

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

Deno.test("the generated declarations equal the types inferred from the descriptions", () => {
  // A mismatch does not compile: `deno check` and this test fail until the
  // declarations are generated again (tools/generate_options.ts).
  const checks: true[] = [
    true as Equal<AnalysisFile, InferredFile>,
    true as Equal<DemoSettings, InferredSettings<"demo", "analysis">>,
    true as Equal<DemoRunSettings, InferredSettings<"demo", "run">>,
    true as Equal<ConfigRunSettings, InferredSettings<"config", "run">>,
    true as Equal<PhantomSettings, InferredSettings<"phantom", "analysis">>,
    true as Equal<PhantomRunSettings, InferredSettings<"phantom", "run">>,
    true as Equal<OptionName, keyof typeof OPTION_DEFS>,
  ];
  assert.equal(checks.length, 7);
});
