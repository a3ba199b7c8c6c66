"""The intraday section of the report: bar 0, the reactions, the reaction clock and the path figure.

:func:`plot_intraday_path` draws one event's bars (closes, in % from the close before the
window) from the session before bar 0's to the sessions after it; every session break is a
shaded band of fixed width labelled with its hours (so a weekend does not squash the bars), and
the announcement is a vertical line placed at its time (inside a bar, or in the middle of a break).
:func:`intraday_markdown` / :func:`intraday_html` render the section; the figure's file name is
given by the writer (:mod:`eventstudy.outputs.intraday`).
"""
from __future__ import annotations

import io
from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from eventstudy.content import Figure, Heading, Paragraph, TextTable, render_html, render_markdown
from eventstudy.pipeline.intraday import IntradayRun

__all__ = ["plot_intraday_path", "figure_png", "clock_table", "reaction_table", "intraday_blocks", "intraday_markdown",
           "intraday_html",
           "BREAK_WIDTH"]

#: width of a session break on the figure's axis, in bars
BREAK_WIDTH = 3


def _pct(v: float, digits: int = 2) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v * 100:+.{digits}f}"


def _p(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v:.3f}"


def _price(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v:,.2f}".rstrip("0").rstrip(".")


def clock_table(run: IntradayRun, event_id: str) -> pd.DataFrame:
    """The reaction clock of one event as display text (percent, p-values to 3 decimals)."""
    c = run.clock[run.clock["event_id"] == event_id].copy()
    c[["start_local", "end_local", "leg"]] = c[["start_local", "end_local", "leg"]].fillna("")
    return pd.DataFrame({
        "#": c["order"].astype(int).astype(str), "instrument": c["instrument"], "venue": c["venue"], "leg": c["leg"],
        "from": c["start_local"], "to": c["end_local"],
        "prices": [f"{_price(a)} \u2192 {_price(b)}" if np.isfinite(a) and np.isfinite(b) else ""
                   for a, b in zip(c["from_price"].astype(float), c["to_price"].astype(float))],
        "return %": c["ret"].astype(float).map(_pct), "abnormal %": c["ar"].astype(float).map(_pct),
        "t": c["t"].astype(float).map(lambda v: "" if not np.isfinite(v) else f"{v:+.2f}"),
        "p (t)": c["p_t"].astype(float).map(_p), "p (GHK)": c["p_ghk"].astype(float).map(_p),
        "n": c["n_est"].map(lambda v: "" if pd.isna(v) else str(int(v))), "note": c["note"]})


def reaction_table(run: IntradayRun) -> pd.DataFrame:
    """Every event x window of the bar instrument as display text."""
    r = run.reactions
    out = pd.DataFrame({
        "event": r["event_id"], "end": r["end"], "bar 0": r["bar0_local"], "window": r["window"],
        "from": r["start_local"], "to": r["end_local"], "bars": r["n_bars"].astype(str),
        "return %": r["ret"].astype(float).map(_pct), "gap %": np.expm1(r["gap"].astype(float)).map(_pct),
        "abnormal %": r["ar"].astype(float).map(_pct),
        "t": r["t"].astype(float).map(lambda v: "" if not np.isfinite(v) else f"{v:+.2f}"),
        "p (t)": r["p_t"].astype(float).map(_p), "p (GHK)": r["p_ghk"].astype(float).map(_p),
        "n": r["n_est"].astype(str)})
    if r["beta"].notna().any():
        out["beta"] = r["beta"].astype(float).map(lambda v: "" if not np.isfinite(v) else f"{v:.2f}")
    return out


def _text_table(df: pd.DataFrame, numeric: tuple[str, ...] = (), long: tuple[str, ...] = ()) -> TextTable:
    cols = list(df.columns)
    return TextTable(headers=tuple(cols), rows=tuple(tuple("" if pd.isna(v) else str(v) for v in r)
                                                     for r in df.itertuples(index=False)),
                     numeric=tuple(c in numeric for c in cols), long_cols=tuple(cols.index(c) for c in long if c in cols))


def _methods(run: IntradayRun) -> str:
    return (f"Bars of {run.ticker} on {run.venue.code} ({run.venue.name}), {run.source}. Bar 0 is the first bar "
            "opening at or after the announcement (a bar that started before the news never is). Windows: "
            "'whole session' from the previous session's close (its opening gap included), 'rest of session' "
            "from bar 0 to the session's close. Each move is compared with the same window at the same time of "
            f"day in up to {run.n_sessions} earlier sessions of the same kind (other events' sessions and "
            "futures-roll sessions left out): abnormal = log return minus their mean; t = prediction-error t "
            "(n - 1 d.o.f.); GHK = Gelbach-Helland-Klick sample-quantile p, two-sided, (1 + rank)/(n + 1), "
            "so its smallest possible value is 2/(n + 1). Daily legs of cash instruments: overnight = previous "
            "close to open, intraday = open to close, against the same leg on earlier sessions (other events' "
            "sessions left out). p-values are per cell, not adjusted for the number of cells.")


_NUM = ("return %", "abnormal %", "gap %", "t", "p (t)", "p (GHK)", "n", "bars", "#")


