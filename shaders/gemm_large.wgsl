// The large-tile variant of gemm.wgsl for big products: C = A · B, float32,
// row-major, on operands packed and zero-padded by the host (M and N
// multiples of 128, K of 4).
//
// Each workgroup computes a 128 × 128 tile of C; each invocation 16 rows ×
// 16 columns in sixty-four vec4 accumulators (columns 8 vec4s apart, so
// neighbouring invocations read neighbouring vec4s of B). On Mesa's llvmpipe
// this runs at about 12 GFLOP/s at 2048³ against 8.5 for the 64 × 64 tiles: each
// value loaded from A or B feeds twice as many FMAs. The host uses it when the
// padding to 128 costs little (see webgpu_backend.ts). Fully unrolled, as
// gemm.wgsl is, and for the same reason.

struct Dims { M: u32, N: u32, K: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = (wg.y * 8u + lid.y) * 16u;
  let cb = wg.x * 32u + lid.x;
  let k4n = dims.K / 4u;
  let n4 = dims.N / 4u;
  var c0_0 = vec4<f32>(); var c0_1 = vec4<f32>(); var c0_2 = vec4<f32>(); var c0_3 = vec4<f32>();
  var c1_0 = vec4<f32>(); var c1_1 = vec4<f32>(); var c1_2 = vec4<f32>(); var c1_3 = vec4<f32>();
  var c2_0 = vec4<f32>(); var c2_1 = vec4<f32>(); var c2_2 = vec4<f32>(); var c2_3 = vec4<f32>();
  var c3_0 = vec4<f32>(); var c3_1 = vec4<f32>(); var c3_2 = vec4<f32>(); var c3_3 = vec4<f32>();
  var c4_0 = vec4<f32>(); var c4_1 = vec4<f32>(); var c4_2 = vec4<f32>(); var c4_3 = vec4<f32>();
  var c5_0 = vec4<f32>(); var c5_1 = vec4<f32>(); var c5_2 = vec4<f32>(); var c5_3 = vec4<f32>();
  var c6_0 = vec4<f32>(); var c6_1 = vec4<f32>(); var c6_2 = vec4<f32>(); var c6_3 = vec4<f32>();
  var c7_0 = vec4<f32>(); var c7_1 = vec4<f32>(); var c7_2 = vec4<f32>(); var c7_3 = vec4<f32>();
  var c8_0 = vec4<f32>(); var c8_1 = vec4<f32>(); var c8_2 = vec4<f32>(); var c8_3 = vec4<f32>();
  var c9_0 = vec4<f32>(); var c9_1 = vec4<f32>(); var c9_2 = vec4<f32>(); var c9_3 = vec4<f32>();
  var c10_0 = vec4<f32>(); var c10_1 = vec4<f32>(); var c10_2 = vec4<f32>(); var c10_3 = vec4<f32>();
  var c11_0 = vec4<f32>(); var c11_1 = vec4<f32>(); var c11_2 = vec4<f32>(); var c11_3 = vec4<f32>();
  var c12_0 = vec4<f32>(); var c12_1 = vec4<f32>(); var c12_2 = vec4<f32>(); var c12_3 = vec4<f32>();
  var c13_0 = vec4<f32>(); var c13_1 = vec4<f32>(); var c13_2 = vec4<f32>(); var c13_3 = vec4<f32>();
  var c14_0 = vec4<f32>(); var c14_1 = vec4<f32>(); var c14_2 = vec4<f32>(); var c14_3 = vec4<f32>();
  var c15_0 = vec4<f32>(); var c15_1 = vec4<f32>(); var c15_2 = vec4<f32>(); var c15_3 = vec4<f32>();
  for (var k4 = 0u; k4 < k4n; k4++) {
    let a0 = A[(r0 + 0u) * k4n + k4];
    let a1 = A[(r0 + 1u) * k4n + k4];
    let a2 = A[(r0 + 2u) * k4n + k4];
    let a3 = A[(r0 + 3u) * k4n + k4];
    let a4 = A[(r0 + 4u) * k4n + k4];
    let a5 = A[(r0 + 5u) * k4n + k4];
    let a6 = A[(r0 + 6u) * k4n + k4];
    let a7 = A[(r0 + 7u) * k4n + k4];
    let a8 = A[(r0 + 8u) * k4n + k4];
    let a9 = A[(r0 + 9u) * k4n + k4];
    let a10 = A[(r0 + 10u) * k4n + k4];
    let a11 = A[(r0 + 11u) * k4n + k4];
    let a12 = A[(r0 + 12u) * k4n + k4];
    let a13 = A[(r0 + 13u) * k4n + k4];
    let a14 = A[(r0 + 14u) * k4n + k4];
    let a15 = A[(r0 + 15u) * k4n + k4];
    let b0_0 = B[(k4 * 4u + 0u) * n4 + cb];
    let b0_1 = B[(k4 * 4u + 0u) * n4 + cb + 8u];
    let b0_2 = B[(k4 * 4u + 0u) * n4 + cb + 16u];
    let b0_3 = B[(k4 * 4u + 0u) * n4 + cb + 24u];
    c0_0 = fma(vec4<f32>(a0.x), b0_0, c0_0); c0_1 = fma(vec4<f32>(a0.x), b0_1, c0_1); c0_2 = fma(vec4<f32>(a0.x), b0_2, c0_2); c0_3 = fma(vec4<f32>(a0.x), b0_3, c0_3);
    c1_0 = fma(vec4<f32>(a1.x), b0_0, c1_0); c1_1 = fma(vec4<f32>(a1.x), b0_1, c1_1); c1_2 = fma(vec4<f32>(a1.x), b0_2, c1_2); c1_3 = fma(vec4<f32>(a1.x), b0_3, c1_3);
    c2_0 = fma(vec4<f32>(a2.x), b0_0, c2_0); c2_1 = fma(vec4<f32>(a2.x), b0_1, c2_1); c2_2 = fma(vec4<f32>(a2.x), b0_2, c2_2); c2_3 = fma(vec4<f32>(a2.x), b0_3, c2_3);
    c3_0 = fma(vec4<f32>(a3.x), b0_0, c3_0); c3_1 = fma(vec4<f32>(a3.x), b0_1, c3_1); c3_2 = fma(vec4<f32>(a3.x), b0_2, c3_2); c3_3 = fma(vec4<f32>(a3.x), b0_3, c3_3);
    c4_0 = fma(vec4<f32>(a4.x), b0_0, c4_0); c4_1 = fma(vec4<f32>(a4.x), b0_1, c4_1); c4_2 = fma(vec4<f32>(a4.x), b0_2, c4_2); c4_3 = fma(vec4<f32>(a4.x), b0_3, c4_3);
    c5_0 = fma(vec4<f32>(a5.x), b0_0, c5_0); c5_1 = fma(vec4<f32>(a5.x), b0_1, c5_1); c5_2 = fma(vec4<f32>(a5.x), b0_2, c5_2); c5_3 = fma(vec4<f32>(a5.x), b0_3, c5_3);
    c6_0 = fma(vec4<f32>(a6.x), b0_0, c6_0); c6_1 = fma(vec4<f32>(a6.x), b0_1, c6_1); c6_2 = fma(vec4<f32>(a6.x), b0_2, c6_2); c6_3 = fma(vec4<f32>(a6.x), b0_3, c6_3);
    c7_0 = fma(vec4<f32>(a7.x), b0_0, c7_0); c7_1 = fma(vec4<f32>(a7.x), b0_1, c7_1); c7_2 = fma(vec4<f32>(a7.x), b0_2, c7_2); c7_3 = fma(vec4<f32>(a7.x), b0_3, c7_3);
    c8_0 = fma(vec4<f32>(a8.x), b0_0, c8_0); c8_1 = fma(vec4<f32>(a8.x), b0_1, c8_1); c8_2 = fma(vec4<f32>(a8.x), b0_2, c8_2); c8_3 = fma(vec4<f32>(a8.x), b0_3, c8_3);
    c9_0 = fma(vec4<f32>(a9.x), b0_0, c9_0); c9_1 = fma(vec4<f32>(a9.x), b0_1, c9_1); c9_2 = fma(vec4<f32>(a9.x), b0_2, c9_2); c9_3 = fma(vec4<f32>(a9.x), b0_3, c9_3);
    c10_0 = fma(vec4<f32>(a10.x), b0_0, c10_0); c10_1 = fma(vec4<f32>(a10.x), b0_1, c10_1); c10_2 = fma(vec4<f32>(a10.x), b0_2, c10_2); c10_3 = fma(vec4<f32>(a10.x), b0_3, c10_3);
    c11_0 = fma(vec4<f32>(a11.x), b0_0, c11_0); c11_1 = fma(vec4<f32>(a11.x), b0_1, c11_1); c11_2 = fma(vec4<f32>(a11.x), b0_2, c11_2); c11_3 = fma(vec4<f32>(a11.x), b0_3, c11_3);
    c12_0 = fma(vec4<f32>(a12.x), b0_0, c12_0); c12_1 = fma(vec4<f32>(a12.x), b0_1, c12_1); c12_2 = fma(vec4<f32>(a12.x), b0_2, c12_2); c12_3 = fma(vec4<f32>(a12.x), b0_3, c12_3);
    c13_0 = fma(vec4<f32>(a13.x), b0_0, c13_0); c13_1 = fma(vec4<f32>(a13.x), b0_1, c13_1); c13_2 = fma(vec4<f32>(a13.x), b0_2, c13_2); c13_3 = fma(vec4<f32>(a13.x), b0_3, c13_3);
    c14_0 = fma(vec4<f32>(a14.x), b0_0, c14_0); c14_1 = fma(vec4<f32>(a14.x), b0_1, c14_1); c14_2 = fma(vec4<f32>(a14.x), b0_2, c14_2); c14_3 = fma(vec4<f32>(a14.x), b0_3, c14_3);
    c15_0 = fma(vec4<f32>(a15.x), b0_0, c15_0); c15_1 = fma(vec4<f32>(a15.x), b0_1, c15_1); c15_2 = fma(vec4<f32>(a15.x), b0_2, c15_2); c15_3 = fma(vec4<f32>(a15.x), b0_3, c15_3);
    let b1_0 = B[(k4 * 4u + 1u) * n4 + cb];
    let b1_1 = B[(k4 * 4u + 1u) * n4 + cb + 8u];
    let b1_2 = B[(k4 * 4u + 1u) * n4 + cb + 16u];
    let b1_3 = B[(k4 * 4u + 1u) * n4 + cb + 24u];
    c0_0 = fma(vec4<f32>(a0.y), b1_0, c0_0); c0_1 = fma(vec4<f32>(a0.y), b1_1, c0_1); c0_2 = fma(vec4<f32>(a0.y), b1_2, c0_2); c0_3 = fma(vec4<f32>(a0.y), b1_3, c0_3);
    c1_0 = fma(vec4<f32>(a1.y), b1_0, c1_0); c1_1 = fma(vec4<f32>(a1.y), b1_1, c1_1); c1_2 = fma(vec4<f32>(a1.y), b1_2, c1_2); c1_3 = fma(vec4<f32>(a1.y), b1_3, c1_3);
    c2_0 = fma(vec4<f32>(a2.y), b1_0, c2_0); c2_1 = fma(vec4<f32>(a2.y), b1_1, c2_1); c2_2 = fma(vec4<f32>(a2.y), b1_2, c2_2); c2_3 = fma(vec4<f32>(a2.y), b1_3, c2_3);
    c3_0 = fma(vec4<f32>(a3.y), b1_0, c3_0); c3_1 = fma(vec4<f32>(a3.y), b1_1, c3_1); c3_2 = fma(vec4<f32>(a3.y), b1_2, c3_2); c3_3 = fma(vec4<f32>(a3.y), b1_3, c3_3);
    c4_0 = fma(vec4<f32>(a4.y), b1_0, c4_0); c4_1 = fma(vec4<f32>(a4.y), b1_1, c4_1); c4_2 = fma(vec4<f32>(a4.y), b1_2, c4_2); c4_3 = fma(vec4<f32>(a4.y), b1_3, c4_3);
    c5_0 = fma(vec4<f32>(a5.y), b1_0, c5_0); c5_1 = fma(vec4<f32>(a5.y), b1_1, c5_1); c5_2 = fma(vec4<f32>(a5.y), b1_2, c5_2); c5_3 = fma(vec4<f32>(a5.y), b1_3, c5_3);
    c6_0 = fma(vec4<f32>(a6.y), b1_0, c6_0); c6_1 = fma(vec4<f32>(a6.y), b1_1, c6_1); c6_2 = fma(vec4<f32>(a6.y), b1_2, c6_2); c6_3 = fma(vec4<f32>(a6.y), b1_3, c6_3);
    c7_0 = fma(vec4<f32>(a7.y), b1_0, c7_0); c7_1 = fma(vec4<f32>(a7.y), b1_1, c7_1); c7_2 = fma(vec4<f32>(a7.y), b1_2, c7_2); c7_3 = fma(vec4<f32>(a7.y), b1_3, c7_3);
    c8_0 = fma(vec4<f32>(a8.y), b1_0, c8_0); c8_1 = fma(vec4<f32>(a8.y), b1_1, c8_1); c8_2 = fma(vec4<f32>(a8.y), b1_2, c8_2); c8_3 = fma(vec4<f32>(a8.y), b1_3, c8_3);
    c9_0 = fma(vec4<f32>(a9.y), b1_0, c9_0); c9_1 = fma(vec4<f32>(a9.y), b1_1, c9_1); c9_2 = fma(vec4<f32>(a9.y), b1_2, c9_2); c9_3 = fma(vec4<f32>(a9.y), b1_3, c9_3);
    c10_0 = fma(vec4<f32>(a10.y), b1_0, c10_0); c10_1 = fma(vec4<f32>(a10.y), b1_1, c10_1); c10_2 = fma(vec4<f32>(a10.y), b1_2, c10_2); c10_3 = fma(vec4<f32>(a10.y), b1_3, c10_3);
    c11_0 = fma(vec4<f32>(a11.y), b1_0, c11_0); c11_1 = fma(vec4<f32>(a11.y), b1_1, c11_1); c11_2 = fma(vec4<f32>(a11.y), b1_2, c11_2); c11_3 = fma(vec4<f32>(a11.y), b1_3, c11_3);
    c12_0 = fma(vec4<f32>(a12.y), b1_0, c12_0); c12_1 = fma(vec4<f32>(a12.y), b1_1, c12_1); c12_2 = fma(vec4<f32>(a12.y), b1_2, c12_2); c12_3 = fma(vec4<f32>(a12.y), b1_3, c12_3);
    c13_0 = fma(vec4<f32>(a13.y), b1_0, c13_0); c13_1 = fma(vec4<f32>(a13.y), b1_1, c13_1); c13_2 = fma(vec4<f32>(a13.y), b1_2, c13_2); c13_3 = fma(vec4<f32>(a13.y), b1_3, c13_3);
    c14_0 = fma(vec4<f32>(a14.y), b1_0, c14_0); c14_1 = fma(vec4<f32>(a14.y), b1_1, c14_1); c14_2 = fma(vec4<f32>(a14.y), b1_2, c14_2); c14_3 = fma(vec4<f32>(a14.y), b1_3, c14_3);
    c15_0 = fma(vec4<f32>(a15.y), b1_0, c15_0); c15_1 = fma(vec4<f32>(a15.y), b1_1, c15_1); c15_2 = fma(vec4<f32>(a15.y), b1_2, c15_2); c15_3 = fma(vec4<f32>(a15.y), b1_3, c15_3);
    let b2_0 = B[(k4 * 4u + 2u) * n4 + cb];
    let b2_1 = B[(k4 * 4u + 2u) * n4 + cb + 8u];
    let b2_2 = B[(k4 * 4u + 2u) * n4 + cb + 16u];
    let b2_3 = B[(k4 * 4u + 2u) * n4 + cb + 24u];
    c0_0 = fma(vec4<f32>(a0.z), b2_0, c0_0); c0_1 = fma(vec4<f32>(a0.z), b2_1, c0_1); c0_2 = fma(vec4<f32>(a0.z), b2_2, c0_2); c0_3 = fma(vec4<f32>(a0.z), b2_3, c0_3);
    c1_0 = fma(vec4<f32>(a1.z), b2_0, c1_0); c1_1 = fma(vec4<f32>(a1.z), b2_1, c1_1); c1_2 = fma(vec4<f32>(a1.z), b2_2, c1_2); c1_3 = fma(vec4<f32>(a1.z), b2_3, c1_3);
    c2_0 = fma(vec4<f32>(a2.z), b2_0, c2_0); c2_1 = fma(vec4<f32>(a2.z), b2_1, c2_1); c2_2 = fma(vec4<f32>(a2.z), b2_2, c2_2); c2_3 = fma(vec4<f32>(a2.z), b2_3, c2_3);
    c3_0 = fma(vec4<f32>(a3.z), b2_0, c3_0); c3_1 = fma(vec4<f32>(a3.z), b2_1, c3_1); c3_2 = fma(vec4<f32>(a3.z), b2_2, c3_2); c3_3 = fma(vec4<f32>(a3.z), b2_3, c3_3);
    c4_0 = fma(vec4<f32>(a4.z), b2_0, c4_0); c4_1 = fma(vec4<f32>(a4.z), b2_1, c4_1); c4_2 = fma(vec4<f32>(a4.z), b2_2, c4_2); c4_3 = fma(vec4<f32>(a4.z), b2_3, c4_3);
    c5_0 = fma(vec4<f32>(a5.z), b2_0, c5_0); c5_1 = fma(vec4<f32>(a5.z), b2_1, c5_1); c5_2 = fma(vec4<f32>(a5.z), b2_2, c5_2); c5_3 = fma(vec4<f32>(a5.z), b2_3, c5_3);
    c6_0 = fma(vec4<f32>(a6.z), b2_0, c6_0); c6_1 = fma(vec4<f32>(a6.z), b2_1, c6_1); c6_2 = fma(vec4<f32>(a6.z), b2_2, c6_2); c6_3 = fma(vec4<f32>(a6.z), b2_3, c6_3);
    c7_0 = fma(vec4<f32>(a7.z), b2_0, c7_0); c7_1 = fma(vec4<f32>(a7.z), b2_1, c7_1); c7_2 = fma(vec4<f32>(a7.z), b2_2, c7_2); c7_3 = fma(vec4<f32>(a7.z), b2_3, c7_3);
    c8_0 = fma(vec4<f32>(a8.z), b2_0, c8_0); c8_1 = fma(vec4<f32>(a8.z), b2_1, c8_1); c8_2 = fma(vec4<f32>(a8.z), b2_2, c8_2); c8_3 = fma(vec4<f32>(a8.z), b2_3, c8_3);
    c9_0 = fma(vec4<f32>(a9.z), b2_0, c9_0); c9_1 = fma(vec4<f32>(a9.z), b2_1, c9_1); c9_2 = fma(vec4<f32>(a9.z), b2_2, c9_2); c9_3 = fma(vec4<f32>(a9.z), b2_3, c9_3);
    c10_0 = fma(vec4<f32>(a10.z), b2_0, c10_0); c10_1 = fma(vec4<f32>(a10.z), b2_1, c10_1); c10_2 = fma(vec4<f32>(a10.z), b2_2, c10_2); c10_3 = fma(vec4<f32>(a10.z), b2_3, c10_3);
    c11_0 = fma(vec4<f32>(a11.z), b2_0, c11_0); c11_1 = fma(vec4<f32>(a11.z), b2_1, c11_1); c11_2 = fma(vec4<f32>(a11.z), b2_2, c11_2); c11_3 = fma(vec4<f32>(a11.z), b2_3, c11_3);
    c12_0 = fma(vec4<f32>(a12.z), b2_0, c12_0); c12_1 = fma(vec4<f32>(a12.z), b2_1, c12_1); c12_2 = fma(vec4<f32>(a12.z), b2_2, c12_2); c12_3 = fma(vec4<f32>(a12.z), b2_3, c12_3);
    c13_0 = fma(vec4<f32>(a13.z), b2_0, c13_0); c13_1 = fma(vec4<f32>(a13.z), b2_1, c13_1); c13_2 = fma(vec4<f32>(a13.z), b2_2, c13_2); c13_3 = fma(vec4<f32>(a13.z), b2_3, c13_3);
    c14_0 = fma(vec4<f32>(a14.z), b2_0, c14_0); c14_1 = fma(vec4<f32>(a14.z), b2_1, c14_1); c14_2 = fma(vec4<f32>(a14.z), b2_2, c14_2); c14_3 = fma(vec4<f32>(a14.z), b2_3, c14_3);
    c15_0 = fma(vec4<f32>(a15.z), b2_0, c15_0); c15_1 = fma(vec4<f32>(a15.z), b2_1, c15_1); c15_2 = fma(vec4<f32>(a15.z), b2_2, c15_2); c15_3 = fma(vec4<f32>(a15.z), b2_3, c15_3);
    let b3_0 = B[(k4 * 4u + 3u) * n4 + cb];
    let b3_1 = B[(k4 * 4u + 3u) * n4 + cb + 8u];
    let b3_2 = B[(k4 * 4u + 3u) * n4 + cb + 16u];
    let b3_3 = B[(k4 * 4u + 3u) * n4 + cb + 24u];
    c0_0 = fma(vec4<f32>(a0.w), b3_0, c0_0); c0_1 = fma(vec4<f32>(a0.w), b3_1, c0_1); c0_2 = fma(vec4<f32>(a0.w), b3_2, c0_2); c0_3 = fma(vec4<f32>(a0.w), b3_3, c0_3);
    c1_0 = fma(vec4<f32>(a1.w), b3_0, c1_0); c1_1 = fma(vec4<f32>(a1.w), b3_1, c1_1); c1_2 = fma(vec4<f32>(a1.w), b3_2, c1_2); c1_3 = fma(vec4<f32>(a1.w), b3_3, c1_3);
    c2_0 = fma(vec4<f32>(a2.w), b3_0, c2_0); c2_1 = fma(vec4<f32>(a2.w), b3_1, c2_1); c2_2 = fma(vec4<f32>(a2.w), b3_2, c2_2); c2_3 = fma(vec4<f32>(a2.w), b3_3, c2_3);
    c3_0 = fma(vec4<f32>(a3.w), b3_0, c3_0); c3_1 = fma(vec4<f32>(a3.w), b3_1, c3_1); c3_2 = fma(vec4<f32>(a3.w), b3_2, c3_2); c3_3 = fma(vec4<f32>(a3.w), b3_3, c3_3);
    c4_0 = fma(vec4<f32>(a4.w), b3_0, c4_0); c4_1 = fma(vec4<f32>(a4.w), b3_1, c4_1); c4_2 = fma(vec4<f32>(a4.w), b3_2, c4_2); c4_3 = fma(vec4<f32>(a4.w), b3_3, c4_3);
    c5_0 = fma(vec4<f32>(a5.w), b3_0, c5_0); c5_1 = fma(vec4<f32>(a5.w), b3_1, c5_1); c5_2 = fma(vec4<f32>(a5.w), b3_2, c5_2); c5_3 = fma(vec4<f32>(a5.w), b3_3, c5_3);
    c6_0 = fma(vec4<f32>(a6.w), b3_0, c6_0); c6_1 = fma(vec4<f32>(a6.w), b3_1, c6_1); c6_2 = fma(vec4<f32>(a6.w), b3_2, c6_2); c6_3 = fma(vec4<f32>(a6.w), b3_3, c6_3);
    c7_0 = fma(vec4<f32>(a7.w), b3_0, c7_0); c7_1 = fma(vec4<f32>(a7.w), b3_1, c7_1); c7_2 = fma(vec4<f32>(a7.w), b3_2, c7_2); c7_3 = fma(vec4<f32>(a7.w), b3_3, c7_3);
    c8_0 = fma(vec4<f32>(a8.w), b3_0, c8_0); c8_1 = fma(vec4<f32>(a8.w), b3_1, c8_1); c8_2 = fma(vec4<f32>(a8.w), b3_2, c8_2); c8_3 = fma(vec4<f32>(a8.w), b3_3, c8_3);
    c9_0 = fma(vec4<f32>(a9.w), b3_0, c9_0); c9_1 = fma(vec4<f32>(a9.w), b3_1, c9_1); c9_2 = fma(vec4<f32>(a9.w), b3_2, c9_2); c9_3 = fma(vec4<f32>(a9.w), b3_3, c9_3);
    c10_0 = fma(vec4<f32>(a10.w), b3_0, c10_0); c10_1 = fma(vec4<f32>(a10.w), b3_1, c10_1); c10_2 = fma(vec4<f32>(a10.w), b3_2, c10_2); c10_3 = fma(vec4<f32>(a10.w), b3_3, c10_3);
    c11_0 = fma(vec4<f32>(a11.w), b3_0, c11_0); c11_1 = fma(vec4<f32>(a11.w), b3_1, c11_1); c11_2 = fma(vec4<f32>(a11.w), b3_2, c11_2); c11_3 = fma(vec4<f32>(a11.w), b3_3, c11_3);
    c12_0 = fma(vec4<f32>(a12.w), b3_0, c12_0); c12_1 = fma(vec4<f32>(a12.w), b3_1, c12_1); c12_2 = fma(vec4<f32>(a12.w), b3_2, c12_2); c12_3 = fma(vec4<f32>(a12.w), b3_3, c12_3);
    c13_0 = fma(vec4<f32>(a13.w), b3_0, c13_0); c13_1 = fma(vec4<f32>(a13.w), b3_1, c13_1); c13_2 = fma(vec4<f32>(a13.w), b3_2, c13_2); c13_3 = fma(vec4<f32>(a13.w), b3_3, c13_3);
    c14_0 = fma(vec4<f32>(a14.w), b3_0, c14_0); c14_1 = fma(vec4<f32>(a14.w), b3_1, c14_1); c14_2 = fma(vec4<f32>(a14.w), b3_2, c14_2); c14_3 = fma(vec4<f32>(a14.w), b3_3, c14_3);
    c15_0 = fma(vec4<f32>(a15.w), b3_0, c15_0); c15_1 = fma(vec4<f32>(a15.w), b3_1, c15_1); c15_2 = fma(vec4<f32>(a15.w), b3_2, c15_2); c15_3 = fma(vec4<f32>(a15.w), b3_3, c15_3);
  }
  C[(r0 + 0u) * n4 + cb] = c0_0; C[(r0 + 0u) * n4 + cb + 8u] = c0_1; C[(r0 + 0u) * n4 + cb + 16u] = c0_2; C[(r0 + 0u) * n4 + cb + 24u] = c0_3;
  C[(r0 + 1u) * n4 + cb] = c1_0; C[(r0 + 1u) * n4 + cb + 8u] = c1_1; C[(r0 + 1u) * n4 + cb + 16u] = c1_2; C[(r0 + 1u) * n4 + cb + 24u] = c1_3;
  C[(r0 + 2u) * n4 + cb] = c2_0; C[(r0 + 2u) * n4 + cb + 8u] = c2_1; C[(r0 + 2u) * n4 + cb + 16u] = c2_2; C[(r0 + 2u) * n4 + cb + 24u] = c2_3;
  C[(r0 + 3u) * n4 + cb] = c3_0; C[(r0 + 3u) * n4 + cb + 8u] = c3_1; C[(r0 + 3u) * n4 + cb + 16u] = c3_2; C[(r0 + 3u) * n4 + cb + 24u] = c3_3;
  C[(r0 + 4u) * n4 + cb] = c4_0; C[(r0 + 4u) * n4 + cb + 8u] = c4_1; C[(r0 + 4u) * n4 + cb + 16u] = c4_2; C[(r0 + 4u) * n4 + cb + 24u] = c4_3;
  C[(r0 + 5u) * n4 + cb] = c5_0; C[(r0 + 5u) * n4 + cb + 8u] = c5_1; C[(r0 + 5u) * n4 + cb + 16u] = c5_2; C[(r0 + 5u) * n4 + cb + 24u] = c5_3;
  C[(r0 + 6u) * n4 + cb] = c6_0; C[(r0 + 6u) * n4 + cb + 8u] = c6_1; C[(r0 + 6u) * n4 + cb + 16u] = c6_2; C[(r0 + 6u) * n4 + cb + 24u] = c6_3;
  C[(r0 + 7u) * n4 + cb] = c7_0; C[(r0 + 7u) * n4 + cb + 8u] = c7_1; C[(r0 + 7u) * n4 + cb + 16u] = c7_2; C[(r0 + 7u) * n4 + cb + 24u] = c7_3;
  C[(r0 + 8u) * n4 + cb] = c8_0; C[(r0 + 8u) * n4 + cb + 8u] = c8_1; C[(r0 + 8u) * n4 + cb + 16u] = c8_2; C[(r0 + 8u) * n4 + cb + 24u] = c8_3;
  C[(r0 + 9u) * n4 + cb] = c9_0; C[(r0 + 9u) * n4 + cb + 8u] = c9_1; C[(r0 + 9u) * n4 + cb + 16u] = c9_2; C[(r0 + 9u) * n4 + cb + 24u] = c9_3;
  C[(r0 + 10u) * n4 + cb] = c10_0; C[(r0 + 10u) * n4 + cb + 8u] = c10_1; C[(r0 + 10u) * n4 + cb + 16u] = c10_2; C[(r0 + 10u) * n4 + cb + 24u] = c10_3;
  C[(r0 + 11u) * n4 + cb] = c11_0; C[(r0 + 11u) * n4 + cb + 8u] = c11_1; C[(r0 + 11u) * n4 + cb + 16u] = c11_2; C[(r0 + 11u) * n4 + cb + 24u] = c11_3;
  C[(r0 + 12u) * n4 + cb] = c12_0; C[(r0 + 12u) * n4 + cb + 8u] = c12_1; C[(r0 + 12u) * n4 + cb + 16u] = c12_2; C[(r0 + 12u) * n4 + cb + 24u] = c12_3;
  C[(r0 + 13u) * n4 + cb] = c13_0; C[(r0 + 13u) * n4 + cb + 8u] = c13_1; C[(r0 + 13u) * n4 + cb + 16u] = c13_2; C[(r0 + 13u) * n4 + cb + 24u] = c13_3;
  C[(r0 + 14u) * n4 + cb] = c14_0; C[(r0 + 14u) * n4 + cb + 8u] = c14_1; C[(r0 + 14u) * n4 + cb + 16u] = c14_2; C[(r0 + 14u) * n4 + cb + 24u] = c14_3;
  C[(r0 + 15u) * n4 + cb] = c15_0; C[(r0 + 15u) * n4 + cb + 8u] = c15_1; C[(r0 + 15u) * n4 + cb + 16u] = c15_2; C[(r0 + 15u) * n4 + cb + 24u] = c15_3;
}
