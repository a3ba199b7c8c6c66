"""Figures of an event study: CAAR paths, CARs per security, the market timeline, the
event x group heat map and the residual cross-correlation behind the Kolari–Pynnönen test.

Every function takes a :class:`~eventstudy.pipeline.study.StudyRun` (most also accept a bare
:class:`~eventstudy.engine.results.EventStudyResult`) and returns a :class:`matplotlib.figure.Figure`
built without pyplot (no GUI backend, no global figure registry, never ``plt.show()``).
Group names, order, colours and markers come from the run's labels (``run.labels``, a study's
:class:`~eventstudy.inputs.study.Labels`; markers and line styles so that the figures also read in
greyscale print); a bare result or a run without labels shows group ids. When the data are the
bundled simulated market every title starts with :data:`SIMULATED_PREFIX`.

Returns are decimals in the results; figures show percent.
"""
from __future__ import annotations

import math
import textwrap
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eventstudy.content import SIMULATED, STARS_NOTE, simulated_title, stars
from eventstudy.inputs.study import Labels, Style
from eventstudy.errors import DataUnavailableError
from eventstudy.engine.results import POOLED
from eventstudy.inference.reference import upper_mean
from eventstudy.present.announcements import announcement_note, announcement_notes
from eventstudy.present.figure_data import (caar_paths, check_event,
                                            check_window, event_order, heatmap_table, instrument_names, is_pooled, is_run,
                                            is_simulated, main_events, order_groups,
                                            residual_correlation, result_of, figure_plan, safe_name)
from eventstudy.present.formats import FIGURE_FORMATS, check_figure_formats
from eventstudy.present.tables import NEUTRAL_LABELS, run_labels
from eventstudy.present.timeline import TIMELINE_STYLES, plot_timeline

__all__ = [
    "SIMULATED_PREFIX",
    "TIMELINE_STYLES",
    "group_style",
    "group_label",
    "announcement_note",
    "announcement_notes",
    "heatmap_table",
    "residual_correlation",
    "main_events",
    "caar_paths",
    "plot_caar_paths",
    "plot_ar_bars",
    "plot_timeline",
    "plot_heatmap",
    "plot_residual_correlation",
    "figure_builders",
    "figure_plan",
    "draw_planned",
    "check_figure_formats",
    "safe_name",
    "FIGURE_FORMATS",
]

SIMULATED_PREFIX = f"{SIMULATED} — "


_BASE_FONT = 9.0


def group_style(groups: Iterable[str], labels: Labels | None = None) -> dict[str, Style]:
    """Style for each group (:meth:`eventstudy.inputs.study.Labels.styles`): the study's for its groups,
    a deterministic fallback for any other id, so that a group looks the same in every figure."""
    return (labels or NEUTRAL_LABELS).styles(groups)


def group_label(group, labels: Labels | None = None) -> str:
    """Human label of a group id under ``labels`` (for any id type)."""
    return (labels or NEUTRAL_LABELS).label(str(group))


def _title(run, text: str) -> str:
    return simulated_title(text, is_simulated(run), sep=" — ")


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(max_cols, n))
    return int(math.ceil(n / ncols)), ncols


def _footer(fig: Figure, text: str, handles: Sequence = (), labels: Sequence[str] = (), ncol: int = 4) -> None:
    """Reserve a band at the bottom of a constrained-layout figure for a legend (optional) and a
    wrapped footnote, so that neither overlaps the axes."""
    fs = 7.5
    width = max(60, int(fig.get_figwidth() * 72 / (0.56 * fs)))
    lines = textwrap.fill(text, width).split("\n")
    cap_in = len(lines) * fs * 1.35 / 72 + 0.08
    leg_rows = math.ceil(len(labels) / ncol) if labels else 0
    leg_in = leg_rows * 8 * 1.9 / 72 + (0.12 if leg_rows else 0)
    h = fig.get_figheight()
    bottom = (cap_in + leg_in) / h
    fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
    if leg_rows:
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, bottom), ncol=ncol, fontsize=8,
                   frameon=False, borderaxespad=0.2)
    fig.text(0.01, cap_in / h - 0.04 / h, "\n".join(lines), ha="left", va="top", fontsize=fs, color="#333333",
             linespacing=1.25)


