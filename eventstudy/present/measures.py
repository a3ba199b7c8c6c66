"""The volume and volatility section of a report: event x group tables and a figure (no I/O).

Tables are pivots with one row per event and one column per group, each cell the window's
estimate with stars from its test (``*`` p < 0.10, ``**`` p < 0.05, ``***`` p < 0.01, unadjusted):

* volume: the average daily volume relative to normal over the window, ``exp(CAAV / L) - 1`` in
  percent (``CAAV`` the group's mean cumulated abnormal log volume), stars from ``kolari_pynnonen`` on CAV;
* volatility: the variance ratio ``VR`` (the window's mean squared standardised abnormal return over the
  pre-event days'), stars from ``variance_rank``;
* GARCH-standardised returns: mean ``S_i`` with stars from ``savickas``.
"""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["VOLUME_LEAD", "VOLATILITY_LEAD", "measure_tables", "measures_markdown", "measures_html",
           "plot_volume_paths"]

VOLUME_LEAD = "kolari_pynnonen"
VOLATILITY_LEAD = "variance_rank"


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def _pivot(tests: pd.DataFrame, test: str, window: tuple[int, int], value, fmt, run, events: Sequence[str],
           estimate: str) -> pd.DataFrame:
    t = tests[(tests["test"] == test) & (tests["window_start"] == window[0]) & (tests["window_end"] == window[1])]
    groups = run.labels.ordered(t["group"].unique(), pooled=getattr(run.result, "pooled_group", "all"))
    day0 = run.day0.dropna(subset=["day0"]).groupby("event_id")["day0"].min()
    rows = []
    for e in events:
        te = t[t["event_id"] == e].set_index("group")
        row = {"event": e, "day 0": f"{day0[e]:%Y-%m-%d}" if e in day0.index else ""}
        for g in groups:
            if g not in te.index:
                row[run.labels.label(g, short=True)] = ""
                continue
            r = te.loc[g]
            v = value(r[estimate])
            row[run.labels.label(g, short=True)] = (fmt(v) + _stars(r["p_value"])) if np.isfinite(v) else ""
        rows.append(row)
    out = pd.DataFrame(rows)
    empty = [c for c in out.columns[2:] if (out[c] == "").all()]     # single instruments: no cross-section
    return out.drop(columns=empty)


def measure_tables(run, measures, window: tuple[int, int]) -> dict[str, tuple[str, pd.DataFrame]]:
    """name -> (caption, table) for the measures computed (``measures``: a
    :class:`~eventstudy.pipeline.measures.MeasuresRun`), events in the run's order."""
    out: dict[str, tuple[str, pd.DataFrame]] = {}
    L = window[1] - window[0] + 1
    w = f"[{window[0]},{window[1]}]"
    if measures.volume is not None:
        tv = measures.volume.tests
        events = [e for e in run.events["event_id"] if e in set(tv["event_id"])]
        out["volume"] = (f"Abnormal volume, window {w}: average daily volume relative to normal, % "
                         f"(exp(CAAV/{L}) - 1; stars: {VOLUME_LEAD} on the cumulated abnormal log volume)",
                         _pivot(tv, VOLUME_LEAD, window, lambda c: 100 * np.expm1(c / L), lambda v: f"{v:+.0f}%",
                                run, events, "caar"))
    if measures.volatility is not None:
        tt = measures.volatility.tests
        events = [e for e in run.events["event_id"] if e in set(tt["event_id"])]
        out["volatility"] = (f"Event-induced variance, window {w}: mean squared standardised abnormal return "
                             f"over the pre-event days' (stars: {VOLATILITY_LEAD}, a rank test against those days)",
                             _pivot(tt, VOLATILITY_LEAD, window, float, lambda v: f"x{v:.2f}", run, events,
                                    "estimate"))
        out["garch"] = (f"GARCH-standardised abnormal returns, window {w}: mean CAR / event-day GARCH(1,1) "
                        f"sd forecast (stars: savickas)",
                        _pivot(tt, "savickas", window, float, lambda v: f"{v:+.2f}", run, events, "estimate"))
    return out


