"""Intraday sessions of a venue, from its rules; bars checked against them.

A venue's sessions are a time-ordered table: ``venue, trading_date, session, open_utc,
close_utc, holiday_trading, seq``. ``close_utc`` is the instant of the session's last print
(a bar may open exactly then: OSE's closing-auction bar). Venues:

* ``OSE`` - Osaka Exchange index derivatives (Nikkei 225 / mini). Day session 08:45-15:45 JST
  (closing auction at 15:45) and night session 17:00-06:00 JST, from calendar day 2024-11-05;
  before it 08:45-15:15 and 16:30-06:00 (JPX trading-hours extension). A night session belongs
  to the next trading date: ``trading_date`` is the first XTKS session on or after
  ``(session open in JST + 8 h).date()``. Holiday trading (from 2022-09-23): OSE trades on
  every weekday except Dec 31-Jan 3, so a Japanese holiday's day session and the night
  sessions around it are folded into the next XTKS trading date (``holiday_trading`` True).
  Before 2022-09-23 only XTKS sessions trade.
* ``CME`` - CME Globex equity-index futures: one session per CMES trading day, 17:00 CT of the
  day before to 16:00 CT (earlier on holiday half-days), DST from zoneinfo
  (:class:`eventstudy.calendars.sessions.GlobexSessionModel`).
* any exchange_calendars code (``XTKS``, ``XNYS``, ...) - cash markets: one session per trading
  date, or two (``am``, ``pm``) around a lunch break (Tokyo 11:30-12:30), closes as the
  calendar has them (Tokyo 15:00 -> 15:30 on 2024-11-05).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.calendars.sessions import ExchangeSessionModel, GlobexSessionModel, TimedSessionModel, session_model_for
from eventstudy.data.bars import BarFileError
from eventstudy.inputs.exchanges import guess_exchange

__all__ = ["Venue", "venue", "venue_for", "venue_sessions", "assign_sessions", "detect_venue", "DETECT_ORDER", "SESSION_COLUMNS", "OSE_HOURS_CHANGE",
           "OSE_HOLIDAY_TRADING_FROM"]

SESSION_COLUMNS: tuple[str, ...] = ("venue", "trading_date", "session", "open_utc", "close_utc", "holiday_trading", "seq")
#: first calendar day of OSE's extended hours (day close 15:45, night open 17:00)
OSE_HOURS_CHANGE = pd.Timestamp("2024-11-05")
#: first OSE holiday-trading day
OSE_HOLIDAY_TRADING_FROM = pd.Timestamp("2022-09-23")
_JST = "Asia/Tokyo"


@dataclass(frozen=True)
class Venue:
    """A trading venue whose intraday sessions are known: ``code``, display ``name``, local ``tz``."""

    code: str
    name: str
    tz: str

    def sessions(self, start: object, end: object) -> pd.DataFrame:
        """Sessions whose open falls in [start - 3 days, end + 3 days] (dates or instants), ``SESSION_COLUMNS``."""
        return venue_sessions(self, start, end)


@functools.lru_cache(maxsize=None)
def venue(code: str) -> Venue:
    """The venue of a code: ``OSE``, ``CME`` or an exchange_calendars code such as ``XTKS``/``XNYS``."""
    c = str(code).strip().upper()
    if c in ("OSE", "XOSE", "OSAKA"):
        return Venue("OSE", "Osaka Exchange (index futures: day and night sessions)", _JST)
    if c in ("CME", "CMES", "GLOBEX", "CME GLOBEX"):
        return Venue("CME", "CME Globex (equity-index futures)", "America/Chicago")
    try:
        model = session_model_for("", c)
    except Exception as exc:  # noqa: BLE001 - re-raised as a bar error naming the venue
        raise BarFileError(f"unknown venue {code!r}: use OSE, CME or an exchange_calendars code (XTKS, XNYS, ...)."
                           f" ({exc})") from None
    if not isinstance(model, ExchangeSessionModel):
        raise BarFileError(f"venue {code!r} has no intraday hours: use OSE, CME or an exchange_calendars code.")
    return Venue(model.code, model.describe(), model.tz)


def venue_for(ticker: str, code: str | None = None) -> Venue:
    """The venue of an instrument: ``code`` when given, else from the ticker (``*.OSE`` -> OSE, ``*=F`` -> CME,
    Tokyo/US spellings -> XTKS/XNYS); an instrument no rule recognises needs ``code``."""
    if code:
        return venue(code)
    t = str(ticker).strip().upper()
    if t.endswith(".OSE") or t.endswith(".OS"):
        return venue("OSE")
    guess = guess_exchange(ticker)
    if guess is None:
        raise BarFileError(f"ticker {ticker!r}: its venue cannot be told from its name; give it "
                           "(venue=..., CLI --bars-venue OSE|CME|XTKS|XNYS).")
    return venue(guess)


def _bounds(start: object, end: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    s, e = (pd.Timestamp(x) for x in (start, end))
    s = (s.tz_convert(None) if s.tzinfo else s).normalize() - pd.Timedelta(days=3)
    e = (e.tz_convert(None) if e.tzinfo else e).normalize() + pd.Timedelta(days=3)
    return s, e


def venue_sessions(v: Venue, start: object, end: object) -> pd.DataFrame:
    """The sessions of venue ``v`` around [start, end], in time order (``SESSION_COLUMNS``)."""
    s, e = _bounds(start, end)
    if v.code == "OSE":
        out = _ose_sessions(s, e)
    elif v.code == "CME":
        out = _globex_sessions(s, e)
    else:
        out = _exchange_sessions(v.code, s, e)
    out.insert(0, "venue", v.code)
    for col in ("open_utc", "close_utc"):
        out[col] = pd.DatetimeIndex(out[col]).as_unit("ns")
    out = out.sort_values("open_utc", kind="stable").reset_index(drop=True)
    out["seq"] = np.arange(len(out))
    return out[list(SESSION_COLUMNS)]


def _xtks_sessions(s: pd.Timestamp, e: pd.Timestamp) -> pd.DatetimeIndex:
    model = session_model_for("", "XTKS")
    return model.sessions(s - pd.Timedelta(days=10), e + pd.Timedelta(days=15))


def _ose_sessions(s: pd.Timestamp, e: pd.Timestamp) -> pd.DataFrame:
    """OSE day and night sessions opening on calendar days s..e (rules in the module docstring)."""
    xtks = _xtks_sessions(s, e)
    days = pd.date_range(s, e, freq="D")
    weekday = days.day_of_week < 5
    new_year = ((days.month == 12) & (days.day == 31)) | ((days.month == 1) & (days.day <= 3))
    holiday_rule = (days >= OSE_HOLIDAY_TRADING_FROM) & weekday & ~new_year
    trades = days.isin(xtks) | holiday_rule
    days = days[trades]
    new = days >= OSE_HOURS_CHANGE
    rows = []
    for name, o_new, c_new, o_old, c_old, next_day in (
            ("day", "08:45", "15:45", "08:45", "15:15", False),
            ("night", "17:00", "06:00", "16:30", "06:00", True)):
        o_td = np.where(new, pd.Timedelta(o_new + ":00"), pd.Timedelta(o_old + ":00"))
        c_td = np.where(new, pd.Timedelta(c_new + ":00"), pd.Timedelta(c_old + ":00"))
        opens_local = days + pd.TimedeltaIndex(o_td)
        closes_local = days + pd.TimedeltaIndex(c_td) + (pd.Timedelta(days=1) if next_day else pd.Timedelta(0))
        base = (opens_local + pd.Timedelta(hours=8)).normalize()
        pos = xtks.searchsorted(base)
        rows.append(pd.DataFrame({
            "trading_date": xtks[pos], "session": name,
            "open_utc": opens_local.tz_localize(_JST).tz_convert("UTC"),
            "close_utc": closes_local.tz_localize(_JST).tz_convert("UTC"),
            "holiday_trading": ~days.isin(xtks)}))
    return pd.concat(rows, ignore_index=True)


def _globex_sessions(s: pd.Timestamp, e: pd.Timestamp) -> pd.DataFrame:
    model = GlobexSessionModel(name="CME Globex", tz="America/Chicago")
    sess = model.sessions(s, e)
    o, c = model.session_bounds(sess)
    return pd.DataFrame({"trading_date": sess, "session": "globex", "open_utc": o, "close_utc": c,
                         "holiday_trading": False})


def _exchange_sessions(code: str, s: pd.Timestamp, e: pd.Timestamp) -> pd.DataFrame:
    model = session_model_for("", code)
    sess = model.sessions(s, e)
    o, c = model.session_bounds(sess)
    brk = model.break_bounds(sess)
    if brk is None:
        return pd.DataFrame({"trading_date": sess, "session": "day", "open_utc": o, "close_utc": c,
                             "holiday_trading": False})
    bs, be = brk
    has = ~pd.isna(bs)
    am = pd.DataFrame({"trading_date": sess, "session": np.where(has, "am", "day"), "open_utc": o,
                       "close_utc": np.where(has, bs, c), "holiday_trading": False})
    pm = pd.DataFrame({"trading_date": sess[has], "session": "pm", "open_utc": be[has], "close_utc": c[has],
                       "holiday_trading": False})
    out = pd.concat([am, pm], ignore_index=True)
    out["close_utc"] = pd.DatetimeIndex(out["close_utc"]).tz_convert("UTC") if pd.DatetimeIndex(out["close_utc"]).tz \
        else pd.DatetimeIndex(out["close_utc"]).tz_localize("UTC")
    return out


def _local(ts: pd.Timestamp, tz: str) -> str:
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


def assign_sessions(bars: pd.DataFrame, v: Venue, source: str = "bars", extra: pd.DataFrame | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each bar's session on venue ``v``: returns (bars with ``trading_date, session, seq, slot`` added, sessions).

    ``bars``: one ticker's rows of :attr:`eventstudy.data.bars.Bars.frame` (sorted). ``slot`` is the bar
    open's minutes after its session's open. A bar opening outside every session raises
    :class:`BarFileError` naming the line, the ticker and the nearest sessions; so does a file whose own
    ``trading_date``/``session`` columns (``extra``) disagree with the venue's rules.
    """
    t = pd.DatetimeIndex(bars["bar_open_utc"]).as_unit("ns")
    sess = venue_sessions(v, t[0], t[-1])
    opens = pd.DatetimeIndex(sess["open_utc"]).as_unit("ns").asi8
    closes = pd.DatetimeIndex(sess["close_utc"]).as_unit("ns").asi8
    pos = np.searchsorted(opens, t.asi8, side="right") - 1
    inside = (pos >= 0) & (t.asi8 <= closes[np.clip(pos, 0, None)])
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        row = bars.iloc[i]
        before = sess.iloc[pos[i]] if pos[i] >= 0 else None
        near = (f"; the session before is {before['session']} {_local(before['open_utc'], v.tz)} \u2013 "
                f"{_local(before['close_utc'], v.tz)}" if before is not None else "")
        raise BarFileError(
            f"{source}, line {int(row['line'])} (ticker {row['ticker']}): the bar opening {_local(t[i], v.tz)} lies outside "
            f"every session of {v.code} ({v.name}){near}. Check the file's timezone (bar open times are read as "
            "UTC unless they carry an offset) and the venue (--bars-venue).")
    out = bars.copy()
    hit = sess.iloc[pos].reset_index(drop=True)
    out["trading_date"] = hit["trading_date"].to_numpy()
    out["session"] = hit["session"].to_numpy()
    out["seq"] = hit["seq"].to_numpy()
    out["slot"] = (t.asi8 - opens[pos]) / 6e10
    if extra is not None and len(extra):
        _cross_check(out, extra, source)
    return out, sess