def plot_caar_paths(run, window: Sequence[int] | None = None, groups: Sequence[str] | None = None,
                    ci: float = 0.95, events: Sequence[str] | None = None, max_cols: int = 3) -> Figure:
    """CAAR paths (%) over the event span per exposure group, one panel per event, with
    confidence bands ``CAAR_t ± t_{N-1} sd_t / sqrt(N)`` (see :func:`caar_paths`).

    The day-0 line is drawn; each panel says when the news came out relative to the trading
    session (:func:`announcement_note`). ``events`` restricts the panels.
    """
    data = caar_paths(run, window=window, groups=groups, ci=ci, events=events)
    if is_pooled(result_of(run)):              # pooled firm-specific events: one panel, all firm-events
        evs = [POOLED]
    else:
        evs = event_order(run) if events is None else [str(e) for e in events]
        known = set(event_order(run))
        for e in evs:
            if e not in known:
                check_event(run, e)          # raises the error naming the event
    evs = [e for e in evs if e in set(data["event_id"])]
    if not evs:
        raise DataUnavailableError("no event has complete abnormal returns over the chosen window; widen the data or "
                                   "shorten the window")
    gs = order_groups(data["group"], run_labels(run))
    style = group_style(gs, run_labels(run))
    nrows, ncols = _grid(len(evs), max_cols)
    fig = Figure(figsize=(4.6 * ncols + 0.4, 3.3 * nrows + 1.6), layout="constrained")
    # common axis limits set once below: shared axes would propagate every limit change to all panels
    axes = fig.subplots(nrows, ncols, squeeze=False)
    labels = dict(zip(run.events["event_id"].astype(str), run.events["label"].astype(str))) if is_run(run) else {}
    notes = announcement_notes(run, events=evs)
    for k, ax in enumerate(axes.ravel()):
        if k >= len(evs):
            ax.set_visible(False)
            continue
        ev = evs[k]
        d = data[data["event_id"] == ev]
        for g in gs:
            dg = d[d["group"] == g]
            if dg.empty:
                continue
            s = style[g]
            x = dg["rel_day"].to_numpy()
            ax.fill_between(x, 100 * dg["lower"].to_numpy(), 100 * dg["upper"].to_numpy(), color=s.color,
                            alpha=0.12, linewidth=0)
            ax.plot(x, 100 * dg["caar"].to_numpy(), color=s.color, linestyle=s.linestyle, marker=s.marker,
                    markersize=3.5, linewidth=1.4, label=f"{group_label(g, run_labels(run))}")
        ax.axvline(0, color="#222222", linewidth=0.9, linestyle=(0, (4, 2)))
        ax.axhline(0, color="#999999", linewidth=0.6)
        ax.grid(True, color="#e5e5e5", linewidth=0.5)
        head = ev if not labels.get(ev) else f"{ev}: {textwrap.shorten(labels[ev], 48, placeholder='…')}"
        note = notes.get(ev, "")
        ax.set_title(head + ("\n" + note.replace("; ", "\n") if note else ""), fontsize=7.8, loc="left")
        ax.tick_params(labelsize=8, labelleft=k % ncols == 0, labelbottom=False)
        if k % ncols == 0:
            ax.set_ylabel("CAAR (%)", fontsize=8.5)
        if k // ncols == nrows - 1 or k + ncols >= len(evs):
            ax.set_xlabel("trading day relative to day 0", fontsize=8.5)
            ax.tick_params(labelbottom=True)
    lo, hi = int(data["rel_day"].min()), int(data["rel_day"].max())
    shown = data[data["event_id"].isin(evs) & data["group"].isin(gs)]
    ys = 100 * np.concatenate([shown[c].to_numpy(dtype=float) for c in ("caar", "lower", "upper")] + [np.zeros(1)])
    ylo, yhi = float(np.nanmin(ys)), float(np.nanmax(ys))
    ypad, xpad = 0.05 * (yhi - ylo or 1.0), 0.05 * (hi - lo or 1)      # matplotlib's default 5% margins
    for ax in axes.ravel():
        ax.set_xticks(range(lo, hi + 1))
        ax.set_xlim(lo - xpad, hi + xpad)
        ax.set_ylim(ylo - ypad, yhi + ypad)
    handles, labs = [], []
    for ax in axes.ravel():
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labs:
                handles.append(h)
                labs.append(l)
    fig.suptitle(_title(run, f"Cumulative average abnormal returns by exposure group ({getattr(result_of(run), 'model', '')} model)"),
                 fontsize=12, fontweight="bold")
    pct = int(round(100 * ci))
    _footer(fig, (
        f"CAAR in percent, cumulated from the close of day −1 (value 0 there; day 0 = AR on day 0). Bands: {pct}% "
        f"confidence interval CAAR_t ± t(N−1)·sd_t/√N·√((1+(N−1)r)/(1−r)), sd_t = cross-sectional s.d. of the "
        f"securities' cumulative ARs on day t, r = their mean estimation-residual correlation (Kolari–Pynnönen's "
        + ("inflation, counting correlation only among firm-events that share their day 0; " if evs == [POOLED]
           else "inflation for a shared event date; ")
        + "no band where r is unknown). Dashed vertical line: day 0. Securities "
        "with a missing AR in the window are left out."), handles, labs, ncol=min(4, len(labs)))
    return fig


