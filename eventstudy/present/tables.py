"""Impact tables of a study run as tidy DataFrames, and renderers (Markdown, HTML, LaTeX, CSV, terminal).

Builders (:func:`impact_table`, :func:`futures_table`, :func:`cross_section_table`,
:func:`headline_table`) return raw numbers (percent columns already multiplied by 100, p-values
as fractions) and describe how to show them in ``DataFrame.attrs``:

- ``title``: the table's title (starts with ``SIMULATED`` for a run on the bundled market),
- ``simulated``: bool,
- ``columns``: ``[(column, display label, kind), ...]`` with ``kind`` one of
  ``text, int, date, pct, share, stat, se, coef, p, r2, num``,
- ``stars``: ``{column: p-value column}`` (stars appended to that column's cells),
- ``notes``: footnotes shown under the table.

Renderers (:func:`to_markdown`, :func:`to_html`, :func:`to_latex`, :func:`to_csv`,
:func:`print_table`) format at the edge: percent and statistics to 2 decimals, p-values to 3
(``<0.001`` below), stars ``***`` p<0.01, ``**`` p<0.05, ``*`` p<0.10. A frame without these
attrs is shown with every column and a kind guessed from its name and dtype.
"""
from __future__ import annotations

from collections import Counter
import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from eventstudy.content import NA, STARS_NOTE, Table, format_value, latex_escape, print_rich, simulated_title, stars
from eventstudy.errors import EstimationError, WindowError
from eventstudy.inference.reference import TEST_NAMES, adjust_p
from eventstudy.inputs.study import Labels

__all__ = [
    "LEAD_TESTS", "TEST_SHORT", "STARS_NOTE", "NEUTRAL_LABELS", "SECTION_DEFAULTS",
    "run_labels", "group_label", "group_order", "section_title", "window_label", "lead_window", "stars",
    "impact_table", "primary_hypotheses_table", "family_adjusted", "futures_table", "cross_section_table", "headline_table", "regressions_table",
    "as_table", "format_value", "to_markdown", "to_html", "to_latex", "print_table", "latex_escape",
]

#: Tests shown in the impact table, lead test first (all securities share the event date: docs/METHODS.md).
LEAD_TESTS: tuple[str, ...] = ("kolari_pynnonen", "bmp", "t_cross_section", "grank", "sign_generalized")

#: Short column labels of the test statistics.
TEST_SHORT: dict[str, str] = {
    "kolari_pynnonen": "KP t", "bmp": "BMP t", "t_cross_section": "CS t", "grank": "GRANK t",
    "sign_generalized": "Sign Z", "t_time_series": "TS t", "patell": "Patell Z", "corrado": "Rank Z",
    "wilcoxon": "Wilcoxon W", "bootstrap": "Boot",
}

#: Labels of a run that has none: every group shown by its id, the pooled group as "All equities".
NEUTRAL_LABELS = Labels()

#: Headings a study may rename (``[labels.sections]`` of its study.toml), with their neutral defaults.
SECTION_DEFAULTS: dict[str, str] = {
    "instruments": "Non-equity instruments",
    "timeline": "Market instruments around the events.",
}


# ----------------------------------------------------------------------------- small helpers
def run_labels(run) -> Labels:
    """The labels of a run (``run.labels``), or :data:`NEUTRAL_LABELS` for a run or result without them."""
    lab = getattr(run, "labels", None)
    return lab if isinstance(lab, Labels) else NEUTRAL_LABELS


def group_label(group: str, short: bool = False, labels: Labels | None = None) -> str:
    """Human label of a group id under ``labels`` (``all`` = the pooled equities; default: neutral labels)."""
    return (labels or NEUTRAL_LABELS).label(str(group), short=short)


def section_title(labels: Labels | None, key: str) -> str:
    """Heading of a study-dependent section (``labels.sections``; default :data:`SECTION_DEFAULTS`)."""
    return (labels or NEUTRAL_LABELS).section(key, SECTION_DEFAULTS[key])


def window_label(start: int, end: int) -> str:
    """``(0, 1) -> "[0,1]"``."""
    return f"[{int(start)},{int(end)}]"


def group_order(groups: Iterable[str], pooled: str | None = "all", labels: Labels | None = None) -> list[str]:
    """``groups`` in the study's order, then other ids in order of appearance, ``pooled`` last."""
    return (labels or NEUTRAL_LABELS).ordered(groups, pooled)


