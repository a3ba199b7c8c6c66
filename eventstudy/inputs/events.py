"""Read and validate an events file (one row per news event).

File format (CSV, UTF-8, header on line 1)::

    event_id,date,time,timezone,label,category,source,notes
    mofcom_ban,2026-01-06,16:25,Asia/Shanghai,MOFCOM dual-use export ban,EXC,https://...,exact minute unconfirmed
    kyodo,2026-01-10,,,Kyodo report,REE,https://...,

Required columns: ``event_id, date, time, timezone, label, category, source``; optional ``notes``
(free text, e.g. confounders). ``date`` is the event's local date (``YYYY-MM-DD``); ``time`` is
``HH:MM`` (24 h) in ``timezone`` (an IANA name such as ``Asia/Tokyo``) or empty when unknown.
``timezone`` is required when ``time`` is given and may be empty otherwise. Other columns are kept.

:func:`load_events` does the file I/O; :func:`parse_events_text` (text -> frame) and
:func:`events_from_frame` (frame -> validated frame) are pure and share one validator. Every
problem is reported with the file, the line number as seen in the file (header = line 1), the
column, the value and what to do; all problems found are reported at once.
"""
from __future__ import annotations

import csv
import io
import os
import re
import zoneinfo
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import time as _time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import EventsFileError
from eventstudy.io_utils import read_user_text, require_columns

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

_MAX_LISTED_PROBLEMS = 20
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
# Common non-IANA spellings and what the user most likely meant.
_TZ_HINTS = {
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "CST": "Asia/Shanghai (China) or America/Chicago (US Central)",
    "BEIJING": "Asia/Shanghai",
    "HKT": "Asia/Hong_Kong",
    "ET": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CDT": "America/Chicago",
    "GMT": "UTC or Europe/London",
    "BST": "Europe/London",
}


# ---------------------------------------------------------------------------------------------
# I/O edge
# ---------------------------------------------------------------------------------------------
#: event dates the library handles: pandas' nanosecond dates run from 1677-09-21 to 2262-04-11, and
#: the estimation and event windows (at most MAX_REL_DAY trading days) need room on either side
EVENT_DATE_RANGE = (1750, 2200)


