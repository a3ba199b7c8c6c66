"""Intraday legs and windows (hand-worked), the single-event tests against scipy, the time-of-day
profile against a plain loop, and the real OSE night session of 2026-01-06 against the file's own closes."""
from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.errors import WindowError
from eventstudy.estimation.intraday import slot_profile, standardise
from eventstudy.inference.quantile import prediction_t, sample_quantile_test
from eventstudy.returns.intraday import bar_legs, daily_legs, parse_window, window_return


def _legs():
    """Two sessions by hand: A (3 bars) and B (2 bars); bar opens 15 min apart inside a session."""
    t = pd.to_datetime(["2026-01-06 06:15Z", "2026-01-06 06:30Z", "2026-01-06 06:45Z",
                        "2026-01-06 08:00Z", "2026-01-06 08:15Z"])
    df = pd.DataFrame({"ticker": "X", "bar_open_utc": t, "open": [100, 101, 102, 99, 98.0],
                       "close": [101, 102, 100, 98, 97.0], "seq": [0, 0, 0, 1, 1],
                       "session": ["day", "day", "day", "night", "night"], "slot": [0, 15, 30, 0, 15.0],
                       "trading_date": pd.to_datetime(["2026-01-06"] * 3 + ["2026-01-07"] * 2)})
    return bar_legs(df)


def test_legs_by_hand():
    legs = _legs()
    assert np.allclose(legs["ret"], np.log([101 / 100, 102 / 101, 100 / 102, 98 / 99, 97 / 98]))
    assert np.isnan(legs["gap"].iat[0]) and legs["gap"].iat[3] == pytest.approx(math.log(99 / 100))
    assert legs["gap"].iloc[[1, 2, 4]].isna().all()


def test_windows_by_hand():
    legs = _legs()
    s = window_return(legs, 3, parse_window("session"))     # night from the day close 100 to 97
    assert s["ret"] == pytest.approx(97 / 100 - 1) and s["gap"] == pytest.approx(math.log(0.99))
    assert (s["from_price"], s["to_price"], s["n_bars"]) == (100, 97, 2)
    r = window_return(legs, 1, parse_window("rest"))        # bar 0 inside the day session: from the close before it
    assert r["ret"] == pytest.approx(100 / 101 - 1) and r["gap"] == 0
    n = window_return(legs, 1, parse_window("next"))
    assert n["ret"] == pytest.approx(97 / 100 - 1)
    b = window_return(legs, 2, parse_window("bars:0,1"))    # crosses the break: the gap is inside the window
    assert b["ret"] == pytest.approx(98 / 102 - 1)
    m = window_return(legs, 1, parse_window("min:0,30"))
    assert m["n_bars"] == 2 and m["ret"] == pytest.approx(100 / 101 - 1)
    assert np.isnan(window_return(legs, 0, parse_window("min:0,30"))["ret"])  # the data's first bar: no previous close


@pytest.mark.parametrize("bad", ["bars:3,1", "min:0,0", "bars:0.5,2", "tomorrow", "bars 0,4"])
def test_bad_windows_are_named(bad):
    with pytest.raises(WindowError, match="intraday window"):
        parse_window(bad)


def test_sample_quantile_test_against_scipy():
    rng = np.random.default_rng(3)
    s = rng.standard_t(3, 59)
    for x in (-3.0, -0.2, 0.0, s[4], 2.5, 10.0):
        q = sample_quantile_test(x, s)
        n = len(s)
        weak = stats.percentileofscore(s, x, kind="weak") / 100 * n        # count <= x
        strict = stats.percentileofscore(s, x, kind="strict") / 100 * n    # count < x
        assert q["p_lower"] == pytest.approx((1 + weak) / (n + 1))
        assert q["p_upper"] == pytest.approx((1 + n - strict) / (n + 1))
        assert q["p_two"] == pytest.approx(min(1, 2 * min(q["p_lower"], q["p_upper"])))
    assert sample_quantile_test(100.0, s)["p_two"] == pytest.approx(2 / 60)   # the smallest attainable


def test_prediction_t_is_the_pooled_two_sample_t():
    rng = np.random.default_rng(5)
    s = rng.normal(0.001, 0.01, 40)
    r = prediction_t(-0.02, s)
    ref = stats.ttest_ind(s, [-0.02], equal_var=True)
    assert r["t"] == pytest.approx(-ref.statistic) and r["p_two"] == pytest.approx(ref.pvalue)
    assert r["df"] == 39