# ---------------------------------------------------------------------------------------------
# CARs per security
# ---------------------------------------------------------------------------------------------
def plot_ar_bars(run, event_id: str, window: Sequence[int] = (0, 0), max_name: int = 20) -> Figure:
    """Cumulative abnormal return (%) of every security for one event and window, sorted,
    coloured by group, with stars from the single-security test (``car.p_value``: SCAR,
    Student t with ``M_i - k`` d.o.f.). Labels are tickers, with the name when it has at
    most ``max_name`` characters."""
    res = result_of(run)
    check_event(run, event_id)
    w = check_window(res, window)
    car = res.car
    d = car[(car["event_id"] == event_id) & (car["window_start"] == w[0]) & (car["window_end"] == w[1])]
    d = d[np.isfinite(d["car"].to_numpy(dtype=float))].sort_values("car", kind="mergesort").reset_index(drop=True)
    if d.empty:
        raise DataUnavailableError(f"event {event_id!r} has no CAR in window [{w[0]},{w[1]}]; see result.exclusions")
    names = instrument_names(run)
    style = group_style(d["group"].astype(str), run_labels(run))
    n = len(d)
    fig = Figure(figsize=(9.0, max(3.2, 0.165 * n + 1.9)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)
    vals = 100 * d["car"].to_numpy(dtype=float)
    colors = [style[str(g)].color for g in d["group"]]
    ax.barh(y, vals, color=colors, height=0.75, edgecolor="white", linewidth=0.3)
    labels = []
    for t in d["ticker"].astype(str):
        nm = names.get(t, "")
        short = nm if len(nm) <= max_name else nm[: max_name - 1] + "…"
        labels.append(f"{t}  {short}" if nm else t)
    ax.set_yticks(y, labels, fontsize=6.8 if n > 40 else 8)
    ax.set_ylim(-0.7, n - 0.3)
    span = max(np.abs(vals).max(), 1e-6)
    ax.set_xlim(min(vals.min(), 0) - 0.12 * span, max(vals.max(), 0) + 0.12 * span)
    for yi, v, p in zip(y, vals, d["p_value"].to_numpy(dtype=float)):
        s = stars(p)
        if s:
            ax.text(v + (0.01 * span if v >= 0 else -0.01 * span), yi, s, va="center",
                    ha="left" if v >= 0 else "right", fontsize=7, color="#111111")
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.grid(True, axis="x", color="#e5e5e5", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.set_xlabel(f"CAR over trading days [{w[0]},{w[1]}] (%)", fontsize=9)
    from matplotlib.patches import Patch

    gs = order_groups(d["group"].astype(str), run_labels(run))
    handles = [Patch(facecolor=style[g].color, label=group_label(g, run_labels(run))) for g in gs]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False, title="Group",
               title_fontsize=8.5)
    note = announcement_note(run, event_id)
    fig.suptitle(_title(run, f"CAR per security: {event_id}, window [{w[0]},{w[1]}]")
                 + (f"\n{note.replace('; ', chr(10))}" if note else ""), fontsize=10.5, x=0.02, ha="left")
    _footer(fig, STARS_NOTE.replace("(two-sided).", "(two-sided single-security t test on the SCAR, Student t "
                                    "with M−k d.o.f.). Bars: CAR in percent, sorted; colour = exposure group."))
    return fig


# ---------------------------------------------------------------------------------------------
# heat map
# ---------------------------------------------------------------------------------------------
def plot_heatmap(run, window: Sequence[int] = (0, 1), test: str = "kolari_pynnonen",
                 events: Sequence[str] | None = None) -> Figure:
    """CAAR (%) by event (rows) x group (columns) for one window, colour on a diverging scale
    centred at 0 (symmetric limits), each cell annotated with the value and the stars of
    ``test``'s p-value. ``events`` restricts the rows (in study order)."""
    res = result_of(run)
    tab = heatmap_table(run, window, test)
    w = check_window(res, window)
    keep = set(tab["event_id"]) if events is None else set(tab["event_id"]) & {str(e) for e in events}
    evs = [e for e in event_order(run) if e in keep]
    gs = order_groups(tab["group"], run_labels(run))
    val = tab.pivot(index="event_id", columns="group", values="caar_pct").reindex(index=evs, columns=gs)
    pv = tab.pivot(index="event_id", columns="group", values="p_value").reindex(index=evs, columns=gs)
    M = val.to_numpy(dtype=float)
    absv = np.abs(M[np.isfinite(M)])
    vmax = float(np.percentile(absv, 95)) if absv.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    extend = "both" if absv.size and absv.max() > vmax else "neither"
    nr, nc = M.shape
    fig = Figure(figsize=(1.05 * nc + 3.6, 0.42 * nr + 3.2), layout="constrained")
    ax = fig.subplots()
    cmap = _diverging()
    im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto")
    ax.set_facecolor("#dddddd")
    for i in range(nr):
        for j in range(nc):
            v = M[i, j]
            if not np.isfinite(v):
                ax.text(j, i, "–", ha="center", va="center", fontsize=8, color="#555555")
                continue
            txt = f"{v:+.2f}{stars(pv.iat[i, j])}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=7.5,
                    color="white" if abs(v) > 0.6 * vmax else "#111111")
    dates = {}
    if is_run(run):
        dates = dict(zip(run.events["event_id"].astype(str), pd.to_datetime(run.events["date"])))
    ax.set_yticks(range(nr), [f"{e} ({dates[e]:%m-%d})" if e in dates else e for e in evs], fontsize=8)
    ax.set_xticks(range(nc), [textwrap.fill(group_label(g, run_labels(run)), 16) for g in gs], fontsize=7.5)
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(-0.5, nc, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, nr, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="both", length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02, extend=extend)
    cb.set_label(f"CAAR over [{w[0]},{w[1]}] (%)", fontsize=9)
    cb.ax.tick_params(labelsize=8)
    ax.set_title(_title(run, f"CAAR (%) by event and group, window [{w[0]},{w[1]}]"), fontsize=11.5,
                 fontweight="bold", loc="left")
    ax.set_xlabel(f"{STARS_NOTE[:-1]}, test: {test} (no stars where N < 2). Grey '–': no estimate. "
                  f"Rows: event (date of the news). Colour scale capped at the 95th percentile of |CAAR|.",
                  fontsize=7.5, color="#333333")
    return fig


