"""Firm-specific events: the file, day 0 per row, pooled cells, date-clustered Kolari-Pynnonen, overlaps."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy import EventStudy
from eventstudy.calendars.day0 import map_day0_pairs
from eventstudy.errors import EventsFileError, WindowError
from eventstudy.inputs.events import firm_events_from_frame, load_firm_events
from eventstudy.pipeline.firm import own_event_overlaps, run_firm_study
from eventstudy.inference.reference import bmp, kolari_pynnonen
from eventstudy.estimation.windows import WindowSpec


def test_firm_events_file(tmp_path):
    p = tmp_path / "earnings.csv"
    p.write_text("ticker,date,time,timezone,news\n7203.T,2025-11-05,15:00,Asia/Tokyo,good\n"
                 "7203 JP Equity,2025-11-05,,,bad\n7203.T,2025-11-05,,,bad\n")
    ev = load_firm_events(p)
    assert list(ev["event_id"]) == ["7203.T@2025-11-05", "7203 JP Equity@2025-11-05", "7203.T@2025-11-05#2"]
    assert list(ev["ticker"]) == ["7203.T", "7203 JP Equity", "7203.T"]
    assert ev["announced_at"].iloc[0] == pd.Timestamp("2025-11-05 15:00", tz="Asia/Tokyo")
    q = tmp_path / "bad.csv"
    q.write_text("ticker,date\n,2025-11-05\n7203.T,2025-13-01\n")
    with pytest.raises(EventsFileError, match=r"line 2, column ticker = '': the ticker is empty"):
        load_firm_events(q)
    q.write_text("ticker,date\n7203.T,2025-13-01\n")
    with pytest.raises(EventsFileError, match=r"line 2, column date = '2025-13-01': not a valid date"):
        load_firm_events(q)
    q.write_text("symbol,date\n7203.T,2025-11-05\n")
    with pytest.raises(EventsFileError, match=r"ticker"):
        load_firm_events(q)


def test_day0_per_row_on_each_instruments_own_sessions():
    ev = firm_events_from_frame(pd.DataFrame({
        "ticker": ["7203.T", "7203.T", "AAPL", "NKD=F"],
        "date": ["2025-11-05", "2025-11-22", "2025-11-05", "2026-01-06"],
        "time": ["15:45", "", "15:45", "16:25"],
        "timezone": ["Asia/Tokyo", "", "America/New_York", "Asia/Shanghai"]}))
    d = map_day0_pairs(ev)
    # after the 15:30 Tokyo close -> next session; a Saturday -> Monday 11-24 is a Tokyo holiday -> 11-25;
    # 15:45 New York is before the 16:00 close -> that session; 16:25 Beijing is inside CME trading day 01-06
    assert list(d["day0"]) == [pd.Timestamp(x) for x in ("2025-11-06", "2025-11-25", "2025-11-05", "2026-01-06")]
    assert list(d["calendar"]) == ["XTKS", "XTKS", "XNYS", "CME Globex"]
    assert "after the close" in d["reason"].iloc[0]


def test_day0_of_many_rows_sharing_dates_equals_each_row_alone():
    """Day 0 is worked out once per distinct (date, time) and calendar and given to every row: each row equals
    its own one-row mapping (exchange, Globex and price-dates models; timed, untimed, weekends, repeats)."""
    rng = np.random.default_rng(3)
    n = 60
    days = pd.bdate_range("2025-10-01", periods=40).strftime("%Y-%m-%d").tolist() + ["2025-11-22", "2025-11-23"]
    tick = rng.choice(["7203.T", "6758.T", "AAPL", "NKD=F", "XYZ"], n)
    date = rng.choice(days, n)
    timed = rng.random(n) < 0.5
    frame = pd.DataFrame({"ticker": tick, "date": date,
                          "time": np.where(timed, rng.choice(["09:10", "15:45", "17:30"], n), ""),
                          "timezone": np.where(timed, "Asia/Tokyo", "")})
    ev = firm_events_from_frame(frame)
    price_dates = {"XYZ": pd.bdate_range("2025-09-01", "2025-12-31")}
    exchanges = {"XYZ": "dates"}
    whole = map_day0_pairs(ev, exchanges=exchanges, price_dates=price_dates)
    assert whole[["day0"]].drop_duplicates().shape[0] > 10 and whole["calendar"].nunique() == 4
    for i in range(n):
        alone = map_day0_pairs(ev.iloc[[i]], exchanges=exchanges, price_dates=price_dates)
        pd.testing.assert_frame_equal(whole.iloc[[i]].reset_index(drop=True), alone)


def test_an_announcement_without_timezone_is_refused_with_its_event():
    ev = firm_events_from_frame(pd.DataFrame({"ticker": ["7203.T", "6758.T", "AAPL"],
                                              "date": ["2025-11-05", "2025-11-06", "2025-11-07"]}))
    ev["announced_at"] = pd.Series([pd.NaT, pd.Timestamp("2025-11-06 15:45"), "later"], dtype=object)
    with pytest.raises(EventsFileError, match=r"event '6758.T@2025-11-06': announced_at .* has no timezone"):
        map_day0_pairs(ev)
    ev.loc[1, "announced_at"] = pd.NaT
    with pytest.raises(EventsFileError, match=r"event 'AAPL@2025-11-07': announced_at 'later' is not a time"):
        map_day0_pairs(ev)


def _panel(n_sec=120, T=900, rho_share=1.0, seed=0):
    """Returns of n_sec securities on T weekdays: market factor M, an industry factor shared by all
    securities (residual correlation rho = var(g) / (var(g) + var(e)) when rho_share = 1)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2020-01-01", periods=T)
    m = rng.normal(0.0003, 0.01, T)
    g = rng.normal(0, 0.01, T) * rho_share
    beta = rng.uniform(0.6, 1.4, n_sec)
    e = rng.standard_t(5, (T, n_sec)) * 0.015 / math.sqrt(5 / 3)
    r = 0.0002 + m[:, None] * beta[None, :] + g[:, None] + e
    ret = pd.DataFrame(r, index=days, columns=[f"S{i:03d}" for i in range(n_sec)])
    ret["M"] = m
    return ret, days