def _cross_check(out: pd.DataFrame, extra: pd.DataFrame, source: str) -> None:
    for col in ("trading_date", "session"):
        if col not in extra.columns:
            continue
        theirs = extra[col].astype(str).str.strip().to_numpy()
        ours = (pd.DatetimeIndex(out[col]).strftime("%Y-%m-%d").to_numpy() if col == "trading_date"
                else out[col].astype(str).to_numpy())
        bad = theirs != ours
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise BarFileError(f"{source}, line {int(out['line'].iloc[i])} (ticker {out['ticker'].iloc[i]}): the file "
                               f"says {col} {theirs[i]!r}, the venue's rules give {ours[i]!r}. Check the venue "
                               "(--bars-venue) or drop the file's column.")


#: venues tried, in order, when a bar file does not say where it trades
DETECT_ORDER: tuple[str, ...] = ("OSE", "CME", "XTKS", "XNYS")


def detect_venue(bars: pd.DataFrame, extra: pd.DataFrame | None = None, source: str = "bars",
                 candidates: tuple[str, ...] = DETECT_ORDER) -> Venue:
    """The venue of bars whose ticker does not name one: the single candidate whose sessions hold every bar
    (and agree with the file's own ``trading_date``/``session`` columns when it has them). None fits, or
    more than one: :class:`BarFileError` asking for the venue."""
    fits = []
    for code in candidates:
        try:
            assign_sessions(bars, venue(code), source, extra)
        except BarFileError:
            continue
        fits.append(code)
    if len(fits) == 1:
        return venue(fits[0])
    ticker = str(bars["ticker"].iloc[0]) if len(bars) else ""
    if not fits:
        raise BarFileError(f"{source} (ticker {ticker}): the bars fit the sessions of none of {', '.join(candidates)}; "
                           "give the venue (--bars-venue, an exchange_calendars code) or check the timezone.")
    raise BarFileError(f"{source} (ticker {ticker}): the bars fit the sessions of {', '.join(fits)}; say which "
                       "(--bars-venue).")


