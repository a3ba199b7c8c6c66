"""The batched engine against independent computations (statsmodels OLS per security,
the event-dummy regression, hand-worked cases), and its handling of bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from eventstudy.engine.model import EventStudy
from eventstudy.errors import EstimationError, WindowError
from eventstudy.inference.cross_section import cross_sectional_regression
from eventstudy.inference.regression import dummy_regression, event_dummy_regressions

TOL = 1e-10


def make_panel(n=6, T=420, seed=1, factors=1):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", periods=T)
    F = rng.normal(0, 0.01, (T, factors))
    cols = {}
    for i in range(n):
        b = rng.uniform(0.3, 1.5, factors)
        cols[f"S{i}"] = 0.0003 * i + F @ b + rng.normal(0, 0.01 + 0.004 * i, T)
    df = pd.DataFrame(cols, index=dates)
    for j in range(factors):
        df[f"F{j}"] = F[:, j]
    return df


def per_security_reference(y: pd.Series, X: pd.DataFrame, est_pos, win_pos):
    """statsmodels OLS on the estimation days, prediction-error covariance on the window."""
    ye, Xe = y.iloc[est_pos], X.iloc[est_pos]
    ok = ye.notna() & Xe.notna().all(axis=1)
    ols = sm.OLS(ye[ok], Xe[ok]).fit()
    Xw = X.iloc[win_pos].to_numpy()
    ar = y.iloc[win_pos].to_numpy() - Xw @ ols.params.to_numpy()
    V = ols.scale * (np.eye(len(win_pos)) + Xw @ np.asarray(ols.normalized_cov_params) @ Xw.T)
    return ols, ar, V


@pytest.mark.parametrize("model,nf", [("market", 1), ("constant_mean", 1), ("factor", 2)])
def test_batched_estimates_match_statsmodels(model, nf):
    df = make_panel(factors=nf)
    df.iloc[40:55, 1] = np.nan          # a gap in the estimation window: M_1 smaller
    df.iloc[100:103, 3] = np.nan
    day0 = df.index[330]
    tickers = [c for c in df.columns if c.startswith("S")]
    pairs = pd.DataFrame({"ticker": tickers, "event_id": "E1", "day0": day0})
    kw = dict(benchmark="F0") if model == "market" else dict(factors=["F0", "F1"]) if model == "factor" else {}
    res = EventStudy(df, pairs, model=model, estimation=(-250, -11), windows=[(0, 0), (-2, 3)], **kw).fit()
    p0 = 330
    est_pos = np.arange(p0 - 250, p0 - 10)
    win_pos = np.arange(p0 - 2, p0 + 4)
    for t in tickers:
        if model == "constant_mean":
            X = pd.DataFrame({"const": 1.0}, index=df.index)
        elif model == "market":
            X = sm.add_constant(df[["F0"]])
        else:
            X = sm.add_constant(df[["F0", "F1"]])
        ols, ar, V = per_security_reference(df[t], X, est_pos, win_pos)
        prm = res.params.set_index("ticker").loc[t]
        assert abs(prm["const"] - ols.params.iloc[0]) < TOL
        assert abs(prm["sigma"] - np.sqrt(ols.scale)) < TOL
        assert prm["m_obs"] == ols.nobs
        if model == "market":
            assert abs(prm["beta"] - ols.params.iloc[1]) < TOL
        ars = res.ar[(res.ar.ticker == t)].set_index("rel_day")
        np.testing.assert_allclose(ars.loc[-2:3, "ar"].to_numpy(), ar, atol=TOL, rtol=0)
        np.testing.assert_allclose(ars.loc[-2:3, "ar"].to_numpy() / ars.loc[-2:3, "sar"].to_numpy(),
                                   np.sqrt(np.diag(V)), atol=TOL, rtol=1e-9)
        c = res.car[(res.car.ticker == t) & (res.car.window_start == -2)].iloc[0]
        assert abs(c["car"] - ar.sum()) < TOL
        assert abs(c["car_se"] ** 2 - V.sum()) < TOL
        assert abs(c["scar"] - ar.sum() / np.sqrt(V.sum())) < 1e-8


def test_kolari_pynnonen_car_variance_formula():
    """Var(CAR) equals s^2 (L + L^2/M + (sum (Rm - Rbar))^2 / sum_est (Rm - Rbar)^2) for the market model."""
    df = make_panel(n=2)
    day0 = df.index[300]
    res = EventStudy(df, pd.DataFrame({"ticker": ["S0"], "event_id": "E", "day0": day0}),
                     model="market", benchmark="F0", windows=[(0, 4)]).fit()
    est = df["F0"].iloc[300 - 250:300 - 10]
    win = df["F0"].iloc[300:305]
    s2 = res.params["sigma"].iloc[0] ** 2
    M, L = len(est), 5
    expected = s2 * (L + L * L / M + ((win - est.mean()).sum()) ** 2 / ((est - est.mean()) ** 2).sum())
    assert abs(res.car["car_se"].iloc[0] ** 2 - expected) < 1e-14


def test_event_dummy_regression_identity():
    """Karafiath (1988): dummy coefficients = AR, their OLS SEs = sqrt(V[t,t]), sum test = SCAR."""
    df = make_panel(n=3)
    df.iloc[120:125, 0] = np.nan
    day0 = df.index[320]
    pairs = pd.DataFrame({"ticker": ["S0", "S1", "S2"], "event_id": "E", "day0": day0, "group": "g"})
    res = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(-1, 2)]).fit()
    a = res.arrays
    for i, t in enumerate(["S0", "S1", "S2"]):
        wm = (a.rel_days >= -1) & (a.rel_days <= 2)
        dr = dummy_regression(a.y[i], a.f[i], a.est_mask, wm, a.rel_days)
        ars = res.ar[res.ar.ticker == t].set_index("rel_day").loc[-1:2]
        np.testing.assert_allclose(dr.ar, ars["ar"].to_numpy(), atol=TOL, rtol=0)
        np.testing.assert_allclose(dr.ar_se, (ars["ar"] / ars["sar"]).to_numpy(), atol=TOL, rtol=1e-9)
        c = res.car[res.car.ticker == t].iloc[0]
        assert abs(dr.car - c["car"]) < TOL
        assert abs(dr.car_se - c["car_se"]) < TOL
        assert abs(dr.car_t - c["scar"]) < 1e-8
        assert abs(dr.car_p - c["p_value"]) < 1e-8
    # the tidy portfolio table: an equal-weighted portfolio of identical members is the member itself
    reg = event_dummy_regressions(res, by="ticker", cov_types=("OLS", "HAC"))
    car_rows = reg[(reg.term == "CAR") & (reg.cov_type == "OLS")].set_index("subject")
    for t in ["S0", "S1", "S2"]:
        assert abs(car_rows.loc[t, "coef"] - res.car.set_index("ticker").loc[t, "car"]) < TOL
    assert (reg.cov_type.str.startswith("HAC")).any()


def test_portfolio_regression_equals_mean_returns_regression():
    df = make_panel(n=4)
    day0 = df.index[300]
    pairs = pd.DataFrame({"ticker": ["S0", "S1", "S2", "S3"], "event_id": "E", "day0": day0, "group": "g"})
    res = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 1)]).fit()
    reg = event_dummy_regressions(res, by="group", cov_types=("OLS",))
    port = df[["S0", "S1", "S2", "S3"]].mean(axis=1)
    X = sm.add_constant(df[["F0"]])
    est_pos = np.arange(50, 290)
    ols, ar, V = per_security_reference(port, X, est_pos, np.arange(300, 302))
    row = reg[(reg.term == "CAR")].iloc[0]
    assert abs(row["coef"] - ar.sum()) < TOL
    assert abs(row["std_err"] - np.sqrt(V.sum())) < TOL


def test_market_adjusted_and_bhar_hand_case():
    dates = pd.bdate_range("2024-01-01", periods=30)
    m = np.tile([0.01, -0.01, 0.02], 10)
    s = m + np.tile([0.001, -0.002, 0.001, 0.0], 8)[:30]
    df = pd.DataFrame({"S": s, "M": m}, index=dates)
    pairs = pd.DataFrame({"ticker": ["S"], "event_id": "E", "day0": [dates[25]]})
    res = EventStudy(df, pairs, model="market_adjusted", benchmark="M", estimation=(-20, -1),
                     windows=[(0, 1)], min_obs=10).fit()
    ar_est = (s - m)[5:25]
    sd = np.std(ar_est, ddof=1)
    c = res.car.iloc[0]
    assert abs(c["car"] - ((s - m)[25] + (s - m)[26])) < 1e-15
    assert abs(c["car_se"] - sd * np.sqrt(2)) < 1e-15
    bh = (1 + s[25]) * (1 + s[26]) - (1 + m[25]) * (1 + m[26])
    assert abs(c["bhar"] - bh) < 1e-15


def test_own_trading_days_and_missing_is_missing():
    """Relative days follow each security's sessions; a missing return is counted, not shifted."""
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    all_days = pd.bdate_range("2024-01-01", periods=300)
    a_days = all_days.delete([100, 150])            # security A's market closes on two days
    ret = pd.DataFrame(rng.normal(0, 0.01, (300, 2)), index=all_days, columns=["A", "M"])
    ret.loc[~ret.index.isin(a_days), "A"] = np.nan
    ret.loc[a_days[200], "A"] = np.nan              # a suspension: a missing return on A's own session
    panel = SimpleNamespace(returns=ret, sessions={"A": a_days, "M": all_days}, kind="simple")
    day0 = a_days[260]
    res = EventStudy(panel, pd.DataFrame({"ticker": ["A"], "event_id": "E", "day0": [day0]}),
                     model="market", benchmark="M", estimation=(-100, -2), windows=[(-1, 1)]).fit()
    ars = res.ar.set_index("rel_day")
    assert ars.loc[-1, "date"] == a_days[259] and ars.loc[1, "date"] == a_days[261]
    # estimation days are A's sessions 160..258: 99 days, one of them missing
    assert res.params["m_obs"].iloc[0] == 98


