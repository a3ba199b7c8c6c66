"""The content model (eventstudy.content): one Table, several formats; report blocks rendered by one
loop per format; result summaries as content (text, HTML) that survive pickling."""
from __future__ import annotations

import pickle
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from eventstudy.content import (Callout, Column, Comment, DefinitionList, Details, Figure, Footer, Header, Heading,
                                Link, Only, PageBreak, Paragraph, Summary, Table, TextTable, render_html,
                                render_latex, render_markdown, simulated_title)


def _table(**kw) -> Table:
    df = pd.DataFrame({"g": ["a", "b|c"], "caar_pct": [1.234, -0.5], "p": [0.004, 0.2], "n": [3, 4]})
    return Table(df, (Column("g", "Group"), Column("caar_pct", "CAAR (%)", "pct"), Column("p", "p", "p"),
                      Column("n", "N", "int")), title="Impact", stars={"caar_pct": "p"}, notes=("note 1",), **kw)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.tags, self._in = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in = tag in ("td", "th")

    def handle_endtag(self, tag):
        self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells.append(data)


def test_table_formats_show_the_same_cells():
    t = _table()
    md = t.as_markdown()
    assert md.splitlines()[:5] == ["**Impact**", "", "| Group | CAAR (%) | p | N |", "|:---|---:|---:|---:|",
                                   "| a | +1.23\\*\\*\\* | 0.004 | 3 |"]
    assert "| b\\|c | -0.50 | 0.200 | 4 |" in md and "*note 1*  " in md
    p = _Cells()
    p.feed(t.as_html())
    assert p.cells == ["Group", "CAAR (%)", "p", "N", "a", "+1.23***", "0.004", "3", "b|c", "-0.50", "0.200", "4"]
    tex = t.as_latex()
    assert r"a & $+$1.23$^{***}$ & 0.004 & 3 \\" in tex and r"b\textbar{}c & $-$0.50 & 0.200 & 4 \\" in tex
    assert "\\begin{tabular}{lrrr}" in tex and "\\caption{Impact}" in tex
    text = t.as_text(width=80)
    assert "+1.23***" in text and "-0.50" in text and "note 1" in text


def test_simulated_title_is_spelled_once():
    t = _table(simulated=True)
    assert t.full_title == "SIMULATED data — Impact"
    assert simulated_title("SIMULATED already", True) == "SIMULATED already"
    assert simulated_title("", True) == "" and simulated_title("x", False) == "x"
    assert "<caption>SIMULATED data — Impact</caption>" in t.as_html()


def test_table_from_frame_attrs_and_column_selection():
    df = pd.DataFrame({"x_stat": [2.5], "x_p": [0.03], "when": pd.to_datetime(["2026-01-07"])})
    t = Table.from_frame(df)                     # no attrs: every column, kinds guessed, stars for <x>_stat
    labels, kinds, rows, _ = t.cells()
    assert kinds == ["stat", "p", "date"] and rows == [["2.50**", "0.030", "2026-01-07"]]
    df.attrs.update(title="T", columns=[("x_stat", "t", "stat"), ("when", "Day", "date")], stars={"x_stat": "x_p"},
                    notes=["n"])
    t = Table.from_frame(df)
    assert t.title == "T" and t.cells()[2] == [["2.50**", "2026-01-07"]] and t.notes == ("n",)
    assert t.without("x_stat").cells()[0] == ["Day"]
    assert t.where(df["x_stat"] > 5).cells()[2] == []


def _blocks():
    return [Header("Title", "sub", "BANNER", (("a", "Section A"),)),
            Heading("Section A", 2, "a"), Paragraph("x < y & z", strong="Lead"),
            Callout("Box", ("one", "two"), "findings"), DefinitionList((("k", "v"),)),
            TextTable(("Src", "N"), (((Link("https://www.example.org/p?q=1")), "2"),), numeric=(False, True)),
            _table(table_id="t1"), Details("More", (Paragraph("hidden"),)), Details("Open", (Paragraph("shown"),), open=True),
            Only(("html",), (Paragraph("html only"),)), Only(("md",), (Paragraph("md only"),)),
            Figure("Cap", b"\x89PNG", "image/png", "figures/a.png"), Comment(("c",)), PageBreak(), Footer("end")]


