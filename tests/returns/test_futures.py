"""Roll detection on synthetic continuous futures series with known roll gaps."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.returns.futures import is_continuous_future, quarterly_expiries, roll_mask


def second_friday(year: int, month: int) -> pd.Timestamp:
    # independent of the module's arithmetic: pandas' weekly-Friday anchor
    return pd.date_range(pd.Timestamp(year=year, month=month, day=1), periods=2, freq="W-FRI")[1]


def synthetic(seed=3, sd=0.01):
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2025-01-02", "2025-12-30")
    lr = rng.normal(0, sd, len(days))
    return days, lr


def to_prices(days, lr):
    return pd.Series(40000 * np.exp(np.cumsum(lr)), index=days)


def test_expiries_are_thursday_before_second_friday():
    exp = quarterly_expiries("2025-01-01", "2026-12-31")
    expected = [second_friday(y, m) - pd.Timedelta(days=1) for y in (2025, 2026) for m in (3, 6, 9, 12)]
    assert list(exp) == expected
    # CME NKD/NIY 2025 contracts: last trading days 13 Mar, 12 Jun, 11 Sep, 11 Dec 2025
    assert [d.strftime("%m-%d") for d in exp[:4]] == ["03-13", "06-12", "09-11", "12-11"]


def test_injected_roll_gap_is_flagged_and_normal_days_are_not():
    days, lr = synthetic()
    gap_day = days[days.searchsorted(pd.Timestamp("2025-06-12"), side="right") + 1]  # 2nd session after expiry
    lr[days.get_loc(gap_day)] += 0.08
    big_normal_day = pd.Timestamp("2025-08-05")  # far from any roll: a real -7% market move
    lr[days.get_loc(big_normal_day)] -= 0.07
    m = roll_mask("NKD=F", to_prices(days, lr))
    assert m["ticker"].unique().tolist() == ["NKD=F"]
    assert len(m) == 5  # the scheduled session of each 2025 roll, plus June's outlier two sessions on
    june = m[m["date"].dt.month == 6]
    assert june["date"].tolist() == [second_friday(2025, 6), gap_day]
    assert "robust sd" in june["reason"].iloc[1]
    assert big_normal_day not in set(m["date"])
    # quarters without an outlier fall back to the first session after expiry
    for month in (3, 9, 12):
        row = m[m["date"].dt.month == month]
        exp = second_friday(2025, month)  # first session after the Thursday expiry
        assert row["date"].tolist() == [exp]
        assert "masked by rule" in row["reason"].iloc[0]


def test_threshold_uses_robust_scale():
    days, lr = synthetic(seed=11, sd=0.01)
    roll = second_friday(2025, 9)
    lr[days.get_loc(roll)] = 0.0
    # a 3 sd move (the largest move in the September window for this seed) is not an outlier at k=4 but is at k=2
    robust_sd = 1.4826 * np.median(np.abs(lr[1:] - np.median(lr[1:])))
    nxt = days[days.get_loc(roll) + 1]
    lr[days.get_loc(nxt)] = np.median(lr[1:]) + 3.0 * robust_sd
    p = to_prices(days, lr)
    sep4 = roll_mask("NIY=F", p)
    sep2 = roll_mask("NIY=F", p, k_sd=2.0)
    assert sep4.loc[sep4["date"].dt.month == 9, "date"].tolist() == [roll]
    assert sep2.loc[sep2["date"].dt.month == 9, "date"].tolist() == [roll, nxt]


def test_short_or_rollless_series():
    days = pd.bdate_range("2025-01-06", "2025-02-20")
    assert roll_mask("NKD=F", pd.Series(np.linspace(100, 110, len(days)), index=days)).empty
    assert roll_mask("NKD=F", pd.Series([1.0, 2.0], index=days[:2])).empty


@pytest.mark.parametrize("t,expected", [("NKD=F", True), ("niy=f", True), ("JPY=X", False), ("^N225", False), ("7203.T", False)])
def test_is_continuous_future(t, expected):
    assert is_continuous_future(t) is expected
