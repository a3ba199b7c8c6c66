"""The compiled (numba) loops behind :mod:`eventstudy.inference.kernels`: each fills its output arrays in
place, one pass, releasing the GIL (``nogil``) so the engine's chunks run on all cores. Their numpy
twins, :mod:`eventstudy.inference.kernels_numpy`, give bit-identical results (``tests/inference/test_kernels.py``);
the wrappers in :mod:`eventstudy.inference.kernels` document the arrays and choose between the two.

Importing this module loads numba (about 0.15 s) and the first call of each loop loads it from numba's
disk cache (``cache=True``; about 0.3 s in all, about 2 s the very first time, when it is compiled).
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["centre_rows_into", "fill_ranks", "corrado_sums_into", "grank_sums_into", "rank_dispersion_into",
           "day_mean_dispersion_into"]


@njit(nogil=True, cache=True)
def centre_rows_into(ea, x0, cnt, npos, sxx, s1):          # pragma: no cover - compiled
    P, T = ea.shape
    for i in range(P):
        row = ea[i]
        n = 0
        pos = 0
        tot = 0.0
        for t in range(T):
            v = row[t]
            if v > 0:
                pos += 1
            if np.isfinite(v):
                n += 1
                tot += v
        mean = tot / max(n, 1)
        sq = 0.0
        s = 0.0
        out = x0[i]
        for t in range(T):
            v = row[t]
            d = v - mean if np.isfinite(v) else 0.0
            out[t] = d
            sq += d * d
            s += d
        cnt[i] = n
        npos[i] = pos
        sxx[i] = sq
        s1[i] = s

@njit(nogil=True, cache=True, inline="always")
def _lt_le(srt, p, v):                                  # pragma: no cover - compiled
    """``#{srt[p] < v}`` and ``#{srt[p] <= v}``: branch-free binary searches (NaN ``v``: 0 and 0)."""
    row = srt[p]
    lt = 0
    le = 0
    n = row.size
    while n > 1:
        half = n >> 1
        lt = lt + half if row[lt + half] < v else lt
        le = le + half if row[le + half] <= v else le
        n -= half
    return lt + (1 if row[lt] < v else 0), le + (1 if row[le] <= v else 0)

@njit(nogil=True, cache=True)
def fill_ranks(xs, order, T_i, srt, rmin, r2, extra, c_lt, c_le):   # pragma: no cover - compiled
    P, T = xs.shape
    for i in range(P):
        o = order[i]
        x = xs[i]
        s = srt[i]
        r = rmin[i]
        v = r2[i]
        for k in range(T):
            s[k] = x[o[k]]
        n = T_i[i]                                      # missing values (+inf) sit at the end of the row
        tied = False
        for k in range(1, n):
            if s[k] == s[k - 1]:
                tied = True
                break
        if not tied:
            for k in range(n):
                r[o[k]] = k + 1
                v[o[k]] = 2 * k + 2
        else:
            k = 0
            while k < n:
                e = k
                while e + 1 < n and s[e + 1] == s[k]:
                    e += 1
                for m in range(k, e + 1):
                    r[o[m]] = k + 1
                    v[o[m]] = k + e + 2                 # twice the average rank (k + e) / 2 + 1
                k = e + 1
        for k in range(n, T):
            r[o[k]] = 0
            v[o[k]] = 0
        for d in range(extra.shape[1]):                 # values to insert, counted while the row is in cache
            c_lt[i, d], c_le[i, d] = _lt_le(srt, i, extra[i, d])

@njit(nogil=True, cache=True)
def corrado_sums_into(rmin, R2, c_lt, c_le, wcols, n_wcols, a, mp, mw, mc, S):   # pragma: no cover - compiled
    T = rmin.shape[1]
    h = np.empty(T, dtype=np.int32)
    prev_p = -1
    prev_w = -1
    hp = 0.0
    for j in range(mp.size):
        p = mp[j]
        w = mw[j]
        if p != prev_p or w != prev_w:                  # the pair's rank row in this window, shared by its cells
            r = rmin[p]
            R = R2[p]
            for t in range(T):
                h[t] = R[t]
            for k in range(n_wcols[w]):
                d = wcols[w, k]
                lo = c_lt[p, d]
                le = c_le[p, d]
                for t in range(T):
                    h[t] += (r[t] > lo) + (r[t] > le)
            hp = 0.5 * a[w, p]
            prev_p = p
            prev_w = w
        s = S[w, mc[j]]
        for t in range(T):                              # missing: R2 = 0 and no increment, so 0
            s[t] += hp * h[t]

@njit(nogil=True, cache=True)
def grank_sums_into(srt, rmin, R2, a, mp, mc, g, S, c_lt, c_le):   # pragma: no cover - compiled
    T = rmin.shape[1]
    for j in range(mp.size):                            # the searches first: the loop below then streams
        c_lt[j], c_le[j] = _lt_le(srt, mp[j], g[j])
    for j in range(mp.size):
        p = mp[j]
        lo = c_lt[j]
        le = c_le[j]
        hp = 0.5 * a[p]
        r = rmin[p]
        R = R2[p]
        s = S[mc[j]]
        for t in range(T):                              # missing: R2 = 0 and no increment, so 0
            s[t] += hp * (R[t] + (r[t] > lo) + (r[t] > le))

@njit(nogil=True, cache=True)
def rank_dispersion_into(S, n, n_const, q, D):             # pragma: no cover - compiled
    R, T = S.shape
    per_day = n.shape[0] == R
    for i in range(R):
        s = S[i]
        tot = 0.0
        d = 0
        if per_day:
            nr = n[i]
            for t in range(T):
                k = nr[t]
                if k > 0:
                    x = s[t] - 0.5 * k
                    tot += x * x / k
                    d += 1
        else:
            k = n_const[i]
            if k > 0:
                for t in range(T):
                    x = s[t] - 0.5 * k
                    tot += x * x
                tot /= k
                d = T
        q[i] = tot
        D[i] = d

@njit(nogil=True, cache=True)
def day_mean_dispersion_into(ssum, n, n_const, Md, sd, const):   # pragma: no cover - compiled
    R, T = ssum.shape
    per_day = n.shape[0] == R
    for i in range(R):
        s = ssum[i]
        m = 0
        tot = 0.0
        hi = -np.inf
        lo = np.inf
        for t in range(T):
            k = n[i, t] if per_day else n_const[i]
            if k > 0:
                a = s[t] / k
                m += 1
                tot += a
                hi = max(hi, a)
                lo = min(lo, a)
        mean = tot / m if m > 0 else 0.0
        ss = 0.0
        for t in range(T):
            k = n[i, t] if per_day else n_const[i]
            if k > 0:
                d = s[t] / k - mean
                ss += d * d
        Md[i] = m
        sd[i] = np.sqrt(ss / (m - 1)) if m >= 2 else np.nan
        const[i] = hi == lo
