"""Peer implementations for brainorg's benchmarks: numpy and scikit-learn on
the very inputs brainorg used (raw float32 files written by bench/run.ts).

Usage: python3 peers.py info
       python3 peers.py gemm A.f32 B.f32 M K N repeats
       python3 peers.py ridge X.f32 Y.f32 T P V folds alphas_json which (sklearn, numpy, numpy64)
       python3 peers.py lasso X.f32 Y.f32 T P V folds n_alphas voxels
       python3 peers.py encode D.f32 X.f32 T K N alpha
       python3 peers.py dictionary X.f32 T N K alpha passes batch algorithm
       python3 peers.py null X.f32 Y.f32 AIDX.i32 T K S V folds alphas_json map_alpha shifts_json batch
Prints one JSON object: seconds (best of repeats) and results to compare,
with "blas": the BLAS library numpy had loaded and the core type it ran
(OPENBLAS_CORETYPE, or OpenBLAS's own detection). `info` describes this
Python (numpy, scikit-learn, the BLAS) for bench/run.ts to choose a Python
by; it succeeds even where numpy is missing.
"""
import ctypes
import json
import sys
import time

try:
    import numpy as np
except ImportError as err:  # `info` reports it; every other kind stops below
    np = None
    NUMPY_ERROR = str(err)


def blas_info():
    """The BLAS libraries this process loaded: threadpoolctl's report where it
    is importable, else OpenBLAS's own answers through ctypes."""
    try:
        import threadpoolctl
    except ImportError:
        return openblas_by_ctypes()
    return [
        {
            "library": i.get("filepath"),
            "api": i.get("internal_api"),
            "version": i.get("version"),
            "core": i.get("architecture"),
            "threads": i.get("num_threads"),
            "via": "threadpoolctl",
        }
        for i in threadpoolctl.threadpool_info()
        if i.get("user_api") == "blas"
    ]


def symbol_names(stem):
    """An OpenBLAS function's name as plain builds, numpy's scipy_openblas
    wheels and 64-bit-integer builds export it."""
    return [stem, f"scipy_{stem}64_", f"{stem}64_"]


def openblas_by_ctypes():
    """OpenBLAS libraries mapped into this process (Linux), asked for their
    core and configuration; numpy's wheels prefix the symbols (scipy_openblas)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.rsplit("/", 1)[-1].lower()})
    except OSError:
        return []
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue

        def call(names, restype):
            for name in names:
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.restype = restype
                    return fn()
            return None

        core = call(symbol_names("openblas_get_corename"), ctypes.c_char_p)
        config = call(symbol_names("openblas_get_config"), ctypes.c_char_p)
        threads = call(symbol_names("openblas_get_num_threads"), ctypes.c_int)
        version = None
        if config:
            words = config.decode().split()
            version = words[1] if len(words) > 1 and words[0] == "OpenBLAS" else None
        out.append({
            "library": path,
            "api": "openblas",
            "version": version,
            "core": core.decode() if core else None,
            "threads": threads,
            "config": config.decode() if config else None,
            "via": "ctypes",
        })
    return out


def info():
    """This Python: versions of numpy, scikit-learn, threadpoolctl, and the BLAS
    numpy loaded."""
    out = {
        "executable": sys.executable,
        "python": sys.version.split()[0],
        "numpy": None,
        "sklearn": None,
        "threadpoolctl": None,
        "missing": {},
        "numpyBlasBuild": None,
        "blas": [],
    }
    if np is None:
        out["missing"]["numpy"] = NUMPY_ERROR
        return out
    out["numpy"] = np.__version__
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["numpyBlasBuild"] = " ".join(str(blas.get(k, "")) for k in ("name", "version")).strip()
    except Exception:  # numpy < 1.26 prints its configuration and has no dicts
        pass
    for module, key in (("sklearn", "sklearn"), ("threadpoolctl", "threadpoolctl")):
        try:
            out[key] = __import__(module).__version__
        except Exception as err:  # ImportError, or a broken install that fails another way
            if module == "sklearn":
                out["missing"]["scikit-learn"] = f"{type(err).__name__}: {err}"
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS libraries load lazily in some builds
    out["blas"] = blas_info()
    return out


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
    if which == "numpy64":
        X, Y = X.astype(np.float64), Y.astype(np.float64)
    # Best of two, as brainorg's CPU rows: the first run pays for fresh pages.
    secs = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        best, W = numpy_ridge_cv(X, Y, alphas, folds)
        secs = min(secs, time.perf_counter() - t0)
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


def dictionary(x_path, t, n, k, alpha, passes, batch, algo, codes=False):
    """MiniBatchDictionaryLearning's fit; with `codes`, also every signal's
    code on the learned atoms by the fit's own objective (lasso_cd at the
    same α), timed apart: what brainorg's learnDictionary returns too."""
    from sklearn.decomposition import MiniBatchDictionaryLearning, sparse_encode

    X = load(x_path, (t, n))
    t0 = time.perf_counter()
    m = MiniBatchDictionaryLearning(n_components=k, alpha=alpha, batch_size=batch, max_iter=passes,
                                    fit_algorithm=algo, tol=0, max_no_improvement=None, random_state=0)
    m.fit(X.T)
    secs = time.perf_counter() - t0
    out = {"seconds": secs, "atoms": m.components_.T.flatten().tolist()}
    if codes:
        t1 = time.perf_counter()
        sparse_encode(X.T, m.components_, algorithm="lasso_cd", alpha=alpha, n_jobs=None)
        out["codesSeconds"] = time.perf_counter() - t1
    return out