def _diverging():
    from matplotlib import colormaps

    return colormaps["RdBu"]


# ---------------------------------------------------------------------------------------------
# residual correlation
# ---------------------------------------------------------------------------------------------
def plot_residual_correlation(run, event_id: str | None = None, groups: Sequence[str] | None = None) -> Figure:
    """The estimation-window residual cross-correlation matrix (ordered by group, boundaries
    drawn, within-group mean correlation written in each diagonal block) with the mean pairwise
    correlation r̄ and the Kolari–Pynnönen variance inflation factor ``1 + (N - 1) r̄`` of the
    pooled mean SCAR in the title: the reason the BMP and cross-sectional t over-reject on a
    shared event date."""
    corr, grp, rbar, n = residual_correlation(run, event_id, groups)
    event_id = event_order(run)[0] if event_id is None else str(event_id)
    C = corr.to_numpy(dtype=float).copy()
    np.fill_diagonal(C, np.nan)
    fig = Figure(figsize=(9.6, 8.4), layout="constrained")
    ax = fig.subplots()
    off = np.abs(C[np.isfinite(C)])
    lim = max(0.5, math.ceil(10 * off.max()) / 10) if off.size else 1.0
    im = ax.imshow(np.ma.masked_invalid(C), cmap=_diverging().reversed(), vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_facecolor("#f2f2f2")
    gvals = grp.to_numpy()
    few = n <= 30
    bounds = [0] + [i for i in range(1, n) if gvals[i] != gvals[i - 1]] + [n]
    mids, labs = [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a > 0:
            for f in (ax.axhline, ax.axvline):
                f(a - 0.5, color="black", linewidth=0.9)
        ax.add_patch(_rect(a - 0.5, b - a))
        mids.append((a + b - 1) / 2)
        labs.append(f"{textwrap.fill(group_label(gvals[a], run_labels(run)), 22)} ({b - a})")
        rb, n_rb = upper_mean(C[a:b, a:b])
        if n_rb and b - a >= 3:
            head = f"{textwrap.fill(group_label(gvals[a], run_labels(run)), 16)}\n" if few else ""
            ax.text((a + b - 1) / 2, (a + b - 1) / 2, f"{head}r̄={rb:.2f}", ha="center", va="center",
                    fontsize=7.5, bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
    if few:   # few securities: name each one; the group is written in its box
        ax.set_yticks(range(n), list(corr.index), fontsize=7.5)
        ax.set_xticks(range(n), list(corr.columns), fontsize=7.5, rotation=90)
    else:
        ax.set_yticks(mids, labs, fontsize=7.5)
        ax.set_xticks(mids, [textwrap.fill(group_label(gvals[a], run_labels(run)), 14) for a in bounds[:-1]], fontsize=7,
                      rotation=90)
    ax.tick_params(length=0)
    cb = fig.colorbar(im, ax=ax, shrink=0.75, pad=0.02, extend="both" if lim < 1 else "neither")
    cb.set_label("correlation of estimation-window residuals", fontsize=9)
    cb.ax.tick_params(labelsize=8)
    vif = 1 + (n - 1) * rbar if np.isfinite(rbar) else float("nan")
    res = result_of(run)
    est = res.estimation
    ax.set_title(_title(run, f"Residual cross-correlation, event {event_id} (estimation days [{est[0]},{est[1]}])")
                 + f"\nmean pairwise r̄ = {rbar:.3f} over N = {n} securities; Kolari–Pynnönen variance inflation "
                   f"1 + (N−1) r̄ = {vif:.1f}", fontsize=10.5, loc="left")
    model = result_of(run).model.replace("_", " ")
    ax.set_xlabel(textwrap.fill(
        f"Each cell: Pearson correlation of two securities' {model}-model residuals on their common estimation days "
        f"(diagonal blank; boxes: groups, with the group's own r̄). The Kolari–Pynnönen test multiplies the BMP "
        f"statistic by √((1−r̄)/(1+(N−1)r̄)); each group's test uses that group's r̄ and N.", 140),
        fontsize=7.5, color="#333333")
    return fig


def _rect(x0: float, size: int):
    from matplotlib.patches import Rectangle

    return Rectangle((x0, x0), size, size, fill=False, edgecolor="black", linewidth=1.2)


def figure_builders(run, bar_events: int = 4, max_events: int = 12) -> list[tuple[str, object]]:
    """(name, function drawing the figure) of every figure of :func:`~eventstudy.present.figure_data.figure_plan`:
    ``caar_paths``, ``heatmap``, ``residual_correlation``, ``timeline`` (a run only) and ``ar_bars_<event>``
    for the ``bar_events`` events with the largest pooled |CAAR| (:func:`main_events`). With more than
    ``max_events`` events the CAAR panels and the heat map show the ``max_events`` events of largest pooled
    |CAAR| (in study order; every event stays in the tables), so a figure's cost does not grow with the events."""
    return [(name, lambda kind=kind, kw=kw: draw_planned(run, kind, kw))
            for name, kind, kw in figure_plan(run, bar_events=bar_events, max_events=max_events)]


def draw_planned(run, kind: str, kwargs: dict) -> Figure:
    """The figure of one :func:`~eventstudy.present.figure_data.figure_plan` entry (``kind``, its arguments)."""
    draw = {"caar_paths": plot_caar_paths, "heatmap": plot_heatmap, "residual_correlation": plot_residual_correlation,
            "timeline": plot_timeline, "ar_bars": plot_ar_bars}[kind]
    return draw(run, **kwargs)
