"""Cross-sectional test battery for one event x one group x one event window.

Pure numpy functions on arrays aligned across securities ``i = 1..N``; ``NaN`` means
missing. Every test returns :class:`TestResult` ``(statistic, p_value, df)`` with a
two-sided p-value (``df`` is ``None`` for tests referred to N(0,1) or resampled).
The formulas follow ``docs/METHODS.md`` (section "Cross-sectional tests").
This module holds the parametric tests and :func:`run_tests`; the rank and sign tests are in
:mod:`eventstudy.inference.ranks`, the bootstrap in :mod:`eventstudy.inference.bootstrap`, the shared
helpers in :mod:`eventstudy.inference.base` and the multiple-testing adjustment in
:mod:`eventstudy.inference.multitest` (all re-exported here under their old names).

Inputs (as the engine produces them for one cell)
-------------------------------------------------
``car``      (N,)   CAR_i over the window [t1, t2] (decimal returns).
``scar``     (N,)   SCAR_i = CAR_i / sqrt(1' V_i 1) (prediction-error corrected).
``m``        (N,)   M_i, non-missing estimation-window observations of security i.
``k``        int    number of normal-return-model parameters.
``L``        int    window length t2 - t1 + 1.
``est_ar``   (N, T) estimation-window residuals e_it on relative days T0..T1.
``est_sar``  (N, T) e_it / s_i.
``event_sar`` (N, L) SAR_it on the window's days (prediction-error corrected).

The rank tests (``corrado``, ``grank``) rank, per security, its estimation-window
SARs together with its event-window SARs (``corrado``) or together with its
re-standardised SCAR (``grank``); gap days between the estimation and the event
window never enter, nor do event-span days outside the tested window (Corrado 1989 ranked
over a whole event period; here each window's test is self-contained, so under the null
the ranked days are exchangeable). So ``est_sar`` and ``event_sar`` are all they need.

Conventions shared by every test
--------------------------------
* Securities whose CAR (or SCAR, for the standardised tests) is NaN are dropped from
  every array of that test; NaNs inside the estimation window are skipped.
* Fewer than ``MIN_N = 2`` usable securities, a zero or non-finite dispersion, or too
  few estimation days: the test returns ``TestResult(nan, nan, df)`` instead of raising
  (the engine reports it). Arrays of inconsistent shape raise ``ValueError`` (a caller bug);
  ``patell`` raises ``EstimationError`` when some ``M_i - k <= 2``.
* A constant sample (zero dispersion) is NaN, not +-inf: nothing can be said about it.
* Ties in rank tests get average ranks.
"""
from __future__ import annotations

import math

import numpy as np

from eventstudy.errors import EstimationError
from eventstudy.inference.base import (MIN_N, TestResult, as_matrix, as_vector, col_means, nan_result, one_sample_t,
                                       sample_sd, t_result, z_result)
# the rest of the battery, and the names this module has always offered (re-exported)
from eventstudy.inference.bootstrap import bootstrap_caar
from eventstudy.inference.multitest import P_ADJUST, adjust_p
from eventstudy.inference.ranks import (WILCOXON_EXACT_MAX_N, WILCOXON_PERMUTATION_MAX_N, corrado, grank,
                                        sign_generalized, wilcoxon, wilcoxon_p_method, wilcoxon_z)

__all__ = [
    "TestResult", "TEST_IDS", "TEST_NAMES", "MIN_N", "MIN_OVERLAP",
    "t_cross_section", "t_time_series", "patell", "bmp", "kolari_pynnonen", "corrado",
    "grank", "sign_generalized", "wilcoxon", "wilcoxon_z", "wilcoxon_p_method", "bootstrap_caar", "run_tests",
    "residual_correlation_matrix", "mean_pairwise_correlation", "upper_mean", "adjust_p", "P_ADJUST",
    "centred_rows", "patell_error", "WILCOXON_EXACT_MAX_N", "WILCOXON_PERMUTATION_MAX_N",
]

MIN_OVERLAP = 30
"""Fewest common estimation days for a pair of securities to enter the KP mean correlation."""

