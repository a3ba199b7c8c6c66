"""A whole study in one call: events + universe + price source -> :class:`StudyRun`.

This wires the data path ``events -> prices -> calendars (day 0) -> returns -> engine ->
regressions`` for a universe of instruments grouped by exposure channel, every event
applying to every instrument (news that reaches the whole market at once). The China–Japan
study is this pipeline with the files in :mod:`eventstudy.study`; the CLI and the notebooks
call :func:`run_study`.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

from .calendars import DatesModel, SessionModel, map_day0, session_model_for
from .data.base import Prices
from .engine import EventStudy
from .errors import DataUnavailableError, EstimationError, EventStudyError, WindowError
from .futures import is_continuous_future, roll_mask
from .limits import LIMIT_TREATMENTS, limit_flags, limit_pairs_to_exclude
from .regression import REG_COLUMNS, event_dummy_regressions, group_difference_regressions
from .results import EventStudyResult
from .returns import ReturnPanel, compute_returns
from .windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, Window, WindowSpec

#: groups that are instruments rather than exposed equities: never pooled into "all"
NON_EQUITY_GROUPS = ("futures", "index")


def _empty_confounders() -> pd.DataFrame:
    """An empty confounders frame (``date, market, description, source``)."""
    return pd.DataFrame(columns=["date", "market", "description", "source"])


def _is_benchmark(b: object) -> bool:
    """True for a usable ``benchmark`` cell of the universe (a non-empty string)."""
    return isinstance(b, str) and bool(b)


@dataclass(frozen=True)
class StudyConfig:
    """What was run: model, windows, base group and data source (for reports)."""

    model: str = "market"
    estimation: Window = DEFAULT_ESTIMATION
    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    return_kind: str = "simple"
    base_group: str | None = "control"
    pool_exclude: tuple[str, ...] = NON_EQUITY_GROUPS
    extra_factors: tuple[str, ...] = ()
    bootstrap: int | None = 0
    seed: int = 0


@dataclass(frozen=True, repr=False)
class StudyRun:
    """Everything a report needs: inputs, the day-0 audit, the data used and the results.

    ``events`` (from :func:`eventstudy.events.load_events`), ``universe`` (ticker, name, group,
    benchmark, exchange, ...), ``day0`` (audit, one row per event x instrument),
    ``prices`` (what was loaded, with source, simulated flag and failures), ``panel`` (returns),
    ``result`` (:class:`EventStudyResult`), ``regressions`` (tidy, :data:`REG_COLUMNS`),
    ``excluded`` (ticker, event_id, reason: instruments left out before estimation),
    ``confounders`` (date, market, description, source; may be empty).
    """

    config: StudyConfig
    events: pd.DataFrame
    universe: pd.DataFrame
    day0: pd.DataFrame
    prices: Prices
    panel: ReturnPanel
    result: EventStudyResult
    regressions: pd.DataFrame
    excluded: pd.DataFrame
    confounders: pd.DataFrame = field(default_factory=_empty_confounders)
    hypotheses: pd.DataFrame | None = None
    limit_flags: pd.DataFrame | None = None

    @property
    def simulated(self) -> bool:
        return bool(self.prices.simulated)

    @property
    def data_label(self) -> str:
        """One line naming the data, with SIMULATED up front when it is the bundled market."""
        return ("SIMULATED data (bundled offline market, not market data)" if self.simulated
                else self.prices.source)

    def summary(self) -> str:
        head = f"{'[SIMULATED] ' if self.simulated else ''}Data: {self.prices.source}"
        return head + "\n" + self.result.summary()

    def __repr__(self) -> str:
        return (f"<StudyRun events={len(self.events)} instruments={len(self.universe)} "
                f"simulated={self.simulated} model={self.config.model}>")


def price_request(events: pd.DataFrame, universe: pd.DataFrame, spec: WindowSpec,
                  factors: Sequence[str] = ()) -> tuple[list[str], pd.Timestamp, pd.Timestamp]:
    """Tickers (instruments, their benchmarks, ``factors``) and the date span a study needs prices for."""
    bench = [b for b in universe["benchmark"] if _is_benchmark(b)]
    tickers = list(dict.fromkeys(list(universe["ticker"]) + bench + list(factors)))
    return (tickers, *_date_range(events, spec))


def _date_range(events: pd.DataFrame, spec: WindowSpec) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calendar span of prices needed: trading days converted with a generous 1.6 calendar/trading ratio."""
    first = pd.Timestamp(events["date"].min())
    last = pd.Timestamp(events["date"].max())
    before = math.ceil((abs(min(spec.rmin, 0)) + 5) * 1.6) + 10
    after = math.ceil((max(spec.rmax, 0) + 5) * 1.6) + 10
    return first - pd.Timedelta(days=before), last + pd.Timedelta(days=after)