def test_bad_input_exclusions_are_reported():
    df = make_panel(n=3)
    df["CONST"] = 0.0
    df["S1"] = np.nan                               # NaN-only series
    df.iloc[:300, 2] = np.nan                       # S2: short history: days 300..319 = 20 obs
    day0 = df.index[330]
    pairs = pd.DataFrame({"ticker": ["S0", "S1", "S2", "NOPE"], "event_id": "E", "day0": day0})
    res = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 0)]).fit()
    ex = res.exclusions.set_index("ticker")["reason"]
    assert "no returns in the estimation window" in ex["S1"]
    assert "too few estimation observations: M=20" in ex["S2"]
    assert "NOPE" in ex["NOPE"] and "not in the price data" in ex["NOPE"]
    assert list(res.car["ticker"]) == ["S0"]
    res2 = EventStudy(df, pairs.iloc[:1], model="market", benchmark="CONST", windows=[(0, 0)])
    with pytest.raises(WindowError, match="constant over the estimation window"):
        res2.fit()          # the only pair cannot be estimated: a clear error, not an empty result


def test_window_outside_data_and_day0_not_session():
    df = make_panel(n=2, T=300)
    pairs = pd.DataFrame({"ticker": ["S0", "S1"], "event_id": ["E", "E"],
                          "day0": [df.index[297], pd.Timestamp("2023-01-07")]})  # a Saturday
    res = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 0), (0, 5)]).fit()
    ex = res.exclusions
    late = ex[(ex.ticker == "S0") & (ex.window_end == 5)]
    assert "after the last session in the data" in late["reason"].iloc[0]
    assert ((res.car.ticker == "S0") & (res.car.window_end == 0)).any()
    assert "not a trading session of S1" in ex[ex.ticker == "S1"]["reason"].iloc[0]


