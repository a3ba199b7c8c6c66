"""A whole study in one call: events + universe + price source -> :class:`StudyRun`.

This wires the data path ``events -> prices -> calendars (day 0) -> returns -> engine ->
regressions`` for a universe of instruments grouped by exposure channel, every event
applying to every instrument (news that reaches the whole market at once). A study's labels
and defaults come in as a :class:`~eventstudy.inputs.study.Study` (``study=``); the library holds
none of its own. The CLI and the notebooks call :func:`run_study`.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

from eventstudy.content import SIMULATED, Paragraph, Summary
from eventstudy.returns.alignment import ALIGNMENTS
from eventstudy.calendars.day0 import map_day0
from eventstudy.data.base import Prices
from eventstudy.engine.model import EventStudy
from eventstudy.errors import DataUnavailableError, EstimationError, EventStudyError
from eventstudy.inputs.instruments import CALENDAR_COLUMNS, declared_exchanges, declared_kinds, read_instruments
from eventstudy.data.limits import LIMIT_TREATMENTS, limit_flags, limit_pairs_to_exclude
from eventstudy.inference.regression import REG_COLUMNS, event_dummy_regressions, group_difference_regressions
from eventstudy.engine.results import EventStudyResult
from eventstudy.returns.panel import ReturnPanel, compute_returns, with_closes
from eventstudy.estimation.windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, Window, WindowSpec
from eventstudy.inputs.study import Labels, Study, StudyDefaults
from eventstudy.pipeline.checks import check_study_inputs, single_instrument_tests, warn_untested
from eventstudy.pipeline.market_data import (alignment_notes, is_benchmark, local_dates, price_request, roll_masks,
                                             trading_calendars)

#: "not given": take the value from the study's defaults (neutral without a study)
FROM_STUDY = None


def _empty_confounders() -> pd.DataFrame:
    """An empty confounders frame (``date, market, description, source``)."""
    return pd.DataFrame(columns=["date", "market", "description", "source"])


@dataclass(frozen=True)
class StudyConfig:
    """What was run: model, windows, base group and data source (for reports)."""

    model: str = "market"
    estimation: Window = DEFAULT_ESTIMATION
    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    return_kind: str = "simple"
    base_group: str | None = None
    pool_exclude: tuple[str, ...] = ()
    extra_factors: tuple[str, ...] = ()
    bootstrap: int | None = 0
    seed: int = 0
    alignment: str = "close"
    timeline: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StudyInputs:
    """What a study stands on, built (:class:`StudyBuild`) or fitted (:class:`StudyRun`): ``config``, the
    ``events``, the ``universe``, the day-0 audit ``day0``, the ``prices`` and returns ``panel``, the
    instruments ``excluded`` before estimation, the ``confounders``, the ``calendars`` of every series,
    the declared ``hypotheses`` and the study's ``labels`` (fields as :class:`StudyRun` describes them)."""

    config: StudyConfig
    events: pd.DataFrame
    universe: pd.DataFrame
    day0: pd.DataFrame
    prices: Prices
    panel: ReturnPanel
    excluded: pd.DataFrame
    confounders: pd.DataFrame = field(default_factory=_empty_confounders)
    calendars: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CALENDAR_COLUMNS)))
    hypotheses: pd.DataFrame | None = None
    labels: Labels = field(default_factory=Labels)


