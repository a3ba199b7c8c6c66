"""Cross-sectional test battery for one event x one group x one event window.

Pure numpy functions on arrays aligned across securities ``i = 1..N``; ``NaN`` means
missing. Every test returns :class:`TestResult` ``(statistic, p_value, df)`` with a
two-sided p-value (``df`` is ``None`` for tests referred to N(0,1) or resampled).
The formulas follow ``docs/METHODS.md`` (section "Cross-sectional tests").

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
from typing import NamedTuple

import numpy as np
from scipy import stats

from eventstudy.errors import EstimationError

__all__ = [
    "TestResult", "TEST_IDS", "TEST_NAMES", "MIN_N", "MIN_OVERLAP",
    "t_cross_section", "t_time_series", "patell", "bmp", "kolari_pynnonen", "corrado",
    "grank", "sign_generalized", "wilcoxon", "wilcoxon_z", "wilcoxon_p_method", "bootstrap_caar", "run_tests",
    "residual_correlation_matrix", "mean_pairwise_correlation", "upper_mean", "adjust_p", "P_ADJUST",
]

MIN_N = 2
"""Fewest securities a cross-sectional test accepts; below it the result is NaN."""

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


class TestResult(NamedTuple):
    """One test's outcome: statistic, two-sided p-value, degrees of freedom (None = normal/resampled)."""

    __test__ = False  # not a pytest test class despite its name

    statistic: float
    p_value: float
    df: float | None


# ----------------------------------------------------------------------------- helpers

def _nan(df: float | None = None) -> TestResult:
    return TestResult(math.nan, math.nan, df)


def _vec(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array over securities, got shape {a.shape}")
    return a


def _mat(x, name: str, n: int) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1 and n == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] != n:
        raise ValueError(f"{name} must be a 2-D array with one row per security ({n} rows), got shape {a.shape}")
    return a


def _t_result(stat: float, df: float) -> TestResult:
    if not math.isfinite(stat) or df < 1:
        return _nan(float(df) if df >= 1 else None)
    return TestResult(float(stat), float(2.0 * stats.t.sf(abs(stat), df)), float(df))


def _z_result(stat: float) -> TestResult:
    if not math.isfinite(stat):
        return _nan()
    return TestResult(float(stat), float(2.0 * stats.norm.sf(abs(stat))), None)


def _one_sample_t(x: np.ndarray) -> TestResult:
    """mean(x) / (sd(x, ddof=1) / sqrt(n)), t with n-1 df; NaN if n < MIN_N or sd == 0."""
    n = x.size
    if n < MIN_N:
        return _nan()
    sd = _sample_sd(x)
    if math.isnan(sd):
        return _nan(float(n - 1))
    return _t_result(float(np.mean(x)) / (sd / math.sqrt(n)), n - 1)


def _sample_sd(x: np.ndarray) -> float:
    """sd(x, ddof=1), or NaN when x is constant or the sd is not a positive finite number. The
    constancy check is exact: np.mean of equal values can round, leaving sd ~ 1e-17 > 0 and t ~ 1e16."""
    sd = float(np.std(x, ddof=1))
    if x.max() == x.min() or not (sd > 0 and math.isfinite(sd)):
        return math.nan
    return sd


