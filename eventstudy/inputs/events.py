"""Read and validate an events file (one row per news event).

File format (CSV, UTF-8, header on line 1)::

    event_id,date,time,timezone,label,category,source,notes
    mofcom_ban,2026-01-06,16:25,Asia/Shanghai,MOFCOM dual-use export ban,EXC,https://...,exact minute unconfirmed
    kyodo,2026-01-10,,,Kyodo report,REE,https://...,

Required columns: ``event_id, date, time, timezone, label, category, source``; optional ``notes``
(free text, e.g. confounders). ``date`` is the event's local date (``YYYY-MM-DD``); ``time`` is
``HH:MM`` (24 h) in ``timezone`` (an IANA name such as ``Asia/Tokyo``) or empty when unknown.
``timezone`` is required when ``time`` is given and may be empty otherwise. Other columns are kept.
Blank lines and lines starting with ``#`` are skipped (:data:`eventstudy.io_utils.CSV_RULE`).

:func:`load_events` does the file I/O; :func:`parse_events_text` (text -> frame) and
:func:`events_from_frame` (frame -> validated frame) are pure and share one validator. Every
problem is reported with the file, the line number as seen in the file (header = line 1), the
column, the value and what to do; all problems found are reported at once.
"""
from __future__ import annotations

import os
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import time as _time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import EventsFileError
from eventstudy.inputs.event_fields import (announcement_instants, check_dates, check_event_ids,
                                            check_timezones, check_times)
from eventstudy.inputs.event_fields import EVENT_DATE_RANGE, date_problem  # noqa: F401  (their old home)
from eventstudy.io_utils import csv_records, names_its_file, problems_message, read_user_text, require_columns

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "OUTPUT_COLUMNS",
    "load_events",
    "parse_events_text",
    "events_from_frame",
    "load_firm_events",
    "firm_events_from_frame",
    "FIRM_REQUIRED_COLUMNS",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("event_id", "date", "time", "timezone", "label", "category", "source")
#: a firm-events file needs only these (one row per firm and announcement)
FIRM_REQUIRED_COLUMNS: tuple[str, ...] = ("ticker", "date")
OPTIONAL_COLUMNS: tuple[str, ...] = ("notes",)
OUTPUT_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + ("announced_at",)



# ---------------------------------------------------------------------------------------------
# I/O edge
# ---------------------------------------------------------------------------------------------
@names_its_file
def load_events(path: str | os.PathLike) -> pd.DataFrame:
    """Read the events CSV at ``path`` and return the validated events frame.

    Columns of the result (index 0..n-1, file order): ``event_id, date (datetime64[ns], tz-naive),
    time ('HH:MM' or ''), timezone (IANA name or ''), label, category, source, notes, announced_at``
    (tz-aware Timestamp in the event's timezone, NaT when no time), then any extra columns.
    Raises :class:`EventsFileError` naming the file and line for every problem.
    """
    p = Path(path)
    text = read_user_text(p, "events file", EventsFileError,
                          hint=", or create the file with the columns " + ", ".join(REQUIRED_COLUMNS))
    return parse_events_text(text, origin=str(p))


@names_its_file
def load_firm_events(path: str | os.PathLike) -> pd.DataFrame:
    """Read a firm-events CSV: one row per (security, announcement), e.g. earnings.

    Required columns ``ticker, date``; optional ``time, timezone`` (the announcement's local time
    and IANA zone), ``event_id`` (unique; default ``<ticker>@<date>``, ``#2``... for a second
    announcement of one firm on one date), ``label, category, source, notes`` and any grouping
    columns (e.g. ``news`` = good/bad, ``year``). Returns the columns of :func:`load_events` plus
    ``ticker``; each row is mapped to day 0 on its own instrument's sessions by
    :func:`eventstudy.calendars.day0.map_day0_pairs`. Raises :class:`EventsFileError` naming the file and
    line for every problem.
    """
    p = Path(path)
    text = read_user_text(p, "firm-events file", EventsFileError,
                          hint=", or create the file with the columns ticker, date[, time, timezone, event_id, ...]")
    return parse_events_text(text, origin=str(p), firm=True)


def firm_events_from_frame(df: pd.DataFrame, origin: str = "<frame>") -> pd.DataFrame:
    """Validate a firm-events DataFrame built in code; same checks and output as :func:`load_firm_events`."""
    return _from_frame(df, f"firm-events frame {origin}", firm=True)