def test_pooled_cells_equal_independent_computations():
    ret, days = _panel(seed=1)
    rng = np.random.default_rng(2)
    n = 60
    tick = rng.choice([c for c in ret.columns if c != "M"], n, replace=True)
    pos = rng.integers(300, 850, n)
    pos[:20] = 500                                        # 20 firm-events share one date
    pairs = pd.DataFrame({"ticker": tick, "event_id": [f"e{i}" for i in range(n)], "day0": days[pos],
                          "group": np.where(np.arange(n) % 2 == 0, "good", "bad")})
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0), (-1, 1)], pool=True).fit()
    t = res.tests
    assert set(t["event_id"]) == {"pooled"} and set(t["group"]) == {"good", "bad", "all"}
    assert set(res.car["event_id"]) == set(pairs["event_id"])          # per-pair tables keep their own ids
    for w in [(0, 0), (-1, 1)]:
        car = res.car[(res.car["window_start"] == w[0]) & (res.car["window_end"] == w[1])]
        cell = t[(t["group"] == "all") & (t["window_start"] == w[0]) & (t["window_end"] == w[1])].set_index("test")
        assert cell.loc["t_cross_section", "caar"] == pytest.approx(car["car"].mean(), abs=1e-15)
        tt = stats.ttest_1samp(car["car"], 0.0)
        assert cell.loc["t_cross_section", "statistic"] == pytest.approx(tt.statistic, rel=1e-10)
        assert cell.loc["bmp", "statistic"] == pytest.approx(bmp(car["scar"].to_numpy()).statistic, rel=1e-10)
        # KP with correlations only among pairs sharing day 0: reference implementation on the fitted residuals
        order = car.set_index("event_id").loc[pairs["event_id"]]
        _, _, _, fit = res.arrays.subset(np.arange(n))
        est = fit.ar[:, res.arrays.est_mask]
        ref = kolari_pynnonen(order["scar"].to_numpy(), est, clusters=pairs["day0"].to_numpy())
        assert cell.loc["kolari_pynnonen", "statistic"] == pytest.approx(ref.statistic, rel=1e-9)
        assert cell.loc["kolari_pynnonen", "p_value"] == pytest.approx(ref.p_value, rel=1e-9)


