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

__all__ = ["sample_quantile_test", "sample_quantile_p", "prediction_t", "regression_prediction"]


def sample_quantile_p(x: np.ndarray, sample: np.ndarray, valid: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(p_lower, p_upper, p_two)`` of values ``x`` (shape ``S``) each against its sample ``sample`` (shape
    ``S + (n,)``, its ``valid`` and finite entries along the last axis), as :func:`sample_quantile_test` gives
    them one at a time; NaN without a sample or for a non-finite ``x`` (many series at once: the event-dummy
    regressions)."""
    x = np.asarray(x, dtype="float64")
    s = np.asarray(sample, dtype="float64")
    ok = np.isfinite(s) if valid is None else (valid & np.isfinite(s))
    n = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = (1 + ((s <= x[..., None]) & ok).sum(axis=-1)) / (n + 1)
        hi = (1 + ((s >= x[..., None]) & ok).sum(axis=-1)) / (n + 1)
    none = (n == 0) | ~np.isfinite(x)
    lo, hi = np.where(none, np.nan, lo), np.where(none, np.nan, hi)
    return lo, hi, np.minimum(1.0, 2 * np.minimum(lo, hi))


def sample_quantile_test(x: float, sample: np.ndarray) -> dict[str, float]:
    """GHK sample-quantile test of value ``x`` against ``sample`` (NaN dropped): ``n, p_lower, p_upper,
    p_two, q025, q975`` (the sample's 2.5% and 97.5% quantiles, numpy's default interpolation)."""
    s = np.asarray(sample, dtype="float64")
    s = s[np.isfinite(s)]
    n = len(s)
    if n == 0 or not np.isfinite(x):
        return {"n": n, "p_lower": np.nan, "p_upper": np.nan, "p_two": np.nan, "q025": np.nan, "q975": np.nan}
    lo, hi, two = (float(v) for v in sample_quantile_p(np.float64(x), s))
    return {"n": n, "p_lower": lo, "p_upper": hi, "p_two": two,
            "q025": float(np.quantile(s, 0.025)), "q975": float(np.quantile(s, 0.975))}


def prediction_t(x: float, sample: np.ndarray) -> dict[str, float]:
    """Prediction-error t of ``x`` against ``sample``: ``n, mean, sd, ar (x - mean), t, df, p_two``."""
    s = np.asarray(sample, dtype="float64")
    s = s[np.isfinite(s)]
    n = len(s)
    if n < 3 or not np.isfinite(x):
        return {"n": n, "mean": np.nan, "sd": np.nan, "ar": np.nan, "t": np.nan, "df": np.nan, "p_two": np.nan}
    from scipy import stats        # imported where used: the batched regressions import this module

    m, sd = float(s.mean()), float(s.std(ddof=1))
    t = (x - m) / (sd * np.sqrt(1 + 1 / n)) if sd > 0 else np.nan
    return {"n": n, "mean": m, "sd": sd, "ar": float(x - m), "t": float(t), "df": n - 1,
            "p_two": float(2 * stats.t.sf(abs(t), n - 1)) if np.isfinite(t) else np.nan}


def regression_prediction(x: float, b: float, sample_x: np.ndarray, sample_b: np.ndarray) -> dict[str, float]:
    """The event's window return ``x`` against the market model ``x_i = a + beta b_i + e_i`` fitted on the
    sample windows (``b``: the benchmark's return over each window): ``normal = a + beta b``,
    ``ar = x - normal``, the prediction-error ``t = ar / (s sqrt(1 + 1/n + (b - mean b)^2 / Sbb))`` with
    n - 2 d.o.f., and the GHK p of ``ar`` among the sample residuals. Windows with a missing value are dropped."""
    sx, sb = np.asarray(sample_x, dtype="float64"), np.asarray(sample_b, dtype="float64")
    ok = np.isfinite(sx) & np.isfinite(sb)
    sx, sb = sx[ok], sb[ok]
    n = len(sx)
    nan = {"n": n, "beta": np.nan, "normal": np.nan, "ar": np.nan, "t": np.nan, "df": np.nan, "p_two": np.nan,
           "p_ghk": np.nan}
    if n < 4 or not (np.isfinite(x) and np.isfinite(b)):
        return nan
    from scipy import stats

    mb = sb.mean()
    sbb = float(((sb - mb) ** 2).sum())
    if sbb <= 0:
        return nan
    beta = float(((sb - mb) * (sx - sx.mean())).sum() / sbb)
    a = float(sx.mean() - beta * mb)
    resid = sx - a - beta * sb
    s = float(np.sqrt((resid ** 2).sum() / (n - 2)))
    normal = a + beta * b
    ar = float(x - normal)
    t = ar / (s * np.sqrt(1 + 1 / n + (b - mb) ** 2 / sbb)) if s > 0 else np.nan
    return {"n": n, "beta": beta, "normal": float(normal), "ar": ar, "t": float(t), "df": n - 2,
            "p_two": float(2 * stats.t.sf(abs(t), n - 2)) if np.isfinite(t) else np.nan,
            "p_ghk": sample_quantile_test(ar, resid)["p_two"]}
