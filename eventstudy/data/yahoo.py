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

import functools
import time
import warnings
from typing import Callable, Sequence

import pandas as pd

from eventstudy.data.base import PriceDataWarning, Prices, make_prices
from eventstudy.data.validate import validate_price_frame
from eventstudy.data.cache import PriceCache
from eventstudy.data.yahoo_parse import (DNS_ERROR, NETWORK_ERROR, NO_DATA, RATE_LIMITED, capture_yf_log,
                                         consistent_with_cache, errors_by_ticker, parse_download, sanitise_download,
                                         unreachable_message)
from eventstudy.progress import progress_bar
from eventstudy.inputs.dates import as_date
from eventstudy.errors import CacheError, DataUnavailableError, PriceDataError, SpecificationError

__all__ = ["YahooSource", "parse_download"]


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
            with capture_yf_log() as cap:
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
                if attempt < self.retries and not DNS_ERROR.search(text):
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                if NETWORK_ERROR.search(text) or isinstance(exc, (ConnectionError, TimeoutError)):
                    raise DataUnavailableError(unreachable_message(text)) from None
                raise DataUnavailableError(
                    f"Yahoo Finance download of {len(pending)} ticker(s) failed after {attempt + 1} attempt(s) "
                    f"({text}). Try again later, or work offline: --offline runs on the bundled SIMULATED market "
                    "(not market data), --prices FILE reads your own prices."
                ) from None
            got, auto = parse_download(raw, pending)
            self._auto_adjusted |= auto and bool(got)
            frames.update(got)
            errs, alltext = errors_by_ticker(messages)
            failed = [t for t in pending if t not in got]
            reason = {t: errs.get(t.upper(), "") for t in failed}
            retry = [t for t in failed if NETWORK_ERROR.search(reason[t]) or RATE_LIMITED.search(reason[t])]
            for t in failed:
                if t not in retry:
                    failures[t] = f"{NO_DATA}: {reason[t]}" if reason[t] else NO_DATA
            if not retry:
                break
            everything_failed = not got and len(retry) == len(pending)
            dns = all(DNS_ERROR.search(reason[t]) for t in retry)
            if attempt < self.retries and not (everything_failed and dns):
                self._sleep(self.backoff * 2**attempt)
                attempt += 1
                pending = retry
                continue
            if everything_failed and not frames and all(NETWORK_ERROR.search(reason[t]) for t in retry):
                raise DataUnavailableError(unreachable_message(reason[retry[0]]))
            for t in retry:
                failures[t] = f"Yahoo Finance download failed after {attempt + 1} attempt(s): {reason[t]}"
            break
        return {t: sanitise_download(t, f) for t, f in frames.items()}, failures

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
            raise SpecificationError("YahooSource.get needs a list of tickers")
        if start is None:
            raise SpecificationError("YahooSource.get needs a start date")
        if isinstance(tickers, str):
            tickers = [tickers]
        wanted = list(dict.fromkeys(str(t).strip() for t in tickers if str(t).strip()))
        start = as_date(start, "the start date", PriceDataError)
        end = self._today() if end is None else as_date(end, "the end date", PriceDataError)
        if end < start:
            raise SpecificationError(f"end {end.date()} is before start {start.date()}")

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
                    stale[t] = failures.pop(t, NO_DATA)
                    continue
                new = new.drop_duplicates("date", keep="last")
                old = priced_rows[t]
                agree = consistent_with_cache(old, new) if len(old) else True
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
                fail_rows.append((t, failures.get(t, f"{NO_DATA} between {start.date()} and {end.date()}")))
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
