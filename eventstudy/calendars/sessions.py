"""Trading-session models per instrument, and announcement -> day 0.

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
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import time as _time
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.inputs.dates import as_bound, as_date, normalise_dates
from eventstudy.errors import DataUnavailableError, EventsFileError, UniverseFileError, WindowError

__all__ = [
    "SessionModel",
    "ExchangeSessionModel",
    "GlobexSessionModel",
    "DatesModel",
    "session_model_for",
    "guess_exchange",
    "normalise_exchange",
    "map_day0",
    "map_day0_pairs",
    "describe_calendar",
    "format_announcement",
    "AUDIT_COLUMNS",
]

AUDIT_COLUMNS: tuple[str, ...] = ("event_id", "ticker", "calendar", "announced_at", "announced_utc", "day0", "reason")

_UTC = "UTC"
_NS = "datetime64[ns]"

# Human names for reports.
_EXCHANGE_NAMES = {
    "XTKS": "Tokyo Stock Exchange",
    "XNYS": "New York Stock Exchange",
    "XNAS": "Nasdaq",
    "XASX": "Australian Securities Exchange",
    "XHKG": "Hong Kong Stock Exchange",
    "XLON": "London Stock Exchange",
    "XKRX": "Korea Exchange",
    "XTAI": "Taiwan Stock Exchange",
    "XSHG": "Shanghai Stock Exchange",
    "XBOM": "BSE/NSE India",
    "XTSE": "Toronto Stock Exchange",
    "XETR": "Xetra (Frankfurt)",
    "XPAR": "Euronext Paris",
}
# Yahoo Finance suffix -> exchange_calendars code. NSE (.NS) shares BSE's hours and holidays.
_SUFFIX_EXCHANGE = {
    ".T": "XTKS",
    ".AX": "XASX",
    ".HK": "XHKG",
    ".L": "XLON",
    ".KS": "XKRX",
    ".TW": "XTAI",
    ".SS": "XSHG",
    ".BO": "XBOM",
    ".NS": "XBOM",
    ".TO": "XTSE",
    ".DE": "XETR",
    ".PA": "XPAR",
}
_TOKYO_INDICES = frozenset({"^N225", "^TOPX", "^TPX", "^NKX"})
_US_INDICES = frozenset({"^GSPC", "^SOX", "^VIX", "^DJI", "^IXIC", "^NDX", "^RUT", "^SPX"})
# CME Globex equity-index futures roots (Yahoo continuous contracts ROOT=F) with 17:00-16:00 CT hours.
_GLOBEX_INDEX_ROOTS = frozenset({"NKD", "NIY", "ES", "NQ", "YM", "RTY", "MES", "MNQ", "MYM", "M2K", "EMD"})
# Values accepted for an explicit ``exchange``.
_EXCHANGE_ALIASES = {
    "XTKS": "XTKS", "TSE": "XTKS", "TYO": "XTKS", "JPX": "XTKS", "TOKYO": "XTKS",
    "XNYS": "XNYS", "NYSE": "XNYS", "XNAS": "XNAS", "NASDAQ": "XNAS",
}
_GLOBEX_ALIASES = frozenset({"CME", "GLOBEX", "CME GLOBEX", "CMES", "CME_GLOBEX"})
_DATES_ALIASES = frozenset({"DATES", "NONE", "PRICE DATES", "PRICE_DATES"})


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

    def _not_a_session(self, d: pd.Timestamp) -> WindowError:
        return WindowError(f"{d:%Y-%m-%d} is not a {self.name} {self.unit} (weekend, holiday or outside the "
                           f"calendar): use a {self.unit} date, e.g. from .sessions(start, end).")

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
        lo, hi = self._coverage()
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

    def _coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        allsess = self.all_sessions()
        return allsess[0], allsess[-1]


@functools.lru_cache(maxsize=None)
def _calendar(code: str):
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


@functools.lru_cache(maxsize=1)
def _calendar_names() -> frozenset[str]:
    import exchange_calendars as xcals

    return frozenset(xcals.get_calendar_names())


def _naive_sessions(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    out = pd.DatetimeIndex(idx).astype(_NS)
    return pd.DatetimeIndex(out.values, name=None)  # drop freq


def _utc_index(series: pd.Series) -> pd.DatetimeIndex:
    """exchange_calendars' per-session instants as a UTC ``datetime64[ns, UTC]`` index (naive = UTC)."""
    idx = pd.DatetimeIndex(series)
    idx = idx.tz_localize(_UTC) if idx.tz is None else idx.tz_convert(_UTC)
    return pd.DatetimeIndex(idx.astype("datetime64[ns, UTC]"), name=None)


