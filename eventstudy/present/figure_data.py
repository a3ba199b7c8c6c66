"""The frames the figures draw, computed without matplotlib (the alphalens idea: plots draw a given
frame): CAAR paths with their bands, the event x group heat-map table, the residual correlation behind the
Kolari–Pynnönen test and the events a figure leads with (the announcement notes:
:mod:`eventstudy.present.announcements`); plus the run/result
access the figures share. Returns are decimals here; figures show percent.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import special

from eventstudy.engine.results import POOLED, EventStudyResult
from eventstudy.errors import DataUnavailableError, WindowError
from eventstudy.inference.reference import upper_mean
from eventstudy.inputs.study import Labels
from eventstudy.present.tables import group_order, lead_window, run_labels

__all__ = ["result_of", "is_run", "is_simulated", "pool_exclude_of", "event_order", "check_event", "pick_groups",
           "check_window", "instrument_names", "order_groups", "is_pooled",
           "caar_paths", "heatmap_table", "residual_correlation", "main_events", "figure_plan", "safe_name"]


def order_groups(groups: Iterable, labels: Labels | None = None) -> list[str]:
    """Study order, then other ids in order of appearance, pooled ``all`` last (as the tables)."""
    return group_order([str(g) for g in groups], "all", labels)


# ---------------------------------------------------------------------------------------------
# run / result access
# ---------------------------------------------------------------------------------------------
def result_of(run) -> EventStudyResult:
    if isinstance(run, EventStudyResult):
        return run
    res = getattr(run, "result", None)
    if not isinstance(res, EventStudyResult):
        raise TypeError(f"expected a StudyRun or an EventStudyResult, got {type(run).__name__}")
    return res


def is_run(run) -> bool:
    return not isinstance(run, EventStudyResult)


def is_simulated(run) -> bool:
    return bool(getattr(run, "simulated", False))


def pool_exclude_of(run) -> tuple[str, ...]:
    cfg = getattr(run, "config", None)
    return tuple(getattr(cfg, "pool_exclude", ())) if cfg is not None else ()


def event_order(run) -> list[str]:
    res = result_of(run)
    have = list(dict.fromkeys([*pd.unique(res.car["event_id"]), *pd.unique(res.ar["event_id"])]))
    if is_run(run):
        known = set(have)
        ev = [e for e in run.events["event_id"].astype(str) if e in known]
        seen = set(ev)
        return ev + [e for e in have if e not in seen]
    return have


def check_event(run, event_id: str) -> None:
    evs = event_order(run)
    if event_id not in evs:
        raise DataUnavailableError(
            f"event {event_id!r} has no results in this run; choose one of: {', '.join(evs) or '(none)'}")


def pick_groups(run, present: list[str], groups: Sequence[str] | None, what: str,
                 extra: Sequence[str] = ()) -> list[str]:
    """The groups to show: ``groups`` as strings, or by default every group of ``present`` the run
    pools (all of them when it pools none). A group outside ``present`` and ``extra`` raises
    :class:`DataUnavailableError` ("group 'x' <what>; choose from: ...")."""
    if groups is None:
        excl = pool_exclude_of(run)
        return [g for g in present if g not in excl] or present
    groups = [str(g) for g in groups]
    allowed = present + list(extra)
    bad = [g for g in groups if g not in allowed]
    if bad:
        raise DataUnavailableError(f"group {bad[0]!r} {what}; choose from: {', '.join(allowed)}")
    return groups


def check_window(res: EventStudyResult, window: Sequence[int]) -> tuple[int, int]:
    try:
        w = (int(window[0]), int(window[1]))
    except (TypeError, ValueError, IndexError):
        raise WindowError(f"window {window!r}: give two whole numbers of trading days, e.g. (0, 1)") from None
    if w not in res.windows:
        raise WindowError(
            f"window [{w[0]},{w[1]}] was not estimated; this run has windows "
            f"{', '.join(f'[{a},{b}]' for a, b in res.windows)} (add it with windows=... when running the study)")
    return w


def instrument_names(run) -> dict[str, str]:
    if not is_run(run) or "name" not in run.universe.columns:
        return {}
    return {str(t): str(n) for t, n in zip(run.universe["ticker"], run.universe["name"]) if isinstance(n, str) and n}


# ---------------------------------------------------------------------------------------------
# CAAR paths
# ---------------------------------------------------------------------------------------------
def _group_rbar(run, present: Sequence[str], pooled: str, excl: Sequence[str],
                events: Sequence[str] | None = None) -> dict[tuple[str, str], float]:
    """Mean pairwise estimation-residual correlation (Kolari–Pynnönen's r) per (event, group), and for the
    pooled group (``events``: only these; default every event); empty when the result carries no arrays."""
    res = result_of(run)
    if getattr(res, "arrays", None) is None:
        return {}

    out: dict[tuple[str, str], float] = {}
    pairs = res.arrays.pairs
    pair_ev = pairs["event_id"].to_numpy()
    for ev in (dict.fromkeys(res.ar["event_id"]) if events is None else [str(e) for e in events]):
        try:
            r = res.residual_corr(ev)
        except Exception:              # an event without estimated pairs: no band
            continue
        grp = pairs.loc[res.arrays.ok & (pair_ev == ev), "group"].to_numpy()
        if len(grp) != len(r):
            continue
        m = r.to_numpy()
        for g in list(present) + [pooled]:
            sel = ~np.isin(grp, list(excl)) if g == pooled and g not in present else grp == g
            if sel.sum() >= 2:
                out[(ev, g)] = upper_mean(m[np.ix_(sel, sel)])[0]
    return out


def is_pooled(res: EventStudyResult) -> bool:
    """True for pooled firm-specific events (tests in one ``pooled`` cell per group)."""
    return len(res.tests) > 0 and set(res.tests["event_id"]) == {POOLED}


def _pooled_rbar(run, present: Sequence[str], pooled: str) -> dict[tuple[str, str], float]:
    """Kolari–Pynnönen's r per group of pooled firm-specific events: the mean over all pairs i < j of the
    residual correlations, with pairs whose day 0 differ counted as 0 (docs/METHODS.md, section 15)."""
    res = result_of(run)
    if getattr(res, "arrays", None) is None:
        return {}
    from eventstudy.inference.reference import residual_correlation_matrix

    a = res.arrays
    ok = np.flatnonzero(a.ok)
    grp = a.pairs["group"].to_numpy()[ok]
    day0 = a.pairs["day0"].to_numpy()[ok]
    out: dict[tuple[str, str], float] = {}
    for g in list(present) + [pooled]:
        sel = np.ones(len(ok), dtype=bool) if (g == pooled and g not in present) else grp == g
        n = int(sel.sum())
        if n < 2:
            continue
        codes, _ = pd.factorize(day0[sel])
        shared = np.flatnonzero(np.bincount(codes)[codes] > 1)      # pairs with another pair on their date
        tot = 0.0
        if shared.size:
            resid = a.subset(ok[sel][shared])[3].ar[:, a.est_mask]
            r = residual_correlation_matrix(resid)
            same = codes[shared][:, None] == codes[shared][None, :]
            iu = np.triu_indices(shared.size, k=1)
            v = np.where(same, r, 0.0)[iu]
            tot = float(np.nansum(v))
        out[(POOLED, g)] = tot / (n * (n - 1) / 2)
    return out


def caar_paths(run, window: Sequence[int] | None = None, groups: Sequence[str] | None = None,
               ci: float = 0.95, rbar: dict[tuple[str, str], float] | None = None,
               events: Sequence[str] | None = None) -> pd.DataFrame:
    """The numbers behind :func:`plot_caar_paths`, one row per event x group x relative day.

    The cumulative abnormal return of security i is measured from the close of day -1
    (or of the day before the window when it starts after day 0):
    ``CAR_i(t) = sum_{s=0..t} AR_is`` for ``t >= 0`` and ``-sum_{s=t+1..-1} AR_is`` before, so
    ``CAR_i(-1) = 0`` and ``CAR_i(0) = AR_i0``; the path starts at the close before the window's
    first day. Only securities with an AR on every day of the window enter (``n``).
    ``caar = mean_i CAR_i(t)``; ``sd`` its cross-sectional s.d. (ddof 1); the band is
    ``caar ± t_{N-1, (1+ci)/2} sd / sqrt(N) * sqrt((1 + (N-1) r) / (1 - r))``, the cross-sectional
    interval inflated by Kolari & Pynnönen's (2010) factor for the mean residual correlation ``r`` of the
    group's securities on the estimation window, so that it holds when they share the event date
    (docs/METHODS.md, section 11). ``rbar`` maps (event, group) to ``r`` (default: computed from the run);
    where ``r`` is unknown or N < 2 the band is NaN (not drawn). Decimals, not percent.
    The pooled group ``all`` (every group but the run's excluded ones) can be requested. For pooled
    firm-specific events every firm-event of a group enters one path (``event_id`` ``pooled``), and
    ``r`` counts correlations only among firm-events sharing their day 0 (docs/METHODS.md, section 15).
    ``events`` restricts the rows to those events (default every event).

    Columns: ``event_id, group, rel_day, n, caar, sd, rbar, lower, upper``.
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci={ci!r}: give a confidence level between 0 and 1, e.g. 0.95")
    res = result_of(run)
    ar = res.ar
    span = (int(ar["rel_day"].min()), int(ar["rel_day"].max())) if len(ar) else (0, 0)
    if window is None:
        lo, hi = span
    else:
        try:
            lo, hi = int(window[0]), int(window[1])
        except (TypeError, ValueError, IndexError):
            raise WindowError(f"window {window!r}: give two whole numbers of trading days, e.g. (-1, 5)") from None
        if lo > hi or lo < span[0] or hi > span[1]:
            raise WindowError(f"window [{lo},{hi}] is outside the event span [{span[0]},{span[1]}] of this run; "
                              f"choose days within it (the span covers the study's event windows)")
    present = order_groups(pd.unique(ar["group"]), run_labels(run))
    pooled = res.pooled_group or "all"
    excl = pool_exclude_of(run)
    groups = pick_groups(run, present, groups, "has no abnormal returns in this run", extra=(pooled,))
    firm = is_pooled(res)
    if rbar is None:
        rbar = (_pooled_rbar(run, present, pooled) if firm
                else _group_rbar(run, present, pooled, excl, events=events))

    sub = ar[(ar["rel_day"] >= lo) & (ar["rel_day"] <= hi)]
    wide = (sub.set_index(["event_id", "ticker", "group", "rel_day"])["ar"]
            .unstack("rel_day").reindex(columns=range(lo, hi + 1)))
    wide = wide[wide.notna().all(axis=1)]
    vals = wide.to_numpy(dtype=float)
    cum = np.concatenate([np.zeros((len(vals), 1)), np.cumsum(vals, axis=1)], axis=1)  # level at close of lo-1..hi
    anchor = -1 if lo <= 0 else lo - 1
    level = cum - cum[:, [anchor - (lo - 1)]]
    days = np.arange(lo - 1, hi + 1)
    ev_arr = wide.index.get_level_values("event_id").astype(str).to_numpy()
    gr_arr = wide.index.get_level_values("group").astype(str).to_numpy()
    if firm:                                  # pooled firm-specific events: one path per group
        ev_arr = np.full(len(ev_arr), POOLED, dtype=object)

    rows = []
    order = [POOLED] if firm else (event_order(run) if events is None else [str(e) for e in events])
    at = pd.Series(np.arange(len(ev_arr))).groupby(ev_arr).indices      # rows of each event, found once
    for g in groups:
        in_g = ~np.isin(gr_arr, list(excl)) if g == pooled and g not in present else gr_arr == g
        for ev in order:
            r = at.get(ev, np.zeros(0, dtype=int))
            m = r[in_g[r]]
            n = len(m)
            if n == 0:
                continue
            x = level[m]
            mean = x.mean(axis=0)
            r = float(rbar.get((ev, g), np.nan))
            den = 1.0 + (n - 1) * r
            infl = math.sqrt(den / (1.0 - r)) if (math.isfinite(r) and den > 0 and r < 1) else math.nan
            if n >= 2:
                sd = x.std(axis=0, ddof=1)
                half = special.stdtrit(n - 1, 0.5 + ci / 2) * sd / math.sqrt(n) * infl
            else:
                sd = half = np.full(len(days), np.nan)
            rows.append(pd.DataFrame({"event_id": ev, "group": g, "rel_day": days, "n": n, "caar": mean,
                                      "sd": sd, "rbar": r, "lower": mean - half, "upper": mean + half}))
    cols = ["event_id", "group", "rel_day", "n", "caar", "sd", "rbar", "lower", "upper"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


# ---------------------------------------------------------------------------------------------
# heat map and residual correlation
# ---------------------------------------------------------------------------------------------
def heatmap_table(run, window: Sequence[int] = (0, 1), test: str = "kolari_pynnonen") -> pd.DataFrame:
    """Event x group table of the chosen test: ``caar_pct`` (100 x CAAR), ``p_value``, ``n``
    (long form, rows in event order, groups in study order)."""
    res = result_of(run)
    w = check_window(res, window)
    t = res.tests
    tests = sorted(set(t["test"]))
    if test not in tests:
        raise DataUnavailableError(f"test {test!r} is not in the results; available: {', '.join(tests)}")
    return res.test_table(test, w).drop(columns=["window_start", "window_end"])


def residual_correlation(run, event_id: str | None = None, groups: Sequence[str] | None = None,
                         min_overlap: int = 30) -> tuple[pd.DataFrame, pd.Series, float, int]:
    """Estimation-window residual correlations of one event's securities, ordered by group then
    ticker: ``(matrix, group_of_ticker, rbar, N)``. ``rbar`` is the mean of the pairwise-complete
    correlations over pairs i < j (Kolari & Pynnönen 2010); default groups: every group the run
    pools (futures and indices left out); default event: the first one."""
    res = result_of(run)
    evs = event_order(run)
    event_id = evs[0] if event_id is None else str(event_id)
    check_event(run, event_id)
    a = res.arrays
    if a is None:
        raise DataUnavailableError("this result carries no estimation arrays (it was not produced by EventStudy.fit)")
    pairs = a.pairs[a.ok & (a.pairs["event_id"].to_numpy() == event_id)]
    present = order_groups(pairs["group"].astype(str), run_labels(run))
    groups = pick_groups(run, present, groups, f"has no securities for event {event_id!r}")
    pairs = pairs[pairs["group"].astype(str).isin(groups)]
    rank = {g: i for i, g in enumerate(order_groups(groups, run_labels(run)))}
    pairs = pairs.assign(_r=pairs["group"].astype(str).map(rank)).sort_values(["_r", "ticker"], kind="mergesort")
    tick = list(pairs["ticker"].astype(str))
    if len(tick) < 2:
        raise DataUnavailableError(f"event {event_id!r} has fewer than 2 securities in groups {', '.join(groups)}")
    corr = res.residual_corr(event_id, tickers=tick, min_overlap=min_overlap).reindex(index=tick, columns=tick)
    rbar, _ = upper_mean(corr.to_numpy(dtype=float))
    return corr, pd.Series(list(pairs["group"].astype(str)), index=tick), rbar, len(tick)


def main_events(run, window: Sequence[int] | None = None, k: int = 4) -> list[str]:
    """The ``k`` events with the largest |CAAR| of the pooled group (or of any group when the
    run pools nothing) in ``window`` (default: :func:`eventstudy.present.tables.lead_window`); of
    events with identical results (same day 0) only the first is kept."""
    res = result_of(run)
    w = check_window(res, lead_window(res) if window is None else window)
    t = res.tests[(res.tests["window_start"] == w[0]) & (res.tests["window_end"] == w[1])]
    t = t.drop_duplicates(["event_id", "group"])
    pooled = t[t["group"] == (res.pooled_group or "all")]
    src = pooled if len(pooled) else t
    s = src.assign(a=src["caar"].abs()).groupby("event_id", sort=False)["a"].max().sort_values(
        ascending=False, kind="mergesort")
    # events sharing a day 0 have identical CARs: keep the first of each
    sig = src.pivot_table(index="event_id", columns="group", values="caar", aggfunc="first",
                          dropna=False).round(12)
    dup = sig.reindex(s.index).duplicated()          # NaN = group absent: equal patterns, equal group sets
    return [ev for ev, d in zip(s.index, dup) if not d][:k]


def safe_name(text: str) -> str:
    """A file-name stem for ``text``; when characters had to be replaced, a short hash of ``text`` is
    added so that two ids sanitised alike (``a/b``, ``a:b``) never share a figure file."""
    safe = "".join(c if (c.isalnum() or c in "-_") else "_" for c in text)
    if safe != text:
        import hashlib
        safe = f"{safe[:80]}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return safe


def figure_plan(run, bar_events: int = 4, max_events: int = 12) -> list[tuple[str, str, dict]]:
    """(file name, kind, keyword arguments) of every figure of a run, decided without drawing (and without
    importing matplotlib): ``caar_paths``, ``heatmap``, ``residual_correlation``, ``timeline`` (a run only)
    and ``ar_bars_<event>`` for the ``bar_events`` events with the largest pooled |CAAR|. With more than
    ``max_events`` events the CAAR panels and the heat map show the ``max_events`` events of largest pooled
    |CAAR| (in study order). :func:`eventstudy.present.plots.draw_planned` draws an entry."""
    res = result_of(run)
    shown = main_events(run, k=max_events) if len(event_order(run)) > max_events else None
    plan: list[tuple[str, str, dict]] = [
        ("caar_paths", "caar_paths", {"events": shown}),
        ("heatmap", "heatmap", {"window": lead_window(res), "events": shown}),
        ("residual_correlation", "residual_correlation", {}),
    ]
    if is_run(run):
        plan.append(("timeline", "timeline", {}))
    for ev in main_events(run, k=bar_events):
        plan.append((f"ar_bars_{safe_name(ev)}", "ar_bars", {"event_id": ev, "window": res.windows[0]}))
    return plan
