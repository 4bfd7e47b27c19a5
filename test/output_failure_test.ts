/**
 * A results folder or cache that cannot be written: `deno task analyze`
 * exits with code 5 and a message naming the folder and the operating
 * system's error, leaves no partial results folder and no temporary debris,
 * and an earlier results folder stays as it was.
 *
 * Tests run as root here, which no `chmod` stops, so the folders are made
 * read-only or full for real: a read-only bind mount, or a small tmpfs, in a
 * private mount namespace of the CLI's own (`unshare -m`), invisible to the
 * rest of the machine. Where that is not allowed the test is ignored, and says so.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseTempSibling } from "@brainorg/common";
import { assertSameResults, listFiles, startAnalyze, writeSmallStudy } from "./small_study.ts";

/** Whether this process may mount in a private mount namespace. */
function canMount(): boolean {
  const dir = Deno.makeTempDirSync();
  try {
    const r = new Deno.Command("unshare", {
      args: [
        "-m",
        "--propagation",
        "private",
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=64k",
        "tmpfs",
        dir,
      ],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return r.success;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir);
  }
}

const mountable = canMount();
if (!mountable) {
  console.warn(
    "%ctest/output_failure_test.ts ignored: `unshare -m` with mount is not permitted here " +
      "(needs root or CAP_SYS_ADMIN)",
    "color: red; font-weight: bold",
  );
}

/** `sh -c` in a private mount namespace; the script's $0, $1, … are `args`, then the CLI's argv. */
function inNamespace(script: string, ...args: string[]): string[] {
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, ...args];
}

/** `dir` bind-mounted read-only over itself, then the command. */
const READ_ONLY = `mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" || exit 90
exec "$@"`;

/**
 * A tmpfs at $0 holding a copy of the results folder $1 as out/, shrunk to
 * leave 128 KiB free; after the command, what is on it is copied to $2.
 */
const FULL = `mnt="$0"; prev="$1"; snap="$2"; shift 2
mount -t tmpfs -o size=16m tmpfs "$mnt" && cp -a "$prev" "$mnt/out" || exit 90
used=$(df -k --output=used "$mnt" | tail -n 1)
mount -o remount,size=$((used + 128))k "$mnt" || exit 91
"$@"; code=$?
cp -a "$mnt/." "$snap/" || exit 92
exit $code`;

/** Names in `dir` that are temporary siblings (debris). */
function debrisIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => parseTempSibling(n));
}

Deno.test({
  name:
    "a read-only or full results folder, or a read-only cache: exit 5 naming it, nothing partial left",
  ignore: !mountable,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-output-" });
  try {
    const config = await writeSmallStudy(dir);
    const cache = join(dir, "cache"), prev = join(dir, "prev");
    const args = (out: string, cacheDir = cache) => [
      "--config",
      config,
      "--out",
      out,
      "--cache-dir",
      cacheDir,
    ];
    const first = await startAnalyze(args(prev));
    assert.equal(first.code, 0, first.stderr.slice(-2000));

    // 1. Read-only: refused before any computation; an earlier folder there is untouched.
    const ro = join(dir, "ro");
    await Deno.mkdir(ro);
    await new Deno.Command("cp", { args: ["-a", prev, join(ro, "out")] }).output();
    for (const out of [join(ro, "out"), join(ro, "new")]) {
      const r = await startAnalyze(args(out), { wrap: inNamespace(READ_ONLY, ro) });
      assert.equal(r.code, 5, r.stderr.slice(-2000));
      assert.match(
        r.stderr,
        new RegExp(`error: cannot write the results folder ${out}: Read-only file system`),
      );
      assert.doesNotMatch(r.stderr, /activations|capture/, "refused before the computation");
    }
    assert.deepEqual([...Deno.readDirSync(ro)].map((e) => e.name), ["out"]);
    await assertSameResults(prev, join(ro, "out"));

    // 2. Full: the new results do not fit beside the old ones; the old ones stay.
    const mnt = join(dir, "mnt"), snap = join(dir, "snap");
    await Deno.mkdir(mnt);
    await Deno.mkdir(snap);
    const full = await startAnalyze(args(join(mnt, "out")), {
      wrap: inNamespace(FULL, mnt, prev, snap),
    });
    assert.equal(full.code, 5, full.stderr.slice(-2000));
    assert.match(
      full.stderr,
      new RegExp(
        `error: cannot write the results folder ${join(mnt, "out")}: No space left on device`,
      ),
    );
    assert.match(full.stderr, /voxel results read from the cache/, "it failed at the end");
    assert.deepEqual(await listFiles(snap), (await listFiles(prev)).map((f) => `out/${f}`));
    assert.deepEqual(debrisIn(snap), []);
    await assertSameResults(prev, join(snap, "out"));

    // 3. A read-only cache that misses: the entry it cannot write is named, no results appear.
    const roCache = join(dir, "ro-cache");
    await Deno.mkdir(roCache);
    const noCache = await startAnalyze(args(join(dir, "out3"), roCache), {
      wrap: inNamespace(READ_ONLY, roCache),
    });
    assert.equal(noCache.code, 5, noCache.stderr.slice(-2000));
    assert.match(
      noCache.stderr,
      new RegExp(
        `error: cannot write the cache entry ${roCache}/activations/[0-9a-f]{64}: ` +
          `Read-only file system`,
      ),
    );
    assert.deepEqual([...Deno.readDirSync(roCache)], []);
    assert.deepEqual(debrisIn(dir), []);
    await assert.rejects(() => Deno.stat(join(dir, "out3")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
