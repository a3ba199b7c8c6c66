"""Tests for one instrument and one event: the sample-quantile test and the prediction-error t.

With one security and one event the cross-section cannot stand in for the null distribution, and
the parametric t assumes normal abnormal returns, which intraday and daily futures returns are
not (fat tails). Gelbach, Helland & Klick (2013, "Valid inference in single-firm, single-event
studies", American Law and Economics Review 15(2)) compare the event window's abnormal return with
the empirical distribution of same-length windows of the estimation period: reject at level
alpha when it lies outside the sample's alpha/2 and 1 - alpha/2 quantiles.

:func:`sample_quantile_test` returns that test as p-values from the event's rank in the sample:
``p_lower = (1 + #{x_i <= x}) / (n + 1)``, ``p_upper = (1 + #{x_i >= x}) / (n + 1)`` and
``p_two = min(1, 2 min(p_lower, p_upper))`` - the rank (Monte Carlo) form, exact under
exchangeability of the event window with the sample windows and never 0; with n windows the
smallest attainable two-sided p is 2/(n+1).

:func:`prediction_t` is the parametric comparison: ``t = (x - mean) / (sd sqrt(1 + 1/n))`` with
n - 1 degrees of freedom (the prediction error of one new draw from a normal sample; equal to
the pooled two-sample t of the sample against the single event value).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["sample_quantile_test", "prediction_t"]


def sample_quantile_test(x: float, sample: np.ndarray) -> dict[str, float]:
    """GHK sample-quantile test of value ``x`` against ``sample`` (NaN dropped): ``n, p_lower, p_upper,
    p_two, q025, q975`` (the sample's 2.5% and 97.5% quantiles, numpy's default interpolation)."""
    s = np.asarray(sample, dtype="float64")
    s = s[np.isfinite(s)]
    n = len(s)
    if n == 0 or not np.isfinite(x):
        return {"n": n, "p_lower": np.nan, "p_upper": np.nan, "p_two": np.nan, "q025": np.nan, "q975": np.nan}
    lo = (1 + np.count_nonzero(s <= x)) / (n + 1)
    hi = (1 + np.count_nonzero(s >= x)) / (n + 1)
    return {"n": n, "p_lower": lo, "p_upper": hi, "p_two": min(1.0, 2 * min(lo, hi)),
            "q025": float(np.quantile(s, 0.025)), "q975": float(np.quantile(s, 0.975))}


def prediction_t(x: float, sample: np.ndarray) -> dict[str, float]:
    """Prediction-error t of ``x`` against ``sample``: ``n, mean, sd, ar (x - mean), t, df, p_two``."""
    s = np.asarray(sample, dtype="float64")
    s = s[np.isfinite(s)]
    n = len(s)
    if n < 3 or not np.isfinite(x):
        return {"n": n, "mean": np.nan, "sd": np.nan, "ar": np.nan, "t": np.nan, "df": np.nan, "p_two": np.nan}
    m, sd = float(s.mean()), float(s.std(ddof=1))
    t = (x - m) / (sd * np.sqrt(1 + 1 / n)) if sd > 0 else np.nan
    return {"n": n, "mean": m, "sd": sd, "ar": float(x - m), "t": float(t), "df": n - 1,
            "p_two": float(2 * stats.t.sf(abs(t), n - 1)) if np.isfinite(t) else np.nan}
