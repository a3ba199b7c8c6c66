"""Measures beside returns on a study run: abnormal volume and abnormal volatility.

``run_measures(run, ["volume", "volatility"], volume=...)`` reuses everything the returns study fixed:
its day-0 audit (the same day 0 per instrument and event), its sessions, windows, groups and pooled
group. Abnormal volume is fitted on the instruments that have volume (equities; index volume is
empty in the J-Quants file); abnormal volatility on every pair of the returns study.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.measures import VolatilityResult, abnormal_volatility, abnormal_volume
from eventstudy.engine.results import EventStudyResult
from eventstudy.errors import EventStudyError
from eventstudy.inference.volatility import VOLATILITY_TESTS
from eventstudy.pipeline.checks import CROSS_SECTIONAL_TESTS

__all__ = ["MEASURES", "MeasuresRun", "parse_measures", "run_measures"]

#: measures a run can report; ``returns`` is always computed (its day-0 audit and pairs are the base)
MEASURES = ("returns", "volume", "volatility")


@dataclass(frozen=True)
class MeasuresRun:
    """The measures of one study run: ``volume`` (abnormal log volume, an :class:`EventStudyResult`),
    ``volatility`` (:class:`~eventstudy.engine.measures.VolatilityResult`), each None when not asked for;
    ``volume_excluded`` (ticker, event_id, reason) pairs of the study without volume; the options used."""

    measures: tuple[str, ...]
    volume: EventStudyResult | None = None
    volatility: VolatilityResult | None = None
    volume_excluded: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=["ticker", "event_id", "reason"]))
    volume_market: str = "all"
    volume_calendar: str = "dow+holiday"
    volume_source: str = ""


def parse_measures(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """``"volume,volatility"`` or a list of such -> the measures in :data:`MEASURES` order (``returns`` always
    first); an unknown name raises :class:`EventStudyError` naming it."""
    if values is None:
        return ("returns",)
    items = [values] if isinstance(values, str) else list(values)
    names = [w.strip().lower() for v in items for w in str(v).split(",") if w.strip()]
    bad = [n for n in names if n not in MEASURES]
    if bad:
        raise EventStudyError(f"unknown measure {bad[0]!r}: choose from {', '.join(MEASURES)} (comma-separated)")
    return tuple(m for m in MEASURES if m == "returns" or m in names)


def _volume_pairs(run, volume: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The study's (instrument, event) pairs with a day 0 and a volume series, and those left out."""
    d = run.day0.loc[run.day0["day0"].notna(), ["ticker", "event_id", "day0"]].copy()
    d["group"] = d["ticker"].map(dict(zip(run.universe["ticker"], run.universe["group"])))
    est = set(zip(run.result.params["ticker"], run.result.params["event_id"]))
    d = d[[(t, e) in est for t, e in zip(d["ticker"], d["event_id"])]]
    has = volume.notna().sum(axis=0)
    ok = d["ticker"].map(lambda t: bool(has.get(t, 0) > 0)).to_numpy(dtype=bool)
    out = d.loc[~ok, ["ticker", "event_id"]].assign(reason="no volume in the volume data")
    return d.loc[ok].reset_index(drop=True), out.reset_index(drop=True)


def _single_groups_nan(tests: pd.DataFrame, groups: Sequence[str], cross: Sequence[str]) -> pd.DataFrame:
    sel = tests["group"].isin(list(groups)) & tests["test"].isin(list(cross))
    if not sel.any():
        return tests
    tests = tests.copy()
    tests.loc[sel, ["statistic", "p_value"]] = np.nan
    return tests


def run_measures(run, measures: Sequence[str] | str = ("volume", "volatility"), *, volume: pd.DataFrame | None = None,
                 volume_market: str | Sequence[str] = "all", volume_calendar: str = "dow+holiday",
                 volume_source: str = "", n_jobs: int = 2) -> MeasuresRun:
    """Abnormal volume and/or volatility for a :class:`~eventstudy.pipeline.study.StudyRun` of the shared-date
    design (every event on every instrument).

    ``volume``: wide shares traded (dates x tickers; :func:`eventstudy.data.volume.read_volume_file`), needed
    for ``"volume"``; ``volume_market``: ``"all"`` (equal-weighted log volume of every column of ``volume``),
    ``"universe"`` (of the study's instruments with volume) or a ticker; ``volume_calendar``: see
    :func:`eventstudy.estimation.volume.calendar_dummies`. Groups left out of the pooled group (futures,
    index: single instruments) get no cross-sectional statistics, as in the returns study.
    """
    names = parse_measures(measures)
    if run.design != "events":
        raise EventStudyError("volume and volatility measures are built for studies whose events hit every "
                              "instrument (--events); firm-specific designs are not supported yet")
    pool_exclude = tuple(run.config.pool_exclude)
    vol_res, vol_excl, vty = None, pd.DataFrame(columns=["ticker", "event_id", "reason"]), None
    market = volume_market
    if "volume" in names:
        if volume is None:
            raise EventStudyError("the volume measure needs trading volume: a long price file with a volume "
                                  "column (--prices FILE, or --volume FILE); the bundled SIMULATED market has none")
        pairs, vol_excl = _volume_pairs(run, volume)
        if pairs.empty:
            raise EventStudyError(f"no instrument of the study has volume in {volume_source or 'the volume data'}; "
                                  "give a price file with a volume column for the universe's tickers")
        if market == "universe":
            market = [t for t in run.universe["ticker"] if t in volume.columns]
        vol_res = abnormal_volume(volume, pairs, market=market, calendar=volume_calendar,
                                  sessions=run.panel.sessions, estimation=run.config.estimation,
                                  windows=run.config.windows, pool_exclude=pool_exclude)
        vol_res = dataclasses.replace(vol_res, tests=_single_groups_nan(vol_res.tests, pool_exclude,
                                                                        CROSS_SECTIONAL_TESTS))
    if "volatility" in names:
        vty = abnormal_volatility(run.result, pool_exclude=pool_exclude, n_jobs=n_jobs)
        vty = dataclasses.replace(vty, tests=_single_groups_nan(vty.tests, pool_exclude, VOLATILITY_TESTS))
    return MeasuresRun(measures=names, volume=vol_res, volatility=vty, volume_excluded=vol_excl,
                       volume_market=volume_market if isinstance(volume_market, str) else "list",
                       volume_calendar=volume_calendar, volume_source=volume_source)
