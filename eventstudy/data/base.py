"""Price containers and validation shared by every price source.

A :class:`Prices` holds one long frame ``date, ticker, price`` (price in the security's
quote currency, float64 > 0). Each ticker's price comes from ONE column of the source,
recorded in ``field``: ``adj_close`` (split- and dividend-adjusted) when the source has it
for that ticker, else ``close``. Series are never mixed across columns.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field as dc_field
from typing import Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from eventstudy.errors import PriceDataError

__all__ = [
    "Prices",
    "PriceSource",
    "PriceDataWarning",
    "validate_price_frame",
    "describe_fields",
    "empty_failures",
    "normalise_dates",
]

PRICE_COLUMNS = ("date", "ticker", "price")
_MISSING_TOKENS = {"", "nan", "na", "n/a", "null", "none"}
_MAX_LISTED = 5


class PriceDataWarning(UserWarning):
    """Price data was usable but something was dropped or treated as missing."""


def empty_failures() -> pd.DataFrame:
    """An empty ``ticker, reason`` frame."""
    return pd.DataFrame({"ticker": pd.Series([], dtype=object), "reason": pd.Series([], dtype=object)})


def _failures_frame(rows: Iterable[tuple[str, str]]) -> pd.DataFrame:
    rows = list(rows)
    if not rows:
        return empty_failures()
    return pd.DataFrame(rows, columns=["ticker", "reason"]).astype(object)


def _empty_price_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "ticker": pd.Series([], dtype=object),
            "price": pd.Series([], dtype="float64"),
        }
    )


@dataclass(frozen=True)
class Prices:
    """Daily prices of several tickers.

    frame: long ``date`` (tz-naive midnight, exchange-local), ``ticker``, ``price`` (> 0),
    sorted by (ticker, date), unique. ``field[ticker]`` is ``'adj_close'`` or ``'close'``.
    ``failures`` lists requested tickers absent from ``frame`` with a reason.
    """

    frame: pd.DataFrame
    field: dict[str, str]
    source: str
    simulated: bool = False
    failures: pd.DataFrame = dc_field(default_factory=empty_failures)

    @property
    def tickers(self) -> list[str]:
        """Tickers present in ``frame``, sorted."""
        return sorted(pd.unique(self.frame["ticker"]).tolist())

    def wide(self) -> pd.DataFrame:
        """Date x ticker price matrix (NaN where a ticker has no price on a date)."""
        if self.frame.empty:
            return pd.DataFrame(index=pd.DatetimeIndex([], dtype="datetime64[ns]", name="date"))
        wide = self.frame.pivot(index="date", columns="ticker", values="price")
        wide = wide.reindex(columns=self.tickers).sort_index()
        wide.columns.name = None
        wide.index.name = "date"
        return wide.astype("float64")

    def select(self, tickers: Sequence[str] | None = None, start=None, end=None) -> "Prices":
        """A copy restricted to ``tickers`` and the inclusive date range [start, end]."""
        f = self.frame
        keep = np.ones(len(f), dtype=bool)
        if tickers is not None:
            keep &= f["ticker"].isin(list(tickers)).to_numpy()
        if start is not None:
            keep &= (f["date"] >= pd.Timestamp(start).normalize()).to_numpy()
        if end is not None:
            keep &= (f["date"] <= pd.Timestamp(end).normalize()).to_numpy()
        sub = f.loc[keep].reset_index(drop=True)
        present = set(sub["ticker"])
        return Prices(
            frame=sub,
            field={t: v for t, v in self.field.items() if t in present},
            source=self.source,
            simulated=self.simulated,
            failures=self.failures,
        )


@runtime_checkable
class PriceSource(Protocol):
    """Anything that can deliver :class:`Prices` for tickers over an inclusive date range."""

    def get(self, tickers: Sequence[str] | None, start=None, end=None) -> Prices: ...


def describe_fields(field: Mapping[str, str], source_note: str = "") -> str:
    """One human line saying which price column was used, e.g.

    ``"Prices: adj_close (split- and dividend-adjusted) for 3 tickers; close for 2 tickers
    (JPY=X, ^N225) because the source has no adjusted close for them."``
    """
    adj = sorted(t for t, v in field.items() if v == "adj_close")
    close = sorted(t for t, v in field.items() if v == "close")

    def _n(k: int) -> str:
        return f"{k} ticker{'s' if k != 1 else ''}"

    def _ex(ts: list[str]) -> str:
        head = ", ".join(ts[:_MAX_LISTED])
        return head + (", ..." if len(ts) > _MAX_LISTED else "")

    if not field:
        return "Prices: none."
    parts = []
    if adj:
        parts.append(f"adj_close (split- and dividend-adjusted) for {_n(len(adj))}")
    if close:
        if adj:
            parts.append(
                f"close for {_n(len(close))} ({_ex(close)}) because the source has no adjusted close for them"
            )
        else:
            parts.append(
                f"close for all {_n(len(close))} (the source has no adjusted close; "
                "returns include dividend drops unless the close is already adjusted)"
            )
    line = "Prices: " + "; ".join(parts) + "."
    if source_note:
        line += " " + source_note
    return line


def normalise_dates(values) -> pd.DatetimeIndex:
    """Datetime-like values -> tz-naive midnight ``datetime64[ns]`` (wall-clock date kept)."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize().astype("datetime64[ns]")


