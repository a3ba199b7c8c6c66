"""compute_returns against hand computations and an independent per-ticker pandas computation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.base import PriceDataWarning, Prices
from eventstudy.returns.panel import ReturnPanel, compute_returns

D = pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09", "2025-01-10"])


def make_prices(rows) -> Prices:
    frame = pd.DataFrame(rows, columns=["date", "ticker", "price"])
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame = frame.sort_values(["ticker", "date"]).reset_index(drop=True)
    return Prices(frame=frame, field={t: "close" for t in frame["ticker"].unique()}, source="test")


def test_hand_computed_simple_returns_and_missing_price_gives_two_nans():
    # A trades every day but has no price on 01-08; B trades on its own sessions (no 01-08).
    prices = make_prices(
        [(D[0], "A", 100.0), (D[1], "A", 110.0), (D[3], "A", 99.0), (D[4], "A", 99.0),
         (D[0], "B", 20.0), (D[1], "B", 25.0), (D[3], "B", 20.0), (D[4], "B", 22.0)]
    )
    sessions = {"A": D, "B": D.delete(2)}
    panel = compute_returns(prices, sessions=sessions)
    assert isinstance(panel, ReturnPanel)
    r = panel.returns
    assert list(r.index) == list(D) and r.index.name == "date"
    a = r["A"].to_numpy()
    # 110/100-1, missing price on 01-08 -> NaN on 01-08 and 01-09, 99/99-1
    assert np.isnan(a[0]) and a[1] == pytest.approx(0.10)
    assert np.isnan(a[2]) and np.isnan(a[3])
    assert a[4] == pytest.approx(0.0)
    b = r["B"].to_numpy()
    # B's previous session of 01-09 is 01-07: 20/25-1 = -0.2; 01-08 is not a B session -> NaN
    assert np.isnan(b[0]) and b[1] == pytest.approx(0.25)
    assert np.isnan(b[2]) and b[3] == pytest.approx(-0.2) and b[4] == pytest.approx(0.1)
    assert list(panel.sessions["B"]) == list(D.delete(2))
    assert panel.masked.empty and panel.kind == "simple"


def test_log_returns_equal_log1p_of_simple():
    prices = make_prices([(D[i], "A", p) for i, p in enumerate([100.0, 105.0, 95.0, 96.0, 120.0])])
    s = compute_returns(prices).returns["A"]
    l = compute_returns(prices, kind="log").returns["A"]
    assert l.iloc[2] == pytest.approx(np.log(95.0 / 105.0))
    np.testing.assert_allclose(l.to_numpy()[1:], np.log1p(s.to_numpy()[1:]))


def test_without_sessions_uses_own_price_dates():
    prices = make_prices([(D[0], "A", 10.0), (D[2], "A", 12.0), (D[1], "B", 5.0), (D[2], "B", 4.0)])
    r = compute_returns(prices).returns
    assert list(r.index) == list(D[:3])
    assert r.loc[D[2], "A"] == pytest.approx(0.2)
    assert r.loc[D[2], "B"] == pytest.approx(-0.2)
    assert np.isnan(r.loc[D[1], "A"])


def test_matches_independent_pandas_computation():
    rng = np.random.default_rng(7)
    all_days = pd.bdate_range("2024-01-01", periods=300)
    rows, sessions = [], {}
    for j in range(12):
        cal = all_days[rng.random(len(all_days)) > 0.05]  # each ticker its own holidays
        cal = cal[rng.integers(0, 10):len(cal) - rng.integers(0, 10)]
        sessions[f"T{j}"] = cal
        px = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(cal))))
        have = rng.random(len(cal)) > 0.03  # missing prices
        rows += [(d, f"T{j}", p) for d, p, h in zip(cal, px, have) if h]
    prices = make_prices(rows)
    for kind in ("simple", "log"):
        panel = compute_returns(prices, kind=kind, sessions=sessions)
        for t, cal in sessions.items():
            s = prices.frame.loc[prices.frame["ticker"] == t].set_index("date")["price"]
            span = cal[(cal >= s.index.min()) & (cal <= s.index.max())]
            p = s.reindex(span)
            exp = p / p.shift(1) - 1 if kind == "simple" else np.log(p / p.shift(1))
            got = panel.returns[t].reindex(span)
            np.testing.assert_allclose(got.to_numpy(), exp.to_numpy(), rtol=1e-12, equal_nan=True)
            # not a session of t -> NaN
            off = panel.returns.index.difference(span)
            assert panel.returns.loc[off, t].isna().all()


def test_price_on_non_session_date_is_dropped_and_recorded():
    cal = pd.DatetimeIndex(D.delete(2), name="XTKS")
    prices = make_prices([(d, "A", 100.0 + i) for i, d in enumerate(D)])
    with pytest.warns(PriceDataWarning, match=r"A \(1\)"):
        panel = compute_returns(prices, sessions={"A": cal})
    m = panel.masked
    assert m["ticker"].tolist() == ["A"] and m["date"].tolist() == [D[2]]
    assert m["reason"].iloc[0] == "price on a non-session date of XTKS"
    # 01-09 return uses the previous session 01-07, not the dropped 01-08 price
    assert panel.returns.loc[D[3], "A"] == pytest.approx(103.0 / 101.0 - 1)
    assert D[2] not in panel.returns.index


def test_mask_sets_nan_and_is_recorded():
    prices = make_prices([(d, "A", 100.0 + i) for i, d in enumerate(D)] + [(d, "B", 50.0) for d in D])
    mask = pd.DataFrame(
        {"ticker": ["A", "ZZZ", "B"], "date": [D[3], D[3], pd.Timestamp("2030-01-01")], "reason": ["futures roll", "x", "y"]}
    )
    panel = compute_returns(prices, mask=mask)
    assert np.isnan(panel.returns.loc[D[3], "A"])
    assert panel.returns.loc[D[4], "A"] == pytest.approx(104.0 / 103.0 - 1)
    assert panel.masked[["ticker", "reason"]].values.tolist() == [["A", "futures roll"]]
    assert panel.masked["date"].tolist() == [D[3]]


def test_bad_kind():
    with pytest.raises(ValueError, match="kind"):
        compute_returns(make_prices([(D[0], "A", 1.0)]), kind="pct")
