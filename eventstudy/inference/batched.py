"""The test battery of :mod:`eventstudy.inference.reference`, batched over many (event, group, window) cells.

:func:`run_tests_batched` returns, for every cell and window, the same numbers as
:func:`eventstudy.inference.reference.run_tests` called on that cell's arrays (the per-cell functions
stay the readable reference; ``tests/test_cellstats.py`` checks the equality to 1e-10 on
data with missing residuals, ties, size-1 and constant cells). Nothing is approximated:
only the order of floating-point summation differs from the reference.

Design
------
* Cells are given by a membership list ``(member_pair, member_cell)``: a pair may belong
  to several cells (its group and the pooled group). In window ``w`` a membership counts
  when ``valid[w, pair]`` (the engine: the pair was estimated and its CAR is finite).
  Memberships are sorted by (cell, pair) so a cell lists its securities in pair order, as
  the reference's boolean masks do.
* Cells are processed in chunks of whole blocks (``cell_block``, the event: the cells of one
  event share their securities) so that temporary ``(pairs, estimation days)`` arrays stay
  small: memory grows linearly with the number of pairs.
* Per-pair quantities are computed once per chunk, never per cell: the average ranks of a
  security's estimation SARs (one row sort), its share of positive residuals, its
  standardised residual row for the Kolari-Pynnonen correlation.
* Per-cell sums over securities are ``np.bincount`` over memberships, or sparse products
  ``C @ X`` (``C`` the cells x pairs membership matrix, possibly weighted) for day-by-day
  sums over ``(pairs, days)`` arrays (``t_time_series``, the window days of ``corrado``), or
  compiled loops over memberships (:mod:`eventstudy.inference.kernels`) for the rank tests'
  estimation-day sums.
* Rank tests: a value ``v`` inserted into security i's estimation SARs gets the average rank
  ``#{e < v} + (#{e == v} + 1) / 2`` in the combined sample, and an estimation SAR ``e``
  moves up by ``#{v < e} + #{v == e} / 2`` (ties exactly as ``scipy.stats.rankdata``'s
  average ranks). So the estimation row is sorted and ranked once per pair (:class:`_SortedRows`),
  and for each inserted value (window SARs for ``corrado``; the cell-dependent
  ``SCAR_i / S_SCAR`` for ``grank``) ``#{e < v}`` and ``#{e <= v}`` come from a binary search
  in the sorted row; the increments of the estimation SARs are then two comparisons of
  small-int ranks, summed per cell for every window in one compiled pass
  (:func:`eventstudy.inference.kernels.corrado_rank_sums`, :func:`~eventstudy.inference.kernels.grank_rank_sums`).
  Ranks are the reference's exactly; only the summation order differs.
* Kolari-Pynnonen mean correlation: for securities with a residual on every estimation day,
  with ``z_i`` the demeaned residual row scaled to unit sum of squares,
  ``sum_{i != j} r_ij = ||sum_i z_i||^2 - N`` (O(N T) per cell). Securities with a missing
  residual (or a near-zero residual variance, where the reference's validity rule could
  bite) go through the exact pairwise-complete formula of
  :func:`eventstudy.inference.reference.residual_correlation_matrix`, against every other member of the
  cell; the mean is over the same set of pairs as the reference.
* ``wilcoxon``: the statistic ``W+`` is batched (ranks of ``|CAR|`` within cells from one sort);
  the p-value follows :func:`eventstudy.inference.ranks.wilcoxon_p_method` as the reference does: the
  normal score of ``W+`` (vectorised) for n > 50 or ties with n > 13; the exact null distribution
  of ``W+`` for untied cells with n <= 50 (one table per distinct n, :func:`_wilcoxon_exact_p`);
  scipy's exact permutation test, called per cell, only for tied cells with n <= 13.
* p-values of t and normal statistics: one vectorised call of ``scipy.special.stdtr`` / ``ndtr``
  (what ``scipy.stats.t.sf`` / ``norm.sf`` evaluate, without the distribution machinery).
* ``patell`` raises :class:`~eventstudy.errors.EstimationError` on the first cell (in cell, then
  window order) where the reference would.

The bootstrap is not batched (the engine calls :func:`eventstudy.inference.bootstrap.bootstrap_caar`
per cell when asked).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse, special, stats

from eventstudy.inference import kernels as kernels
from eventstudy.inference.base import MIN_N
from eventstudy.inference.ranks import WILCOXON_EXACT_MAX_N, WILCOXON_PERMUTATION_MAX_N
from eventstudy.inference.reference import MIN_OVERLAP, TEST_IDS, centred_rows, patell_error

__all__ = ["BatchedTests", "chunk_bounds", "run_tests_batched"]


@dataclass(frozen=True)
class BatchedTests:
    """Results per cell and window.

    ``n (C, W)`` securities in the cell (finite CAR), ``caar (C, W)`` mean CAR (NaN when n = 0),
    ``statistic`` and ``p_value``: ``(len(test_ids), C, W)`` in the order of ``test_ids``
    (:data:`eventstudy.inference.reference.TEST_IDS`). ``wilcoxon_p_method (C, W)``: the distribution the Wilcoxon
    p-value came from, ``"exact"``, ``"permutation"`` or ``"normal"``
    (:func:`eventstudy.inference.ranks.wilcoxon_p_method`), ``""`` where there is no p-value.
    """

    test_ids: tuple[str, ...]
    n: np.ndarray
    caar: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    wilcoxon_p_method: np.ndarray | None = None


# ----------------------------------------------------------------------------- small helpers

def _two_sided_t(stat: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``2 t.sf(|stat|, df)`` where stat is finite and df >= 1; NaN elsewhere (as inference.base.t_result)."""
    out = np.full(stat.shape, np.nan)
    ok = np.isfinite(stat) & (df >= 1)
    if ok.any():
        out[ok] = 2.0 * special.stdtr(df[ok], -np.abs(stat[ok]))      # = 2 t.sf(|stat|, df)
    return out