def universe_exchanges(universe: pd.DataFrame) -> dict[str, str | None]:
    """The universe's ``exchange`` per ticker; None where the column is absent or the cell empty (the
    trading calendar is then chosen from the symbol, :func:`eventstudy.calendars.session_model_for`)."""
    col = universe["exchange"] if "exchange" in universe.columns else [None] * len(universe)
    return {t: (e if isinstance(e, str) and e else None) for t, e in zip(universe["ticker"], col)}


def _sessions(prices: Prices, exch: dict[str, str | None]) -> dict[str, pd.DatetimeIndex]:
    """Each priced ticker's trading calendar for :func:`~eventstudy.returns.compute_returns`.

    Tickers of one exchange share one index (the exchange's sessions over the span of all their
    prices; ``compute_returns`` cuts it to each ticker's first and last price), so the calendar
    work is done once per exchange. A ticker with no known exchange has its own price dates.
    """
    g = prices.frame.groupby("ticker", sort=False)["date"]
    first, last = g.min(), g.max()
    out: dict[str, pd.DatetimeIndex] = {}
    shared: dict[SessionModel, list[str]] = {}
    for t in first.index:
        model = session_model_for(t, exch.get(t))
        if isinstance(model, DatesModel):
            out[t] = dataclasses.replace(model, dates=pd.DatetimeIndex(g.get_group(t))).sessions()
        else:
            shared.setdefault(model, []).append(t)
    for model, tickers in shared.items():
        lo, hi = first[tickers], last[tickers]
        try:
            cal = model.sessions(lo.min(), hi.max())
        except WindowError:
            for t in tickers:            # name the first ticker whose prices reach outside the calendar
                try:
                    model.sessions(lo[t], hi[t])
                except WindowError as exc:
                    raise WindowError(f"{t} (prices {lo[t]:%Y-%m-%d} to {hi[t]:%Y-%m-%d}): {exc}") from None
            raise
        for t in tickers:
            out[t] = cal
    return out


