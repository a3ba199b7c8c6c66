"""A Parquet returns store: a return panel on disk, read lazily, a slice at a time (issue 18).

:func:`write_return_store` lays out a panel of decimal returns (a wide frame dates x tickers, a long frame
``date, ticker, ret``, or a ``ReturnPanel``) as one Parquet file: one row per (date, ticker) with a
return, sorted by date then ticker, in row groups of consecutive dates, so that the rows of a date range
are a few row groups and a chunk of events (a few hundred sessions of many securities) reads only those.
The file's key-value metadata holds what a study needs before any value: the tickers, the panel's dates,
each ticker's sessions and session closes (grouped by calendar), the return kind and each ticker's row
count. It is written to a temporary name and renamed.

:class:`ReturnStore` opens it (checking the schema and the metadata), pickles as its path and metadata
(a Dask worker opens the file itself) and reads ``(ticker code, date, return)`` rows of some tickers
over a date range (:meth:`ReturnStore.read`) or whole columns (:meth:`ReturnStore.columns`). Every
problem raises :class:`~eventstudy.errors.ReturnStoreError` naming the file (and the ticker and date).
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from eventstudy.errors import ReturnStoreError
from eventstudy.io_utils import default_file_mode

if TYPE_CHECKING:
    import pyarrow.parquet as pq

__all__ = ["ReturnStore", "write_return_store", "STORE_KEY", "MAX_STORE_RETURN"]

#: the key of the store's metadata in the Parquet file's key-value metadata
STORE_KEY = b"eventstudy.return_store"
#: a stored return beyond this (a price jump by a factor of 1,000) is refused as a data error
MAX_STORE_RETURN = 1_000.0
_SCHEMA = pa.schema([("date", pa.int64()), ("ticker", pa.int32()), ("ret", pa.float64())])


def _long_arrays(returns) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(tickers, panel dates as int64 ns, and per stored value: date, ticker code, return) of a wide or
    long frame, sorted by date then ticker code; refuses what cannot be a panel of returns."""
    if {"date", "ticker"} <= set(returns.columns) and ("ret" in returns.columns or "return" in returns.columns):
        col = "ret" if "ret" in returns.columns else "return"
        dates = _as_dates(returns["date"], "date column")
        code, tickers = pd.factorize(returns["ticker"].astype(str), sort=True)
        values = _as_returns(returns[col], col, lambda i: f"ticker {tickers[code[i]]} on {pd.Timestamp(dates[i]).date()}")
        order = np.lexsort((code, dates))
        d, c, v = dates[order], code[order].astype(np.int32), values[order]
        dup = np.flatnonzero((np.diff(d) == 0) & (np.diff(c) == 0))
        if dup.size:
            i = dup[0]
            raise ReturnStoreError(f"returns: ticker {tickers[c[i]]} has two rows on {pd.Timestamp(d[i]).date()}; "
                                   f"keep one return per ticker and date")
        keep = ~np.isnan(v)
        return [str(t) for t in tickers], np.unique(d), d[keep], c[keep], v[keep]
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()][0]
        raise ReturnStoreError(f"returns have the column {dup!r} twice; keep one column per ticker")
    dates = _as_dates(returns.index, "row labels (the index)")
    if np.unique(dates).size < dates.size:
        dup = pd.Timestamp(dates[np.flatnonzero(pd.Index(dates).duplicated())[0]]).date()
        raise ReturnStoreError(f"returns have the date {dup} twice; keep one row per date")
    order = np.argsort(dates, kind="stable")
    vals = np.column_stack([_as_returns(returns.iloc[:, j], returns.columns[j],
                                        lambda i: f"{pd.Timestamp(dates[i]).date()}") for j in range(returns.shape[1])]) \
        if returns.shape[1] else np.empty((len(dates), 0))
    vals = vals[order]
    i, j = np.nonzero(~np.isnan(vals))               # date-major: sorted by date, then column
    return [str(t) for t in returns.columns], dates[order], dates[order][i], j.astype(np.int32), vals[i, j]


def _as_dates(values, what: str) -> np.ndarray:
    try:
        d = pd.DatetimeIndex(pd.to_datetime(values))
    except (ValueError, TypeError) as exc:
        raise ReturnStoreError(f"returns: could not read the {what} as dates ({exc})") from None
    if d.tz is not None:
        d = d.tz_localize(None)
    if d.hasnans:
        raise ReturnStoreError(f"returns: the {what} has an empty date; give a date on every row")
    return d.as_unit("ns").asi8


