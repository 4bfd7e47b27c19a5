import assert from "node:assert/strict";
import { join } from "node:path";
import { findPeerPython, PeerError, runPeer } from "./_peers.ts";

/** A stand-in for python3: a shell script, run with peers.py's path and arguments. */
async function fakePython(body: string): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-peers-test-" });
  const path = join(dir, "python3");
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return { path, dir };
}

const posix = Deno.build.os !== "windows";

Deno.test({
  name: "runPeer reports a signal with the command and stderr's tail, never an empty error",
  ignore: !posix,
  async fn() {
    const { path, dir } = await fakePython('echo "loading kernels" >&2; kill -ILL $$');
    try {
      const err = await runPeer(path, ["gemm", "a.f32"], { env: { OPENBLAS_CORETYPE: "SkylakeX" } })
        .then(
          () => assert.fail("a peer killed by SIGILL was taken for a result"),
          (e) => e,
        );
      assert.ok(err instanceof PeerError);
      assert.equal(err.signal, "SIGILL");
      assert.equal(err.code, null);
      assert.match(err.command, /^OPENBLAS_CORETYPE=SkylakeX .*python3 .*peers\.py gemm a\.f32$/);
      assert.match(err.message, /killed by SIGILL \(illegal instruction/);
      assert.match(err.message, /stderr ends: loading kernels/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "runPeer reports an exit code, and stdout that is not a JSON object",
  ignore: !posix,
  async fn() {
    const { path, dir } = await fakePython(
      'if [ "$2" = fail ]; then echo "Traceback: ValueError" >&2; exit 3; fi; echo "[1, 2]"',
    );
    try {
      await assert.rejects(runPeer(path, ["fail"]), (e: PeerError) => {
        assert.equal(e.code, 3);
        assert.match(e.message, /exited with code 3; stderr ends: Traceback: ValueError/);
        return true;
      });
      await assert.rejects(runPeer(path, ["ok"]), /printed no JSON object/);
      await assert.rejects(runPeer(join(dir, "absent"), ["info"]), /could not start/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "runPeer hides brainorg's OPENBLAS_CORETYPE from a peer unless asked",
  ignore: !posix,
  async fn() {
    const { path, dir } = await fakePython('printf \'{"core": "%s"}\' "$OPENBLAS_CORETYPE"');
    const before = Deno.env.get("OPENBLAS_CORETYPE");
    Deno.env.set("OPENBLAS_CORETYPE", "Haswell");
    try {
      assert.deepEqual(await runPeer(path, []), { core: "" });
      assert.deepEqual(await runPeer(path, [], { env: { OPENBLAS_CORETYPE: "Zen" } }), {
        core: "Zen",
      });
    } finally {
      if (before === undefined) Deno.env.delete("OPENBLAS_CORETYPE");
      else Deno.env.set("OPENBLAS_CORETYPE", before);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "findPeerPython takes $BRAINORG_PYTHON alone, and says what it lacks",
  ignore: !posix,
  async fn() {
    const info = {
      executable: "/opt/fake/python3",
      python: "3.12.0",
      numpy: "2.0.0",
      sklearn: null,
      threadpoolctl: null,
      missing: { "scikit-learn": "ModuleNotFoundError: No module named 'sklearn'" },
      numpyBlasBuild: null,
      blas: [],
    };
    const { path, dir } = await fakePython(`echo '${JSON.stringify(info)}'`);
    const before = Deno.env.get("BRAINORG_PYTHON");
    try {
      Deno.env.set("BRAINORG_PYTHON", path);
      const found = await findPeerPython();
      assert.equal(found.chosen?.command, path);
      assert.equal(found.sklearn, false);
      assert.equal(found.tried.length, 1);
      assert.match(found.tried[0], /numpy 2\.0\.0, no scikit-learn \(ModuleNotFoundError/);
      Deno.env.set("BRAINORG_PYTHON", join(dir, "absent"));
      const none = await findPeerPython();
      assert.equal(none.chosen, null);
      assert.match(none.tried[0], /absent \(\$BRAINORG_PYTHON\): not found/);
    } finally {
      if (before === undefined) Deno.env.delete("BRAINORG_PYTHON");
      else Deno.env.set("BRAINORG_PYTHON", before);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
