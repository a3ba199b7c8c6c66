"""Firm-specific events in one call: (security, announcement) rows + price source -> :class:`StudyRun`.

The design of earnings, guidance or index-inclusion studies: each row of the firm-events file is
one firm's own event, mapped to day 0 on that firm's own trading sessions
(:func:`eventstudy.calendars.day0.map_day0_pairs`), and the tests pool the firm-events per window (and
per group: a column of the events file such as ``news`` = good/bad, or the universe's group).
Pairs that share a calendar date enter the Kolari-Pynnonen correlation; pairs on different dates
are independent (:func:`eventstudy.inference.reference.kolari_pynnonen`, ``clusters``).

A firm's estimation window can contain another of its own event windows (quarterly earnings
and a 250-day window): :func:`own_event_overlaps` finds them; ``overlap="drop"`` leaves those
days out of the estimation window (counted), ``"flag"`` (default) only reports them.
"""
from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from eventstudy.calendars.day0 import map_day0_pairs
from eventstudy.data.base import Prices
from eventstudy.engine.model import EventStudy
from eventstudy.errors import DataUnavailableError, EstimationError, EventsFileError, WindowError
from eventstudy.inputs.instruments import declared_exchanges, declared_kinds, read_instruments
from eventstudy.pipeline.checks import warn_untested
from eventstudy.pipeline.market_data import alignment_notes, local_dates, price_span, roll_masks, trading_calendars
from eventstudy.pipeline.study import StudyConfig, StudyRun
from eventstudy.inference.regression import REG_COLUMNS
from eventstudy.returns.panel import compute_returns, with_closes
from eventstudy.estimation.data import expand_runs
from eventstudy.estimation.windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, Window, WindowSpec
from eventstudy.inputs.study import Labels, Study

__all__ = ["run_firm_study", "own_event_overlaps", "own_event_overlap_spans", "overlap_days", "OVERLAP_COLUMNS",
           "OVERLAP_SPAN_COLUMNS"]

#: columns of :func:`own_event_overlaps` (one row per day)
OVERLAP_COLUMNS = ["ticker", "event_id", "other_event_id", "rel_day"]
#: columns of :func:`own_event_overlap_spans` (one row per pair and other pair: a run of days)
OVERLAP_SPAN_COLUMNS = ["ticker", "event_id", "other_event_id", "rel_day_first", "rel_day_last", "days"]
_TEXT_COLUMNS = ("ticker", "event_id", "other_event_id")


def own_event_overlap_spans(pairs: pd.DataFrame, sessions: dict[str, pd.DatetimeIndex],
                            spec: WindowSpec) -> pd.DataFrame:
    """Estimation days of each pair that lie in the event span of another event of the same firm, as runs of days.

    ``pairs``: ``ticker, event_id, day0`` (session dates); ``sessions``: each ticker's sessions.
    Returns :data:`OVERLAP_SPAN_COLUMNS`: one row per (pair, other pair of the same firm) with the relative days
    ``rel_day_first .. rel_day_last`` (``days`` of them, all of them estimation days of the pair) inside the other
    pair's event span, ordered by firm (first appearance), pair and other pair (row order). A day inside two other
    events' spans belongs to the first of them in row order; what is left of a later one's days is still one run
    (every event span has the same length, so an earlier span cannot lie strictly inside a later one).
    :func:`own_event_overlaps` lists the same days one row each.

    Vectorised over all pairs: day-0 positions per shared session index, candidate other events by a binary search
    of each firm's sorted positions, the days an earlier other event already holds taken off the ends of a later
    one's run in one pass over (pair, other pair) rows.
    """
    est = spec.estimation
    lo, hi = spec.event_span()
    empty = pd.DataFrame({c: pd.Series([], dtype=object if c in _TEXT_COLUMNS else np.int64)
                          for c in OVERLAP_SPAN_COLUMNS})
    if len(pairs) < 2:
        return empty
    tick = pairs["ticker"].to_numpy(dtype=object)
    code, firms = pd.factorize(tick)                     # firms in order of first appearance
    day0 = pd.DatetimeIndex(pairs["day0"])
    p0 = np.full(len(pairs), -1, dtype=np.int64)
    by_index: dict[int, list[int]] = {}                  # firms sharing one session index: one lookup
    for f, t in enumerate(firms):
        sess = sessions.get(t)
        if sess is not None:
            by_index.setdefault(id(sess), []).append(f)
    for members in by_index.values():
        rows = np.flatnonzero(np.isin(code, members))
        p0[rows] = sessions[firms[members[0]]].get_indexer(day0[rows])
    ok = np.flatnonzero(p0 >= 0)
    # each firm's located pairs sorted by position; pair a's estimation days [p0a + est0, p0a + est1] meet
    # pair b's event span [p0b + lo, p0b + hi] when p0b lies in [p0a + est0 - hi, p0a + est1 - lo]
    order = ok[np.lexsort((p0[ok], code[ok]))]
    key = code[order] * (np.int64(1) << 40) + p0[order]
    start = np.searchsorted(key, key + (est[0] - hi), side="left")
    stop = np.searchsorted(key, key + (est[1] - lo), side="right")
    a, b = expand_runs(start, stop - start)             # (position of pair a, of a candidate b) in ``order``
    a, b = order[a], order[b]
    keep = a != b
    a, b = a[keep], b[keep]
    first = np.maximum(p0[a] + est[0], p0[b] + lo)
    last = np.minimum(p0[a] + est[1], p0[b] + hi)
    hit = first <= last
    a, b, first, last = a[hit], b[hit], first[hit], last[hit]
    srt = np.lexsort((b, a, code[a]))                    # firm, pair, other pair (row order)
    a, b, first, last = a[srt], b[srt], first[srt], last[srt]
    first, last = _minus_earlier(a, first, last)
    live = first <= last
    a, b, first, last = a[live], b[live], first[live], last[live]
    if a.size == 0:
        return empty
    ids = pairs["event_id"]
    return pd.DataFrame({"ticker": _take_text(pairs["ticker"], a), "event_id": _take_text(ids, a),
                         "other_event_id": _take_text(ids, b), "rel_day_first": first - p0[a],
                         "rel_day_last": last - p0[a], "days": last - first + 1})