def test_slot_profile_against_a_loop():
    rng = np.random.default_rng(1)
    n = 300
    legs = pd.DataFrame({"session": rng.choice(["day", "night"], n), "slot": rng.choice([0.0, 15.0, 30.0], n),
                         "ret": rng.normal(0, 1, n), "first": rng.random(n) < 0.2})
    legs["gap"] = np.where(legs["first"], rng.normal(0, 2, n), np.nan)
    use = rng.random(n) < 0.8
    prof = slot_profile(legs, use)
    for (sess, slot), row in prof.iterrows():
        if slot == -1:
            vals = [g for g, f, u, s_ in zip(legs["gap"], legs["first"], use, legs["session"]) if f and u and s_ == sess]
        else:
            vals = [r for r, u, s_, sl in zip(legs["ret"], use, legs["session"], legs["slot"]) if u and s_ == sess and sl == slot]
        assert row["mean"] == pytest.approx(np.mean(vals)) and row["sd"] == pytest.approx(np.std(vals, ddof=1))
    z = standardise(legs, prof)
    i = 7
    key = prof.loc[(legs["session"].iat[i], legs["slot"].iat[i])]
    assert z["sar"].iat[i] == pytest.approx((legs["ret"].iat[i] - key["mean"]) / key["sd"])


def test_daily_legs_compound_to_close_to_close():
    df = pd.DataFrame({"date": pd.to_datetime(["2026-01-06", "2026-01-07"]), "ticker": "^N225",
                       "open": [52157.22, 52144.64], "close": [52518.08, 51961.98]})
    d = daily_legs(df).iloc[1]
    assert d["overnight"] == pytest.approx(52144.64 / 52518.08 - 1)       # the Nikkei's 01-07 gap, -0.71%
    assert round(d["overnight"] * 100, 2) == -0.71
    assert (1 + d["overnight"]) * (1 + d["intraday"]) == pytest.approx(1 + d["close_to_close"])


# ------------------------------------------------------------------------------------------------
# The real OSE bars (../shared): the night session of 2026-01-06 and its test
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ose_file(shared_dir):
    p = shared_dir / "data" / "market" / "mahoganin_ose_nk225mini_15min.csv"
    if not p.exists():
        pytest.skip("OSE 15-minute bars not available")
    return p


def _raw_sessions(path):
    """Each session's (trading_date, session, first open, last close, previous close) read with csv only."""
    rows = list(csv.DictReader(open(path, newline="")))
    out, prev_close = [], None
    for i, r in enumerate(rows):
        new = i == 0 or (r["session"], r["trading_date"]) != (rows[i - 1]["session"], rows[i - 1]["trading_date"]) \
            or (pd.Timestamp(r["bar_open_utc"]) - pd.Timestamp(rows[i - 1]["bar_open_utc"])) > pd.Timedelta(minutes=15)
        if new:
            out.append({"trading_date": r["trading_date"], "session": r["session"], "prev_close": prev_close,
                        "close": float(r["close"])})
        out[-1]["close"] = float(r["close"])
        prev_close = float(r["close"])
    return out


