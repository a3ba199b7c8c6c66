"""File helpers at the edges: atomic writes (a reader never sees a half-written file), output-folder
checks, and the one reader of users' CSV files (:data:`CSV_RULE`, :func:`csv_records`,
:func:`read_csv_rows`, :func:`problems_message`; :func:`names_its_file` / :func:`about_file` put the
file's path on the :class:`~eventstudy.errors.InputError` a loader raises)."""
from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import pandas as pd

_UMASK_LOCK = threading.Lock()
T = TypeVar("T")


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
    return atomic_write_with(path, lambda fh: fh.write(data))


class _Digesting:
    """A binary file whose bytes are hashed (SHA-256) as they are written; anything else goes to the file."""

    def __init__(self, fh):
        self.fh, self.sha = fh, hashlib.sha256()

    def write(self, data) -> int:
        self.sha.update(data)
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)


#: SHA-256 of the files :func:`atomic_write_with` wrote in this process: absolute path -> (stat signature, hex),
#: the newest :data:`MAX_REMEMBERED_DIGESTS` only (a long notebook session writes many run folders; a file no
#: longer remembered is simply hashed again when asked)
_WRITTEN: dict[str, tuple[tuple[int, ...], str]] = {}
MAX_REMEMBERED_DIGESTS = 4096
_WRITTEN_LOCK = threading.Lock()


