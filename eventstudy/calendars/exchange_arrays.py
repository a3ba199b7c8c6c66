"""Exchange calendars as arrays: an ``exchange_calendars`` calendar built once per process from as early as it
allows (:func:`exchange_calendar`), and its session dates, opens, closes and lunch breaks as plain arrays
(:func:`calendar_arrays`), kept in the disk cache of :mod:`eventstudy.data.calendar_cache` so a run does not
rebuild them (building one takes about 0.1 s). The session models of :mod:`eventstudy.calendars.sessions`
read them.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import pandas as pd

__all__ = ["exchange_calendar", "CalendarArrays", "calendar_arrays"]

_UTC = "UTC"
_NS = "datetime64[ns]"


@functools.lru_cache(maxsize=None)
def exchange_calendar(code: str):
    """exchange_calendars calendar, built once (building one takes ~0.1 s), from as early as it allows
    (1990, or the calendar's own lower bound). Deprecation noise from exchange_calendars' use of pandas
    is silenced while building."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        factories = getattr(getattr(xcals, "calendar_utils", None), "_default_calendar_factories", {})
        cls = factories.get(code) if isinstance(factories, dict) else None
        if cls is None:  # alias or a changed private API: build a default calendar to find the class
            cls = type(xcals.get_calendar(code))
        start = pd.Timestamp("1990-01-01")
        bound_min = getattr(cls, "bound_min", None)
        if callable(bound_min):
            bm = bound_min()
            if bm is not None:
                start = max(start, pd.Timestamp(bm))
        return xcals.get_calendar(code, start=start)


def _naive_sessions(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    out = pd.DatetimeIndex(idx).astype(_NS)
    return pd.DatetimeIndex(out.values, name=None)  # drop freq


def _utc_index(series: pd.Series) -> pd.DatetimeIndex:
    """exchange_calendars' per-session instants as a UTC ``datetime64[ns, UTC]`` index (naive = UTC)."""
    idx = pd.DatetimeIndex(series)
    idx = idx.tz_localize(_UTC) if idx.tz is None else idx.tz_convert(_UTC)
    return pd.DatetimeIndex(idx.astype("datetime64[ns, UTC]"), name=None)


@dataclass(frozen=True)
class CalendarArrays:
    """An exchange calendar's session arrays: ``sessions`` (tz-naive midnight), ``opens``/``closes`` and,
    for exchanges with a lunch break, ``break_starts``/``break_ends`` (UTC; NaT where a session has none)."""

    tz: str
    sessions: pd.DatetimeIndex
    opens: pd.DatetimeIndex
    closes: pd.DatetimeIndex
    break_starts: pd.DatetimeIndex | None = None
    break_ends: pd.DatetimeIndex | None = None


def _cache_key(code: str) -> str:
    """Everything a calendar's arrays depend on: the code, exchange_calendars' version, the start rule of
    :func:`exchange_calendar` and the day (exchange_calendars ends a calendar a year after the day it is built)."""
    from importlib.metadata import version

    return f"{code}|exchange_calendars {version('exchange_calendars')}|start 1990 or bound_min|{pd.Timestamp.now():%Y-%m-%d}"


@functools.lru_cache(maxsize=None)
def calendar_arrays(code: str) -> CalendarArrays:
    """The session arrays of exchange_calendars calendar ``code`` (as :func:`exchange_calendar` builds it), read
    from the disk cache of :mod:`eventstudy.data.calendar_cache` when it holds them for the same key,
    else built and stored there; the same arrays either way (tested)."""
    from eventstudy.data.calendar_cache import read_calendar_arrays, write_calendar_arrays

    key = _cache_key(code)
    got = read_calendar_arrays(code, key)
    if got is None:
        cal = exchange_calendar(code)
        arrays = {"sessions": _naive_sessions(cal.sessions).asi8, "opens": _utc_index(cal.opens).asi8,
                  "closes": _utc_index(cal.closes).asi8}
        if cal.has_break:
            arrays.update(break_starts=_utc_index(cal.break_starts).asi8, break_ends=_utc_index(cal.break_ends).asi8)
        got = (str(cal.tz), arrays)
        write_calendar_arrays(code, key, *got)
    tz, a = got

    def utc(name: str) -> pd.DatetimeIndex | None:     # named as exchange_calendars names them
        return pd.DatetimeIndex(a[name].view(_NS), name=name[:-1]).tz_localize(_UTC) if name in a else None

    return CalendarArrays(tz, pd.DatetimeIndex(a["sessions"].view(_NS)), utc("opens"), utc("closes"),
                          utc("break_starts"), utc("break_ends"))
