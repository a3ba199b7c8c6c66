"""Files of the intraday study: its tables, the path figures and the report section.

:func:`write_intraday` writes into a run folder (each file atomically):
``intraday_bar0.csv`` (``BAR0_COLUMNS``), ``intraday_reactions.csv`` (``REACTION_COLUMNS``),
``reaction_clock.csv`` (``CLOCK_COLUMNS``), ``figures/intraday_<event_id>.png`` for the events
with a bar 0, and adds the section "Intraday reaction clock" between markers to the folder's
``report.md`` and ``report.html`` when they are there.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from eventstudy.io_utils import atomic_write_bytes, atomic_write_text
from eventstudy.outputs.csvs import csv_text, parquet_bytes
from eventstudy.pipeline.intraday import IntradayRun
from eventstudy.present.intraday import figure_png, intraday_html, intraday_markdown, plot_intraday_path
from eventstudy.outputs.sections import replace_marked_section, with_toc_link

__all__ = ["write_intraday", "intraday_frames", "INTRADAY_FILES", "add_intraday_to_report"]

INTRADAY_FILES: tuple[str, ...] = ("intraday_bar0", "intraday_reactions", "reaction_clock")
_BEGIN, _END = "<!-- eventstudy:intraday -->", "<!-- /eventstudy:intraday -->"


def intraday_frames(run: IntradayRun) -> dict[str, pd.DataFrame]:
    """The tables of an intraday run, by file stem (instants as ISO UTC text)."""
    def iso(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        for c in out.columns:
            if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return out
    return {"intraday_bar0": iso(run.bar0), "intraday_reactions": iso(run.reactions), "reaction_clock": iso(run.clock)}


def _safe_name(event_id: object) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(event_id)).strip("._") or "event"


def add_intraday_to_report(run: IntradayRun, out_dir: str | os.PathLike, figures: dict[str, tuple[bytes, str]],
                           simulated: bool = False) -> dict[str, Path]:
    """Add (or replace) the intraday section in ``report.md``/``report.html`` of ``out_dir`` (before the
    placebo calibration section if there is one); files that are not there are not created."""
    out = Path(out_dir)
    done: dict[str, Path] = {}
    md, ht = out / "report.md", out / "report.html"
    if md.exists():
        text = replace_marked_section(md.read_text(encoding="utf-8"), intraday_markdown(run, figures, simulated),
                                      _BEGIN, _END, "<!-- eventstudy:calibration -->")
        done["report.md"] = atomic_write_text(md, text)
    if ht.exists():
        text = with_toc_link(replace_marked_section(ht.read_text(encoding="utf-8"), intraday_html(run, figures, simulated),
                                      _BEGIN, _END, "<footer>"), "intraday", "Intraday reaction clock")
        done["report.html"] = atomic_write_text(ht, text)
    return done


def write_intraday(run: IntradayRun, out_dir: str | os.PathLike, *, report: bool = True, raw: bool = False,
                   simulated: bool = False, table_format: str = "csv") -> dict[str, Path]:
    """Write the intraday tables (``table_format`` ``csv`` or ``parquet``, as the run's other tables) and, with
    ``report``, the figures and the report section into ``out_dir``."""
    if table_format not in ("csv", "parquet"):
        raise ValueError(f"table_format {table_format!r}: choose from csv, parquet")
    out = Path(out_dir)
    if table_format == "parquet":
        written = {f"{stem}.parquet": atomic_write_bytes(out / f"{stem}.parquet", parquet_bytes(df))
                   for stem, df in intraday_frames(run).items()}
    else:
        written = {f"{stem}.csv": atomic_write_text(out / f"{stem}.csv", csv_text(df, raw=raw))
                   for stem, df in intraday_frames(run).items()}
    if not report:
        return written
    figures = {}
    for eid in dict.fromkeys(run.bar0["event_id"]):
        fig = plot_intraday_path(run, eid, simulated=simulated)
        if fig is None:
            continue
        png = figure_png(fig)
        rel = f"figures/intraday_{_safe_name(eid)}.png"
        (out / "figures").mkdir(exist_ok=True)
        written[rel] = atomic_write_bytes(out / rel, png)
        figures[eid] = (png, rel)
    written.update(add_intraday_to_report(run, out, figures, simulated))
    return written