@dataclass(frozen=True, repr=False, kw_only=True)
class StudyRun(StudyInputs):
    """Everything a report needs: inputs, the day-0 audit, the data used and the results.

    ``events`` (from :func:`eventstudy.inputs.events.load_events`), ``universe`` (ticker, name, group,
    benchmark, exchange, ...), ``day0`` (audit, one row per event x instrument),
    ``prices`` (what was loaded, with source, simulated flag and failures), ``panel`` (returns),
    ``result`` (:class:`EventStudyResult`), ``regressions`` (tidy, :data:`REG_COLUMNS`),
    ``excluded`` (ticker, event_id, reason: instruments left out before estimation),
    ``confounders`` (date, market, description, source; may be empty), ``calendars`` (ticker,
    exchange, source, note: the calendar of every series and whether it was declared, guessed from
    the name and confirmed by its dates, or the file's own dates; :func:`~eventstudy.calendars.resolve.resolve_calendars`),
    ``labels`` (how the study names, orders and draws its groups: :class:`~eventstudy.inputs.study.Labels`).
    """

    result: EventStudyResult
    regressions: pd.DataFrame
    limit_flags: pd.DataFrame | None = None
    overlaps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[
        "ticker", "event_id", "other_event_id", "rel_day_first", "rel_day_last", "days"]))

    @property
    def design(self) -> str:
        """``"firm"`` for pooled firm-specific events (:func:`eventstudy.pipeline.firm.run_firm_study`),
        ``"events"`` when every event applies to the whole universe (:func:`run_study`)."""
        return "firm" if "ticker" in self.events.columns else "events"

    @property
    def exchanges(self) -> dict[str, str]:
        """ticker -> the calendar the run used ('XTKS', 'CME', 'dates', ...)."""
        return dict(zip(self.calendars["ticker"], self.calendars["exchange"]))

    @property
    def simulated(self) -> bool:
        return bool(self.prices.simulated)

    @property
    def data_label(self) -> str:
        """One line naming the data, with SIMULATED up front when it is the bundled market."""
        return ("SIMULATED data (bundled offline market, not market data)" if self.simulated
                else self.prices.source)

    def summary(self) -> Summary:
        """The data line and :meth:`EventStudyResult.summary` (a :class:`~eventstudy.content.Summary`: text,
        ``.as_html()``, ``.as_markdown()``)."""
        head = f"{f'[{SIMULATED}] ' if self.simulated else ''}Data: {self.prices.source}"
        res = self.result.summary()
        return Summary(head + "\n" + str.__str__(res), (Paragraph(head), *res.blocks))

    def __str__(self) -> str:
        return str.__str__(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return (f"<StudyRun events={len(self.events)} instruments={len(self.universe)} "
                f"simulated={self.simulated} model={self.config.model}>")


def _no_pairs_message(events: pd.DataFrame, day0: pd.DataFrame, prices: Prices) -> str:
    """Why no (instrument, event) pair has a day 0: the events, the data's span and the first reason."""
    f = prices.frame
    lo, hi = f["date"].min(), f["date"].max()
    evs = ", ".join(f"{e} ({d:%Y-%m-%d})" for e, d in zip(events["event_id"][:4], events["date"][:4]))
    more = f" and {len(events) - 4} more" if len(events) > 4 else ""
    why = day0["reason"].dropna()
    why = f" First reason: {why.iloc[0]}." if len(why) else ""
    after = (events["date"] > hi).all()
    return (f"no event has a day 0 on any instrument with prices: events {evs}{more}; prices from "
            f"{prices.source} run from {lo:%Y-%m-%d} to {hi:%Y-%m-%d} for {f['ticker'].nunique()} ticker(s) "
            f"({', '.join(map(str, f['ticker'].unique()[:4]))}{' ...' if f['ticker'].nunique() > 4 else ''})."
            + (" Every event lies after the data's last date: use prices that reach past the events." if after
               else " Check that the events fall inside the data and that the universe's tickers have prices.")
            + why)


@dataclass(frozen=True, repr=False, kw_only=True)
class StudyBuild(StudyInputs):
    """A study built and not yet fitted (:func:`build_study`): the engine's specification ``study`` (an
    :class:`~eventstudy.engine.model.EventStudy`) and what :func:`fit_study` needs to make the
    :class:`StudyRun` (:class:`StudyInputs`; ``limits`` the price-limit days, ``regressions`` whether to
    run them)."""

    study: EventStudy
    limits: pd.DataFrame | None = None
    regressions: bool = True


def run_study(events: pd.DataFrame, universe: pd.DataFrame, source, *, model: str = "market",
              estimation: Window | str = DEFAULT_ESTIMATION, windows: Iterable[Window | str] = DEFAULT_WINDOWS,
              return_kind: str = "simple", base_group: str | None = FROM_STUDY,
              pool_exclude: Sequence[str] | None = FROM_STUDY, extra_factors: Sequence[str] | None = FROM_STUDY,
              bootstrap: int | None = 0, seed: int = 0, confounders: pd.DataFrame | None = None,
              regressions: bool = True, instruments=None, alignment: str = "close",
              hypotheses: pd.DataFrame | None = None, limits: pd.DataFrame | None = None,
              limit_treatment: str = "flag", study: Study | None = None, executor=None) -> StudyRun:
    """Run an event study of every event on every instrument of ``universe``.

    ``source`` is a price source (:class:`~eventstudy.data.files.FileSource`,
    :class:`~eventstudy.data.yahoo.YahooSource`, :class:`~eventstudy.data.offline.OfflineSource`)
    or a :class:`Prices`. The market model uses each instrument's ``benchmark``; the factor
    model uses the benchmark plus ``extra_factors``. The
    cross-sectional regression of CARs on exposure groups uses ``base_group`` as the omitted
    group when the universe has it (else its first equity group), and is skipped with fewer
    than two equity groups; it compares each group with the base through the event-dummy regression
    of the two portfolios' return spread (valid under a shared date; docs/METHODS.md, section 8).
    ``hypotheses`` (:func:`eventstudy.inference.hypotheses.load_hypotheses`) are the primary questions;
    ``limits`` (:func:`eventstudy.data.limits.load_limits`) mark price-limit days, flagged per pair-window
    (``limit_treatment='flag'``) or with the pairs left out (``'exclude'``). Groups of one instrument
    or of listings of one contract (the non-equity groups) get no cross-sectional tests: their
    cross-sectional statistics are set to NaN, the time-series and rank tests kept.

    ``instruments``: the calendar of any series (security, benchmark, factor) as an instruments file
    path, a frame ``ticker, exchange`` or a mapping ticker -> exchange
    (:mod:`eventstudy.inputs.instruments`); the universe's ``exchange`` column declares too; a ``kind`` of
    ``future`` marks a continuous futures series whose roll jumps are masked (Yahoo ``=F`` symbols
    are taken as such unless declared otherwise). Undeclared
    series get the calendar their name suggests only when their price dates agree, else their own
    dates (``StudyRun.calendars`` and the day-0 audit say which). ``alignment``: ``"close"``
    (default) aligns regressors on other calendars by closing time, ``"same_date"`` by date
    (:mod:`eventstudy.returns.alignment`).

    ``study`` (:func:`eventstudy.inputs.study.load_study`) gives the labels of the run and the
    defaults of ``base_group``, ``pool_exclude`` (groups not pooled into ``all``) and
    ``extra_factors``; an argument given here wins. Without a study the defaults are neutral
    (no base group, every group pooled, no extra factor) and groups are labelled by their ids.

    ``executor``: a ``dask.distributed.Client`` or a :class:`concurrent.futures.Executor` on which the
    engine runs its chunks of events (:meth:`eventstudy.engine.model.EventStudy.fit`); same results.

    This is :func:`build_study` (inputs -> the engine's specification) then :func:`fit_study`.
    """
    built = build_study(events, universe, source, model=model, estimation=estimation, windows=windows,
                        return_kind=return_kind, base_group=base_group, pool_exclude=pool_exclude,
                        extra_factors=extra_factors, confounders=confounders, regressions=regressions,
                        instruments=instruments, alignment=alignment, hypotheses=hypotheses, limits=limits,
                        limit_treatment=limit_treatment, study=study)
    return fit_study(built, bootstrap=bootstrap, seed=seed, executor=executor)


def build_study(events: pd.DataFrame, universe: pd.DataFrame, source, *, model: str = "market",
                estimation: Window | str = DEFAULT_ESTIMATION, windows: Iterable[Window | str] = DEFAULT_WINDOWS,
                return_kind: str = "simple", base_group: str | None = FROM_STUDY,
                pool_exclude: Sequence[str] | None = FROM_STUDY, extra_factors: Sequence[str] | None = FROM_STUDY,
                confounders: pd.DataFrame | None = None, regressions: bool = True, instruments=None,
                alignment: str = "close", hypotheses: pd.DataFrame | None = None, limits: pd.DataFrame | None = None,
                limit_treatment: str = "flag", study: Study | None = None) -> StudyBuild:
    """The first half of :func:`run_study` (same arguments but the fit's): prices, calendars, day 0, the
    return panel and the pairs, checked, as a :class:`StudyBuild` whose ``study`` is ready to fit (or to
    stream chunk by chunk, :func:`eventstudy.outputs.stream.stream_study`)."""
    defaults = study.defaults if study is not None else StudyDefaults()
    base_group = defaults.base_group if base_group is FROM_STUDY else base_group
    pool_exclude = tuple(defaults.not_pooled if pool_exclude is FROM_STUDY else pool_exclude)
    extra_factors = tuple(defaults.extra_factors if extra_factors is FROM_STUDY else extra_factors)
    if limit_treatment not in LIMIT_TREATMENTS:
        raise EventStudyError(f"limit treatment {limit_treatment!r}: choose one of {', '.join(LIMIT_TREATMENTS)}")
    if alignment not in ALIGNMENTS:
        raise EstimationError(f"unknown alignment {alignment!r}; choose one of {', '.join(ALIGNMENTS)}")
    instruments = read_instruments(instruments)          # a path is read once
    declared = declared_exchanges(universe, instruments)
    spec = WindowSpec.build(estimation, windows)
    bench = {t: b for t, b in zip(universe["ticker"], universe["benchmark"]) if is_benchmark(b)}
    check_study_inputs(universe, model=model, extra_factors=extra_factors, pool_exclude=pool_exclude,
                       kinds=declared_kinds(instruments))
    tickers, start, end = price_request(events, universe, spec, extra_factors if model == "factor" else ())
    prices, excluded_rows = _study_prices(source, tickers, start, end, extra_factors if model == "factor" else ())
    prices = local_dates(prices, declared)
    calendars, models, sessions = trading_calendars(prices, declared, tickers)
    exch = dict(zip(calendars["ticker"], calendars["exchange"]))
    panel = with_closes(compute_returns(prices, kind=return_kind, sessions=sessions,
                                        mask=roll_masks(prices, declared_kinds(instruments))), models)
    have = set(prices.frame["ticker"].unique())
    inst = [t for t in universe["ticker"] if t in have]
    day0, pairs = _study_pairs(events, universe, inst, panel, calendars, exch, limits, limit_treatment, spec,
                               excluded_rows)
    if pairs.empty:
        raise DataUnavailableError(_no_pairs_message(events, day0, prices))
    kw, regs = _regressors(model, bench, inst, pairs, extra_factors)
    how = alignment_notes(inst, regs, exch, models, alignment)
    day0["alignment"] = day0["ticker"].map(how).fillna("")
    es = EventStudy(panel, pairs, model=model, estimation=spec.estimation, windows=spec.windows,
                    pool_exclude=tuple(pool_exclude), log_returns=(return_kind == "log"), alignment=alignment, **kw)
    cfg = StudyConfig(model=model, estimation=spec.estimation, windows=spec.windows, return_kind=return_kind,
                      base_group=base_group, pool_exclude=tuple(pool_exclude),
                      extra_factors=tuple(extra_factors) if model == "factor" else (), alignment=alignment,
                      timeline=defaults.timeline)
    return StudyBuild(study=es, config=cfg, events=events, universe=universe, day0=day0, prices=prices, panel=panel,
                      excluded=pd.DataFrame(excluded_rows, columns=["ticker", "event_id", "reason"]),
                      confounders=confounders if confounders is not None else _empty_confounders(),
                      calendars=calendars, hypotheses=hypotheses, limits=limits,
                      labels=study.labels if study is not None else Labels(), regressions=regressions)


def _study_prices(source, tickers: list[str], start, end, factors: Sequence[str]) -> tuple[Prices, list[dict]]:
    """The prices of ``tickers`` over ``start .. end`` (refusing none at all, or a factor without prices) and
    the exclusion rows of the tickers without prices."""
    prices = source if isinstance(source, Prices) else source.get(tickers, start, end)
    if prices.frame.empty:
        why = "; ".join(f"{t}: {r}" for t, r in zip(prices.failures.get("ticker", [])[:3],
                                                     prices.failures.get("reason", [])[:3]))
        raise DataUnavailableError(f"no prices for any instrument of the universe from {prices.source}"
                                   + (f" ({why})" if why else "") + ". Check the tickers and the event dates"
                                   + (": the bundled simulated market covers only its own period; use --prices FILE "
                                      "or Yahoo Finance for other dates." if prices.simulated else
                                      ", or use --offline (bundled SIMULATED market) or --prices FILE."))
    failures = prices.failures
    excluded_rows = [dict(ticker=t, event_id="", reason=f"no prices: {r}")
                     for t, r in zip(failures.get("ticker", []), failures.get("reason", []))]
    have = set(prices.frame["ticker"].unique())
    missing_factors = [f for f in factors if f not in have]
    if missing_factors:
        raise EstimationError(f"factor {missing_factors[0]} has no prices in {prices.source}; "
                              f"choose another factor or a price file that has it")
    return prices, excluded_rows


def _study_pairs(events: pd.DataFrame, universe: pd.DataFrame, inst: list[str], panel: ReturnPanel,
                 calendars: pd.DataFrame, exch: dict[str, str], limits: pd.DataFrame | None, limit_treatment: str,
                 spec: WindowSpec, excluded_rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day-0 audit of every event on every instrument with prices (calendar notes prefixed, with a warning)
    and the pairs with a day 0 (their group; price-limit pairs left out under ``exclude``); the exclusions
    are appended to ``excluded_rows``."""
    day0 = map_day0(events, inst, exchanges={t: exch.get(t) for t in inst},
                    price_dates={t: panel.sessions[t] for t in inst})
    notes = dict(zip(calendars["ticker"], calendars["note"]))
    noted = day0["ticker"].map(notes).fillna("")
    if (noted != "").any():
        day0.loc[noted != "", "reason"] = noted[noted != ""] + "; " + day0.loc[noted != "", "reason"]
        odd = [t for t in inst if notes.get(t)]
        warnings.warn(f"{len(odd)} instrument(s) have no confirmed exchange calendar and keep their own price "
                      "dates (no session hours: announcement times cannot be placed within a day), e.g. "
                      f"{odd[0]}: {notes[odd[0]].split(': sessions are')[0]}; declare their exchange in an "
                      "instruments file (--instruments) to use session hours", stacklevel=4)
    nat = day0["day0"].isna()
    for _, r in day0[nat].iterrows():
        excluded_rows.append(dict(ticker=r["ticker"], event_id=r["event_id"], reason=r["reason"]))
    groups = dict(zip(universe["ticker"], universe["group"]))
    pairs = day0.loc[~nat, ["ticker", "event_id", "day0"]].copy()
    pairs["group"] = pairs["ticker"].map(groups)
    if limits is not None and len(limits) and limit_treatment == "exclude":
        drop = limit_pairs_to_exclude(pairs, panel.sessions, limits, min(w[0] for w in spec.windows),
                                      max(w[1] for w in spec.windows))
        if len(drop):
            key = set(zip(drop["ticker"], drop["event_id"]))
            pairs = pairs[[(a, b) not in key for a, b in zip(pairs["ticker"], pairs["event_id"])]]
            excluded_rows.extend(drop.to_dict("records"))
    return day0, pairs


def _regressors(model: str, bench: dict[str, str], inst: list[str], pairs: pd.DataFrame,
                extra_factors: Sequence[str]) -> tuple[dict, dict[str, list[str]]]:
    """The engine's regressor arguments (``benchmark=`` or ``factors=``) and each instrument's regressors."""
    if model in ("market", "market_adjusted"):
        return {"benchmark": bench}, {t: [bench[t]] for t in inst if t in bench}
    if model == "factor":
        factors = {t: [bench[t], *extra_factors] for t in pairs["ticker"].unique()}
        return {"factors": factors}, factors
    return {}, {}


def fit_study(built: StudyBuild, *, bootstrap: int | None = 0, seed: int = 0, executor=None) -> StudyRun:
    """The second half of :func:`run_study`: fit ``built.study`` (``executor`` as
    :meth:`~eventstudy.engine.model.EventStudy.fit`), blank the cross-sectional tests of single-instrument
    groups, run the portfolio and cross-section regressions and make the :class:`StudyRun`."""
    cfg = built.config
    result = built.study.fit(bootstrap=bootstrap, seed=seed, executor=executor)
    result = _single_instrument_tests(result, cfg.pool_exclude)
    warn_untested(result)
    reg, base_group = _study_regressions(result, built.universe, cfg, built.regressions)
    cfg = dataclasses.replace(cfg, base_group=base_group, bootstrap=bootstrap, seed=seed)
    inputs = {f.name: getattr(built, f.name) for f in dataclasses.fields(StudyInputs)}
    return StudyRun(**{**inputs, "config": cfg}, result=result, regressions=reg,
                    limit_flags=limit_flags(result, built.limits))


def _study_regressions(result: EventStudyResult, universe: pd.DataFrame, cfg: StudyConfig,
                       regressions: bool) -> tuple[pd.DataFrame, str | None]:
    """The portfolio event-dummy regressions and the cross-section of exposure groups, and the base group used."""
    reg = pd.DataFrame(columns=REG_COLUMNS)
    # the cross-section compares exposure groups: it needs two of them with estimated pairs; the base
    # group is `base_group` when it has estimated pairs, else the first such equity group of the universe
    estimated = set(result.params["group"])
    eq_groups = [g for g in dict.fromkeys(universe["group"]) if g not in set(cfg.pool_exclude) and g in estimated]
    base_group = cfg.base_group
    if base_group not in eq_groups:
        base_group = eq_groups[0] if eq_groups else None
    if regressions and cfg.model != "market_adjusted":
        parts = [event_dummy_regressions(result, by="group")]
        if len(eq_groups) < 2:
            warnings.warn("cross-sectional regressions skipped: they compare exposure groups, and only "
                          f"{', '.join(eq_groups) or 'no equity group'} has estimated pairs", stacklevel=4)
        if len(eq_groups) >= 2:
            parts.append(group_difference_regressions(result, base_group, groups=eq_groups))
        reg = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    return reg, base_group


def _single_instrument_tests(result: EventStudyResult, single_groups: Sequence[str]) -> EventStudyResult:
    """NaN statistic and p-value for the cross-sectional tests of ``single_groups`` (one instrument, or
    listings of one contract: a cross-section of two listings of one future is one observation twice).
    The time-series t, the rank test on the portfolio and the bootstrap stay."""
    tt = single_instrument_tests(result.tests, single_groups)
    return result if tt is result.tests else dataclasses.replace(result, tests=tt)
