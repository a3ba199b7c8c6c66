"""The timeline figure: the study's timeline instruments (a study's ``[defaults] timeline``) across the
study period, normalised to 100, with every event marked (drawn without pyplot)."""
from __future__ import annotations

import textwrap
from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure

from eventstudy.content import simulated_title
from eventstudy.errors import DataUnavailableError, WindowError
from eventstudy.present.figure_data import instrument_names, is_run, is_simulated
from eventstudy.present.tables import run_labels
from eventstudy.returns.futures import is_continuous_future

__all__ = ["TIMELINE_STYLES", "plot_timeline"]

#: Colours of a timeline's instruments, in the order the study lists them (then the fallback colours).
TIMELINE_STYLES = (("#000000", "-"), ("#D55E00", "--"), ("#0072B2", "-"))
_FALLBACK_COLORS = ("#117733", "#882255", "#44AA99", "#AA4499", "#999933", "#661100", "#6699CC", "#888888")


# ---------------------------------------------------------------------------------------------
# timeline
# ---------------------------------------------------------------------------------------------
def _stagger(ax, xs: Sequence[float], texts: Sequence[str], fontsize: float = 7.5) -> int:
    """Place labels at data x on the lowest row where they do not overlap an earlier label; return rows used."""
    fig = ax.figure
    placed: list[list[tuple[float, float]]] = []
    artists = []
    for x, t in zip(xs, texts):
        a = ax.text(x, 0, " " + t, fontsize=fontsize, ha="left", va="bottom", rotation=0,
                    transform=ax.get_xaxis_transform(), clip_on=False)
        artists.append(a)
    fig.draw_without_rendering()
    rows = []
    for a in artists:
        bb = a.get_window_extent()
        x0, x1 = bb.x0, bb.x1
        row = 0
        while row < len(placed) and any(not (x1 + 2 < p0 or x0 - 2 > p1) for p0, p1 in placed[row]):
            row += 1
        if row == len(placed):
            placed.append([])
        placed[row].append((x0, x1))
        rows.append(row)
    nrows = max(len(placed), 1)
    for a, r in zip(artists, rows):
        a.set_y((r + 0.15) / nrows)
    return nrows


def _every_group_drawn(run, tickers: tuple, study_tickers: tuple, have: list) -> bool:
    """Whether the section title fits: the study's own list, and every universe group on it (futures, index) has
    an instrument with prices (a listed contract the run does not have, e.g. another venue's, does not
    matter); a list with no instrument of the universe: every one drawn."""
    if set(tickers) != set(study_tickers):
        return False
    uni = getattr(run, "universe", None)
    group = dict(zip(uni["ticker"], uni["group"])) if uni is not None and len(uni) else {}
    listed = {group[t] for t in study_tickers if t in group}
    if not listed:                                   # no instrument of the universe: every one drawn
        return set(have) == set(study_tickers)
    return listed <= {group[t] for t in have if t in group}


