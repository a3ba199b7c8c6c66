"""File helpers at the edges: atomic writes (a reader never sees a half-written file), output
folder checks, and the one reader of users' CSV files.

Every CSV file a user gives (events, firm events, universe, confounders, excluded names,
instruments, price limits) is read by :func:`read_csv_rows` / :func:`csv_records` under one rule,
:data:`CSV_RULE`, and its problems are reported by :func:`format_problems`. (Price files have their
own fast columnar reader in :mod:`eventstudy.data.files`.)
"""
from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple, Sequence

import pandas as pd

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-creation mask (read without changing it for longer than one call)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def default_file_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give a new file: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


def default_dir_mode() -> int:
    """Permissions ``os.mkdir`` would give a new folder: ``0o777`` less the umask."""
    return 0o777 & ~current_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):          # mkstemp makes 0600 files: give the user's normal permissions
            os.fchmod(fd, default_file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Text version of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode(encoding))


#: first characters that make a spreadsheet evaluate a cell as a formula (OWASP "CSV injection")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


def spreadsheet_safe_text(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would evaluate as a formula
    (starts with ``= + - @``, a tab or a carriage return; the OWASP rule), else unchanged.
    Text that is a plain number (``-0.5``, ``+3e-4``) or a lone sign (``+``, ``-``) is left alone:
    a spreadsheet reads it as that number or that character, which is harmless."""
    if isinstance(value, str) and value[:1] in FORMULA_PREFIXES and value not in ("+", "-") \
            and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell (and column name) passed through :func:`spreadsheet_safe_text`.

    Numeric columns are never touched (a negative number stays a number); the frame is copied
    only when a cell changes. Used for every CSV a run writes unless raw output is asked for.
    """
    out = df
    names = [spreadsheet_safe_text(c) for c in df.columns]
    if any(a is not b for a, b in zip(names, df.columns)):
        out = out.copy()
        out.columns = names
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype) or col.empty:
            continue
        first = col.astype("string").str[:1]
        hit = first.isin(FORMULA_PREFIXES).fillna(False).to_numpy(dtype=bool)
        if not hit.any():
            continue
        if out is df:
            out = df.copy()
        vals = col.to_numpy(dtype=object).copy()
        for i in hit.nonzero()[0]:
            vals[i] = spreadsheet_safe_text(vals[i])
        out.isetitem(j, vals)
    return out


def read_user_text(path: str | os.PathLike, label: str, error: type[Exception], hint: str = "") -> str:
    """Read a user's CSV/text file as UTF-8 (a BOM is allowed) and return its text.

    Problems raise ``error`` naming the file (``label`` says what it is, e.g. "events file"):
    missing (with ``hint`` on what it should contain), a folder, unreadable, or not UTF-8
    (with the line of the first bad byte).
    """
    p = Path(path)
    if not p.exists():
        raise error(f"{label} {str(p)!r} does not exist (relative paths are resolved from {os.getcwd()!r}): "
                    f"check the path{hint}.")
    if p.is_dir():
        raise error(f"{label} {str(p)!r} is a folder, not a file: give the path of the CSV file.")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise error(f"{label} {str(p)!r} cannot be read ({exc.strerror or exc}): check its permissions.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{label} {str(p)!r}, line {line}: the file is not UTF-8 text (byte {exc.start}): "
                    "save it as 'CSV UTF-8'.") from None


def require_columns(found: Sequence[str], required: Sequence[str], error: type[Exception], where: str,
                    needs: str = "") -> None:
    """Raise ``error`` when a table lacks columns of ``required``.

    The message names ``where`` (file and line), the missing columns, the columns found and,
    when given, what the table ``needs``; for example ``"x.csv, line 1: missing required
    column(s) time, timezone; columns found: event_id, date. The header must contain ..."``.
    """
    missing = [c for c in required if c not in found]
    if not missing:
        return
    shown = ", ".join(str(c) for c in found if str(c)) or "(none)"
    raise error(f"{where}: missing required column(s) {', '.join(missing)}; columns found: {shown}."
                + (f" {needs}" if needs else ""))


