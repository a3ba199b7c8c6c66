"""Tables of the event-dummy and cross-sectional regressions of a run: the instruments left out of the
pooled equities (futures, an index ...), the group differences against the base group, and every
regression row, as frames with display attributes (:mod:`eventstudy.present.tables`)."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.content import STARS_NOTE
from eventstudy.inputs.study import Labels
from eventstudy.present.table_cells import (check_windows, event_group_day0, lead_window, overlap_notes, run_labels,
                                            section_title, set_attrs, window_label, window_labels, window_spans)

__all__ = ["futures_table", "cross_section_table", "regressions_table"]


def futures_table(run, windows: Sequence[tuple[int, int]] | None = None,
                  subjects: Sequence[str] | None = None) -> pd.DataFrame:
    """The groups left out of the pooled equities (``subjects``; default ``run.config.pool_exclude``,
    e.g. futures and an index) from the event-dummy regressions (portfolio, OLS and HAC) per event x
    window, plus each contract's own CAR (market model, Student t) when a group has several.
    The title is the study's ``instruments`` section heading (:func:`section_title`).

    Columns ``subject_id, subject, source, event_id, window, window_start, window_end, day0,
    car_pct, t_ols, p_ols, t_hac, p_hac, hac, p_ghk, n_ghk, nobs, note`` (``p_ghk``: the Gelbach–Helland–Klick
    sample-quantile p of the portfolio's CAR among the estimation period's same-length residual sums, valid
    without normality for one series; ``n_ghk`` those sums).
    """
    res = run.result
    lab = run_labels(run)
    if subjects is None:
        subjects = tuple(getattr(run.config, "pool_exclude", ()))
    wins = [tuple(w) for w in (windows if windows is not None else res.windows)]
    check_windows(res, wins)
    reg = run.regressions
    keys = ["event_id", "subject", "window_start", "window_end"]
    rows = pd.DataFrame(columns=keys)
    if reg is not None and len(reg):
        r = reg[(reg["kind"] == "dummy_portfolio") & reg["subject"].isin(list(subjects)) & (reg["term"] == "CAR")]
        ols = r[r["cov_type"] == "OLS"][keys + ["coef", "t", "p_value", "nobs"]].rename(
            columns={"coef": "car", "t": "t_ols", "p_value": "p_ols"})
        hac = r[r["cov_type"].astype(str).str.startswith("HAC")][keys + ["t", "p_value", "cov_type"]].rename(
            columns={"t": "t_hac", "p_value": "p_hac", "cov_type": "hac"})
        ghk = r[r["cov_type"].astype(str).str.startswith("GHK")][keys + ["p_value", "cov_type"]].rename(
            columns={"p_value": "p_ghk", "cov_type": "n_ghk"})
        ghk["n_ghk"] = ghk["n_ghk"].astype(str).str.extract(r"GHK\((\d+)\)", expand=False).astype(float)
        rows = ols.merge(hac, on=keys, how="outer").merge(ghk, on=keys, how="left")
        rows["source"] = "portfolio dummy regression"
        rows["subject_id"] = rows["subject"]
        rows["subject"] = rows["subject"].map(lambda g: lab.label(g))
    # single contracts of multi-member groups (e.g. NKD=F and NIY=F)
    car = res.car
    grp = car[car["group"].isin(list(subjects))]
    per = grp.groupby("group")["ticker"].nunique()
    multi = per[per > 1].index
    inst = grp[grp["group"].isin(multi)]
    if len(inst):
        ins = pd.DataFrame({"event_id": inst["event_id"], "subject": inst["ticker"], "subject_id": inst["ticker"],
                            "window_start": inst["window_start"], "window_end": inst["window_end"],
                            "car": inst["car"], "t_ols": inst["scar"], "p_ols": inst["p_value"],
                            "nobs": inst["m_obs"], "source": "single contract (model CAR, t)"})
        rows = pd.concat([rows, ins], ignore_index=True) if len(rows) else ins
    if not len(rows):
        out = pd.DataFrame(columns=["subject_id", "subject", "source", "event_id", "window", "window_start",
                                    "window_end", "day0", "car_pct", "t_ols", "p_ols", "t_hac", "p_hac", "hac",
                                    "p_ghk", "n_ghk", "nobs", "note"])
    else:
        for c in ("t_hac", "p_hac", "hac", "p_ghk", "n_ghk"):
            if c not in rows.columns:
                rows[c] = np.nan
        rows = rows[pd.Series(list(zip(rows["window_start"], rows["window_end"])), index=rows.index).isin(wins)]
        # day 0 and notes on the subject's own calendar
        memb = car[car["group"].isin(list(subjects))][["event_id", "ticker", "group"]].drop_duplicates()
        tick = memb.assign(group=memb["ticker"])
        members = pd.concat([memb, tick], ignore_index=True)
        d0 = event_group_day0(run, members).rename(columns={"group": "subject_id"})
        spans = window_spans(run, members, wins).rename(columns={"group": "subject_id"})
        rows = rows.merge(d0, on=["event_id", "subject_id"], how="left").merge(
            spans, on=["event_id", "subject_id", "window_start", "window_end"], how="left")
        rows["note"] = overlap_notes(rows.rename(columns={"subject_id": "group"}),
                                      d0.rename(columns={"subject_id": "group"}), run.confounders)
        ev_order = {e: i for i, e in enumerate(run.events["event_id"])}
        s_order = {s: i for i, s in enumerate(list(subjects) + sorted(set(rows["subject_id"]) - set(subjects)))}
        w_order = {w: i for i, w in enumerate(wins)}
        rows["_k"] = [(ev_order.get(e, 1e9), s_order.get(s, 1e9), w_order[(a, b)]) for e, s, a, b in
                      zip(rows["event_id"], rows["subject_id"], rows["window_start"], rows["window_end"])]
        rows = rows.sort_values("_k", kind="stable").reset_index(drop=True)
        out = pd.DataFrame({
            "subject_id": rows["subject_id"].astype(str), "subject": rows["subject"].astype(str),
            "source": rows["source"].astype(str), "event_id": rows["event_id"].astype(str),
            "window": window_labels(rows["window_start"], rows["window_end"]),
            "window_start": rows["window_start"].astype(int), "window_end": rows["window_end"].astype(int),
            "day0": pd.to_datetime(rows["day0"]),
            "car_pct": 100.0 * rows["car"].astype(float),
            "t_ols": rows["t_ols"].astype(float), "p_ols": rows["p_ols"].astype(float),
            "t_hac": rows["t_hac"].astype(float), "p_hac": rows["p_hac"].astype(float),
            "hac": rows["hac"].astype(object).where(rows["hac"].notna(), "").astype(str),
            "p_ghk": rows["p_ghk"].astype(float), "n_ghk": rows["n_ghk"].astype(float).astype("Int64"),
            "nobs": rows["nobs"].astype(float).astype("Int64"),
            "note": rows["note"].astype(str),
        })
    cols = [("event_id", "Event", "text"), ("subject", "Instrument", "text"), ("window", "Window", "text"),
            ("day0", "Day 0", "date"), ("car_pct", "CAR (%)", "pct"), ("t_ols", "t (OLS)", "stat"),
            ("p_ols", "p (OLS)", "p"), ("p_hac", "p (HAC)", "p"), ("p_ghk", "p (GHK)", "p"), ("note", "Note", "text")]
    notes = ["Portfolio rows: Karafiath event-dummy regression of the group's equal-weighted return on its "
             "benchmark plus one dummy per window day; CAR = sum of the dummies, tested with OLS and "
             "Newey-West (HAC) standard errors, and by its rank among the estimation period's sums of as many "
             "consecutive residuals (GHK: Gelbach, Helland & Klick 2013, valid without normal returns for one "
             "series and one event). Contract rows: the contract's own CAR and t (market model).",
             "Day 0 is on the instrument's own calendar (CME Globex bars are dated by their US session; an OSE "
             "trading date opens with the previous evening's night session). "
             + STARS_NOTE]
    return set_attrs(out, run, f"{section_title(lab, 'instruments')}: event-dummy regressions", cols,
                      {"car_pct": "p_ols"}, notes)


def _term_label(term: str, labels: Labels) -> str:
    m = re.fullmatch(r"const \((.+)\)", term)
    if m:
        return f"Constant = {labels.label(m.group(1))}"
    m = re.fullmatch(r"group\[(.+)\]", term)
    if m:
        return f"{labels.label(m.group(1))} minus base"
    return term


def cross_section_table(run, window: tuple[int, int] | str | None = "lead") -> pd.DataFrame:
    """Cross-sectional regressions of CAR (in percent) on exposure-group dummies, robust SE.

    One row per event x term for ``window`` (``"lead"``: [0,1] when computed, else the run's first
    window; ``None``: every window). Columns ``event_id, window,
    window_start, window_end, term_id, term, coef_pp`` (percentage points), ``std_err, t,
    p_value, cov_type, nobs, r2``.
    """
    if isinstance(window, str):
        window = lead_window(run)
    if window is not None:
        check_windows(run.result, [tuple(window)])
    reg = run.regressions
    cols_raw = ["event_id", "window", "window_start", "window_end", "term_id", "term", "coef_pp", "std_err",
                "t", "p_value", "cov_type", "nobs", "r2"]
    if reg is None or not len(reg):
        out = pd.DataFrame(columns=cols_raw)
        base = None
    else:
        r = reg[reg["kind"] == "cross_section"]
        if window is not None:
            r = r[(r["window_start"] == window[0]) & (r["window_end"] == window[1])]
        ev_order = {e: i for i, e in enumerate(run.events["event_id"])}
        r = r.assign(_e=r["event_id"].map(ev_order)).sort_values(["_e", "window_start", "window_end"], kind="stable")
        out = pd.DataFrame({
            "event_id": r["event_id"].astype(str),
            "window": window_labels(r["window_start"], r["window_end"]),
            "window_start": r["window_start"].astype(int), "window_end": r["window_end"].astype(int),
            "term_id": r["term"].astype(str), "term": r["term"].astype(str).map(lambda t: _term_label(t, run_labels(run))),
            "coef_pp": r["coef"].astype(float), "std_err": r["std_err"].astype(float),
            "t": r["t"].astype(float), "p_value": r["p_value"].astype(float),
            "cov_type": r["cov_type"].astype(str), "nobs": r["nobs"].astype(int), "r2": r["r2"].astype(float),
        }).reset_index(drop=True)
        base = getattr(run.config, "base_group", None)
    cols = [("event_id", "Event", "text")]
    if window is None:
        cols.append(("window", "Window", "text"))
    cols += [("term", "Term", "text"), ("coef_pp", "Coef. (pp)", "coef"), ("std_err", "SE", "se"),
             ("t", "t", "stat"), ("p_value", "p", "p"), ("nobs", "N", "int"), ("r2", "R²", "r2")]
    cov = ", ".join(sorted(set(out["cov_type"]))) if len(out) else "OLS spread"
    if "OLS spread" in cov:
        notes = [f"Each group against the base group{f' ({run_labels(run).label(base)})' if base else ''}: the event-dummy "
                 "regression of the return spread between the two equal-weighted portfolios (group minus base) on "
                 "the estimation window plus one dummy per window day; the coefficient is the difference in CAAR "
                 "(percentage points) and its standard error comes from the spread's own estimation-window "
                 "variance, so it holds when every security shares the event date (docs/METHODS.md, section 8). "
                 "The constant row is the base portfolio's own CAR test. N = days in the regression.",
                 STARS_NOTE + " Stars use the unadjusted p; these comparisons are exploratory."]
    else:
        notes = [f"OLS of each security's CAR (percent) on exposure-group dummies; the constant is the mean CAR "
                 f"of the base group{f' ({run_labels(run).label(base)})' if base else ''}, each group coefficient the "
                 f"difference to it (percentage points). {cov} heteroskedasticity-robust standard errors; "
                 "the securities share the event date, so these p-values ignore cross-correlation.",
                 STARS_NOTE]
    title = "Group differences in CAAR (versus the base group)" + (
        f" {window_label(*window)}" if window is not None else "")
    return set_attrs(out, run, title, cols, {"coef_pp": "p_value"}, notes)


def regressions_table(run) -> pd.DataFrame:
    """Every regression row of ``run.regressions`` (coefficients as stored: dummy regressions in
    decimal returns, cross-sections in percent), with display attrs."""
    reg = run.regressions
    out = reg.copy() if reg is not None else pd.DataFrame()
    if len(out):
        out.insert(4, "window", window_labels(out["window_start"], out["window_end"]))
        if "note" not in out.columns:
            out["note"] = ""
        out["note"] = out["note"].astype(object).where(out["note"].notna(), "").astype(str)
        out["nobs"] = out["nobs"].astype(float).astype("Int64")
    cols = [("kind", "Kind", "text"), ("event_id", "Event", "text"), ("subject", "Subject", "text"),
            ("window", "Window", "text"), ("term", "Term", "text"), ("coef", "Coef.", "num"),
            ("std_err", "SE", "num"), ("t", "t", "stat"), ("p_value", "p", "p"), ("cov_type", "Cov.", "text"),
            ("nobs", "Obs.", "int"), ("r2", "R²", "r2"), ("note", "Note", "text")]
    if not len(out):
        out = pd.DataFrame(columns=[c for c, _, _ in cols])
    notes = ["Dummy regressions: coefficients are decimal returns (0.01 = 1%); cross-sections: percent. "
             + STARS_NOTE]
    return set_attrs(out, run, "All regressions", cols, {"coef": "p_value"}, notes)
