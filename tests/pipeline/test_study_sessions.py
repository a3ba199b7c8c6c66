"""pipeline.trading_calendars: one calendar index per exchange, cut per ticker by compute_returns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.calendars.sessions import session_model_for
from eventstudy.data.base import Prices
from eventstudy.errors import InstrumentError
from eventstudy.pipeline.market_data import trading_calendars
from eventstudy.returns.panel import compute_returns


def _prices(spans: dict[str, pd.DatetimeIndex], seed: int = 0) -> Prices:
    rng = np.random.default_rng(seed)
    parts = [pd.DataFrame({"date": d.astype("datetime64[ns]"), "ticker": t,
                           "price": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(d))))})
             for t, d in spans.items()]
    frame = pd.concat(parts, ignore_index=True).sort_values(["ticker", "date"]).reset_index(drop=True)
    return Prices(frame=frame, field={t: "close" for t in spans}, source="test")


def test_tickers_of_one_exchange_share_one_calendar_and_returns_match_per_ticker_calendars():
    xtks = session_model_for("7203.T").sessions("2024-01-04", "2024-12-27")
    late = xtks[60:200].delete([10, 11, 40])                 # starts later, ends earlier, misses 3 sessions
    fx = pd.bdate_range("2024-01-01", "2024-12-31")          # no exchange: its own price dates
    prices = _prices({"7203.T": xtks, "6758.T": late, "JPY=X": fx})
    _, _, sess = trading_calendars(prices)
    assert sess["7203.T"] is sess["6758.T"]                  # one index for the exchange
    assert sess["JPY=X"].equals(pd.DatetimeIndex(fx))
    # reference: every ticker's own calendar cut to its first and last price (the earlier way)
    ref = {t: session_model_for(t, None, dates=pd.DatetimeIndex(d)).sessions(d.min(), d.max())
           for t, d in prices.frame.groupby("ticker")["date"]}
    a, b = compute_returns(prices, sessions=sess), compute_returns(prices, sessions=ref)
    pd.testing.assert_frame_equal(a.returns, b.returns)
    assert all(a.sessions[t].equals(b.sessions[t]) for t in ref)
    assert a.sessions["6758.T"][0] == late[0] and a.sessions["6758.T"][-1] == late[-1]
    # sessions without a price stay sessions: missing returns there and on the session after
    # (first session 1, sessions 10-12 3, sessions 40-41 2), not silently dropped from the calendar
    own = a.sessions["6758.T"]
    assert len(own) == 140 and a.returns["6758.T"].loc[own].isna().sum() == 6


def test_prices_outside_the_calendar_name_the_ticker():
    ok = session_model_for("7203.T").sessions("2024-01-04", "2024-03-29")
    early = pd.bdate_range("1985-01-07", periods=5)          # before the XTKS calendar starts (1990)
    prices = _prices({"7203.T": ok, "6758.T": early.append(ok)})
    # declared XTKS: the prices contradict it -> a clear error naming the ticker and the dates
    with pytest.raises(InstrumentError, match=r"6758\.T: declared XTKS, but 5 of its 63 price dates are not XTKS "
                                              r"sessions \(1985-01-07, 1985-01-08, 1985-01-09, \.\.\.\)"):
        trading_calendars(prices, {"6758.T": "XTKS"})
    # only guessed from the symbol: the series keeps its own dates, nothing is dropped, and it says why
    cal, _, sess = trading_calendars(prices)
    row = cal.set_index("ticker").loc["6758.T"]
    assert row["exchange"] == "dates" and row["source"] == "file dates" and "suggests XTKS" in row["note"]
    assert len(sess["6758.T"]) == 63 and sess["6758.T"][0] == early[0]