@pytest.mark.parametrize("drop", [False, True], ids=["missing returns", "missing returns and dropped days"])
def test_pooled_kp_with_incomplete_residual_rows_equals_the_reference(drop):
    """Firm-events whose estimation residuals are incomplete (missing returns, days left out: the pairwise-complete
    path), half of them on two shared dates: the date-clustered KP equals the reference on the fitted residuals;
    only each date's own pairs are correlated."""
    ret, days = _panel(seed=7)
    names = [c for c in ret.columns if c != "M"]
    rng = np.random.default_rng(8)
    for c in names[:40]:                                  # gaps all over the panel for a third of the securities
        ret.iloc[rng.choice(np.arange(50, 890), 60, replace=False), ret.columns.get_loc(c)] = np.nan
    n = 80
    tick = rng.permutation(names)[:n] if n <= len(names) else rng.choice(names, n)
    pos = rng.integers(300, 850, n)
    pos[:25], pos[25:40] = 560, 700                       # two crowded dates
    pairs = pd.DataFrame({"ticker": tick, "event_id": [f"e{i}" for i in range(n)], "day0": days[pos],
                          "group": np.where(np.arange(n) % 2 == 0, "good", "bad")})
    kw = {}
    if drop:
        kw["estimation_drop"] = pd.DataFrame({"ticker": tick[::3], "event_id": pairs["event_id"].iloc[::3],
                                              "rel_day": -50})
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0), (-1, 1)], pool=True, **kw).fit()
    t = res.tests
    _, _, _, fit = res.arrays.subset(np.arange(n))
    est = fit.ar[:, res.arrays.est_mask]
    slow = np.isnan(est).any(axis=1)                      # the pairwise-complete path: on both crowded dates
    assert slow.sum() >= (40 if drop else 20) and slow[:25].any() and slow[25:40].any() and not slow[:40].all()
    for w in [(0, 0), (-1, 1)]:
        car = res.car[(res.car["window_start"] == w[0]) & (res.car["window_end"] == w[1])]
        cell = t[(t["group"] == "all") & (t["window_start"] == w[0]) & (t["window_end"] == w[1])].set_index("test")
        order = car.set_index("event_id").loc[pairs["event_id"]]
        ref = kolari_pynnonen(order["scar"].to_numpy(), est, clusters=pairs["day0"].to_numpy())
        assert cell.loc["kolari_pynnonen", "statistic"] == pytest.approx(ref.statistic, rel=1e-9)
        assert cell.loc["kolari_pynnonen", "p_value"] == pytest.approx(ref.p_value, rel=1e-9)


def test_date_clustered_kp_by_hand():
    """r = sum over same-date pairs of r_ij / (N (N-1) / 2); one cluster = Kolari-Pynnonen's r."""
    rng = np.random.default_rng(3)
    e = rng.normal(size=(5, 80))
    e[1] += e[0]
    e[4] += 0.5 * e[3]
    scar = np.array([1.0, 2.0, -0.5, 0.3, 1.2])
    cl = np.array([0, 0, 1, 2, 2])
    r = np.corrcoef(e)
    rbar = (r[0, 1] + r[3, 4]) / 10.0
    t_bmp = scar.mean() / (scar.std(ddof=1) / math.sqrt(5))
    want = t_bmp * math.sqrt((1 - rbar) / (1 + 4 * rbar))
    assert kolari_pynnonen(scar, e, min_overlap=30, clusters=cl).statistic == pytest.approx(want, rel=1e-12)
    one = kolari_pynnonen(scar, e, min_overlap=30, clusters=np.zeros(5))
    assert one.statistic == pytest.approx(kolari_pynnonen(scar, e, min_overlap=30).statistic, rel=1e-12)


def _rejections(share_date: bool, reps: int, seed: int) -> dict[str, float]:
    """One fit, ``reps`` pooled cells of 40 firm-events (pool column = replication), no effect."""
    ret, days = _panel(n_sec=200, T=1100, seed=seed)
    rng = np.random.default_rng(seed + 100)
    rows = []
    for r in range(reps):
        tick = rng.choice(200, 40, replace=False)
        pos = rng.choice(np.arange(300, 1090), 40, replace=False)
        if share_date:
            pos[:20] = pos[0]
        rows.append(pd.DataFrame({"ticker": [f"S{i:03d}" for i in tick], "event_id": [f"r{r}_{i}" for i in range(40)],
                                  "day0": days[pos], "rep": f"r{r}"}))
    pairs = pd.concat(rows, ignore_index=True)
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0)], pool="rep", pooled_group=None).fit()
    t = res.tests
    return {k: float((t.loc[t["test"] == k, "p_value"] < 0.05).mean()) for k in ("kolari_pynnonen", "bmp", "t_cross_section")}


