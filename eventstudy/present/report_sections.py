"""The sections of the study report, one function each (the alphalens tear-sheet idea): every function
takes the report's :class:`~eventstudy.present.report_content.ReportContent` and returns its blocks
(:mod:`eventstudy.content`); :func:`eventstudy.present.report.report_blocks` lists them in order.
"""
from __future__ import annotations

from typing import Callable, Mapping

import pandas as pd

from eventstudy.content import (Block, Callout, DefinitionList, Details, Figure, Heading, Link, Only, Paragraph,
                                Table, TextTable)
from eventstudy.present import tables as T
from eventstudy.present.report_content import ReportContent, text_cell

__all__ = ["SECTION_KEYS", "section_headings", "FIGURE_CAPTIONS", "figure_caption", "FigureImage",
           "how_to_read", "headline", "events", "day0", "universe", "setup", "impact", "instruments", "cross_section",
           "figures", "confounders", "excluded", "regressions", "methods", "NO_INSTRUMENTS", "NO_CROSS_SECTION"]

#: (anchor, neutral heading) of every report section, in order; a study renames ``instruments`` (the groups left
#: out of the pooled equities, e.g. futures and an index) in its labels.
SECTION_KEYS: tuple[tuple[str, str], ...] = (
    ("how-to-read", "How to read this"),
    ("headline", "Headline"),
    ("events", "Events"),
    ("day0", "Day 0 by event and calendar"),
    ("universe", "Universe by exposure group"),
    ("setup", "Model, windows and data"),
    ("impact", "Impact by exposure group"),
    ("instruments", T.SECTION_DEFAULTS["instruments"]),
    ("cross-section", "Group differences (spread regressions)"),
    ("figures", "Figures"),
    ("confounders", "Confounders"),
    ("excluded", "Excluded securities"),
    ("regressions", "All regressions"),
    ("methods", "Methods"),
)

FIGURE_CAPTIONS = {
    "caar_paths": "Cumulative average abnormal return by exposure group around day 0.",
    "heatmap": "CAAR by event and exposure group (stars: Kolari–Pynnönen test).",
    "residual_correlation": "Cross-correlation of estimation-window residuals: what the Kolari–Pynnönen test adjusts for.",
}

NO_INSTRUMENTS = "No futures or index in this run (no prices, or regressions not run)."
NO_CROSS_SECTION = "No group differences in this run (they need two exposure groups with estimated pairs)."

#: a figure of the report: (image bytes, MIME type, link relative to the report's folder)
FigureImage = tuple


def section_headings(labels) -> tuple[tuple[str, str], ...]:
    """(anchor, heading) of every section under a study's ``labels`` (``instruments`` renamed by the study)."""
    return tuple((k, T.section_title(labels, k) if k in T.SECTION_DEFAULTS else h) for k, h in SECTION_KEYS)


def figure_caption(name: str, labels=None) -> str:
    """Caption of a figure of :func:`eventstudy.present.plots.figure_builders`."""
    if name == "timeline":
        return T.section_title(labels, "timeline")
    if name in FIGURE_CAPTIONS:
        return FIGURE_CAPTIONS[name]
    if name.startswith("ar_bars_"):
        return f"Abnormal returns by security, event {name[len('ar_bars_'):]}."
    return name.replace("_", " ")


def _h2(c: ReportContent, key: str) -> Heading:
    return Heading(dict(section_headings(c.labels))[key], 2, key)


def _table(df: pd.DataFrame, **options) -> Table:
    return T.as_table(df, **options)


def how_to_read(c: ReportContent) -> list[Block]:
    """What the numbers mean, in plain words."""
    return [_h2(c, "how-to-read"), *(Paragraph(p) for p in c.how_to_read())]


def headline(c: ReportContent) -> list[Block]:
    """Findings of the primary hypotheses, events sharing a day 0, the headline table."""
    out: list[Block] = [_h2(c, "headline")]
    if len(c.primary):
        out += [Callout("Findings (primary hypotheses, adjusted for multiple testing)", tuple(c.findings), "findings"),
                _table(c.primary, table_id="primary-table")]
    if c.shared:
        out.append(Callout("Same window, counted once.", tuple(c.shared_lines())))
    return out + [_table(c.headline, table_id="headline-table")]


def events(c: ReportContent) -> list[Block]:
    """The events with their announcement time and source."""
    rows = tuple((r["event_id"], r["when"], r["label"], r["category"], Link(r["source"]), r["notes"])
                 for r in c.events_rows())
    return [_h2(c, "events"), TextTable(("Event", "Announced", "What", "Cat.", "Source", "Notes"), rows,
                                        long_cols=(2, 5))]


def day0(c: ReportContent) -> list[Block]:
    """Day 0 of each event on each calendar, and why."""
    rows = tuple((r["event_id"], r["calendar"], r["announced"], r["day0"], r["instruments"], r["reason"])
                 for r in c.day0_rows())
    return [_h2(c, "day0"),
            Paragraph("Day 0 is the first session of each instrument's own calendar that could react to the "
                      "announcement (news after the close counts from the next session)."),
            TextTable(("Event", "Calendar", "Announced at", "Day 0", "Instruments", "Why"), rows, long_cols=(5,))]


def _members(u: pd.DataFrame) -> tuple:
    return tuple((t, text_cell(n), text_cell(b))
                 for t, n, b in zip(u["ticker"], u.get("name", [""] * len(u)), u["benchmark"]))


