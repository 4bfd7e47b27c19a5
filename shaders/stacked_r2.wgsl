// The sums behind R² of S stacked predictions of the same targets.
// pred: (S·n × p), y: (n × p), out: ((S + 2) × p), all row-major.
// Invocation (j, s) for s < S: out[(2 + s)·p + j] = Σ_i (y_ij − pred_(s·n + i) j)²;
// for s = S: out[j] = mean of y's column j, out[p + j] = Σ_i (y_ij − mean)².
// The host runs it on row chunks short enough for Mesa's loop limit
// (ROWS_PER_INVOCATION in webgpu_kernels.ts), merges the chunks and forms
// R² = 1 − SSE / SST (see Backend.stackedR2).

struct Dims { n: u32, p: u32, S: u32 }

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let s = gid.y;
  let p = dims.p;
  if (j >= p || s > dims.S) { return; }
  if (s == dims.S) {
    var sum = 0.0;
    for (var i = 0u; i < dims.n; i++) { sum += y[i * p + j]; }
    let mu = sum / f32(dims.n);
    var sst = 0.0;
    for (var i = 0u; i < dims.n; i++) {
      let d = y[i * p + j] - mu;
      sst = fma(d, d, sst);
    }
    out[j] = mu;
    out[p + j] = sst;
    return;
  }
  var sse = 0.0;
  let base = s * dims.n;
  for (var i = 0u; i < dims.n; i++) {
    let e = y[i * p + j] - pred[(base + i) * p + j];
    sse = fma(e, e, sse);
  }
  out[(2u + s) * p + j] = sse;
}
