/**
 * An atom's map on the cortical surfaces in NiiVue (WebGL2): the left and
 * right ICBM152 meshes, each seen from the side (lateral) and from the
 * midline (medial), the map as a mesh layer with the volume viewer's
 * colours and symmetric threshold (warm above +t, winter below −t), and the
 * borders between networks drawn as dark lines. One NiiVue per view; all
 * four are cleaned up with the island.
 *
 * Nothing is created until the viewer scrolls into view: each view is a
 * WebGL context with its shaders to compile and a mesh to load, seconds
 * where WebGL runs on the CPU, and the page (the volume viewer above) should
 * be usable before any of that is paid.
 */

import { useEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import type { Niivue } from "@niivue/niivue";
import { ThresholdSlider } from "../components/ThresholdSlider.tsx";
import { loadNiivue } from "./_niivue.ts";

/** The URLs of one hemisphere: its mesh, the atom's values and the network borders (MZ3). */
export interface SurfaceHemisphere {
  mesh: string;
  values: string;
  borders?: string;
}

/**
 * The viewer's props (serializable: they travel in the page as JSON). A type,
 * not an interface, so that it is a plain record the server's `Island` accepts.
 */
export type SurfaceViewerProps = {
  lh: SurfaceHemisphere;
  rh: SurfaceHemisphere;
  /** Where the colour threshold |value| starts; default 2. */
  threshold?: number;
  title?: string;
  /** Height of each view in CSS pixels; default 300. */
  height?: number;
};

/**
 * A view: which hemisphere, from where (NiiVue's azimuth: 90 looks from the
 * subject's left, 270 from the right; checked on the rendered meshes).
 */
const VIEWS = [
  { hemi: "lh", side: "lateral", azimuth: 90 },
  { hemi: "rh", side: "lateral", azimuth: 270 },
  { hemi: "lh", side: "medial", azimuth: 270 },
  { hemi: "rh", side: "medial", azimuth: 90 },
] as const;

/** The 99.5th percentile of the non-zero |values|: one extreme vertex does not wash the scale out. */
function robustPeak(layers: ArrayLike<number>[]): number {
  const mags: number[] = [];
  for (const values of layers) {
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]);
      if (a > 0 && Number.isFinite(a)) mags.push(a);
    }
  }
  if (!mags.length) return 1;
  mags.sort((a, b) => a - b);
  return mags[Math.floor((mags.length - 1) * 0.995)] || 1;
}

