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

import html as _html
from collections import Counter
import os
import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import EstimationError, WindowError
from eventstudy.io_utils import atomic_write_text, spreadsheet_safe
from eventstudy.engine.results import stars
from eventstudy.inference.multitest import family_adjusted
from eventstudy.inference.reference import TEST_NAMES
from eventstudy.inputs.study import bundled_study

__all__ = [
    "LEAD_TESTS", "TEST_SHORT", "GROUP_SHORT", "STARS_NOTE",
    "group_label", "window_label", "lead_window", "stars",
    "impact_table", "primary_hypotheses_table", "family_adjusted", "futures_table", "cross_section_table", "headline_table", "regressions_table",
    "format_value", "to_markdown", "to_html", "to_latex", "to_csv", "print_table", "latex_escape",
]

#: Tests shown in the impact table, lead test first (all securities share the event date: docs/METHODS.md).
LEAD_TESTS: tuple[str, ...] = ("kolari_pynnonen", "bmp", "t_cross_section", "grank", "sign_generalized")

#: Short column labels of the test statistics.
TEST_SHORT: dict[str, str] = {
    "kolari_pynnonen": "KP t", "bmp": "BMP t", "t_cross_section": "CS t", "grank": "GRANK t",
    "sign_generalized": "Sign Z", "t_time_series": "TS t", "patell": "Patell Z", "corrado": "Rank Z",
    "wilcoxon": "Wilcoxon W", "bootstrap": "Boot",
}

# phase-A bridge (replaced when labels are threaded through): the bundled study's labels
_LABELS = bundled_study().labels
GROUPS = _LABELS.order
GROUP_LABELS = dict(_LABELS.long)
#: Short group labels for wide tables (one column per group).
GROUP_SHORT: dict[str, str] = {**_LABELS.short, "all": _LABELS.pooled_short}

STARS_NOTE = "Stars: *** p<0.01, ** p<0.05, * p<0.10 (two-sided)."
NA = "–"          # shown for a missing number (never 'nan')
_LATEX_NA = "--"

POOLED_LABEL = "All equities (pooled)"


# ----------------------------------------------------------------------------- small helpers
def group_label(group: str, short: bool = False) -> str:
    """Human label of a group id (:data:`GROUP_LABELS`; ``all`` = the pooled equities)."""
    if short:
        return GROUP_SHORT.get(group, group)
    if group == "all":
        return POOLED_LABEL
    return GROUP_LABELS.get(group, group)


def window_label(start: int, end: int) -> str:
    """``(0, 1) -> "[0,1]"``."""
    return f"[{int(start)},{int(end)}]"


def _title(run, text: str) -> str:
    return f"SIMULATED data — {text}" if getattr(run, "simulated", False) else text


def _group_order(groups: Iterable[str], pooled: str | None = "all") -> list[str]:
    groups = list(dict.fromkeys(groups))
    known = [g for g in GROUPS if g in groups]
    other = [g for g in groups if g not in GROUPS and g != pooled]
    tail = [pooled] if pooled in groups else []
    return known + other + tail


def _set_attrs(df: pd.DataFrame, run, title: str, columns: list[tuple[str, str, str]],
               star_map: dict[str, str] | None = None, notes: Sequence[str] = ()) -> pd.DataFrame:
    df.attrs["title"] = _title(run, title)
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
    order = _group_order(groups, res.pooled_group)
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
        "group": base["group"].map(group_label),
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
    labels = {g: group_label(g) for g in set(out["group"])} if len(out) else {}
    fnd = findings(out, labels)
    out = out.copy()
    out["group_label"] = out["group"].map(lambda g: group_label(g, short=True)) if len(out) else []
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
    cols += [(f"{g}_pct", group_label(g, short=True), "pct") for g in gids]
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
                  subjects: Sequence[str] = ("futures", "index")) -> pd.DataFrame:
    """Futures and index from the event-dummy regressions (portfolio, OLS and HAC) per event x window,
    plus each futures contract's own CAR (market model, Student t) when the group has several.

    Columns ``subject_id, subject, source, event_id, window, window_start, window_end, day0,
    car_pct, t_ols, p_ols, t_hac, p_hac, hac, nobs, note``.
    """
    res = run.result
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
        rows["subject"] = rows["subject"].map(lambda g: group_label(g))
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
    return _set_attrs(out, run, "Nikkei futures and index: event-dummy regressions", cols,
                      {"car_pct": "p_ols"}, notes)


