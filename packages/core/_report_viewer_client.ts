/// <reference lib="dom" />
/**
 * The report's viewer as it runs in the browser, shipped as this function's
 * source text (`reportViewerClient.toString()`): it must stay
 * self-contained, referring to nothing outside its own body. It reads the
 * maps' payload (`report_maps.ts`) from the page, unpacks it (base64 →
 * gunzip by the browser's DecompressionStream → int8 codes × scale on the
 * mask's voxels), builds NIfTI images in memory and draws them with the
 * inlined NiiVue: nothing is fetched, so the page works from `file://`.
 * With the payload's meshes (`report_surfaces.ts`) it also draws the atom's
 * map on the cortex, four views, sampled at the vertices by the very
 * function the dashboard's server uses (`sampleGrid`, passed in as source).
 *
 * @module
 */

import type { sampleGrid } from "@brainorg/neuro";
import type { decodeHemisphere } from "./report_surfaces.ts";

/** Functions the page gets as source text next to this one (they too are self-contained). */
export interface ReportViewerHelpers {
  sampleGrid: typeof sampleGrid;
  decodeHemisphere: typeof decodeHemisphere;
}

/**
 * Start the viewer in the element `#brainorg-viewer`, with the payload of
 * `#brainorg-maps` and NiiVue at `globalThis.niivue`.
 *
 * @param helpers the sampling and mesh decoding functions
 */
