"""The :class:`Table` of the content model: a frame and how to show it, in Markdown, HTML, LaTeX and
terminal text (see :mod:`eventstudy.content`)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np
import pandas as pd

from eventstudy.content.cells import (NA, format_value, guess_kind, html_text, is_missing, is_numeric, latex_cell,
                                      latex_escape, md_escape, simulated_title, stars)

__all__ = ["Column", "Table", "print_rich"]


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
                txt = [t if is_missing(v) else t + stars(float(p) if not is_missing(p) else float("nan"))
                       for t, v, p in zip(txt, vals, ps)]
            sg = ([0 if is_missing(v) else int(np.sign(float(v))) for v in vals]
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
        out.append("|" + "|".join("---:" if is_numeric(k) else ":---" for k in kinds) + "|")
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
        ida = f' id="{html_text(self.table_id)}"' if self.table_id else ""
        simc = " es-simulated" if self.simulated else ""
        out = [f'<div class="es-table-wrap"><table class="es-table{simc}"{ida}>']
        if t:
            out.append(f"<caption>{html_text(t)}</caption>")
        out.append("<thead><tr>" + "".join(
            f'<th class="{"num" if is_numeric(k) else "txt"}">{html_text(lab)}</th>' for lab, k in zip(labels, kinds))
            + "</tr></thead>")
        out.append("<tbody>")
        for i, (r, sg) in enumerate(zip(rows, signs)):
            tds = []
            for j, (c, k, s) in enumerate(zip(r, kinds, sg)):
                cls = ["num" if is_numeric(k) else "txt"]
                cls += ["neg"] if s < 0 else ["pos"] if s > 0 else []
                if c == NA:
                    cls.append("na")
                if k == "text" and long_col[j] and c:
                    cls.append("long")
                elif k == "text" and short_col[j]:
                    cls.append("nowrap")
                if k == "date":
                    cls.append("nowrap")
                tds.append(f'<td class="{" ".join(cls)}">{html_text(c)}</td>')
            new_block = brk is not None and i > 0 and brk[i] != brk[i - 1]
            out.append(('<tr class="es-break">' if new_block else "<tr>") + "".join(tds) + "</tr>")
        if not rows:
            out.append(f'<tr><td class="txt na" colspan="{max(len(labels), 1)}">(no rows)</td></tr>')
        out.append("</tbody></table>")
        if notes and self.notes:
            out += [f'<p class="es-note">{html_text(n)}</p>' for n in self.notes]
        out.append("</div>")
        return "\n".join(out) + "\n"

    def as_latex(self, notes: bool = True, placement: str = "htbp") -> str:
        """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``) with caption and label."""
        labels, kinds, rows, _ = self.cells()
        cap = self.full_title or "Table"
        align = "".join("r" if is_numeric(k) else "l" for k in kinds) or "l"
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
            out.append(" & ".join(latex_cell(c, k) for c, k in zip(r, kinds)) + r" \\")
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
        out.append(max(word, cell) if (is_numeric(k) or k == "date") else max(word, min(cell, 16)))
    return out


def _footnote_long_text(labels, kinds, rows, mins, full) -> list[str]:
    """Long text columns (after the first number) replaced by ``[i]`` markers; returns the footnotes."""
    footnotes: list[str] = []
    first_num = next((j for j, k in enumerate(kinds) if is_numeric(k)), len(kinds))
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
    while lead < len(kinds) and not is_numeric(kinds[lead]) and lead < 4:
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
            if is_numeric(kinds[j]) or kinds[j] == "date":
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