@pytest.mark.parametrize("est,wins,msg", [
    ((-250, -11), [(-20, 0)], "overlaps event window"),
    ((-250, -11), ["1;2"], "expected START,END"),
    ((-10, -250), [(0, 0)], "START must not be after END"),
])
def test_bad_windows(est, wins, msg):
    df = make_panel(n=1)
    with pytest.raises(WindowError, match=msg):
        EventStudy(df, pd.DataFrame({"ticker": ["S0"], "event_id": "E", "day0": df.index[300]}),
                   model="market", benchmark="F0", estimation=est, windows=wins)


def test_model_arguments_checked():
    df = make_panel(n=1)
    pairs = pd.DataFrame({"ticker": ["S0"], "event_id": "E", "day0": df.index[300]})
    with pytest.raises(EstimationError, match="needs a benchmark"):
        EventStudy(df, pairs, model="market")
    with pytest.raises(EstimationError, match="not a column"):
        EventStudy(df, pairs, model="factor", factors=["F0", "USDJPY"])
    with pytest.raises(EstimationError, match="unknown model"):
        EventStudy(df, pairs, model="capm")


def test_tests_table_and_summary():
    df = make_panel(n=8)
    day0 = df.index[330]
    pairs = pd.DataFrame({"ticker": [f"S{i}" for i in range(8)], "event_id": "E", "day0": day0,
                          "group": ["a"] * 4 + ["b"] * 4})
    res = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 0), (0, 2)]).fit()
    t = res.tests
    assert set(t["group"]) == {"a", "b", "all"}
    cell = t[(t.group == "a") & (t.window_end == 2) & (t.test == "t_cross_section")].iloc[0]
    cars = res.car[(res.car.group == "a") & (res.car.window_end == 2)]["car"]
    assert cell["n"] == 4 and abs(cell["caar"] - cars.mean()) < 1e-15
    from scipy import stats
    assert abs(cell["statistic"] - stats.ttest_1samp(cars, 0).statistic) < 1e-10
    s = res.summary()
    assert "kolari_pynnonen" in s and "[0,2]" in s


