// Pearson correlation of the columns of two (rows × cols) matrices, row-major,
// kept on the device: one invocation per column, over the rows [r0, r0 + nr)
// per dispatch (chunks short enough for Mesa's loop limit, ROWS_PER_INVOCATION
// in webgpu_kernels.ts). Each chunk's means and centred sums are merged into
// `state` with the pairwise update of Chan, Golub and LeVeque (1979), as the
// host does for column_correlation.wgsl; the last chunk writes r.
// state: (5 × cols): mean of A, mean of B, Σ(a − ā)², Σ(b − b̄)², Σ(a − ā)(b − b̄).
// out: (cols): r, 0 where a column is constant.

struct Dims { nr: u32, cols: u32, r0: u32, c0: u32, last: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x + dims.c0;
  let cols = dims.cols;
  if (c >= cols) { return; }
  let base = dims.r0 * cols + c;
  var sa = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < dims.nr; r++) {
    sa += A[base + r * cols];
    sb += B[base + r * cols];
  }
  let ma = sa / f32(dims.nr);
  let mb = sb / f32(dims.nr);
  var saa = 0.0;
  var sbb = 0.0;
  var sab = 0.0;
  for (var r = 0u; r < dims.nr; r++) {
    let x = A[base + r * cols] - ma;
    let y = B[base + r * cols] - mb;
    saa = fma(x, x, saa);
    sbb = fma(y, y, sbb);
    sab = fma(x, y, sab);
  }
  if (dims.r0 == 0u) {
    state[c] = ma;
    state[cols + c] = mb;
    state[2u * cols + c] = saa;
    state[3u * cols + c] = sbb;
    state[4u * cols + c] = sab;
  } else {
    let nA = f32(dims.r0);
    let nB = f32(dims.nr);
    let n = nA + nB;
    let da = ma - state[c];
    let db = mb - state[cols + c];
    let f = nA * nB / n;
    state[c] += da * nB / n;
    state[cols + c] += db * nB / n;
    state[2u * cols + c] += saa + da * da * f;
    state[3u * cols + c] += sbb + db * db * f;
    state[4u * cols + c] += sab + da * db * f;
  }
  if (dims.last != 0u) {
    let vaa = state[2u * cols + c];
    let vbb = state[3u * cols + c];
    var r = 0.0;
    if (vaa > 0.0 && vbb > 0.0) { r = state[4u * cols + c] / (sqrt(vaa) * sqrt(vbb)); }
    out[c] = r;
  }
}