def _set_attrs(df: pd.DataFrame, run, title: str, columns: list[tuple[str, str, str]],
               star_map: dict[str, str] | None = None, notes: Sequence[str] = ()) -> pd.DataFrame:
    df.attrs["title"] = simulated_title(title, bool(getattr(run, "simulated", False)))
    df.attrs["simulated"] = bool(getattr(run, "simulated", False))
    df.attrs["columns"] = [list(c) for c in columns]
    df.attrs["stars"] = dict(star_map or {})
    df.attrs["notes"] = list(notes)
    return df


def _members(run) -> pd.DataFrame:
    """ticker -> group of every estimated pair (from ``run.result.car``), plus the pooled group."""
    car = run.result.car[["event_id", "ticker", "group"]].drop_duplicates()
    pooled = run.result.pooled_group
    if pooled:
        excl = set(getattr(run.config, "pool_exclude", ()))
        p = car[~car["group"].isin(excl)].copy()
        p["group"] = pooled
        car = pd.concat([car, p], ignore_index=True)
    return car


def _event_group_day0(run, members: pd.DataFrame) -> pd.DataFrame:
    """Modal day 0 of each (event, group) over the group's instruments (their own calendars)."""
    d0 = run.day0[["event_id", "ticker", "day0"]].dropna(subset=["day0"])
    m = members.merge(d0, on=["event_id", "ticker"], how="inner")
    if m.empty:
        return pd.DataFrame(columns=["event_id", "group", "day0"])
    cnt = m.groupby(["event_id", "group", "day0"], sort=False).size().rename("k").reset_index()
    cnt = cnt.sort_values(["event_id", "group", "k", "day0"], ascending=[True, True, False, True])
    return cnt.drop_duplicates(["event_id", "group"])[["event_id", "group", "day0"]]


def _window_spans(run, members: pd.DataFrame, windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """First and last calendar date of each (event, group, window) from the event-window ARs."""
    ar = run.result.ar[["event_id", "ticker", "rel_day", "date"]]
    m = members.merge(ar, on=["event_id", "ticker"], how="inner")
    parts = []
    for ws, we in windows:
        sel = m[(m["rel_day"] >= ws) & (m["rel_day"] <= we)]
        g = sel.groupby(["event_id", "group"], sort=False)["date"].agg(["min", "max"]).reset_index()
        g["window_start"], g["window_end"] = ws, we
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=["event_id", "group", "min", "max", "window_start", "window_end"])
    return pd.concat(parts, ignore_index=True).rename(columns={"min": "date_first", "max": "date_last"})


def _window_labels(starts, ends) -> list[str]:
    """:func:`window_label` of each (start, end), computed once per distinct window."""
    pairs = list(zip(starts, ends))
    lab = {w: window_label(*w) for w in dict.fromkeys(pairs)}
    return [lab[w] for w in pairs]


