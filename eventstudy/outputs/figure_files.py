"""The figure files of a run: every figure of :func:`eventstudy.present.figure_data.figure_plan` drawn
(in worker processes when the platform can fork) and written atomically as PNG and/or SVG.

The plotting stack (matplotlib) is imported only where figures are drawn. :class:`FigureWorkers` can be
started before the run exists, so the workers import it while the study runs; the run then reaches
them pickled (it is small next to the figures' cost). Without them, :class:`PlotJob` forks workers that
inherit the run.
"""
from __future__ import annotations

import os
import pickle
import uuid
import warnings
from pathlib import Path
from typing import Sequence

from eventstudy.errors import DataUnavailableError
from eventstudy.io_utils import atomic_write_bytes, ensure_out_dir
from eventstudy.present.figure_data import figure_plan
from eventstudy.present.formats import check_figure_formats

__all__ = ["save_plots", "save_figure", "PlotJob", "FigureWorkers"]

#: Largest pickled run sent to pre-started workers (one copy per figure); above it they are forked anew.
MAX_SENT_RUN_BYTES = 32 * 2**20


def save_figure(fig, base: Path, formats: Sequence[str], dpi: int) -> Path:
    """Write ``fig`` as ``base.<fmt>`` for each of ``formats`` (atomically); the PNG path (else the first)."""
    from eventstudy.present.figure_encoding import figure_bytes     # matplotlib: imported where used

    paths = {fmt: atomic_write_bytes(base.parent / f"{base.name}.{fmt}", data)
             for fmt, data in figure_bytes(fig, formats, dpi).items()}
    return paths.get("png", paths[formats[0]])


def _workers(n_figures: int, workers: int | None) -> int:
    """How many processes draw the figures: ``workers`` if given, else one per available core (at most
    2: the figures are few and uneven) when the platform can fork."""
    import multiprocessing

    if workers is not None:
        return max(1, int(workers))
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:        # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores, n_figures))


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the process that forked it dies (Linux ``PR_SET_PDEATHSIG``), so a
    killed run leaves no worker behind holding its files; exit at once if it is already gone."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))     # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):     # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:
        os._exit(1)


def _start_worker(parent: int, warm: bool) -> None:
    _die_with_parent(parent)
    if warm:
        try:        # started before the study: yield the cores to it while importing
            os.nice(5)
        except (OSError, AttributeError):     # pragma: no cover
            pass
        _warm()


def _fork_pool(n: int, warm: bool = False):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(os.getpid(), warm))


def _draw(run, name: str, kind: str, kwargs: dict, out: Path, formats: tuple[str, ...], dpi: int
          ) -> tuple[str, Path | None, str]:
    """Draw and save one planned figure: (name, path or None, reason it was skipped)."""
    from eventstudy.present import plots

    try:
        fig = plots.draw_planned(run, kind, kwargs)
    except DataUnavailableError as exc:
        return name, None, str(exc)
    try:
        return name, save_figure(fig, out / name, formats, dpi), ""
    finally:
        fig.clear()


_FORKED: list = []      # the run of the PlotJob being drawn, read by workers forked after it was set
_SENT: dict = {}        # in a pre-started worker: the last run received (token -> run)


def _draw_forked(i: int, plan: tuple, out: Path, formats: tuple[str, ...], dpi: int):
    return _draw(_FORKED[0], *plan[i], out, formats, dpi)


def _draw_sent(token: str, blob: bytes, entry: tuple, out: Path, formats: tuple[str, ...], dpi: int):
    if token not in _SENT:
        _SENT.clear()
        _SENT[token] = pickle.loads(blob)
    return _draw(_SENT[token], *entry, out, formats, dpi)


def _warm() -> None:
    """A pre-started worker's first job: import the plotting stack before the run exists."""
    from eventstudy.present import plots  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401
    from PIL import Image  # noqa: F401


