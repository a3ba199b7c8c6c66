"""Impact tables and renderers: formatting on hand-made frames, numbers against the run's own data."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from present_api import tables as T
from eventstudy.errors import EstimationError, WindowError


# ----------------------------------------------------------------------------- hand-made frames
def small_frame(simulated: bool = False) -> pd.DataFrame:
    df = pd.DataFrame({
        "event_id": ["dual_use_ban", "a&b_c"],
        "caar_pct": [-1.23456, 14.365],
        "stat": [-2.5, 0.4],
        "p": [0.0099, 0.5],
        "share": [50.0, np.nan],
        "note": ["50% of $x #1 {y} ~z ^w \\q", ""],
    })
    df.attrs.update({
        "title": "Test table", "simulated": simulated,
        "columns": [["event_id", "Event", "text"], ["caar_pct", "CAAR (%)", "pct"], ["stat", "KP t", "stat"],
                    ["p", "p", "p"], ["share", "CAR>0 (%)", "share"], ["note", "Note", "text"]],
        "stars": {"stat": "p"}, "notes": ["Stars: *** p<0.01."],
    })
    return df


@pytest.mark.parametrize("p, expected", [
    (0.0, "***"), (0.0099, "***"), (0.01, "**"), (0.0499, "**"), (0.05, "*"), (0.0999, "*"), (0.10, ""),
    (0.7, ""), (np.nan, ""),
])
def test_star_thresholds(p, expected):
    df = pd.DataFrame({"x_stat": [1.5], "x_p": [p]})
    md = T.to_markdown(df, title="")
    row = md.strip().splitlines()[-1]
    cell = row.split("|")[1].strip()
    assert cell == "1.50" + expected.replace("*", "\\*")


@pytest.mark.parametrize("v, kind, expected", [
    (-1.23456, "pct", "-1.23"), (1.235001, "pct", "+1.24"), (0.0, "pct", "+0.00"), (66.6667, "share", "66.67"),
    (-2.499, "stat", "-2.50"), (0.0004, "p", "<0.001"), (0.001, "p", "0.001"), (0.01234, "p", "0.012"),
    (0.9996, "p", "1.000"), (np.nan, "p", T.NA), (None, "pct", T.NA), (7, "int", "7"),
    (pd.Timestamp("2026-01-07"), "date", "2026-01-07"), (pd.NaT, "date", T.NA), (0.12345, "r2", "0.123"),
])
def test_format_value(v, kind, expected):
    assert T.format_value(v, kind) == expected


def test_markdown_escapes_and_aligns():
    md = T.to_markdown(small_frame())
    lines = md.splitlines()
    assert lines[0] == "**Test table**"
    header = next(i for i, l in enumerate(lines) if l.startswith("| Event"))
    assert lines[header + 1] == "|:---|---:|---:|---:|---:|:---|"
    assert "| a&b\\_c |" in md                         # underscore escaped, & kept
    assert "-2.50\\*\\*\\*" in md                      # stars on the statistic, escaped
    assert "+14.37" in md and "-1.23" in md
    assert "nan" not in md.lower()
    assert T.NA in md                                  # missing share shown as a dash


def test_markdown_pipe_in_text_is_escaped():
    df = pd.DataFrame({"name": ["a|b"], "v": [1.0]})
    md = T.to_markdown(df, title="")
    assert "a\\|b" in md
    assert md.splitlines()[-1].count("|") - md.splitlines()[-1].count("\\|") == 3


def test_latex_booktabs_and_escaping():
    tex = T.to_latex(small_frame(), caption="Impact 50% & more_x", label="tab:x")
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "\\begin{table}" in tex and "\\end{table}" in tex
    assert "\\caption{Impact 50\\% \\& more\\_x}" in tex
    assert "\\label{tab:x}" in tex
    assert "dual\\_use\\_ban" in tex and "a\\&b\\_c" in tex
    assert "50\\% of \\$x \\#1 \\{y\\} \\textasciitilde{}z \\textasciicircum{}w \\textbackslash{}q" in tex
    assert "CAAR (\\%)" in tex
    assert "$-$2.50$^{***}$" in tex                    # math minus and stars
    assert "$+$14.37" in tex
    assert "{lrrrrl}" in tex                           # text left, numbers right
    body = tex.split("\\midrule")[1].split("\\bottomrule")[0]
    assert "nan" not in body.lower()
    assert re.search(r"(?<!\\)[%&_#]", body.replace("\\%", "").replace("\\&", "").replace("\\_", "")
                     .replace("\\#", "").replace(" & ", " ")) is None


def test_latex_escape_unicode():
    assert T.latex_escape("Kolari–Pynnönen − 2×3 R²") == "Kolari--Pynnönen - 2$\\times$3 R\\textsuperscript{2}"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles(tmp_path):
    doc = ("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
           + T.to_latex(small_frame(simulated=True), label="tab:t") + "\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]


def test_html_classes_and_escaping():
    df = small_frame()
    df.loc[1, "note"] = "<script>alert(1)</script>"
    h = T.to_html(df)
    assert "<script>" not in h and "&lt;script&gt;" in h
    assert "<caption>Test table</caption>" in h
    assert '<td class="num neg">-1.23</td>' in h
    assert '<td class="num pos">+14.37</td>' in h
    assert '<td class="num neg">-2.50***</td>' in h
    assert '<th class="num">CAAR (%)</th>' in h
    assert ">nan<" not in h.lower()


def test_simulated_in_every_title(tmp_path):
    df = small_frame(simulated=True)
    assert "SIMULATED" in T.to_markdown(df).splitlines()[0]
    assert "SIMULATED" in T.to_html(df).split("<caption>")[1].split("</caption>")[0]
    cap = T.to_latex(df, caption="My own caption").split("\\caption{")[1].split("}")[0]
    assert "SIMULATED" in cap and "My own caption" in cap
    text = T.to_csv(df, tmp_path / "t.csv")
    assert text.splitlines()[0].startswith("# SIMULATED")
    assert (tmp_path / "t.csv").read_text() == text
    back = pd.read_csv(tmp_path / "t.csv", comment="#")
    assert back["caar_pct"].tolist() == pytest.approx([-1.23456, 14.365])   # raw numbers, full precision
    buf = io.StringIO()
    T.print_table(df, console=Console(file=buf, width=100))
    assert "SIMULATED" in buf.getvalue().splitlines()[0]
    plain = small_frame(simulated=False)
    assert "SIMULATED" not in T.to_markdown(plain) + T.to_html(plain) + T.to_latex(plain)


def test_frame_without_attrs_guesses_kinds():
    df = pd.DataFrame({"group": ["x"], "n": [3], "caar_pct": [1.0], "kp_stat": [2.0], "kp_p": [0.04],
                       "p_value": [0.2]})
    md = T.to_markdown(df)
    last = md.strip().splitlines()[-1]
    assert last == "| x | 3 | +1.00 | 2.00\\*\\* | 0.040 | 0.200 |"


def test_print_table_plain_when_not_a_tty_and_fits_width():
    df = small_frame()
    df.loc[0, "note"] = "a long note " * 8
    buf = io.StringIO()
    T.print_table(df, console=Console(file=buf, width=60))
    out = buf.getvalue()
    assert "\x1b[" not in out                       # no colour codes when not a terminal
    assert "+14.37" in out and "-2.50***" in out    # numbers never cut
    assert all(len(l) <= 60 for l in out.splitlines() if not l.startswith("[") and "note" not in l.lower())
    assert "[1]" in out                             # long note moved to a footnote


def test_print_table_colours_on_a_terminal():
    buf = io.StringIO()
    T.print_table(small_frame(), console=Console(file=buf, width=120, force_terminal=True, color_system="standard"))
    assert "\x1b[31m" in buf.getvalue() and "\x1b[32m" in buf.getvalue()


def test_empty_frame_renders():
    df = pd.DataFrame({"a": pd.Series([], dtype=float)})
    assert "(no rows)" in T.to_markdown(df) and "(no rows)" in T.to_html(df) and "(no rows)" in T.to_latex(df)


# ----------------------------------------------------------------------------- on a study run
def _members(run, group):
    car = run.result.car
    if group == run.result.pooled_group:
        return car[~car["group"].isin(run.config.pool_exclude)]
    return car[car["group"] == group]


def test_impact_numbers_equal_the_run(offline_run):
    run = offline_run
    imp = T.impact_table(run)
    assert list(imp.columns[:11]) == ["event_id", "event_label", "group_id", "group", "window", "window_start",
                                      "window_end", "day0", "n", "caar_pct", "pos_pct"]
    assert "futures" not in set(imp["group_id"]) and "all" in set(imp["group_id"])
    assert len(imp) == len(run.events) * imp["group_id"].nunique() * len(run.result.windows)
    tests = run.result.tests
    rng = np.random.default_rng(0)
    for i in rng.choice(len(imp), size=40, replace=False):
        r = imp.iloc[i]
        m = _members(run, r["group_id"])
        c = m[(m["event_id"] == r["event_id"]) & (m["window_start"] == r["window_start"])
              & (m["window_end"] == r["window_end"])]["car"].dropna().to_numpy()
        assert r["n"] == c.size
        assert r["caar_pct"] == pytest.approx(100 * c.mean(), rel=1e-12, abs=1e-12)
        assert r["pos_pct"] == pytest.approx(100 * (c > 0).sum() / c.size)
        for t in T.LEAD_TESTS:
            row = tests[(tests["event_id"] == r["event_id"]) & (tests["group"] == r["group_id"])
                        & (tests["window_start"] == r["window_start"]) & (tests["window_end"] == r["window_end"])
                        & (tests["test"] == t)]
            assert len(row) == 1
            np.testing.assert_allclose(r[f"{t}_stat"], row["statistic"].iloc[0], rtol=1e-12)
            np.testing.assert_allclose(r[f"{t}_p"], row["p_value"].iloc[0], rtol=1e-12)
    # lead test first
    stat_cols = [c for c in imp.columns if c.endswith("_stat")]
    assert stat_cols[0] == "kolari_pynnonen_stat"
    assert "SIMULATED" in imp.attrs["title"]


def test_impact_flags_shared_day0_and_confounders(offline_run):
    run = offline_run
    imp = T.impact_table(run, windows=[(0, 0), (0, 1)])
    xtks = run.day0[run.day0["calendar"] == "XTKS"].drop_duplicates("event_id").set_index("event_id")["day0"]
    for ev in ("dual_use_ban", "china_daily_ree", "japan_protest"):
        assert xtks[ev] == pd.Timestamp("2026-01-07")
        note = imp[(imp["event_id"] == ev) & (imp["group_id"] == "all")]["note"].iloc[0]
        others = {"dual_use_ban", "china_daily_ree", "japan_protest"} - {ev}
        assert "same day 0 (2026-01-07)" in note and all(o in note for o in others)
    remarks = imp[(imp["event_id"] == "remarks") & (imp["window"] == "[0,0]")]["note"]
    assert (remarks == "").all()
    # confounder 2025-11-17 (GDP) is day 0 of travel_advisory; 2025-11-18 is day +1 from the ARs' dates
    ar = run.result.ar
    dates = ar[(ar["event_id"] == "travel_advisory") & (ar["group"] == "control") & ar["rel_day"].between(0, 1)]["date"]
    assert set(pd.DatetimeIndex(dates).strftime("%Y-%m-%d")) == {"2025-11-17", "2025-11-18"}
    ta = imp[(imp["event_id"] == "travel_advisory") & (imp["group_id"] == "control")].set_index("window")["note"]
    assert "2025-11-17" in ta["[0,0]"] and "2025-11-18" not in ta["[0,0]"]
    assert "2025-11-17" in ta["[0,1]"] and "2025-11-18" in ta["[0,1]"]


def test_impact_bad_requests(offline_run):
    with pytest.raises(WindowError, match=r"\[0,9\].*not computed"):
        T.impact_table(offline_run, windows=[(0, 9)])
    with pytest.raises(EstimationError, match="bootstrap"):
        T.impact_table(offline_run, tests=("bootstrap",))


def test_headline_equals_impact(offline_run):
    h = T.headline_table(offline_run)
    imp = T.impact_table(offline_run, windows=[(0, 1)])
    assert list(h["event_id"]) == list(offline_run.events["event_id"])
    for g in ("rare_earth_magnets", "all"):
        s = imp[imp["group_id"] == g].set_index("event_id")
        np.testing.assert_allclose(h[f"{g}_pct"].to_numpy(), s.loc[h["event_id"], "caar_pct"].to_numpy())
        np.testing.assert_allclose(h[f"{g}_p"].to_numpy(), s.loc[h["event_id"], "kolari_pynnonen_p"].to_numpy())
    md = T.to_markdown(h)
    assert "SIMULATED" in md.splitlines()[0] and "nan" not in md.lower()


def test_futures_table_equals_regressions(offline_run):
    run = offline_run
    f = T.futures_table(run)
    reg = run.regressions
    port = f[f["source"] == "portfolio dummy regression"]
    assert set(port["subject_id"]) == {"futures", "index"}
    for _, r in port.sample(10, random_state=1).iterrows():
        q = reg[(reg["kind"] == "dummy_portfolio") & (reg["subject"] == r["subject_id"]) & (reg["term"] == "CAR")
                & (reg["event_id"] == r["event_id"]) & (reg["window_start"] == r["window_start"])
                & (reg["window_end"] == r["window_end"])]
        ols = q[q["cov_type"] == "OLS"].iloc[0]
        hac = q[q["cov_type"].str.startswith("HAC")].iloc[0]
        assert r["car_pct"] == pytest.approx(100 * ols["coef"])
        assert r["t_ols"] == pytest.approx(ols["t"]) and r["p_ols"] == pytest.approx(ols["p_value"])
        assert r["p_hac"] == pytest.approx(hac["p_value"])
    # the index portfolio is one instrument: its CAR is the index's own CAR from the engine
    car = run.result.car
    idx = port[port["subject_id"] == "index"].iloc[0]
    own = car[(car["ticker"] == "^N225") & (car["event_id"] == idx["event_id"])
              & (car["window_start"] == idx["window_start"]) & (car["window_end"] == idx["window_end"])]["car"].iloc[0]
    assert idx["car_pct"] == pytest.approx(100 * own, rel=1e-8)
    contracts = f[f["source"].str.startswith("single contract")]
    assert set(contracts["subject_id"]) == {"NKD=F", "NIY=F"}
    # CME day 0 of the dual-use ban (after the Tokyo close, during the CME day) is 2026-01-06
    d = f[(f["subject_id"] == "futures") & (f["event_id"] == "dual_use_ban")]["day0"].iloc[0]
    assert d == pd.Timestamp("2026-01-06")


def test_cross_section_constant_is_base_group_mean(offline_run):
    run = offline_run
    cs = T.cross_section_table(run, window=(0, 1))
    assert set(cs["window"]) == {"[0,1]"}
    car = run.result.car
    for ev in ("remarks", "dcs_probe"):
        c = car[(car["event_id"] == ev) & (car["window_start"] == 0) & (car["window_end"] == 1)].dropna(subset=["car"])
        base = 100 * c[c["group"] == "control"]["car"].mean()
        rows = cs[cs["event_id"] == ev].set_index("term_id")
        assert rows.loc["const (control)", "coef_pp"] == pytest.approx(base, rel=1e-9)
        diff = 100 * c[c["group"] == "defence"]["car"].mean() - base
        assert rows.loc["group[defence]", "coef_pp"] == pytest.approx(diff, rel=1e-9)
        assert rows.loc["group[defence]", "term"] == "Defence & aerospace minus base"
    with pytest.raises(WindowError):
        T.cross_section_table(run, window=(3, 4))


def test_defaults_follow_the_runs_windows(offline_run):
    """A run without [0,1] leads with its first window instead of failing."""
    from dataclasses import replace

    res = offline_run.result
    only00 = replace(res, windows=((0, 0),), tests=res.tests[(res.tests["window_start"] == 0) & (res.tests["window_end"] == 0)],
                     car=res.car[(res.car["window_start"] == 0) & (res.car["window_end"] == 0)])
    reg = offline_run.regressions
    run = replace(offline_run, result=only00,
                  regressions=reg[(reg["window_start"] == 0) & (reg["window_end"] == 0)])
    assert T.lead_window(run) == (0, 0) and T.lead_window(offline_run) == (0, 1)
    h = T.headline_table(run)
    assert "[0,0]" in h.attrs["title"]
    assert set(T.cross_section_table(run)["window"]) == {"[0,0]"}
    with pytest.raises(WindowError):
        T.headline_table(run, window=(0, 1))


def test_headline_from_a_precomputed_impact_table_is_the_same(offline_run):
    imp = T.impact_table(offline_run)
    for w in offline_run.result.windows:
        a = T.headline_table(offline_run, window=w)
        b = T.headline_table(offline_run, window=w, impact=imp)
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs == b.attrs
    with pytest.raises(EstimationError, match="has no wilcoxon column"):
        T.headline_table(offline_run, test="wilcoxon", impact=imp)
    with pytest.raises(WindowError, match=r"window \[0,9\] was not computed"):
        T.headline_table(offline_run, window=(0, 9), impact=imp)
