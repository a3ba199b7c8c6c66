"""Figures: structure (axes, lines, patches), labels, SIMULATED titles, numbers drawn against
independent computations from the results frames, and atomic saving."""
from __future__ import annotations

import dataclasses
import math
import re
import statistics

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from present_api import plots
from eventstudy.errors import DataUnavailableError, WindowError
from eventstudy.engine.results import EventStudyResult
from eventstudy.inference.reference import mean_pairwise_correlation

NUM = re.compile(r"[+-]?\d+\.\d+")


def _real(run):
    """The same run labelled as real data (for the title prefix)."""
    return dataclasses.replace(run, prices=dataclasses.replace(run.prices, simulated=False))


def _titles(fig: Figure) -> list[str]:
    out = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.get_title(loc) for loc in ("left", "center", "right") if ax.get_title(loc)]
    return out


def _main_title(fig: Figure) -> str:
    return _titles(fig)[0]


# --------------------------------------------------------------------------- hand-worked CAAR path
def _tiny_result(ar: pd.DataFrame) -> EventStudyResult:
    empty = pd.DataFrame()
    return EventStudyResult(model="market", k=2, estimation=(-250, -11), windows=((0, 0), (0, 2)), min_obs=120,
                            ar=ar, car=pd.DataFrame(columns=["event_id", "ticker", "group", "car"]),
                            tests=pd.DataFrame(columns=["event_id", "group", "test", "caar"]), params=empty,
                            exclusions=empty, pooled_group="all", regressors=("benchmark",))


def test_caar_paths_hand_worked():
    days = [-1, 0, 1, 2]
    ars = {"A": [0.01, 0.02, -0.01, 0.00], "B": [-0.02, 0.01, 0.03, 0.01], "C": [0.00, -0.03, 0.01, 0.02],
           "D": [0.01, np.nan, 0.00, 0.00]}  # D misses day 0: left out
    rows = [dict(event_id="e", ticker=t, group="g", date=pd.NaT, rel_day=d, ret=np.nan, normal_ret=np.nan, ar=a,
                 sar=np.nan) for t, v in ars.items() for d, a in zip(days, v)]
    res = _tiny_result(pd.DataFrame(rows))
    assert plots.caar_paths(res, ci=0.90)["upper"].isna().all()     # no residual correlation known: no band
    out = plots.caar_paths(res, ci=0.90, rbar={("e", "g"): 0.0})
    wide = plots.caar_paths(res, ci=0.90, rbar={("e", "g"): 0.3})   # Kolari–Pynnönen inflation
    np.testing.assert_allclose((wide["upper"] - wide["caar"]).to_numpy(),
                               (out["upper"] - out["caar"]).to_numpy() * math.sqrt((1 + 2 * 0.3) / 0.7), rtol=1e-12)
    assert list(out["rel_day"]) == [-2, -1, 0, 1, 2]
    assert set(out["n"]) == {3}
    # by hand: level at the close of day t, zero at the close of day -1
    lev = {"A": [-0.01, 0, 0.02, 0.01, 0.01], "B": [0.02, 0, 0.01, 0.04, 0.05], "C": [0.0, 0, -0.03, -0.02, 0.0]}
    for j in range(5):
        col = [lev[t][j] for t in "ABC"]
        row = out.iloc[j]
        assert row["caar"] == pytest.approx(statistics.mean(col), abs=1e-15)
        sd = statistics.stdev(col)
        assert row["sd"] == pytest.approx(sd, abs=1e-15)
        half = stats.t.ppf(0.95, 2) * sd / math.sqrt(3)
        assert row["upper"] == pytest.approx(row["caar"] + half, abs=1e-15)
        assert row["lower"] == pytest.approx(row["caar"] - half, abs=1e-15)
    # a window starting after day 0 is cumulated from its own start
    later = plots.caar_paths(res, window=(1, 2))
    assert list(later["rel_day"]) == [0, 1, 2]
    assert set(later["n"]) == {4}                  # D is complete on days 1..2
    assert later["caar"].tolist() == pytest.approx([0, statistics.mean([-0.01, 0.03, 0.01, 0.0]),
                                                    statistics.mean([-0.01, 0.04, 0.03, 0.0])], abs=1e-15)
    with pytest.raises(WindowError, match=r"outside the event span \[-1,2\]"):
        plots.caar_paths(res, window=(-5, 2))
    with pytest.raises(DataUnavailableError, match="group 'nope'"):
        plots.caar_paths(res, groups=["nope"])