def test_cross_sectional_regression_group_means_and_hc3():
    rng = np.random.default_rng(5)
    groups = ["control"] * 6 + ["x"] * 5 + ["y"] * 7
    car = pd.DataFrame({"event_id": "E", "ticker": [f"T{i}" for i in range(18)], "group": groups,
                        "window_start": 0, "window_end": 1, "car": rng.normal(0, 0.02, 18)})
    rows, res = cross_sectional_regression(car, "E", (0, 1), base_group="control")
    means = car.groupby("group")["car"].mean() * 100
    coef = rows.set_index("term")["coef"]
    assert abs(coef["const (control)"] - means["control"]) < 1e-12
    assert abs(coef["group[x]"] - (means["x"] - means["control"])) < 1e-12
    # HC3 by hand: (X'X)^-1 X' diag(e^2/(1-h)^2) X (X'X)^-1
    X = np.column_stack([np.ones(18), car.group.eq("x"), car.group.eq("y")]).astype(float)
    yv = car["car"].to_numpy() * 100
    b = np.linalg.lstsq(X, yv, rcond=None)[0]
    e = yv - X @ b
    XtXi = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    cov = XtXi @ (X.T * (e ** 2 / (1 - h) ** 2)) @ X @ XtXi
    np.testing.assert_allclose(rows["std_err"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-10)


def test_hac_event_variance_by_hand_and_not_degenerate():
    """HAC AR/CAR variances: autocovariances of estimation residuals + Newey-West parameter covariance."""
    rng = np.random.default_rng(11)
    D = 300
    rel = np.arange(-260, 40)
    est = (rel >= -250) & (rel <= -11)
    win = (rel >= 0) & (rel <= 2)
    x = rng.normal(0, 0.01, D)
    u = np.zeros(D)
    eps = rng.normal(0, 0.01, D)
    for t in range(1, D):                       # AR(1) residuals, rho = 0.4
        u[t] = 0.4 * u[t - 1] + eps[t]
    y = 0.0002 + 0.9 * x + u
    hac = dummy_regression(y, x[:, None], est, win, rel, cov_type="HAC", maxlags=5)
    ols = dummy_regression(y, x[:, None], est, win, rel, cov_type="OLS")
    np.testing.assert_allclose(hac.ar, ols.ar, atol=1e-12)      # same point estimates
    # independent computation of the formula
    X = sm.add_constant(x[est])
    r = sm.OLS(y[est], X).fit(cov_type="HAC", cov_kwds={"maxlags": 5})
    e = r.resid
    n = len(e)
    g = [np.sum(e[: n - j] * e[j:]) / (n - 2) for j in range(3)]
    w = [1, 1 - 1 / 6, 1 - 2 / 6]
    Xw = sm.add_constant(x[win], has_constant="add")
    sx = Xw.sum(axis=0)
    v = 3 * g[0] + 2 * (2 * w[1] * g[1] + 1 * w[2] * g[2]) + sx @ r.cov_params() @ sx
    assert abs(hac.car_se - np.sqrt(v)) < 1e-14
    # positive autocorrelation: the HAC CAR SE is larger than the OLS one, and never collapses
    assert hac.car_se > ols.car_se
    assert np.all(hac.ar_se > 0.5 * ols.ar_se)


def test_closed_benchmark_market_counts_as_zero_return():
    """A Tokyo security benchmarked to a US index: on a US holiday the benchmark did not move (0),
    so the security's AR that day exists; a missing price on a benchmark session stays missing."""
    from types import SimpleNamespace

    rng = np.random.default_rng(8)
    days = pd.bdate_range("2024-01-01", periods=300)
    us_days = days.delete([270, 150])                       # two US holidays, one in the event window
    ret = pd.DataFrame(rng.normal(0, 0.01, (300, 2)), index=days, columns=["JP", "US"])
    ret.loc[~ret.index.isin(us_days), "US"] = np.nan
    ret.loc[days[100], "US"] = np.nan                       # a missing US price on a US session
    panel = SimpleNamespace(returns=ret, sessions={"JP": days, "US": us_days}, kind="simple")
    pairs = pd.DataFrame({"ticker": ["JP"], "event_id": "E", "day0": [days[268]]})
    res = EventStudy(panel, pairs, model="market", benchmark="US", estimation=(-200, -5), windows=[(0, 3)]).fit()
    ar = res.ar.set_index("date")
    a = res.params["const"].iloc[0]
    assert abs(ar.loc[days[270], "ar"] - (ret.loc[days[270], "JP"] - a)) < 1e-15   # benchmark closed: R_m = 0
    assert res.exclusions.empty
    # estimation days: 196, minus the US session with a missing price; the US holiday at 150 counts (R_m = 0)
    assert res.params["m_obs"].iloc[0] == 195


def test_cross_sectional_regression_on_a_numeric_characteristic():
    """CAR (%) on China sales share: the slope is cov/var by hand; HC3 errors from the sandwich."""
    rng = np.random.default_rng(9)
    share = pd.Series(rng.uniform(0, 0.5, 25), index=[f"T{i}" for i in range(25)], name="china_share")
    car = pd.DataFrame({"event_id": "E", "ticker": share.index, "group": "g", "window_start": 0,
                        "window_end": 1, "car": -0.04 * share.to_numpy() + rng.normal(0, 0.005, 25)})
    rows, res = cross_sectional_regression(car, "E", (0, 1), characteristics=share.to_frame())
    y = car["car"].to_numpy() * 100
    x = share.to_numpy()
    slope = np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1)
    coef = rows.set_index("term")["coef"]
    assert abs(coef["china_share"] - slope) < 1e-10
    assert abs(coef["const"] - (y.mean() - slope * x.mean())) < 1e-10
    X = np.column_stack([np.ones(25), x])
    e = y - X @ np.array([coef["const"], coef["china_share"]])
    XtXi = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    cov = XtXi @ (X.T * (e ** 2 / (1 - h) ** 2)) @ X @ XtXi
    np.testing.assert_allclose(rows["std_err"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-10)


@pytest.mark.parametrize("n_dates", [3, 70])
def test_chunking_and_gathering_do_not_change_numbers(n_dates):
    """Pairs with few shared day-0s (row-slice gathering, blocked OLS) or with 70 distinct day-0s (flat
    gathering, general OLS), split into many small chunks, give the numbers of each pair studied alone."""
    df = make_panel(n=8, T=520)
    df.iloc[200:204, 2] = np.nan
    dates = df.index[330:330 + 2 * n_dates:2]
    tickers = [f"S{i}" for i in range(8)]
    pairs = pd.DataFrame([(t, f"E{j}", d) for j, d in enumerate(dates) for t in tickers],
                         columns=["ticker", "event_id", "day0"])
    pairs = pairs.sample(frac=1.0, random_state=3).reset_index(drop=True)      # events interleaved
    es = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 0), (-1, 2)])
    whole = es.fit(chunk_pairs=20).car.set_index(["event_id", "ticker", "window_start"]).sort_index()
    for _, r in pairs.sample(6, random_state=1).iterrows():
        one = EventStudy(df, pairs.loc[[_]], model="market", benchmark="F0", windows=[(0, 0), (-1, 2)]).fit()
        for _, c in one.car.iterrows():
            w = whole.loc[(r["event_id"], r["ticker"], c["window_start"])]
            for col in ("car", "car_se", "scar", "bhar"):
                assert abs(w[col] - c[col]) < TOL, (r["event_id"], r["ticker"], col)
    one_chunk = es.fit(chunk_pairs=10 ** 9)           # 70 distinct day-0s in one chunk: the flat gather
    small = es.fit(chunk_pairs=20)
    pd.testing.assert_frame_equal(one_chunk.tests, small.tests, rtol=1e-10, atol=1e-12)
    pd.testing.assert_frame_equal(one_chunk.car.sort_values(["event_id", "ticker", "window_start"]).reset_index(drop=True),
                                  small.car.sort_values(["event_id", "ticker", "window_start"]).reset_index(drop=True),
                                  rtol=1e-10, atol=1e-12)


