"""The bad-input and fault catalogue (issue 20): one case per row, as a hostile user would try them.

Each CLI row asserts the exit status, that the message names the culprit (file, line, ticker, date,
option) and the fix, that there is no traceback, and that nothing was written or deleted that
should not be. Library rows assert the exception and its message. Fault rows (kill -9, a full
disk, two runs at once, a second run into a folder) assert that the output folder is either the
complete set (checked against its manifest) or absent, never torn or mixed.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from eventstudy.cli import main
from eventstudy.errors import EventStudyError
from eventstudy.outputs.runfolder import MANIFEST, RunFolder, verify_run_folder

HEADER = "event_id,date,time,timezone,label,category,source\n"
SMALL_UNIVERSE = ("ticker,name,group,benchmark,exchange\n"
                  "7203.T,Toyota,rare_earth_magnets,1306.T,XTKS\n7267.T,Honda,rare_earth_magnets,1306.T,XTKS\n"
                  "9432.T,NTT,control,1306.T,XTKS\n9433.T,KDDI,control,1306.T,XTKS\n")
BAN = "dual_use_ban,2026-01-06,16:25,Asia/Shanghai,MOFCOM bans dual-use exports,EXC,https://example.com/ban\n"
FAST = ["--window=0,0", "--no-report"]


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _events(tmp: Path, *rows: str) -> str:
    return _write(tmp / "events.csv", HEADER + "".join(r if r.endswith("\n") else r + "\n" for r in rows))


def _universe(tmp: Path, text: str = SMALL_UNIVERSE) -> str:
    return _write(tmp / "universe.csv", text)


def _prices(tmp: Path, tickers=("7203.T", "1306.T"), end="2026-02-27", spike: float | None = None) -> str:
    """A long price file on the Tokyo calendar; ``spike`` puts one price of 7203.T at that value."""
    from eventstudy.calendars.sessions import session_model_for

    rng = np.random.default_rng(0)
    days = session_model_for("7203.T").sessions("2025-01-06", end)
    rows = []
    for t in tickers:
        px = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        if spike is not None and t == "7203.T":
            px[len(px) // 2] = spike
        rows += [{"date": d.date().isoformat(), "ticker": t, "close": p} for d, p in zip(days, px)]
    path = tmp / "prices.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


@dataclass
class Case:
    """One row: ``argv(tmp)`` builds the command line; ``expect`` are regexes the message must match
    (the culprit and the fix); ``code`` the exit status; ``check(tmp)`` extra assertions on disk."""

    id: str
    argv: Callable[[Path], list[str]]
    expect: list[str]
    code: int = 2
    check: Callable[[Path], None] | None = None
    out_absent: bool = True          # the --out folder must not exist afterwards
    marks: list = field(default_factory=list)


def _out(tmp: Path) -> str:
    return str(tmp / "o")


def _run_offline(*extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["run", "--offline", "--out", _out(tmp), *extra]


def _ev(*rows: str, extra=()) -> Callable[[Path], list[str]]:
    return lambda tmp: ["run", "--offline", "--events", _events(tmp, *rows), "--out", _out(tmp), *FAST, *extra]


def _user_files_kept(tmp: Path) -> None:
    o = tmp / "o"
    assert (o / "car.csv" / "mine.txt").read_text() == "mine" and (o / "notes.txt").read_text() == "keep"


def _prepare_user_folder(tmp: Path) -> list[str]:
    (tmp / "o" / "car.csv").mkdir(parents=True)
    (tmp / "o" / "car.csv" / "mine.txt").write_text("mine")
    (tmp / "o" / "notes.txt").write_text("keep")
    return ["run", "--offline", "--out", _out(tmp), *FAST]


def _prepare_user_parquet(tmp: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cache = tmp / "cache"
    cache.mkdir()
    pq.write_table(pa.table({"date": ["2025-01-06"], "close": [1.0]}), cache / "7203.T.parquet")
    (tmp / "before").write_bytes((cache / "7203.T.parquet").read_bytes())
    return ["run", "--cache-dir", str(cache), "--universe", _universe(tmp), "--events", _events(tmp, BAN),
            "--out", _out(tmp), *FAST]


def _user_parquet_kept(tmp: Path) -> None:
    assert (tmp / "cache" / "7203.T.parquet").read_bytes() == (tmp / "before").read_bytes()


CASES = [
    # ---------------------------------------------------------------- events file (handled before; kept handled)
    Case("events-missing", lambda tmp: ["run", "--offline", "--events", str(tmp / "nope.csv"), "--out", _out(tmp)],
         [r"nope\.csv", r"does not exist", r"check the path"]),
    Case("events-not-utf8", lambda tmp: ["run", "--offline", "--events",
                                         str((tmp / "e.csv").write_bytes(HEADER.encode() + b"x,2026-01-06,,,\xff\xfe,POL,s\n")
                                             and tmp / "e.csv"), "--out", _out(tmp)],
         [r"e\.csv", r"line 2", r"not UTF-8", r"CSV UTF-8"]),
    Case("events-missing-column", lambda tmp: ["run", "--offline", "--events",
                                               _write(tmp / "e.csv", "event_id,date\nx,2026-01-06\n"), "--out", _out(tmp)],
         [r"e\.csv", r"line 1", r"missing required column", r"timezone"]),
    Case("events-duplicate-id", _ev(BAN, BAN), [r"events\.csv", r"line 3", r"dual_use_ban", r"rename one"]),
    Case("events-unknown-timezone", _ev("x,2026-01-06,16:25,Asia/Tokio,l,POL,s"),
         [r"events\.csv", r"line 2", r"Asia/Tokio", r"IANA|Asia/Tokyo"]),
    Case("events-bad-time", _ev("x,2026-01-06,25:61,Asia/Tokyo,l,POL,s"), [r"line 2", r"25:61", r"HH:MM"]),
    Case("events-unbalanced-quote", _ev('x,2026-01-06,,Asia/Tokyo,"unclosed label,POL,s', BAN),
         [r"events\.csv', line 2", r"a quote \(\"\) opened on this line is not closed", r"close the quote"]),
    Case("events-1mb-label", _ev("x,2026-01-06,,Asia/Tokyo," + "y" * 1_000_000 + ",POL,s"),
         [r"events\.csv', line 2", r"a field is longer than 131,072 characters", r"shorten it"]),
    # ---------------------------------------------------------------- dates (issue 20)
    Case("date-does-not-exist", _ev("x,2026-02-30,,Asia/Tokyo,l,POL,s"),
         [r"events\.csv', line 2", r"2026-02-30", r"the day does not exist, 2026-02 has 28 days"]),
    Case("date-month-13", _ev("x,2026-13-01,,Asia/Tokyo,l,POL,s"), [r"line 2", r"month 13 does not exist"]),
    *[Case(f"date-year-{y}", _ev(f"x,{y}-06-01,,Asia/Tokyo,l,POL,s"),
           [r"line 2", rf"{y}-06-01", rf"year {int(y)} is outside the dates the library handles", r"check the year"])
      for y in ("1677", "2262", "9999", "0001")],
    # ---------------------------------------------------------------- options
    Case("window-huge", _run_offline("--window=0,100000"), [r"\[0,100000\]", r"at most 10,000 trading days",
                                                             r"shorter window"]),
    Case("window-reversed", _run_offline("--window=3,0"), [r"\[3,0\]", r"START must not be after END"]),
    Case("estimation-bad", _run_offline("--estimation=x,1"), [r"estimation", r"whole numbers"]),
    Case("estimation-overlap-suggests-a-valid-fix", _run_offline("--estimation=10,20", "--window=0,0"),
         [r"\[10,20\] overlaps event window \[0,0\]", r"--estimation=-11,-1\)"]),
    Case("estimation-too-short-for-the-model", _run_offline("--estimation=-5,-3", "--model", "factor", *FAST),
         [r"estimation window \[-5,-3\] has 3 trading days", r"factor model needs at least 6",
          r"--estimation=-8,-3"]),
    Case("seed-negative", _run_offline("--seed", "-1"), [r"--seed -1", r"whole number from 0"]),
    Case("bootstrap-negative", _run_offline("--bootstrap", "-3"), [r"--bootstrap -3", r"number of draws >= 0"]),
    Case("bootstrap-huge", _run_offline("--bootstrap", "1000000000"),
         [r"--bootstrap 1000000000", r"at most 10,000,000 draws", r"24\.0 GB", r"use 9999"]),
    Case("bootstrap-beyond-int64", _run_offline("--bootstrap", str(2 ** 70)), [r"at most 10,000,000 draws"]),
    Case("format-unknown", _run_offline("--format", "md,pdf"), [r"--format 'pdf'", r"choose from"]),
    Case("two-sources", _run_offline("--prices", "p.csv"), [r"--offline or --prices"]),
    Case("factor-is-benchmark", _run_offline("--model", "factor", "--factor", "1306.T", *FAST),
         [r"factor 1306\.T is already the benchmark of 7203\.T", r"singular", r"choose another factor"]),
    Case("factor-is-instrument", _run_offline("--model", "factor", "--factor", "7203.T", *FAST),
         [r"factor 7203\.T is also an instrument of the universe", r"regressed on itself", r"drop it"]),
    # ---------------------------------------------------------------- output folder
    Case("out-empty", lambda tmp: ["run", "--offline", "--out", ""], [r"--out folder is empty", r"--out results"]),
    Case("out-is-file", lambda tmp: ["run", "--offline", "--out", _write(tmp / "o", "x")],
         [r"--out folder .*o is a file", r"give a folder"], out_absent=False,
         check=lambda tmp: (tmp / "o").read_text() == "x"),
    Case("out-is-the-current-folder", lambda tmp: (os.chdir(tmp), ["run", "--offline", "--out", ".", *FAST])[1],
         [r"is the current folder", r"give a subfolder"], out_absent=False),
    Case("out-holds-user-files", _prepare_user_folder,
         [r"--out folder .*o holds 2 item\(s\) an eventstudy run did not write", r"car\.csv/", r"notes\.txt",
          r"move them elsewhere"], out_absent=False, check=_user_files_kept),
    Case("events-csv-is-folder", lambda tmp: ["events", "--csv", str(tmp)], [r"events --csv .* is a folder",
                                                                               r"give a file name"]),
    Case("events-csv-empty", lambda tmp: ["events", "--csv", ""], [r"events --csv is empty"]),
    # ---------------------------------------------------------------- universe
    Case("group-named-all", lambda tmp: ["run", "--offline", "--universe",
                                         _universe(tmp, SMALL_UNIVERSE.replace("control", "all")), "--out", _out(tmp), *FAST],
         [r"group 'all' \(9432\.T, 9433\.T\)", r"pooled group", r"rename it"]),
    # ---------------------------------------------------------------- prices
    Case("price-overflow", lambda tmp: ["run", "--prices", _prices(tmp, spike=1e308), "--universe",
                                        _universe(tmp, SMALL_UNIVERSE.splitlines(True)[0] + SMALL_UNIVERSE.splitlines(True)[1]),
                                        "--events", _events(tmp, BAN), "--out", _out(tmp), *FAST],
         [r"return of 7203\.T on \d{4}-\d\d-\d\d is [\d.]+e\+30\d", r"factor above 1,000", r"check that ticker's prices"]),
    Case("events-after-the-data", lambda tmp: ["run", "--prices", _prices(tmp, end="2026-02-27"), "--universe",
                                               _universe(tmp, SMALL_UNIVERSE.splitlines(True)[0]
                                                         + SMALL_UNIVERSE.splitlines(True)[1]),
                                               "--events", _events(tmp, "late,2026-03-10,,Asia/Tokyo,l,POL,s"),
                                               "--out", _out(tmp), *FAST],
         [r"no event has a day 0", r"late \(2026-03-10\)", r"to 2026-02-27", r"7203\.T",
          r"after the data's last date"]),
    Case("ticker-302-characters-on-the-yahoo-cache-path",
         lambda tmp: ["run", "--cache-dir", str(tmp / "cache"), "--universe",
                      _universe(tmp, SMALL_UNIVERSE + "X" * 302 + ",Long,control,1306.T,XTKS\n"),
                      "--events", _events(tmp, BAN), "--out", _out(tmp), *FAST],
         [r"X{302}: no prices"], code=0, out_absent=False,
         check=lambda tmp: all(len(p.name) <= 255 for p in (tmp / "cache").iterdir())),
    Case("cache-holds-user-parquet", _prepare_user_parquet,
         [r"7203\.T\.parquet is in the price cache folder but eventstudy did not write it", r"left untouched",
          r"Move it out", r"--cache-dir"], check=_user_parquet_kept),
]


def _no_debris(tmp: Path) -> None:
    """No staging folder, replaced folder, lock file or temporary file left beside or in --out."""
    left = [p.name for p in tmp.iterdir() if ".eventstudy-" in p.name or p.name.endswith(".tmp")]
    assert not left, left


@pytest.fixture
def offline_yahoo(monkeypatch):
    """Yahoo Finance answered by the bundled simulated market (no network in tests)."""
    import eventstudy.data.yahoo as y
    from eventstudy.data.offline import OfflineSource

    sim = OfflineSource()

    def download(tickers, start=None, end=None, **kw):
        names = list(tickers)
        p = sim.get(names, start, pd.Timestamp(end) - pd.Timedelta(days=1))
        wide = p.frame.pivot(index="date", columns="ticker", values="price").reindex(columns=names)
        wide.index.name = "Date"
        cols = pd.MultiIndex.from_product([["Adj Close", "Close"], names], names=["Price", "Ticker"])
        return pd.DataFrame(np.hstack([wide.to_numpy(), wide.to_numpy()]), index=wide.index, columns=cols)

    orig = y.YahooSource.__init__

    def init(self, *a, **k):
        k["downloader"] = download
        k["sleep"] = lambda s: None
        k["progress"] = False
        orig(self, *a, **k)

    monkeypatch.setattr(y.YahooSource, "__init__", init)
    return download


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_catalogue(case: Case, tmp_path, capsys, offline_yahoo, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)            # a case may change the working folder
    argv = case.argv(tmp_path)
    code = main(argv)
    cap = capsys.readouterr()
    err = cap.err
    assert code == case.code, err
    assert "Traceback" not in err and "Traceback" not in cap.out
    for pattern in case.expect:
        assert __import__("re").search(pattern, err), (pattern, err)
    if case.out_absent:
        assert not (tmp_path / "o").exists()
    if case.check:
        case.check(tmp_path)
    _no_debris(tmp_path)


def test_unknown_kernel_backend_in_the_environment_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_KERNELS", "gpu")
    code = main(["run", "--offline", "--out", _out(tmp_path), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "EVENTSTUDY_KERNELS='gpu': set it to one of auto, numpy, compiled" in err and "unset it" in err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------- warnings, not errors
def test_group_named_futures_holding_stocks_is_named(tmp_path, capsys):
    uni = _universe(tmp_path, SMALL_UNIVERSE.replace("control", "futures"))
    code = main(["run", "--offline", "--universe", uni, "--out", _out(tmp_path), *FAST])
    err = capsys.readouterr().err
    assert code == 0, err
    assert ("group 'futures' is a special group left out of the pooled group 'all', but 9432.T, 9433.T look like "
            "equities") in err
    assert "rename the group" in err


def test_osaka_exchange_futures_in_the_futures_group_are_not_taken_for_equities():
    """Osaka Exchange lists only derivatives: NIKKEI225MINI.OSE (exchange OSE, or the .OSE suffix alone) in the
    group 'futures' draws no warning; a Tokyo stock there still does."""
    import warnings

    from eventstudy.pipeline.checks import check_study_inputs

    uni = pd.DataFrame({"ticker": ["NIKKEI225MINI.OSE", "NK225M.OSE", "7203.T"], "group": ["futures", "futures", "autos"],
                        "benchmark": ["1306.T"] * 3, "exchange": ["OSE", "", "XTKS"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_study_inputs(uni, pool_exclude=("futures",))
    with pytest.warns(UserWarning, match=r"but 7203.T look like equities"):
        check_study_inputs(uni.assign(group=["futures", "futures", "futures"]), pool_exclude=("futures",))


# ------------------------------------------------------------------------------------------- library rows
def _panel(n=300, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-01-01", periods=n)
    m = rng.normal(0, 0.01, n)
    return pd.DataFrame({"MKT": m, "A": 0.5 * m + rng.normal(0, 0.01, n), "B": m + rng.normal(0, 0.01, n)}, index=idx)


def _pairs(panel, group=("g", "g")):
    return pd.DataFrame({"ticker": ["A", "B"], "event_id": ["e", "e"], "day0": [panel.index[280]] * 2,
                         "group": list(group)})


def _lib_cases():
    from eventstudy.engine.model import EventStudy

    def es(panel=None, pairs=None, **kw):
        panel = _panel() if panel is None else panel
        kw.setdefault("benchmark", "MKT")
        return EventStudy(panel, _pairs(panel) if pairs is None else pairs, estimation=(-200, -11),
                          windows=[(0, 1)], **kw)

    p = _panel()
    return [
        ("returns-as-prices", lambda: es(100 * (1 + p).cumprod()), [r"'MKT' looks like price levels", r"pct_change"]),
        ("returns-in-percent", lambda: es(p * 100), [r"'MKT' looks like percentages", r"divide by 100"]),
        ("return-overflow", lambda: es(p.assign(A=p["A"].where(p.index != p.index[100], 1e306))),
         [r"return of A on 2024-05-20 is 1e\+306", r"factor above 1,000"]),
        ("duplicate-columns", lambda: es(pd.concat([p, p[["A"]]], axis=1)), [r"column 'A' twice", r"one column"]),
        ("nan-group", lambda: es(pairs=_pairs(p, ("g", np.nan))), [r"pairs of B have no group \(NaN\)"]),
        ("group-named-all", lambda: es(pairs=_pairs(p, ("all", "g"))), [r"group 'all' \(A\)", r"pooled group"]),
        ("own-benchmark", lambda: es(benchmark={"A": "A", "B": "MKT"}), [r"A is among its own regressors"]),
        ("factor-equal-benchmark", lambda: es(model="factor", factors={"A": ["MKT", "MKT"], "B": ["MKT", "MKT"]}),
         [r"regressor MKT is given twice", r"singular"]),
        ("factor-identical-to-security", lambda: es(p.assign(C=p["A"]), model="factor", factors=["MKT", "C"]),
         [r"regressor C has returns identical to A's", r"regressed on itself"]),
        ("seed-negative", lambda: es().fit(seed=-1), [r"seed=-1", r"whole number from 0"]),
        ("bootstrap-huge", lambda: es().fit(bootstrap=10 ** 12), [r"bootstrap=1000000000000", r"at most 10,000,000"]),
    ]


@pytest.mark.parametrize("case", _lib_cases(), ids=lambda c: c[0])
def test_library_catalogue(case):
    _, make, patterns = case
    with pytest.raises(EventStudyError) as info:
        make()
    for pattern in patterns:
        assert __import__("re").search(pattern, str(info.value)), (pattern, str(info.value))


def test_library_run_study_refuses_a_factor_that_is_an_instrument(offline_run):
    from eventstudy.pipeline.study import run_study

    with pytest.raises(EventStudyError, match=r"factor 7203\.T is also an instrument"):
        run_study(offline_run.events, offline_run.universe, offline_run.prices, model="factor",
                  extra_factors=("7203.T",))


def test_figure_names_of_ids_sanitised_alike_differ():
    from eventstudy.present.plots import safe_name as _safe_name

    assert _safe_name("a/b") != _safe_name("a:b") and _safe_name("a/b").startswith("a_b-")
    assert _safe_name("dual_use_ban") == "dual_use_ban"            # plain ids keep their names


# ------------------------------------------------------------------------------------------- cache
def test_long_ticker_gets_a_short_cache_file_name(tmp_path):
    from eventstudy.data.cache import PriceCache

    c = PriceCache(tmp_path)
    t = "^" + "X" * 301                                   # 302 characters
    frame = pd.DataFrame({"date": pd.bdate_range("2025-01-06", periods=3), "close": [1.0, 2, 3],
                          "adj_close": [1.0, 2, 3]})
    path = c.write(t, frame, "2025-01-06", "2025-01-08", source="test")
    assert len(path.name.encode()) <= 255
    assert c.read(t).frame["close"].tolist() == [1.0, 2.0, 3.0]
    other = "^" + "X" * 300 + "Y"                         # same prefix, another ticker: another file
    assert c.path_for(other) != path


def test_yahoo_topup_that_cannot_be_fetched_is_said(tmp_path):
    from eventstudy.data import PriceCache, YahooSource
    from eventstudy.data.base import PriceDataWarning

    c = PriceCache(tmp_path)
    days = pd.bdate_range("2025-01-06", "2025-01-17")
    c.write("7203.T", pd.DataFrame({"date": days, "close": np.arange(1.0, 11), "adj_close": np.arange(1.0, 11)}),
            "2025-01-06", "2025-01-17", source="test")

    def nothing(tickers, *a, **k):            # offline: yfinance returns an all-NaN frame
        cols = pd.MultiIndex.from_product([["Adj Close", "Close"], list(tickers)], names=["Price", "Ticker"])
        return pd.DataFrame(np.nan, index=pd.DatetimeIndex(days[:2], name="Date"), columns=cols)

    src = YahooSource(cache=c, downloader=nothing, progress=False, sleep=lambda s: None)
    with pytest.warns(PriceDataWarning, match=r"top-up could not be fetched for 1 cached ticker\(s\) "
                                              r"\(7203\.T \(cached to 2025-01-17\).*used alone"):
        p = src.get(["7203.T"], "2025-01-06", "2025-01-31")
    assert p.frame["date"].max() == pd.Timestamp("2025-01-17")


# ------------------------------------------------------------------------------------------- outputs safe to open
HOSTILE = ('"=HYPERLINK(""http://evil.example/x"",""click"")",2026-01-06,16:25,Asia/Shanghai,'
           '<script>alert(1)</script> [click](javascript:alert(2)),@SUM(A1),'
           '"https://example.com/x)<img src=x onerror=alert(4)>"\n')


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    ev = _events(tmp, HOSTILE)
    uni = _universe(tmp)
    old = os.umask(0o027)
    try:
        base = ["run", "--offline", "--events", ev, "--universe", uni, "--window=0,1", "--format", "md,csv"]
        assert main([*base, "--out", str(tmp / "safe")]) == 0
        assert main([*base, "--out", str(tmp / "raw"), "--raw-csv", "--no-report"]) == 0
    finally:
        os.umask(old)
    return tmp


def test_csv_text_cells_are_neutralised_numbers_are_not(hostile_runs):
    car = pd.read_csv(hostile_runs / "safe" / "car.csv", keep_default_na=False)
    assert set(car["event_id"]) == {"'=HYPERLINK(\"http://evil.example/x\",\"click\")"}
    assert (car["car"].astype(float) < 0).any()                  # negative numbers stay numbers
    raw = pd.read_csv(hostile_runs / "raw" / "car.csv", keep_default_na=False)
    assert set(raw["event_id"]) == {"=HYPERLINK(\"http://evil.example/x\",\"click\")"}
    assert raw["car"].tolist() == car["car"].tolist()
    for f in sorted((hostile_runs / "safe").glob("*.csv")):
        text = f.read_text()
        for line in text.splitlines():
            for cell in line.split(","):
                c = cell.strip('"')
                assert not (c[:1] in "=@" and c), (f.name, line)
    day0 = (hostile_runs / "safe" / "day0.csv").read_text()
    assert "'=HYPERLINK" in day0


def test_markdown_report_has_no_raw_html_from_user_text(hostile_runs):
    md = (hostile_runs / "safe" / "report.md").read_text()
    assert "<script" not in md and "<img" not in md
    assert not __import__("re").search(r"(?<!\\)\]\(javascript:", md)           # link syntax escaped
    assert "(https://example.com/x%29%3Cimg%20src=x%20onerror=alert%284%29%3E)" in md


def test_html_and_latex_still_escape(tmp_path):
    ev = _events(tmp_path, HOSTILE, "\\input{/etc/passwd}_&%,2026-01-06,16:25,Asia/Shanghai,"
                                    "<b onmouseover=alert(5)>x</b>,EXC,s")
    assert main(["run", "--offline", "--events", ev, "--universe", _universe(tmp_path), "--window=0,0",
                 "--format", "html,latex", "--out", str(tmp_path / "o")]) == 0
    html = (tmp_path / "o" / "report.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tex = (tmp_path / "o" / "tables.tex").read_text()
    assert "\\input{/etc/passwd}" not in tex and "textbackslash{}input\\{/etc/passwd\\}\\_\\&\\%" in tex


def test_files_get_the_users_permissions(hostile_runs, tmp_path):
    for f in (hostile_runs / "safe").rglob("*"):
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == (0o750 if f.is_dir() else 0o640), (f, oct(mode))
    assert stat.S_IMODE((hostile_runs / "safe").stat().st_mode) == 0o750
    from eventstudy.data.cache import PriceCache

    old = os.umask(0o022)
    try:
        p = PriceCache(tmp_path).write("7203.T", pd.DataFrame({"date": pd.bdate_range("2025-01-06", periods=2),
                                                               "close": [1.0, 2], "adj_close": [1.0, 2]}),
                                       "2025-01-06", "2025-01-07", source="t")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


# ------------------------------------------------------------------------------------------- a run is one unit
def _files(d: Path) -> set[str]:
    return {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()}


def test_second_run_replaces_the_whole_set_and_the_manifest_lists_it(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), "--window=0,0", "--format", "csv"]) == 0
    first = _files(out)
    assert "impact_table.csv" in first and verify_run_folder(out) == []
    assert main(["run", "--offline", "--out", str(out), "--window=0,0", "--no-report"]) == 0
    second = _files(out)
    assert "impact_table.csv" not in second                      # the earlier run's file is gone
    man = json.loads((out / MANIFEST).read_text())
    assert {f["path"] for f in man["files"]} | {MANIFEST} == second
    assert verify_run_folder(out) == []
    assert man["options"]["no_report"] is True and man["data"]["simulated"] is True
    assert man["versions"]["pandas"] == pd.__version__
    assert man["started_at"] <= man["finished_at"]
    import hashlib
    car = next(f for f in man["files"] if f["path"] == "car.csv")
    assert car["sha256"] == hashlib.sha256((out / "car.csv").read_bytes()).hexdigest()
    _no_debris(tmp_path)
    (out / "car.csv").write_text("tampered")
    assert verify_run_folder(out) == ["car.csv differs from the manifest (size or SHA-256)"]


def test_a_lock_stops_a_second_run_into_the_same_folder(tmp_path, capsys):
    out = tmp_path / "o"
    with RunFolder(out, "--out folder"):
        code = main(["run", "--offline", "--out", str(out), *FAST])
        err = capsys.readouterr().err
    assert code == 2 and "another eventstudy run (pid" in err and "choose another --out folder" in err
    assert not out.exists()
    _no_debris(tmp_path)


def test_full_disk_midway_leaves_the_earlier_set_intact(tmp_path, capsys, monkeypatch):
    import eventstudy.io_utils as io_utils

    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), *FAST]) == 0
    before = {f: (out / f).read_bytes() for f in _files(out)}
    real = io_utils.atomic_write_with              # every file of a run goes through it (bytes or streamed)
    calls = []

    def full(path, write):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, write)

    monkeypatch.setattr(io_utils, "atomic_write_with", full)
    code = main(["run", "--offline", "--out", str(out), "--window=0,1", "--no-report"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "No space left on device" in err and "Nothing in" in err and "free some space" in err
    assert {f: (out / f).read_bytes() for f in _files(out)} == before     # the earlier, complete set
    assert verify_run_folder(out) == []
    _no_debris(tmp_path)


@pytest.mark.parametrize("earlier", [False, True], ids=["fresh-folder", "over-an-earlier-run"])
def test_kill_9_mid_write_leaves_no_complete_looking_set(tmp_path, earlier):
    out = tmp_path / "o"
    if earlier:
        assert main(["run", "--offline", "--out", str(out), *FAST]) == 0
        before = {f: (out / f).read_bytes() for f in _files(out)}
    proc = subprocess.Popen([sys.executable, "-m", "eventstudy.cli", "run", "--offline", "--out", str(out),
                             "--window=0,1", "--format", "md"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        staged = []
        while time.monotonic() < deadline and proc.poll() is None:
            staged = [p for p in tmp_path.glob(".o.eventstudy-incomplete-*") if (p / "car.csv").exists()]
            if staged:
                break
            time.sleep(0.02)
        assert staged, "the run never reached its writing stage"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (staged[0] / MANIFEST).exists()               # the killed set is marked incomplete by its folder
    if earlier:
        assert {f: (out / f).read_bytes() for f in _files(out)} == before and verify_run_folder(out) == []
    else:
        assert not out.exists()
    # the next run takes the folder over (the lock died with the process) and removes the debris
    assert main(["run", "--offline", "--out", str(out), *FAST]) == 0
    assert verify_run_folder(out) == []
    _no_debris(tmp_path)


def test_library_write_run_is_one_unit_too(offline_run, tmp_path):
    from eventstudy.outputs.runfolder import write_run

    out = tmp_path / "lib"
    paths = write_run(offline_run, out, report=False, info={"note": "from a notebook"})
    assert paths["car.csv"] == out / "car.csv" and (out / "car.csv").is_file()
    assert verify_run_folder(out) == []
    assert json.loads((out / MANIFEST).read_text())["note"] == "from a notebook"
    (out / "mine.txt").write_text("keep")
    with pytest.raises(EventStudyError, match=r"holds 1 item\(s\) an eventstudy run did not write \(mine\.txt\)"):
        write_run(offline_run, out, report=False)
    assert (out / "mine.txt").read_text() == "keep"
    _no_debris(tmp_path)


def test_firm_events_run_is_one_unit_with_a_manifest(tmp_path, capsys):
    f = _write(tmp_path / "firm.csv", "ticker,date\n7203.T,2025-11-14\n9432.T,2025-12-01\n=7267.T,2025-12-01\n")
    out = tmp_path / "o"
    code = main(["run", "--firm-events", f, "--offline", "--benchmark", "1306.T", "--window=0,0", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert verify_run_folder(out) == []
    man = json.loads((out / MANIFEST).read_text())
    assert man["options"]["firm_events"] == f and {x["path"] for x in man["files"]} >= {"car.csv", "tests.csv"}
    text = (out / "exclusions.csv").read_text()
    assert "'=7267.T" in text and ",=7267" not in text and not text.startswith("=")     # neutralised
    _no_debris(tmp_path)


@pytest.mark.parametrize("cell, expected", [
    ("=1+1", "'=1+1"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-0.5", "-0.5"), ("+3e-4", "+3e-4"), ("-12%", "-12%"), ("-", "-"), ("+", "+"),
    ("plain", "plain"), ("", ""), ("−1.2", "−1.2"),
])
def test_spreadsheet_rule_cell_by_cell(cell, expected):
    from eventstudy.io_utils import spreadsheet_safe, spreadsheet_safe_text

    assert spreadsheet_safe_text(cell) == expected
    df = pd.DataFrame({"text": [cell], "num": [-1.5]})
    out = spreadsheet_safe(df)
    assert out["text"].iloc[0] == expected and out["num"].iloc[0] == -1.5
    assert df["text"].iloc[0] == cell                                  # the caller's frame is not changed


def test_spreadsheet_safe_on_many_repeated_cells_equals_the_cell_rule():
    """Columns of a few names over many rows (object with missing cells, pyarrow strings, categorical): the
    distinct values are checked once, and the result equals the rule applied to every cell; a frame
    without formula-like text comes back as itself."""
    from eventstudy.io_utils import spreadsheet_safe, spreadsheet_safe_text

    rng = np.random.default_rng(3)
    names = np.array(["7203.T", "=HYPERLINK(x)", "-0.5", "@SUM(A1)", "plain"], dtype=object)
    idx = rng.integers(0, len(names), 5_000)
    obj = names[idx].copy()
    obj[::97] = None
    df = pd.DataFrame({"obj": obj, "arrow": pd.array(names[idx], dtype="string[pyarrow]"),
                       "cat": pd.Categorical(names[idx]), "x": rng.normal(size=5_000)})
    out = spreadsheet_safe(df)
    for c in ("obj", "arrow", "cat"):
        exp = [spreadsheet_safe_text(v) if isinstance(v, str) else v for v in df[c].astype(object)]
        got = list(out[c].astype(object))
        assert [g if isinstance(g, str) else None for g in got] == [e if isinstance(e, str) else None for e in exp], c
    safe = np.array(["7203.T", "0.5", "plain"], dtype=object)[idx % 3]
    clean = pd.DataFrame({"obj": safe, "arrow": pd.array(safe, dtype="string[pyarrow]"), "cat": pd.Categorical(safe)})
    assert spreadsheet_safe(clean) is clean
