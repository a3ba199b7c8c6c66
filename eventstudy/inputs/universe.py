"""A security universe: loader and validation.

A universe file is a CSV (UTF-8, header on line 1) with one row per security::

    ticker,name,group,benchmark,exchange,rationale
    7203.T,Toyota Motor,rare_earth_magnets,1306.T,XTKS,Largest hybrid/EV volume ...

Required columns: ``ticker, group, benchmark``; optional ``name, exchange, rationale`` (empty
when absent); any other column is kept. ``benchmark`` is the ticker of the market index the
security's normal return is measured against; it may be empty only for non-equities (indices
``^...``, futures ``...=F``, FX ``...=X``). Blank lines and lines starting with ``#`` are skipped.

Every problem is reported as :class:`~eventstudy.errors.UniverseFileError` naming the file and
the line as the user sees it (header = line 1); all problems found are reported at once.

"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from eventstudy.inputs.exchanges import normalise_exchange
from eventstudy.errors import UniverseFileError
from eventstudy.io_utils import names_its_file, problems_message, read_csv_rows, require_columns
from eventstudy.inputs.study import bundled_study

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "load_universe",
    "extend_universe",
    "load_confounders",
    "load_excluded",
    "is_equity",
]


class _Lines(tuple):
    """A universe's line numbers in ``attrs["line"]``: immutable, and returned as is by ``deepcopy``, which
    pandas applies to a frame's attrs on every operation (a list of thousands of ints was copied each time)."""

    __slots__ = ()

    def __deepcopy__(self, memo) -> "_Lines":
        return self


REQUIRED_COLUMNS: tuple[str, ...] = ("ticker", "group", "benchmark")
OPTIONAL_COLUMNS: tuple[str, ...] = ("name", "exchange", "rationale")
OUTPUT_COLUMNS: tuple[str, ...] = ("ticker", "name", "group", "benchmark", "exchange", "rationale")

_MAX_LISTED = 20


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def is_equity(ticker: str) -> bool:
    """True unless the ticker is an index (``^...``), a future (``...=F``) or an FX rate (``...=X``)."""
    t = ticker.strip().upper()
    return not (t.startswith("^") or t.endswith("=F") or t.endswith("=X"))


