"""Trading-session models per instrument (day 0 itself is :mod:`eventstudy.calendars.day0`).

Day 0 of an event for an instrument is the first session in which that instrument could trade
on the news. Three kinds of session model:

* :class:`ExchangeSessionModel` - an exchange from ``exchange_calendars`` (XTKS for ``*.T``,
  ``^N225``, ``^TOPX``/``^TPX``; XNYS for ``^GSPC``, ``^SOX``, ``^VIX``, plain US tickers; a few
  other Yahoo suffixes). Session dates, opens and closes come from exchange_calendars, which
  knows e.g. that the Tokyo close moved from 15:00 to 15:30 on 2024-11-05.
* :class:`GlobexSessionModel` - CME Globex equity-index futures (``NKD=F``, ``NIY=F``, ``ES=F``,
  ...). Session *dates* come from exchange_calendars ``CMES``; the hours are computed here:
  trading day D runs from 17:00 America/Chicago on the calendar day before D (Sunday evening for
  a Monday) to 16:00 America/Chicago on D, or to CMES's earlier close on holiday half-days.
  (CMES itself puts the close at 17:00 CT, one hour late for the daily settlement bar.)
* :class:`DatesModel` - anything else (FX ``JPY=X``, unknown suffixes): the sessions are the dates
  the instrument has prices for; there are no intraday hours, so day 0 is by date only.

:func:`map_day0` produces the audit table (one row per event x ticker) with a reason in words.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import time as _time

import numpy as np
import pandas as pd

from eventstudy.inputs.dates import as_bound, as_date, normalise_dates
from eventstudy.errors import DataUnavailableError, NotASessionError, WindowError
from eventstudy.calendars.exchange_arrays import CalendarArrays, calendar_arrays, exchange_calendar
from eventstudy.inputs.exchanges import EXCHANGE_NAMES, guess_exchange, normalise_exchange

__all__ = [
    "SessionModel",
    "TimedSessionModel",
    "ExchangeSessionModel",
    "GlobexSessionModel",
    "DatesModel",
    "session_model_for",
    "CalendarArrays",
    "calendar_arrays",
    "describe_calendar",
    "guess_exchange",
    "normalise_exchange",
]

_UTC = "UTC"
_NS = "datetime64[ns]"

# ---------------------------------------------------------------------------------------------
# Session models
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionModel:
    """Base class: the trading sessions of an instrument.

    ``name`` is a short code shown in audits ('XTKS', 'CME Globex', 'price dates');
    ``tz`` the IANA timezone the sessions are dated in.
    """

    name: str
    tz: str

    @property
    def has_times(self) -> bool:
        """True when sessions have known open/close instants."""
        return True

    @property
    def unit(self) -> str:
        """What one session is called in messages ('session', or 'trading day' for futures)."""
        return "session"

    def _not_a_session(self, d: pd.Timestamp) -> NotASessionError:
        return NotASessionError(f"{d:%Y-%m-%d} is not a {self.name} {self.unit} (weekend, holiday or outside the "
                                f"calendar): use a {self.unit} date, e.g. from .sessions(start, end).",
                                ticker=getattr(self, "ticker", None) or None, date=d, calendar=self.name)

    def all_sessions(self) -> pd.DatetimeIndex:  # pragma: no cover - abstract
        raise NotImplementedError

    def session_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        """Vectorised (open_utc, close_utc) for the given session dates (all must be sessions)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def sessions(self, start: object = None, end: object = None) -> pd.DatetimeIndex:
        """Sessions dated in [start, end] as tz-naive midnight ``datetime64[ns]`` (both ends optional).

        Raises :class:`WindowError` if the range reaches outside the dates this model covers.
        """
        allsess = self.all_sessions()
        lo, hi = self.coverage()
        s = as_bound(start, "start", WindowError)
        e = as_bound(end, "end", WindowError)
        if s is not None and e is not None and e < s:
            raise WindowError(f"{self.name}: sessions asked for {s:%Y-%m-%d} to {e:%Y-%m-%d}, but the end is before the start.")
        for d, what in ((s, "start"), (e, "end")):
            if d is not None and (d < lo or d > hi):
                raise WindowError(
                    f"{self.name}: the {what} date {d:%Y-%m-%d} is outside the dates this calendar covers "
                    f"({lo:%Y-%m-%d} to {hi:%Y-%m-%d}): shorten the date range."
                )
        mask = np.ones(len(allsess), dtype=bool)
        if s is not None:
            mask &= allsess >= s
        if e is not None:
            mask &= allsess <= e
        return allsess[mask]

    def bounds(self, session_date: object) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(open_utc, close_utc) of one session as tz-aware UTC Timestamps.

        Raises :class:`WindowError` if ``session_date`` is not a session of this model.
        """
        d = _as_date(session_date, "session_date")
        allsess = self.all_sessions()
        pos = allsess.searchsorted(d)
        if pos >= len(allsess) or allsess[pos] != d:
            raise self._not_a_session(d)
        o, c = self.session_bounds(allsess[pos:pos + 1])
        return o[0], c[0]

    def coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        allsess = self.all_sessions()
        return allsess[0], allsess[-1]


@dataclass(frozen=True)
class TimedSessionModel(SessionModel):
    """A model with known session times: subclasses provide ``arrays`` = (sessions, opens UTC, closes UTC)."""

    @property
    def arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:  # pragma: no cover
        raise NotImplementedError

    def all_sessions(self) -> pd.DatetimeIndex:
        return self.arrays[0]

    def session_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        sess, opens, closes = self.arrays
        pos = sess.get_indexer(pd.DatetimeIndex(sessions).astype(_NS))
        if (pos < 0).any():
            raise self._not_a_session(pd.DatetimeIndex(sessions)[pos < 0][0])
        return opens[pos], closes[pos]

    def break_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex] | None:
        """(break_start_utc, break_end_utc) per session, or None when the sessions have no breaks (the default)."""
        return None


@dataclass(frozen=True)
class ExchangeSessionModel(TimedSessionModel):
    """Sessions, opens and closes of an exchange_calendars calendar (e.g. 'XTKS', 'XNYS')."""

    code: str = ""

    @functools.cached_property
    def _cal(self):
        return exchange_calendar(self.code)

    @functools.cached_property
    def arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:
        a = calendar_arrays(self.code)
        return a.sessions, a.opens, a.closes

    def break_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex] | None:
        """(break_start_utc, break_end_utc) per session (NaT where none), or None if the exchange has no breaks."""
        a = calendar_arrays(self.code)
        if a.break_starts is None:
            return None
        pos = a.sessions.get_indexer(pd.DatetimeIndex(sessions).astype(_NS))
        return a.break_starts[pos], a.break_ends[pos]

    def describe(self) -> str:
        cal = self._cal
        full = EXCHANGE_NAMES.get(self.code)
        head = f"{self.code} ({full})" if full else self.code
        opens, closes = list(cal.open_times), list(cal.close_times)
        text = f"{head}, {_hm(opens[-1][1])}\u2013{_hm(closes[-1][1])} {self.tz}"
        if cal.has_break:
            bst, bet = list(cal.break_start_times), list(cal.break_end_times)
            text += f" (break {_hm(bst[-1][1])}\u2013{_hm(bet[-1][1])})"
        changes = [f"{which} {_hm(t)} before {since:%Y-%m-%d}"
                   for which, times in (("open", opens), ("close", closes))
                   for (_, t), (since, _) in zip(times[:-1], times[1:]) if since is not None]
        if changes:
            text += "; " + ", ".join(changes)
        return text


@dataclass(frozen=True)
class GlobexSessionModel(TimedSessionModel):
    """CME Globex equity-index futures: CMES session dates, 17:00 CT (day before) to 16:00 CT hours.

    Bounds of trading day D (America/Chicago, DST via zoneinfo):
    open = D-1 (calendar day) 17:00, close = min(D 16:00, CMES close of D) - the second term
    applies CME's holiday half-days (e.g. 12:00 CT on Thanksgiving and Christmas Eve).
    """

    open_time: _time = _time(17, 0)
    close_time: _time = _time(16, 0)

    @property
    def unit(self) -> str:
        return "trading day"

    @functools.cached_property
    def _cal(self):
        return exchange_calendar("CMES")

    @functools.cached_property
    def arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:
        cmes = calendar_arrays("CMES")
        sess = cmes.sessions
        opens, closes = self._compute_bounds(sess)
        cmes_close = cmes.closes
        closes = pd.DatetimeIndex(np.minimum(closes.asi8, cmes_close.asi8).astype("datetime64[ns]")).tz_localize(_UTC)
        return sess, opens, closes

    def _compute_bounds(self, sess: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        """Regular Globex bounds of the given trading days as UTC (no half-day adjustment)."""
        ot = pd.Timedelta(hours=self.open_time.hour, minutes=self.open_time.minute)
        ct = pd.Timedelta(hours=self.close_time.hour, minutes=self.close_time.minute)
        opens = (sess - pd.Timedelta(days=1) + ot).tz_localize(self.tz, nonexistent="raise", ambiguous="raise")
        closes = (sess + ct).tz_localize(self.tz, nonexistent="raise", ambiguous="raise")
        return (opens.tz_convert(_UTC).astype("datetime64[ns, UTC]"),
                closes.tz_convert(_UTC).astype("datetime64[ns, UTC]"))

    def describe(self) -> str:
        return (f"CME Globex (trading days from exchange_calendars CMES), {_hm(self.open_time)} on the previous "
                f"day \u2013 {_hm(self.close_time)} {self.tz} (earlier on holiday half-days)")


@dataclass(frozen=True, eq=False)
class DatesModel(SessionModel):
    """No known exchange: the sessions are the dates ``ticker`` has prices for; no intraday hours."""

    ticker: str = ""
    dates: pd.DatetimeIndex | None = field(default=None, repr=False)

    @property
    def has_times(self) -> bool:
        return False

    def all_sessions(self) -> pd.DatetimeIndex:
        if self.dates is None:
            raise DataUnavailableError(_no_dates_message(self.ticker))
        idx = normalise_dates(self.dates).values
        return pd.DatetimeIndex(np.unique(idx[~np.isnat(idx)]))

    # Identity semantics: two tickers' date sets are different models even when their names agree.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        # Any range may be asked for: the sessions are simply the price dates inside it.
        return pd.Timestamp.min.as_unit("ns").ceil("D"), pd.Timestamp.max.as_unit("ns").floor("D")

    def session_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        n = len(sessions)
        nat = pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), dtype=_NS)).tz_localize(_UTC)
        return nat, nat

    def bounds(self, session_date: object) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(NaT, NaT): no intraday hours are known for this instrument."""
        return pd.NaT, pd.NaT

    def describe(self) -> str:
        return f"no exchange calendar: sessions are the dates {self.ticker or 'the instrument'} has prices for (no intraday hours)"