def _two_sided_z(stat: np.ndarray) -> np.ndarray:
    out = np.full(stat.shape, np.nan)
    ok = np.isfinite(stat)
    if ok.any():
        out[ok] = 2.0 * special.ndtr(-np.abs(stat[ok]))               # = 2 norm.sf(|stat|)
    return out


def _first_index(cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Index of each cell's first entry in ``cell`` (sorted ascending); meaningful where the cell is non-empty."""
    return np.minimum(np.searchsorted(cell, np.arange(n_cells)), max(cell.size - 1, 0))


def _grouped_one_sample_t(x: np.ndarray, cell: np.ndarray, n_cells: int):
    """Batched ``inference.base.one_sample_t`` over cells (``cell`` sorted). Returns stat, n, mean, sd, usable."""
    n = np.bincount(cell, minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(cell, weights=x, minlength=n_cells) / n
        dev = x - mean[cell]
        sd = np.sqrt(np.bincount(cell, weights=dev * dev, minlength=n_cells) / (n - 1))
        if x.size:
            first = x[_first_index(cell, n_cells)]
            n_diff = np.bincount(cell, weights=(x != first[cell]).astype(float), minlength=n_cells)
        else:
            n_diff = np.zeros(n_cells)
        usable = (n >= MIN_N) & (n_diff > 0) & (sd > 0) & np.isfinite(sd)
        stat = np.where(usable, mean / (sd / np.sqrt(n)), np.nan)
    return stat, n, mean, sd, usable


def _cross_corr(xa: np.ndarray, xb: np.ndarray, min_overlap: int) -> np.ndarray:
    """Rows of :func:`eventstudy.inference.reference.residual_correlation_matrix` for securities ``xa`` against ``xb``.

    The same pairwise-complete formula and validity rule, for a rectangular block (A, B).
    """
    wa, x0a = centred_rows(xa)
    wb, x0b = centred_rows(xb)
    n = wa @ wb.T
    sx_ab = x0a @ wb.T                 # sum of x_a over the days common with b
    sx_ba = wa @ x0b.T                 # sum of x_b over the days common with a
    sxx_ab = (x0a * x0a) @ wb.T
    sxx_ba = wa @ (x0b * x0b).T
    sxy = x0a @ x0b.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx_ab * sx_ba / n
        vx = sxx_ab - sx_ab * sx_ab / n
        vy = sxx_ba - sx_ba * sx_ba / n
        r = cov / np.sqrt(vx * vy)
    scale2 = np.maximum(sxx_ab, sxx_ba) + 1e-300
    bad = (n < max(int(min_overlap), 2)) | ~(vx > 1e-13 * scale2) | ~(vy > 1e-13 * scale2)
    return np.where(bad, np.nan, np.clip(r, -1.0, 1.0))


def _wilcoxon_batched(car: np.ndarray, cell: np.ndarray, n_cells: int):
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
def _signed_rank_tails(n: int) -> tuple[np.ndarray, np.ndarray]:
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


def _wilcoxon_exact_p(w_plus: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided exact p-values ``2 min(P(W+ >= w), P(W+ <= w))`` (at most 1) for cells without ties,
    evaluated as ``scipy.stats.wilcoxon(method="exact")`` does (each tail summed directly below the
    mean, as one minus the other tail above it). One pass per distinct ``n``, not per cell."""
    p = np.full(w_plus.shape, np.nan)
    for nn in np.unique(n):
        sel = n == nn
        lower, upper = _signed_rank_tails(int(nn))
        top = lower.size - 1
        mean = nn * (nn + 1) / 4.0
        kf = np.floor(w_plus[sel]).astype(np.int64)
        kc = np.ceil(w_plus[sel]).astype(np.int64)
        sf = np.where(kf <= mean, upper[np.clip(kf, 0, top)], 1.0 - lower[np.clip(kf - 1, 0, top)])
        cdf = np.where(kc <= mean, lower[np.clip(kc, 0, top)], 1.0 - upper[np.clip(kc + 1, 0, top)])
        p[sel] = np.clip(2.0 * np.minimum(sf, cdf), 0.0, 1.0)
    return p


def chunk_bounds(sizes: np.ndarray, target: int, cut_ok: np.ndarray | None = None) -> np.ndarray:
    """Boundaries ``0 = b_0 < ... < b_k = n`` cutting ``n`` consecutive units (sizes ``sizes``) into runs of
    about ``target`` in total: a run starts at a unit where ``cut_ok`` (default: any unit) whose running
    start offset enters a new multiple of ``target``. A unit larger than ``target`` is a run of its own."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = sizes.size
    if n == 0:
        return np.array([0])
    start = np.cumsum(sizes) - sizes
    ok = np.ones(n, dtype=bool) if cut_ok is None else np.asarray(cut_ok, dtype=bool).copy()
    ok[0] = True
    big = sizes >= target
    cand = np.flatnonzero(ok)
    bucket = start[cand] // max(int(target), 1)
    cut = np.r_[True, bucket[1:] != bucket[:-1]] | big[cand] | np.r_[True, big[cand - 1][1:]]
    return np.r_[cand[cut], n]


# ----------------------------------------------------------------------------- the batch

def run_tests_batched(*, member_pair, member_cell, n_cells: int, car, scar, valid, m, k: int,
                      est_ar, est_sar, event_sar, window_masks, cell_block=None,
                      min_overlap: int = MIN_OVERLAP, chunk_members: int = 20_000,
                      pair_cluster=None) -> BatchedTests:
    """Every test of :data:`~eventstudy.inference.reference.TEST_IDS` for every cell and window at once.

    Parameters (P pairs, T estimation days, D event-grid days, W windows, C cells)
    ----------
    member_pair, member_cell : (M,) int, memberships: pair ``member_pair[j]`` belongs to cell
        ``member_cell[j]`` (0..C-1). Duplicate memberships are not allowed.
    car, scar : (W, P) CAR_i and SCAR_i per window (decimal / standardised).
    valid : (W, P) bool, whether the pair enters its cells in that window (the engine: estimated
        and finite CAR). Invalid pairs are left out as if absent from the cell.
    m : (P,) M_i; ``k`` model parameters; ``est_ar``, ``est_sar`` (P, T) as in the reference.
    event_sar : (P, D) SARs on the event-grid days; ``window_masks`` (W, D) bool selects each
        window's days (``L_w`` = their number).
    cell_block : (C,) optional labels (e.g. the event of each cell); chunks never split a block,
        so the securities shared by a block's cells are prepared once.
    min_overlap : as in :func:`eventstudy.inference.reference.kolari_pynnonen`.
    pair_cluster : (P,) optional int date cluster of each pair (pooled firm-specific events): the
        Kolari-Pynnonen correlation is 0 between pairs of different clusters, as ``clusters`` of
        :func:`eventstudy.inference.reference.kolari_pynnonen`.

    Returns :class:`BatchedTests` with, per cell and window, exactly what
    ``reference.run_tests`` returns for the arrays of that cell's valid members
    (``n_boot=0``). Cells without members in a window have n = 0 and NaN results.
    """
    mp = np.asarray(member_pair, dtype=np.int64)
    mc = np.asarray(member_cell, dtype=np.int64)
    if mp.shape != mc.shape or mp.ndim != 1:
        raise ValueError("member_pair and member_cell must be 1-D arrays of the same length")
    if mp.size and (mc.min() < 0 or mc.max() >= n_cells):
        raise ValueError(f"member_cell must lie in [0, n_cells = {n_cells})")
    car = np.atleast_2d(np.asarray(car, dtype=float))
    scar = np.atleast_2d(np.asarray(scar, dtype=float))
    valid = np.atleast_2d(np.asarray(valid, dtype=bool))
    wmask = np.atleast_2d(np.asarray(window_masks, dtype=bool))
    W, P = car.shape
    if scar.shape != (W, P) or valid.shape != (W, P) or wmask.shape[0] != W:
        raise ValueError(f"car, scar, valid must be (W, P) = {(W, P)} and window_masks (W, D)")
    est_ar = np.asarray(est_ar, dtype=float)
    est_sar = np.asarray(est_sar, dtype=float)
    event_sar = np.asarray(event_sar, dtype=float)
    if est_ar.shape != est_sar.shape or est_ar.shape[0] != P or event_sar.shape != (P, wmask.shape[1]):
        raise ValueError("est_ar, est_sar (P, T) and event_sar (P, D) must have one row per pair")
    m = np.asarray(m, dtype=float)
    if mp.size and (mp.min() < 0 or mp.max() >= P):
        raise ValueError(f"member_pair must lie in [0, P = {P})")
    n_tests = len(TEST_IDS)
    out_n = np.zeros((n_cells, W), dtype=np.int64)
    out_caar = np.full((n_cells, W), np.nan)
    out_stat = np.full((n_tests, n_cells, W), np.nan)
    out_p = np.full((n_tests, n_cells, W), np.nan)
    out_meth = np.full((n_cells, W), "", dtype=object)
    if mp.size == 0:
        return BatchedTests(TEST_IDS, out_n, out_caar, out_stat, out_p, out_meth)

    order = np.lexsort((mp, mc))
    mp, mc = mp[order], mc[order]
    if np.any((mp[1:] == mp[:-1]) & (mc[1:] == mc[:-1])):
        raise ValueError("a pair appears twice in the same cell")
    # chunks: contiguous cell ranges, never splitting a block, about chunk_members memberships each
    blk = np.arange(n_cells) if cell_block is None else np.asarray(cell_block)
    per_cell = np.bincount(mc, minlength=n_cells)
    new_block = np.r_[True, blk[1:] != blk[:-1]]
    bounds = chunk_bounds(per_cell, chunk_members, new_block)
    cstart = np.searchsorted(mc, bounds)
    for b in range(len(bounds) - 1):          # the caller (the engine) runs its own chunks in parallel
        lo, hi = cstart[b], cstart[b + 1]
        if lo == hi:
            continue
        c0, c1 = bounds[b], bounds[b + 1]
        err = _chunk(mp[lo:hi], mc[lo:hi] - c0, c1 - c0, car, scar, valid, m, k, est_ar, est_sar,
                     event_sar, wmask, min_overlap, out_n[c0:c1], out_caar[c0:c1], out_stat[:, c0:c1],
                     out_p[:, c0:c1], out_meth[c0:c1], pair_cluster)
        if err is not None:                  # the reference's first violation, in cell order
            raise patell_error(err[2], err[3], k)
    return BatchedTests(TEST_IDS, out_n, out_caar, out_stat, out_p, out_meth)


def _chunk(mp, mc, C, car, scar, valid, m, k, est_ar, est_sar, event_sar, wmask, min_overlap,
           o_n, o_caar, o_stat, o_p, o_meth, pair_cluster=None):
    """One chunk of cells; writes into the output views. Returns (cell, window, position, M_i) of a Patell violation."""
    ti = {t: j for j, t in enumerate(TEST_IDS)}
    pairs, loc = np.unique(mp, return_inverse=True)
    Pc = pairs.size
    if Pc == est_ar.shape[0] and pairs[-1] == Pc - 1:   # every pair: views, no copies
        ea, es, ev = np.ascontiguousarray(est_ar), est_sar, event_sar     # (a strided view is slow in products)
    else:
        ea, es, ev = est_ar[pairs], est_sar[pairs], event_sar[pairs]
    # +-inf is "missing" for the reference's rankings (inference.base.row_ranks): the window SARs become NaN
    # so comparisons skip them (the estimation SARs: kernels.row_ranks treats them as missing)
    if np.isinf(ev).any():
        ev = np.where(np.isfinite(ev), ev, np.nan)
    mm = m[pairs]
    T = ea.shape[1]
    W = car.shape[0]

    # ---- per pair, once
    # residual rows centred in one compiled pass (share of positive residuals; Kolari-Pynnonen rows)
    cnt_e, npos, x0, sxx, s1 = kernels.centre_rows(ea)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_pos = npos / cnt_e
    all_e = bool((cnt_e == T).all())                      # no missing residual: skip the masking
    fin_e = None if all_e else np.isfinite(ea)
    F_e = None if all_e else fin_e.astype(float)
    E0 = ea if all_e else np.where(fin_e, ea, 0.0)
    # the estimation SARs sorted and ranked once per pair (corrado, grank)
    sr = _SortedRows(es, ev, np.flatnonzero(wmask.any(axis=0)))
    # Kolari-Pynnonen: standardised complete rows
    complete = cnt_e == T
    vx = sxx - s1 ** 2 / max(T, 1)
    big = float(sxx[complete].max()) if complete.any() else 0.0
    fast = complete & (vx > 1e-12 * (big + 1e-300))       # margin over the reference's 1e-13 rule
    with np.errstate(invalid="ignore", divide="ignore"):
        Z = x0
        Z /= np.sqrt(np.where(fast, vx, 1.0))[:, None]
        if not fast.all():
            Z[~fast] = 0.0
    kp_days_ok = T >= max(int(min_overlap), 2)


    # ---- per window
    corrado_in: list[tuple] = []
    kp_cache: dict[bytes, np.ndarray] = {}
    tts_cache: dict[bytes, tuple] = {}
    grank_in: list[tuple] = []
    patell_err = None
    for w in range(W):
        wm = wmask[w]
        L = int(wm.sum())
        keep = valid[w, mp]                   # memberships that count in this window
        carm = car[w, mp]
        scarm = scar[w, mp]
        kc = keep & np.isfinite(carm)
        cc = mc[kc]

        # t_cross_section
        st_cs, n_cs, mean_cs, _, _ = _grouped_one_sample_t(carm[kc], cc, C)
        o_n[:, w] = n_cs
        o_caar[:, w] = mean_cs
        o_stat[ti["t_cross_section"], :, w] = st_cs
        o_p[ti["t_cross_section"], :, w] = _two_sided_t(st_cs, n_cs - 1.0)

        # bmp (and S_SCAR for grank)
        ks = keep & np.isfinite(scarm)
        cs_ = mc[ks]
        st_b, n_b, _, sd_b, use_b = _grouped_one_sample_t(scarm[ks], cs_, C)
        o_stat[ti["bmp"], :, w] = st_b
        o_p[ti["bmp"], :, w] = _two_sided_t(st_b, n_b - 1.0)

        # patell
        dof = mm[loc[ks]] - k
        badm = ~(dof > 2) & (n_b[cs_] >= MIN_N)
        if badm.any():
            j = int(np.flatnonzero(badm)[0])
            cell = int(cs_[j])
            pos = int(j - np.searchsorted(cs_, cell))
            cand = (cell, w, pos, float(mm[loc[ks]][j]))
            if patell_err is None or cand[:2] < patell_err[:2]:    # the reference's cell-major order
                patell_err = cand
        with np.errstate(invalid="ignore", divide="ignore"):
            zp = (np.bincount(cs_, weights=scarm[ks], minlength=C)
                  / np.sqrt(np.bincount(cs_, weights=dof / (dof - 2.0), minlength=C)))
        zp = np.where(n_b >= MIN_N, zp, np.nan)
        o_stat[ti["patell"], :, w] = zp
        o_p[ti["patell"], :, w] = _two_sided_z(zp)

        # t_time_series
        key = kc.tobytes()
        if key not in tts_cache:
            Cm = sparse.csr_matrix((np.ones(int(kc.sum())), (mc[kc], loc[kc])), shape=(C, Pc))
            scnt = np.asarray(Cm.sum(axis=1)).ravel() if F_e is None else np.asarray(Cm @ F_e)
            tts_cache[key] = kernels.day_mean_dispersion(np.asarray(Cm @ E0), scnt)   # M, sd(AAR_t), constant
        Md, s_aar, const = tts_cache[key]
        ok_t = (n_cs >= MIN_N) & (Md >= 2) & ~const & (s_aar > 0) & np.isfinite(s_aar)
        with np.errstate(invalid="ignore", divide="ignore"):
            st_t = np.where(ok_t, mean_cs / (math.sqrt(L) * s_aar), np.nan)
        o_stat[ti["t_time_series"], :, w] = st_t
        o_p[ti["t_time_series"], :, w] = _two_sided_t(st_t, Md - 1.0)

        # kolari_pynnonen
        key = ks.tobytes()
        if key not in kp_cache:
            kp_cache[key] = _kp_rbar(loc[ks], cs_, C, fast, Z, ea, min_overlap, kp_days_ok,
                                     None if pair_cluster is None else np.asarray(pair_cluster)[pairs])
        rbar = kp_cache[key]
        Nf = n_b.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            den = 1.0 + (Nf - 1.0) * rbar
            st_kp = np.where(np.isfinite(st_b) & np.isfinite(rbar) & (den > 0),
                             st_b * np.sqrt((1.0 - rbar) / den), np.nan)
        o_stat[ti["kolari_pynnonen"], :, w] = st_kp
        o_p[ti["kolari_pynnonen"], :, w] = _two_sided_t(st_kp, Nf - 1.0)

        # sign_generalized
        kg = kc & (cnt_e[loc] > 0)
        cg = mc[kg]
        Ng = np.bincount(cg, minlength=C).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            ph = np.bincount(cg, weights=share_pos[loc[kg]], minlength=C) / Ng
            wpos = np.bincount(cg, weights=(carm[kg] > 0).astype(float), minlength=C)
            zg = (wpos - Ng * ph) / np.sqrt(Ng * ph * (1.0 - ph))
        zg = np.where((Ng >= MIN_N) & (ph > 0) & (ph < 1), zg, np.nan)
        o_stat[ti["sign_generalized"], :, w] = zg
        o_p[ti["sign_generalized"], :, w] = _two_sided_z(zg)

        # wilcoxon
        zw, nw, ties, d_s, c_s, wplus = _wilcoxon_batched(carm[kc], cc, C)
        pw = np.full(C, np.nan)
        asym = (nw >= MIN_N) & ((nw > WILCOXON_EXACT_MAX_N) | (ties & (nw > WILCOXON_PERMUTATION_MAX_N)))
        pw[asym] = _two_sided_z(zw[asym])
        exact = (nw >= MIN_N) & ~asym & ~ties
        pw[exact] = _wilcoxon_exact_p(wplus[exact], nw[exact])
        small = np.flatnonzero((nw >= MIN_N) & ~asym & ~exact)      # ties and n <= 13: scipy's permutation test
        if small.size:
            starts = np.searchsorted(c_s, small)
            for c, s0 in zip(small, starts):
                dd = d_s[s0:s0 + nw[c]]
                pw[c] = float(stats.wilcoxon(dd, zero_method="wilcox", correction=False,
                                             alternative="two-sided", method="auto").pvalue)
        o_stat[ti["wilcoxon"], :, w] = np.where(nw >= MIN_N, wplus, np.nan)      # W+ (R's V, estudy2's W)
        o_p[ti["wilcoxon"], :, w] = pw
        o_meth[asym, w] = "normal"
        o_meth[exact, w] = "exact"
        o_meth[small, w] = "permutation"

        # corrado: after the loop, every window at once
        corrado_in.append((np.flatnonzero(wm), keep))

        # grank: its members and GSAR_0 here; the rank sums of every window in one compiled pass below
        grank_in.append(_grank_members(scarm, ks, sd_b, use_b, loc, mc))

    for w, zc in enumerate(_corrado_windows(corrado_in, ev, sr, loc, mc, C, Pc)):
        o_stat[ti["corrado"], :, w] = zc
        o_p[ti["corrado"], :, w] = _two_sided_z(zc)
    for w, (tg, dfg) in enumerate(_grank_windows(grank_in, sr, C, Pc)):
        o_stat[ti["grank"], :, w] = tg
        pg = _two_sided_t(tg, dfg)
        pg = np.where(np.isinf(tg), 0.0, pg)
        o_p[ti["grank"], :, w] = pg
    return patell_err


def _kp_rbar(lp, cl, C, fast, Z, ea, min_overlap, days_ok, cluster=None):
    """Mean pairwise residual correlation per cell over the members ``lp`` (local pair) of cells ``cl``.

    ``cluster`` (per local pair, optional): date clusters of pooled firm-specific events; pairs of
    members in different clusters count as correlation 0 (see :func:`eventstudy.inference.reference.kolari_pynnonen`)."""
    tot = np.zeros(C)
    npair = np.zeros(C)
    f = fast[lp]
    if days_ok and f.any():
        if cluster is None:
            sub, sub_cell = cl[f], np.arange(C)
        else:                              # sums per (cell, date cluster); every pair of the cell counted
            K = int(cluster.max()) + 1
            uniq, sub = np.unique(cl[f].astype(np.int64) * K + cluster[lp[f]], return_inverse=True)
            sub_cell = uniq // K
        n_sub = len(sub_cell)
        Cm = sparse.csr_matrix((np.ones(int(f.sum())), (sub, lp[f])), shape=(n_sub, Z.shape[0]))
        zs = np.asarray(Cm @ Z)
        ns = np.bincount(sub, minlength=n_sub).astype(float)
        tot += np.bincount(sub_cell, weights=0.5 * ((zs * zs).sum(axis=1) - ns), minlength=C)
        nf = np.bincount(cl[f], minlength=C).astype(float)
        npair += nf * (nf - 1.0) / 2.0
    slow_cells = np.unique(cl[~f])
    if slow_cells.size:
        starts = np.searchsorted(cl, slow_cells)
        ends = np.searchsorted(cl, slow_cells, side="right")
        for c, a, b in zip(slow_cells, starts, ends):
            mem = lp[a:b]
            sl = np.flatnonzero(~fast[mem])         # positions (in the cell) of the exact-path members
            r = _cross_corr(ea[mem[sl]], ea[mem], min_overlap)
            if cluster is not None:       # pairs on different dates: independent, correlation 0
                r = np.where(cluster[mem[sl]][:, None] == cluster[mem][None, :], r, 0.0)
            # count each pair once: a slow row against fast columns, and slow-slow pairs above the diagonal
            cols = np.arange(mem.size)
            take = fast[mem][None, :] | (cols[None, :] > sl[:, None])
            v = r[take]
            v = v[np.isfinite(v)]
            tot[c] += v.sum()
            npair[c] += v.size
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(npair > 0, tot / npair, np.nan)


class _SortedRows:
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


def _corrado_windows(windows, ev, sr: _SortedRows, loc, mc, C, Pc):
    """Corrado rank Z per cell for every window; ``windows``: per window, its columns of the event grid
    ``ev`` and the memberships that count (``keep``). Yields Z per window. The estimation-day rank sums of
    all windows come from one compiled pass over the memberships in pair order."""
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
    # estimation days: rank = R_est + #{window values below} + #{equal} / 2, summed per cell (compiled)
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
        # estimation days: sum over used days of n_t kbar_t^2 (compiled, one pass)
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


def _grank_members(scarm, ks, sd_b, use_b, loc, mc):
    """One window's GRANK memberships (those with a SCAR in a cell with a usable S_SCAR): their local
    pairs, cells and ``GSAR_0 = SCAR_i / S_SCAR`` of the cell."""
    idx = np.flatnonzero(ks & use_b[mc])
    cl = mc[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        return loc[idx], cl, scarm[idx] / sd_b[cl]


def _grank_windows(members, sr: _SortedRows, C, Pc):
    """GRANK-T per cell for every window (``members``: per window, :func:`_grank_members`);
    yields (statistic, df) per window. The estimation-day rank sums of all windows come from one
    compiled pass over the memberships in pair order (each pair's rank row is read once)."""
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