def test_pooled_size_with_spread_and_shared_dates():
    """No effect: with dates spread out every test holds ~5%; with half the firm-events on one date and
    correlated residuals (rho ~0.3) BMP over-rejects while the date-clustered KP holds its size.
    (Monte-Carlo se of a 5% rate over 150 cells: 0.018.)"""
    spread = _rejections(False, 150, seed=11)
    assert 0.01 <= spread["kolari_pynnonen"] <= 0.10 and 0.01 <= spread["bmp"] <= 0.10
    shared = _rejections(True, 150, seed=12)
    assert shared["bmp"] > 0.15
    assert 0.01 <= shared["kolari_pynnonen"] <= 0.10


def test_own_event_overlaps_found_and_dropped():
    ret, days = _panel(n_sec=3, T=700, seed=4)
    pairs = pd.DataFrame({"ticker": ["S000", "S000", "S001"], "event_id": ["q1", "q2", "x"],
                          "day0": [days[400], days[460], days[460]]})
    spec = WindowSpec.build((-250, -11), [(0, 0), (-1, 1)])
    sess = {t: days for t in ("S000", "S001")}
    ov = own_event_overlaps(pairs, sess, spec)
    # q2's estimation window [210, 449] holds q1's event span [399, 401] -> rel days -61..-59
    assert set(ov["event_id"]) == {"q2"} and list(ov["rel_day"]) == [-61, -60, -59]
    assert (ov["other_event_id"] == "q1").all()
    kw = dict(benchmark="M", windows=[(0, 0)], pool=True)
    a = EventStudy(ret, pairs, **kw).fit()
    b = EventStudy(ret, pairs, estimation_drop=ov, **kw).fit()
    m_a = a.params.set_index("event_id")["m_obs"]
    m_b = b.params.set_index("event_id")["m_obs"]
    assert m_b["q2"] == m_a["q2"] - 3 and m_b["q1"] == m_a["q1"] and m_b["x"] == m_a["x"]
    from eventstudy.pipeline.firm import own_event_overlap_spans

    spans = own_event_overlap_spans(pairs, sess, spec)          # the runs, as run_firm_study passes them
    assert spans[["event_id", "rel_day_first", "rel_day_last", "days"]].values.tolist() == [["q2", -61, -59, 3]]
    c = EventStudy(ret, pairs, estimation_drop=spans, **kw).fit()
    for frame in ("params", "car", "tests"):
        pd.testing.assert_frame_equal(getattr(b, frame), getattr(c, frame), check_exact=True)
    with pytest.raises(WindowError, match="estimation_drop needs columns ticker, event_id and rel_day"):
        EventStudy(ret, pairs, estimation_drop=spans[["ticker", "event_id", "days"]], **kw)


def test_cli_and_library_give_the_same_pooled_table(tmp_path, shared_dir):
    """200 random (stock, date) firm-events on the real Tokyo prices: the CLI's tests.csv equals the
    library's pooled table."""
    from eventstudy.cli import main
    from eventstudy.data.files import FileSource

    path = shared_dir / "data" / "market" / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not path.exists():
        pytest.skip(f"{path.name} is not available")
    src = FileSource(path)
    tick = sorted(t for t in src.get().tickers if t.endswith(".T") and t != "1306.T")
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2025-06-02", "2026-01-30")
    ev = pd.DataFrame({"ticker": rng.choice(tick, 200),
                       "date": pd.DatetimeIndex(rng.choice(dates, 200)).strftime("%Y-%m-%d"),
                       "news": rng.choice(["good", "bad"], 200)})
    f = tmp_path / "firm.csv"
    ev.to_csv(f, index=False)
    with pytest.warns(UserWarning):
        run = run_firm_study(load_firm_events(f), src, benchmark="1306.T", by="news")
    out = tmp_path / "out"
    assert main(["run", "--firm-events", str(f), "--prices", str(path), "--benchmark", "1306.T", "--by", "news",
                 "--out", str(out)]) == 0
    cli = pd.read_csv(out / "tests.csv")
    lib = run.result.tests.reset_index(drop=True)
    assert len(cli) == len(lib) and list(cli["group"]) == list(lib["group"])
    np.testing.assert_allclose(cli["statistic"], lib["statistic"], rtol=1e-9)
    np.testing.assert_allclose(cli["caar"], lib["caar"], rtol=1e-9)


