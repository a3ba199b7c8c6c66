"""Validation of a long price frame (``date, ticker, price``) from any source, with errors that name
the file's line, the ticker and the date, and the reading of date cells (dates, or instants with an
offset) into trading dates.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.data.base import PriceDataWarning, empty_price_frame
from eventstudy.errors import PriceDataError
from eventstudy.inputs.dates import normalise_dates

__all__ = ["validate_price_frame", "norm_col"]

_MISSING_TOKENS = {"", "nan", "na", "n/a", "null", "none"}
_MAX_LISTED = 5


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


def norm_col(c) -> str:
    return str(c).strip().lower().replace(" ", "_")


def _is_text_column(col: pd.Series) -> bool:
    """True when every non-missing cell is a ``str`` (equal cells then have equal text)."""
    if isinstance(col.dtype, pd.StringDtype):
        return True
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(col.cat.categories, skipna=True) in ("string", "empty")
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
        n = norm_col(c)
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
        return empty_price_frame(), {}

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
