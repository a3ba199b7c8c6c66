"""Announcement instant -> bar 0: the first bar that could react, with the reason in words.

Bar 0 is the first bar of the data that **opens at or after** the announcement; a bar that
started before the news is never bar 0 (its price partly predates the news). An announcement
inside a session break (lunch, the gap between OSE's day and night sessions, a weekend, a
holiday) or after a venue's last close maps to the first bar of the next session; the audit
says which session it fell in, which session bar 0 opens, and whether the data skips a
session the venue's rules say trades. An announcement known only within an interval
(``announced_at`` .. ``announced_until``) is mapped at both ends; the bars from the later
bar 0 on are after the news at either end, the bars in between are uncertain.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.calendars.venues import Venue

__all__ = ["map_bar0", "BAR0_COLUMNS"]

BAR0_COLUMNS: tuple[str, ...] = ("event_id", "ticker", "venue", "end", "announced_at", "announced_utc", "bar0_utc",
                                 "bar0_local", "bar0_pos", "session", "trading_date", "holiday_trading", "reason")


def _loc(ts: pd.Timestamp, tz: str, date: bool = True) -> str:
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z" if date else "%H:%M %Z")


def _sess_text(row: pd.Series, tz: str) -> str:
    text = (f"the {row['session']} session {_loc(row['open_utc'], tz)}\u2013{_loc(row['close_utc'], tz, False)} "
            f"(trading date {row['trading_date']:%Y-%m-%d})")
    if row["holiday_trading"]:
        text += ", a holiday-trading session"
    return text


def _one(a: pd.Timestamp, opens: np.ndarray, bars: pd.DataFrame, sess: pd.DataFrame, v: Venue) -> dict:
    """Bar 0 of one announcement instant (UTC) on one ticker's bars."""
    tz = v.tz
    pos = int(np.searchsorted(opens, a.value, side="left"))
    k = int(np.searchsorted(pd.DatetimeIndex(sess["open_utc"]).as_unit("ns").asi8, a.value, side="right")) - 1
    if k >= 0 and a <= sess["close_utc"].iloc[k]:
        here = sess.iloc[k]
        where = f"during {_sess_text(here, tz)}"
        expected = int(here["seq"])
        inside_bar = pos > 0 and pos <= len(opens) and int(bars["seq"].iloc[pos - 1]) == expected
    else:
        here = sess.iloc[k] if k >= 0 else None
        nxt = sess.iloc[k + 1] if k + 1 < len(sess) else None
        where = ("after " + _sess_text(here, tz) + " closed" if here is not None else "before the first session")
        where += (f", before {_sess_text(nxt, tz)}" if nxt is not None else "")
        expected = int(nxt["seq"]) if nxt is not None else -1
        inside_bar = False
    out = {"announced_utc": a, "bar0_utc": pd.NaT, "bar0_local": "", "bar0_pos": -1, "session": "",
           "trading_date": pd.NaT, "holiday_trading": False}
    if pos >= len(opens):
        out["reason"] = f"announced {_loc(a, tz)}, {where}; the data has no bar opening at or after it: no bar 0."
        return out
    b = bars.iloc[pos]
    b0 = pd.Timestamp(b["bar_open_utc"])
    out.update(bar0_utc=b0, bar0_local=_loc(b0, tz), bar0_pos=pos, session=b["session"],
               trading_date=b["trading_date"], holiday_trading=bool(sess.loc[sess["seq"] == b["seq"], "holiday_trading"].iloc[0]))
    if b0 == a:
        how = f"exactly on the open of the bar {_loc(b0, tz, False)}: bar 0 is that bar"
    elif inside_bar:
        prev = pd.Timestamp(bars["bar_open_utc"].iloc[pos - 1])
        how = (f"inside the bar opening {_loc(prev, tz, False)} (it started before the news, so it is not bar 0); "
               f"bar 0 is the next bar, opening {_loc(b0, tz, False)}")
    else:
        how = f"bar 0 is the first bar of the next session, opening {_loc(b0, tz)}"
    gap = ""
    if expected >= 0 and int(b["seq"]) != expected:
        miss = sess[(sess["seq"] >= expected) & (sess["seq"] < int(b["seq"]))]
        gap = (f"; the data has no bars in {len(miss)} session(s) the venue trades (first: "
               f"{_sess_text(miss.iloc[0], tz)}), so bar 0 is later than the first session that could react")
    tail = f" ({b['session']} session of trading date {pd.Timestamp(b['trading_date']):%Y-%m-%d}"
    tail += ", a holiday-trading session)" if out["holiday_trading"] else ")"
    out["reason"] = f"announced {_loc(a, tz)}, {where}; {how}{tail}{gap}."
    return out


def map_bar0(events: pd.DataFrame, bars: pd.DataFrame, sessions: pd.DataFrame, v: Venue) -> pd.DataFrame:
    """Bar 0 of every event on one ticker's bars (``BAR0_COLUMNS``).

    ``events``: ``event_id``, ``announced_at`` (tz-aware; NaT = no time, no bar 0) and optionally
    ``announced_until`` (tz-aware or NaT): the latest time the announcement may have been made.
    ``bars``: one ticker's bars with sessions assigned (:func:`eventstudy.calendars.venues.assign_sessions`);
    ``sessions`` the venue's session table covering them. ``end`` is ``announced`` for a point in time,
    ``earliest``/``latest`` for the two ends of an interval.
    """
    opens = pd.DatetimeIndex(bars["bar_open_utc"]).as_unit("ns").asi8
    ticker = str(bars["ticker"].iloc[0]) if len(bars) else ""
    rows = []
    has_until = "announced_until" in events.columns
    for _, ev in events.iterrows():
        ends = [("announced", ev["announced_at"])]
        if has_until and not pd.isna(ev["announced_until"]):
            ends = [("earliest", ev["announced_at"]), ("latest", ev["announced_until"])]
        first = None
        for end, at in ends:
            base = {"event_id": ev["event_id"], "ticker": ticker, "venue": v.code, "end": end,
                    "announced_at": "" if pd.isna(at) else str(at)}
            if pd.isna(at):
                rows.append({**base, "announced_utc": pd.NaT, "bar0_utc": pd.NaT, "bar0_local": "", "bar0_pos": -1,
                             "session": "", "trading_date": pd.NaT, "holiday_trading": False,
                             "reason": "no announcement time: no intraday bar 0 (the daily study maps it by date)."})
                continue
            r = _one(pd.Timestamp(at).tz_convert("UTC"), opens, bars, sessions, v)
            if end == "latest" and first is not None and first["bar0_pos"] >= 0 and r["bar0_pos"] >= 0:
                n = r["bar0_pos"] - first["bar0_pos"]
                r["reason"] += (f" Bars from {r['bar0_local']} on are after the news at either end of the interval; "
                                f"the {n} bar(s) from {first['bar0_local']} before it may precede the news.")
            first = r if end == "earliest" else first
            rows.append({**base, **r})
    return pd.DataFrame(rows, columns=list(BAR0_COLUMNS))
