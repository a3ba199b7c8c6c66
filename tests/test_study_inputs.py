"""The China–Japan study's events.csv and confounders.csv: parse, content and day 0 per calendar."""
from __future__ import annotations

import re
import zoneinfo
from pathlib import Path

import pandas as pd
import pytest

from eventstudy.inputs.study import default_confounders_path, default_events_path
from eventstudy.inputs.universe import load_confounders

REPO = Path(__file__).resolve().parents[1]
ROOT_EVENTS = REPO / "events.csv"
COLUMNS = ["event_id", "date", "time", "timezone", "label", "category", "source", "notes"]
CATEGORIES = {"POL", "TRV", "SEA", "EXC", "REE", "MIL", "DIP", "TRD", "DOM", "MKT"}

# First Tokyo session that could price the news, from the research note's t0 (TSE) column
# (with its holidays: 11-24 and 01-12 are closed).
TSE_DAY0 = {
    "remarks": "2025-11-07",
    "xue_post": "2025-11-10",
    "travel_advisory": "2025-11-17",
    "seafood_ban": "2025-11-19",
    "air_china_cuts": "2025-11-21",
    "radar_lockon": "2025-12-08",
    "dual_use_ban": "2026-01-07",
    "china_daily_ree": "2026-01-07",
    "japan_protest": "2026-01-07",
    "dcs_probe": "2026-01-08",
    "wsj_heavy_ree": "2026-01-09",
    "kyodo_no_contracts": "2026-01-13",
}
# CME bar (trading day D = 17:00 CT on D-1 to 16:00 CT on D) per the note's section 4.
CME_DAY0 = {"dual_use_ban": "2026-01-06", "travel_advisory": "2025-11-14"}


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.read_csv(ROOT_EVENTS, dtype=str, keep_default_na=False)


def test_events_parse_with_pandas(events):
    assert list(events.columns) == COLUMNS
    assert 10 <= len(events) <= 15
    assert events["event_id"].is_unique
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{1,29}", e) for e in events["event_id"])
    assert set(events["category"]) <= CATEGORIES
    for _, r in events.iterrows():
        pd.Timestamp(r["date"])  # parses
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date"])
        assert r["time"] == "" or re.fullmatch(r"[0-2]\d:[0-5]\d", r["time"]), r["event_id"]
        zoneinfo.ZoneInfo(r["timezone"])  # a valid IANA name
        assert re.fullmatch(r"https?://\S+", r["source"]), r["event_id"]  # one URL
        assert "..." not in r["source"]
        assert re.search(r"\[[CSU]\]", r["notes"]), r["event_id"]  # timing certainty flag
        assert r["label"] and len(r["label"]) < 120


def test_required_events_present(events):
    assert set(TSE_DAY0) <= set(events["event_id"])
    by_id = events.set_index("event_id")
    assert by_id.loc["remarks", "date"] == "2025-11-07" and "unconfirmed" in by_id.loc["remarks", "notes"]
    assert by_id.loc["travel_advisory", "timezone"] == "Asia/Shanghai"
    assert "estimated" in by_id.loc["travel_advisory", "notes"]
    assert by_id.loc["dual_use_ban", "category"] == "EXC"
    # confounders of the main event days are named in the notes
    assert "GDP" in by_id.loc["travel_advisory", "notes"] and "3.22" in by_id.loc["travel_advisory", "notes"]
    assert "Goldman" in by_id.loc["dual_use_ban", "notes"] and "Hisamitsu" in by_id.loc["dual_use_ban", "notes"]
    assert "Samsung" in by_id.loc["dcs_probe", "notes"]


def test_packaged_copy_is_identical():
    assert default_events_path().read_bytes() == ROOT_EVENTS.read_bytes()


def _announced_utc(events: pd.DataFrame) -> dict[str, pd.Timestamp]:
    out = {}
    for _, r in events.iterrows():
        ts = pd.Timestamp(f"{r['date']} {r['time']}").tz_localize(r["timezone"])
        out[r["event_id"]] = ts.tz_convert("UTC")
    return out


def test_day0_per_calendar_matches_the_note(events):
    """Independent of the library: first session whose close is at or after the announcement."""
    import exchange_calendars as xcals

    ann = _announced_utc(events)
    xtks = xcals.get_calendar("XTKS", start="2025-01-06")
    sessions = xtks.sessions_in_range("2025-10-01", "2026-02-27")
    closes = xtks.schedule["close"].reindex(sessions)
    for eid, expected in TSE_DAY0.items():
        day0 = sessions[int(closes.searchsorted(ann[eid], side="left"))]
        assert day0 == pd.Timestamp(expected), (eid, day0)
    cmes = xcals.get_calendar("CMES", start="2025-01-06").sessions_in_range("2025-10-01", "2026-02-27")
    cme_close = pd.DatetimeIndex([pd.Timestamp(f"{d:%Y-%m-%d} 16:00", tz="America/Chicago") for d in cmes])
    for eid, expected in CME_DAY0.items():
        day0 = cmes[int(cme_close.searchsorted(ann[eid], side="left"))]
        assert day0 == pd.Timestamp(expected), (eid, day0)


