"""Bar 0: the first bar opening at or after the announcement, on bars generated from each venue's rules."""
from __future__ import annotations

import pandas as pd
import pytest

from eventstudy.calendars.bar0 import BAR0_COLUMNS, map_bar0
from bar_fixtures import synthetic_bars
from eventstudy.calendars.venues import venue, venue_sessions


def _bar0(code, at, until=None, **kw):
    at = pd.Timestamp(at)
    frame, sess, v = synthetic_bars(code, (at - pd.Timedelta(days=4)).tz_convert(None), (at + pd.Timedelta(days=5)).tz_convert(None), **kw)
    ev = pd.DataFrame({"event_id": ["e"], "announced_at": [at]})
    if until is not None:
        ev["announced_until"] = [pd.Timestamp(until)]
    out = map_bar0(ev, frame, sess, v)
    assert list(out.columns) == list(BAR0_COLUMNS)
    return out


def test_inside_a_bar_maps_to_the_next_bar():
    r = _bar0("OSE", "2026-01-07 10:07+09:00").iloc[0]
    assert r["bar0_local"] == "2026-01-07 10:15 JST" and r["session"] == "day"
    assert "inside the bar opening 10:00 JST (it started before the news, so it is not bar 0)" in r["reason"]


def test_exactly_on_a_bar_open_is_that_bar():
    r = _bar0("OSE", "2026-01-07 10:00+09:00").iloc[0]
    assert r["bar0_local"] == "2026-01-07 10:00 JST"
    assert "exactly on the open of the bar 10:00 JST" in r["reason"]
    assert pd.Timestamp(r["bar0_utc"]) == pd.Timestamp(r["announced_utc"])


def test_tokyo_lunch_break_maps_to_the_afternoon_open():
    r = _bar0("XTKS", "2026-01-07 11:45+09:00").iloc[0]
    assert r["bar0_local"] == "2026-01-07 12:30 JST" and r["session"] == "pm"
    assert "after the am session" in r["reason"] and "before the pm session" in r["reason"]


def test_ose_break_between_day_and_night_maps_to_the_night_of_the_next_trading_date():
    # the dual-use ban: 16:25 Beijing = 17:25 JST is inside the night session; 16:30 JST is in the break
    r = _bar0("OSE", "2026-01-06 16:30+09:00").iloc[0]
    assert r["bar0_local"] == "2026-01-06 17:00 JST" and r["session"] == "night"
    assert pd.Timestamp(r["trading_date"]) == pd.Timestamp("2026-01-07")
    r = _bar0("OSE", pd.Timestamp("2026-01-06 16:25", tz="Asia/Shanghai")).iloc[0]
    assert r["bar0_local"] == "2026-01-06 17:30 JST"


def test_after_the_night_close_maps_to_the_day_open_and_weekend_to_monday():
    r = _bar0("OSE", "2026-01-07 06:30+09:00").iloc[0]
    assert r["bar0_local"] == "2026-01-07 08:45 JST" and r["session"] == "day"
    assert "after the night session" in r["reason"] and "closed" in r["reason"]
    r = _bar0("OSE", "2025-11-15 10:00+09:00").iloc[0]  # Saturday, after the Friday night session
    assert r["bar0_local"] == "2025-11-17 08:45 JST"


def test_holiday_trading_day():
    # Sat 2026-01-10 (Kyodo report): Mon 01-12 is a holiday on which OSE trades, folded into 01-13
    r = _bar0("OSE", "2026-01-10 12:00+09:00").iloc[0]
    assert r["bar0_local"] == "2026-01-12 08:45 JST" and bool(r["holiday_trading"])
    assert pd.Timestamp(r["trading_date"]) == pd.Timestamp("2026-01-13")
    assert "a holiday-trading session" in r["reason"]
    # Tokyo cash is closed that day: its bar 0 is Tuesday's open
    assert _bar0("XTKS", "2026-01-10 12:00+09:00").iloc[0]["bar0_local"] == "2026-01-13 09:00 JST"