def test_dual_use_night_session_pinned_to_the_files_closes(ose_file, shared_dir):
    from eventstudy.data.bars import load_bars
    from eventstudy.pipeline.intraday import intraday_study

    ev = pd.DataFrame({"event_id": ["dual_use_ban"], "announced_at": [pd.Timestamp("2026-01-06 16:25", tz="Asia/Shanghai")]})
    run = intraday_study(ev, load_bars(ose_file, ticker="NIKKEI225MINI.OSE"))
    b0 = run.bar0.iloc[0]
    assert b0["bar0_local"] == "2026-01-06 17:30 JST"        # the first bar opening after 17:25 JST
    from eventstudy.pipeline.intraday import bar0_audit      # the audit alone (eventstudy events --bars): the same rows
    pd.testing.assert_frame_equal(bar0_audit(ev, load_bars(ose_file, ticker="NIKKEI225MINI.OSE")), run.bar0)
    raw = _raw_sessions(ose_file)
    night = next(s for s in raw if s["trading_date"] == "2026-01-07" and s["session"] == "night")
    day = next(s for s in raw if s["trading_date"] == "2026-01-06" and s["session"] == "day")
    assert (day["close"], night["close"], night["prev_close"]) == (52690.0, 52055.0, 52690.0)
    daily = {r["date"]: float(r["close"]) for r in csv.DictReader(open(shared_dir / "data" / "market" / "mahoganin_ose_nk225mini_daily.csv"))}
    assert daily["2026-01-06"] == 52690.0                      # the daily file's close is the same day close
    row = run.reactions[run.reactions["window"] == "whole session"].iloc[0]
    assert (row["from_price"], row["to_price"]) == (52690.0, 52055.0)
    assert row["ret"] == pytest.approx(52055 / 52690 - 1, abs=1e-12)
    assert round(row["ret"] * 100, 2) == -1.21

    # its test: the same window (night session from the previous close) on the 120 earlier night sessions,
    # computed here from the csv rows, leaving out the roll session (night of LTD 2025-12-11 -> trading date 12-12)
    earlier = [s for s in raw if s["session"] == "night" and s["trading_date"] < "2026-01-07" and s["prev_close"]
               and s["trading_date"] != "2025-12-12"][-120:]
    sample = np.log([s["close"] / s["prev_close"] for s in earlier])
    x = math.log(52055 / 52690)
    ref_t = stats.ttest_ind(sample, [x], equal_var=True)
    assert row["n_est"] == len(sample)
    assert row["t"] == pytest.approx(-ref_t.statistic) and row["p_t"] == pytest.approx(ref_t.pvalue)
    n = len(sample)
    lower = (1 + np.sum(sample <= x)) / (n + 1)
    upper = (1 + np.sum(sample >= x)) / (n + 1)
    assert row["p_ghk"] == pytest.approx(min(1, 2 * min(lower, upper)))
    rest = run.reactions[run.reactions["window"] == "rest of session"].iloc[0]
    assert rest["from_price"] == 52335.0 and rest["ret"] == pytest.approx(52055 / 52335 - 1)   # from the 17:15 bar's close


def test_reaction_clock_of_the_travel_advisory_and_the_dual_use_ban(ose_file, shared_dir):
    from eventstudy.data.bars import load_bars
    from eventstudy.pipeline.intraday import intraday_study

    jq = shared_dir / "data" / "market" / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not jq.exists():
        pytest.skip("J-Quants prices not available")
    px = pd.read_csv(jq)
    px = px[px["ticker"].isin(["^N225", "^GSPC"])][["date", "ticker", "open", "close"]]
    px["date"] = pd.to_datetime(px["date"])
    ev = pd.DataFrame({"event_id": ["travel_advisory", "dual_use_ban"],
                       "announced_at": [pd.Timestamp("2025-11-14 22:00", tz="Asia/Shanghai"),
                                        pd.Timestamp("2026-01-06 16:25", tz="Asia/Shanghai")]})
    run = intraday_study(ev, load_bars(ose_file, ticker="NIKKEI225MINI.OSE"), daily=px)
    c = run.clock
    tr = c[c["event_id"] == "travel_advisory"]
    assert list(zip(tr["instrument"], tr["leg"])) == [
        ("NIKKEI225MINI.OSE", "night session"), ("NIKKEI225MINI.OSE", "night session (from bar 0)"),
        ("^GSPC", "overnight leg"), ("^GSPC", "intraday leg"),
        ("NIKKEI225MINI.OSE", "day session"), ("^N225", "overnight leg"), ("^N225", "intraday leg")]
    # PROVENANCE: the Friday night session 50,320 -> 50,440 (+0.24%); Monday's day session 50,440 -> 50,270
    assert tr.iloc[0][["from_price", "to_price"]].tolist() == [50320.0, 50440.0]
    assert tr.iloc[4][["from_price", "to_price"]].tolist() == [50440.0, 50270.0]
    du = c[c["event_id"] == "dual_use_ban"]
    n225 = du[(du["instrument"] == "^N225") & (du["leg"] == "overnight leg")].iloc[0]
    assert n225["ret"] == pytest.approx(52144.64 / 52518.08 - 1)          # Tokyo cash's open gap on 01-07
    assert pd.Timestamp(n225["trading_date"]) == pd.Timestamp("2026-01-07")
    assert du["order"].tolist() == list(range(1, len(du) + 1))
    assert (np.diff([pd.Timestamp(t).value for t in du["start_utc"]]) >= 0).all()