_INTRO = ("Beside returns: trading volume and volatility around each event, on the same day 0, windows and "
          "groups. Abnormal volume is log volume against a market model in logs (the equal-weighted log "
          "volume of {market} as regressor, {calendar} dummies; Campbell & Wasley 1996). Volatility: the "
          "squared standardised abnormal returns of the window ranked against those of the days just before "
          "the event (the estimation window is no fair reference when volatility clusters; those days can hold "
          "an earlier event of the study, and a ratio below 1 then says the window was calmer than an eventful "
          "stretch), "
          "and returns standardised by each stock's GARCH(1,1) event-day variance forecast (Savickas 2003). "
          "Formulas: docs/METHODS.md section 18; every cell is in the volume_*.csv and volatility_*.csv tables. "
          "Groups of one instrument get no cross-sectional statistic. Stars are per cell and not adjusted for "
          "the many cells shown (* p<0.10, ** p<0.05, *** p<0.01, two-sided): read them as exploratory.")


def _intro(measures) -> str:
    market = {"all": "every stock in the volume file", "universe": "the study's stocks"}.get(
        measures.volume_market, measures.volume_market)
    cal = {"dow+holiday": "day-of-week and holiday-adjacent", "dow": "day-of-week", "none": "no calendar"}.get(
        measures.volume_calendar, measures.volume_calendar)
    return _INTRO.format(market=market, calendar=cal)


def measures_markdown(run, measures, window: tuple[int, int], figure: str | None = None) -> str:
    """The section as Markdown (``figure``: relative path of the volume figure, if drawn)."""
    L = ["## Volume and volatility", "", _intro(measures), ""]
    for caption, tab in measure_tables(run, measures, window).values():
        L += [f"**{caption}**", "", _md_table(tab), ""]
    if figure:
        L += [f"![Abnormal log volume by day]({figure})", ""]
    return "\n".join(L).rstrip() + "\n"


def measures_html(run, measures, window: tuple[int, int], image: bytes | None = None) -> str:
    """The section as HTML (``image``: PNG bytes of the volume figure, embedded)."""
    import base64

    parts = ['<section id="measures"><h2>Volume and volatility</h2>', f"<p>{html.escape(_intro(measures))}</p>"]
    for caption, tab in measure_tables(run, measures, window).values():
        parts.append(f"<h3>{html.escape(caption)}</h3>")
        parts.append(tab.to_html(index=False, escape=True, border=0, classes="es-table"))
    if image:
        parts.append(f'<figure><img alt="Abnormal log volume by day" src="data:image/png;base64,'
                     f'{base64.b64encode(image).decode()}"/></figure>')
    parts.append("</section>")
    return "\n".join(parts)


def _md_table(df: pd.DataFrame) -> str:
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("<", "&lt;")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    return "\n".join([head, rule, *("| " + " | ".join(cell(v) for v in r) + " |" for r in df.itertuples(index=False))])


def plot_volume_paths(run, measures, max_events: int = 12):
    """Mean abnormal log volume by relative day, one line per group, one panel per event (at most
    ``max_events``, in the run's order); returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ar = measures.volume.ar
    events = [e for e in run.events["event_id"] if e in set(ar["event_id"])][:max_events]
    ncol = min(3, len(events)) or 1
    nrow = int(np.ceil(len(events) / ncol)) or 1
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False, sharey=True,
                             constrained_layout=True)
    groups = run.labels.ordered(ar["group"].unique(), pooled=None)
    for ax, e in zip(axes.ravel(), events):
        sub = ar[ar["event_id"] == e]
        m = sub.groupby(["group", "rel_day"])["ar"].mean()
        for g in groups:
            if g in m.index.get_level_values(0):
                s = m.loc[g]
                st = run.labels.style.get(g) if hasattr(run.labels, "style") else None
                ax.plot(s.index, s.to_numpy(), marker=".", lw=1.2, label=run.labels.label(g, short=True),
                        color=getattr(st, "color", None))
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8, ls=":")
        ax.set_title(str(e), fontsize=9)
        ax.set_xlabel("trading day relative to day 0", fontsize=8)
    for ax in axes.ravel()[len(events):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("mean abnormal log volume")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=8)
    if run.simulated:
        fig.suptitle("SIMULATED data", color="red")
    return fig
