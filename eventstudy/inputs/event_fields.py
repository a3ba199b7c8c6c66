"""The checks of an events table, one column at a time (pure; used by :mod:`eventstudy.inputs.events`).

Each ``check_*`` function takes the column's stripped strings and ``where`` (``where[i]`` locates
row i: 'line 7' / "row 'a'") and returns the parsed values and a list of ``(i, message)`` problems,
each message naming the row, column and value and saying what to do.
"""
from __future__ import annotations

import re
import zoneinfo
from datetime import datetime as _datetime
from typing import Sequence

import pandas as pd

__all__ = ["EVENT_DATE_RANGE", "date_problem", "check_event_ids", "check_dates", "check_times", "check_timezones",
           "announcement_instants"]

Problems = list[tuple[int, str]]

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


def _problem(where: Sequence[str], i: int, column: str, value: str, what: str) -> tuple[int, str]:
    return i, f"{where[i]}, column {column} = {value!r}: {what}"


def check_event_ids(ids: Sequence[str], where: Sequence[str]) -> Problems:
    """Empty and duplicated event ids (a duplicate names the row of the first)."""
    problems: Problems = []
    first_seen: dict[str, int] = {}
    for i, eid in enumerate(ids):
        if not eid:
            problems.append(_problem(where, i, "event_id", eid,
                                     "event_id is empty: give every event a unique id (e.g. mofcom_2026_01_06)."))
        elif eid in first_seen:
            problems.append(_problem(where, i, "event_id", eid, f"duplicate event_id, also on "
                                     f"{where[first_seen[eid]]}: event ids must be unique; rename one."))
        else:
            first_seen[eid] = i
    return problems


def check_dates(values: Sequence[str], where: Sequence[str]) -> tuple[list[pd.Timestamp | None], Problems]:
    """``YYYY-MM-DD`` strings -> midnight Timestamps (None where unusable). Each distinct text is read once (a
    firm-events file repeats its dates)."""
    read = {s: _read_date(s) for s in set(values)}
    dates: list[pd.Timestamp | None] = [None] * len(values)
    problems: Problems = []
    for i, s in enumerate(values):
        got = read[s]
        if isinstance(got, str):
            problems.append(_problem(where, i, "date", s, got))
        else:
            dates[i] = got
    return dates, problems


def _read_date(s: str) -> pd.Timestamp | str:
    """One ``YYYY-MM-DD`` text: its midnight Timestamp, or what is wrong with it."""
    if not s:
        return "date is empty: give the event's local date as YYYY-MM-DD (e.g. 2026-01-06)."
    m = _DATE_RE.match(s)
    if not m:
        return "not a valid date: write it as YYYY-MM-DD (e.g. 2026-01-06)."
    problem = date_problem(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return problem if problem else pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def check_times(values: Sequence[str], where: Sequence[str]) -> tuple[list[str], Problems]:
    """``H:MM``/``HH:MM`` (24 h) strings -> ``'HH:MM'`` ('' where empty or unusable)."""
    times = [""] * len(values)
    problems: Problems = []
    for i, s in enumerate(values):
        if not s:
            continue
        m = _TIME_RE.match(s)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            times[i] = f"{int(m.group(1)):02d}:{m.group(2)}"
        else:
            problems.append(_problem(where, i, "time", s, "not a valid time: write it as HH:MM on a 24-hour clock "
                                                          "(e.g. 16:25), or leave it empty if the time is unknown."))
    return times, problems


def check_timezones(values: Sequence[str], raw_times: Sequence[str],
                    where: Sequence[str]) -> tuple[list[zoneinfo.ZoneInfo | None], Problems]:
    """IANA names -> ZoneInfo (None where empty or unknown); a time without a zone is a problem."""
    zones: list[zoneinfo.ZoneInfo | None] = [None] * len(values)
    problems: Problems = []
    for i, s in enumerate(values):
        if not s:
            if raw_times[i]:
                problems.append(_problem(where, i, "timezone", s, "a time is given but the timezone is empty: give "
                                         "the IANA timezone of that time (e.g. Asia/Tokyo, Asia/Shanghai, "
                                         "America/New_York)."))
            continue
        try:
            zones[i] = zoneinfo.ZoneInfo(s)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(_problem(where, i, "timezone", s, "unknown timezone: " + _tz_hint(s)))
    return zones, problems


def announcement_instants(dates: Sequence[pd.Timestamp | None], times: Sequence[str],
                          zones: Sequence[zoneinfo.ZoneInfo | None], raw_times: Sequence[str],
                          where: Sequence[str]) -> tuple[list[pd.Timestamp], Problems]:
    """Local date + time + zone -> tz-aware Timestamp (NaT when a part is missing); a wall-clock time that
    a daylight-saving change skips or repeats is a problem."""
    announced: list[pd.Timestamp] = [pd.NaT] * len(dates)
    problems: Problems = []
    for i, (d, t, z) in enumerate(zip(dates, times, zones)):
        if d is None or not t or z is None:
            continue
        hh, mm = map(int, t.split(":"))
        local = _datetime(d.year, d.month, d.day, hh, mm, tzinfo=z)
        kind = _dst_gap_or_fold(local)
        if kind:
            problems.append(_problem(where, i, "time", raw_times[i],
                                     f"{local:%Y-%m-%d %H:%M} {kind} in {z.key} (a daylight-saving change): give "
                                     "the time in a zone without the change, e.g. UTC."))
            continue
        announced[i] = pd.Timestamp(local)
    return announced, problems


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
