"""The placebo calibration as content: tidy frames, the calibration section (Markdown, HTML) and the
power-curve figure of a :class:`~eventstudy.pipeline.placebo.PlaceboResult`.

Kept apart from :mod:`eventstudy.present.report` (the study report) so the calibration section can be added
to any report: :func:`calibration_markdown` returns the section; the files are written by
:mod:`eventstudy.outputs.placebo_files`.
"""
from __future__ import annotations

import base64
import html
import io
import math
from typing import Sequence
import numpy as np
import pandas as pd

from eventstudy.content import SIMULATED
from eventstudy.inputs.study import Labels
from eventstudy.pipeline.placebo import MDE_LEVEL, MDE_POWER, PlaceboResult

__all__ = ["placebo_frames", "size_band", "lead_test_check", "single_instrument_groups", "calibration_blocks",
           "calibration_markdown", "calibration_html", "plot_power_curves", "power_curve_bytes"]


def placebo_frames(pr: PlaceboResult) -> dict[str, pd.DataFrame]:
    """The tidy frames of a placebo result, keyed by file name (columns: :class:`PlaceboResult`)."""
    return {"placebo_size.csv": pr.size, "placebo_power.csv": pr.power, "placebo_mde.csv": pr.mde,
            "placebo_calibrated_p.csv": pr.calibrated, "placebo_tost.csv": pr.tost,
            "placebo_draws.csv": pr.draws[["draw", "design", "date", "event_id"]]}


def size_band(n_dates: int, level: float = MDE_LEVEL) -> float:
    """Upper end of a two-sided 95% binomial band for a rejection rate at ``level`` estimated from
    ``n_dates`` independent placebo dates: ``level + 1.96 sqrt(level (1 - level) / n_dates)``."""
    return level + 1.96 * math.sqrt(level * (1 - level) / max(n_dates, 1))


def _n_dates(pr: PlaceboResult) -> int:
    return int(pr.info.get("placebo_events", pr.n_draws))


def lead_test_check(pr: PlaceboResult, window: tuple[int, int], group: str = "all") -> tuple[str, list[str]]:
    """(sentence, tests within the size band) for ``window`` and ``group``: is the lead test's placebo size at
    5% within the 95% band of a correct 5% test on this panel, and which tests are."""
    s = pr.size[(pr.size["window_start"] == window[0]) & (pr.size["window_end"] == window[1])
                & (pr.size["group"] == group)]
    n = _n_dates(pr)
    hi = size_band(n)
    ok = s.loc[s["size_05"] <= hi, "test"].tolist()
    lead = s.loc[s["test"] == pr.lead_test, "size_05"]
    if lead.empty or not np.isfinite(lead.iloc[0]):
        return f"The placebo size of {pr.lead_test} could not be computed for window [{window[0]},{window[1]}].", ok
    v = float(lead.iloc[0])
    verdict = ("within" if v <= hi else "above")
    return (f"Lead test {pr.lead_test}: placebo size {v:.3f} at the 5% level on window [{window[0]},{window[1]}], "
            f"group {group}, {verdict} the 95% band of a correct test (up to {hi:.3f} for {n} distinct placebo "
            f"dates){'' if v <= hi else ': its p-values are too small on this panel; use the calibrated p'}.", ok)


def _fmt(v, spec=".3f") -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |")
    return "\n".join(lines)


def _html_table(df: pd.DataFrame) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r) + "</tr>" for r in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


#: the calibration section of the single-instrument groups uses the instrument's own time-series test
_SINGLE_TEST = "t_time_series"


def single_instrument_groups(pr: PlaceboResult) -> tuple[str, ...]:
    """Groups whose real lead test was not computed (every p missing: a group of one instrument or of
    listings of one contract, e.g. futures) but whose own time-series test was: they are calibrated
    with that test."""
    c = pr.calibrated
    lead = c[c["test"] == pr.lead_test]
    has_lead = lead["p_value"].notna().groupby(lead["group"], sort=False).any()
    ts = set(c.loc[(c["test"] == _SINGLE_TEST) & c["p_value"].notna(), "group"])
    return tuple(g for g, ok in has_lead.items() if not ok and g in ts)


