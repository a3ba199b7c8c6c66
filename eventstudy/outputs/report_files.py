"""The report files of a run: ``report.html``, ``report.md``, ``tables.tex``, the report's CSV tables
and ``figures/`` (content from :mod:`eventstudy.present.report`; every file written atomically)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import pandas as pd

from eventstudy.io_utils import atomic_write_text, ensure_out_dir
from eventstudy.outputs.table_files import to_csv
from eventstudy.present.report import ReportContent, check_formats, render_html, render_latex, render_markdown

__all__ = ["write_report", "start_figures"]


def start_figures(run, out_dir: str | os.PathLike, figure_formats: Sequence[str] = ("png",), workers=None):
    """Start drawing the report's figures into ``out_dir/figures`` (worker processes draw while the caller
    writes tables and text); give the returned job to :func:`write_report` as ``figures``. ``workers``: a
    :class:`~eventstudy.outputs.figure_files.FigureWorkers` started earlier, else workers are forked now."""
    from eventstudy.outputs import figure_files

    return figure_files.PlotJob(run, Path(out_dir) / "figures", formats=tuple(figure_formats), pool=workers)


def _make_plots(run, out_dir: Path, figure_formats: Sequence[str] = ("png",), job=None
                ) -> tuple[dict[str, Path], str]:
    """Wait for the figures (``job`` from :func:`start_figures`; drawn here when None); returns (name ->
    image the report shows: the PNG, else the SVG; message)."""
    from eventstudy.outputs import figure_files

    try:
        written = (job.result() if job is not None
                   else figure_files.save_plots(run, out_dir / "figures", formats=tuple(figure_formats)))
    except Exception as exc:  # a figure failing must not lose the tables; say so in the report
        warnings.warn(f"figures could not be drawn: {exc}", stacklevel=3)
        return {}, f"Figures could not be drawn: {exc}"
    shown = {}
    for name, p in written.items():
        p = Path(p)
        for img in (p.with_suffix(".png"), p.with_suffix(".svg")):
            if img.exists():
                shown[name] = img
                break
    return shown, ""


def _images(figures: dict[str, Path], out: Path) -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, MIME type, link relative to ``out``) of the figure files."""
    return {name: (Path(p).read_bytes(), "image/svg+xml" if Path(p).suffix.lower() == ".svg" else "image/png",
                   Path(os.path.relpath(Path(p), out)).as_posix())
            for name, p in figures.items()}


def write_report(run, out_dir: str | os.PathLike, formats: Sequence[str] = ("md", "html", "latex"),
                 plots: bool = True, title: str | None = None,
                 impact: pd.DataFrame | None = None, raw_csv: bool = False,
                 figure_formats: Sequence[str] = ("png",), figures=None) -> dict[str, Path]:
    """Write the report of ``run`` into ``out_dir`` (created if needed), atomically.

    ``formats`` from ``md`` (``report.md``), ``html`` (``report.html``, self-contained), ``latex``
    (``tables.tex``), ``csv`` (``impact_table.csv``, ``futures_table.csv``,
    ``cross_section_table.csv``). With ``plots`` the figures go to ``out_dir/figures`` in
    ``figure_formats`` (``png``, ``svg``; default PNG) and are embedded (HTML; the PNG, or the SVG
    when only SVG is asked for) or linked (Markdown).
    ``impact``: :func:`eventstudy.present.tables.impact_table` of ``run`` with its defaults, when the caller
    already has it (it is not computed again). ``raw_csv``: CSV text cells verbatim (default: a
    leading ``'`` before text a spreadsheet would evaluate, :func:`eventstudy.io_utils.spreadsheet_safe`).
    ``figures``: the job of :func:`start_figures` when the caller started the drawing earlier (used
    when ``plots``; closed in any case).
    Returns ``{file name: path}`` of every file written (figures as ``figures/<name>.png``).
    """
    formats = check_formats(formats)
    try:
        return _write_report(run, ensure_out_dir(out_dir, "report folder", "the report"), formats, plots, title,
                             impact, raw_csv, figure_formats, figures)
    finally:
        if figures is not None:
            figures.close()


def _write_report(run, out: Path, formats, plots, title, impact, raw_csv, figure_formats, job) -> dict[str, Path]:
    """:func:`write_report`'s files: the text that needs no figure first, while the figures are drawn."""
    written: dict[str, Path] = {}
    content = ReportContent(run, title, impact)
    if "latex" in formats:
        written["tables.tex"] = atomic_write_text(out / "tables.tex", render_latex(run, content=content))
    if "csv" in formats:
        for name, df in (("impact_table.csv", content.imp), ("futures_table.csv", content.fut),
                         ("cross_section_table.csv", content.cs_all)):
            to_csv(df, out / name, raw=raw_csv)
            written[name] = out / name
    figures: dict[str, Path] = {}
    note = "Figures were not requested."
    if plots and ("html" in formats or "md" in formats):
        figures, note = _make_plots(run, out, figure_formats, job)
        for p in figures.values():
            written[Path(os.path.relpath(p, out)).as_posix()] = p
    images = _images(figures, out)
    if "html" in formats:
        written["report.html"] = atomic_write_text(
            out / "report.html", render_html(run, images, title=title, figures_note=note, content=content))
    if "md" in formats:
        written["report.md"] = atomic_write_text(
            out / "report.md", render_markdown(run, images, title=title, figures_note=note, content=content))
    return written