def test_render_html_markdown_latex_from_one_block_list():
    b = _blocks()
    html = render_html(b, title="Doc", css="body{}")
    assert html.startswith("<!DOCTYPE html>") and "<title>Doc</title>" in html and "<style>body{}</style>" in html
    assert '<div class="es-banner" role="alert">BANNER</div>' in html and '<a href="#a">Section A</a>' in html
    assert '<h2 id="a">Section A</h2>' in html and "<p><strong>Lead</strong> x &lt; y &amp; z</p>" in html
    assert '<div class="es-callout es-findings"><strong>Box</strong><ul><li>one</li><li>two</li></ul></div>' in html
    assert '<a href="https://www.example.org/p?q=1" rel="noopener noreferrer">example.org</a>' in html
    assert 'id="t1"' in html and "<details><summary>More</summary>" in html and "<details open>" in html
    assert "html only" in html and "md only" not in html
    assert 'src="data:image/png;base64,iVBORw=="' in html and "<footer>end</footer>" in html
    md = render_markdown(b)
    assert md.startswith("# Title\n\n> **BANNER**\n\nsub\n\n## Section A\n\n**Lead** x &lt; y & z\n")
    assert "> **Box**\n>\n> - one\n> - two\n" in md and "- **k**: v" in md
    assert "[example.org](https://www.example.org/p?q=1)" in md
    assert "<details><summary>More</summary>\n\nhidden\n</details>" in md
    assert "\nshown\n" in md and "<summary>Open</summary>" not in md      # open content shown unfolded
    assert "md only" in md and "html only" not in md
    assert "![Cap](figures/a.png)\n\n*Cap*" in md and "end" not in md
    tex = render_latex(b)
    assert "% c\n" in tex and "\\clearpage" in tex and "\\section*{Section A}" in tex
    assert "\\begin{table}" in tex and "x \\textless{} y \\& z" in tex and "html only" not in tex


def test_unknown_block_is_an_error():
    with pytest.raises(TypeError, match="not a report block: int"):
        render_markdown([1])


def test_summary_is_text_and_content_and_pickles():
    s = Summary("Results\nline", [Heading("Results", 3), _table()])
    assert s == "Results\nline" and "line" in s and s[:7] == "Results"
    assert "<h3>Results</h3>" in s._repr_html_() and "+1.23***" in s.as_html()
    back = pickle.loads(pickle.dumps(s))
    assert back == s and back.as_html() == s.as_html()


def test_result_summary_and_repr_html(offline_run):
    res = offline_run.result
    s = res.summary()
    assert isinstance(s, Summary) and str(res) == str(s) and str(s).startswith("Event study results")
    html = res._repr_html_()
    p = _Cells()
    p.feed(html)
    assert "table" in p.tags and "Lead test: kolari_pynnonen" in html
    # the HTML table shows the lead test's cells of the text summary: same N and CAAR, pooled cells first
    lead = res.tests[res.tests["test"] == "kolari_pynnonen"]
    first = lead[lead["group"] == res.pooled_group].iloc[0]
    row = p.cells[7:14]
    assert row[:4] == [first["event_id"], first["group"], f"[{first['window_start']},{first['window_end']}]",
                       str(int(first["n"]))]
    assert float(re.match(r"[+-]?\d+\.\d+", row[4]).group()) == pytest.approx(100 * first["caar"], abs=0.005)
    n_rows = min(60, len(lead))
    assert html.count("<tr>") + html.count('<tr class="es-break">') == n_rows + 1


def test_pickled_result_and_run_still_render(offline_run):
    res = pickle.loads(pickle.dumps(offline_run.result))
    assert res._repr_html_() == offline_run.result._repr_html_()
    assert str(res) == str(offline_run.result)
    run = pickle.loads(pickle.dumps(offline_run))
    html = run._repr_html_()
    assert "[SIMULATED] Data:" in html and "<table" in html
    assert str(run).startswith("[SIMULATED] Data:") and str(run).endswith(str(offline_run.result))
