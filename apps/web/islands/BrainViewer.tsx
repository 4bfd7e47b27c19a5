/**
 * Three orthogonal slices of a statistical map over the anatomy, with a
 * crosshair, threshold, colour bar, network outlines and the atlas label
 * and value under the cursor. Reads NIfTI files in the browser.
 */

import { useEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import * as nifti from "nifti-reader-js";

interface Volume {
  dims: [number, number, number, number];
  affine: number[][];
  data: Float32Array;
}

/** Bytes per voxel and the array type of each NIfTI datatype the viewer reads. */
const DATATYPES: Record<number, [number, (b: ArrayBuffer) => ArrayLike<number>]> = {
  2: [1, (b) => new Uint8Array(b)],
  4: [2, (b) => new Int16Array(b)],
  8: [4, (b) => new Int32Array(b)],
  16: [4, (b) => new Float32Array(b)],
  64: [8, (b) => new Float64Array(b)],
};

/**
 * Fetch and decode a map. The server checks maps before it offers them;
 * this checks again, with the same words, for a file changed since.
 */
async function loadNifti(url: string): Promise<Volume> {
  const name = decodeURIComponent(url.replace(/^.*\/files\//, ""));
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  let buf = await res.arrayBuffer();
  if (nifti.isCompressed(buf)) {
    try {
      buf = nifti.decompress(buf) as ArrayBuffer;
    } catch {
      throw new Error(`${name}: the gzip stream is corrupt or truncated`);
    }
  }
  if (buf.byteLength < 348 || !nifti.isNIFTI(buf)) throw new Error(`${name} is not a NIfTI file`);
  const h = nifti.readHeader(buf)!;
  const type = DATATYPES[h.datatypeCode];
  if (!type) throw new Error(`${name}: datatype ${h.datatypeCode} is not one the viewer reads`);
  const d = h.dims, nt = d[0] > 3 ? Math.max(1, d[4]) : 1;
  const needed = h.vox_offset + d[1] * d[2] * d[3] * nt * type[0];
  if (buf.byteLength < needed) {
    throw new Error(
      `${name} is truncated: its header (field dim) needs ${needed} bytes, the file has ` +
        `${buf.byteLength}`,
    );
  }
  const typed = type[1](nifti.readImage(h, buf));
  const slope = h.scl_slope || 1, inter = h.scl_inter || 0;
  const data = Float32Array.from(typed, (v) => v * slope + inter);
  return { dims: [d[1], d[2], d[3], nt], affine: h.affine, data };
}

type View = "axial" | "coronal" | "sagittal";
const VIEWS: View[] = ["axial", "coronal", "sagittal"];

/** In-plane axes (column, row) of a view and its fixed axis. */
function axes(v: View): [number, number, number] {
  return v === "axial" ? [0, 1, 2] : v === "coronal" ? [0, 2, 1] : [1, 2, 0];
}

function hot(t: number): [number, number, number] {
  return [255, Math.round(60 + 195 * t), Math.round(40 * (1 - t))];
}
function cold(t: number): [number, number, number] {
  return [Math.round(40 * (1 - t)), Math.round(90 + 165 * t), 255];
}

export default function BrainViewer(props: {
  map: string;
  volume?: number;
  volumes?: string[];
  anatomy?: string;
  atlas?: string;
  atlasNames?: Record<string, string>;
  threshold?: number;
  title?: string;
  scale?: number;
}) {
  const maps = useSignal<{ map: Volume; anatomy?: Volume; atlas?: Volume } | null>(null);
  const error = useSignal("");
  const cursor = useSignal<[number, number, number]>([0, 0, 0]);
  const threshold = useSignal(props.threshold ?? 2);
  const volume = useSignal(props.volume ?? 0);
  const hover = useSignal("");
  const canvases = useRef<Record<View, HTMLCanvasElement | null>>({
    axial: null,
    coronal: null,
    sagittal: null,
  });
  const bar = useRef<HTMLCanvasElement | null>(null);
  const scale = props.scale ?? 5;

  useEffect(() => {
    Promise.all([
      loadNifti(props.map),
      props.anatomy ? loadNifti(props.anatomy) : Promise.resolve(undefined),
      props.atlas ? loadNifti(props.atlas) : Promise.resolve(undefined),
    ]).then(([map, anatomy, atlas]) => {
      cursor.value = [map.dims[0] >> 1, map.dims[1] >> 1, map.dims[2] >> 1];
      maps.value = { map, anatomy, atlas };
    }).catch((e) => (error.value = String(e.message ?? e)));
  }, [props.map]);

  const m = maps.value;
  const peak = (() => {
    if (!m) return 1;
    const n = m.map.dims[0] * m.map.dims[1] * m.map.dims[2], off = volume.value * n;
    // A robust peak: one voxel with a near-zero SD across subjects must not wash the scale out.
    const mags: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = Math.abs(m.map.data[off + i]);
      if (a > 0 && Number.isFinite(a)) mags.push(a);
    }
    mags.sort((a, b) => a - b);
    return mags[Math.floor(mags.length * 0.995)] || 1;
  })();
  const anatomyMax = (() => {
    if (!m?.anatomy) return 1;
    const s = Float32Array.from(m.anatomy.data).sort();
    return s[Math.floor(s.length * 0.99)] || 1;
  })();

  useEffect(() => {
    if (!m) return;
    const [nx, ny, nz] = m.map.dims, n = nx * ny * nz, off = volume.value * n;
    const at = (v: Volume | undefined, i: number, j: number, k: number) =>
      v ? v.data[i + nx * (j + ny * k)] : 0;
    for (const view of VIEWS) {
      const c = canvases.current[view];
      if (!c) continue;
      const [a, b, f] = axes(view), dims = [nx, ny, nz];
      const W = dims[a], H = dims[b];
      c.width = W * scale;
      c.height = H * scale;
      const ctx = c.getContext("2d")!;
      const img = ctx.createImageData(W, H);
      const idx = [0, 0, 0];
      idx[f] = cursor.value[f];
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          idx[a] = x;
          idx[b] = H - 1 - y;
          const [i, j, k] = idx;
          const g = Math.min(255, Math.round((at(m.anatomy, i, j, k) / anatomyMax) * 200));
          let rgb: [number, number, number] = [g, g, g];
          const v = m.map.data[off + i + nx * (j + ny * k)];
          if (v > threshold.value) {
            rgb = hot(Math.min(1, (v - threshold.value) / (peak - threshold.value || 1)));
          } else if (v < -threshold.value) {
            rgb = cold(Math.min(1, (-v - threshold.value) / (peak - threshold.value || 1)));
          }
          if (m.atlas) {
            const l = at(m.atlas, i, j, k);
            const nb = (dx: number, dy: number) => {
              const q = [...idx];
              q[a] = Math.max(0, Math.min(W - 1, x + dx));
              q[b] = Math.max(0, Math.min(H - 1, H - 1 - (y + dy)));
              return at(m.atlas, q[0], q[1], q[2]);
            };
            if (l > 0 && (nb(1, 0) !== l || nb(0, 1) !== l || nb(-1, 0) !== l || nb(0, -1) !== l)) {
              rgb = [
                Math.round(rgb[0] * 0.4 + 150),
                Math.round(rgb[1] * 0.4 + 150),
                Math.round(rgb[2] * 0.4 + 150),
              ];
            }
          }
          const p = 4 * (y * W + x);
          img.data[p] = rgb[0];
          img.data[p + 1] = rgb[1];
          img.data[p + 2] = rgb[2];
          img.data[p + 3] = 255;
        }
      }
      const tmp = new OffscreenCanvas(W, H);
      tmp.getContext("2d")!.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(tmp, 0, 0, W * scale, H * scale);
      ctx.strokeStyle = "#3ddc84";
      ctx.lineWidth = 1;
      const cx = (cursor.value[a] + 0.5) * scale, cy = (H - 1 - cursor.value[b] + 0.5) * scale;
      ctx.beginPath();
      ctx.moveTo(cx, 0);
      ctx.lineTo(cx, H * scale);
      ctx.moveTo(0, cy);
      ctx.lineTo(W * scale, cy);
      ctx.stroke();
    }
    const cb = bar.current;
    if (cb) {
      const ctx = cb.getContext("2d")!;
      for (let x = 0; x < cb.width; x++) {
        const t = x / (cb.width - 1) * 2 - 1;
        const [r, g, bl] = t > 0 ? hot(t) : cold(-t);
        ctx.fillStyle = `rgb(${r},${g},${bl})`;
        ctx.fillRect(x, 0, 1, cb.height);
      }
    }
  }, [m, cursor.value, threshold.value, volume.value]);

  const voxelAt = (view: View, e: MouseEvent): [number, number, number] | null => {
    if (!m) return null;
    const [a, b] = axes(view), c = e.currentTarget as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    const dims = m.map.dims, H = dims[b];
    const x = Math.floor(((e.clientX - r.left) / r.width) * dims[a]);
    const y = Math.floor(((e.clientY - r.top) / r.height) * H);
    const idx: [number, number, number] = [...cursor.value];
    idx[a] = Math.max(0, Math.min(dims[a] - 1, x));
    idx[b] = Math.max(0, Math.min(H - 1, H - 1 - y));
    return idx;
  };
  const describe = (idx: [number, number, number]) => {
    if (!m) return "";
    const [nx, ny, nz] = m.map.dims, [i, j, k] = idx;
    const v = m.map.data[volume.value * nx * ny * nz + i + nx * (j + ny * k)];
    const mm = [0, 1, 2].map((r) =>
      m.map.affine[r][0] * i + m.map.affine[r][1] * j + m.map.affine[r][2] * k + m.map.affine[r][3]
    );
    const label = m.atlas ? m.atlas.data[i + nx * (j + ny * k)] : 0;
    const name = label > 0
      ? props.atlasNames?.[String(label)] ?? `label ${label}`
      : "outside the networks";
    return `voxel (${i}, ${j}, ${k}) · MNI (${mm.map((x) => x.toFixed(0)).join(", ")}) mm · value ${
      Number.isFinite(v) ? v.toFixed(3) : "none"
    } · ${name}`;
  };

  return (
    <div class="viewer" data-testid="brain-viewer">
      {props.title && <h2>{props.title}</h2>}
      {error.value && <p class="error">Could not load the map: {error.value}</p>}
      <div style="display:flex;gap:8px;flex-wrap:wrap;align-items:flex-start">
        {VIEWS.map((view) => (
          <figure style="margin:0">
            <canvas
              data-view={view}
              ref={(el) => {
                canvases.current[view] = el;
              }}
              width={200}
              height={200}
              onClick={(e) => {
                const idx = voxelAt(view, e);
                if (idx) cursor.value = idx;
              }}
              onMouseMove={(e) => {
                const idx = voxelAt(view, e);
                if (idx) hover.value = describe(idx);
              }}
            />
            <figcaption>
              {view}{" "}
              <input
                type="range"
                data-slider={view}
                min={0}
                max={m ? m.map.dims[axes(view)[2]] - 1 : 0}
                value={cursor.value[axes(view)[2]]}
                onInput={(e) => {
                  const idx: [number, number, number] = [...cursor.value];
                  idx[axes(view)[2]] = Number((e.target as HTMLInputElement).value);
                  cursor.value = idx;
                }}
              />
            </figcaption>
          </figure>
        ))}
      </div>
      <p>
        threshold |value| &gt;{" "}
        <input
          type="range"
          data-testid="threshold"
          min={0}
          max={Math.ceil(peak)}
          step={0.1}
          value={threshold.value}
          onInput={(e) => (threshold.value = Number((e.target as HTMLInputElement).value))}
        />{" "}
        {threshold.value.toFixed(1)}
        {props.volumes && props.volumes.length > 1 && (
          <>
            {" · map "}
            <select
              data-testid="volume"
              value={volume.value}
              onChange={(e) => (volume.value = Number((e.target as HTMLSelectElement).value))}
            >
              {props.volumes.map((v, i) => <option key={v} value={i}>{v}</option>)}
            </select>
          </>
        )}
      </p>
      <p>
        <span>−{peak.toFixed(1)}</span>{" "}
        <canvas ref={bar} width={240} height={12} data-testid="colour-bar" />{" "}
        <span>+{peak.toFixed(1)}</span>
      </p>
      <p data-testid="cursor-info" class="muted">
        {hover.value || (m ? describe(cursor.value) : "loading…")}
      </p>
    </div>
  );
}