def _row_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks along each row ignoring NaN (NaN stays NaN) and the count of finite values per row."""
    if x.size == 0:
        return x.copy(), np.zeros(x.shape[0], dtype=int)
    fin = np.isfinite(x)
    # non-finite values go last (+inf) so they do not move the finite values' ranks, then are blanked
    r = stats.rankdata(np.where(fin, x, np.inf), axis=1)
    return np.where(fin, r, np.nan), fin.sum(axis=1)


def _col_means(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means over finite entries and the count of finite entries (mean NaN where count is 0)."""
    ok = np.isfinite(u)
    cnt = ok.sum(axis=0)
    tot = np.where(ok, u, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    return mean, cnt


# ----------------------------------------------------------------------------- parametric tests

def t_cross_section(car) -> TestResult:
    """Cross-sectional t test of the mean CAR.

    ``t = CAAR / (sd(CAR_i) / sqrt(N))``, ``CAAR = mean_i CAR_i``, sd with ddof 1;
    Student t with ``N - 1`` df. NaN CARs are dropped.
    Reference: Brown & Warner (1985) JFE; Campbell, Lo & MacKinlay (1997) ch. 4.
    """
    c = _vec(car, "car")
    return _one_sample_t(c[np.isfinite(c)])


def t_time_series(car, est_ar, L: int) -> TestResult:
    """Time-series t ("crude dependence adjustment"), Brown & Warner (1980, 1985).

    ``AAR_t = mean_i e_it`` over the securities with a residual on estimation day t;
    ``S = sd(AAR_t)`` (ddof 1) over the ``M`` estimation days with at least one residual;
    ``t = CAAR / (sqrt(L) * S)``, Student t with ``M - 1`` df. Because S is measured on
    the portfolio, it absorbs cross-sectional correlation. Securities with NaN CAR are
    dropped from both the CAAR and the AAR series.
    """
    c = _vec(car, "car")
    e = _mat(est_ar, "est_ar", c.size)
    keep = np.isfinite(c)
    c, e = c[keep], e[keep]
    if c.size < MIN_N:
        return _nan()
    aar, cnt = _col_means(e)
    aar = aar[cnt > 0]
    M = aar.size
    if M < 2:
        return _nan()
    s = _sample_sd(aar)
    if math.isnan(s):
        return _nan(float(M - 1))
    return _t_result(float(np.mean(c)) / (math.sqrt(L) * s), M - 1)


def patell(scar, m, k: int) -> TestResult:
    """Patell (1976) Z test on standardised CARs.

    ``Z = sum_i SCAR_i / sqrt(sum_i (M_i - k) / (M_i - k - 2))``, N(0,1): the variance of a
    t-distributed SCAR_i with ``M_i - k`` df is ``(M_i - k)/(M_i - k - 2)``.
    Securities with NaN SCAR are dropped. Raises :class:`~eventstudy.errors.EstimationError`
    if a kept security has ``M_i - k <= 2`` (its SCAR has no finite variance; the entry rule
    ``M_i >= k + 3`` of docs/METHODS.md rules that out).
    Reference: Patell (1976) JAR; Campbell, Lo & MacKinlay (1997) ch. 4.
    """
    s = _vec(scar, "scar")
    mm = _vec(m, "m")
    if mm.shape != s.shape:
        raise ValueError(f"m must align with scar: shapes {mm.shape} and {s.shape}")
    keep = np.isfinite(s)
    s, mm = s[keep], mm[keep]
    if s.size < MIN_N:
        return _nan()
    dof = mm - k
    if np.any(~(dof > 2)):
        bad = int(np.flatnonzero(~(dof > 2))[0])
        raise patell_error(bad, float(mm[bad]), k)
    return _z_result(float(s.sum() / math.sqrt(float(np.sum(dof / (dof - 2))))))


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
    s = _vec(scar, "scar")
    return _one_sample_t(s[np.isfinite(s)])


def _centred_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    wf, x0 = _centred_rows(x)
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
    s = _vec(scar, "scar")
    e = _mat(est_ar, "est_ar", s.size)
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
        return _nan(float(N - 1))
    return _t_result(base.statistic * math.sqrt((1.0 - r) / den), N - 1)


# ----------------------------------------------------------------------------- rank / sign tests

def _rank_dispersion(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    """Rank scores shared by the Corrado and GRANK tests.

    ``U_it = K_it / (n_i + 1) - 1/2`` with ``K_it`` the average rank of ``x_it`` in row ``i``
    (its ``n_i`` finite values); ``Ubar_t`` the mean over the ``n_t`` rows present on day ``t``;
    ``S^2 = (1/D) sum_t (n_t / n) Ubar_t^2`` over the ``D`` days with a value.
    Returns ``(Ubar, n_t, used, D, S^2)``.
    """
    rk, n_i = _row_ranks(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = rk / (n_i[:, None] + 1.0) - 0.5
    ubar, n_t = _col_means(u)
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
    es = _mat(est_sar, "est_sar", N0)
    keep = np.isfinite(ev).any(axis=1)
    es, ev = es[keep], ev[keep]
    N = ev.shape[0]
    if N < MIN_N:
        return _nan()
    x = np.hstack([es, ev])
    kbar, n_t, used, D, s2 = _rank_dispersion(x, N)
    if D < 2:
        return _nan()
    win = np.zeros(x.shape[1], dtype=bool)
    win[es.shape[1]:] = True
    wu = win & used
    if s2 <= 0 or not wu.any():
        return _nan()
    z = float(kbar[wu].sum() / (math.sqrt(s2) * math.sqrt(float(np.sum(N / n_t[wu])))))
    return _z_result(z)


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
    s = _vec(scar, "scar")
    es = _mat(est_sar, "est_sar", s.size)
    keep = np.isfinite(s)
    s, es = s[keep], es[keep]
    n = s.size
    if n < MIN_N:
        return _nan()
    sd = _sample_sd(s)
    if math.isnan(sd):
        return _nan()
    g = np.hstack([es, (s / sd)[:, None]])
    ubar, n_t, used, T, s2 = _rank_dispersion(g, n)
    if T < 3:
        return _nan()
    if not s2 > 0:
        return _nan(float(T - 2))
    z = float(ubar[-1] / math.sqrt(s2))
    den = T - 1 - z * z
    if den <= 1e-9 * (T - 1):             # Z^2 = T - 1 up to rounding: the bound of the statistic
        return TestResult(math.copysign(math.inf, z), 0.0, float(T - 2))
    return _t_result(z * math.sqrt((T - 2) / den), T - 2)


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
    c = _vec(car, "car")
    e = _mat(est_ar, "est_ar", c.size)
    fin = np.isfinite(e)
    cnt = fin.sum(axis=1)
    keep = np.isfinite(c) & (cnt > 0)
    c, e, fin, cnt = c[keep], e[keep], fin[keep], cnt[keep]
    N = c.size
    if N < MIN_N:
        return _nan()
    pos = (fin & (np.where(fin, e, 0.0) > 0)).sum(axis=1)
    if p_hat == "pooled":
        p = float(pos.sum() / cnt.sum())
    elif p_hat == "mean":
        p = float((pos / cnt).mean())
    else:
        raise ValueError(f"p_hat must be 'mean' or 'pooled', got {p_hat!r}")
    if not 0.0 < p < 1.0:
        return _nan()
    w = float(np.sum(c > 0))
    return _z_result((w - N * p) / math.sqrt(N * p * (1.0 - p)))


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
    c = _vec(car, "car")
    d = c[np.isfinite(c)]
    d = d[d != 0]
    n = d.size
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
        return _nan()
    res = stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="two-sided", method="auto")
    return TestResult(w_plus, float(res.pvalue), None)


def wilcoxon_z(car) -> TestResult:
    """The normal score of Wilcoxon's ``W+`` (not in the battery; for users who want a z):
    ``z = (W+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 - sum_g (t_g^3 - t_g)/48)`` (``t_g`` sizes of groups
    of tied ``|CAR|``), no continuity correction; ``p_value = 2 Phi(-|z|)``. Zeros and NaN dropped
    as in :func:`wilcoxon`."""
    _, n, w_plus, var, _ = _wilcoxon_parts(car)
    if n < MIN_N or not var > 0:
        return _nan()
    return _z_result((w_plus - n * (n + 1) / 4.0) / math.sqrt(var))


# ----------------------------------------------------------------------------- resampling

def bootstrap_caar(car, est_ar, L: int, n_boot: int | None = 999, seed: int = 0,
                   statistic: str = "caar", *, scar=None, est_sar=None, k: int = 0) -> TestResult:
    """Resampling p-value from pseudo-event windows that keep the cross-section together.

    All securities share the event date, so their window returns are correlated; the
    null distribution is therefore built from whole cross-sections: a pseudo-window is
    ``L`` consecutive estimation days starting at day ``s`` (circular: the window may wrap
    from the end of the estimation window to its start), and the statistic is computed on
    the residuals of ALL securities on those same days.

    ``statistic="caar"``: observed ``CAAR = mean_i CAR_i``; pseudo
    ``CAAR*(s) = mean_i sum_{t=s..s+L-1} e_it``.
    ``statistic="mean_scar"`` (needs ``scar`` and ``est_sar``): observed ``mean_i SCAR_i``;
    pseudo ``mean_i sum_{t in s..s+L-1} (e_it / s_i) / sqrt(L)``.
    A security enters a pseudo-window only if it has all L residuals in it; starts where no
    security qualifies are never drawn. ``n_boot`` starts are drawn uniformly with
    replacement (``numpy.random.default_rng(seed)``); ``n_boot=None`` uses each of the ``T'``
    usable starts once (a permutation-style enumeration). Two-sided
    ``p = (1 + #{|stat*| >= |stat|}) / (B + 1)``. ``statistic`` in the result is the
    observed CAAR (decimal) or mean SCAR; ``df`` is None.

    Assumptions: residuals are exchangeable over days (no autocorrelation, stable variance:
    circular windows join the two ends of the estimation window); in-sample residuals are
    shrunk, ``E[e_it^2] = sigma_i^2 (M_i - k) / M_i``, so with ``k > 0`` each security's
    residuals are rescaled by ``sqrt(M_i / (M_i - k))`` (``M_i`` its finite residuals). Even so,
    out-of-sample prediction errors are O(k/M) more dispersed than that, which makes the p-value
    slightly liberal for short estimation windows. There are at most T distinct pseudo-windows,
    which bounds the p-value's resolution whatever ``n_boot`` is.
    Reference: in the spirit of the "sampling from the estimation window" bootstrap of
    Marais (1984) and the cross-section-preserving resampling recommended by Kolari &
    Pynnonen (2010) for clustered event dates.
    """
    if statistic not in ("caar", "mean_scar"):
        raise ValueError(f"statistic must be 'caar' or 'mean_scar', got {statistic!r}")
    L = int(L)
    if L < 1:
        raise ValueError(f"L must be >= 1, got {L}")
    if statistic == "caar":
        obs_vec = _vec(car, "car")
        src = _mat(est_ar, "est_ar", obs_vec.size)
        scale_sum = 1.0
    else:
        if scar is None or est_sar is None:
            raise ValueError("statistic='mean_scar' needs scar= and est_sar=")
        obs_vec = _vec(scar, "scar")
        src = _mat(est_sar, "est_sar", obs_vec.size)
        scale_sum = 1.0 / math.sqrt(L)
    keep = np.isfinite(obs_vec)
    obs_vec, src = obs_vec[keep], src[keep]
    if obs_vec.size < 1:
        return _nan()
    T = src.shape[1]
    if T < L or T < 2:
        return _nan()
    fin = np.isfinite(src)
    if k > 0:
        m_i = fin.sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            fac = np.where(m_i > k, np.sqrt(m_i / np.maximum(m_i - k, 1.0)), np.nan)
        src = src * fac[:, None]
        fin = np.isfinite(src)
    x = np.where(fin, src, 0.0)
    # circular window sums for every start s = 0..T-1 via cumulative sums of the wrapped series
    xe = np.hstack([x, x[:, :L - 1]])
    fe = np.hstack([fin, fin[:, :L - 1]]).astype(np.int64)
    cs = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(xe, axis=1)], axis=1)
    cf = np.concatenate([np.zeros((x.shape[0], 1), dtype=np.int64), np.cumsum(fe, axis=1)], axis=1)
    wsum = cs[:, L:L + T] - cs[:, :T]
    wcnt = cf[:, L:L + T] - cf[:, :T]
    full = wcnt == L
    n_full = full.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pseudo = np.where(full, wsum, 0.0).sum(axis=0) / n_full * scale_sum
    pseudo = pseudo[n_full > 0]
    if pseudo.size == 0:
        return _nan()
    stat = float(obs_vec.mean())
    if n_boot is None:
        draws = pseudo
    else:
        n_boot = int(n_boot)
        if n_boot < 1:
            raise ValueError(f"n_boot must be >= 1 or None, got {n_boot}")
        rng = np.random.default_rng(seed)
        draws = pseudo[rng.integers(0, pseudo.size, size=n_boot)]
    # tolerance so that a pseudo statistic equal to the observed one (up to rounding) counts as extreme
    tol = 1e-12 * max(abs(stat), 1e-300)
    exceed = int(np.sum(np.abs(draws) >= abs(stat) - tol))
    return TestResult(stat, float((1 + exceed) / (draws.size + 1)), None)


