"""The statistics of placebo calibration, on arrays: calibrated p-values, rejection rates, the minimum
detectable effect and equivalence (TOST) tests (docs/METHODS.md, placebo calibration).

References: Phipson & Smyth (2010) SAGMB 9 (the +1 of a permutation p-value); Schuirmann (1987)
J. Pharmacokinetics and Biopharmaceutics 15 (two one-sided tests).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

__all__ = ["calibrated_p", "extremeness", "rejection_rates", "min_detectable_effect", "tost_t", "tost_placebo",
           "WILCOXON", "LEVELS", "MDE_POWER", "MDE_LEVEL"]

#: tests whose statistic is not centred at 0 under the null (extremeness computed from it differently)
WILCOXON = "wilcoxon"
#: nominal levels at which size is reported
LEVELS: tuple[float, ...] = (0.01, 0.05, 0.10)
#: power at which the minimum detectable effect is read, and its level
MDE_POWER = 0.80
MDE_LEVEL = 0.05


def calibrated_p(real: np.ndarray | float, placebo: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Randomisation p-value ``(1 + #{placebo >= real}) / (1 + B)`` of each ``real`` extremeness score.

    ``placebo`` are the B scores of the same cell design (larger = more extreme; NaN ignored),
    ``weights`` how many draws each stands for (B = their sum). Ties count against the real value.
    """
    real = np.atleast_1d(np.asarray(real, dtype=float))
    pl = np.asarray(placebo, dtype=float)
    w = np.ones(len(pl)) if weights is None else np.asarray(weights, dtype=float)
    ok = ~np.isnan(pl)
    pl, w = pl[ok], w[ok]
    order = np.argsort(pl, kind="stable")
    pl, w = pl[order], w[order]
    above = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])      # above[i] = weight of pl[i:]
    pos = np.searchsorted(pl, real, side="left")                     # first placebo >= real
    out = (1.0 + above[pos]) / (1.0 + w.sum())
    return np.where(np.isnan(real), np.nan, out)


def extremeness(test: np.ndarray, statistic: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided extremeness of each statistic (larger = further from the null): ``|statistic|`` for
    the tests centred at 0, and ``|W+ - n(n+1)/4| / sqrt(n(n+1)(2n+1)/24)`` for Wilcoxon's W+."""
    test = np.asarray(test, dtype=object)
    s = np.asarray(statistic, dtype=float)
    n = np.asarray(n, dtype=float)
    out = np.abs(s)
    w = test == WILCOXON
    if w.any():
        nn = n[w]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[w] = np.abs(s[w] - nn * (nn + 1) / 4) / np.sqrt(nn * (nn + 1) * (2 * nn + 1) / 24)
    return out


def rejection_rates(p: np.ndarray, weights: np.ndarray | None = None,
                    levels: Sequence[float] = LEVELS) -> np.ndarray:
    """Weighted share of ``p < level`` for each level (NaN p-values left out); NaN when none is finite."""
    p = np.asarray(p, dtype=float)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=float)
    ok = ~np.isnan(p)
    tot = w[ok].sum()
    if tot == 0:
        return np.full(len(levels), np.nan)
    return np.array([(w[ok] * (p[ok] < a)).sum() / tot for a in levels])


def min_detectable_effect(effects: Sequence[float], power: Sequence[float], size: float = 0.0,
                          target: float = MDE_POWER) -> float:
    """The injected effect at which power first reaches ``target``, interpolated linearly over
    ``(0, size), (effects[0], power[0]), ...`` (effects ascending); NaN if it never does."""
    x = np.concatenate([[0.0], np.asarray(effects, dtype=float)])
    y = np.concatenate([[size if np.isfinite(size) else 0.0], np.asarray(power, dtype=float)])
    for i in range(1, len(x)):
        if not np.isfinite(y[i]):
            return math.nan
        if y[i] >= target:
            if y[i - 1] >= target:
                return float(x[i - 1])
            return float(x[i - 1] + (target - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))
    return math.nan


def tost_t(estimate: float, se: float, df: float, margin: float) -> float:
    """Schuirmann's (1987) two one-sided t tests of H0 ``|mu| >= margin``: ``max(P(T >= (est + m)/se),
    P(T <= (est - m)/se))``, T Student with ``df``; small p = equivalent to zero within ``margin``."""
    lo = stats.t.sf((estimate + margin) / se, df)
    hi = stats.t.cdf((estimate - margin) / se, df)
    return float(max(lo, hi))


def tost_placebo(estimate: float, placebo: np.ndarray, margin: float, weights: np.ndarray | None = None) -> float:
    """Two one-sided tests of H0 ``|mu| >= margin`` with the placebo estimates as the null error distribution:
    ``max((1 + #{e >= est + m}) / (1 + B), (1 + #{e <= est - m}) / (1 + B))`` (Schuirmann 1987, with the
    t distribution replaced by the placebo distribution of the same cell; NaN placebo values ignored)."""
    e = np.asarray(placebo, dtype=float)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=float)
    ok = ~np.isnan(e)
    e, w = e[ok], w[ok]
    b = w.sum()
    if b == 0 or not np.isfinite(estimate) or not np.isfinite(margin):
        return math.nan
    lo = (1 + w[e >= estimate + margin].sum()) / (1 + b)
    hi = (1 + w[e <= estimate - margin].sum()) / (1 + b)
    return float(max(lo, hi))


# ---------------------------------------------------------------------------------- dates
