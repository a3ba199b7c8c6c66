"""Files of the volume and volatility measures: tables, the figure, and their section in the report.

Tables (CSV, or Parquet with ``table_format="parquet"``):

* ``volume_abnormal``: ``event_id, ticker, group, date, rel_day, ret, normal_ret, ar, sar`` with ``ret`` the
  log volume ``ln(1 + V)``, ``normal_ret`` its normal level, ``ar`` the abnormal log volume;
* ``volume_car``: as ``car.csv`` with ``car`` the cumulated abnormal log volume (``bhar`` empty);
* ``volume_tests``: as ``tests.csv`` (``caar`` the mean cumulated abnormal log volume);
* ``volume_params``: the log-volume model per pair (``beta_market_log_volume``, the calendar dummies);
* ``volatility_car``, ``volatility_params``, ``volatility_tests``: :class:`~eventstudy.engine.measures.VolatilityResult`.

The report section goes between ``<!-- eventstudy:measures -->`` markers in ``report.md`` and
``report.html`` (before the footer), the figure to ``figures/volume_paths.png``.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from eventstudy.io_utils import atomic_write_bytes, atomic_write_text, ensure_out_dir
from eventstudy.outputs.csvs import csv_text, parquet_bytes
from eventstudy.outputs.sections import replace_marked_section, with_toc_link
from eventstudy.present.measures import measures_html, measures_markdown, plot_volume_paths

__all__ = ["measures_frames", "write_measures", "add_measures_to_report"]

_BEGIN, _END = "<!-- eventstudy:measures -->", "<!-- /eventstudy:measures -->"


def measures_frames(measures) -> dict[str, pd.DataFrame]:
    """name -> table of a :class:`~eventstudy.pipeline.measures.MeasuresRun` (only the measures computed)."""
    out: dict[str, pd.DataFrame] = {}
    if measures.volume is not None:
        v = measures.volume
        out["volume_abnormal"] = v.ar
        out["volume_car"] = v.car.drop(columns=[c for c in ("n_days", "m_obs") if c in v.car.columns])
        out["volume_tests"] = v.tests
        out["volume_params"] = v.params
        out["volume_exclusions"] = pd.concat([v.exclusions, measures.volume_excluded.assign(
            window_start=float("nan"), window_end=float("nan"))[["event_id", "ticker", "window_start", "window_end",
                                                                  "reason"]]], ignore_index=True)
    if measures.volatility is not None:
        out["volatility_car"] = measures.volatility.car
        out["volatility_params"] = measures.volatility.params
        out["volatility_tests"] = measures.volatility.tests
    return out


def add_measures_to_report(run, measures, out_dir: str | os.PathLike, window: tuple[int, int],
                           png: bytes | None = None, figure: str | None = None) -> dict[str, Path]:
    """Add (or replace) the volume and volatility section in the ``report.md`` / ``report.html`` of ``out_dir``;
    files that are not there are not created. Returns name -> path of the files rewritten."""
    out = Path(out_dir)
    done: dict[str, Path] = {}
    md, ht = out / "report.md", out / "report.html"
    if md.exists():
        done["report.md"] = atomic_write_text(md, replace_marked_section(
            md.read_text(encoding="utf-8"), measures_markdown(run, measures, window, figure), _BEGIN, _END))
    if ht.exists():
        text = replace_marked_section(ht.read_text(encoding="utf-8"), measures_html(run, measures, window, png),
                                      _BEGIN, _END, "<footer>")
        done["report.html"] = atomic_write_text(ht, with_toc_link(text, "measures", "Volume and volatility"))
    return done


def write_measures(run, measures, out_dir: str | os.PathLike, window: tuple[int, int], *, table_format: str = "csv",
                   raw: bool = False, figures: bool = True, report: bool = True) -> dict[str, Path]:
    """Write the measures' tables (and, with ``figures``, ``figures/volume_paths.png``) into ``out_dir`` and add
    their section to a report already there (``report``); every file atomically. Returns name -> path."""
    out = ensure_out_dir(out_dir)
    written: dict[str, Path] = {}
    for name, df in measures_frames(measures).items():
        if table_format == "parquet":
            written[f"{name}.parquet"] = atomic_write_bytes(out / f"{name}.parquet", parquet_bytes(df))
        else:
            written[f"{name}.csv"] = atomic_write_text(out / f"{name}.csv", csv_text(df, raw=raw))
    png, rel = None, None
    if figures and measures.volume is not None and len(measures.volume.ar):
        import matplotlib.pyplot as plt

        fig = plot_volume_paths(run, measures)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        png, rel = buf.getvalue(), "figures/volume_paths.png"
        (out / "figures").mkdir(exist_ok=True)
        written[rel] = atomic_write_bytes(out / rel, png)
    if report:
        written.update(add_measures_to_report(run, measures, out, window, png, rel))
    return written
