"""Abnormal-return regressions with statsmodels.

- Event-dummy regression (Karafiath 1988): regress ``R_t`` on the model regressors plus
  one dummy per event-window day over the estimation and event days together. The dummy
  coefficients equal ``AR_t``, their OLS standard errors equal ``sqrt(V[t,t])``, and the
  t-test of the sum of the dummies equals the CAR test (docs/METHODS.md). ``cov_type='HAC'``
  gives Newey-West standard errors for autocorrelated residuals.
- Portfolio approach: the same regression on the equal-weighted portfolio of a group
  (mean return of the members present each day; regressors averaged the same way). One
  time series per group, so it is robust to cross-correlation when all members share the
  event date.
- Group differences under a shared date (:func:`group_difference_regressions`, what the study
  reports): the event-dummy regression of the return spread between a group's and the base
  group's equal-weighted portfolios (docs/METHODS.md, section 8).
- Cross-sectional regression of CARs on exposure variables (group dummies with a base
  group, or numeric characteristics) with heteroskedasticity-robust (HC3 by default)
  standard errors (MacKinnon & White 1985). It treats the CARs as independent, which they are
  not on a shared event date; kept for characteristics and for studies with scattered dates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .errors import EstimationError
from .windows import Window

REG_COLUMNS = ["kind", "event_id", "subject", "window_start", "window_end", "term", "coef", "std_err",
               "t", "p_value", "cov_type", "nobs", "r2"]


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
        raise EstimationError(f"missing return on event day(s) {', '.join(f'{d:+d}' for d in missing)}; "
                              f"the dummy regression needs every window day")
    n_base = (1 if constant else 0) + f.shape[1]
    if int((rows & est_mask).sum()) <= n_base + 1:
        raise EstimationError("too few estimation observations for the dummy regression")
    if cov_type.upper() == "HAC":
        return _hac_event_regression(y, f, est_mask, window_mask, rel_days, maxlags, constant)
    dummies = (np.arange(len(y))[:, None] == wdays[None, :]).astype(float)
    cols = [np.ones(len(y))] if constant else []
    X = np.column_stack(cols + [f, dummies]) if (cols or f.shape[1]) else dummies
    X, yy = X[rows], y[rows]
    res = sm.OLS(yy, X).fit()
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
    from scipy import stats as _st

    rows = est_mask & np.isfinite(y) & np.all(np.isfinite(f), axis=1)
    Xe = np.column_stack(([np.ones(int(rows.sum()))] if constant else []) + [f[rows]])
    ye = y[rows]
    n, k = Xe.shape
    lags = newey_west_lags(n) if maxlags is None else int(maxlags)
    res = sm.OLS(ye, Xe).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
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
                           ar_p=2 * _st.norm.sf(np.abs(ar_t)), car=car, car_se=car_se, car_t=car_t,
                           car_p=float(2 * _st.norm.sf(abs(car_t))), nobs=n + L, df_resid=float(n - k),
                           r2=float(res.rsquared), cov_type=f"HAC({lags})", model=res)


def _rows_from(dr: DummyRegression, kind: str, event_id: str, subject: str, window: Window) -> list[dict]:
    base = dict(kind=kind, event_id=event_id, subject=subject, window_start=window[0], window_end=window[1],
                cov_type=dr.cov_type, nobs=dr.nobs, r2=dr.r2)
    out = [dict(base, term=f"AR[{d:+d}]", coef=a, std_err=s, t=t, p_value=p)
           for d, a, s, t, p in zip(dr.rel_days, dr.ar, dr.ar_se, dr.ar_t, dr.ar_p)]
    out.append(dict(base, term="CAR", coef=dr.car, std_err=dr.car_se, t=dr.car_t, p_value=dr.car_p))
    return out


def event_dummy_regressions(result, by: str = "group", subjects: Sequence[str] | None = None,
                            windows: Iterable[Window] | None = None,
                            cov_types: Sequence[str] = ("OLS", "HAC")) -> pd.DataFrame:
    """Event-dummy regressions for every event, per group portfolio (``by='group'``) or per security
    (``by='ticker'``), for each window and covariance type. Tidy frame with :data:`REG_COLUMNS`.

    The portfolio is the equal-weighted mean of the members' returns present each day; its regressors
    are the members' regressors averaged the same way (identical when members share a benchmark).
    """
    a = result.arrays
    if a is None:
        raise ValueError("the result carries no arrays; re-run the study")
    if result.model == "market_adjusted":
        raise EstimationError("event-dummy regressions need an estimated model (not market_adjusted)")
    pairs = a.pairs
    key = pairs["group"].to_numpy() if by == "group" else pairs["ticker"].to_numpy()
    ev = pairs["event_id"].to_numpy()
    wins = list(windows) if windows is not None else list(result.windows)
    rel = a.rel_days
    q = len(result.regressors)
    rows: list[dict] = []
    kind = "dummy_portfolio" if by == "group" else "dummy_security"
    wmasks = [(w, (rel >= w[0]) & (rel <= w[1])) for w in wins]
    for e in dict.fromkeys(ev):
        rows_e = np.flatnonzero(a.ok & (ev == e))
        if not len(rows_e):
            continue
        y_e, f_e = a.returns(rows_e)                     # gathered once per event, in pair order
        key_e = key[rows_e]
        for s in dict.fromkeys(key[ev == e]):
            if subjects is not None and s not in subjects:
                continue
            sel = key_e == s
            if not sel.any():
                continue
            with np.errstate(invalid="ignore"), _quiet():
                yv = np.nanmean(y_e[sel], axis=0)
                fv = np.nanmean(f_e[sel], axis=0) if q else np.zeros((len(rel), 0))
            for w, wm in wmasks:
                for ct in cov_types:
                    try:
                        dr = dummy_regression(yv, fv, a.est_mask, wm, rel, cov_type=ct)
                    except EstimationError as exc:
                        rows.append(dict(kind=kind, event_id=e, subject=s, window_start=w[0], window_end=w[1],
                                         term="CAR", coef=np.nan, std_err=np.nan, t=np.nan, p_value=np.nan,
                                         cov_type=ct, nobs=0, r2=np.nan, note=str(exc)))
                        continue
                    rows.extend(_rows_from(dr, kind, e, s, w))
    out = pd.DataFrame(rows)
    for c in REG_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    return out[REG_COLUMNS + (["note"] if "note" in out.columns else [])]


class _quiet:
    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def cross_sectional_regression(car: pd.DataFrame, event_id: str, window: Window, base_group: str | None = None,
                               characteristics: pd.DataFrame | None = None, exclude_groups: Sequence[str] = (),
                               cov_type: str = "HC3", scale: float = 100.0) -> tuple[pd.DataFrame, object]:
    """Regress ``CAR_i`` (in percent by default, ``scale=100``) on exposure variables.

    With ``characteristics`` (indexed by ticker, numeric columns such as China sales share) those
    columns are the regressors; otherwise group dummies with ``base_group`` as the omitted base
    (the constant is the base group's mean CAR and each coefficient the difference to it).
    Heteroskedasticity-robust ``cov_type`` (statsmodels: HC0..HC3). Returns the tidy rows and the
    statsmodels results.
    """
    d = car[(car["event_id"] == event_id) & (car["window_start"] == window[0]) & (car["window_end"] == window[1])]
    d = d[~d["group"].isin(list(exclude_groups))].dropna(subset=["car"])
    if characteristics is not None:
        X = characteristics.reindex(d["ticker"].to_numpy())
        X.index = d.index
        keep = X.notna().all(axis=1)
        d, X = d[keep], X[keep].astype(float)
        X = sm.add_constant(X, has_constant="add")
        names = ["const"] + list(characteristics.columns)
        subject = "CAR on characteristics"
    else:
        groups = list(dict.fromkeys(d["group"]))
        if base_group is None:
            base_group = groups[0]
        if base_group not in groups:
            raise EstimationError(f"base group {base_group!r} has no CAR for event {event_id} window {list(window)}")
        others = [g for g in groups if g != base_group]
        X = pd.DataFrame({f"group[{g}]": (d["group"] == g).astype(float).to_numpy() for g in others}, index=d.index)
        X.insert(0, "const", 1.0)
        names = [f"const ({base_group})"] + list(X.columns[1:])
        subject = f"CAR on groups (base: {base_group})"
    if len(d) <= X.shape[1]:
        raise EstimationError(f"cross-sectional regression for {event_id} {list(window)}: {len(d)} CARs for "
                              f"{X.shape[1]} coefficients; too few")
    res = sm.OLS(d["car"].to_numpy() * scale, X.to_numpy()).fit(cov_type=cov_type)
    rows = [dict(kind="cross_section", event_id=event_id, subject=subject, window_start=window[0],
                 window_end=window[1], term=n, coef=float(c), std_err=float(s), t=float(t), p_value=float(p),
                 cov_type=cov_type, nobs=int(res.nobs), r2=float(res.rsquared))
            for n, c, s, t, p in zip(names, res.params, res.bse, res.tvalues, res.pvalues)]
    return pd.DataFrame(rows, columns=REG_COLUMNS), res


def group_difference_regressions(result, base_group: str, groups: Sequence[str] | None = None,
                                 windows: Iterable[Window] | None = None, scale: float = 100.0) -> pd.DataFrame:
    """Group differences that hold under a shared event date (docs/METHODS.md, section 8).

    For each event, window and exposure group ``g`` (``groups``, default every group with estimated
    pairs other than ``base_group``): the Karafiath event-dummy regression (:func:`dummy_regression`,
    OLS) of the return spread ``R_g,t - R_base,t`` of the two equal-weighted portfolios on the members'
    averaged regressors over the estimation days plus window dummies. The dummy sum is the difference
    in CAAR; its standard error comes from the spread's own residual variance on the estimation
    window, so the common shock of a shared date (and the cross-correlation of the members) is in
    the variance, unlike HC3 on a cross-section of CARs. Rows ``kind='cross_section'``: term
    ``const (base)`` (the base portfolio's CAR test) and ``group[g]`` (the difference), coefficients
    in percent (``scale``), ``cov_type='OLS spread'``.
    """
    a = result.arrays
    if a is None:
        raise ValueError("the result carries no arrays; re-run the study")
    pairs = a.pairs
    gr = pairs["group"].to_numpy()
    ev = pairs["event_id"].to_numpy()
    wins = list(windows) if windows is not None else list(result.windows)
    rel = a.rel_days
    q = len(result.regressors)
    rows: list[dict] = []
    for e in dict.fromkeys(ev):
        rows_e = np.flatnonzero(a.ok & (ev == e))
        if not len(rows_e):
            continue
        g_e = gr[rows_e]
        if not (g_e == base_group).any():
            continue
        y_e, f_e = a.returns(rows_e)
        with np.errstate(invalid="ignore"), _quiet():
            yb = np.nanmean(y_e[g_e == base_group], axis=0)
            fb = np.nanmean(f_e[g_e == base_group], axis=0) if q else np.zeros((len(rel), 0))
        todo = [g for g in dict.fromkeys(g_e) if g != base_group and (groups is None or g in groups)]
        series = [("const", base_group, yb, fb)]
        for g in todo:
            with np.errstate(invalid="ignore"), _quiet():
                yg = np.nanmean(y_e[g_e == g], axis=0)
                fg = np.nanmean(f_e[g_e == g], axis=0) if q else np.zeros((len(rel), 0))
            f = fg if (fg.shape == fb.shape and np.allclose(fg, fb, equal_nan=True)) else np.column_stack([fg, fb])
            series.append(("diff", g, yg - yb, f))
        for kind, g, y, f in series:
            term = f"const ({base_group})" if kind == "const" else f"group[{g}]"
            for w in wins:
                wm = (rel >= w[0]) & (rel <= w[1])
                base = dict(kind="cross_section", event_id=e, subject=f"spread regression (base: {base_group})",
                            window_start=w[0], window_end=w[1], term=term, cov_type="OLS spread")
                try:
                    dr = dummy_regression(y, f, a.est_mask, wm, rel, cov_type="OLS")
                except EstimationError:
                    rows.append(dict(base, coef=np.nan, std_err=np.nan, t=np.nan, p_value=np.nan, nobs=0, r2=np.nan))
                    continue
                rows.append(dict(base, coef=dr.car * scale, std_err=dr.car_se * scale, t=dr.car_t, p_value=dr.car_p,
                                 nobs=dr.nobs, r2=dr.r2))
    return pd.DataFrame(rows, columns=REG_COLUMNS)
