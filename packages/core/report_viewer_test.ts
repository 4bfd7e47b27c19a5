import assert from "node:assert/strict";
import { join } from "node:path";
import { havePython, runPython } from "../../test/python.ts";
import { writeResultsFolder } from "../../test/web/fixture.ts";
import { renderReport } from "./report.ts";
import {
  NOT_FINITE_CODE,
  packBytes,
  packMaskBits,
  packReportMaps,
  quantizeInt8,
  unpackBytes,
  unpackMaskBits,
} from "./report_maps.ts";
import { readReportMaps } from "./report_maps_read.ts";
import { niivueScript } from "./niivue_script.ts";
import { embedReportViewer, withReportViewer } from "./report_viewer.ts";

Deno.test("quantizeInt8: within half a step of every finite value, signs kept, NaN marked", () => {
  const v = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 7.3 * (i % 3 - 1));
  v[5] = NaN;
  v[6] = Infinity;
  const { codes, scale } = quantizeInt8(v);
  let peak = 0;
  for (const x of v) if (Number.isFinite(x)) peak = Math.max(peak, Math.abs(x));
  assert.ok(Math.abs(scale - peak / 127) < 1e-12);
  assert.equal(codes[5], NOT_FINITE_CODE);
  assert.equal(codes[6], NOT_FINITE_CODE);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) continue;
    assert.ok(Math.abs(codes[i] * scale - v[i]) <= scale / 2 + 1e-9, `voxel ${i}`);
    assert.ok(codes[i] >= -127 && codes[i] <= 127);
    if (v[i] === 0) assert.equal(codes[i], 0);
    else if (Math.abs(v[i]) > scale) assert.equal(Math.sign(codes[i]), Math.sign(v[i]));
  }
  assert.deepEqual(quantizeInt8(new Float32Array(3)), { codes: new Int8Array(3), scale: 1 });
});

Deno.test({
  name:
    "packMaskBits matches numpy's packbits(bitorder='little'); int8 codes match numpy's rounding",
  ignore: !havePython(["numpy"], "mask bits and int8 codes against numpy"),
  async fn() {
    const n = 1237, inside = Uint8Array.from({ length: n }, (_, i) => (i * 7919) % 5 < 2 ? 1 : 0);
    const values = Float32Array.from({ length: 300 }, (_, i) => Math.cos(i * 1.7) * 3.1);
    const got = await runPython<{ bits: number[]; codes: number[] }>(
      `import json,sys,numpy as np
m=np.array(json.loads(sys.argv[1]),dtype=bool); v=np.array(json.loads(sys.argv[2]),dtype=np.float32)
s=np.abs(v).max()/127
print(json.dumps({"bits":np.packbits(m,bitorder="little").tolist(),
  "codes":np.clip(np.rint(v.astype(np.float64)/s),-127,127).astype(int).tolist()}))`,
      [JSON.stringify(Array.from(inside)), JSON.stringify(Array.from(values))],
    );
    assert.deepEqual(Array.from(packMaskBits(inside)), got.bits);
    const ours = Array.from(quantizeInt8(values).codes);
    // np.rint rounds halves to even, Math.round up: they may differ only on exact halves.
    const differ = ours.filter((c, i) => c !== got.codes[i]);
    assert.ok(differ.length <= 1, `codes differ at ${differ.length} places`);
    assert.deepEqual(
      Array.from(unpackMaskBits(packMaskBits(inside), n)),
      Array.from(inside).flatMap((b, i) => (b ? [i] : [])),
    );
  },
});

