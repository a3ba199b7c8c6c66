"""Rank and sign tests of the battery: Corrado, GRANK, generalized sign, Wilcoxon (docs/METHODS.md,
section "Cross-sectional tests"). Inputs and conventions as in :mod:`eventstudy.inference.reference`,
which runs them with the parametric tests (:func:`eventstudy.inference.reference.run_tests`).
"""
from __future__ import annotations

import math

import numpy as np

from eventstudy.inference.base import (MIN_N, TestResult, as_matrix, as_vector, col_means, nan_result, row_ranks,
                                       sample_sd, t_result, z_result)

__all__ = ["corrado", "grank", "sign_generalized", "wilcoxon", "wilcoxon_z", "wilcoxon_p_method",
           "rank_dispersion", "WILCOXON_EXACT_MAX_N", "WILCOXON_PERMUTATION_MAX_N"]


def rank_dispersion(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    """Rank scores shared by the Corrado and GRANK tests.

    ``U_it = K_it / (n_i + 1) - 1/2`` with ``K_it`` the average rank of ``x_it`` in row ``i``
    (its ``n_i`` finite values); ``Ubar_t`` the mean over the ``n_t`` rows present on day ``t``;
    ``S^2 = (1/D) sum_t (n_t / n) Ubar_t^2`` over the ``D`` days with a value.
    Returns ``(Ubar, n_t, used, D, S^2)``.
    """
    rk, n_i = row_ranks(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = rk / (n_i[:, None] + 1.0) - 0.5
    ubar, n_t = col_means(u)
    used = n_t > 0
    D = int(used.sum())
    s2 = float(np.sum((n_t[used] / n) * ubar[used] ** 2) / D) if D else math.nan
    return ubar, n_t, used, D, s2


def corrado(est_sar, event_sar) -> TestResult:
    """Rank test: Corrado (1989), Corrado & Zivney (1992) standardisation, Cowan (1992) windows.

    For each security i the SARs of its estimation days and of the window's L days are
    ranked together (average ranks; NaN skipped); with ``n_i`` finite values,
    ``U_it = K_it / (n_i + 1) - 1/2`` (Corrado & Zivney 1992, so unequal ``n_i`` are comparable).
    Day averages over the ``N_t`` securities with a SAR on day t:
    ``Kbar_t = (1 / N_t) sum_i U_it``. Over the ``D`` ranked days with ``N_t > 0``
    (estimation and window days together, as Corrado 1989),
    ``S_K^2 = (1 / D) sum_t (N_t / N) Kbar_t^2`` (the ``N_t / N`` weight is Campbell &
    Wasley's 1993 treatment of missing days; it is 1 without missing data). The window
    statistic (Cowan 1992) is
    ``Z = sum_{t in window} Kbar_t / (S_K * sqrt(sum_{t in window} N / N_t))``,
    which is ``sqrt(L) * mean_{t in window} Kbar_t / S_K`` without missing data; N(0,1).
    S_K is a time-series dispersion of the day averages, so it absorbs cross-correlation.
    Securities without any finite window SAR are dropped.
    """
    ev = np.asarray(event_sar, dtype=float)
    if ev.ndim == 1:
        ev = ev[:, None]
    N0 = ev.shape[0]
    es = as_matrix(est_sar, "est_sar", N0)
    keep = np.isfinite(ev).any(axis=1)
    es, ev = es[keep], ev[keep]
    N = ev.shape[0]
    if N < MIN_N:
        return nan_result()
    x = np.hstack([es, ev])
    kbar, n_t, used, D, s2 = rank_dispersion(x, N)
    if D < 2:
        return nan_result()
    win = np.zeros(x.shape[1], dtype=bool)
    win[es.shape[1]:] = True
    wu = win & used
    if s2 <= 0 or not wu.any():
        return nan_result()
    z = float(kbar[wu].sum() / (math.sqrt(s2) * math.sqrt(float(np.sum(N / n_t[wu])))))
    return z_result(z)


def grank(scar, est_sar) -> TestResult:
    """Generalized rank t test (GRANK-T), Kolari & Pynnonen (2011) JEF.

    1. Event-induced volatility: ``SCAR*_i = SCAR_i / S_SCAR``, ``S_SCAR`` the cross-sectional
       sd (ddof 1) of SCAR_i.
    2. Generalized SARs: ``GSAR_it = SAR_it = e_it / s_i`` on the estimation days and
       ``GSAR_i0 = SCAR*_i`` for the whole window (the cumulated window counts as one day, "0").
    3. Per security, ``U_it = rank(GSAR_it) / (T_i + 1) - 1/2`` over its ``T_i`` finite GSARs
       (average ranks); ``Ubar_t = (1/n_t) sum_i U_it`` over the ``n_t`` securities with day t.
    4. ``Z = Ubar_0 / S_Ubar``, ``S_Ubar^2 = (1/T) sum_t (n_t / n) Ubar_t^2`` over the ``T``
       days (estimation days with ``n_t > 0`` plus day 0), ``n`` = securities.
    5. ``t_grank = Z * sqrt((T - 2) / (T - 1 - Z^2))``, Student t with ``T - 2`` df
       (if ``Z^2 >= T - 1`` the statistic is +-inf and p = 0).

    Works for one-day (L = 1, SCAR = SAR_0) and multi-day windows alike; robust to
    event-induced volatility and serial correlation in the window, and S_Ubar (a time-series
    dispersion) absorbs cross-correlation. Caveat measured in this project's simulations
    (N = 30, T = 200, a common factor giving residual correlation 0.3, one shared event date):
    about 7% rejections at the 5% level, because dividing by the cross-sectional S_SCAR
    removes the common shock's share of the dispersion and so widens day 0's GSAR relative
    to the estimation days (5-6% without cross-correlation). Securities with NaN SCAR are dropped.
    """
    s = as_vector(scar, "scar")
    es = as_matrix(est_sar, "est_sar", s.size)
    keep = np.isfinite(s)
    s, es = s[keep], es[keep]
    n = s.size
    if n < MIN_N:
        return nan_result()
    sd = sample_sd(s)
    if math.isnan(sd):
        return nan_result()
    g = np.hstack([es, (s / sd)[:, None]])
    ubar, n_t, used, T, s2 = rank_dispersion(g, n)
    if T < 3:
        return nan_result()
    if not s2 > 0:
        return nan_result(float(T - 2))
    z = float(ubar[-1] / math.sqrt(s2))
    den = T - 1 - z * z
    if den <= 1e-9 * (T - 1):             # Z^2 = T - 1 up to rounding: the bound of the statistic
        return TestResult(math.copysign(math.inf, z), 0.0, float(T - 2))
    return t_result(z * math.sqrt((T - 2) / den), T - 2)


def sign_generalized(car, est_ar, p_hat: str = "mean") -> TestResult:
    """Generalized sign test, Cowan (1992) RQFA.

    ``p_hat = (1/N) sum_i (share of positive e_it among security i's finite estimation
    residuals)``, ``w = #{CAR_i > 0}`` (a zero CAR is not positive),
    ``Z = (w - N p_hat) / sqrt(N p_hat (1 - p_hat))``, N(0,1).
    Securities with NaN CAR, or without any estimation residual, are dropped; NaN if
    ``p_hat`` is 0 or 1.
    ``p_hat="pooled"`` takes the share of positive residuals over all firm-days pooled (R's
    estudy2 convention); it equals the default when every security has the same number of
    estimation residuals.
    """
    c = as_vector(car, "car")
    e = as_matrix(est_ar, "est_ar", c.size)
    fin = np.isfinite(e)
    cnt = fin.sum(axis=1)
    keep = np.isfinite(c) & (cnt > 0)
    c, e, fin, cnt = c[keep], e[keep], fin[keep], cnt[keep]
    N = c.size
    if N < MIN_N:
        return nan_result()
    pos = (fin & (np.where(fin, e, 0.0) > 0)).sum(axis=1)
    if p_hat == "pooled":
        p = float(pos.sum() / cnt.sum())
    elif p_hat == "mean":
        p = float((pos / cnt).mean())
    else:
        raise ValueError(f"p_hat must be 'mean' or 'pooled', got {p_hat!r}")
    if not 0.0 < p < 1.0:
        return nan_result()
    w = float(np.sum(c > 0))
    return z_result((w - N * p) / math.sqrt(N * p * (1.0 - p)))


WILCOXON_EXACT_MAX_N = 50
"""Largest n for which an untied Wilcoxon cell gets the exact null distribution of ``W+``."""

WILCOXON_PERMUTATION_MAX_N = 13
"""Largest n for which a tied Wilcoxon cell gets the exact permutation distribution (2**n sign flips)."""


def wilcoxon_p_method(n: int, has_ties: bool) -> str:
    """Which null distribution :func:`wilcoxon` takes its p-value from, for ``n`` nonzero CARs:
    ``"exact"`` (no tied ``|CAR|`` and ``n <= 50``: the exact distribution of ``W+``, Wilcoxon 1945),
    ``"permutation"`` (ties and ``n <= 13``: all ``2**n`` sign flips of the tied ranks) or ``"normal"``
    (otherwise: ``z`` of :func:`wilcoxon_z`, no continuity correction). This is
    ``scipy.stats.wilcoxon(method="auto")``'s rule."""
    if n <= WILCOXON_PERMUTATION_MAX_N and has_ties:
        return "permutation"
    if n <= WILCOXON_EXACT_MAX_N and not has_ties:
        return "exact"
    return "normal"


def _wilcoxon_parts(car) -> tuple[np.ndarray, int, float, float, bool]:
    """Nonzero finite CARs, n, W+, the tie-corrected null variance of W+, and whether |CAR| has ties."""
    c = as_vector(car, "car")
    d = c[np.isfinite(c)]
    d = d[d != 0]
    n = d.size
    from scipy import stats     # imported where used (start-up cost)

    r = stats.rankdata(np.abs(d))
    w_plus = float(r[d > 0].sum())
    _, tie_counts = np.unique(r, return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float(np.sum(tie_counts ** 3 - tie_counts)) / 48.0
    return d, n, w_plus, var, bool((tie_counts > 1).any())


def wilcoxon(car) -> TestResult:
    """Wilcoxon (1945) signed-rank test of CAR_i symmetric about 0.

    NaN CARs and CARs exactly equal to 0 are dropped first (Wilcoxon's treatment of zeros).
    ``statistic`` is ``W+``, the sum of the ranks of ``|CAR_i|`` (average ranks for ties) over the
    positive CARs: R's ``wilcox.test`` ``V`` and estudy2's ``wilcoxon_test`` statistic. Under the
    null ``E[W+] = n(n+1)/4``; ``W+`` runs from 0 to ``n(n+1)/2``.
    ``p_value`` is two-sided, ``scipy.stats.wilcoxon(method="auto")``: from the distribution
    :func:`wilcoxon_p_method` names (exact for ``n <= 50`` without ties, the exact permutation
    distribution for ties with ``n <= 13``, else the normal score of :func:`wilcoxon_z`).
    R's ``wilcox.test`` gives the same ``V`` and, for ``n < 50`` without ties, the same p-value;
    otherwise R uses the normal approximation with a continuity correction.
    """
    d, n, w_plus, _, _ = _wilcoxon_parts(car)
    if n < MIN_N:
        return nan_result()
    from scipy import stats

    res = stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="two-sided", method="auto")
    return TestResult(w_plus, float(res.pvalue), None)


def wilcoxon_z(car) -> TestResult:
    """The normal score of Wilcoxon's ``W+`` (not in the battery; for users who want a z):
    ``z = (W+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 - sum_g (t_g^3 - t_g)/48)`` (``t_g`` sizes of groups
    of tied ``|CAR|``), no continuity correction; ``p_value = 2 Phi(-|z|)``. Zeros and NaN dropped
    as in :func:`wilcoxon`."""
    _, n, w_plus, var, _ = _wilcoxon_parts(car)
    if n < MIN_N or not var > 0:
        return nan_result()
    return z_result((w_plus - n * (n + 1) / 4.0) / math.sqrt(var))
