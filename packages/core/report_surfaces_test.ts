import assert from "node:assert/strict";
import { join } from "node:path";
import { rng } from "@brainorg/kernels";
import { invertAffine, readMz3, sampleAtVertices, sampleGrid } from "@brainorg/neuro";
import { unpackBytes, unpackMaskBits } from "./report_maps.ts";
import {
  decodeHemisphere,
  packHemisphere,
  readReportSurfaces,
  SURFACE_STEP_MM,
} from "./report_surfaces.ts";

const MESH = join(
  import.meta.dirname!,
  "..",
  "..",
  "..",
  "shared",
  "data",
  "meshes",
  "BrainMesh_ICBM152.lh.mz3",
);
const haveMesh = (() => {
  try {
    return Deno.statSync(MESH).isFile;
  } catch {
    return false;
  }
})();

/** Unpack and decode a packed hemisphere, as the page does. */
function roundTrip(packed: ReturnType<typeof packHemisphere>) {
  return decodeHemisphere(
    unpackBytes(packed.vertices),
    unpackBytes(packed.faces),
    packed.nVertices,
    packed.nFaces,
    packed.origin,
    SURFACE_STEP_MM,
  );
}

/** The largest |a − b| over two arrays of the same length. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("packHemisphere: vertices within half a grid step, faces and borders exact", () => {
  const rand = rng(5), n = 500, f = 900;
  // Coordinates on both sides of 0, vertex numbers that jump both ways between faces.
  const vertices = Float32Array.from({ length: 3 * n }, () => rand() * 180 - 90);
  const faces = Uint32Array.from({ length: 3 * f }, () => Math.floor(rand() * n));
  const border = Uint32Array.of(0, 7, 499);
  const packed = packHemisphere("lh", { nVertices: n, vertices, faces }, border);
  assert.equal(packed.nVertices, n);
  assert.equal(packed.nFaces, f);
  const back = roundTrip(packed);
  // Half a step, plus float32's rounding of coordinates near 90 mm.
  assert.ok(maxDiff(back.vertices, vertices) <= SURFACE_STEP_MM / 2 + 1e-5);
  assert.deepEqual(back.faces, faces);
  assert.deepEqual(unpackMaskBits(unpackBytes(packed.border!), n), border);
  assert.equal(packHemisphere("rh", { nVertices: n, vertices, faces }).border, undefined);
});

Deno.test("decodeHemisphere: a truncated field is refused, not decoded into garbage", () => {
  const packed = packHemisphere("lh", {
    nVertices: 3,
    vertices: Float32Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0),
    faces: Uint32Array.of(0, 1, 2),
  });
  const v = unpackBytes(packed.vertices), fc = unpackBytes(packed.faces);
  assert.throws(
    () => decodeHemisphere(v.subarray(1), fc, 3, 1, packed.origin, SURFACE_STEP_MM),
    /expected 36 bytes, found 35/,
  );
});

Deno.test("the page's functions run from their source text alone, with the same results", () => {
  // The report inlines these as text: any reference to the module around them would break there.
  const fromText = <T>(fn: T): T => new Function(`return (${String(fn)});`)() as T;
  const rand = rng(9), [nx, ny, nz] = [7, 8, 6], N = nx * ny * nz;
  const affine = [3, 0.2, 0, -10, 0.1, -3, 0.3, 12, 0, 0.2, 3, -8, 0, 0, 0, 1];
  const data = Float32Array.from({ length: N }, () => rand() * 4 - 2);
  data[5] = NaN;
  const mask = Uint8Array.from({ length: N }, () => (rand() < 0.8 ? 1 : 0));
  const points = Float32Array.from({ length: 3 * 60 }, () => rand() * 30 - 15);
  const img = {
    shape: [nx, ny, nz],
    affine: Float64Array.from(affine),
    data,
    description: "",
    affineSource: "sform" as const,
    version: 1 as const,
    datatype: "float32" as const,
  };
  const reference = sampleAtVertices(img, points, { mask, fallbackRadius: 3 });
  assert.ok(reference.some(Number.isFinite) && reference.some(Number.isNaN));
  // The inverse as the report stores it (`readReportSurfaces`).
  const inverse = Array.from(invertAffine(img.affine));
  const page = fromText(sampleGrid)(data, [nx, ny, nz], affine, inverse, points, true, mask, 3);
  assert.deepEqual(page, reference);

  const packed = packHemisphere("lh", {
    nVertices: 20,
    vertices: points.subarray(0, 60),
    faces: Uint32Array.from({ length: 30 }, (_, i) => (i * 7) % 20),
  });
  const args = [
    unpackBytes(packed.vertices),
    unpackBytes(packed.faces),
    20,
    10,
    packed.origin,
    SURFACE_STEP_MM,
  ] as const;
  assert.deepEqual(fromText(decodeHemisphere)(...args), decodeHemisphere(...args));
});

Deno.test({
  name: "packHemisphere: the ICBM152 left hemisphere in under 400 kB of base64, read back exactly",
  ignore: !haveMesh,
  async fn() {
    const mesh = await readMz3(MESH);
    const packed = packHemisphere("lh", mesh);
    const size = packed.vertices.length + packed.faces.length;
    // The MZ3 file itself is 779 kB (gzipped float32 and int32).
    assert.ok(size < 400_000, `${size} bytes`);
    const back = roundTrip(packed);
    assert.ok(maxDiff(back.vertices, mesh.vertices) <= SURFACE_STEP_MM / 2 + 1e-5);
    assert.deepEqual(back.faces, mesh.faces);
  },
});

Deno.test("readReportSurfaces: meshes found nowhere give the reason, naming the mesh, not an error", async () => {
  const empty = await Deno.makeTempDir({ prefix: "brainorg-no-meshes-" });
  try {
    const grid = {
      shape: [4, 4, 4],
      affine: Float64Array.of(4, 0, 0, -8, 0, 4, 0, -8, 0, 0, 4, -8, 0, 0, 0, 1),
      data: new Float32Array(64),
      description: "",
      affineSource: "sform" as const,
      version: 1 as const,
      datatype: "float32" as const,
    };
    // Every location empty or unset, and no download: as a machine offline without the data.
    const result = await readReportSurfaces(grid, undefined, {
      dataDir: empty,
      cacheDir: empty,
      projectRoot: empty,
      env: () => undefined,
      download: false,
    });
    assert.ok("unavailable" in result);
    assert.match(result.unavailable, /^the lh mesh: .*BrainMesh_ICBM152\.lh\.mz3/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
