"""Bar files: reading (CSV, Parquet, UTC / offsets / local with a timezone / epoch seconds) and every
bad input named (file, line, ticker); sessions of the venues from their rules."""
from __future__ import annotations

import pandas as pd
import pytest

from eventstudy.calendars.venues import assign_sessions, venue, venue_for, venue_sessions
from eventstudy.data.bars import BarFileError, load_bars
from eventstudy.errors import EventStudyError

HEADER = "bar_open_utc,ticker,open,high,low,close,volume\n"
GOOD = [
    "2026-01-06T08:00:00Z,NK.OSE,100,101,99,100.5,10",
    "2026-01-06T08:15:00Z,NK.OSE,100.5,102,100,101,12",
    "2026-01-06T08:30:00Z,NK.OSE,101,101.5,100,100,9",
]


def _write(tmp_path, lines, header=HEADER, name="bars.csv"):
    p = tmp_path / name
    p.write_text(header + "\n".join(lines) + "\n")
    return p


def test_reads_utc_offset_local_and_epoch_alike(tmp_path):
    utc = load_bars(_write(tmp_path, GOOD))
    off = load_bars(_write(tmp_path, [l.replace("T08:", "T17:").replace("Z", "+09:00") for l in GOOD], name="o.csv"))
    local = load_bars(_write(tmp_path, [l.replace("T08:", "T17:").replace("Z", "") for l in GOOD], name="l.csv"),
                      timezone="Asia/Tokyo")
    epoch_lines = [f"{int(pd.Timestamp(l.split(',')[0]).timestamp())}," + l.split(",", 1)[1] for l in GOOD]
    epoch = load_bars(_write(tmp_path, epoch_lines, header=HEADER.replace("bar_open_utc", "time"), name="e.csv"))
    for b in (off, local, epoch):
        pd.testing.assert_series_equal(b.frame["bar_open_utc"], utc.frame["bar_open_utc"])
    assert utc.bar_minutes == {"NK.OSE": 15.0}
    assert list(utc.frame["line"]) == [2, 3, 4]


def test_parquet_and_ticker_argument(tmp_path):
    df = pd.read_csv(_write(tmp_path, GOOD)).drop(columns="ticker")
    df["bar_open_utc"] = pd.to_datetime(df["bar_open_utc"], utc=True)
    p = tmp_path / "b.parquet"
    df.to_parquet(p)
    b = load_bars(p, ticker="NK.OSE")
    assert b.tickers == ["NK.OSE"] and len(b.frame) == 3
    with pytest.raises(BarFileError, match="no 'ticker' column"):
        load_bars(p)


