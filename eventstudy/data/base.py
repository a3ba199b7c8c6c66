"""Price containers and validation shared by every price source.

A :class:`Prices` holds one long frame ``date, ticker, price`` (price in the security's
quote currency, float64 > 0). Each ticker's price comes from ONE column of the source,
recorded in ``field``: ``adj_close`` (split- and dividend-adjusted) when the source has it
for that ticker, else ``close``. Series are never mixed across columns.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from eventstudy.inputs.dates import as_bound, normalise_dates
from eventstudy.errors import EventStudyError, PriceDataError, PriceDataWarning

__all__ = [
    "Prices",
    "PriceSource",
    "PriceDataWarning",
    "describe_fields",
    "empty_failures",
    "normalise_dates",
]

PRICE_COLUMNS = ("date", "ticker", "price")
_MAX_LISTED = 5



def empty_failures() -> pd.DataFrame:
    """An empty ``ticker, reason`` frame."""
    return pd.DataFrame({"ticker": pd.Series([], dtype=object), "reason": pd.Series([], dtype=object)})


def _failures_frame(rows: Iterable[tuple[str, str]]) -> pd.DataFrame:
    rows = list(rows)
    if not rows:
        return empty_failures()
    return pd.DataFrame(rows, columns=["ticker", "reason"]).astype(object)


def empty_price_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "ticker": pd.Series([], dtype=object),
            "price": pd.Series([], dtype="float64"),
        }
    )


def _wide_by_codes(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Date x ticker price matrix of a long ``date, ticker, price`` frame, built by integer indexing.

    Same result as ``frame.pivot`` (dates sorted, tickers sorted, float64). Returns None when
    the frame needs pivot's general path: dates that are not tz-naive datetime64 or are NaT,
    tickers that are missing or not ``str``, prices that are not numeric, duplicated pairs.
    """
    dcol, tcol, pcol = frame["date"], frame["ticker"], frame["price"]
    if not (isinstance(dcol.dtype, np.dtype) and dcol.dtype.kind == "M"):
        return None
    if not pd.api.types.is_numeric_dtype(pcol) or pd.api.types.is_bool_dtype(pcol):
        return None
    d = dcol.to_numpy()
    if np.isnat(d).any():
        return None
    tcode, tuniq = pd.factorize(tcol)
    names = np.asarray(tuniq, dtype=object)
    if (tcode < 0).any() or pd.api.types.infer_dtype(names, skipna=False) != "string":
        return None
    tickers = sorted(names.tolist())
    col_at = {t: j for j, t in enumerate(tickers)}
    col_of = np.array([col_at[t] for t in names], dtype=np.intp)
    dcode, duniq = pd.factorize(d.view("i8"))
    dorder = np.argsort(duniq, kind="stable")
    row_of = np.empty(len(duniq), dtype=np.intp)
    row_of[dorder] = np.arange(len(duniq))
    nd, k = len(duniq), len(tickers)
    cell = row_of[dcode] * k + col_of[tcode]
    seen = np.zeros(nd * k, dtype=bool)
    seen[cell] = True
    if np.count_nonzero(seen) != len(cell):
        return None  # duplicated (date, ticker): pivot raises
    values = np.full(nd * k, np.nan)
    values[cell] = pcol.to_numpy(dtype="float64", na_value=np.nan)
    index = pd.DatetimeIndex(duniq[dorder].view(d.dtype), name="date")
    return pd.DataFrame(values.reshape(nd, k), index=index, columns=pd.Index(tickers), copy=False)


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
        fast = _wide_by_codes(self.frame)
        if fast is not None:
            return fast
        wide = self.frame.pivot(index="date", columns="ticker", values="price")
        wide = wide.reindex(columns=self.tickers).sort_index()
        wide.columns.name = None
        wide.index.name = "date"
        return wide.astype("float64")

    def select(self, tickers: Sequence[str] | None = None, start=None, end=None) -> "Prices":
        """A copy restricted to ``tickers`` and the inclusive date range [start, end]."""
        start = as_bound(start, "the start date", PriceDataError)
        end = as_bound(end, "the end date", PriceDataError)
        sub = _rows_in(self.frame, None if tickers is None else list(tickers), start, end)
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


