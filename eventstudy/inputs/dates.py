"""Reading dates: one date given by a user (start/end bounds, session dates), and arrays of dates."""
from __future__ import annotations

import pandas as pd

from eventstudy.errors import EventStudyError


def as_date(value: object, what: str, error: type[EventStudyError]) -> pd.Timestamp:
    """``value`` as a tz-naive midnight ``Timestamp[ns]``; ``error`` naming ``what`` if it is not a date."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise error(f"{what} {value!r} is not a date: use YYYY-MM-DD.") from None
    if ts is pd.NaT:
        raise error(f"{what} is missing (NaT): give a date as YYYY-MM-DD.")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def as_bound(value: object, what: str, error: type[EventStudyError]) -> pd.Timestamp | None:
    """An optional date bound: None stays None (open end), anything else is :func:`as_date`."""
    return None if value is None else as_date(value, what, error)


def normalise_dates(values) -> pd.DatetimeIndex:
    """Datetime-like values -> tz-naive midnight ``datetime64[ns]`` (the wall-clock date is kept)."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize().astype("datetime64[ns]")
