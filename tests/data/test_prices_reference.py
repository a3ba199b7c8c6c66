"""The vectorised front of the pipeline (validate_price_frame, Prices.wide, compute_returns)
against plain pandas reference computations on random long tables with gaps."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.base import PriceDataWarning, Prices, make_prices
from eventstudy.data.validate import validate_price_frame
from eventstudy.errors import PriceDataError
from eventstudy.returns.panel import compute_returns


def random_long(seed: int) -> pd.DataFrame:
    """Shuffled long table: text dates, padded tickers, missing rows and prices, partial adj_close."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-01", periods=40)
    rows = []
    for j in range(9):
        name = f"T{j}"
        adj_kind = j % 3  # 0: no adj_close, 1: full adj_close, 2: adj_close with holes
        px = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))
        for d, p in zip(days, px):
            if rng.random() < 0.15:
                continue  # missing row
            close = np.nan if rng.random() < 0.05 else p
            adj = np.nan if adj_kind == 0 or (adj_kind == 2 and rng.random() < 0.2) else 0.97 * p
            pad = " " * int(rng.integers(0, 2))
            rows.append((pad + d.strftime("%Y-%m-%d"), pad + name + pad, close, adj))
    df = pd.DataFrame(rows, columns=["Date", "Ticker", "Close", "Adj Close"])
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def reference_validate(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    t = df["Ticker"].str.strip()
    d = pd.to_datetime(df["Date"].str.strip()).astype("datetime64[ns]")
    uses_adj = df["Adj Close"].notna().groupby(t).any()
    price = np.where(uses_adj.reindex(t).to_numpy(), df["Adj Close"], df["Close"])
    out = pd.DataFrame({"date": d, "ticker": t.astype(object), "price": price}).dropna(subset=["price"])
    out = out.sort_values(["ticker", "date"]).reset_index(drop=True)
    field = {k: ("adj_close" if v else "close") for k, v in uses_adj.items() if k in set(out["ticker"])}
    return out, field


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_validate_wide_and_returns_match_pandas_reference(seed):
    df = random_long(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PriceDataWarning)  # adj_close holes are reported, tested elsewhere
        frame, field = validate_price_frame(df, "random table")
    ref_frame, ref_field = reference_validate(df)
    pd.testing.assert_frame_equal(frame, ref_frame, check_exact=True)
    assert field == ref_field

    prices = make_prices(frame, field, "random")
    wide = prices.wide()
    ref_wide = frame.pivot(index="date", columns="ticker", values="price").sort_index()
    ref_wide.columns = pd.Index(list(ref_wide.columns))  # a plain list of labels, as wide() builds
    pd.testing.assert_frame_equal(wide, ref_wide, check_exact=True)

    for kind in ("simple", "log"):
        panel = compute_returns(prices, kind=kind)
        assert list(panel.returns.columns) == sorted(field)
        for t in field:
            p = frame.loc[frame["ticker"] == t].set_index("date")["price"]  # own dates = own sessions
            exp = p / p.shift(1) - 1 if kind == "simple" else np.log(p / p.shift(1))
            got = panel.returns[t]
            np.testing.assert_allclose(got.reindex(p.index).to_numpy(), exp.to_numpy(), rtol=1e-12, equal_nan=True)
            assert got.drop(p.index).isna().all()
            assert list(panel.sessions[t]) == list(p.index)


def test_shuffled_input_rows_give_the_same_frame():
    df = random_long(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PriceDataWarning)
        a = validate_price_frame(df, "x")
        b = validate_price_frame(df.iloc[::-1].reset_index(drop=True), "x")
    pd.testing.assert_frame_equal(a[0], b[0])
    assert a[1] == b[1]


def test_a_file_already_in_ticker_date_order_gives_the_same_frame_and_messages():
    """Rows already sorted by (ticker, date) take the no-reordering path: the same frame as the shuffled rows, a
    missing price dropped, and a duplicate named by its lines."""
    df = random_long(6)
    df["Ticker"], df["Date"] = df["Ticker"].str.strip(), df["Date"].str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PriceDataWarning)
        srt = df.sort_values(["Ticker", "Date"], kind="stable").reset_index(drop=True)
        a = validate_price_frame(df, "x")
        b = validate_price_frame(srt, "x")
    assert srt["Close"].isna().any()
    pd.testing.assert_frame_equal(a[0], b[0])
    assert a[1] == b[1]
    dup = pd.DataFrame({"date": ["2025-01-06", "2025-01-07", "2025-01-07", "2025-01-08"], "ticker": "A",
                        "close": [1.0, 2.0, 2.5, 3.0]})
    with pytest.raises(PriceDataError, match=r"1 duplicated \(date, ticker\) pair\(s\): A on 2025-01-07 at line 3, "
                                             r"line 4\."):
        validate_price_frame(dup, "p.csv", line_numbers=[2, 3, 4, 5])


def test_many_duplicates_listed_in_ticker_date_order():
    days = ["2025-01-0%d" % i for i in range(6, 10)]
    rows = [(d, t, 1.0) for t in ("B", "A") for d in days] * 2
    df = pd.DataFrame(rows, columns=["date", "ticker", "close"])
    with pytest.raises(PriceDataError) as exc:
        validate_price_frame(df, "dups")
    msg = str(exc.value)
    assert msg.startswith("dups: 8 duplicated (date, ticker) pair(s): A on 2025-01-06 at row 5, row 13; ")
    assert "; B on 2025-01-06 at row 1, row 9; and 3 more." in msg


def test_wide_of_unsorted_frame_and_duplicates_fall_back_to_pivot():
    d = pd.to_datetime(["2025-01-07", "2025-01-06", "2025-01-06"]).astype("datetime64[ns]")
    p = Prices(frame=pd.DataFrame({"date": d, "ticker": ["B", "B", "A"], "price": [2.0, 1.0, 3.0]}), field={}, source="t")
    w = p.wide()
    assert list(w.columns) == ["A", "B"] and list(w.index) == sorted(d.unique())
    assert w.loc["2025-01-06", "B"] == 1.0 and np.isnan(w.loc["2025-01-07", "A"])
    dup = Prices(frame=pd.DataFrame({"date": d[[1, 1]], "ticker": ["A", "A"], "price": [1.0, 2.0]}), field={}, source="t")
    with pytest.raises(ValueError, match="duplicate"):
        dup.wide()
