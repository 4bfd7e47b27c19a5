import assert from "node:assert/strict";
import { createCpuBackend } from "./cpu_backend.ts";
import { gemmReference } from "./cpu_reference.ts";
import { agreesWithReference, loadProducts, productsFromEnv } from "./gemm_libraries.ts";
import { columnBlock } from "./matrix.ts";
import { randomMatrix, scaledError } from "./_testing.ts";

/** Every library this machine can load (MLAS always: it comes with the npm packages). */
async function libraries(): Promise<("mlas" | "openblas" | "typescript")[]> {
  const out: ("mlas" | "openblas" | "typescript")[] = ["typescript", "mlas"];
  const { loadBlas } = await import("./blas_ffi.ts");
  const blas = loadBlas();
  if ("reason" in blas) {
    console.error(`OpenBLAS not loadable here, its products untested: ${blas.reason}`);
  } else {
    blas.close();
    out.push("openblas");
  }
  return out;
}

for (const lib of await libraries()) {
  Deno.test(`CPU products through ${lib} equal the reference: transposes, views, out buffers, sizes around the small-product cut`, async () => {
    const cpu = await createCpuBackend({ blas: lib });
    try {
      assert.equal(cpu.info.details.products, lib);
      for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [67, 129, 33], [300, 257, 64]]) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = transA ? randomMatrix(k, m, m) : randomMatrix(m, k, m);
            const b = transB ? randomMatrix(n, k, n) : randomMatrix(k, n, n);
            const got = await cpu.gemm(a, b, { transA, transB });
            const err = scaledError(got.data, gemmReference(a, b, { transA, transB }).data);
            assert.ok(err < 1e-5, `${m}×${n}×${k} transA ${transA} transB ${transB}: ${err}`);
          }
        }
      }
      const wide = randomMatrix(90, 700, 3), a = randomMatrix(90, 40, 4);
      const out = new Float32Array(40 * 300 + 5).fill(7);
      const got = await cpu.gemm(a, columnBlock(wide, 150, 300), { transA: true, out });
      assert.equal(got.data.buffer, out.buffer, "the product is written into out");
      assert.equal(out[40 * 300], 7, "nothing past C is touched");
      const want = gemmReference(a, columnBlock(wide, 150, 300), { transA: true });
      assert.ok(scaledError(got.data, want.data) < 1e-5);
    } finally {
      cpu.dispose();
    }
  });
}

Deno.test("a library whose products disagree with the reference is refused", async () => {
  assert.equal(await agreesWithReference(gemmReference), true);
  const off = (
    a: Parameters<typeof gemmReference>[0],
    b: Parameters<typeof gemmReference>[1],
    o?: Parameters<typeof gemmReference>[2],
  ) => {
    const c = gemmReference(a, b, o);
    c.data[c.data.length - 1] += 0.5; // one wrong value
    return c;
  };
  assert.equal(await agreesWithReference(off), false);
});

Deno.test("BRAINORG_BLAS chooses the products, is checked, and `auto` follows a fixed order", async () => {
  const saved = Deno.env.get("BRAINORG_BLAS");
  try {
    Deno.env.set("BRAINORG_BLAS", "fast");
    assert.throws(
      () => productsFromEnv(),
      /BRAINORG_BLAS must be one of auto, off, openblas, mlas, typescript: current value is "fast"/,
    );
    Deno.env.set("BRAINORG_BLAS", "off");
    const cpu = await createCpuBackend({ blas: "auto" });
    try {
      assert.equal(
        cpu.info.details.products,
        "mlas",
        "off: the npm-only path, even when auto is asked",
      );
    } finally {
      cpu.dispose();
    }
    Deno.env.delete("BRAINORG_BLAS");
    const first = await loadProducts("auto", 1), again = await loadProducts("auto", 1);
    try {
      assert.equal(first.name, again.name, "the same library every time");
      assert.equal(first.name, (await libraries()).includes("openblas") ? "openblas" : "mlas");
      assert.match(String(first.details.why), /first usable of openblas, mlas/);
    } finally {
      first.close();
      again.close();
    }
    const ts = await loadProducts("typescript", 1);
    assert.equal(ts.implementation, "typescript");
  } finally {
    if (saved === undefined) Deno.env.delete("BRAINORG_BLAS");
    else Deno.env.set("BRAINORG_BLAS", saved);
  }
});
