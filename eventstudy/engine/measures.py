"""Measures beside returns, run in the batched engine: abnormal log volume and GARCH-standardised
abnormal returns with the event-induced variance tests.

* :func:`abnormal_volume`: the log-volume market model of :mod:`eventstudy.estimation.volume`
  (Campbell & Wasley 1996) fitted by :class:`~eventstudy.engine.model.EventStudy` as a factor model
  on a panel of log volumes: one batched OLS over every (security, event) pair, the same windows,
  groups and test battery as returns (docs/METHODS.md sections 3, 5).
* :func:`abnormal_volatility`: from a fitted returns result, GARCH(1,1) per pair on the estimation
  residuals (``arch``, in parallel), the conditional variance filtered to the event days in one
  vectorised recursion, and the tests of :mod:`eventstudy.inference.volatility` per cell.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.model import EventStudy
from eventstudy.engine.results import EventStudyResult
from eventstudy.errors import EstimationError
from eventstudy.estimation.garch import fit_garch_many, garch_event_variance
from eventstudy.estimation.garch_dummy import MIN_DUMMY_DAYS, fit_garch_dummy_many
from eventstudy.estimation.windows import DEFAULT_ESTIMATION, WindowSpec
from eventstudy.estimation.volume import CALENDARS, MARKET_COLUMN, calendar_dummies, log_volume, market_log_volume
from eventstudy.inference.volatility import MIN_PRE_DAYS, cell_volatility_tests
from eventstudy.returns.panel import ReturnPanel

__all__ = ["VolatilityResult", "abnormal_volume", "abnormal_volatility", "volume_regressors"]


def volume_regressors(logv: pd.DataFrame, market: str | Sequence[str] = "all",
                      calendar: str = "dow+holiday") -> pd.DataFrame:
    """The regressors of the log-volume model on the sessions of ``logv``: the market's log volume
    (``"all"``: equal-weighted over every column; a list: over those tickers; a ticker: its own log
    volume) and the calendar dummies of :func:`~eventstudy.estimation.volume.calendar_dummies` (a dummy that is
    constant on every session, e.g. holiday-adjacent on a calendar without holidays, is left out)."""
    if calendar not in CALENDARS:
        raise EstimationError(f"unknown volume calendar {calendar!r}; choose one of {', '.join(CALENDARS)}")
    if isinstance(market, str) and market != "all":
        if market not in logv.columns:
            raise EstimationError(f"market volume ticker {market!r} has no volume; give 'all' (the equal-weighted "
                                  f"universe) or a ticker of the volume file")
        mkt = logv[market].rename(MARKET_COLUMN)
    else:
        mkt = market_log_volume(logv, None if market == "all" else list(market))
    sessions = logv.index[mkt.notna().to_numpy()]
    dummies = calendar_dummies(sessions, calendar)
    # a calendar without holidays (a simulated weekday market) has no holiday-adjacent day: nothing to estimate
    dummies = dummies.loc[:, [c for c in dummies.columns if dummies[c].nunique() > 1]]
    return pd.concat([mkt.loc[sessions], dummies], axis=1)


def abnormal_volume(volume: pd.DataFrame, pairs: pd.DataFrame, *, market: str | Sequence[str] = "all",
                    calendar: str = "dow+holiday", sessions: Mapping[str, pd.DatetimeIndex] | None = None,
                    **study_kwargs) -> EventStudyResult:
    """Abnormal log volume of every (security, event) pair, cumulated over the windows, with the test battery.

    ``volume``: wide shares traded (dates x tickers, NaN missing; e.g.
    :func:`eventstudy.data.volume.read_volume_file`); ``pairs``: ``ticker, event_id, day0[, group]``
    as for :class:`EventStudy`; ``sessions``: each ticker's trading sessions (default: the dates of
    ``volume``), so the relative-day grid is the returns study's. A calendar dummy that is constant over some
    pair's estimation window (no holiday in it) is left out for all pairs (``params`` shows the regressors
    used). ``study_kwargs`` go to
    :class:`EventStudy` (``estimation``, ``windows``, ``pooled_group``, ``pool_exclude``, ``min_obs``, ``pool``).

    Returns an :class:`EventStudyResult` whose ``ret`` is log volume, ``normal_ret`` its normal level,
    ``ar`` the abnormal log volume ``AV``, ``car`` the cumulated ``CAV`` (log points; ``bhar`` is NaN:
    it has no meaning for volume) and ``tests`` the battery on ``CAV`` (formulas: docs/METHODS.md section 5).
    """
    logv = log_volume(volume)
    regs = volume_regressors(logv, market, calendar)
    tickers = list(dict.fromkeys(pairs["ticker"].astype(str)))
    absent = [t for t in tickers if t not in logv.columns]
    if absent:
        raise EstimationError(f"no volume for {', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}: "
                              f"abnormal volume needs a volume series for every security of the pairs")
    idx = logv.index.union(regs.index)
    if sessions is not None:
        for t in tickers:
            idx = idx.union(pd.DatetimeIndex(sessions.get(t, [])))
    y = logv.reindex(index=idx, columns=tickers)
    own = {t: (pd.DatetimeIndex(sessions[t]) if sessions is not None and t in sessions else idx) for t in tickers}
    est = study_kwargs.get("estimation", DEFAULT_ESTIMATION)
    regs = regs.drop(columns=_constant_somewhere(regs, pairs, own, WindowSpec.build(est, [(0, 0)]).estimation))
    panel = ReturnPanel(returns=y, sessions=own, kind="log",
                        masked=pd.DataFrame({"ticker": [], "date": [], "reason": []}))
    res = EventStudy(panel, pairs, model="factor", factors=regs.reindex(idx), **study_kwargs).fit()
    car = res.car.copy()
    car["bhar"] = np.nan
    return replace(res, car=car)


def _constant_somewhere(regs: pd.DataFrame, pairs: pd.DataFrame, own: Mapping[str, pd.DatetimeIndex],
                        estimation: tuple[int, int]) -> list[str]:
    """Calendar dummies that take one value over the estimation window of some pair (a window without a
    holiday): left out for every pair, so that all pairs keep one model and none is lost to a dummy."""
    dummies = [c for c in regs.columns if c != MARKET_COLUMN]
    if not dummies:
        return []
    a, b = estimation
    out: set[str] = set()
    for t, sub in pairs.groupby("ticker", sort=False):
        s = own[t]
        pos = s.get_indexer(pd.DatetimeIndex(sub["day0"]))
        pos = pos[pos >= 0]
        lo, hi = np.clip(pos + a, 0, len(s)), np.clip(pos + b + 1, 0, len(s))
        vals = regs[dummies].reindex(s).fillna(0.0).to_numpy()
        cs = np.vstack([np.zeros((1, len(dummies))), np.cumsum(vals, axis=0)])
        count, size = cs[hi] - cs[lo], (hi - lo)[:, None]
        out.update(d for d, bad in zip(dummies, ((count == 0) | (count == size)).any(axis=0)) if bad)
    return [d for d in dummies if d in out]


@dataclass(frozen=True)
class VolatilityResult:
    """GARCH-standardised abnormal returns and the event-induced variance tests.

    ``car``: ``event_id, ticker, group, window_start, window_end, car, garch_var, scar_garch, var_shift,
    garch_delta, garch_delta_rel, garch_lr, garch_signed_root`` per pair-window (``garch_var`` the sum of the
    event days' conditional variance forecasts, ``var_shift`` the mean of ``AR^2 / h`` over the window minus 1,
    ``garch_*`` the variance-shift dummy fitted by ML over the estimation start to the window's end:
    :func:`eventstudy.estimation.garch_dummy.fit_garch_dummy`, only for windows of at least
    :data:`~eventstudy.estimation.garch_dummy.MIN_DUMMY_DAYS` days, NaN otherwise);
    ``params``: ``event_id, ticker, group, omega, alpha, beta, persistence, loglik, converged`` (decimal
    returns); ``tests``: ``event_id, group, window_start, window_end, n, estimate, test, statistic, p_value``
    with test ids of :mod:`eventstudy.inference.volatility`.
    """

    car: pd.DataFrame
    params: pd.DataFrame
    tests: pd.DataFrame


def _cells(pairs: pd.DataFrame, pooled_group: str | None, pool_exclude: Iterable[str]) -> list[tuple[str, str, np.ndarray]]:
    """(event_id, group, row positions) of every test cell: each event x group, plus the pooled group."""
    out: list[tuple[str, str, np.ndarray]] = []
    ev = pairs["event_id"].to_numpy()
    grp = pairs["group"].to_numpy() if "group" in pairs else np.full(len(pairs), pooled_group or "all")
    excl = set(pool_exclude)
    for e in dict.fromkeys(ev):
        in_e = ev == e
        for g in dict.fromkeys(grp[in_e]):
            out.append((e, g, np.flatnonzero(in_e & (grp == g))))
        if pooled_group:
            pooled = in_e & ~np.isin(grp, list(excl))
            if pooled.any():
                out.append((e, pooled_group, np.flatnonzero(pooled)))
    return out


def abnormal_volatility(result: EventStudyResult, *, pool_exclude: Sequence[str] = (), n_jobs: int = 2,
                        ) -> VolatilityResult:
    """GARCH(1,1) event-day variance forecasts and the volatility tests, from a fitted returns result.

    Per usable pair: the normal-return model's estimation residuals (the result's own OLS fit)
    get a GARCH(1,1) fitted by ``arch`` (:func:`~eventstudy.estimation.garch.fit_garch_many`,
    ``n_jobs`` processes); the conditional variance is filtered through the days between the
    estimation window and day 0 with the observed residuals and forecast over the event days
    (:func:`~eventstudy.estimation.garch.garch_event_variance`, Savickas 2003); then per cell the tests
    of :func:`eventstudy.inference.volatility.cell_volatility_tests`.
    """
    arr = result.arrays
    if arr is None:
        raise EstimationError("this result carries no arrays; fit it with EventStudy(...).fit()")
    ok = np.asarray(arr.ok, dtype=bool)
    pairs = arr.pairs.loc[ok].reset_index(drop=True)
    fit = arr.subset(np.flatnonzero(ok))[3]
    rel = np.asarray(arr.rel_days)
    est = np.asarray(arr.est_mask, dtype=bool)
    ar = np.asarray(fit.ar, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        lev = np.where(est[None, :], 1.0 - fit.h, 1.0 + fit.h)
        sar_ols = ar / np.sqrt(fit.s2[:, None] * lev)
    params = fit_garch_many(ar[:, est], n_jobs=n_jobs)
    windows = list(result.windows)
    first = min(0, min(a for a, _ in windows))
    h = garch_event_variance(ar, params, est_start=int(np.flatnonzero(est)[0]), est_end=int(np.flatnonzero(est)[-1]),
                             origin=int(np.flatnonzero(rel == first)[0]) - 1)
    rows, trows = [], []
    e0 = int(np.flatnonzero(est)[0])
    pre = (rel > rel[est].max()) & (rel < first)       # out-of-sample days before the windows: variance_rank's reference
    if int(pre.sum()) < MIN_PRE_DAYS:
        warnings.warn(f"variance_rank is not computed: it ranks the window against the days between the estimation "
                      f"window and the earliest event window, and there are {int(pre.sum())} (it needs "
                      f"{MIN_PRE_DAYS}); end the estimation window earlier, e.g. --estimation=-250,-11", stacklevel=2)
    start = np.column_stack([params["omega"], params["alpha"], params["beta"]])
    for (a, b) in windows:
        cols = (rel >= a) & (rel <= b)
        span = slice(e0, int(np.flatnonzero(cols)[-1]) + 1)
        if b - a + 1 >= MIN_DUMMY_DAYS:
            dummy = np.broadcast_to(cols[span].astype("float64"), (ar.shape[0], span.stop - span.start))
            gd = fit_garch_dummy_many(ar[:, span], dummy, start, n_jobs=n_jobs)
        else:                          # too few dummy days for the likelihood ratio's chi-square: not fitted
            gd = dict.fromkeys(("delta", "delta_rel", "lr", "signed_root"), np.full(ar.shape[0], np.nan))
        car = np.sum(ar[:, cols], axis=1)           # NaN when a window day is missing, as the engine's CAR
        var = np.sum(h[:, cols], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.mean(ar[:, cols] ** 2 / h[:, cols], axis=1) - 1.0
        rows.append(pd.DataFrame({"event_id": pairs["event_id"], "ticker": pairs["ticker"],
                                  "group": pairs.get("group", result.pooled_group),
                                  "window_start": a, "window_end": b, "car": car, "garch_var": var,
                                  "scar_garch": car / np.sqrt(var), "var_shift": shift,
                                  "garch_delta": gd["delta"], "garch_delta_rel": gd["delta_rel"],
                                  "garch_lr": gd["lr"], "garch_signed_root": gd["signed_root"]}))
    car_df = pd.concat(rows, ignore_index=True)
    for e, g, pos in _cells(pairs, result.pooled_group, pool_exclude):
        for (a, b) in windows:
            cols = (rel >= a) & (rel <= b)
            scar = car_df.loc[(car_df["window_start"] == a) & (car_df["window_end"] == b), "scar_garch"].to_numpy()[pos]
            sel = car_df.loc[(car_df["window_start"] == a) & (car_df["window_end"] == b)]
            dummy_cell = ((sel["garch_signed_root"].to_numpy()[pos], sel["garch_delta_rel"].to_numpy()[pos])
                          if b - a + 1 >= MIN_DUMMY_DAYS else None)
            trows.extend(cell_volatility_tests(e, g, a, b, scar, sar_ols[pos][:, pre], sar_ols[pos][:, cols],
                                               dummy_cell))
    par = pd.DataFrame({"event_id": pairs["event_id"], "ticker": pairs["ticker"],
                        "group": pairs.get("group", result.pooled_group), **{k: params[k] for k in
                        ("omega", "alpha", "beta", "persistence", "loglik", "converged")}})
    tests = pd.DataFrame(trows, columns=["event_id", "group", "window_start", "window_end", "n", "estimate",
                                         "test", "statistic", "p_value"])
    return VolatilityResult(car=car_df, params=par, tests=tests)
