"""Reference for cleanSeries with confounds and a sample mask (packages/core/clean_test.ts).

Per run: design = [SPM's DCT-II basis with the constant | confounds z-scored over the
kept rows, constant ones dropped], fit by np.linalg.lstsq on the kept rows (rcond drops
directions that float32 rounding alone separates), residual for every row, z-scored with
the kept rows' mean and population SD (0 for a column constant by brainorg's rule),
censored rows 0. Input: a JSON file {T, V, C, tr, cutoff, runs, data, confounds, keep,
rcond}; output: the cleaned (T × V) row-major list, each run's design rank, and per run
and voxel the kept rows' RMS over the residual's SD (float32 resolves a residual only to
≈ 1e-7 of the level, so this ratio sets the attainable agreement).
"""

import json
import sys

import numpy as np

args = json.load(open(sys.argv[1]))
T, V, C = args["T"], args["V"], args["C"]
Y = np.asarray(args["data"], dtype=np.float32).astype(np.float64).reshape(T, V)
X = np.asarray(args["confounds"], dtype=np.float32).astype(np.float64).reshape(T, C)
keep = np.asarray(args["keep"], dtype=bool)
out = np.zeros((T, V))
ranks = []
level_over_sd = []
start = 0
for n in args["runs"]:
    rows = slice(start, start + n)
    y, x, k = Y[rows], X[rows], keep[rows]
    m = int(np.floor(2 * n * args["tr"] / args["cutoff"])) + 1
    t = np.arange(n)
    dct = np.stack(
        [np.full(n, np.sqrt(1 / n))]
        + [np.sqrt(2 / n) * np.cos(np.pi * j * (t + 0.5) / n) for j in range(1, m)],
        axis=1,
    )
    cols = [dct]
    for c in range(C):
        v = x[:, c]
        sd, rms = v[k].std(), np.sqrt(np.mean(v[k] ** 2))
        if sd > 1e-5 * rms:
            cols.append(((v - v[k].mean()) / sd)[:, None])
    design = np.hstack(cols)
    beta, _, rank, _ = np.linalg.lstsq(design[k], y[k], rcond=args["rcond"])
    ranks.append(int(rank))
    r = y - design @ beta
    mean, sd = r[k].mean(axis=0), r[k].std(axis=0)
    rms = np.sqrt(np.mean(y[k] ** 2, axis=0))
    const = sd <= 1e-5 * rms
    level_over_sd.append(np.where(const, 0.0, rms / np.where(const, 1.0, sd)).tolist())
    z = np.where(const, 0.0, (r - mean) / np.where(const, 1.0, sd))
    z[~k] = 0
    out[rows] = z
    start += n
print(
    json.dumps(
        {"cleaned": out.ravel().tolist(), "ranks": ranks, "levelOverSd": level_over_sd}
    )
)
