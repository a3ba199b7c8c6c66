"""Instruments: on which trading calendar every series of a study trades, declared or guessed,
and always checked against the series' own price dates.

A study touches securities, their benchmarks and any factors. Each gets one calendar:

* **declared** - an instruments file (``ticker, exchange[, kind, currency]``; CLI ``--instruments``,
  library ``instruments=``) or the universe's ``exchange`` column: an exchange_calendars code
  (``XTKS``, ``XNYS``, ...), ``CME`` for CME Globex futures, or ``dates`` for "the dates in my file".
  A declared exchange on which the file's prices do not trade is an error naming the ticker and the
  first dates that disagree.
* **guessed** - undeclared series whose name reads as a Yahoo symbol (``7203.T``, ``^GSPC``,
  ``NKD=F``) or a Bloomberg name (``7203 JP Equity``) get that exchange, but only when every price
  date of the series is a session of it. A guess never overrides the data: when the dates disagree,
  the series keeps its own dates, and the day-0 audit says so.
* **file dates** - anything else: the series' sessions are its own price dates (no session hours,
  so announcement times cannot be placed within a day and regressors are matched by date).

No price is ever dropped because of a guess.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.calendars.sessions import guess_exchange, normalise_exchange, session_model_for
from eventstudy.inputs.dates import normalise_dates
from eventstudy.errors import InstrumentError
from eventstudy.io_utils import read_csv_rows, require_columns

__all__ = [
    "INSTRUMENT_COLUMNS",
    "CALENDAR_COLUMNS",
    "load_instruments",
    "declared_exchanges",
    "declared_kinds",
    "read_instruments",
    "resolve_calendars",
    "FUTURE_KINDS",
]

#: ``kind`` values that mark a continuous front-month futures series (its quarterly roll jumps are
#: masked, :func:`eventstudy.returns.futures.roll_mask`); Yahoo ``...=F`` symbols are taken as such unless declared
FUTURE_KINDS: frozenset[str] = frozenset({"future", "futures", "continuous_future", "continuous future"})

#: columns of an instruments table (``kind`` and ``currency`` may be empty)
INSTRUMENT_COLUMNS: tuple[str, ...] = ("ticker", "exchange", "kind", "currency")
#: columns of :func:`resolve_calendars`' table
CALENDAR_COLUMNS: tuple[str, ...] = ("ticker", "exchange", "source", "note")

_MAX_LISTED = 20


def load_instruments(path: str | os.PathLike) -> pd.DataFrame:
    """Read an instruments CSV: ``ticker, exchange`` required, ``kind, currency`` optional, any other
    column kept. Blank lines and lines starting with ``#`` are skipped.

    A ticker may be any text (spaces, slashes, digits only, lower case). ``exchange`` is normalised
    (:func:`eventstudy.calendars.sessions.normalise_exchange`: ``XTKS``, ``CME``, ``dates``, ...). Raises
    :class:`InstrumentError` naming the file and line for a missing column, an empty ticker, a ticker
    listed twice, or an unknown exchange; all problems are reported at once.
    """
    label = f"Instruments file {os.fspath(path)}"
    header, rows = read_csv_rows(path, "Instruments file", InstrumentError,
                                 what="one row per instrument (ticker,exchange[,kind,currency])")
    require_columns(header, ("ticker", "exchange"), InstrumentError, f"{label}, line 1",
                    needs="An instruments file needs ticker, exchange (optional: kind, currency).")
    problems: list[str] = []
    records: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            problems.append(f"line {line}: {len(cells)} cells but the header has {len(header)}"
                            + (" (a comma inside a text field needs double quotes)." if len(cells) > len(header) else "."))
            continue
        rec = {h: c.strip() for h, c in zip(header, cells)}
        t = rec["ticker"]
        if not t:
            problems.append(f"line {line}: empty ticker. Fill it in or delete the row.")
            continue
        if t in seen:
            problems.append(f"lines {seen[t]} and {line}: ticker {t!r} is declared twice. Keep one row.")
            continue
        seen[t] = line
        try:
            rec["exchange"] = normalise_exchange(rec["exchange"], t, InstrumentError) or ""
        except InstrumentError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if not rec["exchange"]:
            problems.append(f"line {line}: ticker {t!r} has no exchange. Give an exchange_calendars code (XTKS, "
                            "XNYS, ...), CME, or dates (the dates in the price file).")
            continue
        records.append(rec)
    if problems:
        shown = problems[:_MAX_LISTED]
        more = f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
        raise InstrumentError(f"{label} has {len(problems)} problem{'s' if len(problems) != 1 else ''}:\n  "
                              + "\n  ".join(shown) + more)
    cols = list(INSTRUMENT_COLUMNS) + [h for h in header if h not in INSTRUMENT_COLUMNS]
    return pd.DataFrame({c: pd.Series([r.get(c, "") for r in records], dtype=object) for c in cols})


def read_instruments(instruments: object) -> object:
    """An instruments argument with a file path read once (:func:`load_instruments`); frames and mappings as given."""
    if isinstance(instruments, (str, os.PathLike)):
        return load_instruments(instruments)
    return instruments


def _as_mapping(instruments: object, what: str) -> dict[str, str | None]:
    """ticker -> normalised exchange (None = not declared) from a path, a frame or a mapping."""
    if instruments is None:
        return {}
    if isinstance(instruments, (str, os.PathLike)):
        instruments = load_instruments(instruments)
    if isinstance(instruments, pd.DataFrame):
        if "ticker" not in instruments.columns or "exchange" not in instruments.columns:
            raise InstrumentError(f"{what} needs columns ticker and exchange; found {', '.join(map(str, instruments.columns))}.")
        pairs = zip(instruments["ticker"], instruments["exchange"])
    elif isinstance(instruments, Mapping):
        pairs = instruments.items()
    else:
        raise InstrumentError(f"{what} must be a file path, a DataFrame (ticker, exchange) or a mapping "
                              f"ticker -> exchange, not {type(instruments).__name__}.")
    out: dict[str, str | None] = {}
    for t, e in pairs:
        t = str(t)
        out[t] = normalise_exchange(e, t, InstrumentError)
    return out


def declared_exchanges(universe: pd.DataFrame | None = None, instruments: object = None) -> dict[str, str]:
    """ticker -> declared exchange ('XTKS', 'CME', 'dates', ...) from the universe's ``exchange`` column
    and an instruments table (path, frame or mapping); only declared tickers are returned.

    The two must agree where both declare a ticker: a contradiction raises :class:`InstrumentError`
    naming the ticker and both values.
    """
    out: dict[str, str] = {}
    if universe is not None and "exchange" in universe.columns:
        for t, e in _as_mapping(universe[["ticker", "exchange"]], "the universe").items():
            if e:
                out[t] = e
    for t, e in _as_mapping(instruments, "instruments").items():
        if not e:
            continue
        if t in out and out[t] != e:
            raise InstrumentError(f"ticker {t!r}: the universe declares exchange {out[t]} but the instruments "
                                  f"declare {e}: keep one declaration.")
        out[t] = e
    return out


def declared_kinds(instruments: object = None) -> dict[str, str]:
    """ticker -> declared ``kind`` (lower case; e.g. 'equity', 'index', 'future', 'fx') of an instruments
    table (path or frame with a ``kind`` column); tickers with an empty kind are left out."""
    if instruments is None or isinstance(instruments, Mapping):
        return {}
    if isinstance(instruments, (str, os.PathLike)):
        instruments = load_instruments(instruments)
    if not isinstance(instruments, pd.DataFrame) or "kind" not in instruments.columns:
        return {}
    return {str(t): str(k).strip().lower() for t, k in zip(instruments["ticker"], instruments["kind"])
            if isinstance(k, str) and k.strip()}


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
        off = _disagreeing(pd.DatetimeIndex(dates), sessions[c.code])
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
