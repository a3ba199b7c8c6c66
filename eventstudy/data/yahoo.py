"""Prices from Yahoo Finance through ``yfinance.download``, with an optional local cache.

Downloads run in batches with ``auto_adjust=False`` (so ``Adj Close`` is present),
``actions=False``, ``group_by='column'``, ``threads=False``, ``progress=False`` and
``ignore_tz=True`` (daily dates stay exchange-local). A ticker whose columns come back all
NaN (unknown or delisted; yfinance logs "1 Failed download") is listed in ``failures``.
Exceptions are retried with exponential backoff (``backoff * 2**k`` seconds); when Yahoo
cannot be reached at all a :class:`DataUnavailableError` names the offline options.

With a :class:`PriceCache`, cached tickers are served from disk and only the missing
dates are downloaded ("top up"). A top-up re-downloads the cached boundary session too; if
Yahoo's values there differ from the cached ones (a split or dividend changed the
adjustment basis since the cache was written) the whole series is downloaded again, so one
return series never mixes two adjustment bases. ``refresh=True`` ignores the cache.
"""
from __future__ import annotations

import ast
import functools
import logging
import re
import time
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from eventstudy.data.base import PriceDataWarning, Prices, make_prices
from eventstudy.data.validate import validate_price_frame
from eventstudy.data.cache import PriceCache
from eventstudy.progress import progress_bar
from eventstudy.inputs.dates import as_date, normalise_dates
from eventstudy.errors import CacheError, DataUnavailableError, PriceDataError

__all__ = ["YahooSource", "parse_download"]

_FIELDS = {"Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits", "Capital Gains", "Repaired?"}
_NETWORK = re.compile(
    r"curl: \((?:5|6|7|28|35|52|55|56)\)|DNSError|ConnectionError|ConnectError|ConnectTimeout|ReadTimeout|Timeout|timed out|"
    r"Could not resolve|Failed to resolve|NameResolution|Name or service not known|getaddrinfo|"
    r"Network is unreachable|Connection refused|Connection reset|Max retries exceeded|Failed to establish|SSLError",
    re.IGNORECASE,
)
_DNS = re.compile(r"curl: \(6\)|DNSError|Could not resolve|Failed to resolve|NameResolution|Name or service not known|getaddrinfo", re.I)
_RATE = re.compile(r"RateLimit|Too Many Requests|Rate limited|\b429\b", re.IGNORECASE)
_NO_DATA = "Yahoo Finance returned no prices (unknown or delisted ticker, or no trading on the requested dates)"
_TOLERANCE = 1e-6  # relative difference that counts as a changed adjustment basis


@functools.lru_cache(maxsize=None)
def _yf_version() -> str:
    try:
        from importlib.metadata import version

        return version("yfinance")
    except Exception:  # pragma: no cover - metadata missing
        return "unknown version"


def _source_name() -> str:
    """'Yahoo Finance via yfinance <version>', as recorded in prices and the cache."""
    return f"Yahoo Finance via yfinance {_yf_version()}"


def _unreachable(detail: str) -> str:
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
        field_level = 0 if lv0 <= _FIELDS else 1
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


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - trivial
        try:
            self.messages.append(record.getMessage())
        except Exception:
            pass


@contextmanager
def _capture_yf_log() -> Iterator[_LogCapture]:
    logger = logging.getLogger("yfinance")
    h = _LogCapture()
    logger.addHandler(h)
    try:
        yield h
    finally:
        logger.removeHandler(h)


def _errors_by_ticker(messages: list[str]) -> tuple[dict[str, str], str]:
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


def _sanitise(ticker: str, df: pd.DataFrame) -> pd.DataFrame:
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


def _consistent(old: pd.DataFrame, new: pd.DataFrame) -> bool | None:
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
            if (np.abs(a[both] - b[both]) > _TOLERANCE * np.abs(b[both])).any():
                return False
    return True if checked else None


