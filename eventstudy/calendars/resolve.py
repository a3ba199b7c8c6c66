"""Which trading calendar each price series is on: declared, guessed and confirmed, or its own dates.

A declared calendar (instruments file, universe ``exchange`` column) that the series' price dates
contradict is an :class:`~eventstudy.errors.InstrumentError` naming the ticker and the first dates;
a guess from the ticker's spelling (:func:`eventstudy.inputs.exchanges.guess_exchange`) is used only
when every price date is a session of it, else the series keeps its own dates with a note.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.calendars.sessions import session_model_for
from eventstudy.errors import InstrumentError
from eventstudy.inputs.dates import normalise_dates
from eventstudy.inputs.exchanges import guess_exchange
from eventstudy.inputs.instruments import CALENDAR_COLUMNS

__all__ = ["resolve_calendars", "CALENDAR_COLUMNS"]

_MAX_LISTED = 20

_DAY_NS = 86_400_000_000_000


@dataclass(frozen=True)
class _Candidate:
    code: str
    source: str


def _disagreeing(dates: pd.DatetimeIndex, sessions: pd.DatetimeIndex) -> np.ndarray:
    """Price dates (datetime64[ns]) that are not in ``sessions`` (both sorted; ``sessions`` already tz-naive
    midnight ``datetime64[ns]``, as :func:`resolve_calendars` builds them once per calendar)."""
    dates = pd.DatetimeIndex(dates)
    # the usual case, already tz-naive midnight nanoseconds, is checked in one pass (normalising 2,000
    # series one by one cost about 0.5 s); anything else (tz-aware, times of day, other units) is normalised
    if not (dates.tz is None and dates.dtype == "datetime64[ns]" and not (dates.asi8 % _DAY_NS).any()):
        dates = normalise_dates(dates)
    d = dates.asi8
    s = sessions.asi8
    pos = np.searchsorted(s, d)
    hit = (pos < len(s)) & (s[np.minimum(pos, len(s) - 1)] == d)
    return dates.values[~hit]


def _few(dates: np.ndarray, k: int = 3) -> str:
    shown = ", ".join(f"{pd.Timestamp(d):%Y-%m-%d}" for d in dates[:k])
    return shown + (", ..." if len(dates) > k else "")


def resolve_calendars(price_dates: Mapping[str, pd.DatetimeIndex], declared: Mapping[str, str] | None = None,
                      tickers: Sequence[str] = ()) -> pd.DataFrame:
    """The calendar of every series, checked against its price dates.

    ``price_dates``: ticker -> its dates with a price (tz-naive midnight). ``declared``: ticker ->
    normalised exchange (:func:`declared_exchanges`). ``tickers``: further names without prices
    (resolved from the declaration or the symbol, unchecked).

    Returns one row per ticker with :data:`CALENDAR_COLUMNS`: ``exchange`` ('XTKS', 'CME', 'dates',
    ...), ``source`` ('declared', 'guessed' or 'file dates') and ``note`` (why the file's dates were
    used, '' otherwise). Raises :class:`InstrumentError` when a declared calendar is contradicted by
    the prices (a price on a date that is not one of its sessions), naming the ticker and the first
    such dates.
    """
    declared = dict(declared or {})
    names = list(dict.fromkeys([*map(str, price_dates), *map(str, tickers)]))
    cand: dict[str, _Candidate | None] = {}
    for t in names:
        d = declared.get(t)
        if d:
            cand[t] = _Candidate(d, "declared")
        else:
            g = guess_exchange(t)
            cand[t] = _Candidate(g, "guessed") if g else None
    # check each candidate calendar against the series' own dates (sessions built once per calendar)
    sessions: dict[str, pd.DatetimeIndex] = {}
    checked: dict[tuple[str, bytes], np.ndarray] = {}
    rows: list[tuple[str, str, str, str]] = []
    contradicted: list[str] = []
    for t in names:
        c = cand[t]
        if c is None:
            rows.append((t, "dates", "file dates", "no exchange declared or readable from the name: "
                         "sessions are the series' own price dates (no session hours)"))
            continue
        if c.code == "dates":
            rows.append((t, "dates", c.source, ""))
            continue
        dates = price_dates.get(t)
        if dates is None or not len(dates):
            rows.append((t, c.code, c.source, ""))
            continue
        if c.code not in sessions:
            sessions[c.code] = normalise_dates(session_model_for(t, c.code).all_sessions())   # once per calendar
        key = (c.code, np.asarray(dates).tobytes())      # series with the same dates are checked once
        if key not in checked:
            checked[key] = _disagreeing(pd.DatetimeIndex(dates), sessions[c.code])
        off = checked[key]
        if not len(off):
            rows.append((t, c.code, c.source, ""))
        elif c.source == "declared":
            contradicted.append(f"{t}: declared {c.code}, but {len(off)} of its {len(dates)} price dates are not "
                                f"{c.code} sessions ({_few(off)})")
        else:
            rows.append((t, "dates", "file dates",
                         f"the name suggests {c.code}, but {len(off)} of its {len(dates)} price dates are not "
                         f"{c.code} sessions ({_few(off)}): sessions are the series' own price dates; declare "
                         "its exchange (instruments file) to use session hours"))
    if contradicted:
        shown = contradicted[:_MAX_LISTED]
        more = f"\n  ... and {len(contradicted) - _MAX_LISTED} more" if len(contradicted) > _MAX_LISTED else ""
        raise InstrumentError(
            f"{len(contradicted)} declared calendar(s) contradicted by the prices:\n  " + "\n  ".join(shown) + more
            + "\nCorrect the exchange in the instruments file (or the universe's exchange column), or declare "
              "'dates' to use the file's own dates.")
    return pd.DataFrame(rows, columns=list(CALENDAR_COLUMNS))
