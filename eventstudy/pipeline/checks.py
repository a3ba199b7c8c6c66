"""Checks of a study before and after its fit: a set-up that cannot give honest numbers refused before any
data is loaded (:func:`check_study_inputs`), cells that could not be tested named (:func:`warn_untested`), and
the cross-sectional tests blanked for groups of one instrument (:func:`single_instrument_tests`).
"""
from __future__ import annotations

import re
import warnings
from typing import Sequence

import pandas as pd

from eventstudy.engine.results import POOLED, EventStudyResult
from eventstudy.errors import EstimationError, EventStudyError
from eventstudy.pipeline.market_data import is_benchmark

__all__ = ["check_study_inputs", "warn_untested", "single_instrument_tests", "CROSS_SECTIONAL_TESTS"]


def check_study_inputs(universe: pd.DataFrame, *, model: str = "market", extra_factors: Sequence[str] = (),
                       pool_exclude: Sequence[str] = (), pooled_group: str = "all",
                       kinds: dict[str, str] | None = None) -> None:
    """Refuse a study whose set-up cannot give honest numbers, before any data is loaded.

    Raises :class:`EstimationError` for a factor that is an instrument of the universe (it would be
    regressed on itself) or the benchmark of one (a singular design); :class:`EventStudyError` for a
    missing group or a group named like the pooled group (``all``). Warns when a group named like a
    special group (``futures``, ``index``, left out of the pooled group) holds instruments that do
    look like equities (by their declared ``kinds``, ticker -> kind, else by the symbol).
    """
    tickers = [str(t) for t in universe["ticker"]]
    groups = universe["group"] if "group" in universe.columns else pd.Series([pooled_group] * len(universe))
    missing = [t for t, g in zip(tickers, groups) if not (isinstance(g, str) and g.strip())]
    if missing:
        raise EventStudyError(f"universe: instrument(s) {', '.join(missing[:5])} have no group; give every "
                              f"instrument an exposure group (e.g. control)")
    if model == "factor":
        inst = set(tickers)
        bench = {b for b in universe["benchmark"] if is_benchmark(b)}
        for f in extra_factors:
            if f in inst:
                raise EstimationError(f"factor {f} is also an instrument of the universe: it would be regressed on "
                                      f"itself (a perfect fit); drop it from --factor or from the universe")
            if f in bench:
                who = [t for t, b in zip(tickers, universe["benchmark"]) if b == f][:3]
                raise EstimationError(f"factor {f} is already the benchmark of {', '.join(who)}: the same regressor "
                                      f"twice makes the regression singular; choose another factor")
        dup = [f for f in dict.fromkeys(extra_factors) if list(extra_factors).count(f) > 1]
        if dup:
            raise EstimationError(f"factor {dup[0]} is given twice; give each factor once")
    names = set(str(g) for g in groups)
    if pooled_group in names:
        who = [t for t, g in zip(tickers, groups) if g == pooled_group][:3]
        raise EventStudyError(f"universe: group {pooled_group!r} ({', '.join(who)}) has the name of the pooled group "
                              f"of all equities; rename it (e.g. {pooled_group}_firms)")
    kinds = kinds or {}
    exch = (dict(zip(tickers, universe["exchange"].astype(str).str.strip().str.upper()))
            if "exchange" in universe.columns else {})

    def equity_like(t: str) -> bool:
        """Declared an equity, or a stock symbol (``7203.T``, ``7203``, ``7203 JT Equity``) not on a derivatives
        venue (Osaka Exchange has listed only derivatives since JPX moved cash equities to Tokyo in 2013-14)."""
        if t in kinds:
            return kinds[t] in ("equity", "stock", "etf")
        u = t.strip().upper()
        if exch.get(t) in ("OSE", "XOSE") or u.endswith(".OSE"):
            return False
        return (not u.startswith("^") and "=" not in u
                and (bool(re.fullmatch(r"[A-Z0-9\-]+\.[A-Z]{1,4}|\d{4,6}", u)) or u.endswith(" EQUITY")))

    for g in pool_exclude:
        if g not in names:
            continue
        odd = [t for t, gg in zip(tickers, groups) if gg == g and equity_like(t)]
        if odd:
            warnings.warn(f"universe: group {g!r} is a special group left out of the pooled group 'all', but "
                          f"{', '.join(odd[:3])}{' ...' if len(odd) > 3 else ''} look like equities: rename the "
                          f"group if they belong in the pooled results", stacklevel=3)


def warn_untested(result: EventStudyResult) -> None:
    """One warning naming the (event, group) cells with estimated pairs but no tested window, and why."""
    est = result.params[["event_id", "group"]].drop_duplicates()
    tested = set(zip(result.tests["event_id"], result.tests["group"]))
    if set(result.tests["event_id"]) == {POOLED}:          # pooled firm events: cells are groups
        est = est.assign(event_id=POOLED).drop_duplicates()
    gone = [(e, g) for e, g in zip(est["event_id"], est["group"]) if (e, g) not in tested]
    if not gone:
        return
    ex = result.exclusions
    events = list(dict.fromkeys(e for e, _ in gone))
    parts = []
    for e in events[:5]:
        groups = [g for ev, g in gone if ev == e]
        why = ex.loc[(ex["event_id"] == e) & ex["window_start"].notna(), "reason"]
        top = why.value_counts().index[0] if len(why) else "no pair with a complete event window"
        parts.append(f"event {e} ({len(groups)} group(s): {', '.join(groups[:4])}{', ...' if len(groups) > 4 else ''}; "
                     f"e.g. {top})")
    more = f"; and {len(events) - 5} more event(s)" if len(events) > 5 else ""
    warnings.warn(f"{len(gone)} event x group cell(s) have no pair with a complete event window in any window and "
                  f"were not tested: " + "; ".join(parts) + more + " (every pair-window is in the exclusions)",
                  stacklevel=3)


#: tests whose statistic treats the members of a group as a cross-section of independent securities
CROSS_SECTIONAL_TESTS = ("t_cross_section", "patell", "bmp", "kolari_pynnonen", "grank", "sign_generalized",
                         "wilcoxon")


def single_instrument_tests(tests: pd.DataFrame, single_groups: Sequence[str]) -> pd.DataFrame:
    """``tests`` (the engine's tidy tests) with the :data:`CROSS_SECTIONAL_TESTS` of ``single_groups`` blanked
    (NaN statistic and p-value), as :func:`run_study` reports them; ``tests`` itself when none is."""
    sel = tests["group"].isin(list(single_groups)) & tests["test"].isin(CROSS_SECTIONAL_TESTS)
    if not sel.any():
        return tests
    tt = tests.copy()
    tt.loc[sel, ["statistic", "p_value"]] = float("nan")
    return tt
