"""Regressors on another calendar, aligned by closing instant (eventstudy.returns.alignment, the engine's use of it)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import EventStudy
from eventstudy.returns.alignment import align_to_closes, same_date_values
from eventstudy.calendars.sessions import session_model_for
from eventstudy.errors import EstimationError
from eventstudy.returns.panel import ReturnPanel

H = 3_600 * 10**9  # one hour in ns


def test_hand_worked_intervals():
    # target closes at hours 10, 20, 30, 40, 50, 60; source closes at 5, 12, 15, 25, 45, 58
    T = np.array([10, 20, 30, 40, 50, 60]) * H
    S = np.array([5, 12, 15, 25, 45, 58]) * H
    r = np.array([0.5, 0.01, 0.02, -0.03, 0.04, np.nan])
    x = align_to_closes(r, S, T)
    # (10,20]: 12, 15 -> 1.01*1.02-1 ; (20,30]: 25 ; (30,40]: none -> 0 ; (40,50]: 45 ; (50,60]: 58 is missing
    assert np.isnan(x[0])
    assert x[1] == pytest.approx(1.01 * 1.02 - 1, abs=1e-15)
    assert x[2] == -0.03                          # one session: the value itself, bit for bit
    assert x[3] == 0.0
    assert x[4] == 0.04
    assert np.isnan(x[5])                         # it traded but has no return: missing, not 0
    lx = align_to_closes(np.log1p(r), S, T, log=True)
    assert lx[1] == pytest.approx(np.log(1.01) + np.log(1.02), abs=1e-15)


def test_outside_the_source_data_is_missing_not_zero():
    T = np.array([10, 20, 30, 40, 50]) * H
    S = np.array([22, 28]) * H                    # the source starts after 20 and ends at 28
    x = align_to_closes(np.array([np.nan, 0.01]), S, T)
    assert np.isnan(x[1])                          # (10,20]: before its first close
    assert x[2] is not None and np.isnan(x[2])     # (20,30]: its first session has no return
    assert np.isnan(x[3]) and np.isnan(x[4])       # after its last close: no data, not "did not move"


def test_same_date_values_fill_closed_days_with_zero():
    d = pd.DatetimeIndex(["2025-01-06", "2025-01-07", "2025-01-09"]).asi8
    t = pd.DatetimeIndex(["2025-01-06", "2025-01-08", "2025-01-09", "2025-01-10"]).asi8
    x = same_date_values(np.array([0.1, 0.2, 0.3]), d, t)
    assert x[0] == 0.1 and x[1] == 0.0 and x[2] == 0.3 and np.isnan(x[3])


def _closes(code: str, sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    model = session_model_for("X", code)
    return model.session_bounds(sessions)[1]


def test_tokyo_on_new_york_matches_an_independent_loop_across_dst_and_holidays():
    """Every Tokyo session gets the New York sessions whose close (exchange_calendars' own schedule)
    lies in (previous Tokyo close, Tokyo close]: checked against a plain loop over real closes."""
    import exchange_calendars as xcals

    xtks = xcals.get_calendar("XTKS", start="2025-01-02", end="2025-12-30")
    xnys = xcals.get_calendar("XNYS", start="2025-01-02", end="2025-12-30")
    tk = pd.DatetimeIndex(xtks.sessions).tz_localize(None).astype("datetime64[ns]")
    us = pd.DatetimeIndex(xnys.sessions).tz_localize(None).astype("datetime64[ns]")
    tk_close = [pd.Timestamp(c) for c in xtks.schedule["close"]]
    us_close = [pd.Timestamp(c) for c in xnys.schedule["close"]]
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, len(us))
    got = align_to_closes(r, _closes("XNYS", us).asi8, _closes("XTKS", tk).asi8)
    for i in range(1, len(tk)):
        inside = [j for j in range(len(us)) if tk_close[i - 1] < us_close[j] <= tk_close[i]]
        want = np.prod(1 + r[inside]) - 1 if inside else 0.0
        assert got[i] == pytest.approx(want, abs=1e-14), tk[i]
    # the cases that matter, by date: Tokyo's Mon 2025-11-24 holiday -> Tue 11-25 compounds the US
    # sessions of Fri 11-21 and Mon 11-24; US Thanksgiving (11-27 closed) -> Tokyo 11-28 gets 0; the
    # US half day of 11-28 (13:00 ET) reaches Tokyo on Mon 12-01.
    pos = {d: i for i, d in enumerate(tk)}
    upos = {d: j for j, d in enumerate(us)}
    i = pos[pd.Timestamp("2025-11-25")]
    assert got[i] == pytest.approx((1 + r[upos[pd.Timestamp("2025-11-21")]]) * (1 + r[upos[pd.Timestamp("2025-11-24")]]) - 1)
    assert got[pos[pd.Timestamp("2025-11-28")]] == 0.0
    assert got[pos[pd.Timestamp("2025-12-01")]] == r[upos[pd.Timestamp("2025-11-28")]]
    # across the US DST change (2025-03-09): the NY close moves from 06:00 to 05:00 JST, still inside
    # Tokyo's next interval: the Tokyo session of D gets the US session of D-1 on either side of it
    for d in ("2025-03-07", "2025-03-10", "2025-03-11"):
        prev_us = us[us < pd.Timestamp(d)][-1]
        assert got[pos[pd.Timestamp(d)]] == r[upos[prev_us]]


def _synthetic_panel(beta: float, seed: int = 3):
    """Tokyo stock and a New York index on their real calendars; the stock loads ``beta`` on the US
    returns that closed inside its own close-to-close interval (built by a plain loop), plus noise."""
    import exchange_calendars as xcals

    xtks = xcals.get_calendar("XTKS", start="2024-01-04", end="2025-12-30")
    xnys = xcals.get_calendar("XNYS", start="2024-01-04", end="2025-12-30")
    tk = pd.DatetimeIndex(xtks.sessions).tz_localize(None).astype("datetime64[ns]")
    us = pd.DatetimeIndex(xnys.sessions).tz_localize(None).astype("datetime64[ns]")
    tkc = xtks.schedule["close"].to_numpy()
    usc = xnys.schedule["close"].to_numpy()
    rng = np.random.default_rng(seed)
    r_us = rng.normal(0.0003, 0.01, len(us))
    r_us[0] = np.nan
    r_tk = np.full(len(tk), np.nan)
    for i in range(1, len(tk)):
        inside = (usc > tkc[i - 1]) & (usc <= tkc[i])
        r_tk[i] = beta * np.nansum(r_us[inside]) + rng.normal(0, 0.004)
    idx = tk.union(us)
    ret = pd.DataFrame({"JP": pd.Series(r_tk, tk).reindex(idx), "US": pd.Series(r_us, us).reindex(idx)})
    panel = ReturnPanel(returns=ret, sessions={"JP": tk, "US": us}, kind="log", masked=pd.DataFrame(),
                        closes={"JP": _closes("XTKS", tk), "US": _closes("XNYS", us)})
    return panel, tk


@pytest.mark.parametrize("beta", [0.8, 0.3])
def test_engine_recovers_the_synchronous_beta(beta):
    panel, tk = _synthetic_panel(beta)
    pairs = pd.DataFrame({"ticker": ["JP"] * 3, "event_id": ["a", "b", "c"],
                          "day0": [tk[300], tk[380], tk[450]]})
    res = EventStudy(panel, pairs, model="market", benchmark="US", estimation=(-250, -11), windows=[(0, 0)]).fit()
    est = res.params["beta"].to_numpy()
    assert np.all(np.abs(est - beta) < 0.05), est       # sampling sd of the slope ~0.025 here
    dated = EventStudy(panel, pairs, model="market", benchmark="US", estimation=(-250, -11), windows=[(0, 0)],
                       alignment="same_date").fit()
    assert np.all(np.abs(dated.params["beta"].to_numpy()) < 0.15)   # by date, the US move is not yet seen


def test_same_calendar_regressor_is_unchanged_bit_for_bit():
    """On one calendar the interval holds exactly the regressor's own session: close alignment = by date."""
    import exchange_calendars as xcals

    tk = pd.DatetimeIndex(xcals.get_calendar("XTKS", start="2024-01-04", end="2025-06-30").sessions
                          ).tz_localize(None).astype("datetime64[ns]")
    rng = np.random.default_rng(5)
    m = rng.normal(0, 0.01, len(tk))
    ret = pd.DataFrame({"A": 0.9 * m + rng.normal(0, 0.01, len(tk)), "M": m}, index=tk)
    ret.iloc[0] = np.nan
    base = dict(returns=ret, sessions={"A": tk, "M": tk[5:]}, kind="simple", masked=pd.DataFrame())
    pairs = pd.DataFrame({"ticker": ["A", "A"], "event_id": ["x", "y"], "day0": [tk[280], tk[320]]})
    kw = dict(model="market", benchmark="M", windows=[(0, 0), (-1, 1)])
    a = EventStudy(ReturnPanel(**base), pairs, **kw).fit()
    b = EventStudy(ReturnPanel(**base, closes={"A": _closes("XTKS", tk), "M": _closes("XTKS", tk[5:])}), pairs, **kw).fit()
    pd.testing.assert_frame_equal(a.car, b.car)
    pd.testing.assert_frame_equal(a.tests, b.tests)


def test_unknown_alignment_is_refused():
    ret = pd.DataFrame({"A": [0.0, 0.1], "M": [0.1, 0.0]}, index=pd.bdate_range("2025-01-06", periods=2))
    pairs = pd.DataFrame({"ticker": ["A"], "event_id": ["x"], "day0": [ret.index[1]]})
    with pytest.raises(EstimationError, match="unknown alignment 'closing'; choose one of close, same_date"):
        EventStudy(ret, pairs, benchmark="M", alignment="closing")


def test_real_nikkei_on_sp500_is_synchronous(shared_dir):
    """^N225 on ^GSPC in the real J-Quants file: the engine's market-model beta equals a statsmodels OLS on
    S&P returns compounded over each Tokyo close-to-close interval (built here with a plain loop over
    exchange_calendars' closes), and it is far from the same-date beta."""
    import exchange_calendars as xcals
    import statsmodels.api as sm

    from eventstudy.data.files import FileSource
    from eventstudy.inputs.events import load_events
    from eventstudy.pipeline.study import run_study

    path = shared_dir / "data" / "market" / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    if not path.exists():
        pytest.skip(f"{path.name} is not available")
    events = load_events(Path(__file__).resolve().parents[2] / "events.csv").iloc[:1]      # remarks, 2025-11-07
    universe = pd.DataFrame({"ticker": ["^N225"], "name": [""], "group": ["index"], "benchmark": ["^GSPC"],
                             "exchange": [""], "rationale": [""]})
    run = run_study(events, universe, FileSource(path), regressions=False)
    beta = run.result.params["beta"].iloc[0]

    wide = run.prices.wide()
    nk = wide["^N225"].dropna()
    sp = wide["^GSPC"].dropna()
    tk = xcals.get_calendar("XTKS", start=str(nk.index[0].date()), end=str(nk.index[-1].date()))
    us = xcals.get_calendar("XNYS", start=str(sp.index[0].date()), end=str(sp.index[-1].date()))
    # every session of each calendar; a session without a price has no return, nor has the one after it
    nk = nk.reindex(pd.DatetimeIndex(tk.sessions).tz_localize(None))
    sp = sp.reindex(pd.DatetimeIndex(us.sessions).tz_localize(None))
    tk_close = tk.schedule["close"].to_numpy()
    us_close = us.schedule["close"].to_numpy()
    r_nk = nk.pct_change(fill_method=None)
    r_sp = sp.pct_change(fill_method=None)
    x = pd.Series(np.nan, index=nk.index)
    for i in range(1, len(nk)):
        inside = (us_close > tk_close[i - 1]) & (us_close <= tk_close[i])
        x.iloc[i] = np.prod(1 + r_sp[inside].to_numpy()) - 1 if inside.any() else 0.0   # NaN stays NaN
    p0 = nk.index.get_loc(pd.Timestamp("2025-11-07"))
    win = slice(max(p0 - 250, 0), p0 - 10)
    df = pd.DataFrame({"y": r_nk.iloc[win], "x": x.iloc[win]}).dropna()
    ols = sm.OLS(df["y"], sm.add_constant(df["x"])).fit()
    assert beta == pytest.approx(ols.params["x"], rel=1e-9)
    assert run.result.params["m_obs"].iloc[0] == len(df)
    assert 0.6 < beta < 0.9 and ols.rsquared > 0.25
    same = pd.DataFrame({"y": r_nk.iloc[win], "x": r_sp.reindex(nk.index).iloc[win]}).dropna()
    assert abs(sm.OLS(same["y"], sm.add_constant(same["x"])).fit().params["x"]) < 0.2
    assert "XNYS sessions closing in (XTKS close t-1, XTKS close t], compounded" in run.day0["alignment"].iloc[0]


def test_offline_market_nikkei_beta_is_the_simulators(offline_run):
    """The bundled market puts ^GSPC's shock at the NYSE close and lets Tokyo load 0.5 on it at its next
    session (scripts/make_offline_market.py): aligned by close the beta is 0.5; by date it vanishes."""
    p = offline_run.result.params
    beta = p.loc[p["ticker"] == "^N225", "beta"].to_numpy()
    assert np.all(np.abs(beta - 0.5) < 0.08), beta
    from eventstudy.engine.model import EventStudy as ES

    pairs = offline_run.day0.loc[(offline_run.day0["ticker"] == "^N225") & offline_run.day0["day0"].notna(),
                                 ["ticker", "event_id", "day0"]]
    dated = ES(offline_run.panel, pairs, benchmark="^GSPC", alignment="same_date").fit()
    assert np.all(np.abs(dated.params["beta"].to_numpy()) < 0.15)
