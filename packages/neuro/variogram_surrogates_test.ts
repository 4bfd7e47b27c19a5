import assert from "node:assert/strict";
import { havePython, runPython } from "../../test/python.ts";
import { rng } from "@brainorg/kernels";
import type { BrainMask } from "./masker.ts";
import {
  maskLattice,
  smoothOnLattice,
  variogram,
  VariogramSurrogates,
} from "./variogram_surrogates.ts";

/** A ball of radius `r` voxels in an n³ grid with the given affine (row-major 4 × 4). */
function ballMask(n: number, r: number, affine: number[]): BrainMask {
  const indices: number[] = [], c = (n - 1) / 2;
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        if ((i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2 <= r * r) indices.push(i + n * (j + n * k));
      }
    }
  }
  return {
    grid: { shape: [n, n, n], affine: Float64Array.from(affine) },
    indices: Uint32Array.from(indices),
    source: "test ball",
  };
}

const gauss = (rand: () => number) =>
  Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());

/** A smooth field (Gaussian smoothing by direct sums, not the generator's kernel) plus a nugget. */
function smoothField(mask: BrainMask, seed: number): Float64Array {
  const L = maskLattice(mask), V = L.voxels, rand = rng(seed);
  const white = Float64Array.from({ length: V }, () => gauss(rand));
  const out = new Float64Array(V), sigma = 1.5;
  for (let v = 0; v < V; v++) {
    let s = 0, w = 0;
    for (let u = 0; u < V; u++) {
      const d2 = (L.ijk[v * 3] - L.ijk[u * 3]) ** 2 + (L.ijk[v * 3 + 1] - L.ijk[u * 3 + 1]) ** 2 +
        (L.ijk[v * 3 + 2] - L.ijk[u * 3 + 2]) ** 2;
      if (d2 > 25) continue;
      const k = Math.exp(-d2 / (2 * sigma * sigma));
      s += k * white[u];
      w += k;
    }
    out[v] = (4 * s) / w + 0.4 * gauss(rand);
  }
  return out;
}

Deno.test(
  {
    name: "variogram equals numpy's over all pairs of a small anisotropic map",
    ignore: !havePython(["numpy"], "variogram against numpy"),
  },
  async () => {
    // 2 × 3 × 2.5 mm voxels with a shear, and a mask with holes.
    const affine = [2, 0.5, 0, -10, 0, 3, 0, 4, 0, 0, 2.5, 1, 0, 0, 0, 1];
    const rand = rng(7), n = 8;
    const indices = Uint32Array.from(
      Array.from({ length: n ** 3 }, (_, i) => i).filter(() => rand() < 0.6),
    );
    const mask: BrainMask = {
      grid: { shape: [n, n, n], affine: Float64Array.from(affine) },
      indices,
      source: "t",
    };
    const L = maskLattice(mask);
    const map = Float64Array.from({ length: L.voxels }, () => gauss(rand));
    const ours = variogram(map, L, { maxDistanceMm: 9, bins: 6 });
    const ref = await runPython<{ gamma: (number | null)[]; pairs: number[]; h: number[] }>(
      `
import json, sys, numpy as np
a = np.array(json.loads(sys.argv[1])).reshape(4, 4)
idx = np.array(json.loads(sys.argv[2])); x = np.array(json.loads(sys.argv[3])); n = ${n}
ijk = np.stack([idx % n, (idx // n) % n, idx // (n * n)], 1).astype(float)
xyz = ijk @ a[:3, :3].T
d = np.sqrt(((xyz[:, None, :] - xyz[None, :, :]) ** 2).sum(-1))
dmin = d[d > 0].min(); dmax = 9.0; nb = 6
h = dmin + np.arange(nb) * (dmax - dmin) / (nb - 1)
i, j = np.nonzero((d > 0) & (d <= dmax * (1 + 1e-9)))
b = np.minimum(nb - 1, np.round((d[i, j] - dmin) / ((dmax - dmin) / (nb - 1))).astype(int))
v = 0.5 * (x[i] - x[j]) ** 2
s = np.bincount(b, v, nb); c = np.bincount(b, None, nb)
g = [float(s[k] / c[k]) if c[k] else None for k in range(nb)]
print(json.dumps({"gamma": g, "pairs": c.tolist(), "h": h.tolist()}))
`,
      [
        JSON.stringify(affine),
        JSON.stringify(Array.from(indices)),
        JSON.stringify(Array.from(map)),
      ],
    );
    assert.deepEqual(Array.from(ours.pairs), ref.pairs);
    ref.h.forEach((h, b) => assert.ok(Math.abs(ours.distances[b] - h) < 1e-9, `bin ${b} centre`));
    ref.gamma.forEach((g, b) => {
      if (g === null) assert.ok(Number.isNaN(ours.gamma[b]));
      else {assert.ok(
          Math.abs(ours.gamma[b] - g) <= 1e-9 * Math.max(1, g),
          `bin ${b}: ${ours.gamma[b]} vs ${g}`,
        );}
    });
  },
);

Deno.test("a sampled variogram counts only pairs from the sampled voxels", () => {
  const mask = ballMask(9, 4, [3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]);
  const L = maskLattice(mask), map = smoothField(mask, 1);
  const all = variogram(map, L, { maxDistanceMm: 9, bins: 4 });
  const half = variogram(map, L, {
    maxDistanceMm: 9,
    bins: 4,
    sources: Uint32Array.from({ length: L.voxels >> 1 }, (_, i) => 2 * i),
  });
  for (let b = 0; b < 4; b++) assert.ok(half.pairs[b] < all.pairs[b] && half.pairs[b] > 0);
});