def test_engine_bootstrap_equals_per_cell_reference():
    """The engine's bootstrap row of each (event, group, window) cell, computed chunk by chunk, is
    stattests.bootstrap_caar on that cell's CARs and estimation residuals (pooled group included)."""
    from eventstudy.inference import reference as st

    df = make_panel(n=8, T=460)
    dates = [df.index[330], df.index[360]]
    pairs = pd.DataFrame([(f"S{i}", f"E{j}", d, "a" if i < 4 else "b") for j, d in enumerate(dates)
                          for i in range(8)], columns=["ticker", "event_id", "day0", "group"])
    es = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 0), (-1, 2)])
    res = es.fit(bootstrap=99, seed=3, chunk_pairs=8)
    a = res.arrays
    boot = res.tests[res.tests.test == "bootstrap"].set_index(["event_id", "group", "window_start"])
    ev, gr = a.pairs["event_id"].to_numpy(), a.pairs["group"].to_numpy()
    n_checked = 0
    for w in es.spec.windows:
        wm = es.spec.window_mask(w)
        from eventstudy.estimation import normal_returns as models
        cs = models.car_stats(a.fit, a.f, wm)
        est_ar = a.fit.ar[:, a.est_mask]
        with np.errstate(invalid="ignore", divide="ignore"):
            est_sar = est_ar / np.sqrt(a.fit.s2)[:, None]
        for e in ("E0", "E1"):
            for g in ("a", "b", "all"):
                sel = (ev == e) & ((gr == g) if g != "all" else True) & a.ok & np.isfinite(cs["car"])
                ref = st.bootstrap_caar(cs["car"][sel], est_ar[sel], int(wm.sum()), n_boot=99, seed=3,
                                        statistic="caar", scar=cs["scar"][sel], est_sar=est_sar[sel], k=es.k)
                row = boot.loc[(e, g, w[0])]
                assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
                assert row["p_value"] == pytest.approx(ref.p_value, rel=1e-12)
                n_checked += 1
    assert n_checked == 12