def _minus_earlier(group: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``first..last`` (a group's rows next to each other) with the days of the group's earlier rows taken off.

    The runs are a pair's estimation window cut by equal-length event spans, so both their ends rise with their
    start: an earlier run that meets a later one holds its first day (it starts no later) or its last day (it
    starts later, so it ends no earlier). What is left is therefore one run, from the day after the last end of
    the former to the day before the first start of the latter, and one pass over the earlier runs in any order
    finds it: a run holding the current first day moves it past its own end, one holding the current last day
    moves it before its own start (an empty run ends with first > last). Work: half the square of each group's
    size."""
    lo, hi = first.copy(), last.copy()
    n = group.size
    if n < 2:
        return lo, hi
    new = np.r_[True, group[1:] != group[:-1]]
    rank = np.arange(n) - np.flatnonzero(new)[np.cumsum(new) - 1]      # place within its group
    by_rank = np.argsort(rank, kind="stable")
    from_rank = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 1))   # rows of rank >= r: a suffix
    for r in range(1, from_rank.size):
        j = by_rank[from_rank[r]:]
        j = j[lo[j] <= hi[j]]                            # runs not yet empty
        i = j - r
        at_lo = (first[i] <= lo[j]) & (lo[j] <= last[i])
        lo[j[at_lo]] = last[i[at_lo]] + 1
        at_hi = (first[i] <= hi[j]) & (hi[j] <= last[i]) & (lo[j] <= hi[j])
        hi[j[at_hi]] = first[i[at_hi]] - 1
    return lo, hi


def own_event_overlaps(pairs: pd.DataFrame, sessions: dict[str, pd.DatetimeIndex], spec: WindowSpec) -> pd.DataFrame:
    """Estimation days of each pair that lie in the event span of another event of the same firm, one row per day.

    ``pairs``: ``ticker, event_id, day0`` (session dates); ``sessions``: each ticker's sessions.
    Returns :data:`OVERLAP_COLUMNS`, one row per contaminated (pair, relative day), ordered by firm (first
    appearance), pair, other pair (row order) and day; a day inside two other events' spans is listed once,
    with the first. The runs of :func:`own_event_overlap_spans` laid out day by day (:func:`overlap_days`);
    ``EventStudy(estimation_drop=...)`` takes either form.
    """
    return overlap_days(own_event_overlap_spans(pairs, sessions, spec))


def overlap_days(spans: pd.DataFrame) -> pd.DataFrame:
    """The runs of :func:`own_event_overlap_spans` as :data:`OVERLAP_COLUMNS`, one row per day, in their order."""
    n = spans["days"].to_numpy(dtype=np.int64)
    j, rel = expand_runs(spans["rel_day_first"].to_numpy(dtype=np.int64), n)
    return pd.DataFrame({"ticker": _take_text(spans["ticker"], j), "event_id": _take_text(spans["event_id"], j),
                         "other_event_id": _take_text(spans["other_event_id"], j), "rel_day": rel})


def _take_text(col: pd.Series, at: np.ndarray):
    """``col``'s values at positions ``at`` as a frame holds them: a string column taken as it is (about 8x
    faster than a Python ``str`` per row for the millions of rows of a large overlaps table), other columns
    as objects (the frame then infers their type, as before)."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.array.take(at)
    return col.to_numpy(dtype=object)[at]




def run_firm_study(firm_events: pd.DataFrame, source, *, benchmark: str | None = None,
                   universe: pd.DataFrame | None = None, by: str | None = None, model: str = "market",
                   estimation: Window | str = DEFAULT_ESTIMATION,
                   windows: Iterable[Window | str] = DEFAULT_WINDOWS, return_kind: str = "simple",
                   factors: Sequence[str] = (), overlap: str = "flag", instruments=None,
                   alignment: str = "close", bootstrap: int | None = 0, seed: int = 0,
                   study: Study | None = None, executor=None) -> StudyRun:
    """Pooled event study of firm-specific events (:func:`eventstudy.inputs.events.load_firm_events`).

    ``benchmark``: the market return for every firm (market / market-adjusted / factor models), or
    ``universe`` with a ``benchmark`` (and ``group``) per ticker. ``by``: a column of the firm events
    (e.g. ``news``) or ``"group"`` (the universe's) whose values are the tests' groups; the pooled
    group ``all`` holds every firm-event. ``overlap``: ``"flag"`` or ``"drop"`` (leave a firm's other
    event windows out of its estimation window). ``study``: labels of the groups (:class:`~eventstudy.inputs.study.Study`); ``executor``: where the
    engine's chunks run (as :func:`eventstudy.pipeline.study.run_study`).
    Other options as :func:`eventstudy.pipeline.study.run_study`.
    The result's tests have ``event_id`` = ``"pooled"``; ``car`` and ``ar`` keep each firm-event's id; the run's
    ``overlaps`` are :func:`own_event_overlap_spans` (a run of days per pair and other event of its firm).
    """
    if overlap not in ("flag", "drop"):
        raise EstimationError(f"overlap={overlap!r}: choose 'flag' or 'drop'")
    ev = firm_events
    if "ticker" not in ev.columns or "announced_at" not in ev.columns:
        raise EventsFileError("firm events need ticker and announcement columns: build them with "
                              "load_firm_events or firm_events_from_frame")
    spec = WindowSpec.build(estimation, windows)
    tickers = list(dict.fromkeys(ev["ticker"].astype(str)))
    bench: dict[str, str] = {}
    groups: dict[str, str] = {}
    if universe is not None:
        bench = {t: b for t, b in zip(universe["ticker"], universe["benchmark"]) if isinstance(b, str) and b}
        groups = dict(zip(universe["ticker"], universe["group"]))
    if benchmark:
        bench = {t: bench.get(t, benchmark) for t in tickers}
    if model != "constant_mean":
        missing = [t for t in tickers if t not in bench]
        if missing:
            raise EstimationError(f"no benchmark for {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}: "
                                  "give benchmark= (CLI --benchmark TICKER) or a universe with a benchmark per ticker")
    if by is not None and by != "group" and by not in ev.columns:
        raise EventsFileError(f"by={by!r} is not a column of the firm events (columns: {', '.join(map(str, ev.columns))})")
    if by == "group" and universe is None:
        raise EventsFileError("by='group' needs a universe with a group per ticker")
    need = list(dict.fromkeys(tickers + list(bench.values()) + list(factors)))
    start, end = price_span(ev, spec)
    prices: Prices = source if isinstance(source, Prices) else source.get(need, start, end)
    if prices.frame.empty:
        raise DataUnavailableError(f"no prices for any firm of the firm events in {prices.source} between "
                                   f"{start:%Y-%m-%d} and {end:%Y-%m-%d}: check the tickers and dates")
    instruments = read_instruments(instruments)          # a path is read once
    declared = declared_exchanges(universe, instruments)
    prices = local_dates(prices, declared)
    calendars, models, sessions = trading_calendars(prices, declared, need)
    exch = dict(zip(calendars["ticker"], calendars["exchange"]))
    panel = with_closes(compute_returns(prices, kind=return_kind, sessions=sessions,
                                        mask=roll_masks(prices, declared_kinds(instruments))), models)

    have = set(prices.frame["ticker"])
    excluded = [dict(ticker=t, event_id="", reason=f"no prices: {r}")
                for t, r in zip(prices.failures.get("ticker", []), prices.failures.get("reason", []))]
    rows = ev[ev["ticker"].isin(have)]
    for e, t in zip(ev.loc[~ev["ticker"].isin(have), "event_id"], ev.loc[~ev["ticker"].isin(have), "ticker"]):
        excluded.append(dict(ticker=t, event_id=e, reason="no prices for this ticker"))
    day0 = map_day0_pairs(rows, exchanges={t: exch.get(t) for t in have},
                          price_dates={t: panel.sessions[t] for t in have if t in panel.sessions})
    nat = day0["day0"].isna()
    excluded += [dict(ticker=t, event_id=e, reason=r) for t, e, r in
                 zip(day0.loc[nat, "ticker"], day0.loc[nat, "event_id"], day0.loc[nat, "reason"])]
    pairs = day0.loc[~nat, ["ticker", "event_id", "day0"]].reset_index(drop=True)
    if pairs.empty:
        raise WindowError("no firm-event has a day 0 in the data: " + "; ".join(
            f"{x['ticker']} {x['event_id']}: {x['reason']}" for x in excluded[:3]))
    if by == "group":
        pairs["group"] = pairs["ticker"].map(groups).fillna("ungrouped").astype(str)
    elif by is not None:
        pairs["group"] = pairs["event_id"].map(dict(zip(rows["event_id"], rows[by].astype(str)))).astype(str)
    else:
        pairs["group"] = "all"

    overlaps = own_event_overlap_spans(pairs, panel.sessions, spec)
    if len(overlaps):
        t, e = (overlaps[c].to_numpy(dtype=object) for c in ("ticker", "event_id"))
        n_pairs = int(np.r_[True, (t[1:] != t[:-1]) | (e[1:] != e[:-1])].sum())   # a pair's runs are next to each other
        what = ("left out of their estimation windows" if overlap == "drop"
                else "inside their estimation windows (use overlap='drop', CLI --overlap drop, to leave them out)")
        warnings.warn(f"{n_pairs} firm-event(s) have another event of the same firm {what}: "
                      f"{int(overlaps['days'].sum())} estimation day(s), e.g. {overlaps['ticker'].iloc[0]} "
                      f"{overlaps['event_id'].iloc[0]} (other event {overlaps['other_event_id'].iloc[0]})", stacklevel=2)

    kw: dict = {}
    regs: dict[str, list[str]] = {}
    if model in ("market", "market_adjusted"):
        kw["benchmark"] = {t: bench[t] for t in pairs["ticker"].unique()}
        regs = {t: [bench[t]] for t in pairs["ticker"].unique()}
    elif model == "factor":
        kw["factors"] = {t: [bench[t], *factors] for t in pairs["ticker"].unique()}
        regs = kw["factors"]
    how = alignment_notes(list(pairs["ticker"].unique()), regs, exch, models, alignment)
    day0["alignment"] = day0["ticker"].map(how).fillna("")
    es = EventStudy(panel, pairs, model=model, estimation=spec.estimation, windows=spec.windows,
                    pooled_group="all" if pairs["group"].nunique() > 1 else None,
                    log_returns=(return_kind == "log"), alignment=alignment, pool=True,
                    estimation_drop=overlaps if overlap == "drop" else None, **kw)
    result = es.fit(bootstrap=bootstrap, seed=seed, executor=executor)
    warn_untested(result)
    cfg = StudyConfig(model=model, estimation=spec.estimation, windows=spec.windows, return_kind=return_kind,
                      base_group=None, pool_exclude=(), extra_factors=tuple(factors), bootstrap=bootstrap,
                      seed=seed, alignment=alignment)
    uni = universe if universe is not None else pd.DataFrame({
        "ticker": tickers, "name": "", "group": "", "benchmark": [bench.get(t, "") for t in tickers],
        "exchange": "", "rationale": ""})
    return StudyRun(config=cfg, events=ev, universe=uni, day0=day0, prices=prices, panel=panel, result=result,
                    regressions=pd.DataFrame(columns=REG_COLUMNS),
                    excluded=pd.DataFrame(excluded, columns=["ticker", "event_id", "reason"]),
                    calendars=calendars, overlaps=overlaps, labels=study.labels if study is not None else Labels())