def test_load_events_accepts_the_study_file():
    events_mod = pytest.importorskip("eventstudy.inputs.events")
    ev = events_mod.load_events(ROOT_EVENTS)
    assert ev["event_id"].tolist() == list(pd.read_csv(ROOT_EVENTS)["event_id"])
    assert ev["announced_at"].notna().all()
    assert ev.loc[ev.event_id == "dual_use_ban", "announced_at"].iloc[0] == pd.Timestamp(
        "2026-01-06 16:25", tz="Asia/Shanghai"
    )


def test_library_day0_agrees_with_note():
    cal = pytest.importorskip("eventstudy.calendars.day0")
    if not hasattr(cal, "map_day0"):
        pytest.skip("eventstudy.calendars.day0.map_day0 not available")
    from eventstudy.inputs.events import load_events

    audit = cal.map_day0(load_events(ROOT_EVENTS), ["7203.T", "NIY=F"])
    got = audit.set_index(["event_id", "ticker"])["day0"]
    for eid, d in TSE_DAY0.items():
        assert got[(eid, "7203.T")] == pd.Timestamp(d), eid
    for eid, d in CME_DAY0.items():
        assert got[(eid, "NIY=F")] == pd.Timestamp(d), eid


def test_true_effects_dates_are_event_day0s():
    from eventstudy.data.offline import true_effects

    te = true_effects()
    for r in te[(te.calendar == "XTKS") & (te.rel_day == 0)].itertuples():
        assert r.date == pd.Timestamp(TSE_DAY0[r.event_id]), r
    for r in te[te.calendar == "CMES"].itertuples():
        if r.event_id in CME_DAY0:
            assert r.date == pd.Timestamp(CME_DAY0[r.event_id]), r


def test_confounders_file():
    raw = pd.read_csv(default_confounders_path(), dtype=str, keep_default_na=False)
    assert list(raw.columns) == ["date", "market", "description", "source"]
    c = load_confounders()
    assert len(c) == len(raw) >= 8
    assert c["date"].dtype == "datetime64[ns]"
    assert set(c["market"]) <= {"XTKS", "CMES", "global"}
    assert (c["description"].str.len() > 10).all() and (c["source"] != "").all()
    import exchange_calendars as xcals

    xtks = xcals.get_calendar("XTKS", start="2025-01-06")
    for r in c[c.market == "XTKS"].itertuples():
        assert xtks.is_session(r.date), r.date  # a Tokyo confounder falls on a Tokyo session
    dates = set(c["date"])
    for d in ("2025-11-17", "2025-11-18", "2026-01-07", "2026-01-08", "2026-01-12", "2026-01-13"):
        assert pd.Timestamp(d) in dates
    # the snap-election rally of 2026-01-13 (Nikkei +3.10%, TOPIX +2.41%) is there, with a source
    rally = c[c["date"] == pd.Timestamp("2026-01-13")]
    assert rally["description"].str.contains("Snap-election").any() and (rally["source"].str.startswith("http")).all()


def test_confounders_cover_the_snap_election_rally_in_the_real_index(shared_dir):
    """The +3.1% / +2.4% of the 2026-01-13 confounder row are the official index closes' returns."""
    f = shared_dir / "data" / "market" / "raylia529_market-indicators_official_index_close.csv"
    if not f.exists():
        pytest.skip("official index closes not available")
    px = pd.read_csv(f, usecols=["date", "ticker", "close"], parse_dates=["date"])
    for tick, want in (("^N225", 0.0310), ("^TOPX", 0.0241)):
        s = px[px["ticker"] == tick].set_index("date")["close"].sort_index()
        r = s.loc["2026-01-13"] / s.loc[:"2026-01-12"].iloc[-1] - 1
        assert r == pytest.approx(want, abs=6e-4), tick


def test_every_event_day0_is_checked_for_confounders():
    """Each Tokyo day 0 of the study either has a confounder row or is a day the research note's
    confounder list has nothing for: the list of checked days is kept here so a new event forces a look."""
    from eventstudy.calendars.day0 import map_day0
    from eventstudy.inputs.events import load_events

    ev = load_events(default_events_path())
    d0 = map_day0(ev, ["7203.T"])
    days = set(pd.to_datetime(d0["day0"]).dt.strftime("%Y-%m-%d"))
    checked_none_found = {"2025-11-07", "2025-11-10", "2025-11-19", "2025-11-21", "2025-12-08", "2026-01-09"}
    conf = set(load_confounders()["date"].dt.strftime("%Y-%m-%d"))
    assert days <= conf | checked_none_found, sorted(days - conf - checked_none_found)


def test_confounders_file_errors(tmp_path):
    from eventstudy.errors import UniverseFileError

    p = tmp_path / "c.csv"
    p.write_text("date,market,description,source\n2025-13-01,XTKS,x,y\n", encoding="utf-8")
    with pytest.raises(UniverseFileError, match="line 2: date '2025-13-01' is not YYYY-MM-DD"):
        load_confounders(p)
    p.write_text("date,market\n2025-11-17,XTKS\n", encoding="utf-8")
    with pytest.raises(UniverseFileError, match=r"c\.csv, line 1: missing required column\(s\) description, "
                                                 r"source; columns found: date, market\."):
        load_confounders(p)
