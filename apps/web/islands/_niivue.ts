/**
 * What the volume viewer island needs around NiiVue, kept out of the
 * component: loading the module by URL, the label colours of the Yeo
 * networks, and reading values under a point.
 *
 * @module
 */

import type * as NV from "@niivue/niivue";
import { NIIVUE_URL } from "../urls.ts";
import { YEO7_RGB } from "../network_colors.ts";

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

/** Each URL's bytes, fetched once per page (see {@linkcode volumeBytes}). */
const fetched = new Map<string, Promise<ArrayBuffer>>();
/** The most volumes {@linkcode volumeBytes} keeps (a 2 mm float32 volume is 3.6 MB). */
const MAX_KEPT = 8;

/**
 * A volume's bytes (a NIfTI file as served), fetched once per page and URL:
 * a viewer calls this for its volumes before NiiVue's module has loaded, so
 * that the server's work (cutting the atom's volume out of its map) and the
 * transfer happen while the module is parsed and WebGL compiles its shaders;
 * two viewers of one page (the comparison page) share the template and the
 * outlines. Each call gets its own copy: NiiVue keeps the buffer it is given.
 *
 * @param url the file's URL
 * @returns its bytes; rejects with the server's answer when it is not 200
 */
export function volumeBytes(url: string): Promise<ArrayBuffer> {
  let bytes = fetched.get(url);
  if (!bytes) {
    bytes = fetch(url).then(async (res) => {
      if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 300)}`);
      return await res.arrayBuffer();
    });
    fetched.set(url, bytes);
    // A page that shows map after map (the brain page's picker) keeps the last few only.
    if (fetched.size > MAX_KEPT) fetched.delete(fetched.keys().next().value!);
    // A failure is not kept: the next call asks again.
    bytes.catch(() => fetched.delete(url));
  }
  return bytes.then((b) => b.slice(0));
}

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
  // The k-th smallest by selection, not a sort: O(n), 10 times faster on a 2 mm map (a
  // tenth of a second of the viewer's start where the CPU is slow).
  return select(mags.subarray(0, n), Math.floor((n - 1) * 0.995)) || 1;
}

/** The k-th smallest of `a` (from 0), by quickselect; `a` is reordered. */
function select(a: Float32Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot: a map's magnitudes come in long sorted runs.
    const mid = (lo + hi) >> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
