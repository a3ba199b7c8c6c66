"""Trading volume from a long price file or a long frame, as a wide panel (dates x tickers).

Volume rides beside the prices: the :class:`~eventstudy.data.base.Prices` contract is unchanged,
and a volume panel is read only when a measure needs it (``eventstudy run --measure volume``).
A long file ``date,ticker,...,volume`` (the J-Quants file of ``../shared/data/market``, the
``volume`` column of Yahoo's OHLCV) gives a float64 frame of shares traded per session; missing
volume stays NaN, never 0. Volume is a count: negative or non-numeric cells are refused by line.
With a ``shares_outstanding`` column the panel is turnover, ``volume / shares_outstanding`` (Campbell &
Wasley 1996), so that a split or an issue of shares does not show as abnormal volume; an empty
``shares_outstanding`` cell makes that day's turnover missing, a non-positive one is refused by line.
The frame's ``attrs["measure"]`` says which (``"volume"`` or ``"turnover"``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import PriceDataError

__all__ = ["VolumeDataError", "read_volume_file", "read_volume_files", "volume_from_frame"]


class VolumeDataError(PriceDataError):
    """A volume file or frame that cannot give a volume panel (no volume column, a bad cell)."""


def _columns(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c).strip().lower(): c for c in frame.columns}


def volume_from_frame(frame: pd.DataFrame, tickers: Sequence[str] | None = None, *, origin: str = "the frame",
                      lines: np.ndarray | None = None) -> pd.DataFrame:
    """Long ``date, ticker, volume`` rows -> wide float64 volume (DatetimeIndex of sessions x tickers).

    ``tickers`` keeps only those (in that order, a ticker without rows is an all-NaN column).
    Empty cells are missing (NaN). A cell that is not a number, a negative number, an unreadable date
    or a (ticker, date) given twice raises :class:`VolumeDataError` naming ``origin`` and the line.
    """
    cols = _columns(frame)
    missing = [c for c in ("date", "ticker", "volume") if c not in cols]
    if missing:
        raise VolumeDataError(f"{origin} has no {', '.join(missing)} column (columns: "
                              f"{', '.join(map(str, frame.columns))}); abnormal volume needs long rows "
                              f"date,ticker,volume (e.g. the OHLCV file's volume column)")
    lines = np.arange(2, len(frame) + 2) if lines is None else np.asarray(lines)
    ticker = frame[cols["ticker"]].astype(str).str.strip().to_numpy()
    keep = np.ones(len(frame), dtype=bool) if tickers is None else np.isin(ticker, list(tickers))
    sub = frame.loc[keep]
    lines, ticker = lines[keep], ticker[keep]
    raw = sub[cols["volume"]]
    vol, bad = _numbers(raw)
    bad |= ~np.isnan(vol) & ~(np.isfinite(vol) & (vol >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = raw.iloc[i]
        cell = repr(cell) if isinstance(cell, str) else format(float(cell), "g")
        raise VolumeDataError(f"{origin} line {lines[i]}: volume {cell} of {ticker[i]} is not a "
                              f"number of shares >= 0; fix the cell or leave it empty (missing)")
    if "shares_outstanding" in cols:
        vol = vol / _shares(sub[cols["shares_outstanding"]], ticker, lines, origin)
    dates = pd.to_datetime(sub[cols["date"]].astype(str).str.strip(), errors="coerce", format="mixed")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise VolumeDataError(f"{origin} line {lines[i]}: date {sub[cols['date']].iloc[i]!r} is not a date; "
                              f"write YYYY-MM-DD")
    long = pd.DataFrame({"date": dates.dt.normalize().to_numpy(), "ticker": ticker, "volume": vol})
    dup = long.duplicated(["ticker", "date"], keep=False).to_numpy()
    if dup.any():
        i = np.flatnonzero(dup)[:2]
        raise VolumeDataError(f"{origin} lines {lines[i[0]]} and {lines[i[-1]]}: {ticker[i[0]]} on "
                              f"{long['date'].iloc[i[0]]:%Y-%m-%d} twice; keep one row per ticker and date")
    wide = long.pivot(index="date", columns="ticker", values="volume").sort_index()
    wide.columns.name = None
    wide.index.name = "date"
    if tickers is not None:
        wide = wide.reindex(columns=list(dict.fromkeys(tickers)))
    wide = wide.astype("float64")
    wide.attrs["measure"] = "turnover" if "shares_outstanding" in cols else "volume"
    return wide


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column's cells as float64 (empty: NaN) and where a non-empty cell is not a number."""
    if pd.api.types.is_numeric_dtype(raw):
        vals = raw.to_numpy(dtype="float64")
        return vals, np.zeros(len(vals), dtype=bool)
    text = raw.astype("string").str.strip().fillna("")
    vals = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype="float64")
    return vals, np.isnan(vals) & (text != "").to_numpy()


def _shares(raw: pd.Series, ticker: np.ndarray, lines: np.ndarray, origin: str) -> np.ndarray:
    """Shares outstanding as float64 (empty: NaN); a cell that is not a number > 0 raises, naming the line."""
    sh, bad = _numbers(raw)
    bad |= ~np.isnan(sh) & ~(np.isfinite(sh) & (sh > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise VolumeDataError(f"{origin} line {lines[i]}: shares_outstanding {raw.iloc[i]!r} of {ticker[i]} is not a "
                              f"number of shares > 0; fix the cell or leave it empty (that day's turnover is then missing)")
    return sh


def read_volume_files(paths: Sequence[str | os.PathLike], tickers: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`read_volume_file` of each file, side by side (dates: the union); a ticker with volume in two
    files is refused with both named."""
    if len(paths) == 1:
        return read_volume_file(paths[0], tickers)
    parts = [read_volume_file(p, None) for p in paths]
    seen: dict[str, object] = {}
    for p, part in zip(paths, parts):
        for t in part.columns:
            if t in seen:
                raise VolumeDataError(f"ticker {t} has volume in {seen[t]} and in {p}: keep each ticker in one file")
            seen[t] = p
    kinds = {part.attrs.get("measure") for part in parts}
    if len(kinds) > 1:
        raise VolumeDataError(f"the files {', '.join(map(str, paths))} mix volume and turnover (a shares_outstanding "
                              "column in some only): give shares_outstanding in every file or in none")
    out = pd.concat(parts, axis=1).sort_index()
    out = out.reindex(columns=list(tickers)) if tickers is not None else out
    out.attrs = parts[0].attrs
    return out


def read_volume_file(path: str | os.PathLike, tickers: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``volume`` column of a long price file (CSV or parquet) as a wide panel (see :func:`volume_from_frame`).

    ``tickers``: read only those (default every ticker of the file). A file without a ``volume``
    column, or a bad cell, raises :class:`VolumeDataError` naming the file and the line.
    """
    p = Path(path)
    if not p.exists():
        raise VolumeDataError(f"volume file {p} does not exist; give the long OHLCV file (date,ticker,...,volume)")
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(p)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault here
            raise VolumeDataError(f"volume file {p} could not be read as parquet ({exc})") from None
        return volume_from_frame(frame, tickers, origin=f"volume file {p}")
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise VolumeDataError(f"volume file {p} is not a readable UTF-8 CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return volume_from_frame(frame, tickers, origin=f"volume file {p}")
