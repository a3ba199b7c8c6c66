"""One content model for tables and reports, rendered to text, Markdown, HTML and LaTeX.

A :class:`Table` is a frame plus how to show it (columns with a display label and a kind, a title,
significance stars, footnotes); ``as_markdown``/``as_html``/``as_latex``/``as_text`` format it at
the edge (the statsmodels ``Summary`` idea: one object, several formats). A report is a list of
blocks (:class:`Heading`, :class:`Paragraph`, :class:`Callout`, :class:`TextTable`,
:class:`Table`, :class:`Figure`, :class:`Details`, ...); :func:`render_html`,
:func:`render_markdown` and :func:`render_latex` are each one loop over the blocks.

Cell formats (``kind``): ``pct``/``coef`` signed 2 decimals, ``share``/``stat``/``se`` 2 decimals,
``p`` 3 decimals (``<0.001`` below), ``r2`` 3 decimals, ``int``, ``date`` YYYY-MM-DD, ``num`` 4
significant digits, ``text``. Stars: ``***`` p<0.01, ``**`` p<0.05, ``*`` p<0.10.

Core module: imports nothing of eventstudy; no file is read or written here.
"""
from __future__ import annotations

import base64
import html as _html
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote, urlparse

import numpy as np
import pandas as pd

__all__ = [
    "NA", "SIMULATED", "STARS_NOTE", "KINDS", "stars", "simulated_title", "format_value", "latex_escape", "md_escape",
    "Column", "Table", "Summary",
    "Block", "Header", "Heading", "Paragraph", "Callout", "DefinitionList", "TextTable", "Link", "Figure",
    "Details", "Only", "Comment", "PageBreak", "Footer",
    "render_html", "render_markdown", "render_latex",
]

NA = "–"          # shown for a missing number (never 'nan')
_LATEX_NA = "--"
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


def _is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def format_value(v, kind: str, na: str = NA) -> str:
    """One cell as text in the format of ``kind`` (module docstring); missing -> ``na``."""
    if _is_missing(v):
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


def _numeric(kind: str) -> bool:
    return kind not in ("text", "date")


def md_escape(s: str) -> str:
    """Escape Markdown table/emphasis characters (``\\ | * _``) and ``<``."""
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;")


