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
from typing import Mapping

import pandas as pd

from eventstudy.inputs.exchanges import normalise_exchange
from eventstudy.errors import InstrumentError
from eventstudy.io_utils import read_csv_rows, require_columns

__all__ = [
    "INSTRUMENT_COLUMNS",
    "CALENDAR_COLUMNS",
    "load_instruments",
    "declared_exchanges",
    "declared_kinds",
    "read_instruments",
    "FUTURE_KINDS",
]

#: ``kind`` values that mark a continuous front-month futures series (its quarterly roll jumps are
#: masked, :func:`eventstudy.returns.futures.roll_mask`); Yahoo ``...=F`` symbols are taken as such unless declared
FUTURE_KINDS: frozenset[str] = frozenset({"future", "futures", "continuous_future", "continuous future"})

#: columns of an instruments table (``kind`` and ``currency`` may be empty)
INSTRUMENT_COLUMNS: tuple[str, ...] = ("ticker", "exchange", "kind", "currency")
#: columns of :func:`eventstudy.calendars.resolve.resolve_calendars`' table
CALENDAR_COLUMNS: tuple[str, ...] = ("ticker", "exchange", "source", "note")

_MAX_LISTED = 20


def load_instruments(path: str | os.PathLike) -> pd.DataFrame:
    """Read an instruments CSV: ``ticker, exchange`` required, ``kind, currency`` optional, any other
    column kept. Blank lines and lines starting with ``#`` are skipped.

    A ticker may be any text (spaces, slashes, digits only, lower case). ``exchange`` is normalised
    (:func:`eventstudy.inputs.exchanges.normalise_exchange`: ``XTKS``, ``CME``, ``dates``, ...). Raises
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
