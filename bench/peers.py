"""Peer implementations for brainorg's benchmarks: numpy and scikit-learn on
the very inputs brainorg used (raw float32 files written by bench/run.ts).

Usage: python3 peers.py gemm A.f32 B.f32 M K N repeats
       python3 peers.py ridge X.f32 Y.f32 T P V folds alphas_json which
Prints one JSON object: seconds (best of repeats) and results to compare.
"""
import json
import sys
import time

import numpy as np


def load(path, shape):
    return np.fromfile(path, dtype=np.float32).reshape(shape)


def gemm(a_path, b_path, m, k, n, repeats):
    a = load(a_path, (m, k))
    b = load(b_path, (k, n))
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        c = a @ b
        best = min(best, time.perf_counter() - t)
    return {"seconds": best, "gflops": 2 * m * n * k / best / 1e9, "checksum": float(np.abs(c).sum())}


def numpy_ridge_cv(X, Y, alphas, folds):
    """Per-target alpha by contiguous k-fold CV, through one SVD per fold."""
    n = X.shape[0]
    bounds = np.linspace(0, n, folds + 1).astype(int)
    sizes = [n // folds + (1 if f < n % folds else 0) for f in range(folds)]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    score = np.zeros((len(alphas), Y.shape[1]))
    for f in range(folds):
        s, e = bounds[f], bounds[f + 1]
        tr = np.r_[0:s, e:n]
        xm, ym = X[tr].mean(0), Y[tr].mean(0)
        U, S, Vt = np.linalg.svd(X[tr] - xm, full_matrices=False)
        UtY = U.T @ (Y[tr] - ym)
        XvV = (X[s:e] - xm) @ Vt.T
        yv = Y[s:e] - ym
        sst = ((yv - yv.mean(0)) ** 2).sum(0)
        for i, a in enumerate(alphas):
            pred = XvV @ ((S / (S**2 + a))[:, None] * UtY)
            score[i] += 1 - ((yv - pred) ** 2).sum(0) / sst
    best = score.argmax(0)
    xm, ym = X.mean(0), Y.mean(0)
    U, S, Vt = np.linalg.svd(X - xm, full_matrices=False)
    UtY = U.T @ (Y - ym)
    d = S[:, None] / (S[:, None] ** 2 + np.asarray(alphas)[best][None, :])
    W = Vt.T @ (d * UtY)
    return best, W


def ridge(x_path, y_path, t, p, v, folds, alphas, which):
    X = load(x_path, (t, p))
    Y = load(y_path, (t, v))
    t0 = time.perf_counter()
    if which == "sklearn":
        from sklearn.linear_model import RidgeCV
        from sklearn.model_selection import KFold

        m = RidgeCV(alphas=alphas, cv=KFold(folds)).fit(X, Y)
        secs = time.perf_counter() - t0
        return {"seconds": secs, "alpha": float(m.alpha_), "note": "one alpha for all targets"}
    best, W = numpy_ridge_cv(X, Y, alphas, folds)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "alpha_index": best.astype(int).tolist(), "weights_sample": W[:, :: max(1, v // 500)].tolist()}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "gemm":
        _, _, a, b, m, k, n, r = sys.argv
        print(json.dumps(gemm(a, b, int(m), int(k), int(n), int(r))))
    else:
        _, _, x, y, t, p, v, folds, alphas, which = sys.argv
        print(json.dumps(ridge(x, y, int(t), int(p), int(v), int(folds), json.loads(alphas), which)))
