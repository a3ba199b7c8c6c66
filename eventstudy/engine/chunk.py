"""The per-chunk work of a fit: a run of whole events gathered, fitted and tested on its own.

:class:`Cells` numbers the test cells (event x group, plus the pooled group) and cuts the pairs into
chunks of whole events (an event is never split: its cells' tests need all of its securities).
:func:`fit_chunk` does one chunk: the normal-return fit of its pairs (:func:`eventstudy.estimation.fit.fit_rows`),
CAR, SCAR, BHAR and their p-values per window, the batched test battery over its cells
(:func:`eventstudy.inference.batched.run_tests_batched`) and, when asked, the bootstrap per cell
(:func:`eventstudy.inference.bootstrap.bootstrap_caar`); it returns a :class:`ChunkOutput` of plain arrays.
:func:`run_chunks` runs the chunks on the machine's cores, or on an executor
(:mod:`eventstudy.engine.executors`), and :func:`combine` puts them together.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import special

from eventstudy.engine.assemble import CAR_FIELDS, SPAN_FIELDS, PairArrays, StudyOutput, combine
from eventstudy.engine.executors import as_done, in_flight, is_dask_client, scatter
from eventstudy.errors import EstimationError
from eventstudy.estimation import normal_returns
from eventstudy.estimation.fit import FitSettings, fit_rows, missing_reason
from eventstudy.estimation.layout import PairLayout
from eventstudy.inference import kernels
from eventstudy.inference.bootstrap import bootstrap_caar
from eventstudy.inference.reference import TEST_IDS
from eventstudy.progress import progress_bar

__all__ = ["Cells", "EventChunk", "ChunkOutput", "StudyOutput", "PairStage", "fit_chunk", "fit_chunk_alone",
           "fit_chunk_task", "pair_stage", "run_chunks", "combine", "CAR_FIELDS", "SPAN_FIELDS", "iter_chunks", "PART_PAIRS"]



class EventChunk(NamedTuple):
    """The pairs ``rows`` of the events ``first_event .. end_event - 1`` (event order)."""

    rows: np.ndarray
    first_event: int
    end_event: int


@dataclass(frozen=True)
class Cells:
    """The test cells: ``(event, group)`` numbered ``event * n_groups + group``, the pooled group last.

    ``event_code (P,)`` a pair's event (or its pooling value, firm-specific designs) in order of first
    appearance, ``events`` their names; ``group_code (P,)``, ``groups``; ``pooled (P,)`` whether a pair
    enters the pooled group (None: no pooled group); ``date_cluster (P,)`` its day 0 when pooling (the
    Kolari-Pynnonen correlation counts only pairs sharing a date), else None.
    """

    event_code: np.ndarray
    events: list
    group_code: np.ndarray
    groups: list
    pooled: np.ndarray | None
    date_cluster: np.ndarray | None

    @classmethod
    def build(cls, pairs: pd.DataFrame, pooled_group: str | None, pool_exclude: Sequence[str] = ()) -> "Cells":
        """Cells of the normalised ``pairs`` (a ``pool`` column pools firm-specific events)."""
        pooling = "pool" in pairs.columns
        event_code, events = pd.factorize(pairs["pool"].to_numpy() if pooling else pairs["event_id"].to_numpy())
        date_cluster = pd.factorize(pairs["day0"].to_numpy())[0] if pooling else None
        group_values = pairs["group"].to_numpy()
        group_code, groups = pd.factorize(group_values)
        events, groups = list(events), list(groups)
        pooled = None
        if pooled_group and not (len(groups) == 1 and groups[0] == pooled_group):
            pooled = ~np.isin(group_values, list(pool_exclude))
        return cls(event_code, events, group_code, groups, pooled, date_cluster)

    def subset(self, rows: np.ndarray) -> "Cells":
        """The cells' per-pair arrays of the pairs ``rows`` only (pair ``i`` here is ``rows[i]`` there)."""
        return Cells(self.event_code[rows], self.events, self.group_code[rows], self.groups,
                     None if self.pooled is None else self.pooled[rows],
                     None if self.date_cluster is None else self.date_cluster[rows])

    @property
    def n_groups(self) -> int:
        return len(self.groups) + (self.pooled is not None)

    @property
    def n_cells(self) -> int:
        return len(self.events) * self.n_groups

    def chunks(self, chunk_pairs: int) -> list[EventChunk]:
        """Runs of whole events (in event order) of about ``chunk_pairs`` pairs."""
        from eventstudy.inference.batched import chunk_bounds

        by_event = np.argsort(self.event_code, kind="stable")
        event_start = np.searchsorted(self.event_code[by_event], np.arange(len(self.events) + 1))
        bounds = chunk_bounds(np.diff(event_start), chunk_pairs)
        return [EventChunk(by_event[event_start[a]:event_start[b]], int(a), int(b))
                for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass
class ChunkOutput(PairArrays):
    """What one chunk computed, for its pairs ``rows`` (in chunk order) and its cells from ``first_cell``.

    Per pair the :class:`~eventstudy.engine.assemble.PairArrays` fields;
    ``exclusions`` ``(window index, pair index, reason)`` of pair-windows without a CAR. Per cell and
    window: ``n``, ``caar`` ``(C, W)``, ``statistic`` and ``p_value`` ``(tests, C, W)`` (None after an
    ``error``, the first :class:`EstimationError` of its tests)."""

    rows: np.ndarray
    exclusions: list[tuple[int, int, str]] = field(default_factory=list)
    first_cell: int = 0
    n: np.ndarray | None = None
    caar: np.ndarray | None = None
    statistic: np.ndarray | None = None
    p_value: np.ndarray | None = None
    error: EstimationError | None = None


#: pairs per part when one large chunk's per-pair stage is split over threads (:func:`pair_stage`)
PART_PAIRS = 4_000


class PairStage(NamedTuple):
    """The per-pair stage of a chunk (everything before its tests): ``out`` with the pairs' fields, CARs and
    span arrays, and what the tests take: ``car``, ``scar``, ``valid`` ``(W, n)``, ``est_ar`` and ``est_sar``
    ``(n, T)`` on the estimation days, ``ok`` ``(n,)`` estimated."""

    out: ChunkOutput
    car: np.ndarray
    scar: np.ndarray
    valid: np.ndarray
    est_ar: np.ndarray
    est_sar: np.ndarray
    ok: np.ndarray


def fit_chunk(layout: PairLayout, settings: FitSettings, cells: Cells, chunk: EventChunk, *,
              bootstrap: int | None = 0, seed: int = 0, tick: Callable[[], None] | None = None,
              threads: int = 1) -> ChunkOutput:
    """Fit, measure and test the pairs of one chunk of whole events (see the module docstring).

    ``bootstrap``: draws of :func:`bootstrap_caar` per cell and window (0: none; None: every pseudo-window);
    ``tick`` is called once per cell bootstrapped (a progress bar); ``threads``: the per-pair stage of a large
    chunk (a pooled firm-specific design is one) in parts on up to this many threads (:func:`pair_stage`)."""
    rows = chunk.rows
    stage = pair_stage(layout, settings, rows, threads)
    out = stage.out
    car, scar, valid, est_ar = stage.car, stage.scar, stage.valid, stage.est_ar
    members = _memberships(cells, chunk, stage.ok)
    out.first_cell = chunk.first_event * cells.n_groups
    n_cells = (chunk.end_event - chunk.first_event) * cells.n_groups
    from eventstudy.inference.batched import run_tests_batched

    span = layout.span
    try:
        batch = run_tests_batched(
            member_pair=members[0], member_cell=members[1], n_cells=n_cells,
            cell_block=np.arange(n_cells) // cells.n_groups, car=car, scar=scar, valid=valid, m=out.m,
            k=settings.k, est_ar=est_ar, est_sar=stage.est_sar, event_sar=out.span["sar"],
            window_masks=np.stack([w[span] for w in settings.window_masks()]),
            pair_cluster=None if cells.date_cluster is None else cells.date_cluster[rows])
    except EstimationError as exc:
        out.error = exc
        return out
    do_boot = bootstrap is None or int(bootstrap) > 0
    n_tests = len(TEST_IDS) + int(do_boot)
    n_windows = len(settings.windows)
    out.n, out.caar = batch.n, batch.caar
    out.statistic = np.full((n_tests, n_cells, n_windows), np.nan)
    out.p_value = np.full((n_tests, n_cells, n_windows), np.nan)
    out.statistic[:len(TEST_IDS)] = batch.statistic
    out.p_value[:len(TEST_IDS)] = batch.p_value
    if do_boot:        # resampling stays per cell (optional, not batched)
        _bootstrap_cells(out, members, n_cells, car, valid, est_ar, settings, bootstrap, seed, tick)
    return out


def pair_stage(layout: PairLayout, settings: FitSettings, rows: np.ndarray, threads: int = 1) -> PairStage:
    """The per-pair stage of the pairs ``rows`` (one chunk): gather, fit, abnormal returns, CARs per window.

    With ``threads > 1`` and at least ``2 * PART_PAIRS`` pairs, the pairs are cut into parts of about
    :data:`PART_PAIRS` pairs, each made of whole regressor blocks (``layout.block``: pairs fitted together keep
    being fitted together), worked on up to ``threads`` threads (numpy releases the GIL), each writing its pairs
    into the chunk's arrays in the chunk's pair order. Every per-pair number is computed from that pair's rows alone, so the result is
    the same to the last bit as in one piece (``tests/engine/test_pair_stage.py``), and only the parts in flight
    hold their dense (pairs x days) arrays."""
    parts = _parts(layout.block[rows], PART_PAIRS) if threads > 1 and len(rows) >= 2 * PART_PAIRS else []
    if len(parts) < 2:
        return _pair_stage_rows(layout, settings, rows)
    made: list[PairStage] = []
    lock = threading.Lock()

    def one(pos: np.ndarray) -> list[tuple[int, int, str]]:
        part = _pair_stage_rows(layout, settings, rows[pos])
        with lock:                                       # the first part to finish shapes the chunk's arrays
            if not made:
                made.append(_empty_stage(part, rows))
        _put_stage(made[0], part, pos)                   # each part its own rows: no lock needed
        return part.out.exclusions

    with ThreadPoolExecutor(max_workers=min(threads, len(parts))) as pool:
        found = list(pool.map(one, parts))
    full = made[0]
    full.out.exclusions = [e for part in found for e in part]   # the exclusions frame sorts them by window and pair
    return full


def _parts(block: np.ndarray, size: int) -> list[np.ndarray]:
    """Positions ``0..n-1`` cut into parts of about ``size``, each a union of whole blocks (equal ``block``
    values), positions ascending within a part."""
    codes, counts = np.unique(block, return_inverse=True, return_counts=True)[1:]
    codes = np.asarray(codes).ravel()
    part_of_block = (np.cumsum(counts) - counts) // size
    part = part_of_block[codes]
    order = np.argsort(part, kind="stable")
    cut = np.searchsorted(part[order], np.arange(int(part.max()) + 2))
    return [order[a:b] for a, b in zip(cut[:-1], cut[1:]) if b > a]


def _pair_stage_rows(layout: PairLayout, settings: FitSettings, rows: np.ndarray) -> PairStage:
    """:func:`pair_stage` of ``rows`` in one piece."""
    y, f, dates, fitted, reason = fit_rows(layout, settings, rows)
    ok = reason == ""
    span = layout.span
    est_start, est_end = settings.estimation_block()
    with np.errstate(invalid="ignore", divide="ignore"):
        est_ar = np.ascontiguousarray(fitted.ar[:, est_start:est_end])
        est_sar = est_ar / np.sqrt(fitted.s2)[:, None]
    sar_span = normal_returns.sar(fitted, span)
    out = ChunkOutput(
        rows=rows, reason=reason, m=fitted.m, s2=fitted.s2, const=fitted.const, slopes=fitted.slopes,
        car={}, dates=dates,     # copies of the span: the chunk's (pairs, days) arrays are not kept alive
        span={"ret": y[:, span].copy(), "normal_ret": fitted.normal[:, span].copy(), "ar": fitted.ar[:, span].copy(),
              "sar": sar_span})
    car, scar, valid = _window_stats(layout, settings, out, y, f, fitted, ok)
    return PairStage(out, car, scar, valid, est_ar, est_sar, ok)


def _empty_stage(part: PairStage, rows: np.ndarray) -> PairStage:
    """Arrays shaped like ``part``'s for all the pairs ``rows``."""
    n = len(rows)

    def like(a: np.ndarray, axis: int = 0) -> np.ndarray:          # the pair axis: 0, or 1 for (W, n) arrays
        shape = list(a.shape)
        shape[axis] = n
        return np.empty(shape, dtype=a.dtype)

    o = part.out
    out = ChunkOutput(rows=rows, **PairArrays.empty_fields(n, o.car["car"].shape[0], o.slopes.shape[1],
                                                           o.dates.shape[1]))
    return PairStage(out, like(part.car, 1), like(part.scar, 1), like(part.valid, 1), like(part.est_ar),
                     like(part.est_sar), like(part.ok))


def _put_stage(full: PairStage, part: PairStage, pos: np.ndarray) -> None:
    """``part`` (the pairs at chunk positions ``pos``) written into ``full``."""
    full.out.put(pos, part.out)
    for name in ("car", "scar", "valid"):
        getattr(full, name)[:, pos] = getattr(part, name)
    full.est_ar[pos], full.est_sar[pos], full.ok[pos] = part.est_ar, part.est_sar, part.ok


def _window_stats(layout: PairLayout, settings: FitSettings, out: ChunkOutput, y: np.ndarray, f: np.ndarray,
                  fitted: normal_returns.BatchFit, ok: np.ndarray):
    """CAR, its variance, SCAR, the pair's p-value and BHAR per window into ``out.car`` (and the reasons of
    pair-windows without a CAR into ``out.exclusions``); returns ``car, scar, valid`` ``(W, n)`` for the tests."""
    n_windows, n = len(settings.windows), len(out.rows)
    for name in CAR_FIELDS:
        out.car[name] = np.empty((n_windows, n))
    car, scar = np.empty((n_windows, n)), np.empty((n_windows, n))
    valid = np.empty((n_windows, n), dtype=bool)
    df_chunk = np.maximum(fitted.df, 1).astype(float)
    for wi, window_mask in enumerate(settings.window_masks()):
        stats = normal_returns.car_stats(fitted, f, window_mask)
        out.car["car"][wi] = stats["car"]
        out.car["var"][wi] = stats["var"]
        out.car["scar"][wi] = stats["scar"]
        with np.errstate(invalid="ignore"):    # = 2 t.sf(|SCAR|, M_i - k)
            out.car["p"][wi] = 2 * special.stdtr(df_chunk, -np.abs(stats["scar"]))
        out.car["bhar"][wi] = normal_returns.bhar(y, fitted.normal, window_mask, settings.log_returns)
        car[wi], scar[wi], valid[wi] = stats["car"], stats["scar"], ok & np.isfinite(stats["car"])
        for i in np.flatnonzero(ok & (stats["n_missing"] > 0)):   # exclusions only
            out.exclusions.append((wi, int(out.rows[i]), missing_reason(
                layout, settings, int(out.rows[i]), y[i], f[i], out.dates[i], fitted.ar[i], window_mask)))
    return car, scar, valid


def _memberships(cells: Cells, chunk: EventChunk, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pair position in the chunk, cell number from the chunk's first cell) of every estimated pair in its
    own cell and, when it enters it, in its event's pooled cell."""
    rows, n_groups = chunk.rows, cells.n_groups
    estimated = np.flatnonzero(ok)
    member_pair = [estimated]
    member_cell = [(cells.event_code[rows[estimated]] - chunk.first_event) * n_groups
                   + cells.group_code[rows[estimated]]]
    if cells.pooled is not None:
        pooled = np.flatnonzero(ok & cells.pooled[rows])
        member_pair.append(pooled)
        member_cell.append((cells.event_code[rows[pooled]] - chunk.first_event) * n_groups + (n_groups - 1))
    return np.concatenate(member_pair), np.concatenate(member_cell)


def _bootstrap_cells(out: ChunkOutput, members, n_cells: int, car: np.ndarray, valid: np.ndarray,
                     est_ar: np.ndarray, settings: FitSettings, bootstrap: int | None, seed: int, tick) -> None:
    """The bootstrap p-value (last test row of ``out``) of every cell and window, cell by cell."""
    member_pair, member_cell = members
    order = np.lexsort((member_pair, member_cell))                   # each cell's members, in pair order
    pair_sorted, cut = member_pair[order], np.searchsorted(member_cell[order], np.arange(n_cells + 1))
    lengths = [int(w.sum()) for w in settings.window_masks()]
    for c in range(n_cells):
        in_cell = pair_sorted[cut[c]:cut[c + 1]]
        for wi, length in enumerate(lengths):
            used = in_cell[valid[wi, in_cell]]
            if used.size:
                res = bootstrap_caar(car[wi, used], est_ar[used], length, n_boot=bootstrap,
                                     seed=int(seed), statistic="caar", k=settings.k)
                out.statistic[-1, c, wi], out.p_value[-1, c, wi] = res.statistic, res.p_value
        if tick is not None:
            tick()


def run_chunks(layout: PairLayout, settings: FitSettings, cells: Cells, chunks: list[EventChunk], *,
               bootstrap: int | None = 0, seed: int = 0, progress: bool | None = None,
               executor=None) -> "StudyOutput":
    """:func:`fit_chunk` of every chunk, put together as each arrives (so one chunk's output is held at a
    time besides the study's arrays).

    Without ``executor``, chunks share nothing, so without a bootstrap they run on up to 4 threads (numpy
    releases the GIL in its array loops); the bootstrap shows a progress bar. With ``executor`` — a
    ``dask.distributed.Client`` or any :class:`concurrent.futures.Executor` (e.g. a process pool) — each
    chunk is one task: a Dask client gets the layout, settings and cells once (scattered to every worker),
    a plain executor pickles them with each task; a progress bar counts chunks. The result does not depend
    on where or in which order the chunks ran (every draw is seeded per cell, and the chunks' exclusions
    and errors are put back in event order)."""
    do_boot = bootstrap is None or int(bootstrap) > 0
    n_tests = len(TEST_IDS) + int(do_boot)
    out = StudyOutput.empty(len(layout.start), cells.n_cells, len(settings.windows), n_tests, layout.frow.shape[1],
                            layout.span_len)
    if executor is not None:
        bar = progress_bar(len(chunks), desc="chunks", unit="chunk", enabled=progress)
        try:
            for part in _on_executor(executor, layout, settings, cells, chunks, bootstrap, seed):
                out.add(part)
                bar.update(1)
        finally:
            bar.close()
        return out.finish()
    kernels.plan(sum(len(c.rows) for c in chunks))      # numpy or compiled loops: by the work this process does
    bar = progress_bar(cells.n_cells, desc="bootstrap", unit="cell", enabled=progress if do_boot else False)

    cores = min(os.cpu_count() or 1, 4)
    workers = 1 if (do_boot or len(chunks) == 1) else min(len(chunks), cores)
    threads = cores if len(chunks) == 1 else 1          # one chunk (a pooled design): its pair stage in parts

    def one(chunk: EventChunk) -> ChunkOutput:
        return fit_chunk(layout, settings, cells, chunk, bootstrap=bootstrap, seed=seed, tick=lambda: bar.update(1),
                         threads=threads)

    try:
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for part in pool.map(one, chunks):
                    out.add(part)
        else:
            for chunk in chunks:
                out.add(one(chunk))
    finally:
        bar.close()
    return out.finish()


def iter_chunks(layout: PairLayout, settings: FitSettings, cells: Cells, chunks: list[EventChunk], *,
                bootstrap: int | None = 0, seed: int = 0, executor=None):
    """:func:`fit_chunk` of every chunk, yielded as each finishes (in chunk order without ``executor``):
    nothing is kept, so memory is bounded by the chunks in flight (streamed runs)."""
    if executor is not None:
        yield from _on_executor(executor, layout, settings, cells, chunks, bootstrap, seed)
        return
    kernels.plan(sum(len(c.rows) for c in chunks))
    for chunk in chunks:
        yield fit_chunk(layout, settings, cells, chunk, bootstrap=bootstrap, seed=seed)


def fit_chunk_task(layout: PairLayout, settings: FitSettings, cells: Cells, chunk: EventChunk, *,
                   bootstrap: int | None = 0, seed: int = 0) -> ChunkOutput:
    """:func:`fit_chunk` as an executor's task: the worker counts the chunk's pairs first
    (:func:`eventstudy.inference.kernels.plan`), so one that tests many switches to the compiled loops."""
    kernels.plan(len(chunk.rows))
    return fit_chunk(layout, settings, cells, chunk, bootstrap=bootstrap, seed=seed)


def fit_chunk_alone(layout: PairLayout, pairs: dict, settings: FitSettings, cells: Cells, chunk: EventChunk, *,
                    bootstrap: int | None = 0, seed: int = 0) -> ChunkOutput:
    """:func:`fit_chunk` of ``chunk`` given only its pairs' layout fields ``pairs``
    (:meth:`~eventstudy.estimation.layout.PairLayout.pair_arrays`), settings and cells (``subset``), its output
    numbered as the whole study's pairs: with lazy input the layout holds no returns, so a task carries what
    its chunk needs and a worker's memory does not grow with the study."""
    rows = chunk.rows
    kernels.plan(len(rows))                             # a worker's own count of the pairs it tests
    out = fit_chunk(layout.with_pairs(pairs), settings, cells,
                    EventChunk(np.arange(len(rows)), chunk.first_event, chunk.end_event), bootstrap=bootstrap, seed=seed)
    out.rows = rows
    out.exclusions = [(w, int(rows[i]), r) for w, i, r in out.exclusions]
    return out


def _alone_task(executor, layout: PairLayout, settings: FitSettings, cells: Cells, bootstrap: int | None, seed: int):
    """With a returns store: a task per chunk with its pairs' fields only, the layout's matrix and calendars
    (no returns: the regressors' rows) sent to every Dask worker once."""
    shell = layout.with_pairs(layout.pair_arrays(np.arange(0)))
    dask = is_dask_client(executor)
    if dask:
        shell = scatter(executor, [shell])[0]
    kw = {"pure": False} if dask else {}
    return lambda c: executor.submit(fit_chunk_alone, shell, layout.pair_arrays(c.rows), settings.subset(c.rows),
                                     cells.subset(c.rows), c, bootstrap=bootstrap, seed=seed, **kw)


def _on_executor(executor, layout: PairLayout, settings: FitSettings, cells: Cells, chunks: list[EventChunk],
                 bootstrap: int | None, seed: int):
    """The chunks' outputs as their tasks finish, on a Dask client or a concurrent.futures executor."""
    if layout.store is not None:
        submit = _alone_task(executor, layout, settings, cells, bootstrap, seed)
    elif is_dask_client(executor):
        shared = scatter(executor, [layout, settings, cells])
        submit = lambda c: executor.submit(fit_chunk_task, shared[0], shared[1], shared[2], c,  # noqa: E731
                                           bootstrap=bootstrap, seed=seed, pure=False)
    else:
        submit = lambda c: executor.submit(fit_chunk_task, layout, settings, cells, c,  # noqa: E731
                                           bootstrap=bootstrap, seed=seed)
    yield from as_done(executor, submit, chunks, in_flight(executor))
