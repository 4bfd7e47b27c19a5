import assert from "node:assert/strict";
import { join } from "node:path";
import {
  chooseCoreType,
  coreTypeCacheDir,
  type CoreTypeCacheEntry,
  coreTypeCacheKey,
  coreTypeCachePath,
  type CoreTypeRate,
  PROBE_SHAPES,
  readCoreTypeCache,
  runCoreTypeProbe,
  writeCoreTypeCache,
} from "./_blas_probe_choice.ts";
import { fileIdentity } from "./_blas_probe_library.ts";
import { coreTypeCandidates, parseCpuInfo } from "./blas_ffi.ts";
import { BLAS_CANDIDATES } from "./_blas_probe_library.ts";

const rate = (coreType: string | null, core: string, r: number): CoreTypeRate => ({
  coreType,
  core,
  gflops: [r, r],
  rate: r,
});

const ZEN3 = parseCpuInfo(
  "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n" +
    "flags\t\t: fpu sse sse2 avx fma avx2\n",
);
const ZEN4 = parseCpuInfo(
  "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14\n" +
    "flags\t\t: fpu sse sse2 avx fma avx2 avx512f avx512bw avx512vl avx512_bf16\n",
);

Deno.test("chooseCoreType takes the faster candidate; within 3% the named one", () => {
  const named = rate("SkylakeX", "SkylakeX", 300);
  // Slower by more than the tolerance: OpenBLAS's own wins.
  assert.equal(chooseCoreType([named, rate(null, "Cooperlake", 320)], "SkylakeX").coreType, null);
  // Within 3%: a tie, the named one stays (whichever order they come in).
  assert.equal(
    chooseCoreType([named, rate(null, "Cooperlake", 308)], "SkylakeX").coreType,
    "SkylakeX",
  );
  assert.equal(
    chooseCoreType([rate(null, "Cooperlake", 308), named], "SkylakeX").coreType,
    "SkylakeX",
  );
  // Faster: the named one, of course.
  assert.equal(chooseCoreType([named, rate(null, "Haswell", 150)], "SkylakeX").core, "SkylakeX");
  // The tolerance is a parameter.
  assert.equal(
    chooseCoreType([named, rate(null, "Cooperlake", 308)], "SkylakeX", 0).coreType,
    null,
  );
  // Only OpenBLAS's own measured: it.
  assert.equal(chooseCoreType([rate(null, "Zen", 100)], "Zen").core, "Zen");
  assert.throws(() => chooseCoreType([], "Zen"), RangeError);
  assert.throws(() => chooseCoreType([named, rate(null, "Zen", NaN)], "SkylakeX"), /positive/);
});

Deno.test("coreTypeCandidates never offers a core type whose instructions the CPU lacks", () => {
  assert.deepEqual(coreTypeCandidates(ZEN3), ["Zen", null]);
  assert.deepEqual(coreTypeCandidates(ZEN4), ["SkylakeX", null]);
  assert.deepEqual(coreTypeCandidates(ZEN3, "SkylakeX"), [null]);
  assert.deepEqual(coreTypeCandidates(ZEN3, "Cooperlake"), [null]);
  assert.deepEqual(coreTypeCandidates(parseCpuInfo("flags : fpu sse sse2 avx\n")), [null]);
  assert.deepEqual(coreTypeCandidates(parseCpuInfo("")), [null]);
});

/** A stand-in for the probe child, written to `dir`. */
async function fakeChild(dir: string, body: string): Promise<URL> {
  const path = join(dir, "fake_probe.ts");
  await Deno.writeTextFile(path, body);
  return new URL(`file://${path}`);
}