def test_placebo_size_on_simulated_bars_with_a_time_of_day_pattern():
    """Simulated bars with a known null (no event anywhere) and volatility that differs by session and by
    time of day (opening bars 3x): both tests reject about 10% of placebo windows at the 10% level."""
    from bar_fixtures import synthetic_bars

    from eventstudy.pipeline.intraday import placebo_windows

    frame, sess, v = synthetic_bars("OSE", "2025-01-06", "2025-07-31")
    rng = np.random.default_rng(11)
    scale = np.where(frame["session"] == "night", 0.0015, 0.001) * np.where(frame["slot"] < 30, 3.0, 1.0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1, len(frame)) * scale))
    frame = frame.assign(close=close, open=np.r_[100.0, close[:-1]])
    legs = bar_legs(frame)
    first_night = np.flatnonzero((legs["session"] == "night") & legs["first"])
    res = placebo_windows(legs, "session", first_night, n_sessions=60, min_est=40)
    assert len(res) > 80 and (res["n_est"] >= 40).all()
    for col in ("p_t", "p_ghk"):
        rate = float((res[col] <= 0.10).mean())
        assert 0.03 <= rate <= 0.19, (col, rate)
    # a p-value is never below the smallest attainable 2/(n+1)
    assert (res["p_ghk"] >= 2 / (res["n_est"] + 1) - 1e-12).all()


def test_time_until_gives_both_ends():
    from eventstudy.errors import EventsFileError
    from eventstudy.inputs.intervals import announcement_until

    ev = pd.DataFrame({"event_id": ["a", "b", "c"], "time_until": ["16:25", "", "01:10"],
                       "announced_at": [pd.Timestamp("2026-01-06 15:00", tz="Asia/Shanghai"), pd.NaT,
                                        pd.Timestamp("2026-01-06 23:50", tz="Asia/Tokyo")]})
    u = announcement_until(ev)
    assert u[0] == pd.Timestamp("2026-01-06 16:25", tz="Asia/Shanghai") and pd.isna(u[1])
    assert u[2] == pd.Timestamp("2026-01-07 01:10", tz="Asia/Tokyo")      # earlier clock time: the next day
    with pytest.raises(EventsFileError, match="event a: time_until '25:00' is not a time"):
        announcement_until(ev.assign(time_until=["25:00", "", ""]))
    with pytest.raises(EventsFileError, match="event b: time_until '10:00' needs a time"):
        announcement_until(ev.assign(time_until=["", "10:00", ""]))


def test_interval_on_the_real_bars_reports_each_end(ose_file):
    from eventstudy.data.bars import load_bars
    from eventstudy.pipeline.intraday import intraday_study

    ev = pd.DataFrame({"event_id": ["dual_use_ban"], "time_until": ["16:25"],
                       "announced_at": [pd.Timestamp("2026-01-06 16:00", tz="Asia/Shanghai")]})
    run = intraday_study(ev, load_bars(ose_file, ticker="NK"), windows=["rest"])
    assert list(run.bar0["end"]) == ["earliest", "latest"]
    assert list(run.bar0["bar0_local"]) == ["2026-01-06 17:00 JST", "2026-01-06 17:30 JST"]
    r = run.reactions.set_index("end")
    # earliest end: bar 0 opens the night session, so 'rest' starts at the day close; latest: from the 17:15 close
    assert (r.loc["earliest", "from_price"], r.loc["latest", "from_price"]) == (52690.0, 52335.0)
    assert "the 2 bar(s) from 2026-01-06 17:00 JST before it may precede the news" in run.bar0["reason"].iloc[1]


def test_daily_leg_test_recomputed_from_the_raw_rows(ose_file, shared_dir):
    """The Tokyo open gap of 2026-01-07 in the dual-use clock: t and GHK p against the 120 earlier ^N225
    overnight legs (the travel advisory's reacting session 2025-11-17 left out), from the csv rows."""
    from eventstudy.data.bars import load_bars, read_daily_ohlc
    from eventstudy.pipeline.intraday import intraday_study

    jq = shared_dir / "data" / "market" / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not jq.exists():
        pytest.skip("J-Quants prices not available")
    rows = sorted((r["date"], float(r["open"]), float(r["close"])) for r in csv.DictReader(open(jq)) if r["ticker"] == "^N225")
    legs = {d: o / rows[i - 1][2] - 1 for i, (d, o, c) in enumerate(rows) if i > 0}
    before = [d for d in sorted(legs) if d < "2026-01-07"][-120:]
    sample = np.log1p([legs[d] for d in before if d != "2025-11-17"])
    x = math.log1p(legs["2026-01-07"])
    ev = pd.DataFrame({"event_id": ["travel_advisory", "dual_use_ban"],
                       "announced_at": [pd.Timestamp("2025-11-14 22:00", tz="Asia/Shanghai"),
                                        pd.Timestamp("2026-01-06 16:25", tz="Asia/Shanghai")]})
    run = intraday_study(ev, load_bars(ose_file, ticker="NK"), daily=read_daily_ohlc(jq, ["^N225"]))
    row = run.clock[(run.clock["event_id"] == "dual_use_ban") & (run.clock["leg"] == "overnight leg")].iloc[0]
    ref = stats.ttest_ind(sample, [x], equal_var=True)
    assert row["n_est"] == len(sample) == 119
    assert row["t"] == pytest.approx(-ref.statistic) and row["p_t"] == pytest.approx(ref.pvalue)
    n = len(sample)
    p = min(1, 2 * min((1 + np.sum(sample <= x)) / (n + 1), (1 + np.sum(sample >= x)) / (n + 1)))
    assert row["p_ghk"] == pytest.approx(p)


