"""Output layer of the placebo calibration: tidy CSVs, the calibration section (Markdown) and the
power-curve figure of a :class:`~eventstudy.placebo.PlaceboResult`.

Kept apart from :mod:`eventstudy.report` (the study report) so the calibration section can be added
to any report: :func:`calibration_markdown` returns the section, :func:`write_placebo` writes the files.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
import numpy as np
import pandas as pd

from .io_utils import atomic_write_bytes, atomic_write_text, ensure_out_dir
from .placebo import MDE_LEVEL, MDE_POWER, PlaceboResult

__all__ = ["placebo_frames", "size_band", "lead_test_check", "calibration_markdown", "plot_power_curves",
           "write_placebo"]


def _csv(df: pd.DataFrame) -> str:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")


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


def calibration_markdown(pr: PlaceboResult, window: tuple[int, int] | None = None, figure: str | None = None,
                         alpha: float = 0.05) -> str:
    """The report's calibration section: size table, MDE per group, the lead test confirmed (or not) by its
    placebo size, calibrated p of the primary cells (lead test, ``window``) and, for each such cell not
    significant at ``alpha``, its MDE and equivalence test."""
    w = window or (int(pr.size["window_start"].iloc[0]), int(pr.size["window_end"].iloc[0]))
    inw = lambda d: d[(d["window_start"] == w[0]) & (d["window_end"] == w[1])]   # noqa: E731
    n = _n_dates(pr)
    head = "**SIMULATED data** - " if pr.simulated else ""
    out = [f"## Calibration on this panel (placebo event dates)", "",
           f"{head}{pr.n_draws} placebo draws (seed {pr.seed}) of the study's event dates from "
           f"{', '.join(str(len(v)) for v in pr.eligible.values())} eligible sessions ({n} distinct dates used), "
           "never touching a real event window or a listed confounder date; same instruments, groups, model and "
           f"windows. Size: share of placebo cells rejected at 1/5/10% (a correct test: 0.01/0.05/0.10). Power: share "
           f"rejected at {MDE_LEVEL:.0%} after adding an abnormal return to every security's day-0 return. "
           f"MDE: the added CAAR rejected {MDE_POWER:.0%} of the time at {MDE_LEVEL:.0%}. Data: {pr.data_label}.", ""]
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
    out += [f"### Size and MDE, window [{w[0]},{w[1]}], group {pooled}", "", _md_table(tab), "", sentence,
            f"Tests within the band: {', '.join(ok) if ok else 'none'}.", ""]
    lm = mde[mde["test"] == pr.lead_test]
    lt = size[size["test"] == pr.lead_test].set_index("group")
    g_tab = pd.DataFrame({"group": lm["group"], "n": lm["n"].map(lambda v: _fmt(v, ".0f")),
                          "size 5%": lm["group"].map(lambda g: _fmt(lt["size_05"].get(g, np.nan))),
                          "MDE (%)": (100 * lm["mde"]).map(lambda v: _fmt(v, ".2f"))})
    out += [f"### MDE of {pr.lead_test} per group, window [{w[0]},{w[1]}]", "", _md_table(g_tab),
            "", "Empty MDE: not reached at the largest injected effect "
            f"({100 * max(pr.effects):.2f}%).", ""]
    if figure:
        out += [f"![Power curves]({figure})", ""]
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
                     _fmt(float(t["p_tost"])) if (ns and t is not None) else "",
                     ("no reaction beyond the margin" if bool(t["equivalent"]) else "cannot exclude a reaction")
                     if (ns and t is not None and np.isfinite(t["p_tost"])) else ""))
    ctab = pd.DataFrame(rows, columns=["event", "group", "n", "CAAR (%)", "p", "calibrated p", "MDE (%)",
                                       "TOST p", "not significant means"])
    out += [f"### Calibrated p-values, {pr.lead_test}, window [{w[0]},{w[1]}]", "",
            "Calibrated p: (1 + number of placebo statistics at least as extreme) / (1 + draws), within the same "
            "group and window. For cells not significant at 5%: their MDE, and the equivalence test (TOST, margin "
            f"{'the MDE' if (len(pr.tost) and str(pr.tost['margin_source'].iloc[0]).startswith('MDE')) else 'given'})"
            " against the placebo distribution of the CAAR.", "", _md_table(ctab), ""]
    return "\n".join(out)


def plot_power_curves(pr: PlaceboResult, window: tuple[int, int] | None = None, max_cols: int = 3):
    """One panel per test: power at 5% against the injected day-0 abnormal return (%), one line per group
    (the pooled group bold), size at 0; the 80% line marks the MDE."""
    from matplotlib.figure import Figure

    w = window or (int(pr.size["window_start"].iloc[0]), int(pr.size["window_end"].iloc[0]))
    pw = pr.power[(pr.power["window_start"] == w[0]) & (pr.power["window_end"] == w[1])]
    sz = pr.size[(pr.size["window_start"] == w[0]) & (pr.size["window_end"] == w[1])]
    tests = list(dict.fromkeys(sz["test"]))
    groups = list(dict.fromkeys(sz["group"]))
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
            ax.plot(x, y, marker="o", ms=3, lw=2.2 if g == "all" else 1.0, label=g, alpha=1 if g == "all" else 0.7)
        ax.axhline(MDE_POWER, color="grey", lw=0.8, ls="--")
        ax.axhline(MDE_LEVEL, color="grey", lw=0.6, ls=":")
        ax.set_title(t, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("injected day-0 AR (%)", fontsize=8)
        ax.set_ylabel("rejection rate at 5%", fontsize=8)
        ax.tick_params(labelsize=7)
    h, lab = fig.axes[0].get_legend_handles_labels() if fig.axes else ([], [])
    fig.legend(h, lab, loc="lower center", ncol=min(6, len(lab)), fontsize=7, frameon=False)
    sim = "SIMULATED data - " if pr.simulated else ""
    fig.suptitle(f"{sim}Placebo power curves, window [{w[0]},{w[1]}], {pr.n_draws} draws", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


def write_placebo(pr: PlaceboResult, out_dir: str | os.PathLike, window: tuple[int, int] | None = None,
                  figures: bool = True) -> dict[str, Path]:
    """Write the placebo CSVs, ``calibration.md`` and (``figures``) ``figures/placebo_power.png|svg`` into
    ``out_dir``; returns name -> path. Every file is written atomically."""
    import io

    out = ensure_out_dir(out_dir)
    written = {name: atomic_write_text(out / name, _csv(df)) for name, df in placebo_frames(pr).items()}
    fig_rel = None
    if figures and not pr.size.empty:
        fig = plot_power_curves(pr, window)
        (out / "figures").mkdir(exist_ok=True)
        for ext in ("png", "svg"):
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, dpi=110)
            written[f"placebo_power.{ext}"] = atomic_write_bytes(out / "figures" / f"placebo_power.{ext}",
                                                                 buf.getvalue())
        fig_rel = "figures/placebo_power.png"
    if not pr.size.empty:
        written["calibration.md"] = atomic_write_text(out / "calibration.md",
                                                      calibration_markdown(pr, window, figure=fig_rel) + "\n")
    return written