def _primary_rows(pr: PlaceboResult, hypotheses: pd.DataFrame | None, single_groups: Sequence[str],
                  alpha: float) -> pd.DataFrame:
    """One row per primary hypothesis: the test, N, CAAR, nominal and calibrated p, and for a cell not
    significant at ``alpha`` its MDE and TOST verdict."""
    cols = ["hypothesis", "event", "group", "window", "test", "n", "CAAR (%)", "p", "calibrated p", "MDE (%)",
            "TOST p", "not significant means"]
    if hypotheses is None or len(hypotheses) == 0:
        return pd.DataFrame(columns=cols)
    cal = pr.calibrated.set_index(["event_id", "group", "window_start", "window_end", "test"])
    mde = pr.mde.set_index(["test", "group", "window_start", "window_end"])["mde"]
    tost = pr.tost.set_index(["event_id", "group", "window_start", "window_end"])
    rows = []
    for h in hypotheses.itertuples(index=False):
        test = _SINGLE_TEST if h.group in set(single_groups) else pr.lead_test
        k = (h.event_id, h.group, int(h.window_start), int(h.window_end))
        if (*k, test) not in cal.index:
            rows.append((h.hypothesis_id, h.event_id, h.group, f"[{k[2]},{k[3]}]", test, "", "", "", "", "", "",
                         "not tested (no placebo cell)"))
            continue
        r = cal.loc[(*k, test)]
        ns = not (r["p_value"] < alpha)
        m = mde.get((test, h.group, k[2], k[3]), np.nan)
        t = tost.loc[k] if (ns and test == pr.lead_test and k in tost.index) else None
        verdict = ""
        if ns:
            if t is not None and np.isfinite(t["p_tost"]):
                verdict = (f"no reaction beyond ±{100 * float(t['margin']):.2f}% (TOST)" if bool(t["equivalent"])
                           else f"cannot exclude a reaction of ±{100 * float(t['margin']):.2f}%")
            elif np.isfinite(m):
                verdict = f"effects below {100 * m:.2f}% are detected less than 80% of the time"
            else:
                verdict = f"no power up to {100 * max(pr.effects):.0f}%"
        rows.append((h.hypothesis_id, h.event_id, h.group, f"[{k[2]},{k[3]}]", test, _fmt(float(r["n"]), ".0f"),
                     _fmt(100 * float(r["caar"]), "+.2f"), _fmt(float(r["p_value"])), _fmt(float(r["p_calibrated"])),
                     _fmt(100 * m, ".2f") if ns else "", _fmt(float(t["p_tost"])) if t is not None else "", verdict))
    return pd.DataFrame(rows, columns=cols)