class FigureWorkers:
    """Worker processes for a run's figures, started before the run exists (they import matplotlib while
    the study runs). ``workers`` as :func:`save_plots`; with one, nothing is started. Close when done
    (:meth:`close`, or use as a context manager)."""

    def __init__(self, workers: int | None = None) -> None:
        self.n = _workers(8, workers)
        self.pool = None
        if self.n > 1:
            self.pool = _fork_pool(self.n, warm=True)
            self.pool.submit(int)          # the workers start now (all at once with fork)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> "FigureWorkers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PlotJob:
    """The figures of a run being drawn, started at construction and collected by :meth:`result`.

    Drawn by ``pool`` (:class:`FigureWorkers`, when given and the pickled run is at most
    :data:`MAX_SENT_RUN_BYTES`), else by processes forked now that inherit the run (one job at a time
    per process), else in this process (one worker). The caller writes its tables and report text
    meanwhile. Other arguments as :func:`save_plots`.
    """

    def __init__(self, run, out_dir: str | os.PathLike, formats: Sequence[str] = ("png",), dpi: int = 100,
                 bar_events: int = 4, workers: int | None = None, max_events: int = 12,
                 pool: FigureWorkers | None = None) -> None:
        self.formats = check_figure_formats(formats)
        self.out = ensure_out_dir(out_dir, "figures folder", "the figures")
        self.dpi = dpi
        self.run = run
        self.plan = tuple(figure_plan(run, bar_events=bar_events, max_events=max_events))
        self._own = None
        self._futures = None
        blob = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL) if pool is not None and pool.pool else None
        if blob is not None and len(blob) <= MAX_SENT_RUN_BYTES:
            token = uuid.uuid4().hex
            self._futures = [pool.pool.submit(_draw_sent, token, blob, e, self.out, self.formats, dpi)
                             for e in self.plan]
            return
        n_proc = _workers(len(self.plan), workers)
        if n_proc > 1:
            # forked workers inherit the run: nothing is pickled but the index and the path
            _FORKED[:] = [run]
            self._own = _fork_pool(n_proc)
            self._futures = [self._own.submit(_draw_forked, i, self.plan, self.out, self.formats, dpi)
                             for i in range(len(self.plan))]

    def result(self) -> dict[str, Path]:
        """Wait for the figures: name -> path of the PNG (or of the first format); a figure whose data are
        missing is skipped with a warning that says why. A drawing error is raised here."""
        try:
            if self._futures is not None:
                done = [f.result() for f in self._futures]
            else:
                done = [_draw(self.run, *e, self.out, self.formats, self.dpi) for e in self.plan]
        finally:
            self.close()
        written: dict[str, Path] = {}
        for name, path, why in done:
            if path is None:
                warnings.warn(f"figure {name} skipped: {why}", stacklevel=2)
            else:
                written[name] = path
        return written

    def close(self) -> None:
        """Cancel figures not yet drawn and stop the workers this job forked."""
        for f in self._futures or ():
            f.cancel()
        if self._own is not None:
            self._own.shutdown(wait=True, cancel_futures=True)
            self._own = None
        _FORKED.clear()


def save_plots(run, out_dir: str | os.PathLike, formats: Sequence[str] = ("png",), dpi: int = 100,
               bar_events: int = 4, workers: int | None = None, max_events: int = 12) -> dict[str, Path]:
    """Write every figure of a run into ``out_dir`` (created if needed) as ``formats``, atomically.

    The figures of :func:`eventstudy.present.figure_data.figure_plan` (a figure whose data are missing,
    e.g. a run without timeline instruments, is skipped with a warning that says why). ``formats`` from
    :data:`eventstudy.present.formats.FIGURE_FORMATS` (default PNG only: the report embeds PNG; SVG on
    request). The figures are drawn by ``workers`` forked processes (default: one per core, at most 2;
    1 draws them in this process). Returns name -> path of the PNG (or of the first format).
    """
    return PlotJob(run, out_dir, formats, dpi=dpi, bar_events=bar_events, workers=workers,
                   max_events=max_events).result()