export default function SurfaceViewer(props: SurfaceViewerProps) {
  const canvases = useRef<(HTMLCanvasElement | null)[]>([]);
  const viewers = useRef<Niivue[]>([]);
  const threshold = useSignal(props.threshold ?? 2);
  const peak = useSignal(0);
  const error = useSignal("");
  const ready = useSignal(false);
  const started = useSignal(false);
  const root = useRef<HTMLDivElement | null>(null);

  /** The map layer (layer 0 of each view's mesh) coloured from ±t to ±peak. */
  const applyThreshold = async () => {
    const t = threshold.value, top = Math.max(peak.value, t + 1e-3);
    for (const nv of viewers.current) {
      const mesh = nv.meshes[0];
      if (!mesh) continue;
      for (
        const [key, value] of [["cal_min", t], ["cal_max", top], ["cal_minNeg", -t], [
          "cal_maxNeg",
          -top,
        ]] as const
      ) await nv.setMeshLayerProperty(mesh.id, 0, key, value);
    }
  };

  useEffect(() => {
    let alive = true;
    const start = () =>
      (async () => {
        started.value = true;
        const NV = await loadNiivue();
        const t = threshold.value;
        for (const [i, view] of VIEWS.entries()) {
          const canvas = canvases.current[i];
          if (!alive || !canvas) return;
          const nv = new NV.Niivue({
            backColor: [1, 1, 1, 1],
            show3Dcrosshair: false,
            isColorbar: false,
            isOrientCube: false,
            logLevel: "error",
          });
          viewers.current.push(nv);
          await nv.attachToCanvas(canvas);
          nv.setSliceType(nv.sliceTypeRender);
          const urls = props[view.hemi];
          const layers = [{
            url: urls.values,
            name: `${view.hemi}.values.mz3`,
            colormap: "warm",
            colormapNegative: "winter",
            useNegativeCmap: true,
            cal_min: t,
            cal_max: t + 1,
            opacity: 1,
          }];
          if (urls.borders) {
            // Border vertices are 1, the rest 0 (transparent below cal_min): near-black lines.
            layers.push({
              url: urls.borders,
              name: `${view.hemi}.borders.mz3`,
              colormap: "gray",
              colormapNegative: "gray",
              useNegativeCmap: false,
              cal_min: 0.5,
              cal_max: 12,
              opacity: 1,
            });
          }
          await nv.loadMeshes([{
            url: urls.mesh,
            name: `${view.hemi}.mz3`,
            rgba255: [205, 205, 205, 255],
            // deno-lint-ignore no-explicit-any
            layers: layers as any,
          }]);
          nv.setRenderAzimuthElevation(view.azimuth, 0);
          // A hemisphere seen side-on is half as wide as the whole brain NiiVue frames.
          nv.setScale(1.3);
        }
        if (!alive) return;
        const maps = viewers.current.slice(0, 2).map((nv) => nv.meshes[0]?.layers[0]?.values ?? []);
        peak.value = robustPeak(maps);
        await applyThreshold();
        ready.value = true;
      })().catch((e) => alive && (error.value = String((e as Error).message ?? e)));
    // Started once, the first time any part of the viewer is on screen (a margin ahead,
    // so that scrolling down finds it drawing already).
    let observer: IntersectionObserver | undefined;
    if (typeof IntersectionObserver === "undefined" || !root.current) start();
    else {
      observer = new IntersectionObserver((entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        observer?.disconnect();
        start();
      }, { rootMargin: "200px" });
      observer.observe(root.current);
    }
    return () => {
      alive = false;
      observer?.disconnect();
      for (const nv of viewers.current) {
        nv.cleanup();
        nv.gl?.getExtension("WEBGL_lose_context")?.loseContext();
      }
      viewers.current = [];
    };
  }, []);

  const height = props.height ?? 300;
  return (
    <div
      ref={root}
      class="viewer"
      data-testid="surface-viewer"
      data-ready={ready.value ? "1" : "0"}
      data-started={started.value ? "1" : "0"}
    >
      {props.title && <h2>{props.title}</h2>}
      {error.value && <p class="error">Could not load the surfaces: {error.value}</p>}
      {!ready.value && !error.value && (
        <p class="muted" data-testid="surface-status">
          {started.value
            ? "loading the cortical surfaces…"
            : "the surfaces load when scrolled into view"}
        </p>
      )}
      <div style="display:grid;grid-template-columns:1fr 1fr;gap:4px">
        {VIEWS.map((v, i) => (
          <figure style="margin:0">
            {/* NiiVue sizes its canvas to the parent: the parent's height fixes the view's. */}
            <div style={`position:relative;width:100%;height:${height}px`}>
              <canvas
                ref={(el) => {
                  canvases.current[i] = el;
                }}
                data-testid={`surface-${v.hemi}-${v.side}`}
                style="width:100%;height:100%;display:block"
              />
            </div>
            <figcaption class="muted">
              {v.hemi === "lh" ? "left" : "right"} hemisphere, {v.side}
            </figcaption>
          </figure>
        ))}
      </div>
      <p>
        <ThresholdSlider
          threshold={threshold}
          max={Math.max(1, Math.ceil(peak.value))}
          testId="surface-threshold"
          onChange={applyThreshold}
        />{" "}
        <span class="muted">
          · warm: above +threshold, blue: below −threshold (up to ±{peak.value.toFixed(1)}) · dark
          lines: network borders
        </span>
      </p>
    </div>
  );
}
