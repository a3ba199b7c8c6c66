"""The event-study engine: (security, event) pairs + returns -> EventStudyResult.

:class:`EventStudy` checks the specification and the data when built (:mod:`eventstudy.estimation.data`);
:meth:`EventStudy.fit` is a seam: every pair is located once (:class:`~eventstudy.estimation.layout.PairLayout`:
its return row, regressor rows and first column in a stacked NaN-padded matrix per trading calendar),
the work streams over chunks of whole events on the machine's cores (:mod:`eventstudy.engine.chunk`: each
chunk gathered into dense ``(pairs, relative days)`` arrays, the normal-return model fitted for all its
pairs at once, the test battery batched over its (event, group, window) cells), and the result is built
from the plain parts (:mod:`eventstudy.engine.frames`). There is no Python loop per pair.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.chunk import Cells, StudyOutput, iter_chunks, run_chunks
from eventstudy.engine.frames import ar_frame, car_frame, exclusions_frame, params_frame, tests_frame
from eventstudy.engine.results import EventStudyResult, StudyArrays
from eventstudy.errors import EstimationError, UnknownModelError, WindowError
from eventstudy.estimation import normal_returns
from eventstudy.estimation.data import (ALL, MAX_ABS_RETURN, Regressors, StudyData, check_regressors,
                                        check_returns, drop_positions)
from eventstudy.estimation.fit import FitSettings
from eventstudy.estimation.layout import PairLayout
from eventstudy.estimation.windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, Window, WindowSpec
from eventstudy.inference.reference import TEST_IDS
from eventstudy.returns.alignment import ALIGNMENTS

__all__ = ["EventStudy", "run_event_study", "check_bootstrap", "check_seed", "check_returns", "MAX_BOOTSTRAP",
           "MAX_ABS_RETURN", "ALL"]

#: most bootstrap draws accepted: each draw holds ~24 bytes per (event, group, window) cell while that
#: cell is tested (the draw's index, its value and the comparison), so 10 million draws need ~240 MB a
#: cell per core; the p-value's resolution is bounded by the estimation window's pseudo-windows anyway
MAX_BOOTSTRAP = 10_000_000


def check_bootstrap(n, name: str = "bootstrap") -> None:
    """Raise :class:`EstimationError` unless ``n`` is None or a whole number of draws 0..MAX_BOOTSTRAP."""
    if n is None:
        return
    cli = name.startswith("--")
    who = f"{name} {n}" if cli else f"{name}={n!r}"
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) and not (isinstance(n, float) and n.is_integer()) \
            or n < 0:
        raise EstimationError(f"{who}: give a number of draws >= 0 "
                              + ("(0, the default, is off)" if cli else "(0: none), or None for every pseudo-window"))
    if n > MAX_BOOTSTRAP:
        raise EstimationError(f"{who}: at most {MAX_BOOTSTRAP:,} draws ({MAX_BOOTSTRAP * 24 / 1e6:,.0f} MB per "
                              f"cell and core; {n:,} would need {n * 24 / 1e9:,.1f} GB); more draws cannot sharpen "
                              f"the p-value beyond the estimation window's pseudo-windows: use 9999 or 99999")


def check_seed(seed, name: str = "seed") -> None:
    """Raise :class:`EstimationError` unless ``seed`` is a whole number 0 .. 2**63-1 (numpy's range)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 63:
        who = f"{name} {seed!r}" if name.startswith("--") else f"{name}={seed!r}"
        raise EstimationError(f"{who}: give a whole number from 0 to {2 ** 63 - 1} "
                              f"(the random generator takes no negative seeds)")


class EventStudy:
    """Specification of an event study; :meth:`fit` runs it.

    Parameters
    ----------
    panel : ReturnPanel or wide DataFrame of returns (decimal; dates x tickers; NaN = missing).
        With a plain DataFrame every column's trading days are the frame's index. Or a
        :class:`~eventstudy.data.return_store.ReturnStore` (a Parquet returns store, out of core): the
        regressors' columns are read whole, each chunk reads only its securities over its dates, on the
        worker that fits it; the result is the one of the same returns in memory.
    pairs : DataFrame with ``ticker, event_id, day0`` and optionally ``group``.
    model : ``constant_mean``, ``market_adjusted``, ``market`` or ``factor``.
    benchmark : column of ``panel`` used as the market return, one name for all or a
        mapping ticker -> column (market and market-adjusted models).
    factors : list of columns of ``panel`` (or a DataFrame indexed by date whose columns
        are joined to the panel) used as regressors by the factor model, or a mapping
        ticker -> list of columns (same number for every ticker; e.g. each security's own
        benchmark plus ``JPY=X``).
    estimation, windows : relative trading days, inclusive (docs/METHODS.md "Notation").
    min_obs : minimum usable estimation days; default ``max(k + 3, ceil(estimation length / 2))``.
    pooled_group : name of the group that pools every pair (``None`` for none).
    pool_exclude : groups left out of the pooled group (e.g. futures and indices).
    log_returns : whether returns are log returns (affects BHAR only); default from the panel.
    variance_ddof : residual variance ``sum e^2 / (M_i - variance_ddof)``; default ``k`` as in
        docs/METHODS.md. ``1`` reproduces R's estudy2 (sample sd of the residuals).
    progress : show a progress bar for the bootstrap (default: on a terminal, not under CI).
    pool : ``False`` (default): each ``event_id`` is its own test cell (events that hit many securities on
        one date). ``True``: firm-specific events pooled: every pair enters one cell ``"pooled"`` (per
        group), whatever its event. A column name of ``pairs`` (e.g. ``"year"``, ``"news"``): pooled
        per value of that column. In pooled cells the Kolari-Pynnonen correlation counts only pairs
        whose day 0 is the same date (pairs on different dates are independent by assumption), see
        :func:`eventstudy.inference.reference.kolari_pynnonen`; ``ar``/``car`` keep each pair's own event id.
    estimation_drop : optional ``ticker, event_id, rel_day`` rows, or ``ticker, event_id, rel_day_first,
        rel_day_last`` runs (:func:`eventstudy.pipeline.firm.own_event_overlap_spans`): estimation days of a pair
        left out of its estimation window (e.g. the days of another event of the same firm), counted out of ``M_i``.
    alignment : how a benchmark or factor on another trading calendar is put on a security's
        sessions: ``"close"`` (default) compounds the regressor's sessions that close inside the
        security's close-to-close interval (needs session closes, ``ReturnPanel.closes``; pairs
        without them are matched by date); ``"same_date"`` matches by calendar date, 0 where the
        regressor's market was closed (:mod:`eventstudy.returns.alignment`).
    """

    def __init__(self, panel, pairs: pd.DataFrame, model: str = "market",
                 benchmark: str | Mapping[str, str] | None = None,
                 factors: Sequence[str] | pd.DataFrame | None = None,
                 estimation: Window | str = DEFAULT_ESTIMATION,
                 windows: Iterable[Window | str] = DEFAULT_WINDOWS,
                 min_obs: int | None = None, pooled_group: str | None = ALL,
                 pool_exclude: Sequence[str] = (), log_returns: bool | None = None,
                 variance_ddof: int | None = None, progress: bool | None = None,
                 alignment: str = "close", pool: bool | str = False,
                 estimation_drop: pd.DataFrame | None = None) -> None:
        if model not in normal_returns.MODELS:
            raise UnknownModelError(f"unknown model {model!r}; choose one of {', '.join(normal_returns.MODELS)}")
        if alignment not in ALIGNMENTS:
            raise EstimationError(f"unknown alignment {alignment!r}; choose one of {', '.join(ALIGNMENTS)}")
        self.alignment = alignment
        self.pool = pool
        self.data = StudyData.build(panel, pairs, pool)
        self.model = model
        self.spec = WindowSpec.build(estimation, windows)
        self.dropped_days = drop_positions(self.data.pairs, self.spec, estimation_drop)
        self.log_returns = (self.data.kind == "log") if log_returns is None else bool(log_returns)
        if isinstance(factors, pd.DataFrame):
            self.data = self.data.with_factors(factors)
            factors = list(factors.columns)
        self.regressors = Regressors.build(model, benchmark, factors)
        if self.data.store is not None:          # lazy input: only the regressors' columns are read whole
            uniq = self.data.pairs["ticker"].unique()
            self.data = self.data.with_columns([r for rr in self.regressors.names_for(uniq) for r in rr if r])
        self._check_regressor_columns()
        self.k = normal_returns.n_params(model, self.regressors.q)
        self.min_obs = self._min_obs(min_obs)
        self.pooled_group = pooled_group
        self.pool_exclude = tuple(pool_exclude)
        self._check_pooled_group_name()
        check_regressors(self.data, self.regressors)
        self.variance_ddof = variance_ddof
        self.progress = progress

    # ------------------------------------------------------------------ the specification
    @property
    def returns(self) -> pd.DataFrame:
        """The returns (dates x tickers, decimal), factor columns joined."""
        return self.data.returns

    @property
    def pairs(self) -> pd.DataFrame:
        """The normalised pairs: ``ticker, event_id, day0, group[, pool]``."""
        return self.data.pairs

    @property
    def benchmark(self):
        return self.regressors.benchmark

    @property
    def factors(self) -> list[str]:
        return list(self.regressors.factors)

    @property
    def settings(self) -> FitSettings:
        """What the fit of pairs follows (a snapshot: later edits of this object do not reach a result)."""
        return FitSettings(model=self.model, k=self.k, spec=self.spec, min_obs=self.min_obs,
                           variance_ddof=self.variance_ddof, log_returns=self.log_returns,
                           what=self.regressors.what, drop=self.dropped_days)

    def _check_regressor_columns(self) -> None:
        model, regs = self.model, self.regressors
        if model in ("market", "market_adjusted") and regs.benchmark is None:
            raise EstimationError(f"the {model} model needs a benchmark (a column of the returns, e.g. '1306.T')")
        if model == "factor" and not regs.factors:
            raise EstimationError("the factor model needs factor columns, e.g. factors=['1306.T', 'JPY=X']")
        columns = self.data.returns.columns
        for name in (regs.factors if regs.factor_map is None else []):
            if name not in columns:
                raise EstimationError(f"factor {name!r} is not a column of the returns; "
                                      f"available columns include {', '.join(map(str, list(columns)[:8]))}")

    def _min_obs(self, min_obs: int | None) -> int:
        """``min_obs`` or its default ``max(k + 3, ceil(estimation length / 2))``, checked against the window."""
        est_len = self.spec.estimation_length
        value = int(min_obs) if min_obs is not None else max(self.k + 3, math.ceil(est_len / 2))
        if value > est_len:
            if min_obs is None:      # the default: say what the window needs, not an option the CLI does not have
                a, b = self.spec.estimation
                raise WindowError(f"estimation window [{a},{b}] has {est_len} trading days; the {self.model} model "
                                  f"needs at least {value} ({self.k} parameter(s) + 3): lengthen it, e.g. "
                                  f"--estimation={b - max(value, 2 * est_len) + 1},{b}")
            raise WindowError(f"min_obs={value} exceeds the estimation window length {est_len}")
        return value

    def _check_pooled_group_name(self) -> None:
        pooled, pairs = self.pooled_group, self.data.pairs
        groups = set(pairs["group"])
        if pooled and pooled in groups and groups != {pooled}:
            who = pairs.loc[pairs["group"] == pooled, "ticker"].unique()[:3]
            raise EstimationError(f"group {pooled!r} ({', '.join(who)}) has the name of the pooled group of "
                                  f"every pair; rename the group, or pass pooled_group= another name")

    # ------------------------------------------------------------------ fit
    def fit(self, bootstrap: int | None = 0, seed: int = 0, chunk_pairs: int = 4_000,
            executor=None) -> EventStudyResult:
        """Estimate the model for every pair, compute AR/CAR and run the test battery.

        ``bootstrap`` > 0 adds a resampling p-value with that many draws (test id ``bootstrap``);
        ``None`` uses every pseudo-window of the estimation period instead of random draws (see
        :func:`eventstudy.inference.bootstrap.bootstrap_caar`); 0 leaves it out.

        The work streams over chunks of whole events (about ``chunk_pairs`` pairs each; an event is
        never split, since its cells' tests need all of its securities): each chunk is gathered,
        fitted and tested on its own, on the machine's cores, so the dense ``(pairs, days)`` arrays
        exist for one chunk at a time and memory stays linear in the number of pairs. The result's
        :class:`~eventstudy.engine.results.StudyArrays` recomputes the dense arrays on demand.

        ``executor``: a ``dask.distributed.Client`` (local or a cluster's) or any
        :class:`concurrent.futures.Executor`; each chunk is then one task (the layout reaches a Dask
        worker once). The result is identical wherever and in whichever order the chunks run.
        """
        check_bootstrap(bootstrap)
        check_seed(seed)
        settings = self.settings
        layout = PairLayout.build(self.data, self.regressors, self.spec, alignment=self.alignment,
                                  log_returns=self.log_returns)
        cells = Cells.build(self.data.pairs, self.pooled_group, self.pool_exclude)
        out = run_chunks(layout, settings, cells, cells.chunks(chunk_pairs), bootstrap=bootstrap, seed=seed,
                         progress=self.progress, executor=executor)
        _check_estimated(out)
        test_ids = list(TEST_IDS) + (["bootstrap"] if bootstrap is None or int(bootstrap) > 0 else [])
        return self._result(settings, layout, cells, out, test_ids, bootstrap)

    def fit_parts(self, bootstrap: int | None = 0, seed: int = 0, chunk_pairs: int = 4_000, executor=None,
                  skip=None, aggregates_only: bool = False, on_start=None):
        """The fit as parts, one per chunk of whole events, yielded as each finishes (for results larger
        than memory: nothing is kept here). Each part is ``(first_event, end_event, tables)`` with
        ``tables`` the chunk's ``car``, ``tests``, ``params``, ``exclusions`` and, unless
        ``aggregates_only``, ``ar`` (per-day abnormal returns), with the columns of :meth:`fit`'s frames.
        Concatenated, the parts hold exactly the rows of :meth:`fit`'s frames (in event order).
        ``skip(first_event, end_event)`` -> True leaves a chunk out (a resumed run); ``on_start(n)`` is
        called with the number of chunks to run before the first runs (a progress bar's total); other
        arguments as :meth:`fit`."""
        check_bootstrap(bootstrap)
        check_seed(seed)
        settings = self.settings
        layout = PairLayout.build(self.data, self.regressors, self.spec, alignment=self.alignment,
                                  log_returns=self.log_returns)
        cells = Cells.build(self.data.pairs, self.pooled_group, self.pool_exclude)
        chunks = [c for c in cells.chunks(chunk_pairs) if skip is None or not skip(c.first_event, c.end_event)]
        test_ids = list(TEST_IDS) + (["bootstrap"] if bootstrap is None or int(bootstrap) > 0 else [])
        if on_start is not None:
            on_start(len(chunks))
        for part in iter_chunks(layout, settings, cells, chunks, bootstrap=bootstrap, seed=seed, executor=executor):
            if part.error is not None:
                raise part.error
            first = part.first_cell // cells.n_groups
            end = first + part.n.shape[0] // cells.n_groups
            yield first, end, self._part_tables(settings, layout, cells, part, test_ids, first, end, aggregates_only)

    def _part_tables(self, settings: FitSettings, layout: PairLayout, cells: Cells, part, test_ids: list[str],
                     first: int, end: int, aggregates_only: bool) -> dict[str, pd.DataFrame]:
        """The tidy tables of one chunk's output (pairs in the chunk's order)."""
        windows = list(self.spec.windows)
        pairs = self.data.pairs.iloc[part.rows].reset_index(drop=True)
        ok = part.reason == ""
        estimated = np.flatnonzero(ok)
        order = np.argsort(part.rows, kind="stable")            # global pair index -> position in the chunk
        excl_rows = np.array([i for _, i, _ in part.exclusions], dtype=np.int64)
        local = order[np.searchsorted(part.rows[order], excl_rows)] if excl_rows.size else excl_rows
        groups = cells.groups + ([self.pooled_group] if cells.pooled is not None else [])
        lengths = [int(mask.sum()) for mask in settings.window_masks()]
        tables = {
            "car": car_frame(pairs, estimated, windows, part.car, lengths, part.m),
            "tests": tests_frame(pairs, cells.events[first:end], groups, windows, test_ids, part.n, part.caar,
                                 part.statistic, part.p_value),
            "params": params_frame(pairs, ok, self.regressors, self.k, part.m, part.s2, part.const, part.slopes),
            "exclusions": exclusions_frame(pairs, ok, part.reason, windows,
                                           [(w, int(j), r) for (w, _, r), j in zip(part.exclusions, local)]),
        }
        if not aggregates_only:
            tables["ar"] = ar_frame(pairs, estimated, self.spec.rel_days[layout.span], part.span, part.dates)
        return tables

    def _result(self, settings: FitSettings, layout: PairLayout, cells: Cells, out: StudyOutput,
                test_ids: list[str], bootstrap: int | None) -> EventStudyResult:
        """The result of a fit, built from its plain parts."""
        pairs, spec = self.data.pairs, self.spec
        windows = list(spec.windows)
        ok = out.reason == ""
        estimated = np.flatnonzero(ok)
        groups = cells.groups + ([self.pooled_group] if cells.pooled is not None else [])
        tests = tests_frame(pairs, cells.events, groups, windows, test_ids, out.n, out.caar, out.statistic,
                            out.p_value)
        exclusions = exclusions_frame(pairs, ok, out.reason, windows, out.exclusions)
        if tests.empty:
            _raise_untested(exclusions, int(ok.sum()), windows)
        lengths = [int(mask.sum()) for mask in settings.window_masks()]
        arrays = StudyArrays(pairs=pairs, ok=ok, rel_days=spec.rel_days, est_mask=spec.estimation_mask(),
                             layout=layout, settings=settings)
        return EventStudyResult(
            model=self.model, k=self.k, estimation=spec.estimation, windows=spec.windows,
            min_obs=self.min_obs, ar=ar_frame(pairs, estimated, spec.rel_days[layout.span], out.span, out.dates),
            car=car_frame(pairs, estimated, windows, out.car, lengths, out.m), tests=tests,
            params=params_frame(pairs, ok, self.regressors, self.k, out.m, out.s2, out.const, out.slopes),
            exclusions=exclusions, pooled_group=self.pooled_group,
            regressors=tuple(self.factors) if self.model == "factor" else (
                () if self.model == "constant_mean" else ("benchmark",)),
            bootstrap=None if bootstrap is None else int(bootstrap), arrays=arrays)


def _check_estimated(out: StudyOutput) -> None:
    """Raise when no pair could be estimated (the most common reasons), else the first chunk's test error."""
    if not (out.reason == "").any():
        summary = pd.Series(out.reason).value_counts().head(3)
        raise WindowError("no (security, event) pair could be estimated; most common reasons: "
                          + "; ".join(f"{n}× {r}" for r, n in summary.items()))
    for err in out.errors:
        raise err


def _raise_untested(exclusions: pd.DataFrame, n_estimated: int, windows: list[Window]) -> None:
    """Every estimated pair lacks a complete event window: one sentence that says why."""
    why = exclusions.loc[exclusions["window_start"].notna(), "reason"].value_counts().head(3)
    raise WindowError(
        f"{n_estimated} pair(s) were estimated, but none has a complete event window in any of the "
        f"windows {', '.join(f'[{a},{b}]' for a, b in windows)}, so no test could be computed; most common "
        "reasons: " + "; ".join(f"{n}x {r}" for r, n in why.items()))


def run_event_study(panel, pairs: pd.DataFrame, **kwargs) -> EventStudyResult:
    """Functional shortcut: ``EventStudy(panel, pairs, **spec).fit(bootstrap=..., seed=...)``."""
    fit_kw = {k: kwargs.pop(k) for k in ("bootstrap", "seed") if k in kwargs}
    return EventStudy(panel, pairs, **kwargs).fit(**fit_kw)
