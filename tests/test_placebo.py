"""Placebo calibration (issue 19): hand-worked calibrated p, TOST and MDE; placebo dates never touch a real
event window or a confounder; on the bundled SIMULATED market (cross-correlated by construction) the
uncorrected tests over-reject and Kolari-Pynnonen does not; MDE per group; the CLI writes its files."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine.model import EventStudy
from eventstudy.pipeline.placebo import (blocked_dates, calibrated_p, draw_dates, eligible_dates, extremeness,
                                min_detectable_effect, placebo_study, rejection_rates, study_for_placebo,
                                tost_placebo, tost_t)

# ----------------------------------------------------------------------------- hand-worked cases


def test_calibrated_p_is_the_rank_among_known_placebo_statistics():
    # placebo t statistics -3.0 ... 3.0; the real t = 2.0 (|t| = 2): |placebo| >= 2 are -3, -2.5, -2, 2, 2.5, 3
    placebo_t = np.array([-3.0, -2.5, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0])
    s = np.abs(placebo_t)
    assert calibrated_p(2.0, s)[0] == pytest.approx(7 / 12)        # (1 + 6) / (1 + 11)
    assert calibrated_p(3.5, s)[0] == pytest.approx(1 / 12)        # more extreme than every placebo
    assert calibrated_p(0.0, s)[0] == pytest.approx(12 / 12)       # every placebo is at least as extreme
    assert calibrated_p(2.7, s)[0] == pytest.approx(3 / 12)        # only |-3.0| and |3.0| beat it
    # a placebo date drawn twice counts twice: weight 2 on |2.5| -> B = 12, #{>= 2.7} still 2
    w = np.ones(len(s))
    w[9] = 2
    assert calibrated_p(2.7, s, w)[0] == pytest.approx(3 / 13)
    # |s| >= 2.4: |-3|, |-2.5|, |2.5| (weight 2), |3| -> weight 5
    assert calibrated_p(2.4, s, w)[0] == pytest.approx((1 + 5) / 13)
    # NaN placebo statistics (untestable cells) are left out of B; a NaN real statistic stays NaN
    assert calibrated_p(2.7, np.r_[s, np.nan])[0] == pytest.approx(3 / 12)
    assert np.isnan(calibrated_p(np.nan, s)[0])


def test_extremeness_of_wilcoxon_is_its_standardised_distance_from_n_n1_over_4():
    # n = 10: E W+ = 27.5, sd = sqrt(10 * 11 * 21 / 24) = 9.8107; W+ = 45 -> 1.7838; W+ = 10 -> 1.7838
    e = extremeness(np.array(["wilcoxon", "wilcoxon", "bmp"], dtype=object), np.array([45.0, 10.0, -2.5]),
                    np.array([10, 10, 10]))
    assert e[0] == pytest.approx(17.5 / math.sqrt(96.25))
    assert e[1] == pytest.approx(e[0])
    assert e[2] == 2.5


def test_rejection_rates_hand_worked():
    p = np.array([0.001, 0.02, 0.07, 0.5, np.nan])
    assert rejection_rates(p).tolist() == pytest.approx([1 / 4, 2 / 4, 3 / 4])
    assert rejection_rates(p, np.array([3, 1, 1, 5, 9])).tolist() == pytest.approx([3 / 10, 4 / 10, 5 / 10])
    assert np.isnan(rejection_rates(np.array([np.nan]))).all()


def test_mde_interpolates_power_to_80_percent():
    # power 0.7 at 2%, 0.9 at 4%: 80% half way, 3%
    assert min_detectable_effect([0.01, 0.02, 0.04], [0.3, 0.7, 0.9], size=0.05) == pytest.approx(0.03)
    # reached before the first injected size: between (0, size) and (0.01, 0.85)
    assert min_detectable_effect([0.01, 0.02], [0.85, 1.0], size=0.05) == pytest.approx(0.01 * 0.75 / 0.80)
    assert math.isnan(min_detectable_effect([0.01, 0.02], [0.2, 0.5], size=0.05))     # never reached


def test_tost_t_hand_worked_schuirmann():
    # CAAR 0.1%, SE 0.2%, 10 df, margin 0.5%: t1 = (0.001 + 0.005) / 0.002 = 3, t2 = (0.001 - 0.005) / 0.002 = -2;
    # p = max(P(T10 >= 3), P(T10 <= -2)) = P(T10 <= -2) = 0.03669 (Student t table, 10 df)
    assert tost_t(0.001, 0.002, 10, 0.005) == pytest.approx(0.03669, abs=5e-5)
    # a margin inside the estimate's noise: not equivalent
    assert tost_t(0.001, 0.002, 10, 0.001) > 0.4


def test_tost_against_placebo_distribution_hand_worked():
    e = np.array([-0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04])
    # estimate 0.5%, margin 2%: #{e >= 2.5%} = 2, #{e <= -1.5%} = 2 -> max(3/9, 3/9)
    assert tost_placebo(0.005, e, 0.02) == pytest.approx(3 / 9)
    # margin 5%: nothing beyond either bound -> 1/9
    assert tost_placebo(0.005, e, 0.05) == pytest.approx(1 / 9)
    # margin 1%: #{e >= 1.5%} = 3 -> 4/9; #{e <= -0.5%} = 3 -> 4/9
    assert tost_placebo(0.005, e, 0.01) == pytest.approx(4 / 9)
    assert math.isnan(tost_placebo(0.005, e, float("nan")))


# ----------------------------------------------------------------------------- dates


def test_blocked_and_eligible_dates_hand_worked():
    s = pd.bdate_range("2024-01-01", periods=60)
    sessions = {"A": s, "B": s}
    day0 = pd.DataFrame({"ticker": ["A", "B"], "day0": [s[40], s[40]]})
    windows = [(0, 0), (-1, 2)]
    blk = blocked_dates(day0, sessions, windows, confounders=[s[50].strftime("%Y-%m-%d")])
    assert list(blk) == [s[39], s[40], s[41], s[42], s[50]]
    # estimation (-20, -3), min_obs 10: day 0 at position >= 12; window span -1..2 inside the data: <= 57
    el = eligible_dates(sessions, ["A", "B"], (-20, -3), windows, 10, blk)
    pos = set(s.get_indexer(el))
    expect = {p for p in range(12, 58) if not ({p - 1, p, p + 1, p + 2} & {39, 40, 41, 42, 50})}
    assert pos == expect
    d1 = draw_dates(el, 5, 3)
    assert list(d1) == list(draw_dates(el, 5, 3)) and len(set(d1)) == 5       # seeded, no repeats when enough
    assert len(draw_dates(el, 500, 3)) == 500                                 # with replacement beyond


# ----------------------------------------------------------------------------- the bundled SIMULATED market


@pytest.fixture(scope="module")
def offline():
    from eventstudy.data.offline import OfflineSource
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.hypotheses import load_hypotheses
    from eventstudy.inputs.study import bundled_study, default_events_path
    from eventstudy.inputs.universe import load_confounders, load_universe

    conf = load_confounders()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = study_for_placebo(load_events(default_events_path()), load_universe(), OfflineSource(),
                                study=bundled_study(), confounders=conf, regressions=False, windows=[(0, 0), (0, 1)],
                                hypotheses=load_hypotheses(None))
        # complete estimation windows only (fast and clean); 150 draws over about 110 eligible dates
        pr = placebo_study(run, draws=150, seed=11, effects=(0.005, 0.01, 0.02, 0.04, 0.08), min_estimation=240)
    return run, pr, conf


def test_placebo_windows_never_touch_real_windows_or_confounders(offline):
    run, pr, conf = offline
    sessions = run.panel.sessions
    lo, hi = 0, 1
    # every real pair's window span, on its own calendar, recomputed here
    real = run.day0.dropna(subset=["day0"])
    bad = set(pd.to_datetime(conf["date"]))
    for t, d in zip(real["ticker"], real["day0"]):
        s = sessions.get(t)
        if s is None:
            continue
        i = s.get_loc(pd.Timestamp(d))
        bad |= set(s[max(i + lo, 0):i + hi + 1])
    assert len(pr.pairs) > 5000
    touched = []
    for t, g in pr.pairs.groupby("ticker"):
        s = sessions[t]
        pos = s.get_indexer(pd.DatetimeIndex(g["day0"]))
        assert (pos >= 0).all()
        span = s[np.clip(np.add.outer(pos, np.arange(lo, hi + 1)), 0, len(s) - 1).ravel()]
        touched += [x for x in span if x in bad]
    assert touched == []
    # and the placebo dates themselves: none is a real day 0 or a confounder date
    assert not set(pr.draws["date"]) & (set(pd.to_datetime(real["day0"])) | set(pd.to_datetime(conf["date"])))
    # a universe-wide study keeps one date per draw for all securities: one design, one date per placebo event
    assert pr.designs["design"].nunique() == 1
    assert (pr.pairs.groupby("event_id")["day0"].nunique() <= 2).all()     # XTKS and CME sessions of one date


def test_uncorrected_tests_over_reject_and_kolari_pynnonen_does_not(offline):
    _, pr, _ = offline
    s = pr.size[(pr.size["window_start"] == 0) & (pr.size["window_end"] == 0)].set_index(["test", "group"])
    equity = ["rare_earth_magnets", "machinery_semis", "defence", "tourism_consumption", "seafood_food",
              "beneficiaries", "control"]
    for t in ("t_cross_section", "patell", "bmp", "sign_generalized", "wilcoxon"):
        assert s.loc[(t, "all"), "size_05"] > 0.15, t
    kp = s.loc[("kolari_pynnonen", "all"), "size_05"]
    assert kp < 0.11
    assert s.loc[("bmp", "all"), "size_05"] > 2 * kp
    assert np.mean([s.loc[("kolari_pynnonen", g), "size_05"] for g in equity]) < 0.10
    # size recomputed from the placebo statistics, weighted by the draws that used each date
    pt = pr.placebo_tests
    c = pt[(pt["test"] == "bmp") & (pt["group"] == "all") & (pt["window_start"] == 0) & (pt["window_end"] == 0)]
    assert c["w"].sum() == 150
    assert s.loc[("bmp", "all"), "size_05"] == pytest.approx((c["w"] * (c["p_value"] < 0.05)).sum() / c["w"].sum())


def test_placebo_statistics_equal_separate_fits_and_injection_shifts_caar(offline):
    run, pr, _ = offline
    from eventstudy.pipeline.placebo import _study_kwargs  # noqa: PLC2701 (same package, test of the batch)
    kw = _study_kwargs(run)
    ev = sorted(pr.pairs["event_id"].unique())[:2]
    for e in ev:
        alone = EventStudy(run.panel, pr.pairs[pr.pairs["event_id"] == e], progress=False, **kw).fit().tests
        batched = pr.placebo_tests[pr.placebo_tests["event_id"] == e]
        m = alone.merge(batched, on=["event_id", "group", "window_start", "window_end", "test"])
        assert len(m) == len(alone)
        fin = np.isfinite(m["statistic_y"])      # NaN: cross-sectional tests of one-instrument groups, as run_study
        assert fin.sum() > 50
        assert np.allclose(m.loc[fin, "statistic_x"], m.loc[fin, "statistic_y"], rtol=1e-10)
        assert set(m.loc[~fin, "group"]) <= {"futures", "index"}
    # day-0 injection: every window holding day 0 has its CAAR raised by exactly the effect
    null = pr.placebo_tests[pr.placebo_tests["test"] == "t_cross_section"]
    for eff, t in pr.power_tests.items():
        m = null.merge(t[t["test"] == "t_cross_section"], on=["event_id", "group", "window_start", "window_end"])
        m = m[m["n_x"] == m["n_y"]]
        assert len(m) > 100
        assert np.allclose(m["caar_y"] - m["caar_x"], eff, atol=1e-12)


def test_mde_reported_per_group_including_n8(offline):
    _, pr, _ = offline
    m = pr.mde[(pr.mde["test"] == "kolari_pynnonen") & (pr.mde["window_start"] == 0)
               & (pr.mde["window_end"] == 0)].set_index("group")
    assert m.loc["beneficiaries", "n"] == 8
    for g in ("all", "beneficiaries", "control", "rare_earth_magnets"):
        assert 0 < m.loc[g, "mde"] < 0.08, g
    assert m.loc["all", "mde"] < m.loc["beneficiaries", "mde"]          # 71 securities see smaller effects than 8
    # the MDE is where the reported power curve crosses 80%
    p = pr.power[(pr.power["test"] == "kolari_pynnonen") & (pr.power["group"] == "all")
                 & (pr.power["window_start"] == 0) & (pr.power["window_end"] == 0)].sort_values("effect")
    above = p.loc[p["power_05"] >= 0.8, "effect"]
    below = p.loc[p["power_05"] < 0.8, "effect"]
    assert below.max() < m.loc["all", "mde"] <= above.min()


def test_calibrated_p_of_real_cells_recomputed_from_placebo_statistics(offline):
    run, pr, _ = offline
    cal = pr.calibrated
    pt = pr.placebo_tests
    for test in ("kolari_pynnonen", "bmp", "wilcoxon"):
        r = cal[(cal["test"] == test) & (cal["event_id"] == "dual_use_ban") & (cal["group"] == "all")
                & (cal["window_start"] == 0)].iloc[0]
        c = pt[(pt["test"] == test) & (pt["group"] == "all") & (pt["window_start"] == 0) & (pt["window_end"] == 0)]
        if test == "wilcoxon":
            f = lambda st, n: abs(st - n * (n + 1) / 4) / math.sqrt(n * (n + 1) * (2 * n + 1) / 24)  # noqa: E731
            real, pl = f(r["statistic"], r["n"]), np.array([f(a, b) for a, b in zip(c["statistic"], c["n"])])
        else:
            real, pl = abs(r["statistic"]), c["statistic"].abs().to_numpy()
        expect = (1 + c["w"].to_numpy()[pl >= real].sum()) / (1 + c["w"].sum())
        assert r["p_calibrated"] == pytest.approx(expect)
    # the simulated dual-use ban moved the market: its pooled cell is extreme among the placebos
    kp = cal[(cal["test"] == "kolari_pynnonen") & (cal["event_id"] == "seafood_ban") & (cal["group"] == "seafood_food")
             & (cal["window_start"] == 0)]
    assert kp["p_calibrated"].iloc[0] <= 0.05            # injected -3% on 7 stocks
    t = pr.tost
    assert set(t["margin_source"]) == {"MDE of kolari_pynnonen"}
    assert t["p_tost"].between(0, 1).all() or t["p_tost"].isna().any()


def test_placebo_is_reproducible_from_its_seed(offline):
    run, pr, _ = offline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = placebo_study(run, draws=30, seed=11, effects=(0.02,), min_estimation=240)
        other = placebo_study(run, draws=30, seed=12, effects=(0.02,), min_estimation=240)
    first = placebo_study(run, draws=30, seed=11, effects=(0.02,), min_estimation=240)
    assert list(again.draws["date"]) == list(first.draws["date"])
    assert list(other.draws["date"]) != list(first.draws["date"])
    pd.testing.assert_frame_equal(again.size, first.size)


def test_cli_placebo_writes_tables_and_calibration_section(tmp_path, capsys):
    from eventstudy.cli import main

    out = tmp_path / "pl"
    rc = main(["placebo", "--offline", "--draws", "20", "--window=0,0", "--effects", "0.01,0.04",
               "--min-estimation", "240", "--out", str(out)])
    assert rc == 0
    for f in ("placebo_size.csv", "placebo_power.csv", "placebo_mde.csv", "placebo_calibrated_p.csv",
              "placebo_tost.csv", "placebo_draws.csv", "calibration.md", "figures/placebo_power.png"):
        assert (out / f).exists(), f
    md = (out / "calibration.md").read_text()
    assert "SIMULATED" in md and "Calibrated p-values" in md and "kolari_pynnonen" in md
    size = pd.read_csv(out / "placebo_size.csv")
    assert set(size["test"]) >= {"kolari_pynnonen", "bmp", "t_cross_section"}
    assert "Placebo size and MDE" in capsys.readouterr().out
    assert main(["placebo", "--offline", "--draws", "5", "--effects", "1%", "--out", str(out)]) == 2
    assert main(["placebo", "--offline", "--draws", "0", "--out", str(out)]) == 2
    assert main(["placebo", "--offline", "--draws", "5", "--effects", "-0.01", "--out", str(out)]) == 2


def test_calibration_section_added_to_an_existing_report_once(offline, tmp_path):
    from eventstudy.outputs.placebo_files import write_placebo
    from eventstudy.present.placebo_report import calibration_markdown

    run, pr, _ = offline
    (tmp_path / "report.md").write_text("# Report\n\nbody\n")
    (tmp_path / "report.html").write_text("<html><body><main><p>body</p><footer>f</footer></main></body></html>")
    for _ in range(2):                                   # a second placebo run replaces the section
        w = write_placebo(pr, tmp_path, window=(0, 0), hypotheses=run.hypotheses)
    md = (tmp_path / "report.md").read_text()
    ht = (tmp_path / "report.html").read_text()
    assert md.startswith("# Report\n\nbody") and md.count("## Calibration on this panel") == 1
    assert ht.count('<section id="calibration">') == 1 and ht.index("calibration") < ht.index("<footer>")
    assert "data:image/png;base64," in ht and "SIMULATED" in ht
    assert {"report.md", "report.html", "calibration.md", "figures/placebo_power.png"} <= set(w)
    sec = calibration_markdown(pr, (0, 0), hypotheses=run.hypotheses)
    # the primary hypotheses' calibrated p is the one in pr.calibrated (H2: seafood_ban, seafood_food)
    assert "Primary hypotheses" in sec and "| H6 | dual_use_ban | futures | [0,0] | t_time_series |" in sec
    kp = pr.calibrated[(pr.calibrated["test"] == "kolari_pynnonen") & (pr.calibrated["window_start"] == 0)
                       & (pr.calibrated["window_end"] == 0) & (pr.calibrated["event_id"] == "seafood_ban")
                       & (pr.calibrated["group"] == "seafood_food")]
    assert f"| seafood_ban | seafood_food | {kp['n'].iloc[0]:.0f} |" in sec
    assert f"{kp['p_calibrated'].iloc[0]:.3f}" in sec


def test_longer_price_history_leaves_the_real_study_unchanged(offline):
    from eventstudy.data.offline import OfflineSource
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.hypotheses import load_hypotheses
    from eventstudy.pipeline.study import run_study
    from eventstudy.inputs.study import bundled_study, default_events_path
    from eventstudy.inputs.universe import load_universe

    run, _, conf = offline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = run_study(load_events(default_events_path()), load_universe(), OfflineSource(), confounders=conf,
                        study=bundled_study(),
                        regressions=False, windows=[(0, 0), (0, 1)], hypotheses=load_hypotheses(None))
    assert run.panel.returns.index.min() < own.panel.returns.index.min() or \
        run.panel.returns.index.max() > own.panel.returns.index.max()
    pd.testing.assert_frame_equal(run.result.tests.reset_index(drop=True), own.result.tests.reset_index(drop=True))


def test_real_data_placebo_reports_size_mde_and_primary_calibrated_p(tmp_path, shared_dir):
    from eventstudy.cli import main

    prices = shared_dir / "data" / "market" / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not prices.exists():
        pytest.skip("real J-Quants prices not available")
    (tmp_path / "report.md").write_text("# Report\n")
    rc = main(["placebo", "--prices", str(prices), "--draws", "25", "--window=0,1", "--effects", "0.04",
               "--out", str(tmp_path)])
    assert rc == 0
    size = pd.read_csv(tmp_path / "placebo_size.csv")
    mde = pd.read_csv(tmp_path / "placebo_mde.csv")
    assert {"kolari_pynnonen", "bmp", "t_cross_section"} <= set(size["test"])
    assert {"all", "tourism_consumption", "rare_earth_magnets"} <= set(mde["group"])
    md = (tmp_path / "report.md").read_text()
    assert "## Calibration on this panel" in md and "| H1 | travel_advisory | tourism_consumption | [0,1] |" in md
    cal = pd.read_csv(tmp_path / "placebo_calibrated_p.csv")
    h1 = cal[(cal["event_id"] == "travel_advisory") & (cal["group"] == "tourism_consumption")
             & (cal["test"] == "kolari_pynnonen")]
    assert len(h1) == 1 and 1 / 26 <= h1["p_calibrated"].iloc[0] <= 1
    assert f"{h1['p_calibrated'].iloc[0]:.3f}" in md


def test_placebo_joins_a_run_folder_as_one_unit(tmp_path):
    import json

    from eventstudy.cli import main
    from eventstudy.outputs.runfolder import verify_run_folder

    out = tmp_path / "res"
    assert main(["run", "--offline", "--no-report", "--window=0,0", "--out", str(out)]) == 0
    assert main(["placebo", "--offline", "--draws", "15", "--window=0,0", "--effects", "0.04", "--min-estimation",
                 "240", "--out", str(out)]) == 0
    assert verify_run_folder(out) == []                       # one manifest lists the run's and the placebo's files
    man = json.loads((out / "manifest.json").read_text())
    assert man["command"] == "eventstudy placebo" and man["previous_run"]["command"] == "eventstudy run"
    listed = {f["path"] for f in man["files"]}
    assert {"tests.csv", "abnormal_returns.csv", "placebo_size.csv", "calibration.md"} <= listed
    # a user's own file in the folder is never replaced
    (out / "my_notes.txt").write_text("mine")
    assert main(["placebo", "--offline", "--draws", "5", "--window=0,0", "--effects", "0.04", "--out", str(out)]) == 2
    (out / "my_notes.txt").unlink()
    assert main(["run", "--offline", "--no-report", "--window=0,0", "--out", str(out)]) == 0   # a new run replaces it
    assert not (out / "placebo_size.csv").exists()


def _firm_run(seed: int = 0):
    """A pooled firm-specific study on a synthetic weekday panel (40 securities, market M)."""
    from eventstudy.data.base import make_prices
    from eventstudy.inputs.events import firm_events_from_frame
    from eventstudy.pipeline.firm import run_firm_study

    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2020-01-01", periods=700)
    m = rng.normal(0.0003, 0.01, len(days))
    names = [f"S{i:02d}" for i in range(40)]
    r = m[:, None] * rng.uniform(0.6, 1.4, 40)[None, :] + rng.normal(0, 0.015, (len(days), 40))
    px = 100 * np.exp(np.cumsum(np.c_[r, m], axis=0))
    long = pd.DataFrame({"date": np.tile(days.values, 41), "ticker": np.repeat(names + ["M"], len(days)),
                         "price": px.T.ravel()})
    prices = make_prices(long, {t: "close" for t in names + ["M"]}, "synthetic firm panel")
    ev = pd.DataFrame({"ticker": rng.choice(names, 60), "date": days[rng.integers(320, 650, 60)].strftime("%Y-%m-%d"),
                       "news": rng.choice(["good", "bad"], 60)})
    return run_firm_study(firm_events_from_frame(ev), prices, benchmark="M", by="news",
                          instruments={t: "dates" for t in names + ["M"]}, windows=[(0, 0), (-1, 1)])


def test_firm_design_placebo_keeps_each_firm_and_avoids_its_real_windows():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = _firm_run()
        pr = placebo_study(run, draws=60, effects=(0.01, 0.04), seed=3)
    real = run.day0.dropna(subset=["day0"])
    est = run.result.params[["ticker", "event_id"]]
    pairs = pr.pairs
    # every draw keeps the real design's firms: the same multiset of tickers per draw
    want = sorted(est["ticker"])
    for d, g in pairs.groupby("pool"):
        assert sorted(g["ticker"]) == want, d
    # no placebo window (days -1..1) touches a real window of its own firm
    for t, g in pairs.groupby("ticker"):
        s = run.panel.sessions[t]
        real_pos = s.get_indexer(pd.DatetimeIndex(real.loc[real["ticker"] == t, "day0"]))
        pl_pos = s.get_indexer(pd.DatetimeIndex(g["day0"]))
        assert (pl_pos >= 0).all()
        assert (np.abs(pl_pos[:, None] - real_pos[None, :]) > 2).all(), t
    # calibrated p of a real cell = (1 + #{placebo extremeness >= real}) / (1 + draws), from the stored statistics
    from eventstudy.pipeline.placebo import extremeness

    cal = pr.calibrated[(pr.calibrated["test"] == "kolari_pynnonen") & (pr.calibrated["group"] == "all")
                        & (pr.calibrated["window_start"] == 0) & (pr.calibrated["window_end"] == 0)].iloc[0]
    pl = pr.placebo_tests
    pl = pl[(pl["test"] == "kolari_pynnonen") & (pl["group"] == "all") & (pl["window_start"] == 0)
            & (pl["window_end"] == 0)]
    s_pl = extremeness(pl["test"].to_numpy(), pl["statistic"].to_numpy(), pl["n"].to_numpy())
    s_real = extremeness(np.array(["kolari_pynnonen"]), np.array([cal["statistic"]]), np.array([cal["n"]]))[0]
    assert cal["p_calibrated"] == pytest.approx((1 + np.sum(s_pl >= s_real)) / (1 + np.isfinite(s_pl).sum()))
    # no effect, dates spread out: the pooled tests hold their size (60 draws: se of a 5% rate 0.028)
    kp = pr.size[(pr.size["test"] == "kolari_pynnonen") & (pr.size["group"] == "all")]
    assert (kp["size_05"] <= 0.15).all()
    # and power rises with the injected effect
    pw = pr.power[(pr.power["test"] == "kolari_pynnonen") & (pr.power["group"] == "all")
                  & (pr.power["window_start"] == 0) & (pr.power["window_end"] == 0)].sort_values("effect")
    assert pw["power_05"].iloc[-1] > 0.8 and pw["power_05"].iloc[-1] >= pw["power_05"].iloc[0]


def test_cli_default_effects_are_the_librarys():
    from eventstudy.cli import PLACEBO_EFFECTS
    from eventstudy.pipeline.placebo import DEFAULT_EFFECTS

    assert tuple(float(x) for x in PLACEBO_EFFECTS.split(",")) == DEFAULT_EFFECTS