def test_pooled_caar_path_band_uses_the_date_clustered_r():
    from eventstudy.present.plots import caar_paths, plot_caar_paths

    ret, days = _panel(seed=5)
    rng = np.random.default_rng(6)
    n = 30
    pos = rng.integers(300, 850, n)
    pos[:10] = 600
    pairs = pd.DataFrame({"ticker": rng.choice([c for c in ret.columns if c != "M"], n, replace=False),
                          "event_id": [f"e{i}" for i in range(n)], "day0": days[pos]})
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0), (-1, 1)], pool=True).fit()
    p = caar_paths(res, window=(-1, 1))
    assert set(p["event_id"]) == {"pooled"} and (p["n"] == n).all()
    d0 = p[p["rel_day"] == 0].iloc[0]
    ar0 = res.ar[res.ar["rel_day"] == 0]["ar"]
    assert d0["caar"] == pytest.approx(ar0.mean(), abs=1e-15)
    # r: correlations among the 10 firm-events on one date, all other pairs 0, over all n(n-1)/2 pairs
    _, _, _, fit = res.arrays.subset(np.arange(n))
    est = fit.ar[:10][:, res.arrays.est_mask]
    r = np.corrcoef(est)[np.triu_indices(10, k=1)].sum() / (n * (n - 1) / 2)
    assert d0["rbar"] == pytest.approx(r, rel=1e-9)
    infl = math.sqrt((1 + (n - 1) * r) / (1 - r))
    half = stats.t.ppf(0.975, n - 1) * d0["sd"] / math.sqrt(n) * infl
    assert d0["upper"] - d0["caar"] == pytest.approx(half, rel=1e-9)
    assert plot_caar_paths(res, window=(-1, 1)) is not None


def _overlaps_by_loop(pairs, sessions, spec):
    """The reference: every ordered pair of one firm's events compared in Python, a frame per overlap."""
    est, (lo, hi) = spec.estimation, spec.event_span()
    out = []
    for t, g in pairs.groupby("ticker", sort=False):
        sess = sessions.get(t)
        if sess is None:
            continue
        p0 = sess.get_indexer(pd.DatetimeIndex(g["day0"]))
        ids = g["event_id"].to_numpy()[p0 >= 0]
        p0 = p0[p0 >= 0]
        for i in range(len(p0)):
            for j in range(len(p0)):
                f, l = max(p0[i] + est[0], p0[j] + lo), min(p0[i] + est[1], p0[j] + hi)
                if i != j and f <= l:
                    out.append(pd.DataFrame({"ticker": t, "event_id": ids[i], "other_event_id": ids[j],
                                             "rel_day": np.arange(f, l + 1) - p0[i]}))
    if not out:
        return None
    return pd.concat(out, ignore_index=True).drop_duplicates(["ticker", "event_id", "rel_day"]).reset_index(drop=True)