def _term_label(term: str) -> str:
    m = re.fullmatch(r"const \((.+)\)", term)
    if m:
        return f"Constant = {group_label(m.group(1))}"
    m = re.fullmatch(r"group\[(.+)\]", term)
    if m:
        return f"{group_label(m.group(1))} minus base"
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
            "term_id": r["term"].astype(str), "term": r["term"].astype(str).map(_term_label),
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
        notes = [f"Each group against the base group{f' ({group_label(base)})' if base else ''}: the event-dummy "
                 "regression of the return spread between the two equal-weighted portfolios (group minus base) on "
                 "the estimation window plus one dummy per window day; the coefficient is the difference in CAAR "
                 "(percentage points) and its standard error comes from the spread's own estimation-window "
                 "variance, so it holds when every security shares the event date (docs/METHODS.md, section 8). "
                 "The constant row is the base portfolio's own CAR test. N = days in the regression.",
                 STARS_NOTE + " Stars use the unadjusted p; these comparisons are exploratory."]
    else:
        notes = [f"OLS of each security's CAR (percent) on exposure-group dummies; the constant is the mean CAR "
                 f"of the base group{f' ({group_label(base)})' if base else ''}, each group coefficient the "
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


# ----------------------------------------------------------------------------- formatting
def _is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def format_value(v, kind: str, na: str = NA) -> str:
    """One cell as text: ``pct``/``coef`` signed 2 decimals, ``share``/``stat``/``se`` 2 decimals,
    ``p`` 3 decimals or ``<0.001``, ``r2`` 3 decimals, ``int``, ``date`` YYYY-MM-DD, ``num``
    4 significant digits; missing -> ``na``."""
    if _is_missing(v):
        return na
    if kind in ("pct", "coef"):
        return f"{float(v):+.2f}"
    if kind in ("share", "stat", "se"):
        return f"{float(v):.2f}"
    if kind == "p":
        p = float(v)
        return "<0.001" if p < 0.001 else f"{p:.3f}"
    if kind == "r2":
        return f"{float(v):.3f}"
    if kind == "int":
        return str(int(v))
    if kind == "date":
        return f"{pd.Timestamp(v):%Y-%m-%d}"
    if kind == "num":
        x = float(v)
        return f"{x:.4g}" if (x == 0 or 1e-4 <= abs(x) < 1e6) else f"{x:.3e}"
    return str(v).replace("\r", " ").replace("\n", " ")


def _guess_kind(name: str, s: pd.Series) -> str:
    n = name.lower()
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s):
        return "text"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_numeric_dtype(s):
        if n.endswith("_pct") or n.endswith("_pp"):
            return "pct"
        if n in ("p", "p_value", "pvalue") or n.endswith("_p") or n.startswith("p_"):
            return "p"
        if n in ("t", "z", "statistic") or n.endswith("_stat") or n.startswith("t_"):
            return "stat"
        return "num"
    return "text"


def _spec(df: pd.DataFrame) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    spec = df.attrs.get("columns")
    if spec:
        cols = [(c, lab, k) for c, lab, k in spec if c in df.columns]
    else:
        cols = [(str(c), str(c), _guess_kind(str(c), df[c])) for c in df.columns]
    star_map = dict(df.attrs.get("stars") or {})
    if not spec:  # a <x>_stat column with a matching <x>_p gets stars
        for c, _, _ in cols:
            if c.endswith("_stat") and c[:-5] + "_p" in df.columns:
                star_map.setdefault(c, c[:-5] + "_p")
    return cols, {k: v for k, v in star_map.items() if v in df.columns}


