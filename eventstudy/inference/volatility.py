"""Tests for abnormal returns under event-induced volatility, and for the volatility itself.

Test ids (rows of ``volatility_tests.csv``; every p-value two-sided):

``savickas``
    ``t = mean(S_i) / (sd(S_i) / sqrt(N))``, ``S_i = CAR_i / sqrt(sum_{t in W} h_it)`` with ``h_it``
    the GARCH(1,1) conditional variance forecast of the event days (:mod:`eventstudy.estimation.garch`),
    sd with ddof 1; Student t with N-1 d.o.f. Savickas (2003), "Event-induced volatility and tests for
    abnormal performance", J. Financial Research 26(2); the cross-sectional standardisation is that of
    Boehmer, Musumeci & Poulsen (1991), so the test keeps its size when the event raises variance.
    ``estimate``: mean ``S_i``.
``variance_ratio``
    Event-induced variance: ``s2_t`` the cross-sectional variance (ddof 1) of the standardised abnormal
    returns ``SAR_it`` on day t (estimation days: studentised residuals ``e_it / (s_i sqrt(1 - h_it))``;
    event days: ``AR_it / (s_i sqrt(1 + h_it))``), ``s2_est`` its mean over the estimation days.
    ``estimate`` ``VR = mean_{t in W} s2_t / s2_est``; ``statistic`` ``X = sum_{t in W} (N_t - 1) s2_t / s2_est``,
    chi-square with ``sum (N_t - 1)`` d.o.f. under independent normal SARs of constant variance; p
    ``2 min(P(X' >= X), P(X' <= X))``. The cross-sectional variance is free of a shock common to all
    securities (the event's mean effect); the ratio of event-period to estimation-period residual
    variance is Beaver's (1968) measure, taken across securities as in Boehmer, Musumeci & Poulsen (1991).
``garch_variance_shift``
    A score (Lagrange-multiplier) form of the GARCH variance-shift dummy: with ``h_it`` the GARCH(1,1)
    event-day variance forecasts and ``z_it = AR_it / sqrt(h_it)``, ``u_i = (1/L) sum_{t in W} (z_it^2 - 1)``
    (the score of a dummy ``delta D_t`` added to ``h_t``, at ``delta = 0``, with equal day weights);
    ``estimate`` mean ``u_i`` (the window's variance relative to the forecast, minus 1), statistic
    ``t = mean(u_i) / (sd(u_i) / sqrt(N))``, Student t with N-1 d.o.f. (the cross-sectional
    standardisation of Boehmer et al. 1991 instead of the normal-theory ``Var(z^2) = 2``). The squared
    abnormal return contains any mean effect: read it beside ``savickas``. The maximum-likelihood fit
    of the dummy itself (Savickas 2003, eq. 3) is not computed.
``garch_dummy``
    The variance-shift dummy ``delta D_t`` of a GARCH(1,1) fitted by maximum likelihood per pair over the
    estimation window through the event window (:mod:`eventstudy.estimation.garch_dummy`; Savickas 2003's
    variance dummy): ``z_i = sign(delta_i) sqrt(LR_i)``, ``LR_i`` the likelihood ratio of ``delta_i = 0``;
    ``t = mean(z_i) / (sd(z_i) / sqrt(N))``, Student t with N-1 d.o.f.; ``estimate`` mean ``delta_i`` over the
    residual variance of the days without the dummy. A mean effect on the window days enters ``delta`` too.
    Computed only for windows of at least 10 days (``MIN_DUMMY_DAYS``): on shorter windows the likelihood
    ratio is far from its chi-square reference and the test over-rejects.
``variance_ratio_rank``
    The same ``VR`` against its own distribution on the estimation days: the means of ``s2_t`` over every run
    of L consecutive estimation days; p ``= 2 min(#{>= VR} + 1, #{<= VR} + 1) / (B + 1)`` (capped at 1),
    B the number of runs; ``statistic`` the upper-tail share. Free of the normality and independence
    assumptions of the chi-square form (a rank test in the spirit of Corrado 1989).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["VOLATILITY_TESTS", "savickas", "garch_variance_shift", "cross_sectional_variance", "variance_ratio", "variance_ratio_rank",
           "cell_volatility_tests"]

VOLATILITY_TESTS = ("savickas", "garch_variance_shift", "garch_dummy", "variance_ratio", "variance_ratio_rank")
#: fewer securities than this on a day: no cross-sectional variance that day
MIN_CROSS_SECTION = 3


def savickas(s: np.ndarray) -> tuple[float, float, float, int]:
    """Savickas (2003) t on GARCH-standardised CARs ``s`` (NaN dropped): ``(mean, t, p, N)``; NaN below N = 2."""
    s = np.asarray(s, dtype="float64")
    s = s[np.isfinite(s)]
    n = s.shape[0]
    if n < 2:
        return np.nan, np.nan, np.nan, n
    sd = float(np.std(s, ddof=1))
    m = float(np.mean(s))
    if not sd > 0:
        return m, np.nan, np.nan, n
    t = m / (sd / np.sqrt(n))
    return m, float(t), float(2 * stats.t.sf(abs(t), n - 1)), n


def garch_variance_shift(z2: np.ndarray) -> tuple[float, float, float, int]:
    """Variance-shift score test (module docstring) on ``z2 (N, L)`` = squared GARCH-standardised abnormal
    returns of the window days: ``(mean u, t, p, N)``; pairs with a missing day dropped."""
    z2 = np.asarray(z2, dtype="float64")
    u = np.mean(z2, axis=1) - 1.0
    return savickas(u)


def cross_sectional_variance(sar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column (day) of ``sar (N, T)``: the cross-sectional variance (ddof 1) over the non-missing rows,
    and their count; NaN variance with fewer than :data:`MIN_CROSS_SECTION` rows."""
    x = np.asarray(sar, dtype="float64")
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    xs = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = xs.sum(axis=0) / n
        ss = np.where(ok, (x - mean) ** 2, 0.0).sum(axis=0)
        var = np.where(n >= MIN_CROSS_SECTION, ss / (n - 1), np.nan)
    return var, n