def _loc(lines: np.ndarray | None, pos: np.ndarray, word: str) -> list[str]:
    if lines is None:
        return [f"row {int(p) + 1}" for p in pos]
    return [f"{word} {int(lines[p])}" for p in pos]


def _listing(items: list[str]) -> str:
    head = "; ".join(items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        head += f"; and {len(items) - _MAX_LISTED} more"
    return head


def _to_number(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column to float64. Returns (values, bad) where ``bad`` marks unparseable text."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype="float64", na_value=np.nan), np.zeros(len(col), dtype=bool)
    text = col.astype(object)
    isna = text.isna().to_numpy()
    stripped = text.where(~isna, "").astype(str).str.strip()
    missing = isna | stripped.str.lower().isin(_MISSING_TOKENS).to_numpy()
    nums = pd.to_numeric(stripped.where(~missing, None), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~missing & np.isnan(nums)
    return nums, bad


def _norm_col(c) -> str:
    return str(c).strip().lower().replace(" ", "_")


def validate_price_frame(
    df: pd.DataFrame,
    origin: str,
    *,
    line_numbers: Sequence[int] | np.ndarray | None = None,
    line_word: str = "line",
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Check a long price table and return ``(frame, field)``.

    ``df`` needs ``date``, ``ticker`` and at least one of ``adj_close``, ``close``, ``price``
    (names are matched case-insensitively, spaces as underscores: ``Adj Close`` works).
    Per ticker the price is ``adj_close`` when that column has any value for the ticker,
    else ``close`` (``price`` counts as ``close``). ``origin`` names the data in messages
    (e.g. ``"prices file data/p.csv"``); ``line_numbers[i]`` is the line of row ``i`` as the
    user sees it (header = line 1), else rows are reported as ``row i`` (1-based).

    Raises :class:`PriceDataError` for missing columns, unparseable dates or prices, empty
    tickers, duplicated (date, ticker) rows, and non-positive or infinite prices.
    Rows with a missing price are dropped (a missing price is a gap, not an error).
    """
    lines = None if line_numbers is None else np.asarray(line_numbers)
    cols = {}
    for c in df.columns:
        n = _norm_col(c)
        if n in cols:
            raise PriceDataError(
                f"{origin}: column {c!r} appears twice (as {cols[n]!r} too); keep one of them."
            )
        cols[n] = c
    if "close" not in cols and "price" in cols:
        cols["close"] = cols.pop("price")
    missing = [c for c in ("date", "ticker") if c not in cols]
    if missing or ("close" not in cols and "adj_close" not in cols):
        need = missing + ([] if ("close" in cols or "adj_close" in cols) else ["close (or adj_close)"])
        raise PriceDataError(
            f"{origin}: missing column(s) {', '.join(need)}. A long price table needs "
            f"date, ticker and close (optionally adj_close); found: {', '.join(map(str, df.columns))}."
        )
    n = len(df)
    if n == 0:
        return _empty_price_frame(), {}

    # dates
    raw_dates = df[cols["date"]]
    if pd.api.types.is_datetime64_any_dtype(raw_dates):
        parsed = pd.DatetimeIndex(raw_dates)
        bad_date = np.asarray(parsed.isna())
    else:
        txt = raw_dates.astype(object).where(raw_dates.notna(), "").astype(str).str.strip()
        parsed = pd.DatetimeIndex(pd.to_datetime(txt.where(txt != "", None), format="ISO8601", errors="coerce", utc=False))
        bad_date = np.asarray(parsed.isna())
        if bad_date.any():
            pos = np.flatnonzero(bad_date)
            items = [f"{w}: {txt.iloc[p]!r}" for w, p in zip(_loc(lines, pos, line_word), pos)]
            raise PriceDataError(
                f"{origin}: {len(pos)} date(s) cannot be read ({_listing(items)}). "
                "Write dates as YYYY-MM-DD."
            )
    if bad_date.any():
        pos = np.flatnonzero(bad_date)
        raise PriceDataError(f"{origin}: missing date at {_listing(_loc(lines, pos, line_word))}. Fill in or remove these rows.")
    dates = normalise_dates(parsed)

    # tickers
    tick = df[cols["ticker"]].astype(object)
    tick_na = tick.isna().to_numpy()
    tick = tick.where(~tick_na, "").astype(str).str.strip()
    empty_t = (tick == "").to_numpy()
    if empty_t.any():
        pos = np.flatnonzero(empty_t)
        raise PriceDataError(f"{origin}: empty ticker at {_listing(_loc(lines, pos, line_word))}. Fill in or remove these rows.")
    tick_arr = tick.to_numpy(dtype=object)

    # numbers
    values: dict[str, np.ndarray] = {}
    for name in ("adj_close", "close"):
        if name not in cols:
            continue
        nums, bad = _to_number(df[cols[name]])
        if bad.any():
            pos = np.flatnonzero(bad)
            items = [
                f"{w} ({tick_arr[p]} {dates[p].date()}): {str(df[cols[name]].iloc[p])!r}"
                for w, p in zip(_loc(lines, pos, line_word), pos)
            ]
            raise PriceDataError(
                f"{origin}: column {name} has text that is not a number ({_listing(items)}). "
                "Use a plain number with '.' as decimal point, or leave the cell empty for a missing price."
            )
        values[name] = nums

    # duplicates (date, ticker)
    key = pd.DataFrame({"t": tick_arr, "d": dates})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        groups = key[dup].groupby(["t", "d"], sort=True).indices
        items = []
        for (t, d), ix in groups.items():
            pos = key.index[dup][ix].to_numpy()
            items.append(f"{t} on {pd.Timestamp(d).date()} at {', '.join(_loc(lines, pos, line_word))}")
        raise PriceDataError(
            f"{origin}: {len(groups)} duplicated (date, ticker) pair(s): {_listing(items)}. "
            "Keep one row per ticker and date."
        )

    # choose the column per ticker
    if "adj_close" in values:
        has_adj = pd.Series(~np.isnan(values["adj_close"])).groupby(tick_arr).any()
    else:
        has_adj = pd.Series(False, index=pd.unique(tick_arr))
    use_adj_row = has_adj.reindex(tick_arr).to_numpy(dtype=bool)
    close = values.get("close", np.full(n, np.nan))
    adj = values.get("adj_close", np.full(n, np.nan))
    price = np.where(use_adj_row, adj, close)
    field = {str(t): ("adj_close" if bool(v) else "close") for t, v in has_adj.items()}

    if "adj_close" in values and "close" in values:
        gap = use_adj_row & np.isnan(adj) & ~np.isnan(close)
        if gap.any():
            per = pd.Series(tick_arr[gap]).value_counts().sort_index()
            items = [f"{t} ({k} date{'s' if k > 1 else ''})" for t, k in per.items()]
            warnings.warn(
                f"{origin}: adj_close is empty where close is present for {_listing(items)}; "
                "those dates are treated as missing prices (close is not mixed into an adjusted series).",
                PriceDataWarning,
                stacklevel=2,
            )

    with np.errstate(invalid="ignore"):
        badp = ~np.isnan(price) & (~np.isfinite(price) | (price <= 0))
    if badp.any():
        pos = np.flatnonzero(badp)
        items = [
            f"{tick_arr[p]} on {dates[p].date()} ({w}): {price[p]!r}"
            for w, p in zip(_loc(lines, pos, line_word), pos)
        ]
        raise PriceDataError(
            f"{origin}: {len(pos)} price(s) are not positive finite numbers ({_listing(items)}). "
            "Fix them, or leave the cell empty for a missing price."
        )

    keep = ~np.isnan(price)
    out = pd.DataFrame(
        {
            "date": dates[keep],
            "ticker": pd.Series(tick_arr[keep], dtype=object),
            "price": price[keep].astype("float64"),
        }
    )
    out = out.sort_values(["ticker", "date"], kind="mergesort").reset_index(drop=True)
    present = set(pd.unique(out["ticker"]))
    field = {t: f for t, f in field.items() if t in present}
    return out, field


def make_prices(
    frame: pd.DataFrame,
    field: Mapping[str, str],
    source: str,
    *,
    simulated: bool = False,
    failures: Iterable[tuple[str, str]] | pd.DataFrame = (),
) -> Prices:
    """Build a :class:`Prices` with a normalised failures frame."""
    fail = failures if isinstance(failures, pd.DataFrame) else _failures_frame(failures)
    return Prices(frame=frame, field=dict(field), source=source, simulated=simulated, failures=fail)