def _names_text(names: Sequence[str], shown: int = 5) -> str:
    """``a, b, c`` or, for many, the first ``shown`` and ``and N more``."""
    names = list(names)
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _overlap_notes(cells: pd.DataFrame, day0: pd.DataFrame, confounders: pd.DataFrame) -> list[str]:
    """Per row of ``cells`` (event_id, group, day0, date_first, date_last): shared day 0,
    other events' day 0 inside the window, confounders inside the window.

    Each group's day 0s are sorted once and all cells find their neighbours by one vectorised
    binary search, so the cost grows with the cells and the events they name, not cells x events;
    a long list of events is cut to its first five and a count."""
    n = len(cells)
    notes = [""] * n
    if not n:
        return notes
    dd = pd.to_datetime(day0["day0"]).to_numpy(dtype="datetime64[ns]")
    d_ev = day0["event_id"].to_numpy(dtype=object)
    c_day = pd.to_datetime(cells["day0"]).to_numpy(dtype="datetime64[ns]")
    c_lo = pd.to_datetime(cells["date_first"]).to_numpy(dtype="datetime64[ns]")
    c_hi = pd.to_datetime(cells["date_last"]).to_numpy(dtype="datetime64[ns]")
    c_ev = cells["event_id"].to_numpy(dtype=object)
    same_txt = [[] for _ in range(n)]
    inside_txt = [[] for _ in range(n)]
    day_groups = pd.Series(range(len(day0))).groupby(day0["group"].to_numpy(), sort=False).indices
    for g, rows in pd.Series(range(n)).groupby(cells["group"].to_numpy(), sort=False).indices.items():
        idx = np.asarray(day_groups.get(g, []), dtype=int)
        if not len(idx):
            continue
        order = idx[np.argsort(dd[idx], kind="stable")]
        days, evs, pos = dd[order], d_ev[order].tolist(), order
        rows = np.asarray(rows)
        d, lo, hi = c_day[rows], c_lo[rows], c_hi[rows]
        has_d, has_w = ~np.isnat(d), ~np.isnat(lo) & ~np.isnat(hi)
        s_a = np.where(has_d, np.searchsorted(days, d, "left"), 0)
        s_b = np.where(has_d, np.searchsorted(days, d, "right"), 0)
        w_a = np.where(has_w, np.searchsorted(days, lo, "left"), 0)
        w_b = np.where(has_w, np.searchsorted(days, hi, "right"), 0)
        # only cells with another event on day 0 or in the window need their names listed
        busy = np.flatnonzero((s_b - s_a > 1) | ((w_b - w_a) - np.clip(np.minimum(w_b, s_b) - np.maximum(w_a, s_a),
                                                                           0, None) > 0))
        for j in busy:
            i, e = rows[j], c_ev[rows[j]]
            a, b, wa, wb = int(s_a[j]), int(s_b[j]), int(w_a[j]), int(w_b[j])
            if b - a > 1:
                k = sorted(range(a, b), key=pos.__getitem__)
                same_txt[i] = [evs[x] for x in k if evs[x] != e]
            k = [x for x in range(wa, wb) if not a <= x < b]
            if k:
                k.sort(key=pos.__getitem__)
                inside_txt[i] = [evs[x] for x in k if evs[x] != e]
    conf_dates = (pd.to_datetime(confounders["date"]).dt.normalize().to_numpy()
                  if confounders is not None and len(confounders) else np.array([], dtype="datetime64[ns]"))
    for i in range(n):
        parts = []
        if same_txt[i]:
            parts.append(f"same day 0 ({pd.Timestamp(c_day[i]):%Y-%m-%d}) as {_names_text(same_txt[i])}: "
                         f"one window, not separate evidence")
        if inside_txt[i]:
            parts.append(f"window contains day 0 of {_names_text(inside_txt[i])}")
        if conf_dates.size and not (np.isnat(c_lo[i]) or np.isnat(c_hi[i])):
            hit = conf_dates[(conf_dates >= c_lo[i]) & (conf_dates <= c_hi[i])]
            if hit.size:
                cnt = Counter(pd.DatetimeIndex(hit).strftime("%Y-%m-%d"))
                txt = ", ".join(x + (f" (x{cnt[x]})" if cnt[x] > 1 else "") for x in sorted(cnt))
                parts.append(f"confounder{'s' if hit.size > 1 else ''} {txt}")
        if parts:
            notes[i] = "; ".join(parts)
    return notes


def _check_windows(res, wins: Sequence[tuple[int, int]]) -> None:
    have = [tuple(w) for w in res.windows]
    bad = [w for w in wins if tuple(w) not in have]
    if bad:
        raise WindowError(f"window {window_label(*bad[0])} was not computed in this run (windows: "
                          f"{' '.join(window_label(*w) for w in have)}); re-run with it or choose one of these")


