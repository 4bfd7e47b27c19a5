/**
 * The atom page's static first view: the PNG encoder decoded by an
 * independent decoder (Python's zlib and struct, every filter type undone),
 * the exact pixels of a tiny planted map (warm above +t, winter below −t,
 * anatomy gray below the threshold, network outlines, black gaps), and the
 * preview route (status, type, cache headers, entity tag, bad atom and
 * threshold, traversal).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { identityAffine } from "@brainorg/neuro";
import { crc32, encodePng } from "../../apps/web/png.ts";
import { previewPixels, type PreviewVolume } from "../../apps/web/preview.ts";
import { createHandler } from "../../apps/web/server.ts";
import { havePython, runPython } from "../python.ts";
import { writeResultsFolder } from "./fixture.ts";

/** A PNG decoder written apart from the encoder: chunks, CRCs, inflate, filters 0–4. */
const DECODE = `
import json, struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == bytes([137, 80, 78, 71, 13, 10, 26, 10]), "signature"
at, idat, types = 8, b"", []
while at < len(b):
    n, = struct.unpack(">I", b[at:at + 4]); t = b[at + 4:at + 8]; d = b[at + 8:at + 8 + n]
    crc, = struct.unpack(">I", b[at + 8 + n:at + 12 + n])
    assert zlib.crc32(t + d) & 0xffffffff == crc, "crc of " + t.decode()
    types.append(t.decode())
    if t == b"IHDR": w, h, depth, ctype, comp, filt, inter = struct.unpack(">IIBBBBB", d)
    if t == b"IDAT": idat += d
    at += 12 + n
raw = zlib.decompress(idat); stride = 3 * w; rows = []; prev = bytearray(stride)
for y in range(h):
    f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - 3] if x >= 3 else 0; up = prev[x]; c = prev[x - 3] if x >= 3 else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + up) & 255
        elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
        elif f == 4:
            p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        else: assert f == 0, "filter %d" % f
    rows.append(list(line)); prev = line
print(json.dumps({"w": w, "h": h, "depth": depth, "ctype": ctype, "inter": inter,
                  "types": types, "rows": rows}))
`;

interface Decoded {
  w: number;
  h: number;
  depth: number;
  ctype: number;
  inter: number;
  types: string[];
  rows: number[][];
}

async function decode(png: Uint8Array): Promise<Decoded> {
  const file = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(file, png);
    return await runPython<Decoded>(DECODE, [file], []);
  } finally {
    await Deno.remove(file);
  }
}

const pixel = (d: Decoded, x: number, y: number) => d.rows[y].slice(3 * x, 3 * x + 3);
const python = havePython([], "PNG decoding");

Deno.test("png: CRC-32 of known strings", () => {
  assert.equal(crc32(new TextEncoder().encode("IEND")), 0xae426082);
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.throws(() => encodePng(new Uint8Array(5), 1, 2), RangeError);
  assert.throws(() => encodePng(new Uint8Array(0), 0, 0), RangeError);
});

