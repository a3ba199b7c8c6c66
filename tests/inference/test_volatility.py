"""Abnormal volatility: the GARCH path against ``arch`` directly, the pre-event variance rank test and
Savickas against hand and scipy computations, the measure end to end against a per-pair recomputation, and
size and power by seeded simulation."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from eventstudy import EventStudy
from eventstudy.data.simulated_measures import simulate_garch
from eventstudy.engine.measures import abnormal_volatility
from eventstudy.estimation.garch_dummy import fit_garch_dummy, garchx_loglik
from eventstudy.estimation.garch import backcast, fit_garch11, fit_garch_many, garch_event_variance, garch_filter
from eventstudy.inference.volatility import MIN_PRE_DAYS, savickas, variance_rank

arch = pytest.importorskip("arch")


def _garch_series(n=400, seed=0, omega=4e-6, alpha=0.08, beta=0.9):
    rng = np.random.default_rng(seed)
    e = np.empty(n)
    h = omega / (1 - alpha - beta)
    for t in range(n):
        e[t] = np.sqrt(h) * rng.standard_normal()
        h = omega + alpha * e[t] ** 2 + beta * h
    return e


def test_filter_equals_arch_conditional_variance():
    e = _garch_series()
    p = (3e-6, 0.07, 0.91)
    ref = arch.arch_model(e, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fix(list(p))
    h = garch_filter(e[None, :], *p)[0]
    assert np.allclose(h, np.asarray(ref.conditional_volatility) ** 2, rtol=1e-12, atol=0)


def test_event_forecast_equals_arch_forecast():
    e = _garch_series(seed=1)
    p = (3e-6, 0.07, 0.91)
    ref = arch.arch_model(e, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fix(list(p))
    fc = ref.forecast(horizon=5, reindex=False).variance.to_numpy()[-1]
    grid = np.concatenate([e, np.full(5, np.nan)])[None, :]
    h = garch_event_variance(grid, {"omega": np.array([p[0]]), "alpha": np.array([p[1]]), "beta": np.array([p[2]])},
                             est_start=0, est_end=len(e) - 1, origin=len(e) - 1)[0]
    assert np.allclose(h[len(e):], fc, rtol=1e-12)
    assert np.allclose(h[:len(e)], np.asarray(ref.conditional_volatility) ** 2, rtol=1e-12)


def test_backcast_is_arch_backcast():
    e = _garch_series(seed=2)
    from arch.univariate import GARCH
    assert backcast(e) == pytest.approx(float(GARCH().backcast(e)), rel=1e-12)


def test_fit_matches_arch_directly():
    e = _garch_series(n=600, seed=3)
    ours = fit_garch11(e)
    ref = arch.arch_model(e * 100, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    assert ours["alpha"] == pytest.approx(ref.params["alpha[1]"], abs=2e-3)
    assert ours["beta"] == pytest.approx(ref.params["beta[1]"], abs=2e-3)
    assert ours["omega"] == pytest.approx(ref.params["omega"] / 1e4, rel=0.05)
    # log-likelihood of the decimal series: arch's on e*100 plus n*log(100) (Jacobian of the scaling)
    assert ours["loglik"] == pytest.approx(ref.loglikelihood + len(e) * np.log(100), abs=1e-3)
    assert ours["converged"] == 1.0
    assert np.isnan(fit_garch11(e[:20])["omega"])


def test_parallel_fits_equal_serial():
    rows = np.vstack([_garch_series(n=300, seed=s) for s in range(16)])
    rows[3, 10:20] = np.nan
    a, b = fit_garch_many(rows, n_jobs=1), fit_garch_many(rows, n_jobs=2)
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True)


def test_dummy_likelihood_equals_arch_and_restricted_fit_matches():
    e = _garch_series(n=300, seed=4)
    ref = arch.arch_model(e * 100, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    p = ref.params
    d = np.zeros(300)
    assert garchx_loglik(e * 100, d, p["omega"], p["alpha[1]"], p["beta[1]"]) == pytest.approx(ref.loglikelihood,
                                                                                               abs=1e-9)
    d[-3:] = 1.0
    # with the dummy, by hand: h on the dummy days gains delta
    h = garch_filter((e * 100)[None, :], p["omega"], p["alpha[1]"], p["beta[1]"])[0]
    assert garchx_loglik(e * 100, np.zeros(300), p["omega"], p["alpha[1]"], p["beta[1]"]) == pytest.approx(
        -0.5 * np.sum(np.log(2 * np.pi) + np.log(h) + (e * 100) ** 2 / h), rel=1e-12)
    fit = fit_garch_dummy(e, d, start=(p["omega"] / 1e4, p["alpha[1]"], p["beta[1]"]))
    # the restricted maximum is arch's maximum on the same series (log-likelihood of e = arch's on 100 e + n ln 100)
    assert fit["loglik0"] == pytest.approx(ref.loglikelihood + 300 * np.log(100), abs=1e-3)
    assert fit["loglik1"] >= fit["loglik0"] and fit["lr"] == pytest.approx(2 * (fit["loglik1"] - fit["loglik0"]))


def test_dummy_finds_a_variance_jump():
    e = _garch_series(n=262, seed=6)
    d = np.r_[np.zeros(252), np.ones(10)]
    calm = fit_garch_dummy(e, d)
    e2 = e.copy()
    e2[-10:] = 3.0 * np.std(e) * np.random.default_rng(9).standard_normal(10)     # sd x3 on the dummy days
    jump = fit_garch_dummy(e2, d)
    # the last 10 days of this draw are quiet (sd 0.006 against 0.014): a variance drop, found as such
    assert calm["delta"] < 0 and calm["signed_root"] < -1.96
    assert jump["delta"] > 0 and jump["lr"] > 3.84      # chi2(1) 5% critical value
    assert jump["signed_root"] == pytest.approx(np.sqrt(jump["lr"]))


# ---------------------------------------------------------------- tests on hand-worked cases
def test_savickas_is_one_sample_t():
    s = np.array([0.5, -0.2, 1.4, 0.3, np.nan, 0.9])
    m, t, p, n = savickas(s)
    ref = stats.ttest_1samp(s[~np.isnan(s)], 0.0)
    assert (n, m) == (5, pytest.approx(0.58)) and t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)


def test_variance_rank_hand_worked():
    # two pairs, five pre-event days, a two-day window
    pre = np.array([[1.0, -2.0, 0.5, 3.0, -1.5], [0.2, 0.4, -0.6, 0.8, -1.0]])
    win = np.array([[2.5, -0.5], [-0.8, 0.8]])
    vr, t, p, n = variance_rank(pre, win)
    # pair 1: x_pre = 1, 4, 0.25, 9, 2.25; x_win 6.25 (4 below) and 0.25 (0 below, 1 tie)
    u1 = np.mean([(4 + 0.5) / 6, (0 + 0.5 + 0.5) / 6]) - 0.5
    # pair 2: x_pre = .04 .16 .36 .64 1; x_win .64 (3 below, 1 tie) twice
    u2 = (3 + 0.5 + 0.5) / 6 - 0.5
    ref = stats.ttest_1samp([u1, u2], 0.0)
    assert n == 2 and t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert vr == pytest.approx(np.mean(win ** 2) / np.mean((pre ** 2).mean(axis=1)))


def test_variance_rank_equals_scipy_ranks_and_leaves_out_short_pairs():
    rng = np.random.default_rng(3)
    pre = rng.standard_normal((40, 10))
    win = rng.standard_normal((40, 3)) * 1.5
    pre[0, :6] = np.nan                     # 4 pre-event days: below MIN_PRE_DAYS, left out
    pre[1, 2] = np.nan                      # 9 days: kept, ranked among its own 9
    win[2, 1] = np.nan                      # a missing window day: left out
    vr, t, p, n = variance_rank(pre, win)
    u = []
    for i in range(40):
        xp = pre[i][np.isfinite(pre[i])] ** 2
        if i in (0, 2):
            continue
        # the rank of each window value among the pre-event values and itself (scipy's average ranks)
        r = [stats.rankdata(np.r_[xp, w ** 2])[-1] for w in win[i]]
        u.append(np.mean((np.array(r) - 0.5) / (len(xp) + 1)) - 0.5)
    ref = stats.ttest_1samp(u, 0.0)
    assert MIN_PRE_DAYS == 5 and n == 38
    assert t == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-12)


# ---------------------------------------------------------------- end to end against a recomputation
def test_abnormal_volatility_recomputed_for_one_pair():
    ret, pairs = simulate_garch(n_sec=4, events=2, seed=5)
    res = EventStudy(ret, pairs, model="market", benchmark="MKT", windows=[(0, 0), (0, 2), (0, 9)]).fit()
    vty = abnormal_volatility(res, n_jobs=1)
    p = pairs.iloc[1]
    dates = ret.index
    i0 = dates.get_loc(p["day0"])
    y, x = ret[p["ticker"]].to_numpy(), ret["MKT"].to_numpy()
    est = slice(i0 - 250, i0 - 10)
    b, a = np.polyfit(x[est], y[est], 1)
    e = y - a - b * x
    prm = vty.params[(vty.params["ticker"] == p["ticker"]) & (vty.params["event_id"] == p["event_id"])].iloc[0]
    ref = fit_garch11(e[est])
    assert prm["alpha"] == pytest.approx(ref["alpha"], abs=1e-6)   # the optimiser on residuals equal to 1e-15
    fixed = arch.arch_model(e[i0 - 250: i0], mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
    # the filter's start is the backcast of the estimation residuals only
    h_pre = garch_filter(e[None, i0 - 250: i0], prm["omega"], prm["alpha"], prm["beta"], h0=backcast(e[est]))[0]
    h0 = prm["omega"] + prm["alpha"] * e[i0 - 1] ** 2 + prm["beta"] * h_pre[-1]
    hs = [h0, prm["omega"] + prm["persistence"] * h0]
    hs.append(prm["omega"] + prm["persistence"] * hs[-1])
    row = vty.car[(vty.car["ticker"] == p["ticker"]) & (vty.car["event_id"] == p["event_id"])
                  & (vty.car["window_end"] == 2)].iloc[0]
    assert row["garch_var"] == pytest.approx(sum(hs), rel=1e-9)
    assert row["car"] == pytest.approx(e[i0: i0 + 3].sum(), abs=1e-10)
    assert row["scar_garch"] == pytest.approx(e[i0: i0 + 3].sum() / np.sqrt(sum(hs)), rel=1e-8)
    assert row["var_shift"] == pytest.approx(np.mean(e[i0: i0 + 3] ** 2 / np.array(hs)) - 1, rel=1e-8)
    assert fixed is not None
    cell = vty.tests[(vty.tests["event_id"] == p["event_id"]) & (vty.tests["group"] == "sim")
                     & (vty.tests["window_end"] == 2)].set_index("test")
    s = vty.car[(vty.car["event_id"] == p["event_id"]) & (vty.car["window_end"] == 2)]["scar_garch"]
    assert cell.loc["savickas", "statistic"] == pytest.approx(stats.ttest_1samp(s, 0.0).statistic, rel=1e-10)
    assert np.isnan(row["garch_lr"]) and "garch_dummy" not in cell.index      # 3 days: no dummy fit
    span = e[i0 - 250: i0 + 10]
    gd = fit_garch_dummy(span, np.r_[np.zeros(250), np.ones(10)], (prm["omega"], prm["alpha"], prm["beta"]))
    c9 = vty.car[(vty.car["event_id"] == p["event_id"]) & (vty.car["window_end"] == 9)]
    assert c9.loc[c9["ticker"] == p["ticker"], "garch_lr"].iloc[0] == pytest.approx(gd["lr"], rel=1e-4, abs=1e-6)
    t9 = vty.tests[(vty.tests["event_id"] == p["event_id"]) & (vty.tests["group"] == "sim")
                   & (vty.tests["window_end"] == 9)].set_index("test")
    assert t9.loc["garch_dummy", "statistic"] == pytest.approx(
        stats.ttest_1samp(c9["garch_signed_root"], 0.0).statistic, rel=1e-10)
    # variance_rank: this cell's pairs' squared SARs of days 0..2 ranked among those of days -10..-1
    sel = vty.car[(vty.car["event_id"] == p["event_id"]) & (vty.car["window_end"] == 2)]
    us = []
    for t in sel["ticker"]:
        yi = ret[t].to_numpy()
        bi, ai = np.polyfit(x[est], yi[est], 1)
        ei = yi - ai - bi * x
        s2 = np.sum(ei[est] ** 2) / (240 - 2)
        xm = x[est].mean()
        lev = 1 + 1 / 240 + (x - xm) ** 2 / np.sum((x[est] - xm) ** 2)
        sq = ei ** 2 / (s2 * lev)
        ref_days, win_days = sq[i0 - 10: i0], sq[i0: i0 + 3]
        us.append(np.mean([(np.sum(ref_days < w) + 0.5) / 11 for w in win_days]) - 0.5)
    assert cell.loc["variance_rank", "statistic"] == pytest.approx(stats.ttest_1samp(us, 0.0).statistic, rel=1e-8)


# ---------------------------------------------------------------- size and power (seeded)
def test_volatility_size_and_power_seeded():
    """24 events x 12 securities with GARCH(1,1) errors: without an effect the pre-event variance rank test
    and Savickas reject at most 4 of 24 cells (a correct 5% rate does so with probability > 0.99); with the
    day-0 sd tripled (variance x9) the rank test rejects at least 16 of 24, and Savickas (no mean effect)
    still at most 4. The old estimation-window variance ratio failed the first half (README)."""
    out = {}
    for jump in (1.0, 3.0):
        ret, pairs = simulate_garch(n_sec=12, events=24, jump=jump, seed=21)
        res = EventStudy(ret, pairs, model="market", benchmark="MKT", windows=[(0, 0)], pooled_group=None).fit()
        t = abnormal_volatility(res, n_jobs=2).tests
        out[jump] = t.groupby("test")["p_value"].apply(lambda p: int(np.sum(p < 0.05)))
    assert set(out[1.0].index) == {"savickas", "variance_rank"}
    assert out[1.0]["variance_rank"] <= 4 and out[1.0]["savickas"] <= 4
    assert out[3.0]["variance_rank"] >= 16
    assert out[3.0]["savickas"] <= 4


def test_variance_rank_needs_a_cross_section():
    vr, t, p, n = variance_rank(np.ones((1, 10)), np.full((1, 2), 2.0))
    assert n == 1 and np.isnan([vr, t, p]).all()
    vr, t, p, n = variance_rank(np.full((3, 4), 1.0), np.full((3, 1), 2.0))      # 4 pre-event days < 5
    assert n == 0 and np.isnan(vr)


def test_no_pre_event_days_warns_and_leaves_variance_rank_empty():
    ret, pairs = simulate_garch(n_sec=6, events=2, seed=8)
    res = EventStudy(ret, pairs, model="market", benchmark="MKT", estimation=(-250, -1), windows=[(0, 0)],
                     pooled_group=None).fit()
    with pytest.warns(UserWarning, match=r"variance_rank is not computed: .* there are 0 \(it needs 5\)"):
        t = abnormal_volatility(res, n_jobs=1).tests
    vr = t[t["test"] == "variance_rank"]
    assert len(vr) and vr["p_value"].isna().all() and (vr["n"] == 0).all()
    assert t.loc[t["test"] == "savickas", "p_value"].notna().all()