export function reportViewerClient(helpers: ReportViewerHelpers): void {
  // deno-lint-ignore no-explicit-any
  type Any = any;
  const root = document.getElementById("brainorg-viewer")!;
  const $ = <T extends HTMLElement>(id: string) => root.querySelector(`[data-testid="${id}"]`) as T;
  const errorBox = $<HTMLParagraphElement>("viewer-error");
  const fail = (e: unknown) => {
    errorBox.hidden = false;
    errorBox.textContent = `The viewer could not start: ${(e as Error)?.message ?? e}`;
    root.dataset.ready = "error";
  };
  const NV = (globalThis as Any).niivue;
  if (!NV) return fail("NiiVue is missing from the page");
  const P = JSON.parse(document.getElementById("brainorg-maps")!.textContent!);
  const [nx, ny, nz] = P.shape as number[], N = nx * ny * nz;

  async function unpack(b64: string): Promise<Uint8Array> {
    const bin = atob(b64), u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    const s = new Blob([u]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(s).arrayBuffer());
  }

  /** A NIfTI-1 file (header + data) on the payload's grid: datatype 2 (uint8) or 16 (float32). */
  function nifti(data: Uint8Array | Float32Array, intent = 0): ArrayBuffer {
    const float = data instanceof Float32Array;
    const buf = new ArrayBuffer(352 + data.byteLength), v = new DataView(buf);
    const A = P.affine as number[];
    v.setInt32(0, 348, true);
    [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
    v.setInt16(68, intent, true);
    v.setInt16(70, float ? 16 : 2, true);
    v.setInt16(72, float ? 32 : 8, true);
    const pix = [0, 1, 2].map((c) => Math.hypot(A[c], A[4 + c], A[8 + c]));
    [1, ...pix, 1, 1, 1, 1].forEach((d, i) => v.setFloat32(76 + 4 * i, d, true));
    v.setFloat32(108, 352, true);
    v.setFloat32(112, 1, true);
    v.setUint8(123, 2); // millimetres
    v.setInt16(254, 4, true); // sform: MNI
    for (let i = 0; i < 12; i++) v.setFloat32(280 + 4 * i, A[i], true);
    [0x6e, 0x2b, 0x31, 0].forEach((c, i) => v.setUint8(344 + i, c));
    new Uint8Array(buf, 352).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return buf;
  }

  const modelSel = $<HTMLSelectElement>("model"), atomSel = $<HTMLSelectElement>("atom");
  const slider = $<HTMLInputElement>("threshold"), shown = $<HTMLOutputElement>("threshold-value");
  const canvas = $<HTMLCanvasElement>("niivue");
  const crossInfo = $<HTMLSpanElement>("crosshair-info"), cursorInfo = $("cursor-info");
  const codes: Int8Array[] = [];
  let idx = new Uint32Array(0), labels: Uint8Array | null = null;
  const values = new Float32Array(N);
  let nv: Any = null, overlay: Any = null, atlasVol: Any = null, peak = 1;

  const describe = (mm: ArrayLike<number>) => {
    const at = `MNI (${[0, 1, 2].map((d) => Math.round(mm[d])).join(", ")}) mm`;
    const vox = overlay.mm2vox([mm[0], mm[1], mm[2]]) as number[];
    const [x, y, z] = [0, 1, 2].map((d) => Math.round(vox[d]));
    if (!(x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz)) {
      return `${at} · outside the grid`;
    }
    const i = x + nx * (y + ny * z), v = values[i];
    const label = labels ? labels[i] : 0;
    const net = labels
      ? ` · ${label ? P.atlas.names[String(label)] ?? `label ${label}` : "outside the networks"}`
      : "";
    return `${at} · value ${Number.isFinite(v) ? v.toFixed(2) : "none"}${net}`;
  };

  /** Fill the overlay with the chosen atom's map and set the colour range to its robust peak. */
  const showAtom = () => {
    const m = Number(modelSel.value), k = Number(atomSel.value);
    const atom = P.models[m].atoms[k], V = idx.length, c = codes[m];
    values.fill(0);
    const mags = new Float32Array(V);
    for (let j = 0; j < V; j++) {
      const q = c[k * V + j], v = q === -128 ? NaN : q * atom.scale;
      values[idx[j]] = v;
      mags[j] = Math.abs(v) || 0;
    }
    mags.sort();
    // The 99.5th percentile, as the dashboard: one extreme voxel does not wash the colours out.
    peak = mags[Math.floor((V - 1) * 0.995)] || 1;
    slider.max = String(Math.max(1, Math.ceil(peak * 10) / 10));
    overlay.img.set(values.map((v) => (Number.isFinite(v) ? v : 0)));
    if (surfaceViews.length) sampleSurfaces();
    applyThreshold();
  };
  const applyThreshold = () => {
    const t = Number(slider.value), top = Math.max(peak, t + 1e-3);
    shown.textContent = t.toFixed(1);
    overlay.cal_min = t;
    overlay.cal_max = top;
    overlay.cal_minNeg = -t;
    overlay.cal_maxNeg = -top;
    nv.updateGLVolume();
    for (const v of surfaceViews) {
      const layer = v.nv.meshes[0].layers[0];
      [layer.cal_min, layer.cal_max, layer.cal_minNeg, layer.cal_maxNeg] = [t, top, -t, -top];
      v.nv.meshes[0].updateMesh(v.nv.gl);
      v.nv.updateGLVolume();
    }
  };

  // The cortex: each hemisphere's mesh decoded once, the atom's map sampled at its vertices.
  const S = P.surfaces, surfaceBox = $<HTMLDivElement>("surfaces");
  const hemis: Record<
    string,
    { vertices: Float32Array; faces: Uint32Array; border?: Float32Array }
  > = {};
  const surfaceViews: { hemi: string; nv: Any }[] = [];
  let analysed = new Uint8Array(0);
  /** An uncompressed MZ3 (NiiVue's mesh format): faces and vertices, or one scalar per vertex. */
  const mz3 = (
    n: number,
    m?: { vertices: Float32Array; faces: Uint32Array },
    scalars?: Float32Array,
  ) => {
    const nf = m ? m.faces.length / 3 : 0;
    const buf = new ArrayBuffer(16 + (m ? 12 * nf + 12 * n : 0) + (scalars ? 4 * n : 0));
    const v = new DataView(buf);
    v.setUint16(0, 23117, true);
    v.setUint16(2, m ? 3 : 8, true);
    v.setUint32(4, nf, true);
    v.setUint32(8, n, true);
    if (m) {
      new Uint32Array(buf, 16, 3 * nf).set(m.faces);
      new Float32Array(buf, 16 + 12 * nf, 3 * n).set(m.vertices);
    } else new Float32Array(buf, 16, n).set(scalars!);
    return buf;
  };
  const sampleSurfaces = () => {
    const onVertices: Record<string, Float32Array> = {};
    for (const h of Object.keys(hemis)) {
      onVertices[h] = helpers.sampleGrid(
        values,
        P.shape,
        P.affine,
        S.inverse,
        hemis[h].vertices,
        true,
        analysed,
        S.fallbackRadius,
      ).map((x) => (Number.isFinite(x) ? x : 0));
    }
    for (const v of surfaceViews) v.nv.meshes[0].layers[0].values = onVertices[v.hemi];
  };
  const startSurfaces = async () => {
    for (const h of S.hemispheres) {
      const m = helpers.decodeHemisphere(
        await unpack(h.vertices),
        await unpack(h.faces),
        h.nVertices,
        h.nFaces,
        h.origin,
        S.step,
      );
      let border: Float32Array | undefined;
      if (h.border) {
        const bits = await unpack(h.border);
        border = Float32Array.from(
          { length: h.nVertices },
          (_, i) => (bits[i >> 3] >> (i & 7)) & 1,
        );
      }
      hemis[h.name] = { ...m, border };
    }
    // The views the page lays out (`SURFACE_VIEWS`): hemisphere and azimuth on each canvas.
    for (const canvas of surfaceBox.querySelectorAll<HTMLCanvasElement>("canvas[data-azimuth]")) {
      const hemi = canvas.dataset.hemi!, m = hemis[hemi];
      if (!m) continue;
      const view = new NV.Niivue({
        backColor: [1, 1, 1, 1],
        show3Dcrosshair: false,
        isColorbar: false,
        isOrientCube: false,
        logLevel: "error",
      });
      await view.attachToCanvas(canvas);
      view.setSliceType(view.sliceTypeRender);
      const n = m.vertices.length / 3;
      const mesh = await NV.NVMesh.loadFromUrl({
        url: `${hemi}.mz3`,
        name: `${hemi}.mz3`,
        buffer: mz3(n, m),
        gl: view.gl,
        rgba255: [205, 205, 205, 255],
      });
      const layer = (
        name: string,
        data: Float32Array,
        cmap: string,
        neg: boolean,
        lo: number,
        hi: number,
      ) =>
        NV.NVMeshLoaders.readLayer(
          name,
          mz3(n, undefined, data),
          mesh,
          1,
          cmap,
          cmap === "warm" ? "winter" : cmap,
          neg,
          lo,
          hi,
        );
      mesh.layers.push(await layer(`${hemi}.values.mz3`, new Float32Array(n), "warm", true, 1, 2));
      // Border vertices are 1, the rest 0 (transparent below cal_min): near-black lines.
      if (m.border) {
        mesh.layers.push(await layer(`${hemi}.borders.mz3`, m.border, "gray", false, 0.5, 12));
      }
      mesh.updateMesh(view.gl);
      view.addMesh(mesh);
      view.setRenderAzimuthElevation(Number(canvas.dataset.azimuth), 0);
      // A hemisphere seen side-on is half as wide as the whole brain NiiVue frames.
      view.setScale(1.3);
      surfaceViews.push({ hemi, nv: view });
    }
    sampleSurfaces();
    applyThreshold();
    surfaceBox.dataset.ready = "1";
  };
  const fillAtoms = () => {
    const m = P.models[Number(modelSel.value)];
    atomSel.replaceChildren(...m.atoms.map((a: Any, k: number) => {
      const o = document.createElement("option");
      o.value = String(k);
      o.textContent = `atom ${a.atom}${a.links.length ? ` (${a.links.join(", ")})` : ""}`;
      return o;
    }));
  };

  (async () => {
    const bits = await unpack(P.mask), inside: number[] = [];
    for (let i = 0; i < N; i++) if (bits[i >> 3] & (1 << (i & 7))) inside.push(i);
    idx = Uint32Array.from(inside);
    for (const m of P.models) {
      const u = await unpack(m.codes);
      codes.push(new Int8Array(u.buffer, u.byteOffset, u.byteLength));
    }
    P.models.forEach((m: Any, i: number) => modelSel.add(new Option(m.name, String(i))));
    fillAtoms();
    slider.value = String(P.threshold);
    nv = new NV.Niivue({
      backColor: [0, 0, 0, 1],
      crosshairColor: [0.24, 0.86, 0.52, 1],
      crosshairWidth: 1,
      crosshairWidthUnit: "mm",
      isColorbar: true,
      multiplanarLayout: NV.MULTIPLANAR_TYPE.ROW,
      multiplanarShowRender: NV.SHOW_RENDER.NEVER,
      isOrientCube: false,
      logLevel: "error",
    });
    await nv.attachToCanvas(canvas);
    nv.setSliceType(nv.sliceTypeMultiplanar);
    const load = async (buf: ArrayBuffer, name: string, extra: Record<string, unknown>) => {
      const vol = await NV.NVImage.loadFromUrl({ url: buf, name, ...extra });
      vol.colorbarVisible = false;
      nv.addVolume(vol);
      return vol;
    };
    if (P.background) {
      const bg = await unpack(P.background);
      const back = await load(nifti(bg), "anatomy.nii", { colormap: "gray" });
      // Grey from 0 to the 99th percentile inside the head: NiiVue's own robust range, taken
      // over a volume three quarters empty, leaves the brain white.
      const inHead = bg.filter((v) => v > 0).sort();
      back.cal_min = 0;
      back.cal_max = inHead[Math.floor((inHead.length - 1) * 0.99)] || 255;
    }
    overlay = await load(nifti(new Float32Array(N)), "map.nii", {
      colormap: "warm",
      colormapNegative: "winter",
      opacity: 0.9,
    });
    overlay.colorbarVisible = true;
    if (P.atlas) {
      const packed = await unpack(P.atlas.labels), full = new Uint8Array(N);
      idx.forEach((i, j) => (full[i] = packed[j]));
      labels = full;
      atlasVol = await load(nifti(full, 1002), "networks.nii", { opacity: 1 });
      const cm = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: [""] };
      const rgb = [[120, 18, 134], [70, 130, 180], [0, 118, 14], [196, 58, 250], [220, 248, 164], [
        230,
        148,
        34,
      ], [205, 62, 78]];
      for (let l = 1; l < 256 && l <= Math.max(7, ...Object.keys(P.atlas.names).map(Number)); l++) {
        const [r, g, b] = rgb[(l - 1) % 7];
        cm.R.push(r), cm.G.push(g), cm.B.push(b), cm.A.push(0), cm.I.push(l);
        cm.labels.push(P.atlas.names[String(l)] ?? `label ${l}`);
      }
      atlasVol.setColormapLabel(cm);
      // Outlines only (the label intent and atlasOutline): the map under them stays visible.
      nv.opts.atlasOutline = 1;
    }
    nv.onLocationChange = (loc: Any) => loc?.mm && (crossInfo.textContent = describe(loc.mm));
    showAtom();
    crossInfo.textContent = describe(nv.frac2mm(nv.scene.crosshairPos));
    modelSel.onchange = () => (fillAtoms(), showAtom());
    atomSel.onchange = showAtom;
    slider.oninput = applyThreshold;
    canvas.onpointermove = (e) => {
      const r = canvas.getBoundingClientRect(), dpr = canvas.width / (r.width || 1);
      const frac = nv.canvasPos2frac([(e.clientX - r.left) * dpr, (e.clientY - r.top) * dpr]);
      cursorInfo.textContent = frac[0] >= 0 ? describe(nv.frac2mm(frac)) : "—";
    };
    canvas.onpointerleave = () => (cursorInfo.textContent = "—");
    root.dataset.ready = "1";
    if (!S || !surfaceBox) return;
    analysed = new Uint8Array(N);
    for (const i of idx) analysed[i] = 1;
    // Four more WebGL views cost seconds where WebGL runs on the CPU: paid once scrolled to.
    const go = () =>
      startSurfaces().catch((e) => {
        // The slices above keep working: only the cortex is reported missing.
        surfaceBox.dataset.ready = "error";
        errorBox.hidden = false;
        errorBox.textContent = `The cortical surfaces could not be drawn: ${
          (e as Error)?.message ?? e
        }`;
      });
    if (typeof IntersectionObserver === "undefined") return void go();
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      seen.disconnect();
      go();
    }, { rootMargin: "200px" });
    seen.observe(surfaceBox);
  })().catch(fail);
}
