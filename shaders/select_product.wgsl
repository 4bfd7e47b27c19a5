// A product whose left factor depends on each target's chosen α: with
// a_j = argmax_a score[a, j] (the first on ties, as GridSearchCV),
//   out[outRow0 + i, j] = Σ_k L[a_j·R + i, k] · T[k, j],  i < R,
// where L stacks one (R × K) block per α. ridgeCVGpu (webgpu_ridge.ts) forms
// the out-of-fold predictions and the refit weights with it, on the device.
// L: (nA·R × K), T: (K × V), score: (nA × V), out: (· × V), all row-major;
// alpha: (V), a_j as a float, written when writeAlpha = 1.
// Invocation (j − j0, i − i0); its loops run nA + K times.

struct Dims { R: u32, K: u32, V: u32, nA: u32, outRow0: u32, i0: u32, j0: u32, writeAlpha: u32 }

@group(0) @binding(0) var<storage, read> L: array<f32>;
@group(0) @binding(1) var<storage, read> T: array<f32>;
@group(0) @binding(2) var<storage, read> score: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(5) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x + dims.j0;
  let i = gid.y + dims.i0;
  let V = dims.V;
  if (j >= V || i >= dims.R) { return; }
  var best = 0u;
  var top = score[j];
  for (var a = 1u; a < dims.nA; a++) {
    let v = score[a * V + j];
    if (v > top) {
      top = v;
      best = a;
    }
  }
  let row = (best * dims.R + i) * dims.K;
  var acc = 0.0;
  for (var k = 0u; k < dims.K; k++) { acc = fma(L[row + k], T[k * V + j], acc); }
  out[(dims.outRow0 + i) * V + j] = acc;
  if (dims.writeAlpha == 1u && i == 0u) { alpha[j] = f32(best); }
}