def _md(s) -> str:
    """User text for Markdown: no raw HTML, no links or emphasis, one line."""
    return (md_escape(str(s)).replace("[", "\\[").replace("]", "\\]").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def _esc(x) -> str:
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


def _latex_cell(c: str, kind: str) -> str:
    if c == NA:
        return _LATEX_NA
    if _numeric(kind):
        m = re.fullmatch(r"([+-]?)([0-9.e+-]+)(\**)", c)
        if m:
            sign, num, st = m.groups()
            sign = "$-$" if sign == "-" else ("$+$" if sign == "+" else "")
            return sign + num + (f"$^{{{st}}}$" if st else "")
        if c.startswith("<"):
            return r"$<$" + c[1:]
    return latex_escape(c)


# ----------------------------------------------------------------------------- Table
@dataclass(frozen=True)
class Column:
    """A displayed column: frame column ``name``, header ``label``, cell format ``kind`` (:data:`KINDS`)."""

    name: str
    label: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A table to show: ``frame`` (raw numbers) and how to show it.

    ``columns``: the displayed columns (empty: every column, kinds guessed); ``stars``: column ->
    p-value column whose stars follow its cells; ``notes``: footnotes; ``simulated``: the title is
    marked SIMULATED. Display options: ``table_id`` and ``break_on`` (HTML: a column whose change
    starts a new block of rows), ``label``, ``size``, ``tabcolsep`` (LaTeX).
    """

    frame: pd.DataFrame
    columns: tuple[Column, ...] = ()
    title: str = ""
    stars: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    simulated: bool = False
    table_id: str | None = None
    break_on: str | None = None
    label: str | None = None
    size: str | None = r"\small"
    tabcolsep: str | None = None

    @classmethod
    def from_frame(cls, df: pd.DataFrame, **options) -> "Table":
        """A table from a frame whose ``attrs`` carry ``title``, ``simulated``, ``columns``
        (``[(column, label, kind), ...]``), ``stars`` and ``notes`` (what the table builders return)."""
        a = df.attrs
        cols = tuple(Column(*c) for c in (a.get("columns") or ()))
        kw = dict(columns=cols, title=a.get("title", "") or "", stars=dict(a.get("stars") or {}),
                  notes=tuple(a.get("notes") or ()), simulated=bool(a.get("simulated")))
        kw.update(options)
        return cls(df, **kw)

    def replace(self, **changes) -> "Table":
        """A copy with fields changed (title, notes, options...)."""
        return replace(self, **changes)

    def where(self, mask) -> "Table":
        """The rows of ``mask`` (a boolean Series or array), display settings kept."""
        return replace(self, frame=self.frame[mask])

    def without(self, *names: str) -> "Table":
        """The table without the displayed columns ``names`` (the frame keeps them)."""
        return replace(self, columns=tuple(c for c in self.spec()[0] if c.name not in names))

    @property
    def full_title(self) -> str:
        """The title, marked SIMULATED for a simulated table."""
        return simulated_title(self.title, self.simulated)

    # --------------------------------------------------------------- cells
    def spec(self) -> tuple[list[Column], dict[str, str]]:
        """The displayed columns present in the frame and the star map (guessed when no columns are declared)."""
        df = self.frame
        if self.columns:
            cols = [c for c in self.columns if c.name in df.columns]
        else:
            cols = [Column(str(c), str(c), guess_kind(str(c), df[c])) for c in df.columns]
        star_map = dict(self.stars)
        if not self.columns:  # a <x>_stat column with a matching <x>_p gets stars
            for c in cols:
                if c.name.endswith("_stat") and c.name[:-5] + "_p" in df.columns:
                    star_map.setdefault(c.name, c.name[:-5] + "_p")
        return cols, {k: v for k, v in star_map.items() if v in df.columns}

    def cells(self) -> tuple[list[str], list[str], list[list[str]], list[list[int]]]:
        """Header labels, kinds, formatted cells and signs (-1, 0, +1) of the displayed columns."""
        cols, star_map = self.spec()
        df = self.frame
        text_cols, sign_cols = [], []
        for c in cols:
            vals = df[c.name].tolist()
            txt = [format_value(v, c.kind) for v in vals]
            if c.name in star_map:
                ps = df[star_map[c.name]].tolist()
                txt = [t if _is_missing(v) else t + stars(float(p) if not _is_missing(p) else float("nan"))
                       for t, v, p in zip(txt, vals, ps)]
            sg = ([0 if _is_missing(v) else int(np.sign(float(v))) for v in vals]
                  if c.kind in ("pct", "coef", "stat") else [0] * len(vals))
            text_cols.append(txt)
            sign_cols.append(sg)
        rows = [list(r) for r in zip(*text_cols)] if text_cols else []
        signs = [list(r) for r in zip(*sign_cols)] if sign_cols else []
        return [c.label for c in cols], [c.kind for c in cols], rows, signs

    # --------------------------------------------------------------- formats
    def as_markdown(self, notes: bool = True) -> str:
        """GitHub-flavoured Markdown pipe table (numbers right-aligned), title in bold above it, notes below."""
        labels, kinds, rows, _ = self.cells()
        t = self.full_title
        out = [f"**{md_escape(t)}**", ""] if t else []
        if not labels:
            return "\n".join(out + ["(no columns)", ""])
        out.append("| " + " | ".join(md_escape(lab) for lab in labels) + " |")
        out.append("|" + "|".join("---:" if _numeric(k) else ":---" for k in kinds) + "|")
        for r in rows:
            out.append("| " + " | ".join(md_escape(c) for c in r) + " |")
        if not rows:
            out.append("| " + " | ".join(["(no rows)"] + [""] * (len(labels) - 1)) + " |")
        if notes and self.notes:
            out.append("")
            out += [f"*{md_escape(n)}*  " for n in self.notes]
        return "\n".join(out) + "\n"

    def as_html(self, notes: bool = True) -> str:
        """``<table class="es-table">`` with a caption; numbers ``class="num"`` (``neg``/``pos`` by sign),
        footnotes in ``<p class="es-note">``; a change of ``break_on`` starts ``<tr class="es-break">``."""
        labels, kinds, rows, signs = self.cells()
        df = self.frame
        brk = (df[self.break_on].astype(str).tolist() if self.break_on is not None and self.break_on in df.columns
               else None)
        short_col = [max((len(r[j]) for r in rows), default=0) <= 40 for j in range(len(labels))]
        long_col = [max((len(r[j]) for r in rows), default=0) > 60 for j in range(len(labels))]
        t = self.full_title
        ida = f' id="{_esc(self.table_id)}"' if self.table_id else ""
        simc = " es-simulated" if self.simulated else ""
        out = [f'<div class="es-table-wrap"><table class="es-table{simc}"{ida}>']
        if t:
            out.append(f"<caption>{_esc(t)}</caption>")
        out.append("<thead><tr>" + "".join(
            f'<th class="{"num" if _numeric(k) else "txt"}">{_esc(lab)}</th>' for lab, k in zip(labels, kinds))
            + "</tr></thead>")
        out.append("<tbody>")
        for i, (r, sg) in enumerate(zip(rows, signs)):
            tds = []
            for j, (c, k, s) in enumerate(zip(r, kinds, sg)):
                cls = ["num" if _numeric(k) else "txt"]
                cls += ["neg"] if s < 0 else ["pos"] if s > 0 else []
                if c == NA:
                    cls.append("na")
                if k == "text" and long_col[j] and c:
                    cls.append("long")
                elif k == "text" and short_col[j]:
                    cls.append("nowrap")
                if k == "date":
                    cls.append("nowrap")
                tds.append(f'<td class="{" ".join(cls)}">{_esc(c)}</td>')
            new_block = brk is not None and i > 0 and brk[i] != brk[i - 1]
            out.append(('<tr class="es-break">' if new_block else "<tr>") + "".join(tds) + "</tr>")
        if not rows:
            out.append(f'<tr><td class="txt na" colspan="{max(len(labels), 1)}">(no rows)</td></tr>')
        out.append("</tbody></table>")
        if notes and self.notes:
            out += [f'<p class="es-note">{_esc(n)}</p>' for n in self.notes]
        out.append("</div>")
        return "\n".join(out) + "\n"

    def as_latex(self, notes: bool = True, placement: str = "htbp") -> str:
        """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``) with caption and label."""
        labels, kinds, rows, _ = self.cells()
        cap = self.full_title or "Table"
        align = "".join("r" if _numeric(k) else "l" for k in kinds) or "l"
        out = [rf"\begin{{table}}[{placement}]", r"\centering"]
        if self.size:
            out.append(self.size)
        if self.tabcolsep:
            out.append(rf"\setlength{{\tabcolsep}}{{{self.tabcolsep}}}")
        out.append(rf"\caption{{{latex_escape(cap)}}}")
        if self.label:
            out.append(rf"\label{{{self.label}}}")
        out += [rf"\begin{{tabular}}{{{align}}}", r"\toprule", " & ".join(latex_escape(lab) for lab in labels) + r" \\",
                r"\midrule"]
        for r in rows:
            out.append(" & ".join(_latex_cell(c, k) for c, k in zip(r, kinds)) + r" \\")
        if not rows:
            out.append(rf"\multicolumn{{{max(len(labels), 1)}}}{{l}}{{(no rows)}} \\")
        out += [r"\bottomrule", r"\end{tabular}"]
        if notes and self.notes:
            out.append(r"\par\smallskip\footnotesize")
            out.append(r"\\ ".join(latex_escape(n) for n in self.notes))
        out.append(r"\end{table}")
        return "\n".join(out) + "\n"

    def as_text(self, width: int = 100, notes: bool = True) -> str:
        """The table as plain terminal text fitted to ``width`` columns (:func:`print_rich`)."""
        import io

        from rich.console import Console

        buf = io.StringIO()
        print_rich(self, Console(file=buf, width=width, color_system=None), notes=notes)
        return buf.getvalue()

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()


_PAD = 3  # rich SIMPLE_HEAD: one space each side plus the column gap


def _min_widths(labels: list[str], kinds: list[str], rows: list[list[str]]) -> list[int]:
    """Narrowest width of each column without cutting a number or a header word."""
    out = []
    for j, (lab, k) in enumerate(zip(labels, kinds)):
        word = max((len(w) for w in lab.split()), default=1)
        cell = max((len(r[j]) for r in rows), default=1)
        out.append(max(word, cell) if (_numeric(k) or k == "date") else max(word, min(cell, 16)))
    return out


def _footnote_long_text(labels, kinds, rows, mins, full) -> list[str]:
    """Long text columns (after the first number) replaced by ``[i]`` markers; returns the footnotes."""
    footnotes: list[str] = []
    first_num = next((j for j, k in enumerate(kinds) if _numeric(k)), len(kinds))
    for j, k in enumerate(kinds):
        if j > first_num and k == "text" and full[j] > 30:
            seen: dict[str, int] = {}
            for r in rows:
                c = r[j]
                if c and c != NA:
                    if c not in seen:
                        footnotes.append(f"[{len(footnotes) + 1}] {labels[j]}: {c}")
                        seen[c] = len(footnotes)
                    r[j] = f"[{seen[c]}]"
            mins[j] = max(len(labels[j]), max((len(r[j]) for r in rows), default=1))
    return footnotes


def _column_blocks(kinds, mins, width) -> tuple[int, list[list[int]]]:
    """Leading label columns (repeated) and the blocks of other columns that fit ``width``."""
    lead = 0
    while lead < len(kinds) and not _numeric(kinds[lead]) and lead < 4:
        lead += 1
    while lead > 1 and sum(mins[:lead]) + _PAD * lead > width // 2:
        lead -= 1
    blocks: list[list[int]] = []
    cur: list[int] = []
    used = sum(mins[:lead]) + _PAD * lead
    for j in range(lead, len(kinds)):
        w = mins[j] + _PAD
        if cur and used + w > width:
            blocks.append(cur)
            cur, used = [], sum(mins[:lead]) + _PAD * lead
        cur.append(j)
        used += w
    if cur or not blocks:
        blocks.append(cur)
    return lead, blocks


def print_rich(table: Table, console, notes: bool = True) -> None:
    """Print ``table`` with :mod:`rich` fitted to the console width: numbers are never cut; a long
    text column becomes numbered footnotes when the table is too wide, and a table still too wide is
    printed in blocks of columns, each repeating the leading label columns. Negative numbers red and
    positive green on a colour terminal."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    con = console
    width = max(int(con.width), 40)
    labels, kinds, rows, signs = table.cells()
    t = table.full_title
    if t:
        con.print(Text(t, style="bold red" if table.simulated else "bold"))
    mins = _min_widths(labels, kinds, rows)
    full = [max([len(lab)] + [len(r[j]) for r in rows]) for j, lab in enumerate(labels)]
    footnotes = (_footnote_long_text(labels, kinds, rows, mins, full)
                 if sum(full) + _PAD * len(labels) > width else [])
    lead, blocks = _column_blocks(kinds, mins, width)
    for b, block in enumerate(blocks):
        idx = list(range(lead)) + block
        tab = RichTable(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
        for j in idx:
            if _numeric(kinds[j]) or kinds[j] == "date":
                tab.add_column(labels[j], justify="right", no_wrap=True, min_width=mins[j])
            else:
                tab.add_column(labels[j], justify="left", overflow="fold", min_width=mins[j])
        for r, sg in zip(rows, signs):
            tab.add_row(*[Text(r[j], style="red" if sg[j] < 0 else "green" if sg[j] > 0 else "") for j in idx])
        if len(blocks) > 1:
            con.print(Text(f"(columns {b + 1}/{len(blocks)})", style="dim"))
        con.print(tab)
    for f in footnotes:
        con.print(Text(f))
    if notes and table.notes:
        for n in table.notes:
            con.print(Text(n, style="dim"))


# ----------------------------------------------------------------------------- report blocks
class Block:
    """Base of the report blocks."""


@dataclass(frozen=True)
class Header(Block):
    """The document's title, a line under it, a banner (e.g. the SIMULATED warning) and a table of contents."""

    title: str
    subtitle: str = ""
    banner: str = ""
    toc: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Heading(Block):
    """A section (level 2) or sub-section (level 3) heading; ``anchor``: its HTML id."""

    text: str
    level: int = 2
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph(Block):
    """Plain text (escaped by every renderer); ``strong``: a bold lead-in."""

    text: str
    strong: str = ""


@dataclass(frozen=True)
class Callout(Block):
    """A highlighted box: a bold title and a bullet list; ``kind`` adds a CSS class."""

    title: str
    items: tuple[str, ...] = ()
    kind: str = ""


@dataclass(frozen=True)
class DefinitionList(Block):
    """Term: description pairs."""

    items: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Link:
    """A cell or text that is a link when it is an http(s) URL (shown as its host)."""

    url: str


@dataclass(frozen=True)
class TextTable(Block):
    """A table of text cells (str or :class:`Link`): ``numeric`` columns right-aligned, ``long_cols`` wrap.
    ``caption`` is shown in HTML."""

    headers: tuple[str, ...]
    rows: tuple[tuple, ...]
    numeric: tuple[bool, ...] = ()
    long_cols: tuple[int, ...] = ()
    caption: str = ""
    empty: str = "(none)"


@dataclass(frozen=True)
class Figure(Block):
    """An image: ``data`` (PNG or SVG bytes, embedded in HTML), ``href`` (relative link in Markdown/LaTeX)."""

    caption: str
    data: bytes = b""
    mime: str = "image/png"
    href: str = ""


@dataclass(frozen=True)
class Details(Block):
    """Folded content (HTML ``<details>``). ``open``: unfolded; Markdown shows open content unfolded."""

    summary: str
    blocks: tuple = ()
    open: bool = False


@dataclass(frozen=True)
class Only(Block):
    """Blocks shown in some formats only (``formats`` from ``html``, ``md``, ``latex``)."""

    formats: tuple[str, ...]
    blocks: tuple = ()


@dataclass(frozen=True)
class Comment(Block):
    """Lines shown as a comment (LaTeX ``%``, HTML ``<!-- -->``; not in Markdown)."""

    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageBreak(Block):
    """A new page (LaTeX ``\\clearpage``)."""


@dataclass(frozen=True)
class Footer(Block):
    """A closing line (HTML ``<footer>``)."""

    text: str


class Summary(str):
    """A results summary: its text (it is a ``str``) and the same content as blocks (``as_html``,
    ``as_markdown``, ``_repr_html_`` for notebooks)."""

    blocks: tuple

    def __new__(cls, text: str, blocks: Sequence[Block] = ()):
        obj = super().__new__(cls, text)
        obj.blocks = tuple(blocks)
        return obj

    def __reduce__(self):
        return (Summary, (str(self), self.blocks))

    def as_text(self) -> str:
        """The text summary."""
        return str.__str__(self)

    def as_html(self) -> str:
        """The summary as an HTML fragment."""
        return '<div class="es-summary">\n' + render_html(self.blocks) + "</div>\n"

    def as_markdown(self) -> str:
        """The summary as Markdown."""
        return render_markdown(self.blocks)

    def _repr_html_(self) -> str:
        return self.as_html()


# ----------------------------------------------------------------------------- links
def _is_url(s: str) -> bool:
    try:
        u = urlparse(str(s))
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.netloc)


