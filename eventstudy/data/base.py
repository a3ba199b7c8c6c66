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

from eventstudy.inputs.dates import as_bound, normalise_dates
from eventstudy.errors import EventStudyError, PriceDataError

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


def _loc(lines: np.ndarray | None, pos: np.ndarray, word: str) -> list[str]:
    if lines is None:
        return [f"row {int(p) + 1}" for p in pos]
    return [f"{word} {int(lines[p])}" for p in pos]


def _listing(items: list[str], total: int | None = None) -> str:
    """The first few ``items`` joined by '; ', then '; and N more' (out of ``total``, default all items)."""
    total = len(items) if total is None else total
    head = "; ".join(items[:_MAX_LISTED])
    if total > _MAX_LISTED:
        head += f"; and {total - _MAX_LISTED} more"
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


def _is_text_column(col: pd.Series) -> bool:
    """True when every non-missing cell is a ``str`` (equal cells then have equal text)."""
    if isinstance(col.dtype, pd.StringDtype):
        return True
    return col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty")


def _text_codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell as stripped text (missing -> ``''``), factorised: ``(codes, texts)``.

    Row ``i`` reads ``texts[codes[i]]``; ``texts`` (object array of distinct ``str``) is in
    order of first appearance. Text is converted once per distinct cell, not per row.
    """
    if not _is_text_column(col):
        # numbers, dates, mixed objects: convert per row so that e.g. 1 and 1.0 stay distinct texts
        obj = col.astype(object)
        col = obj.where(~obj.isna().to_numpy(), "").astype(str).str.strip()
    codes, uniq = pd.factorize(col)  # missing -> -1
    texts = pd.Series(np.asarray(uniq, dtype=object), dtype=object).astype(str).str.strip().to_numpy(dtype=object)
    if (codes < 0).any():
        texts = np.append(texts, "")
        codes = np.where(codes < 0, len(texts) - 1, codes)
    merged, texts = pd.factorize(texts)  # ' A' and 'A' are one ticker
    return merged[codes], np.asarray(texts, dtype=object)


def _ranks(texts: np.ndarray) -> np.ndarray:
    """Position of each text in sorted order (int64)."""
    order = sorted(range(len(texts)), key=texts.__getitem__)
    rank = np.empty(len(texts), dtype=np.int64)
    rank[order] = np.arange(len(texts))
    return rank


_OFFSET_RE = None


def _has_offset(texts: np.ndarray) -> np.ndarray:
    """Which date texts end with a UTC offset or 'Z' (``2025-11-16T15:00:00Z``, ``... 00:00+09:00``)."""
    import re

    global _OFFSET_RE
    if _OFFSET_RE is None:
        _OFFSET_RE = re.compile(r"(?:[Zz]|[+-]\d\d:?\d\d)$")
    return np.array([bool(_OFFSET_RE.search(t.strip())) for t in texts], dtype=bool)


def _read_dates(raw: pd.Series, origin: str, lines: np.ndarray | None, word: str
                ) -> tuple[pd.DatetimeIndex, np.ndarray | None]:
    """Date column -> ``(dates, instants)``: tz-naive midnight ``datetime64[ns]`` per row, and the UTC
    instant (int64 ns) of rows whose date carries a timezone and a time that is not midnight in it
    (None when no row does); PriceDataError naming bad rows.

    A tz-aware date at local midnight (``2025-11-17 00:00+09:00``, a yfinance export) is that wall-clock
    date. A tz-aware date-time at another time (``2025-11-16T15:00:00Z``: Tokyo's midnight written in
    UTC) is an instant whose trading date depends on the exchange: ``dates`` holds its UTC date for
    now, and :func:`localise_price_dates` converts it once the instrument's calendar is known. Mixed
    offsets in one column are read per value.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.DatetimeIndex(raw)
        bad = np.asarray(parsed.isna())
        if bad.any():
            pos = np.flatnonzero(bad)
            raise PriceDataError(f"{origin}: missing date at {_listing(_loc(lines, pos, word))}. Fill in or remove these rows.")
        if parsed.tz is None:
            return normalise_dates(parsed), None
        wall = parsed.tz_localize(None)
        timed = np.asarray(wall != wall.normalize())
        if not timed.any():
            return normalise_dates(wall), None
        utc = parsed.tz_convert("UTC").tz_localize(None).as_unit("ns")
        return normalise_dates(np.where(timed, utc.normalize().values, wall.normalize().values)), \
            np.where(timed, utc.asi8, np.iinfo(np.int64).min)
    codes, texts = _text_codes(raw)
    txt = pd.Series(texts, dtype=object).astype(str)
    offset = _has_offset(texts)
    parsed_wall = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[ns]")
    instant = np.full(len(texts), np.iinfo(np.int64).min, dtype=np.int64)
    plain = ~offset
    if plain.any():
        p = pd.to_datetime(txt[plain].where(txt[plain] != "", None), format="ISO8601", errors="coerce", utc=False)
        parsed_wall[plain] = pd.DatetimeIndex(p).as_unit("ns").values
    for i in np.flatnonzero(offset):            # once per distinct text with an offset
        try:
            ts = pd.Timestamp(texts[i].strip())
        except (ValueError, TypeError):
            continue
        if ts.tz is None or ts is pd.NaT:
            continue
        wall = ts.tz_localize(None)
        if wall == wall.normalize():
            parsed_wall[i] = wall.as_unit("ns").to_datetime64()
        else:
            u = ts.tz_convert("UTC").tz_localize(None).as_unit("ns")
            parsed_wall[i] = u.to_datetime64()
            instant[i] = u.value
    bad = np.isnat(parsed_wall)[codes]
    if bad.any():
        pos = np.flatnonzero(bad)
        items = [f"{w}: {texts[codes[p]]!r}" for w, p in zip(_loc(lines, pos, word), pos)]
        raise PriceDataError(
            f"{origin}: {len(pos)} date(s) cannot be read ({_listing(items)}). "
            "Write dates as YYYY-MM-DD."
        )
    dates = pd.DatetimeIndex(normalise_dates(parsed_wall).to_numpy()[codes])
    inst = instant[codes]
    return dates, (inst if (inst != np.iinfo(np.int64).min).any() else None)


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