@dataclass(frozen=True)
class _TimedSessionModel(SessionModel):
    """A model with known session times: subclasses provide ``_arrays`` = (sessions, opens UTC, closes UTC)."""

    @property
    def _arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:  # pragma: no cover
        raise NotImplementedError

    def all_sessions(self) -> pd.DatetimeIndex:
        return self._arrays[0]

    def session_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        sess, opens, closes = self._arrays
        pos = sess.get_indexer(pd.DatetimeIndex(sessions).astype(_NS))
        if (pos < 0).any():
            raise self._not_a_session(pd.DatetimeIndex(sessions)[pos < 0][0])
        return opens[pos], closes[pos]

    def break_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex] | None:
        """(break_start_utc, break_end_utc) per session, or None when the sessions have no breaks (the default)."""
        return None


@dataclass(frozen=True)
class ExchangeSessionModel(_TimedSessionModel):
    """Sessions, opens and closes of an exchange_calendars calendar (e.g. 'XTKS', 'XNYS')."""

    code: str = ""

    @functools.cached_property
    def _cal(self):
        return _calendar(self.code)

    @functools.cached_property
    def _arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:
        cal = self._cal
        sess = _naive_sessions(cal.sessions)
        return sess, _utc_index(cal.opens), _utc_index(cal.closes)

    def break_bounds(self, sessions: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex] | None:
        """(break_start_utc, break_end_utc) per session (NaT where none), or None if the exchange has no breaks."""
        cal = self._cal
        if not cal.has_break:
            return None
        sess = self._arrays[0]
        pos = sess.get_indexer(pd.DatetimeIndex(sessions).astype(_NS))
        return _utc_index(cal.break_starts)[pos], _utc_index(cal.break_ends)[pos]

    def describe(self) -> str:
        cal = self._cal
        full = _EXCHANGE_NAMES.get(self.code)
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
class GlobexSessionModel(_TimedSessionModel):
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
        return _calendar("CMES")

    @functools.cached_property
    def _arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:
        cal = self._cal
        sess = _naive_sessions(cal.sessions)
        opens, closes = self._compute_bounds(sess)
        cmes_close = _utc_index(cal.closes)
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

    def _coverage(self) -> tuple[pd.Timestamp, pd.Timestamp]:
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
    cal = _calendar(code)
    return ExchangeSessionModel(name=code, tz=str(cal.tz), code=code)


@functools.lru_cache(maxsize=None)
def _globex_model() -> GlobexSessionModel:
    return GlobexSessionModel(name="CME Globex", tz="America/Chicago")


# Bloomberg "<code> <country> Equity" country codes -> exchange_calendars code (a convenience guess).
_BLOOMBERG_COUNTRY = {
    "JP": "XTKS", "JT": "XTKS", "US": "XNYS", "UN": "XNYS", "UA": "XNYS", "UW": "XNAS", "UQ": "XNAS",
    "LN": "XLON", "HK": "XHKG", "AU": "XASX", "AT": "XASX", "KS": "XKRX", "TT": "XTAI", "CG": "XSHG",
    "CH": "XSHG", "IN": "XBOM", "IB": "XBOM", "CN": "XTSE", "CT": "XTSE", "GY": "XETR", "GR": "XETR",
    "FP": "XPAR",
}
# Bloomberg index tickers ("NKY Index") -> exchange
_BLOOMBERG_INDICES = {"NKY": "XTKS", "TPX": "XTKS", "SPX": "XNYS", "INDU": "XNYS", "CCMP": "XNAS", "NDX": "XNAS"}


