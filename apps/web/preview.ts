/**
 * The static first view of an atom's brain map, drawn on the server as a
 * PNG (as nilearn's static plots are to its interactive view): three
 * orthogonal slices (axial, coronal, sagittal) through the map's peak
 * |value|, the map over the MNI anatomy in the volume viewer's colours (warm
 * from +t to the robust peak, winter from −t to −peak, opacity 0.9; below
 * the threshold the anatomy in gray) and the network outlines on top. The
 * page shows it at once; NiiVue replaces it once it has drawn.
 *
 * @module
 */

import { decodeNifti, invertAffine, multiplyAffine } from "@brainorg/neuro";
import type { Affine } from "@brainorg/neuro";
import { RESULT_FILES, templateFiles, voxelFiles } from "@brainorg/core/results";
import { fileCache, fileVersion } from "./file_cache.ts";
import { checkMap } from "./maps.ts";
import { encodePng } from "./png.ts";
import { VIEWER_ATLAS } from "./run_data.ts";
import { resolveRunFile, type Run } from "./runs.ts";
import { template2mmFile, voxelSizes } from "./template.ts";
import { cachedVolume } from "./volumes.ts";
import { YEO7_RGB } from "./network_colors.ts";

/** A 3-D volume: `shape` `[nx, ny, nz]`, voxel → MNI mm `affine`, `data` x fastest. */
export interface PreviewVolume {
  shape: number[];
  affine: Affine;
  data: Float32Array;
}

/** What {@linkcode previewPixels} draws besides the map. */
export interface PreviewOptions {
  /** |value| from which the map is coloured (≥ 0). */
  threshold: number;
  /** The background, on any grid (sampled at the nearest voxel). */
  anatomy?: PreviewVolume;
  /** A label volume (Yeo-7), drawn as outlines in its networks' colours. */
  atlas?: PreviewVolume;
  /** Pixels per voxel; default {@linkcode previewScale} of the map's shape. */
  scale?: number;
}

/** A drawn first view. */
export interface PreviewPicture {
  /** RGB, row by row from the top: `3 · width · height` bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** The map's voxel the slices go through: the first largest finite |value| (or the centre). */
  peakVoxel: [number, number, number];
  /** The top of the colour scale (the robust peak, as the viewer's). */
  top: number;
}

/** Black between the panels, in pixels. */
const GAP = 4;
/** The overlay's opacity, as the viewer sets it (0.9), in tenths: integer blending rounds exactly. */
const OPACITY10 = 9;

/** NiiVue's `warm` and `winter` colour maps (control points at 0, 128, 255). */
const WARM = { R: [255, 255, 255], G: [127, 196, 254], B: [0, 0, 0] };
const WINTER = { R: [0, 0, 0], G: [0, 128, 255], B: [255, 196, 128] };

/** A 256-entry RGB table interpolated between control points 0, 128 and 255. */
function lut(cm: { R: number[]; G: number[]; B: number[] }): Uint8Array {
  const out = new Uint8Array(256 * 3), at = [0, 128, 255];
  for (let i = 0; i < 256; i++) {
    const s = i <= 128 ? 0 : 1, f = (i - at[s]) / (at[s + 1] - at[s]);
    out[3 * i] = Math.round(cm.R[s] + f * (cm.R[s + 1] - cm.R[s]));
    out[3 * i + 1] = Math.round(cm.G[s] + f * (cm.G[s + 1] - cm.G[s]));
    out[3 * i + 2] = Math.round(cm.B[s] + f * (cm.B[s + 1] - cm.B[s]));
  }
  return out;
}
const WARM_LUT = lut(WARM), WINTER_LUT = lut(WINTER);

/**
 * The 99.5th percentile of the positive finite values of `values` (of their
 * magnitudes with `abs`), as the viewer's robust peak; 1 when there are none.
 */
export function robustTop(values: Float32Array, abs: boolean): number {
  // A sort of a volume's values (900,000 at 2 mm) is most of a picture's time: a kept volume
  // (the anatomy, an atom's map) is sorted once, whatever the threshold.
  const memo = abs ? TOPS_ABS : TOPS, known = memo.get(values);
  if (known !== undefined) return known;
  const top = sortedTop(values, abs);
  memo.set(values, top);
  return top;
}
const TOPS = new WeakMap<Float32Array, number>(), TOPS_ABS = new WeakMap<Float32Array, number>();

