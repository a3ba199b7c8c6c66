"""Intraday returns as legs, windows in bars, minutes and sessions, and daily OHLC legs.

Legs (log returns): each bar has a **bar leg** (first bar of a session: ``log(close/open)``;
any other bar: ``log(close/previous close)``) and the first bar of each session also has a
**gap leg** ``log(open/previous session's last close)`` - the move across the session break
(the overnight gap), kept apart from the moves within sessions. The legs of consecutive bars
add up to the log return between their closes.

Windows (:func:`parse_window`): ``bars:A,B`` (bars A..B after bar 0, inclusive), ``min:A,B``
(bars opening in [bar 0 + A min, bar 0 + B min)), ``rest`` (bar 0 to the end of its session),
``session`` (the whole session of bar 0, from the previous session's close: e.g. the night
session from the day close) and ``next`` (the session after bar 0's, from its gap). A window
that starts with the first bar of a session includes that session's gap leg (news in a break
first shows in the gap), except ``rest``/``bars``/``min`` windows whose bar 0 is inside a session.

Daily legs (:func:`daily_legs`): for instruments with opens, a session's close-to-close return
splits into the **overnight** leg ``open_t/close_{t-1} - 1`` and the **intraday** leg
``close_t/open_t - 1``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.errors import WindowError

__all__ = ["IntradayWindow", "parse_window", "bar_legs", "LegArrays", "leg_arrays", "window_positions", "window_return",
           "daily_legs",
           "DEFAULT_WINDOWS"]

DEFAULT_WINDOWS: tuple[str, ...] = ("session", "rest", "bars:0,3", "next")


@dataclass(frozen=True)
class IntradayWindow:
    """An event window on bars: ``unit`` 'bars' | 'minutes' | 'rest' | 'session' | 'next', bounds for bars/minutes."""

    unit: str
    start: float = 0
    end: float = 0

    @property
    def label(self) -> str:
        if self.unit == "bars":
            return f"bars {int(self.start)}..{int(self.end)}"
        if self.unit == "minutes":
            return f"[{self.start:g}, {self.end:g}) min"
        return {"rest": "rest of session", "session": "whole session", "next": "next session"}[self.unit]


def parse_window(text: str) -> IntradayWindow:
    """``'bars:0,4'``, ``'min:0,30'``, ``'rest'``, ``'session'`` or ``'next'`` -> :class:`IntradayWindow`."""
    t = str(text).strip().lower()
    if t in ("rest", "session", "next"):
        return IntradayWindow(t)
    m = re.fullmatch(r"(bars|min|minutes):\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)", t)
    if not m:
        raise WindowError(f"intraday window {text!r}: write bars:A,B (bars after bar 0), min:A,B (minutes after "
                          "bar 0's open), rest (to the end of bar 0's session), session or next.")
    a, b = float(m.group(2)), float(m.group(3))
    unit = "bars" if m.group(1) == "bars" else "minutes"
    if b < a or (unit == "bars" and (a != int(a) or b != int(b))) or (unit == "minutes" and b <= a):
        raise WindowError(f"intraday window {text!r}: the end must come after the start (whole bars for bars:A,B).")
    return IntradayWindow(unit, a, b)


def bar_legs(bars: pd.DataFrame) -> pd.DataFrame:
    """``bars`` (one ticker, sessions assigned) with ``gap`` (log, NaN except on a session's first bar with a
    previous close), ``ret`` (the bar leg, log), ``first`` (first bar of its session) and ``prev_close``."""
    out = bars.reset_index(drop=True).copy()
    close = out["close"].to_numpy(dtype="float64")
    open_ = out["open"].to_numpy(dtype="float64")
    seq = out["seq"].to_numpy()
    first = np.r_[True, seq[1:] != seq[:-1]]
    prev_close = np.r_[np.nan, close[:-1]]
    out["first"] = first
    out["prev_close"] = prev_close
    out["gap"] = np.where(first, np.log(open_ / prev_close), np.nan)
    out["ret"] = np.where(first, np.log(close / open_), np.log(close / prev_close))
    return out


@dataclass(frozen=True)
class LegArrays:
    """The columns of :func:`bar_legs` as numpy arrays (built once; windows are cut from them)."""

    t: np.ndarray          # bar open, int64 ns UTC
    seq: np.ndarray
    first: np.ndarray
    gap: np.ndarray
    ret: np.ndarray
    open: np.ndarray
    close: np.ndarray
    prev_close: np.ndarray
    csum: np.ndarray       # cumulative bar legs, csum[i] = ret[0] + ... + ret[i-1]
    gsum: np.ndarray       # cumulative gap legs (NaN as 0)


def leg_arrays(legs: pd.DataFrame) -> LegArrays:
    """:class:`LegArrays` of a :func:`bar_legs` frame."""
    ret = legs["ret"].to_numpy(dtype="float64")
    gap = legs["gap"].to_numpy(dtype="float64")
    return LegArrays(t=pd.DatetimeIndex(legs["bar_open_utc"]).as_unit("ns").asi8, seq=legs["seq"].to_numpy(),
                     first=legs["first"].to_numpy(dtype=bool), gap=gap, ret=ret,
                     open=legs["open"].to_numpy(dtype="float64"), close=legs["close"].to_numpy(dtype="float64"),
                     prev_close=legs["prev_close"].to_numpy(dtype="float64"),
                     csum=np.r_[0.0, np.cumsum(ret)], gsum=np.r_[0.0, np.cumsum(np.nan_to_num(gap, nan=0.0))])


def _arrays(legs: pd.DataFrame | LegArrays) -> LegArrays:
    return legs if isinstance(legs, LegArrays) else leg_arrays(legs)


def window_positions(legs: pd.DataFrame | LegArrays, pos: int, w: IntradayWindow) -> tuple[np.ndarray, bool]:
    """(bar positions of window ``w`` anchored at bar ``pos``, whether the first bar's gap leg is included)."""
    a = _arrays(legs)
    seq, n = a.seq, len(a.seq)
    if w.unit == "bars":
        idx = np.arange(pos + int(w.start), pos + int(w.end) + 1)
        idx = idx[(idx >= 0) & (idx < n)]
        return idx, bool(len(idx) and w.start == 0 and a.first[pos] and idx[0] == pos)
    if w.unit == "minutes":
        lo, hi = a.t[pos] + int(w.start * 6e10), a.t[pos] + int(w.end * 6e10)
        i, j = np.searchsorted(a.t, lo), np.searchsorted(a.t, hi)
        idx = np.arange(i, j)
        return idx, bool(len(idx) and idx[0] == pos and a.first[pos])
    s = seq[pos]
    if w.unit == "rest":
        j = pos + int(np.searchsorted(seq[pos:], s, side="right"))
        return np.arange(pos, j), bool(a.first[pos])
    if w.unit == "session":
        i = int(np.searchsorted(seq, s, side="left"))
        return np.arange(i, int(np.searchsorted(seq, s, side="right"))), True
    i = int(np.searchsorted(seq, s, side="right"))
    if i >= n:
        return np.array([], dtype=int), False
    return np.arange(i, int(np.searchsorted(seq, seq[i], side="right"))), True


def window_return(legs: pd.DataFrame | LegArrays, pos: int, w: IntradayWindow) -> dict:
    """Window ``w`` at bar ``pos``: log return ``logret`` = ``gap`` + ``within``, simple ``ret``, prices and bars.

    ``gap`` sums the gap legs inside the window (every later session's opening gap, and the first
    bar's own gap when the window includes it); ``within`` the bar legs. ``from_price`` is the close
    before the window (the previous session's close when the gap is included, else the close of the
    bar before the window's first bar, or its open for a session's first bar). ``legs``: a
    :func:`bar_legs` frame or its :func:`leg_arrays` (faster when many windows are cut).
    """
    a = _arrays(legs)
    idx, with_gap = window_positions(a, pos, w)
    if not len(idx):
        return {"n_bars": 0, "logret": np.nan, "ret": np.nan, "gap": np.nan, "within": np.nan,
                "from_price": np.nan, "to_price": np.nan, "start_utc": pd.NaT, "end_utc": pd.NaT}
    i, j = int(idx[0]), int(idx[-1])
    gap = float(a.gsum[j + 1] - a.gsum[i + 1])   # later sessions' gaps inside the window
    if with_gap and a.first[i]:
        gap += float(a.gap[i])
    within = float(a.csum[j + 1] - a.csum[i])
    from_price = a.prev_close[i] if (with_gap or not a.first[i]) else a.open[i]
    total = gap + within
    return {"n_bars": j - i + 1, "logret": total, "ret": float(np.expm1(total)), "gap": gap, "within": within,
            "from_price": float(from_price), "to_price": float(a.close[j]),
            "start_utc": pd.Timestamp(int(a.t[i]), tz="UTC"), "end_utc": pd.Timestamp(int(a.t[j]), tz="UTC")}


def daily_legs(ohlc: pd.DataFrame) -> pd.DataFrame:
    """Overnight and intraday legs of daily bars: ``date, ticker, open, close, overnight, intraday, close_to_close``.

    ``ohlc``: long ``date, ticker, open, close`` (sessions of each ticker's own calendar, one row per
    session). Simple returns; NaN where a price is missing. ``(1+overnight)(1+intraday) = 1+close_to_close``.
    """
    df = ohlc.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    prev = df.groupby("ticker", sort=False)["close"].shift(1)
    o, c = df["open"].astype("float64"), df["close"].astype("float64")
    out = df[["date", "ticker"]].copy()
    out["open"], out["close"] = o, c
    out["overnight"] = o / prev - 1
    out["intraday"] = c / o - 1
    out["close_to_close"] = c / prev - 1
    return out
