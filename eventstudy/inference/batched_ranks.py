"""The rank tests of the batched battery (:mod:`eventstudy.inference.batched`): Corrado and GRANK over every
window of a chunk of cells from each pair's estimation SARs sorted once, and Wilcoxon's ``W+`` with its
exact or normal p-value per cell. Equal to :mod:`eventstudy.inference.ranks` cell by cell
(``tests/test_cellstats.py``); the design is in :mod:`eventstudy.inference.batched`'s docstring.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import sparse

from eventstudy.inference import kernels
from eventstudy.inference.base import MIN_N, two_sided_z
from eventstudy.inference.ranks import WILCOXON_EXACT_MAX_N, WILCOXON_PERMUTATION_MAX_N

__all__ = ["SortedRows", "corrado_windows", "grank_members", "grank_windows", "wilcoxon_batched",
           "signed_rank_tails", "wilcoxon_exact_p", "wilcoxon_cells"]


def wilcoxon_batched(car: np.ndarray, cell: np.ndarray, n_cells: int):
    """Per cell: the normal score of ``W+`` (for the normal p-value), n, whether ``|CAR|`` has ties, the
    sorted nonzero CARs and their cells, and ``W+`` (see reference.wilcoxon and reference.wilcoxon_z)."""
    keep = np.isfinite(car) & (car != 0)
    d, c = car[keep], cell[keep]
    a = np.abs(d)
    # by cell, then |d|: a (SIMD) sort of |d|, then a stable (radix, for small ints) sort of the cells.
    # The order among equal |d| is immaterial: tied values share their average rank.
    o1 = np.argsort(a)
    ci = c[o1].astype(np.int16) if n_cells < 2 ** 15 else c[o1]
    order = o1[np.argsort(ci, kind="stable")]
    d, c, a = d[order], c[order], a[order]
    n = np.bincount(c, minlength=n_cells)
    M = d.size
    stat = np.full(n_cells, np.nan)
    has_ties = np.zeros(n_cells, dtype=bool)
    if M == 0:
        return stat, n, has_ties, d, c, np.zeros(n_cells)
    pos = np.arange(M)
    cstart = np.searchsorted(c, np.arange(n_cells))
    new = np.ones(M, dtype=bool)
    new[1:] = (a[1:] != a[:-1]) | (c[1:] != c[:-1])
    gstart = np.maximum.accumulate(np.where(new, pos, 0))
    last = np.ones(M, dtype=bool)
    last[:-1] = new[1:]
    gend = np.minimum.accumulate(np.where(last, pos, M - 1)[::-1])[::-1]
    rank = 0.5 * (gstart + gend) + 1.0 - cstart[c]
    w_plus = np.bincount(c, weights=np.where(d > 0, rank, 0.0), minlength=n_cells)
    tsize = (gend - gstart + 1).astype(float)
    tie = np.bincount(c[new], weights=tsize[new] ** 3 - tsize[new], minlength=n_cells)
    has_ties = np.bincount(c[new], weights=(tsize[new] > 1).astype(float), minlength=n_cells) > 0
    nf = n.astype(float)
    var = nf * (nf + 1) * (2 * nf + 1) / 24.0 - tie / 48.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (w_plus - nf * (nf + 1) / 4.0) / np.sqrt(var)
    stat = np.where(n >= MIN_N, z, np.nan)
    return stat, n, has_ties, d, c, w_plus


@functools.lru_cache(maxsize=64)
def signed_rank_tails(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact null distribution of Wilcoxon's ``W+`` for ``n`` untied nonzero values:
    ``(P(W+ <= k), P(W+ >= k))`` for ``k = 0..n(n+1)/2``. Counts of the subsets of ``{1..n}`` with
    each rank sum, by the recurrence ``c_i(w) = c_{i-1}(w) + c_{i-1}(w - i)`` (exact in float64 for
    n <= 50), divided by ``2**n`` (Wilcoxon 1945; the distribution scipy's exact method uses)."""
    c = np.zeros(n * (n + 1) // 2 + 1)
    c[0] = 1.0
    for i in range(1, n + 1):
        c[i:] = c[i:] + c[:-i].copy()
    pmf = c / 2.0 ** n
    return np.cumsum(pmf), np.cumsum(pmf[::-1])[::-1]


def wilcoxon_exact_p(w_plus: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided exact p-values ``2 min(P(W+ >= w), P(W+ <= w))`` (at most 1) for cells without ties,
    evaluated as ``scipy.stats.wilcoxon(method="exact")`` does (each tail summed directly below the
    mean, as one minus the other tail above it). One pass per distinct ``n``, not per cell."""
    p = np.full(w_plus.shape, np.nan)
    for nn in np.unique(n):
        sel = n == nn
        lower, upper = signed_rank_tails(int(nn))
        top = lower.size - 1
        mean = nn * (nn + 1) / 4.0
        kf = np.floor(w_plus[sel]).astype(np.int64)
        kc = np.ceil(w_plus[sel]).astype(np.int64)
        sf = np.where(kf <= mean, upper[np.clip(kf, 0, top)], 1.0 - lower[np.clip(kf - 1, 0, top)])
        cdf = np.where(kc <= mean, lower[np.clip(kc, 0, top)], 1.0 - upper[np.clip(kc + 1, 0, top)])
        p[sel] = np.clip(2.0 * np.minimum(sf, cdf), 0.0, 1.0)
    return p


def wilcoxon_cells(car: np.ndarray, cell: np.ndarray, n_cells: int):
    """Wilcoxon's ``W+`` per cell (R's V, estudy2's W), its two-sided p-value and the distribution it came
    from (``normal``, ``exact``, ``permutation``; '' without a p-value), as
    :func:`eventstudy.inference.ranks.wilcoxon_p_method` chooses it."""
    z, n, ties, d_sorted, c_sorted, w_plus = wilcoxon_batched(car, cell, n_cells)
    p = np.full(n_cells, np.nan)
    method = np.full(n_cells, "", dtype=object)
    asym = (n >= MIN_N) & ((n > WILCOXON_EXACT_MAX_N) | (ties & (n > WILCOXON_PERMUTATION_MAX_N)))
    p[asym] = two_sided_z(z[asym])
    exact = (n >= MIN_N) & ~asym & ~ties
    p[exact] = wilcoxon_exact_p(w_plus[exact], n[exact])
    small = np.flatnonzero((n >= MIN_N) & ~asym & ~exact)      # ties and n <= 13: scipy's permutation test
    if small.size:
        from scipy import stats     # imported where used (start-up cost)

        starts = np.searchsorted(c_sorted, small)
        for c, s0 in zip(small, starts):
            p[c] = float(stats.wilcoxon(d_sorted[s0:s0 + n[c]], zero_method="wilcox", correction=False,
                                        alternative="two-sided", method="auto").pvalue)
    method[asym], method[exact], method[small] = "normal", "exact", "permutation"
    return np.where(n >= MIN_N, w_plus, np.nan), p, method


class SortedRows:
    """Each pair's estimation SARs sorted and ranked once (shared by ``corrado`` and ``grank``):
    ``srt``, ``rmin``, ``R2``, ``T_i`` as :func:`eventstudy.inference.kernels.row_ranks` returns them, and
    ``F (P, T)`` 1.0 where finite (None when every value is).

    ``ev (P, D)`` the window SARs on the event grid and ``days`` the grid days of some window:
    ``grid = (c_lt, c_le)``, both ``(P, D)``, ``#{e < v_d}`` and ``#{e <= v_d}`` over the pair's
    estimation SARs for ``v_d`` the day-d SAR (missing: +inf, which moves nothing; 0 on other days).

    Inserting a value ``v`` into row i, with ``c_lt = #{x < v}`` and ``c_le = #{x <= v}``, moves
    ``x_it`` up by ``[x_it > v] + [x_it == v] / 2``, and ``2 x`` that is
    ``[rmin_it > c_lt] + [rmin_it > c_le]``: two comparisons of small ints.
    """

    def __init__(self, es: np.ndarray, ev: np.ndarray, days: np.ndarray) -> None:
        v = ev[:, days]
        v = np.where(np.isfinite(v), v, np.inf)
        self.srt, self.rmin, self.R2, self.T_i, lt, le = kernels.row_ranks(es, insert=v)
        P, D = ev.shape
        c_lt = np.zeros((P, D), dtype=np.int64)
        c_le = np.zeros((P, D), dtype=np.int64)
        c_lt[:, days], c_le[:, days] = lt, le
        self.grid = (c_lt, c_le)
        complete = bool((self.T_i == es.shape[1]).all())
        self.F = None if complete else np.isfinite(es).astype(float)     # None: every value finite


def corrado_windows(windows, ev, sr: SortedRows, loc, mc, C, Pc):
    """Corrado rank Z per cell for every window; ``windows``: per window, its columns of the event grid
    ``ev`` and the memberships that count (``keep``). Yields Z per window. The estimation-day rank sums of
    all windows come from one kernel pass over the memberships in pair order."""
    T_i = sr.T_i
    c_lt, c_le = sr.grid
    pre = []
    for wcols, keep in windows:
        wv = ev[:, wcols]
        fin_w = np.isfinite(wv)
        L_i = fin_w.sum(axis=1)
        kr = keep & (L_i[loc] > 0)
        a = 1.0 / (T_i + L_i + 1.0)
        less = c_lt[:, wcols]
        eqc = c_le[:, wcols] - less
        # window days: rank among estimation SARs and the other window SARs
        lw = (wv[:, None, :] < wv[:, :, None]).sum(axis=2)           # #{window values below value j}
        ew = (wv[:, None, :] == wv[:, :, None]).sum(axis=2)          # including itself (NaN: 0)
        Uw = np.where(fin_w, (less + lw + 0.5 * (eqc + ew + 1.0)) * a[:, None] - 0.5, 0.0)
        pre.append((kr, a, Uw, fin_w))
    # estimation days: rank = R_est + #{window values below} + #{equal} / 2, summed per cell (kernels)
    lr_all = np.concatenate([loc[p[0]] for p in pre])
    wi_all = np.concatenate([np.full(int(p[0].sum()), w) for w, p in enumerate(pre)])
    cr_all = np.concatenate([mc[p[0]] for p in pre])
    by_pair = np.lexsort((wi_all, lr_all))
    S_all = kernels.corrado_rank_sums(sr.rmin, sr.R2, c_lt, c_le, [w[0] for w in windows],
                                      np.stack([p[1] for p in pre]), lr_all[by_pair], wi_all[by_pair],
                                      cr_all[by_pair], C)
    cache: dict[bytes, tuple] = {}
    for w, (kr, _, Uw, fin_w) in enumerate(pre):
        cr, lr = mc[kr], loc[kr]
        N = np.bincount(cr, minlength=C).astype(float)
        key = kr.tobytes()
        if key not in cache:
            Cm = sparse.csr_matrix((np.ones(lr.size), (cr, lr)), shape=(C, Pc))
            cache[key] = (Cm, N if sr.F is None else np.asarray(Cm @ sr.F))   # members with a value per day
        Cm, n_est = cache[key]
        # estimation days: sum over used days of n_t kbar_t^2 (kernels, one pass)
        q_est, D = kernels.rank_dispersion(S_all[w], n_est)
        S_win = np.asarray(Cm @ Uw)
        n_win = np.asarray(Cm @ fin_w.astype(float))
        wu = n_win > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            # window days
            n_w = np.where(wu, n_win, 1.0)
            q_win = np.where(wu, S_win * S_win / n_w, 0.0).sum(axis=1)
            D = D + wu.sum(axis=1)
            s2 = (q_est + q_win) / N / D
            num = np.where(wu, S_win / n_w, 0.0).sum(axis=1)
            den = np.where(wu, N[:, None] / n_w, 0.0).sum(axis=1)
            z = num / (np.sqrt(s2) * np.sqrt(den))
        ok = (N >= MIN_N) & (D >= 2) & (s2 > 0) & wu.any(axis=1)
        yield np.where(ok, z, np.nan)


def grank_members(scarm, ks, sd_b, use_b, loc, mc):
    """One window's GRANK memberships (those with a SCAR in a cell with a usable S_SCAR): their local
    pairs, cells and ``GSAR_0 = SCAR_i / S_SCAR`` of the cell."""
    idx = np.flatnonzero(ks & use_b[mc])
    cl = mc[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        return loc[idx], cl, scarm[idx] / sd_b[cl]


def grank_windows(members, sr: SortedRows, C, Pc):
    """GRANK-T per cell for every window (``members``: per window, :func:`grank_members`);
    yields (statistic, df) per window. The estimation-day rank sums of all windows come from one
    kernel pass over the memberships in pair order (each pair's rank row is read once)."""
    a = 1.0 / (sr.T_i + 2.0)
    T = sr.srt.shape[1]
    W = len(members)
    sizes = [m[0].size for m in members]
    lp_all = np.concatenate([m[0] for m in members])
    slot = np.concatenate([w * C + m[1] for w, m in enumerate(members)])       # (window, cell)
    by_pair = np.argsort(lp_all, kind="stable")
    S_all, lt_o, le_o = kernels.grank_rank_sums(sr.srt, sr.rmin, sr.R2, a, lp_all[by_pair], slot[by_pair],
                                                    np.concatenate([m[2] for m in members])[by_pair], W * C)
    S_all = S_all.reshape(W, C, T)
    c_lt_all = np.empty_like(lt_o)
    c_le_all = np.empty_like(le_o)
    c_lt_all[by_pair], c_le_all[by_pair] = lt_o, le_o
    bounds = np.cumsum([0] + sizes)
    cache: dict[bytes, np.ndarray] = {}
    for w, (lp, cl, _) in enumerate(members):
        tstat = np.full(C, np.nan)
        df = np.full(C, np.nan)
        if lp.size == 0:
            yield tstat, df
            continue
        c_lt, c_le = c_lt_all[bounds[w]:bounds[w + 1]], c_le_all[bounds[w]:bounds[w + 1]]
        cnt = np.bincount(cl, minlength=C)                 # the cell's N (every member with a SCAR)
        key = lp.tobytes() + cl.tobytes()
        if key not in cache:
            cache[key] = (cnt.astype(float) if sr.F is None else
                          np.asarray(sparse.csr_matrix((np.ones(lp.size), (cl, lp)), shape=(C, Pc)) @ sr.F))
        q_est, D = kernels.rank_dispersion(S_all[w], cache[key])
        # day 0: rank of GSAR_0 among the estimation SARs and itself
        u0 = (c_lt + 0.5 * ((c_le - c_lt) + 2.0)) * a[lp] - 0.5
        cells = np.flatnonzero(cnt)
        n = cnt[cells].astype(float)
        ubar0 = np.bincount(cl, weights=u0, minlength=C)[cells] / n
        Tn = D[cells] + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            q = q_est[cells] + n * ubar0 * ubar0
            s2 = q / n / Tn
            z = ubar0 / np.sqrt(s2)
            den = Tn - 1 - z * z
            t = z * np.sqrt((Tn - 2) / den)
        inf = den <= 1e-9 * (Tn - 1)
        t = np.where(inf, np.copysign(np.inf, z), t)
        ok = (Tn >= 3) & (s2 > 0)
        tstat[cells] = np.where(ok, t, np.nan)
        df[cells] = np.where(ok, Tn - 2.0, np.nan)
        yield tstat, df
