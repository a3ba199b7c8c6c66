"""Yahoo Finance downloads as data: splitting a ``yfinance.download`` frame per ticker, reading
yfinance's log lines for each ticker's failure, telling network trouble from a missing ticker, and
the checks on downloaded values (non-positive prices, a changed adjustment basis). No network here;
the download itself is :class:`eventstudy.data.yahoo.YahooSource`."""
from __future__ import annotations

import ast
import logging
import re
import warnings
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import DataUnavailableError
from eventstudy.data.base import PriceDataWarning
from eventstudy.inputs.dates import normalise_dates

__all__ = ["YF_FIELDS", "NETWORK_ERROR", "DNS_ERROR", "RATE_LIMITED", "NO_DATA", "TOLERANCE", "unreachable_message",
           "parse_download", "LogCapture", "capture_yf_log", "errors_by_ticker", "sanitise_download",
           "consistent_with_cache"]

#: the field names yfinance uses as a column level
YF_FIELDS = {"Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits", "Capital Gains", "Repaired?"}
NETWORK_ERROR = re.compile(
    r"curl: \((?:5|6|7|28|35|52|55|56)\)|DNSError|ConnectionError|ConnectError|ConnectTimeout|ReadTimeout|Timeout|timed out|"
    r"Could not resolve|Failed to resolve|NameResolution|Name or service not known|getaddrinfo|"
    r"Network is unreachable|Connection refused|Connection reset|Max retries exceeded|Failed to establish|SSLError",
    re.IGNORECASE,
)
DNS_ERROR = re.compile(r"curl: \(6\)|DNSError|Could not resolve|Failed to resolve|NameResolution|Name or service not known|getaddrinfo", re.I)
RATE_LIMITED = re.compile(r"RateLimit|Too Many Requests|Rate limited|\b429\b", re.IGNORECASE)
NO_DATA = "Yahoo Finance returned no prices (unknown or delisted ticker, or no trading on the requested dates)"
TOLERANCE = 1e-6  # relative difference that counts as a changed adjustment basis


def unreachable_message(detail: str) -> str:
    """The message for Yahoo Finance out of reach, with ``detail`` (shortened) and the offline options."""
    detail = " ".join(str(detail).split())
    if len(detail) > 240:
        detail = detail[:237] + "..."
    return (
        f"Yahoo Finance could not be reached ({detail}). Check the internet connection and try again, "
        "or work offline: --offline runs on the bundled SIMULATED market (not market data), "
        "--prices FILE reads your own prices (CSV or parquet with date,ticker,close[,adj_close])."
    )


# ---------------------------------------------------------------------------- parsing
def parse_download(raw: pd.DataFrame | None, tickers: Sequence[str]) -> tuple[dict[str, pd.DataFrame], bool]:
    """Split a ``yfinance.download`` frame into per-ticker ``date, close, adj_close`` frames.

    Accepts MultiIndex columns (field x ticker, either level order) and, for one ticker,
    flat field columns. Tickers whose prices are all NaN are absent from the result.
    Returns (frames keyed by the requested ticker, auto_adjusted) where ``auto_adjusted``
    means the frame had no ``Adj Close`` (its ``Close`` is already adjusted).
    """
    out: dict[str, pd.DataFrame] = {}
    if raw is None or raw.shape[1] == 0:
        return out, False
    cols = raw.columns
    if isinstance(cols, pd.MultiIndex):
        if cols.nlevels != 2:
            raise DataUnavailableError(f"yfinance returned columns with {cols.nlevels} levels; expected field x ticker.")
        lv0 = set(map(str, cols.get_level_values(0)))
        field_level = 0 if lv0 <= YF_FIELDS else 1
        fields = set(map(str, cols.get_level_values(field_level)))

        def column(field: str, ticker_key: str) -> pd.Series | None:
            key = (field, ticker_key) if field_level == 0 else (ticker_key, field)
            return raw[key] if key in cols else None

        present = set(map(str, cols.get_level_values(1 - field_level)))
    else:
        if len(tickers) != 1:
            raise DataUnavailableError(
                f"yfinance returned flat columns for {len(tickers)} tickers; cannot tell which column is which ticker."
            )
        fields = set(map(str, cols))
        only = str(tickers[0])

        def column(field: str, ticker_key: str) -> pd.Series | None:
            return raw[field] if field in cols else None

        present = {only}
    auto_adjusted = "Adj Close" not in fields
    if "Close" not in fields and "Adj Close" not in fields:
        raise DataUnavailableError(f"yfinance returned no Close column (got {sorted(fields)}).")
    if raw.shape[0] == 0:
        return out, auto_adjusted
    idx = pd.DatetimeIndex(raw.index)
    dates = normalise_dates(idx)
    for t in tickers:
        key = t if t in present else (t.upper() if t.upper() in present else None)
        if key is None:
            continue
        close = column("Close", key)
        adj = column("Adj Close", key)
        close_v = np.full(len(dates), np.nan) if close is None else pd.to_numeric(close, errors="coerce").to_numpy(dtype="float64")
        adj_v = np.full(len(dates), np.nan) if adj is None else pd.to_numeric(adj, errors="coerce").to_numpy(dtype="float64")
        keep = ~(np.isnan(close_v) & np.isnan(adj_v))
        if not keep.any():
            continue
        df = pd.DataFrame({"date": dates[keep], "close": close_v[keep], "adj_close": adj_v[keep]})
        df = df.drop_duplicates("date", keep="last").sort_values("date", kind="mergesort").reset_index(drop=True)
        out[t] = df
    return out, auto_adjusted


