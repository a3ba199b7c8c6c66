"""Compiled (numba) inner loops of the batched test battery (:mod:`eventstudy.inference.batched`).

Two jobs: the rank tests' sums, and one pass over each pair's estimation residuals
(:func:`centre_rows`, for the Kolari-Pynnonen correlation and the generalized sign test).

The rank tests (``corrado``, ``grank``) need, for every (cell, estimation day), the sum over
the cell's securities of ``U_it = a_i * rank_it - 1/2`` where ``rank_it`` is the average rank
of estimation SAR ``e_it`` once the window's values are inserted into security i's row. With
the row ranked once (:func:`row_ranks`), inserting a value ``v`` moves ``e_it`` up by
``[e_it > v] + [e_it == v] / 2``, which is ``([r_it > c_lt] + [r_it > c_le]) / 2`` with
``r_it`` the 1-based position of the first value equal to ``e_it`` in the sorted row and
``c_lt = #{e < v}``, ``c_le = #{e <= v}`` (two binary searches). So ``2 rank_it`` is the
small integer ``R2_it + [r_it > c_lt] + [r_it > c_le]`` with ``R2_it`` twice the row's own
average rank. These loops fuse the comparisons and the sums over a cell's members, reading
two small-int arrays (4 bytes per (pair, day)) where numpy needed ``(pairs, days)`` float
temporaries. Every function releases the GIL (``nogil``) so the
chunks of :func:`eventstudy.inference.batched.run_tests_batched` run on all cores.

Exactness: ranks and increments are the same integers and half-integers as
``scipy.stats.rankdata`` gives; only the order of floating-point summation differs from the
per-cell reference :func:`eventstudy.inference.reference.corrado` / :func:`~eventstudy.inference.reference.grank`
(``tests/test_cellstats.py`` checks 1e-10, with ties and missing values).

Compiled on first use and cached on disk (numba ``cache=True``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["centre_rows", "row_ranks", "corrado_rank_sums", "grank_rank_sums", "rank_dispersion",
           "day_mean_dispersion"]


@njit(nogil=True, cache=True)
def _centre_rows(ea, x0, cnt, npos, sxx, s1):          # pragma: no cover - compiled
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


def centre_rows(ea: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over residual rows ``ea (P, T)`` (non-finite: missing).

    Returns ``cnt`` finite values per row, ``npos`` values > 0, ``x0 (P, T)`` the row centred on its
    finite mean (0 where missing), ``sxx = sum_t x0^2`` and ``s1 = sum_t x0`` (0 up to rounding).
    """
    ea = np.ascontiguousarray(ea, dtype=float)
    P, T = ea.shape
    x0 = np.empty((P, T))
    cnt = np.empty(P, dtype=np.int64)
    npos = np.empty(P, dtype=np.int64)
    sxx = np.empty(P)
    s1 = np.empty(P)
    if P:
        _centre_rows(ea, x0, cnt, npos, sxx, s1)
    return cnt, npos, x0, sxx, s1


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
def _fill_ranks(xs, order, T_i, srt, rmin, r2, extra, c_lt, c_le):   # pragma: no cover - compiled
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


def row_ranks(es: np.ndarray, insert: np.ndarray | None = None):
    """Each row of ``es (P, T)`` (non-finite values: missing) sorted and ranked.

    Returns ``srt (P, T)`` the sorted values with missing ones as +inf at the end; ``rmin (P, T)``
    small ints: the 1-based position in ``srt`` of the first value equal to ``x_it`` (0 where
    missing); ``R2 (P, T)`` small ints: twice the average rank of ``x_it`` among the row's finite
    values (``2 * scipy.stats.rankdata(method="average")``; 0 where missing); ``T_i (P,)`` finite
    counts. The sort is numpy's (SIMD) ``argsort``; ranks and ties come from one compiled pass per row.

    ``insert (P, E)``: values to count against each row while it is in cache; then also returns
    ``c_lt = #{x_i < insert_id}`` and ``c_le = #{x_i <= insert_id}``, both ``(P, E)`` (a NaN value counts 0).
    """
    es = np.asarray(es, dtype=float)
    P, T = es.shape
    fin = np.isfinite(es)
    T_i = fin.sum(axis=1)
    xs = es if bool((T_i == T).all()) else np.where(fin, es, np.inf)
    xs = np.ascontiguousarray(xs)
    order = np.argsort(xs, axis=1)
    itype = np.int16 if 2 * T + 2 < 2 ** 15 else np.int32
    srt = np.empty((P, T))
    rmin = np.empty((P, T), dtype=itype)
    R2 = np.empty((P, T), dtype=itype)
    ins = np.empty((P, 0)) if insert is None else np.ascontiguousarray(insert, dtype=float)
    if ins.shape[0] != P:
        raise ValueError(f"insert must have one row per row of es ({P}), not {ins.shape[0]}")
    c_lt = np.zeros(ins.shape, dtype=np.int64)
    c_le = np.zeros(ins.shape, dtype=np.int64)
    if P and T:
        _fill_ranks(xs, order, T_i, srt, rmin, R2, ins, c_lt, c_le)
    if insert is None:
        return srt, rmin, R2, T_i
    return srt, rmin, R2, T_i, c_lt, c_le


@njit(nogil=True, cache=True)
def _corrado_sums(rmin, R2, c_lt, c_le, wcols, n_wcols, a, mp, mw, mc, S):   # pragma: no cover - compiled
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


