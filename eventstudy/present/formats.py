"""The report formats a run can write (a constant of its own, so the command line can check
``--format`` before the run without importing the report's machinery)."""
from __future__ import annotations

__all__ = ["REPORT_FORMATS"]

#: ``--format`` values: Markdown, HTML, LaTeX tables and the report's CSV tables.
REPORT_FORMATS: tuple[str, ...] = ("md", "html", "latex", "csv")
