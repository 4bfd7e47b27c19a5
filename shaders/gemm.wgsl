// C = A · B, float32, row-major, on operands packed and zero-padded by the
// host: A is (M × K), B is (K × N), C is (M × N), with M and N multiples of
// 64 and K a multiple of 4 (transposes are resolved while packing).
//
// Each workgroup computes a 64 × 64 tile of C; each invocation 8 rows ×
// 8 columns, held in sixteen vec4 accumulators. No workgroup memory: on the
// software adapters (llvmpipe, lavapipe, SwiftShader) every memory access
// runs lane by lane and barriers are costly, so register tiles win there;
// neighbouring invocations read neighbouring vec4s of B, which also
// coalesces on GPUs. Unrolled by hand: loops over accumulator arrays would
// spill them to memory on the software adapters.

struct Dims { M: u32, N: u32, K: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = (wg.y * 8u + lid.y) * 8u;
  let cb = wg.x * 16u + lid.x;
  let k4n = dims.K / 4u;
  let n4 = dims.N / 4u;
  var c00 = vec4<f32>(); var c01 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>();
  var c40 = vec4<f32>(); var c41 = vec4<f32>();
  var c50 = vec4<f32>(); var c51 = vec4<f32>();
  var c60 = vec4<f32>(); var c61 = vec4<f32>();
  var c70 = vec4<f32>(); var c71 = vec4<f32>();
  for (var k4 = 0u; k4 < k4n; k4++) {
    let a0 = A[(r0 + 0u) * k4n + k4];
    let a1 = A[(r0 + 1u) * k4n + k4];
    let a2 = A[(r0 + 2u) * k4n + k4];
    let a3 = A[(r0 + 3u) * k4n + k4];
    let a4 = A[(r0 + 4u) * k4n + k4];
    let a5 = A[(r0 + 5u) * k4n + k4];
    let a6 = A[(r0 + 6u) * k4n + k4];
    let a7 = A[(r0 + 7u) * k4n + k4];
    let b00 = B[(k4 * 4u + 0u) * n4 + cb];
    let b01 = B[(k4 * 4u + 0u) * n4 + cb + 8u];
    c00 = fma(vec4<f32>(a0.x), b00, c00); c01 = fma(vec4<f32>(a0.x), b01, c01);
    c10 = fma(vec4<f32>(a1.x), b00, c10); c11 = fma(vec4<f32>(a1.x), b01, c11);
    c20 = fma(vec4<f32>(a2.x), b00, c20); c21 = fma(vec4<f32>(a2.x), b01, c21);
    c30 = fma(vec4<f32>(a3.x), b00, c30); c31 = fma(vec4<f32>(a3.x), b01, c31);
    c40 = fma(vec4<f32>(a4.x), b00, c40); c41 = fma(vec4<f32>(a4.x), b01, c41);
    c50 = fma(vec4<f32>(a5.x), b00, c50); c51 = fma(vec4<f32>(a5.x), b01, c51);
    c60 = fma(vec4<f32>(a6.x), b00, c60); c61 = fma(vec4<f32>(a6.x), b01, c61);
    c70 = fma(vec4<f32>(a7.x), b00, c70); c71 = fma(vec4<f32>(a7.x), b01, c71);
    let b10 = B[(k4 * 4u + 1u) * n4 + cb];
    let b11 = B[(k4 * 4u + 1u) * n4 + cb + 8u];
    c00 = fma(vec4<f32>(a0.y), b10, c00); c01 = fma(vec4<f32>(a0.y), b11, c01);
    c10 = fma(vec4<f32>(a1.y), b10, c10); c11 = fma(vec4<f32>(a1.y), b11, c11);
    c20 = fma(vec4<f32>(a2.y), b10, c20); c21 = fma(vec4<f32>(a2.y), b11, c21);
    c30 = fma(vec4<f32>(a3.y), b10, c30); c31 = fma(vec4<f32>(a3.y), b11, c31);
    c40 = fma(vec4<f32>(a4.y), b10, c40); c41 = fma(vec4<f32>(a4.y), b11, c41);
    c50 = fma(vec4<f32>(a5.y), b10, c50); c51 = fma(vec4<f32>(a5.y), b11, c51);
    c60 = fma(vec4<f32>(a6.y), b10, c60); c61 = fma(vec4<f32>(a6.y), b11, c61);
    c70 = fma(vec4<f32>(a7.y), b10, c70); c71 = fma(vec4<f32>(a7.y), b11, c71);
    let b20 = B[(k4 * 4u + 2u) * n4 + cb];
    let b21 = B[(k4 * 4u + 2u) * n4 + cb + 8u];
    c00 = fma(vec4<f32>(a0.z), b20, c00); c01 = fma(vec4<f32>(a0.z), b21, c01);
    c10 = fma(vec4<f32>(a1.z), b20, c10); c11 = fma(vec4<f32>(a1.z), b21, c11);
    c20 = fma(vec4<f32>(a2.z), b20, c20); c21 = fma(vec4<f32>(a2.z), b21, c21);
    c30 = fma(vec4<f32>(a3.z), b20, c30); c31 = fma(vec4<f32>(a3.z), b21, c31);
    c40 = fma(vec4<f32>(a4.z), b20, c40); c41 = fma(vec4<f32>(a4.z), b21, c41);
    c50 = fma(vec4<f32>(a5.z), b20, c50); c51 = fma(vec4<f32>(a5.z), b21, c51);
    c60 = fma(vec4<f32>(a6.z), b20, c60); c61 = fma(vec4<f32>(a6.z), b21, c61);
    c70 = fma(vec4<f32>(a7.z), b20, c70); c71 = fma(vec4<f32>(a7.z), b21, c71);
    let b30 = B[(k4 * 4u + 3u) * n4 + cb];
    let b31 = B[(k4 * 4u + 3u) * n4 + cb + 8u];
    c00 = fma(vec4<f32>(a0.w), b30, c00); c01 = fma(vec4<f32>(a0.w), b31, c01);
    c10 = fma(vec4<f32>(a1.w), b30, c10); c11 = fma(vec4<f32>(a1.w), b31, c11);
    c20 = fma(vec4<f32>(a2.w), b30, c20); c21 = fma(vec4<f32>(a2.w), b31, c21);
    c30 = fma(vec4<f32>(a3.w), b30, c30); c31 = fma(vec4<f32>(a3.w), b31, c31);
    c40 = fma(vec4<f32>(a4.w), b30, c40); c41 = fma(vec4<f32>(a4.w), b31, c41);
    c50 = fma(vec4<f32>(a5.w), b30, c50); c51 = fma(vec4<f32>(a5.w), b31, c51);
    c60 = fma(vec4<f32>(a6.w), b30, c60); c61 = fma(vec4<f32>(a6.w), b31, c61);
    c70 = fma(vec4<f32>(a7.w), b30, c70); c71 = fma(vec4<f32>(a7.w), b31, c71);
  }
  C[(r0 + 0u) * n4 + cb] = c00; C[(r0 + 0u) * n4 + cb + 8u] = c01;
  C[(r0 + 1u) * n4 + cb] = c10; C[(r0 + 1u) * n4 + cb + 8u] = c11;
  C[(r0 + 2u) * n4 + cb] = c20; C[(r0 + 2u) * n4 + cb + 8u] = c21;
  C[(r0 + 3u) * n4 + cb] = c30; C[(r0 + 3u) * n4 + cb + 8u] = c31;
  C[(r0 + 4u) * n4 + cb] = c40; C[(r0 + 4u) * n4 + cb + 8u] = c41;
  C[(r0 + 5u) * n4 + cb] = c50; C[(r0 + 5u) * n4 + cb + 8u] = c51;
  C[(r0 + 6u) * n4 + cb] = c60; C[(r0 + 6u) * n4 + cb + 8u] = c61;
  C[(r0 + 7u) * n4 + cb] = c70; C[(r0 + 7u) * n4 + cb + 8u] = c71;
}