Deno.test("lattice smoothing is a normalized kernel mean: constants stay, noise shrinks", () => {
  const mask = ballMask(11, 5, [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
  const L = maskLattice(mask), rand = rng(3);
  const flat = smoothOnLattice(new Float64Array(L.voxels).fill(2.5), L, 3);
  for (const x of flat) assert.ok(Math.abs(x - 2.5) < 1e-9);
  const noise = Float64Array.from({ length: L.voxels }, () => gauss(rand));
  const sd = (a: Float64Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  assert.ok(sd(smoothOnLattice(noise, L, 3)) < 0.5 * sd(noise));
  // Against the kernel summed voxel by voxel, on an anisotropic grid.
  const aniso = ballMask(9, 4, [2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1]);
  const A = maskLattice(aniso), x = Float64Array.from({ length: A.voxels }, () => gauss(rand));
  const h = 2.2, got = smoothOnLattice(x, A, h);
  for (let v = 0; v < A.voxels; v += 7) {
    let s = 0, w = 0;
    for (let u = 0; u < A.voxels; u++) {
      const l1 = 2 * Math.abs(A.ijk[v * 3] - A.ijk[u * 3]) +
        3 * Math.abs(A.ijk[v * 3 + 1] - A.ijk[u * 3 + 1]) +
        2.5 * Math.abs(A.ijk[v * 3 + 2] - A.ijk[u * 3 + 2]);
      s += Math.exp(-l1 / h) * x[u];
      w += Math.exp(-l1 / h);
    }
    assert.ok(Math.abs(got[v] - s / w) < 1e-9, `voxel ${v}: ${got[v]} vs ${s / w}`);
  }
});

Deno.test("surrogates match the target's variogram, are not copies, and repeat with the seed", () => {
  const mask = ballMask(17, 8, [3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]);
  const L = maskLattice(mask), target = smoothField(mask, 11), V = L.voxels;
  const opts = { maxDistanceMm: 15, bins: 8, seed: 5 };
  const gen = new VariogramSurrogates(target, L, opts);
  const ref = variogram(target, L, opts);
  const N = 20, mean = new Float64Array(8), rawMean = new Float64Array(8);
  let meanR = 0, maxR = 0;
  const tm = target.reduce((a, b) => a + b, 0) / V;
  const corr = (s: Float64Array) => {
    const sm = s.reduce((a, b) => a + b, 0) / V;
    let sxy = 0, sxx = 0, syy = 0;
    for (let v = 0; v < V; v++) {
      sxy += (s[v] - sm) * (target[v] - tm);
      sxx += (s[v] - sm) ** 2;
      syy += (target[v] - tm) ** 2;
    }
    return sxy / Math.sqrt(sxx * syy);
  };
  const sorted = Float64Array.from(target).sort();
  for (let i = 0; i < N; i++) {
    const s = gen.next();
    // The target's values, placed anew.
    assert.deepEqual(Float64Array.from(s).sort(), sorted);
    variogram(s, L, opts).gamma.forEach((g, b) => (mean[b] += g / N));
    const r = corr(s);
    meanR += r / N;
    maxR = Math.max(maxR, Math.abs(r));
  }
  const raw = new VariogramSurrogates(target, L, { ...opts, resample: false });
  for (let i = 0; i < N; i++) {
    variogram(raw.next(), L, opts).gamma.forEach((g, b) => (rawMean[b] += g / N));
  }
  const relErr = (m: Float64Array) =>
    Math.max(...Array.from(m, (g, b) => Math.abs(g / ref.gamma[b] - 1)));
  assert.ok(relErr(rawMean) < 0.1, `raw surrogates: relative error ${relErr(rawMean)}`);
  assert.ok(relErr(mean) < 0.15, `resampled surrogates: relative error ${relErr(mean)}`);
  // A flat (white) surrogate would miss the short-range dip: the target's is well below its sill.
  assert.ok(ref.gamma[0] < 0.6 * ref.gamma[7]);
  assert.ok(Math.abs(meanR) < 0.05, `mean r with the target ${meanR}`);
  assert.ok(maxR < 0.35, `largest |r| with the target ${maxR}`);
  const again = new VariogramSurrogates(target, L, opts);
  assert.deepEqual(again.next(), new VariogramSurrogates(target, L, opts).next());
  assert.notDeepEqual(
    again.next(),
    new VariogramSurrogates(target, L, { ...opts, seed: 6 }).next(),
  );
});

Deno.test("bad inputs are InputErrors naming the field", () => {
  const mask = ballMask(5, 2, [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
  const L = maskLattice(mask);
  assert.throws(() => variogram(new Float64Array(3), L), /one value per mask voxel.*map/s);
  assert.throws(
    () => variogram(new Float64Array(L.voxels), L, { maxDistanceMm: 1 }),
    /maxDistanceMm/,
  );
  const bad = new Float64Array(L.voxels);
  bad[2] = NaN;
  assert.throws(() => new VariogramSurrogates(bad, L), /map\[2\]/);
  assert.throws(() => smoothOnLattice(new Float64Array(L.voxels), L, 0), /bandwidthMm/);
});
