"""The placebo calibration's files: tidy CSVs, ``calibration.md``, the power-curve figure, and the
calibration section added to a run folder's ``report.md`` / ``report.html``
(content from :mod:`eventstudy.present.placebo_report`)."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from eventstudy.inputs.study import Labels
from eventstudy.io_utils import atomic_write_bytes, atomic_write_text, ensure_out_dir
from eventstudy.outputs.csvs import csv_text
from eventstudy.outputs.sections import replace_marked_section, with_toc_link
from eventstudy.pipeline.placebo import PlaceboResult
from eventstudy.present.placebo_report import calibration_html, calibration_markdown, placebo_frames, power_curve_bytes

__all__ = ["write_placebo", "add_calibration_to_report", "carry_over"]


def write_placebo(pr: PlaceboResult, out_dir: str | os.PathLike, window: tuple[int, int] | None = None,
                  figures: bool = True, hypotheses: pd.DataFrame | None = None,
                  labels: Labels | None = None) -> dict[str, Path]:
    """Write the placebo CSVs, ``calibration.md`` and (``figures``) ``figures/placebo_power.png|svg`` into
    ``out_dir``, and add the calibration section to a ``report.md`` / ``report.html`` already there
    (:func:`add_calibration_to_report`); returns name -> path. Every file is written atomically.
    ``labels``: the study's labels (colours of the groups in the power curves)."""
    out = ensure_out_dir(out_dir)
    written = {name: atomic_write_text(out / name, csv_text(df)) for name, df in placebo_frames(pr).items()}
    if pr.size.empty:
        return written
    png = None
    fig_rel = None
    if figures:
        images = power_curve_bytes(pr, window, labels=labels)
        (out / "figures").mkdir(exist_ok=True)
        for ext, data in images.items():
            written[f"figures/placebo_power.{ext}"] = atomic_write_bytes(out / "figures" / f"placebo_power.{ext}", data)
        png = images["png"]
        fig_rel = "figures/placebo_power.png"
    written["calibration.md"] = atomic_write_text(
        out / "calibration.md", calibration_markdown(pr, window, figure=fig_rel, hypotheses=hypotheses) + "\n")
    written.update(add_calibration_to_report(pr, out, window, png, fig_rel, hypotheses))
    return written


_BEGIN, _END = "<!-- eventstudy:calibration -->", "<!-- /eventstudy:calibration -->"




def add_calibration_to_report(pr: PlaceboResult, out_dir: str | os.PathLike, window: tuple[int, int] | None = None,
                              png: bytes | None = None, figure: str | None = None,
                              hypotheses: pd.DataFrame | None = None) -> dict[str, Path]:
    """Add (or replace) the calibration section in the ``report.md`` and ``report.html`` of ``out_dir`` written
    by ``eventstudy run`` (an additive section between markers; the rest of the report is untouched). Files
    that are not there are not created. Returns name -> path of the files rewritten."""
    out = Path(out_dir)
    done: dict[str, Path] = {}
    md, ht = out / "report.md", out / "report.html"
    if md.exists():
        text = replace_marked_section(md.read_text(encoding="utf-8"),
                                      calibration_markdown(pr, window, figure=figure, hypotheses=hypotheses),
                                      _BEGIN, _END)
        done["report.md"] = atomic_write_text(md, text)
    if ht.exists():
        text = with_toc_link(replace_marked_section(ht.read_text(encoding="utf-8"),
                                      calibration_html(pr, window, image=png, hypotheses=hypotheses),
                                      _BEGIN, _END, "<footer>"), "calibration", "Calibration")
        done["report.html"] = atomic_write_text(ht, text)
    return done


def carry_over(out_dir: str | os.PathLike, stage: str | os.PathLike) -> dict:
    """Copy the files of an earlier run folder ``out_dir`` (the study of ``eventstudy run``) into the staging
    folder ``stage`` of a :class:`~eventstudy.outputs.runfolder.RunFolder`, so the placebo files join them and the new
    manifest lists all of them; returns the earlier manifest's information (``{}`` when there is none)."""
    import json
    import shutil

    from eventstudy.outputs.runfolder import MANIFEST

    out = Path(out_dir)
    if not out.is_dir():
        return {}
    previous: dict = {}
    try:
        man = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        previous = {k: v for k, v in man.items() if k not in ("files", "folder")}
    except (OSError, ValueError):
        pass
    for e in out.iterdir():
        if e.name == MANIFEST or e.is_symlink():
            continue
        if e.is_dir():
            shutil.copytree(e, Path(stage) / e.name, dirs_exist_ok=True)
        else:
            shutil.copy2(e, Path(stage) / e.name)
    return previous