def test_own_event_overlaps_equal_a_loop_over_every_pair_of_a_firms_events():
    """Quarterly-like events of 60 firms on two calendars (one firm without sessions, a day 0 off the
    calendar, two events of one firm on one day), windows [-250,-11] and [-5,10]: the vectorised overlaps
    equal the loop's, row for row."""
    rng = np.random.default_rng(11)
    days_a = pd.bdate_range("2015-01-01", periods=2_000)
    days_b = days_a[rng.random(days_a.size) > 0.05]
    firms = [f"F{i:02d}" for i in range(60)]
    sess = {f: (days_a if i % 2 else days_b) for i, f in enumerate(firms) if f != "F07"}
    rows = [(f, f"{f}-{k}", days_a[rng.integers(260, 1_990)]) for f in firms for k in range(rng.integers(1, 12))]
    rows += [("F03", "F03-dup", rows[[r[0] for r in rows].index("F03")][2]), ("F04", "F04-sat", pd.Timestamp("2016-01-02"))]
    sess["EDGE"] = days_a                             # other events just inside (and one just outside) the window
    rows += [("EDGE", "E0", days_a[1_500]), ("EDGE", "E-10", days_a[1_490]), ("EDGE", "E-251", days_a[1_249]),
             ("EDGE", "E-252", days_a[1_248])]
    order = rng.permutation(len(rows))
    pairs = pd.DataFrame([rows[i] for i in order], columns=["ticker", "event_id", "day0"])
    for windows in ([(0, 0), (-1, 1)], [(-5, 10)]):
        spec = WindowSpec.build((-250, -11), windows)
        got = own_event_overlaps(pairs, sess, spec)
        exp = _overlaps_by_loop(pairs, sess, spec)
        assert len(got) > 500
        pd.testing.assert_frame_equal(got, exp)
        if windows[0] == (0, 0):                      # event span [-1, 1]: E-10's day 1 is E0's day -11, and so on
            edge = got[(got["ticker"] == "EDGE") & (got["event_id"] == "E0")]
            assert set(edge["rel_day"]) == {-11, -250} and "E-252" not in set(edge["other_event_id"])
    assert own_event_overlaps(pairs.iloc[:1], sess, spec).empty
    assert list(own_event_overlaps(pairs.iloc[:0], sess, spec).columns) == ["ticker", "event_id", "other_event_id",
                                                                            "rel_day"]


@pytest.mark.parametrize("seed", range(2))
def test_overlap_runs_equal_the_loop_when_a_firms_events_crowd_together(seed):
    """Firms with up to 40 events within 300 sessions (a day in many other events' spans at once, runs cut at
    both ends): the runs laid out day by day equal the loop's rows, and each run is one stretch of estimation days
    inside its other event's span."""
    from eventstudy.pipeline.firm import overlap_days, own_event_overlap_spans

    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2016-01-01", periods=900)
    rows = [(f"F{i}", f"F{i}-{k}", days[rng.integers(260, 560)]) for i in range(6) for k in range(rng.integers(2, 40))]
    pairs = pd.DataFrame([rows[i] for i in rng.permutation(len(rows))], columns=["ticker", "event_id", "day0"])
    sess = {f"F{i}": days for i in range(6)}
    for windows in ([(0, 0)], [(-5, 10)], [(-10, 10)]):
        spec = WindowSpec.build((-250, -11), windows)
        spans = own_event_overlap_spans(pairs, sess, spec)
        exp = _overlaps_by_loop(pairs, sess, spec)
        pd.testing.assert_frame_equal(overlap_days(spans), exp)
        pd.testing.assert_frame_equal(own_event_overlaps(pairs, sess, spec), exp)
        assert (spans["days"] == spans["rel_day_last"] - spans["rel_day_first"] + 1).all() and (spans["days"] > 0).all()
        assert spans["rel_day_first"].min() >= -250 and spans["rel_day_last"].max() <= -11
        lo, hi = spec.event_span()
        pos = {e: days.get_loc(d) for e, d in zip(pairs["event_id"], pairs["day0"])}
        a = spans["event_id"].map(pos).to_numpy()
        b = spans["other_event_id"].map(pos).to_numpy()
        assert ((a + spans["rel_day_first"] >= b + lo) & (a + spans["rel_day_last"] <= b + hi)).all()
        # the engine takes the runs as they are: the same (pair, day) positions as the runs laid out day by day
        from eventstudy.estimation.data import drop_positions

        norm = pairs.assign(ticker=pairs["ticker"].astype(str), event_id=pairs["event_id"].astype(str))
        got_pos, want_pos = drop_positions(norm, spec, spans), drop_positions(norm, spec, exp)
        assert got_pos[0].size > 100
        np.testing.assert_array_equal(got_pos[0], want_pos[0])
        np.testing.assert_array_equal(got_pos[1], want_pos[1])


