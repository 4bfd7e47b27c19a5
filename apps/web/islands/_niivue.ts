/**
 * What the volume viewer island needs around NiiVue, kept out of the
 * component: loading the module by URL, the label colours of the Yeo
 * networks, and reading values under a point.
 *
 * @module
 */

import type * as NV from "@niivue/niivue";
import { NIIVUE_URL } from "../urls.ts";

/** NiiVue's module, as `/assets/niivue.js` exports it. */
export type NiivueModule = typeof NV;

/** NiiVue's label colour table (`R`, `G`, `B`, `A`, `I` per label, and `labels`). */
export type LabelColormap = Parameters<NV.NVImage["setColormapLabel"]>[0];

/**
 * NiiVue, loaded once per page by URL: the islands' bundle stays small and
 * pages without a brain view never fetch it.
 */
export function loadNiivue(): Promise<NiivueModule> {
  // A variable, not a literal: esbuild must leave the import to the browser.
  const url: string = NIIVUE_URL;
  return import(url) as Promise<NiivueModule>;
}

/** Yeo et al. 2011's colours of the 7 networks (Yeo2011_7Networks_ColorLUT), by label 1–7. */
const YEO7_RGB: [number, number, number][] = [
  [120, 18, 134],
  [70, 130, 180],
  [0, 118, 14],
  [196, 58, 250],
  [220, 248, 164],
  [230, 148, 34],
  [205, 62, 78],
];

/**
 * A label colour table for NiiVue (`ColorMap`: one entry per label 0…n):
 * Yeo-7's own colours for labels 1–7, then a cycle of the same for any
 * further label; `labels` holds the names. Every label is transparent
 * inside: in NiiVue's outline mode (`setAtlasOutline(1)`) only the borders
 * between labels are drawn, opaque, so that the map under them stays visible.
 *
 * @param names label number (as text) → display name
 */
export function labelColormap(names: Record<string, string>): LabelColormap {
  const max = Math.max(7, ...Object.keys(names).map(Number).filter(Number.isInteger));
  const cm = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: [""] };
  for (let i = 1; i <= Math.min(max, 1024); i++) {
    const [r, g, b] = YEO7_RGB[(i - 1) % YEO7_RGB.length];
    cm.R.push(r);
    cm.G.push(g);
    cm.B.push(b);
    cm.A.push(0);
    cm.I.push(i);
    cm.labels.push(names[String(i)] ?? `label ${i}`);
  }
  return cm;
}

/** The value of a volume at a point in millimetres (MNI); NaN outside its grid. */
export function valueAtMM(vol: NV.NVImage, mm: ArrayLike<number>): number {
  const vox = vol.mm2vox([mm[0], mm[1], mm[2]]);
  const dims = vol.hdr?.dims ?? [];
  for (let d = 0; d < 3; d++) {
    if (!(vox[d] >= 0 && vox[d] < dims[d + 1])) return NaN;
  }
  return vol.getValue(vox[0], vox[1], vox[2], vol.frame4D);
}

/**
 * A robust peak of |value| (the 99.5th percentile of the non-zero finite
 * magnitudes), so that one voxel with a near-zero SD across subjects does
 * not wash the colour scale out; 1 for an empty map.
 */
export function robustPeak(vol: NV.NVImage): number {
  const img = vol.img as ArrayLike<number> | undefined;
  if (!img) return 1;
  const slope = vol.hdr?.scl_slope || 1, inter = vol.hdr?.scl_inter || 0;
  // A typed array sorts numerically and several times faster than a list of numbers (a 2 mm
  // map has 900,000 voxels).
  const mags = new Float32Array(img.length);
  let n = 0;
  for (let i = 0; i < img.length; i++) {
    const a = Math.abs(img[i] * slope + inter);
    if (a > 0 && Number.isFinite(a)) mags[n++] = a;
  }
  if (!n) return 1;
  const sorted = mags.subarray(0, n).sort();
  return sorted[Math.floor((n - 1) * 0.995)] || 1;
}