def test_engine_bootstrap_every_pseudo_window_is_recorded_and_bad_values_are_refused():
    """bootstrap=None (every pseudo-window) is what bootstrap_caar(n_boot=None) gives per cell, and the
    result records None, not 0; a negative or fractional number of draws is a clear error."""
    from eventstudy.estimation import normal_returns as models
    from eventstudy.inference import reference as st

    df = make_panel(n=6, T=400)
    pairs = pd.DataFrame([(f"S{i}", "E0", df.index[330], "a") for i in range(6)],
                         columns=["ticker", "event_id", "day0", "group"])
    es = EventStudy(df, pairs, model="market", benchmark="F0", windows=[(0, 1)], pooled_group=None)
    res = es.fit(bootstrap=None)
    assert res.bootstrap is None
    a = res.arrays
    wm = es.spec.window_mask((0, 1))
    cs = models.car_stats(a.fit, a.f, wm)
    est_ar = a.fit.ar[:, a.est_mask]
    ref = st.bootstrap_caar(cs["car"], est_ar, 2, n_boot=None, statistic="caar", k=es.k)
    row = res.tests[res.tests.test == "bootstrap"].iloc[0]
    assert row["p_value"] == pytest.approx(ref.p_value, rel=1e-12)
    assert es.fit(bootstrap=0).bootstrap == 0 and "bootstrap" not in set(es.fit().tests["test"])
    for bad in (-1, 2.5, True):
        with pytest.raises(EstimationError, match=r"bootstrap=.*number of draws >= 0"):
            es.fit(bootstrap=bad)


