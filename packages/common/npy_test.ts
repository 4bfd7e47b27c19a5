import assert from "node:assert/strict";
import { join } from "node:path";
import { havePython, runPython } from "../../test/python.ts";
import { InputError } from "./errors.ts";
import { decodeNpy, encodeNpy, npyParts } from "./npy.ts";

/** Bytes as one character each (TextDecoder's "latin1" is windows-1252, which remaps 0x80–0x9f). */
const text = (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join("");

Deno.test("npy: the header is numpy's dict, padded to 64 bytes, and the values follow", () => {
  const bytes = encodeNpy({ shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i) });
  assert.equal(text(bytes.subarray(0, 6)), "\x93NUMPY");
  assert.deepEqual([bytes[6], bytes[7]], [1, 0]);
  const headerLength = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = text(bytes.subarray(10, 10 + headerLength));
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 4\), \} *\n$/);
  assert.equal(bytes.length, 10 + headerLength + 12 * 4);
  const values = new DataView(bytes.buffer, 10 + headerLength);
  assert.equal(values.getFloat32(4 * 7, true), 7);
  // One axis is a 1-tuple; no axis, the empty tuple.
  assert.match(text(encodeNpy({ shape: [2], data: new Float32Array(2) })), /'shape': \(2,\)/);
  assert.match(text(encodeNpy({ shape: [], data: new Float32Array(1) })), /'shape': \(\)/);
});

Deno.test("npy: round trip keeps shape and every float32 bit, NaN, -0 and Infinity included", () => {
  const data = Float32Array.of(0.1, -0, NaN, Infinity, -Infinity, 3.4e38, 1e-45, -2.5, 0, 7);
  for (const shape of [[10], [2, 5], [1, 2, 5], [0, 3]]) {
    const d = shape.includes(0) ? new Float32Array(0) : data;
    const back = decodeNpy(encodeNpy({ shape, data: d }));
    assert.deepEqual(back.shape, shape);
    assert.equal(back.data.length, d.length);
    d.forEach((v, i) => assert.ok(Object.is(back.data[i], v), `value ${i}: ${back.data[i]}`));
  }
  // A view into a larger buffer at an odd offset is read, not misaligned.
  const file = encodeNpy({ shape: [2], data: Float32Array.of(1.5, -3) });
  const padded = new Uint8Array(file.length + 3);
  padded.set(file, 3);
  assert.deepEqual([...decodeNpy(padded.subarray(3)).data], [1.5, -3]);
});

Deno.test("npy: npyParts writes the values without a copy and joins to encodeNpy", () => {
  const data = Float32Array.of(1, 2, 3, 4);
  const [header, values] = npyParts({ shape: [2, 2], data });
  assert.equal(header.length % 64, 0);
  assert.equal(values.buffer, data.buffer);
  const joined = new Uint8Array(header.length + values.length);
  joined.set(header);
  joined.set(values, header.length);
  assert.deepEqual(joined, encodeNpy({ shape: [2, 2], data }));
});

Deno.test("npy: wrong shapes are refused on writing; bad files name the field", () => {
  assert.throws(() => encodeNpy({ shape: [2, 3], data: new Float32Array(5) }), RangeError);
  assert.throws(() => encodeNpy({ shape: [-1], data: new Float32Array(0) }), RangeError);
  const good = encodeNpy({ shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
  const edit = (from: string, to: string) => {
    const s = text(good).replace(from, to);
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  };
  const cases: [Uint8Array, string, RegExp][] = [
    [good.subarray(0, 5), "magic", /5 bytes/],
    [edit("NUMPY", "NUMPX"), "magic", /other bytes/],
    [edit("'<f4'", "'<f8'"), "descr", /<f8/],
    [edit("'fortran_order': False", "'fortran_order': True "), "fortran_order", /True/],
    [edit("(2, 2)", "(2, x)"), "shape", /\(2, x\)/],
    [good.subarray(0, good.length - 4), "data", /12 bytes/],
  ];
  for (const [bytes, field, found] of cases) {
    assert.throws(() => decodeNpy(bytes, { file: "codes.npy" }), (err) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.file, "codes.npy");
      assert.equal(err.field, field);
      assert.match(err.message, found);
      return true;
    });
  }
});

Deno.test({
  name: "npy: numpy.load reads what encodeNpy writes, and decodeNpy reads numpy.save's files",
  ignore: !havePython(["numpy"], "npy round trip with numpy"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const K = 3, N = 70;
      const data = Float32Array.from({ length: K * N }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i)));
      data[5] = NaN;
      await Deno.writeFile(join(dir, "ours.npy"), encodeNpy({ shape: [K, N], data }));
      const got = await runPython<{ shape: number[]; dtype: string; bits: number[] }>(
        `
import sys, json, numpy as np
a = np.load(sys.argv[1] + "/ours.npy")
b = np.arange(24, dtype="<f4").reshape(2, 3, 4) / 7
b[1, 2, 3] = np.nan
np.save(sys.argv[1] + "/theirs.npy", b)
print(json.dumps({"shape": list(a.shape), "dtype": a.dtype.str,
                  "bits": a.view("<u4").ravel().tolist()}))
`,
        [dir],
      );
      assert.deepEqual(got.shape, [K, N]);
      assert.equal(got.dtype, "<f4");
      assert.deepEqual(got.bits, [...new Uint32Array(data.buffer)]);
      const theirs = decodeNpy(await Deno.readFile(join(dir, "theirs.npy")));
      assert.deepEqual(theirs.shape, [2, 3, 4]);
      const expected = Float32Array.from({ length: 24 }, (_, i) => i / 7);
      expected[23] = NaN;
      theirs.data.forEach((v, i) => assert.ok(Object.is(v, expected[i]), `value ${i}: ${v}`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