def test_us_venue_across_the_dst_change():
    """The same UTC clock time is before the Globex open after the DST change and inside the session before it."""
    before = _bar0("CME", "2025-10-26 22:30Z").iloc[0]   # Sunday, 17:30 CDT: Globex open since 22:00 UTC
    after = _bar0("CME", "2025-11-02 22:30Z").iloc[0]    # Sunday, 16:30 CST: Globex opens 23:00 UTC
    assert pd.Timestamp(before["bar0_utc"]) == pd.Timestamp("2025-10-26 22:30Z")
    assert pd.Timestamp(after["bar0_utc"]) == pd.Timestamp("2025-11-02 23:00Z")
    assert after["bar0_local"] == "2025-11-02 17:00 CST" and before["bar0_local"] == "2025-10-26 17:30 CDT"
    # the daily maintenance break (16:00-17:00 CT) maps to the next trading day's first bar
    r = _bar0("CME", "2025-11-05 16:30-06:00").iloc[0]
    assert r["bar0_local"] == "2025-11-05 17:00 CST"
    assert pd.Timestamp(r["trading_date"]) == pd.Timestamp("2025-11-06")


def test_an_interval_is_reported_at_both_ends():
    out = _bar0("OSE", "2026-01-06 14:30+09:00", until="2026-01-06 15:35+09:00")
    assert list(out["end"]) == ["earliest", "latest"]
    assert list(out["bar0_local"]) == ["2026-01-06 14:30 JST", "2026-01-06 15:45 JST"]
    assert "the 5 bar(s) from 2026-01-06 14:30 JST before it may precede the news" in out["reason"].iloc[1]


def test_a_session_missing_from_the_data_is_said():
    sess = venue_sessions(venue("OSE"), "2026-01-02", "2026-01-10")
    night = int(sess[(sess["session"] == "night") & (sess["trading_date"] == pd.Timestamp("2026-01-07"))]["seq"].iloc[0])
    frame, sess, v = synthetic_bars("OSE", "2026-01-02", "2026-01-10", drop_session=night)
    out = map_bar0(pd.DataFrame({"event_id": ["e"], "announced_at": [pd.Timestamp("2026-01-06 16:30+09:00")]}), frame, sess, v)
    assert out["bar0_local"].iloc[0] == "2026-01-07 08:45 JST"
    assert "the data has no bars in 1 session(s) the venue trades" in out["reason"].iloc[0]


def test_after_the_last_bar_and_without_a_time():
    frame, sess, v = synthetic_bars("OSE", "2026-01-05", "2026-01-07")
    ev = pd.DataFrame({"event_id": ["late", "untimed"],
                       "announced_at": [pd.Timestamp("2026-02-01 12:00+09:00"), pd.NaT]})
    out = map_bar0(ev, frame, sess, v)
    assert (out["bar0_pos"] == -1).all()
    assert "no bar opening at or after it: no bar 0" in out["reason"].iloc[0]
    assert "no announcement time" in out["reason"].iloc[1]


def test_path_figure_marks_the_announcement_and_shades_each_break():
    from eventstudy.data.bars import bars_from_frame
    from eventstudy.pipeline.intraday import intraday_study
    from eventstudy.present.intraday import BREAK_WIDTH, figure_png, plot_intraday_path

    frame, sess, v = synthetic_bars("OSE", "2026-01-05", "2026-01-09")
    bars = bars_from_frame(frame[["ticker", "bar_open_utc", "open", "high", "low", "close"]])
    ev = pd.DataFrame({"event_id": ["e"], "announced_at": [pd.Timestamp("2026-01-06 17:25+09:00")]})
    run = intraday_study(ev, bars, venue="OSE", windows=["rest"])
    fig = plot_intraday_path(run, "e", sessions_before=1, sessions_after=1)
    ax = fig.axes[0]
    assert len(ax.patches) == 2                           # day | night | day: two breaks shaded
    xs = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    # 29 day bars, a break of BREAK_WIDTH, the 17:00 bar; 17:25 is 10 minutes into the 17:15 bar
    assert xs == [pytest.approx(29 + BREAK_WIDTH + 1 + 10 / 15)]
    assert figure_png(fig)[:4] == b"\x89PNG"