# ---------------------------------------------------------------------------- source
class YahooSource:
    """Daily prices from Yahoo Finance (see module docstring).

    Parameters: ``cache`` (a :class:`PriceCache` or None), ``refresh`` (ignore cached data),
    ``progress`` (True/False, or None = only when stderr is a terminal and ``CI`` is unset),
    ``retries`` and ``backoff`` (seconds, doubled per retry), ``downloader`` (defaults to
    ``yfinance.download``), ``sleep`` (defaults to ``time.sleep``), ``batch_size``.
    """

    def __init__(
        self,
        cache: PriceCache | None = None,
        refresh: bool = False,
        progress: bool | None = None,
        retries: int = 3,
        backoff: float = 1.0,
        downloader: Callable[..., pd.DataFrame] | None = None,
        sleep: Callable[[float], None] | None = None,
        batch_size: int = 50,
    ):
        self.cache = cache
        self.refresh = refresh
        self.progress = progress
        self.retries = max(int(retries), 0)
        self.backoff = float(backoff)
        self._downloader = downloader
        self._sleep = sleep or time.sleep
        self.batch_size = max(int(batch_size), 1)
        self._auto_adjusted = False

    @property
    def source(self) -> str:
        s = _source_name()
        if self._auto_adjusted:
            s += " (auto-adjusted: 'close' is already split- and dividend-adjusted)"
        return s

    def _download(self):
        if self._downloader is None:
            import yfinance

            self._downloader = yfinance.download
        return self._downloader

    # -- one call -------------------------------------------------------------------
    def _call(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp):
        download = self._download()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"yfinance(\..*)?$")
            with _capture_yf_log() as cap:
                raw = download(
                    list(tickers),
                    start=start.strftime("%Y-%m-%d"),
                    end=(end + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),  # yfinance's end is exclusive
                    auto_adjust=False,
                    actions=False,
                    group_by="column",
                    threads=False,
                    progress=False,
                    ignore_tz=True,
                )
        return raw, cap.messages

    def _fetch(self, tickers: list[str], start: pd.Timestamp, end: pd.Timestamp):
        """Download one batch over [start, end] with retries; return (frames, failures)."""
        frames: dict[str, pd.DataFrame] = {}
        failures: dict[str, str] = {}
        pending = list(tickers)
        attempt = 0
        while pending:
            try:
                raw, messages = self._call(pending, start, end)
            except Exception as exc:  # the downloader itself failed
                text = f"{type(exc).__name__}: {exc}"
                if attempt < self.retries and not _DNS.search(text):
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                if _NETWORK.search(text) or isinstance(exc, (ConnectionError, TimeoutError)):
                    raise DataUnavailableError(_unreachable(text)) from None
                raise DataUnavailableError(
                    f"Yahoo Finance download of {len(pending)} ticker(s) failed after {attempt + 1} attempt(s) "
                    f"({text}). Try again later, or work offline: --offline runs on the bundled SIMULATED market "
                    "(not market data), --prices FILE reads your own prices."
                ) from None
            got, auto = parse_download(raw, pending)
            self._auto_adjusted |= auto and bool(got)
            frames.update(got)
            errs, alltext = _errors_by_ticker(messages)
            failed = [t for t in pending if t not in got]
            reason = {t: errs.get(t.upper(), "") for t in failed}
            retry = [t for t in failed if _NETWORK.search(reason[t]) or _RATE.search(reason[t])]
            for t in failed:
                if t not in retry:
                    failures[t] = f"{_NO_DATA}: {reason[t]}" if reason[t] else _NO_DATA
            if not retry:
                break
            everything_failed = not got and len(retry) == len(pending)
            dns = all(_DNS.search(reason[t]) for t in retry)
            if attempt < self.retries and not (everything_failed and dns):
                self._sleep(self.backoff * 2**attempt)
                attempt += 1
                pending = retry
                continue
            if everything_failed and not frames and all(_NETWORK.search(reason[t]) for t in retry):
                raise DataUnavailableError(_unreachable(reason[retry[0]]))
            for t in retry:
                failures[t] = f"Yahoo Finance download failed after {attempt + 1} attempt(s): {reason[t]}"
            break
        return {t: _sanitise(t, f) for t, f in frames.items()}, failures

    def _fetch_all(self, groups: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]], bar):
        frames: dict[str, list[pd.DataFrame]] = {}
        failures: dict[str, str] = {}
        for (s, e), ts in groups.items():
            for i in range(0, len(ts), self.batch_size):
                got, fail = self._fetch(ts[i : i + self.batch_size], s, e)
                for t, f in got.items():
                    frames.setdefault(t, []).append(f)
                failures.update(fail)
                bar.update(1)
        return {t: pd.concat(v, ignore_index=True) for t, v in frames.items()}, failures

    @staticmethod
    def _today() -> pd.Timestamp:
        return pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()

    def _store(self, ticker: str, frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
        """Write to the cache; today's (possibly unfinished) bar and later are not cached."""
        if self.cache is None:
            return
        cutoff = self._today() - pd.Timedelta(days=1)
        end = min(end, cutoff)
        if end < start:
            return
        frame = frame.loc[frame["date"] <= end]
        try:
            self.cache.write(ticker, frame, start, end, source=_source_name())
        except CacheError as exc:
            warnings.warn(str(exc), PriceDataWarning, stacklevel=3)

    # -- public -----------------------------------------------------------------------
    def get(self, tickers: Sequence[str] | str, start, end=None) -> Prices:
        """Daily prices of ``tickers`` on the inclusive dates [start, end] (end defaults to today)."""
        if tickers is None:
            raise ValueError("YahooSource.get needs a list of tickers")
        if start is None:
            raise ValueError("YahooSource.get needs a start date")
        if isinstance(tickers, str):
            tickers = [tickers]
        wanted = list(dict.fromkeys(str(t).strip() for t in tickers if str(t).strip()))
        start = as_date(start, "the start date", PriceDataError)
        end = self._today() if end is None else as_date(end, "the end date", PriceDataError)
        if end < start:
            raise ValueError(f"end {end.date()} is before start {start.date()}")

        final: dict[str, pd.DataFrame] = {}
        entries = {}
        priced_rows: dict[str, pd.DataFrame] = {}  # cached rows with a price, per cached ticker
        groups: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
        for t in wanted:
            entry = self.cache.read(t) if (self.cache is not None and not self.refresh) else None
            if entry is None:
                groups.setdefault((start, end), []).append(t)
                continue
            entries[t] = entry
            priced_rows[t] = entry.frame.dropna(subset=["close", "adj_close"], how="all")
            priced = priced_rows[t]["date"]
            if start < entry.start:
                anchor = priced.iloc[0] if len(priced) else entry.start
                groups.setdefault((start, max(anchor, start)), []).append(t)
            if end > entry.end:
                anchor = priced.iloc[-1] if len(priced) else entry.end
                groups.setdefault((min(anchor, end), end), []).append(t)
            if start >= entry.start and end <= entry.end:
                final[t] = entry.frame

        stale: dict[str, str] = {}  # cached tickers whose top-up could not be fetched -> reason
        n_batches = sum(-(-len(v) // self.batch_size) for v in groups.values())
        bar = progress_bar(n_batches, desc="Yahoo Finance", unit="batch", enabled=self.progress if n_batches else False)
        try:
            fetched, failures = self._fetch_all(groups, bar)
            refetch: list[str] = []
            for t in wanted:
                if t in final:
                    continue
                new = fetched.get(t)
                entry = entries.get(t)
                if entry is None:  # full download
                    if new is not None:
                        final[t] = new
                        self._store(t, new, start, end)
                    continue
                if new is None or new.empty:  # top-up brought nothing: keep the cache, do not extend it
                    final[t] = entry.frame
                    stale[t] = failures.pop(t, _NO_DATA)
                    continue
                new = new.drop_duplicates("date", keep="last")
                old = priced_rows[t]
                agree = _consistent(old, new) if len(old) else True
                if not agree:  # changed adjustment basis (or unverifiable): download the whole series again
                    refetch.append(t)
                    continue
                merged = pd.concat([entry.frame, new.loc[~new["date"].isin(entry.frame["date"])]], ignore_index=True)
                merged = merged.sort_values("date", kind="mergesort").reset_index(drop=True)
                final[t] = merged
                if t in failures:  # one span failed: use the data now, but do not extend the cache
                    stale[t] = failures.pop(t)
                else:
                    self._store(t, merged, min(start, entry.start), max(end, entry.end))
            if refetch:
                span = (min(start, *(entries[t].start for t in refetch)), max(end, *(entries[t].end for t in refetch)))
                bar.total += -(-len(refetch) // self.batch_size)
                bar.refresh()
                again, _ = self._fetch_all({span: refetch}, bar)
                for t in refetch:
                    failures.pop(t, None)
                    if t in again:
                        final[t] = again[t]
                        self._store(t, again[t], *span)
                    else:  # cannot re-verify: fall back to the cached series alone (one basis)
                        final[t] = entries[t].frame
                        stale[t] = "the full download to re-check the adjustment basis failed"
        finally:
            bar.close()

        if stale:
            cached_to = {t: entries[t].end for t in stale}
            shown = "; ".join(f"{t} (cached to {cached_to[t]:%Y-%m-%d}): {stale[t]}" for t in list(stale)[:3])
            warnings.warn(
                f"Yahoo Finance top-up could not be fetched for {len(stale)} cached ticker(s) ({shown}"
                f"{' ...' if len(stale) > 3 else ''}); their cached data is used alone and may end before "
                f"{end:%Y-%m-%d}. Run again when Yahoo Finance can be reached, or use --refresh.",
                PriceDataWarning, stacklevel=2)
        parts = []
        for t in wanted:
            f = final.get(t)
            if f is None:
                continue
            f = f.loc[(f["date"] >= start) & (f["date"] <= end)]
            if len(f):
                parts.append(f.assign(ticker=t))
        fail_rows = []
        have = {p["ticker"].iloc[0] for p in parts}
        for t in wanted:
            if t not in have:
                fail_rows.append((t, failures.get(t, f"{_NO_DATA} between {start.date()} and {end.date()}")))
        if not parts:
            # Not one ticker came back. yfinance often hides a failed connection behind per-ticker
            # messages ("possibly delisted; no timezone found"), so say what this usually means.
            first = "; ".join(f"{t}: {r}" for t, r in fail_rows[:2])
            raise DataUnavailableError(
                f"Yahoo Finance returned no prices for any of the {len(wanted)} ticker(s) between {start.date()} "
                f"and {end.date()} (e.g. {first[:300]}). Either Yahoo Finance cannot be reached from here, or "
                "the tickers do not exist: check the symbols (Tokyo stocks end in .T) and the connection, or work "
                "offline: --offline runs on the bundled SIMULATED market (not market data), --prices FILE reads "
                "your own prices (CSV or parquet with date,ticker,close[,adj_close]).")
        long = pd.concat(parts, ignore_index=True)[["date", "ticker", "close", "adj_close"]]
        frame, field = validate_price_frame(long, "Yahoo Finance download")
        return make_prices(frame, field, self.source, failures=fail_rows)
