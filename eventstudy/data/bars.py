"""Intraday OHLC(V) bars from a file or a frame, validated.

A bar file holds one row per bar: the bar's **open** instant and its prices,
``<time>,open,high,low,close[,volume][,ticker][,trading_date][,session]``. The time column is
one of ``bar_open_utc``, ``bar_open``, ``timestamp``, ``datetime`` or ``time``: ISO text with
a timezone (``2026-01-06T08:30:00Z``, ``...+09:00``), naive text together with
``timezone=`` (an IANA name), or integer Unix seconds (UTC by definition). CSV or Parquet.
Without a ``ticker`` column the file is one instrument, named by ``ticker=``.

Checks (each raises :class:`BarFileError` naming the file, the line and the ticker): a time
without a timezone, unparsable times or prices, non-positive prices, ``high < low`` or an
open/close outside ``[low, high]``, unsorted bars, two bars with the same open, and bars
overlapping (closer than the instrument's bar length, the most common step between bars).
Whether each bar lies inside its venue's sessions is checked against the venue's rules by
:func:`eventstudy.calendars.venues.assign_sessions`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import PriceDataError

__all__ = ["BarFileError", "Bars", "load_bars", "bars_from_frame", "read_daily_ohlc", "BAR_COLUMNS", "TIME_COLUMNS"]

#: time columns accepted, in order of preference
TIME_COLUMNS: tuple[str, ...] = ("bar_open_utc", "bar_open", "timestamp", "datetime", "time")
#: columns of :attr:`Bars.frame`
BAR_COLUMNS: tuple[str, ...] = ("ticker", "bar_open_utc", "open", "high", "low", "close", "volume", "line")
_PRICES = ("open", "high", "low", "close")


class BarFileError(PriceDataError):
    """An intraday bar file or frame is unusable (no timezone, unsorted, overlapping, outside its sessions, ...)."""


@dataclass(frozen=True)
class Bars:
    """Validated bars of one or more instruments.

    ``frame``: ``BAR_COLUMNS`` sorted by (ticker, bar_open_utc); ``bar_open_utc`` is tz-aware UTC;
    prices float64 > 0; ``volume`` float (NaN when absent); ``line`` the 1-based line of the file
    (row number + 1 for a frame). ``bar_minutes``: each ticker's bar length in minutes.
    ``extra``: the file's own ``trading_date`` / ``session`` columns when present (cross-checked
    later against the venue's rules), aligned with ``frame``.
    """

    frame: pd.DataFrame
    source: str
    bar_minutes: dict[str, float]
    extra: pd.DataFrame

    @property
    def tickers(self) -> list[str]:
        return list(dict.fromkeys(self.frame["ticker"]))

    def of(self, ticker: str) -> pd.DataFrame:
        """The bars of one ticker (a copy), index 0..n-1."""
        if ticker not in self.bar_minutes:
            raise BarFileError(f"bars from {self.source} have no ticker {ticker!r}; tickers found: "
                               f"{', '.join(self.tickers)}.")
        return self.frame[self.frame["ticker"] == ticker].reset_index(drop=True)


def load_bars(path: str | Path, *, ticker: str | None = None, timezone: str | None = None) -> Bars:
    """Read and validate a bar file (CSV or Parquet); see the module docstring for the layout."""
    p = Path(path)
    if not p.exists():
        raise BarFileError(f"bar file {str(p)!r} does not exist: check the path.")
    if p.is_dir():
        raise BarFileError(f"bar file {str(p)!r} is a folder: give the path of a CSV or Parquet file.")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise BarFileError(f"bar file {p} is empty: it needs a header line and one row per bar.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise BarFileError(f"bar file {p} cannot be read as CSV or Parquet ({exc}).") from None
    return bars_from_frame(df, source=f"bar file {p}", ticker=ticker, timezone=timezone, first_line=2)


def _where(source: str, line: int, ticker: str | None = None) -> str:
    return f"{source}, line {line}" + (f" (ticker {ticker})" if ticker is not None else "")


def _parse_times(col: pd.Series, name: str, source: str, lines: np.ndarray, timezone: str | None) -> pd.DatetimeIndex:
    """The time column as UTC instants; errors name the first bad line."""
    if pd.api.types.is_datetime64_any_dtype(col):
        idx = pd.DatetimeIndex(col)
        if idx.tz is None:
            if timezone is None:
                raise BarFileError(f"{_where(source, int(lines[0]))}: column {name!r} has no timezone; give times "
                                   "in UTC ('...Z') or with an offset, or pass timezone='Asia/Tokyo' (CLI --bars-timezone).")
            idx = idx.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
        return idx.tz_convert("UTC")
    text = col.astype(str).str.strip()
    if name == "time" and text.str.fullmatch(r"\d{9,11}").all():
        return pd.DatetimeIndex(pd.to_datetime(text.astype("int64"), unit="s", utc=True))
    has_tz = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if not has_tz.all() and (timezone is None or has_tz.any()):
        bad = int(np.flatnonzero(~has_tz.to_numpy())[0])
        raise BarFileError(
            f"{_where(source, int(lines[bad]))}: bar time {text.iloc[bad]!r} in column {name!r} has no timezone. "
            "Write bar open times in UTC ('2026-01-06T08:30:00Z') or with an offset ('+09:00'), "
            "or pass timezone='Asia/Tokyo' (CLI --bars-timezone) when every time in the file is local.")
    try:
        if timezone is not None and not has_tz.any():
            out = pd.to_datetime(text, format="ISO8601").dt.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
        else:
            out = pd.to_datetime(text, format="ISO8601", utc=True)
    except Exception:  # noqa: BLE001 - find the offending line for the message
        for i, v in enumerate(text):
            try:
                pd.Timestamp(v)
            except Exception:  # noqa: BLE001
                raise BarFileError(f"{_where(source, int(lines[i]))}: bar time {v!r} is not a date-time "
                                   "(expected e.g. 2026-01-06T08:30:00Z).") from None
        raise BarFileError(f"{source}: the bar times in column {name!r} cannot be read (mixed formats or "
                           "timezone transitions); write them in UTC.") from None
    return pd.DatetimeIndex(out).tz_convert("UTC")


def _numbers(df: pd.DataFrame, col: str, source: str, lines: np.ndarray, tickers: np.ndarray,
             required: bool = True) -> np.ndarray:
    vals = pd.to_numeric(df[col].replace("", np.nan), errors="coerce").to_numpy(dtype="float64")
    raw = df[col].astype(str).str.strip()
    bad = np.isnan(vals) & (raw.to_numpy() != "") if not required else np.isnan(vals)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise BarFileError(f"{_where(source, int(lines[i]), tickers[i])}: {col} {raw.iloc[i]!r} is not a number; "
                           f"every bar needs a numeric {col}.")
    return vals


def bars_from_frame(df: pd.DataFrame, *, source: str = "bar frame", ticker: str | None = None,
                    timezone: str | None = None, first_line: int = 1) -> Bars:
    """Validate a frame of bars (same layout as a file) into :class:`Bars`."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    df = df.rename(columns={v: k for k, v in cols.items()})
    tcol = next((c for c in TIME_COLUMNS if c in df.columns), None)
    missing = ([] if tcol else ["bar_open_utc (or bar_open, timestamp, datetime, time)"]) + [c for c in _PRICES if c not in df.columns]
    if missing:
        raise BarFileError(f"{source}, line {first_line - 1 if first_line > 1 else 1}: missing column(s) "
                           f"{', '.join(missing)}; columns found: {', '.join(map(str, df.columns)) or '(none)'}. "
                           "A bar file needs the bar open time and open, high, low, close.")
    if len(df) == 0:
        raise BarFileError(f"{source} has no bars: it needs one row per bar.")
    lines = np.arange(first_line, first_line + len(df))
    if "ticker" in df.columns:
        tick = df["ticker"].astype(str).str.strip().to_numpy()
        if (tick == "").any():
            i = int(np.flatnonzero(tick == "")[0])
            raise BarFileError(f"{_where(source, int(lines[i]))}: empty ticker; name the instrument of every bar.")
    elif ticker:
        tick = np.full(len(df), str(ticker), dtype=object)
    else:
        raise BarFileError(f"{source} has no 'ticker' column: name the instrument (ticker=..., CLI --bars-ticker).")
    times = _parse_times(df[tcol].reset_index(drop=True), tcol, source, lines, timezone)
    out = pd.DataFrame({"ticker": tick, "bar_open_utc": times.as_unit("ns")})
    for c in _PRICES:
        out[c] = _numbers(df, c, source, lines, tick)
    out["volume"] = _numbers(df, "volume", source, lines, tick, required=False) if "volume" in df.columns else np.nan
    out["line"] = lines
    _check_prices(out, source)
    extra = pd.DataFrame({c: df[c].astype(str).to_numpy() for c in ("trading_date", "session") if c in df.columns})
    minutes = {}
    for t, g in out.groupby("ticker", sort=False):
        minutes[str(t)] = _check_order(g, source)
    return Bars(frame=out.reset_index(drop=True), source=source, bar_minutes=minutes, extra=extra.reset_index(drop=True))