Deno.test({
  name: "png: random pixels come back exactly through an independent decoder",
  ignore: !python,
  async fn() {
    const w = 37, h = 23, rgb = new Uint8Array(3 * w * h);
    let s = 12345;
    for (let i = 0; i < rgb.length; i++) rgb[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    const d = await decode(encodePng(rgb, w, h));
    assert.deepEqual([d.w, d.h, d.depth, d.ctype, d.inter], [w, h, 8, 2, 0]);
    assert.deepEqual(d.types, ["IHDR", "IDAT", "IEND"]);
    assert.deepEqual(d.rows.flat(), Array.from(rgb));
  },
});

Deno.test({
  name: "preview: a planted map's exact pixels (warm, winter, gray, outlines, gaps)",
  ignore: !python,
  async fn() {
    const shape = [5, 6, 4], n = 5 * 6 * 4;
    const at = (i: number, j: number, k: number) => i + 5 * (j + 6 * k);
    const vol = (fill: number): PreviewVolume => ({
      shape,
      affine: identityAffine(),
      data: new Float32Array(n).fill(fill),
    });
    const map = vol(0), anatomy = vol(100), atlas = vol(0);
    map.data[at(1, 2, 3)] = 5; // the peak: the slices go through it
    map.data[at(3, 5, 3)] = -0.5; // below the threshold: anatomy
    map.data[at(2, 4, 3)] = -3; // below −t: winter
    anatomy.data[at(0, 0, 3)] = 50; // half the anatomy's top: mid gray
    for (let i = 3; i < 5; i++) {
      for (let j = 0; j < 6; j++) {
        for (let k = 0; k < 4; k++) {
          atlas.data[at(i, j, k)] = 1;
        }
      }
    }
    const pic = previewPixels(map, { threshold: 1, anatomy, atlas, scale: 1 });
    assert.deepEqual(pic.peakVoxel, [1, 2, 3]);
    // Axial 5 × 6, coronal 5 × 4, sagittal 6 × 4, 4-pixel gaps; the shorter ones centred.
    assert.deepEqual([pic.width, pic.height], [5 + 4 + 5 + 4 + 6, 6]);
    const d = await decode(encodePng(pic.rgb, pic.width, pic.height));
    // The robust top is 0.5 (99.5th percentile of {0.5, 3, 5}: the lowest of three), raised to
    // t + 0.001: 5 and −3 are at the top of warm (255, 254, 0) and winter (0, 255, 128),
    // blended 0.9 : 0.1 with the anatomy's white.
    const warm = [255, 254, 26], winter = [26, 255, 141], white = [255, 255, 255];
    // Axial (z = 3): x rightwards, y upwards (row 5 − y).
    assert.deepEqual(pixel(d, 1, 3), warm);
    assert.deepEqual(pixel(d, 2, 1), winter);
    assert.deepEqual(pixel(d, 0, 5), [128, 128, 128]); // anatomy 50 of 100, no map
    assert.deepEqual(pixel(d, 1, 0), white);
    // Network 1 (x ≥ 3): its border column in Yeo-7's first colour, its inside untouched.
    for (let y = 0; y < 6; y++) assert.deepEqual(pixel(d, 3, y), [120, 18, 134]);
    assert.deepEqual(pixel(d, 4, 0), white, "-0.5 is below the threshold: anatomy");
    // The gap, then coronal (y = 2): rows 1–4, z upwards; sagittal (x = 1): y rightwards.
    assert.deepEqual(pixel(d, 5, 3), [0, 0, 0]);
    assert.deepEqual(pixel(d, 9 + 1, 1), warm);
    assert.deepEqual(pixel(d, 9 + 1, 0), [0, 0, 0], "above the coronal panel");
    assert.deepEqual(pixel(d, 18 + 2, 1), warm);
    assert.deepEqual(pixel(d, 18 + 4, 1), white, "sagittal x = 1: no winter voxel there");
    // A threshold above every value: no colour anywhere (gray or outline or black only).
    const none = previewPixels(map, { threshold: 6, anatomy, scale: 1 });
    for (let i = 0; i < none.rgb.length; i += 3) {
      assert.ok(none.rgb[i] === none.rgb[i + 1] && none.rgb[i + 1] === none.rgb[i + 2]);
    }
  },
});

Deno.test({
  name: "preview route: a PNG per atom and threshold, revalidated; clear 404s; no traversal",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-preview-" });
    try {
      const { models } = await writeResultsFolder(join(dir, "run"), { atoms: 4 });
      const { handler } = await createHandler([join(dir, "run")]);
      const get = async (path: string, headers: HeadersInit = {}) => {
        const res = await handler(new Request("http://127.0.0.1" + path, { headers }));
        return { res, body: new Uint8Array(await res.arrayBuffer()) };
      };
      const base = `/runs/run/atoms/${models[0]}`;
      const a = await get(`${base}/2/preview.png`);
      assert.equal(a.res.status, 200);
      assert.equal(a.res.headers.get("content-type"), "image/png");
      assert.equal(a.res.headers.get("cache-control"), "no-cache");
      assert.deepEqual(Array.from(a.body.subarray(1, 4)), [0x50, 0x4e, 0x47]);
      const etag = a.res.headers.get("etag")!;
      assert.match(etag, /^"[0-9a-f]{20}"$/);
      const again = await get(`${base}/2/preview.png`, { "if-none-match": etag });
      assert.equal(again.res.status, 304);
      // The threshold and the atom change the picture.
      const low = await get(`${base}/2/preview.png?threshold=0.5`);
      assert.equal(low.res.status, 200);
      assert.notEqual(low.res.headers.get("etag"), etag);
      const other = await get(`${base}/1/preview.png`);
      assert.notEqual(other.res.headers.get("etag"), etag);
      // The page shows it, sized, with alt text naming the atom and the threshold.
      const page = await (await handler(new Request(`http://127.0.0.1${base}/2`))).text();
      const img = /<img data-testid="preview"[^]*?alt="[^"]*"/.exec(page)?.[0] ?? "";
      assert.match(img, /src="[^"]*\/2\/preview\.png\?threshold=\d+\.\d"/);
      assert.match(img, / width="\d+" height="\d+"/);
      assert.match(img, /alt="[^"]*atom 2[^"]*threshold \|value\| (&gt;|>) \d+\.\d/);

      const bad = async (path: string, status: number, says: RegExp) => {
        const r = await get(path);
        assert.equal(r.res.status, status, path);
        assert.match(new TextDecoder().decode(r.body), says, path);
      };
      await bad(`${base}/4/preview.png`, 404, /no atom 4: expected an atom from 0 to 3/);
      await bad(`${base}/x/preview.png`, 404, /atom: expected a whole number from 0, found "x"/);
      await bad(`${base}/1/preview.png?threshold=-1`, 400, /threshold: expected a number ≥ 0/);
      await bad(`${base}/1/preview.png?threshold=abc`, 400, /found "abc"/);
      await bad(`/runs/nope/atoms/${models[0]}/1/preview.png`, 404, /no run "nope"/);
      await bad(`/runs/run/atoms/unknown/1/preview.png`, 404, /is missing/);
      // A model name that climbs out of the run finds nothing (resolveRunFile's check).
      await bad(`/runs/run/atoms/..%2F..%2F..%2Fetc/1/preview.png`, 404, /is missing/);
      await bad(
        `/runs/run/atoms/${encodeURIComponent("../../run")}/1/preview.png`,
        404,
        /is missing/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
