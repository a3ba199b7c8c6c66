"""The study report as content: :func:`report_blocks` lists the blocks of every section
(:mod:`eventstudy.present.report_sections`, one function per section) and
:func:`eventstudy.content.render_html` / :func:`~eventstudy.content.render_markdown` /
:func:`~eventstudy.content.render_latex` render them, each one loop over the blocks.

- HTML: one self-contained document, CSS inline, figures as base64 data URIs, no external
  requests; a red SIMULATED banner when the run is on the bundled simulated market;
- Markdown: the same sections, figures as relative links;
- LaTeX (:func:`latex_blocks`): headline, impact, futures and cross-sectional tables as booktabs
  ``table`` environments (``\\usepackage{booktabs}``).

Section headings and captions that depend on the study come from the run's labels
(``run.labels.sections``: ``instruments``, ``timeline``, ``timeline_title``, ``single_instruments``). The files are written
by :func:`eventstudy.outputs.report_files.write_report`.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from eventstudy.content import (SIMULATED, Block, Comment, Footer, Header, PageBreak, render_html as html_doc,
                                render_latex as latex_doc, render_markdown as markdown_doc)
from eventstudy.errors import EventStudyError
from eventstudy.present.formats import REPORT_FORMATS
from eventstudy.present import report_sections as S
from eventstudy.present import tables as T
from eventstudy.present.report_content import ReportContent, chunks, day0_summary, drop_columns, shared_day0

__all__ = ["SECTIONS", "CSS", "SIMULATED_BANNER", "REPORT_FORMATS", "check_formats", "sections", "report_blocks",
           "latex_blocks", "render_html", "render_markdown", "render_latex", "ReportContent", "day0_summary",
           "shared_day0"]

#: (anchor, heading) of every report section, in order (HTML h2 and Markdown ##), with the neutral heading of
#: the study-dependent ``instruments`` section; :func:`sections` gives them under a study's labels.
SECTIONS: tuple[tuple[str, str], ...] = S.SECTION_KEYS

SIMULATED_BANNER = (f"{SIMULATED} DATA — the bundled offline market, not market data. "
                    "The numbers show how the method works; they say nothing about real markets.")



def check_formats(formats) -> tuple[str, ...]:
    """The report formats asked for, lower-cased; an error naming the first unknown one."""
    formats = tuple(str(f).lower().strip() for f in formats)
    bad = [f for f in formats if f not in REPORT_FORMATS]
    if bad:
        raise EventStudyError(f"report format {bad[0]!r} is not one of {', '.join(REPORT_FORMATS)}")
    return formats


def sections(labels=None) -> tuple[tuple[str, str], ...]:
    """(anchor, heading) of every section under a study's ``labels`` (:data:`SECTIONS` renamed by the study)."""
    return S.section_headings(labels)


CSS = """
:root{--fg:#1d2433;--muted:#5b6475;--line:#d9dee7;--bg:#ffffff;--alt:#f6f8fb;--neg:#b3261e;--pos:#1b7a3a;--accent:#1f4e8c}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1480px;margin:0 auto;padding:0 24px 64px}
header.es-head{max-width:1480px;margin:0 auto;padding:24px 24px 8px}
h1{font-size:26px;margin:8px 0 4px}
h2{font-size:20px;margin:36px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:20px 0 6px}
p{margin:6px 0}
a{color:var(--accent)}
.es-banner{background:#b3261e;color:#fff;font-weight:700;font-size:17px;padding:12px 24px;text-align:center;letter-spacing:.02em}
.es-sub{color:var(--muted);margin:0}
nav.es-toc{margin:12px 0 0;font-size:13px;color:var(--muted)}
nav.es-toc a{margin-right:12px;white-space:nowrap}
.es-callout{border-left:4px solid #e0a100;background:#fff8e1;padding:8px 12px;margin:10px 0}
.es-table-wrap{overflow-x:auto;margin:8px 0 14px}
table.es-table{border-collapse:collapse;font-size:13px;min-width:40%}
table.es-table caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0 6px;color:var(--fg)}
table.es-table th{background:#eef2f8;border-bottom:2px solid #b8c2d3;padding:5px 6px;vertical-align:bottom;white-space:nowrap}
table.es-table td{border-bottom:1px solid var(--line);padding:4px 6px;vertical-align:top}
table.es-table tbody tr:nth-child(even){background:var(--alt)}
table.es-table .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.es-table .txt{text-align:left}
table.es-table td.long{min-width:240px;max-width:560px;font-size:12px;color:#333}
table.es-table td.neg{color:var(--neg)}
table.es-table td.pos{color:var(--pos)}
table.es-table td.na{color:#9aa3b2}
table.es-table .nowrap{white-space:nowrap}
table.es-table tr.es-break td{border-top:2px solid #9fb0c8}
.es-callout ul{margin:4px 0 0;padding-left:20px}
table.es-simulated caption::before{content:"";}
.es-note{font-size:12px;color:var(--muted);margin:2px 0;max-width:1100px}
details{margin:8px 0 12px;border:1px solid var(--line);border-radius:6px;padding:6px 10px;background:#fcfdfe}
details>summary{cursor:pointer;font-weight:600;color:var(--accent)}
figure{margin:14px 0 22px;border:1px solid var(--line);border-radius:6px;padding:10px;background:#fff}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:13px;color:var(--muted);margin-top:6px}
dl.es-setup{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:8px 0}
dl.es-setup dt{font-weight:600;color:var(--muted)}
dl.es-setup dd{margin:0}
code{background:#f1f3f7;padding:0 3px;border-radius:3px;font-size:13px}
footer{color:var(--muted);font-size:12px;margin-top:40px;border-top:1px solid var(--line);padding-top:8px}
@media print{.es-banner{-webkit-print-color-adjust:exact;print-color-adjust:exact} details{border:none}}
"""



