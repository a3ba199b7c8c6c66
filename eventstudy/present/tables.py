"""Impact tables of a study run as tidy DataFrames, and their renderers (Markdown, HTML, LaTeX, terminal).

Builders (:func:`impact_table`, :func:`headline_table`, :func:`primary_hypotheses_table`, and from
:mod:`eventstudy.present.regression_tables` :func:`futures_table`, :func:`cross_section_table`,
:func:`regressions_table`) return raw numbers (percent columns already multiplied by 100, p-values
as fractions) and describe how to show them in ``DataFrame.attrs`` (``title``, ``simulated``,
``columns`` ``[(column, display label, kind), ...]``, ``stars`` ``{column: p-value column}``,
``notes``); :func:`as_table` turns such a frame into the :class:`eventstudy.content.Table` that
renders it. Group names, order and the study-dependent titles come from the run's labels
(``run.labels``; :data:`NEUTRAL_LABELS` for a run without them). CSV files:
:func:`eventstudy.outputs.table_files.to_csv`.

Formats (:mod:`eventstudy.content`): percent and statistics to 2 decimals, p-values to 3 (``<0.001``
below), stars ``***`` p<0.01, ``**`` p<0.05, ``*`` p<0.10. A frame without these attrs is shown
with every column and a kind guessed from its name and dtype.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from eventstudy.content import NA, STARS_NOTE, Table, format_value, latex_escape, print_rich, stars
from eventstudy.errors import EstimationError
from eventstudy.inference.multitest import family_adjusted
from eventstudy.inference.reference import TEST_NAMES
from eventstudy.present.regression_tables import cross_section_table, futures_table, regressions_table
from eventstudy.present.table_cells import (NEUTRAL_LABELS, SECTION_DEFAULTS, check_windows, event_group_day0,
                                            group_label, group_order, lead_window, overlap_notes, pair_members,
                                            run_labels, section_title, set_attrs, window_label, window_labels,
                                            window_spans)

__all__ = [
    "LEAD_TESTS", "TEST_SHORT", "STARS_NOTE", "NA", "NEUTRAL_LABELS", "SECTION_DEFAULTS",
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
    check_windows(res, wins)
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
    members = pair_members(run)
    car = res.car.dropna(subset=["car"])
    m = members.merge(car[["event_id", "ticker", "window_start", "window_end", "car"]],
                      on=["event_id", "ticker"], how="inner")
    pos = (m.assign(pos=(m["car"] > 0).astype(float))
           .groupby(keys, sort=False)["pos"].mean().mul(100).rename("pos_pct").reset_index())
    base = base.merge(pos, on=keys, how="left")

    d0 = event_group_day0(run, members)
    base = base.merge(d0, on=["event_id", "group"], how="left")
    spans = window_spans(run, members, wins)
    base = base.merge(spans, on=keys, how="left")
    base["note"] = overlap_notes(base, d0, run.confounders)

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
        "window": window_labels(base["window_start"], base["window_end"]),
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
    return set_attrs(out, run, "Impact by exposure group: CAAR and tests", cols, star_map, notes)


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
    out["ghk_p"] = out["ghk_p"].astype(float)
    cols = [("hypothesis_id", "H", "text"), ("event_id", "Event", "text"), ("group_label", "Group", "text"),
            ("window", "Window", "text"), ("expected_sign", "Exp.", "text"), ("n", "N", "int"),
            ("estimate_pct", "CAAR (%)", "pct"), ("ci_low_pct", "95% CI low", "pct"),
            ("ci_high_pct", "95% CI high", "pct"), ("statistic", "t", "stat"), ("p_value", "p", "p"),
            ("p_holm", "Holm p", "p"), ("q_bh", "BH q", "p")]
    if out["bootstrap_p"].notna().any():
        cols.append(("bootstrap_p", "Boot p", "p"))
    if out["ghk_p"].notna().any():
        cols.append(("ghk_p", "GHK p", "p"))
    cols += [("verdict", "Verdict", "text"), ("confounders", "Confounders in window", "text")]
    if out["limit_pairs"].astype(float).sum() > 0 if len(out) else False:
        cols.insert(-1, ("day0_limit_pairs", "Limit day 0", "int"))
        cols.insert(-1, ("limit_pairs", "Limit in window", "int"))
    m = int(out["family_m"].max()) if len(out) else 0
    notes = [f"Primary hypotheses declared before looking (file of the study, with a source per row), tested as one "
             f"family of {m}: Holm (1979) and Benjamini–Hochberg (1995) adjust p across them. Equity groups: "
             "Kolari–Pynnönen test of the CAAR; a group of one instrument or of listings of one contract (futures, "
             "index): the instrument's own event-dummy regression (OLS t; 'GHK p' beside it is the "
             "Gelbach–Helland–Klick sample-quantile p of the same CAR among the estimation period's sums of as many "
             "consecutive residuals, valid without normal returns, shown for robustness and not adjusted). The 95% "
             "interval inverts the declared test, so it "
             "excludes 0 exactly when p < 0.05: for equity groups the common abnormal return that the "
             "Kolari–Pynnönen test does not reject (a Fieller-type set; it can sit off-centre from the equal-weighted "
             "CAAR because the test weights each CAR by its precision) (docs/METHODS.md, section 9). Tests are two-sided; 'Exp.' is the "
             "declared sign.",
             "Stars on the CAAR use the Holm-adjusted p: *** < 0.01, ** < 0.05, * < 0.10."]
    out.attrs["findings"] = fnd
    return set_attrs(out, run, "Primary hypotheses (declared before looking)", cols, {"estimate_pct": "p_holm"},
                      notes)


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
        check_windows(run.result, [window])
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
    return set_attrs(out, run, f"Headline: CAAR (%) {window_label(*window)} by event and group",
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
