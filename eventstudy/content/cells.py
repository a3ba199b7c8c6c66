"""Cells of the content model: formats by kind, significance stars, the SIMULATED marker, escaping
for Markdown, HTML and LaTeX (see :mod:`eventstudy.content`)."""
from __future__ import annotations

import html as _html
import re

import numpy as np
import pandas as pd

__all__ = ["NA", "LATEX_NA", "SIMULATED", "STARS_NOTE", "KINDS", "stars", "simulated_title", "is_missing", "format_value",
           "guess_kind", "is_numeric", "md_escape", "md_text", "html_text", "latex_escape", "latex_cell"]

NA = "–"          # shown for a missing number (never 'nan')
LATEX_NA = "--"
#: the one spelling of the simulated-data marker; titles read ``SIMULATED data — <title>``
SIMULATED = "SIMULATED"
STARS_NOTE = "Stars: *** p<0.01, ** p<0.05, * p<0.10 (two-sided)."
KINDS = ("text", "int", "date", "pct", "share", "stat", "se", "coef", "p", "r2", "num")


def stars(p) -> str:
    """Significance stars: *** p<0.01, ** p<0.05, * p<0.10 ('' for a missing p)."""
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def simulated_title(text: str, simulated: bool, sep: str = " data — ") -> str:
    """``text`` with the SIMULATED prefix when ``simulated`` (``SIMULATED data — text``; ``sep`` " — " for
    figure titles) and not already marked."""
    if not simulated or not text or SIMULATED in text:
        return text
    return f"{SIMULATED}{sep}{text}"


def is_missing(v) -> bool:
    """True for None, NA, NaT and NaN."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def format_value(v, kind: str, na: str = NA) -> str:
    """One cell as text in the format of ``kind`` (module docstring); missing -> ``na``."""
    if is_missing(v):
        return na
    if kind in ("pct", "coef"):
        return f"{float(v):+.2f}"
    if kind in ("share", "stat", "se"):
        return f"{float(v):.2f}"
    if kind == "p":
        p = float(v)
        return "<0.001" if p < 0.001 else f"{p:.3f}"
    if kind == "r2":
        return f"{float(v):.3f}"
    if kind == "int":
        return str(int(v))
    if kind == "date":
        return f"{pd.Timestamp(v):%Y-%m-%d}"
    if kind == "num":
        x = float(v)
        return f"{x:.4g}" if (x == 0 or 1e-4 <= abs(x) < 1e6) else f"{x:.3e}"
    return str(v).replace("\r", " ").replace("\n", " ")


def guess_kind(name: str, s: pd.Series) -> str:
    """The display kind of a column without a declared one, from its name and dtype."""
    n = name.lower()
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s):
        return "text"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_numeric_dtype(s):
        if n.endswith("_pct") or n.endswith("_pp"):
            return "pct"
        if n in ("p", "p_value", "pvalue") or n.endswith("_p") or n.startswith("p_"):
            return "p"
        if n in ("t", "z", "statistic") or n.endswith("_stat") or n.startswith("t_"):
            return "stat"
        return "num"
    return "text"


def is_numeric(kind: str) -> bool:
    """True for the kinds shown right-aligned (numbers)."""
    return kind not in ("text", "date")


def md_escape(s: str) -> str:
    """Escape Markdown table/emphasis characters (``\\ | * _``) and ``<``."""
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;")


def md_text(s) -> str:
    """User text for Markdown: no raw HTML, no links or emphasis, one line."""
    return (md_escape(str(s)).replace("[", "\\[").replace("]", "\\]").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def html_text(x) -> str:
    """Text escaped for HTML ('' for None)."""
    return _html.escape("" if x is None else str(x))


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "–": "--", "—": "---", "−": "-", "×": r"$\times$", "²": r"\textsuperscript{2}", "≥": r"$\geq$",
    "≤": r"$\leq$", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\ldots{}", "\u00a0": "~",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def latex_escape(s: str) -> str:
    """Escape LaTeX special characters (``\\ & % $ # _ { } ~ ^ < > |``) and map common Unicode
    punctuation to ASCII LaTeX (en/em dash, minus, times, superscript 2)."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], str(s))


def latex_cell(c: str, kind: str) -> str:
    """A formatted cell for LaTeX: numbers with a math sign and stars as superscript, text escaped."""
    if c == NA:
        return LATEX_NA
    if is_numeric(kind):
        m = re.fullmatch(r"([+-]?)([0-9.e+-]+)(\**)", c)
        if m:
            sign, num, st = m.groups()
            sign = "$-$" if sign == "-" else ("$+$" if sign == "+" else "")
            return sign + num + (f"$^{{{st}}}$" if st else "")
        if c.startswith("<"):
            return r"$<$" + c[1:]
    return latex_escape(c)


