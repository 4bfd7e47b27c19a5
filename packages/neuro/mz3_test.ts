import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { havePython, runPython } from "../../test/python.ts";
import { decodeMz3, encodeMz3, readMz3 } from "./mz3.ts";

const MESHES = join(import.meta.dirname!, "..", "..", "..", "shared", "data", "meshes");
const haveMeshes = (() => {
  try {
    return Deno.statSync(join(MESHES, "BrainMesh_ICBM152.lh.mz3")).isFile;
  } catch {
    return false;
  }
})();

// A tetrahedron: 4 vertices, 4 faces.
const TET = {
  nVertices: 4,
  vertices: Float32Array.of(0, 0, 0, 10.5, 0, 0, 0, -20.25, 0, 0, 0, 30),
  faces: Uint32Array.of(0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3),
};

Deno.test("mz3: a hand-built mesh round-trips, plain and gzipped, with a header extension", () => {
  for (const gzip of [false, true]) {
    const colors = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    const scalars = [Float32Array.of(1, -2, NaN, 4), Float32Array.of(0.5, 0.25, 0, -1)];
    const bytes = encodeMz3({ ...TET, colors, scalars }, { gzip, skip: 12 });
    assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, gzip);
    const m = decodeMz3(bytes, "tet.mz3");
    assert.equal(m.nVertices, 4);
    assert.deepEqual(m.vertices, TET.vertices);
    assert.deepEqual(m.faces, TET.faces);
    assert.deepEqual(m.colors, colors);
    assert.equal(m.scalars!.length, 2);
    assert.deepEqual(m.scalars![1], scalars[1]);
    assert.ok(Number.isNaN(m.scalars![0][2]));
    assert.equal(m.scalars![0][3], 4);
  }
  // Scalars alone: what NiiVue loads as a mesh layer.
  const layer = decodeMz3(encodeMz3({ nVertices: 3, scalars: [Float32Array.of(1, 2, 3)] }));
  assert.equal(layer.vertices.length, 0);
  assert.equal(layer.faces.length, 0);
  assert.deepEqual(layer.scalars, [Float32Array.of(1, 2, 3)]);
});

Deno.test("mz3: bad files raise InputError naming the file and field", () => {
  const good = encodeMz3(TET);
  const cases: [Uint8Array, RegExp][] = [
    [good.slice(0, 10), /too short.*field: header.*file: x\.mz3/],
    [Uint8Array.from([0x4e, 0x5a, ...good.slice(2)]), /not an MZ3 file.*expected: 0x5A4D.*0x5A4E/],
    [good.slice(0, good.length - 4), /truncated.*field: length/],
    [Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), /gzip/],
  ];
  const badAttr = good.slice();
  badAttr[2] = 64;
  cases.push([badAttr, /unknown MZ3 attributes.*found: 64/]);
  const badFace = good.slice();
  new DataView(badFace.buffer).setInt32(16 + 4 * 5, 9, true);
  cases.push([badFace, /names a vertex.*field: face 1.*0 to 3.*found: 9/]);
  for (const [bytes, re] of cases) {
    assert.throws(
      () => decodeMz3(bytes, "x.mz3"),
      (e) => e instanceof InputError && re.test(e.message),
    );
  }
});

Deno.test({
  name: "mz3: the ICBM152 surfaces read as an independent numpy parser reads them",
  ignore: !haveMeshes || !havePython(["numpy"], "MZ3 reference parser"),
  async fn() {
    // Written from the format's description, not from mz3.ts: gzip, header, nSkip, then arrays.
    const ref = await runPython<
      { nv: number; nf: number; min: number[]; max: number[]; fsum: number; vsum: number }[]
    >(
      `import gzip,json,sys,numpy as np
out=[]
for f in sys.argv[1:]:
    b=open(f,'rb').read()
    if b[:2]==b'\\x1f\\x8b': b=gzip.decompress(b)
    magic,attr,nf,nv,nskip=np.frombuffer(b[:16],dtype='<u2,<u2,<u4,<u4,<u4')[0].tolist()
    assert magic==0x5A4D and attr&3==3
    o=16+nskip
    F=np.frombuffer(b,dtype='<i4',count=3*nf,offset=o).reshape(-1,3); o+=12*nf
    V=np.frombuffer(b,dtype='<f4',count=3*nv,offset=o).reshape(-1,3).astype(np.float64)
    out.append(dict(nv=nv,nf=nf,min=V.min(0).tolist(),max=V.max(0).tolist(),
      fsum=int(F.astype(np.int64).sum()),vsum=float(V.sum())))
print(json.dumps(out))`,
      ["lh", "rh"].map((h) => join(MESHES, `BrainMesh_ICBM152.${h}.mz3`)),
    );
    for (const [i, hemi] of ["lh", "rh"].entries()) {
      const m = await readMz3(join(MESHES, `BrainMesh_ICBM152.${hemi}.mz3`));
      assert.equal(m.nVertices, 40_962);
      assert.equal(m.faces.length / 3, 81_920);
      assert.equal(ref[i].nv, m.nVertices);
      assert.equal(ref[i].nf, m.faces.length / 3);
      let fsum = 0, vsum = 0;
      for (const f of m.faces) fsum += f;
      for (const v of m.vertices) vsum += v;
      assert.equal(fsum, ref[i].fsum);
      assert.ok(Math.abs(vsum - ref[i].vsum) < 1e-6 * Math.abs(ref[i].vsum) + 1e-3);
      for (let d = 0; d < 3; d++) {
        let lo = Infinity, hi = -Infinity;
        for (let v = d; v < m.vertices.length; v += 3) {
          lo = Math.min(lo, m.vertices[v]);
          hi = Math.max(hi, m.vertices[v]);
        }
        assert.ok(Math.abs(lo - ref[i].min[d]) < 1e-4 && Math.abs(hi - ref[i].max[d]) < 1e-4);
      }
      // MNI millimetres, one hemisphere each side of the midline (the data README's ranges).
      const [xlo, xhi] = [ref[i].min[0], ref[i].max[0]];
      if (hemi === "lh") assert.ok(xlo > -70 && xlo < -60 && xhi < 0 && xhi > -2);
      else assert.ok(xlo > 0 && xlo < 2 && xhi > 60 && xhi < 70);
      assert.ok(ref[i].min[1] < -95 && ref[i].max[1] > 60, "y spans occipital to frontal pole");
      assert.ok(ref[i].min[2] < -35 && ref[i].max[2] > 70, "z spans temporal pole to vertex");
    }
  },
});