def test_benchmark_regressor_against_statsmodels():
    """Market model on a benchmark's return over the same instants: beta, the prediction-error t (statsmodels
    OLS prediction: obs se = sqrt(scale + mean_se^2), n - 2 d.o.f.) and GHK on the residuals."""
    import statsmodels.api as sm
    from bar_fixtures import synthetic_bars

    from eventstudy.data.bars import bars_from_frame
    from eventstudy.estimation.intraday import estimation_anchors, same_time_windows
    from eventstudy.pipeline.intraday import intraday_study, roll_sessions
    from eventstudy.returns.intraday import IntradayWindow

    frame, sess, v = synthetic_bars("OSE", "2025-12-15", "2026-03-05")
    rng = np.random.default_rng(2)
    b = np.cumsum(rng.normal(0, 0.002, len(frame)))
    x = 0.5 * b + np.cumsum(rng.normal(0, 0.001, len(frame)))
    rows = []
    for name, lp in (("X", x), ("B", b)):
        c = 100 * np.exp(lp)
        o = np.r_[100.0, c[:-1]]
        rows.append(pd.DataFrame({"ticker": name, "bar_open_utc": frame["bar_open_utc"], "open": o, "close": c,
                                  "high": np.maximum(o, c), "low": np.minimum(o, c)}))
    bars = bars_from_frame(pd.concat(rows, ignore_index=True))
    ev = pd.DataFrame({"event_id": ["e"], "announced_at": [pd.Timestamp("2026-02-26 17:25+09:00")]})
    run = intraday_study(ev, bars, ticker="X", venue="OSE", windows=["session"], benchmark="B")
    row = run.reactions.iloc[0]
    # independent: the benchmark's own window returns at the same bar positions (same grid), statsmodels OLS
    from eventstudy.calendars.venues import assign_sessions, venue
    from eventstudy.returns.intraday import bar_legs, window_return

    bl = bar_legs(assign_sessions(bars.of("B"), venue("OSE"))[0])
    legs, w = run.legs, IntradayWindow("session")
    pos = int(run.bar0["bar0_pos"].iloc[0])
    excl = roll_sessions(run.sessions)
    sx, kept = same_time_windows(legs, pos, w, estimation_anchors(legs, pos, 120, excl), excl)
    sb = np.array([window_return(bl, int(k), w)["logret"] for k in kept])
    fit = sm.OLS(sx, sm.add_constant(sb)).fit()
    be = window_return(bl, pos, w)["logret"]
    pred = fit.get_prediction(np.array([[1.0, be]])).summary_frame()
    xe = window_return(legs, pos, w)["logret"]
    t = (xe - pred["mean"].iloc[0]) / np.sqrt(fit.scale + pred["mean_se"].iloc[0] ** 2)
    assert row["beta"] == pytest.approx(fit.params[1]) and 0.3 < row["beta"] < 0.7
    assert row["t"] == pytest.approx(t) and row["df"] == len(sx) - 2 == row["n_est"] - 2
    assert row["p_t"] == pytest.approx(2 * stats.t.sf(abs(t), len(sx) - 2))
    resid = fit.resid
    n = len(resid)
    ar = xe - pred["mean"].iloc[0]
    assert row["ar"] == pytest.approx(ar)
    assert row["p_ghk"] == pytest.approx(min(1, 2 * min((1 + np.sum(resid <= ar)) / (n + 1), (1 + np.sum(resid >= ar)) / (n + 1))))
