// Per-column moments for Pearson correlation of two matrices of the same
// shape (rows × cols), row-major, one invocation per column:
// out[c] = mean of A, out[cols + c] = mean of B, then Σ(a − ā)², Σ(b − b̄)²
// and Σ(a − ā)(b − b̄) at 2·cols, 3·cols and 4·cols. The host runs it on row
// chunks short enough for Mesa's loop limit (ROWS_PER_INVOCATION in
// webgpu_kernels.ts), merges the chunks' moments and forms r.

struct Dims { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let cols = dims.cols;
  if (c >= cols) { return; }
  var sa = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    sa += A[r * cols + c];
    sb += B[r * cols + c];
  }
  let ma = sa / f32(dims.rows);
  let mb = sb / f32(dims.rows);
  var sab = 0.0;
  var saa = 0.0;
  var sbb = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    let x = A[r * cols + c] - ma;
    let y = B[r * cols + c] - mb;
    sab = fma(x, y, sab);
    saa = fma(x, x, saa);
    sbb = fma(y, y, sbb);
  }
  out[c] = ma;
  out[cols + c] = mb;
  out[2u * cols + c] = saa;
  out[3u * cols + c] = sbb;
  out[4u * cols + c] = sab;
}