def _host(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


#: characters kept as they are in a Markdown link target; ``( ) < > [ ] " ' \`` and spaces are %-encoded
_URL_SAFE = ":/?#&=%;,+~!$*@.-_"


def _cell_html(c) -> str:
    if isinstance(c, Link):
        s = c.url
        return f'<a href="{_esc(s)}" rel="noopener noreferrer">{_esc(_host(s))}</a>' if _is_url(s) else _esc(s)
    return _esc(c)


def _cell_md(c) -> str:
    if isinstance(c, Link):
        s = c.url
        return f"[{_md(_host(s))}]({quote(str(s), safe=_URL_SAFE)})" if _is_url(s) else _md(s)
    return _md(c)


def _cell_latex(c) -> str:
    return latex_escape(c.url if isinstance(c, Link) else c)


# ----------------------------------------------------------------------------- HTML
def _html_text_table(b: TextTable) -> str:
    numeric = list(b.numeric) or [False] * len(b.headers)
    out = ['<div class="es-table-wrap"><table class="es-table">']
    if b.caption:
        out.append(f"<caption>{_esc(b.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th class="{"num" if n else "txt"}">{_esc(h)}</th>'
                                       for h, n in zip(b.headers, numeric)) + "</tr></thead><tbody>")
    for r in b.rows:
        cells = []
        for j, (c, n) in enumerate(zip(r, numeric)):
            cls = "num" if n else ("txt long" if j in b.long_cols else ("txt nowrap" if j == 0 else "txt"))
            cells.append(f'<td class="{cls}">{_cell_html(c)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    if not b.rows:
        out.append(f'<tr><td class="txt na" colspan="{len(b.headers)}">{_esc(b.empty)}</td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out) + "\n"


def _html_block(b) -> str:
    if isinstance(b, Header):
        banner = f'<div class="es-banner" role="alert">{_esc(b.banner)}</div>\n' if b.banner else ""
        toc = " ".join(f'<a href="#{k}">{_esc(v)}</a>' for k, v in b.toc)
        nav = f'<nav class="es-toc">{toc}</nav>' if b.toc else ""
        return (f'{banner}\n<header class="es-head"><h1>{_esc(b.title)}</h1><p class="es-sub">{_esc(b.subtitle)}</p>'
                f"{nav}</header>\n<main>")
    if isinstance(b, Heading):
        ida = f' id="{_esc(b.anchor)}"' if b.anchor else ""
        return f"<h{b.level}{ida}>{_esc(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        lead = f"<strong>{_esc(b.strong)}</strong> " if b.strong else ""
        return f"<p>{lead}{_esc(b.text)}</p>"
    if isinstance(b, Callout):
        kind = f" es-{b.kind}" if b.kind else ""
        return (f'<div class="es-callout{kind}"><strong>{_esc(b.title)}</strong><ul>'
                + "".join(f"<li>{_esc(i)}</li>" for i in b.items) + "</ul></div>")
    if isinstance(b, DefinitionList):
        return '<dl class="es-setup">' + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in b.items) + "</dl>"
    if isinstance(b, TextTable):
        return _html_text_table(b)
    if isinstance(b, Table):
        return b.as_html()
    if isinstance(b, Figure):
        src = f"data:{b.mime};base64,{base64.b64encode(b.data).decode('ascii')}"
        return (f'<figure><img src="{src}" alt="{_esc(b.caption)}">'
                f"<figcaption>{_esc(b.caption)}</figcaption></figure>")
    if isinstance(b, Details):
        body = "".join(_html_block(c) for c in b.blocks)
        return f"<details{' open' if b.open else ''}><summary>{_esc(b.summary)}</summary>\n{body}</details>\n"
    if isinstance(b, Only):
        return "\n".join(_html_block(c) for c in b.blocks) if "html" in b.formats else None
    if isinstance(b, Comment):
        return "<!-- " + _esc(" ".join(b.lines)).replace("--", "- -") + " -->"
    if isinstance(b, PageBreak):
        return None
    if isinstance(b, Footer):
        return f"<footer>{_esc(b.text)}</footer>\n</main>"
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_html(blocks: Iterable[Block], title: str | None = None, css: str = "") -> str:
    """The blocks as HTML: a fragment, or with ``title`` one self-contained document (``css`` inline,
    images as data URIs, nothing fetched from elsewhere)."""
    parts = [h for h in (_html_block(b) for b in blocks) if h is not None]
    if title is None:
        return "\n".join(parts) + "\n"
    doc = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
           "style-src 'unsafe-inline'\">",
           f"<title>{_esc(title)}</title>", f"<style>{css}</style></head><body>", *parts, "</body></html>"]
    return "\n".join(doc) + "\n"