def _check_prices(out: pd.DataFrame, source: str) -> None:
    o, h, l, c = (out[k].to_numpy() for k in _PRICES)
    checks = [
        ((np.minimum.reduce([o, h, l, c]) <= 0), "prices must be positive"),
        (h < l, "high is below low"),
        ((o < l) | (o > h), "open lies outside [low, high]"),
        ((c < l) | (c > h), "close lies outside [low, high]"),
    ]
    for bad, what in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = out.iloc[i]
            raise BarFileError(f"{_where(source, int(row['line']), row['ticker'])}: {what} (open {o[i]:g}, high "
                               f"{h[i]:g}, low {l[i]:g}, close {c[i]:g}); fix or remove that bar.")


def _check_order(g: pd.DataFrame, source: str) -> float:
    """Bars of one ticker strictly increasing and not overlapping; returns the bar length in minutes."""
    t = pd.DatetimeIndex(g["bar_open_utc"]).as_unit("ns").asi8
    lines, tick = g["line"].to_numpy(), str(g["ticker"].iloc[0])
    step = np.diff(t)
    if (step < 0).any():
        i = int(np.flatnonzero(step < 0)[0])
        raise BarFileError(f"{_where(source, int(lines[i + 1]), tick)}: bar opening {_utc(t[i + 1])} comes after the "
                           f"bar opening {_utc(t[i])} (line {lines[i]}): the bars are not sorted by time; sort the file.")
    if (step == 0).any():
        i = int(np.flatnonzero(step == 0)[0])
        raise BarFileError(f"{_where(source, int(lines[i + 1]), tick)}: a second bar opening {_utc(t[i])} "
                           f"(also line {lines[i]}); keep one bar per open time.")
    if len(step) == 0:
        return float("nan")
    vals, counts = np.unique(step, return_counts=True)
    length = int(vals[np.argmax(counts)])
    short = step < length
    if short.any():
        i = int(np.flatnonzero(short)[0])
        raise BarFileError(
            f"{_where(source, int(lines[i + 1]), tick)}: the bar opening {_utc(t[i + 1])} overlaps the bar opening "
            f"{_utc(t[i])} (line {lines[i]}): they are {step[i] / 6e10:g} minutes apart, but the bars are "
            f"{length / 6e10:g} minutes long. Give bars of one length without overlaps.")
    return length / 6e10


