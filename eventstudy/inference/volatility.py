"""Tests for abnormal returns under event-induced volatility, and for the volatility itself.

Test ids (rows of ``volatility_tests.csv``; every p-value two-sided):

``savickas``
    ``t = mean(S_i) / (sd(S_i) / sqrt(N))``, ``S_i = CAR_i / sqrt(sum_{t in W} h_it)`` with ``h_it``
    the GARCH(1,1) conditional variance forecast of the event days (:mod:`eventstudy.estimation.garch`),
    sd with ddof 1; Student t with N-1 d.o.f. Savickas (2003), "Event-induced volatility and tests for
    abnormal performance", J. Financial Research 26(2); the cross-sectional standardisation is that of
    Boehmer, Musumeci & Poulsen (1991), so the test keeps its size when the event raises variance.
    ``estimate``: mean ``S_i``.
``garch_dummy``
    The variance-shift dummy ``delta D_t`` of a GARCH(1,1) fitted by maximum likelihood per pair over the
    estimation window through the event window (:mod:`eventstudy.estimation.garch_dummy`; Savickas 2003's
    variance dummy): ``z_i = sign(delta_i) sqrt(LR_i)``, ``LR_i`` the likelihood ratio of ``delta_i = 0``;
    ``t = mean(z_i) / (sd(z_i) / sqrt(N))``, Student t with N-1 d.o.f.; ``estimate`` mean ``delta_i`` over the
    residual variance of the days without the dummy. A mean effect on the window days enters ``delta`` too.
    Computed only for windows of at least 10 days (``MIN_DUMMY_DAYS``): on shorter windows the likelihood
    ratio is far from its chi-square reference and the test over-rejects.
``variance_rank``
    Event-induced variance against the days just before the event. ``x_it = SAR_it^2``, the squared
    standardised abnormal returns ``AR_it / (s_i sqrt(1 + h_it))`` (out of sample: the days after the
    estimation window). ``P`` = the pre-event days between the estimation window and the earliest event
    window (10 with the default ``[-250,-11]``); per pair and window day the rank share
    ``U_it = (#{s in P: x_is < x_it} + #{s in P: x_is = x_it} / 2 + 1/2) / (G_i + 1)`` (``G_i`` the pair's
    pre-event days with a return, at least :data:`MIN_PRE_DAYS`), ``u_i = mean_W U_it - 1/2``;
    ``t = mean(u_i) / (sd(u_i) / sqrt(N))``, Student t with N-1 d.o.f. Under the null each window day is
    exchangeable with the pre-event days, so ``U_it`` is uniform on ``{(k + 1/2) / (G + 1): k = 0..G}`` (mean
    1/2) whatever the distribution of returns; the cross-sectional standard deviation takes care of the window
    days sharing one reference. ``estimate``: ``VR = mean_i mean_W x_it / mean_i mean_P x_is``, the
    window's mean squared SAR over the pre-event days' (1 = no change). A rank test in the spirit of
    Corrado (1989), with the rank share U = K / (G + 1) of Corrado & Zivney (1992), here on squared returns.

Why the reference is the pre-event days and not the estimation window: with volatility clustering the
squared standardised abnormal returns of days after the estimation window are larger on average than
those inside it (the estimation residuals are standardised by a variance estimated from themselves;
later days by a noisy estimate of an earlier level, and ``E[1 / s^2] > 1 / E[s^2]``). In the GARCH(1,1)
simulation of ``benchmarks/bench_measures.py`` (persistence 0.98) the excess is about 10% of the
variance (the benchmark prints it), enough for tests that compare the event window with the estimation
window to over-reject: the chi-square variance ratio, its rank version over estimation-day runs and a GARCH
score test on ``z^2 - 1`` rejected 10-32% of null cells in the benchmark and were removed (README,
"Beyond returns"). The pre-event days are out of sample like the window days.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["VOLATILITY_TESTS", "MIN_PRE_DAYS", "savickas", "variance_rank", "cell_volatility_tests"]

VOLATILITY_TESTS = ("savickas", "garch_dummy", "variance_rank")
#: fewest pre-event days with a return a pair needs for ``variance_rank``
MIN_PRE_DAYS = 5


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


def variance_rank(sar_pre: np.ndarray, sar_win: np.ndarray) -> tuple[float, float, float, int]:
    """Rank test of event-induced variance against the pre-event days (module docstring): ``(VR, t, p, N)``
    from standardised abnormal returns of the pre-event days ``(N, G)`` and the window days ``(N, L)``.
    Pairs with a missing window day or fewer than :data:`MIN_PRE_DAYS` pre-event returns are left out; NaN
    with fewer than two pairs left."""
    pre = np.asarray(sar_pre, dtype="float64") ** 2
    win = np.asarray(sar_win, dtype="float64") ** 2
    ok_pre = np.isfinite(pre)
    g = ok_pre.sum(axis=1)
    keep = np.isfinite(win).all(axis=1) & (g >= MIN_PRE_DAYS)
    pre, win, ok_pre, g = pre[keep], win[keep], ok_pre[keep], g[keep]
    if keep.sum() < 2:                  # no cross-section: nothing to test, and one series' ratio is noise
        return np.nan, np.nan, np.nan, int(keep.sum())
    below = ((pre[:, None, :] < win[:, :, None]) & ok_pre[:, None, :]).sum(axis=2)       # (N, L)
    tie = ((pre[:, None, :] == win[:, :, None]) & ok_pre[:, None, :]).sum(axis=2)
    u = ((below + 0.5 * tie + 0.5) / (g[:, None] + 1.0)).mean(axis=1) - 0.5
    _, t, pv, n = savickas(u)
    vr = float(np.mean(win) / np.mean(np.where(ok_pre, pre, 0.0).sum(axis=1) / g))
    return vr, t, pv, n


def cell_volatility_tests(event_id: str, group: str, a: int, b: int, scar_garch: np.ndarray,
                          sar_pre: np.ndarray, sar_win: np.ndarray,
                          dummy: tuple[np.ndarray, np.ndarray] | None = None) -> list[tuple]:
    """The rows ``(event_id, group, window_start, window_end, n, estimate, test, statistic, p_value)`` of one
    cell: ``scar_garch (N,)``, standardised abnormal returns of the pre-event ``(N, G)`` and window ``(N, L)``
    days, ``dummy``: the pairs' signed roots and relative deltas of the GARCH dummy fits (windows of 10+ days)."""
    m, t, p, n = savickas(scar_garch)
    rows = [(event_id, group, a, b, n, m, "savickas", t, p)]
    if dummy is not None:
        _, t3, p3, n3 = savickas(dummy[0])
        rel = np.asarray(dummy[1], dtype="float64")
        m3 = float(np.mean(rel[np.isfinite(dummy[0]) & np.isfinite(rel)])) if n3 else np.nan
        rows.append((event_id, group, a, b, n3, m3, "garch_dummy", t3, p3))
    vr, t4, p4, n4 = variance_rank(sar_pre, sar_win)
    rows.append((event_id, group, a, b, n4, vr, "variance_rank", t4, p4))
    return rows