def voxel_null(x_path, y_path, aidx_path, t, k, s_count, v, folds, alphas, map_alpha, shifts, batch):
    """brainorg's voxel null (packages/core/voxel_encoding.ts) written for
    numpy: the designs of a batch of circular shifts stacked into one BLAS
    product per fold and subject, the per-voxel ridge algebra as batched
    matmuls and array arithmetic in float32, p-values by exceedance counts.
    Every subject's α per voxel comes from brainorg's CV (AIDX), so both
    compute the same null; returns its p-values to compare."""
    X = load(x_path, (t, k)).astype(np.float64)
    Y = np.fromfile(y_path, dtype=np.float32).reshape(s_count, t, v)
    aidx = np.fromfile(aidx_path, dtype=np.int32).reshape(s_count, v)
    alphas = np.asarray(alphas, dtype=np.float32)
    bounds, start = [], 0
    for f in range(folds):  # contiguous folds, sizes differing by at most one (as brainorg's)
        size = t // folds + (1 if f < t % folds else 0)
        bounds.append((start, start + size))
        start += size
    t0 = time.perf_counter()

    def design(xs):
        """Per fold: training mean, eigenvectors and eigenvalues of the
        training Gram, held-out mean and Gram; for all samples: mean and eigen."""
        out = []
        for lo, hi in bounds:
            train = np.concatenate([xs[:, :lo], xs[:, hi:]], axis=1)
            mu = train.mean(axis=1)
            c = train - mu[:, None, :]
            s2, e = np.linalg.eigh(np.einsum("bti,btj->bij", c, c))
            held = xs[:, lo:hi]
            xb = held.mean(axis=1)
            h = held - xb[:, None, :]
            out.append((mu, e, np.maximum(s2, 0), xb, np.einsum("bti,btj->bij", h, h)))
        mu = xs.mean(axis=1)
        c = xs - mu[:, None, :]
        s2, e = np.linalg.eigh(np.einsum("bti,btj->bij", c, c))
        return out, (mu, e, np.maximum(s2, 0))

    def fold_sums(y):
        """Per fold: Σ y and Σ (y − ȳ_f)², each (V)."""
        sums, sss = [], []
        for lo, hi in bounds:
            sums.append(y[lo:hi].sum(axis=0))
            yc = y[lo:hi] - y[lo:hi].mean(axis=0)
            sss.append((yc * yc).sum(axis=0))
        return sums, sss

    def refit(xs, y, a, sums):
        """Held-out r (B × V) and weights (B × K × V) of designs xs (B × T × K)."""
        B = xs.shape[0]
        ysum, yss_all = sums
        fold_designs, (mu, e, s2) = design(xs)
        f32 = lambda m: m.astype(np.float32)
        P = []
        for lo, hi in bounds:
            A = xs[:, lo:hi].transpose(0, 2, 1).reshape(B * k, hi - lo).astype(np.float32)
            P.append((A @ y[lo:hi]).reshape(B, k, v))
        tot = sum(P)
        ytot = sum(ysum)
        z = np.zeros((B, v), dtype=np.float32)
        for pf, sf, yss, (mu_f, e_f, s2_f, xb_f, c_f) in zip(P, ysum, yss_all, fold_designs):
            xty = tot - pf - f32(mu_f)[:, :, None] * (ytot - sf)[None, None, :]
            g = pf - f32(xb_f)[:, :, None] * sf[None, None, :]
            u = f32(e_f).transpose(0, 2, 1) @ xty
            u /= f32(s2_f)[:, :, None] + alphas[a][None, None, :]
            w = f32(e_f) @ u
            cov = (w * g).sum(axis=1)
            vp = (w * (f32(c_f) @ w)).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where((vp > 0) & (yss > 0), cov / np.sqrt(vp * yss), 0)
            z += np.arctanh(np.clip(r, -0.999999, 0.999999))
        xty = tot - f32(mu)[:, :, None] * ytot[None, None, :]
        u = (f32(e).transpose(0, 2, 1) @ xty) / (f32(s2)[:, :, None] + np.float32(map_alpha))
        return np.tanh(z / folds), f32(e) @ u

    sums = [fold_sums(Y[s]) for s in range(s_count)]
    observed = []
    for s in range(s_count):
        r, _ = refit(X[None], Y[s], aidx[s], sums[s])
        observed.append(r[0])
    observed.append(np.mean(observed, axis=0))
    counts = np.zeros((s_count + 1, v), dtype=np.int64)
    wsum = np.zeros((s_count, k, v))
    wsq = np.zeros((s_count, k, v))
    for b0 in range(0, len(shifts), batch):
        xs = np.stack([np.roll(X, sh, axis=0) for sh in shifts[b0:b0 + batch]])
        rsum = np.zeros((xs.shape[0], v))
        gsum = np.zeros((xs.shape[0], k, v))
        gsq = np.zeros((xs.shape[0], k, v))
        for s in range(s_count):
            r, w = refit(xs, Y[s], aidx[s], sums[s])
            counts[s] += (r >= observed[s]).sum(axis=0)
            rsum += r
            wsum[s] += w.sum(axis=0)
            wsq[s] += (w.astype(np.float64) ** 2).sum(axis=0)
            gsum += w
            gsq += w.astype(np.float64) ** 2
        counts[s_count] += (rsum / s_count >= observed[s_count]).sum(axis=0)
        m = gsum / s_count
        _group_t = m / np.sqrt(np.maximum(gsq - s_count * m * m, 0) / (s_count - 1) / s_count)
    secs = time.perf_counter() - t0
    p = (1 + counts) / (1 + len(shifts))
    return {"seconds": secs, "p": p.flatten().tolist()}