def test_cli_writes_the_overlaps_it_found(tmp_path, capsys):
    """Two events of one firm 30 sessions apart on the bundled SIMULATED market: overlaps.csv (written by the
    table writer, text quoted like the other tables; one row per run of days) reads back as the library's overlaps,
    row for row."""
    from eventstudy.cli import main
    from eventstudy.data.offline import OfflineSource

    ev = pd.DataFrame({"ticker": ["7203.T", "7203.T", "7267.T"], "date": ["2025-10-01", "2025-11-14", "2025-11-14"],
                       "news": ["good", "bad", "bad"]})
    ev.to_csv(tmp_path / "firm.csv", index=False)
    code = main(["run", "--offline", "--firm-events", str(tmp_path / "firm.csv"), "--benchmark", "1306.T", "--by",
                 "news", "--out", str(tmp_path / "o")])
    assert code == 0, capsys.readouterr().err
    text = (tmp_path / "o" / "overlaps.csv").read_text()
    assert text.splitlines()[0] == "ticker,event_id,other_event_id,rel_day_first,rel_day_last,days" and '"7203.T"' in text
    got = pd.read_csv(tmp_path / "o" / "overlaps.csv")
    with pytest.warns(UserWarning, match="another event of the same firm inside their estimation windows"):
        run = run_firm_study(load_firm_events(tmp_path / "firm.csv"), OfflineSource(), benchmark="1306.T", by="news")
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, run.overlaps, check_dtype=False)
    # 2025-11-14's estimation window [-250, -11] holds 2025-10-01's event span [-1, 5] (the default windows),
    # ``gap`` Tokyo sessions earlier: one run of 7 days
    import exchange_calendars as xcals

    gap = len(xcals.get_calendar("XTKS").sessions_in_range("2025-10-01", "2025-11-14")) - 1
    assert got[["rel_day_first", "rel_day_last", "days"]].values.tolist() == [[-gap - 1, -gap + 5, 7]]


def test_futures_roll_jumps_are_masked_in_firm_specific_designs():
    """A continuous futures series (``NKD=F``) with a +9% roll gap on the first session after the September
    expiry, inside the estimation window of a firm-event: the roll day's return is missing (as in the
    shared-date study), so the market model is fitted without it and sigma is not inflated."""
    from eventstudy.data.base import make_prices
    from eventstudy.data.validate import validate_price_frame
    from eventstudy.returns.futures import quarterly_expiries

    rng = np.random.default_rng(21)
    days = pd.bdate_range("2025-01-02", "2026-03-31")
    mkt = rng.normal(0, 0.01, days.size)
    fut = 0.9 * mkt + rng.normal(0, 0.004, days.size)
    roll = days[days.searchsorted(quarterly_expiries("2025-09-01", "2025-09-30")[0], side="right")]
    fut[days.get_loc(roll)] += 0.09
    frame = pd.DataFrame({"date": np.tile(days, 2), "ticker": np.repeat(["NKD=F", "MKT"], days.size),
                          "close": np.r_[1e4 * np.cumprod(1 + fut), 100 * np.cumprod(1 + mkt)]})
    prices = make_prices(*validate_price_frame(frame, "synthetic"), "synthetic")
    ev = firm_events_from_frame(pd.DataFrame({"ticker": ["NKD=F"], "date": ["2025-12-01"]}))
    run = run_firm_study(ev, prices, benchmark="MKT", estimation=(-150, -11), windows=[(0, 0)])
    masked = run.panel.masked
    assert roll in set(masked.loc[masked["ticker"] == "NKD=F", "date"])
    p = run.result.params.iloc[0]
    day0 = days.get_loc(pd.Timestamp("2025-12-01"))
    est = days[day0 - 150: day0 - 10]
    n_masked = int(pd.DatetimeIndex(masked.loc[masked["ticker"] == "NKD=F", "date"]).isin(est).sum())
    assert n_masked >= 1 and p["m_obs"] == 140 - n_masked
    keep = est[~est.isin(masked["date"])]
    r = pd.Series(np.r_[np.nan, fut[1:]], index=days)[keep]
    m = pd.Series(mkt, index=days)[keep]
    beta = np.cov(r, m, ddof=1)[0, 1] / np.var(m, ddof=1)
    assert p["beta"] == pytest.approx(beta, rel=1e-9) and p["sigma"] < 0.006
