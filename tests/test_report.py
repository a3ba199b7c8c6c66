"""The report: one self-contained HTML file, Markdown twin, LaTeX tables; on the offline study run."""
from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from present_api import report as R
from eventstudy.errors import EventStudyError

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


class _Collect(HTMLParser):
    """Visible text of tables, every tag's URL attributes, and the headings."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.imgs: list[str] = []
        self.h2: list[str] = []
        self.table_text: list[str] = []
        self._in_h2 = False
        self._table = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if k in a:
                self.urls.append((tag, k, a[k]))
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "link" or tag == "script":
            self.urls.append((tag, "tag", a.get("href") or a.get("src") or ""))
        self._in_h2 = tag == "h2"
        if tag == "table":
            self._table += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._table -= 1
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data.strip())
        if self._table > 0:
            self.table_text.append(data)


def _fake_save_plots(run, out_dir, **kw):
    """Stand-in for eventstudy.present.plots.save_plots: two tiny PNGs (the real one is tested once below)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ("caar_paths", "heatmap"):
        (out / f"{name}.png").write_bytes(PNG_1PX)
        (out / f"{name}.svg").write_text("<svg/>")
        paths[name] = out / f"{name}.png"
    return paths


@pytest.fixture(scope="module")
def written(offline_run, tmp_path_factory):
    import eventstudy.outputs.figure_files as plots

    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "save_plots", _fake_save_plots)
        files = R.write_report(offline_run, out, formats=("md", "html", "latex", "csv"))
    return out, files


def test_files_written(written):
    out, w = written
    for name in ("report.html", "report.md", "tables.tex", "impact_table.csv", "futures_table.csv",
                 "cross_section_table.csv", "figures/caar_paths.png", "figures/heatmap.png"):
        assert name in w and w[name].exists() and w[name].stat().st_size > 0
    assert not list(out.glob(".*.tmp"))          # atomic writes left no temporary files


def test_html_sections_banner_and_self_contained(written, offline_run):
    out, _ = written
    text = (out / "report.html").read_text(encoding="utf-8")
    p = _Collect()
    p.feed(text)
    assert p.h2 == [h for _, h in R.SECTIONS]
    assert 'class="es-banner"' in text and "SIMULATED DATA" in text
    assert re.search(r"<h1>SIMULATED", text)
    # images: every one embedded as a PNG data URI, nothing fetched from elsewhere
    assert len(p.imgs) == 2
    assert all(src.startswith("data:image/png;base64,") for src in p.imgs)
    assert base64.b64decode(p.imgs[0].split(",", 1)[1]) == PNG_1PX
    for tag, attr, url in p.urls:
        if tag == "a":
            assert url.startswith(("http://", "https://", "#")), url
        else:
            assert url.startswith("data:"), (tag, attr, url)
    assert "<link" not in text and "<script" not in text and "@import" not in text and "url(" not in text
    # no missing-value words in any table
    visible = " ".join(p.table_text)
    assert not re.search(r"\b(nan|NaN|NaT|None|<NA>)\b", visible)
    # inputs are there: every event with a link to its source, every ticker, the data source
    for ev, src in zip(offline_run.events["event_id"], offline_run.events["source"]):
        assert f">{ev}<" in text
        assert f'href="{html.escape(src)}"' in text
    for t in offline_run.universe["ticker"]:
        assert html.escape(t) in text
    assert html.escape(offline_run.prices.source) in text
    assert "Kolari" in text and "METHODS.md" in text


def test_html_shared_day0_and_confounders(written):
    out, _ = written
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "dual_use_ban, china_daily_ree, japan_protest share day 0 2026-01-07 on XTKS" in text
    assert "Goldman" in text                    # a confounder of 2026-01-07 from the packaged list
    assert "<details" in text and "regression rows" in text


def test_day0_summary_collapses_per_calendar(offline_run):
    d = R.day0_summary(offline_run)
    audit = offline_run.day0
    assert d["n"].sum() == len(audit)
    assert len(d) == audit.groupby(["event_id", "calendar"]).ngroups   # one day 0 and reason per event x calendar
    row = d[(d["event_id"] == "dual_use_ban") & (d["calendar"] == "XTKS")].iloc[0]
    assert row["day0"] == pd.Timestamp("2026-01-07")
    assert row["n"] == (audit["event_id"].eq("dual_use_ban") & audit["calendar"].eq("XTKS")).sum()