@pytest.mark.parametrize("lines,header,kw,match", [
    ([l.replace("Z", "") for l in GOOD], HEADER, {}, r"line 2: bar time '2026-01-06T08:00:00' .* has no timezone"),
    ([GOOD[1], GOOD[0], GOOD[2]], HEADER, {}, r"line 3 \(ticker NK.OSE\): bar opening 2026-01-06 08:00 UTC comes after .*not sorted"),
    ([GOOD[0], GOOD[0], GOOD[1]], HEADER, {}, r"line 3 \(ticker NK.OSE\): a second bar opening 2026-01-06 08:00 UTC"),
    (GOOD + ["2026-01-06T08:40:00Z,NK.OSE,100,101,99,100,1", "2026-01-06T08:55:00Z,NK.OSE,100,101,99,100,1",
             "2026-01-06T09:10:00Z,NK.OSE,100,101,99,100,1"], HEADER, {}, r"line 5 .*overlaps the bar opening .* 10 minutes apart, but the bars are 15 minutes long"),
    ([GOOD[0], "2026-01-06T08:15:00Z,NK.OSE,100,99,101,100,1"], HEADER, {}, r"line 3 \(ticker NK.OSE\): high is below low"),
    ([GOOD[0], "2026-01-06T08:15:00Z,NK.OSE,100,101,99,103,1"], HEADER, {}, r"line 3 .*close lies outside"),
    ([GOOD[0], "2026-01-06T08:15:00Z,NK.OSE,0,101,0,100,1"], HEADER, {}, r"line 3 .*prices must be positive"),
    ([GOOD[0], "2026-01-06T08:15:00Z,NK.OSE,abc,101,99,100,1"], HEADER, {}, r"line 3 \(ticker NK.OSE\): open 'abc' is not a number"),
    ([GOOD[0], "yesterday+09:00,NK.OSE,100,101,99,100,1"], HEADER, {}, r"line 3: bar time 'yesterday\+09:00' is not a date-time"),
    ([g.replace(",NK.OSE", "") for g in GOOD], "bar_open_utc,open,high,close,volume\n", {"ticker": "X"}, r"missing column\(s\) low"),
    ([GOOD[0], "2026-01-06T08:15:00Z,,100,101,99,100,1"], HEADER, {}, r"line 3: empty ticker"),
])
def test_bad_bar_files_are_named(tmp_path, lines, header, kw, match):
    p = _write(tmp_path, lines, header)
    with pytest.raises(BarFileError, match=match) as exc:
        load_bars(p, **kw)
    assert str(p) in str(exc.value)
    assert isinstance(exc.value, EventStudyError)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(BarFileError, match="does not exist"):
        load_bars(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(BarFileError, match="is empty"):
        load_bars(tmp_path / "empty.csv")


def test_bar_outside_the_venues_sessions_is_named(tmp_path):
    # 15:45 JST is the closing-auction bar; 16:00 JST falls in the break before the night open (17:00)
    lines = ["2026-01-06T06:45:00Z,NK.OSE,100,101,99,100,1", "2026-01-06T07:00:00Z,NK.OSE,100,101,99,100,1"]
    b = load_bars(_write(tmp_path, lines))
    with pytest.raises(BarFileError, match=r"line 3 \(ticker NK.OSE\): the bar opening 2026-01-06 16:00 JST lies outside "
                                           r"every session of OSE.*the session before is day 2026-01-06 08:45 JST"):
        assign_sessions(b.of("NK.OSE"), venue("OSE"), b.source)


def test_file_columns_contradicting_the_rules_are_named(tmp_path):
    header = "bar_open_utc,ticker,trading_date,session,open,high,low,close\n"
    lines = ["2026-01-06T08:00:00Z,NK.OSE,2026-01-06,night,100,101,99,100"]  # the night of 01-06 belongs to 01-07
    b = load_bars(_write(tmp_path, lines, header))
    with pytest.raises(BarFileError, match=r"line 2 .*says trading_date '2026-01-06', the venue's rules give '2026-01-07'"):
        assign_sessions(b.of("NK.OSE"), venue("OSE"), b.source, b.extra)


def test_venue_from_ticker_and_unknown():
    assert venue_for("NIKKEI225MINI.OSE").code == "OSE"
    assert venue_for("NKD=F").code == "CME"
    assert venue_for("^N225").code == "XTKS"
    assert venue_for("whatever", "xnys").code == "XNYS"
    with pytest.raises(BarFileError, match="unknown venue 'MOON'"):
        venue("MOON")


def _local(sess, tz="Asia/Tokyo"):
    return [(f"{r.trading_date:%m-%d}", r.session, f"{r.open_utc.tz_convert(tz):%m-%d %H:%M}",
             f"{r.close_utc.tz_convert(tz):%m-%d %H:%M}", r.holiday_trading) for r in sess.itertuples()]


def test_ose_hours_change_and_holiday_trading_from_rules():
    # 2024-11-01 (Fri): old hours; 11-04 (Mon) a holiday traded, folded into 11-05; new hours from 11-05
    s = _local(venue_sessions(venue("OSE"), "2024-11-01", "2024-11-05"))
    s = [r for r in s if "11-01" <= r[2][:5] <= "11-05"]
    assert s == [
        ("11-01", "day", "11-01 08:45", "11-01 15:15", False),
        ("11-05", "night", "11-01 16:30", "11-02 06:00", False),
        ("11-05", "day", "11-04 08:45", "11-04 15:15", True),
        ("11-05", "night", "11-04 16:30", "11-05 06:00", True),
        ("11-05", "day", "11-05 08:45", "11-05 15:45", False),
        ("11-06", "night", "11-05 17:00", "11-06 06:00", False),
    ]
    # New Year: no day sessions Dec 31 - Jan 3; the night after 12-30 belongs to 01-05
    s = _local(venue_sessions(venue("OSE"), "2025-12-30", "2026-01-05"))
    s = [r for r in s if "12-30" <= r[2][:5] or r[2][:5] <= "01-05"]
    assert ("01-05", "night", "12-30 17:00", "12-31 06:00", False) in s
    assert not [r for r in s if r[2][:5] in ("12-31", "01-01", "01-02", "01-03")]


def test_tokyo_cash_lunch_break_and_close_change():
    s = _local(venue_sessions(venue("XTKS"), "2024-11-01", "2024-11-05"))
    assert ("11-01", "am", "11-01 09:00", "11-01 11:30", False) in s
    assert ("11-01", "pm", "11-01 12:30", "11-01 15:00", False) in s
    assert ("11-05", "pm", "11-05 12:30", "11-05 15:30", False) in s


def test_cme_globex_follows_us_dst():
    s = venue_sessions(venue("CME"), "2025-10-31", "2025-11-03")
    o = {f"{r.trading_date:%m-%d}": f"{r.open_utc:%m-%d %H:%M}" for r in s.itertuples()}
    assert o["10-31"] == "10-30 22:00"   # 17:00 CDT
    assert o["11-03"] == "11-02 23:00"   # 17:00 CST, Sunday evening


def test_ose_rules_reproduce_the_real_files_sessions(shared_dir):
    """Every one of the 21,597 real bars falls in a session of the rules, and the file's own trading_date and
    session columns (computed by the data's provider) agree with the rules on every bar (assign_sessions
    raises otherwise); the rules' sessions over the file's span are exactly the file's 527 sessions."""
    p = shared_dir / "data" / "market" / "mahoganin_ose_nk225mini_15min.csv"
    if not p.exists():
        pytest.skip("OSE 15-minute bars not available")
    b = load_bars(p, ticker="NIKKEI225MINI.OSE")
    frame, sess = assign_sessions(b.of("NIKKEI225MINI.OSE"), venue("OSE"), b.source, b.extra)
    raw = pd.read_csv(p)
    span = sess[(sess["open_utc"] >= frame["bar_open_utc"].min()) & (sess["open_utc"] <= frame["bar_open_utc"].max())]
    t = pd.to_datetime(raw["bar_open_utc"])
    runs = int(((raw["session"] != raw["session"].shift()) | (t.diff() > pd.Timedelta(minutes=15))).sum())
    assert len(span) == runs == 527   # PROVENANCE: 263 day and 264 night sessions
    assert set(span["seq"]) == set(frame["seq"])
    assert int(span["holiday_trading"][span["session"] == "day"].sum()) == 16


def test_venue_detected_from_the_bars_or_asked_for(tmp_path):
    from eventstudy.calendars.venues import detect_venue

    sunday = load_bars(_write(tmp_path, ["2026-01-11T03:00:00Z,X,1,1,1,1,1"], name="sun.csv"))
    with pytest.raises(BarFileError, match=r"fit the sessions of none of OSE, CME, XTKS, XNYS; give the venue"):
        detect_venue(sunday.of("X"), None, sunday.source)
    tuesday = load_bars(_write(tmp_path, ["2026-01-06T01:00:00Z,X,1,1,1,1,1"], name="tue.csv"))
    with pytest.raises(BarFileError, match=r"fit the sessions of OSE, CME, XTKS; say which \(--bars-venue\)"):
        detect_venue(tuesday.of("X"), None, tuesday.source)
    # 08:45 JST on Christmas Day: OSE's day open; Tokyo cash opens at 09:00, CME closed at 12:15 CT on the 24th
    xmas = load_bars(_write(tmp_path, ["2025-12-24T23:45:00Z,X,1,1,1,1,1"], name="x.csv"))
    assert detect_venue(xmas.of("X"), None, xmas.source).code == "OSE"
