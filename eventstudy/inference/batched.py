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
  loops over memberships (:mod:`eventstudy.inference.kernels`: compiled, or their numpy twins) for the rank tests'
  estimation-day sums.
* Rank tests: a value ``v`` inserted into security i's estimation SARs gets the average rank
  ``#{e < v} + (#{e == v} + 1) / 2`` in the combined sample, and an estimation SAR ``e``
  moves up by ``#{v < e} + #{v == e} / 2`` (ties exactly as ``scipy.stats.rankdata``'s
  average ranks). So the estimation row is sorted and ranked once per pair (:class:`SortedRows`),
  and for each inserted value (window SARs for ``corrado``; the cell-dependent
  ``SCAR_i / S_SCAR`` for ``grank``) ``#{e < v}`` and ``#{e <= v}`` come from a binary search
  in the sorted row; the increments of the estimation SARs are then two comparisons of
  small-int ranks, summed per cell for every window in one pass of the kernels
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
  of ``W+`` for untied cells with n <= 50 (one table per distinct n, :func:`wilcoxon_exact_p`);
  scipy's exact permutation test, called per cell, only for tied cells with n <= 13.
* p-values of t and normal statistics: one vectorised call of ``scipy.special.stdtr`` / ``ndtr``
  (what ``scipy.stats.t.sf`` / ``norm.sf`` evaluate, without the distribution machinery).
* ``patell`` raises :class:`~eventstudy.errors.EstimationError` on the first cell (in cell, then
  window order) where the reference would.

The bootstrap is not batched (the engine calls :func:`eventstudy.inference.bootstrap.bootstrap_caar`
per cell when asked).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from eventstudy.inference import kernels as kernels
from eventstudy.inference.base import MIN_N, two_sided_t, two_sided_z
from eventstudy.inference.batched_ranks import SortedRows, corrado_windows, grank_members, grank_windows, wilcoxon_cells
from eventstudy.inference.correlation import cell_mean_correlation
from eventstudy.inference.reference import MIN_OVERLAP, TEST_IDS, patell_error

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
    # residual rows centred in one kernel pass (share of positive residuals; Kolari-Pynnonen rows)
    cnt_e, npos, x0, sxx, s1 = kernels.centre_rows(ea)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_pos = npos / cnt_e
    all_e = bool((cnt_e == T).all())                      # no missing residual: skip the masking
    fin_e = None if all_e else np.isfinite(ea)
    F_e = None if all_e else fin_e.astype(float)
    E0 = ea if all_e else np.where(fin_e, ea, 0.0)
    # the estimation SARs sorted and ranked once per pair (corrado, grank)
    sr = SortedRows(es, ev, np.flatnonzero(wmask.any(axis=0)))
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
        o_p[ti["t_cross_section"], :, w] = two_sided_t(st_cs, n_cs - 1.0)

        # bmp (and S_SCAR for grank)
        ks = keep & np.isfinite(scarm)
        cs_ = mc[ks]
        st_b, n_b, _, sd_b, use_b = _grouped_one_sample_t(scarm[ks], cs_, C)
        o_stat[ti["bmp"], :, w] = st_b
        o_p[ti["bmp"], :, w] = two_sided_t(st_b, n_b - 1.0)

        # patell
        zp, cand = _patell(scarm[ks], mm[loc[ks]], k, cs_, n_b, C)
        if cand is not None:
            cand = (cand[0], w, *cand[1:])
            if patell_err is None or cand[:2] < patell_err[:2]:    # the reference's cell-major order
                patell_err = cand
        o_stat[ti["patell"], :, w] = zp
        o_p[ti["patell"], :, w] = two_sided_z(zp)

        # t_time_series
        key = kc.tobytes()
        if key not in tts_cache:
            tts_cache[key] = _aar_dispersion(mc[kc], loc[kc], C, Pc, E0, F_e)
        Md, s_aar, const = tts_cache[key]
        ok_t = (n_cs >= MIN_N) & (Md >= 2) & ~const & (s_aar > 0) & np.isfinite(s_aar)
        with np.errstate(invalid="ignore", divide="ignore"):
            st_t = np.where(ok_t, mean_cs / (math.sqrt(L) * s_aar), np.nan)
        o_stat[ti["t_time_series"], :, w] = st_t
        o_p[ti["t_time_series"], :, w] = two_sided_t(st_t, Md - 1.0)

        # kolari_pynnonen
        key = ks.tobytes()
        if key not in kp_cache:
            kp_cache[key] = cell_mean_correlation(loc[ks], cs_, C, fast, Z, ea, min_overlap, kp_days_ok,
                                     None if pair_cluster is None else np.asarray(pair_cluster)[pairs])
        rbar = kp_cache[key]
        Nf = n_b.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            den = 1.0 + (Nf - 1.0) * rbar
            st_kp = np.where(np.isfinite(st_b) & np.isfinite(rbar) & (den > 0),
                             st_b * np.sqrt((1.0 - rbar) / den), np.nan)
        o_stat[ti["kolari_pynnonen"], :, w] = st_kp
        o_p[ti["kolari_pynnonen"], :, w] = two_sided_t(st_kp, Nf - 1.0)

        # sign_generalized
        kg = kc & (cnt_e[loc] > 0)
        zg = _generalized_sign(carm[kg], share_pos[loc[kg]], mc[kg], C)
        o_stat[ti["sign_generalized"], :, w] = zg
        o_p[ti["sign_generalized"], :, w] = two_sided_z(zg)

        # wilcoxon
        o_stat[ti["wilcoxon"], :, w], o_p[ti["wilcoxon"], :, w], o_meth[:, w] = wilcoxon_cells(carm[kc], cc, C)

        # corrado: after the loop, every window at once
        corrado_in.append((np.flatnonzero(wm), keep))

        # grank: its members and GSAR_0 here; the rank sums of every window in one kernel pass below
        grank_in.append(grank_members(scarm, ks, sd_b, use_b, loc, mc))

    for w, zc in enumerate(corrado_windows(corrado_in, ev, sr, loc, mc, C, Pc)):
        o_stat[ti["corrado"], :, w] = zc
        o_p[ti["corrado"], :, w] = two_sided_z(zc)
    for w, (tg, dfg) in enumerate(grank_windows(grank_in, sr, C, Pc)):
        o_stat[ti["grank"], :, w] = tg
        pg = two_sided_t(tg, dfg)
        pg = np.where(np.isinf(tg), 0.0, pg)
        o_p[ti["grank"], :, w] = pg
    return patell_err


