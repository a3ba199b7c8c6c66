"""Bad arguments to the price and return layers are SpecificationErrors (still ValueErrors), which the
CLI prints without a traceback."""
from __future__ import annotations

import pandas as pd
import pytest

from eventstudy.data.base import make_prices
from eventstudy.data.yahoo import YahooSource
from eventstudy.errors import EventStudyError, SpecificationError
from eventstudy.returns.panel import compute_returns


def _never(*a, **k):   # a downloader that must not be reached
    raise AssertionError("downloaded")


def test_compute_returns_unknown_kind():
    frame = pd.DataFrame({"date": pd.bdate_range("2026-01-05", periods=3), "ticker": "A", "price": [1.0, 1.1, 1.2]})
    prices = make_prices(frame, {"A": "close"}, "test")
    with pytest.raises(SpecificationError, match="kind must be 'simple' or 'log', not 'pct'") as ei:
        compute_returns(prices, kind="pct")
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, EventStudyError)


@pytest.mark.parametrize("tickers, start, end, says", [
    (None, "2026-01-05", None, "needs a list of tickers"),
    (["A"], None, None, "needs a start date"),
    (["A"], "2026-01-09", "2026-01-05", "end 2026-01-05 is before start 2026-01-09"),
])
def test_yahoo_get_bad_arguments(tickers, start, end, says):
    with pytest.raises(SpecificationError, match=says):
        YahooSource(downloader=_never).get(tickers, start, end)
