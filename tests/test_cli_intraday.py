"""``eventstudy run --bars FILE``: the intraday tables, the reaction clock in the report, and bad bar files
refused before the study runs (exit 2, nothing written)."""
from __future__ import annotations

import pandas as pd
import pytest

from eventstudy.cli import main


def test_bad_bar_file_exits_2_before_the_study(tmp_path, capsys):
    bars = tmp_path / "bars.csv"
    bars.write_text("bar_open_utc,open,high,low,close\n2026-01-06 08:00,1,1,1,1\n")
    out = tmp_path / "out"
    assert main(["run", "--offline", "--bars", str(bars), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{bars}, line 2: bar time '2026-01-06 08:00'" in err and "has no timezone" in err
    assert "Traceback" not in err and not out.exists()


def test_bad_window_and_firm_events_refused(tmp_path, capsys):
    bars = tmp_path / "bars.csv"
    bars.write_text("bar_open_utc,open,high,low,close\n2026-01-06T08:00:00Z,1,1,1,1\n")
    assert main(["run", "--offline", "--bars", str(bars), "--bars-window", "bars:4,1", "--out", str(tmp_path / "o")]) == 2
    assert "intraday window 'bars:4,1'" in capsys.readouterr().err
    fe = tmp_path / "fe.csv"
    fe.write_text("ticker,date\n7203.T,2025-11-07\n")
    assert main(["run", "--offline", "--firm-events", str(fe), "--bars", str(bars), "--out", str(tmp_path / "o")]) == 2
    assert "--bars goes with --events" in capsys.readouterr().err
    assert main(["run", "--offline", "--bars", str(bars), "--bars-benchmark", "ES", "--out", str(tmp_path / "o")]) == 2
    assert "--bars-benchmark 'ES': the bar file" in capsys.readouterr().err


def test_real_study_with_ose_bars(shared_dir, tmp_path):
    market = shared_dir / "data" / "market"
    bars, prices = market / "mahoganin_ose_nk225mini_15min.csv", market / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not (bars.exists() and prices.exists()):
        pytest.skip("real OSE bars or J-Quants prices not available")
    out = tmp_path / "real"
    assert main(["run", "--prices", str(prices), "--bars", str(bars), "--bars-ticker", "NK225MINI.OSE",
                 "--out", str(out)]) == 0
    clock = pd.read_csv(out / "reaction_clock.csv")
    du = clock[clock["event_id"] == "dual_use_ban"]
    first = du.iloc[0]
    assert (first["instrument"], first["leg"], first["from_price"], first["to_price"]) == \
        ("NK225MINI.OSE", "night session", 52690.0, 52055.0)
    assert first["ret"] == pytest.approx(52055 / 52690 - 1)
    assert 0 < first["p_ghk"] <= 1 and 0 < first["p_t"] <= 1
    tr = clock[clock["event_id"] == "travel_advisory"]
    assert tr.iloc[0]["leg"] == "night session" and tr.iloc[0]["trading_date"] == "2025-11-17"
    b0 = pd.read_csv(out / "intraday_bar0.csv").set_index("event_id")
    assert b0.loc["dual_use_ban", "bar0_local"] == "2026-01-06 17:30 JST"
    md = (out / "report.md").read_text()
    assert "## Intraday reaction clock" in md and "52,690 \u2192 52,055 | -1.21" in md
    assert "figures/intraday_dual_use_ban.png" in md and (out / "figures" / "intraday_dual_use_ban.png").exists()
    assert "Intraday reaction clock" in (out / "report.html").read_text()
    import json
    listed = {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert {"reaction_clock.csv", "intraday_bar0.csv", "intraday_reactions.csv",
            "figures/intraday_dual_use_ban.png"} <= listed


def test_marked_section_replaced_inserted_or_appended():
    from eventstudy.outputs.sections import replace_marked_section as r

    assert r("a\n<footer>", "S", "<b>", "</b>", "<footer>") == "a\n<b>\nS\n</b>\n<footer>"
    assert r("a <b>\nold\n</b> z", "new", "<b>", "</b>") == "a <b>\nnew\n</b> z"
    assert r("a\n\n", "S", "<b>", "</b>", "<nowhere>") == "a\n\n<b>\nS\n</b>\n"


def test_a_section_added_later_is_listed_once_in_the_contents():
    from eventstudy.outputs.sections import with_toc_link

    page = '<nav class="es-toc"><a href="#a">A</a></nav><h2 id="a">A</h2>'
    once = with_toc_link(page, "intraday", "Intraday & clock")
    assert '<a href="#a">A</a> <a href="#intraday">Intraday &amp; clock</a></nav>' in once
    assert with_toc_link(once, "intraday", "Intraday & clock") == once          # a rerun adds no second link
    assert with_toc_link("<p>no contents</p>", "x", "X") == "<p>no contents</p>"


def test_intraday_tables_follow_table_format(shared_dir, tmp_path):
    market = shared_dir / "data" / "market"
    bars, prices = market / "mahoganin_ose_nk225mini_15min.csv", market / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not (bars.exists() and prices.exists()):
        pytest.skip("real OSE bars or J-Quants prices not available")
    common = ["run", "--prices", str(prices), "--bars", str(bars), "--bars-ticker", "NK225MINI.OSE", "--no-report",
              "--window=0,1"]
    assert main([*common, "--out", str(tmp_path / "c")]) == 0
    assert main([*common, "--table-format", "parquet", "--out", str(tmp_path / "p")]) == 0
    for stem in ("reaction_clock", "intraday_bar0", "intraday_reactions"):
        assert not (tmp_path / "p" / f"{stem}.csv").exists()
        pq = pd.read_parquet(tmp_path / "p" / f"{stem}.parquet")
        cs = pd.read_csv(tmp_path / "c" / f"{stem}.csv")
        assert list(pq.columns) == list(cs.columns) and len(pq) == len(cs)
        num = [c for c in cs.columns if pd.api.types.is_float_dtype(cs[c])]
        pd.testing.assert_frame_equal(pq[num].astype(float), cs[num], rtol=1e-12, check_dtype=False)


def test_events_command_shows_bar_0_on_the_bars(tmp_path, capsys):
    """``eventstudy events --bars``: the day-0 audit, then each event's bar 0 on the bars' instrument (OSE rules:
    the dual-use ban, 16:25 Beijing = 17:25 JST, falls inside the night session's 17:15 bar, so bar 0 opens
    17:30 JST); a bad bar file is refused before any work."""
    from bar_fixtures import synthetic_bars

    frame, _, _ = synthetic_bars("OSE", "2025-11-01", "2026-01-20", ticker="NK")
    path = tmp_path / "bars.csv"
    pd.DataFrame({"bar_open_utc": pd.DatetimeIndex(frame["bar_open_utc"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  **{c: frame[c] for c in ("open", "high", "low", "close")}}).to_csv(path, index=False)
    assert main(["events", "--bars", str(path), "--bars-ticker", "NK", "--bars-venue", "OSE"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Day 0 per event and trading calendar" in out and "Bar 0 per event on NK (OSE bars)" in out
    start = out.index("dual_use_ban", out.index("Bar 0 per event"))
    row = out[start:out.index("china_daily_ree", start)]          # cells wrap in a narrow terminal
    assert all(x in row for x in ("16:25:00+08:00", "2026-01-06 17:30", "night"))
    bad = tmp_path / "bad.csv"
    bad.write_text("bar_open_utc,open,high,low,close\n2026-01-06 08:00,1,1,1,1\n")
    assert main(["events", "--bars", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "has no timezone" in err and "Traceback" not in err
