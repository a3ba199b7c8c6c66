"""Announcement -> day 0: the first session in which an instrument could trade on the news.

:func:`map_day0` (every event on every instrument) and :func:`map_day0_pairs` (firm-specific
events) return the audit table, one row per event x instrument, with the reason in words.
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.calendars.sessions import DatesModel, SessionModel, TimedSessionModel, session_model_for
from eventstudy.errors import DataUnavailableError, EventsFileError, UniverseFileError
from eventstudy.inputs.dates import as_date, normalise_dates

__all__ = ["AUDIT_COLUMNS", "map_day0", "map_day0_pairs", "format_announcement"]

AUDIT_COLUMNS: tuple[str, ...] = ("event_id", "ticker", "calendar", "announced_at", "announced_utc", "day0", "reason")

_UTC = "UTC"
_NS = "datetime64[ns]"

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


def _day0_timed_model(model: TimedSessionModel, dates: pd.DatetimeIndex, utc: pd.DatetimeIndex,
                      has_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day 0 (datetime64[ns], NaT if none) and reason for each event under an exchange/Globex model.

    Timed events: s = first session whose close is after the announcement; 'during' if
    open <= t < close, otherwise before the open / after the previous close / not a session.
    Untimed events: the event date if a session, else the next session.
    """
    def _opens(o: pd.Timestamp, s: pd.Timestamp) -> str:
        """The session's opening time, with its date when it opens on the previous day (CME Globex)."""
        return _clock(o, model.tz, s != _local(o, model.tz).normalize().tz_localize(None))

    sess, opens, closes = model.arrays
    lo, hi = model.coverage()
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
    n = len(dates)
    raw = ev["announced_at"].to_numpy(dtype=object)
    timed = np.flatnonzero(~pd.isna(raw))        # rows without a time need no parsing
    ann = [_announcement(a, eid) for a, eid in zip(raw[timed].tolist(), ev["event_id"].to_numpy(dtype=object)[timed])]
    has_time = np.zeros(n, dtype=bool)
    has_time[timed] = [a is not pd.NaT for a in ann]
    utc_vals = np.full(n, np.datetime64("NaT"), dtype=_NS)
    utc_vals[timed] = np.array([a.tz_convert(_UTC).tz_localize(None).to_datetime64() if a is not pd.NaT
                                else np.datetime64("NaT") for a in ann], dtype=_NS)
    utc = pd.DatetimeIndex(utc_vals).tz_localize(_UTC)
    # '<date> (no time)' once per distinct date (firm-specific events share few), the timed ones each
    untimed = np.flatnonzero(~has_time)
    days, inv = np.unique(dates.asi8[untimed], return_inverse=True)
    ann_text = np.empty(n, dtype=object)
    ann_text[untimed] = np.array([format_announcement(pd.NaT, d) for d in pd.DatetimeIndex(days)],
                                 dtype=object)[inv.reshape(-1)]
    ann_text[timed] = [format_announcement(a, d) for a, d in zip(ann, dates[timed])]
    return dates, utc_vals, utc, has_time, ann_text


def _last_price_dates(tickers: Sequence[str], price_dates: Mapping[str, pd.DatetimeIndex]) -> np.ndarray:
    """Each ticker's last price date (datetime64[ns]; NaT when none is given)."""
    last = np.full(len(tickers), np.datetime64("NaT"), dtype=_NS)
    day = np.int64(86_400_000_000_000)
    for j, tk in enumerate(tickers):  # once per ticker
        pdx = price_dates.get(tk)
        if isinstance(pdx, pd.DatetimeIndex) and pdx.tz is None and pdx.dtype == _NS and len(pdx):
            top_ns = pdx.asi8.max()          # the usual case, in numpy: NaT (the minimum) never wins
            if top_ns != pd.NaT.value:
                last[j] = np.datetime64(int(top_ns - top_ns % day), "ns")
            continue
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
        # day 0 and its reason depend on the date and the announcement only: worked out once per distinct
        # (date, time) on this model, then given to every row (firm-specific events share few dates)
        key = np.stack([dates.asi8[rows], has_time[rows].astype(np.int64),
                        np.where(has_time[rows], utc_vals[rows].view(np.int64), 0)], axis=1)
        _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
        one = rows[first]
        if isinstance(model, DatesModel):
            d0, rs = _day0_dates_model(model, dates[one], has_time[one])
        else:
            d0, rs = _day0_timed_model(model, dates[one], utc[one], has_time[one])
        inv = inv.reshape(-1)
        day0[rows], reason[rows], calendar[rows] = d0[inv], rs[inv], model.name
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
