// Coordinate descent for many LASSO / elastic-net targets sharing one Gram
// matrix, along a warm-started penalty path (as scikit-learn's
// enet_coordinate_descent_gram). One invocation per target.
//
// Per target v and penalty i: w = argmin ½||y − Xw||² + l1 ||w||₁ + ½ l2 ||w||²,
// l1 = scale[v]·path[i]·l1Ratio, l2 = scale[v]·path[i]·(1 − l1Ratio),
// from G = XᵀX, q = Xᵀy and yy = yᵀy alone.
//
// The work is resumable: each dispatch spends at most `budget` units (one
// unit = one pass of p² inner steps: a sweep, a gradient refresh or a
// held-out error) and leaves its state (penalty index, sweeps, done) in
// `state`, so the host dispatches until no target is active. Short
// dispatches keep real GPUs' watchdogs quiet, and the software adapters
// (Mesa's gallivm) stop any one loop after 65,535 iterations per
// invocation, which a whole path would exceed.
//
// The read-only inputs share one buffer (at most 8 storage buffers per stage
// are guaranteed): offsets in `prm`, in elements. Weights (`wio`) and the
// gradient q − G w (`grad`) live in storage, column v of each.

struct Params {
  p: u32, V: u32, nA: u32, flags: u32,
  l1Ratio: f32, tol: f32, maxIter: u32, budget: u32,
  offGram: u32, offQ: u32, offYY: u32, offScale: u32,
  offPath: u32, offHGram: u32, offHQ: u32, offHYY: u32,
  offStop: u32, pad0: u32, pad1: u32, pad2: u32,
}

const POSITIVE: u32 = 1u;
const HELD_OUT: u32 = 2u;
const STOP: u32 = 4u;
const WARM: u32 = 8u;
const INIT: u32 = 16u;

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> wio: array<f32>; // (p × V): warm start in, weights out
@group(0) @binding(2) var<storage, read_write> grad: array<f32>; // (p × V)
@group(0) @binding(3) var<storage, read_write> sse: array<f32>; // (nA × V)
@group(0) @binding(4) var<storage, read_write> state: array<u32>; // (4 × V): penalty, sweeps at it, sweeps in all, done
@group(0) @binding(5) var<storage, read_write> unfinished: atomic<u32>;
@group(0) @binding(6) var<uniform> prm: Params;

fn G(j: u32, k: u32) -> f32 { return inp[prm.offGram + j * prm.p + k]; }

// grad = q − G w for target v, from scratch (float32 drifts when the
// gradient is only ever updated).
fn refreshGradient(v: u32) {
  let p = prm.p;
  let V = prm.V;
  for (var k = 0u; k < p; k++) {
    var acc = inp[prm.offQ + k * V + v];
    for (var j = 0u; j < p; j++) {
      let wj = wio[j * V + v];
      if (wj != 0.0) { acc -= G(k, j) * wj; }
    }
    grad[k * V + v] = acc;
  }
}

// One sweep over the coordinates; returns (largest update, largest weight).
fn sweep(v: u32, l1: f32, l2: f32, positive: bool) -> vec2<f32> {
  let p = prm.p;
  let V = prm.V;
  var maxDelta = 0.0;
  var maxW = 0.0;
  for (var j = 0u; j < p; j++) {
    let old = wio[j * V + v];
    let djj = G(j, j);
    let z = grad[j * V + v] + djj * old;
    var nw = 0.0;
    if (djj > 0.0) {
      if (z > l1) {
        nw = (z - l1) / (djj + l2);
      } else if (!positive && z < -l1) {
        nw = (z + l1) / (djj + l2);
      }
    }
    if (nw != old) {
      let d = nw - old;
      for (var k = 0u; k < p; k++) { grad[k * V + v] -= G(k, j) * d; }
      wio[j * V + v] = nw;
      maxDelta = max(maxDelta, abs(d));
    }
    maxW = max(maxW, abs(nw));
  }
  return vec2<f32>(maxDelta, maxW);
}