def check_out_dir(path: str | os.PathLike, what: str = "output folder", contents: str = "the results") -> Path:
    """Fail early, with a clear message, when ``path`` cannot become a folder to write into: it is a
    file, a file sits where one of its parents should be, or the nearest existing parent is not
    writable. Creates nothing (a run that fails later leaves no empty folder behind)."""
    from eventstudy.errors import EventStudyError

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise EventStudyError(f"{what} {out} is a file; give a folder to write {contents} into")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise EventStudyError(f"cannot create the {what} {out}: {parent} is a file; choose another folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EventStudyError(f"cannot create the {what} {out}: {parent} is not writable; choose a writable folder")
    return out


def ensure_out_dir(path: str | os.PathLike, what: str = "output folder", contents: str = "the results") -> Path:
    """:func:`check_out_dir`, then create the folder (and its parents); errors name the folder."""
    from eventstudy.errors import EventStudyError

    out = check_out_dir(path, what, contents)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EventStudyError(f"cannot create the {what} {out} ({exc.strerror or exc}); "
                              f"choose a writable folder") from None
    return out


#: how every user CSV file is read (README, "Input files")
CSV_RULE = ("UTF-8 text (a byte-order mark is allowed); the first line that is not skipped is the header; "
            "blank lines (no cells, or only empty cells) and lines whose first cell starts with '#' are "
            "skipped; line numbers in messages are the lines an editor shows (every line counts)")

#: at most this many problems are listed in one message (then "... and N more")
MAX_LISTED_PROBLEMS = 20


def is_skipped_record(cells: Sequence[str]) -> bool:
    """True for a CSV record :data:`CSV_RULE` skips: blank (no cells or only empty cells) or a comment
    (first cell starts with ``#`` after leading spaces)."""
    return not cells or all(c.strip() == "" for c in cells) or cells[0].lstrip().startswith("#")


def csv_records(text: str, where: str, error: type[Exception], *,
                strict: bool = True) -> list[tuple[int, int, list[str]]]:
    """``(first_line, last_line, cells)`` of every record of CSV ``text`` that :data:`CSV_RULE` keeps
    (a quoted field may span lines, hence two line numbers; cells as written, not stripped).

    Bad CSV raises ``error`` as ``"<where>, line N: ..."``: a field longer than the csv module's limit
    (usually a quote left open), or, with ``strict``, a stray quote. ``strict=False`` reads stray
    quotes leniently so the caller can report them with its own checks (the events reader does).
    """
    import csv
    import io as _io

    reader = csv.reader(_io.StringIO(text, newline=""), strict=strict)
    out: list[tuple[int, int, list[str]]] = []
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if not is_skipped_record(cells):
                out.append((start, end, cells))
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise error(f"{where}, line {end + 1}: a field is longer than {csv.field_size_limit():,} characters: "
                        "shorten it (a label or note is a sentence or two), or close a quote that was left open "
                        "and swallowed the lines after it.") from None
        raise error(f"{where}, line {reader.line_num}: not valid CSV ({exc}): check the quoting on that line.") from None
    return out


class CsvTable(NamedTuple):
    """A user's CSV read under :data:`CSV_RULE`: ``header`` names stripped and lower case, the header's
    line, and ``rows`` as ``(line_number, cells)`` (cells as written)."""

    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]


def read_csv_table(path: str | os.PathLike, label: str, error: type[Exception],
                   what: str = "one row per entry") -> CsvTable:
    """Read a user's CSV file under :data:`CSV_RULE`. Raises ``error`` naming ``label``, the file and
    the line for an unreadable file or bad CSV, and for an empty file (``what`` says what the rows
    should be)."""
    text = read_user_text(path, label, error)
    records = csv_records(text, f"{label} {path}", error)
    if not records:
        raise error(f"{label} {path} is empty: it needs a header line and {what}.")
    header = [c.strip().lower() for c in records[0][2]]
    return CsvTable(header, records[0][0], [(line, cells) for line, _, cells in records[1:]])


def read_csv_rows(path: str | os.PathLike, label: str, error: type[Exception],
                  what: str = "one row per entry") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """:func:`read_csv_table` as ``(header, [(line_number, cells), ...])``."""
    table = read_csv_table(path, label, error, what)
    return table.header, table.rows


def format_problems(where: str, problems: Sequence[str], *, inline_single: bool = False,
                    max_listed: int = MAX_LISTED_PROBLEMS) -> str:
    """One message for all problems found in a file: ``"<where> has N problems:"`` and one indented
    line per problem (the first ``max_listed``, then ``"... and K more"``). ``inline_single``: a lone
    problem reads ``"<where>, <problem>"`` (for problems that start with their line number)."""
    n = len(problems)
    if n == 1 and inline_single:
        return f"{where}, {problems[0]}"
    shown = list(problems[:max_listed])
    more = f"\n  ... and {n - len(shown)} more" if n > len(shown) else ""
    return f"{where} has {n} problem{'s' if n != 1 else ''}:\n  " + "\n  ".join(shown) + more


def check_out_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Fail early, with a clear message, when ``path`` cannot become a file to write: empty, an
    existing folder, or a folder that cannot be created or written. Creates nothing."""
    from eventstudy.errors import EventStudyError

    if not str(path).strip():
        raise EventStudyError(f"{what} is empty (''): give the path of the file to write, e.g. day0.csv")
    p = Path(path)
    if p.is_dir():
        raise EventStudyError(f"{what} {p} is a folder; give a file name, e.g. {p / 'day0.csv'}")
    check_out_dir(p.parent, f"folder of the {what}", "the file")
    return p
