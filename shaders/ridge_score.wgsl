// Cross-validated R² of ridge predictions, accumulated fold by fold on the
// device (ridgeCVGpu in webgpu_ridge.ts), so the held-out predictions of
// every α are scored where the GEMM wrote them.
// pred: (S·nv × V): S blocks (α a0 … a0 + S − 1) of a fold's nv held-out predictions;
// y: (n × V), the fold's held-out rows from yRow0;
// state: ((2 + nA) × V): the fold's held-out mean and Σ(y − ȳ)² per target,
//   then the squared error of each α;
// score: (nA × V), the mean held-out R² over the folds, accumulated.
// mode 0, rows [r0, r0 + nr) of the fold (chunks short enough for Mesa's loop
//   limit): invocation (j, s < S) adds α a0 + s's squared error over the chunk;
//   (j, S), when stats = 1, merges the chunk's mean and centred sum of squares
//   of y (Chan, Golub and LeVeque's update). A chunk at r0 = 0 starts afresh.
// mode 1, the fold done: invocation (j, a < nA) adds weight · R² to score,
//   R² = 1 − SSE / SST (1 for a perfect fit of a constant target, else 0 there,
//   as Backend.stackedR2).

struct Dims {
  V: u32, S: u32, nv: u32, a0: u32,
  r0: u32, nr: u32, yRow0: u32, mode: u32,
  nA: u32, stats: u32, c0: u32, weight: f32,
}

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
@group(0) @binding(3) var<storage, read_write> score: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x + dims.c0;
  let s = gid.y;
  let V = dims.V;
  if (j >= V) { return; }
  if (dims.mode == 1u) {
    if (s >= dims.nA) { return; }
    let sst = state[V + j];
    let sse = state[(2u + s) * V + j];
    var r2 = 0.0;
    if (sst > 0.0) { r2 = 1.0 - sse / sst; } else if (sse == 0.0) { r2 = 1.0; }
    score[s * V + j] += dims.weight * r2;
    return;
  }
  if (s > dims.S) { return; }
  let yBase = (dims.yRow0 + dims.r0) * V + j;
  if (s == dims.S) {
    if (dims.stats == 0u) { return; }
    var sum = 0.0;
    for (var i = 0u; i < dims.nr; i++) { sum += y[yBase + i * V]; }
    let mu = sum / f32(dims.nr);
    var m2 = 0.0;
    for (var i = 0u; i < dims.nr; i++) {
      let d = y[yBase + i * V] - mu;
      m2 = fma(d, d, m2);
    }
    if (dims.r0 == 0u) {
      state[j] = mu;
      state[V + j] = m2;
    } else {
      let nA = f32(dims.r0);
      let nB = f32(dims.nr);
      let delta = mu - state[j];
      state[j] += delta * nB / (nA + nB);
      state[V + j] += m2 + delta * delta * nA * nB / (nA + nB);
    }
    return;
  }
  let pBase = (s * dims.nv + dims.r0) * V + j;
  var sse = 0.0;
  for (var i = 0u; i < dims.nr; i++) {
    let e = y[yBase + i * V] - pred[pBase + i * V];
    sse = fma(e, e, sse);
  }
  let at = (2u + dims.a0 + s) * V + j;
  if (dims.r0 == 0u) { state[at] = sse; } else { state[at] += sse; }
}
