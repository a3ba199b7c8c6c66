"""Session models and day 0: hand-worked cases for each rule, plus independent cross-checks.

Hand-worked clock arithmetic used below (no DST in Japan or China; US Central is CST = UTC-6
from 2025-11-02 to 2026-03-08 and CDT = UTC-5 otherwise):
  2026-01-06 16:25 Beijing (UTC+8) = 08:25 UTC = 17:25 JST = 02:25 CST.
  2025-11-14 23:00 Beijing = 15:00 UTC = Sat 2025-11-15 00:00 JST = Fri 09:00 CST.
  CME trading day D = [D-1 17:00 CT, D 16:00 CT): 2026-01-06 -> [01-05 23:00 UTC, 01-06 22:00 UTC).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendars.day0 import AUDIT_COLUMNS, format_announcement, map_day0
from eventstudy.calendars.sessions import DatesModel, ExchangeSessionModel, GlobexSessionModel, describe_calendar, session_model_for
from eventstudy.errors import DataUnavailableError, EventsFileError, UniverseFileError, WindowError
from eventstudy.inputs.events import events_from_frame

UTC = ZoneInfo("UTC")


def events(*rows):
    """rows: (event_id, date, time, timezone)."""
    return events_from_frame(pd.DataFrame(
        [(e, d, t, z, e, "c", "s") for e, d, t, z in rows],
        columns=["event_id", "date", "time", "timezone", "label", "category", "source"],
    ))


def day0_of(ev_row, ticker, **kw):
    audit = map_day0(events(ev_row), [ticker], **kw)
    assert len(audit) == 1
    return audit["day0"].iloc[0], audit["reason"].iloc[0]


def T(s):
    return pd.Timestamp(s)


# ------------------------------------------------------------------------------- routing
@pytest.mark.parametrize("ticker, name", [
    ("7203.T", "XTKS"), ("1306.T", "XTKS"), ("^N225", "XTKS"), ("^TOPX", "XTKS"), ("^TPX", "XTKS"),
    ("^GSPC", "XNYS"), ("^SOX", "XNYS"), ("^VIX", "XNYS"), ("^DJI", "XNYS"), ("^IXIC", "XNYS"),
    ("MP", "XNYS"), ("BRK-B", "XNYS"),
    ("NKD=F", "CME Globex"), ("NIY=F", "CME Globex"), ("ES=F", "CME Globex"),
    ("LYC.AX", "XASX"),
    ("JPY=X", "price dates"), ("CL=F", "price dates"), ("FOO.XYZ", "price dates"), ("^HSI", "price dates"),
])
def test_session_model_for_routes_tickers(ticker, name):
    assert session_model_for(ticker).name == name


def test_exchange_override_and_unknown_exchange():
    assert session_model_for("JPY=X", "XTKS").name == "XTKS"
    assert session_model_for("7203.T", "CME").name == "CME Globex"
    assert session_model_for("7203.T", "nyse").name == "XNYS"
    assert isinstance(session_model_for("7203.T", "dates"), DatesModel)
    assert session_model_for("7203.T", "").name == "XTKS"  # empty = guess
    with pytest.raises(UniverseFileError, match="unknown exchange 'MOON'.*7203.T|7203.T.*unknown exchange 'MOON'"):
        session_model_for("7203.T", "MOON")


def test_models_are_cached_singletons():
    assert session_model_for("7203.T") is session_model_for("^N225")
    assert session_model_for("NKD=F") is session_model_for("NIY=F")


# ------------------------------------------------------------------------------- sessions
def test_xtks_sessions_match_the_research_note_holidays():
    """Independent source: the Tokyo holidays listed in research_timeline_universe.md."""
    holidays = pd.DatetimeIndex(["2025-11-03", "2025-11-24", "2025-12-31", "2026-01-01", "2026-01-02",
                                 "2026-01-12", "2026-02-11", "2026-02-23"])
    weekdays = pd.bdate_range("2025-11-01", "2026-02-28")
    expected = weekdays.difference(holidays)
    got = session_model_for("7203.T").sessions("2025-11-01", "2026-02-28")
    assert str(got.dtype) == "datetime64[ns]" and got.tz is None
    assert got.equals(pd.DatetimeIndex(expected.values))


def test_sessions_range_checks():
    m = session_model_for("7203.T")
    with pytest.raises(WindowError, match="outside the dates"):
        m.sessions("1980-01-01", "1980-12-31")
    with pytest.raises(WindowError, match="before the start"):
        m.sessions("2026-01-10", "2026-01-01")
    with pytest.raises(WindowError, match="not a date"):
        m.sessions("soon", "2026-01-01")


def test_bounds_of_a_non_session_is_an_error():
    with pytest.raises(WindowError, match="2026-01-12 is not a XTKS session"):
        session_model_for("7203.T").bounds("2026-01-12")
    with pytest.raises(WindowError, match="not a CME Globex trading day"):
        session_model_for("NKD=F").bounds("2026-01-10")


def test_xtks_close_moved_from_1500_to_1530_on_2024_11_05():
    m = session_model_for("7203.T")
    # exchange_calendars' own data: 15:00 JST = 06:00 UTC before, 15:30 JST = 06:30 UTC from 2024-11-05.
    assert m.bounds("2024-11-01") == (T("2024-11-01 00:00").tz_localize("UTC"), T("2024-11-01 06:00").tz_localize("UTC"))
    assert m.bounds("2024-11-05") == (T("2024-11-05 00:00").tz_localize("UTC"), T("2024-11-05 06:30").tz_localize("UTC"))
    cal = m._cal
    assert m.bounds("2024-11-01")[1] == cal.session_close(T("2024-11-01"))
    assert m.bounds("2024-11-05")[1] == cal.session_close(T("2024-11-05"))
    # Consequence for day 0: 15:10 JST is after the close on 2024-11-01 (next session Tue 11-05,
    # Mon 11-04 being a substitute holiday) but during the session on 2024-11-05.
    d, r = day0_of(("a", "2024-11-01", "15:10", "Asia/Tokyo"), "7203.T")
    assert d == T("2024-11-05") and "after the close (15:00 JST)" in r
    d, r = day0_of(("b", "2024-11-05", "15:10", "Asia/Tokyo"), "7203.T")
    assert d == T("2024-11-05") and "during the session (09:00–15:30 JST)" in r


def _chicago_to_utc(day: pd.Timestamp, hh: int) -> pd.Timestamp:
    """Independent: wall clock in Chicago -> UTC via the standard library."""
    local = dt.datetime(day.year, day.month, day.day, hh, 0, tzinfo=ZoneInfo("America/Chicago"))
    return pd.Timestamp(local.astimezone(UTC))


def test_globex_bounds_hand_worked_winter_and_summer():
    m = session_model_for("NKD=F")
    # Winter (CST = UTC-6): 17:00 CST 01-05 = 23:00 UTC; 16:00 CST 01-06 = 22:00 UTC.
    assert m.bounds("2026-01-06") == (T("2026-01-05 23:00").tz_localize("UTC"), T("2026-01-06 22:00").tz_localize("UTC"))
    # Summer (CDT = UTC-5): 17:00 CDT 07-14 = 22:00 UTC on the prior day; 16:00 CDT = 21:00 UTC.
    assert m.bounds("2025-07-15") == (T("2025-07-14 22:00").tz_localize("UTC"), T("2025-07-15 21:00").tz_localize("UTC"))
    # Monday opens Sunday 17:00 CT, including across DST changes:
    # Sun 2026-03-08 is the spring-forward day (CDT by 17:00) -> 22:00 UTC;
    # Sun 2025-11-02 is the fall-back day (CST by 17:00) -> 23:00 UTC.
    assert m.bounds("2026-03-09")[0] == T("2026-03-08 22:00").tz_localize("UTC")
    assert m.bounds("2025-11-03")[0] == T("2025-11-02 23:00").tz_localize("UTC")


def test_globex_bounds_cross_checked_with_zoneinfo_over_two_years():
    m = session_model_for("NKD=F")
    sess = m.sessions("2024-06-01", "2026-06-30")
    opens, closes = m.session_bounds(sess)
    cmes_close = m._cal.closes.reindex(sess)  # CMES's own closes (17:00 CT regular; earlier on half-days)
    for s, o, c, cc in zip(sess, opens, closes, cmes_close):
        assert o == _chicago_to_utc(s - pd.Timedelta(days=1), 17), s
        assert c == min(_chicago_to_utc(s, 16), pd.Timestamp(cc)), s
    # Regular days close at 16:00 CT; Thanksgiving 2025-11-27 is a half-day (CMES: 12:00 CT = 18:00 UTC).
    assert closes[sess.get_loc(T("2025-11-26"))] == _chicago_to_utc(T("2025-11-26"), 16)
    assert closes[sess.get_loc(T("2025-11-27"))] == T("2025-11-27 18:00").tz_localize("UTC")


# ------------------------------------------------------------------------------- day 0 rules
def test_mofcom_after_tokyo_close_is_xtks_next_day_but_cme_same_day():
    ev = events(("mofcom", "2026-01-06", "16:25", "Asia/Shanghai"))
    a = map_day0(ev, ["7203.T", "NKD=F", "^N225"]).set_index("ticker")
    assert a.loc["7203.T", "day0"] == T("2026-01-07")
    assert a.loc["^N225", "day0"] == T("2026-01-07")
    assert a.loc["NKD=F", "day0"] == T("2026-01-06")
    assert "17:25 JST" in a.loc["7203.T", "reason"] and "after the close (15:30 JST)" in a.loc["7203.T", "reason"]
    assert "next session, 2026-01-07" in a.loc["7203.T", "reason"]
    assert "02:25 CT" in a.loc["NKD=F", "reason"] and "during CME Globex trading day 2026-01-06" in a.loc["NKD=F", "reason"]
    assert "2026-01-05 17:00 CT" in a.loc["NKD=F", "reason"] and "2026-01-06 16:00 CT" in a.loc["NKD=F", "reason"]
    assert a.loc["7203.T", "announced_at"] == "2026-01-06 16:25 CST (+08:00)"
    assert a.loc["7203.T", "announced_utc"] == T("2026-01-06 08:25").tz_localize("UTC")
    assert a.loc["7203.T", "calendar"] == "XTKS" and a.loc["NKD=F", "calendar"] == "CME Globex"


def test_friday_evening_beijing_rolls_tokyo_to_monday_but_stays_in_cme_friday():
    ev = events(("advisory", "2025-11-14", "23:00", "Asia/Shanghai"))
    a = map_day0(ev, ["9201.T", "NIY=F"]).set_index("ticker")
    assert a.loc["9201.T", "day0"] == T("2025-11-17")  # Monday
    assert "2025-11-15 is not a session (weekend/holiday)" in a.loc["9201.T", "reason"]
    assert a.loc["NIY=F", "day0"] == T("2025-11-14")
    assert "09:00 CT" in a.loc["NIY=F", "reason"]


def test_intraday_tokyo_is_same_day():
    d, r = day0_of(("seafood", "2025-11-19", "14:00", "Asia/Tokyo"), "2884.T")
    assert d == T("2025-11-19") and "during the session (09:00–15:30 JST)" in r


def test_lunch_break_is_still_that_session():
    d, r = day0_of(("x", "2025-11-19", "12:00", "Asia/Tokyo"), "2884.T")
    assert d == T("2025-11-19") and "lunch break 11:30–12:30" in r


def test_before_the_open_is_same_day():
    d, r = day0_of(("x", "2025-11-19", "08:00", "Asia/Tokyo"), "2884.T")
    assert d == T("2025-11-19") and "before the open (09:00 JST)" in r


def test_exactly_at_the_close_is_next_session_one_minute_before_is_not():
    d, r = day0_of(("x", "2025-11-19", "15:30", "Asia/Tokyo"), "2884.T")
    assert d == T("2025-11-20") and "at or after the close (15:30 JST)" in r
    d, _ = day0_of(("x", "2025-11-19", "15:29", "Asia/Tokyo"), "2884.T")
    assert d == T("2025-11-19")
    d, _ = day0_of(("x", "2025-11-19", "09:00", "Asia/Tokyo"), "2884.T")  # exactly at the open: during
    assert d == T("2025-11-19")


def test_no_time_weekend_and_holidays_roll_forward():
    # Sat 2026-01-10 -> Mon 01-12 is Coming of Age Day -> Tue 01-13.
    d, r = day0_of(("kyodo", "2026-01-10", "", ""), "7203.T")
    assert d == T("2026-01-13") and "no time given" in r and "rolled forward to 2026-01-13" in r
    # Mon 2025-11-24 substitute holiday -> Tue 11-25.
    d, r = day0_of(("fu", "2025-11-24", "", ""), "7203.T")
    assert d == T("2025-11-25") and "not a session" in r
    # A session date with no time is day 0 itself.
    d, r = day0_of(("x", "2025-11-19", "", ""), "7203.T")
    assert d == T("2025-11-19") and "is a session" in r
    # CME: Mon 2026-01-12 is a CME trading day.
    d, _ = day0_of(("kyodo", "2026-01-10", "", ""), "NKD=F")
    assert d == T("2026-01-12")


def test_timed_event_on_a_tokyo_holiday_rolls_forward():
    d, r = day0_of(("x", "2026-01-12", "10:00", "Asia/Tokyo"), "7203.T")
    assert d == T("2026-01-13") and "2026-01-12 is not a session" in r


def test_cme_after_close_gap_and_weekend():
    # Thu 2026-01-08 16:30 CT: after Thursday's 16:00 close, before the 17:00 reopen -> Friday.
    d, r = day0_of(("x", "2026-01-08", "16:30", "America/Chicago"), "NKD=F")
    assert d == T("2026-01-09") and "at or after the close (16:00 CT)" in r and "opens 2026-01-08 17:00 CT" in r
    # Thu 17:00 CT is the open of Friday's trading day.
    d, r = day0_of(("x", "2026-01-08", "17:00", "America/Chicago"), "NKD=F")
    assert d == T("2026-01-09") and "during CME Globex trading day 2026-01-09" in r
    # Fri 16:30 CT -> Monday; Saturday -> Monday (not a trading day, rolled forward).
    d, _ = day0_of(("x", "2026-01-09", "16:30", "America/Chicago"), "NKD=F")
    assert d == T("2026-01-12")
    d, r = day0_of(("x", "2026-01-10", "12:00", "America/Chicago"), "NKD=F")
    assert d == T("2026-01-12") and "not a CME Globex trading day" in r and "opens 2026-01-11 17:00 CT" in r


def test_cme_summer_day0_uses_cdt():
    # 2025-07-15 16:30 JST = 07:30 UTC = 02:30 CDT on 07-15: inside trading day 07-15
    # ([07-14 22:00 UTC, 07-15 21:00 UTC)). 2025-07-15 21:30 UTC = 16:30 CDT: after the close -> 07-16.
    d, _ = day0_of(("x", "2025-07-15", "16:30", "Asia/Tokyo"), "NKD=F")
    assert d == T("2025-07-15")
    d, _ = day0_of(("x", "2025-07-15", "21:30", "UTC"), "NKD=F")
    assert d == T("2025-07-16")
    d, _ = day0_of(("x", "2025-07-15", "20:59", "UTC"), "NKD=F")
    assert d == T("2025-07-15")


def test_us_index_before_the_open():
    # 2026-01-06 16:25 Beijing = 03:25 EST -> before the 09:30 open.
    d, r = day0_of(("x", "2026-01-06", "16:25", "Asia/Shanghai"), "^GSPC")
    assert d == T("2026-01-06") and "before the open (09:30 EST)" in r


def test_vectorised_day0_equals_brute_force_scan():
    """Independent of the searchsorted logic: scan sessions one by one for the first close after t."""
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2024-10-01", tz="UTC").value
    span = pd.Timedelta(days=500).value
    inst = pd.to_datetime(start + rng.integers(0, span, 120) // 60_000_000_000 * 60_000_000_000, utc=True)
    rows = [(f"e{i}", f"{t:%Y-%m-%d}", f"{t:%H:%M}", "UTC") for i, t in enumerate(inst)]
    rows += [(f"n{i}", f"{t:%Y-%m-%d}", "", "") for i, t in enumerate(inst[:40])]
    ev = events(*rows)
    audit = map_day0(ev, ["7203.T", "NKD=F", "^GSPC"])
    for tk in ["7203.T", "NKD=F", "^GSPC"]:
        m = session_model_for(tk)
        sess = list(m.sessions("2024-09-01", "2026-03-31"))
        bounds = [m.bounds(s) for s in sess]
        got = audit[audit.ticker == tk].set_index("event_id")["day0"]
        for eid, t in zip([r[0] for r in rows[:120]], inst):
            expect = next(s for s, (o, c) in zip(sess, bounds) if c > t)
            assert got[eid] == expect, (tk, eid, t)
        for eid, t in zip([r[0] for r in rows[120:]], inst[:40]):
            d = pd.Timestamp(t.date())
            assert got[eid] == next(s for s in sess if s >= d), (tk, eid, d)


# ------------------------------------------------------------------------------- dates model
def test_dates_model_first_price_date_on_or_after():
    pdates = pd.DatetimeIndex(["2026-01-05", "2026-01-06", "2026-01-08", "2026-01-09"])
    ev = events(("a", "2026-01-06", "23:00", "Asia/Tokyo"), ("b", "2026-01-07", "", ""), ("c", "2026-01-10", "", ""))
    a = map_day0(ev, ["JPY=X"], price_dates={"JPY=X": pdates}).set_index("event_id")
    assert a.loc["a", "day0"] == T("2026-01-06")  # date only, time ignored (says so)
    assert "time ignored" in a.loc["a", "reason"] and "no known exchange" in a.loc["a", "reason"]
    assert a.loc["b", "day0"] == T("2026-01-08") and "2026-01-07 has no price" in a.loc["b", "reason"]
    assert pd.isna(a.loc["c", "day0"]) and "after the last session in the data" in a.loc["c", "reason"]
    assert a.loc["a", "calendar"] == "price dates"
    m = session_model_for("JPY=X", dates=pdates)
    assert m.sessions().equals(pdates.astype("datetime64[ns]"))
    assert m.sessions("2020-01-01", "2030-12-31").equals(pdates.astype("datetime64[ns]"))
    assert m.sessions("2026-01-06", "2026-01-08").equals(pdates[1:3].astype("datetime64[ns]"))
    assert m.bounds("2026-01-06") == (pd.NaT, pd.NaT)


def test_dates_model_without_price_dates_is_a_clear_error():
    with pytest.raises(DataUnavailableError, match="JPY=X.*price_dates"):
        map_day0(events(("a", "2026-01-06", "", "")), ["7203.T", "JPY=X"])
    with pytest.raises(DataUnavailableError, match="JPY=X"):
        session_model_for("JPY=X").sessions()


# ------------------------------------------------------------------------------- edges
def test_event_after_the_data_or_calendar_gives_nat_with_reason():
    ev = events(("late", "2026-03-02", "", ""), ("far", "2031-01-06", "", ""), ("farT", "2031-01-06", "10:00", "Asia/Tokyo"),
                ("old", "1980-01-04", "", ""))
    pdates = {"7203.T": pd.bdate_range("2025-01-01", "2026-02-27")}
    a = map_day0(ev, ["7203.T"], price_dates=pdates).set_index("event_id")
    assert pd.isna(a.loc["late", "day0"]) and "after the last price date in the data (2026-02-27)" in a.loc["late", "reason"]
    assert pd.isna(a.loc["far", "day0"]) and "after the last XTKS session" in a.loc["far", "reason"]
    assert pd.isna(a.loc["farT", "day0"]) and "no day 0" in a.loc["farT", "reason"]
    assert pd.isna(a.loc["old", "day0"]) and "before the first XTKS session" in a.loc["old", "reason"]


def test_audit_shape_order_and_broadcast():
    ev = events(("e1", "2026-01-06", "16:25", "Asia/Shanghai"), ("e2", "2026-01-10", "", ""))
    tickers = ["7203.T", "NKD=F", "6758.T", "^GSPC"]
    a = map_day0(ev, tickers)
    assert list(a.columns) == list(AUDIT_COLUMNS)
    assert a["event_id"].tolist() == ["e1"] * 4 + ["e2"] * 4
    assert a["ticker"].tolist() == tickers * 2
    assert str(a["day0"].dtype) == "datetime64[ns]"
    assert str(a["announced_utc"].dtype).startswith("datetime64[ns, UTC]")
    assert pd.isna(a["announced_utc"].iloc[4])
    assert a["announced_at"].iloc[4] == "2026-01-10 (no time)"
    tky = a[a.ticker.isin(["7203.T", "6758.T"])]
    assert tky.groupby("event_id")["day0"].nunique().eq(1).all()
    assert tky.groupby("event_id")["reason"].nunique().eq(1).all()


def test_map_day0_input_checks():
    with pytest.raises(UniverseFileError, match="7203.T"):
        map_day0(events(("a", "2026-01-06", "", "")), ["7203.T", "7203.T"])
    raw = pd.DataFrame({"event_id": ["a"], "date": ["2026-01-06"], "time": ["16:25"], "timezone": ["Asia/Shanghai"],
                        "label": ["l"], "category": ["c"], "source": ["s"]})
    assert map_day0(raw, ["7203.T"])["day0"].iloc[0] == T("2026-01-07")  # raw frames are validated first
    bad = events(("a", "2026-01-06", "", ""))
    bad["announced_at"] = [pd.Timestamp("2026-01-06 16:25")]  # naive: the instant is unknown
    with pytest.raises(EventsFileError, match="no timezone"):
        map_day0(bad, ["7203.T"])
    with pytest.raises(EventsFileError):
        map_day0("events.csv", ["7203.T"])  # type: ignore[arg-type]


def test_map_day0_many_tickers_is_fast():
    import time

    tickers = [f"{1000 + i}.T" for i in range(4000)] + ["NKD=F", "^GSPC"]
    ev = events(*[(f"e{i}", "2026-01-06", "16:25" if i % 2 else "", "Asia/Shanghai" if i % 2 else "") for i in range(10)])
    map_day0(ev, tickers[:2])  # warm the calendar caches
    t0 = time.perf_counter()
    a = map_day0(ev, tickers)
    assert len(a) == 10 * len(tickers)
    assert time.perf_counter() - t0 < 2.0


def test_describe_calendar_and_format_announcement():
    assert describe_calendar("7203.T").startswith("XTKS (Tokyo Stock Exchange), 09:00–15:30 Asia/Tokyo")
    assert "close 15:00 before 2024-11-05" in describe_calendar("^N225")
    assert describe_calendar("^GSPC") == "XNYS (New York Stock Exchange), 09:30–16:00 America/New_York"
    assert "CME Globex" in describe_calendar("NKD=F") and "America/Chicago" in describe_calendar("NKD=F")
    assert "JPY=X" in describe_calendar("JPY=X")
    ts = pd.Timestamp("2026-01-06 17:25", tz="Asia/Tokyo")
    assert format_announcement(ts, T("2026-01-06")) == "2026-01-06 17:25 JST (+09:00)"
    assert format_announcement(pd.NaT, T("2026-01-06")) == "2026-01-06 (no time)"


def test_model_classes():
    assert isinstance(session_model_for("7203.T"), ExchangeSessionModel)
    assert isinstance(session_model_for("NKD=F"), GlobexSessionModel)
    assert session_model_for("7203.T").tz == "Asia/Tokyo" and session_model_for("NKD=F").tz == "America/Chicago"
