"""GARCH(1,1) on normal-model residuals: fits (``arch``), the conditional-variance filter and the
event-day variance forecast (Savickas 2003).

Model of the residual ``e_t`` of a pair's normal-return model (Bollerslev 1986):

    e_t = sqrt(h_t) z_t,    h_t = omega + alpha e_{t-1}^2 + beta h_{t-1},    z_t iid N(0, 1)

fitted by maximum likelihood with ``arch`` (Sheppard) on the estimation-window residuals of the
result's OLS fit (a two-step version of Savickas's joint fit: OLS is consistent under GARCH errors).
The filter starts from ``arch``'s backcast ``h_0 = sum_{j<tau} w_j e_j^2``, ``w_j ∝ 0.94^j``, ``tau = min(75, M)``,
so on a complete series it reproduces ``arch``'s conditional variance exactly (tested). A missing
residual contributes its expectation (``e_{t-1}^2 -> h_{t-1}``).

Event days: with ``o`` the last day before the earliest event-window day (the forecast origin), the
variance of day ``o + k`` is the ``k``-step forecast from the information at ``o``:

    h_{o+1} = omega + alpha e_o^2 + beta h_o,     h_{o+k} = omega + (alpha + beta) h_{o+k-1}  (k >= 2)

(``arch``'s analytic forecast, tested), so no event-window residual enters its own standardisation.
The residuals between the end of the estimation window and the origin are observed and filtered.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

__all__ = ["MIN_GARCH_OBS", "backcast", "fit_garch11", "fit_garch_many", "garch_filter", "garch_event_variance"]

#: fewer usable estimation residuals than this: no GARCH fit (NaN parameters)
MIN_GARCH_OBS = 60
_BACKCAST_TAU, _BACKCAST_DECAY = 75, 0.94
_KEYS = ("omega", "alpha", "beta", "persistence", "loglik", "converged")


def backcast(e: np.ndarray) -> float:
    """``arch``'s GARCH backcast: exponentially weighted (0.94) mean of the first ``min(75, n)`` squared residuals."""
    e = np.asarray(e, dtype="float64")
    e = e[~np.isnan(e)]
    tau = min(_BACKCAST_TAU, e.shape[0])
    w = _BACKCAST_DECAY ** np.arange(tau)
    return float(np.sum(e[:tau] ** 2 * (w / w.sum())))


def fit_garch11(e: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood GARCH(1,1) with zero mean and normal errors on the residuals ``e`` (NaN dropped)
    by ``arch.arch_model(..., mean="Zero", vol="GARCH", p=1, q=1)``; the series is scaled to unit standard
    deviation for the optimiser and ``omega`` scaled back (decimal returns squared).
    Returns ``omega, alpha, beta, persistence (alpha + beta), loglik (of the unscaled series), converged``;
    NaN parameters with fewer than :data:`MIN_GARCH_OBS` residuals."""
    from arch import arch_model

    x = np.asarray(e, dtype="float64")
    x = x[~np.isnan(x)]
    nan = dict.fromkeys(_KEYS, np.nan) | {"converged": 0.0}
    if x.shape[0] < MIN_GARCH_OBS or not np.std(x) > 0:
        return nan
    c = 1.0 / float(np.std(x))
    with warnings.catch_warnings(record=True):      # arch sets its own 'always' filters: record, never show
        warnings.simplefilter("ignore")
        res = arch_model(x * c, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    p = res.params
    om, al, be = float(p["omega"]) / c ** 2, float(p["alpha[1]"]), float(p["beta[1]"])
    return {"omega": om, "alpha": al, "beta": be, "persistence": al + be,
            "loglik": float(res.loglikelihood) + x.shape[0] * np.log(c),
            "converged": float(res.convergence_flag == 0)}


def _fit_rows(block: np.ndarray) -> list[dict[str, float]]:
    return [fit_garch11(row) for row in block]


def fit_garch_many(e: np.ndarray, n_jobs: int | None = 2) -> dict[str, np.ndarray]:
    """:func:`fit_garch11` on every row of ``e (P, M)``, rows split over ``n_jobs`` processes
    (the only per-pair loop of the measures: each fit is an iterative ML optimisation).
    Returns arrays ``(P,)`` keyed ``omega, alpha, beta, persistence, loglik, converged``."""
    e = np.asarray(e, dtype="float64")
    n_jobs = max(1, min(int(n_jobs or os.cpu_count() or 1), e.shape[0] // 8 or 1))
    if n_jobs == 1:
        fits = _fit_rows(e)
    else:
        blocks = np.array_split(e, n_jobs * 4)
        with ProcessPoolExecutor(max_workers=n_jobs) as ex:
            fits = [f for part in ex.map(_fit_rows, blocks) for f in part]
    return {k: np.array([f[k] for f in fits], dtype="float64") for k in _KEYS}


def garch_filter(e: np.ndarray, omega, alpha, beta, h0=None) -> np.ndarray:
    """Conditional variances ``h (P, T)`` of residuals ``e (P, T)`` (one row per pair; rows vectorised):
    ``h_0 = omega + (alpha + beta) * b`` with ``b`` the backcast (:func:`backcast`, or ``h0``), then
    ``h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}``; a missing ``e_{t-1}`` counts as ``h_{t-1}``."""
    e = np.atleast_2d(np.asarray(e, dtype="float64"))
    om, al, be = (np.broadcast_to(np.asarray(v, dtype="float64"), (e.shape[0],)) for v in (omega, alpha, beta))
    b = np.array([backcast(r) for r in e]) if h0 is None else np.broadcast_to(np.asarray(h0, "float64"), (e.shape[0],))
    h = np.empty_like(e)
    h[:, 0] = om + (al + be) * b
    for t in range(1, e.shape[1]):
        prev = e[:, t - 1] ** 2
        prev = np.where(np.isnan(prev), h[:, t - 1], prev)
        h[:, t] = om + al * prev + be * h[:, t - 1]
    return h


def garch_event_variance(ar: np.ndarray, params: dict[str, np.ndarray], *, est_start: int, est_end: int,
                         origin: int) -> np.ndarray:
    """Variance ``h (P, D)`` of every day of the relative-day grid of ``ar (P, D)`` (residuals on estimation
    days, abnormal returns after): filtered from ``est_start`` (backcast of the estimation residuals)
    through column ``origin`` with the observed residuals, then forecast ``k`` steps ahead for the
    columns after ``origin`` (module docstring). NaN before ``est_start`` and for pairs without a fit."""
    ar = np.asarray(ar, dtype="float64")
    om, al, be = params["omega"], params["alpha"], params["beta"]
    h = np.full(ar.shape, np.nan)
    seg = ar[:, est_start: origin + 1]
    b = np.array([backcast(r) for r in ar[:, est_start: est_end + 1]])
    h[:, est_start: origin + 1] = garch_filter(seg, om, al, be, h0=b)
    if origin + 1 < ar.shape[1]:
        last = ar[:, origin] ** 2
        last = np.where(np.isnan(last), h[:, origin], last)
        h[:, origin + 1] = om + al * last + be * h[:, origin]
        for t in range(origin + 2, ar.shape[1]):
            h[:, t] = om + (al + be) * h[:, t - 1]
    return h