def _patell(scar: np.ndarray, m: np.ndarray, k: int, cell: np.ndarray, n: np.ndarray, n_cells: int):
    """Patell Z per cell from the members' SCARs and ``M_i`` (cells ``cell``, sorted; ``n`` members with a
    SCAR per cell), and the first violation of ``M_i - k > 2`` in a cell of at least ``MIN_N`` members as
    ``(cell, position in the cell, M_i)`` (None if none)."""
    dof = m - k
    violation = None
    bad = ~(dof > 2) & (n[cell] >= MIN_N)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        first = int(cell[j])
        violation = (first, int(j - np.searchsorted(cell, first)), float(m[j]))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (np.bincount(cell, weights=scar, minlength=n_cells)
             / np.sqrt(np.bincount(cell, weights=dof / (dof - 2.0), minlength=n_cells)))
    return np.where(n >= MIN_N, z, np.nan), violation


def _aar_dispersion(cell: np.ndarray, pair: np.ndarray, n_cells: int, n_pairs: int, resid: np.ndarray,
                    finite: np.ndarray | None):
    """Per cell, the time-series test's ``(M, sd(AAR_t), constant)`` over the estimation days: ``AAR_t`` the
    mean residual of the members (``pair``, local rows of ``resid`` with 0 where missing; ``finite`` 1.0
    where present, None when every residual is) with a residual on day t."""
    members = sparse.csr_matrix((np.ones(cell.size), (cell, pair)), shape=(n_cells, n_pairs))
    count = np.asarray(members.sum(axis=1)).ravel() if finite is None else np.asarray(members @ finite)
    return kernels.day_mean_dispersion(np.asarray(members @ resid), count)


def _generalized_sign(car: np.ndarray, share_pos: np.ndarray, cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Cowan's generalized sign Z per cell: positive CARs against ``N p_hat``, ``p_hat`` the mean of the
    members' shares of positive estimation residuals (NaN below ``MIN_N`` or with p_hat 0 or 1)."""
    n = np.bincount(cell, minlength=n_cells).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_hat = np.bincount(cell, weights=share_pos, minlength=n_cells) / n
        positive = np.bincount(cell, weights=(car > 0).astype(float), minlength=n_cells)
        z = (positive - n * p_hat) / np.sqrt(n * p_hat * (1.0 - p_hat))
    return np.where((n >= MIN_N) & (p_hat > 0) & (p_hat < 1), z, np.nan)
