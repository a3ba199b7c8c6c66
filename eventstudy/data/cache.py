"""Local price cache: one parquet file per ticker.

Each file holds ``date, close, adj_close`` (float64, NaN = missing) and, in the parquet
schema metadata, the requested coverage (inclusive ``start``/``end`` dates that were asked
of the source), ``fetched_at`` (UTC ISO time) and ``source``. Files are written atomically.

The cache only ever deletes or overwrites files it wrote (its metadata key is present): a
damaged file of its own (wrong schema, metadata values or ticker, duplicated dates,
non-positive prices) is reported with a :class:`CacheWarning`, deleted and treated as a miss;
a file it cannot prove it wrote (unreadable bytes, a parquet without its metadata, e.g. a
user's own ``1001.T.parquet`` in ``--cache-dir``) is never touched: reading or writing that
ticker raises :class:`~eventstudy.errors.CacheError` naming the file and what to do.

Location: ``$EVENTSTUDY_CACHE_DIR/prices`` if that variable is set, else
``platformdirs.user_cache_dir("eventstudy")/prices``.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from eventstudy.inputs.dates import normalise_dates
from eventstudy.errors import CacheError, CacheWarning
from eventstudy.io_utils import atomic_write_bytes

__all__ = ["PriceCache", "CacheEntry", "CacheWarning", "default_cache_dir", "safe_file_name"]

_META_KEY = b"eventstudy.price_cache"
_FORMAT_VERSION = 1
_MAX_STEM = 200
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}



def default_cache_dir() -> Path:
    """``$EVENTSTUDY_CACHE_DIR/prices`` or ``<user cache dir>/eventstudy/prices``."""
    env = os.environ.get("EVENTSTUDY_CACHE_DIR", "").strip()
    if env:
        return Path(env).expanduser() / "prices"
    import platformdirs

    return Path(platformdirs.user_cache_dir("eventstudy", appauthor=False)) / "prices"


def safe_file_name(ticker: str) -> str:
    """File name for a ticker: characters other than ``A-Z a-z 0-9 . -`` are %-encoded
    (``^N225`` -> ``%5EN225.parquet``, ``NKD=F`` -> ``NKD%3DF.parquet``)."""
    stem = re.sub(r"[^A-Za-z0-9.\-]", lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), ticker)
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED or stem.startswith("."):
        stem = "%" + stem.encode("utf-8").hex().upper()
    if len(stem) > _MAX_STEM:    # file systems allow 255 bytes a name: keep a prefix and a hash of the whole
        digest = hashlib.sha256(ticker.encode("utf-8")).hexdigest()[:16]
        head = stem[:_MAX_STEM - 18]
        cut = head.rfind("%")
        if cut >= len(head) - 2 and cut >= 0:       # do not split a %XX escape
            head = head[:cut]
        stem = f"{head}~{digest}"
    return stem + ".parquet"


@dataclass(frozen=True)
class CacheEntry:
    """One cached ticker: ``frame`` (date, close, adj_close) and the requested coverage [start, end]."""

    ticker: str
    frame: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    fetched_at: str
    source: str


class _Damaged(Exception):
    pass


class _NotOurs(Exception):
    pass


def _not_ours_error(path: Path, why: str) -> CacheError:
    return CacheError(
        f"{path} is in the price cache folder but eventstudy did not write it ({why}); it was left untouched. "
        "Move it out of the cache folder (or delete it if it is a damaged cache file), or choose another "
        "--cache-dir / EVENTSTUDY_CACHE_DIR.")


def _meta_of(path: Path) -> bytes:
    """The cache's metadata of the parquet at ``path``; :class:`_NotOurs` when it has none or cannot be read."""
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # any parse failure: not provably a cache file
        raise _NotOurs(f"not readable as parquet: {type(exc).__name__}") from None
    raw = (schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise _NotOurs("a parquet without eventstudy metadata")
    return raw


class PriceCache:
    """Per-ticker parquet price cache in ``directory`` (see module docstring for the default)."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()

    def __repr__(self) -> str:
        return f"PriceCache({str(self.directory)!r})"

    def path_for(self, ticker: str) -> Path:
        return self.directory / safe_file_name(ticker)

    # ---------------------------------------------------------------- write
    def write(
        self,
        ticker: str,
        frame: pd.DataFrame,
        start,
        end,
        source: str,
        fetched_at: str | None = None,
    ) -> Path:
        """Store ``frame`` (date, close, adj_close) for ``ticker`` covering requested [start, end]."""
        start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        if end < start:
            raise ValueError(f"cache coverage end {end.date()} is before start {start.date()} for {ticker}")
        df = pd.DataFrame(
            {
                "date": normalise_dates(frame["date"]) if len(frame) else pd.DatetimeIndex([], dtype="datetime64[ns]"),
                "close": pd.to_numeric(frame["close"], errors="raise").to_numpy(dtype="float64") if len(frame) else [],
                "adj_close": pd.to_numeric(frame["adj_close"], errors="raise").to_numpy(dtype="float64") if len(frame) else [],
            }
        ).astype({"close": "float64", "adj_close": "float64"})
        df = df.sort_values("date", kind="mergesort").reset_index(drop=True)
        if df["date"].duplicated().any():
            raise ValueError(f"duplicated dates in the frame to cache for {ticker}")
        meta = {
            "version": _FORMAT_VERSION,
            "ticker": ticker,
            "start": start.date().isoformat(),
            "end": end.date().isoformat(),
            "fetched_at": fetched_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "source": source,
        }
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})
        buf = io.BytesIO()
        pq.write_table(table, buf)
        path = self.path_for(ticker)
        try:
            if path.is_file():
                _meta_of(path)          # never overwrite a file the cache did not write
        except _NotOurs as why:
            raise _not_ours_error(path, str(why)) from None
        try:
            atomic_write_bytes(path, buf.getvalue())
        except OSError as exc:
            raise CacheError(
                f"cannot write the price cache file {path} ({exc.strerror or exc}). "
                "Check that the folder is writable, or point EVENTSTUDY_CACHE_DIR to another folder."
            ) from None
        return path

    # ----------------------------------------------------------------- read
    def _load(self, path: Path, ticker: str) -> CacheEntry:
        raw = _meta_of(path)
        try:
            table = pq.read_table(path)
        except Exception as exc:  # footer readable, data not: a damaged file of the cache
            raise _Damaged(f"unreadable: {type(exc).__name__}: {exc}") from None
        try:
            meta = json.loads(raw)
            start, end = pd.Timestamp(meta["start"]), pd.Timestamp(meta["end"])
            fetched_at, source, who = str(meta["fetched_at"]), str(meta["source"]), meta["ticker"]
        except Exception as exc:
            raise _Damaged(f"bad metadata ({exc})") from None
        if who != ticker:
            raise _Damaged(f"holds ticker {who!r}, not {ticker!r}")
        if end < start:
            raise _Damaged("coverage end before start")
        names = set(table.schema.names)
        if not {"date", "close", "adj_close"} <= names:
            raise _Damaged(f"wrong columns {sorted(names)}")
        if not pa.types.is_timestamp(table.schema.field("date").type):
            raise _Damaged("date column is not a timestamp")
        for c in ("close", "adj_close"):
            if not pa.types.is_floating(table.schema.field(c).type):
                raise _Damaged(f"{c} column is not numeric")
        df = table.select(["date", "close", "adj_close"]).to_pandas()
        df["date"] = normalise_dates(df["date"])
        if df["date"].duplicated().any():
            raise _Damaged("duplicated dates")
        vals = df[["close", "adj_close"]].to_numpy()
        with np.errstate(invalid="ignore"):
            if (~np.isnan(vals) & ~(np.isfinite(vals) & (vals > 0))).any():
                raise _Damaged("non-positive or infinite prices")
        df = df.sort_values("date", kind="mergesort").reset_index(drop=True)
        return CacheEntry(ticker, df, start.normalize(), end.normalize(), fetched_at, source)

    def read(self, ticker: str) -> CacheEntry | None:
        """The cached entry, or None when absent or damaged (damaged files of the cache are deleted).
        Raises :class:`CacheError` when the file is not one the cache wrote (it is left untouched)."""
        path = self.path_for(ticker)
        if not path.is_file():
            return None
        try:
            return self._load(path, ticker)
        except _NotOurs as why:
            raise _not_ours_error(path, str(why)) from None
        except _Damaged as why:
            warnings.warn(
                f"price cache file {path} is damaged ({why}); deleted it, {ticker} will be downloaded again.",
                CacheWarning,
                stacklevel=2,
            )
            try:
                path.unlink()
            except OSError:
                pass
            return None

    def coverage(self, ticker: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Requested date range [start, end] the cache holds for ``ticker``, or None."""
        entry = self.read(ticker)
        return None if entry is None else (entry.start, entry.end)

    def clear(self, ticker: str | None = None) -> int:
        """Delete one ticker's file (or all cache files); return how many were deleted. Files the
        cache did not write are left alone (named in a :class:`CacheWarning`)."""
        if not self.directory.is_dir():
            return 0
        paths = [self.path_for(ticker)] if ticker is not None else list(self.directory.glob("*.parquet"))
        n = 0
        kept = []
        for p in paths:
            try:
                if p.is_file():
                    _meta_of(p)
            except _NotOurs:
                kept.append(p.name)
                continue
            try:
                p.unlink()
                n += 1
            except FileNotFoundError:
                pass
        if kept:
            warnings.warn(f"left {len(kept)} file(s) in {self.directory} that the cache did not write: "
                          f"{', '.join(kept[:5])}", CacheWarning, stacklevel=2)
        return n