// The duality gap, as scikit-learn computes it with a Gram matrix.
fn dualityGap(v: u32, yy: f32, l1: f32, l2: f32, positive: bool) -> f32 {
  let p = prm.p;
  let V = prm.V;
  var qw = 0.0;
  var wGw = 0.0;
  var dual = 0.0;
  var l1n = 0.0;
  var w2 = 0.0;
  for (var j = 0u; j < p; j++) {
    let qj = inp[prm.offQ + j * V + v];
    let wj = wio[j * V + v];
    let gj = grad[j * V + v];
    qw += wj * qj;
    wGw += wj * (qj - gj);
    let xta = gj - l2 * wj;
    var a = abs(xta);
    if (positive) { a = xta; }
    dual = max(dual, a);
    l1n += abs(wj);
    w2 += wj * wj;
  }
  let r2 = max(yy + wGw - 2.0 * qw, 0.0);
  var c = 1.0;
  var gap = r2;
  if (dual > l1) {
    c = l1 / dual;
    gap = 0.5 * (r2 + r2 * c * c);
  }
  return gap + l1 * l1n - c * (yy - qw) + 0.5 * l2 * (1.0 + c * c) * w2;
}

// ||y_h − X_h w||² on the held-out rows, from their Gram quantities.
fn heldOutError(v: u32) -> f32 {
  let p = prm.p;
  let V = prm.V;
  var lin = 0.0;
  var quad = 0.0;
  for (var j = 0u; j < p; j++) {
    let wj = wio[j * V + v];
    if (wj == 0.0) { continue; }
    lin += wj * inp[prm.offHQ + j * V + v];
    var row = 0.0;
    for (var k = 0u; k < p; k++) { row += inp[prm.offHGram + j * p + k] * wio[k * V + v]; }
    quad += wj * row;
  }
  return inp[prm.offHYY + v] - 2.0 * lin + quad;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let v = gid.x;
  let V = prm.V;
  if (v >= V) { return; }
  var last = prm.nA - 1u;
  if ((prm.flags & STOP) != 0u) { last = u32(inp[prm.offStop + v]); }
  var i = 0u;
  var atSweeps = 0u;
  var allSweeps = 0u;
  var fresh = true;
  if ((prm.flags & INIT) != 0u) {
    if ((prm.flags & WARM) == 0u) {
      for (var j = 0u; j < prm.p; j++) { wio[j * V + v] = 0.0; }
    }
  } else {
    if (state[3u * V + v] != 0u) { return; }
    i = state[v];
    atSweeps = state[V + v];
    allSweeps = state[2u * V + v];
    fresh = atSweeps == 0u;
  }
  let yy = inp[prm.offYY + v];
  let positive = (prm.flags & POSITIVE) != 0u;
  var budget = prm.budget;
  var done = false;
  loop {
    if (budget < 3u) { break; }
    let pen = inp[prm.offScale + v] * inp[prm.offPath + i];
    let l1 = pen * prm.l1Ratio;
    let l2 = pen * (1.0 - prm.l1Ratio);
    if (fresh) {
      refreshGradient(v);
      budget -= 1u;
      fresh = false;
    }
    let m = sweep(v, l1, l2, positive);
    budget -= 1u;
    atSweeps += 1u;
    allSweeps += 1u;
    var converged = false;
    if (m.y == 0.0 || m.x / m.y < prm.tol || atSweeps >= prm.maxIter) {
      refreshGradient(v);
      budget -= 1u;
      converged = dualityGap(v, yy, l1, l2, positive) <= prm.tol * yy || atSweeps >= prm.maxIter;
    }
    if (converged) {
      if ((prm.flags & HELD_OUT) != 0u) {
        sse[i * V + v] = heldOutError(v);
        budget -= 1u;
      }
      if (i >= last) {
        done = true;
        break;
      }
      i += 1u;
      atSweeps = 0u;
      fresh = true;
    }
  }
  state[v] = i;
  state[V + v] = atSweeps;
  state[2u * V + v] = allSweeps;
  if (done) {
    state[3u * V + v] = 1u;
  } else {
    state[3u * V + v] = 0u;
    atomicAdd(&unfinished, 1u);
  }
}