def localise_price_dates(prices: "Prices", tz_of: Mapping[str, str | None]) -> "Prices":
    """Trading dates of prices given as instants (column ``instant``): the exchange-local date of each
    instant in ``tz_of[ticker]`` (an IANA zone); tickers without a zone keep the UTC date. Returns
    ``prices`` unchanged when it has no instants. Raises :class:`PriceDataError` when two instants of a
    ticker fall on one local date."""
    f = prices.frame
    if "instant" not in f.columns:
        return prices
    inst = f["instant"]
    has = inst.notna().to_numpy()
    dates = f["date"].to_numpy().copy()
    for t, tz in tz_of.items():
        if not tz:
            continue
        sel = has & (f["ticker"] == t).to_numpy()
        if sel.any():
            local = pd.DatetimeIndex(inst[sel]).tz_convert(tz).tz_localize(None).normalize().as_unit("ns")
            dates[sel] = local.values
    out = f.drop(columns=["instant"]).assign(date=dates)
    dup = out.duplicated(["ticker", "date"], keep=False)
    if dup.any():
        r = out[dup].iloc[0]
        raise PriceDataError(f"{prices.source}: two prices of {r['ticker']} fall on the trading date {r['date']:%Y-%m-%d} "
                             f"once their times are converted to the exchange's timezone ({tz_of.get(r['ticker'])}): "
                             "keep one price per ticker and trading day.")
    out = out.sort_values(["ticker", "date"], kind="mergesort").reset_index(drop=True)
    return Prices(frame=out, field=prices.field, source=prices.source, simulated=prices.simulated,
                  failures=prices.failures)


def _rows_in(frame: pd.DataFrame, tickers: list | None, lo, hi) -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    if tickers is not None:
        keep &= frame["ticker"].isin(tickers).to_numpy()
    if lo is not None:
        keep &= (frame["date"] >= lo).to_numpy()
    if hi is not None:
        keep &= (frame["date"] <= hi).to_numpy()
    return frame.loc[keep].reset_index(drop=True)


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


def select_prices(
    frame: pd.DataFrame,
    field: Mapping[str, str],
    tickers: Sequence[str] | str | None,
    start: object,
    end: object,
    *,
    source: str,
    error: type[EventStudyError],
    not_there: str,
    no_prices: str,
    simulated: bool = False,
) -> Prices:
    """The rows of a validated long price ``frame`` for ``tickers`` on the inclusive dates [start, end].

    ``field``: the price field of every ticker the frame has (``tickers=None`` takes them all, in
    this order). A requested ticker outside ``field`` is a failure with the reason ``not_there``; a
    known one without a price in the range gets ``no_prices`` with ``{range}`` filled in. A bound
    that is not a date raises ``error``.
    """
    lo = as_bound(start, "the start date", error)
    hi = as_bound(end, "the end date", error)
    if tickers is None:
        wanted = list(field)
    else:
        if isinstance(tickers, str):
            tickers = [tickers]
        wanted = list(dict.fromkeys(str(t).strip() for t in tickers))
    failures = [(t, not_there) for t in wanted if t not in field]
    # field covers every ticker in frame, so tickers=None needs no ticker filter
    sub = _rows_in(frame, None if tickers is None else wanted, lo, hi)
    got = set(pd.unique(sub["ticker"].to_numpy()))       # distinct names first: not a Python set of every row
    rng = f"{lo.date() if lo is not None else 'start'} to {hi.date() if hi is not None else 'end'}"
    failures += [(t, no_prices.format(range=rng)) for t in wanted if t in field and t not in got]
    return make_prices(sub, {t: field[t] for t in wanted if t in got}, source, simulated=simulated,
                       failures=failures)
