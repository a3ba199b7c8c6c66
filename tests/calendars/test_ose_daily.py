"""OSE trading dates as a daily session model (calendars.venues.VenueDailyModel): an OSE daily series is
declared like any instrument (exchange OSE) and day 0 follows the night session's trading date."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from eventstudy.calendars import map_day0, session_model_for
from eventstudy.calendars.venues import VenueDailyModel
from eventstudy.inputs.exchanges import guess_exchange, normalise_exchange

DAILY = Path(__file__).resolve().parents[3] / "shared" / "data" / "market" / "mahoganin_ose_nk225mini_daily.csv"


def _events(*times: str) -> pd.DataFrame:
    at = [pd.Timestamp(t, tz="Asia/Tokyo") for t in times]
    return pd.DataFrame({"event_id": [f"e{i}" for i in range(len(at))], "date": [a.tz_localize(None).normalize() for a in at],
                         "time": [f"{a:%H:%M}" for a in at], "timezone": "Asia/Tokyo", "label": "", "category": "",
                         "source": "", "notes": "", "announced_at": at})


def test_names_and_model():
    assert normalise_exchange("ose") == "OSE" and normalise_exchange("Osaka") == "OSE"
    assert guess_exchange("NK225MINI.OSE") == "OSE"
    assert isinstance(session_model_for("NK225MINI.OSE"), VenueDailyModel)


def test_day0_follows_the_night_session():
    ev = _events("2026-01-06 17:25", "2026-01-06 15:50", "2026-01-06 14:00", "2026-01-10 12:00")
    day0 = map_day0(ev, ["NK"], exchanges={"NK": "OSE"}).set_index("event_id")["day0"]
    assert day0["e0"] == pd.Timestamp("2026-01-07")        # in the night session: the next trading date
    assert day0["e1"] == pd.Timestamp("2026-01-07")        # between the day close (15:45) and the night open
    assert day0["e2"] == pd.Timestamp("2026-01-06")        # in the day session
    assert day0["e3"] == pd.Timestamp("2026-01-13")        # Saturday: Monday 01-12 is a holiday-trading session of 01-13


def test_bounds_are_the_night_open_and_the_day_close():
    o, c = session_model_for("", "OSE").bounds("2026-01-07")
    assert o == pd.Timestamp("2026-01-06 17:00", tz="Asia/Tokyo") and c == pd.Timestamp("2026-01-07 15:45", tz="Asia/Tokyo")
    o, c = session_model_for("", "OSE").bounds("2024-10-01")                       # before the 2024-11-05 change
    assert o == pd.Timestamp("2024-09-30 16:30", tz="Asia/Tokyo") and c == pd.Timestamp("2024-10-01 15:15", tz="Asia/Tokyo")


def test_the_real_daily_file_trades_on_these_dates():
    if not DAILY.exists():
        pytest.skip("../shared OSE daily file not available")
    d = pd.read_csv(DAILY)
    col = "trading_date" if "trading_date" in d.columns else "date"
    dates = pd.DatetimeIndex(pd.to_datetime(d[col])).normalize()
    model = session_model_for("", "OSE")
    sessions = model.sessions(dates.min(), dates.max())
    assert dates.isin(sessions).all()
    assert len(sessions) == len(dates.unique())