# --------------------------------------------------------------------------- CAAR paths on the study
def test_caar_paths_figure(offline_run):
    run = offline_run
    fig = plots.plot_caar_paths(run)
    assert isinstance(fig, Figure)
    events = list(run.events["event_id"])
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(events)
    equity_groups = [g for g in plots._order_groups(run.result.ar["group"]) if g not in run.config.pool_exclude]
    ar = run.result.ar
    for ax, ev in zip(shown, events):
        assert ax.get_title(loc="left").startswith(ev)
        labelled = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
        assert len(labelled) == len(equity_groups)
        assert len(ax.collections) == len(equity_groups)          # one band per group
        assert any(list(ln.get_xdata()) == [0, 0] for ln in ax.get_lines())  # the day-0 line
        for g in equity_groups:
            (line,) = [ln for ln in labelled if ln.get_label() == plots.group_label(g)]
            x = np.asarray(line.get_xdata())
            y = np.asarray(line.get_ydata())
            # independent: securities of the group with every AR of the span, mean AR on day 0
            sub = ar[(ar["event_id"] == ev) & (ar["group"] == g)]
            wide = sub.pivot(index="ticker", columns="rel_day", values="ar").dropna()
            assert y[x == 0][0] == pytest.approx(100 * wide[0].mean(), abs=1e-10)
            assert y[x == -1][0] == 0.0
    assert _main_title(fig).startswith("SIMULATED — ")
    assert "announced 2026-01-06 16:25 CST, after the Tokyo close" in shown[events.index("dual_use_ban")].get_title(loc="left")
    assert not _main_title(plots.plot_caar_paths(_real(run), events=["remarks"])).startswith("SIMULATED")


def test_caar_band_is_kp_inflated_t_interval(offline_run):
    ar = offline_run.result.ar
    d = plots.caar_paths(offline_run, window=(0, 1), groups=["defence"])
    row = d[(d["event_id"] == "seafood_ban") & (d["rel_day"] == 1)].iloc[0]
    sub = ar[(ar["event_id"] == "seafood_ban") & (ar["group"] == "defence")]
    cum = sub.pivot(index="ticker", columns="rel_day", values="ar")[[0, 1]].dropna().sum(axis=1).to_numpy()
    n = len(cum)
    assert row["n"] == n
    # Kolari–Pynnönen inflation with r from statsmodels-free numpy: mean of the off-diagonal correlations
    # of the defence members' estimation residuals (np.corrcoef on complete days)
    a = offline_run.result.arrays
    sel = a.ok & (a.pairs["event_id"].to_numpy() == "seafood_ban") & (a.pairs["group"].to_numpy() == "defence")
    resid = a.subset(sel)[3].ar[:, a.est_mask]
    full = resid[:, np.isfinite(resid).all(axis=0)]
    c = np.corrcoef(full)
    r = c[np.triu_indices(len(c), 1)].mean()
    assert row["rbar"] == pytest.approx(r, abs=1e-10)
    lo, hi = stats.t.interval(0.95, n - 1, loc=cum.mean(), scale=stats.sem(cum) * np.sqrt((1 + (n - 1) * r) / (1 - r)))
    assert (row["lower"], row["upper"]) == pytest.approx((lo, hi), abs=1e-12)


def test_announcement_note_positions(offline_run):
    notes = plots.announcement_notes(offline_run)
    assert notes["remarks"].startswith("announced 2025-11-07 14:30 JST, during the Tokyo session")
    assert "Tokyo closed that day; day 0 2025-11-10" in notes["xue_post"]
    assert "before the Tokyo open of 2026-01-09" in notes["wsj_heavy_ree"]


def test_announcement_notes_use_one_reference_calendar(offline_run):
    """Many instruments of another calendar without a day 0 do not make it the reference: the
    open/close position and the day 0 come from the same calendar (the one with day 0s)."""
    import dataclasses

    d0 = offline_run.day0
    extra = pd.concat([d0[d0["calendar"] == "XTKS"].assign(calendar="CME Globex", day0=pd.NaT)] * 3,
                      ignore_index=True)
    padded = dataclasses.replace(offline_run, day0=pd.concat([d0, extra], ignore_index=True))
    assert padded.day0["calendar"].mode().iloc[0] == "CME Globex"
    assert plots.announcement_notes(padded) == plots.announcement_notes(offline_run)


# --------------------------------------------------------------------------- CARs per security
def test_ar_bars(offline_run):
    run = offline_run
    fig = plots.plot_ar_bars(run, "dual_use_ban", window=(0, 1))
    (ax,) = fig.axes
    car = run.result.car
    d = car[(car["event_id"] == "dual_use_ban") & (car["window_start"] == 0) & (car["window_end"] == 1)]
    d = d[np.isfinite(d["car"])]
    bars = ax.patches
    assert len(bars) == len(d)
    widths = np.array([b.get_width() for b in bars])
    assert np.all(np.diff(widths) >= 0)
    assert np.sort(widths) == pytest.approx(np.sort(100 * d["car"].to_numpy()), abs=1e-12)
    n_star = sum(1 for t in ax.texts if set(t.get_text()) == {"*"})
    assert n_star == int((d["p_value"] < 0.10).sum())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "7203.T  Toyota Motor" in labels
    assert fig._suptitle.get_text().startswith("SIMULATED — CAR per security: dual_use_ban")
    assert "CAR over trading days [0,1] (%)" == ax.get_xlabel()
    with pytest.raises(DataUnavailableError, match="event 'nope'"):
        plots.plot_ar_bars(run, "nope")
    with pytest.raises(WindowError, match=r"window \[0,3\] was not estimated"):
        plots.plot_ar_bars(run, "dual_use_ban", window=(0, 3))