def _no_dates_message(ticker: str) -> str:
    return (f"ticker {ticker!r} has no known exchange calendar, so its sessions are the dates it has prices for, "
            "but no price dates were given for it: pass price_dates={ticker: dates} (e.g. the index of its "
            "non-missing prices), or set its exchange (XTKS, XNYS or CME) in the universe file.")


@functools.lru_cache(maxsize=None)
def _exchange_model(code: str) -> ExchangeSessionModel:
    return ExchangeSessionModel(name=code, tz=calendar_arrays(code).tz, code=code)


@functools.lru_cache(maxsize=None)
def _globex_model() -> GlobexSessionModel:
    return GlobexSessionModel(name="CME Globex", tz="America/Chicago")


def session_model_for(ticker: str, exchange: str | None = None,
                      dates: pd.DatetimeIndex | None = None) -> SessionModel:
    """The session model of ``ticker``; ``exchange`` overrides the guess from the symbol.

    ``exchange``: an exchange_calendars code ('XTKS', 'XNYS', 'XNAS', 'XASX', ...), an alias ('TSE',
    'NYSE'), 'CME' for CME Globex, 'dates' for the price-dates model, or None/'' to guess
    (:func:`guess_exchange`: ``*.T``, ``^N225``, ``^TOPX`` -> XTKS; ``^GSPC`` and plain symbols ->
    XNYS; CME equity-index futures -> CME Globex; ``7203 JP Equity`` -> XTKS; else the price-dates
    model). ``dates``: the instrument's price dates, used only by the price-dates model
    (:class:`DatesModel`). Pipelines resolve calendars with
    :func:`eventstudy.inputs.instruments.resolve_calendars`, which checks a guess against the data.
    """
    code = normalise_exchange(exchange, ticker)
    if code is None:
        code = guess_exchange(ticker)
    if code == "CME":
        return _globex_model()
    if code == "OSE":
        from eventstudy.calendars.venues import daily_model   # the venue's rules build on this module

        return daily_model("OSE")
    if code is None or code == "dates":
        return DatesModel(name="price dates", tz="", ticker=ticker, dates=dates)
    return _exchange_model(code)


def describe_calendar(ticker: str, exchange: str | None = None) -> str:
    """One-line description of ``ticker``'s session model for reports,
    e.g. 'XTKS (Tokyo Stock Exchange), 09:00–15:30 Asia/Tokyo (break 11:30–12:30); close 15:00 before 2024-11-05'."""
    return session_model_for(ticker, exchange).describe()


def _hm(t: _time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _as_date(value: object, what: str) -> pd.Timestamp:
    return as_date(value, what, WindowError)