def date_problem(year: int, month: int, day: int) -> str:
    """Why ``year-month-day`` cannot be an event date ('' when it can): a month or day that does not
    exist (``2026-02-30``), or a year outside :data:`EVENT_DATE_RANGE`."""
    import calendar

    if not 1 <= month <= 12:
        return f"not a valid date: month {month} does not exist (months run 01 to 12); the format YYYY-MM-DD is right."
    if year >= 1:
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            return (f"not a valid date: the day does not exist, {year:04d}-{month:02d} has {last} days; check the date "
                    f"(the format YYYY-MM-DD is right).")
    lo, hi = EVENT_DATE_RANGE
    if not lo <= year <= hi:
        return (f"year {year} is outside the dates the library handles ({lo}-01-01 to {hi}-12-31: pandas "
                f"dates end in 1677 and 2262, and the windows need room around the event); check the year.")
    return ""


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

    ``origin`` is the name used in error messages (the file path). Blank lines are skipped but
    line numbers still count them, so messages point at the line as seen in an editor.
    """
    required = FIRM_REQUIRED_COLUMNS if firm else REQUIRED_COLUMNS
    if not text.strip():
        raise EventsFileError(
            f"events file {origin!r} is empty: add a header line ("
            + ",".join(required + (() if firm else OPTIONAL_COLUMNS))
            + ") and one line per event."
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    ends: list[int] = []
    prev_end = 0
    try:
        for record in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if not record or all(not f.strip() for f in record):
                continue
            rows.append([f.strip() for f in record])
            lines.append(start)
            ends.append(prev_end)
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise EventsFileError(
                f"events file {origin!r}, line {prev_end + 1}: a field is longer than {csv.field_size_limit():,} "
                "characters: shorten it (a label or note is a sentence or two), or close a quote that was "
                "left open and swallowed the lines after it."
            ) from None
        raise EventsFileError(
            f"events file {origin!r}, line {reader.line_num}: not valid CSV ({exc}): "
            "check the quoting on that line."
        ) from None

    if not rows:                                      # only separators, e.g. ",,,"
        raise EventsFileError(
            f"events file {origin!r} has no header and no events (only empty cells): add a header line ("
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
    problems = sorted(problems, key=lambda p: p[0])
    shown = [msg for _, msg in problems[:_MAX_LISTED_PROBLEMS]]
    more = len(problems) - len(shown)
    head = f"{label} has {len(problems)} problems:"
    if len(problems) == 1:
        raise EventsFileError(f"{label}, {shown[0]}")
    body = "\n  ".join(shown)
    tail = f"\n  ... and {more} more" if more else ""
    raise EventsFileError(f"{head}\n  {body}{tail}")


def _validate(raw: pd.DataFrame, label: str, where: list[str]) -> pd.DataFrame:
    """Validate a frame of stripped strings; ``label`` names the source ("events file 'x.csv'"),
    ``where[i]`` locates row i ('line 7' / 'row 3')."""
    n = len(raw)
    if n == 0:
        raise EventsFileError(f"{label} has a header but no events: add one row per event.")
    problems: list[tuple[int, str]] = []

    def add(i: int, column: str, value: str, what: str) -> None:
        problems.append((i, f"{where[i]}, column {column} = {value!r}: {what}"))

    ids = raw["event_id"].tolist()
    first_seen: dict[str, int] = {}
    for i, eid in enumerate(ids):
        if not eid:
            add(i, "event_id", eid, "event_id is empty: give every event a unique id (e.g. mofcom_2026_01_06).")
        elif eid in first_seen:
            add(i, "event_id", eid,
                f"duplicate event_id, also on {where[first_seen[eid]]}: event ids must be unique; rename one.")
        else:
            first_seen[eid] = i

    dates: list[pd.Timestamp | None] = [None] * n
    for i, s in enumerate(raw["date"].tolist()):
        if not s:
            add(i, "date", s, "date is empty: give the event's local date as YYYY-MM-DD (e.g. 2026-01-06).")
            continue
        m = _DATE_RE.match(s)
        if not m:
            add(i, "date", s, "not a valid date: write it as YYYY-MM-DD (e.g. 2026-01-06).")
            continue
        problem = date_problem(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if problem:
            add(i, "date", s, problem)
            continue
        dates[i] = pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    times: list[str] = [""] * n
    for i, s in enumerate(raw["time"].tolist()):
        if not s:
            continue
        m = _TIME_RE.match(s)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            times[i] = f"{int(m.group(1)):02d}:{m.group(2)}"
        else:
            add(i, "time", s, "not a valid time: write it as HH:MM on a 24-hour clock (e.g. 16:25), "
                              "or leave it empty if the time is unknown.")

    zones: list[zoneinfo.ZoneInfo | None] = [None] * n
    for i, s in enumerate(raw["timezone"].tolist()):
        if not s:
            if raw["time"].iat[i]:
                add(i, "timezone", s, "a time is given but the timezone is empty: give the IANA timezone "
                                      "of that time (e.g. Asia/Tokyo, Asia/Shanghai, America/New_York).")
            continue
        try:
            zones[i] = zoneinfo.ZoneInfo(s)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            add(i, "timezone", s, "unknown timezone: " + _tz_hint(s))

    announced: list[pd.Timestamp] = [pd.NaT] * n
    for i in range(n):
        if dates[i] is None or not times[i] or zones[i] is None:
            continue
        hh, mm = map(int, times[i].split(":"))
        d = dates[i]
        local = _datetime(d.year, d.month, d.day, hh, mm, tzinfo=zones[i])
        kind = _dst_gap_or_fold(local)
        if kind:
            add(i, "time", raw["time"].iat[i],
                f"{local:%Y-%m-%d %H:%M} {kind} in {zones[i].key} (a daylight-saving change): give the time "
                "in a zone without the change, e.g. UTC.")
            continue
        announced[i] = pd.Timestamp(local)

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


def _dst_gap_or_fold(local: _datetime) -> str:
    """'' if the wall-clock time ``local`` (tz-aware, fold=0) names exactly one instant, else why not."""
    if local.utcoffset() == local.replace(fold=1).utcoffset():
        return ""
    utc = zoneinfo.ZoneInfo("UTC")
    round_trip = local.astimezone(utc).astimezone(local.tzinfo).replace(tzinfo=None)
    if round_trip != local.replace(tzinfo=None):
        return "does not exist"
    return "is ambiguous (it happens twice)"


def _tz_hint(s: str) -> str:
    hint = _TZ_HINTS.get(s.upper())
    if hint:
        return f"{s!r} is an abbreviation, not an IANA name: use {hint}."
    lower = {name.lower(): name for name in zoneinfo.available_timezones()}
    if s.lower() in lower:
        return f"names are case-sensitive: use {lower[s.lower()]}."
    return ("use an IANA name such as Asia/Tokyo, Asia/Shanghai or America/New_York "
            "(see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).")
