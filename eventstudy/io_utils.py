"""Atomic file writes: a reader never sees a half-written file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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
    from .errors import EventStudyError

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
    from .errors import EventStudyError

    out = check_out_dir(path, what, contents)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EventStudyError(f"cannot create the {what} {out} ({exc.strerror or exc}); "
                              f"choose a writable folder") from None
    return out


def read_csv_rows(path: str | os.PathLike, label: str, error: type[Exception],
                  what: str = "one row per entry") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A user's CSV as ``(header, [(line_number, cells), ...])``: header names stripped and lower case;
    blank lines and lines starting with ``#`` skipped; line numbers as an editor shows them (header =
    its line). Raises ``error`` naming ``label``, the file and the line for bad CSV, and for an empty
    file (``what`` says what the rows should be)."""
    import csv
    import io as _io

    text = read_user_text(path, label, error)
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            first_line = start
            start = reader.line_num + 1
            if not cells or all(c.strip() == "" for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                continue
            rows.append((first_line, cells))
    except csv.Error as exc:
        raise error(f"{label} {path}, line {reader.line_num}: not valid CSV ({exc}). Check the quotes on that line.") from None
    if header is None:
        raise error(f"{label} {path} is empty: it needs a header line and {what}.")
    return header, rows