# --------------------------------------------------------------------------- timeline
def test_timeline(offline_run):
    run = offline_run
    fig = plots.plot_timeline(run)
    ax_ev, ax = fig.axes
    names = [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert sum(1 for n in names if "roll day" not in n) == 3
    vlines = [ln for ln in ax.get_lines() if ln.get_label().startswith("_") and len(set(ln.get_xdata())) == 1
              and len(ln.get_xdata()) == 2 and list(ln.get_ydata()) == [0, 1]]
    assert len(vlines) == len(run.events)
    texts = [t.get_text().strip() for t in ax_ev.texts]
    assert sorted(texts) == sorted(run.events["event_id"])
    # the staggered labels do not overlap
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in ax_ev.texts]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (texts[i], texts[j])
    # normalised to 100 on the first plotted date
    n225 = [ln for ln in ax.get_lines() if ln.get_label().startswith("^N225")][0]
    assert n225.get_ydata()[0] == pytest.approx(100)
    assert _main_title(fig).startswith("SIMULATED — ")
    with pytest.raises(DataUnavailableError, match="none of XXX"):
        plots.plot_timeline(run, tickers=("XXX",))
    with pytest.raises(TypeError):
        plots.plot_timeline(run.result)


def test_timeline_title_names_the_section_when_every_group_is_drawn(offline_run):
    """The study lists the OSE contract, which the simulated market lacks: futures and index are still both
    drawn (the CME contracts), so the title is the study's section label; a group with no instrument drawn,
    or a list of the caller's own, is titled by ticker."""
    run = offline_run
    assert "NIKKEI225MINI.OSE" in run.config.timeline and "NIKKEI225MINI.OSE" not in run.prices.wide().columns
    assert _main_title(plots.plot_timeline(run)) == "SIMULATED — Nikkei 225 futures and index around the events"
    assert _main_title(plots.plot_timeline(run, tickers=("NIY=F", "^N225"))) == \
        "SIMULATED — NIY=F, ^N225 around the events"
    uni = pd.concat([run.universe, pd.DataFrame({"ticker": ["ZZZ"], "group": ["other"]})], ignore_index=True)
    cfg = dataclasses.replace(run.config, timeline=tuple(run.config.timeline) + ("ZZZ",))
    missing_group = dataclasses.replace(run, universe=uni, config=cfg)
    assert _main_title(plots.plot_timeline(missing_group)) == \
        "SIMULATED — NIY=F, NKD=F, ^N225 around the events"


# --------------------------------------------------------------------------- heat map
def test_heatmap_numbers_equal_tests(offline_run):
    run = offline_run
    fig = plots.plot_heatmap(run, window=(0, 1))
    ax = fig.axes[0]
    t = run.result.tests
    t = t[(t["test"] == "kolari_pynnonen") & (t["window_start"] == 0) & (t["window_end"] == 1)]
    rows = [tl.get_text().split(" ")[0] for tl in ax.get_yticklabels()]
    assert rows == list(run.events["event_id"])
    cells = {(round(tx.get_position()[1]), round(tx.get_position()[0])): tx.get_text() for tx in ax.texts}
    groups = plots._order_groups(t["group"])
    assert len(cells) == len(rows) * len(groups)
    checked = 0
    for r in t.itertuples():
        text = cells[(rows.index(r.event_id), groups.index(r.group))]
        assert float(NUM.match(text).group()) == pytest.approx(100 * r.caar, abs=0.005 + 1e-12)
        p = r.p_value
        want = "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""
        assert text[NUM.match(text).end():] == (want if np.isfinite(p) else "")
        checked += 1
    assert checked == len(cells)
    assert ax.images[0].norm.vmin == -ax.images[0].norm.vmax          # centred at 0
    assert _main_title(fig).startswith("SIMULATED — ")
    with pytest.raises(DataUnavailableError, match="test 'nope'"):
        plots.plot_heatmap(run, test="nope")