TEST_IDS: tuple[str, ...] = (
    "t_cross_section", "t_time_series", "patell", "bmp", "kolari_pynnonen",
    "corrado", "grank", "sign_generalized", "wilcoxon",
)
"""Test ids in the fixed order :func:`run_tests` reports them (``bootstrap`` is appended when requested)."""

TEST_NAMES: dict[str, str] = {
    "t_cross_section": "Cross-sectional t",
    "t_time_series": "Time-series t (crude dependence adjustment)",
    "patell": "Patell Z",
    "bmp": "Boehmer–Musumeci–Poulsen t",
    "kolari_pynnonen": "Kolari–Pynnönen adjusted BMP",
    "corrado": "Corrado rank (Corrado–Zivney, Cowan)",
    "grank": "Generalized rank t (Kolari–Pynnönen)",
    "sign_generalized": "Generalized sign Z (Cowan)",
    "wilcoxon": "Wilcoxon signed-rank W+",
    "bootstrap": "Bootstrap of pseudo-event windows",
}


# ----------------------------------------------------------------------------- parametric tests

def t_cross_section(car) -> TestResult:
    """Cross-sectional t test of the mean CAR.

    ``t = CAAR / (sd(CAR_i) / sqrt(N))``, ``CAAR = mean_i CAR_i``, sd with ddof 1;
    Student t with ``N - 1`` df. NaN CARs are dropped.
    Reference: Brown & Warner (1985) JFE; Campbell, Lo & MacKinlay (1997) ch. 4.
    """
    c = as_vector(car, "car")
    return one_sample_t(c[np.isfinite(c)])


def t_time_series(car, est_ar, L: int) -> TestResult:
    """Time-series t ("crude dependence adjustment"), Brown & Warner (1980, 1985).

    ``AAR_t = mean_i e_it`` over the securities with a residual on estimation day t;
    ``S = sd(AAR_t)`` (ddof 1) over the ``M`` estimation days with at least one residual;
    ``t = CAAR / (sqrt(L) * S)``, Student t with ``M - 1`` df. Because S is measured on
    the portfolio, it absorbs cross-sectional correlation. Securities with NaN CAR are
    dropped from both the CAAR and the AAR series.
    """
    c = as_vector(car, "car")
    e = as_matrix(est_ar, "est_ar", c.size)
    keep = np.isfinite(c)
    c, e = c[keep], e[keep]
    if c.size < MIN_N:
        return nan_result()
    aar, cnt = col_means(e)
    aar = aar[cnt > 0]
    M = aar.size
    if M < 2:
        return nan_result()
    s = sample_sd(aar)
    if math.isnan(s):
        return nan_result(float(M - 1))
    return t_result(float(np.mean(c)) / (math.sqrt(L) * s), M - 1)


def patell(scar, m, k: int) -> TestResult:
    """Patell (1976) Z test on standardised CARs.

    ``Z = sum_i SCAR_i / sqrt(sum_i (M_i - k) / (M_i - k - 2))``, N(0,1): the variance of a
    t-distributed SCAR_i with ``M_i - k`` df is ``(M_i - k)/(M_i - k - 2)``.
    Securities with NaN SCAR are dropped. Raises :class:`~eventstudy.errors.EstimationError`
    if a kept security has ``M_i - k <= 2`` (its SCAR has no finite variance; the entry rule
    ``M_i >= k + 3`` of docs/METHODS.md rules that out).
    Reference: Patell (1976) JAR; Campbell, Lo & MacKinlay (1997) ch. 4.
    """
    s = as_vector(scar, "scar")
    mm = as_vector(m, "m")
    if mm.shape != s.shape:
        raise ValueError(f"m must align with scar: shapes {mm.shape} and {s.shape}")
    keep = np.isfinite(s)
    s, mm = s[keep], mm[keep]
    if s.size < MIN_N:
        return nan_result()
    dof = mm - k
    if np.any(~(dof > 2)):
        bad = int(np.flatnonzero(~(dof > 2))[0])
        raise patell_error(bad, float(mm[bad]), k)
    return z_result(float(s.sum() / math.sqrt(float(np.sum(dof / (dof - 2))))))


