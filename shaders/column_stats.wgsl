// Per-column mean and population standard deviation of X (rows × cols),
// row-major. One invocation per column; two passes for accuracy. The host
// runs it on row chunks short enough for Mesa's loop limit
// (ROWS_PER_INVOCATION in webgpu_kernels.ts) and merges the chunks.
// out[c] = mean, out[cols + c] = std.

struct Dims { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= dims.cols) { return; }
  var s = 0.0;
  for (var r = 0u; r < dims.rows; r++) { s += X[r * dims.cols + c]; }
  let mean = s / f32(dims.rows);
  var ss = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    let d = X[r * dims.cols + c] - mean;
    ss = fma(d, d, ss);
  }
  out[c] = mean;
  out[dims.cols + c] = sqrt(ss / f32(dims.rows));
}