# ----------------------------------------------------------------------------- Markdown
def _md_text_table(b: TextTable) -> str:
    out = ["| " + " | ".join(_md(h) for h in b.headers) + " |", "|" + "|".join(":---" for _ in b.headers) + "|"]
    out += ["| " + " | ".join(_cell_md(c) for c in r) + " |" for r in b.rows]
    if not b.rows:
        out.append("| " + " | ".join([b.empty] + [""] * (len(b.headers) - 1)) + " |")
    return "\n".join(out) + "\n"


def _md_lines(b) -> list[str]:
    if isinstance(b, Header):
        out = [f"# {_md(b.title)}", ""]
        if b.banner:
            out += [f"> **{_md(b.banner)}**", ""]
        return out + ([_md(b.subtitle), ""] if b.subtitle else [])
    if isinstance(b, Heading):
        return ["#" * b.level + f" {b.text}", ""]
    if isinstance(b, Paragraph):
        return [(f"**{_md(b.strong)}** " if b.strong else "") + _md(b.text), ""]
    if isinstance(b, Callout):
        return [f"> **{_md(b.title)}**", ">"] + [f"> - {_md(i)}" for i in b.items] + [""]
    if isinstance(b, DefinitionList):
        return [f"- **{_md(k)}**: {_md(v)}" for k, v in b.items] + [""]
    if isinstance(b, TextTable):
        return [_md_text_table(b), ""]
    if isinstance(b, Table):
        return [b.as_markdown(), ""]
    if isinstance(b, Figure):
        return [f"![{_md(b.caption)}]({b.href})", "", f"*{_md(b.caption)}*", ""]
    if isinstance(b, Details):
        inner = [x for c in b.blocks for x in _md_lines(c)]
        if b.open:
            return inner
        while inner and inner[-1] == "":
            inner.pop()
        return [f"<details><summary>{_esc(b.summary)}</summary>", "", "\n".join(inner), "</details>", ""]
    if isinstance(b, Only):
        return [x for c in b.blocks for x in _md_lines(c)] if "md" in b.formats else []
    if isinstance(b, (Comment, PageBreak, Footer)):
        return []
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_markdown(blocks: Iterable[Block]) -> str:
    """The blocks as Markdown (tables as pipe tables, folded content as ``<details>``, figures as links)."""
    lines = [x for b in blocks for x in _md_lines(b)]
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------- LaTeX
def _latex_block(b) -> str | None:
    if isinstance(b, Comment):
        return "\n".join(f"% {ln}" for ln in b.lines) + "\n"
    if isinstance(b, PageBreak):
        return "\\clearpage\n"
    if isinstance(b, Table):
        return b.as_latex()
    if isinstance(b, Header):
        return f"\\section*{{{latex_escape(b.title)}}}\n" + (f"\\textbf{{{latex_escape(b.banner)}}}\n" if b.banner else "")
    if isinstance(b, Heading):
        return f"\\{'sub' * (b.level - 2)}section*{{{latex_escape(b.text)}}}\n"
    if isinstance(b, Paragraph):
        return (f"\\textbf{{{latex_escape(b.strong)}}} " if b.strong else "") + latex_escape(b.text) + "\n"
    if isinstance(b, Callout):
        return (f"\\paragraph{{{latex_escape(b.title)}}}\n\\begin{{itemize}}\n"
                + "".join(f"\\item {latex_escape(i)}\n" for i in b.items) + "\\end{itemize}\n")
    if isinstance(b, DefinitionList):
        return ("\\begin{description}\n" + "".join(f"\\item[{latex_escape(k)}] {latex_escape(v)}\n" for k, v in b.items)
                + "\\end{description}\n")
    if isinstance(b, TextTable):
        body = "".join(" & ".join(_cell_latex(c) for c in r) + " \\\\\n" for r in b.rows)
        return (f"\\begin{{tabular}}{{{'l' * max(len(b.headers), 1)}}}\n\\toprule\n"
                + " & ".join(latex_escape(h) for h in b.headers) + " \\\\\n\\midrule\n" + body
                + "\\bottomrule\n\\end{tabular}\n")
    if isinstance(b, Figure):
        return (f"\\begin{{figure}}[htbp]\\centering\\includegraphics[width=\\linewidth]{{{b.href}}}"
                f"\\caption{{{latex_escape(b.caption)}}}\\end{{figure}}\n") if b.href else None
    if isinstance(b, (Details, Only)):
        if isinstance(b, Only) and "latex" not in b.formats:
            return None
        inner = [x for x in (_latex_block(c) for c in b.blocks) if x is not None]
        return "\n".join(inner) if inner else None
    if isinstance(b, Footer):
        return None
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_latex(blocks: Iterable[Block]) -> str:
    """The blocks as LaTeX (tables as booktabs ``table`` environments: ``\\usepackage{booktabs}``)."""
    return "\n".join(x for x in (_latex_block(b) for b in blocks) if x is not None)
