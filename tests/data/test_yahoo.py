"""YahooSource with an injected downloader that returns frames shaped like yfinance 1.x.

``yf_frame`` mirrors yfinance/multi.py (1.7.0): one per-ticker history frame
(Open, High, Low, Close, Adj Close, Volume; index 'Date', tz-naive for daily with
ignore_tz), failed tickers as all-NaN columns, concatenated with keys names
['Ticker', 'Price'], then swapped to ('Price', 'Ticker') and sorted by field.
Failures are logged on the 'yfinance' logger exactly as download() does.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from eventstudy.data import PriceCache, YahooSource
from eventstudy.data.yahoo import parse_download
from eventstudy.errors import DataUnavailableError, PriceDataError
from eventstudy.progress import progress_enabled

FIELDS = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
yf_log = logging.getLogger("yfinance")


def history(dates, close, adj=None, tz=None) -> pd.DataFrame:
    idx = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    if tz is not None:
        idx = idx.tz_localize(tz)
    close = np.asarray(close, dtype=float)
    df = pd.DataFrame(
        {"Open": close, "High": close, "Low": close, "Close": close,
         "Adj Close": close if adj is None else np.asarray(adj, dtype=float), "Volume": 1000.0},
        index=idx,
    )
    return df


def empty_history() -> pd.DataFrame:
    df = pd.DataFrame(index=pd.DatetimeIndex([], name="Date"), data={f: np.nan for f in FIELDS})
    return df


def yf_frame(per_ticker: dict[str, pd.DataFrame | None], auto_adjust: bool = False) -> pd.DataFrame:
    dfs = {}
    for t, df in per_ticker.items():
        df = empty_history() if df is None else df
        if auto_adjust:
            df = df.drop(columns="Adj Close")
        dfs[t.upper()] = df
    idx = None
    for df in dfs.values():
        if not df.empty:
            idx = df.index if idx is None else idx.union(df.index)
    idx = pd.DatetimeIndex([], name="Date") if idx is None else idx
    dfs = {k: v.reindex(idx) for k, v in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


class FakeYahoo:
    """A market of full histories; behaves like yfinance.download on a slice of it."""

    def __init__(self, market: dict[str, pd.DataFrame], mode: str = "ok", fail_first: int = 0,
                 rate_limited: set[str] | None = None, auto_adjust_frames: bool = False):
        self.market = market
        self.mode = mode
        self.fail_first = fail_first
        self.rate_limited = set(rate_limited or ())
        self.auto_adjust_frames = auto_adjust_frames
        self.calls: list[dict] = []

    def __call__(self, tickers, start=None, end=None, **kw):
        self.calls.append({"tickers": list(tickers), "start": start, "end": end, **kw})
        if self.fail_first > 0:
            self.fail_first -= 1
            raise ConnectionError("HTTPSConnectionPool(host='query2.finance.yahoo.com'): Max retries exceeded")
        if self.mode == "dns":
            for t in tickers:
                yf_log.error(f"Failed to get ticker '{t.upper()}' reason: Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com.")
            yf_log.error(f"\n{len(tickers)} Failed download{'s' if len(tickers) > 1 else ''}:")
            yf_log.error(f"{[t.upper() for t in tickers]}: DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com.')")
            return yf_frame({t: None for t in tickers})
        out, failed, limited = {}, [], []
        lo, hi = pd.Timestamp(start), pd.Timestamp(end)  # end exclusive, as in yfinance
        for t in tickers:
            if t in self.rate_limited:
                self.rate_limited.discard(t)
                limited.append(t.upper())
                out[t] = None
                continue
            h = self.market.get(t)
            if h is None:
                failed.append(t.upper())
                out[t] = None
                continue
            naive = h.index.tz_localize(None) if h.index.tz is not None else h.index
            sl = h.loc[(naive >= lo) & (naive < hi)]
            if sl.empty:
                failed.append(t.upper())
                out[t] = None
            else:
                out[t] = sl
        n = len(failed) + len(limited)
        if n:
            yf_log.error(f"\n{n} Failed download{'s' if n > 1 else ''}:")
            if failed:
                yf_log.error(f"{failed}: YFPricesMissingError('possibly delisted; no price data found  (1d {start} -> {end})')")
            if limited:
                yf_log.error(f"{limited}: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')")
        return yf_frame(out, auto_adjust=self.auto_adjust_frames)


DAYS = pd.bdate_range("2025-01-06", "2025-02-28")


def market(n=3, factor=1.0):
    rng = np.random.default_rng(0)
    out = {}
    for j, t in enumerate(["7203.T", "^N225", "NKD=F", "JPY=X", "6758.T"][:n]):
        close = 100 * (j + 1) * np.exp(np.cumsum(rng.normal(0, 0.01, len(DAYS))))
        out[t] = history(DAYS, close, close * 0.98 * factor)
    return out


def src(fake, **kw):
    sleeps = []
    s = YahooSource(downloader=fake, sleep=sleeps.append, progress=False, **kw)
    return s, sleeps


def test_frame_shape_matches_yfinance():
    f = yf_frame({"AAA": history(DAYS[:3], [1, 2, 3]), "ZZZ": None})
    assert isinstance(f.columns, pd.MultiIndex) and f.columns.names == ["Price", "Ticker"]
    assert f.index.name == "Date" and f[("Close", "ZZZ")].isna().all()
    assert list(f.columns.get_level_values(0).unique()) == sorted(FIELDS)


def test_download_values_fields_failures_and_call_arguments():
    mk = market(2)
    fake = FakeYahoo(mk)
    s, _ = src(fake)
    p = s.get(["7203.T", "^N225", "NOPE.T"], "2025-01-07", "2025-01-31")
    assert p.tickers == ["7203.T", "^N225"]
    assert p.field == {"7203.T": "adj_close", "^N225": "adj_close"}
    exp = mk["7203.T"].loc["2025-01-07":"2025-01-31", "Adj Close"].to_numpy()
    np.testing.assert_allclose(p.wide()["7203.T"].to_numpy(), exp)
    assert p.wide().index[-1] == pd.Timestamp("2025-01-31")  # end is inclusive
    assert p.failures["ticker"].tolist() == ["NOPE.T"]
    assert "possibly delisted" in p.failures["reason"].iloc[0]
    c = fake.calls[0]
    assert c["start"] == "2025-01-07" and c["end"] == "2025-02-01"  # yfinance end is exclusive
    assert (c["auto_adjust"], c["actions"], c["group_by"], c["threads"], c["progress"]) == (False, False, "column", False, False)
    assert p.source.startswith("Yahoo Finance via yfinance ") and not p.simulated


def test_single_ticker_multiindex_and_flat_columns():
    h = history(DAYS[:4], [10, 11, 12, 13], [9, 10, 11, 12])
    got, auto = parse_download(yf_frame({"AAA": h}), ["AAA"])
    assert not auto and got["AAA"]["adj_close"].tolist() == [9, 10, 11, 12]
    got, _ = parse_download(h, ["AAA"])  # old yfinance: flat columns for one ticker
    assert got["AAA"]["close"].tolist() == [10, 11, 12, 13]
    # group_by='ticker' order (ticker level first) is understood too
    f = yf_frame({"AAA": h, "BBB": h * 2})
    f.columns = f.columns.swaplevel(0, 1)
    got, _ = parse_download(f, ["AAA", "BBB"])
    assert got["BBB"]["close"].tolist() == [20, 22, 24, 26]


def test_auto_adjusted_frame_uses_close_and_says_so():
    fake = FakeYahoo(market(1), auto_adjust_frames=True)
    s, _ = src(fake)
    p = s.get(["7203.T"], "2025-01-06", "2025-01-10")
    assert p.field == {"7203.T": "close"}
    assert "already split- and dividend-adjusted" in p.source


def test_tz_aware_index_keeps_exchange_local_date():
    h = history(DAYS[:3], [1, 2, 3], tz="Asia/Tokyo")
    got, _ = parse_download(yf_frame({"AAA": h}), ["AAA"])
    assert got["AAA"]["date"].tolist() == list(DAYS[:3])
    assert got["AAA"]["date"].dtype == np.dtype("datetime64[ns]")


def test_batches():
    mk = {f"T{i}": history(DAYS[:2], [1.0, 2.0]) for i in range(120)}
    fake = FakeYahoo(mk)
    s, _ = src(fake, batch_size=50)
    p = s.get(list(mk), "2025-01-06", "2025-01-07")
    assert [len(c["tickers"]) for c in fake.calls] == [50, 50, 20]
    assert len(p.tickers) == 120


def test_retries_with_exponential_backoff_then_success():
    fake = FakeYahoo(market(1), fail_first=2)
    s, sleeps = src(fake, retries=3, backoff=1.0)
    p = s.get(["7203.T"], "2025-01-06", "2025-01-10")
    assert sleeps == [1.0, 2.0] and len(fake.calls) == 3 and p.tickers == ["7203.T"]


def test_persistent_connection_errors_raise_data_unavailable():
    fake = FakeYahoo(market(1), fail_first=99)
    s, sleeps = src(fake, retries=3, backoff=0.5)
    with pytest.raises(DataUnavailableError, match=r"Yahoo Finance could not be reached.*--offline.*--prices FILE"):
        s.get(["7203.T"], "2025-01-06", "2025-01-10")
    assert sleeps == [0.5, 1.0, 2.0]


def test_no_network_fails_fast_with_offline_options():
    fake = FakeYahoo(market(2), mode="dns")
    s, sleeps = src(fake, batch_size=1)
    with pytest.raises(DataUnavailableError) as ei:
        s.get(["7203.T", "^N225"], "2025-01-06", "2025-01-10")
    msg = str(ei.value)
    assert "Yahoo Finance could not be reached" in msg and "Could not resolve host" in msg
    assert "--offline" in msg and "SIMULATED" in msg and "--prices FILE" in msg
    assert len(fake.calls) == 1 and sleeps == []  # no retries on name-resolution failure, no further batches


def test_rate_limited_ticker_is_retried_alone():
    fake = FakeYahoo(market(2), rate_limited={"^N225"})
    s, sleeps = src(fake)
    p = s.get(["7203.T", "^N225"], "2025-01-06", "2025-01-10")
    assert p.tickers == ["7203.T", "^N225"] and p.failures.empty
    assert [c["tickers"] for c in fake.calls] == [["7203.T", "^N225"], ["^N225"]] and sleeps == [1.0]


def test_progress_bar(capsys, monkeypatch):
    fake = FakeYahoo(market(1))
    YahooSource(downloader=fake, progress=True).get(["7203.T"], "2025-01-06", "2025-01-08")
    assert "Yahoo Finance" in capsys.readouterr().err
    monkeypatch.setenv("CI", "1")
    assert progress_enabled(YahooSource(downloader=fake, progress=None).progress) is False


# ----------------------------------------------------------------------------- cache
def test_cache_serves_second_request_and_tops_up_only_missing_span(tmp_path):
    mk = market(2)
    fake = FakeYahoo(mk)
    cache = PriceCache(tmp_path)
    s, _ = src(fake, cache=cache)
    p1 = s.get(["7203.T", "^N225"], "2025-01-06", "2025-01-31")
    assert len(fake.calls) == 1
    assert cache.coverage("7203.T") == (pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-31"))
    p2 = s.get(["7203.T", "^N225"], "2025-01-10", "2025-01-20")
    assert len(fake.calls) == 1  # served from cache
    pd.testing.assert_frame_equal(p2.wide(), p1.wide().loc["2025-01-10":"2025-01-20"])
    p3 = s.get(["7203.T", "^N225"], "2025-01-06", "2025-02-14")
    assert len(fake.calls) == 2
    top = fake.calls[-1]
    # from the last cached session (re-checked for the adjustment basis) to the new end
    assert (top["start"], top["end"]) == ("2025-01-31", "2025-02-15")
    exp = mk["^N225"].loc["2025-01-06":"2025-02-14", "Adj Close"].to_numpy()
    np.testing.assert_allclose(p3.wide()["^N225"].to_numpy(), exp)
    assert cache.coverage("^N225") == (pd.Timestamp("2025-01-06"), pd.Timestamp("2025-02-14"))
    # backward extension downloads only the earlier span
    s.get(["7203.T"], "2025-01-01", "2025-02-14")
    assert (fake.calls[-1]["start"], fake.calls[-1]["end"]) == ("2025-01-01", "2025-01-07")


def test_refresh_forces_full_download(tmp_path):
    fake = FakeYahoo(market(1))
    cache = PriceCache(tmp_path)
    src(fake, cache=cache)[0].get(["7203.T"], "2025-01-06", "2025-01-31")
    src(fake, cache=cache, refresh=True)[0].get(["7203.T"], "2025-01-06", "2025-01-31")
    assert len(fake.calls) == 2
    assert (fake.calls[-1]["start"], fake.calls[-1]["end"]) == ("2025-01-06", "2025-02-01")


def test_changed_adjustment_basis_triggers_full_redownload(tmp_path):
    cache = PriceCache(tmp_path)
    src(FakeYahoo(market(1)), cache=cache)[0].get(["7203.T"], "2025-01-06", "2025-01-31")
    # a dividend since then: Yahoo's adjusted history is now on a different basis
    new_market = market(1, factor=0.97)
    fake = FakeYahoo(new_market)
    p = src(fake, cache=cache)[0].get(["7203.T"], "2025-01-06", "2025-02-14")
    assert len(fake.calls) == 2 and fake.calls[-1]["start"] == "2025-01-06"
    exp = new_market["7203.T"].loc["2025-01-06":"2025-02-14", "Adj Close"].to_numpy()
    np.testing.assert_allclose(p.wide()["7203.T"].to_numpy(), exp)  # one basis throughout


def test_unknown_ticker_is_not_cached(tmp_path):
    cache = PriceCache(tmp_path)
    with pytest.raises(DataUnavailableError, match=r"no prices for any of the 1 ticker.*NOPE.*--offline"):
        src(FakeYahoo(market(1)), cache=cache)[0].get(["NOPE"], "2025-01-06", "2025-01-31")
    assert cache.coverage("NOPE") is None
    # one unknown ticker among good ones is reported and left out, not fatal
    p = src(FakeYahoo(market(1)), cache=cache)[0].get(["NOPE", "7203.T"], "2025-01-06", "2025-01-31")
    assert p.failures["ticker"].tolist() == ["NOPE"] and set(p.frame["ticker"]) == {"7203.T"}


def test_bad_date_bound_is_a_clear_error_before_any_download():
    fake = FakeYahoo(market(1))
    s, _ = src(fake)
    with pytest.raises(PriceDataError, match="the start date 'last week' is not a date"):
        s.get(["7203.T"], "last week", "2025-01-08")
    assert fake.calls == []
