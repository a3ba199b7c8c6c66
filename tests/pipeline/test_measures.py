"""The measures on a study run: pipeline, files and report section, the CLI, and the real J-Quants data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.cli import main
from eventstudy.errors import EventStudyError
from eventstudy.outputs.measures import add_measures_to_report, write_measures
from eventstudy.pipeline.measures import parse_measures, run_measures

JQ = "data/market/keroppa88_chart0_jquants_tse1025_ohlcv.csv"


def test_parse_measures():
    assert parse_measures(None) == ("returns",)
    assert parse_measures(["volatility", "returns,volume"]) == ("returns", "volume", "volatility")
    with pytest.raises(EventStudyError, match="unknown measure 'price'"):
        parse_measures("volume,price")


def _synthetic_volume(run, seed=0) -> pd.DataFrame:
    """Lognormal volume for the run's equities (not the index or futures), on the panel's dates."""
    rng = np.random.default_rng(seed)
    ticks = [t for t in run.panel.returns.columns if t.endswith(".T")]
    idx = run.panel.returns.index
    return pd.DataFrame(np.round(np.exp(rng.normal(12, 0.4, (len(idx), len(ticks))))), index=idx, columns=ticks)


def test_volume_measure_on_a_run_and_its_files(offline_run, tmp_path):
    vol = _synthetic_volume(offline_run)
    mr = run_measures(offline_run, "volume", volume=vol, volume_source="synthetic")
    assert mr.measures == ("returns", "volume") and mr.volatility is None
    # same pairs as the returns study where there is volume; the rest listed with the reason
    est = offline_run.result.params[["ticker", "event_id"]]
    got = set(zip(mr.volume.params["ticker"], mr.volume.params["event_id"]))
    want = {(t, e) for t, e in zip(est["ticker"], est["event_id"]) if t in vol.columns}
    assert got == want
    assert set(mr.volume_excluded["ticker"]) == set(est["ticker"]) - set(vol.columns)
    assert (mr.volume_excluded["reason"] == "no volume in the volume data").all()
    # single-instrument groups keep no cross-sectional statistic; equity cells have one
    tests = mr.volume.tests
    for g in offline_run.config.pool_exclude:
        assert tests.loc[(tests["group"] == g) & (tests["test"] == "bmp"), "p_value"].isna().all()
    assert tests.loc[(tests["group"] == "all") & (tests["test"] == "kolari_pynnonen"), "p_value"].notna().all()
    (tmp_path / "report.md").write_text("# Report\n\nbody\n")
    (tmp_path / "report.html").write_text("<html><body><main>x<footer>f</footer></main></body></html>")
    w = write_measures(offline_run, mr, tmp_path, (0, 1))
    for name in ("volume_abnormal.csv", "volume_car.csv", "volume_tests.csv", "volume_params.csv",
                 "volume_exclusions.csv", "figures/volume_paths.png", "report.md", "report.html"):
        assert name in w and (tmp_path / name).exists()
    car = pd.read_csv(tmp_path / "volume_car.csv")
    assert car["bhar"].isna().all() and {"car", "car_se", "scar"} <= set(car.columns)
    md = (tmp_path / "report.md").read_text()
    assert md.count("## Volume and volatility") == 1
    html = (tmp_path / "report.html").read_text()
    assert html.index('id="measures"') < html.index("<footer>")
    add_measures_to_report(offline_run, mr, tmp_path, (0, 1))        # replaced, not added twice
    assert (tmp_path / "report.md").read_text().count("## Volume and volatility") == 1
    # the pivot's cell is the cell of tests.csv: exp(CAAV / L) - 1 in %, stars from Kolari-Pynnonen
    t = tests[(tests["test"] == "kolari_pynnonen") & (tests["window_start"] == 0) & (tests["window_end"] == 1)
              & (tests["group"] == "all")].iloc[0]
    cell = f"{100 * np.expm1(t['caar'] / 2):+.0f}%"
    assert cell in md


def test_cli_measure_errors(tmp_path, capsys):
    assert main(["run", "--offline", "--measure", "volume", "--out", str(tmp_path / "o")]) == 2
    assert "--measure volume needs trading volume" in capsys.readouterr().err
    assert main(["run", "--offline", "--measure", "speed", "--out", str(tmp_path / "o")]) == 2
    assert "unknown measure 'speed'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_volatility_offline(tmp_path):
    from eventstudy.outputs.runfolder import verify_run_folder

    out = tmp_path / "vty"
    assert main(["run", "--offline", "--measure", "volatility", "--window=0,0", "--no-report", "--out", str(out)]) == 0
    t = pd.read_csv(out / "volatility_tests.csv")
    assert set(t["test"]) == {"savickas", "variance_rank"}
    assert set(t["window_end"]) == {0}
    car = pd.read_csv(out / "volatility_car.csv")
    assert (car["garch_var"].dropna() > 0).all()
    verify_run_folder(out)
    # the returns tables are the run's own: the measure adds files, it changes none
    assert (out / "tests.csv").exists() and not (out / "volume_tests.csv").exists()


# ---------------------------------------------------------------- the real J-Quants file
@pytest.fixture(scope="module")
def real_volume_run(shared_dir):
    from eventstudy.data.files import FileSource
    from eventstudy.data.volume import read_volume_file
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.study import bundled_study
    from eventstudy.inputs.universe import load_universe
    from eventstudy.pipeline.study import run_study

    path = shared_dir / JQ
    if not path.exists():
        pytest.skip("J-Quants file absent")
    st = bundled_study()
    run = run_study(load_events(st.events), load_universe(st.universe), FileSource(path), study=st, regressions=False)
    vol = read_volume_file(path)
    return run, vol, run_measures(run, "volume", volume=vol), path


def test_real_volume_pair_recomputed_independently(real_volume_run):
    """One pair (a tourism stock on the travel advisory) rebuilt from the raw file with pandas and statsmodels."""
    sm = pytest.importorskip("statsmodels.api")
    run, _, mr, path = real_volume_run
    raw = pd.read_csv(path, usecols=["date", "ticker", "volume"], parse_dates=["date"])
    raw = raw[raw["volume"].notna()]
    lv = raw.assign(lv=np.log1p(raw["volume"])).pivot(index="date", columns="ticker", values="lv").sort_index()
    mkt = lv.mean(axis=1)
    p = mr.volume.params
    row = p[(p["event_id"] == "travel_advisory") & (p["group"] == "tourism_consumption")].iloc[0]
    t = row["ticker"]
    day0 = run.day0[(run.day0["ticker"] == t) & (run.day0["event_id"] == "travel_advisory")]["day0"].iloc[0]
    own = run.panel.sessions[t]
    i0 = own.get_loc(day0)
    est_days = own[max(0, i0 - 250): i0 - 10]
    dates = lv.index
    bd = pd.bdate_range(dates[0], dates[-1])
    hol = set(bd[~bd.isin(dates)])
    X = pd.DataFrame({"m": mkt}, index=dates)
    for k, name in enumerate(["tue", "wed", "thu", "fri"], start=1):
        X[name] = (dates.day_of_week == k).astype(float)
    X["hol"] = [float((d - pd.offsets.BDay(1)) in hol or (d + pd.offsets.BDay(1)) in hol) for d in dates]
    X = sm.add_constant(X)
    y = lv[t]
    use = est_days[y.reindex(est_days).notna().to_numpy()]
    fit = sm.OLS(y.loc[use], X.loc[use]).fit()
    assert row["beta_market_log_volume"] == pytest.approx(fit.params["m"], rel=1e-8)
    assert row["m_obs"] == len(use)
    win = own[i0: i0 + 2]
    cav = float((y.loc[win] - X.loc[win] @ fit.params).sum())
    c = mr.volume.car
    got = c[(c["ticker"] == t) & (c["event_id"] == "travel_advisory") & (c["window_start"] == 0)
            & (c["window_end"] == 1)]["car"].iloc[0]
    assert got == pytest.approx(cav, abs=1e-9)


def test_real_travel_advisory_tourism_volume(real_volume_run):
    """The README's finding: tourism stocks traded far above normal volume on the travel advisory's [0,1]."""
    _, _, mr, _ = real_volume_run
    t = mr.volume.tests
    cell = t[(t["event_id"] == "travel_advisory") & (t["group"] == "tourism_consumption") & (t["window_start"] == 0)
             & (t["window_end"] == 1) & (t["test"] == "kolari_pynnonen")].iloc[0]
    assert cell["n"] >= 10 and cell["caar"] > 0.5 and cell["p_value"] < 0.01


def test_replace_marked_section_hand_worked():
    from eventstudy.outputs.sections import replace_marked_section as rep

    assert rep("a", "S", "<b>", "</b>") == "a\n\n<b>\nS\n</b>\n"
    assert rep("x<footer>y", "S", "<b>", "</b>", "<footer>") == "x<b>\nS\n</b>\n<footer>y"
    assert rep("p<b>\nold\n</b>q", "new", "<b>", "</b>") == "p<b>\nnew\n</b>q"


def test_cli_bad_volume_file_fails_before_the_study(tmp_path, capsys, monkeypatch):
    import eventstudy.pipeline.study as study_mod

    vol = tmp_path / "vol.csv"
    vol.write_text("date,ticker,volume,shares_outstanding\n2025-11-04,7203.T,100,1000\n2025-11-05,7203.T,120,-3\n")
    monkeypatch.setattr(study_mod, "build_study", lambda *a, **k: pytest.fail("the study ran before the volume file was read"))
    out = tmp_path / "o"
    assert main(["run", "--offline", "--volume", str(vol), "--measure", "volume", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"volume file {vol} line 3: shares_outstanding '-3' of 7203.T" in err and not out.exists()
