"""The per-column checks of an events table (eventstudy.inputs.event_fields), called directly."""
from __future__ import annotations

import zoneinfo

import pandas as pd

from eventstudy.inputs.event_fields import (announcement_instants, check_dates, check_event_ids, check_times,
                                            check_timezones)

WHERE = ["line 2", "line 3", "line 4"]


def test_each_check_returns_values_and_located_problems():
    assert check_event_ids(["a", "", "a"], WHERE) == [
        (1, "line 3, column event_id = '': event_id is empty: give every event a unique id (e.g. mofcom_2026_01_06)."),
        (2, "line 4, column event_id = 'a': duplicate event_id, also on line 2: event ids must be unique; rename one.")]
    dates, probs = check_dates(["2026-01-06", "2026-2-3", "2026-02-30"], WHERE)
    assert dates[:2] == [pd.Timestamp("2026-01-06"), pd.Timestamp("2026-02-03")] and dates[2] is None
    assert [i for i, _ in probs] == [2] and "2026-02 has 28 days" in probs[0][1]
    times, probs = check_times(["9:05", "", "24:00"], WHERE)
    assert times == ["09:05", "", ""] and [i for i, _ in probs] == [2]
    zones, probs = check_timezones(["Asia/Tokyo", "", "JST"], ["09:05", "10:00", ""], WHERE)
    assert zones[0] == zoneinfo.ZoneInfo("Asia/Tokyo") and zones[1] is None and zones[2] is None
    assert [i for i, _ in probs] == [1, 2] and "use Asia/Tokyo" in probs[1][1]


def test_announcement_instants_refuse_daylight_saving_gaps():
    ny = zoneinfo.ZoneInfo("America/New_York")
    days = [pd.Timestamp("2026-01-06"), pd.Timestamp("2026-03-08"), None]
    got, probs = announcement_instants(days, ["16:25", "02:30", "10:00"], [ny, ny, ny], ["16:25", "02:30", "10:00"], WHERE)
    assert got[0] == pd.Timestamp("2026-01-06 21:25", tz="UTC") and got[1] is pd.NaT and got[2] is pd.NaT
    assert probs == [(1, "line 3, column time = '02:30': 2026-03-08 02:30 does not exist in America/New_York "
                         "(a daylight-saving change): give the time in a zone without the change, e.g. UTC.")]
