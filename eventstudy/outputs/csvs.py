"""The result tables `eventstudy run` writes: a contract users script against (see README).

All values are decimals (0.01 = 1%) except where a column name says otherwise; dates are
ISO ``YYYY-MM-DD`` exchange-local trading dates. Every file is written atomically.

Tables are CSV by default (written by pyarrow's C++ writer: numbers at full float64
precision, the shortest text that reads back to the same double; strings quoted) or, with
``table_format="parquet"``, Parquet files of the same columns (typed, compressed; the
abnormal returns in row groups of whole events).
Text cells a spreadsheet would evaluate as a formula (``= + - @``, tab, CR first) get a leading ``'``
in the CSV files unless raw output is asked for (:func:`eventstudy.io_utils.spreadsheet_safe`); the
Parquet files hold the text as it is (programs read them, not spreadsheets).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from eventstudy import io_utils
from eventstudy.io_utils import ensure_out_dir, spreadsheet_safe
from eventstudy.inference.regression import REG_COLUMNS

AR_COLUMNS = ["event_id", "ticker", "group", "date", "rel_day", "ret", "normal_ret", "ar", "sar"]
CAR_COLUMNS = ["event_id", "ticker", "group", "window_start", "window_end", "car", "car_se", "scar", "p_value", "bhar"]
TEST_COLUMNS = ["event_id", "group", "window_start", "window_end", "n", "caar", "test", "statistic", "p_value"]
DAY0_COLUMNS = ["event_id", "ticker", "calendar", "announced_at", "day0", "reason", "alignment"]
EXCLUSION_COLUMNS = ["event_id", "ticker", "window_start", "window_end", "reason"]


def study_frames(run) -> dict[str, pd.DataFrame]:
    """The contract frames of a :class:`~eventstudy.pipeline.study.StudyRun`, keyed by file name."""
    r = run.result
    excl = pd.concat([
        r.exclusions[EXCLUSION_COLUMNS],
        pd.DataFrame({"event_id": run.excluded["event_id"], "ticker": run.excluded["ticker"],
                      "window_start": float("nan"), "window_end": float("nan"), "reason": run.excluded["reason"]}),
    ], ignore_index=True)
    reg = run.regressions.reindex(columns=REG_COLUMNS)
    return {
        "abnormal_returns.csv": r.ar[AR_COLUMNS],
        "car.csv": r.car[CAR_COLUMNS],
        "tests.csv": r.tests[TEST_COLUMNS],
        "regressions.csv": reg,
        "day0.csv": run.day0.reindex(columns=DAY0_COLUMNS),
        "exclusions.csv": excl,
        "params.csv": r.params,
        "limit_flags.csv": _limit_flags(run),
        "primary_hypotheses.csv": _primary(run),
    }


def _limit_flags(run) -> pd.DataFrame:
    """Pair-windows containing a price-limit day (:func:`eventstudy.data.limits.limit_flags`; empty without limits)."""
    from eventstudy.data.limits import LIMIT_FLAG_COLUMNS
    f = getattr(run, "limit_flags", None)
    return f[LIMIT_FLAG_COLUMNS] if f is not None else pd.DataFrame(columns=LIMIT_FLAG_COLUMNS)


def _primary(run) -> pd.DataFrame:
    """The declared primary hypotheses with their tests (:func:`eventstudy.inference.hypotheses.primary_table`)."""
    from eventstudy.inference.hypotheses import primary_table
    return primary_table(run)


def write_csvs(run, out_dir: str | Path, raw: bool = False) -> dict[str, Path]:
    """Write every contract CSV of ``run`` into ``out_dir``; returns name -> path.
    ``raw``: write text cells verbatim (no ``'`` before formula-like text)."""
    return write_tables(run, out_dir, "csv", raw=raw)


TABLE_FORMATS = ("csv", "parquet")


def write_tables(run, out_dir: str | Path, table_format: str = "csv", raw: bool = False) -> dict[str, Path]:
    """Write every contract table of ``run`` into ``out_dir`` as ``table_format`` (``csv``, the
    default, or ``parquet``: ``abnormal_returns.parquet`` etc.); returns file name -> path.
    ``raw``: CSV text cells verbatim (no ``'`` before formula-like text)."""
    if table_format not in TABLE_FORMATS:
        raise ValueError(f"table_format {table_format!r}: choose from {', '.join(TABLE_FORMATS)}")
    out = ensure_out_dir(out_dir)
    written: dict[str, Path] = {}
    for name, df in study_frames(run).items():
        if table_format == "parquet":
            name = name[: -len(".csv")] + ".parquet"
            written[name] = io_utils.atomic_write_bytes(out / name, parquet_bytes(df, group_by="event_id"))
        else:
            written[name] = write_csv(df if raw else spreadsheet_safe(df), out / name)
    return written


def _arrow_table(df: pd.DataFrame):
    """``df`` as a pyarrow Table for writing: dates (tz-naive or aware, as wall-clock dates) as
    ``date32``, NaN and None as null, booleans as ``True``/``False`` text (as pandas writes them),
    object columns of mixed types as text."""
    import numpy as np
    import pyarrow as pa

    cols = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            v = col.dt.tz_localize(None) if getattr(col.dt, "tz", None) is not None else col
            arr = pa.array(v.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"), type=pa.date32(),
                           mask=v.isna().to_numpy())
        elif pd.api.types.is_bool_dtype(col) and not isinstance(col.dtype, pd.BooleanDtype):
            arr = pa.array(np.where(col.to_numpy(), "True", "False"))
        else:
            try:
                arr = pa.array(col, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                miss = col.isna().to_numpy()
                arr = pa.array(col.astype(str).to_numpy(dtype=object), type=pa.string(), mask=miss)
            if pa.types.is_null(arr.type):           # an all-missing column: empty cells
                arr = pa.array([None] * len(col), type=pa.string())
        cols[str(c)] = arr
    return pa.table(cols)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """``df`` written to ``path`` as :func:`csv_bytes` would give it, streamed by pyarrow into a temporary
    file that is then renamed (:func:`eventstudy.io_utils.atomic_write_with`): the same bytes, without the
    whole table held in memory a second time."""
    return io_utils.atomic_write_with(path, lambda fh: _write_csv(df, fh))


def _write_csv(df: pd.DataFrame, fh) -> None:
    """``df`` as CSV into the binary file ``fh``: the header as pandas writes it (names quoted only where
    needed), then the rows by pyarrow's C++ writer."""
    import csv
    import io

    import pyarrow.csv as pacsv

    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([str(c) for c in df.columns])
    fh.write(head.getvalue().encode("utf-8"))
    if len(df) > SLICE_ROWS:
        _write_rows_in_slices(_arrow_table(df), fh)
    elif len(df):
        pacsv.write_csv(_arrow_table(df), fh, pacsv.WriteOptions(include_header=False))


#: rows per slice when a large table's CSV text is made on several threads
SLICE_ROWS = 1 << 17


def _slice_text(table) -> bytes:
    import io

    import pyarrow.csv as pacsv

    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def _write_rows_in_slices(table, fh, workers: int | None = None) -> None:
    """The rows of the pyarrow ``table`` as CSV into ``fh``: slices of :data:`SLICE_ROWS` rows made into text on
    up to ``workers`` threads (pyarrow's writer releases the GIL; default: the cores, at most 4) and written in
    order, at most two slices per thread held at a time. Each row's text does not depend on the others, so the
    bytes are those of one call of the writer (``tests/engine/test_fast_paths.py``); about 1.5x as fast on two
    cores for the abnormal returns of a large study."""
    import os
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or min(os.cpu_count() or 1, 4)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for start in range(0, table.num_rows, SLICE_ROWS):
            pending.append(pool.submit(_slice_text, table.slice(start, SLICE_ROWS)))
            if len(pending) >= 2 * workers:
                fh.write(pending.popleft().result())
        while pending:
            fh.write(pending.popleft().result())


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as CSV (UTF-8, ``\n`` line ends, no index): the header as pandas writes it, numbers at
    full float64 precision (shortest text that reads back to the same double), missing values empty,
    text quoted, dates ``YYYY-MM-DD``. Written by pyarrow in C++, about 10x faster than ``DataFrame.to_csv``
    with a float format for large tables."""
    import io

    buf = io.BytesIO()
    _write_csv(df, buf)
    return buf.getvalue()


def parquet_bytes(df: pd.DataFrame, group_by: str | None = None, rows_per_group: int = 1_000_000) -> bytes:
    """``df`` as a Parquet file (zstd). With ``group_by`` (a column, e.g. ``event_id``) the rows are
    kept in their order and cut into row groups of about ``rows_per_group`` rows at a change of that
    column, so a reader filtering on one event reads one row group's statistics, not every row."""
    import io

    import pyarrow.parquet as pq

    table = _arrow_table(df)
    buf = io.BytesIO()
    with pq.ParquetWriter(buf, table.schema, compression="zstd") as w:
        start, n = 0, len(df)
        if n == 0:
            w.write_table(table)
        key = df[group_by].to_numpy() if (group_by and group_by in df.columns and n) else None
        while start < n:
            stop = min(start + rows_per_group, n)
            if key is not None and stop < n:       # end the group where the event changes
                same = key[stop:] == key[stop - 1]
                stop += int(same.argmin()) if not same.all() else n - stop
            w.write_table(table.slice(start, stop - start))
            start = stop
    return buf.getvalue()


def csv_text(df: pd.DataFrame, raw: bool = False) -> str:
    """``df`` as the CSV text the contract files use (:func:`csv_bytes`: dates ``YYYY-MM-DD``, floats at
    full precision, formula-like text made inert unless ``raw``)."""
    return csv_bytes(df if raw else spreadsheet_safe(df)).decode("utf-8")