def _as_returns(values: pd.Series, name, where) -> np.ndarray:
    """One column as float64, refusing text and values that cannot be decimal returns (``where(i)`` names
    row ``i``)."""
    try:
        v = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64")
    except (TypeError, ValueError):
        raise ReturnStoreError(f"returns column {name!r} is not numeric; give decimal returns (0.01 = 1%)") from None
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(v) & ~(np.abs(v) <= MAX_STORE_RETURN)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ReturnStoreError(f"returns column {name!r}: value {v[i]:.6g} at {where(i)}: a price jump by a factor "
                               f"above {MAX_STORE_RETURN:,.0f} (or infinite) is a data error; check that ticker")
    return v


def _check_plausible(tickers: list[str], code: np.ndarray, values: np.ndarray) -> None:
    """Refuse a ticker whose values look like price levels (all positive, median above 0.5) or percentages
    (median absolute value above 0.2), judged on tickers with at least 20 values."""
    if not len(values):
        return
    s = pd.Series(values).groupby(code)
    stats = pd.DataFrame({"n": s.size(), "median": s.median(), "low": s.min(),
                          "abs": pd.Series(np.abs(values)).groupby(code).median()})
    stats = stats[stats["n"] >= 20]
    level = stats[(stats["low"] > 0) & (stats["median"] > 0.5)]
    if len(level):
        raise ReturnStoreError(f"returns of {tickers[level.index[0]]} look like price levels (all positive, median "
                               f"{level['median'].iloc[0]:.4g}): give returns, e.g. from "
                               "eventstudy.returns.panel.compute_returns on the prices")
    pct = stats[stats["abs"] > 0.2].drop(index=level.index, errors="ignore")
    if len(pct):
        raise ReturnStoreError(f"returns of {tickers[pct.index[0]]} look like percentages (median absolute return "
                               f"{pct['abs'].iloc[0]:.4g}): give decimal returns (0.01 = 1%), e.g. divide by 100")


def _calendars(tickers: Sequence[str], by_ticker: Mapping[str, pd.DatetimeIndex] | None) -> dict:
    """Per-ticker session (or close) indexes grouped by identity: ``{"values": [[ns...]], "of": [id|-1]}``."""
    if not by_ticker:
        return {"values": [], "of": [-1] * len(tickers)}
    keys: dict[bytes, int] = {}
    values, of = [], []
    for t in tickers:
        idx = by_ticker.get(t)
        if idx is None or not len(idx):
            of.append(-1)
            continue
        ns = pd.DatetimeIndex(idx).as_unit("ns").asi8 if pd.DatetimeIndex(idx).tz is None else \
            pd.DatetimeIndex(idx).tz_convert("UTC").tz_localize(None).as_unit("ns").asi8
        key = ns.tobytes()
        if key not in keys:
            keys[key] = len(values)
            values.append(ns.tolist())
        of.append(keys[key])
    return {"values": values, "of": of}