Deno.test("packReportMaps: only the mask's voxels, atom-major, each map with its scale", () => {
  const shape: [number, number, number] = [4, 3, 2], N = 24;
  const inside = Uint8Array.from({ length: N }, (_, i) => (i % 3 ? 1 : 0));
  const maps = Float32Array.from({ length: 2 * N }, (_, i) => (i < N ? 1 : -10) * ((i % N) - 11));
  const labels = Float32Array.from({ length: N }, (_, i) => i % 8);
  const p = packReportMaps({
    shape,
    affine: [4, 0, 0, -90, 0, 4, 0, -126, 0, 0, 4, -72, 0, 0, 0, 1],
    inside,
    background: Float32Array.from({ length: N }, (_, i) => 100 + i),
    atlas: { name: "Yeo-7", names: { "1": "Visual" }, labels },
    quantity: "t",
    threshold: 2,
    models: [{ name: "m", maps, atoms: [{ atom: 0, links: ["+Visual"] }, { atom: 1, links: [] }] }],
  });
  const idx = unpackMaskBits(unpackBytes(p.mask), N);
  assert.equal(p.voxels, 16);
  assert.equal(idx.length, 16);
  const codes = new Int8Array(unpackBytes(p.models[0].codes).buffer);
  assert.equal(codes.length, 2 * 16);
  for (let k = 0; k < 2; k++) {
    const s = p.models[0].atoms[k].scale;
    idx.forEach((i, j) => {
      assert.ok(Math.abs(codes[k * 16 + j] * s - maps[k * N + i]) <= s / 2 + 1e-6);
    });
  }
  assert.deepEqual(p.models[0].atoms.map((a) => a.links), [["+Visual"], []]);
  const bg = unpackBytes(p.background!);
  assert.equal(bg.length, N);
  assert.deepEqual([bg[0], bg[N - 1]], [0, 255]);
  assert.deepEqual(Array.from(unpackBytes(p.atlas!.labels)), Array.from(idx, (i) => labels[i]));
  assert.throws(
    () =>
      packReportMaps({
        ...{ shape, affine: [], inside: new Uint8Array(5) },
        quantity: "t",
        threshold: 1,
        models: [],
      }),
    /inside.*24 values/s,
  );
});

Deno.test("packBytes round-trips through gzip and base64", () => {
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251);
  assert.deepEqual(unpackBytes(packBytes(bytes)), bytes);
});

Deno.test("withReportViewer: put in before </body>, replaced (not repeated) when written again", () => {
  const page = "<html><body><h1>r</h1></body></html>";
  const once = withReportViewer(page, { unavailable: "no voxel level" });
  assert.match(once, /<h1>r<\/h1><!-- brainorg:viewer -->.*no voxel level.*<\/body><\/html>$/s);
  const twice = withReportViewer(once, { unavailable: "<b>other</b>" });
  assert.equal(twice.match(/Brain maps/g)?.length, 1);
  assert.ok(twice.includes("&lt;b&gt;other") && !twice.includes("no voxel level"));
});

Deno.test({
  name:
    "embedReportViewer: a results folder's maps in the report, NiiVue from the cache the second time",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-report-viewer-" });
    try {
      const run = join(dir, "run"), cacheDir = join(dir, "cache");
      await writeResultsFolder(run, { atoms: 4, grid: [20, 24, 20] });
      const summary = JSON.parse(await Deno.readTextFile(join(run, "summary.json")));
      // A name that would end the script early if the JSON were not escaped.
      await Deno.writeTextFile(
        join(run, "voxels/networks_Yeo-7.csv"),
        `index,name\n1,"</script><b>x"\n2,Somatomotor\n`,
      );
      const payload = (await readReportMaps(run, summary))!;
      assert.equal(payload.models.length, 2);
      assert.equal(payload.models[0].atoms.length, 4);
      assert.deepEqual(payload.shape, [20, 24, 20]);
      // The fixture's brain: the ellipsoid where mean r is drawn (non-zero almost surely).
      assert.ok(payload.voxels > 1000 && payload.voxels < 20 * 24 * 20, String(payload.voxels));
      assert.equal(payload.atlas?.names["1"], "</script><b>x");
      // The cortex: both meshes with the label volume's borders, or a reason there are none.
      if (payload.surfaces) {
        assert.deepEqual(payload.surfaces.hemispheres.map((h) => h.name), ["lh", "rh"]);
        assert.ok(payload.surfaces.hemispheres.every((h) => h.nVertices === 40962 && h.border));
        assert.equal(payload.surfaces.borders, "Yeo-7");
      } else assert.match(payload.surfacesUnavailable ?? "", /mesh/);

      const first = await niivueScript({ cacheDir });
      assert.equal(first.cached, false);
      const html = await embedReportViewer(run, renderReport(summary, "now"), { cacheDir });
      const second = await niivueScript({ cacheDir });
      assert.equal(second.cached, true);
      assert.equal(second.js, first.js);
      assert.match(first.js, /var niivue=/);
      // The report's own content stays; one viewer; one inline NiiVue; no `</script>` inside scripts.
      assert.ok(html.includes("<h1>brainorg results</h1>"));
      assert.equal(html.match(/id="brainorg-viewer"/g)?.length, 1);
      const scripts = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      assert.equal(scripts.length, 3);
      assert.deepEqual(JSON.parse(scripts[0]), payload);
      assert.ok(!/src=|import\(|fetch\(/.test(scripts[2]), "the viewer's script loads something");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
