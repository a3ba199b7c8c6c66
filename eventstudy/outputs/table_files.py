"""Tables as CSV files: the raw frame of a table builder (:mod:`eventstudy.present.tables`), full precision."""
from __future__ import annotations

import os

import pandas as pd

from eventstudy.content import SIMULATED, Table
from eventstudy.io_utils import atomic_write_text, spreadsheet_safe
from eventstudy.outputs.csvs import csv_bytes

__all__ = ["to_csv"]


def to_csv(df: pd.DataFrame, path: str | os.PathLike | None = None, raw: bool = False) -> str:
    """The raw frame (all columns, full precision, dates ISO) as CSV text; written atomically to
    ``path`` when given. A simulated table's first line is a ``# SIMULATED ...`` comment.
    Text cells a spreadsheet would evaluate as formulas get a leading ``'`` unless ``raw``
    (:func:`eventstudy.io_utils.spreadsheet_safe`)."""
    body = csv_bytes(df if raw else spreadsheet_safe(df)).decode("utf-8")   # pyarrow: full precision, fast
    if df.attrs.get("simulated"):
        body = f"# {Table.from_frame(df).full_title or f'{SIMULATED} data'}\n" + body
    if path is not None:
        atomic_write_text(path, body)
    return body
