"""The report and figure formats a run can write (constants of their own, so the command line can
check ``--format`` and ``--figure-format`` before the run without importing the report's machinery)."""
from __future__ import annotations

from typing import Sequence

__all__ = ["REPORT_FORMATS", "FIGURE_FORMATS", "check_figure_formats"]

#: ``--format`` values: Markdown, HTML, LaTeX tables and the report's CSV tables.
REPORT_FORMATS: tuple[str, ...] = ("md", "html", "latex", "csv")

#: Figure file formats: PNG (embedded in the HTML report) and SVG (text kept as text).
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg")


def check_figure_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The figure formats asked for (lower case, no dot, each once); an error naming a bad one."""
    formats = tuple(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    if not formats:
        raise ValueError("formats is empty; give e.g. ('png', 'svg')")
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad:
        raise ValueError(f"figure format {bad[0]!r}: choose from {', '.join(FIGURE_FORMATS)}")
    return formats
