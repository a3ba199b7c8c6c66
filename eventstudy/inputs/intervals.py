"""Announcement times known only within an interval: the events file's optional ``time_until`` column.

An event announced "between 14:30 and 15:35" is written ``time = 14:30`` and ``time_until = 15:35``
(same date and timezone; a ``time_until`` earlier than ``time`` is on the next day). The intraday
study maps both ends to bar 0 and reports the reaction for each end
(:func:`eventstudy.calendars.bar0.map_bar0`).
"""
from __future__ import annotations

import re

import pandas as pd

from eventstudy.errors import EventsFileError

__all__ = ["announcement_until"]


def announcement_until(events: pd.DataFrame, origin: str = "events") -> pd.Series:
    """The latest announcement instant of each event (tz-aware, NaT without ``time_until``), aligned with
    ``events`` (columns of :func:`eventstudy.inputs.events.load_events` plus an optional ``time_until``).
    A malformed ``time_until`` or one without a ``time`` raises :class:`EventsFileError` naming the event."""
    out = pd.Series([pd.NaT] * len(events), index=events.index, dtype=object)
    if "time_until" not in events.columns:
        return out
    for i, ev in events.iterrows():
        raw = "" if pd.isna(ev["time_until"]) else str(ev["time_until"]).strip()
        if not raw:
            continue
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise EventsFileError(f"{origin}, event {ev['event_id']}: time_until {raw!r} is not a time HH:MM "
                                  "(the latest time the announcement may have been made).")
        if pd.isna(ev["announced_at"]):
            raise EventsFileError(f"{origin}, event {ev['event_id']}: time_until {raw!r} needs a time (the earliest "
                                  "time the announcement may have been made).")
        at = pd.Timestamp(ev["announced_at"])
        until = at.normalize() + pd.Timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
        if until < at:
            until += pd.Timedelta(days=1)
        out[i] = until
    return out