def variance_ratio(sar_est: np.ndarray, sar_win: np.ndarray) -> tuple[float, float, float, float]:
    """Chi-square variance-ratio test (module docstring): ``(VR, X, p, dof)`` from SARs on estimation
    days ``(N, M)`` and window days ``(N, L)``; NaN when a window day has no cross-section."""
    v_est, _ = cross_sectional_variance(sar_est)
    base = float(np.nanmean(v_est)) if np.isfinite(v_est).any() else np.nan
    v_win, n_win = cross_sectional_variance(sar_win)
    if not np.isfinite(base) or not base > 0 or not np.isfinite(v_win).all():
        return np.nan, np.nan, np.nan, np.nan
    vr = float(np.mean(v_win) / base)
    dof = float(np.sum(n_win - 1))
    x = float(np.sum((n_win - 1) * v_win) / base)
    p = float(min(1.0, 2 * min(stats.chi2.sf(x, dof), stats.chi2.cdf(x, dof))))
    return vr, x, p, dof


def variance_ratio_rank(sar_est: np.ndarray, sar_win: np.ndarray) -> tuple[float, float, float, int]:
    """Empirical variance-ratio test (module docstring): ``(VR, upper-tail share, p, B)``."""
    v_est, _ = cross_sectional_variance(sar_est)
    v_est = v_est[np.isfinite(v_est)]
    v_win, _ = cross_sectional_variance(sar_win)
    L = v_win.shape[0]
    if v_est.shape[0] < L + 1 or not np.isfinite(v_win).all():
        return np.nan, np.nan, np.nan, 0
    base = float(np.mean(v_est))
    c = np.concatenate([[0.0], np.cumsum(v_est)])
    runs = (c[L:] - c[:-L]) / L / base
    vr = float(np.mean(v_win) / base)
    b = runs.shape[0]
    up, lo = int(np.sum(runs >= vr)), int(np.sum(runs <= vr))
    p = min(1.0, 2 * min(up + 1, lo + 1) / (b + 1))
    return vr, (up + 1) / (b + 1), float(p), b


def cell_volatility_tests(event_id: str, group: str, a: int, b: int, scar_garch: np.ndarray,
                          sar_est: np.ndarray, sar_win: np.ndarray, z2: np.ndarray,
                          dummy: tuple[np.ndarray, np.ndarray] | None = None) -> list[tuple]:
    """The rows ``(event_id, group, window_start, window_end, n, estimate, test, statistic, p_value)`` of one
    cell: ``scar_garch (N,)``, SARs of the estimation ``(N, M)`` and window ``(N, L)`` days, ``z2 (N, L)``,
    ``dummy``: the pairs' signed roots and relative deltas of the GARCH dummy fits."""
    m, t, p, n = savickas(scar_garch)
    rows = [(event_id, group, a, b, n, m, "savickas", t, p)]
    m2, t2, p2, n2 = garch_variance_shift(z2)
    rows.append((event_id, group, a, b, n2, m2, "garch_variance_shift", t2, p2))
    if dummy is not None:
        _, t3, p3, n3 = savickas(dummy[0])
        rel = np.asarray(dummy[1], dtype="float64")
        m3 = float(np.mean(rel[np.isfinite(dummy[0]) & np.isfinite(rel)])) if n3 else np.nan
        rows.append((event_id, group, a, b, n3, m3, "garch_dummy", t3, p3))
    keep = np.isfinite(sar_win).all(axis=1)
    nv = int(keep.sum())
    vr, x, pv, _ = variance_ratio(sar_est[keep], sar_win[keep])
    rows.append((event_id, group, a, b, nv, vr, "variance_ratio", x, pv))
    vr2, up, pr, _ = variance_ratio_rank(sar_est[keep], sar_win[keep])
    rows.append((event_id, group, a, b, nv, vr2, "variance_ratio_rank", up, pr))
    return rows
