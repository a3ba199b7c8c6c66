"""The numpy twins of the compiled loops (:mod:`eventstudy.inference.kernels_compiled`), bit for bit.

Same signatures, same outputs filled in place, same floating-point operations in the same order:
every running sum of the loops (``tot += v`` over a row's days, ``S[c] += v`` over a cell's
memberships) is a sequential ``np.cumsum`` along the row, or, over a cell's members, a ``sum`` along
the slow axis (numpy adds row after row there: its pairwise summation is only along the fast axis) or
an ``np.add.at`` in membership order, never a pairwise sum; a skipped term is an added ``+0.0``, and a final ``+ 0.0`` turns the
only possible difference (a sum of ``-0.0`` terms) into the loop's ``+0.0``. Counts and ranks are
integers either way. ``tests/inference/test_kernels.py`` checks ``array_equal`` against the compiled
loops on data with ties, missing values and empty rows.

Used when a process has not tested enough pairs for numba's start-up (about 0.45 s: its import and
the first call of each loop, from its disk cache) to pay; see :mod:`eventstudy.inference.kernels`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["centre_rows_into", "fill_ranks", "corrado_sums_into", "grank_sums_into", "rank_dispersion_into",
           "day_mean_dispersion_into"]


def _row_totals(x: np.ndarray) -> np.ndarray:
    """``0.0 + x[:, 0] + x[:, 1] + ...`` per row, summed left to right (what ``tot += x[t]`` gives)."""
    if x.shape[1] == 0:
        return np.zeros(x.shape[0])
    return np.cumsum(x, axis=1)[:, -1] + 0.0


def centre_rows_into(ea, x0, cnt, npos, sxx, s1) -> None:
    """As :func:`eventstudy.inference.kernels.centre_rows` describes; fills the outputs."""
    fin = np.isfinite(ea)
    cnt[:] = fin.sum(axis=1)
    npos[:] = (ea > 0).sum(axis=1)
    mean = _row_totals(np.where(fin, ea, 0.0)) / np.maximum(cnt, 1)
    np.subtract(ea, mean[:, None], out=x0, where=fin)
    x0[~fin] = 0.0
    sxx[:] = _row_totals(x0 * x0)
    s1[:] = _row_totals(x0)


def _tied_ranks(srt: np.ndarray, T_i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of sorted values (missing as +inf at the end): each position's 1-based first position among the
    equal values around it, and the sum of its first and last 0-based positions plus 2 (twice the average
    rank); 0 and 0 past the row's ``T_i`` finite values."""
    P, T = srt.shape
    k = np.broadcast_to(np.arange(T, dtype=np.int32), (P, T))
    new = np.ones((P, T), dtype=bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    start = np.maximum.accumulate(np.where(new, k, 0), axis=1)
    last = np.ones((P, T), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, k, T - 1)[:, ::-1], axis=1)[:, ::-1]
    inside = k < T_i[:, None]
    return np.where(inside, start + 1, 0), np.where(inside, start + end + 2, 0)


