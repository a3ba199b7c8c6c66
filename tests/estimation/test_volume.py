"""Abnormal log volume: data layer, regressors, the batched fit against statsmodels, the battery against
hand computations, size and power by seeded simulation, bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eventstudy.data.simulated_measures import simulate_volume
from eventstudy.data.volume import VolumeDataError, read_volume_file, volume_from_frame
from eventstudy.engine.measures import abnormal_volume, volume_regressors
from eventstudy.errors import EstimationError
from eventstudy.estimation.volume import calendar_dummies, holiday_adjacent, log_volume, market_log_volume


# ---------------------------------------------------------------- data layer
def test_volume_file_long_to_wide(tmp_path):
    p = tmp_path / "ohlcv.csv"
    p.write_text("date,ticker,close,volume\n2025-01-06,A.T,10,100\n2025-01-07,A.T,11,\n"
                 "2025-01-06,B.T,5,2000\n2025-01-07,B.T,5,0\n")
    w = read_volume_file(p)
    assert list(w.columns) == ["A.T", "B.T"]
    assert w.loc["2025-01-06", "A.T"] == 100 and np.isnan(w.loc["2025-01-07", "A.T"])
    assert w.loc["2025-01-07", "B.T"] == 0
    assert list(read_volume_file(p, tickers=["B.T"]).columns) == ["B.T"]


@pytest.mark.parametrize("body, words", [
    ("date,ticker,close\n2025-01-06,A.T,10\n", ["no volume column", "ohlcv.csv"]),
    ("date,ticker,volume\n2025-01-06,A.T,abc\n", ["line 2", "'abc'", "A.T"]),
    ("date,ticker,volume\n2025-01-06,A.T,10\n2025-01-07,A.T,-5\n", ["line 3", "-5"]),
    ("date,ticker,volume\n2025-01-06,A.T,10\n2025-01-06,A.T,11\n", ["lines 2 and 3", "twice"]),
    ("date,ticker,volume\n2025-13-45,A.T,10\n", ["line 2", "not a date"]),
])
def test_bad_volume_file_named(tmp_path, body, words):
    p = tmp_path / "ohlcv.csv"
    p.write_text(body)
    with pytest.raises(VolumeDataError) as exc:
        read_volume_file(p)
    for w in words:
        assert w in str(exc.value)


def test_missing_volume_file(tmp_path):
    with pytest.raises(VolumeDataError, match="does not exist"):
        read_volume_file(tmp_path / "nope.csv")


# ---------------------------------------------------------------- regressors (hand-worked)
def test_log_and_market_volume_hand_worked():
    v = pd.DataFrame({"A": [0.0, 9.0, np.nan], "B": [99.0, np.nan, 3.0]},
                     index=pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08"]))
    lv = log_volume(v)
    assert lv.iloc[0, 0] == 0.0 and lv.iloc[1, 0] == pytest.approx(np.log(10))
    m = market_log_volume(lv)
    assert m.iloc[0] == pytest.approx((0 + np.log(100)) / 2)
    assert m.iloc[1] == pytest.approx(np.log(10)) and m.iloc[2] == pytest.approx(np.log(4))
    assert np.isnan(market_log_volume(lv, min_count=2).iloc[1])


def test_calendar_dummies_hand_worked():
    # Mon 6 .. Fri 17 January 2025 with Wednesday the 8th and Monday the 13th (a holiday) missing
    s = pd.DatetimeIndex(["2025-01-06", "2025-01-07", "2025-01-09", "2025-01-10", "2025-01-14", "2025-01-15",
                          "2025-01-16", "2025-01-17"])
    assert holiday_adjacent(s).tolist() == [False, True, True, True, True, False, False, False]
    d = calendar_dummies(s)
    assert list(d.columns) == ["dow_tue", "dow_wed", "dow_thu", "dow_fri", "holiday_adjacent"]
    assert d["dow_tue"].tolist() == [0, 1, 0, 0, 1, 0, 0, 0] and d["dow_fri"].tolist() == [0, 0, 0, 1, 0, 0, 0, 1]
    assert list(calendar_dummies(s, "dow").columns) == ["dow_tue", "dow_wed", "dow_thu", "dow_fri"]
    assert calendar_dummies(s, "none").shape == (8, 0)


# ---------------------------------------------------------------- the fit against statsmodels
def _small():
    vol, pairs = simulate_volume(n_sec=6, n_days=420, events=3, spike=0.4, seed=3, n_market=40)
    return vol, pairs


def test_abnormal_volume_equals_statsmodels_ols():
    sm = pytest.importorskip("statsmodels.api")
    vol, pairs = _small()
    res = abnormal_volume(vol, pairs, windows=[(0, 0), (0, 2)], estimation=(-200, -11))
    lv = np.log1p(vol)
    mkt = lv.mean(axis=1)                                 # every column has volume every day here
    regs = volume_regressors(log_volume(vol))
    assert np.allclose(regs["market_log_volume"], mkt, atol=1e-12)
    dates = lv.index
    checked = 0
    for _, p in pairs.iloc[[0, 7, 17]].iterrows():
        i0 = dates.get_loc(p["day0"])
        est = slice(i0 - 200, i0 - 10)
        X = pd.concat([mkt, calendar_dummies(dates)], axis=1).to_numpy()
        X = sm.add_constant(X, has_constant="add")
        ols = sm.OLS(lv[p["ticker"]].to_numpy()[est], X[est]).fit()
        prm = res.params[(res.params["ticker"] == p["ticker"]) & (res.params["event_id"] == p["event_id"])].iloc[0]
        assert prm["beta_market_log_volume"] == pytest.approx(ols.params[1], abs=1e-8)
        assert prm["beta_holiday_adjacent"] == pytest.approx(ols.params[-1], abs=1e-8)
        assert prm["sigma"] == pytest.approx(np.sqrt(ols.scale), rel=1e-8)
        win = slice(i0, i0 + 3)
        av = lv[p["ticker"]].to_numpy()[win] - X[win] @ ols.params
        ar = res.ar[(res.ar["ticker"] == p["ticker"]) & (res.ar["event_id"] == p["event_id"])].sort_values("rel_day")
        assert np.allclose(ar["ar"].to_numpy()[:3], av, atol=1e-8)
        car = res.car[(res.car["ticker"] == p["ticker"]) & (res.car["event_id"] == p["event_id"])
                      & (res.car["window_end"] == 2)].iloc[0]
        assert car["car"] == pytest.approx(av.sum(), abs=1e-8)
        # Var(CAV) = s^2 (L + 1' X* (X'X)^-1 X*' 1): the prediction error of the sum (docs/METHODS.md section 3)
        xs = X[win].sum(axis=0)
        var = ols.scale * (3 + xs @ np.linalg.inv(X[est].T @ X[est]) @ xs)
        assert car["car_se"] == pytest.approx(np.sqrt(var), rel=1e-8)
        assert np.isnan(car["bhar"])
        checked += 1
    assert checked == 3


def test_volume_battery_against_scipy():
    vol, pairs = _small()
    res = abnormal_volume(vol, pairs, windows=[(0, 1)], estimation=(-200, -11), pooled_group=None)
    for e in pairs["event_id"].unique():
        c = res.car[res.car["event_id"] == e]
        t = res.tests[res.tests["event_id"] == e].set_index("test")
        ref = stats.ttest_1samp(c["car"], 0.0)
        assert t.loc["t_cross_section", "statistic"] == pytest.approx(ref.statistic, rel=1e-10)
        assert t.loc["t_cross_section", "p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
        bmp = stats.ttest_1samp(c["scar"], 0.0)
        assert t.loc["bmp", "statistic"] == pytest.approx(bmp.statistic, rel=1e-10)
        assert t.loc["t_cross_section", "caar"] == pytest.approx(c["car"].mean(), rel=1e-12)


def test_abnormal_volume_bad_input():
    vol, pairs = _small()
    with pytest.raises(EstimationError, match="no volume for ZZZ"):
        abnormal_volume(vol, pd.concat([pairs, pairs.iloc[[0]].assign(ticker="ZZZ")]))
    with pytest.raises(EstimationError, match="unknown volume calendar"):
        abnormal_volume(vol, pairs, calendar="weekly")
    with pytest.raises(EstimationError, match="market volume ticker"):
        abnormal_volume(vol, pairs, market="NOPE")


# ---------------------------------------------------------------- size and power (seeded)
def test_volume_size_and_power_seeded():
    """Null: the rank test (Corrado) and the generalized sign test reject near 5%; a +0.3 log-point
    spike (+35% volume) on 30 securities is found nearly always. 60 cells: a correct 5% rate lies
    below 0.15 with probability > 0.999."""
    rates = {}
    for spike in (0.0, 0.3):
        vol, pairs = simulate_volume(n_sec=30, events=60, spike=spike, seed=11, n_market=100)
        t = abnormal_volume(vol, pairs, windows=[(0, 0)], pooled_group=None).tests
        rates[spike] = t.groupby("test")["p_value"].apply(lambda p: float(np.mean(p < 0.05)))
    for test in ("corrado", "sign_generalized", "bmp", "kolari_pynnonen"):
        assert rates[0.0][test] <= 0.15, (test, rates[0.0][test])
        assert rates[0.3][test] >= 0.8, (test, rates[0.3][test])


def test_volume_from_numeric_frame():
    f = pd.DataFrame({"Date": ["2025-01-06", "2025-01-06"], "Ticker": ["X", "Y"], "Volume": [5.0, np.nan]})
    w = volume_from_frame(f, tickers=["Y", "X", "Z"])
    assert list(w.columns) == ["Y", "X", "Z"] and w.iloc[0, 1] == 5.0 and w.iloc[0, [0, 2]].isna().all()
    with pytest.raises(VolumeDataError, match="line 3: volume -1 of Y"):
        volume_from_frame(f.assign(Volume=[5.0, -1.0]))


def test_turnover_from_shares_outstanding(tmp_path):
    """A shares_outstanding column makes the panel turnover (an empty cell: that day missing), logged as
    ln(0.000255 + 100 T) (Campbell & Wasley 1996); a file without it stays volume, ln(1 + V)."""
    f = tmp_path / "v.csv"
    f.write_text("date,ticker,close,volume,shares_outstanding\n2024-01-04,A,10,200,1000\n2024-01-05,A,11,300,\n"
                 "2024-01-04,B,5,50,500\n2024-01-05,B,5,0,500\n")
    w = read_volume_file(f)
    assert w.attrs["measure"] == "turnover"
    assert w.loc["2024-01-04", "A"] == pytest.approx(0.2) and np.isnan(w.loc["2024-01-05", "A"])
    assert w.loc["2024-01-05", "B"] == 0.0
    lv = log_volume(w)
    assert lv.loc["2024-01-04", "A"] == pytest.approx(np.log(0.000255 + 20.0))
    assert lv.loc["2024-01-05", "B"] == pytest.approx(np.log(0.000255))
    plain = read_volume_file(f.parent / "v.csv", tickers=["B"])
    assert plain.attrs["measure"] == "turnover"
    f2 = tmp_path / "v2.csv"
    f2.write_text("date,ticker,volume\n2024-01-04,A,200\n")
    assert read_volume_file(f2).attrs["measure"] == "volume"
    assert log_volume(read_volume_file(f2)).iloc[0, 0] == pytest.approx(np.log(201.0))


@pytest.mark.parametrize("cell", ["0", "-5", "many"])
def test_bad_shares_outstanding_named(tmp_path, cell):
    f = tmp_path / "v.csv"
    f.write_text(f"date,ticker,volume,shares_outstanding\n2024-01-04,A,200,1000\n2024-01-05,A,300,{cell}\n")
    with pytest.raises(VolumeDataError, match=r"line 3: shares_outstanding .* of A is not a number of shares > 0"):
        read_volume_file(f)


def test_abnormal_turnover_with_constant_shares_equals_scaled_volume():
    vol, pairs = simulate_volume(n_sec=5, events=3, seed=4, n_market=20)
    shares = pd.Series(np.random.default_rng(1).uniform(1e6, 5e6, vol.shape[1]), index=vol.columns)
    turn = vol / shares
    turn.attrs["measure"] = "turnover"
    a = abnormal_volume(turn, pairs, windows=[(0, 1)], pooled_group=None)
    # the whole measure on turnover equals the volume path fed ln(0.000255 + 100 V / S) computed here by hand
    b_in = np.log(0.000255 + 100 * vol.to_numpy() / shares.to_numpy())
    ref = pd.DataFrame(np.exp(b_in) - 1.0, index=vol.index, columns=vol.columns)     # ln(1 + ref) = b_in
    b = abnormal_volume(ref, pairs, windows=[(0, 1)], pooled_group=None)
    np.testing.assert_allclose(a.car["car"].to_numpy(), b.car["car"].to_numpy(), rtol=1e-8, atol=1e-9)