def intraday_blocks(run: IntradayRun, figures: Mapping[str, tuple[bytes, str]] | None = None,
                    simulated: bool = False) -> list:
    """The report section as content blocks; ``figures`` maps event_id -> (PNG bytes, relative path)."""
    blocks: list = [Heading("Intraday reaction clock", 2, "intraday")]
    if simulated:
        blocks.append(Paragraph("the daily legs below are not market data.", strong="SIMULATED daily data:"))
    blocks += [Paragraph(_methods(run)), Heading("Bar 0", 3),
               _text_table(run.bar0[["event_id", "end", "bar0_local", "reason"]].rename(columns={"bar0_local": "bar 0"}),
                           long=("reason",))]
    for eid in dict.fromkeys(run.clock["event_id"]):
        blocks += [Heading(f"Reaction clock: {eid}", 3), _text_table(clock_table(run, eid), _NUM, ("note",))]
        if figures and eid in figures:
            data, href = figures[eid]
            blocks.append(Figure(f"{run.ticker} ({run.venue.code}) around {eid}: closes, announcement marked, "
                                 "session breaks shaded", data=data, href=href))
    blocks += [Heading("Every intraday window", 3), _text_table(reaction_table(run), _NUM)]
    return blocks


def intraday_markdown(run: IntradayRun, figures: Mapping[str, tuple[bytes, str]] | None = None,
                      simulated: bool = False) -> str:
    """The report section in Markdown (figures linked)."""
    return render_markdown(intraday_blocks(run, figures, simulated))


def intraday_html(run: IntradayRun, figures: Mapping[str, tuple[bytes, str]] | None = None,
                  simulated: bool = False) -> str:
    """The report section as an HTML fragment (figures embedded)."""
    return '<section id="intraday-clock">\n' + render_html(intraday_blocks(run, figures, simulated)) + "</section>\n"


def plot_intraday_path(run: IntradayRun, event_id: str, sessions_before: int = 1, sessions_after: int = 2,
                       simulated: bool = False) -> MplFigure | None:
    """Closes around one event's bar 0, in % from the close before bar 0's session; None without a bar 0."""
    b = run.bar0[(run.bar0["event_id"] == event_id) & (run.bar0["end"] != "latest")]
    if not len(b) or int(b["bar0_pos"].iloc[0]) < 0:
        return None
    b = b.iloc[0]
    legs, tz = run.legs, run.venue.tz
    pos = int(b["bar0_pos"])
    seqs = np.unique(legs["seq"].to_numpy())
    k = int(np.searchsorted(seqs, legs["seq"].iat[pos]))
    keep = seqs[max(0, k - sessions_before): k + sessions_after + 1]
    d = legs[legs["seq"].isin(keep)]
    brk = np.r_[0, np.cumsum(d["seq"].to_numpy()[1:] != d["seq"].to_numpy()[:-1])]
    x = np.arange(len(d)) + BREAK_WIDTH * brk
    ref_i = np.flatnonzero(d["seq"].to_numpy() == legs["seq"].iat[pos])[0]
    ref = d["prev_close"].iat[ref_i] if np.isfinite(d["prev_close"].iat[ref_i]) else d["open"].iat[ref_i]
    y = (d["close"].to_numpy() / ref - 1) * 100
    fig = MplFigure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x + 1, y, color="#000000", lw=1.0)   # a bar's close is drawn at its end
    ax.axhline(0, color="#999999", lw=0.6)
    starts = np.flatnonzero(np.r_[True, np.diff(brk) > 0])
    for i in starts[1:]:
        lo, hi = x[i - 1] + 1, x[i]
        ax.axvspan(lo, hi, color="#BBBBBB", alpha=0.5, lw=0)
        sess = run.sessions.set_index("seq")
        t0 = pd.Timestamp(sess.loc[d["seq"].iat[i - 1], "close_utc"]).tz_convert(tz)   # the venue's close and open
        t1 = pd.Timestamp(sess.loc[d["seq"].iat[i], "open_utc"]).tz_convert(tz)
        ax.text((lo + hi) / 2, 0.02, f"closed {t0:%a %H:%M}\u2013{t1:%a %H:%M}", rotation=90, fontsize=6.5,
                ha="center", va="bottom", transform=ax.get_xaxis_transform(), color="#444444")
    i0 = int(np.flatnonzero(d.index.to_numpy() == legs.index[pos])[0])
    a = pd.Timestamp(b["announced_utc"])
    if legs["first"].iat[pos] and i0 > 0:
        xa = (x[i0 - 1] + 1 + x[i0]) / 2
    else:
        prev_open = pd.Timestamp(d["bar_open_utc"].iat[max(i0 - 1, 0)])
        length = (pd.Timestamp(d["bar_open_utc"].iat[i0]) - prev_open).total_seconds() or 1
        xa = x[max(i0 - 1, 0)] + min(1.0, (a - prev_open).total_seconds() / length)
    ax.axvline(xa, color="#D55E00", lw=1.4, ls="--")
    ax.plot([x[i0] + 1], [y[i0]], marker="o", color="#D55E00", ms=4)
    ax.text(xa, 0.98, f" announced {a.tz_convert(tz):%a %d %b %H:%M %Z}\n bar 0 {pd.Timestamp(b['bar0_utc']).tz_convert(tz):%H:%M}",
            transform=ax.get_xaxis_transform(), va="top", ha="left", fontsize=7.5, color="#D55E00")
    ticks = [int(x[i]) for i in starts]
    labels = [f"{pd.Timestamp(d['bar_open_utc'].iat[i]).tz_convert(tz):%a %d %b %H:%M}\n{d['session'].iat[i]}" for i in starts]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_ylabel("close, % from the close\nbefore bar 0's session", fontsize=8)
    title = f"{run.ticker} ({run.venue.code}) around {event_id}: {len(d)} bars, session breaks shaded"
    ax.set_title(("SIMULATED \u2014 " if simulated else "") + title, fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    return fig


def figure_png(fig: MplFigure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