def test_timed_or_tz_aware_day0_is_refused_with_a_pointer_to_map_day0():
    from eventstudy.errors import WindowError

    days = pd.bdate_range("2024-01-01", periods=300)
    rng = np.random.default_rng(0)
    ret = pd.DataFrame({"A": rng.normal(0, 0.01, 300), "M": rng.normal(0, 0.01, 300)}, index=days)
    for day0, what in ((days[280] + pd.Timedelta(hours=16, minutes=25), "has a time of day"),
                       (pd.Timestamp(days[280]).tz_localize("Asia/Tokyo"), "has a timezone")):
        pairs = pd.DataFrame({"ticker": ["A"], "event_id": ["e"], "day0": [day0]})
        with pytest.raises(WindowError, match=f"day0 .*{what}.*eventstudy.calendars.map_day0"):
            EventStudy(ret, pairs, benchmark="M")
    ok = pd.DataFrame({"ticker": ["A"], "event_id": ["e"], "day0": [days[280]]})
    assert EventStudy(ret, ok, benchmark="M").fit().car["car"].notna().all()


def test_result_pickles_and_recomputes_the_same_arrays():
    """A result can be pickled (e.g. sent between processes) and still recomputes its dense arrays."""
    import pickle

    days = pd.bdate_range("2024-01-01", periods=320)
    rng = np.random.default_rng(0)
    m = rng.normal(0, 0.01, 320)
    ret = pd.DataFrame({"A": 0.8 * m + rng.normal(0, 0.01, 320), "B": 1.2 * m + rng.normal(0, 0.01, 320), "M": m},
                       index=days)
    pairs = pd.DataFrame({"ticker": ["A", "B"], "event_id": ["e", "e"], "day0": [days[290], days[290]]})
    res = EventStudy(ret, pairs, benchmark="M").fit()
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.car, res.car)
    pd.testing.assert_frame_equal(back.tests, res.tests)
    np.testing.assert_array_equal(back.arrays.fit.ar, res.arrays.fit.ar)
    pd.testing.assert_frame_equal(back.residual_corr("e"), res.residual_corr("e"))


def test_constant_benchmark_is_named_in_the_exclusion():
    days = pd.bdate_range("2024-01-01", periods=320)
    rng = np.random.default_rng(1)
    m = rng.normal(0, 0.01, 320)
    ret = pd.DataFrame({"A": rng.normal(0, 0.01, 320), "B": rng.normal(0, 0.01, 320), "M": m,
                        "FLAT": np.full(320, 0.0)}, index=days)
    pairs = pd.DataFrame({"ticker": ["A", "B"], "event_id": ["e", "e"], "day0": [days[300], days[300]]})
    res = EventStudy(ret, pairs, benchmark={"A": "FLAT", "B": "M"}).fit()
    ex = res.exclusions.set_index("ticker")
    assert ex.loc["A", "reason"].startswith("benchmark FLAT is constant over the estimation window (value 0 on every")
    assert "B" in set(res.params["ticker"])