def test_markdown_twin(written):
    out, _ = written
    md = (out / "report.md").read_text(encoding="utf-8")
    heads = [l[3:] for l in md.splitlines() if l.startswith("## ")]
    assert heads == [h for _, h in R.SECTIONS]
    assert md.startswith("# SIMULATED") and "**SIMULATED DATA" in md
    assert "![" in md and "](figures/caar_paths.png)" in md
    assert (out / "figures/caar_paths.png").exists()
    tables = "\n".join(l for l in md.splitlines() if l.startswith("|"))
    assert not re.search(r"\b(nan|NaN|NaT|None)\b", tables)


def test_latex_file(written):
    out, _ = written
    tex = (out / "tables.tex").read_text(encoding="utf-8")
    n = tex.count("\\begin{table}")
    assert n >= 4 and n == tex.count("\\end{table}") == tex.count("\\bottomrule") == tex.count("\\caption{")
    assert len(set(re.findall(r"\\label\{([^}]+)\}", tex))) == n          # unique labels
    for cap in re.findall(r"\\caption\{(.*)\}", tex):
        assert cap.startswith("SIMULATED")
    for kind in ("headline", "impact", "futures", "cross-section"):
        assert f"tab:{kind}-0_1" in tex
    assert "nan" not in tex.lower().replace("pynnonen", "")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_file_compiles(written, tmp_path):
    out, _ = written
    shutil.copy(out / "tables.tex", tmp_path / "tables.tex")
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage[margin=2cm]{geometry}\n"
                                      "\\usepackage{booktabs}\n\\begin{document}\n\\input{tables.tex}\n"
                                      "\\end{document}\n", encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-3000:]


def test_impact_csv_is_raw_numbers(written, offline_run):
    out, _ = written
    df = pd.read_csv(out / "impact_table.csv", comment="#")
    assert (out / "impact_table.csv").read_text().startswith("# SIMULATED")
    car = offline_run.result.car
    c = car[(car["event_id"] == "seafood_ban") & (car["group"] == "seafood_food") & (car["window_start"] == 0)
            & (car["window_end"] == 1)]["car"].dropna()
    row = df[(df["event_id"] == "seafood_ban") & (df["group_id"] == "seafood_food") & (df["window"] == "[0,1]")]
    assert row["caar_pct"].iloc[0] == pytest.approx(100 * c.mean(), rel=1e-12)


def test_not_simulated_has_no_banner(offline_run, monkeypatch):
    from dataclasses import replace

    real_like = replace(offline_run, prices=replace(offline_run.prices, simulated=False, source="file prices.csv"))
    text = R.render_html(real_like)
    assert 'class="es-banner"' not in text and "SIMULATED" not in text
    assert "Figures were not requested" in text


def test_bad_arguments(offline_run, tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(EventStudyError, match="is a file"):
        R.write_report(offline_run, f, formats=("html",), plots=False)
    with pytest.raises(EventStudyError, match="docx"):
        R.write_report(offline_run, tmp_path / "r", formats=("docx",), plots=False)


def test_plots_failure_is_reported_not_hidden(offline_run, tmp_path, monkeypatch):
    import eventstudy.outputs.figure_files as plots

    def broken(run, out_dir, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(plots, "save_plots", broken)
    with pytest.warns(UserWarning, match="disk on fire"):
        w = R.write_report(offline_run, tmp_path, formats=("html",))
    assert "Figures could not be drawn: disk on fire" in w["report.html"].read_text(encoding="utf-8")


def test_real_plots_embedded(offline_run, tmp_path):
    """One run with the real figures: every <img> is an embedded PNG that decodes."""
    w = R.write_report(offline_run, tmp_path, formats=("html",))
    p = _Collect()
    p.feed(w["report.html"].read_text(encoding="utf-8"))
    pngs = [k for k in w if k.startswith("figures/")]
    assert pngs and len(p.imgs) == len(pngs)
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_without_regressions_or_confounders(offline_run, tmp_path):
    from dataclasses import replace

    from eventstudy.inference.regression import REG_COLUMNS

    bare = replace(offline_run, regressions=pd.DataFrame(columns=REG_COLUMNS),
                   confounders=pd.DataFrame(columns=["date", "market", "description", "source"]))
    w = R.write_report(bare, tmp_path, formats=("html", "md", "latex"), plots=False)
    text = w["report.html"].read_text(encoding="utf-8")
    assert "No group differences in this run" in text
    assert "No confounders were given for this run." in text
    p = _Collect()
    p.feed(text)
    assert p.h2 == [h for _, h in R.SECTIONS]
    # contract rows (NKD=F, NIY=F own CARs) still give a futures table without regressions
    assert "NKD=F" in text
    assert "\\begin{table}" in w["tables.tex"].read_text(encoding="utf-8")