# --------------------------------------------------------------------------- residual correlation
def test_residual_correlation_matches_kolari_pynnonen(offline_run):
    run = offline_run
    res = run.result
    corr, grp, rbar, n = plots.residual_correlation(run, "remarks")
    assert list(grp.unique()) == [g for g in plots._order_groups(grp) if g != "all"]
    a = res.arrays
    sel = a.ok & (a.pairs["event_id"].to_numpy() == "remarks") & ~a.pairs["group"].isin(run.config.pool_exclude).to_numpy()
    r_ind, _ = mean_pairwise_correlation(a.fit.ar[sel][:, a.est_mask])
    assert rbar == pytest.approx(r_ind, abs=1e-12)
    assert n == int(sel.sum())
    # the pooled Kolari-Pynnonen statistic is BMP deflated by exactly this r
    t = res.tests[(res.tests["event_id"] == "remarks") & (res.tests["group"] == "all")
                  & (res.tests["window_start"] == 0) & (res.tests["window_end"] == 0)].set_index("test")
    assert t.loc["kolari_pynnonen", "n"] == n
    assert t.loc["kolari_pynnonen", "statistic"] == pytest.approx(
        t.loc["bmp", "statistic"] * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar)), rel=1e-10)
    fig = plots.plot_residual_correlation(run, "remarks")
    title = _main_title(fig)
    assert title.startswith("SIMULATED — ")
    assert f"r̄ = {rbar:.3f}" in title and f"= {1 + (n - 1) * rbar:.1f}" in title
    img = fig.axes[0].images[0].get_array()
    assert img.shape == (n, n)
    assert len(fig.axes[0].patches) == grp.nunique()                  # one box per group


# --------------------------------------------------------------------------- saving
def test_save_plots_atomic(offline_run, tmp_path):
    out = plots.save_plots(offline_run, tmp_path / "fig", formats=("png", "svg"), bar_events=1, dpi=40)   # low dpi: fast
    assert set(out) >= {"caar_paths", "heatmap", "residual_correlation", "timeline"}
    assert sum(k.startswith("ar_bars_") for k in out) == 1
    files = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert files == sorted([f"{k}.png" for k in out] + [f"{k}.svg" for k in out])   # no temp files left
    for name, png in out.items():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = png.with_suffix(".svg").read_bytes()
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg[:2000]
    # SVG text is real text: the simulated marker is searchable
    assert "SIMULATED" in (tmp_path / "fig" / "heatmap.svg").read_text(encoding="utf-8")


def test_bare_result_plots(offline_run):
    res = offline_run.result
    fig = plots.plot_heatmap(res, window=(0, 0))
    assert not _main_title(fig).startswith("SIMULATED")             # a bare result does not know
    assert len([a for a in plots.plot_caar_paths(res, events=["remarks"]).axes if a.get_visible()]) == 1


def test_caar_paths_pooled_group(offline_run):
    run = offline_run
    d = plots.caar_paths(run, groups=["all"], window=(0, 1))
    ar = run.result.ar
    sub = ar[(ar["event_id"] == "travel_advisory") & ~ar["group"].isin(run.config.pool_exclude)]
    wide = sub.pivot(index="ticker", columns="rel_day", values="ar")[[0, 1]].dropna()
    row = d[(d["event_id"] == "travel_advisory") & (d["rel_day"] == 1)].iloc[0]
    assert row["n"] == len(wide)
    assert row["caar"] == pytest.approx(wide.sum(axis=1).mean(), abs=1e-14)
    with pytest.raises(ValueError, match="confidence level"):
        plots.caar_paths(run, ci=95)


def test_figures_lead_with_the_tables_lead_window(monkeypatch, tmp_path):
    """Without [0,1] the tables lead with the first window; the heat map and the bar events follow
    them (not "the second window", here [0,3])."""
    from eventstudy.data.offline import OfflineSource
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.study import bundled_study
    from eventstudy.pipeline.study import run_study
    from eventstudy.inputs.universe import load_universe
    from eventstudy.present.tables import lead_window
    from conftest import REPO

    run = run_study(load_events(REPO / "events.csv"), load_universe(), OfflineSource(), windows=[(0, 0), (0, 3)],
                    study=bundled_study())
    assert lead_window(run) == lead_window(run.result) == (0, 0)
    assert plots.main_events(run) == plots.main_events(run, window=(0, 0))
    seen = []

    def small(*a, **k):
        return Figure(figsize=(1, 1))

    def heatmap(r, window=(0, 1), **k):
        seen.append(tuple(window))
        return small()
    for name in ("plot_caar_paths", "plot_residual_correlation", "plot_timeline", "plot_ar_bars"):
        monkeypatch.setattr(plots, name, small)
    monkeypatch.setattr(plots, "plot_heatmap", heatmap)
    plots.save_plots(run, tmp_path, formats=("png",), workers=1)   # in this process: the stand-ins record here
    assert seen == [(0, 0)]