def corrado_rank_sums(rmin: np.ndarray, R2: np.ndarray, c_lt: np.ndarray, c_le: np.ndarray,
                      windows: list[np.ndarray], a: np.ndarray, member_pair: np.ndarray,
                      member_window: np.ndarray, member_cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Corrado's estimation-day rank sums ``S[w, c, t] = sum_{i in c, e_it finite} a_wi K_wit``, (W, C, T).

    ``K_wit`` is the average rank of estimation SAR ``e_it`` among security i's estimation SARs and
    its window SARs ``v_id``, ``d`` in ``windows[w]`` (columns of the event grid):
    ``2 K_wit = R2_it + sum_d ([r_it > c_lt_id] + [r_it > c_le_id])`` with ``c_lt/c_le (P, D)`` from
    :func:`row_ranks` (``insert``) (a missing ``v_id`` is +inf: it moves nothing). ``a (W, P)``: ``1 / (n_wi + 1)``,
    ``n_wi`` security i's ranked values in window w. Membership j puts pair ``member_pair[j]`` in cell
    ``member_cell[j]`` of window ``member_window[j]``; sorted by (pair, window), each pair's rows are
    read once and its rank row in a window is shared by its cells.
    """
    W = len(windows)
    S = np.zeros((W, int(n_cells), rmin.shape[1]))
    mp = np.ascontiguousarray(member_pair, dtype=np.int64)
    if mp.size:
        wcols = np.zeros((W, max(len(x) for x in windows)), dtype=np.int64)
        for w, x in enumerate(windows):
            wcols[w, :len(x)] = x
        n_wcols = np.array([len(x) for x in windows], dtype=np.int64)
        _corrado_sums(rmin, R2, np.ascontiguousarray(c_lt), np.ascontiguousarray(c_le), wcols, n_wcols,
                      np.ascontiguousarray(a, dtype=float), mp,
                      np.ascontiguousarray(member_window, dtype=np.int64),
                      np.ascontiguousarray(member_cell, dtype=np.int64), S)
    return S


@njit(nogil=True, cache=True)
def _grank_sums(srt, rmin, R2, a, mp, mc, g, S, c_lt, c_le):   # pragma: no cover - compiled
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


def grank_rank_sums(srt: np.ndarray, rmin: np.ndarray, R2: np.ndarray, a: np.ndarray, member_pair: np.ndarray,
                    member_cell: np.ndarray, g: np.ndarray, n_cells: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GRANK's estimation-day rank sums ``S[c, t] = sum_{i in c, e_it finite} a_i K_it`` (C, T) when
    membership j inserts its own value ``g[j]`` (the cell's ``GSAR_i0``) into its pair's row, and
    per membership ``c_lt = #{e < g}``, ``c_le = #{e <= g}`` (for day 0's own rank). ``a_i = 1 / (T_i + 2)``.
    """
    M = int(np.size(member_pair))
    S = np.zeros((int(n_cells), rmin.shape[1]))
    c_lt = np.zeros(M, dtype=np.int64)
    c_le = np.zeros(M, dtype=np.int64)
    if M and rmin.shape[1]:                            # no estimation day: nothing to rank against
        _grank_sums(srt, rmin, R2, np.ascontiguousarray(a, dtype=float),
                    np.ascontiguousarray(member_pair, dtype=np.int64),
                    np.ascontiguousarray(member_cell, dtype=np.int64),
                    np.ascontiguousarray(g, dtype=float), S, c_lt, c_le)
    return S, c_lt, c_le


@njit(nogil=True, cache=True)
def _rank_dispersion(S, n, n_const, q, D):             # pragma: no cover - compiled
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


def rank_dispersion(S: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row r of the rank sums ``S (R, T)`` (:func:`corrado_rank_sums`, :func:`grank_rank_sums`):
    ``q_r = sum_{t: n_rt > 0} n_rt Ubar_rt^2`` with ``Ubar_rt = (S_rt - n_rt / 2) / n_rt`` the day's mean
    ``U`` over its ``n_rt`` members, and ``D_r = #{t: n_rt > 0}``. ``n``: ``(R, T)`` members with a value
    per row and day, or ``(R,)`` when every member has every day. One pass, no ``(R, T)`` temporaries.
    """
    S = np.ascontiguousarray(S, dtype=float)
    R = S.shape[0]
    q = np.empty(R)
    D = np.empty(R, dtype=np.int64)
    _rank_dispersion(S, *_counts(n), q, D)
    return q, D


def _counts(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members per (row, day) for the compiled reductions: ``(n (R, T), empty)`` or, when the count is
    the same every day, ``(empty (0, 0), n (R,))``."""
    n = np.ascontiguousarray(n, dtype=float)
    return (np.empty((0, 0)), n) if n.ndim == 1 else (n, np.empty(0))


@njit(nogil=True, cache=True)
def _day_mean_dispersion(ssum, n, n_const, Md, sd, const):   # pragma: no cover - compiled
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


def day_mean_dispersion(ssum: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of day sums ``ssum (R, T)`` over ``n`` members (``(R, T)``, or ``(R,)`` when the same every
    day): the day means ``AAR_t = ssum_t / n_t`` over the ``M`` days with ``n_t > 0``; returns ``M``, their
    standard deviation (ddof 1; NaN when M < 2) and whether they are all equal (False when M = 0).
    One pass, no ``(R, T)`` temporaries (``t_time_series``)."""
    ssum = np.ascontiguousarray(ssum, dtype=float)
    R = ssum.shape[0]
    Md = np.empty(R, dtype=np.int64)
    sd = np.empty(R)
    const = np.empty(R, dtype=np.bool_)
    _day_mean_dispersion(ssum, *_counts(n), Md, sd, const)
    return Md, sd, const
