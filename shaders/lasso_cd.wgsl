// Coordinate descent for many LASSO / elastic-net targets sharing one Gram
// matrix, along a warm-started penalty path (as scikit-learn's
// enet_coordinate_descent_gram). One invocation per target.
//
// Per target v and penalty i: w = argmin ½||y − Xw||² + l1 ||w||₁ + ½ l2 ||w||²,
// l1 = scale[v]·path[i]·l1Ratio, l2 = scale[v]·path[i]·(1 − l1Ratio),
// from G = XᵀX, q = Xᵀy and yy = yᵀy alone.
//
// Each invocation is a state machine that moves in steps: one row of a
// gradient refresh (grad = q − G w), one coordinate of a sweep, the duality
// gap, or one row of the held-out error; each step runs one inner loop of at
// most p iterations. A dispatch runs `steps` steps and leaves the whole
// state in `state`, so the host dispatches until no target is active.
//
// Why steps: Mesa's gallivm (llvmpipe under GL, lavapipe under Vulkan) cuts
// every loop short once an invocation has run 65,535 loop iterations in all,
// counted per SIMD vector of 8 invocations; where neighbours diverge (one
// sweeping, one refreshing its gradient), the vector runs the loops of
// both. A budget counted per invocation and phase (as this kernel once had,
// in sweeps of p² steps) therefore under-counts, and the cut loops silently
// corrupted the gradient. Here a vector runs at most the three inner loops
// of a step, 3p + 4 iterations with the step loop's own, per step, and
// p + steps·(3p + 4) per dispatch whatever its lanes do; the host keeps
// that within half the limit (lassoSteps in webgpu_kernels.ts). Short
// dispatches also keep real GPUs' watchdogs quiet.
//
// The read-only inputs share one buffer (at most 8 storage buffers per stage
// are guaranteed): offsets in `prm`, in elements. Weights (`wio`) and the
// gradient q − G w (`grad`) live in storage, column v of each. `prm` itself
// is a read-only storage buffer, not a uniform one: lavapipe inlines uniform
// values that bound loops and recompiles the shader for every dispatch
// (27 ms each, against 1.5 ms), and with p inlined it unrolled the inner
// loops, which hid the loop-limit bug above on Vulkan.

struct Params {
  p: u32, V: u32, nA: u32, flags: u32,
  l1Ratio: f32, tol: f32, maxIter: u32, steps: u32,
  offGram: u32, offQ: u32, offYY: u32, offScale: u32,
  offPath: u32, offHGram: u32, offHQ: u32, offHYY: u32,
  offStop: u32, pad0: u32, pad1: u32, pad2: u32,
}

const POSITIVE: u32 = 1u;
const HELD_OUT: u32 = 2u;
const STOP: u32 = 4u;
const WARM: u32 = 8u;
const INIT: u32 = 16u;

// Phases of the state machine.
const START: u32 = 0u; // refresh the gradient of a warm start, row `pos`
const SWEEP: u32 = 1u; // update coordinate `pos`
const CHECK: u32 = 2u; // refresh the gradient before the duality gap, row `pos`
const GAP: u32 = 3u; // the duality gap: converged, or sweep again
const HELD: u32 = 4u; // held-out error, row `pos`

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> wio: array<f32>; // (p × V): warm start in, weights out
@group(0) @binding(2) var<storage, read_write> grad: array<f32>; // (p × V)
@group(0) @binding(3) var<storage, read_write> sse: array<f32>; // (nA × V)
// (8 × V): penalty, sweeps at it, sweeps in all, done, phase, pos, and the
// phase's two running sums as f32 bits (sweep: largest update and weight;
// held-out: linear and quadratic terms).
@group(0) @binding(4) var<storage, read_write> state: array<u32>;
@group(0) @binding(5) var<storage, read_write> unfinished: atomic<u32>;
@group(0) @binding(6) var<storage, read> prm: Params;