def written_sha256(path: str | os.PathLike) -> str | None:
    """Hex SHA-256 of ``path`` as :func:`atomic_write_with` computed it while writing the file in this process
    (the bytes went by once: no second read for a manifest), or None when it did not write it or the file
    has changed since (another file in its place, or a different size, modification or change time)."""
    key = os.path.abspath(path)
    with _WRITTEN_LOCK:
        known = _WRITTEN.get(key)
    if known is None:
        return None
    try:
        st = os.stat(key)
    except OSError:
        return None
    return known[1] if _signature(st) == known[0] else None


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def atomic_write_with(path: str | os.PathLike, write) -> Path:
    """``write(fh)`` into a temporary file beside ``path`` (binary, the user's normal permissions), flushed
    to disk, then renamed to ``path``: a reader sees the old file or the whole new one, never a part
    (large tables are streamed this way instead of held in memory as one ``bytes``). The bytes are hashed
    on their way (:func:`written_sha256`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):          # mkstemp makes 0600 files: give the user's normal permissions
            os.fchmod(fd, default_file_mode())
        with os.fdopen(fd, "wb") as fh:
            digesting = _Digesting(fh)
            write(digesting)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    st = os.stat(path)
    key = os.path.abspath(path)
    with _WRITTEN_LOCK:
        _WRITTEN.pop(key, None)                   # re-inserted last: the newest entries are kept
        _WRITTEN[key] = (_signature(st), digesting.sha.hexdigest())
        while len(_WRITTEN) > MAX_REMEMBERED_DIGESTS:
            del _WRITTEN[next(iter(_WRITTEN))]
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
    if any(a != b for a, b in zip(names, df.columns)):      # by value: iterating an Index makes new str objects
        out = out.copy()
        out.columns = names
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype) or col.empty:
            continue
        distinct = pd.Series(col.unique())             # a few names repeated over many rows: check each once
        if not distinct.astype("string").str[:1].isin(FORMULA_PREFIXES).fillna(False).any():
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


def _at_line(err: Exception, line: int) -> Exception:
    """``err`` with its ``line`` field set when it is an :class:`~eventstudy.errors.InputError`."""
    from eventstudy.errors import InputError

    if isinstance(err, InputError):
        err.line = line
    return err


@contextmanager
def about_file(path: str | os.PathLike) -> Iterator[None]:
    """Fill in the ``path`` field of an :class:`~eventstudy.errors.InputError` raised inside the block
    that does not name its file yet, so code catching it can tell which file to fix::

        with about_file(path):
            ...read and check the file...
    """
    from eventstudy.errors import InputError

    try:
        yield
    except InputError as exc:
        if getattr(exc, "path", None) is None:
            exc.path = str(path)
        raise


def names_its_file(loader: Callable[..., T]) -> Callable[..., T]:
    """Decorator for a loader whose first argument is a user's file: an
    :class:`~eventstudy.errors.InputError` it raises gets that ``path`` when it names none
    (a first argument of None, e.g. "the bundled file", is left alone)."""
    @functools.wraps(loader)
    def wrapper(*args, **kwargs):
        path = args[0] if args else kwargs.get("path")
        if path is None:
            return loader(*args, **kwargs)
        with about_file(path):
            return loader(*args, **kwargs)
    return wrapper


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
        raise _at_line(error(f"{label} {str(p)!r}, line {line}: the file is not UTF-8 text (byte {exc.start}): "
                             "save it as 'CSV UTF-8'."), line) from None


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


#: The reading rule for every CSV file a user gives (events, firm events, universe, confounders,
#: excluded names, instruments, hypotheses, price-limit days): UTF-8 (a BOM is allowed); a line that
#: is blank (or only commas) or whose first cell starts with ``#`` is skipped; a quoted cell may span
#: lines; line numbers are as an editor shows them (header = its line).
CSV_RULE = ("UTF-8 (BOM allowed); blank lines and lines whose first cell starts with '#' skipped; "
            "line numbers as an editor shows them")


def csv_records(text: str, where: str, error: type[Exception], *,
                strict: bool = True) -> list[tuple[int, int, list[str]]]:
    """The records of a user's CSV ``text`` under :data:`CSV_RULE`: ``(first_line, last_line, cells)``,
    header included, cells not stripped. ``where`` names the file in messages ("events file 'x.csv'").
    Raises ``error`` naming the line for text that is not valid CSV or a field over the csv module's
    size limit (usually a quote left open). ``strict=False`` lets a quote left open run to the end of
    the file, for readers that explain it themselves from the record's line span (the events reader)."""
    import csv
    import io as _io

    reader = csv.reader(_io.StringIO(text, newline=""), strict=strict)
    out: list[tuple[int, int, list[str]]] = []
    prev_end = 0
    try:
        for cells in reader:
            first, prev_end = prev_end + 1, reader.line_num
            if not cells or all(c.strip() == "" for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            out.append((first, prev_end, cells))
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise _at_line(error(f"{where}, line {prev_end + 1}: a field is longer than {csv.field_size_limit():,} "
                                 "characters: shorten it, or close a quote that was left open and swallowed the "
                                 "lines after it."), prev_end + 1) from None
        raise _at_line(error(f"{where}, line {reader.line_num}: not valid CSV ({exc}): check the quoting on that "
                             "line."), reader.line_num) from None
    return out


def read_csv_rows(path: str | os.PathLike, label: str, error: type[Exception],
                  what: str = "one row per entry") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A user's CSV as ``(header, [(line_number, cells), ...])`` under :data:`CSV_RULE`, header names
    stripped and lower case. Raises ``error`` naming ``label``, the file and the line for a file that
    cannot be read, bad CSV, and an empty file (``what`` says what the rows should be)."""
    with about_file(path):
        text = read_user_text(path, label, error)
        records = csv_records(text, f"{label} {path}", error)
        if not records:
            raise error(f"{label} {path} is empty: it needs a header line and {what}.")
    header = [c.strip().lower() for c in records[0][2]]
    return header, [(first, cells) for first, _, cells in records[1:]]


def problems_message(where: str, problems: Sequence[str], limit: int = 20) -> str:
    """One message for every problem found in a file: ``"<where> has 3 problems:\n  line 4: ..."`` (at
    most ``limit`` listed, then how many more)."""
    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{where} has {len(problems)} problem{'s' if len(problems) != 1 else ''}:\n  " + shown + more


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
