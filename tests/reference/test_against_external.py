"""Other packages' example data (``../shared/data/external/``), where no published number was available.

For these cases we could not read a published output to copy (see the README, "Agreement with other
packages"), so nothing here claims agreement with another package's *numbers*. Instead each test runs our
engine on the package's own example data and compares it with that package's algorithm, as its source
code defines it, recomputed independently here with numpy (no eventstudy code on the reference side).
The conventions that differ are named in each test. Skipped when ``../shared`` is absent.

- eventstudies 1.2.2 (R; Anand, Bahure, Balasubramaniam, Shah), vignette ``replications.Rnw``: the
  replication of Chen & Siems (2004) on 33 national indices around 2001-09-11, constant-mean model, each
  index on its own trading calendar (``na.omit`` of its column), estimation event days -30..-11, CAR over
  0..10 and 0..5 (``remap.cumsum`` with base = the day-0 AR, i.e. the plain sum of days 0..t).
- erer (R; Changyou Sun), ``evReturn(daEsa, firm = c("tin", "wy", "pcl", "pch", "wpp"), event.date =
  19990505, event.win = 5, est.win = 250)``: market model on the S&P 500 by OLS over the 250 rows before the
  event window, ARs on days -5..5, CAR ``CiT`` = their sum, ``cum.e = sqrt(E s^2)``, group CAR ``GNT`` = the
  mean CAR with ``GNT.e = sqrt(sum cum.e^2) / N``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from eventstudy.engine.model import EventStudy
from eventstudy.returns.panel import ReturnPanel

EXTERNAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "external"
TERROR = EXTERNAL / "eventstudies_terror911_constant_mean_car"
ERER = EXTERNAL / "erer_daEsa_market_model_car"


# ----------------------------------------------------------------------------- eventstudies: Chen & Siems 9/11

def _terror_inputs():
    r = pd.read_csv(TERROR / "TerrorIndiceReturns_percent.csv", parse_dates=["date"]).set_index("date")
    ev = pd.read_csv(TERROR / "TerrorAttack_events.csv", parse_dates=["when"])
    return r, ev


def _eventstudies_cars(r: pd.DataFrame, ev: pd.DataFrame) -> pd.DataFrame:
    """eventstudies' replication, from its source: per index, ``na.omit`` of its column; event time 0 is the
    last date <= the event date (``findInterval``); constant mean over event days -30..-11; CAR_t = sum of
    the ARs of days 0..t (percent)."""
    rows = []
    for name, when in zip(ev["name"], ev["when"]):
        s = r[name].dropna().to_numpy()
        dates = r[name].dropna().index
        loc = int(np.searchsorted(dates.to_numpy(), np.datetime64(when), side="right")) - 1
        mean = s[loc - 30:loc - 10].mean()                     # event days -30..-11
        ar = s[loc:loc + 11] - mean                            # event days 0..10
        rows.append({"name": name, "day0": dates[loc], "car_0_10": ar.sum(), "car_0_5": ar[:6].sum()})
    return pd.DataFrame(rows).set_index("name")


@pytest.fixture(scope="module")
def terror():
    if not TERROR.exists():
        pytest.skip("../shared eventstudies 9/11 case not available")
    r, ev = _terror_inputs()
    ref = _eventstudies_cars(r, ev)
    # each index on its own calendar: the dates its column has a return for (eventstudies' na.omit)
    dec = r / 100.0
    sessions = {c: dec[c].dropna().index for c in dec.columns}
    panel = ReturnPanel(returns=dec, sessions=sessions, kind="simple",
                        masked=pd.DataFrame(columns=["ticker", "date", "reason"]))
    pairs = pd.DataFrame({"ticker": list(ref.index), "event_id": "911", "day0": list(ref["day0"])})
    res = EventStudy(panel, pairs, model="constant_mean", estimation=(-30, -11), windows=[(0, 10), (0, 5)],
                     pooled_group=None).fit()
    return ref, res


def test_terror_every_index_is_estimated(terror):
    ref, res = terror
    assert res.exclusions.empty
    assert set(res.car["ticker"]) == set(ref.index)


@pytest.mark.parametrize("window,col", [((0, 10), "car_0_10"), ((0, 5), "car_0_5")])
def test_terror_car_on_each_index_own_calendar(terror, window, col):
    ref, res = terror
    c = res.car[(res.car.window_start == window[0]) & (res.car.window_end == window[1])].set_index("ticker")
    assert_allclose(c.loc[ref.index, "car"].to_numpy() * 100.0, ref[col].to_numpy(), rtol=1e-10, atol=1e-12)


def test_terror_day0_is_the_announcement_session_of_each_market(terror):
    ref, res = terror
    d0 = res.ar[res.ar.rel_day == 0].set_index("ticker")["date"]
    assert (d0.loc[ref.index].to_numpy() == ref["day0"].to_numpy()).all()
    # US markets were closed 11-14 September: their day 0 is the reopening, 17 September
    assert str(d0.loc["S.P500"].date()) == "2001-09-17" and str(d0.loc["Tokyo"].date()) == "2001-09-12"


# ----------------------------------------------------------------------------- erer: daEsa market model

ERER_FIRMS = ["tin", "wy", "pcl", "pch", "wpp"]
ERER_EVENT, ERER_WIN, ERER_EST = 19990505, 5, 250


def _erer_reference(y: pd.DataFrame) -> dict:
    """evReturn, from its source: rows (loca - win - est) .. (loca - win - 1) for OLS firm ~ sp500 (percent),
    ARs on rows loca - win .. loca + win, CiT their sum, cum.e = sqrt(E s^2) with s the lm residual sd."""
    loca = int(np.flatnonzero(y["date"].to_numpy() == ERER_EVENT)[0])
    est = y.iloc[loca - ERER_WIN - ERER_EST:loca - ERER_WIN]
    eve = y.iloc[loca - ERER_WIN:loca + ERER_WIN + 1]
    out = {}
    for f in ERER_FIRMS:
        X = np.column_stack([np.ones(len(est)), est["sp500"].to_numpy()])
        coef, *_ = np.linalg.lstsq(X, est[f].to_numpy(), rcond=None)
        resid = est[f].to_numpy() - X @ coef
        s = np.sqrt(resid @ resid / (len(est) - 2))
        ar = eve[f].to_numpy() - coef[0] - coef[1] * eve["sp500"].to_numpy()
        out[f] = {"alpha": coef[0], "beta": coef[1], "ar": ar, "car": ar.sum(),
                  "cum_e": np.sqrt(len(ar) * s ** 2)}
    return out


@pytest.fixture(scope="module")
def erer():
    if not ERER.exists():
        pytest.skip("../shared erer daEsa case not available")
    y = pd.read_csv(ERER / "daEsa_returns_percent.csv")
    ev = pd.read_csv(ERER / "events.csv")
    assert list(ev["firm"]) == ERER_FIRMS and (ev["event_date"] == ERER_EVENT).all()
    assert (ev["event_win"] == ERER_WIN).all() and (ev["est_win"] == ERER_EST).all() and (ev["market"] == "sp500").all()
    ref = _erer_reference(y)
    panel = (y.assign(date=pd.to_datetime(y["date"].astype(str), format="%Y%m%d"))
             .set_index("date")[ERER_FIRMS + ["sp500"]] / 100.0)
    pairs = pd.DataFrame({"ticker": ERER_FIRMS, "event_id": "esa", "day0": pd.Timestamp(str(ERER_EVENT))})
    res = EventStudy(panel, pairs, model="market", benchmark="sp500",
                     estimation=(-ERER_WIN - ERER_EST, -ERER_WIN - 1), windows=[(-ERER_WIN, ERER_WIN)]).fit()
    return ref, res


@pytest.mark.parametrize("firm", ERER_FIRMS)
def test_erer_alpha_beta(erer, firm):
    ref, res = erer
    p = res.params.set_index("ticker").loc[firm]
    assert p["m_obs"] == ERER_EST
    assert_allclose(p["const"] * 100.0, ref[firm]["alpha"], rtol=1e-9)     # erer works in percent
    assert_allclose(p["beta"], ref[firm]["beta"], rtol=1e-9)


@pytest.mark.parametrize("firm", ERER_FIRMS)
def test_erer_abnormal_returns_and_car(erer, firm):
    """erer rounds its printed ARs to ``digits`` (4) and sums the rounded values; ours are unrounded."""
    ref, res = erer
    ar = res.ar[res.ar.ticker == firm].sort_values("rel_day")
    assert list(ar["rel_day"]) == list(range(-ERER_WIN, ERER_WIN + 1))
    assert_allclose(ar["ar"].to_numpy() * 100.0, ref[firm]["ar"], rtol=1e-9, atol=1e-12)
    car = res.car[res.car.ticker == firm].iloc[0]
    assert_allclose(car["car"] * 100.0, ref[firm]["car"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("firm", ERER_FIRMS)
def test_erer_car_error_differs_by_the_estimation_error_term(erer, firm):
    """erer's cum.e = sqrt(E s^2) leaves out the estimation error of alpha and beta; our car_se (Kolari &
    Pynnonen's Var(CAR) = s^2 (L + L^2/M + d'S^-1 d)) includes it, so ours is larger, by O(L/M)."""
    ref, res = erer
    car = res.car[res.car.ticker == firm].iloc[0]
    sigma = res.params.set_index("ticker").loc[firm, "sigma"]
    L = 2 * ERER_WIN + 1
    assert_allclose(sigma * np.sqrt(L) * 100.0, ref[firm]["cum_e"], rtol=1e-9)
    assert car["car_se"] * 100.0 > ref[firm]["cum_e"]
    assert car["car_se"] * 100.0 < ref[firm]["cum_e"] * np.sqrt(1 + 2 * L / ERER_EST)


def test_erer_group_car_is_the_mean_car(erer):
    ref, res = erer
    t = res.tests[(res.tests.test == "t_cross_section") & (res.tests.group == "all")]
    assert_allclose(t["caar"].iloc[0] * 100.0, np.mean([ref[f]["car"] for f in ERER_FIRMS]), rtol=1e-9)
