"""Declared instruments, the file's own dates, any ticker text as a name (eventstudy.inputs.instruments)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.files import FileSource
from eventstudy.data.offline import OfflineSource
from eventstudy.errors import InstrumentError, WindowError
from eventstudy.inputs.events import load_events
from eventstudy.calendars.resolve import resolve_calendars
from eventstudy.inputs.instruments import declared_exchanges, load_instruments
from eventstudy.pipeline.study import run_study
from eventstudy.inputs.universe import load_universe

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

EVENTS = ("travel_advisory", "seafood_ban", "dual_use_ban")


def _small_study():
    u = load_universe()
    keep = ["NKD=F", "^N225"] + [t for g in ("tourism_consumption", "seafood_food", "control")
                                 for t in u.loc[u["group"] == g, "ticker"].head(4)]
    u = u[u["ticker"].isin(keep)].reset_index(drop=True)
    ev = load_events(REPO / "events.csv")
    ev = ev[ev["event_id"].isin(EVENTS)].reset_index(drop=True)
    return ev, u


def _bloomberg(t: str) -> str:
    if t.endswith(".T"):
        return f"{t[:-2]} JP Equity"
    return {"^N225": "NKY Index", "^GSPC": "SPX Index", "NKD=F": "NX1 Index"}[t]


def _plain(t: str) -> str:
    if t == "1306.T":
        return "BENCH"
    if t.endswith(".T"):
        return t[:-2]                                  # digits only
    return {"^N225": "nikkei 225", "^GSPC": "s&p/500", "NKD=F": "NKD"}[t]


def _renamed_run(tmp_path, ev, u, rename, instruments=None, name="p.csv", strict=True):
    prices = OfflineSource().get()
    frame = prices.frame.rename(columns={"price": "close"})
    frame = frame[frame["ticker"].isin(set(u["ticker"]) | set(u["benchmark"]))].copy()
    frame["ticker"] = frame["ticker"].map(rename)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    u2 = u.copy()
    u2["ticker"] = u2["ticker"].map(rename)
    u2["benchmark"] = u2["benchmark"].map(lambda b: rename(b) if b else b)
    u2["exchange"] = ""                                  # nothing declared in the universe
    with warnings.catch_warnings():
        if strict:
            warnings.simplefilter("error", category=UserWarning)   # e.g. "prices ... were dropped"
        return run_study(ev, u2, FileSource(path), instruments=instruments, regressions=False)


def _key(df: pd.DataFrame, back: dict[str, str]) -> pd.DataFrame:
    out = df.copy()
    for c in ("ticker", "benchmark"):
        if c in out.columns:
            out[c] = out[c].map(lambda t: back.get(t, t)).astype(object)
    sort = [c for c in ("event_id", "ticker", "group", "window_start", "test") if c in out.columns]
    return out.sort_values(sort).reset_index(drop=True)


def _same_results(a, b, back):
    for name in ("car", "tests", "params"):
        x = _key(getattr(a.result, name), {})
        y = _key(getattr(b.result, name), back)
        for c in x.columns:
            if x[c].dtype.kind in "fi":
                np.testing.assert_allclose(x[c].to_numpy(float), y[c].to_numpy(float), rtol=0, atol=1e-12, err_msg=f"{name}.{c}")
            else:
                assert list(x[c].astype(str)) == list(y[c].astype(str)), f"{name}.{c}"
    assert len(b.result.exclusions) == len(a.result.exclusions)


def test_yahoo_bloomberg_and_declared_plain_names_give_identical_results(tmp_path):
    ev, u = _small_study()
    ident = {t: t for t in set(u["ticker"]) | set(u["benchmark"]) if t}
    ref = _renamed_run(tmp_path, ev, u, ident.get, name="yahoo.csv")
    assert (ref.calendars["source"] != "file dates").all()

    # Bloomberg-style names: equities and indices read from the name; the futures declared
    bbg = {t: _bloomberg(t) for t in ident}
    b = _renamed_run(tmp_path, ev, u, bbg.get, name="bbg.csv",
                     instruments=pd.DataFrame({"ticker": ["NX1 Index"], "exchange": ["CME"], "kind": ["future"]}))
    cal = b.calendars.set_index("ticker")
    assert cal.loc["1306 JP Equity", "exchange"] == "XTKS" and cal.loc["1306 JP Equity", "source"] == "guessed"
    assert cal.loc["NKY Index", "exchange"] == "XTKS" and cal.loc["NKY Index", "source"] == "guessed"
    assert cal.loc["NX1 Index", "source"] == "declared"
    _same_results(ref, b, {v: k for k, v in bbg.items()})

    # plain names (digits only, lower case, spaces, a slash): declared in an instruments file
    plain = {t: _plain(t) for t in ident}
    inst = tmp_path / "instruments.csv"
    rows = [f'"{plain[t]}",{"CME" if t == "NKD=F" else ("XNYS" if t == "^GSPC" else "XTKS")},'
            f'{"future" if t == "NKD=F" else ""},' for t in ident]
    inst.write_text("ticker,exchange,kind,currency\n" + "\n".join(rows) + "\n")
    p = _renamed_run(tmp_path, ev, u, plain.get, instruments=load_instruments(inst), name="plain.csv")
    assert (p.calendars["source"] == "declared").all()
    _same_results(ref, p, {v: k for k, v in plain.items()})


def test_undeclared_plain_names_keep_their_own_dates_and_the_audit_says_so(tmp_path):
    ev, u = _small_study()
    ident = {t: t for t in set(u["ticker"]) | set(u["benchmark"]) if t}
    plain = {t: _plain(t) for t in ident}
    with pytest.warns(UserWarning) as seen:
        run = _renamed_run(tmp_path, ev, u, plain.get, name="plain.csv", strict=False)
    said = [str(w.message) for w in seen]
    assert len(said) == 1 and "have no confirmed exchange calendar and keep their own price dates" in said[0]
    cal = run.calendars.set_index("ticker")
    # 'BENCH' reads as a US symbol but trades on Tokyo dates: it keeps its own dates, nothing dropped
    assert cal.loc["BENCH", "exchange"] == "dates"
    assert "the name suggests XNYS, but" in cal.loc["BENCH", "note"]
    assert len(run.panel.sessions["BENCH"]) == (run.prices.frame["ticker"] == "BENCH").sum()
    d0 = run.day0[run.day0["ticker"] == "BENCH"]
    assert d0.empty or d0["reason"].str.contains("suggests XNYS").all()
    tk = run.day0[run.day0["ticker"] == "7203"] if (run.day0["ticker"] == "7203").any() else run.day0.iloc[:1]
    assert tk["reason"].str.contains("price dates|suggests").all()


def test_declared_exchange_contradicted_by_the_file_names_ticker_and_dates(tmp_path):
    ev, u = _small_study()
    ident = {t: t for t in set(u["ticker"]) | set(u["benchmark"]) if t}
    with pytest.raises(InstrumentError, match=r"1306\.T: declared XNYS, but \d+ of its \d+ price dates are not XNYS "
                                              r"sessions \(\d{4}-\d\d-\d\d"):
        _renamed_run(tmp_path, ev, u, ident.get, instruments={"1306.T": "NYSE"})


def test_instruments_file_problems_are_named_with_line(tmp_path):
    p = tmp_path / "i.csv"
    p.write_text("ticker,exchange\nA,XTKS\nB,MOON\nA,XNYS\n,XTKS\nC,\n")
    with pytest.raises(InstrumentError) as ei:
        load_instruments(p)
    msg = str(ei.value)
    assert f"Instruments file {p} has 4 problems" in msg
    assert "line 3: ticker 'B': unknown exchange 'MOON'" in msg
    assert "lines 2 and 4: ticker 'A' is declared twice" in msg
    assert "line 5: empty ticker" in msg
    assert "line 6: ticker 'C' has no exchange" in msg
    q = tmp_path / "j.csv"
    q.write_text("ticker,calendar\nA,XTKS\n")
    with pytest.raises(InstrumentError, match=r"line 1.*exchange"):
        load_instruments(q)
    with pytest.raises(InstrumentError, match="Instruments file .*missing.csv"):
        load_instruments(tmp_path / "missing.csv")


def test_universe_and_instruments_must_agree():
    u = pd.DataFrame({"ticker": ["A"], "exchange": ["XTKS"]})
    assert declared_exchanges(u, {"A": "tse", "B": "globex"}) == {"A": "XTKS", "B": "CME"}
    with pytest.raises(InstrumentError, match="ticker 'A': the universe declares exchange XTKS but the instruments declare XNYS"):
        declared_exchanges(u, {"A": "XNYS"})


def test_guesses_never_override_the_data():
    xtks = pd.DatetimeIndex(["2025-11-21", "2025-11-25", "2025-11-27"])   # 11-27: NYSE closed (Thanksgiving)
    cal = resolve_calendars({"AAPL": xtks, "7203.T": xtks, "X": xtks}, {"X": "dates"}).set_index("ticker")
    assert cal.loc["AAPL", "exchange"] == "dates" and "2025-11-27" in cal.loc["AAPL", "note"]
    assert cal.loc["7203.T", "exchange"] == "XTKS" and cal.loc["7203.T", "source"] == "guessed"
    assert cal.loc["X", "source"] == "declared" and cal.loc["X", "note"] == ""


def test_dates_with_times_zones_or_units_are_checked_as_their_dates():
    """Midnight nanosecond dates take a fast path; times of day, time zones and other units are normalised
    first, and every form gives the same calendar and the same dates named."""
    days = ["2025-11-21", "2025-11-25", "2025-11-27"]
    forms = [pd.DatetimeIndex(days),
             pd.DatetimeIndex(days) + pd.Timedelta(hours=15),
             pd.DatetimeIndex(days).tz_localize("Asia/Tokyo"),
             pd.DatetimeIndex(days).astype("datetime64[s]")]
    cals = [resolve_calendars({"AAPL": d, "7203.T": d}).set_index("ticker") for d in forms]
    for cal in cals:
        assert cal.loc["AAPL", "exchange"] == "dates" and "(2025-11-27)" in cal.loc["AAPL", "note"]
        assert cal.loc["7203.T", "exchange"] == "XTKS" and cal.loc["7203.T", "note"] == ""
        pd.testing.assert_frame_equal(cal, cals[0])


def test_benchmark_absent_from_prices_is_named(tmp_path):
    ev, u = _small_study()
    ident = {t: t for t in set(u["ticker"]) | set(u["benchmark"]) if t}
    u = u.copy()
    u.loc[u["ticker"] == "^N225", "benchmark"] = "^SPX_MISSING"
    run = _renamed_run(tmp_path, ev, u, lambda t: ident.get(t, t))
    ex = run.result.exclusions
    assert ex.loc[ex["ticker"] == "^N225", "reason"].str.contains("benchmark ^SPX_MISSING of ^N225 is not in the price data",
                                                                  regex=False).all()


def test_regressor_gap_is_blamed_on_the_regressor(tmp_path):
    ev, u = _small_study()
    ident = {t: t for t in set(u["ticker"]) | set(u["benchmark"]) if t}
    prices = OfflineSource().get()
    frame = prices.frame.rename(columns={"price": "close"})
    # the TOPIX ETF loses its price on the travel advisory's Tokyo day 0 (Mon 2025-11-17)
    frame = frame[~((frame["ticker"] == "1306.T") & (frame["date"] == pd.Timestamp("2025-11-17")))]
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="event travel_advisory"):
        run = run_study(ev, u, FileSource(path), regressions=False)
    ex = run.result.exclusions
    hit = ex[(ex["event_id"] == "travel_advisory") & ex["ticker"].str.endswith(".T")]
    assert len(hit) and hit["reason"].str.contains("benchmark 1306.T has no return for session 2025-11-17 (day +0)",
                                                   regex=False).all()


def _gap_file(tmp_path, dates):
    frame = OfflineSource().get().frame.rename(columns={"price": "close"})
    frame = frame[~((frame["ticker"] == "1306.T") & frame["date"].isin(pd.to_datetime(dates)))]
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    return path


def test_cells_without_a_testable_window_are_named_and_skipped(tmp_path):
    ev, u = _small_study()
    u = u[u["ticker"].str.endswith(".T")].reset_index(drop=True)
    path = _gap_file(tmp_path, ["2025-11-17"])
    with pytest.warns(UserWarning, match=r"3 event x group cell\(s\) have no pair with a complete event window in any "
                                         r"window and were not tested: event travel_advisory \(3 group\(s\).*benchmark "
                                         r"1306\.T has no return for session 2025-11-17 \(day \+0\)"):
        run = run_study(ev, u, FileSource(path), regressions=False)
    assert "travel_advisory" not in set(run.result.tests["event_id"])
    assert {"seafood_ban", "dual_use_ban"} <= set(run.result.tests["event_id"])
    # nothing testable at all: one sentence that says why (never "not computed (available: )")
    one = ev[ev["event_id"] == "travel_advisory"].reset_index(drop=True)
    with pytest.raises(WindowError, match=r"12 pair\(s\) were estimated, but none has a complete event window in any of "
                                          r"the windows \[0,0\], \[0,1\], \[-1,1\], \[0,5\], so no test could be computed; "
                                          r"most common reasons: \d+x benchmark 1306\.T has no return for session 2025-11-17"):
        run_study(one, u, FileSource(path), regressions=False)


def test_dates_written_as_utc_instants_become_each_exchanges_trading_dates(tmp_path):
    """A Tokyo file exported as UTC instants ('2025-11-16T15:00:00Z' is Tokyo's 11-17) gives the same
    study as plain dates: each instant is converted to its exchange's local date, not truncated in UTC."""
    ev, u = _small_study()
    ident = {t: t for t in set(u["ticker"]) | set(u["benchmark"]) if t}
    ref = _renamed_run(tmp_path, ev, u, ident.get, name="plain.csv")
    frame = OfflineSource().get().frame.rename(columns={"price": "close"})
    frame = frame[frame["ticker"].isin(set(ident))].copy()
    tz = {"NKD=F": "America/Chicago", "^GSPC": "America/New_York"}
    stamps = [pd.Timestamp(d).tz_localize(tz.get(t, "Asia/Tokyo")).tz_convert("UTC") for d, t in
              zip(frame["date"], frame["ticker"])]
    frame["date"] = [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in stamps]
    assert frame["date"].str.contains("T15:00:00Z").any()           # Tokyo midnight is the previous UTC day
    path = tmp_path / "utc.csv"
    frame.to_csv(path, index=False)
    run = run_study(ev, u, FileSource(path), regressions=False)
    _same_results(ref, run, {})
    # with no exchange known for a series, its dates stay the UTC dates, and a warning says so
    first = next(t for t in u["ticker"] if t.endswith(".T"))
    f2 = frame.copy()
    f2.loc[f2["ticker"] == first, "ticker"] = "MY STOCK"
    f2.to_csv(tmp_path / "utc2.csv", index=False)
    u2 = u.copy()
    u2.loc[u2["ticker"] == first, "ticker"] = "MY STOCK"
    u2["exchange"] = ""                                  # nothing declared
    with pytest.warns(UserWarning, match=r"prices of MY STOCK carry times with a timezone, but no exchange is known"):
        run_study(ev, u2, FileSource(tmp_path / "utc2.csv"), regressions=False)


def test_price_dates_with_timezones_are_read_as_instants_or_wall_clock_dates():
    from eventstudy.data.base import Prices, localise_price_dates
    from eventstudy.data.validate import validate_price_frame

    # text: local midnight with an offset is that date; other times are instants; offsets may be mixed
    df = pd.DataFrame({"date": ["2025-11-17 00:00+09:00", "2025-11-17T15:00:00Z", "2025-11-18T01:00:00+01:00"],
                       "ticker": ["A", "B", "B"], "close": [1.0, 2.0, 3.0]})
    f, _ = validate_price_frame(df, "t")
    assert f.loc[f["ticker"] == "A", "date"].iloc[0] == pd.Timestamp("2025-11-17")
    assert f.loc[f["ticker"] == "A", "instant"].isna().all()
    assert list(f.loc[f["ticker"] == "B", "date"]) == [pd.Timestamp("2025-11-17"), pd.Timestamp("2025-11-18")]  # UTC, for now
    # 2025-11-17T15:00Z is Tokyo 11-18 00:00; 2025-11-18T01:00+01:00 is 00:00Z = Tokyo 11-18 09:00: one trading date twice
    from eventstudy.errors import PriceDataError
    with pytest.raises(PriceDataError, match=r"two prices of B fall on the trading date 2025-11-18 .*Asia/Tokyo"):
        localise_price_dates(Prices(frame=f, field={"A": "close", "B": "close"}, source="t"), {"B": "Asia/Tokyo"})
    # a tz-aware column (e.g. a parquet of Tokyo dates stored in UTC) is converted the same way
    utc = pd.DatetimeIndex(["2025-11-16 15:00", "2025-11-17 15:00"]).tz_localize("UTC")
    g, _ = validate_price_frame(pd.DataFrame({"date": utc, "ticker": ["C", "C"], "close": [1.0, 2.0]}), "t")
    h = localise_price_dates(Prices(frame=g, field={"C": "close"}, source="t"), {"C": "Asia/Tokyo"}).frame
    assert list(h["date"]) == [pd.Timestamp("2025-11-17"), pd.Timestamp("2025-11-18")] and "instant" not in h