def _header(c: ReportContent) -> Header:
    run = c.run
    sub = f"{run.data_label} · model {run.config.model} · generated {c.generated} · eventstudy {c.version}"
    return Header(c.title, sub, SIMULATED_BANNER if c.sim else "", sections(c.labels))


def report_blocks(run, figures: Mapping[str, tuple] | None = None, title: str | None = None, figures_note: str = "",
                  content: ReportContent | None = None) -> list[Block]:
    """The report of ``run`` as blocks, section by section (:mod:`eventstudy.present.report_sections`).

    ``figures``: name -> (image bytes, MIME type, link relative to the report's folder) of the figures
    to show (from :func:`eventstudy.outputs.figure_files.save_plots`); ``figures_note``: what to say
    when there are none. ``content``: the report's computed tables when already built."""
    c = content or ReportContent(run, title)
    return [_header(c), *S.how_to_read(c), *S.headline(c), *S.events(c), *S.day0(c), *S.universe(c), *S.setup(c),
            *S.impact(c), *S.instruments(c), *S.cross_section(c), *S.figures(c, figures, figures_note),
            *S.confounders(c), *S.excluded(c), *S.regressions(c), *S.methods(c),
            Footer(f"{c.title} · {run.data_label}")]


def render_html(run, figures: Mapping[str, tuple] | None = None, title: str | None = None,
                figures_note: str = "", content: ReportContent | None = None) -> str:
    """The whole report as one self-contained HTML document (:func:`report_blocks`)."""
    blocks = report_blocks(run, figures, title, figures_note, content)
    return html_doc(blocks, title=blocks[0].title, css=CSS)


def render_markdown(run, figures: Mapping[str, tuple] | None = None, title: str | None = None,
                    figures_note: str = "", content: ReportContent | None = None) -> str:
    """The report as Markdown; figures are links relative to the report's folder."""
    return markdown_doc(report_blocks(run, figures, title, figures_note, content))


def _latex_table(df: pd.DataFrame, label: str, extra_note: str = ""):
    t = T.as_table(df, label=label, size=r"\scriptsize", tabcolsep="3pt")
    return t.replace(notes=t.notes + (extra_note,)) if extra_note else t


def _latex_parts(df: pd.DataFrame, label: str, max_rows: int, extra_note: str = "") -> list[Block]:
    """``df`` split by event into tables of at most about ``max_rows`` rows, titled 'part i of n'."""
    parts = chunks(df, "event_id", max_rows)
    out = []
    for i, p in enumerate(parts):
        if len(parts) > 1:
            p.attrs["title"] = df.attrs["title"] + f" (part {i + 1} of {len(parts)})"
        out.append(_latex_table(p, label + (f"-{i + 1}" if len(parts) > 1 else ""), extra_note))
    return out


def _stem(w) -> str:
    return f"{w[0]}_{w[1]}".replace("-", "m")


def _latex_impact(c: ReportContent, w, max_rows: int, shared: str) -> list[Block]:
    # on paper: the lead test with its adjusted p-values, the others' statistics only (BMP t, which
    # KP adjusts, is in the HTML and CSV), so that the table fits 2 cm margins
    imp = drop_columns(c.impact_window(w), ["note", "day0", "window", "t_cross_section_p", "grank_p",
                                            "sign_generalized_p", "bmp_p", "bmp_stat"])
    imp.attrs["columns"] = [[col, lab, k] if col != "group" else ["group_short", "Group", "text"]
                            for col, lab, k in imp.attrs["columns"]]
    imp["group_short"] = imp["group_id"].map(lambda g: c.labels.label(g, short=True))
    return [*_latex_parts(imp, f"tab:impact-{_stem(w)}", max_rows, shared), PageBreak()]


def latex_blocks(run, max_rows: int = 45, content: ReportContent | None = None) -> list[Block]:
    """Headline, impact, futures and cross-sectional tables (at most about ``max_rows`` rows each; long
    tables split by event), as blocks for :func:`eventstudy.content.render_latex`."""
    c = content or ReportContent(run, None)
    sim = f"{SIMULATED} data. " if c.sim else ""
    out: list[Block] = [Comment(("Tables of an eventstudy run: needs \\usepackage{booktabs} (UTF-8 input); the wide "
                                 "tables fit", "2 cm margins (\\usepackage[margin=2cm]{geometry}) or a landscape page.",
                                 f"{sim}Data: {T.latex_escape(run.data_label)}"))]
    shared = " ".join(c.shared_lines())
    if len(c.primary):
        out.append(_latex_table(drop_columns(c.primary, ["confounders"]), "tab:primary", " ".join(c.findings)))
    for w in c.windows:
        h = c.headline if w == c.lead else c.view(T.headline_table(run, window=w, impact=c.imp))
        out.append(_latex_table(drop_columns(h, ["note"]), f"tab:headline-{_stem(w)}", shared))
    out.append(PageBreak())
    for w in c.windows:
        out += _latex_impact(c, w, max_rows, shared)
    if len(c.fut):
        for w in c.windows:
            out += _latex_parts(drop_columns(c.futures_window(w), ["note"]), f"tab:futures-{_stem(w)}", max_rows)
        out.append(PageBreak())
    if len(c.cs_all):
        for w in c.windows:
            out += [*_latex_parts(c.cs_window(w), f"tab:cross-section-{_stem(w)}", max_rows), PageBreak()]
    return out


def render_latex(run, max_rows: int = 45, content: ReportContent | None = None) -> str:
    """The report's tables as LaTeX (:func:`latex_blocks`), for a document with ``\\usepackage{booktabs}``."""
    return latex_doc(latex_blocks(run, max_rows, content))