def _cells(df: pd.DataFrame) -> tuple[list[str], list[str], list[list[str]], list[list[int]]]:
    """Labels, kinds, formatted cells and signs (-1, 0, +1 for coloured numbers) of the display columns."""
    cols, star_map = _spec(df)
    labels = [lab for _, lab, _ in cols]
    kinds = [k for _, _, k in cols]
    text_cols, sign_cols = [], []
    for c, _, k in cols:
        vals = df[c].tolist()
        txt = [format_value(v, k) for v in vals]
        if c in star_map:
            ps = df[star_map[c]].tolist()
            txt = [t if _is_missing(v) else t + stars(float(p) if not _is_missing(p) else float("nan"))
                   for t, v, p in zip(txt, vals, ps)]
        if k in ("pct", "coef", "stat"):
            sg = [0 if _is_missing(v) else int(np.sign(float(v))) for v in vals]
        else:
            sg = [0] * len(vals)
        text_cols.append(txt)
        sign_cols.append(sg)
    rows = [list(r) for r in zip(*text_cols)] if text_cols else []
    signs = [list(r) for r in zip(*sign_cols)] if sign_cols else []
    return labels, kinds, rows, signs


def _numeric(kind: str) -> bool:
    return kind not in ("text", "date")


def _resolve_title(df: pd.DataFrame, title: str | None) -> str:
    t = df.attrs.get("title", "") if title is None else title
    if df.attrs.get("simulated") and t and "SIMULATED" not in t:
        t = f"SIMULATED data — {t}"
    return t


# ----------------------------------------------------------------------------- markdown
def _md_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;")


def to_markdown(df: pd.DataFrame, title: str | None = None, notes: bool = True) -> str:
    """GitHub-flavoured Markdown pipe table (numbers right-aligned), title in bold above it
    (``title=None``: ``df.attrs['title']``; ``""``: none) and the footnotes below."""
    labels, kinds, rows, _ = _cells(df)
    t = _resolve_title(df, title)
    out = [f"**{_md_escape(t)}**", ""] if t else []
    if not labels:
        return "\n".join(out + ["(no columns)", ""])
    out.append("| " + " | ".join(_md_escape(l) for l in labels) + " |")
    out.append("|" + "|".join("---:" if _numeric(k) else ":---" for k in kinds) + "|")
    for r in rows:
        out.append("| " + " | ".join(_md_escape(c) for c in r) + " |")
    if not rows:
        out.append("| " + " | ".join(["(no rows)"] + [""] * (len(labels) - 1)) + " |")
    if notes and df.attrs.get("notes"):
        out.append("")
        out += [f"*{_md_escape(n)}*  " for n in df.attrs["notes"]]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- html
