// R² of S stacked predictions of the same targets.
// pred: (S·n × p), y: (n × p), out: (S × p), all row-major.
// out[s·p + j] = 1 − SSE / SST, with SST about y's column mean; for a
// constant target, 1 when the fit is exact and 0 otherwise (as scikit-learn).

struct Dims { n: u32, p: u32, S: u32 }

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let s = gid.y;
  if (j >= dims.p || s >= dims.S) { return; }
  var sum = 0.0;
  for (var i = 0u; i < dims.n; i++) { sum += y[i * dims.p + j]; }
  let mu = sum / f32(dims.n);
  var sst = 0.0;
  var sse = 0.0;
  let base = s * dims.n;
  for (var i = 0u; i < dims.n; i++) {
    let v = y[i * dims.p + j];
    let d = v - mu;
    let e = v - pred[(base + i) * dims.p + j];
    sst = fma(d, d, sst);
    sse = fma(e, e, sse);
  }
  var r2 = 0.0;
  if (sst > 0.0) {
    r2 = 1.0 - sse / sst;
  } else if (sse == 0.0) {
    r2 = 1.0;
  }
  out[s * dims.p + j] = r2;
}