def plot_timeline(run, tickers: Sequence[str] | None = None, start=None, end=None,
                  pad_days: int = 30) -> Figure:
    """The study's timeline instruments (``tickers``; default ``run.config.timeline``, a study's
    ``[defaults] timeline``) across the study period, each normalised to 100 on its first date in the
    plotted range (prices from ``run.prices.wide()``), with every event marked by a vertical line at
    its announcement date and a staggered label. The title names them by the study's
    ``timeline_title`` section label when every universe group on the list (futures, index) has an
    instrument with prices, else by ticker.

    ``start``/``end`` (dates) default to ``pad_days`` calendar days around the first and last event.
    Tickers without prices are skipped; if none has prices, :class:`DataUnavailableError`.
    Continuous futures include their roll jumps; roll days masked in the returns are marked.
    """
    if not is_run(run):
        raise TypeError("plot_timeline needs a StudyRun (it uses the run's prices and events)")
    study_tickers = tuple(getattr(run.config, "timeline", ()) or ())
    if tickers is None:
        tickers = study_tickers
    if not tickers:
        raise DataUnavailableError("the run names no timeline instruments (a study's [defaults] timeline in "
                                   "study.toml, or tickers=...)")
    wide = run.prices.wide()
    have = [t for t in tickers if t in wide.columns and wide[t].notna().any()]
    if not have:
        raise DataUnavailableError(f"none of {', '.join(tickers)} has prices in {run.prices.source}; pass tickers=... "
                                   f"with instruments of the run, e.g. {', '.join(map(str, list(wide.columns)[:3]))}")
    ev = run.events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    s = pd.Timestamp(start) if start is not None else ev["date"].min() - pd.Timedelta(days=pad_days)
    e = pd.Timestamp(end) if end is not None else ev["date"].max() + pd.Timedelta(days=pad_days)
    if e <= s:
        raise WindowError(f"timeline end {e:%Y-%m-%d} is not after start {s:%Y-%m-%d}")
    w = wide.loc[(wide.index >= s) & (wide.index <= e), have]
    if w.dropna(how="all").empty:
        raise DataUnavailableError(f"no prices of {', '.join(have)} between {s:%Y-%m-%d} and {e:%Y-%m-%d}")

    fig = Figure(figsize=(11.5, 6.4), layout="constrained")
    gs = fig.add_gridspec(2, 1, height_ratios=[1, 3.2])
    ax_ev = fig.add_subplot(gs[0])
    ax = fig.add_subplot(gs[1], sharex=ax_ev)
    palette = dict(zip(tickers, TIMELINE_STYLES))
    extra = iter(_FALLBACK_COLORS)
    names = instrument_names(run)
    masked = getattr(run.panel, "masked", None)
    for t in have:
        col = w[t].dropna()
        norm = 100 * col / col.iloc[0]
        c, ls = palette.get(t, (next(extra, "#888888"), "-."))
        nm = names.get(t, "")
        ax.plot(norm.index, norm.to_numpy(), color=c, linestyle=ls, linewidth=1.4,
                label=f"{t} {nm}".strip() if len(nm) <= 32 else t)
        if masked is not None and len(masked):
            md = pd.DatetimeIndex(masked.loc[masked["ticker"] == t, "date"])
            md = md[md.isin(norm.index)]
            if len(md):
                ax.plot(md, norm.loc[md].to_numpy(), "x", color=c, markersize=6, label=f"{t} roll day (masked)")
    ax.axhline(100, color="#999999", linewidth=0.6)
    ax.set_ylabel(f"Level (first date {w.dropna(how='all').index[0]:%Y-%m-%d} = 100)", fontsize=9)
    ax.grid(True, color="#e5e5e5", linewidth=0.5)
    ax.tick_params(labelsize=8.5)
    evs = ev[(ev["date"] >= s) & (ev["date"] <= e)].sort_values("date", kind="mergesort")
    for d in evs["date"]:
        for a in (ax, ax_ev):
            a.axvline(d, color="#555555", linewidth=0.7, linestyle=(0, (3, 2)), alpha=0.8)
    ax_ev.set_ylim(0, 1)
    ax_ev.set_yticks([])
    for side in ("left", "right", "top"):
        ax_ev.spines[side].set_visible(False)
    ax_ev.tick_params(labelbottom=False, bottom=False)
    ax.set_xlim(s, e)
    _stagger(ax_ev, list(evs["date"]), [str(x) for x in evs["event_id"]])
    fut = [t for t in have if is_continuous_future(t)]
    named = run_labels(run).sections.get("timeline_title")
    what = named if (named and _every_group_drawn(run, tuple(tickers), study_tickers, have)) else ", ".join(have)
    ax_ev.set_title(simulated_title(f"{what} around the events", is_simulated(run), sep=" — "), fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel("date (each instrument's own trading dates)", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False, borderaxespad=0)
    note = "Vertical lines: announcement dates (local date of the news)."
    if fut:
        note += " Futures are continuous front-month series: roll jumps are in the price."
    ax.text(1.01, 0.0, textwrap.fill(note, 34),
            transform=ax.transAxes, fontsize=7, va="bottom", color="#333333")
    return fig