def to_html(df: pd.DataFrame, title: str | None = None, notes: bool = True, table_id: str | None = None,
            break_on: str | None = None) -> str:
    """HTML ``<table class="es-table">`` with a caption, numbers right-aligned (``class="num"``),
    negative numbers ``class="neg"``, positive ``class="pos"``; footnotes in ``<p class="es-note">``.
    ``break_on``: a column whose change starts a new block (``<tr class="es-break">``).
    Self-contained apart from the CSS classes (:data:`eventstudy.present.report.CSS` styles them)."""
    labels, kinds, rows, signs = _cells(df)
    brk = (df[break_on].astype(str).tolist() if break_on is not None and break_on in df.columns else None)
    # text columns whose every cell is short never wrap (labels); columns with long text wrap
    short_col = [max((len(r[j]) for r in rows), default=0) <= 40 for j in range(len(labels))]
    long_col = [max((len(r[j]) for r in rows), default=0) > 60 for j in range(len(labels))]
    t = _resolve_title(df, title)
    esc = _html.escape
    ida = f' id="{esc(table_id)}"' if table_id else ""
    simc = " es-simulated" if df.attrs.get("simulated") else ""
    out = [f'<div class="es-table-wrap"><table class="es-table{simc}"{ida}>']
    if t:
        out.append(f"<caption>{esc(t)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th class="{"num" if _numeric(k) else "txt"}">{esc(l)}</th>' for l, k in zip(labels, kinds)) + "</tr></thead>")
    out.append("<tbody>")
    for i, (r, sg) in enumerate(zip(rows, signs)):
        tds = []
        for j, (c, k, s) in enumerate(zip(r, kinds, sg)):
            cls = ["num" if _numeric(k) else "txt"]
            if s < 0:
                cls.append("neg")
            elif s > 0:
                cls.append("pos")
            if c == NA:
                cls.append("na")
            if k == "text" and long_col[j] and c:
                cls.append("long")
            elif k == "text" and short_col[j]:
                cls.append("nowrap")
            if k == "date":
                cls.append("nowrap")
            tds.append(f'<td class="{" ".join(cls)}">{esc(c)}</td>')
        new_block = brk is not None and i > 0 and brk[i] != brk[i - 1]
        out.append(('<tr class="es-break">' if new_block else "<tr>") + "".join(tds) + "</tr>")
    if not rows:
        out.append(f'<tr><td class="txt na" colspan="{max(len(labels), 1)}">(no rows)</td></tr>')
    out.append("</tbody></table>")
    if notes and df.attrs.get("notes"):
        out += [f'<p class="es-note">{esc(n)}</p>' for n in df.attrs["notes"]]
    out.append("</div>")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- latex
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "–": "--", "—": "---", "−": "-", "×": r"$\times$", "²": r"\textsuperscript{2}", "≥": r"$\geq$",
    "≤": r"$\leq$", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\ldots{}", "\u00a0": "~",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def latex_escape(s: str) -> str:
    """Escape LaTeX special characters (``\\ & % $ # _ { } ~ ^ < > |``) and map common Unicode
    punctuation to ASCII LaTeX (en/em dash, minus, times, superscript 2)."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], str(s))


def _latex_cell(c: str, kind: str) -> str:
    if c == NA:
        return _LATEX_NA
    if _numeric(kind):
        m = re.fullmatch(r"([+-]?)([0-9.e+-]+)(\**)", c)
        if m:
            sign, num, st = m.groups()
            sign = "$-$" if sign == "-" else ("$+$" if sign == "+" else "")
            return sign + num + (f"$^{{{st}}}$" if st else "")
        if c.startswith("<"):
            return r"$<$" + c[1:]
    return latex_escape(c)


def to_latex(df: pd.DataFrame, caption: str | None = None, label: str | None = None, *,
             notes: bool = True, size: str | None = r"\small", placement: str = "htbp",
             tabcolsep: str | None = None) -> str:
    """A booktabs ``table`` environment (``\\toprule``, ``\\midrule``, ``\\bottomrule``) with caption
    and label; text escaped; numbers right-aligned with a math minus. Needs ``\\usepackage{booktabs}``.
    ``caption=None`` uses ``df.attrs['title']``; a simulated table's caption always says SIMULATED."""
    labels, kinds, rows, _ = _cells(df)
    cap = _resolve_title(df, caption) or "Table"
    align = "".join("r" if _numeric(k) else "l" for k in kinds) or "l"
    out = [rf"\begin{{table}}[{placement}]", r"\centering"]
    if size:
        out.append(size)
    if tabcolsep:
        out.append(rf"\setlength{{\tabcolsep}}{{{tabcolsep}}}")
    out.append(rf"\caption{{{latex_escape(cap)}}}")
    if label:
        out.append(rf"\label{{{label}}}")
    out.append(rf"\begin{{tabular}}{{{align}}}")
    out.append(r"\toprule")
    out.append(" & ".join(latex_escape(l) for l in labels) + r" \\")
    out.append(r"\midrule")
    for r in rows:
        out.append(" & ".join(_latex_cell(c, k) for c, k in zip(r, kinds)) + r" \\")
    if not rows:
        out.append(rf"\multicolumn{{{max(len(labels), 1)}}}{{l}}{{(no rows)}} \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    if notes and df.attrs.get("notes"):
        out.append(r"\par\smallskip\footnotesize")
        out.append(r"\\ ".join(latex_escape(n) for n in df.attrs["notes"]))
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- csv
def to_csv(df: pd.DataFrame, path: str | os.PathLike | None = None, raw: bool = False) -> str:
    """The raw frame (all columns, full precision, dates ISO) as CSV text; written atomically to
    ``path`` when given. A simulated table's first line is a ``# SIMULATED ...`` comment.
    Text cells a spreadsheet would evaluate as formulas get a leading ``'`` unless ``raw``
    (:func:`eventstudy.io_utils.spreadsheet_safe`)."""
    from eventstudy.outputs.csvs import csv_bytes      # pyarrow: full precision, fast for the tables of many events

    body = csv_bytes(df if raw else spreadsheet_safe(df)).decode("utf-8")
    if df.attrs.get("simulated"):
        body = f"# {_resolve_title(df, None) or 'SIMULATED data'}\n" + body
    if path is not None:
        atomic_write_text(path, body)
    return body


# ----------------------------------------------------------------------------- terminal
_PAD = 3  # rich SIMPLE_HEAD: one space each side plus the column gap


def _min_widths(labels: list[str], kinds: list[str], rows: list[list[str]]) -> list[int]:
    """Narrowest width of each column without cutting a number or a header word."""
    out = []
    for j, (l, k) in enumerate(zip(labels, kinds)):
        word = max((len(w) for w in l.split()), default=1)
        cell = max((len(r[j]) for r in rows), default=1)
        out.append(max(word, cell) if (_numeric(k) or k == "date") else max(word, min(cell, 16)))
    return out


def print_table(df: pd.DataFrame, title: str | None = None, console=None, notes: bool = True) -> None:
    """Print with :mod:`rich`, fitted to the console width: numbers are never cut; a long text
    column (a note) becomes numbered footnotes when the table is too wide, and a table still too
    wide is printed in blocks of columns, each repeating the leading label columns. Negative
    numbers red and positive green on a colour terminal; plain text when not a TTY."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    con = console if console is not None else Console()
    width = max(int(con.width), 40)
    labels, kinds, rows, signs = _cells(df)
    t = _resolve_title(df, title)
    title_style = "bold red" if df.attrs.get("simulated") else "bold"
    if t:
        con.print(Text(t, style=title_style))
    footnotes: list[str] = []
    mins = _min_widths(labels, kinds, rows)
    full = [max([len(l)] + [len(r[j]) for r in rows]) for j, l in enumerate(labels)]
    if sum(full) + _PAD * len(labels) > width:
        # long text columns (other than the first) -> footnote markers
        first_num = next((j for j, k in enumerate(kinds) if _numeric(k)), len(kinds))
        for j, k in enumerate(kinds):
            if j > first_num and k == "text" and full[j] > 30:
                seen: dict[str, int] = {}
                for r in rows:
                    c = r[j]
                    if c and c != NA:
                        if c not in seen:
                            footnotes.append(f"[{len(footnotes) + 1}] {labels[j]}: {c}")
                            seen[c] = len(footnotes)
                        r[j] = f"[{seen[c]}]"
                mins[j] = max(len(labels[j]), max((len(r[j]) for r in rows), default=1))
    # leading label columns repeated in every block
    lead = 0
    while lead < len(kinds) and not _numeric(kinds[lead]) and lead < 4:
        lead += 1
    while lead > 1 and sum(mins[:lead]) + _PAD * lead > width // 2:
        lead -= 1
    rest = list(range(lead, len(labels)))
    blocks: list[list[int]] = []
    cur: list[int] = []
    used = sum(mins[:lead]) + _PAD * lead
    for j in rest:
        w = mins[j] + _PAD
        if cur and used + w > width:
            blocks.append(cur)
            cur, used = [], sum(mins[:lead]) + _PAD * lead
        cur.append(j)
        used += w
    if cur or not blocks:
        blocks.append(cur)
    for b, block in enumerate(blocks):
        idx = list(range(lead)) + block
        tab = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
        for j in idx:
            if _numeric(kinds[j]) or kinds[j] == "date":
                tab.add_column(labels[j], justify="right", no_wrap=True, min_width=mins[j])
            else:
                tab.add_column(labels[j], justify="left", overflow="fold", min_width=mins[j])
        for r, sg in zip(rows, signs):
            tab.add_row(*[Text(r[j], style="red" if sg[j] < 0 else "green" if sg[j] > 0 else "") for j in idx])
        if len(blocks) > 1:
            con.print(Text(f"(columns {b + 1}/{len(blocks)})", style="dim"))
        con.print(tab)
    for f in footnotes:
        con.print(Text(f))
    if notes and df.attrs.get("notes"):
        for n in df.attrs["notes"]:
            con.print(Text(n, style="dim"))
