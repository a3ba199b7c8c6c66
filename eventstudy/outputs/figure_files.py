"""The figure files of a run: every figure of :func:`eventstudy.present.plots.figure_builders` drawn
(in forked worker processes when the platform allows) and written atomically as PNG and/or SVG."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

from eventstudy.errors import DataUnavailableError
from eventstudy.io_utils import atomic_write_bytes, ensure_out_dir
from eventstudy.present import plots

__all__ = ["save_plots", "save_figure"]


def save_figure(fig, base: Path, formats: Sequence[str], dpi: int) -> Path:
    """Write ``fig`` as ``base.<fmt>`` for each of ``formats`` (atomically); the PNG path (else the first)."""
    paths = {fmt: atomic_write_bytes(base.parent / f"{base.name}.{fmt}", data)
             for fmt, data in plots.figure_bytes(fig, formats, dpi).items()}
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


_JOBS: list = []        # (name, builder) of the save_plots call being drawn, read by forked workers


def _draw_one(i: int, out: Path, formats: tuple[str, ...], dpi: int) -> tuple[str, Path | None, str]:
    """Build and save figure ``i`` of :data:`_JOBS`: (name, path or None, reason it was skipped)."""
    name, build = _JOBS[i]
    try:
        fig = build()
    except DataUnavailableError as exc:
        return name, None, str(exc)
    try:
        return name, save_figure(fig, out / name, formats, dpi), ""
    finally:
        fig.clear()


def save_plots(run, out_dir: str | os.PathLike, formats: Sequence[str] = ("png",), dpi: int = 100,
               bar_events: int = 4, workers: int | None = None, max_events: int = 12) -> dict[str, Path]:
    """Write every figure of a run into ``out_dir`` (created if needed) as ``formats``, atomically.

    The figures of :func:`eventstudy.present.plots.figure_builders` (a figure whose data are missing,
    e.g. a run without timeline instruments, is skipped with a warning that says why). ``formats`` from
    :data:`eventstudy.present.plots.FIGURE_FORMATS` (default PNG only: the report embeds PNG; SVG on
    request). The figures are drawn by ``workers`` forked processes (default: one per core, at most 2;
    1 draws them in this process). Returns name -> path of the PNG (or of the first format).
    """
    formats = plots.check_figure_formats(formats)
    out = ensure_out_dir(out_dir, "figures folder", "the figures")
    builders = plots.figure_builders(run, bar_events=bar_events, max_events=max_events)
    n_proc = _workers(len(builders), workers)
    _JOBS[:] = builders
    try:
        if n_proc > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # forked workers inherit the run and the builders: nothing is pickled but the index and the path
            with ProcessPoolExecutor(n_proc, mp_context=multiprocessing.get_context("fork")) as pool:
                done = list(pool.map(_draw_one, range(len(builders)), [out] * len(builders),
                                     [formats] * len(builders), [dpi] * len(builders)))
        else:
            done = [_draw_one(i, out, formats, dpi) for i in range(len(builders))]
    finally:
        _JOBS.clear()
    written: dict[str, Path] = {}
    for name, path, why in done:
        if path is None:
            warnings.warn(f"figure {name} skipped: {why}", stacklevel=2)
        else:
            written[name] = path
    return written