class LogCapture(logging.Handler):
    """Collects the text of yfinance's warning and error log records."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - trivial
        try:
            self.messages.append(record.getMessage())
        except Exception:
            pass


@contextmanager
def capture_yf_log() -> Iterator[LogCapture]:
    """Collect yfinance's log messages while the block runs (``with capture_yf_log() as cap: ... cap.messages``)."""
    logger = logging.getLogger("yfinance")
    h = LogCapture()
    logger.addHandler(h)
    try:
        yield h
    finally:
        logger.removeHandler(h)


def errors_by_ticker(messages: list[str]) -> tuple[dict[str, str], str]:
    """Map ticker (upper case) -> error text from yfinance's log lines; also all text joined."""
    errs: dict[str, str] = {}
    for msg in messages:
        m = re.match(r"^\s*(\[[^\]]*\])\s*:\s*(.*)$", msg, re.S)
        if m:
            try:
                syms = ast.literal_eval(m.group(1))
            except Exception:
                continue
            for s in syms:
                errs[str(s).upper()] = m.group(2).strip()
            continue
        m = re.match(r"^Failed to get ticker '([^']+)' reason: (.*)$", msg, re.S)
        if m:
            errs.setdefault(m.group(1).upper(), m.group(2).strip())
    return errs, "\n".join(messages)


def sanitise_download(ticker: str, df: pd.DataFrame) -> pd.DataFrame:
    """Turn non-positive or infinite Yahoo values into NaN (with a warning naming the dates)."""
    v = df[["close", "adj_close"]].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(v) & ~(np.isfinite(v) & (v > 0))
    if not bad.any():
        return df
    rows = bad.any(axis=1)
    days = ", ".join(str(d.date()) for d in df.loc[rows, "date"][:5]) + (", ..." if rows.sum() > 5 else "")
    warnings.warn(
        f"Yahoo Finance returned non-positive or infinite prices for {ticker} on {days}; treated as missing.",
        PriceDataWarning,
        stacklevel=3,
    )
    v = np.where(bad, np.nan, v)
    out = df.assign(close=v[:, 0], adj_close=v[:, 1])
    return out.loc[~np.isnan(v).all(axis=1)].reset_index(drop=True)


def consistent_with_cache(old: pd.DataFrame, new: pd.DataFrame) -> bool | None:
    """Do cached and new rows agree on common dates? None when no common priced date."""
    m = old.merge(new, on="date", suffixes=("_o", "_n"))
    if m.empty:
        return None
    checked = False
    for c in ("close", "adj_close"):
        a, b = m[f"{c}_o"].to_numpy(), m[f"{c}_n"].to_numpy()
        both = ~np.isnan(a) & ~np.isnan(b)
        if (np.isnan(a) != np.isnan(b)).any():
            return False
        if both.any():
            checked = True
            if (np.abs(a[both] - b[both]) > TOLERANCE * np.abs(b[both])).any():
                return False
    return True if checked else None