function sortedTop(values: Float32Array, abs: boolean): number {
  const mags = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const a = abs ? Math.abs(values[i]) : values[i];
    if (a > 0 && Number.isFinite(a)) mags[n++] = a;
  }
  if (!n) return 1;
  return mags.subarray(0, n).sort()[Math.floor((n - 1) * 0.995)] || 1;
}

/** For each world axis (x, y, z), the voxel axis nearest it and its direction (±1). */
function orientation(affine: Affine): { axis: number[]; sign: number[] } {
  const axis: number[] = [], sign: number[] = [];
  for (let w = 0; w < 3; w++) {
    let best = 0;
    for (let j = 1; j < 3; j++) {
      if (Math.abs(affine[4 * w + j]) > Math.abs(affine[4 * w + best])) best = j;
    }
    axis.push(best);
    sign.push(affine[4 * w + best] < 0 ? -1 : 1);
  }
  return { axis, sign };
}

/** Pixels per voxel: slices about 300 pixels tall (1 for large grids, at most 4). */
export function previewScale(shape: readonly number[]): number {
  return Math.max(1, Math.min(4, Math.round(300 / Math.max(shape[0], shape[1], shape[2]))));
}

/**
 * The picture's size for a map grid whose voxel axes run along x, y, z (as
 * MNI maps do): what the page sets on the `<img>` before it has loaded.
 *
 * @param shape `[nx, ny, nz]`
 * @returns width (axial `nx`, coronal `nx`, sagittal `ny`, and the gaps) and height, in pixels
 */
export function previewSize(shape: readonly number[]): { width: number; height: number } {
  const s = previewScale(shape), [nx, ny, nz] = shape;
  return { width: (2 * nx + ny) * s + 2 * GAP, height: Math.max(ny, nz) * s };
}

/**
 * Draw the first view: axial (x rightwards, y upwards), coronal (x, z) and
 * sagittal (y, z) slices through the peak voxel, side by side, each voxel a
 * `scale` × `scale` block (sampled at the nearest voxel). A map value `v`
 * with `v ≥ t > 0`… is coloured by warm at `(v − t) / (top − t)` (winter for
 * `v ≤ −t`), blended 0.9 : 0.1 with the anatomy's gray `v / (its robust
 * top)`; other pixels are that gray (black without anatomy); a pixel of a
 * network whose 4-neighbour is another label is the network's colour.
 *
 * @param map the atom's volume (3-D)
 * @param options threshold, anatomy, atlas, scale
 * @returns the pixels and where the slices are
 */