def run_study(events: pd.DataFrame, universe: pd.DataFrame, source, *, model: str = "market",
              estimation: Window | str = DEFAULT_ESTIMATION, windows: Iterable[Window | str] = DEFAULT_WINDOWS,
              return_kind: str = "simple", base_group: str | None = "control",
              pool_exclude: Sequence[str] = NON_EQUITY_GROUPS, extra_factors: Sequence[str] = ("JPY=X",),
              bootstrap: int | None = 0, seed: int = 0, confounders: pd.DataFrame | None = None,
              regressions: bool = True, hypotheses: pd.DataFrame | None = None,
              limits: pd.DataFrame | None = None, limit_treatment: str = "flag") -> StudyRun:
    """Run an event study of every event on every instrument of ``universe``.

    ``source`` is a price source (:class:`~eventstudy.data.files.FileSource`,
    :class:`~eventstudy.data.yahoo.YahooSource`, :class:`~eventstudy.data.offline.OfflineSource`)
    or a :class:`Prices`. The market model uses each instrument's ``benchmark``; the factor
    model uses the benchmark plus ``extra_factors`` (default USDJPY, ``JPY=X``). The
    cross-sectional regression of CARs on exposure groups uses ``base_group`` as the omitted
    group when the universe has it (else its first equity group), and is skipped with fewer
    than two equity groups; it compares each group with the base through the event-dummy regression
    of the two portfolios' return spread (valid under a shared date; docs/METHODS.md, section 8).
    ``hypotheses`` (:func:`eventstudy.hypotheses.load_hypotheses`) are the primary questions;
    ``limits`` (:func:`eventstudy.limits.load_limits`) mark price-limit days, flagged per pair-window
    (``limit_treatment='flag'``) or with the pairs left out (``'exclude'``). Groups of one instrument
    or of listings of one contract (the non-equity groups) get no cross-sectional tests: their
    cross-sectional statistics are set to NaN, the time-series and rank tests kept.
    """
    if limit_treatment not in LIMIT_TREATMENTS:
        raise EventStudyError(f"limit treatment {limit_treatment!r}: choose one of {', '.join(LIMIT_TREATMENTS)}")
    spec = WindowSpec.build(estimation, windows)
    bench = {t: b for t, b in zip(universe["ticker"], universe["benchmark"]) if _is_benchmark(b)}
    tickers, start, end = price_request(events, universe, spec, extra_factors if model == "factor" else ())
    prices = source if isinstance(source, Prices) else source.get(tickers, start, end)

    if prices.frame.empty:
        why = "; ".join(f"{t}: {r}" for t, r in zip(prices.failures.get("ticker", [])[:3],
                                                     prices.failures.get("reason", [])[:3]))
        raise DataUnavailableError(f"no prices for any instrument of the universe from {prices.source}"
                                   + (f" ({why})" if why else "") + ". Check the tickers and the event dates"
                                   + (": the bundled simulated market covers only its own period; use --prices FILE "
                                      "or Yahoo Finance for other dates." if prices.simulated else
                                      ", or use --offline (bundled SIMULATED market) or --prices FILE."))
    excluded_rows: list[dict] = []
    failures = prices.failures
    for t, r in zip(failures.get("ticker", []), failures.get("reason", [])):
        excluded_rows.append(dict(ticker=t, event_id="", reason=f"no prices: {r}"))
    have = set(prices.frame["ticker"].unique())
    missing_factors = [f for f in (extra_factors if model == "factor" else []) if f not in have]
    if missing_factors:
        raise EstimationError(f"factor {missing_factors[0]} has no prices in {prices.source}; "
                              f"choose another factor or a price file that has it")

    exch = universe_exchanges(universe)
    sessions = _sessions(prices, exch)
    futures = [t for t in prices.tickers if is_continuous_future(t)]
    masks = []
    if futures:
        fut = prices.select(tickers=futures).wide()
        masks = [roll_mask(t, fut[t].dropna()) for t in futures]
    mask = pd.concat(masks, ignore_index=True) if masks else None
    panel = compute_returns(prices, kind=return_kind, sessions=sessions, mask=mask)

    inst = [t for t in universe["ticker"] if t in have]
    price_dates = {t: panel.sessions[t] for t in inst}
    day0 = map_day0(events, inst, exchanges={t: exch.get(t) for t in inst}, price_dates=price_dates)
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

    kw: dict = {}
    if model in ("market", "market_adjusted"):
        kw["benchmark"] = bench
    elif model == "factor":
        kw["factors"] = {t: [bench[t], *extra_factors] for t in pairs["ticker"].unique()}
    es = EventStudy(panel, pairs, model=model, estimation=spec.estimation, windows=spec.windows,
                    pool_exclude=tuple(pool_exclude), log_returns=(return_kind == "log"), **kw)
    result = es.fit(bootstrap=bootstrap, seed=seed)
    result = _single_instrument_tests(result, pool_exclude)

    reg = pd.DataFrame(columns=REG_COLUMNS)
    # the cross-section compares exposure groups: it needs two of them with estimated pairs; the base
    # group is `base_group` when it has estimated pairs, else the first such equity group of the universe
    estimated = set(result.params["group"])
    eq_groups = [g for g in dict.fromkeys(universe["group"]) if g not in set(pool_exclude) and g in estimated]
    if base_group not in eq_groups:
        base_group = eq_groups[0] if eq_groups else None
    if regressions and model != "market_adjusted":
        parts = [event_dummy_regressions(result, by="group")]
        if len(eq_groups) < 2:
            warnings.warn("cross-sectional regressions skipped: they compare exposure groups, and only "
                          f"{', '.join(eq_groups) or 'no equity group'} has estimated pairs", stacklevel=2)
        if len(eq_groups) >= 2:
            parts.append(group_difference_regressions(result, base_group, groups=eq_groups))
        reg = pd.concat([p for p in parts if not p.empty], ignore_index=True)

    cfg = StudyConfig(model=model, estimation=spec.estimation, windows=spec.windows, return_kind=return_kind,
                      base_group=base_group, pool_exclude=tuple(pool_exclude),
                      extra_factors=tuple(extra_factors) if model == "factor" else (), bootstrap=bootstrap, seed=seed)
    conf = confounders if confounders is not None else _empty_confounders()
    return StudyRun(config=cfg, events=events, universe=universe, day0=day0, prices=prices, panel=panel,
                    result=result, regressions=reg,
                    excluded=pd.DataFrame(excluded_rows, columns=["ticker", "event_id", "reason"]),
                    confounders=conf, hypotheses=hypotheses,
                    limit_flags=limit_flags(result, limits))


#: tests whose statistic treats the members of a group as a cross-section of independent securities
CROSS_SECTIONAL_TESTS = ("t_cross_section", "patell", "bmp", "kolari_pynnonen", "grank", "sign_generalized",
                         "wilcoxon")


def _single_instrument_tests(result: EventStudyResult, single_groups: Sequence[str]) -> EventStudyResult:
    """NaN statistic and p-value for the cross-sectional tests of ``single_groups`` (one instrument, or
    listings of one contract: a cross-section of two listings of one future is one observation twice).
    The time-series t, the rank test on the portfolio and the bootstrap stay."""
    tt = result.tests
    sel = tt["group"].isin(list(single_groups)) & tt["test"].isin(CROSS_SECTIONAL_TESTS)
    if not sel.any():
        return result
    tt = tt.copy()
    tt.loc[sel, ["statistic", "p_value"]] = float("nan")
    return dataclasses.replace(result, tests=tt)
