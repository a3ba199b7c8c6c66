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

Core package (stage 0): :mod:`~eventstudy.content.cells` (formats, escaping), :mod:`~eventstudy.content.table`
(:class:`Table`), :mod:`~eventstudy.content.blocks` (blocks, renderers). Imports nothing else of eventstudy;
no file is read or written here.
"""
from eventstudy.content.blocks import (Block, Callout, Comment, DefinitionList, Details, Figure, Footer, Header, Heading,
                                       Link, Only, PageBreak, Paragraph, Summary, TextTable, render_html, render_latex,
                                       render_markdown)
from eventstudy.content.cells import (KINDS, NA, SIMULATED, STARS_NOTE, format_value, guess_kind, latex_escape,
                                      md_escape, simulated_title, stars)
from eventstudy.content.table import Column, Table, print_rich

__all__ = [
    "NA", "SIMULATED", "STARS_NOTE", "KINDS", "stars", "simulated_title", "format_value", "guess_kind", "latex_escape",
    "md_escape", "Column", "Table", "print_rich", "Summary",
    "Block", "Header", "Heading", "Paragraph", "Callout", "DefinitionList", "TextTable", "Link", "Figure",
    "Details", "Only", "Comment", "PageBreak", "Footer",
    "render_html", "render_markdown", "render_latex",
]