fn G(j: u32, k: u32) -> f32 { return inp[prm.offGram + j * prm.p + k]; }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let v = gid.x;
  let V = prm.V;
  let p = prm.p;
  if (v >= V) { return; }
  var last = prm.nA - 1u;
  if ((prm.flags & STOP) != 0u) { last = u32(inp[prm.offStop + v]); }
  var i = 0u;
  var atSweeps = 0u;
  var allSweeps = 0u;
  var phase = SWEEP;
  var pos = 0u;
  var a = 0.0;
  var b = 0.0;
  if ((prm.flags & INIT) != 0u) {
    if ((prm.flags & WARM) == 0u) {
      // From zero weights the gradient is q itself.
      for (var j = 0u; j < p; j++) {
        wio[j * V + v] = 0.0;
        grad[j * V + v] = inp[prm.offQ + j * V + v];
      }
    } else {
      phase = START;
    }
  } else {
    if (state[3u * V + v] != 0u) { return; }
    i = state[v];
    atSweeps = state[V + v];
    allSweeps = state[2u * V + v];
    phase = state[4u * V + v];
    pos = state[5u * V + v];
    a = bitcast<f32>(state[6u * V + v]);
    b = bitcast<f32>(state[7u * V + v]);
  }
  let yy = inp[prm.offYY + v];
  let scale = inp[prm.offScale + v];
  let positive = (prm.flags & POSITIVE) != 0u;
  var done = false;
  for (var s = 0u; s < prm.steps; s++) {
    let pen = scale * inp[prm.offPath + i];
    let l1 = pen * prm.l1Ratio;
    let l2 = pen * (1.0 - prm.l1Ratio);

    // This step's inner loop, one per phase: grad −= G[:, pos]·d (sweep),
    // the sums of the duality gap, or acc = Σ_k M[pos, k]·w_k with M = G
    // (refresh) or the held-out Gram matrix.
    var old = 0.0;
    var nw = 0.0;
    var acc = 0.0;
    var qw = 0.0;
    var wGw = 0.0;
    var dual = 0.0;
    var l1n = 0.0;
    var w2 = 0.0;
    if (phase == SWEEP) {
      old = wio[pos * V + v];
      let djj = G(pos, pos);
      let z = grad[pos * V + v] + djj * old;
      if (djj > 0.0) {
        if (z > l1) {
          nw = (z - l1) / (djj + l2);
        } else if (!positive && z < -l1) {
          nw = (z + l1) / (djj + l2);
        }
      }
      if (nw != old) {
        let d = nw - old;
        for (var k = 0u; k < p; k++) { grad[k * V + v] -= G(k, pos) * d; }
      }
    } else if (phase == GAP) {
      for (var k = 0u; k < p; k++) {
        let qk = inp[prm.offQ + k * V + v];
        let wk = wio[k * V + v];
        let gk = grad[k * V + v];
        qw += wk * qk;
        wGw += wk * (qk - gk);
        let xta = gk - l2 * wk;
        var t = abs(xta);
        if (positive) { t = xta; }
        dual = max(dual, t);
        l1n += abs(wk);
        w2 += wk * wk;
      }
    } else if (phase != HELD || wio[pos * V + v] != 0.0) {
      var row = prm.offGram + pos * p;
      if (phase == HELD) { row = prm.offHGram + pos * p; }
      for (var k = 0u; k < p; k++) { acc += inp[row + k] * wio[k * V + v]; }
    }

    var nextPenalty = false;
    if (phase == START || phase == CHECK) {
      grad[pos * V + v] = inp[prm.offQ + pos * V + v] - acc;
      pos += 1u;
      if (pos == p) {
        pos = 0u;
        if (phase == START) {
          phase = SWEEP;
        } else {
          phase = GAP;
        }
      }
    } else if (phase == SWEEP) {
      if (nw != old) {
        wio[pos * V + v] = nw;
        a = max(a, abs(nw - old));
      }
      b = max(b, abs(nw));
      pos += 1u;
      if (pos == p) {
        pos = 0u;
        atSweeps += 1u;
        allSweeps += 1u;
        // Small updates: check the duality gap on a fresh gradient (float32
        // drifts when the gradient is only ever updated).
        if (b == 0.0 || a / b < prm.tol || atSweeps >= prm.maxIter) { phase = CHECK; }
        a = 0.0;
        b = 0.0;
      }
    } else if (phase == GAP) {
      // The duality gap, as scikit-learn computes it with a Gram matrix.
      let r2 = max(yy + wGw - 2.0 * qw, 0.0);
      var c = 1.0;
      var gap = r2;
      if (dual > l1) {
        c = l1 / dual;
        gap = 0.5 * (r2 + r2 * c * c);
      }
      gap += l1 * l1n - c * (yy - qw) + 0.5 * l2 * (1.0 + c * c) * w2;
      if (gap <= prm.tol * yy || atSweeps >= prm.maxIter) {
        if ((prm.flags & HELD_OUT) != 0u) {
          phase = HELD;
        } else {
          nextPenalty = true;
        }
      } else {
        phase = SWEEP;
      }
    } else {
      // ||y_h − X_h w||² on the held-out rows, from their Gram quantities.
      let wj = wio[pos * V + v];
      if (wj != 0.0) {
        a += wj * inp[prm.offHQ + pos * V + v];
        b += wj * acc;
      }
      pos += 1u;
      if (pos == p) {
        sse[i * V + v] = inp[prm.offHYY + v] - 2.0 * a + b;
        nextPenalty = true;
      }
    }
    if (nextPenalty) {
      if (i >= last) {
        done = true;
        break;
      }
      // The gradient was refreshed for the gap and w has not moved since.
      i += 1u;
      atSweeps = 0u;
      phase = SWEEP;
      pos = 0u;
      a = 0.0;
      b = 0.0;
    }
  }
  state[v] = i;
  state[V + v] = atSweeps;
  state[2u * V + v] = allSweeps;
  state[4u * V + v] = phase;
  state[5u * V + v] = pos;
  state[6u * V + v] = bitcast<u32>(a);
  state[7u * V + v] = bitcast<u32>(b);
  if (done) {
    state[3u * V + v] = 1u;
  } else {
    state[3u * V + v] = 0u;
    atomicAdd(&unfinished, 1u);
  }
}