Deno.test("runCoreTypeProbe gives each child its core type (or none) and reads its report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-coretype-" });
  const before = Deno.env.get("OPENBLAS_CORETYPE");
  try {
    // A stand-in child reporting the core type it was given, in \`config\`.
    const script = await fakeChild(
      dir,
      `const c = Deno.env.get("OPENBLAS_CORETYPE") ?? null;
console.log("noise before the report");
console.log(JSON.stringify({ library: "libfake.so", file: null, config: "saw " + (c ?? "unset"),
  threads: 2, core: c ?? "Detected", coreTypeEnv: c, gflops: c ? [100, 400] : [150, 150] }));`,
    );
    // The parent's own setting must not leak into the "OpenBLAS detects" child.
    Deno.env.set("OPENBLAS_CORETYPE", "Haswell");
    const probe = runCoreTypeProbe(coreTypeCandidates(ZEN4), { script, rounds: 1 });
    if ("reason" in probe) assert.fail(probe.reason);
    assert.deepEqual(probe.rates.map((r) => [r.coreType, r.core]), [
      ["SkylakeX", "SkylakeX"],
      [null, "Detected"],
    ]);
    assert.ok(Math.abs(probe.rates[0].rate - 200) < 1e-9, "the geometric mean of 100 and 400");
    assert.equal(probe.report.config, "saw SkylakeX");
    // A core type the CPU cannot run is not offered: one child only, OpenBLAS's own.
    const safe = runCoreTypeProbe(coreTypeCandidates(ZEN3, "SkylakeX"), { script, rounds: 1 });
    if ("reason" in safe) assert.fail(safe.reason);
    assert.deepEqual(safe.rates.map((r) => r.coreType), [null]);
    assert.equal(safe.report.config, "saw unset");
    // A child that fails is a reason, not a throw.
    const broken = await fakeChild(dir, `console.error("kaputt"); Deno.exit(3);`);
    const failed = runCoreTypeProbe(["Zen"], { script: broken, rounds: 1 });
    assert.ok("reason" in failed);
    assert.match(failed.reason, /exited 3: kaputt/);
  } finally {
    if (before === undefined) Deno.env.delete("OPENBLAS_CORETYPE");
    else Deno.env.set("OPENBLAS_CORETYPE", before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("coreTypeCacheDir follows brainorg's cache rule", () => {
  const from = (vars: Record<string, string>) => coreTypeCacheDir((n) => vars[n]);
  assert.equal(from({ BRAINORG_CACHE: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), "/c");
  assert.equal(from({ XDG_CACHE_HOME: "/x", HOME: "/h" }), join("/x", "brainorg"));
  assert.equal(from({ HOME: "/h" }), join("/h", ".cache", "brainorg"));
});

Deno.test("the core-type cache round-trips, and misses when the key or the library changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-coretype-" });
  try {
    const lib = join(dir, "libopenblas.so.0");
    await Deno.writeTextFile(lib, "version 1");
    const key = coreTypeCacheKey(ZEN4, "SkylakeX");
    const entry: CoreTypeCacheEntry = {
      key,
      library: "libopenblas.so.0",
      file: fileIdentity(lib) ?? null,
      config: "OpenBLAS 0.3.21 DYNAMIC_ARCH",
      threads: 2,
      rates: [rate("SkylakeX", "SkylakeX", 360), rate(null, "Cooperlake", 350)],
      chosen: "SkylakeX",
      measured: "2026-12-01T00:00:00.000Z",
    };
    assert.ok(entry.file, "the stand-in library has an identity");
    assert.deepEqual(readCoreTypeCache(key, dir), { miss: "not cached" });
    const path = writeCoreTypeCache(entry, dir);
    assert.equal(path, coreTypeCachePath(key, dir));
    assert.deepEqual(readCoreTypeCache(key, dir), { entry });
    const left = [...Deno.readDirSync(join(dir, "openblas"))].map((e) => e.name);
    assert.deepEqual(left, [path.split("/").pop()], "no temporary file left behind");
    // The key is the CPU (flags in any order) and the core type named.
    assert.equal(
      coreTypeCachePath(
        coreTypeCacheKey({ ...ZEN4, flags: [...ZEN4.flags].reverse() }, "SkylakeX"),
        dir,
      ),
      path,
    );
    const otherCpu = coreTypeCacheKey({
      ...ZEN4,
      flags: ZEN4.flags.filter((f) => f !== "avx512_bf16"),
    }, "SkylakeX");
    assert.notEqual(coreTypeCachePath(otherCpu, dir), path);
    assert.deepEqual(readCoreTypeCache(otherCpu, dir), { miss: "not cached" });
    assert.deepEqual(readCoreTypeCache({ ...key, named: "Haswell" }, dir), { miss: "not cached" });
    assert.deepEqual(readCoreTypeCache({ ...key, modelName: "AMD EPYC 9R15" }, dir), {
      miss: "not cached",
    });
    // An entry under the path but for another key (a hash collision, an edit) is not used.
    await Deno.writeTextFile(
      coreTypeCachePath(otherCpu, dir),
      JSON.stringify({ ...entry, key: { ...key } }),
    );
    assert.deepEqual(readCoreTypeCache(otherCpu, dir), { miss: "cached for another key" });
    // The library file replaced (an upgrade): the entry no longer holds.
    await Deno.writeTextFile(lib, "version 2, longer");
    const changed = readCoreTypeCache(key, dir);
    assert.ok("miss" in changed);
    assert.match(changed.miss, /library changed/);
    await Deno.remove(lib);
    assert.ok("miss" in readCoreTypeCache(key, dir));
    // A chosen core type the figures do not contain: malformed.
    await Deno.writeTextFile(path, JSON.stringify({ ...entry, file: null, chosen: "Zen" }));
    assert.match((readCoreTypeCache(key, dir) as { miss: string }).miss, /malformed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether a BLAS loads here at all (the CI's fresh-machine pass may hide it). */
function blasPresent(): boolean {
  for (const name of BLAS_CANDIDATES) {
    try {
      Deno.dlopen(name, {}).close();
      return true;
    } catch { /* next */ }
  }
  console.warn(
    "%cOpenBLAS not loadable here: the real core-type probe is not tested",
    "color: red; font-weight: bold",
  );
  return false;
}

/** loadBlas in a fresh process (OpenBLAS fixes its core type once per process). */
async function loadBlasInChild(
  env: Record<string, string>,
  permissions = ["--allow-all"],
) {
  const url = new URL("./blas_ffi.ts", import.meta.url).href;
  const code = `import { loadBlas } from ${JSON.stringify(url)};
const b = loadBlas();
if ("reason" in b) { console.log(JSON.stringify(b)); } else {
  console.log(JSON.stringify({ core: b.core, set: b.coreTypeSetByBrainorg, choice: b.coreType }));
  b.close();
}`;
  const vars = Deno.env.toObject();
  delete vars.OPENBLAS_CORETYPE;
  delete vars.BRAINORG_NO_CORETYPE;
  delete vars.BRAINORG_CORETYPE_PROBE;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", ...permissions, "-"],
    env: { ...vars, ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  assert.ok(out.success, dec.decode(out.stderr));
  return JSON.parse(dec.decode(out.stdout).trim().split("\n").pop()!);
}

Deno.test({
  name: "the real probe times both candidates once, caches the choice, and loadBlas runs it",
  ignore: Deno.build.os !== "linux" || !blasPresent(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-coretype-" });
    try {
      const first = await loadBlasInChild({ BRAINORG_CACHE: dir });
      assert.ok(!first.reason, first.reason);
      if (first.choice.how === "openblas") {
        console.warn(`brainorg names no core type for this CPU: ${first.choice.summary}`);
        return;
      }
      assert.equal(first.choice.how, "probed", first.choice.summary);
      assert.equal(first.choice.cached, false);
      const rates: CoreTypeRate[] = first.choice.rates;
      assert.equal(rates.length, 2);
      assert.equal(rates[1].coreType, null, "OpenBLAS's own detection is the second candidate");
      for (const r of rates) {
        assert.match(r.core, /^\w+$/, `a core name for ${r.coreType}`);
        assert.notEqual(r.core, "unknown");
        assert.equal(r.gflops.length, PROBE_SHAPES.length);
        assert.ok(r.gflops.every((g) => g > 0 && Number.isFinite(g)), JSON.stringify(r));
      }
      // Named explicitly, OpenBLAS runs what it was told.
      assert.equal(rates[0].core.toLowerCase(), rates[0].coreType!.toLowerCase());
      const chosen = rates.find((r) => r.coreType === first.choice.coreType)!;
      assert.equal(first.core, chosen.core, "loadBlas runs the chosen core");
      assert.equal(first.set, chosen.coreType !== null);
      console.log(`probe: ${first.choice.summary}`);
      // Again: from the cache, observed, with the same figures.
      const again = await loadBlasInChild({ BRAINORG_CACHE: dir });
      assert.equal(again.choice.cached, true, again.choice.summary);
      assert.deepEqual(again.choice.rates, rates);
      assert.equal(again.core, first.core);
      // Switched off: the named core type, unprobed, said so.
      const off = await loadBlasInChild({ BRAINORG_CACHE: dir, BRAINORG_CORETYPE_PROBE: "0" });
      assert.equal(off.choice.how, "named");
      assert.match(off.choice.summary, /BRAINORG_CORETYPE_PROBE=0/);
      assert.equal(off.core.toLowerCase(), rates[0].coreType!.toLowerCase());
      // Without --allow-run (as `deno task shard` runs): the named one, silently, said why.
      const fresh = join(dir, "fresh");
      const noRun = await loadBlasInChild({ BRAINORG_CACHE: fresh }, [
        "--allow-ffi",
        "--allow-env",
        "--allow-read",
      ]);
      assert.equal(noRun.choice.how, "named", noRun.choice.summary);
      assert.match(noRun.choice.summary, /no --allow-run/);
      // …but a choice already cached is used there.
      const cachedNoRun = await loadBlasInChild({ BRAINORG_CACHE: dir }, [
        "--allow-ffi",
        "--allow-env",
        "--allow-read",
      ]);
      assert.equal(cachedNoRun.choice.how, "probed", cachedNoRun.choice.summary);
      assert.equal(cachedNoRun.core, first.core);
      // A user's OPENBLAS_CORETYPE is kept, unprobed.
      const user = await loadBlasInChild({ BRAINORG_CACHE: dir, OPENBLAS_CORETYPE: "Haswell" });
      assert.equal(user.choice.how, "user");
      assert.equal(user.core, "Haswell");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
