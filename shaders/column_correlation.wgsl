// Per-column Pearson correlation of two matrices of the same shape
// (rows × cols), row-major. One invocation per column; 0 for a constant column.

struct Dims { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= dims.cols) { return; }
  var sa = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    sa += A[r * dims.cols + c];
    sb += B[r * dims.cols + c];
  }
  let ma = sa / f32(dims.rows);
  let mb = sb / f32(dims.rows);
  var sab = 0.0;
  var saa = 0.0;
  var sbb = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    let x = A[r * dims.cols + c] - ma;
    let y = B[r * dims.cols + c] - mb;
    sab = fma(x, y, sab);
    saa = fma(x, x, saa);
    sbb = fma(y, y, sbb);
  }
  if (saa > 0.0 && sbb > 0.0) {
    out[c] = sab / sqrt(saa * sbb);
  } else {
    out[c] = 0.0;
  }
}