def _read_rows(path: Path, label: str, error: type[Exception]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Read a CSV into (header, [(line_number, cells), ...]); skip blank and ``#`` lines."""
    return read_csv_rows(path, label, error, what="one row per security")


def _raise_all(path: Path, label: str, problems: list[str], error: type[Exception]) -> None:
    if not problems:
        return
    raise error(problems_message(f"{label} {path}", problems, _MAX_LISTED), path=str(path))


# ---------------------------------------------------------------------------------------------
# universe
# ---------------------------------------------------------------------------------------------
@names_its_file
def load_universe(
    path: str | os.PathLike | None = None,
    *,
    allowed_groups: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read and validate a universe CSV; ``path=None`` loads the bundled study's universe.

    Returns one row per security (index 0..n-1, file order) with columns
    ``ticker, name, group, benchmark, exchange, rationale`` (str, '' when empty) followed by any
    extra columns of the file. ``allowed_groups`` restricts the group ids (default: any id for a
    user file, the bundled study's group order for its file).

    Raises :class:`UniverseFileError` naming the file and line for: a missing file, bad CSV,
    missing required columns, a duplicated column, rows with the wrong number of cells, empty
    tickers, duplicate tickers (both lines named), empty or unknown groups, an equity without a
    benchmark, a security that is its own benchmark, and an unknown exchange. A ticker may be any
    text a price file can hold (``7203.T``, ``7203 JP Equity``, ``TOPIX``).
    """
    packaged = path is None
    p = bundled_study().universe if packaged else Path(path)
    label = "Universe file"
    if allowed_groups is None and packaged:
        allowed_groups = bundled_study().labels.order
    allowed = None if allowed_groups is None else tuple(allowed_groups)

    header, rows = _read_rows(p, label, UniverseFileError)
    dup_cols = sorted({c for c in header if header.count(c) > 1 and c})
    if dup_cols:
        raise UniverseFileError(f"{label} {p}, line 1: column(s) {', '.join(dup_cols)} appear more than once. Keep one.")
    require_columns(header, REQUIRED_COLUMNS, UniverseFileError, f"{label} {p}, line 1",
                    needs=f"A universe needs {', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)}).")
    if any(h == "" for h in header):
        raise UniverseFileError(f"{label} {p}, line 1: a column has an empty name. Name every column or remove it.")

    problems: list[str] = []
    records: list[dict[str, str]] = []
    lines: list[int] = []
    for line, cells in rows:
        if len(cells) != len(header):
            hint = " (a comma inside a text field needs double quotes)" if len(cells) > len(header) else ""
            problems.append(f"line {line}: {len(cells)} cells but the header has {len(header)}{hint}.")
            continue
        records.append({h: c.strip() for h, c in zip(header, cells)})
        lines.append(line)

    first_seen: dict[str, int] = {}
    for rec, line in zip(records, lines):
        t = rec["ticker"]
        if t == "":
            problems.append(f"line {line}: empty ticker. Fill it in or delete the row.")
            continue
        if t in first_seen:
            problems.append(
                f"lines {first_seen[t]} and {line}: ticker {t} appears twice. Keep it in one group only."
            )
        else:
            first_seen[t] = line
        g = rec["group"]
        if g == "":
            problems.append(f"line {line}: ticker {t} has an empty group. Give it a group id.")
        elif allowed is not None and g not in allowed:
            problems.append(f"line {line}: ticker {t} has unknown group {g!r}. Use one of: {', '.join(allowed)}.")
        b = rec["benchmark"]
        if b == "" and is_equity(t):
            problems.append(
                f"line {line}: equity {t} has no benchmark. Give the market index ticker (e.g. 1306.T for Tokyo stocks)."
            )
        elif b != "" and b == t:
            problems.append(f"line {line}: {t} is its own benchmark. Choose a market index.")
        ex = rec.get("exchange", "")
        if ex:
            try:
                normalise_exchange(ex, t)
            except UniverseFileError as exc:
                problems.append(f"line {line}: {exc}")
    _raise_all(p, label, problems, UniverseFileError)
    if not records:
        raise UniverseFileError(f"{label} {p} has a header but no securities. Add one row per security.")

    extra = [h for h in header if h not in OUTPUT_COLUMNS]
    cols = list(OUTPUT_COLUMNS) + extra
    data = {c: [rec.get(c, "") for rec in records] for c in cols}
    out = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    out.attrs["path"] = str(p)
    out.attrs["line"] = _Lines(lines)
    return out


def extend_universe(universe: pd.DataFrame, paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """``universe`` with the securities of the universe files ``paths`` added after its own rows (the study's
    universe plus instruments only some data carries, e.g. a venue's futures).

    Each file is read and checked as :func:`load_universe` reads a user's file (any group id); a ticker that
    is already in ``universe`` or in an earlier file is a :class:`UniverseFileError` naming the file, its
    line and where the ticker was first. Columns are the union (missing cells ``''``)."""
    frames = [universe]
    base_path, base_lines = universe.attrs.get("path", "the universe"), universe.attrs.get("line")
    where = {t: f"{base_path}, line {line}" if base_lines else str(base_path)
             for t, line in zip(universe["ticker"], base_lines or [None] * len(universe))}
    for path in paths:
        add = load_universe(path)
        clash = [f"line {line}: ticker {t} is already in the universe ({where[t]})"
                 for t, line in zip(add["ticker"], add.attrs["line"]) if t in where]
        if clash:
            raise UniverseFileError(f"Universe file {path}: {'; '.join(clash)}. An added file brings new "
                                    "securities only: remove these rows, or edit the universe itself.")
        where.update({t: f"{path}, line {line}" for t, line in zip(add["ticker"], add.attrs["line"])})
        frames.append(add)
    if len(frames) == 1:
        return universe
    cols = list(dict.fromkeys(c for f in frames for c in f.columns))
    out = pd.concat([f.reindex(columns=cols, fill_value="") for f in frames], ignore_index=True)
    out = out.astype({c: object for c in cols})
    out.attrs["path"] = ", ".join(str(f.attrs.get("path", "")) for f in frames)
    return out


# ---------------------------------------------------------------------------------------------
# confounders and excluded names (small companions of the universe)
# ---------------------------------------------------------------------------------------------
@names_its_file
def _load_simple(path: Path, label: str, required: Sequence[str], date_col: str | None) -> pd.DataFrame:
    header, rows = _read_rows(path, label, UniverseFileError)
    require_columns(header, required, UniverseFileError, f"{label} {path}, line 1")
    problems: list[str] = []
    recs = []
    for line, cells in rows:
        if len(cells) != len(header):
            problems.append(f"line {line}: {len(cells)} cells but the header has {len(header)}.")
            continue
        rec = {h: c.strip() for h, c in zip(header, cells)}
        if date_col is not None:
            try:
                rec[date_col] = pd.Timestamp(pd.to_datetime(rec[date_col], format="%Y-%m-%d"))
            except (ValueError, TypeError):
                problems.append(f"line {line}: date {rec[date_col]!r} is not YYYY-MM-DD.")
                continue
        recs.append(rec)
    _raise_all(path, label, problems, UniverseFileError)
    cols = list(required) + [h for h in header if h not in required]
    out = pd.DataFrame({c: [r.get(c, "") for r in recs] for c in cols})
    if date_col is not None:
        out[date_col] = pd.to_datetime(out[date_col]).astype("datetime64[ns]")
    return out


def load_confounders(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Known confounders: ``date`` (Timestamp, exchange-local), ``market`` (e.g. XTKS, global),
    ``description``, ``source``. ``path=None`` loads the bundled study's list."""
    p = bundled_study().confounders if path is None else Path(path)
    return _load_simple(p, "Confounders file", ("date", "market", "description", "source"), "date")


def load_excluded(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Names the research note suggests but the universe leaves out: ``ticker, name, note_group, reason``."""
    p = bundled_study().excluded if path is None else Path(path)
    return _load_simple(p, "Excluded-names file", ("ticker", "name", "note_group", "reason"), None)