_DAY_NS = 86_400_000_000_000


def _ticker_date_order(rank: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Stable row order by (rank, day); both non-negative int64."""
    span = int(day.max()) + 1
    if int(rank.max()) < (2**62) // span:
        key = rank * span + day
        if (key[1:] >= key[:-1]).all():
            return np.arange(len(key))
        return np.argsort(key, kind="stable")
    return np.lexsort((day, rank))


def _duplicate_message(order, rank, day, texts, codes, dates, lines, word) -> tuple[int, list[str]] | None:
    """(number of duplicated (ticker, date) pairs, listing of the first few) or None; rows sorted by ``order``."""
    r, d = rank[order], day[order]
    same = (r[1:] == r[:-1]) & (d[1:] == d[:-1])
    if not same.any():
        return None
    starts = np.flatnonzero(same & ~np.r_[False, same[:-1]])
    ends = np.flatnonzero(same & ~np.r_[same[1:], False]) + 1  # last sorted row of each run
    items = []
    for a, b in zip(starts[:_MAX_LISTED], ends[:_MAX_LISTED]):
        pos = order[a:b + 1]
        items.append(f"{texts[codes[pos[0]]]} on {dates[pos[0]].date()} at {', '.join(_loc(lines, pos, word))}")
    return len(starts), items


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

    dates, instants = _read_dates(df[cols["date"]], origin, lines, line_word)
    d_ns = dates.asi8

    # tickers, factorised: row i is names[code[i]]
    code, names = _text_codes(df[cols["ticker"]])
    empty_t = np.isin(code, np.flatnonzero(names == ""))
    if empty_t.any():
        pos = np.flatnonzero(empty_t)
        raise PriceDataError(f"{origin}: empty ticker at {_listing(_loc(lines, pos, line_word))}. Fill in or remove these rows.")

    # numbers
    values: dict[str, np.ndarray] = {}
    for name in ("adj_close", "close"):
        if name not in cols:
            continue
        nums, bad = _to_number(df[cols[name]])
        if bad.any():
            pos = np.flatnonzero(bad)
            items = [
                f"{w} ({names[code[p]]} {dates[p].date()}): {str(df[cols[name]].iloc[p])!r}"
                for w, p in zip(_loc(lines, pos, line_word), pos)
            ]
            raise PriceDataError(
                f"{origin}: column {name} has text that is not a number ({_listing(items)}). "
                "Use a plain number with '.' as decimal point, or leave the cell empty for a missing price."
            )
        values[name] = nums

    # order by (ticker, date); duplicated (date, ticker) pairs sit next to each other
    rank = _ranks(names)
    row_rank = rank[code]
    day = (d_ns - d_ns.min()) // _DAY_NS
    order = _ticker_date_order(row_rank, day)
    dup = _duplicate_message(order, row_rank, day, names, code, dates, lines, line_word)
    if dup is not None:
        n_dup, items = dup
        raise PriceDataError(
            f"{origin}: {n_dup} duplicated (date, ticker) pair(s): {_listing(items, n_dup)}. "
            "Keep one row per ticker and date."
        )

    # choose the column per ticker
    m = len(names)
    has_adj = np.zeros(m, dtype=bool)
    if "adj_close" in values:
        has_adj[code[~np.isnan(values["adj_close"])]] = True
        field_order = np.argsort(rank)  # sorted tickers
    else:
        field_order = np.arange(m)  # first appearance
    use_adj_row = has_adj[code]
    close = values.get("close", np.full(n, np.nan))
    adj = values.get("adj_close", np.full(n, np.nan))
    price = np.where(use_adj_row, adj, close)

    if "adj_close" in values and "close" in values:
        gap = use_adj_row & np.isnan(adj) & ~np.isnan(close)
        if gap.any():
            per = np.bincount(code[gap], minlength=m)
            items = [f"{names[c]} ({per[c]} date{'s' if per[c] > 1 else ''})" for c in np.argsort(rank) if per[c]]
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
            f"{names[code[p]]} on {dates[p].date()} ({w}): {price[p]!r}"
            for w, p in zip(_loc(lines, pos, line_word), pos)
        ]
        raise PriceDataError(
            f"{origin}: {len(pos)} price(s) are not positive finite numbers ({_listing(items)}). "
            "Fix them, or leave the cell empty for a missing price."
        )

    rows = order[~np.isnan(price[order])]
    kept_code = code[rows]
    out = pd.DataFrame(
        {
            "date": dates.to_numpy()[rows],
            "ticker": pd.Series(names[kept_code], dtype=object),
            "price": price[rows].astype("float64"),
        }
    )
    if instants is not None:     # date-times with a timezone: converted to trading dates per exchange later
        iv = instants[rows]
        out["instant"] = pd.DatetimeIndex(np.where(iv == np.iinfo(np.int64).min, np.datetime64("NaT"),
                                                   iv.astype("datetime64[ns]"))).tz_localize("UTC")
    present = np.zeros(m, dtype=bool)
    present[kept_code] = True
    field = {str(names[c]): ("adj_close" if has_adj[c] else "close") for c in field_order if present[c]}
    return out, field


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
    got = set(sub["ticker"])
    rng = f"{lo.date() if lo is not None else 'start'} to {hi.date() if hi is not None else 'end'}"
    failures += [(t, no_prices.format(range=rng)) for t in wanted if t in field and t not in got]
    return make_prices(sub, {t: field[t] for t in wanted if t in got}, source, simulated=simulated,
                       failures=failures)
