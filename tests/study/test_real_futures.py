"""The futures hypothesis (H6) on real data: the OSE Nikkei 225 mini's daily closes added to the study's
universe (``--add-universe``), its day 0 from the OSE trading date, its benchmark aligned by close time,
and its abnormal return equal to an independent computation (statsmodels OLS on S&P returns compounded
here with a plain loop over each OSE close-to-close interval). Also: what ``--add-universe`` refuses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.cli import main
from eventstudy.errors import UniverseFileError
from eventstudy.inputs.universe import extend_universe, load_universe

REPO = Path(__file__).resolve().parents[2]
OSE_ROW = REPO / "eventstudy" / "study" / "china_japan" / "universe_ose_futures.csv"
FUT = "NIKKEI225MINI.OSE"


def _real_files(shared_dir: Path) -> tuple[Path, Path, Path]:
    m = shared_dir / "data" / "market"
    files = (m / "keroppa88_chart0_jquants_tse1025_ohlcv.csv", m / "mahoganin_ose_nk225mini_daily.csv",
             m / "keroppa88_chart0_limit_hits.csv")
    for f in files:
        if not f.exists():
            pytest.skip(f"{f.name} is not available")
    return files


def _independent_ar0(prices: Path, futures: Path) -> tuple[float, float, int, np.ndarray]:
    """(beta, AR on 2026-01-07, estimation days, residuals) of the OSE mini on ^GSPC: OSE closes at 15:45 JST (15:15
    before 2024-11-05) on the file's own trading dates, S&P compounded over the New York sessions closing in
    (OSE close t-1, OSE close t], market model on days -250..-11 of day 0."""
    import exchange_calendars as xcals
    import statsmodels.api as sm

    fu = pd.read_csv(futures, parse_dates=["date"]).set_index("date")["close"].sort_index()
    long = pd.read_csv(prices, usecols=["date", "ticker", "close"], parse_dates=["date"])
    sp = long[long["ticker"] == "^GSPC"].set_index("date")["close"].sort_index()
    d = fu.index
    close = np.array([pd.Timestamp(f"{x.date()} {'15:45' if x >= pd.Timestamp('2024-11-05') else '15:15'}",
                                   tz="Asia/Tokyo").tz_convert("UTC") for x in d])
    us = xcals.get_calendar("XNYS", start=str(sp.index[0].date()), end=str(sp.index[-1].date()))
    sp = sp.reindex(pd.DatetimeIndex(us.sessions).tz_localize(None))
    us_close = us.schedule["close"].to_numpy()
    r_sp = sp.pct_change(fill_method=None).to_numpy()
    r_fu = fu.pct_change(fill_method=None)
    x = pd.Series(np.nan, index=d)
    for i in range(1, len(d)):
        inside = (us_close > close[i - 1]) & (us_close <= close[i])
        x.iloc[i] = np.prod(1 + r_sp[inside]) - 1 if inside.any() else 0.0
    p0 = d.get_loc(pd.Timestamp("2026-01-07"))
    win = slice(p0 - 250, p0 - 10)
    df = pd.DataFrame({"y": r_fu.iloc[win], "x": x.iloc[win]}).dropna()
    ols = sm.OLS(df["y"], sm.add_constant(df["x"])).fit()
    return (float(ols.params["x"]), float(r_fu.iloc[p0] - ols.params["const"] - ols.params["x"] * x.iloc[p0]), len(df),
            np.asarray(ols.resid))


def test_h6_on_the_ose_futures_equals_an_independent_computation(shared_dir, tmp_path, capsys):
    prices, futures, limits = _real_files(shared_dir)
    out = tmp_path / "real"
    assert main(["run", "--prices", str(prices), "--prices", str(futures), "--add-universe", str(OSE_ROW),
                 "--limits", str(limits), "--out", str(out), "--format", "csv"]) == 0
    beta, ar0, m, resid = _independent_ar0(prices, futures)

    d0 = pd.read_csv(out / "day0.csv").set_index(["event_id", "ticker"])
    row = d0.loc[("dual_use_ban", FUT)]
    assert row["day0"] == "2026-01-07" and row["calendar"] == "OSE"
    assert "during OSE trading day 2026-01-07 (2026-01-06 17:00 JST – 2026-01-07 15:45 JST)" in row["reason"]
    assert "XNYS sessions closing in (OSE close t-1, OSE close t], compounded" in row["alignment"]

    params = pd.read_csv(out / "params.csv").set_index(["event_id", "ticker"]).loc[("dual_use_ban", FUT)]
    assert params["beta"] == pytest.approx(beta, rel=1e-9) and params["m_obs"] == m
    car = pd.read_csv(out / "car.csv").set_index(["event_id", "ticker", "window_start", "window_end"])
    assert car.loc[("dual_use_ban", FUT, 0, 0), "car"] == pytest.approx(ar0, abs=1e-12)

    pt = pd.read_csv(out / "primary_hypotheses.csv").set_index("hypothesis_id")
    h6 = pt.loc["H6"]
    assert h6["n"] == 1 and h6["verdict"] != "not estimated"
    assert h6["test"].startswith("portfolio dummy regression")
    # one event-day dummy on the estimation days: its coefficient is the market model's prediction error
    assert h6["estimate_pct"] == pytest.approx(100 * ar0, rel=1e-9)
    assert pt["p_holm"].notna().sum() == 7           # the whole declared family is tested
    # the GHK p beside it: the day-0 AR ranked among the estimation residuals, two-sided rank form
    below, above = (resid <= ar0).sum(), (resid >= ar0).sum()
    assert h6["ghk_p"] == pytest.approx(min(1.0, 2 * min(1 + below, 1 + above) / (len(resid) + 1)), rel=1e-12)
    assert pt.drop(index="H6")["ghk_p"].isna().all()  # equity groups: the Kolari–Pynnönen test only
    fut = pd.read_csv(out / "futures_table.csv", comment="#").set_index(["event_id", "subject_id", "window"])
    assert fut.loc[("dual_use_ban", "futures", "[0,0]"), "p_ghk"] == h6["ghk_p"]
    assert fut.loc[("dual_use_ban", "futures", "[0,0]"), "n_ghk"] == m


def test_added_universe_keeps_the_study_and_its_hypotheses(tmp_path, capsys):
    """Offline (no OSE prices in the simulated market): the added row is listed as without prices, the
    study's hypotheses still apply, and the futures group keeps the CME contracts."""
    out = tmp_path / "o"
    assert main(["run", "--offline", "--add-universe", str(OSE_ROW), "--out", str(out), "--no-report",
                 "--window=0,0"]) == 0
    ex = pd.read_csv(out / "exclusions.csv", keep_default_na=False)
    assert (ex.loc[ex["ticker"] == FUT, "reason"] == "no prices: not in the bundled simulated market").all()
    assert len(pd.read_csv(out / "primary_hypotheses.csv")) == 7
    u = extend_universe(load_universe(), [OSE_ROW])
    assert list(u["ticker"])[:-1] == list(load_universe()["ticker"]) and u["ticker"].iloc[-1] == FUT
    assert u.loc[u["ticker"] == FUT, "exchange"].iloc[0] == "OSE"