def _utc(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M UTC")


def read_daily_ohlc(path: str | Path | Sequence[str | Path], tickers: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Daily ``date, ticker, open, close`` of ``tickers`` from a long price file (CSV or Parquet with
    ``date, ticker, open, close``), or several stacked; rows without an open or close are left out. A file
    without an ``open`` column gives no rows (the daily legs need opens). Errors name the file."""
    if not isinstance(path, (str, Path)):
        parts = [read_daily_ohlc(p, tickers) for p in path]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["date", "ticker", "open", "close"])
    p = Path(path)
    cols = ["date", "ticker", "open", "close"]
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            head = pd.read_csv(p, nrows=0, encoding="utf-8-sig")
            if not set(cols) <= {str(c).strip().lower() for c in head.columns}:
                return pd.DataFrame(columns=cols)
            df = pd.read_csv(p, encoding="utf-8-sig", dtype={"ticker": str}, usecols=lambda c: c.strip().lower() in cols)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise BarFileError(f"prices file {p}: cannot read the daily opens and closes ({exc}).") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    if not set(cols) <= set(df.columns):
        return pd.DataFrame(columns=cols)
    df = df[df["ticker"].isin(list(tickers))][cols].copy()
    df["date"] = pd.to_datetime(df["date"], errors="coerce")
    for c in ("open", "close"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df.dropna().reset_index(drop=True)