# ----------------------------------------------------------------------------- builders
def impact_table(run, windows: Sequence[tuple[int, int]] | None = None,
                 tests: Sequence[str] = LEAD_TESTS, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Impact of each event on each exposure group, per window.

    One row per event x group x window (groups: the exposed-equity groups and the pooled ``all``;
    futures and index are in :func:`futures_table` unless named in ``groups``). Columns:
    ``event_id, event_label, group_id, group, window, window_start, window_end, day0, n,
    caar_pct`` (100 x mean CAR), ``pos_pct`` (share of CARs > 0, %), ``date_first, date_last``
    (calendar dates the window spans), then ``<test>_stat`` and
    ``<test>_p`` per test id of ``tests`` (``kolari_pynnonen`` first by default), and ``note``
    (events sharing this day 0, other events' day 0 inside the window, confounders inside it).
    The lead test's p-value is also given adjusted for the many cells of a window,
    ``<lead>_p_holm`` (Holm) and ``<lead>_q_bh`` (Benjamini–Hochberg), and ``family_m`` is the
    number of distinct cells in that family (see :func:`family_adjusted`).
    """
    res = run.result
    tt = res.tests
    lab = run_labels(run)
    wins = [tuple(w) for w in (windows if windows is not None else res.windows)]
    _check_windows(res, wins)
    have = set(pd.unique(tt["test"]))
    unknown = [t for t in tests if t not in have]
    if unknown:
        raise EstimationError(f"test(s) {', '.join(unknown)} were not computed in this run "
                              f"(available: {', '.join(dict.fromkeys(tt['test']))}); the bootstrap needs "
                              f"bootstrap > 0 (CLI --bootstrap N)")
    if groups is None:
        excl = set(getattr(run.config, "pool_exclude", ()))
        groups = [g for g in dict.fromkeys(tt["group"]) if g not in excl]
    order = group_order(groups, res.pooled_group, lab)
    sel = tt[tt["group"].isin(order)]
    sel = sel[pd.Series(list(zip(sel["window_start"], sel["window_end"])), index=sel.index).isin(wins)]
    keys = ["event_id", "group", "window_start", "window_end"]
    base = sel.drop_duplicates(keys)[keys + ["n", "caar"]].copy()
    for t in tests:
        s = sel[sel["test"] == t][keys + ["statistic", "p_value"]].rename(
            columns={"statistic": f"{t}_stat", "p_value": f"{t}_p"})
        base = base.merge(s, on=keys, how="left")

    # share of positive CARs from the per-security CARs
    members = _members(run)
    car = res.car.dropna(subset=["car"])
    m = members.merge(car[["event_id", "ticker", "window_start", "window_end", "car"]],
                      on=["event_id", "ticker"], how="inner")
    pos = (m.assign(pos=(m["car"] > 0).astype(float))
           .groupby(keys, sort=False)["pos"].mean().mul(100).rename("pos_pct").reset_index())
    base = base.merge(pos, on=keys, how="left")

    d0 = _event_group_day0(run, members)
    base = base.merge(d0, on=["event_id", "group"], how="left")
    spans = _window_spans(run, members, wins)
    base = base.merge(spans, on=keys, how="left")
    base["note"] = _overlap_notes(base, d0, run.confounders)

    ev_order = {e: i for i, e in enumerate(run.events["event_id"])}
    g_order = {g: i for i, g in enumerate(order)}
    w_order = {w: i for i, w in enumerate(wins)}
    wkey = pd.Series(list(zip(base["window_start"], base["window_end"])), index=base.index)
    base["_e"] = base["event_id"].map(ev_order).fillna(1e9).to_numpy()
    base["_g"] = base["group"].map(g_order).to_numpy()
    base["_w"] = wkey.map(w_order).to_numpy()
    base = base.sort_values(["_e", "_g", "_w"], kind="stable").drop(columns=["_e", "_g", "_w"]).reset_index(drop=True)

    labels = dict(zip(run.events["event_id"], run.events["label"]))
    out = pd.DataFrame({
        "event_id": base["event_id"].astype(str),
        "event_label": base["event_id"].map(labels).fillna(""),
        "group_id": base["group"].astype(str),
        "group": base["group"].map(lambda g: lab.label(g)),
        "window": _window_labels(base["window_start"], base["window_end"]),
        "window_start": base["window_start"].astype(int),
        "window_end": base["window_end"].astype(int),
        "day0": pd.to_datetime(base["day0"]),
        "n": base["n"].astype(int),
        "caar_pct": 100.0 * base["caar"].astype(float),
        "pos_pct": base["pos_pct"].astype(float),
        "date_first": pd.to_datetime(base["date_first"]),
        "date_last": pd.to_datetime(base["date_last"]),
    })
    for t in tests:
        out[f"{t}_stat"] = base[f"{t}_stat"].astype(float)
        out[f"{t}_p"] = base[f"{t}_p"].astype(float)
    lead = tests[0]
    out[f"{lead}_p_holm"], out[f"{lead}_q_bh"], out["family_m"] = family_adjusted(out, f"{lead}_p")
    out["note"] = base["note"].astype(str)
    out["role"] = _roles(run, out)

    cols = [("event_id", "Event", "text"), ("group", "Group", "text"), ("window", "Window", "text"),
            ("day0", "Day 0", "date"), ("n", "N", "int"), ("caar_pct", "CAAR (%)", "pct"),
            ("pos_pct", "CAR>0 (%)", "share")]
    star_map = {}
    for t in tests:
        cols += [(f"{t}_stat", TEST_SHORT.get(t, t), "stat"), (f"{t}_p", "p", "p")]
        if t == lead:
            cols += [(f"{t}_p_holm", "Holm p", "p"), (f"{t}_q_bh", "BH q", "p")]
        star_map[f"{t}_stat"] = f"{t}_p"
    cols += [("role", "Role", "text"), ("note", "Note", "text")]
    names = ", ".join(f"{TEST_SHORT.get(t, t)} = {TEST_NAMES.get(t, t)}" for t in tests)
    notes = [f"CAAR = mean cumulative abnormal return of the group over the window ({run.config.model} model); "
             f"CAR>0 = share of securities with a positive CAR.",
             f"Tests: {names}. Lead with {TEST_SHORT.get(tests[0], tests[0])}"
             + (" (adjusts for the cross-correlation of securities sharing the event date)."
                if tests[0] == "kolari_pynnonen" else "."),
             f"Holm p and BH q: the {TEST_SHORT.get(lead, lead)} p-value adjusted for testing every event x group "
             f"cell of the window at once (events sharing a day 0 counted once; up to "
             f"{int(out['family_m'].max()) if len(out) else 0} cells): Holm (1979) bounds the chance of any false "
             f"finding, Benjamini–Hochberg (1995) the expected share of false findings.",
             STARS_NOTE + " Stars use the unadjusted p.",
             "Role: 'primary' = a hypothesis declared before looking (see the primary-hypotheses table, adjusted "
             "across that family); every other cell is exploratory."]
    return _set_attrs(out, run, "Impact by exposure group: CAAR and tests", cols, star_map, notes)


def _roles(run, df: pd.DataFrame) -> list[str]:
    """'primary <id>' for the cells declared in ``run.hypotheses``, else 'exploratory'."""
    hyp = getattr(run, "hypotheses", None)
    ids: dict[tuple, str] = {}
    if hyp is not None and len(hyp):
        ids = {(e, g, int(a), int(b)): h for h, e, g, a, b in zip(hyp["hypothesis_id"], hyp["event_id"], hyp["group"],
                                                                   hyp["window_start"], hyp["window_end"])}
    return [f"primary {ids[k]}" if k in ids else "exploratory"
            for k in zip(df["event_id"], df["group_id"], df["window_start"], df["window_end"])]


def primary_hypotheses_table(run) -> pd.DataFrame:
    """The declared primary hypotheses with N, estimate, 95% interval, p, Holm p and BH q across the family
    (:func:`eventstudy.inference.hypotheses.primary_table`), with display attributes; ``attrs['findings']`` holds the
    sentences of the findings box (:func:`eventstudy.inference.hypotheses.findings`)."""
    from eventstudy.inference.hypotheses import findings, primary_table

    out = primary_table(run)
    lab = run_labels(run)
    labels = {g: lab.label(g) for g in set(out["group"])} if len(out) else {}
    fnd = findings(out, labels)
    out = out.copy()
    out["group_label"] = out["group"].map(lambda g: lab.label(g, short=True)) if len(out) else []
    out["bootstrap_p"] = out["bootstrap_p"].astype(float)
    cols = [("hypothesis_id", "H", "text"), ("event_id", "Event", "text"), ("group_label", "Group", "text"),
            ("window", "Window", "text"), ("expected_sign", "Exp.", "text"), ("n", "N", "int"),
            ("estimate_pct", "CAAR (%)", "pct"), ("ci_low_pct", "95% CI low", "pct"),
            ("ci_high_pct", "95% CI high", "pct"), ("statistic", "t", "stat"), ("p_value", "p", "p"),
            ("p_holm", "Holm p", "p"), ("q_bh", "BH q", "p")]
    if out["bootstrap_p"].notna().any():
        cols.append(("bootstrap_p", "Boot p", "p"))
    cols += [("verdict", "Verdict", "text"), ("confounders", "Confounders in window", "text")]
    if out["limit_pairs"].astype(float).sum() > 0 if len(out) else False:
        cols.insert(-1, ("day0_limit_pairs", "Limit day 0", "int"))
        cols.insert(-1, ("limit_pairs", "Limit in window", "int"))
    m = int(out["family_m"].max()) if len(out) else 0
    notes = [f"Primary hypotheses declared before looking (file of the study, with a source per row), tested as one "
             f"family of {m}: Holm (1979) and Benjamini–Hochberg (1995) adjust p across them. Equity groups: "
             "Kolari–Pynnönen test of the CAAR; a group of one instrument or of listings of one contract (futures, "
             "index): the instrument's own event-dummy regression. The 95% interval inverts the same test, so it "
             "excludes 0 exactly when p < 0.05: for equity groups the common abnormal return that the "
             "Kolari–Pynnönen test does not reject (a Fieller-type set; it can sit off-centre from the equal-weighted "
             "CAAR because the test weights each CAR by its precision) (docs/METHODS.md, section 9). Tests are two-sided; 'Exp.' is the "
             "declared sign.",
             "Stars on the CAAR use the Holm-adjusted p: *** < 0.01, ** < 0.05, * < 0.10."]
    out.attrs["findings"] = fnd
    return _set_attrs(out, run, "Primary hypotheses (declared before looking)", cols, {"estimate_pct": "p_holm"},
                      notes)


def family_adjusted(df: pd.DataFrame, pcol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pcol`` adjusted within each window's family of cells: (Holm p, BH q, family size m) per row.

    ``df`` has ``window_start, window_end, group_id, day0, n, caar_pct`` and ``pcol``. Rows with the
    same window, group, day 0, N and CAAR are one cell (events sharing a day 0 measure the same
    returns) and count once in ``m``; rows with a missing p-value do not count. The adjustment is
    :func:`eventstudy.inference.reference.adjust_p` (Holm 1979; Benjamini & Hochberg 1995).
    """
    n = len(df)
    m = np.zeros(n, dtype=int)
    if not n:
        return np.full(0, np.nan), np.full(0, np.nan), m
    key = pd.DataFrame({"w0": df["window_start"].to_numpy(), "w1": df["window_end"].to_numpy(),
                        "g": df["group_id"].to_numpy(), "d": pd.to_datetime(df["day0"]).to_numpy(),
                        "n": df["n"].to_numpy(), "c": np.round(df["caar_pct"].to_numpy(dtype=float), 10)})
    cell = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()   # one window each
    p = df[pcol].to_numpy(dtype=float)
    first = ~pd.Series(cell).duplicated().to_numpy()
    cell_holm, cell_bh = np.full(cell.max() + 1, np.nan), np.full(cell.max() + 1, np.nan)
    for rows in key.groupby(["w0", "w1"], sort=False).indices.values():      # one family per window
        heads = rows[first[rows] & np.isfinite(p[rows])]
        cell_holm[cell[heads]] = adjust_p(p[heads], "holm")
        cell_bh[cell[heads]] = adjust_p(p[heads], "fdr_bh")
        m[rows] = heads.size
    return cell_holm[cell], cell_bh[cell], m


def lead_window(run) -> tuple[int, int]:
    """The window tables and figures lead with: ``(0, 1)`` when the run computed it, else the run's first
    window (``run``: a StudyRun or an EventStudyResult)."""
    wins = [tuple(int(x) for x in w) for w in getattr(run, "result", run).windows]
    return (0, 1) if (0, 1) in wins else wins[0]


def headline_table(run, window: tuple[int, int] | str = "lead", test: str = "kolari_pynnonen",
                   groups: Sequence[str] | None = None, impact: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compact event x group table: CAAR (%) over ``window`` with ``test`` stars
    (``window="lead"``: [0,1] when computed, else the run's first window).

    Columns ``event_id, event_label, day0`` (the equities' day 0), then per group
    ``<group>_pct``, ``<group>_p``, ``<group>_n`` and ``note`` (from the pooled row of
    :func:`impact_table`: shared day 0 and confounders). ``impact``: that table when already
    computed for the run (with ``test`` among its tests and ``groups`` as asked), so it is not
    computed again.
    """
    if isinstance(window, str):
        window = lead_window(run)
    window = tuple(int(x) for x in window)
    if impact is None:
        imp = impact_table(run, windows=[window], tests=(test,), groups=groups)
    else:
        if f"{test}_p" not in impact.columns:
            raise EstimationError(f"the impact table given has no {test} column; compute it with tests=({test!r}, ...)")
        _check_windows(run.result, [window])
        imp = impact[(impact["window_start"] == window[0]) & (impact["window_end"] == window[1])]
        if groups is not None:
            imp = imp[imp["group_id"].isin(list(groups))]
    gids = list(dict.fromkeys(imp["group_id"]))
    events = list(dict.fromkeys(imp["event_id"]))
    out = pd.DataFrame({"event_id": events})
    first = imp.drop_duplicates("event_id").set_index("event_id")
    out["event_label"] = out["event_id"].map(first["event_label"])
    pooled = run.result.pooled_group
    ref = imp[imp["group_id"] == pooled].set_index("event_id") if pooled in gids else first
    out["day0"] = pd.to_datetime(out["event_id"].map(ref["day0"]))
    for g in gids:
        s = imp[imp["group_id"] == g].set_index("event_id")
        out[f"{g}_pct"] = out["event_id"].map(s["caar_pct"]).astype(float)
        out[f"{g}_p"] = out["event_id"].map(s[f"{test}_p"]).astype(float)
        out[f"{g}_n"] = out["event_id"].map(s["n"]).astype("Int64")
    out["note"] = out["event_id"].map(ref["note"]).fillna("").astype(str)
    cols = [("event_id", "Event", "text"), ("day0", "Day 0", "date")]
    cols += [(f"{g}_pct", run_labels(run).label(g, short=True), "pct") for g in gids]
    cols.append(("note", "Note", "text"))
    star_map = {f"{g}_pct": f"{g}_p" for g in gids}
    notes = [f"CAAR (%) over {window_label(*window)} per exposure group; stars from the "
             f"{TEST_NAMES.get(test, test)} test. " + STARS_NOTE]
    return _set_attrs(out, run, f"Headline: CAAR (%) {window_label(*window)} by event and group",
                      cols, star_map, notes)


#: a study with more events than this is summarised: the terminal and the report show the events of
#: largest |CAAR| (every event stays in the CSV tables)
MAX_SHOWN_EVENTS = 20


def top_events(impact: pd.DataFrame, k: int = MAX_SHOWN_EVENTS, window: tuple[int, int] | None = None,
               pooled: str | None = "all") -> list[str]:
    """The ``k`` events of ``impact`` (:func:`impact_table`) with the largest |CAAR| of the ``pooled``
    group (of any group when it is absent) over ``window`` (default: every window of the table), in
    the table's event order."""
    imp = impact if window is None else impact[(impact["window_start"] == window[0])
                                               & (impact["window_end"] == window[1])]
    src = imp[imp["group_id"] == pooled] if pooled in set(imp["group_id"]) else imp
    size = src["caar_pct"].abs().groupby(src["event_id"], sort=False).max().fillna(-1.0)
    keep = set(size.sort_values(ascending=False, kind="mergesort").index[:k])
    return [e for e in dict.fromkeys(impact["event_id"]) if e in keep]


def shown_rows(df: pd.DataFrame, events: Sequence[str], total: int, what: str = "events") -> pd.DataFrame:
    """The rows of ``df`` for ``events`` (attrs kept), with a note saying how many of ``total`` are shown."""
    out = df[df["event_id"].isin(list(events))].copy()
    out.attrs.update(df.attrs)
    out.attrs["notes"] = list(df.attrs.get("notes", [])) + [
        f"Showing {len(events)} of {total:,} {what}: those with the largest |CAAR| of the pooled group; every "
        f"event is in the CSV tables (impact_table.csv, car.csv, tests.csv)."]
    return out


def futures_table(run, windows: Sequence[tuple[int, int]] | None = None,
                  subjects: Sequence[str] | None = None) -> pd.DataFrame:
    """The groups left out of the pooled equities (``subjects``; default ``run.config.pool_exclude``,
    e.g. futures and an index) from the event-dummy regressions (portfolio, OLS and HAC) per event x
    window, plus each contract's own CAR (market model, Student t) when a group has several.
    The title is the study's ``instruments`` section heading (:func:`section_title`).

    Columns ``subject_id, subject, source, event_id, window, window_start, window_end, day0,
    car_pct, t_ols, p_ols, t_hac, p_hac, hac, nobs, note``.
    """
    res = run.result
    lab = run_labels(run)
    if subjects is None:
        subjects = tuple(getattr(run.config, "pool_exclude", ()))
    wins = [tuple(w) for w in (windows if windows is not None else res.windows)]
    _check_windows(res, wins)
    reg = run.regressions
    keys = ["event_id", "subject", "window_start", "window_end"]
    rows = pd.DataFrame(columns=keys)
    if reg is not None and len(reg):
        r = reg[(reg["kind"] == "dummy_portfolio") & reg["subject"].isin(list(subjects)) & (reg["term"] == "CAR")]
        ols = r[r["cov_type"] == "OLS"][keys + ["coef", "t", "p_value", "nobs"]].rename(
            columns={"coef": "car", "t": "t_ols", "p_value": "p_ols"})
        hac = r[r["cov_type"].astype(str).str.startswith("HAC")][keys + ["t", "p_value", "cov_type"]].rename(
            columns={"t": "t_hac", "p_value": "p_hac", "cov_type": "hac"})
        rows = ols.merge(hac, on=keys, how="outer")
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
                                    "nobs", "note"])
    else:
        for c in ("t_hac", "p_hac", "hac"):
            if c not in rows.columns:
                rows[c] = np.nan
        rows = rows[pd.Series(list(zip(rows["window_start"], rows["window_end"])), index=rows.index).isin(wins)]
        # day 0 and notes on the subject's own calendar
        memb = car[car["group"].isin(list(subjects))][["event_id", "ticker", "group"]].drop_duplicates()
        tick = memb.assign(group=memb["ticker"])
        members = pd.concat([memb, tick], ignore_index=True)
        d0 = _event_group_day0(run, members).rename(columns={"group": "subject_id"})
        spans = _window_spans(run, members, wins).rename(columns={"group": "subject_id"})
        rows = rows.merge(d0, on=["event_id", "subject_id"], how="left").merge(
            spans, on=["event_id", "subject_id", "window_start", "window_end"], how="left")
        rows["note"] = _overlap_notes(rows.rename(columns={"subject_id": "group"}),
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
            "window": _window_labels(rows["window_start"], rows["window_end"]),
            "window_start": rows["window_start"].astype(int), "window_end": rows["window_end"].astype(int),
            "day0": pd.to_datetime(rows["day0"]),
            "car_pct": 100.0 * rows["car"].astype(float),
            "t_ols": rows["t_ols"].astype(float), "p_ols": rows["p_ols"].astype(float),
            "t_hac": rows["t_hac"].astype(float), "p_hac": rows["p_hac"].astype(float),
            "hac": rows["hac"].astype(object).where(rows["hac"].notna(), "").astype(str),
            "nobs": rows["nobs"].astype(float).astype("Int64"),
            "note": rows["note"].astype(str),
        })
    cols = [("event_id", "Event", "text"), ("subject", "Instrument", "text"), ("window", "Window", "text"),
            ("day0", "Day 0", "date"), ("car_pct", "CAR (%)", "pct"), ("t_ols", "t (OLS)", "stat"),
            ("p_ols", "p (OLS)", "p"), ("p_hac", "p (HAC)", "p"), ("note", "Note", "text")]
    notes = ["Portfolio rows: Karafiath event-dummy regression of the group's equal-weighted return on its "
             "benchmark plus one dummy per window day; CAR = sum of the dummies, tested with OLS and "
             "Newey-West (HAC) standard errors. Contract rows: the contract's own CAR and t (market model).",
             "Day 0 is on the instrument's own calendar (CME Globex bars are dated by their US session). "
             + STARS_NOTE]
    return _set_attrs(out, run, f"{section_title(lab, 'instruments')}: event-dummy regressions", cols,
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
        _check_windows(run.result, [tuple(window)])
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
            "window": _window_labels(r["window_start"], r["window_end"]),
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
    return _set_attrs(out, run, title, cols, {"coef_pp": "p_value"}, notes)


def regressions_table(run) -> pd.DataFrame:
    """Every regression row of ``run.regressions`` (coefficients as stored: dummy regressions in
    decimal returns, cross-sections in percent), with display attrs."""
    reg = run.regressions
    out = reg.copy() if reg is not None else pd.DataFrame()
    if len(out):
        out.insert(4, "window", _window_labels(out["window_start"], out["window_end"]))
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
    return _set_attrs(out, run, "All regressions", cols, {"coef": "p_value"}, notes)


# ----------------------------------------------------------------------------- rendering (eventstudy.content)
def as_table(df: pd.DataFrame, title: str | None = None, **options) -> Table:
    """The :class:`~eventstudy.content.Table` of a builder's frame (its ``attrs``: title, columns, stars,
    notes); ``title`` replaces the frame's (``""``: none). ``options``: display options of the Table."""
    t = Table.from_frame(df, **options)
    return t if title is None else t.replace(title=title)


def to_markdown(df: pd.DataFrame, title: str | None = None, notes: bool = True) -> str:
    """GitHub-flavoured Markdown pipe table (:meth:`eventstudy.content.Table.as_markdown`)."""
    return as_table(df, title).as_markdown(notes=notes)


def to_html(df: pd.DataFrame, title: str | None = None, notes: bool = True, table_id: str | None = None,
            break_on: str | None = None) -> str:
    """HTML ``<table class="es-table">`` (:meth:`eventstudy.content.Table.as_html`); ``break_on``: a column
    whose change starts a new block of rows."""
    return as_table(df, title, table_id=table_id, break_on=break_on).as_html(notes=notes)


def to_latex(df: pd.DataFrame, caption: str | None = None, label: str | None = None, *,
             notes: bool = True, size: str | None = r"\small", placement: str = "htbp",
             tabcolsep: str | None = None) -> str:
    """A booktabs ``table`` environment (:meth:`eventstudy.content.Table.as_latex`); ``caption=None`` uses
    the frame's title; a simulated table's caption always says SIMULATED."""
    return as_table(df, caption, label=label, size=size, tabcolsep=tabcolsep).as_latex(notes=notes, placement=placement)


def print_table(df: pd.DataFrame, title: str | None = None, console=None, notes: bool = True) -> None:
    """Print with :mod:`rich`, fitted to the console width (:func:`eventstudy.content.print_rich`)."""
    from rich.console import Console

    print_rich(as_table(df, title), console if console is not None else Console(), notes=notes)
