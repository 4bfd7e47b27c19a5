// Copies a region of a row-major float32 matrix into another, zero-padding
// or transposing on the way: what the host's packPadded does, on the device,
// so operands already on the GPU reach the GEMM kernels without a readback
// (see webgpu_resident.ts). Invocation (c, r) of the region (rows × cols):
//   value = r < nr && c < nc ? op(src)[sr0 + r][sc0 + c] : 0,
//   op(src)[i][j] = src[i·srcStride + j], or src[j·srcStride + i] when transposed;
//   dst[(dr0 + r)·dstStride + dc0 + c] = value, or += value when accumulating.
// flags: 1 = transpose the source, 2 = accumulate into dst.

struct Dims {
  rows: u32, cols: u32, nr: u32, nc: u32,
  srcStride: u32, sr0: u32, sc0: u32, dstStride: u32,
  dr0: u32, dc0: u32, flags: u32, pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let r = gid.y;
  if (c >= dims.cols || r >= dims.rows) { return; }
  var value = 0.0;
  if (r < dims.nr && c < dims.nc) {
    if ((dims.flags & 1u) != 0u) {
      value = src[(dims.sc0 + c) * dims.srcStride + dims.sr0 + r];
    } else {
      value = src[(dims.sr0 + r) * dims.srcStride + dims.sc0 + c];
    }
  }
  let at = (dims.dr0 + r) * dims.dstStride + dims.dc0 + c;
  if ((dims.flags & 2u) != 0u) {
    dst[at] += value;
  } else {
    dst[at] = value;
  }
}