def universe(c: ReportContent) -> list[Block]:
    """HTML: one row per group and the members folded; Markdown: each group's members."""
    groups = c.universe_groups()
    lab = c.labels.label
    summary = TextTable(("Group", "N", "Benchmark", "Tickers"), tuple(
        (lab(g), str(len(u)),
         ", ".join(dict.fromkeys(x for x in u["benchmark"] if isinstance(x, str) and x)) or "–",
         ", ".join(u["ticker"])) for g, u in groups), numeric=(False, True, False, False), long_cols=(3,))
    folded = Details(f"All {len(c.run.universe)} instruments with names and benchmarks", tuple(
        TextTable(("Ticker", "Name", "Benchmark"), _members(u), caption=f"{lab(g)} ({len(u)})") for g, u in groups))
    per_group = []
    for g, u in groups:
        per_group += [Paragraph(f"({len(u)})", strong=lab(g)), TextTable(("Ticker", "Name", "Benchmark"), _members(u))]
    return [_h2(c, "universe"), Only(("html",), (summary, folded)), Only(("md", "latex"), tuple(per_group))]


def setup(c: ReportContent) -> list[Block]:
    """Data, model, windows and tests of the run."""
    return [_h2(c, "setup"), DefinitionList(tuple(c.setup_items()))]


def impact(c: ReportContent) -> list[Block]:
    """Every window folded (HTML; the lead window open), the lead window shown (Markdown)."""
    out: list[Block] = [_h2(c, "impact"),
                        Paragraph("One row per event, exposure group and window. Notes flag events sharing a day 0, "
                                  "other events' day 0 inside the window and confounders inside it.")]
    for w in c.windows:
        out.append(Details(f"Window {T.window_label(*w)}",
                           (_table(c.impact_window(w, compact=True), break_on="event_id"),), open=(w == c.lead)))
    return out


def _lead_then_others(c: ReportContent, table_for: Callable, has_rows: bool, empty: str) -> list[Block]:
    """The lead window's table, the other windows folded below it (HTML: together; Markdown: each)."""
    if not has_rows:
        return [Paragraph(empty)]
    out: list[Block] = [_table(table_for(c.lead), break_on="event_id")]
    others = [w for w in c.windows if w != c.lead]
    if others:
        out.append(Only(("html",), (Details("Other windows", tuple(
            _table(table_for(w), break_on="event_id") for w in others)),)))
        out.append(Only(("md", "latex"), tuple(
            Details(f"Window {T.window_label(*w)}", (_table(table_for(w)),)) for w in others)))
    return out


def instruments(c: ReportContent) -> list[Block]:
    """The groups left out of the pooled equities (futures, an index ...): event-dummy regressions."""
    return [_h2(c, "instruments"), *_lead_then_others(c, c.futures_window, bool(len(c.fut)), NO_INSTRUMENTS)]


def cross_section(c: ReportContent) -> list[Block]:
    """Group differences against the base group (spread regressions)."""
    return [_h2(c, "cross-section"), *_lead_then_others(c, c.cs_window, bool(len(c.cs_all)), NO_CROSS_SECTION)]


def figures(c: ReportContent, images: Mapping[str, FigureImage] | None, note: str = "") -> list[Block]:
    """The figures (``images``: name -> (bytes, MIME type, link relative to the report), from the figure
    files), or ``note`` saying why there are none."""
    if not images:
        return [_h2(c, "figures"), Paragraph(note or "Figures were not requested.")]
    return [_h2(c, "figures"), *(Figure(figure_caption(name, c.labels), data, mime, href)
                                 for name, (data, mime, href) in images.items())]


def confounders(c: ReportContent) -> list[Block]:
    """Other news in the event windows, with the windows that contain it."""
    conf = c.run.confounders
    if conf is None or not len(conf):
        return [_h2(c, "confounders"), Paragraph("No confounders were given for this run.")]
    rows = tuple((text_cell(pd.Timestamp(d)), m, ds, h, Link(text_cell(s)))
                 for d, m, ds, s, h in zip(conf["date"], conf["market"], conf["description"], conf["source"],
                                           c.conf_hits))
    return [_h2(c, "confounders"),
            TextTable(("Date", "Market", "What", "Inside the windows of", "Source"), rows, long_cols=(2, 3))]


def excluded(c: ReportContent) -> list[Block]:
    """Securities left out before estimation, and pairs or windows left out of an event."""
    before = TextTable(("Ticker", "Name", "Event", "Reason"),
                       tuple((r["ticker"], r["name"], r["event"], r["reason"]) for r in c.excluded_before()),
                       long_cols=(3,))
    pairs = c.excluded_pairs()
    tab = TextTable(("Event", "Ticker", "Name", "Window", "Reason"),
                    tuple((r["event"], r["ticker"], r["name"], r["window"], r["reason"]) for r in pairs),
                    long_cols=(4,))
    html_pairs = Details(f"{len(pairs)} exclusions", (tab,), open=len(pairs) <= 20) if pairs else tab
    return [_h2(c, "excluded"), Heading("Left out before estimation", 3), before,
            Heading("Left out of an event or a window", 3), Only(("html",), (html_pairs,)),
            Only(("md", "latex"), (tab,))]


def regressions(c: ReportContent) -> list[Block]:
    """The lead window's regression rows, folded."""
    return [_h2(c, "regressions"), Details(c.reg_summary(), (_table(c.reg),))]


def methods(c: ReportContent) -> list[Block]:
    """How the numbers were computed."""
    return [_h2(c, "methods"), *(Paragraph(p) for p in c.methods())]