def main(kind):
    if kind == "info":
        return info()
    if np is None:
        sys.exit(f"peers.py: numpy does not import in {sys.executable}: {NUMPY_ERROR}")
    if kind == "gemm":
        _, _, a, b, m, k, n, r = sys.argv
        return gemm(a, b, int(m), int(k), int(n), int(r))
    if kind == "lasso":
        _, _, x, y, t, p, v, folds, n_alphas, voxels = sys.argv
        return lasso_cv(x, y, int(t), int(p), int(v), int(folds), int(n_alphas), int(voxels))
    if kind == "encode":
        _, _, d, x, t, k, n, alpha = sys.argv
        return encode(d, x, int(t), int(k), int(n), float(alpha))
    if kind == "dictionary":
        _, _, x, t, n, k, alpha, passes, batch, algo, *codes = sys.argv
        return dictionary(x, int(t), int(n), int(k), float(alpha), int(passes), int(batch), algo,
                          codes == ["codes"])
    if kind == "ridge":
        _, _, x, y, t, p, v, folds, alphas, which = sys.argv
        return ridge(x, y, int(t), int(p), int(v), int(folds), json.loads(alphas), which)
    if kind == "null":
        _, _, x, y, a, t, k, s, v, folds, alphas, map_alpha, shifts, batch = sys.argv
        return voxel_null(x, y, a, int(t), int(k), int(s), int(v), int(folds), json.loads(alphas),
                          float(map_alpha), json.loads(shifts), int(batch))
    sys.exit(f"peers.py: unknown kind {kind!r} (info, gemm, ridge, lasso, encode, dictionary, null)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    result = main(sys.argv[1])
    if sys.argv[1] != "info":
        result["blas"] = blas_info()
    print(json.dumps(result))