# ----------------------------------------------------------------------------- many cells at once

P_ADJUST = ("holm", "fdr_bh")


def adjust_p(p, method: str = "holm") -> np.ndarray:
    """p-values adjusted for testing a family of ``m`` hypotheses at once (``m`` = the finite entries
    of ``p``; NaN stays NaN and is not counted).

    With the finite p-values sorted, ``p_(1) <= ... <= p_(m)``:

    * ``holm`` (Holm 1979): ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``. Rejecting where
      ``p~ <= alpha`` keeps the chance of any false rejection at most ``alpha`` whatever the
      dependence between the tests (the cells of one event date are cross-correlated).
    * ``fdr_bh`` (Benjamini & Hochberg 1995): ``q_(i) = min(1, min_{j >= i} m p_(j) / j)``. Rejecting
      where ``q <= alpha`` keeps the expected share of false rejections at most ``alpha`` for
      independent or positively dependent tests (Benjamini & Yekutieli 2001).

    Same numbers as ``statsmodels.stats.multitest.multipletests`` (tested), without its
    per-call garbage collection.
    """
    if method not in P_ADJUST:
        raise ValueError(f"method must be one of {', '.join(P_ADJUST)}, not {method!r}")
    x = np.asarray(p, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"p must be one-dimensional, got shape {x.shape}")
    fin = np.flatnonzero(np.isfinite(x))
    if ((x[fin] < 0) | (x[fin] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(x.shape, np.nan)
    m = fin.size
    if m:
        order = fin[np.argsort(x[fin], kind="mergesort")]
        ps = x[order]
        j = np.arange(1, m + 1)
        if method == "holm":
            adj = np.maximum.accumulate((m - j + 1) * ps)
        else:
            adj = np.minimum.accumulate((ps / (j / m))[::-1])[::-1]     # m p / j, as statsmodels rounds it
        out[order] = np.minimum(adj, 1.0)
    return out


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
    c = _vec(car, "car")
    N = c.size
    s = _vec(scar, "scar")
    if s.size != N:
        raise ValueError(f"scar has {s.size} securities, car has {N}")
    ea = _mat(est_ar, "est_ar", N)
    es = _mat(est_sar, "est_sar", N)
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
