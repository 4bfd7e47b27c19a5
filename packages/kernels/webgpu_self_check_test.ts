import assert from "node:assert/strict";
import { haveWebGpu } from "../../test/webgpu.ts";
import { createBackend } from "./select_backend.ts";
import { createWebGpuBackend, WebGpuSelfCheckError } from "./webgpu_backend.ts";
import { columnStatsKernel, gemmKernel, type KernelSpec, lassoCDKernel } from "./webgpu_kernels.ts";
import type { SelfCheckReport } from "./webgpu_self_check.ts";

const GPU = await haveWebGpu();

/** A copy of `spec` whose source has `from` replaced by `to` (which must occur). */
function broken<S>(spec: KernelSpec<S>, from: string, to: string): KernelSpec<S> {
  assert.ok(spec.source.includes(from), `${spec.name} has no "${from}" to break`);
  return { ...spec, source: spec.source.replace(from, to) };
}

// GEMM that skips the first four values of the inner dimension.
const BROKEN_GEMM = broken(
  gemmKernel,
  "for (var k4 = 0u; k4 < k4n; k4++)",
  "for (var k4 = 1u; k4 < k4n; k4++)",
);
// LASSO whose held-out error adds the linear term instead of subtracting it.
const BROKEN_LASSO = broken(
  lassoCDKernel,
  "inp[prm.offHYY + v] - 2.0 * a + b",
  "inp[prm.offHYY + v] + 2.0 * a + b",
);
// Column statistics that do not compile.
const UNCOMPILABLE_STATS = broken(columnStatsKernel, "fn main(", "fn main(oops");

/** A device of the test's own, destroyed after `fn`. */
async function withDevice(fn: (device: GPUDevice) => Promise<void>) {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  try {
    await fn(device);
  } finally {
    device.destroy();
  }
}

Deno.test({
  name:
    "self-check: the shipped kernels pass on this adapter, and the verdict is cached per device",
  ignore: !GPU,
  fn: () =>
    withDevice(async (device) => {
      const first = await createWebGpuBackend({ device });
      const report = first.info.details.selfCheck as SelfCheckReport;
      assert.equal(report.ok, true, JSON.stringify(report.failures));
      assert.equal(report.cached, false);
      const again = await first.selfCheck();
      assert.deepEqual(
        again.checked,
        ["gemm", "gemm_large", "column_stats", "column_correlation", "stacked_r2", "lasso_cd"],
      );
      assert.equal(again.cached, true);
      // Another backend on the same device reuses the verdict…
      const second = await createWebGpuBackend({ device });
      assert.equal((second.info.details.selfCheck as SelfCheckReport).cached, true);
      // …but not for other kernels.
      const other = await createWebGpuBackend({
        device,
        selfCheck: false,
        kernels: { gemm: BROKEN_GEMM },
      });
      const otherReport = await other.selfCheck();
      assert.equal(otherReport.cached, false);
      assert.equal(otherReport.ok, false);
      console.log(`self-check on ${first.info.implementation}: ${report.ms.toFixed(0)} ms`);
    }),
});

Deno.test({
  name:
    "self-check: an explicit webgpu request on an adapter with a wrong kernel is refused, naming it",
  ignore: !GPU,
  fn: () =>
    withDevice(async (device) => {
      const err = await createBackend({ backend: "webgpu", device, kernels: { gemm: BROKEN_GEMM } })
        .then(() => undefined, (e) => e);
      assert.ok(err instanceof WebGpuSelfCheckError, String(err));
      // Only the 64 × 64-tile kernel was broken; the 128 × 128 one still passes.
      assert.deepEqual(err.report.failures.map((f) => f.kernel), ["gemm"]);
      assert.match(err.message, /^the WebGPU adapter ".+" failed the kernel self-check/);
      assert.match(err.message, /gemm: C\[\d+\] is \S+, expected \S+ \(error \S+ of the largest/);
      assert.match(err.message, /Use the CPU backend \(--backend cpu\)\.$/);
    }),
});

Deno.test({
  name:
    "self-check: auto falls back to the CPU backend and records why (wrong LASSO, uncompilable shader)",
  ignore: !GPU,
  fn: () =>
    withDevice(async (device) => {
      const b = await createBackend({
        device,
        kernels: { lassoCD: BROKEN_LASSO, columnStats: UNCOMPILABLE_STATS },
      });
      try {
        assert.equal(b.info.name, "cpu");
        const choice = String(b.info.details.choice);
        assert.match(choice, /^auto: the WebGPU adapter \(.+\) failed the kernel self-check: /);
        assert.match(choice, /column_stats: WebGPU kernel "column_stats\|.*" failed to compile/);
        assert.match(choice, /lasso_cd: held-out error\[\d+\] is /);
        const report = b.info.details.webgpuSelfCheck as SelfCheckReport;
        assert.deepEqual(report.failures.map((f) => f.kernel), ["column_stats", "lasso_cd"]);
      } finally {
        b.dispose();
      }
      // The device is the caller's: still usable after the refusal.
      const healthy = await createWebGpuBackend({ device });
      assert.equal((healthy.info.details.selfCheck as SelfCheckReport).ok, true);
    }),
});