def calibration_blocks(pr: PlaceboResult, window: tuple[int, int] | None = None, figure: str | None = None,
                       alpha: float = 0.05, hypotheses: pd.DataFrame | None = None,
                       single_groups: Sequence[str] | None = None) -> list[tuple[str, object]]:
    """The calibration section as blocks ``(kind, content)``, kind ``h2 | h3 | p | table | img``: size table,
    MDE per group, the lead test confirmed (or not) by its placebo size, the calibrated p of the primary
    hypotheses (with MDE and TOST for those not significant at ``alpha``) and of every cell of the lead
    test on ``window``. ``single_groups``: groups tested with the instrument's own time-series test
    (default :func:`single_instrument_groups`)."""
    if single_groups is None:
        single_groups = single_instrument_groups(pr)
    w = window or (int(pr.size["window_start"].iloc[0]), int(pr.size["window_end"].iloc[0]))
    inw = lambda d: d[(d["window_start"] == w[0]) & (d["window_end"] == w[1])]   # noqa: E731
    n = _n_dates(pr)
    head = f"{SIMULATED} data - " if pr.simulated else ""
    B: list[tuple[str, object]] = [("h2", "Calibration on this panel (placebo event dates)")]
    B.append(("p", f"{head}{pr.n_draws} placebo draws (seed {pr.seed}) of the study's event dates from "
              f"{', '.join(str(len(v)) for v in pr.eligible.values())} eligible sessions ({n} distinct dates "
              "used), never touching a real event window or a listed confounder date; same instruments, groups, "
              "model and windows. Size: share of placebo cells rejected at 1/5/10% (a correct test: "
              f"0.01/0.05/0.10). Power: share rejected at {MDE_LEVEL:.0%} after adding an abnormal return to "
              f"every security's day-0 return. MDE: the added CAAR rejected {MDE_POWER:.0%} of the time at "
              f"{MDE_LEVEL:.0%}. Data: {pr.data_label}."))
    size = inw(pr.size)
    pooled = "all" if "all" in set(size["group"]) else (size["group"].iloc[0] if len(size) else "all")
    sentence, ok = lead_test_check(pr, w, pooled)
    s = size[size["group"] == pooled]
    mde = inw(pr.mde)
    m_of = dict(zip(zip(mde["test"], mde["group"]), mde["mde"]))
    tab = pd.DataFrame({"test": s["test"], "n": s["n"].map(lambda v: _fmt(v, ".0f")),
                        "size 1%": s["size_01"].map(_fmt), "size 5%": s["size_05"].map(_fmt),
                        "size 10%": s["size_10"].map(_fmt),
                        "MDE (%)": [_fmt(100 * m_of.get((t, pooled), np.nan), ".2f") for t in s["test"]]})
    B += [("h3", f"Size and MDE, window [{w[0]},{w[1]}], group {pooled}"), ("table", tab),
          ("p", sentence + f" Tests within the band: {', '.join(ok) if ok else 'none'}.")]
    lm = mde[mde["test"] == pr.lead_test]
    lt = size[size["test"] == pr.lead_test].set_index("group")
    g_tab = pd.DataFrame({"group": lm["group"], "n": lm["n"].map(lambda v: _fmt(v, ".0f")),
                          "size 5%": lm["group"].map(lambda g: _fmt(lt["size_05"].get(g, np.nan))),
                          "MDE (%)": (100 * lm["mde"]).map(lambda v: _fmt(v, ".2f"))})
    B += [("h3", f"MDE of {pr.lead_test} per group, window [{w[0]},{w[1]}]"), ("table", g_tab),
          ("p", f"Empty MDE: not reached at the largest injected effect ({100 * max(pr.effects):.2f}%), or a "
                "group of one instrument (no cross-section).")]
    if figure:
        B.append(("img", figure))
    prim = _primary_rows(pr, hypotheses, single_groups, alpha)
    if len(prim):
        B += [("h3", "Primary hypotheses: calibrated p-values"),
              ("p", "Calibrated p: (1 + number of placebo statistics at least as extreme) / (1 + draws), same "
                    f"group and window. Test: {pr.lead_test} for equity groups, the instrument's own "
                    f"{_SINGLE_TEST} for one-instrument groups. For cells not significant at {alpha:.0%}: the MDE, "
                    "and the equivalence test (TOST) against the placebo distribution of the CAAR with the margin "
                    f"{'given' if (len(pr.tost) and pr.tost['margin_source'].iloc[0] == 'user') else '= the MDE'}."),
              ("table", prim)]
    cal = inw(pr.calibrated)
    cal = cal[cal["test"] == pr.lead_test]
    tost = inw(pr.tost).set_index(["event_id", "group"])
    rows = []
    for r in cal.itertuples(index=False):
        k = (r.event_id, r.group)
        t = tost.loc[k] if k in tost.index else None
        ns = not (r.p_value < alpha)
        rows.append((r.event_id, r.group, _fmt(r.n, ".0f"), _fmt(100 * r.caar, "+.2f"), _fmt(r.p_value),
                     _fmt(r.p_calibrated),
                     _fmt(100 * m_of.get((pr.lead_test, r.group), np.nan), ".2f") if ns else "",
                     _fmt(float(t["p_tost"])) if (ns and t is not None) else ""))
    ctab = pd.DataFrame(rows, columns=["event", "group", "n", "CAAR (%)", "p", "calibrated p", "MDE (%)", "TOST p"])
    B += [("h3", f"Calibrated p-values of every cell, {pr.lead_test}, window [{w[0]},{w[1]}]"), ("table", ctab)]
    return B


def calibration_markdown(pr: PlaceboResult, window: tuple[int, int] | None = None, figure: str | None = None,
                         alpha: float = 0.05, hypotheses: pd.DataFrame | None = None) -> str:
    """The calibration section in Markdown (:func:`calibration_blocks`)."""
    out = []
    for kind, c in calibration_blocks(pr, window, figure, alpha, hypotheses):
        if kind == "h2":
            out.append(f"## {c}")
        elif kind == "h3":
            out.append(f"### {c}")
        elif kind == "table":
            out.append(_md_table(c))
        elif kind == "img":
            out.append(f"![Placebo power curves]({c})")
        else:
            out.append(str(c).replace(f"{SIMULATED} data - ", f"**{SIMULATED} data** - ", 1))
    return "\n\n".join(out)


