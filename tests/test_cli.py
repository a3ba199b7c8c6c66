"""The CLI end to end, as a user runs it: the output contract, the study's known answer on the
bundled simulated market, and one bad input of each kind with the message a user reads."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.cli import main
from eventstudy.data.offline import OfflineSource
from eventstudy.outputs.csvs import AR_COLUMNS, CAR_COLUMNS, DAY0_COLUMNS, TEST_COLUMNS
from eventstudy.inference.regression import REG_COLUMNS
from eventstudy.inference.reference import TEST_IDS

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def offline_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "--offline", "--out", str(out), "--no-report"]) == 0
    return out


def test_run_writes_the_contract(offline_out):
    expect = {"abnormal_returns.csv": AR_COLUMNS, "car.csv": CAR_COLUMNS, "tests.csv": TEST_COLUMNS,
              "regressions.csv": REG_COLUMNS, "day0.csv": DAY0_COLUMNS}
    for name, cols in expect.items():
        df = pd.read_csv(offline_out / name)
        assert list(df.columns) == cols, name
        assert len(df) > 0, name
    tests = pd.read_csv(offline_out / "tests.csv")
    assert set(TEST_IDS) <= set(tests["test"])
    assert {"all", "futures", "control", "tourism_consumption"} <= set(tests["group"])
    # the pooled group holds equities only
    n_all = tests[(tests.group == "all")]["n"].max()
    car = pd.read_csv(offline_out / "car.csv")
    assert n_all == car[~car.group.isin(["futures", "index"])].groupby(["event_id", "window_start", "window_end"]).size().max()
    assert not list(offline_out.glob("*.tmp")) and not list(offline_out.glob(".*.tmp"))


def test_study_recovers_the_injected_effects(offline_out):
    """The simulated market carries known abnormal returns: the study must find them on day 0."""
    truth = OfflineSource().true_effects()
    truth = truth[(truth["rel_day"] == 0) & (truth["group"] != "index")]
    tests = pd.read_csv(offline_out / "tests.csv")
    kp = tests[(tests.test == "kolari_pynnonen") & (tests.window_start == 0) & (tests.window_end == 0)]
    kp = kp.set_index(["event_id", "group"])
    for _, t in truth.iterrows():
        row = kp.loc[(t["event_id"], t["group"])]
        if t["group"] == "futures":
            continue       # two instruments only; checked through the regression below
        if abs(t["abnormal_return"]) >= 0.02:
            assert np.sign(row["caar"]) == np.sign(t["abnormal_return"]), (t["event_id"], t["group"])
            assert row["p_value"] < 0.05, (t["event_id"], t["group"], row["p_value"])
            assert abs(row["caar"] - t["abnormal_return"]) < 0.015, (t["event_id"], t["group"], row["caar"])
    control = kp.loc[("dual_use_ban", "control")]
    assert abs(control["caar"]) < 0.01
    # futures react on the CME bar of 2026-01-06 (day 0 there), per the day-0 audit
    day0 = pd.read_csv(offline_out / "day0.csv")
    d = day0[(day0.event_id == "dual_use_ban")].set_index("ticker")["day0"]
    assert d["NIY=F"] == "2026-01-06" and d["7203.T"] == "2026-01-07"


def test_events_command_prints_audit(capsys):
    assert main(["events", "--ticker", "NIY=F", "--ticker", "7203.T"]) == 0
    out = capsys.readouterr().out
    assert "dual_use_ban" in out and "2026-01-06" in out and "2026-01-07" in out


def _run_err(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_malformed_events_file(tmp_path, capsys):
    bad = tmp_path / "events.csv"
    bad.write_text("event_id,date,time,timezone,label,category,source\n"
                   "a,2026-01-06,16:25,Asia/Shanghai,x,EXC,src\n"
                   "b,2026-13-45,,Asia/Tokyo,y,EXC,src\n")
    code, err = _run_err(["run", "--offline", "--events", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "events.csv" in err and "line 3" in err and "2026-13-45" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()          # nothing half-written


def test_unknown_timezone_and_missing_column(tmp_path, capsys):
    bad = tmp_path / "ev.csv"
    bad.write_text("event_id,date,time,timezone,label,category,source\na,2026-01-06,16:25,Asia/Beijing,x,EXC,s\n")
    code, err = _run_err(["events", "--events", str(bad)], capsys)
    assert code == 2 and "Asia/Beijing" in err
    bad.write_text("event_id,date,label\na,2026-01-06,x\n")
    code, err = _run_err(["events", "--events", str(bad)], capsys)
    assert code == 2 and "timezone" in err


def test_unknown_ticker_is_reported_not_fatal(tmp_path, capsys):
    uni = pd.read_csv(REPO / "eventstudy" / "study" / "china_japan" / "universe.csv")
    extra = pd.DataFrame([{"ticker": "9999.T", "name": "No Such Co", "group": "control", "benchmark": "1306.T",
                           "exchange": "XTKS", "rationale": "test"}])
    path = tmp_path / "universe.csv"
    pd.concat([uni, extra]).to_csv(path, index=False)
    out = tmp_path / "o"
    assert main(["run", "--offline", "--universe", str(path), "--out", str(out), "--no-report",
                 "--window=0,0"]) == 0
    ex = pd.read_csv(out / "exclusions.csv")
    assert ex[ex.ticker == "9999.T"]["reason"].str.contains("not in the bundled simulated market").all()
    err = capsys.readouterr().err
    assert "9999.T: no prices: not in the bundled simulated market" in err     # named in the terminal too


def test_event_outside_the_data(tmp_path, capsys):
    ev = tmp_path / "events.csv"
    ev.write_text("event_id,date,time,timezone,label,category,source\n"
                  "ok,2026-01-06,16:25,Asia/Shanghai,x,EXC,s\n"
                  "future,2027-06-01,,Asia/Tokyo,y,EXC,s\n")
    out = tmp_path / "o"
    code = main(["run", "--offline", "--events", str(ev), "--out", str(out), "--no-report", "--window=0,0"])
    err = capsys.readouterr().err
    assert code == 0, err
    ex = pd.read_csv(out / "exclusions.csv")
    assert (ex.event_id == "future").any()
    assert "event future: no day 0 for" in err and "after the last price date" in err
    tests = pd.read_csv(out / "tests.csv")
    assert set(tests.event_id) == {"ok"}


def test_prices_file_errors(tmp_path, capsys):
    p = tmp_path / "prices.csv"
    p.write_text("date,ticker,open\n2026-01-05,7203.T,100\n")
    code, err = _run_err(["run", "--prices", str(p), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "prices.csv" in err and "close" in err
    p.write_text("date,ticker,close\n2026-01-05,7203.T,100\n2026-01-06,7203.T,-5\n")
    code, err = _run_err(["run", "--prices", str(p), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "7203.T" in err and "2026-01-06" in err
    code, err = _run_err(["run", "--prices", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "nope.csv" in err


def test_bad_window_and_both_sources(tmp_path, capsys):
    code, err = _run_err(["run", "--offline", "--estimation=-250,-11", "--window=-20,0"], capsys)
    assert code == 2 and "overlaps" in err
    code, err = _run_err(["run", "--offline", "--prices", "x.csv"], capsys)
    assert code == 2 and "choose one price source" in err


def test_yahoo_without_network_fails_fast_with_offline_hint(tmp_path, capsys, monkeypatch):
    """No network here: the Yahoo path must say so and name the offline options (downloader injected)."""
    import eventstudy.data.yahoo as y

    def boom(*a, **k):
        raise ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")

    monkeypatch.setattr(y, "_default_downloader", lambda: boom, raising=False)
    orig = y.YahooSource.__init__

    def init(self, *a, **k):
        k["downloader"] = boom
        k["sleep"] = lambda s: None
        orig(self, *a, **k)

    monkeypatch.setattr(y.YahooSource, "__init__", init)
    code, err = _run_err(["run", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "--offline" in err and "--prices" in err


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from eventstudy.progress import progress, progress_enabled

    monkeypatch.setenv("CI", "true")
    assert not progress_enabled()
    items = [1, 2, 3]
    assert progress(items) is items                      # no bar in CI logs
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert not progress_enabled()                        # redirected output: no bar
    assert progress_enabled(True) and not progress_enabled(False)


def test_bootstrap_runs_and_report_formats(tmp_path):
    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), "--window=0,1", "--bootstrap", "199",
                 "--format", "csv"]) == 0
    tests = pd.read_csv(out / "tests.csv")
    boot = tests[tests.test == "bootstrap"]
    assert len(boot) and boot["p_value"].between(1 / 200, 1).all()
    assert (out / "impact_table.csv").exists() and not (out / "report.html").exists()


def test_run_says_which_price_field_was_used(tmp_path, capsys):
    """Issue 3: adj_close when present, else close, and the output says which."""
    rng = np.random.default_rng(0)
    from eventstudy.calendars.sessions import session_model_for

    days = session_model_for("7203.T").sessions("2025-01-06", "2026-02-27")
    rows = []
    for t in ["7203.T", "1306.T"]:
        px = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        for d, p in zip(days, px):
            rows.append({"date": d.date().isoformat(), "ticker": t, "close": p, "adj_close": p * 0.99})
    path = tmp_path / "p.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    uni = tmp_path / "u.csv"
    uni.write_text("ticker,name,group,benchmark,exchange\n7203.T,Toyota,autos,1306.T,XTKS\n")
    ev = tmp_path / "e.csv"
    ev.write_text("event_id,date,time,timezone,label,category,source\nban,2026-01-06,16:25,Asia/Shanghai,x,EXC,s\n")
    code = main(["run", "--prices", str(path), "--universe", str(uni), "--events", str(ev),
                 "--out", str(tmp_path / "o"), "--no-report", "--window=0,0"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "adj_close" in err and "p.csv" in err


def test_yahoo_returning_nothing_for_every_ticker_fails_fast(tmp_path, capsys, monkeypatch):
    """yfinance can hide a failed connection behind per-ticker 'possibly delisted' messages and
    return an all-NaN frame: the run must still stop with the offline options, not estimate nothing."""
    import eventstudy.data.yahoo as y

    def nothing(tickers, *a, **k):
        names = tickers.split() if isinstance(tickers, str) else list(tickers)
        cols = pd.MultiIndex.from_product([["Adj Close", "Close", "High", "Low", "Open", "Volume"], names],
                                          names=["Price", "Ticker"])
        idx = pd.DatetimeIndex(pd.bdate_range("2025-01-06", periods=3), name="Date")
        return pd.DataFrame(np.nan, index=idx, columns=cols)

    orig = y.YahooSource.__init__

    def init(self, *a, **k):
        k["downloader"] = nothing
        k["sleep"] = lambda s: None
        orig(self, *a, **k)

    monkeypatch.setattr(y.YahooSource, "__init__", init)
    code, err = _run_err(["run", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "no prices for any of the" in err and "--offline" in err
    assert not (tmp_path / "o").exists()


def test_event_only_outside_the_offline_market(tmp_path, capsys):
    ev = tmp_path / "events.csv"
    ev.write_text("event_id,date,time,timezone,label,category,source\nfuture,2027-06-01,,Asia/Tokyo,y,EXC,s\n")
    code, err = _run_err(["run", "--offline", "--events", str(ev), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "covers only its own period" in err and "use --offline" not in err


def test_unknown_report_format_is_refused_before_the_study_runs(tmp_path, capsys, monkeypatch):
    import eventstudy.pipeline.study as pipeline

    def no_run(*a, **k):                                 # the study must not start
        raise AssertionError("run_study was called")

    monkeypatch.setattr(pipeline, "run_study", no_run)
    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), "--format", "md,pdf"]) == 2
    err = capsys.readouterr().err
    assert "--format 'pdf': choose from md, html, latex, csv" in err
    assert not out.exists()


def test_negative_bootstrap_is_refused_before_the_study_runs(tmp_path, capsys, monkeypatch):
    import eventstudy.pipeline.study as pipeline

    monkeypatch.setattr(pipeline, "run_study", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), "--bootstrap", "-3"]) == 2
    assert "--bootstrap -3: give a number of draws >= 0" in capsys.readouterr().err
    assert not out.exists()


def test_headline_title_names_the_lead_window(tmp_path, capsys):
    """With windows [0,0] and [0,3] ([0,1] not computed) the terminal headline is over [0,0]."""
    assert main(["run", "--offline", "--out", str(tmp_path / "o"), "--window=0,0", "--window=0,3",
                 "--no-report", "--hypotheses", "none"]) == 0       # the study's hypotheses declare [0,1]
    out = capsys.readouterr().out
    assert "Headline: CAAR (%) [0,0]" in out and "[0,1]" not in out
    assert "SIMULATED" in out.split("Headline")[0].splitlines()[-1]


def test_group_left_without_prices_gives_one_warning_read_as_a_message(tmp_path, capsys):
    """When the only control stock has no prices the cross-section has one group: it is skipped with one
    warning (not one per event and window), printed as a message without Python's file and line."""
    uni = pd.read_csv(REPO / "eventstudy" / "study" / "china_japan" / "universe.csv")
    extra = pd.DataFrame([{"ticker": "9999.T", "name": "No Such Co", "group": "control", "benchmark": "1306.T",
                           "exchange": "XTKS", "rationale": "test"}])
    path = tmp_path / "universe.csv"
    pd.concat([uni[uni.ticker == "7203.T"], extra]).to_csv(path, index=False)
    assert main(["run", "--offline", "--universe", str(path), "--out", str(tmp_path / "o"), "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "9999.T: no prices: not in the bundled simulated market" in err
    assert err.count("eventstudy: warning: cross-sectional regressions skipped") == 1
    assert "only rare_earth_magnets has estimated pairs" in err
    assert "UserWarning" not in err and ".py:" not in err


def test_run_computes_the_impact_table_once_for_headline_and_report(tmp_path, monkeypatch):
    import eventstudy.present.tables as T
    calls = []
    real = T.impact_table

    def counted(*a, **k):
        calls.append(k)
        return real(*a, **k)
    monkeypatch.setattr(T, "impact_table", counted)
    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), "--window=0,1", "--format", "csv"]) == 0
    assert len(calls) == 1
    imp = pd.read_csv(out / "impact_table.csv", comment="#")         # the report still has it
    assert set(imp["window_start"]) == {0} and len(imp) > 0


def test_out_that_is_a_file_is_refused_before_the_study_runs(tmp_path, capsys, monkeypatch):
    import eventstudy.pipeline.study as pl
    monkeypatch.setattr(pl, "run_study", lambda *a, **k: pytest.fail("the study ran"))
    f = tmp_path / "results"
    f.write_text("not a folder")
    assert main(["run", "--offline", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert "--out folder" in err and "is a file" in err and "Traceback" not in err
    assert main(["run", "--offline", "--out", str(f / "sub")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert f.read_text() == "not a folder"


def test_write_csvs_names_a_bad_folder(tmp_path):
    from eventstudy.errors import EventStudyError
    from eventstudy.outputs.csvs import write_csvs
    f = tmp_path / "x"
    f.write_text("")
    with pytest.raises(EventStudyError, match="output folder .* is a file"):
        write_csvs(object(), f)
