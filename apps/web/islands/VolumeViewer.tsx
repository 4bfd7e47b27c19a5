/**
 * A brain map in NiiVue (WebGL2): the MNI template with the map as an
 * interpolated overlay, axial, coronal and sagittal slices and, on demand
 * (the "3-D" button), a 3-D render, a symmetric threshold for signed maps (warm above +t, winter
 * below −t), a colour bar, the network outlines as a label layer, and the
 * MNI coordinate, value and network under the crosshair and the pointer.
 * Everything works with the pointer alone.
 *
 * A page may hand it a static first view (`preview`: a PNG of the three
 * slices drawn on the server, `preview.ts`), shown at once in the canvas's
 * place, its threshold slider re-requesting the picture; NiiVue (seconds of
 * main-thread work where WebGL runs on the CPU: a 2.3 MB module, shaders,
 * volumes) then starts as soon as the picture is on screen, or when the
 * pointer (or the keyboard's focus) first comes to the picture
 * (`start: "interact"`), and replaces the picture when it has drawn, in a
 * box of the same size.
 *
 * The render is off until asked for: where WebGL runs on the CPU
 * (SwiftShader) it costs seconds per frame, far more than the three slices,
 * and every redraw (crosshair, threshold) would pay it again.
 */

import { useEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import type { Niivue, NVImage } from "@niivue/niivue";
import { ThresholdSlider } from "../components/ThresholdSlider.tsx";
import { labelColormap, loadNiivue, robustPeak, valueAtMM, volumeBytes } from "./_niivue.ts";

/** One map the viewer can show: a label for the picker and a NIfTI URL (one volume). */
export interface ViewerMap {
  label: string;
  url: string;
}

/** The viewer's props (serializable: they travel in the page as JSON). */
export interface VolumeViewerProps {
  /** The maps to choose from (an atom's map, or each volume of a 4-D map), at least one. */
  maps: ViewerMap[];
  /** Which of `maps` is shown first; default 0. */
  selected?: number;
  /** The anatomical background (the MNI T1); without it the map is drawn alone. */
  anatomy?: string;
  /** A label volume drawn as outlines (Yeo-7), and its display names by label. */
  atlas?: string;
  atlasNames?: Record<string, string>;
  /** Where the colour threshold |value| starts; default 2. */
  threshold?: number;
  title?: string;
  /** Canvas height in CSS pixels; default 420. */
  height?: number;
  /** A static first view, shown until NiiVue has drawn: the URL takes `?threshold=t`. */
  preview?: ViewerPreview;
  /** When NiiVue starts with a preview: once the picture is shown (default), or on first use. */
  start?: "shown" | "interact";
}

/** A server-drawn picture of the slices (`preview.ts`). */
export interface ViewerPreview {
  /** The PNG's URL, without a query. */
  url: string;
  /** Its size in pixels (the box it sits in has the canvas's). */
  width: number;
  height: number;
  /** What it shows, for its alt text (the threshold is added). */
  alt: string;
}

/** The largest |value| voxel of a volume (the first of equals), or undefined when all are 0. */
function peakVoxel(vol: NVImage): number[] | undefined {
  const img = vol.img as ArrayLike<number> | undefined, dims = vol.hdr?.dims ?? [];
  if (!img) return undefined;
  let best = 0, at = -1;
  for (let i = 0; i < img.length; i++) {
    const a = Math.abs(img[i]);
    if (a > best && Number.isFinite(a)) (best = a), (at = i);
  }
  if (at < 0) return undefined;
  const nx = dims[1], ny = dims[2];
  return [at % nx, Math.floor(at / nx) % ny, Math.floor(at / (nx * ny))];
}

/** The name NiiVue reads a file's format from: the URL's last segment, without a query. */
function fileName(url: string): string {
  const last = decodeURIComponent(url.split("?")[0].split("/").pop() ?? "map.nii");
  // A `?volume=k` answer is an uncompressed .nii whatever the file it was cut from.
  return url.includes("?") ? last.replace(/\.gz$/, "") : last;
}

function fmtMM(mm: ArrayLike<number>): string {
  return `MNI (${[mm[0], mm[1], mm[2]].map((x) => Math.round(x)).join(", ")}) mm`;
}

export default function VolumeViewer(props: VolumeViewerProps) {
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const nv = useRef<Niivue | null>(null);
  const selected = useSignal(props.selected ?? 0);
  const threshold = useSignal(props.threshold ?? 2);
  const peak = useSignal(0);
  const error = useSignal("");
  const ready = useSignal(false);
  const crosshair = useSignal("");
  const hover = useSignal("");
  const show3D = useSignal(false);
  // NiiVue starts at once without a first view; with one, once it is shown or on first use.
  const started = useSignal(!props.preview);
  const img = useRef<HTMLImageElement | null>(null);
  // Which loaded volumes are the map and the atlas (NiiVue's ids), for reading values.
  const overlayId = useRef("");
  const atlasId = useRef("");

  /** Coordinate, map value and network at a point (mm). */
  const describe = (mm: ArrayLike<number>): string => {
    const v = nv.current?.volumes ?? [];
    const map = v.find((x) => x.id === overlayId.current);
    const atlas = v.find((x) => x.id === atlasId.current);
    const value = map ? valueAtMM(map, mm) : NaN;
    const label = atlas ? Math.round(valueAtMM(atlas, mm)) : 0;
    const network = label > 0
      ? props.atlasNames?.[String(label)] ?? `label ${label}`
      : "outside the networks";
    return `${fmtMM(mm)} · value ${Number.isFinite(value) ? value.toFixed(3) : "none"} · ${
      atlas ? network : ""
    }`.replace(/ · $/, "");
  };
  /** Apply the threshold to the overlay: warm from +t to +peak, winter from −t to −peak. */
  const applyThreshold = () => {
    const map = nv.current?.volumes.find((x) => x.id === overlayId.current);
    if (!map || !nv.current) return;
    const t = threshold.value, top = Math.max(peak.value, t + 1e-3);
    map.cal_min = t;
    map.cal_max = top;
    map.cal_minNeg = -t;
    map.cal_maxNeg = -top;
    nv.current.updateGLVolume();
  };

  // The first view's mark for bench/web_pages.ts, once the picture is decoded (it may have
  // loaded before the island hydrated), and NiiVue's start (see `start`).
  useEffect(() => {
    const el = img.current;
    if (!el) return;
    // By default NiiVue starts once the picture is on screen, not at the page's load event
    // (which waits for every preload: the volumes, 4 MB) and then for the browser to be idle:
    // its module then comes 0.15–0.19 s after the picture, not 0.1–0.75 s. A picture that
    // fails to load starts it at once.
    const start = () => props.start !== "interact" && (started.value = true);
    const shown = () =>
      el.decode().then(() => performance.mark("volume-viewer:preview"), () => {}).then(() =>
        setTimeout(start, 0)
      );
    if (el.complete && el.naturalWidth) shown();
    else {
      el.addEventListener("load", shown, { once: true });
      el.addEventListener("error", start, { once: true });
    }
  }, []);
  const startNow = () => (started.value = true);

  // NiiVue is created once per canvas and cleaned up with the island.
  useEffect(() => {
    if (!started.value) return;
    let alive = true;
    // The volumes are asked for now, not once NiiVue is ready: fetched while its module loads
    // and WebGL compiles its shaders (about a second where WebGL runs on the CPU).
    for (const v of sources()) volumeBytes(v.url).catch(() => {});
    loadNiivue().then(async (NV) => {
      if (!alive || !canvas.current) return;
      // Marks for bench/web_pages.ts: where the time to interactive goes.
      performance.mark("volume-viewer:module");
      const viewer = new NV.Niivue({
        backColor: [0, 0, 0, 1],
        crosshairColor: [0.24, 0.86, 0.52, 1],
        // A crosshair one voxel wide hides a 4 mm map's detail: 1 mm is enough to see.
        crosshairWidth: 1,
        crosshairWidthUnit: "mm",
        show3Dcrosshair: true,
        isColorbar: true,
        isNearestInterpolation: false,
        // Slices (and render) side by side: larger tiles than a 2 × 2 grid on a wide page.
        multiplanarLayout: NV.MULTIPLANAR_TYPE.ROW,
        multiplanarShowRender: NV.SHOW_RENDER.NEVER,
        isOrientCube: false,
        logLevel: "error",
      });
      nv.current = viewer;
      await viewer.attachToCanvas(canvas.current);
      performance.mark("volume-viewer:webgl");
      viewer.setSliceType(viewer.sliceTypeMultiplanar);
      viewer.onLocationChange = (loc) => {
        const mm = (loc as { mm?: ArrayLike<number> }).mm;
        if (mm) crosshair.value = describe(mm);
      };
      await load();
    }).catch((e) => alive && (error.value = String((e as Error).message ?? e)));
    return () => {
      alive = false;
      const viewer = nv.current;
      nv.current = null;
      if (!viewer) return;
      viewer.cleanup();
      viewer.gl?.getExtension("WEBGL_lose_context")?.loseContext();
    };
  }, [started.value]);

  /** The volumes to show, bottom to top: the background, the selected map, the outlines. */
  const sources = () => {
    const map = props.maps[selected.value];
    const list: { role: "back" | "atlas" | "map"; url: string; options: object }[] = [];
    if (props.anatomy) list.push({ role: "back", url: props.anatomy, options: {} });
    if (map) {
      list.push({
        role: "map",
        url: map.url,
        options: { colormap: "warm", colormapNegative: "winter", opacity: 0.9 },
      });
    }
    // The outlines last, on top: transparent inside (see labelColormap), they hide nothing.
    if (props.atlas) list.push({ role: "atlas", url: props.atlas, options: { opacity: 1 } });
    return list;
  };

  /** (Re)load the background, the selected map and the outlines. */
  const load = async () => {
    const viewer = nv.current;
    if (!viewer || !props.maps[selected.value]) return;
    ready.value = false;
    error.value = "";
    const wanted = sources(), role = wanted.map((v) => v.role);
    let list: Parameters<Niivue["loadVolumes"]>[0];
    try {
      // Fetched already (see the effect), or now for another map: NiiVue gets the bytes, which
      // it takes in `url` (an ArrayBuffer, the format read from `name`), as its loadFromUrl does.
      const bytes = await Promise.all(wanted.map((v) => volumeBytes(v.url)));
      performance.mark("volume-viewer:fetched");
      list = wanted.map((v, i) => ({
        ...v.options,
        url: bytes[i] as unknown as string,
        name: fileName(v.url),
      }));
    } catch (e) {
      error.value = String((e as Error).message ?? e);
      return;
    }
    // NiiVue adds the volumes one by one, re-uploading every layer and redrawing after each
    // (1 + 2 + 3 layer refreshes), and the threshold below does it once more: the refresh is
    // held back while they are added, and done once, by applyThreshold, with all set.
    const refresh = viewer.updateGLVolume;
    viewer.updateGLVolume = () => {};
    try {
      await viewer.loadVolumes(list);
      performance.mark("volume-viewer:volumes");
    } catch (e) {
      error.value = String((e as Error).message ?? e);
      return;
    } finally {
      viewer.updateGLVolume = refresh;
    }
    const byRole = (r: string): NVImage | undefined => viewer.volumes[role.indexOf(r as "map")];
    const back = byRole("back"), overlay = byRole("map"), atlas = byRole("atlas");
    if (back) back.colorbarVisible = false;
    if (atlas) {
      atlas.colorbarVisible = false;
      atlas.setColormapLabel(labelColormap(props.atlasNames ?? {}));
      // NIfTI's label intent is what makes NiiVue draw a label volume as outlines. The option
      // is set, not setAtlasOutline(): that redraws, and applyThreshold below redraws anyway
      // (each redraw costs seconds where WebGL runs on the CPU).
      atlas.hdr!.intent_code = 1002;
      viewer.opts.atlasOutline = 1;
    }
    overlayId.current = overlay?.id ?? "";
    atlasId.current = atlas?.id ?? "";
    if (overlay) peak.value = robustPeak(overlay);
    // The crosshair on the map's peak, where the first view's slices are.
    const at = overlay && peakVoxel(overlay), m = overlay?.hdr?.affine;
    if (at && m) {
      const mm = [0, 1, 2].map((r) =>
        m[r][0] * at[0] + m[r][1] * at[1] + m[r][2] * at[2] + m[r][3]
      );
      viewer.scene.crosshairPos = viewer.mm2frac(mm as unknown as Float32Array);
    }
    applyThreshold();
    crosshair.value = describe(viewer.frac2mm(viewer.scene.crosshairPos));
    ready.value = true;
    performance.mark("volume-viewer:ready");
  };
  /** Show or hide the 3-D render beside the slices (one redraw). */
  const toggle3D = () => {
    const viewer = nv.current;
    if (!viewer) return;
    show3D.value = !show3D.value;
    viewer.opts.multiplanarShowRender = show3D.value ? 1 /* ALWAYS */ : 0 /* NEVER */;
    viewer.drawScene();
  };
  const onPointer = (e: PointerEvent) => {
    const viewer = nv.current, c = canvas.current;
    if (!viewer || !c || !ready.value) return;
    const r = c.getBoundingClientRect(), dpr = c.width / (r.width || 1);
    const frac = viewer.canvasPos2frac([(e.clientX - r.left) * dpr, (e.clientY - r.top) * dpr]);
    hover.value = frac[0] >= 0 ? describe(viewer.frac2mm(frac)) : "";
  };

  const height = props.height ?? 420, pv = props.preview;
  const t = threshold.value.toFixed(1);
  return (
    <div
      class="viewer"
      data-testid="volume-viewer"
      data-ready={ready.value ? "1" : "0"}
    >
      {props.title && <h2>{props.title}</h2>}
      {error.value && <p class="error">Could not load the map: {error.value}</p>}
      <div
        style={`position:relative;width:100%;height:${height}px;background:#000`}
        // NiiVue starts when the pointer or the keyboard comes to the picture, not to the
        // slider: that answers at once with a new picture, never behind NiiVue's start.
        onPointerOver={startNow}
        onFocus={startNow}
        tabIndex={pv && !ready.value ? 0 : undefined}
      >
        {pv && !ready.value && (
          // Over the canvas, in a box of its size: NiiVue's picture takes its place, no jump.
          <img
            ref={img}
            data-testid="preview"
            src={`${pv.url}?threshold=${t}`}
            width={pv.width}
            height={pv.height}
            alt={`${pv.alt}, threshold |value| > ${t}: axial, coronal and sagittal slices`}
            // The canvas's box exactly: its size and its 1-pixel border (Layout's CSS).
            style="position:absolute;left:0;top:0;width:100%;height:100%;object-fit:contain;z-index:1;border:1px solid #ccd;background:#000"
          />
        )}
        <canvas
          ref={canvas}
          data-testid="niivue"
          style="width:100%;height:100%;display:block"
          onPointerMove={onPointer}
          onPointerLeave={() => (hover.value = "")}
        />
      </div>
      <p>
        <ThresholdSlider
          threshold={threshold}
          // Before NiiVue has read the map, its peak is not known: a range wide enough for t maps.
          max={ready.value
            ? Math.max(1, Math.floor(peak.value * 10) / 10)
            : pv
            ? Math.max(10, 2 * (props.threshold ?? 2))
            : 1}
          testId="threshold"
          onChange={applyThreshold}
        />{" "}
        <button
          type="button"
          data-testid="render-3d"
          aria-pressed={show3D.value}
          disabled={!ready.value}
          title="a 3-D render beside the slices (slow without a GPU)"
          onClick={toggle3D}
        >
          {show3D.value ? "hide 3-D" : "3-D"}
        </button>
        {props.maps.length > 1 && (
          <>
            {" · map "}
            <select
              data-testid="volume"
              value={selected.value}
              onChange={(e) => {
                selected.value = Number((e.target as HTMLSelectElement).value);
                load();
              }}
            >
              {props.maps.map((m, i) => <option key={m.url} value={i}>{m.label}</option>)}
            </select>
          </>
        )}
      </p>
      <p class="muted">
        crosshair (click or drag on a slice):{" "}
        <span data-testid="crosshair-info">
          {ready.value
            ? crosshair.value
            : props.start === "interact" && !started.value
            ? "the interactive viewer loads when the pointer is over the picture"
            : "loading…"}
        </span>
      </p>
      <p class="muted">
        under the pointer: <span data-testid="cursor-info">{hover.value || "—"}</span>
      </p>
    </div>
  );
}
