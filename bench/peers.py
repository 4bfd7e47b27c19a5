"""Peer implementations for brainorg's benchmarks: numpy and scikit-learn on
the very inputs brainorg used (raw float32 files written by bench/run.ts).

Usage: python3 peers.py gemm A.f32 B.f32 M K N repeats
       python3 peers.py ridge X.f32 Y.f32 T P V folds alphas_json which
       python3 peers.py lasso X.f32 Y.f32 T P V folds n_alphas voxels
       python3 peers.py encode D.f32 X.f32 T K N alpha
       python3 peers.py dictionary X.f32 T N K alpha passes batch algorithm
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


def lasso_cv(x_path, y_path, t, p, v, folds, n_alphas, voxels):
    """scikit-learn LassoCV per voxel, on the first `voxels` targets (to extrapolate)."""
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import KFold

    X = load(x_path, (t, p)).astype(np.float64)
    Y = load(y_path, (t, v))
    t0 = time.perf_counter()
    alphas = []
    for c in range(voxels):
        m = LassoCV(cv=KFold(folds), n_alphas=n_alphas).fit(X, Y[:, c].astype(np.float64))
        alphas.append(float(m.alpha_))
    secs = time.perf_counter() - t0
    return {"seconds": secs, "per_voxel": secs / voxels, "alphas": alphas}


def encode(d_path, x_path, t, k, n, alpha):
    from sklearn.decomposition import sparse_encode

    D = load(d_path, (t, k))
    X = load(x_path, (t, n))
    t0 = time.perf_counter()
    C = sparse_encode(X.T, D.T, algorithm="lasso_cd", alpha=alpha)
    secs = time.perf_counter() - t0
    obj = 0.5 * ((X.T - C @ D.T) ** 2).sum() + alpha * np.abs(C).sum()
    return {"seconds": secs, "objective": float(obj / n), "density": float((C != 0).mean())}


def dictionary(x_path, t, n, k, alpha, passes, batch, algo):
    from sklearn.decomposition import MiniBatchDictionaryLearning

    X = load(x_path, (t, n))
    t0 = time.perf_counter()
    m = MiniBatchDictionaryLearning(n_components=k, alpha=alpha, batch_size=batch, max_iter=passes,
                                    fit_algorithm=algo, tol=0, max_no_improvement=None, random_state=0)
    m.fit(X.T)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "atoms": m.components_.T.flatten().tolist()}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "gemm":
        _, _, a, b, m, k, n, r = sys.argv
        print(json.dumps(gemm(a, b, int(m), int(k), int(n), int(r))))
    elif kind == "lasso":
        _, _, x, y, t, p, v, folds, n_alphas, voxels = sys.argv
        print(json.dumps(lasso_cv(x, y, int(t), int(p), int(v), int(folds), int(n_alphas), int(voxels))))
    elif kind == "encode":
        _, _, d, x, t, k, n, alpha = sys.argv
        print(json.dumps(encode(d, x, int(t), int(k), int(n), float(alpha))))
    elif kind == "dictionary":
        _, _, x, t, n, k, alpha, passes, batch, algo = sys.argv
        print(json.dumps(dictionary(x, int(t), int(n), int(k), float(alpha), int(passes), int(batch), algo)))
    else:
        _, _, x, y, t, p, v, folds, alphas, which = sys.argv
        print(json.dumps(ridge(x, y, int(t), int(p), int(v), int(folds), json.loads(alphas), which)))
