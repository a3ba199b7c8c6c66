"""Output layer of the placebo calibration: tidy CSVs, the calibration section (Markdown) and the
power-curve figure of a :class:`~eventstudy.pipeline.placebo.PlaceboResult`.

Kept apart from :mod:`eventstudy.present.report` (the study report) so the calibration section can be added
to any report: :func:`calibration_markdown` returns the section, :func:`write_placebo` writes the files.
"""
from __future__ import annotations

import base64
import html
import math
import os
from pathlib import Path
from typing import Sequence
import numpy as np
import pandas as pd

from eventstudy.io_utils import atomic_write_bytes, atomic_write_text, ensure_out_dir
from eventstudy.outputs.csvs import csv_text
from eventstudy.pipeline.placebo import MDE_LEVEL, MDE_POWER, PlaceboResult

__all__ = ["placebo_frames", "size_band", "lead_test_check", "calibration_blocks", "calibration_markdown",
           "calibration_html", "plot_power_curves", "write_placebo", "add_calibration_to_report", "carry_over"]


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
                       single_groups: Sequence[str] = ("futures", "index")) -> list[tuple[str, object]]:
    """The calibration section as blocks ``(kind, content)``, kind ``h2 | h3 | p | table | img``: size table,
    MDE per group, the lead test confirmed (or not) by its placebo size, the calibrated p of the primary
    hypotheses (with MDE and TOST for those not significant at ``alpha``) and of every cell of the lead
    test on ``window``."""
    w = window or (int(pr.size["window_start"].iloc[0]), int(pr.size["window_end"].iloc[0]))
    inw = lambda d: d[(d["window_start"] == w[0]) & (d["window_end"] == w[1])]   # noqa: E731
    n = _n_dates(pr)
    head = "SIMULATED data - " if pr.simulated else ""
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
            out.append(str(c).replace("SIMULATED data - ", "**SIMULATED data** - ", 1))
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


def plot_power_curves(pr: PlaceboResult, window: tuple[int, int] | None = None, max_cols: int = 3):
    """One panel per test: power at 5% against the injected day-0 abnormal return (%), one line per group
    (the pooled group bold), size at 0; the 80% line marks the MDE."""
    from matplotlib.figure import Figure

    from eventstudy.present.plots import group_style

    w = window or (int(pr.size["window_start"].iloc[0]), int(pr.size["window_end"].iloc[0]))
    pw = pr.power[(pr.power["window_start"] == w[0]) & (pr.power["window_end"] == w[1])]
    sz = pr.size[(pr.size["window_start"] == w[0]) & (pr.size["window_end"] == w[1])]
    tests = list(dict.fromkeys(sz["test"]))
    groups = [g for g in dict.fromkeys(sz["group"]) if sz.loc[sz["group"] == g, "size_05"].notna().any()]
    style = group_style(groups)
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
    sim = "SIMULATED data - " if pr.simulated else ""
    fig.suptitle(f"{sim}Placebo power curves, window [{w[0]},{w[1]}], {pr.n_draws} draws", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


def write_placebo(pr: PlaceboResult, out_dir: str | os.PathLike, window: tuple[int, int] | None = None,
                  figures: bool = True, hypotheses: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write the placebo CSVs, ``calibration.md`` and (``figures``) ``figures/placebo_power.png|svg`` into
    ``out_dir``, and add the calibration section to a ``report.md`` / ``report.html`` already there
    (:func:`add_calibration_to_report`); returns name -> path. Every file is written atomically."""
    import io

    out = ensure_out_dir(out_dir)
    written = {name: atomic_write_text(out / name, csv_text(df)) for name, df in placebo_frames(pr).items()}
    if pr.size.empty:
        return written
    png = None
    fig_rel = None
    if figures:
        fig = plot_power_curves(pr, window)
        (out / "figures").mkdir(exist_ok=True)
        for ext in ("png", "svg"):
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, dpi=110)
            written[f"figures/placebo_power.{ext}"] = atomic_write_bytes(out / "figures" / f"placebo_power.{ext}",
                                                                         buf.getvalue())
            if ext == "png":
                png = buf.getvalue()
        fig_rel = "figures/placebo_power.png"
    written["calibration.md"] = atomic_write_text(
        out / "calibration.md", calibration_markdown(pr, window, figure=fig_rel, hypotheses=hypotheses) + "\n")
    written.update(add_calibration_to_report(pr, out, window, png, fig_rel, hypotheses))
    return written


_BEGIN, _END = "<!-- eventstudy:calibration -->", "<!-- /eventstudy:calibration -->"


def _replace_section(text: str, section: str, before: str | None) -> str:
    """``text`` with the marked calibration section replaced (or inserted before ``before``, else appended)."""
    block = f"{_BEGIN}\n{section}\n{_END}"
    if _BEGIN in text and _END in text:
        a, b = text.index(_BEGIN), text.index(_END) + len(_END)
        return text[:a] + block + text[b:]
    if before and before in text:
        i = text.rindex(before)
        return text[:i] + block + "\n" + text[i:]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def add_calibration_to_report(pr: PlaceboResult, out_dir: str | os.PathLike, window: tuple[int, int] | None = None,
                              png: bytes | None = None, figure: str | None = None,
                              hypotheses: pd.DataFrame | None = None) -> dict[str, Path]:
    """Add (or replace) the calibration section in the ``report.md`` and ``report.html`` of ``out_dir`` written
    by ``eventstudy run`` (an additive section between markers; the rest of the report is untouched). Files
    that are not there are not created. Returns name -> path of the files rewritten."""
    out = Path(out_dir)
    done: dict[str, Path] = {}
    md, ht = out / "report.md", out / "report.html"
    if md.exists():
        text = _replace_section(md.read_text(encoding="utf-8"),
                                calibration_markdown(pr, window, figure=figure, hypotheses=hypotheses), None)
        done["report.md"] = atomic_write_text(md, text)
    if ht.exists():
        text = _replace_section(ht.read_text(encoding="utf-8"),
                                calibration_html(pr, window, image=png, hypotheses=hypotheses), "<footer>")
        done["report.html"] = atomic_write_text(ht, text)
    return done


def carry_over(out_dir: str | os.PathLike, stage: str | os.PathLike) -> dict:
    """Copy the files of an earlier run folder ``out_dir`` (the study of ``eventstudy run``) into the staging
    folder ``stage`` of a :class:`~eventstudy.outputs.runfolder.RunFolder`, so the placebo files join them and the new
    manifest lists all of them; returns the earlier manifest's information (``{}`` when there is none)."""
    import json
    import shutil

    from eventstudy.outputs.runfolder import MANIFEST

    out = Path(out_dir)
    if not out.is_dir():
        return {}
    previous: dict = {}
    try:
        man = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        previous = {k: v for k, v in man.items() if k not in ("files", "folder")}
    except (OSError, ValueError):
        pass
    for e in out.iterdir():
        if e.name == MANIFEST or e.is_symlink():
            continue
        if e.is_dir():
            shutil.copytree(e, Path(stage) / e.name, dirs_exist_ok=True)
        else:
            shutil.copy2(e, Path(stage) / e.name)
    return previous