def _lt_le(srt: np.ndarray, p: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``#{srt[p_j] < v_j}`` and ``#{srt[p_j] <= v_j}`` for every j: the compiled loop's branch-free binary
    search, one step for every j at a time (a NaN ``v``: 0 and 0). ``srt`` rows sorted, at least one column."""
    T = srt.shape[1]
    flat = srt.ravel()
    base = np.asarray(p, dtype=np.int64) * T
    lt = np.zeros(base.size, dtype=np.int64)
    le = np.zeros(base.size, dtype=np.int64)
    n = T
    while n > 1:
        half = n >> 1
        lt += np.where(flat[base + lt + half] < v, half, 0)
        le += np.where(flat[base + le + half] <= v, half, 0)
        n -= half
    return lt + (flat[base + lt] < v), le + (flat[base + le] <= v)


def fill_ranks(xs, order, T_i, srt, rmin, r2, extra, c_lt, c_le) -> None:
    """As :func:`eventstudy.inference.kernels.row_ranks` describes; fills the outputs."""
    P, T = xs.shape
    srt[:] = np.take_along_axis(xs, order, axis=1)
    # untied rows (continuous returns): position k has rank k + 1; rows with ties (or missing values) in full
    k = np.arange(1, T + 1, dtype=rmin.dtype)
    tied = (srt[:, 1:] == srt[:, :-1]).any(axis=1) | (T_i < T) if T > 1 else T_i < T
    np.put_along_axis(rmin, order, np.broadcast_to(k, (P, T)), axis=1)
    np.put_along_axis(r2, order, np.broadcast_to(2 * k, (P, T)), axis=1)
    if tied.any():
        rows = np.flatnonzero(tied)
        lo, twice = _tied_ranks(srt[rows], T_i[rows])
        sub_r = np.empty((rows.size, T), dtype=rmin.dtype)
        sub_2 = np.empty((rows.size, T), dtype=r2.dtype)
        np.put_along_axis(sub_r, order[rows], lo.astype(rmin.dtype), axis=1)
        np.put_along_axis(sub_2, order[rows], twice.astype(r2.dtype), axis=1)
        rmin[rows], r2[rows] = sub_r, sub_2
    if extra.size:
        lt, le = _lt_le(srt, np.repeat(np.arange(P), extra.shape[1]), extra.ravel())
        c_lt[:] = lt.reshape(extra.shape)
        c_le[:] = le.reshape(extra.shape)


def _below(counts: np.ndarray, T: int) -> np.ndarray:
    """``cum[u, r] = #{d: counts[u, d] < r}`` for ``r = 0..T+1`` (counts lie in ``0..T``), raveled."""
    U, L = counts.shape
    flat = (np.arange(U)[:, None] * (T + 2) + counts + 1).ravel()
    hist = np.bincount(flat, minlength=U * (T + 2)).astype(np.int32)    # counts up to L: small ints are enough
    return np.cumsum(hist.reshape(U, T + 2), axis=1, dtype=np.int32).ravel()


#: up to this many cells, a cell's rows are summed in one numpy reduction each; more: ``np.add.at``
FEW_CELLS = 64


def _add_rows_by_cell(S: np.ndarray, cell: np.ndarray, rows: np.ndarray) -> None:
    """``S[cell[j]] += rows[j]`` for j in order, into a zero ``S (C, T)`` of rows >= 0, as the compiled loop adds.

    Few cells: each cell's rows (in j order) summed with ``sum(axis=0)``, which adds row after row
    (numpy sums pairwise only along the fast axis); starting from the first row or from 0.0 gives the same
    bits for rows >= 0. Many cells: ``np.add.at``, unbuffered, adds repeated indices one by one in order."""
    order = np.argsort(cell, kind="stable")
    c = cell[order]
    first = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    if first.size > FEW_CELLS:
        np.add.at(S, cell, rows)
        return
    ends = np.r_[first[1:], c.size]
    for lo, hi in zip(first, ends):
        S[c[lo]] += rows[order[lo:hi]].sum(axis=0)


def corrado_sums_into(rmin, R2, c_lt, c_le, wcols, n_wcols, a, mp, mw, mc, S) -> None:
    """As :func:`eventstudy.inference.kernels.corrado_rank_sums` describes; adds into the zero ``S``."""
    T = rmin.shape[1]
    for w in range(S.shape[0]):
        sel = mw == w
        if not sel.any():
            continue
        pw, cw = mp[sel], mc[sel]
        up, inv = np.unique(pw, return_inverse=True)    # a pair's rank row in this window, shared by its cells
        cols = wcols[w, :n_wcols[w]]
        at = np.arange(up.size)[:, None] * (T + 2) + rmin[up]
        h = R2[up] + _below(c_lt[up][:, cols], T)[at] + _below(c_le[up][:, cols], T)[at]
        _add_rows_by_cell(S[w], cw, ((0.5 * a[w, up])[:, None] * h)[inv])


def grank_sums_into(srt, rmin, R2, a, mp, mc, g, S, c_lt, c_le) -> None:
    """As :func:`eventstudy.inference.kernels.grank_rank_sums` describes; fills the outputs."""
    c_lt[:], c_le[:] = _lt_le(srt, mp, g)
    r = rmin[mp]
    h = R2[mp] + (r > c_lt[:, None]) + (r > c_le[:, None])
    _add_rows_by_cell(S, mc, (0.5 * a[mp])[:, None] * h)


def rank_dispersion_into(S, n, n_const, q, D) -> None:
    """As :func:`eventstudy.inference.kernels.rank_dispersion` describes; fills ``q`` and ``D``."""
    R, T = S.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        if n.shape[0] == R:                             # members per (row, day)
            ok = n > 0
            x = S - 0.5 * n
            q[:] = _row_totals(np.where(ok, x * x / n, 0.0))
            D[:] = ok.sum(axis=1)
        else:                                           # the same members every day
            x = S - 0.5 * n_const[:, None]
            ok = n_const > 0
            q[:] = np.where(ok, _row_totals(x * x) / n_const, 0.0)
            D[:] = np.where(ok, T, 0)


def day_mean_dispersion_into(ssum, n, n_const, Md, sd, const) -> None:
    """As :func:`eventstudy.inference.kernels.day_mean_dispersion` describes; fills the outputs."""
    R, T = ssum.shape
    k = n if n.shape[0] == R else np.broadcast_to(n_const[:, None], (R, T))
    ok = k > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(ok, ssum / k, 0.0)
        m = ok.sum(axis=1)
        mean = np.where(m > 0, _row_totals(a) / m, 0.0)
        d = np.where(ok, a - mean[:, None], 0.0)
        ss = _row_totals(d * d)
        Md[:] = m
        sd[:] = np.where(m >= 2, np.sqrt(ss / (m - 1)), np.nan)
    const[:] = np.max(np.where(ok, a, -np.inf), axis=1, initial=-np.inf) == np.min(
        np.where(ok, a, np.inf), axis=1, initial=np.inf)