def patell_error(position: int, m_i: float, k: int) -> EstimationError:
    """The error of a cell whose security at ``position`` has too few estimation days for Patell."""
    return EstimationError(
        f"the Patell test needs M_i - k > 2 estimation observations for every security; the security at "
        f"position {position} of this cell has M_i = {m_i:g} with k = {k}: require at least k + 3 = {k + 3} "
        f"observations in the estimation window (min_obs)")


def bmp(scar) -> TestResult:
    """Standardised cross-sectional test, Boehmer, Musumeci & Poulsen (1991) JFE.

    ``t = mean(SCAR_i) / (sd(SCAR_i) / sqrt(N))``, sd with ddof 1; Student t with ``N - 1`` df.
    Robust to event-induced variance, not to cross-correlation. NaN SCARs are dropped.
    """
    s = as_vector(scar, "scar")
    return one_sample_t(s[np.isfinite(s)])


def centred_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(w, x0)`` of a (N, T) array: ``w`` 1.0 where ``x`` is finite (else 0.0) and ``x0`` each row minus its
    mean over its finite entries (0.0 where missing), the parts of the pairwise-complete correlations."""
    w = np.isfinite(x)
    wf = w.astype(float)
    cnt_row = wf.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(cnt_row > 0, np.where(w, x, 0.0).sum(axis=1) / np.maximum(cnt_row, 1), 0.0)
    return wf, np.where(w, x - centre[:, None], 0.0)


def residual_correlation_matrix(est_ar, min_overlap: int = MIN_OVERLAP) -> np.ndarray:
    """Pairwise-complete Pearson correlations of estimation residuals, (N, N).

    For securities i, j the correlation uses the days on which both have a residual
    (means and variances over those common days, as ``pandas.DataFrame.corr``). Pairs
    with fewer than ``min_overlap`` common days, or a zero variance on them, are NaN.
    Vectorised: sums over common days are products of the masked data with the masks.
    """
    x = np.asarray(est_ar, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"est_ar must be 2-D (securities x days), got shape {x.shape}")
    wf, x0 = centred_rows(x)
    n = wf @ wf.T                                        # common days
    sx = x0 @ wf.T                                       # sx[i, j] = sum of x_i over days common with j
    sxx = (x0 * x0) @ wf.T
    sxy = x0 @ x0.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        vx = sxx - sx * sx / n
        vy = vx.T
        r = cov / np.sqrt(vx * vy)
    scale = np.sqrt(np.maximum(sxx, sxx.T) + 1e-300)
    bad = (n < max(int(min_overlap), 2)) | ~(vx > 1e-13 * scale ** 2) | ~(vy > 1e-13 * scale ** 2)
    r = np.where(bad, np.nan, np.clip(r, -1.0, 1.0))
    return r


def mean_pairwise_correlation(est_ar, min_overlap: int = MIN_OVERLAP) -> tuple[float, int]:
    """Mean of the pairwise-complete residual correlations over pairs i < j, and the number of pairs used.

    Pairs below ``min_overlap`` common days (or with zero variance) are ignored; NaN if none is left.
    This is the ``r`` of Kolari & Pynnonen (2010).
    """
    return upper_mean(residual_correlation_matrix(est_ar, min_overlap))


def upper_mean(r: np.ndarray) -> tuple[float, int]:
    """Mean of the finite entries of the square matrix ``r`` above the diagonal (pairs i < j), and their
    number (NaN and 0 if none)."""
    r = np.asarray(r, dtype=float)
    v = r[np.triu_indices(r.shape[0], k=1)]
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, 0
    return float(v.mean()), int(v.size)


def kolari_pynnonen(scar, est_ar, min_overlap: int = MIN_OVERLAP, clusters=None) -> TestResult:
    """BMP adjusted for cross-correlation, Kolari & Pynnonen (2010) RFS.

    ``t_KP = t_BMP * sqrt((1 - r) / (1 + (N - 1) r))``, Student t with ``N - 1`` df, where
    ``r`` is the mean over pairs i < j of the Pearson correlations of the estimation
    residuals ``e_it`` computed on each pair's common days (pairwise-complete). Pairs
    sharing fewer than ``min_overlap`` (default 30) days are ignored; if no pair is left,
    or ``1 + (N - 1) r <= 0``, the result is NaN. Securities with NaN SCAR are dropped.

    ``clusters`` (N,), optional: the calendar date of each security's event (pooled firm-specific
    events). Securities whose events fall on different dates are independent by assumption: their
    ``r_ij`` is 0 (and counted), so ``r = sum_c n_c (n_c - 1) rbar_c / (N (N - 1))`` with ``rbar_c``
    the mean correlation within date cluster c. This is Kolari & Pynnonen's variance of the sum of
    SCARs, ``N + sum_{i != j} rho_ij``, with rho_ij = 0 across dates; one cluster is the original test
    (docs/METHODS.md, section 15).
    """
    s = as_vector(scar, "scar")
    e = as_matrix(est_ar, "est_ar", s.size)
    keep = np.isfinite(s)
    s, e = s[keep], e[keep]
    base = bmp(s)
    N = s.size
    if not math.isfinite(base.statistic):
        return base
    if clusters is None:
        r, _ = mean_pairwise_correlation(e, min_overlap)
    else:
        cl = np.asarray(clusters)[keep]
        rm = residual_correlation_matrix(e, min_overlap)
        rm = np.where(cl[:, None] == cl[None, :], rm, 0.0)
        r, _ = upper_mean(rm)
    den = 1.0 + (N - 1) * r
    if not math.isfinite(r) or den <= 0:
        return nan_result(float(N - 1))
    return t_result(base.statistic * math.sqrt((1.0 - r) / den), N - 1)


# ----------------------------------------------------------------------------- the battery

def run_tests(*, car, scar, m, k: int, L: int, est_ar, est_sar, event_sar,
              n_boot: int | None = 0, seed: int = 0, min_overlap: int = MIN_OVERLAP,
              bootstrap_statistic: str = "caar", clusters=None) -> dict[str, TestResult]:
    """Run every test of :data:`TEST_IDS` (in that order) on one (event, group, window) cell.

    Arrays as described in the module docstring: ``car``, ``scar``, ``m`` (N,);
    ``est_ar``, ``est_sar`` (N, T); ``event_sar`` (N, L). ``bootstrap`` is appended when
    ``n_boot`` is a positive int or None (all pseudo-windows); see :func:`bootstrap_caar`.
    ``clusters`` (N,): event dates of pooled firm-specific events (:func:`kolari_pynnonen`).
    """
    c = as_vector(car, "car")
    N = c.size
    s = as_vector(scar, "scar")
    if s.size != N:
        raise ValueError(f"scar has {s.size} securities, car has {N}")
    ea = as_matrix(est_ar, "est_ar", N)
    es = as_matrix(est_sar, "est_sar", N)
    if ea.shape != es.shape:
        raise ValueError(f"est_ar {ea.shape} and est_sar {es.shape} must have the same shape")
    ev = np.asarray(event_sar, dtype=float)
    if ev.ndim == 1:
        ev = ev[:, None]
    if ev.ndim != 2 or ev.shape[0] != N:
        raise ValueError(f"event_sar must have one row per security ({N}), got shape {ev.shape}")
    out: dict[str, TestResult] = {
        "t_cross_section": t_cross_section(c),
        "t_time_series": t_time_series(c, ea, L),
        "patell": patell(s, m, k),
        "bmp": bmp(s),
        "kolari_pynnonen": kolari_pynnonen(s, ea, min_overlap, clusters),
        "corrado": corrado(es, ev),
        "grank": grank(s, es),
        "sign_generalized": sign_generalized(c, ea),
        "wilcoxon": wilcoxon(c),
    }
    if n_boot is None or int(n_boot) > 0:
        out["bootstrap"] = bootstrap_caar(c, ea, L, n_boot=n_boot, seed=seed, statistic=bootstrap_statistic,
                                          scar=s, est_sar=es, k=k)
    return out