def guess_exchange(ticker: str) -> str | None:
    """A guess of the calendar from the ticker's spelling: an exchange_calendars code, ``'CME'``, or None.

    A convenience for Yahoo symbols (``7203.T`` -> XTKS, ``^GSPC`` -> XNYS, ``NKD=F`` -> CME, plain
    ``AAPL`` -> XNYS) and Bloomberg-style names (``7203 JP Equity`` -> XTKS, ``NKY Index`` -> XTKS).
    A guess is only ever used after the instrument's own price dates have been checked against it
    (:func:`eventstudy.inputs.instruments.resolve_calendars`); a declared exchange always wins.
    """
    t = str(ticker).strip().upper()
    parts = t.split()
    if len(parts) == 3 and parts[2] == "EQUITY":
        return _BLOOMBERG_COUNTRY.get(parts[1])
    if len(parts) == 2 and parts[1] == "INDEX":
        return _BLOOMBERG_INDICES.get(parts[0])
    if len(parts) != 1:
        return None
    if t in _TOKYO_INDICES:
        return "XTKS"
    if t in _US_INDICES:
        return "XNYS"
    if t.endswith("=F"):
        return "CME" if t[:-2] in _GLOBEX_INDEX_ROOTS else None
    if "=" in t or t.startswith("^"):
        return None
    dot = t.rfind(".")
    if dot > 0:
        return _SUFFIX_EXCHANGE.get(t[dot:])
    if t and all(ch.isalnum() or ch == "-" for ch in t):
        return "XNYS"  # plain US ticker (BRK-B style class shares included)
    return None


def normalise_exchange(exchange: object, ticker: str = "", error: type[Exception] = UniverseFileError) -> str | None:
    """A declared exchange as ``'CME'``, ``'dates'`` (the instrument's own price dates), an
    exchange_calendars code ('XTKS', 'XNYS', ...), or None when empty (= not declared).

    Accepts aliases ('TSE', 'NYSE', 'Globex', 'price dates', ...), case-insensitive. Raises ``error``
    naming ``ticker`` for anything else.
    """
    if exchange is None or (isinstance(exchange, float) and exchange != exchange):
        return None
    key = str(exchange).strip().upper()
    if not key:
        return None
    if key in _GLOBEX_ALIASES:
        return "CME"
    if key in _DATES_ALIASES:
        return "dates"
    code = _EXCHANGE_ALIASES.get(key, key)
    if code not in _calendar_names():
        who = f"ticker {ticker!r}: " if ticker else ""
        raise error(
            f"{who}unknown exchange {exchange!r}: use an exchange_calendars code such as XTKS, XNYS or XNAS, "
            "'CME' for CME Globex futures, 'dates' for the dates in your price file, or leave it empty to "
            "guess from the ticker."
        )
    return code


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
    if code is None or code == "dates":
        return DatesModel(name="price dates", tz="", ticker=ticker, dates=dates)
    return _exchange_model(code)


def describe_calendar(ticker: str, exchange: str | None = None) -> str:
    """One-line description of ``ticker``'s session model for reports,
    e.g. 'XTKS (Tokyo Stock Exchange), 09:00–15:30 Asia/Tokyo (break 11:30–12:30); close 15:00 before 2024-11-05'."""
    return session_model_for(ticker, exchange).describe()


# ---------------------------------------------------------------------------------------------
# Day 0
# ---------------------------------------------------------------------------------------------
def format_announcement(announced_at: object, date: object) -> str:
    """'2026-01-06 17:25 JST (+09:00)' for a tz-aware time, '2026-01-06 (no time)' otherwise."""
    if announced_at is None or announced_at is pd.NaT or (not isinstance(announced_at, pd.Timestamp) and pd.isna(announced_at)):
        return f"{pd.Timestamp(date):%Y-%m-%d} (no time)"
    ts = pd.Timestamp(announced_at)
    off = ts.strftime("%z")
    off = f"{off[:3]}:{off[3:]}" if len(off) == 5 else off
    abbr = ts.strftime("%Z")
    abbr = "" if (not abbr or abbr[0] in "+-") else abbr + " "
    return f"{ts:%Y-%m-%d %H:%M} {abbr}({off})"


