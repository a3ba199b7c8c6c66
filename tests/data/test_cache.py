"""PriceCache: round trip, safe names, damaged files, atomic writes, location."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import eventstudy.io_utils as io_utils
from eventstudy.data import CacheWarning, PriceCache, YahooSource
from eventstudy.data.cache import default_cache_dir, safe_file_name
from eventstudy.errors import CacheError

DAYS = pd.bdate_range("2025-01-06", periods=10)


def frame(scale=1.0):
    close = np.arange(1.0, 11.0) * 100 * scale
    adj = close * 0.99
    adj[3] = np.nan
    return pd.DataFrame({"date": DAYS, "close": close, "adj_close": adj})


def test_round_trip_and_coverage(tmp_path):
    c = PriceCache(tmp_path)
    c.write("7203.T", frame(), "2025-01-01", "2025-01-20", source="test", fetched_at="2025-01-21T00:00:00+00:00")
    e = c.read("7203.T")
    pd.testing.assert_frame_equal(e.frame, frame().astype({"date": "datetime64[ns]"}))
    assert (e.start, e.end) == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-20"))
    assert e.fetched_at == "2025-01-21T00:00:00+00:00" and e.source == "test"
    assert c.coverage("7203.T") == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-20"))
    assert c.coverage("6758.T") is None


def test_safe_names_for_index_future_fx_tickers(tmp_path):
    c = PriceCache(tmp_path)
    names = {t: safe_file_name(t) for t in ["^N225", "NKD=F", "JPY=X", "7203.T", "CON", "a/b"]}
    assert names["^N225"] == "%5EN225.parquet" and names["NKD=F"] == "NKD%3DF.parquet"
    assert names["7203.T"] == "7203.T.parquet" and "/" not in names["a/b"]
    assert names["CON"] != "CON.parquet"  # reserved device name on Windows
    assert len(set(names.values())) == len(names)
    for t in names:
        c.write(t, frame(), "2025-01-06", "2025-01-17", source="test")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names.values())
    for t in names:
        assert c.read(t).ticker == t
    assert c.clear("NKD=F") == 1 and c.read("NKD=F") is None
    assert c.clear() == len(names) - 1 and list(tmp_path.iterdir()) == []


def _damaged(tmp_path, damage):
    """A cache holding ^N225, its file then damaged as ``damage`` says; returns (cache, path)."""
    c = PriceCache(tmp_path)
    c.write("^N225", frame(), "2025-01-06", "2025-01-17", source="test")
    path = c.path_for("^N225")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 50)
    elif damage == "no_metadata":
        pq.write_table(pa.Table.from_pandas(frame(), preserve_index=False), path)
    elif damage == "wrong_ticker":
        c.write("NKD=F", frame(), "2025-01-06", "2025-01-17", source="test")
        c.path_for("NKD=F").replace(path)
    elif damage == "wrong_schema":
        t = pq.read_table(path)
        bad = pa.table({"date": t["date"], "close": pa.array(["x"] * t.num_rows)}, metadata=t.schema.metadata)
        pq.write_table(bad, path)
    return c, path


@pytest.mark.parametrize("damage", ["wrong_ticker", "wrong_schema"])
def test_damaged_file_is_reported_deleted_and_a_miss(tmp_path, damage):
    c, path = _damaged(tmp_path, damage)
    with pytest.warns(CacheWarning, match=r"%5EN225\.parquet is damaged"):
        assert c.read("^N225") is None
    assert not path.exists()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "no_metadata"])
def test_a_file_the_cache_did_not_write_is_never_deleted_or_overwritten(tmp_path, damage):
    """A user's own parquet (or bytes the cache cannot prove it wrote) in the cache folder: reading,
    writing and clearing that ticker leave it byte for byte, with a message naming the file and the fix."""
    from eventstudy.errors import CacheError

    c, path = _damaged(tmp_path, damage)
    before = path.read_bytes()
    with pytest.raises(CacheError, match=r"%5EN225\.parquet is in the price cache folder but eventstudy did not "
                                         r"write it.*left untouched.*Move it out"):
        c.read("^N225")
    with pytest.raises(CacheError, match="did not write it"):
        c.write("^N225", frame(), "2025-01-06", "2025-01-17", source="test")
    with pytest.warns(CacheWarning, match=r"left 1 file\(s\).*%5EN225\.parquet"):
        assert c.clear() == 0
    assert path.read_bytes() == before


def test_damaged_file_is_replaced_by_a_download(tmp_path):
    c = PriceCache(tmp_path)
    c.write("7203.T", frame(), "2025-01-06", "2025-01-17", source="test")
    c.write("6758.T", frame(), "2025-01-06", "2025-01-17", source="test")
    c.path_for("6758.T").replace(c.path_for("7203.T"))      # the cache's own file, for the wrong ticker
    calls = []

    def downloader(tickers, start=None, end=None, **kw):
        calls.append((tickers, start, end))
        idx = pd.DatetimeIndex(DAYS, name="Date")
        cols = pd.MultiIndex.from_product([["Adj Close", "Close"], tickers], names=["Price", "Ticker"])
        return pd.DataFrame(np.c_[np.arange(1.0, 11.0), np.arange(2.0, 12.0)], index=idx, columns=cols)

    with pytest.warns(CacheWarning):
        p = YahooSource(cache=c, downloader=downloader, progress=False).get(["7203.T"], "2025-01-06", "2025-01-17")
    assert calls == [(["7203.T"], "2025-01-06", "2025-01-18")]
    assert p.frame["price"].tolist() == list(np.arange(1.0, 11.0))
    e = c.read("7203.T")  # rewritten, readable
    assert e.frame["adj_close"].tolist() == list(np.arange(1.0, 11.0))


def test_write_is_atomic_when_the_writer_fails(tmp_path, monkeypatch):
    c = PriceCache(tmp_path)
    c.write("7203.T", frame(), "2025-01-06", "2025-01-17", source="old")
    before = c.path_for("7203.T").read_bytes()

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io_utils.os, "fsync", boom)
    with pytest.raises(CacheError, match=r"7203\.T\.parquet.*No space left.*EVENTSTUDY_CACHE_DIR"):
        c.write("7203.T", frame(scale=2.0), "2025-01-06", "2025-01-17", source="new")
    assert c.path_for("7203.T").read_bytes() == before  # old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["7203.T.parquet"]  # no partial temp file left
    assert c.read("7203.T").source == "old"


def test_location(monkeypatch, tmp_path):
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path / "root"))
    assert default_cache_dir() == tmp_path / "root" / "prices"
    assert PriceCache().directory == tmp_path / "root" / "prices"
    monkeypatch.delenv("EVENTSTUDY_CACHE_DIR")
    d = default_cache_dir()
    assert d.name == "prices" and "eventstudy" in d.parts
