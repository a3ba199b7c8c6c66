"""FileSource and validate_price_frame: long/wide CSV and parquet, and every bad input."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.data import FileSource, PriceDataWarning, describe_fields, validate_price_frame
from eventstudy.errors import PriceDataError

SHARED = Path(__file__).resolve().parents[3] / "shared"
MARKET = SHARED / "data" / "market"

LONG = """date,ticker,open,high,low,close,adj_close,volume
2025-01-06,AAA,,,,100,,10
2025-01-07,AAA,,,,101,,10
2025-01-08,AAA,,,,99.5,,10
2025-01-06,BBB,,,,50,49,5
2025-01-07,BBB,,,,51,50,5
"""


def write(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_long_csv_picks_field_per_ticker(tmp_path):
    src = FileSource(write(tmp_path, LONG))
    p = src.get(None)
    assert p.field == {"AAA": "close", "BBB": "adj_close"}
    assert p.tickers == ["AAA", "BBB"]
    assert p.frame["date"].dtype == np.dtype("datetime64[ns]")
    assert list(p.frame.columns) == ["date", "ticker", "price"]
    w = p.wide()
    assert w.loc["2025-01-08", "AAA"] == 99.5
    assert np.isnan(w.loc["2025-01-08", "BBB"])
    assert w.loc["2025-01-07", "BBB"] == 50.0  # adj_close, not close
    assert p.source == f"file {tmp_path / 'p.csv'}"
    assert not p.simulated
    line = describe_fields(p.field)
    assert "adj_close" in line and "close for 1 ticker (AAA)" in line


def test_get_filters_and_reports_unknown_ticker(tmp_path):
    path = write(tmp_path, LONG)
    p = FileSource(path).get(["BBB", "ZZZ"], "2025-01-07", "2025-01-31")
    assert p.tickers == ["BBB"]
    assert p.frame["date"].tolist() == [pd.Timestamp("2025-01-07")]
    assert p.failures["ticker"].tolist() == ["ZZZ"]
    assert p.failures["reason"].iloc[0] == f"not in file {path}"


def test_date_bounds_garbage_is_a_clear_error_and_tz_aware_is_read_as_the_date(tmp_path):
    src = FileSource(write(tmp_path, LONG))
    with pytest.raises(PriceDataError, match="the start date 'garbage' is not a date"):
        src.get(["AAA"], "garbage", "2025-01-31")
    with pytest.raises(PriceDataError, match="the end date 'soon' is not a date"):
        src.get(None).select(end="soon")
    p = src.get(["AAA"], pd.Timestamp("2025-01-07 09:00", tz="Asia/Tokyo"), "2025-01-07")
    assert p.frame["date"].tolist() == [pd.Timestamp("2025-01-07")]


def test_ticker_without_prices_in_range_is_a_failure(tmp_path):
    p = FileSource(write(tmp_path, LONG)).get(["AAA", "BBB"], "2025-01-08", "2025-01-09")
    assert p.tickers == ["AAA"]
    assert p.failures["ticker"].tolist() == ["BBB"]
    assert "no prices from 2025-01-08 to 2025-01-09" in p.failures["reason"].iloc[0]


def test_wide_csv(tmp_path):
    text = "Date,AAA,^N225\n2025-01-06,100,40000\n2025-01-07,,40100.5\n2025-01-08,102,\n"
    p = FileSource(write(tmp_path, text)).get(None)
    assert p.field == {"AAA": "close", "^N225": "close"}
    w = p.wide()
    assert w.shape == (3, 2)
    assert np.isnan(w.loc["2025-01-07", "AAA"]) and w.loc["2025-01-07", "^N225"] == 40100.5
    assert len(p.frame) == 4  # missing prices are gaps, not rows


def test_long_and_wide_parquet(tmp_path):
    long = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-01-06", "2025-01-07"]),
            "ticker": ["AAA", "AAA"],
            "close": [10.0, 11.0],
            "adj_close": [9.0, 10.0],
        }
    )
    long.to_parquet(tmp_path / "l.parquet")
    p = FileSource(tmp_path / "l.parquet").get(None)
    assert p.field == {"AAA": "adj_close"}
    assert p.frame["price"].tolist() == [9.0, 10.0]

    wide = pd.DataFrame({"AAA": [1.0, 2.0], "BBB": [3.0, np.nan]}, index=pd.DatetimeIndex(["2025-01-06", "2025-01-07"], name="date"))
    wide.to_parquet(tmp_path / "w.parquet")
    p = FileSource(tmp_path / "w.parquet").get(None)
    expected = wide.astype("float64")
    expected.index = expected.index.astype("datetime64[ns]")
    pd.testing.assert_frame_equal(p.wide(), expected, check_freq=False)


def test_parquet_bad_rows_named_by_row(tmp_path):
    long = pd.DataFrame({"date": pd.to_datetime(["2025-01-06", "2025-01-07"]), "ticker": ["A", "A"], "close": [1.0, -2.0]})
    long.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(PriceDataError, match=r"A on 2025-01-07 \(row 2\)"):
        FileSource(tmp_path / "b.parquet").get(None)


def test_missing_column(tmp_path):
    with pytest.raises(PriceDataError, match=r"p\.csv.*missing column\(s\) close"):
        FileSource(write(tmp_path, "date,ticker,volume\n2025-01-06,A,3\n")).get(None)
    with pytest.raises(PriceDataError, match="neither a ticker column"):
        FileSource(write(tmp_path, "day,price\n2025-01-06,3\n", "q.csv")).get(None)


def test_unparseable_date_names_line(tmp_path):
    text = "date,ticker,close\n2025-01-06,A,1\n2025-01-07,A,2\n06/01/2025x,A,3\n"
    with pytest.raises(PriceDataError, match=r"p\.csv.*line 4: '06/01/2025x'.*YYYY-MM-DD"):
        FileSource(write(tmp_path, text)).get(None)


def test_blank_lines_keep_line_numbers(tmp_path):
    text = "date,ticker,close\n2025-01-06,A,1\n\n2025-01-07,A,zero\n"
    with pytest.raises(PriceDataError, match=r"line 4 \(A 2025-01-07\): 'zero'"):
        FileSource(write(tmp_path, text)).get(None)


def test_duplicate_date_ticker(tmp_path):
    text = "date,ticker,close\n2025-01-06,A,1\n2025-01-07,A,2\n2025-01-06,B,1\n2025-01-06,A,1.5\n"
    with pytest.raises(PriceDataError, match=r"A on 2025-01-06 at line 2, line 5"):
        FileSource(write(tmp_path, text)).get(None)


def test_wide_duplicate_dates_and_columns(tmp_path):
    with pytest.raises(PriceDataError, match=r"A on 2025-01-06 at line 2, line 3"):
        FileSource(write(tmp_path, "date,A\n2025-01-06,1\n2025-01-06,2\n")).get(None)
    with pytest.raises(PriceDataError, match=r"ticker column\(s\) A appear more than once"):
        FileSource(write(tmp_path, "date,A,A\n2025-01-06,1,2\n", "d.csv")).get(None)


@pytest.mark.parametrize("bad", ["0", "-3", "inf"])
def test_non_positive_or_infinite_price(tmp_path, bad):
    text = f"date,ticker,close\n2025-01-06,A,1\n2025-01-07,A,{bad}\n"
    with pytest.raises(PriceDataError, match=r"A on 2025-01-07 \(line 3\)"):
        FileSource(write(tmp_path, text)).get(None)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(PriceDataError, match="does not exist"):
        FileSource(tmp_path / "nope.csv").get(None)
    with pytest.raises(PriceDataError, match="is empty"):
        FileSource(write(tmp_path, "")).get(None)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(PriceDataError, match="cannot be read as parquet"):
        FileSource(tmp_path / "junk.parquet").get(None)


def test_partial_adj_close_is_a_gap_not_a_mix():
    df = pd.DataFrame(
        {"date": ["2025-01-06", "2025-01-07", "2025-01-08"], "ticker": ["A"] * 3, "close": [10, 11, 12], "adj_close": [9.0, np.nan, 11.0]}
    )
    with pytest.warns(PriceDataWarning, match=r"A \(1 date\)"):
        out, field = validate_price_frame(df, "test frame")
    assert field == {"A": "adj_close"}
    assert out["price"].tolist() == [9.0, 11.0]


def test_validate_reports_rows_without_line_numbers():
    df = pd.DataFrame({"date": ["2025-01-06", "2025-01-06"], "ticker": ["A", "A"], "close": [1.0, 2.0]})
    with pytest.raises(PriceDataError, match=r"test frame: .*A on 2025-01-06 at row 1, row 2"):
        validate_price_frame(df, "test frame")


@pytest.mark.skipif(not MARKET.exists(), reason="shared market data not available")
def test_real_files_keroppa_and_ob198():
    kero = MARKET / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
    ob = MARKET / "ob198_rebalance_order_yahoo_close.csv"
    if not (kero.exists() and ob.exists()):
        pytest.skip("shared market files not available")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PriceDataWarning)
        pk = FileSource(kero).get(["7203.T", "^N225"], "2026-01-05", "2026-01-09")
        po = FileSource(ob).get(["7203.T"], "2026-01-05", "2026-01-09")
    # PROVENANCE.md: Toyota's actual close on 2026-01-06 is 3,429; adjusted close 3,378.69.
    assert pk.wide().loc["2026-01-06", "7203.T"] == 3429.0
    assert pk.field["7203.T"] == "close"
    assert po.field["7203.T"] == "adj_close"
    assert po.wide().loc["2026-01-06", "7203.T"] == pytest.approx(3378.69, abs=0.01)


def test_select_and_describe_all_close(tmp_path):
    p = FileSource(write(tmp_path, LONG)).get(None)
    sub = p.select(["AAA"], "2025-01-07", None)
    assert sub.tickers == ["AAA"] and sub.field == {"AAA": "close"}
    assert sub.frame["date"].tolist() == list(pd.to_datetime(["2025-01-07", "2025-01-08"]))
    line = describe_fields(sub.field)
    assert line.startswith("Prices: close for all 1 ticker (the source has no adjusted close")


# ----------------------------------------------------------------------------- several files
SECOND = """date,ticker,close,volume
2025-01-06,CCC,20,7
2025-01-08,CCC,21,8
2025-01-07,AAB,5,1
"""


def test_several_files_equal_one_file_holding_all_rows(tmp_path):
    """Stocks in one file, more instruments in another (other columns, another order): the same prices,
    fields, failures and volume as one file with every row."""
    from eventstudy.data.volume import read_volume_file, read_volume_files

    a, b = write(tmp_path, LONG, "a.csv"), write(tmp_path, SECOND, "b.csv")
    one = pd.concat([pd.read_csv(a), pd.read_csv(b)], ignore_index=True)
    both = tmp_path / "both.csv"
    one.to_csv(both, index=False)
    many, single = FileSource([a, b]), FileSource(both)
    assert many.source == f"files {a}, {b}"
    for args in ((None,), (["CCC", "AAA", "ZZZ"], "2025-01-07", "2025-01-08")):
        x, y = many.get(*args), single.get(*args)
        pd.testing.assert_frame_equal(x.frame, y.frame)
        assert x.field == y.field
        assert list(x.failures["ticker"]) == list(y.failures["ticker"])
    assert "not in files" in " ".join(many.get(["ZZZ"]).failures["reason"])
    pd.testing.assert_frame_equal(read_volume_files([a, b]), read_volume_file(both), check_like=True)


def test_a_ticker_in_two_files_is_refused_with_both_named(tmp_path):
    from eventstudy.data.volume import VolumeDataError, read_volume_files

    a, b = write(tmp_path, LONG, "a.csv"), write(tmp_path, SECOND.replace("CCC", "BBB"), "b.csv")
    with pytest.raises(PriceDataError, match=rf"ticker BBB is in prices file {a} and in {b}: keep each ticker in one"):
        FileSource([a, b]).get(None)
    with pytest.raises(VolumeDataError, match=rf"ticker BBB has volume in {a} and in {b}"):
        read_volume_files([a, b])
    with pytest.raises(PriceDataError, match=rf"prices file {a} is given twice; give each --prices file once"):
        FileSource([a, tmp_path / "." / "a.csv"]).get(None)


def test_cli_takes_prices_from_two_files(tmp_path, capsys):
    """``--prices A --prices B`` (stocks and futures apart, as the shared data come): the same tables as one
    file holding both, on real Tokyo stocks and the Osaka Nikkei 225 mini; its day 0 for the dual-use ban
    is the OSE trading date 2026-01-07 (the night session of 01-06 belongs to it)."""
    from eventstudy.cli import main

    stocks, fut = MARKET / "keroppa88_chart0_jquants_tse1025_ohlcv.csv", MARKET / "mahoganin_ose_nk225mini_daily.csv"
    if not (stocks.exists() and fut.exists()):
        pytest.skip("the shared market data are not available")
    uni = pd.read_csv(Path(__file__).resolve().parents[2] / "eventstudy" / "study" / "china_japan" / "universe.csv")
    uni = pd.concat([uni[uni["ticker"].isin(["7203.T", "7267.T", "6501.T", "9432.T", "1306.T", "NKD=F"])],
                     pd.DataFrame([dict(ticker="NIKKEI225MINI.OSE", name="OSE mini", group="futures",
                                        benchmark="1306.T", exchange="OSE", rationale="")])])
    uni.to_csv(tmp_path / "u.csv", index=False)
    cols = ["date", "ticker", "close", "adj_close"]
    pd.concat([pd.read_csv(stocks, usecols=cols), pd.read_csv(fut, usecols=cols)]).to_csv(tmp_path / "all.csv", index=False)
    common = ["run", "--universe", str(tmp_path / "u.csv"), "--no-report", "--window=0,0"]
    assert main([*common, "--prices", str(stocks), "--prices", str(fut), "--out", str(tmp_path / "two")]) == 0
    assert main([*common, "--prices", str(tmp_path / "all.csv"), "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    for name in ("car.csv", "tests.csv", "params.csv", "day0.csv"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    car = pd.read_csv(tmp_path / "two" / "car.csv")
    ban = car[(car["ticker"] == "NIKKEI225MINI.OSE") & (car["event_id"] == "dual_use_ban")]
    assert len(ban) == 1 and np.isfinite(ban["car"].iloc[0])
    day0 = pd.read_csv(tmp_path / "two" / "day0.csv")
    assert day0.loc[(day0["ticker"] == "NIKKEI225MINI.OSE") & (day0["event_id"] == "dual_use_ban"), "day0"].item() == "2026-01-07"
