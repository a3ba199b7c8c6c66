"""The event-dummy regression of one return series (Karafiath 1988), the reference of the batched ones.

Regress ``R_t`` on the model regressors plus one dummy per event-window day over the estimation and
event days together. The dummy coefficients equal ``AR_t``, their OLS standard errors equal
``sqrt(V[t,t])``, and the t-test of the sum of the dummies equals the CAR test (docs/METHODS.md).
``cov_type='HAC'`` gives Newey-West standard errors for autocorrelated residuals. Fitted with
statsmodels; :func:`eventstudy.inference.regression.dummy_regressions_batched` gives the same numbers
for many series at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventstudy.errors import EstimationError
from eventstudy.estimation.windows import Window

__all__ = ["DummyRegression", "dummy_regression", "newey_west_lags", "rows_from", "missing_days_message"]


def _ols(y, X):
    """statsmodels' OLS model of ``y`` on ``X``; imported on first use (``statsmodels.api`` costs
    about a second at start-up, the linear-model module a tenth of that)."""
    from statsmodels.regression.linear_model import OLS

    return OLS(y, X)


def newey_west_lags(n: int) -> int:
    """Newey & West (1994) rule of thumb: ``floor(4 (n/100)^(2/9))``."""
    return int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))


@dataclass(frozen=True)
class DummyRegression:
    """One event-dummy regression: per-day ARs and the CAR test (the sum of the dummies)."""

    rel_days: np.ndarray   # event-window relative days, one dummy each
    ar: np.ndarray         # dummy coefficients (decimal)
    ar_se: np.ndarray
    ar_t: np.ndarray
    ar_p: np.ndarray
    car: float
    car_se: float
    car_t: float
    car_p: float
    nobs: int
    df_resid: float
    r2: float
    cov_type: str
    model: object          # the statsmodels results object


def dummy_regression(y: np.ndarray, f: np.ndarray, est_mask: np.ndarray, window_mask: np.ndarray,
                     rel_days: np.ndarray, cov_type: str = "nonrobust", maxlags: int | None = None,
                     constant: bool = True) -> DummyRegression:
    """Karafiath (1988) event-dummy regression for one return series.

    ``R_t = a + b'f_t + sum_{s in W} g_s D_{s,t} + e_t`` over the estimation days and the
    window days ``W`` (rows with a missing return or regressor are dropped). ``g_s = AR_s``;
    ``CAR = sum_s g_s`` with its standard error from the coefficient covariance
    (``1' Cov(g) 1``), tested with Student t on the residual d.o.f. (normal for HAC).

    y : (D,) returns (decimal); f : (D, q) regressors; masks (D,) booleans on the grid ``rel_days``.

    ``cov_type='HAC'`` does not use a sandwich on the dummy regression: a dummy that is 1 on a
    single day fits that day exactly, its residual is 0, and a Newey–West sandwich then leaves the
    day's own variance out (standard errors collapse). Instead see :func:`_hac_event_regression`.
    """
    y = np.asarray(y, float)
    f = np.asarray(f, float).reshape(len(y), -1)
    rows = (est_mask | window_mask) & np.isfinite(y) & np.all(np.isfinite(f), axis=1)
    wdays = np.flatnonzero(window_mask)
    if not rows[wdays].all():
        missing = rel_days[wdays[~rows[wdays]]]
        raise EstimationError(missing_days_message(missing))
    n_base = (1 if constant else 0) + f.shape[1]
    if int((rows & est_mask).sum()) <= n_base + 1:
        raise EstimationError("too few estimation observations for the dummy regression")
    if cov_type.upper() == "HAC":
        return _hac_event_regression(y, f, est_mask, window_mask, rel_days, maxlags, constant)
    dummies = (np.arange(len(y))[:, None] == wdays[None, :]).astype(float)
    cols = [np.ones(len(y))] if constant else []
    X = np.column_stack(cols + [f, dummies]) if (cols or f.shape[1]) else dummies
    X, yy = X[rows], y[rows]
    res = _ols(yy, X).fit()
    label = "OLS"
    g = res.params[n_base:]
    cov = np.asarray(res.cov_params())[n_base:, n_base:]
    se = np.sqrt(np.diag(cov))
    tt = res.t_test(np.r_[np.zeros(n_base), np.ones(len(wdays))][None, :])
    car = float(np.sum(g))
    car_se = float(np.sqrt(cov.sum()))
    return DummyRegression(rel_days=rel_days[wdays], ar=np.asarray(g), ar_se=se,
                           ar_t=np.asarray(res.tvalues[n_base:]), ar_p=np.asarray(res.pvalues[n_base:]),
                           car=car, car_se=car_se, car_t=float(np.squeeze(tt.tvalue)),
                           car_p=float(np.squeeze(tt.pvalue)), nobs=int(res.nobs), df_resid=float(res.df_resid),
                           r2=float(res.rsquared), cov_type=label, model=res)


def _hac_event_regression(y, f, est_mask, window_mask, rel_days, maxlags, constant) -> DummyRegression:
    """Autocorrelation-robust AR/CAR inference (Newey & West 1987) for the event-dummy model.

    The AR point estimates are those of the dummy regression (= OLS on the estimation days).
    Their variance is the forecast-error variance with both parts made HAC:

    ``Var(AR_t) = g_0 + x_t' C x_t``;
    ``Var(CAR) = sum_{|j|<L} (L - |j|) w_j g_j + (sum_t x_t)' C (sum_t x_t)``,

    ``g_j = sum_t e_t e_{t+j} / (M - k)`` the estimation-residual autocovariances, ``w_j`` Bartlett
    weights ``1 - j/(lags+1)`` (0 beyond ``lags``), ``C`` the Newey–West covariance of the model
    parameters. With no autocorrelation (``lags = 0``) this is the OLS forecast-error variance up to
    the small-sample factor of ``C``. Reference distribution N(0, 1).
    """
    from scipy import special     # norm.sf(x) = ndtr(-x), without scipy.stats

    rows = est_mask & np.isfinite(y) & np.all(np.isfinite(f), axis=1)
    Xe = np.column_stack(([np.ones(int(rows.sum()))] if constant else []) + [f[rows]])
    ye = y[rows]
    n, k = Xe.shape
    lags = newey_west_lags(n) if maxlags is None else int(maxlags)
    res = _ols(ye, Xe).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    C = np.asarray(res.cov_params())
    e = np.asarray(res.resid)
    wdays = np.flatnonzero(window_mask)
    L = len(wdays)
    g = np.array([np.dot(e[: n - j], e[j:]) / (n - k) for j in range(L)])
    w = np.array([max(0.0, 1.0 - j / (lags + 1.0)) for j in range(L)])
    Xw = np.column_stack(([np.ones(L)] if constant else []) + [f[wdays]])
    ar = y[wdays] - Xw @ np.asarray(res.params)
    ar_var = g[0] + np.einsum("ti,ij,tj->t", Xw, C, Xw)
    car_var = L * g[0] + 2.0 * sum((L - j) * w[j] * g[j] for j in range(1, L))
    sx = Xw.sum(axis=0)
    car_var += float(sx @ C @ sx)
    ar_se = np.sqrt(ar_var)
    car = float(ar.sum())
    car_se = float(np.sqrt(car_var))
    ar_t = ar / ar_se
    car_t = car / car_se
    return DummyRegression(rel_days=rel_days[wdays], ar=ar, ar_se=ar_se, ar_t=ar_t,
                           ar_p=2 * special.ndtr(-np.abs(ar_t)), car=car, car_se=car_se, car_t=car_t,
                           car_p=float(2 * special.ndtr(-abs(car_t))), nobs=n + L, df_resid=float(n - k),
                           r2=float(res.rsquared), cov_type=f"HAC({lags})", model=res)


def rows_from(dr: DummyRegression, kind: str, event_id: str, subject: str, window: Window) -> list[dict]:
    """The tidy rows (``REG_COLUMNS`` of :mod:`eventstudy.inference.regression`) of one regression: one per
    window day ``AR[+d]``, then ``CAR``."""
    base = dict(kind=kind, event_id=event_id, subject=subject, window_start=window[0], window_end=window[1],
                cov_type=dr.cov_type, nobs=dr.nobs, r2=dr.r2)
    out = [dict(base, term=f"AR[{d:+d}]", coef=a, std_err=s, t=t, p_value=p)
           for d, a, s, t, p in zip(dr.rel_days, dr.ar, dr.ar_se, dr.ar_t, dr.ar_p)]
    out.append(dict(base, term="CAR", coef=dr.car, std_err=dr.car_se, t=dr.car_t, p_value=dr.car_p))
    return out


def missing_days_message(missing) -> str:
    """Why a dummy regression cannot be run: the window days (relative) without a return."""
    return (f"missing return on event day(s) {', '.join(f'{d:+d}' for d in missing)}; "
            f"the dummy regression needs every window day")
