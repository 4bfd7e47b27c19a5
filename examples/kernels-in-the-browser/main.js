// The example page's script: a plain ES module that imports the npm build of
// @brainorg/kernels (the import map in index.html says where it is), asks
// navigator.gpu for an adapter, makes synthetic data with planted weights,
// and fits ridge CV on the WebGPU backend and on the CPU backend.
import { createCpuBackend, createWebGpuBackend, ridgeCV, rng } from "@brainorg/kernels";

/** Samples, regressors, targets, and the seed of the synthetic data. */
const T = 300, P = 16, V = 2000, SEED = 20240522;

/** The element with this data-testid. */
const el = (id) => document.querySelector(`[data-testid="${id}"]`);

/** Show a result: its text, and the number in data-value for scripts and tests. */
function show(id, text, value) {
  const e = el(id);
  e.textContent = text;
  if (value !== undefined) e.dataset.value = String(value);
}

/** Standard normal numbers from a seeded uniform generator (Box–Muller). */
function normals(rand) {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * X (T × P) and Y = X W + noise (T × V), row-major: the planted weights W are
 * standard normal, the noise's standard deviation per target is log-uniform
 * from 1 to 8 (so the targets' true R² range from about 0.2 to 0.95). Also
 * each target's planted R²: the variance of X W over that of Y.
 */
function syntheticData(seed) {
  const randn = normals(rng(seed)), rand = rng(seed + 1);
  const x = Float32Array.from({ length: T * P }, randn);
  const w = Float32Array.from({ length: P * V }, randn);
  const y = new Float32Array(T * V);
  const planted = new Float64Array(V);
  const signal = new Float64Array(T);
  for (let v = 0; v < V; v++) {
    const sd = 2 ** (3 * rand());
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let j = 0; j < P; j++) s += x[t * P + j] * w[j * V + v];
      signal[t] = s;
      y[t * V + v] = s + sd * randn();
    }
    planted[v] = variance(T, (t) => signal[t]) / variance(T, (t) => y[t * V + v]);
  }
  return {
    x: { rows: T, cols: P, data: x },
    y: { rows: T, cols: V, data: y },
    planted,
  };
}

/** The variance of at(0) … at(n − 1). */
function variance(n, at) {
  let mean = 0, ss = 0;
  for (let t = 0; t < n; t++) mean += at(t) / n;
  for (let t = 0; t < n; t++) ss += (at(t) - mean) ** 2;
  return ss / n;
}

function median(values) {
  const s = Float64Array.from(values).sort();
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Each target's mean held-out R² at its chosen α. */
function heldOutR2(fit) {
  const V = fit.alphaIndex.length;
  return Float64Array.from(fit.alphaIndex, (a, v) => fit.cvScores.data[a * V + v]);
}

/** The WebGPU device of the page's adapter, or why there is none. */
async function webGpuDevice() {
  if (!navigator.gpu) {
    return { why: "WebGPU is not available in this browser (navigator.gpu is missing)" };
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return { why: "WebGPU is available but the browser offers no adapter" };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean).join(" · ") || "an unnamed adapter";
  // The largest storage bindings the adapter allows, as the kernels' own acquireDevice() asks.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return { device, name, fallback: info.isFallbackAdapter === true };
}

/** Create a backend and fit; returns the fit, and the setup and fit times in ms. */
async function fitOn(create, x, y) {
  const t0 = performance.now();
  const backend = await create();
  const t1 = performance.now();
  try {
    const fit = await ridgeCV(backend, x, y, { folds: 5, returnPredictions: false });
    return { fit, info: backend.info, setupMs: t1 - t0, fitMs: performance.now() - t1 };
  } finally {
    backend.dispose();
  }
}

const ms = (t) => `${t.toFixed(0)} ms`;

async function main() {
  show("data-shape", `${T} samples × ${P} regressors, ${V.toLocaleString("en")} targets`);
  const { x, y, planted } = syntheticData(SEED);
  show("planted-r2", median(planted).toFixed(3), median(planted));

  const gpu = await webGpuDevice();
  let gpuRun;
  if (gpu.device) {
    show("adapter", gpu.name + (gpu.fallback ? " (a fallback adapter)" : ""), "webgpu");
    try {
      gpuRun = await fitOn(() => createWebGpuBackend({ device: gpu.device }), x, y);
      show(
        "webgpu-time",
        `${ms(gpuRun.fitMs)} (setup and self-check ${ms(gpuRun.setupMs)})`,
        gpuRun.fitMs,
      );
    } catch (err) {
      show("webgpu-time", `failed: ${err?.message ?? err}; the CPU backend's fit is shown`);
    } finally {
      gpu.device.destroy();
    }
  } else {
    show("adapter", `${gpu.why}: the fit runs on the CPU backend only.`, "none");
    show("webgpu-time", "not run (no WebGPU)");
  }

  const cpuRun = await fitOn(() => createCpuBackend(), x, y);
  show(
    "cpu-time",
    `${ms(cpuRun.fitMs)} (${cpuRun.info.implementation}; setup ${ms(cpuRun.setupMs)})`,
    cpuRun.fitMs,
  );

  if (gpuRun) {
    const a = gpuRun.fit.weights.data, b = cpuRun.fit.weights.data;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    const differ = gpuRun.fit.alphaIndex.filter((k, v) => k !== cpuRun.fit.alphaIndex[v]).length;
    show(
      "max-weight-diff",
      `${diff.toExponential(2)} (α chosen differently for ${differ} targets)`,
      diff,
    );
  } else {
    show("max-weight-diff", "not compared (no WebGPU)");
  }

  const fit = (gpuRun ?? cpuRun).fit;
  const r2 = median(heldOutR2(fit));
  show("median-r2", `${r2.toFixed(3)} (${gpuRun ? "WebGPU" : "CPU"} fit)`, r2);
  const counts = fit.alphaGrid.map((_, k) => fit.alphaIndex.filter((i) => i === k).length);
  const most = Math.max(...counts);
  el("alpha-histogram").replaceChildren(...fit.alphaGrid.map((alpha, k) => {
    const row = document.createElement("tr");
    const bar = "█".repeat(Math.round((40 * counts[k]) / most));
    for (const text of [alpha.toPrecision(3), String(counts[k]), bar]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    return row;
  }));
  el("alpha-histogram").dataset.value = JSON.stringify(counts);
}

main().then(
  () => {
    show("status", "done");
    el("status").dataset.state = "done";
  },
  (err) => {
    show("status", `failed: ${err?.stack ?? err}`);
    el("status").dataset.state = "error";
    throw err;
  },
);