export function previewPixels(map: PreviewVolume, options: PreviewOptions): PreviewPicture {
  const [nx, ny, nz] = map.shape, n = nx * ny * nz;
  if (map.data.length !== n) {
    throw new RangeError(
      `map: expected ${n} values for ${nx}×${ny}×${nz}, found ${map.data.length}`,
    );
  }
  const t = Math.max(0, options.threshold), s = options.scale ?? previewScale(map.shape);
  // The slices go through the strongest voxel, where the atom is.
  let peakAt = -1, best = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(map.data[i]);
    if (a > best && Number.isFinite(a)) (best = a), (peakAt = i);
  }
  const peakVoxel: [number, number, number] = peakAt < 0
    ? [nx >> 1, ny >> 1, nz >> 1]
    : [peakAt % nx, Math.floor(peakAt / nx) % ny, Math.floor(peakAt / (nx * ny))];
  const top = Math.max(robustTop(map.data, true), t + 1e-3);
  const back = options.anatomy, atlas = options.atlas;
  const backTop = back ? robustTop(back.data, false) : 1;
  const toBack = back && multiplyAffine(invertAffine(back.affine), map.affine);
  const toAtlas = atlas && multiplyAffine(invertAffine(atlas.affine), map.affine);
  const { axis, sign } = orientation(map.affine);
  const len = (w: number) => map.shape[axis[w]];
  // Panels: [horizontal world axis, vertical world axis, fixed world axis].
  const panels = [[0, 1, 2], [0, 2, 1], [1, 2, 0]];
  const height = Math.max(...panels.map(([, v]) => len(v) * s));
  const width = panels.reduce((w, [h]) => w + len(h) * s, 0) + GAP * (panels.length - 1);
  const rgb = new Uint8Array(3 * width * height);
  const ijk = [0, 0, 0];
  /** Nearest voxel value of `vol` at map voxel `ijk` (fractional) through `m`; NaN outside. */
  const sample = (vol: PreviewVolume, m: Affine): number => {
    // Unrolled, with no array per call: this runs 2 × 285,000 times per picture at 2 mm.
    const [sx, sy, sz] = vol.shape, x = ijk[0], y = ijk[1], z = ijk[2];
    const i = Math.round(m[0] * x + m[1] * y + m[2] * z + m[3]);
    const j = Math.round(m[4] * x + m[5] * y + m[6] * z + m[7]);
    const k = Math.round(m[8] * x + m[9] * y + m[10] * z + m[11]);
    if (!(i >= 0 && i < sx && j >= 0 && j < sy && k >= 0 && k < sz)) return NaN;
    return vol.data[i + sx * (j + sy * k)];
  };
  let left = 0;
  for (const [hw, vw, fw] of panels) {
    const w = len(hw) * s, h = len(vw) * s, top0 = (height - h) >> 1;
    const labels = new Int32Array(w * h);
    for (let py = 0; py < h; py++) {
      for (let px = 0; px < w; px++) {
        // Fractional voxel coordinates of the pixel's centre; world axes increase right and up.
        const u = (px + 0.5) / s - 0.5, v = (py + 0.5) / s - 0.5;
        ijk[axis[hw]] = sign[hw] > 0 ? u : len(hw) - 1 - u;
        ijk[axis[vw]] = sign[vw] > 0 ? len(vw) - 1 - v : v;
        ijk[axis[fw]] = peakVoxel[axis[fw]];
        const vox = Math.round(ijk[0]) + nx * (Math.round(ijk[1]) + ny * Math.round(ijk[2]));
        const value = map.data[vox];
        const b = back ? sample(back, toBack!) : NaN;
        const gray = Number.isFinite(b)
          ? Math.round(Math.min(1, Math.max(0, b / backTop)) * 255)
          : 0;
        let r = gray, g = gray, bl = gray;
        if (Number.isFinite(value) && t >= 0 && (value > 0 || value < 0) && Math.abs(value) >= t) {
          const i = Math.round(Math.min(1, (Math.abs(value) - t) / (top - t)) * 255);
          const tab = value > 0 ? WARM_LUT : WINTER_LUT;
          r = Math.round((OPACITY10 * tab[3 * i] + (10 - OPACITY10) * gray) / 10);
          g = Math.round((OPACITY10 * tab[3 * i + 1] + (10 - OPACITY10) * gray) / 10);
          bl = Math.round((OPACITY10 * tab[3 * i + 2] + (10 - OPACITY10) * gray) / 10);
        }
        const o = 3 * ((top0 + py) * width + left + px);
        rgb[o] = r;
        rgb[o + 1] = g;
        rgb[o + 2] = bl;
        if (atlas) {
          const l = sample(atlas, toAtlas!);
          labels[py * w + px] = Number.isFinite(l) ? Math.round(l) : 0;
        }
      }
    }
    if (atlas) {
      // A network's border: a labelled pixel with a differently labelled 4-neighbour.
      for (let py = 0; py < h; py++) {
        for (let px = 0; px < w; px++) {
          const l = labels[py * w + px];
          if (l <= 0) continue;
          const edge = (px > 0 && labels[py * w + px - 1] !== l) ||
            (px + 1 < w && labels[py * w + px + 1] !== l) ||
            (py > 0 && labels[(py - 1) * w + px] !== l) ||
            (py + 1 < h && labels[(py + 1) * w + px] !== l);
          if (!edge) continue;
          const c = YEO7_RGB[(l - 1) % YEO7_RGB.length], o = 3 * ((top0 + py) * width + left + px);
          rgb[o] = c[0];
          rgb[o + 1] = c[1];
          rgb[o + 2] = c[2];
        }
      }
    }
    left += w + GAP;
  }
  return { rgb, width, height, peakVoxel, top };
}

/** The first volume of a decoded image. */
function toVolume(img: { shape: number[]; affine: Affine; data: Float32Array }): PreviewVolume {
  const n = img.shape[0] * img.shape[1] * img.shape[2];
  return { shape: img.shape.slice(0, 3), affine: img.affine, data: img.data.subarray(0, n) };
}

