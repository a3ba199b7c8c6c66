"""A run's output folder as one unit: locked, staged beside ``--out``, manifest last, swapped in.

:class:`RunFolder` is how ``eventstudy run`` writes its files:

1. a lock file beside the folder (``.<name>.eventstudy-lock``, held with ``flock``, so a killed
   run never leaves it locked) stops a second run writing the same folder at the same time;
2. every file goes into a staging folder beside it (``.<name>.eventstudy-incomplete-XXXX``):
   a crash, a full disk or ``kill -9`` leaves the earlier set untouched and at most that
   hidden, clearly named folder (removed by the next run into the same folder);
3. ``manifest.json`` (every file with its size and SHA-256, the options, package versions,
   data source, start and end time) is written last, then the staging folder replaces the
   whole ``--out`` folder by ``rename``: files of an earlier run that this run did not write
   do not survive next to the new ones.

A folder holding anything an eventstudy run did not write (a user's own files, a folder named
like an output) is refused, never replaced. :func:`verify_run_folder` checks a folder against
its manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from eventstudy.errors import EventStudyError
from eventstudy.io_utils import atomic_write_text, check_out_dir, default_dir_mode, default_file_mode, written_sha256

try:  # POSIX advisory locks are released by the kernel when the process dies (kill -9 included)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["MANIFEST", "RunFolder", "verify_run_folder", "package_versions", "write_run"]

MANIFEST = "manifest.json"
STAGING_TAG = ".eventstudy-incomplete-"
OLD_TAG = ".eventstudy-replaced-"
LOCK_TAG = ".eventstudy-lock"
#: names an eventstudy run writes (any of these suffixes), so an earlier run's folder without a
#: manifest (written by an older version) is recognised as one
OUTPUT_STEMS = ("abnormal_returns", "car", "tests", "regressions", "day0", "exclusions", "params", "report",
                "tables", "impact_table", "futures_table", "cross_section_table", "overlaps", "limit_flags",
                "primary_hypotheses", "manifest")
OUTPUT_SUFFIXES = (".csv", ".parquet", ".md", ".html", ".tex", ".json")
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (as computed while this process wrote it, when it did and the file is
    unchanged: :func:`eventstudy.io_utils.written_sha256`)."""
    known = written_sha256(path)
    if known is not None:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python, eventstudy and the libraries that shape its numbers (not imported here)."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("eventstudy", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pyarrow", "yfinance",
                 "exchange-calendars"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _listing(root: Path) -> list[Path]:
    """Every file under ``root`` (relative paths, sorted)."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:       # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:       # pragma: no cover
        pass
    finally:
        os.close(fd)


def verify_run_folder(path: str | os.PathLike) -> list[str]:
    """Problems of a run folder against its manifest (empty list: the set is complete and intact).

    Names a missing or unreadable manifest, files listed but missing or changed (size or SHA-256)
    and files present but not listed."""
    root = Path(path)
    try:
        man = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        listed = {f["path"]: f for f in man["files"]}
    except FileNotFoundError:
        return [f"{root / MANIFEST} is missing: the set is incomplete or was not written by eventstudy"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{root / MANIFEST} is unreadable ({exc})"]
    problems = []
    present = {p.as_posix() for p in _listing(root)} - {MANIFEST}
    for name, f in listed.items():
        p = root / name
        if name not in present:
            problems.append(f"{name} is listed in the manifest but missing")
        elif p.stat().st_size != f.get("bytes") or sha256_file(p) != f.get("sha256"):
            problems.append(f"{name} differs from the manifest (size or SHA-256)")
    for name in sorted(present - set(listed)):
        problems.append(f"{name} is not listed in the manifest")
    return problems


class RunFolder:
    """Context manager: ``with RunFolder(out) as rf:`` write into ``rf.path``, then ``rf.commit(info)``.

    Leaving the block without :meth:`commit` (an error, Ctrl-C) deletes the staging folder and
    leaves ``out`` as it was. ``what`` names the folder in messages (e.g. ``"--out folder"``).
    """

    def __init__(self, out: str | os.PathLike, what: str = "output folder"):
        if not str(out).strip():
            raise EventStudyError(f"{what} is empty (''): give the folder to write into, e.g. --out results")
        self.out = Path(os.path.abspath(os.fspath(out)))
        self.what = what
        self.path: Path | None = None
        self.started_at = _now()
        self.committed = False
        self._lock_fd: int | None = None
        self._lock_path = self.out.parent / f".{self.out.name}{LOCK_TAG}"

    # ------------------------------------------------------------------ lock
    def _lock(self) -> None:
        path = self._lock_path
        busy = EventStudyError
        while True:
            try:
                flags = os.O_RDWR | os.O_CREAT | (0 if fcntl is not None else os.O_EXCL)
                fd = os.open(path, flags, default_file_mode())
            except FileExistsError:   # pragma: no cover - Windows fallback
                raise busy(f"another eventstudy run is writing {self.out} (lock file {path}); wait for it, or "
                           f"delete the lock file if no run is active, or choose another {self.what}") from None
            except OSError as exc:
                raise EventStudyError(f"cannot create the lock file {path} ({exc.strerror or exc}); "
                                      f"choose a writable {self.what}") from None
            if fcntl is None:         # pragma: no cover
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                try:
                    holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown process"
                finally:
                    os.close(fd)
                raise busy(f"another eventstudy run ({holder}) is writing {self.out}: wait for it to finish, "
                           f"or choose another {self.what}") from None
            try:      # the previous holder may have removed the file between our open and our lock
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {self.started_at}".encode())
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        try:
            os.unlink(self._lock_path)
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None

    # ------------------------------------------------------------------ checks
    def _foreign(self) -> list[str]:
        """Entries of an existing ``out`` an eventstudy run did not write."""
        out = self.out
        listed: set[str] = set()
        try:
            man = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
            listed = {str(f["path"]) for f in man.get("files", [])} | {MANIFEST}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        foreign = []
        for e in sorted(out.iterdir()):
            if e.is_symlink():
                foreign.append(e.name)
            elif e.is_dir():
                if e.name != "figures":
                    foreign.append(e.name + "/")
                    continue
                for f in sorted(e.rglob("*")):
                    rel = f.relative_to(out).as_posix()
                    if f.is_symlink() or (f.is_dir() or f.suffix.lower() not in FIGURE_SUFFIXES) and rel not in listed:
                        foreign.append(rel + ("/" if f.is_dir() else ""))
            elif e.name not in listed and not (e.stem in OUTPUT_STEMS and e.suffix.lower() in OUTPUT_SUFFIXES):
                foreign.append(e.name)
        return foreign

    def _clean_stale(self) -> None:
        """Remove staging and replaced folders that killed runs into this folder left behind."""
        for tag in (STAGING_TAG, OLD_TAG):
            for p in self.out.parent.glob(f".{self.out.name}{tag}*"):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)

    # ------------------------------------------------------------------ protocol
    def __enter__(self) -> "RunFolder":
        check_out_dir(self.out, self.what)
        cwd = Path(os.getcwd()).resolve()
        if self.out.exists() and (self.out.resolve() == cwd or self.out.resolve() in cwd.parents):
            raise EventStudyError(f"{self.what} {self.out} is the current folder (or holds it): a run replaces its "
                                  f"folder whole; give a subfolder, e.g. --out results")
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EventStudyError(f"cannot create the {self.what} {self.out} ({exc.strerror or exc}); "
                                  f"choose a writable folder") from None
        if not os.access(self.out.parent, os.W_OK | os.X_OK):
            raise EventStudyError(f"cannot write beside the {self.what} {self.out}: {self.out.parent} is not "
                                  f"writable (a run is written next to the folder, then renamed into place); "
                                  f"choose a folder inside a writable one")
        self._lock()
        try:
            if self.out.is_dir():
                foreign = self._foreign()
                if foreign:
                    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                    raise EventStudyError(
                        f"{self.what} {self.out} holds {len(foreign)} item(s) an eventstudy run did not write "
                        f"({shown}); a run replaces the whole folder, so they would be lost: move them elsewhere, "
                        f"or choose a new or empty {self.what}")
            self._clean_stale()
            try:
                self.path = Path(tempfile.mkdtemp(prefix=f".{self.out.name}{STAGING_TAG}", dir=self.out.parent))
                os.chmod(self.path, default_dir_mode())
            except OSError as exc:
                raise EventStudyError(f"cannot create a folder beside the {self.what} {self.out} "
                                      f"({exc.strerror or exc}); choose a writable folder") from None
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if not self.committed and self.path is not None:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            self._unlock()
        return False

    def commit(self, info: Mapping[str, Any] | None = None) -> dict:
        """Write ``manifest.json`` (files with sizes and SHA-256, ``info``, start and end time) into the
        staging folder, then put the folder in place of ``out`` (replacing an earlier run's folder
        whole). Returns the manifest."""
        if self.path is None or self.committed:
            raise RuntimeError("RunFolder.commit() outside the with-block or twice")
        files = [{"path": rel.as_posix(), "bytes": (self.path / rel).stat().st_size,
                  "sha256": sha256_file(self.path / rel)} for rel in _listing(self.path) if rel.as_posix() != MANIFEST]
        manifest = {"eventstudy_run": 1, "complete": True, "folder": str(self.out),
                    "started_at": self.started_at, "finished_at": _now(), **dict(info or {}), "files": files}
        try:
            atomic_write_text(self.path / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
            _fsync_dir(self.path)
            if self.out.exists():
                old = self.out.parent / f".{self.out.name}{OLD_TAG}{uuid.uuid4().hex[:8]}"
                os.rename(self.out, old)
                try:
                    os.rename(self.path, self.out)
                except OSError:
                    os.rename(old, self.out)        # put the earlier set back
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(self.path, self.out)
            _fsync_dir(self.out.parent)
        except OSError as exc:
            raise EventStudyError(f"could not finish writing the {self.what} {self.out} ({exc.strerror or exc}); "
                                  f"the earlier contents, if any, are unchanged: free space or choose another "
                                  f"folder and run again") from None
        self.committed = True
        return manifest


def write_run(run, out: str | os.PathLike, *, report: bool = True,
              formats: tuple[str, ...] = ("md", "html", "latex", "csv"), raw_csv: bool = False,
              info: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write a :class:`~eventstudy.pipeline.study.StudyRun`'s CSVs (and, with ``report``, its report in
    ``formats``) into ``out`` as one unit, like ``eventstudy run``: locked, staged beside ``out``,
    ``manifest.json`` last (with ``info`` added), the whole folder replaced. Returns
    ``{file name: final path}``."""
    from eventstudy.outputs.csvs import write_csvs

    folder = RunFolder(out)
    with folder:
        written = write_csvs(run, folder.path, raw=raw_csv)
        if report:
            from eventstudy.outputs.report_files import write_report
            written.update(write_report(run, folder.path, formats=formats, raw_csv=raw_csv))
        p = run.prices
        folder.commit({"command": "eventstudy.outputs.runfolder.write_run", "versions": package_versions(),
                       "data": {"source": str(p.source), "simulated": bool(p.simulated)}, **dict(info or {})})
    return {name: folder.out / name for name in written}
