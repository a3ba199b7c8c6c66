"""Prices from a local file (CSV or parquet, long or wide).

Long: ``date,ticker,close[,adj_close,open,high,low,volume]`` (one row per ticker and date).
Wide: a ``date`` column and one column per ticker whose values are prices (recorded as
field ``close``). The layout is detected from the header: a ``ticker`` column means long.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.data.base import Prices, select_prices
from eventstudy.data.validate import norm_col, validate_price_frame
from eventstudy.errors import PriceDataError

__all__ = ["FileSource", "read_price_file", "read_price_files"]


def read_csv_lines(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a CSV as text; return (frame with the header as columns, 1-based line numbers)."""
    try:
        raw = pd.read_csv(
            path,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise PriceDataError(f"prices file {path} is empty; it needs a header line and data rows.") from None
    except pd.errors.ParserError as exc:
        raise PriceDataError(
            f"prices file {path} is not a well-formed CSV ({exc}). Every line needs the same number of commas."
        ) from None
    except UnicodeDecodeError as exc:
        raise PriceDataError(f"prices file {path} is not UTF-8 text ({exc.reason}). Save it as UTF-8 CSV.") from None
    header = [("" if pd.isna(v) else str(v).strip()) for v in raw.iloc[0].tolist()]
    body = raw.iloc[1:]
    lines = np.arange(2, len(raw) + 1)
    blank = body.apply(lambda c: c.fillna("").astype(str).str.strip() == "").all(axis=1).to_numpy()
    body = body.loc[~blank]
    lines = lines[~blank]
    body.columns = header
    return body.reset_index(drop=True), lines


#: the cells :func:`eventstudy.data.base.validate_price_frame` reads as a missing price, in every letter case
_NULL_CELLS = sorted({"".join(c.upper() if (m >> i) & 1 else c for i, c in enumerate(tok))
                      for tok in ("nan", "na", "n/a", "null", "none") for m in range(2 ** len(tok))} | {""})
_PRICE_COLUMNS = ("close", "adj_close", "price")


def read_csv_columnar(path: Path) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The long price CSV read once by pyarrow's C++ reader: ``date`` as dates, ``ticker`` as a categorical
    of its texts, the price columns as float64, other columns not read. Returns (frame, 1-based line numbers) like
    :func:`read_csv_lines`, or None when the file needs the text reader's checks and messages
    (blank lines, a line break inside a quoted cell, a cell that is not a plain number, a ragged
    line, not UTF-8, no ``ticker`` column, repeated column names): nothing is guessed here.
    """
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = data[: data.find(b"\n")] if b"\n" in data[:65536] else data[:65536]
    if data.startswith((b"\n", b"\r\n")) or b'"' in first or not first.strip():
        return None
    try:
        header = [h.strip() for h in first.decode("utf-8").rstrip("\r").split(",")]
    except UnicodeDecodeError:
        return None
    norm = [norm_col(h) for h in header]
    if "ticker" not in norm or "date" not in norm or len(set(norm)) != len(norm) or "" in header:
        return None
    names = [f"c{i}" for i in range(len(header))]
    want = {names[i]: h for i, (h, n) in enumerate(zip(header, norm)) if n in ("date", "ticker", *_PRICE_COLUMNS)}
    # tickers as a dictionary (a categorical column): a few thousand names, not a Python string per row
    types = {c: (pa.float64() if norm_col(h) in _PRICE_COLUMNS else pa.timestamp("s") if norm_col(h) == "date"
                 else pa.dictionary(pa.int32(), pa.string())) for c, h in want.items()}
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True),
            # a blank line stays a row (of missing cells), so rows and lines stay one to one and the
            # missing date below sends the file to the text reader, which names the line
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(include_columns=list(want), column_types=types,
                                                 null_values=_NULL_CELLS, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False, timestamp_parsers=["%Y-%m-%d"]),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    # an empty date (a blank line of commas, or a missing date) gets the text reader's message
    if any(table.column(c).null_count for c, h in want.items() if norm_col(h) == "date"):
        return None
    df = pd.DataFrame({h: (table.column(c).to_numpy().astype("datetime64[ns]") if types[c] == pa.timestamp("s")
                           else table.column(c).to_pandas() if pa.types.is_dictionary(types[c])
                           else table.column(c).to_numpy(zero_copy_only=False)) for c, h in want.items()})
    return df, np.arange(2, len(df) + 2)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise PriceDataError(f"prices file {path} cannot be read as parquet ({type(exc).__name__}: {exc}).") from None
    norm = [norm_col(c) for c in df.columns]
    if "date" not in norm and df.index.name is not None and norm_col(df.index.name) == "date":
        df = df.reset_index()
    return df.reset_index(drop=True)


def _wide_to_long(df: pd.DataFrame, lines: np.ndarray | None, origin: str) -> tuple[pd.DataFrame, np.ndarray | None]:
    date_col = [c for c in df.columns if norm_col(c) == "date"][0]
    tick_cols = [c for c in df.columns if c != date_col]
    names = [str(c).strip() for c in tick_cols]
    if not tick_cols:
        raise PriceDataError(f"{origin}: a wide price file needs a date column and one column per ticker; found only {date_col!r}.")
    empty = [i + 2 for i, c in enumerate(names) if c == "" or c.lower().startswith("unnamed:")]
    if empty:
        raise PriceDataError(f"{origin}: column(s) {empty} of the header have no ticker name; name or remove them.")
    seen: dict[str, int] = {}
    for c in names:
        seen[c] = seen.get(c, 0) + 1
    dups = sorted(c for c, k in seen.items() if k > 1)
    if dups:
        raise PriceDataError(f"{origin}: ticker column(s) {', '.join(dups)} appear more than once in the header; keep one.")
    n, k = len(df), len(tick_cols)
    long = pd.DataFrame(
        {
            "date": np.repeat(df[date_col].to_numpy(dtype=object), k),
            "ticker": np.tile(np.asarray(names, dtype=object), n),
            "close": df[tick_cols].to_numpy(dtype=object).reshape(-1),
        }
    )
    long_lines = None if lines is None else np.repeat(lines, k)
    return long, long_lines


def read_price_file(path: str | os.PathLike) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read and validate a price file; return the clean long frame and the per-ticker field."""
    path = Path(path)
    origin = f"prices file {path}"
    if not path.exists():
        raise PriceDataError(f"{origin} does not exist. Check the path given to --prices.")
    if path.is_dir():
        raise PriceDataError(f"{origin} is a folder, not a CSV or parquet file.")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        df = _read_parquet(path)
        lines, word = None, "row"
    else:
        fast = read_csv_columnar(path)
        df, lines = fast if fast is not None else read_csv_lines(path)
        word = "line"
    norm = [norm_col(c) for c in df.columns]
    if "ticker" in norm:
        pass
    elif "date" in norm:
        df, lines = _wide_to_long(df, lines, origin)
    else:
        raise PriceDataError(
            f"{origin}: the header has neither a ticker column (long layout: date,ticker,close[,adj_close]) "
            f"nor a date column (wide layout: date,<ticker1>,<ticker2>,...); found: {', '.join(map(str, df.columns))}."
        )
    return validate_price_frame(df, origin, line_numbers=lines, line_word=word)


def read_price_files(paths: Sequence[str | os.PathLike]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Several price files read and validated one by one (:func:`read_price_file`), as one long frame sorted
    by (ticker, date). A ticker in two files is refused with both files named: nothing is merged on a guess."""
    if len(paths) == 1:
        return read_price_file(paths[0])
    seen = [Path(p).resolve() for p in paths]
    twice = next((p for i, p in enumerate(paths) if seen[i] in seen[:i]), None)
    if twice is not None:
        raise PriceDataError(f"prices file {twice} is given twice; give each --prices file once")
    frames, field, where = [], {}, {}
    for path in paths:
        frame, f = read_price_file(path)
        both = [t for t in f if t in where]
        if both:
            raise PriceDataError(f"ticker {both[0]} is in prices file {where[both[0]]} and in {path}"
                                 f"{f' (and {len(both) - 1} more tickers)' if len(both) > 1 else ''}: keep each "
                                 "ticker in one of the --prices files")
        where.update({t: path for t in f})
        frames.append(frame)
        field.update(f)
    frame = pd.concat(frames, ignore_index=True).sort_values(["ticker", "date"], kind="stable", ignore_index=True)
    return frame, field


class FileSource:
    """Prices read from one or several local CSV or parquet files (read once, on first use; a ticker lives
    in one file)."""

    def __init__(self, path: str | os.PathLike | Sequence[str | os.PathLike]):
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        if not paths:
            raise PriceDataError("no prices file given")
        self.paths = [Path(p) for p in paths]
        self._frame: pd.DataFrame | None = None
        self._field: dict[str, str] = {}

    @property
    def path(self) -> Path | None:
        """The file, when there is one (None for several)."""
        return self.paths[0] if len(self.paths) == 1 else None

    @property
    def source(self) -> str:
        return f"file {self.paths[0]}" if len(self.paths) == 1 else "files " + ", ".join(map(str, self.paths))

    def _load(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame, self._field = read_price_files(self.paths)
        return self._frame

    def get(self, tickers: Sequence[str] | None = None, start=None, end=None) -> Prices:
        """Prices of ``tickers`` (all when None) on the inclusive dates [start, end].

        Requested tickers that the file lacks, or that have no price in the range, are
        listed in ``failures``.
        """
        frame = self._load()
        return select_prices(frame, {t: self._field[t] for t in sorted(self._field)}, tickers, start, end,
                             source=self.source, error=PriceDataError, not_there=f"not in {self.source}",
                             no_prices=f"no prices from {{range}} in {self.source}")