def _validate_firm(raw: pd.DataFrame, label: str, where: list[str]) -> pd.DataFrame:
    """Firm events: tickers present, event ids filled in where empty, then the events checks."""
    raw = raw.copy().reset_index(drop=True)
    for c in ("event_id", "time", "timezone", "label", "category", "source"):
        if c not in raw.columns:
            raw[c] = ""
    empty = [i for i, t in enumerate(raw["ticker"].tolist()) if not t]
    if empty:
        _raise_problems(label, [(i, f"{where[i]}, column ticker = '': the ticker is empty: give the security "
                                    "this announcement is about.") for i in empty])
    given = set(e for e in raw["event_id"].tolist() if e)
    ids = raw["event_id"].tolist()
    seen: dict[str, int] = {}
    for i, (eid, t, d) in enumerate(zip(ids, raw["ticker"].tolist(), raw["date"].tolist())):
        if eid:
            continue
        base = f"{t}@{d}"
        k = seen.get(base, 0) + 1
        seen[base] = k
        cand = base if k == 1 else f"{base}#{k}"
        while cand in given:
            k += 1
            seen[base] = k
            cand = f"{base}#{k}"
        ids[i] = cand
        given.add(cand)
    raw["event_id"] = ids
    out = _validate(raw, label, where)
    tick = out.pop("ticker")
    out.insert(1, "ticker", tick)
    return out


# ---------------------------------------------------------------------------------------------
# Pure parsing and validation
# ---------------------------------------------------------------------------------------------
def parse_events_text(text: str, origin: str = "<text>", *, firm: bool = False) -> pd.DataFrame:
    """Parse CSV ``text`` (the contents of an events file) and validate it; see :func:`load_events`
    (``firm=True``: a firm-events file, see :func:`load_firm_events`).

    ``origin`` is the name used in error messages (the file path). Blank lines and lines starting
    with ``#`` are skipped (:data:`eventstudy.io_utils.CSV_RULE`) but line numbers still count them,
    so messages point at the line as seen in an editor.
    """
    required = FIRM_REQUIRED_COLUMNS if firm else REQUIRED_COLUMNS
    if not text.strip():
        raise EventsFileError(
            f"events file {origin!r} is empty: add a header line ("
            + ",".join(required + (() if firm else OPTIONAL_COLUMNS))
            + ") and one line per event."
        )
    records = csv_records(text, f"events file {origin!r}", EventsFileError, strict=False)
    rows = [[f.strip() for f in cells] for _, _, cells in records]
    lines = [start for start, _, _ in records]
    ends = [end for _, end, _ in records]

    if not rows:                                      # only separators (",,,") or comments
        raise EventsFileError(
            f"events file {origin!r} has no header and no events (only empty cells or comments): add a header line ("
            + ",".join(required + (() if firm else OPTIONAL_COLUMNS))
            + ") and one line per event."
        )
    label = f"events file {origin!r}"
    header, header_line = rows[0], lines[0]
    names = [h.lower() for h in header]
    empty_names = [i + 1 for i, h in enumerate(names) if not h]
    if empty_names:
        raise EventsFileError(
            f"{label}, line {header_line} (header): column(s) number "
            f"{', '.join(map(str, empty_names))} have no name: remove trailing commas or name the column."
        )
    dup_names = sorted({h for h in names if names.count(h) > 1})
    if dup_names:
        raise EventsFileError(
            f"{label}, line {header_line} (header): column(s) {', '.join(dup_names)} "
            "appear more than once: keep one of each."
        )
    _check_required_columns(names, label, where=f", line {header_line} (header)", required=required)

    body, body_lines = rows[1:], lines[1:]
    problems: list[tuple[int, str]] = []
    for rec, ln, end in zip(body, body_lines, ends[1:]):
        if len(rec) != len(names) and end > ln and text.splitlines()[ln - 1].count('"') % 2:
            problems.append((ln, f"line {ln}: a quote (\") opened on this line is not closed "
                                 f"{'on that line (the next quote is on line ' + str(end) + ')' if end < text.count(chr(10)) else 'before the end of the file'}"
                                 f", so the lines after it were read as one field: close the quote, or write a quote "
                                 f"inside a quoted field as two (\"\")."))
        elif len(rec) != len(names):
            problems.append((
                ln,
                f"line {ln}: has {len(rec)} fields but the header has {len(names)}: "
                + ("quote any field that contains a comma (e.g. \"a, b\")." if len(rec) > len(names)
                   else "add the missing fields (empty fields still need their commas)."),
            ))
    if problems:
        _raise_problems(label, problems)
    raw = pd.DataFrame(body, columns=names, dtype=object)
    where = [f"line {ln}" for ln in body_lines]
    return _validate_firm(raw, label, where) if firm else _validate(raw, label, where)


def events_from_frame(df: pd.DataFrame, origin: str = "<frame>") -> pd.DataFrame:
    """Validate an events DataFrame built in code; same checks and output as :func:`load_events`.

    Values may be strings or Python/pandas objects: ``date`` as 'YYYY-MM-DD', ``datetime.date`` or a
    midnight ``Timestamp``; ``time`` as 'HH:MM' or ``datetime.time``; NaN/None mean empty.
    Messages refer to rows by their index label (``origin``, row <label>).
    """
    return _from_frame(df, f"events frame {origin}", firm=False)


