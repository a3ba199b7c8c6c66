"""A second, unrelated study gets fully labelled tables, figures and report without touching the library
(issue 12): a small New York universe with its own groups, labels, colours and timeline, written as a study
folder in tmp_path, prices from a generated price file, run through ``eventstudy run --study FOLDER
--prices FILE``. Nothing of the bundled China–Japan study may appear in its report."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.cli import main
from eventstudy.inputs.study import bundled_study, load_study

LONG = {"exporters": "Exporters to Europe", "retail": "Domestic retailers", "etf": "Sector ETF"}
SHORT = {"exporters": "Exporters", "retail": "Retailers", "etf": "ETF"}
SECTION = "Sector ETF and the market"
TIMELINE_TITLE = "The sector ETF and the market"
STOCKS = {"exporters": ["EXA", "EXB", "EXC", "EXD"], "retail": ["RTA", "RTB", "RTC", "RTD"], "etf": ["SETF"]}

TOML = f'''
name = "tariffs"
title = "Tariff announcements and exporters"
[files]
events = "events.csv"
universe = "universe.csv"
hypotheses = "hypotheses.csv"
[defaults]
base_group = "retail"
not_pooled = ["etf"]
timeline = ["SETF", "MKT"]
[labels]
order = ["etf", "exporters", "retail"]
pooled = "Every stock (pooled)"
pooled_short = "Every stock"
[labels.long]
{chr(10).join(f'{k} = "{v}"' for k, v in LONG.items())}
[labels.short]
{chr(10).join(f'{k} = "{v}"' for k, v in SHORT.items())}
[labels.style]
exporters = ["#D55E00", "o", "-"]
retail = ["#0072B2", "s", "--"]
etf = ["#000000", "D", "-"]
[labels.sections]
instruments = "{SECTION}"
timeline = "The sector ETF and the market around the announcements."
timeline_title = "{TIMELINE_TITLE}"
single_instruments = "The sector ETF gets its own single-instrument test."
'''


def _study(tmp: Path) -> tuple[Path, Path]:
    """(study folder, price file): 9 instruments and a market index on the New York calendar, 2023-2024."""
    folder = tmp / "tariffs"
    folder.mkdir()
    (folder / "study.toml").write_text(TOML, encoding="utf-8")
    rows = [(t, f"{t} Corp", g, "MKT", "XNYS", "test") for g, ts in STOCKS.items() for t in ts]
    pd.DataFrame(rows, columns=["ticker", "name", "group", "benchmark", "exchange", "rationale"]).to_csv(
        folder / "universe.csv", index=False)
    pd.DataFrame({"event_id": ["tariff_threat", "tariff_deal"], "date": ["2024-04-10", "2024-09-12"],
                  "time": ["10:00", "18:30"], "timezone": "America/New_York",
                  "label": ["Tariffs on exports threatened", "Tariff deal announced"], "category": "POL",
                  "source": "https://example.org/news", "notes": ""}).to_csv(folder / "events.csv", index=False)
    pd.DataFrame({"hypothesis_id": ["H1"], "event_id": ["tariff_threat"], "group": ["exporters"], "window": ["0,1"],
                  "expected_sign": ["-"], "source": ["https://example.org/h1"],
                  "rationale": ["exporters lose a market"]}).to_csv(folder / "hypotheses.csv", index=False)
    rng = np.random.default_rng(7)
    from eventstudy.calendars.sessions import session_model_for

    days = session_model_for("SETF", "XNYS").sessions("2023-01-03", "2024-12-31")
    mkt = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    prices = [pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "ticker": "MKT", "close": mkt})]
    for ts in STOCKS.values():
        for t in ts:
            r = np.diff(np.log(mkt), prepend=np.log(mkt[0])) * rng.uniform(0.6, 1.4) + rng.normal(0, 0.012, len(days))
            prices.append(pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "ticker": t, "close": 50 * np.exp(np.cumsum(r))}))
    path = tmp / "prices.csv"
    pd.concat(prices).to_csv(path, index=False)
    return folder, path


def _bundled_words() -> list[str]:
    """Texts of the bundled study that must not reach another study's report: its group labels and 'Nikkei'."""
    lab = bundled_study().labels
    words = set(lab.long.values()) | {s for s in lab.short.values() if len(s) > 7} | set(lab.sections.values())
    return sorted(words | {"Nikkei"})


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("second_study")
    folder, prices = _study(tmp)
    out = tmp / "out"
    code = main(["run", "--study", str(folder), "--prices", str(prices), "--out", str(out),
                 "--figure-format", "png,svg"])
    assert code == 0
    return folder, prices, out