@dataclass(frozen=True)
class VenueDailyModel(TimedSessionModel):
    """A venue's trading dates as daily sessions, for daily series of its instruments (e.g. OSE futures
    closes): trading date D opens with its first session (OSE: the night session, 17:00 JST on the
    evening before) and closes with its last (OSE: the day session's closing auction, 15:45 JST; 15:15
    before 2024-11-05). An announcement in the night session thus has day 0 = the next trading date."""

    code: str = "OSE"

    @property
    def unit(self) -> str:
        return "trading day"

    @functools.cached_property
    def arrays(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, pd.DatetimeIndex]:
        xtks_end = session_model_for("", "XTKS").coverage()[1]
        sess = venue_sessions(venue(self.code), DAILY_MODEL_START, xtks_end - pd.Timedelta(days=20))
        g = sess.groupby("trading_date", sort=True)
        first, last = g["open_utc"].min(), g["close_utc"].max()
        dates = pd.DatetimeIndex(pd.to_datetime(first.index).to_numpy().astype("datetime64[ns]"), name=None)
        return dates, _utc(first), _utc(last)

    def describe(self) -> str:
        return (f"{self.code} trading dates from the venue's rules (a trading date runs from its first session's "
                "open to its last session's close; OSE: night session 17:00 JST the evening before to the day "
                "session's 15:45 JST close)")


