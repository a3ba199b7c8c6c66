"""The normal model of trading volume: log volume, the market's log volume, calendar regressors.

Abnormal volume follows Campbell & Wasley (1996) and Ajinkya & Jain (1989): volume is strongly
right-skewed, its log much less so, so the measure is log volume

    v_it = ln(c + V_it)                       (V_it shares traded, c = 1 so a zero-volume day stays finite)
    v_it = ln(0.000255 + 100 T_it)            (T_it turnover = shares traded / shares outstanding, in
                                               percent: Campbell & Wasley 1996's transformation)

and its normal model is a market model in logs, with the equal-weighted mean log volume of a
market universe as the regressor, plus day-of-week and holiday-adjacent dummies:

    v_it = a_i + b_i m_t + sum_d c_id DOW_dt + g_i HOL_t + e_it,      m_t = (1/N_t) sum_j v_jt

(``DOW_d`` = 1 on Tuesday..Friday, Monday the base; ``HOL_t`` = 1 on a session right before or right
after a weekday without a session). The abnormal log volume ``AV_it = v_it - v̂_it`` of an event
window is the regression's prediction error, so the engine's AR/SAR/CAR machinery and test battery
apply unchanged (docs/METHODS.md sections 3 and 5): ``CAV_i = sum AV_it``; ``exp(CAV_i / L) - 1`` is
the window's average volume relative to normal. The market regressor absorbs what every stock
shares (market-wide volume, and with it most calendar effects); the dummies take what remains.

These are pure functions on frames and arrays; the fit runs in the batched engine
(:func:`eventstudy.engine.measures.abnormal_volume`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["LOG_OFFSET", "TURNOVER_OFFSET", "CALENDARS", "MARKET_COLUMN", "log_volume", "market_log_volume", "calendar_dummies",
           "holiday_adjacent"]

#: c in ln(c + V): one share, so a day with no trade has log volume 0 rather than -inf
LOG_OFFSET = 1.0
#: c in ln(c + 100 T) for turnover T (Campbell & Wasley 1996)
TURNOVER_OFFSET = 0.000255
#: the calendar regressors that can be added to the market log volume
CALENDARS = ("dow+holiday", "dow", "none")
#: the column name of the market log-volume regressor
MARKET_COLUMN = "market_log_volume"


def log_volume(volume: pd.DataFrame, offset: float | None = None) -> pd.DataFrame:
    """``ln(offset + V)`` elementwise for shares traded ``V`` (default offset :data:`LOG_OFFSET`), or
    ``ln(offset + 100 T)`` for turnover (``volume.attrs["measure"] == "turnover"``, as
    :func:`eventstudy.data.volume.read_volume_file` marks a file with shares outstanding; default offset
    :data:`TURNOVER_OFFSET`). NaN stays NaN; values >= 0."""
    vals = volume.to_numpy(dtype="float64")
    if volume.attrs.get("measure") == "turnover":
        vals = 100.0 * vals
        offset = TURNOVER_OFFSET if offset is None else offset
    offset = LOG_OFFSET if offset is None else offset
    with np.errstate(invalid="ignore"):
        out = np.log(offset + vals)
    return pd.DataFrame(out, index=volume.index, columns=volume.columns)


def market_log_volume(logv: pd.DataFrame, tickers: Sequence[str] | None = None, min_count: int = 1) -> pd.Series:
    """Equal-weighted mean log volume ``m_t = mean_j v_jt`` over ``tickers`` (default all columns)
    with a value on date t; NaN where fewer than ``min_count`` have one (Campbell & Wasley 1996)."""
    sub = logv if tickers is None else logv.loc[:, [t for t in tickers if t in logv.columns]]
    vals = sub.to_numpy(dtype="float64")
    n = np.sum(~np.isnan(vals), axis=1)
    tot = np.nansum(vals, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(n >= max(1, min_count), tot / np.maximum(n, 1), np.nan)
    return pd.Series(m, index=logv.index, name=MARKET_COLUMN)


def holiday_adjacent(sessions: pd.DatetimeIndex) -> np.ndarray:
    """Boolean per session: the previous or the next weekday (Mon-Fri) is not a session (a holiday),
    judged inside the span of ``sessions`` only."""
    s = pd.DatetimeIndex(sessions).normalize()
    if len(s) == 0:
        return np.zeros(0, dtype=bool)
    days = pd.bdate_range(s[0], s[-1])
    holidays = days[~days.isin(s)]
    prev_wd = s - pd.offsets.BDay(1)
    next_wd = s + pd.offsets.BDay(1)
    inside_prev = prev_wd >= s[0]
    inside_next = next_wd <= s[-1]
    return (inside_prev & prev_wd.isin(holidays)) | (inside_next & next_wd.isin(holidays))


def calendar_dummies(sessions: pd.DatetimeIndex, calendar: str = "dow+holiday") -> pd.DataFrame:
    """Calendar regressors on ``sessions``: ``dow_tue .. dow_fri`` (Monday the base) and ``holiday_adjacent``
    (:func:`holiday_adjacent`) for ``"dow+holiday"``; the weekday dummies only for ``"dow"``; none for ``"none"``."""
    if calendar not in CALENDARS:
        raise ValueError(f"unknown calendar {calendar!r}; choose one of {', '.join(CALENDARS)}")
    idx = pd.DatetimeIndex(sessions)
    out = pd.DataFrame(index=idx)
    if calendar == "none":
        return out
    wd = idx.day_of_week
    for d, name in zip(range(1, 5), ("tue", "wed", "thu", "fri")):
        out[f"dow_{name}"] = (wd == d).astype("float64")
    if calendar == "dow+holiday":
        out["holiday_adjacent"] = holiday_adjacent(idx).astype("float64")
    return out
