"""The bundled SIMULATED market: reproducible generator, calendars, injected effects, rolls, source."""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.base import Prices
from eventstudy.data.offline import (
    NOT_IN_MARKET,
    SOURCE,
    OfflineSource,
    load_simulated_market,
    true_effects,
)
from eventstudy.errors import DataUnavailableError
from eventstudy.inputs.study import bundled_study
from eventstudy.inputs.universe import is_equity, load_universe

GROUPS = bundled_study().labels.order

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "make_offline_market.py"
SHIPPED = REPO / "eventstudy" / "data" / "offline"
START, END = "2024-09-02", "2026-03-31"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("make_offline_market", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    f = load_simulated_market()
    return f.pivot(index="date", columns="ticker", values="price")


@pytest.fixture(scope="module")
def universe() -> pd.DataFrame:
    return load_universe()


def _sessions(code: str) -> pd.DatetimeIndex:
    import exchange_calendars as xcals

    return pd.DatetimeIndex(xcals.get_calendar(code, start="2024-01-02").sessions_in_range(START, END))


# ------------------------------------------------------------------ generator reproducibility
def test_generator_is_byte_reproducible_and_matches_shipped(gen, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert gen.main(["--out", str(a)]) == 0
    assert gen.main(["--out", str(b)]) == 0
    for name in (gen.MARKET_FILE, gen.EFFECTS_FILE, gen.README_FILE):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # the shipped files are exactly what the script makes (the gzip stream is compared after
    # decompression, so a different zlib build cannot fail this; same-run bytes are compared above)
    assert gzip.decompress((a / gen.MARKET_FILE).read_bytes()) == gzip.decompress(
        (SHIPPED / gen.MARKET_FILE).read_bytes()
    )
    for name in (gen.EFFECTS_FILE, gen.README_FILE):
        assert (a / name).read_bytes() == (SHIPPED / name).read_bytes(), f"{name} is stale: rerun the script"
    # gzip header: mtime 0
    assert (a / gen.MARKET_FILE).read_bytes()[4:8] == b"\x00\x00\x00\x00"


def test_shipped_files_are_small_and_labelled():
    gz = SHIPPED / "SIMULATED_market.csv.gz"
    assert gz.stat().st_size < 1_500_000
    first = (SHIPPED / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert "SIMULATED" in first and "not market data" in first.lower()
    assert "python scripts/make_offline_market.py" in (SHIPPED / "README.md").read_text(encoding="utf-8")
    text = gzip.decompress(gz.read_bytes()).decode()
    assert text.startswith("date,ticker,close,adj_close\n")
    rows = [line.split(",") for line in text.splitlines()[1:]]
    assert all(r[2] == r[3] for r in rows)  # adj_close = close
    keys = [(r[1], r[0]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


# ------------------------------------------------------------------ content
def test_every_ticker_present_and_prices_positive(wide, universe):
    expected = set(universe["ticker"]) | {"1306.T", "^N225", "^GSPC", "^TOPX", "JPY=X"}
    assert set(wide.columns) == expected
    f = load_simulated_market()
    assert (f["price"] > 0).all() and np.isfinite(f["price"]).all()
    assert f["date"].dt.tz is None


def test_calendars_match_exchange_calendars(wide):
    xtks, cmes, xnys = _sessions("XTKS"), _sessions("CMES"), _sessions("XNYS")
    weekdays = pd.bdate_range(START, END)

    def dates(t):
        return pd.DatetimeIndex(wide[t].dropna().index)

    for t in wide.columns:
        if t.endswith(".T") or t in ("^N225", "^TOPX"):
            assert dates(t).equals(xtks), t
        elif t.endswith("=F"):
            assert dates(t).equals(cmes), t
    assert dates("^GSPC").equals(xnys)
    assert dates("JPY=X").equals(weekdays)
    # holidays the research note lists are absent from the Tokyo series
    for hol in ("2025-11-03", "2025-11-24", "2026-01-02", "2026-01-12", "2026-02-11", "2026-02-23"):
        assert pd.Timestamp(hol) not in dates("7203.T")


def test_realistic_volatility_and_levels(wide, universe):
    def vol(t):
        s = wide[t].dropna()
        return float(np.log(s).diff().std())

    for t in universe.loc[universe["ticker"].map(is_equity), "ticker"]:
        assert 0.008 < vol(t) < 0.03, (t, vol(t))
    for t in ("^N225", "^TOPX", "1306.T", "^GSPC"):
        assert 0.007 < vol(t) < 0.015, (t, vol(t))
    # the futures track the index level (basis and after-close news only)
    common = wide[["NIY=F", "NKD=F", "^N225"]].dropna()
    assert len(common) > 300
    for t in ("NIY=F", "NKD=F"):
        assert np.abs(np.log(common[t] / common["^N225"])).max() < 0.06


def _residuals(wide, tickers, end="2025-10-31"):
    xt = wide["1306.T"].dropna().index
    r = np.log(wide.loc[xt, list(tickers) + ["1306.T"]]).diff().iloc[1:].loc[:end]
    m = r.pop("1306.T").to_numpy()
    X = np.column_stack([np.ones_like(m), m])
    coef, *_ = np.linalg.lstsq(X, r.to_numpy(), rcond=None)
    return r.to_numpy() - X @ coef, coef


def test_within_group_residual_correlation(wide, universe):
    for g in GROUPS:
        eq = [t for t in universe.loc[universe["group"] == g, "ticker"] if is_equity(t)]
        if len(eq) < 2:
            continue
        res, _ = _residuals(wide, eq)
        c = np.corrcoef(res.T)
        mean_pair = c[np.triu_indices(len(eq), 1)].mean()
        assert 0.15 < mean_pair < 0.35, (g, mean_pair)
    # across groups the residuals are (nearly) uncorrelated
    a = [t for t in universe.loc[universe["group"] == "control", "ticker"]]
    b = [t for t in universe.loc[universe["group"] == "tourism_consumption", "ticker"]]
    res, _ = _residuals(wide, a + b)
    c = np.corrcoef(res.T)[: len(a), len(a):]
    assert abs(c.mean()) < 0.06


# ------------------------------------------------------------------ known answer
def test_true_effects_table():
    te = true_effects()
    assert list(te.columns) == ["event_id", "group", "calendar", "date", "rel_day", "abnormal_return"]
    assert set(te["group"]) == set(GROUPS)

    def one(event, group, rel=0):
        row = te[(te.event_id == event) & (te.group == group) & (te.rel_day == rel)]
        assert len(row) == 1, (event, group, rel)
        return row.iloc[0]

    # the brief's known answer, day 0 per calendar
    r = one("travel_advisory", "tourism_consumption")
    assert (r.date, r.calendar, r.abnormal_return) == (pd.Timestamp("2025-11-17"), "XTKS", -0.05)
    r = one("travel_advisory", "tourism_consumption", 1)
    assert (r.date, r.abnormal_return) == (pd.Timestamp("2025-11-18"), -0.01)
    r = one("seafood_ban", "seafood_food")
    assert (r.date, r.abnormal_return) == (pd.Timestamp("2025-11-19"), -0.03)
    expected = {"rare_earth_magnets": -0.025, "machinery_semis": -0.02, "defence": -0.015,
                "beneficiaries": 0.12, "control": 0.0, "index": -0.01}
    for g, v in expected.items():
        r = one("dual_use_ban", g)
        assert (r.date, r.calendar, r.abnormal_return) == (pd.Timestamp("2026-01-07"), "XTKS", v), g
    r = one("dual_use_ban", "futures")
    assert (r.date, r.calendar, r.abnormal_return) == (pd.Timestamp("2026-01-06"), "CMES", -0.01)


def test_injection_is_exact_against_the_counterfactual(gen, universe):
    """Same draws with and without the events: the price ratio steps by exactly log(1 + AR) on day 0."""
    def wide_of(effects):
        prices, _ = gen.simulate(effects=effects)
        return prices.pivot(index="date", columns="ticker", values="close")

    w0 = wide_of(())  # counterfactual: no events
    market_only = tuple(e for e in gen.EFFECTS if e[1] == gen.MARKET)
    assert len(market_only) == 1
    wm = wide_of(market_only)
    w1 = wide_of(gen.EFFECTS)

    def step(w, t):
        lr = np.log(w[t] / w0[t]).dropna()
        d = lr.diff()
        d.iloc[0] = lr.iloc[0]
        return d

    def nonzero(d):
        return d[d.abs() > 1e-12]

    m = np.log1p(-0.01)
    # market-level shock: CME bar of 01-06, Tokyo session of 01-07; US and FX untouched
    for t in ("NIY=F", "NKD=F"):
        s = nonzero(step(w1, t))
        assert s.index.tolist() == [pd.Timestamp("2026-01-06")]
        assert s.iloc[0] == pytest.approx(m, abs=1e-12)
    for t in ("^N225", "^TOPX", "1306.T"):
        s = nonzero(step(w1, t))
        assert s.index.tolist() == [pd.Timestamp("2026-01-07")]
        assert s.iloc[0] == pytest.approx(m, abs=1e-12)
    assert nonzero(step(w1, "^GSPC")).empty and nonzero(step(w1, "JPY=X")).empty

    # stocks: the market shock alone moves each stock by beta x m on 01-07 (a normal return) ...
    te = true_effects()
    eq = universe[universe["ticker"].map(is_equity)]
    for t, g in zip(eq["ticker"], eq["group"]):
        sm = nonzero(step(wm, t))
        assert sm.index.tolist() == [pd.Timestamp("2026-01-07")], t
        beta = sm.iloc[0] / m
        assert 0.3 < beta < 1.5, (t, beta)
        # ... and the full injection adds exactly log(1 + AR) of the group on its TRUE_EFFECTS days
        expected = pd.Series(0.0, index=w0[t].dropna().index)
        for row in te[(te.group == g) & (te.calendar == "XTKS")].itertuples():
            expected[row.date] += np.log1p(row.abnormal_return)
        got = step(w1, t) - step(wm, t)
        assert np.abs(got - expected).max() < 1e-12, t


def test_injected_effects_visible_in_shipped_data(wide, universe):
    """Market-model ARs (OLS on 1306.T, estimation through 2025-10-31) of group means, within noise."""
    def group_ar(group, day):
        eq = [t for t in universe.loc[universe["group"] == group, "ticker"] if is_equity(t)]
        _, coef = _residuals(wide, eq)
        xt = wide["1306.T"].dropna().index
        r = (wide.loc[xt, eq + ["1306.T"]] / wide.loc[xt, eq + ["1306.T"]].shift(1) - 1).loc[day]
        ar = r[eq].to_numpy() - (coef[0] + coef[1] * r["1306.T"])
        return float(ar.mean())

    # noise of a group-mean AR is about 1% (group factor + idiosyncratic / sqrt(n))
    assert group_ar("tourism_consumption", "2025-11-17") == pytest.approx(-0.05, abs=0.03)
    assert group_ar("seafood_food", "2025-11-19") == pytest.approx(-0.03, abs=0.025)
    assert group_ar("beneficiaries", "2026-01-07") == pytest.approx(0.12, abs=0.04)
    assert group_ar("rare_earth_magnets", "2026-01-07") == pytest.approx(-0.025, abs=0.025)
    assert group_ar("control", "2026-01-07") == pytest.approx(0.0, abs=0.025)
    assert group_ar("beneficiaries", "2026-01-07") - group_ar("control", "2026-01-07") > 0.08


# ------------------------------------------------------------------ futures rolls
def _second_fridays(start, end):
    out = []
    for d in pd.date_range(start, end):
        if d.month in (3, 6, 9, 12) and d.weekday() == 4 and 8 <= d.day <= 14:
            out.append(d)
    return pd.DatetimeIndex(out)


def test_futures_roll_jumps_at_second_fridays(wide):
    spread = np.log(wide["NKD=F"] / wide["NIY=F"]).dropna().diff().dropna()
    jumps = spread[spread.abs() > 0.003]
    expected = _second_fridays(START, END)
    assert len(expected) == 7
    assert jumps.index.equals(expected)
    # NKD +0.3% and NIY -0.3%: the spread jumps by about +0.6% (less one day of basis decay)
    assert np.allclose(jumps.to_numpy(), 0.006, atol=0.0012)
    assert spread.drop(expected).abs().max() < 0.002


def test_futures_roll_per_contract_against_counterfactual_free_basis(gen):
    basis = gen.front_month_basis(_sessions("CMES"), 0.003)
    d = pd.Series(np.diff(basis), index=_sessions("CMES")[1:])
    big = d[d.abs() > 0.001]
    assert big.index.equals(_second_fridays(START, END))
    assert np.allclose(big.to_numpy(), 0.003, atol=1e-4)


# ------------------------------------------------------------------ OfflineSource
def test_offline_source_get():
    src = OfflineSource()
    p = src.get(["7203.T", "NOPE.T", "^N225", "7203.T"], "2025-11-01", "2025-11-30")
    assert isinstance(p, Prices)
    assert p.simulated is True and p.source == SOURCE
    assert p.field == {"7203.T": "close", "^N225": "close"}
    assert p.failures.to_dict("records") == [{"ticker": "NOPE.T", "reason": NOT_IN_MARKET}]
    f = p.frame
    assert list(f.columns) == ["date", "ticker", "price"]
    assert f["date"].min() >= pd.Timestamp("2025-11-01") and f["date"].max() <= pd.Timestamp("2025-11-30")
    assert f["date"].dtype == "datetime64[ns]"
    assert f.equals(f.sort_values(["ticker", "date"]).reset_index(drop=True))
    assert not f.duplicated(["ticker", "date"]).any()
    assert set(p.wide().columns) == {"7203.T", "^N225"}


def test_offline_source_all_and_out_of_range():
    src = OfflineSource()
    allp = src.get(None)
    expected = set(load_universe()["ticker"]) | {"1306.T", "^N225", "^GSPC", "^TOPX", "JPY=X"}
    assert allp.tickers == sorted(expected) and allp.failures.empty
    late = src.get(["7203.T"], "2027-01-01", "2027-02-01")
    assert late.frame.empty
    assert "covers 2024-09-02 to 2026-03-31" in late.failures["reason"].iloc[0]
    assert src.get("9432.T").tickers == ["9432.T"]  # a single string is one ticker
    with pytest.raises(DataUnavailableError, match="start date"):
        src.get(["7203.T"], "not a date")
    assert src.true_effects().equals(true_effects())


def test_offline_source_is_not_mutated_by_callers():
    src = OfflineSource()
    p = src.get(["7203.T"])
    p.frame.loc[:, "price"] = -1.0
    assert (src.get(["7203.T"]).frame["price"] > 0).all()