def test_extend_universe_refuses_a_ticker_twice_naming_both_places(tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_text("ticker,name,group,benchmark\nAAA,x,g,^GSPC\n7203.T,Toyota again,g,1306.T\n")
    with pytest.raises(UniverseFileError) as e:
        extend_universe(load_universe(), [dup])
    msg = str(e.value)
    assert str(dup) in msg and "line 3: ticker 7203.T is already in the universe" in msg
    assert "universe.csv, line " in msg                        # where it was first
    other = tmp_path / "other.csv"
    other.write_text("ticker,group,benchmark\nAAA,g2,^GSPC\n")
    with pytest.raises(UniverseFileError, match=r"other\.csv: line 2: ticker AAA is already in the universe "
                                                r"\(.*dup2\.csv, line 2\)"):
        (tmp_path / "dup2.csv").write_text("ticker,group,benchmark\nAAA,g,^GSPC\n")
        extend_universe(load_universe(), [tmp_path / "dup2.csv", other])


@pytest.mark.parametrize("case", ["duplicate", "missing", "bad_row", "firm_without_universe"])
def test_add_universe_bad_input_is_one_clear_line(tmp_path, capsys, case):
    bad = tmp_path / "add.csv"
    if case == "duplicate":
        bad.write_text("ticker,group,benchmark\n7203.T,g,1306.T\n")
        want = ["add.csv", "ticker 7203.T is already in the universe"]
    elif case == "missing":
        bad = tmp_path / "nope.csv"
        want = ["nope.csv"]
    elif case == "bad_row":
        bad.write_text("ticker,group,benchmark\n9999.T,g,\n")
        want = ["add.csv", "line 2", "9999.T has no benchmark"]
    args = ["run", "--offline", "--add-universe", str(bad), "--out", str(tmp_path / "o"), "--no-report"]
    if case == "firm_without_universe":
        firm = tmp_path / "firm.csv"
        firm.write_text("ticker,date\n7203.T,2025-11-17\n")
        args = ["run", "--offline", "--firm-events", str(firm), "--benchmark", "1306.T", "--add-universe",
                str(OSE_ROW), "--out", str(tmp_path / "o"), "--no-report"]
        want = ["--add-universe", "--universe FILE"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in want:
        assert w in err, (w, err)
    assert not (tmp_path / "o").exists()