/** A decoded volume (its first), kept per file version (a 2 mm template: 3.6 MB). */
function cachedImage(file: string): Promise<PreviewVolume | null> {
  return fileCache.get(file, "preview:image", async (f) => {
    return toVolume(decodeNifti(await Deno.readFile(f), f));
  }, { bytes: (stat) => stat.size * 4 });
}

/**
 * The background file of an atom's first view: the one the viewer draws
 * (the 2 mm MNI template for a 2 mm map when it is on this machine, else
 * the run's anatomy when it decodes), or undefined.
 */
async function backgroundFile(run: Run, mapPath: string): Promise<string | undefined> {
  const sizes = await voxelSizes(run, mapPath);
  const is2mm = sizes?.length === 3 && sizes.every((d) => Math.abs(d - 2) < 1e-3);
  const template = is2mm ? await template2mmFile() : undefined;
  if (template) return template;
  const anatomy = await checkMap(run, RESULT_FILES.anatomy);
  return anatomy.ok ? (await resolveRunFile(run, RESULT_FILES.anatomy)) ?? undefined : undefined;
}

/** A file's version for a cache key, or "" when it is absent. */
async function versionOf(file: string | undefined): Promise<string> {
  return file ? await Deno.stat(file).then(fileVersion, () => "") : "";
}

/**
 * The first view of atom `atom` of `model` as PNG bytes, drawn once per
 * version of the map, the background and the outlines, and threshold.
 *
 * @param run the run
 * @param model the model, as in `voxels/<model>/group_t.nii.gz`
 * @param atom the atom (a volume of the map), from 0
 * @param threshold the colour threshold |value| (finite, ≥ 0)
 * @returns the PNG, or why there is none: 404 when the map is missing (or outside the run)
 *   or has no such atom, 422 when it is not a map the viewer can show
 */
export async function cachedPreview(
  run: Run,
  model: string,
  atom: number,
  threshold: number,
): Promise<Uint8Array | PreviewFailure> {
  const mapPath = voxelFiles(model).groupT;
  const file = await resolveRunFile(run, mapPath);
  const check = file ? await checkMap(run, mapPath) : null;
  if (!file || (check && !check.ok && /missing/.test(check.problem.message ?? ""))) {
    return { status: 404, message: `${mapPath}: is missing from run ${run.id}` };
  }
  if (!check?.ok) {
    return { status: 422, message: `${mapPath}: not a map the viewer can show` };
  }
  if (!(atom < check.volumes)) {
    return {
      status: 404,
      message: `${mapPath}: no atom ${atom}: expected an atom from 0 to ${check.volumes - 1}`,
    };
  }
  const backFile = await backgroundFile(run, mapPath);
  const atlasPath = templateFiles(VIEWER_ATLAS).labels;
  const atlasFile = (await checkMap(run, atlasPath)).ok
    ? (await resolveRunFile(run, atlasPath)) ?? undefined
    : undefined;
  const key = `preview:${atom}:${threshold}:${backFile ?? ""}@${await versionOf(backFile)}:${
    atlasFile ?? ""
  }@${await versionOf(atlasFile)}`;
  const png = await fileCache.get(file, key, async (): Promise<Uint8Array | PreviewFailure> => {
    const img = await fileCache.get(file, `preview:volume:${atom}`, async () => {
      const bytes = await cachedVolume(file, atom);
      return bytes === null || typeof bytes === "string"
        ? bytes ?? "is gone"
        : toVolume(decodeNifti(bytes, mapPath));
    }, { bytes: (stat) => stat.size / 8 });
    if (img === null || typeof img === "string") {
      return { status: 422, message: `${mapPath}: ${img ?? "is gone"}` };
    }
    const [anatomy, atlas] = await Promise.all(
      [backFile, atlasFile].map((f) => (f ? cachedImage(f) : Promise.resolve(null))),
    );
    const pic = previewPixels(img, {
      threshold,
      ...(anatomy ? { anatomy } : {}),
      ...(atlas ? { atlas } : {}),
    });
    return encodePng(pic.rgb, pic.width, pic.height);
  }, { bytes: () => 256 * 1024 });
  return png ?? { status: 404, message: `${mapPath}: is missing from run ${run.id}` };
}

/** Why {@linkcode cachedPreview} drew nothing: an HTTP status and a sentence naming the file. */
export interface PreviewFailure {
  status: 404 | 422;
  message: string;
}