def write_return_store(returns, path: str | os.PathLike, *, sessions: Mapping[str, pd.DatetimeIndex] | None = None,
                       closes: Mapping[str, pd.DatetimeIndex] | None = None, kind: str | None = None,
                       dates_per_group: int | None = None) -> Path:
    """Lay out ``returns`` as a Parquet returns store at ``path`` (see the module docstring); returns the path.

    ``returns``: a wide frame (dates x tickers, decimal returns, NaN = missing), a long frame with columns
    ``date, ticker, ret`` (or ``return``), or a ``ReturnPanel`` (its ``returns``, ``sessions``, ``closes`` and
    ``kind`` are used). ``sessions`` / ``closes``: each ticker's trading sessions and their UTC close instants
    (as ``ReturnPanel``); ``kind`` ``simple`` (default) or ``log``. ``dates_per_group``: sessions per row group
    (default: about 250,000 values a group). Written to a temporary file in the same folder, then renamed."""
    if not isinstance(returns, pd.DataFrame):          # a ReturnPanel
        sessions = getattr(returns, "sessions", None) if sessions is None else sessions
        closes = (getattr(returns, "closes", None) or None) if closes is None else closes
        kind = getattr(returns, "kind", "simple") if kind is None else kind
        returns = returns.returns
    kind = kind or "simple"
    if kind not in ("simple", "log"):
        raise ReturnStoreError(f"kind={kind!r}: give 'simple' or 'log'")
    tickers, panel_dates, d, c, v = _long_arrays(returns)
    _check_plausible(tickers, c, v)
    per_date = max(1, len(d) // max(1, len(panel_dates)))
    group = int(dates_per_group) if dates_per_group else max(1, 250_000 // per_date)
    meta = {"version": 1, "id": uuid.uuid4().hex, "kind": kind, "tickers": tickers,
            "dates": panel_dates.tolist(), "counts": np.bincount(c, minlength=len(tickers)).tolist(),
            "rows": int(len(d)), "sessions": _calendars(tickers, sessions), "closes": _calendars(tickers, closes)}
    schema = _SCHEMA.with_metadata({STORE_KEY: json.dumps(meta).encode()})
    cut = np.searchsorted(d, panel_dates[::group]).tolist() + [len(d)]
    return _write_atomically(Path(path), schema, d, c, v, cut)


def _write_atomically(path: Path, schema: pa.Schema, d, c, v, cut: list[int]) -> Path:
    """Row groups ``[cut[i], cut[i+1])`` written to a temporary file beside ``path``, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, default_file_mode())
        import pyarrow.parquet as pq     # imported where used: pyarrow's Parquet and file-system layers cost ~10 ms

        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for a, b in zip(cut[:-1], cut[1:]):
                if b > a or len(cut) == 2:
                    writer.write_table(pa.Table.from_arrays(
                        [pa.array(d[a:b]), pa.array(c[a:b]), pa.array(v[a:b])], schema=schema))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class ReturnStore:
    """A returns store opened for lazy reading (:meth:`open`); see the module docstring.

    ``tickers`` (list), ``dates`` (the panel's dates), ``sessions`` / ``closes`` (ticker -> DatetimeIndex, only
    tickers that have them), ``kind``, ``path``."""

    def __init__(self, path: Path, meta: dict, group_dates: np.ndarray) -> None:
        self.path = path
        self.meta = meta
        self.group_dates = group_dates          # (G, 2) first and last date (int64 ns) of each row group
        self.tickers: list[str] = list(meta["tickers"])
        self.code = {t: i for i, t in enumerate(self.tickers)}
        self.kind: str = meta["kind"]
        self.dates = pd.DatetimeIndex(np.asarray(meta["dates"], dtype="datetime64[ns]"))
        self.sessions = self._by_ticker(meta["sessions"])
        self.closes = self._by_ticker(meta["closes"], utc=True)
        self._local = threading.local()         # one open file per thread (a ParquetFile is not thread-safe)

    def _by_ticker(self, cal: dict, utc: bool = False) -> dict[str, pd.DatetimeIndex]:
        idx = [pd.DatetimeIndex(np.asarray(v, dtype="datetime64[ns]"), tz="UTC" if utc else None)
               for v in cal["values"]]
        return {t: idx[k] for t, k in zip(self.tickers, cal["of"]) if k >= 0}

    def __getstate__(self) -> dict:
        return {"path": self.path, "meta": self.meta, "group_dates": self.group_dates}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["meta"], state["group_dates"])

    def __repr__(self) -> str:
        return f"ReturnStore({str(self.path)!r}: {len(self.tickers)} tickers, {self.meta['rows']:,} returns)"

    @classmethod
    def open(cls, path: str | os.PathLike) -> "ReturnStore":
        """Open the store at ``path`` (written by :func:`write_return_store`), checking its schema."""
        path = Path(path)
        pf = _parquet_file(path)
        raw = (pf.schema_arrow.metadata or {}).get(STORE_KEY)
        if raw is None:
            raise ReturnStoreError(f"{path}: a Parquet file but not a returns store (no '{STORE_KEY.decode()}' "
                                   "metadata); lay one out with eventstudy.data.return_store.write_return_store",
                                   path=str(path))
        found = pf.schema_arrow.remove_metadata()
        if not found.equals(_SCHEMA):
            raise ReturnStoreError(f"{path}: columns {found.names} ({', '.join(map(str, found.types))}) are not a "
                                   "returns store's date (int64), ticker (int32), ret (float64); write it again with "
                                   "write_return_store", path=str(path))
        meta = json.loads(raw)
        md = pf.metadata
        if md.num_rows != meta["rows"]:
            raise ReturnStoreError(f"{path}: holds {md.num_rows:,} returns but its metadata says {meta['rows']:,}: "
                                   "the file was changed after it was written; write it again", path=str(path))
        group_dates = np.array([[md.row_group(g).column(0).statistics.min, md.row_group(g).column(0).statistics.max]
                                for g in range(md.num_row_groups) if md.row_group(g).num_rows],
                               dtype=np.int64).reshape(-1, 2)
        store = cls(path, meta, group_dates)
        store._local.file = pf
        return store

    def _parquet(self) -> pq.ParquetFile:
        """The open file (opened on first use in this process), checked to be the file that was opened."""
        pf = getattr(self._local, "file", None)
        if pf is None:
            pf = _parquet_file(self.path)
            raw = (pf.schema_arrow.metadata or {}).get(STORE_KEY)
            if raw is None or json.loads(raw).get("id") != self.meta["id"]:
                raise ReturnStoreError(f"{self.path}: not the returns store that was opened (the file was replaced "
                                       "or rewritten since): open it again", path=str(self.path))
            self._local.file = pf
        return pf

    def read(self, codes: np.ndarray, start: np.datetime64, end: np.datetime64):
        """``(code, date, ret)`` arrays of the stored returns of the tickers ``codes`` (positions in
        :attr:`tickers`) on dates ``start .. end`` (inclusive, datetime64[ns]), sorted by date then code.
        Only the row groups holding those dates are read."""
        parts = list(self.read_groups(codes, start, end))
        if not parts:
            return np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0)
        return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))

    def read_groups(self, codes: np.ndarray, start: np.datetime64, end: np.datetime64):
        """:meth:`read` one row group at a time (yields its ``(code, date, ret)``): what is held at once is one
        row group's dates of every ticker, not the whole range's."""
        lo, hi = np.int64(np.datetime64(start, "ns").astype(np.int64)), np.int64(np.datetime64(end, "ns").astype(np.int64))
        for group in np.flatnonzero((self.group_dates[:, 1] >= lo) & (self.group_dates[:, 0] <= hi)).tolist():
            try:
                table = self._parquet().read_row_group(group, columns=["date", "ticker", "ret"])
            except (OSError, pa.ArrowException) as exc:
                raise ReturnStoreError(f"{self.path}: could not read returns of {pd.Timestamp(lo).date()} .. "
                                       f"{pd.Timestamp(hi).date()} ({exc})", path=str(self.path)) from None
            d = table.column(0).to_numpy()
            c = table.column(1).to_numpy()
            keep = (d >= lo) & (d <= hi) & np.isin(c, codes)
            yield c[keep], d[keep], table.column(2).to_numpy()[keep]

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        """The whole columns ``names`` (tickers of the store) as a wide frame on :attr:`dates` (for the few
        regressors every pair needs); read a row group at a time."""
        codes = np.array([self.code[n] for n in names], dtype=np.int32)
        out = np.full((len(self.dates), len(names)), np.nan)
        if len(names) and len(self.dates):
            pos = np.full(len(self.tickers), -1)
            pos[codes] = np.arange(len(codes))
            for a, b in self.group_dates:
                c, d, v = self.read(codes, np.datetime64(int(a), "ns"), np.datetime64(int(b), "ns"))
                out[self.dates.asi8.searchsorted(d), pos[c]] = v
            got = np.isfinite(out).sum(axis=0)
            counts = np.asarray(self.meta["counts"])[codes]
            if (got != counts).any():
                j = int(np.flatnonzero(got != counts)[0])
                raise ReturnStoreError(f"{self.path}: ticker {names[j]} has {got[j]} returns, its metadata says "
                                       f"{counts[j]}: the file is damaged; write it again", path=str(self.path))
        return pd.DataFrame(out, index=self.dates, columns=list(names))


def _parquet_file(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise ReturnStoreError(f"{path}: no such returns store; lay one out with "
                               "eventstudy.data.return_store.write_return_store(returns, path)", path=str(path))
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise ReturnStoreError(f"{path}: unreadable as Parquet ({exc}); write the returns store again",
                               path=str(path)) from None