def _from_frame(df: pd.DataFrame, label: str, firm: bool) -> pd.DataFrame:
    """A frame built in code -> stripped strings -> the file validator of its design."""
    if not isinstance(df, pd.DataFrame):
        raise EventsFileError(f"{label}: expected a pandas DataFrame, got {type(df).__name__}.")
    names = [str(c).strip().lower() for c in df.columns]
    dup_names = sorted({h for h in names if names.count(h) > 1})
    if dup_names:
        raise EventsFileError(f"{label}: column(s) {', '.join(dup_names)} appear more than once: keep one of each.")
    _check_required_columns(names, label, where="", required=FIRM_REQUIRED_COLUMNS if firm else REQUIRED_COLUMNS)
    raw = pd.DataFrame(
        {name: [_cell_to_str(v, name) for v in df.iloc[:, i].tolist()] for i, name in enumerate(names)},
        dtype=object,
    )
    where = [f"row {ix!r}" for ix in df.index]
    return _validate_firm(raw, label, where) if firm else _validate(raw, label, where)


def _cell_to_str(v: object, column: str) -> str:
    """One frame cell -> the string the CSV would hold ('' for missing)."""
    if v is None or v is pd.NaT:
        return ""
    if isinstance(v, float) and np.isnan(v):
        return ""
    if isinstance(v, (pd.Timestamp, _datetime)):
        if column == "date" and (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.strftime("%Y-%m-%d")
        return str(v)  # a non-midnight date is reported by the validator with its value
    if isinstance(v, _date):
        return v.isoformat()
    if isinstance(v, _time):
        return v.strftime("%H:%M") if (v.second, v.microsecond) == (0, 0) else v.isoformat()
    if isinstance(v, (np.datetime64,)):
        return _cell_to_str(pd.Timestamp(v), column)
    try:
        if pd.isna(v):  # pd.NA and similar
            return ""
    except (TypeError, ValueError):
        pass
    return str(v).strip()


def _check_required_columns(names: Sequence[str], label: str, where: str,
                            required: Sequence[str] = REQUIRED_COLUMNS) -> None:
    extra = "(and optionally notes)" if tuple(required) == REQUIRED_COLUMNS else \
        "(optionally time, timezone, event_id, label, category, source, notes and grouping columns)"
    require_columns(names, required, EventsFileError, f"{label}{where}",
                    needs=f"The header must contain {', '.join(required)} {extra}.")


def _raise_problems(label: str, problems: list[tuple[int, str]]) -> None:
    """All problems, in file order, in one :class:`EventsFileError` (a lone one inline)."""
    msgs = [msg for _, msg in sorted(problems, key=lambda p: p[0])]
    if len(msgs) == 1:
        raise EventsFileError(f"{label}, {msgs[0]}")
    raise EventsFileError(problems_message(label, msgs))


def _validate(raw: pd.DataFrame, label: str, where: list[str]) -> pd.DataFrame:
    """Validate a frame of stripped strings; ``label`` names the source ("events file 'x.csv'"),
    ``where[i]`` locates row i ('line 7' / 'row 3')."""
    n = len(raw)
    if n == 0:
        raise EventsFileError(f"{label} has a header but no events: add one row per event.")
    ids = raw["event_id"].tolist()
    raw_times = raw["time"].tolist()
    problems = check_event_ids(ids, where)
    dates, found = check_dates(raw["date"].tolist(), where)
    problems += found
    times, found = check_times(raw_times, where)
    problems += found
    zones, found = check_timezones(raw["timezone"].tolist(), raw_times, where)
    problems += found
    announced, found = announcement_instants(dates, times, zones, raw_times, where)
    problems += found
    if problems:
        _raise_problems(label, problems)

    out = pd.DataFrame({
        "event_id": pd.Series(ids, dtype=object),
        "date": pd.DatetimeIndex(dates).astype("datetime64[ns]"),
        "time": pd.Series(times, dtype=object),
        "timezone": raw["timezone"].astype(object).reset_index(drop=True),
        "label": raw["label"].astype(object).reset_index(drop=True),
        "category": raw["category"].astype(object).reset_index(drop=True),
        "source": raw["source"].astype(object).reset_index(drop=True),
        "notes": (raw["notes"].astype(object).reset_index(drop=True) if "notes" in raw.columns
                  else pd.Series([""] * n, dtype=object)),
        "announced_at": pd.Series(announced, dtype=object),
    })
    for col in raw.columns:
        if col not in out.columns:
            out[col] = raw[col].astype(object).reset_index(drop=True)
    out.index = pd.RangeIndex(n)
    return out


