"""What every test of the battery shares: :class:`TestResult`, the size rule and array helpers.

Pure numpy on arrays aligned across securities (``NaN`` = missing); see
:mod:`eventstudy.inference.reference` for the tests themselves and their conventions.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = ["TestResult", "MIN_N", "nan_result", "as_vector", "as_matrix", "t_result", "z_result",
           "one_sample_t", "sample_sd", "row_ranks", "col_means", "two_sided_t", "two_sided_z"]

MIN_N = 2
"""Fewest securities a cross-sectional test accepts; below it the result is NaN."""


class TestResult(NamedTuple):
    """One test's outcome: statistic, two-sided p-value, degrees of freedom (None = normal/resampled)."""

    __test__ = False  # not a pytest test class despite its name

    statistic: float
    p_value: float
    df: float | None


def nan_result(df: float | None = None) -> TestResult:
    """The result of a test that cannot be computed: statistic and p-value NaN, ``df`` kept."""
    return TestResult(math.nan, math.nan, df)


def as_vector(x, name: str) -> np.ndarray:
    """``x`` as a float 1-D array over securities; ``ValueError`` naming ``name`` otherwise."""
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array over securities, got shape {a.shape}")
    return a


def as_matrix(x, name: str, n: int) -> np.ndarray:
    """``x`` as a float 2-D array with one row per security (``n`` rows); ``ValueError`` naming ``name`` otherwise."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 1 and n == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] != n:
        raise ValueError(f"{name} must be a 2-D array with one row per security ({n} rows), got shape {a.shape}")
    return a


def t_result(stat: float, df: float) -> TestResult:
    """Two-sided Student-t p-value of ``stat`` with ``df`` degrees of freedom (NaN when not finite or df < 1)."""
    if not math.isfinite(stat) or df < 1:
        return nan_result(float(df) if df >= 1 else None)
    return TestResult(float(stat), float(2.0 * special.stdtr(df, -abs(stat))), float(df))


def z_result(stat: float) -> TestResult:
    """Two-sided standard-normal p-value of ``stat`` (NaN when not finite)."""
    if not math.isfinite(stat):
        return nan_result()
    return TestResult(float(stat), float(2.0 * special.ndtr(-abs(stat))), None)


def one_sample_t(x: np.ndarray) -> TestResult:
    """mean(x) / (sd(x, ddof=1) / sqrt(n)), t with n-1 df; NaN if n < MIN_N or sd == 0."""
    n = x.size
    if n < MIN_N:
        return nan_result()
    sd = sample_sd(x)
    if math.isnan(sd):
        return nan_result(float(n - 1))
    return t_result(float(np.mean(x)) / (sd / math.sqrt(n)), n - 1)


def sample_sd(x: np.ndarray) -> float:
    """sd(x, ddof=1), or NaN when x is constant or the sd is not a positive finite number. The
    constancy check is exact: np.mean of equal values can round, leaving sd ~ 1e-17 > 0 and t ~ 1e16."""
    sd = float(np.std(x, ddof=1))
    if x.max() == x.min() or not (sd > 0 and math.isfinite(sd)):
        return math.nan
    return sd


def row_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks along each row ignoring NaN (NaN stays NaN) and the count of finite values per row."""
    if x.size == 0:
        return x.copy(), np.zeros(x.shape[0], dtype=int)
    from scipy import stats     # imported where used: scipy.stats costs ~0.5 s at start-up

    fin = np.isfinite(x)
    # non-finite values go last (+inf) so they do not move the finite values' ranks, then are blanked
    r = stats.rankdata(np.where(fin, x, np.inf), axis=1)
    return np.where(fin, r, np.nan), fin.sum(axis=1)


def col_means(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means over finite entries and the count of finite entries (mean NaN where count is 0)."""
    ok = np.isfinite(u)
    cnt = ok.sum(axis=0)
    tot = np.where(ok, u, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    return mean, cnt


def two_sided_t(stat: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``2 t.sf(|stat|, df)`` where stat is finite and df >= 1; NaN elsewhere (as :func:`t_result`, elementwise)."""
    out = np.full(stat.shape, np.nan)
    ok = np.isfinite(stat) & (df >= 1)
    if ok.any():
        out[ok] = 2.0 * special.stdtr(df[ok], -np.abs(stat[ok]))      # = 2 t.sf(|stat|, df)
    return out


def two_sided_z(stat: np.ndarray) -> np.ndarray:
    """``2 norm.sf(|stat|)`` where stat is finite; NaN elsewhere (as :func:`z_result`, elementwise)."""
    out = np.full(stat.shape, np.nan)
    ok = np.isfinite(stat)
    if ok.any():
        out[ok] = 2.0 * special.ndtr(-np.abs(stat[ok]))               # = 2 norm.sf(|stat|)
    return out


def t_isf(q, df) -> np.ndarray:
    """Upper-tail quantile of Student t: ``scipy.stats.t.isf(q, df)`` (``-stdtrit(df, q)``, with
    ``isf(0) = +inf``) without importing scipy.stats; NaN where ``df`` is not positive."""
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(q == 0, np.where(np.asarray(df, dtype=float) > 0, np.inf, np.nan), -special.stdtrit(df, q))


def norm_isf(q) -> np.ndarray:
    """Upper-tail quantile of the standard normal: ``scipy.stats.norm.isf(q)`` (``-ndtri(q)``)."""
    return -special.ndtri(np.asarray(q, dtype=float))