def _utc(values: pd.Series) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(values.to_numpy())
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return pd.DatetimeIndex(idx.astype("datetime64[ns, UTC]"), name=None)


#: first calendar day of the daily models' sessions
DAILY_MODEL_START = pd.Timestamp("2019-01-01")


@functools.lru_cache(maxsize=None)
def daily_model(code: str = "OSE") -> VenueDailyModel:
    """The :class:`VenueDailyModel` of a venue with day and night sessions (built once)."""
    v = venue(code)
    return VenueDailyModel(name=v.code, tz=v.tz, code=v.code)


def daily_closes(bars: pd.DataFrame, v: Venue, source: str = "bars") -> pd.DataFrame:
    """Daily closes of one instrument's bars on venue ``v``: the close of the last bar of each trading date
    (OSE: the day session's closing print) as ``date, ticker, close`` (the trading date, tz-naive)."""
    frame, _ = assign_sessions(bars, v, source)
    last = frame.sort_values("bar_open_utc", kind="stable").groupby("trading_date", sort=True).tail(1)
    return pd.DataFrame({"date": pd.to_datetime(last["trading_date"].to_numpy()).astype("datetime64[ns]"),
                         "ticker": last["ticker"].astype(str).to_numpy(),
                         "close": last["close"].astype(float).to_numpy()})