def _local(ts_utc: pd.Timestamp, tz: str) -> pd.Timestamp:
    return ts_utc.tz_convert(tz)


def _hm(t: _time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


# Zones whose abbreviation clashes with another zone's in the same audit row (China also uses "CST").
_ZONE_LABELS = {"America/Chicago": "CT"}


def _clock(ts_utc: pd.Timestamp, tz: str, with_date: bool = False) -> str:
    """'17:25 JST' (or with the date) for a UTC instant shown in ``tz``; Chicago times are labelled CT."""
    loc = _local(ts_utc, tz)
    abbr = _ZONE_LABELS.get(tz) or loc.strftime("%Z")
    abbr = abbr if abbr and abbr[0] not in "+-" else loc.strftime("UTC%z")
    return f"{loc:%Y-%m-%d %H:%M} {abbr}" if with_date else f"{loc:%H:%M} {abbr}"


def _span(model: SessionModel, o: pd.Timestamp, c: pd.Timestamp, session: pd.Timestamp) -> str:
    """'09:00–15:30 JST' or, when the open is on another local date (Globex), with dates."""
    lo, lc = _local(o, model.tz), _local(c, model.tz)
    if lo.normalize().tz_localize(None) == session and lc.normalize().tz_localize(None) == session:
        return f"{lo:%H:%M}\u2013{_clock(c, model.tz)}"
    return f"{_clock(o, model.tz, True)} \u2013 {_clock(c, model.tz, True)}"


def _event_frame(events: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise EventsFileError(f"events must be a DataFrame from load_events/events_from_frame, got {type(events).__name__}.")
    if "announced_at" not in events.columns:
        from eventstudy.inputs.events import events_from_frame

        return events_from_frame(events)
    missing = [c for c in ("event_id", "date", "announced_at") if c not in events.columns]
    if missing:
        raise EventsFileError(f"events frame lacks column(s) {', '.join(missing)}: build it with load_events or events_from_frame.")
    return events


def _announcement(value: object, event_id: object) -> pd.Timestamp:
    """A tz-aware Timestamp, or NaT; a naive time is an error (its instant is unknown)."""
    if value is None or value is pd.NaT:
        return pd.NaT
    try:
        if pd.isna(value):
            return pd.NaT
    except (TypeError, ValueError):
        pass
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise EventsFileError(f"event {event_id!r}: announced_at {value!r} is not a time: "
                              "build the events with load_events or events_from_frame.") from None
    if ts.tz is None:
        raise EventsFileError(f"event {event_id!r}: announced_at {value!r} has no timezone, so the instant is unknown: "
                              "give the event's timezone (IANA name, e.g. Asia/Tokyo).")
    return ts


def _day0_timed_model(model: _TimedSessionModel, dates: pd.DatetimeIndex, utc: pd.DatetimeIndex,
                      has_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day 0 (datetime64[ns], NaT if none) and reason for each event under an exchange/Globex model.

    Timed events: s = first session whose close is after the announcement; 'during' if
    open <= t < close, otherwise before the open / after the previous close / not a session.
    Untimed events: the event date if a session, else the next session.
    """
    def _opens(o: pd.Timestamp, s: pd.Timestamp) -> str:
        """The session's opening time, with its date when it opens on the previous day (CME Globex)."""
        return _clock(o, model.tz, s != _local(o, model.tz).normalize().tz_localize(None))

    sess, opens, closes = model._arrays
    lo, hi = model._coverage()
    n = len(dates)
    day0 = np.full(n, np.datetime64("NaT"), dtype=_NS)
    reasons = np.empty(n, dtype=object)
    close_i8 = closes.asi8
    sess_i8 = sess.asi8
    unit = model.unit
    noun = f"{model.name} trading day" if unit == "trading day" else "session"

    # Untimed: searchsorted on session dates.
    pos_date = np.searchsorted(sess_i8, dates.asi8, side="left")
    # Timed: first session whose close is strictly after t (an announcement at the close misses it).
    t_i8 = np.where(has_time, utc.asi8, 0)
    pos_time = np.searchsorted(close_i8, t_i8, side="right")
    breaks = model.break_bounds(sess)

    for i in range(n):  # one pass per event (not per ticker); results are broadcast to tickers
        d = dates[i]
        if d < lo:
            reasons[i] = (f"event date {d:%Y-%m-%d} is before the first {model.name} {unit} the calendar covers "
                          f"({lo:%Y-%m-%d}): no day 0")
            continue
        timed = has_time[i]
        p = int(pos_time[i] if timed else pos_date[i])
        if p >= len(sess):
            head = (f"announced {_clock(utc[i], model.tz, True)}, " if timed
                    else f"no time given; event date {d:%Y-%m-%d} is ")
            reasons[i] = (f"{head}after the last {model.name} {unit} the calendar knows ({hi:%Y-%m-%d}): "
                          "no day 0; exclude the event or update exchange_calendars")
            continue
        s = sess[p]
        if timed:
            t = utc[i]
            o, c = opens[p], closes[p]
            loc = _local(t, model.tz)
            ldate = loc.normalize().tz_localize(None)
            at = f"announced {_clock(t, model.tz)} on {ldate:%Y-%m-%d}"
            if t >= o:
                extra = ""
                if breaks is not None and not pd.isna(breaks[0][p]) and breaks[0][p] <= t < breaks[1][p]:
                    extra = (f"; in the lunch break {_local(breaks[0][p], model.tz):%H:%M}\u2013"
                             f"{_local(breaks[1][p], model.tz):%H:%M}, trading resumes that afternoon")
                what = f"{noun} {s:%Y-%m-%d}" if unit == "trading day" else "the session"
                reasons[i] = f"{at}, during {what} ({_span(model, o, c, s)}){extra}: day 0 is {s:%Y-%m-%d}"
            else:
                q = np.searchsorted(sess_i8, ldate.value, side="left")
                if q < len(sess) and sess_i8[q] == ldate.value and close_i8[q] <= t.value:
                    reasons[i] = (f"{at}, at or after the close ({_clock(closes[q], model.tz)}) of the "
                                  f"{ldate:%Y-%m-%d} {unit}: day 0 is the next {unit}, {s:%Y-%m-%d} "
                                  f"(opens {_opens(o, s)})")
                elif s == ldate:
                    reasons[i] = f"{at}, before the open ({_clock(o, model.tz)}): day 0 is that {unit}, {s:%Y-%m-%d}"
                else:
                    reasons[i] = (f"{at}; {ldate:%Y-%m-%d} is not a {noun} (weekend/holiday): rolled "
                                  f"forward to the next {unit}, {s:%Y-%m-%d} (opens "
                                  f"{_opens(o, s)})")
        elif s == d:
            reasons[i] = f"no time given; event date {d:%Y-%m-%d} is a {noun}: day 0 is that {unit}"
        else:
            reasons[i] = (f"no time given; event date {d:%Y-%m-%d} is not a {noun} "
                          f"(weekend/holiday): rolled forward to {s:%Y-%m-%d}")
        day0[i] = s.to_datetime64()
    return day0, reasons


def _day0_dates_model(model: DatesModel, dates: pd.DatetimeIndex, has_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day 0 = the first price date on/after the event's local date (vectorised over events)."""
    sess = model.all_sessions()
    pos = np.searchsorted(sess.asi8, dates.asi8, side="left")
    ok = pos < len(sess)
    day0 = np.full(len(dates), np.datetime64("NaT"), dtype=_NS)
    day0[ok] = sess.values[pos[ok]]
    last = f"{sess[-1]:%Y-%m-%d}" if len(sess) else "none"
    reasons = np.empty(len(dates), dtype=object)
    for i in range(len(dates)):  # once per event
        if not ok[i]:
            reasons[i] = (f"event date {dates[i]:%Y-%m-%d} is after the last session in the data "
                          f"(last price date {last}): no day 0")
            continue
        r = "instrument has no known exchange; first price date on/after the event date"
        if day0[i] != dates.values[i]:
            r += f" ({dates[i]:%Y-%m-%d} has no price): {pd.Timestamp(day0[i]):%Y-%m-%d}"
        if has_time[i]:
            r += " (announcement time ignored: no session hours known)"
        reasons[i] = r
    return day0, reasons


def _event_arrays(ev: pd.DataFrame):
    """Per event: local date, UTC instant (datetime64[ns] and tz-aware index), has-a-time, announcement text."""
    dates = normalise_dates(pd.to_datetime(ev["date"]))
    ann = [_announcement(a, eid) for a, eid in zip(ev["announced_at"].tolist(), ev["event_id"].tolist())]
    has_time = np.array([a is not pd.NaT for a in ann], dtype=bool)
    utc_vals = np.array([a.tz_convert(_UTC).tz_localize(None).to_datetime64() if h else np.datetime64("NaT")
                         for a, h in zip(ann, has_time)], dtype=_NS)
    utc = pd.DatetimeIndex(utc_vals).tz_localize(_UTC)
    ann_text = np.array([format_announcement(a, d) for a, d in zip(ann, dates)], dtype=object)
    return dates, utc_vals, utc, has_time, ann_text


def _last_price_dates(tickers: Sequence[str], price_dates: Mapping[str, pd.DatetimeIndex]) -> np.ndarray:
    """Each ticker's last price date (datetime64[ns]; NaT when none is given)."""
    last = np.full(len(tickers), np.datetime64("NaT"), dtype=_NS)
    for j, tk in enumerate(tickers):  # once per ticker
        pdx = price_dates.get(tk)
        top = pd.DatetimeIndex(pdx).max() if pdx is not None and len(pdx) else pd.NaT
        if top is not pd.NaT:
            last[j] = as_date(top, "the last price date", DataUnavailableError).to_datetime64()
    return last


def _after_data(day0: np.ndarray, last: np.ndarray, reason: np.ndarray) -> None:
    """Day 0 beyond the instrument's last price date: NaT, with the reason (in place; same shapes)."""
    beyond = ~np.isnat(day0) & ~np.isnat(last) & (day0 > last)
    for i in zip(*np.nonzero(beyond)):   # only pairs past the end of the data
        reason[i] = (f"day 0 would be {pd.Timestamp(day0[i]):%Y-%m-%d}, after the last price date in the "
                     f"data ({pd.Timestamp(last[i]):%Y-%m-%d}): no day 0; extend the prices or leave the event out")
    day0[beyond] = np.datetime64("NaT")


def map_day0_pairs(events: pd.DataFrame, *, exchanges: Mapping[str, str | None] | None = None,
                   price_dates: Mapping[str, pd.DatetimeIndex] | None = None) -> pd.DataFrame:
    """Day 0 of firm-specific events: each row (``ticker`` plus the columns of
    :func:`eventstudy.inputs.events.load_firm_events`) on its own instrument's sessions, with the reason.

    Same rules and columns as :func:`map_day0` (``event_id, ticker, calendar, announced_at,
    announced_utc, day0, reason``), one row per input row in order. Work is grouped by session
    model; the reason text is written once per row.
    """
    ev = _event_frame(events)
    if "ticker" not in ev.columns:
        raise EventsFileError("firm events need a ticker column: build them with load_firm_events or "
                              "firm_events_from_frame.")
    tickers = ev["ticker"].astype(str).to_numpy(dtype=object)
    exchanges = dict(exchanges or {})
    price_dates = dict(price_dates or {})
    n = len(ev)
    dates, utc_vals, utc, has_time, ann_text = _event_arrays(ev)
    day0 = np.full(n, np.datetime64("NaT"), dtype=_NS)
    reason = np.empty(n, dtype=object)
    calendar = np.empty(n, dtype=object)
    codes, uniq = pd.factorize(tickers)
    groups: dict[SessionModel, list[int]] = {}
    for u, tk in enumerate(uniq):
        groups.setdefault(session_model_for(tk, exchanges.get(tk), price_dates.get(tk)), []).append(u)
    for model, us in groups.items():
        rows = np.flatnonzero(np.isin(codes, us))
        if isinstance(model, DatesModel):
            d0, rs = _day0_dates_model(model, dates[rows], has_time[rows])
        else:
            d0, rs = _day0_timed_model(model, dates[rows], utc[rows], has_time[rows])
        day0[rows], reason[rows], calendar[rows] = d0, rs, model.name
    _after_data(day0, _last_price_dates(list(uniq), price_dates)[codes], reason)
    return pd.DataFrame({
        "event_id": ev["event_id"].to_numpy(dtype=object),
        "ticker": tickers,
        "calendar": calendar,
        "announced_at": ann_text,
        "announced_utc": pd.DatetimeIndex(utc_vals).tz_localize(_UTC),
        "day0": day0,
        "reason": reason,
    })


def map_day0(events: pd.DataFrame, tickers: Sequence[str], *,
             exchanges: Mapping[str, str | None] | None = None,
             price_dates: Mapping[str, pd.DatetimeIndex] | None = None) -> pd.DataFrame:
    """Day 0 of every (event, ticker) pair, with the reason in words.

    ``events``: frame from :func:`eventstudy.inputs.events.load_events` (or any frame
    :func:`~eventstudy.inputs.events.events_from_frame` accepts). ``exchanges``: per-ticker override of the
    session model (see :func:`session_model_for`). ``price_dates``: per-ticker dates with prices;
    required for tickers with no known exchange, and for the others used only to mark day 0 as NaT
    when it falls after the ticker's last price date.

    Returns columns ``event_id, ticker, calendar, announced_at`` (text, e.g. '2026-01-06 17:25 JST
    (+09:00)' or '2026-01-06 (no time)'), ``announced_utc`` (tz-aware UTC or NaT), ``day0``
    (``datetime64[ns]``, NaT when there is none - the caller excludes those pairs) and ``reason``.
    Rows are event-major in the order given. Work is done once per (event, session model) and
    broadcast to the tickers that share the model.
    """
    ev = _event_frame(events)
    tickers = [str(t) for t in tickers]
    if len(set(tickers)) != len(tickers):
        dup = sorted(t for t, k in Counter(tickers).items() if k > 1)
        raise UniverseFileError(f"ticker(s) {', '.join(dup)} listed more than once: list each ticker once.")
    exchanges = dict(exchanges or {})
    price_dates = dict(price_dates or {})
    n_ev, n_tk = len(ev), len(tickers)
    dates, utc_vals, utc, has_time, ann_text = _event_arrays(ev)

    # Group tickers by session model (exchange models are shared singletons).
    groups: dict[SessionModel, list[int]] = {}
    for j, tk in enumerate(tickers):
        groups.setdefault(session_model_for(tk, exchanges.get(tk), price_dates.get(tk)), []).append(j)

    day0 = np.full((n_ev, n_tk), np.datetime64("NaT"), dtype=_NS)
    reason = np.empty((n_ev, n_tk), dtype=object)
    calendar = np.empty(n_tk, dtype=object)
    for model, cols in groups.items():
        idx = np.asarray(cols)
        if isinstance(model, DatesModel):
            d0, rs = _day0_dates_model(model, dates, has_time)
        else:
            d0, rs = _day0_timed_model(model, dates, utc, has_time)
        day0[:, idx] = d0[:, None]
        reason[:, idx] = rs[:, None]
        calendar[idx] = model.name

    # Day 0 beyond a ticker's last price date (only knowable when price_dates are given).
    _after_data(day0, np.broadcast_to(_last_price_dates(tickers, price_dates)[None, :], day0.shape), reason)

    out = pd.DataFrame({
        "event_id": np.repeat(ev["event_id"].to_numpy(dtype=object), n_tk),
        "ticker": np.tile(np.asarray(tickers, dtype=object), n_ev),
        "calendar": np.tile(calendar, n_ev),
        "announced_at": np.repeat(ann_text, n_tk),
        "announced_utc": pd.DatetimeIndex(np.repeat(utc_vals, n_tk)).tz_localize(_UTC),
        "day0": day0.reshape(-1),
        "reason": reason.reshape(-1),
    })
    return out


def _as_date(value: object, what: str) -> pd.Timestamp:
    return as_date(value, what, WindowError)
