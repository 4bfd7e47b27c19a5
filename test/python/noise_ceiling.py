"""Reference for packages/core/noise_ceiling.ts, written from the definitions
with numpy alone (float64, one subject at a time with an explicit mean of
the others, no running sum).

Input (argv[1], JSON): S, T, V, data (S*T*V, subject-major, row-major),
keep (S*T of 0/1, or null).
Output (stdout, JSON): perSubject (S*V, NaN as null), isc (V), ceiling (V).
"""

import json
import sys

import numpy as np

with open(sys.argv[1]) as f:
    inp = json.load(f)
S, T, V = inp["S"], inp["T"], inp["V"]
y = np.asarray(inp["data"], dtype=np.float64).reshape(S, T, V)
keep = (
    np.ones((S, T), dtype=bool)
    if inp["keep"] is None
    else np.asarray(inp["keep"], dtype=bool).reshape(S, T)
)

per = np.full((S, V), np.nan)
for s in range(S):
    others = [o for o in range(S) if o != s]
    kept_by = keep[others]  # (S-1, T)
    n_others = kept_by.sum(axis=0)
    rows = keep[s] & (n_others > 0)
    if rows.sum() < 3:
        continue
    # Mean over the other subjects that kept each row.
    masked = np.where(kept_by[:, :, None], y[others], 0.0)
    mean_others = masked.sum(axis=0)[rows] / n_others[rows][:, None]
    mine = y[s][rows]
    for v in range(V):
        a, b = mine[:, v], mean_others[:, v]
        if a.std() == 0 or b.std() == 0:
            per[s, v] = 0.0
        else:
            per[s, v] = np.corrcoef(a, b)[0, 1]

z = np.arctanh(np.clip(per, -0.999999, 0.999999))
with np.errstate(invalid="ignore"):
    isc = np.tanh(np.nanmean(z, axis=0))


def ceiling(r):
    # Solve r = rho / sqrt(rho + (1 - rho)/(S - 1)) for rho numerically
    # (bisection on the monotone map), independently of the closed form.
    if np.isnan(r):
        return float("nan")
    if r <= 0:
        return 0.0
    lo, hi = 0.0, 1.0
    f = lambda rho: rho / np.sqrt(rho + (1 - rho) / (S - 1))
    if f(hi) <= r:
        return 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) < r:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt((lo + hi) / 2))


def clean(a):
    return [None if np.isnan(x) else float(x) for x in np.ravel(a)]


print(json.dumps({
    "perSubject": clean(per),
    "isc": clean(isc),
    "ceiling": [ceiling(r) for r in isc],
}))