@pytest.mark.parametrize("name", ["report.md", "report.html", "tables.tex"])
def test_report_is_labelled_by_the_second_study(second, name):
    _, _, out = second
    text = (out / name).read_text(encoding="utf-8")
    if name == "tables.tex":            # the LaTeX tables: headline (short labels) and impact tables
        assert "Exporters" in text and "Retailers" in text and "Every stock" in text
    else:
        for long in LONG.values():      # universe section and impact table name every group
            assert long in text, long
        assert SECTION in text          # the instruments section heading (Markdown/HTML) is the study's
        assert "Every stock (pooled)" in text
    for word in _bundled_words():
        assert word not in text, f"{name} shows {word!r} of the bundled study"


def test_report_headings_follow_the_study(second):
    _, _, out = second
    md = (out / "report.md").read_text(encoding="utf-8")
    heads = re.findall(r"^## (.+)$", md, flags=re.M)
    assert SECTION in heads and "Nikkei futures and index" not in heads
    assert "The sector ETF gets its own single-instrument test." in md
    assert "The sector ETF and the market around the announcements." in md     # the timeline's caption
    assert "'Every stock' pools every equity group" in md and "All equities" not in md


def test_csv_tables_carry_the_study_labels(second):
    _, _, out = second
    imp = pd.read_csv(out / "impact_table.csv", comment="#")
    assert set(imp["group"]) == {LONG["exporters"], LONG["retail"], "Every stock (pooled)"}
    fut = pd.read_csv(out / "futures_table.csv", comment="#")
    assert set(fut["subject_id"]) == {"etf"} and set(fut["subject"]) == {LONG["etf"]}
    assert f"{SECTION}: event-dummy regressions" in (out / "report.md").read_text(encoding="utf-8")


def test_figures_are_labelled_by_the_second_study(second):
    """The SVG figures keep their text: legends, tick labels and titles name the study's groups."""
    _, _, out = second
    fig = out / "figures"
    caar = (fig / "caar_paths.svg").read_text(encoding="utf-8")
    assert LONG["exporters"] in caar and LONG["retail"] in caar
    heat = (fig / "heatmap.svg").read_text(encoding="utf-8")
    assert "Exporters to" in heat                         # tick labels are wrapped at 16 characters
    timeline = (fig / "timeline.svg").read_text(encoding="utf-8")
    assert TIMELINE_TITLE in timeline
    for f in fig.glob("*.svg"):
        text = f.read_text(encoding="utf-8")
        for word in _bundled_words():
            assert word not in text, f"{f.name} shows {word!r}"


def test_figures_in_python_use_the_study_styles(second):
    """The same study through the library: legend texts and line colours are the study's."""
    from eventstudy.data.files import FileSource
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.universe import load_universe
    from eventstudy.pipeline.study import run_study
    from eventstudy.present import plots

    folder, prices, _ = second
    study = load_study(folder)
    run = run_study(load_events(study.events), load_universe(study.universe), FileSource(prices), study=study)
    fig = plots.plot_caar_paths(run)
    ax = [a for a in fig.axes if a.get_visible()][0]
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {LONG["exporters"], LONG["retail"]}
    assert lines[LONG["exporters"]].get_color().lower() == "#d55e00"
    assert lines[LONG["retail"]].get_linestyle() == "--"
    tl = plots.plot_timeline(run)
    assert tl.axes[0].get_title(loc="left") == TIMELINE_TITLE + " around the events"


def test_a_run_without_timeline_skips_the_figure_with_a_note(second, tmp_path):
    """No timeline instruments: the figure is skipped, and the warning says why."""
    from dataclasses import replace

    from eventstudy.data.files import FileSource
    from eventstudy.errors import DataUnavailableError
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.universe import load_universe
    from eventstudy.pipeline.study import run_study
    from eventstudy.present import plots

    folder, prices, _ = second
    study = load_study(folder)
    study = replace(study, defaults=replace(study.defaults, timeline=()))
    run = run_study(load_events(study.events), load_universe(study.universe), FileSource(prices), study=study)
    with pytest.raises(DataUnavailableError, match="names no timeline instruments"):
        plots.plot_timeline(run)
    from eventstudy.outputs.figure_files import save_plots

    with pytest.warns(UserWarning, match="figure timeline skipped: the run names no timeline instruments"):
        written = save_plots(run, tmp_path / "fig", workers=1, dpi=30, bar_events=1)
    assert "timeline" not in written and "caar_paths" in written
