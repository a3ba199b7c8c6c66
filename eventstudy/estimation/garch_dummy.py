"""GARCH(1,1) with an event-window variance-shift dummy, by maximum likelihood (Savickas 2003's variance dummy).

For one pair, over the days from the start of the estimation window to the end of an event window,
with ``e_t`` the normal-return model's residuals (abnormal returns on window days) and ``D_t = 1`` on the
window days:

    h_t = omega + delta D_t + alpha e_{t-1}^2 + beta h_{t-1},      h_0 = omega + delta D_0 + (alpha + beta) b

(``b`` ``arch``'s backcast of the first residuals), normal log-likelihood
``LL = -1/2 sum_t (ln 2 pi + ln h_t + e_t^2 / h_t)``. ``delta`` is the variance added on each event day
(decimal returns squared), unrestricted in sign as long as every ``h_t > 0``. The likelihood-ratio
statistic ``LR = 2 (LL(delta-hat) - LL(delta = 0))``, both maximised over ``omega, alpha, beta`` on the same
days, is chi-square(1) under the null for one pair; the signed root ``sign(delta-hat) sqrt(LR)`` is
asymptotically N(0, 1) (tested across pairs in :func:`eventstudy.inference.volatility.garch_dummy`).
Missing residuals are left out of the series (with their dummy). Optimiser: SLSQP with
``alpha, beta >= 0``, ``alpha + beta < 1``, ``omega > 0`` as ``arch`` uses, on the series scaled to unit sd;
the recursion is compiled (numba). With ``delta = 0`` the likelihood equals ``arch``'s (tested).
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from numba import njit
from scipy.optimize import minimize

from eventstudy.estimation.garch import MIN_GARCH_OBS, backcast

__all__ = ["MIN_DUMMY_DAYS", "garchx_loglik", "fit_garch_dummy", "fit_garch_dummy_many"]

#: fewest event-window days for which the dummy is fitted: with one or a few dummy days the likelihood ratio
#: is far from chi-square(1) (its signed root is skewed: the test rejected 28% of null cells on [0,0] and
#: 15% on [0,4], 5% on [0,9] in a seeded GARCH simulation; benchmarks/bench_measures.py)
MIN_DUMMY_DAYS = 10
_KEYS = ("delta", "delta_rel", "lr", "signed_root", "loglik0", "loglik1", "converged")


@njit(cache=True)
def _nll(omega, alpha, beta, delta, e, d, bc):          # pragma: no cover - compiled
    n = e.shape[0]
    h = omega + delta * d[0] + (alpha + beta) * bc
    tot = 0.0
    for t in range(n):
        if t > 0:
            h = omega + delta * d[t] + alpha * e[t - 1] * e[t - 1] + beta * h
        if h <= 0.0:
            return 1e100
        tot += np.log(h) + e[t] * e[t] / h
    return 0.5 * (tot + n * np.log(2.0 * np.pi))


def garchx_loglik(e: np.ndarray, d: np.ndarray, omega: float, alpha: float, beta: float, delta: float = 0.0,
                  bc: float | None = None) -> float:
    """Log-likelihood of residuals ``e`` (no NaN) under the GARCH(1,1) with dummy ``d`` (module docstring);
    ``bc`` the backcast (default :func:`~eventstudy.estimation.garch.backcast` of ``e``)."""
    e = np.ascontiguousarray(e, dtype="float64")
    d = np.ascontiguousarray(d, dtype="float64")
    b = backcast(e) if bc is None else float(bc)
    return -float(_nll(float(omega), float(alpha), float(beta), float(delta), e, d, b))


def _maximise(x: np.ndarray, d: np.ndarray, bc: float, start: np.ndarray, with_delta: bool):
    def f(p):
        return _nll(p[0], p[1], p[2], p[3] if with_delta else 0.0, x, d, bc)

    cons = [{"type": "ineq", "fun": lambda p: 1.0 - 1e-6 - p[1] - p[2]}]
    bounds = [(1e-8, None), (0.0, 1.0), (0.0, 1.0)] + ([(None, None)] if with_delta else [])
    p0 = start if with_delta else start[:3]
    res = minimize(f, p0, method="SLSQP", bounds=bounds, constraints=cons, options={"maxiter": 200, "ftol": 1e-10})
    return res.x, -float(res.fun), bool(res.success)


def fit_garch_dummy(e: np.ndarray, d: np.ndarray, start: tuple[float, float, float] | None = None) -> dict[str, float]:
    """ML fit with and without the dummy on one pair's residuals ``e`` and 0/1 dummy ``d`` (same length; NaN days
    of ``e`` dropped). ``start``: ``(omega, alpha, beta)`` in decimal units (e.g. the estimation-window fit).
    Returns ``delta`` (decimal returns squared), ``delta_rel`` (``delta`` over the sample variance of the
    residuals on the days without the dummy), ``lr``, ``signed_root``, ``loglik0``, ``loglik1``
    (of the decimal series) and ``converged``; NaN with fewer than
    :data:`~eventstudy.estimation.garch.MIN_GARCH_OBS` residuals or no dummy day."""
    e = np.asarray(e, dtype="float64")
    d = np.asarray(d, dtype="float64")
    keep = ~np.isnan(e)
    x, dd = e[keep], d[keep]
    nan = dict.fromkeys(_KEYS, np.nan) | {"converged": 0.0}
    if x.shape[0] < MIN_GARCH_OBS or not dd.any() or not np.std(x) > 0:
        return nan
    c = 1.0 / float(np.std(x[dd == 0]) if (dd == 0).sum() > 2 else np.std(x))
    xs = np.ascontiguousarray(x * c)
    dd = np.ascontiguousarray(dd)
    bc = backcast(xs)
    if start is None or not np.all(np.isfinite(start)):
        p0 = np.array([0.05, 0.05, 0.90, 0.0])
    else:
        p0 = np.array([max(start[0] * c * c, 1e-6), start[1], min(start[2], 0.999 - start[1]), 0.0])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        r0, ll0, ok0 = _maximise(xs, dd, bc, p0, False)
        r1, ll1, ok1 = _maximise(xs, dd, bc, np.r_[r0, 0.0], True)
    if ll1 < ll0:                     # the unrestricted optimum can only be better: keep the restricted one
        r1, ll1 = np.r_[r0, 0.0], ll0
    jac = x.shape[0] * np.log(c)      # log-likelihood of the unscaled series
    lr = max(0.0, 2.0 * (ll1 - ll0))
    # the series is scaled to unit sd on the days without the dummy: delta is already relative to that variance
    return {"delta": float(r1[3]) / c ** 2, "delta_rel": float(r1[3]), "lr": lr,
            "signed_root": float(np.sign(r1[3]) * np.sqrt(lr)), "loglik0": ll0 + jac, "loglik1": ll1 + jac,
            "converged": float(ok0 and ok1)}


def _fit_block(args) -> list[dict[str, float]]:
    e, d, start = args
    return [fit_garch_dummy(e[i], d[i], tuple(start[i])) for i in range(e.shape[0])]


def fit_garch_dummy_many(e: np.ndarray, d: np.ndarray, start: np.ndarray, n_jobs: int | None = 2) -> dict[str, np.ndarray]:
    """:func:`fit_garch_dummy` on every row of ``e (P, T)`` with dummies ``d (P, T)`` and starts ``start (P, 3)``,
    rows split over ``n_jobs`` processes. Returns arrays ``(P,)`` keyed as the single fit."""
    e, d, start = (np.asarray(a, dtype="float64") for a in (e, d, start))
    n_jobs = max(1, min(int(n_jobs or os.cpu_count() or 1), e.shape[0] // 8 or 1))
    if n_jobs == 1:
        fits = _fit_block((e, d, start))
    else:
        idx = np.array_split(np.arange(e.shape[0]), n_jobs * 4)
        with ProcessPoolExecutor(max_workers=n_jobs) as ex:
            fits = [f for part in ex.map(_fit_block, [(e[i], d[i], start[i]) for i in idx]) for f in part]
    return {k: np.array([f[k] for f in fits], dtype="float64") for k in _KEYS}