def calibration_html(pr: PlaceboResult, window: tuple[int, int] | None = None, image: bytes | None = None,
                     alpha: float = 0.05, hypotheses: pd.DataFrame | None = None) -> str:
    """The calibration section as an HTML fragment (``image``: PNG bytes of the power curves, embedded)."""
    out = ['<section id="calibration">']
    for kind, c in calibration_blocks(pr, window, "figure" if image else None, alpha, hypotheses):
        if kind in ("h2", "h3"):
            out.append(f"<{kind}>{html.escape(str(c))}</{kind}>")
        elif kind == "table":
            out.append(_html_table(c))
        elif kind == "img":
            data = base64.b64encode(image).decode("ascii")
            out.append(f'<figure><img src="data:image/png;base64,{data}" alt="Placebo power curves"></figure>')
        else:
            out.append(f"<p>{html.escape(str(c))}</p>")
    out.append("</section>")
    return "\n".join(out)


def plot_power_curves(pr: PlaceboResult, window: tuple[int, int] | None = None, max_cols: int = 3,
                      labels: Labels | None = None):
    """One panel per test: power at 5% against the injected day-0 abnormal return (%), one line per group
    (the pooled group bold; styles from ``labels``), size at 0; the 80% line marks the MDE."""
    from matplotlib.figure import Figure

    from eventstudy.present.plots import group_style

    w = window or (int(pr.size["window_start"].iloc[0]), int(pr.size["window_end"].iloc[0]))
    pw = pr.power[(pr.power["window_start"] == w[0]) & (pr.power["window_end"] == w[1])]
    sz = pr.size[(pr.size["window_start"] == w[0]) & (pr.size["window_end"] == w[1])]
    tests = list(dict.fromkeys(sz["test"]))
    groups = [g for g in dict.fromkeys(sz["group"]) if sz.loc[sz["group"] == g, "size_05"].notna().any()]
    style = group_style(groups, labels)
    cols = min(max_cols, max(1, len(tests)))
    rows = math.ceil(len(tests) / cols)
    fig = Figure(figsize=(4.0 * cols, 3.0 * rows + 0.6))
    for i, t in enumerate(tests):
        ax = fig.add_subplot(rows, cols, i + 1)
        for g in groups:
            x = [0.0] + list(pw.loc[(pw["test"] == t) & (pw["group"] == g), "effect"] * 100)
            y0 = sz.loc[(sz["test"] == t) & (sz["group"] == g), "size_05"]
            y = [float(y0.iloc[0]) if len(y0) else np.nan] + list(pw.loc[(pw["test"] == t) & (pw["group"] == g),
                                                                        "power_05"])
            if not np.isfinite(y).any():
                continue
            st = style[g]
            ax.plot(x, y, color=st.color, marker=st.marker, ls=st.linestyle, ms=3, lw=2.2 if g == "all" else 1.0,
                    label=g, alpha=1 if g == "all" else 0.8)
        ax.axhline(MDE_POWER, color="grey", lw=0.8, ls="--")
        ax.axhline(MDE_LEVEL, color="grey", lw=0.6, ls=":")
        ax.set_title(t, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("injected day-0 AR (%)", fontsize=8)
        ax.set_ylabel("rejection rate at 5%", fontsize=8)
        ax.tick_params(labelsize=7)
    h, lab = max((a.get_legend_handles_labels() for a in fig.axes), key=lambda t: len(t[1]), default=([], []))
    fig.legend(h, lab, loc="lower center", ncol=min(6, len(lab)), fontsize=7, frameon=False)
    sim = f"{SIMULATED} data - " if pr.simulated else ""
    fig.suptitle(f"{sim}Placebo power curves, window [{w[0]},{w[1]}], {pr.n_draws} draws", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


def power_curve_bytes(pr: PlaceboResult, window: tuple[int, int] | None = None,
                      labels: Labels | None = None) -> dict[str, bytes]:
    """The power-curve figure (:func:`plot_power_curves`) as ``{"png": ..., "svg": ...}`` bytes (110 dpi)."""
    fig = plot_power_curves(pr, window, labels=labels)
    out = {}
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=110)
        out[ext] = buf.getvalue()
    return out
