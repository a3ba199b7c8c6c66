"""The inner loops of the batched test battery (:mod:`eventstudy.inference.batched`), and which
implementation runs them.

Two jobs: the rank tests' sums, and one pass over each pair's estimation residuals
(:func:`centre_rows`, for the Kolari-Pynnonen correlation and the generalized sign test).

The rank tests (``corrado``, ``grank``) need, for every (cell, estimation day), the sum over
the cell's securities of ``U_it = a_i * rank_it - 1/2`` where ``rank_it`` is the average rank
of estimation SAR ``e_it`` once the window's values are inserted into security i's row. With
the row ranked once (:func:`row_ranks`), inserting a value ``v`` moves ``e_it`` up by
``[e_it > v] + [e_it == v] / 2``, which is ``([r_it > c_lt] + [r_it > c_le]) / 2`` with
``r_it`` the 1-based position of the first value equal to ``e_it`` in the sorted row and
``c_lt = #{e < v}``, ``c_le = #{e <= v}``. So ``2 rank_it`` is the small integer
``R2_it + [r_it > c_lt] + [r_it > c_le]`` with ``R2_it`` twice the row's own average rank.

Two implementations give the same bits (``tests/inference/test_kernels.py``):

* :mod:`eventstudy.inference.kernels_compiled` (numba): loops that fuse the comparisons and the sums
  over a cell's members, reading two small-int arrays (4 bytes per (pair, day)), with binary searches,
  releasing the GIL so the engine's chunks run on all cores. Loading them costs about 0.45 s per
  process (numba's import, then each loop from its disk cache; about 2 s once, when compiled).
* :mod:`eventstudy.inference.kernels_numpy`: the same operations in the same order in numpy, with
  ``(pairs, days)`` temporaries; no start-up cost, slower per pair.

:func:`backend` picks numpy until the process has tested :data:`COMPILE_AFTER_PAIRS` pairs, counting
those of the study about to run (:func:`plan`, called by the engine), then the compiled loops for
good. The choice never changes a number, only the time. ``EVENTSTUDY_KERNELS=numpy|compiled``
(or :func:`set_backend`) forces one.

Exactness: ranks and increments are the same integers and half-integers as
``scipy.stats.rankdata`` gives; only the order of floating-point summation differs from the
per-cell reference :func:`eventstudy.inference.reference.corrado` / :func:`~eventstudy.inference.reference.grank`
(``tests/test_cellstats.py`` checks 1e-10, with ties and missing values).
"""
from __future__ import annotations

import os
import threading
from types import ModuleType

import numpy as np

from eventstudy.errors import SpecificationError

__all__ = ["centre_rows", "row_ranks", "corrado_rank_sums", "grank_rank_sums", "rank_dispersion",
           "day_mean_dispersion", "backend", "plan", "set_backend", "COMPILE_AFTER_PAIRS", "BACKENDS"]

#: pairs a process tests with numpy before it loads the compiled loops (``benchmarks/bench_kernels.py``)
COMPILE_AFTER_PAIRS = 12_000
BACKENDS = ("auto", "numpy", "compiled")
_lock = threading.Lock()
_state = {"pairs": 0, "forced": None, "compiled": False}


def set_backend(name: str | None) -> None:
    """Force ``"numpy"`` or ``"compiled"`` in this process; ``"auto"`` or None: decide by the work
    (:func:`backend`). Results are the same bits either way."""
    if name is not None and name not in BACKENDS:
        raise SpecificationError(f"kernel backend must be one of {', '.join(BACKENDS)}, not {name!r}")
    _state["forced"] = None if name in (None, "auto") else name


def plan(pairs: int) -> None:
    """Count ``pairs`` about to be tested in this process: the engine, before a fit's chunks run here; an
    executor's task, its chunk's pairs (so a worker process that tests many chunks switches)."""
    with _lock:
        _state["pairs"] += int(pairs)


def backend() -> str:
    """``"compiled"`` once this process has planned :data:`COMPILE_AFTER_PAIRS` pairs, else ``"numpy"``;
    ``EVENTSTUDY_KERNELS`` or :func:`set_backend` override (a wrong name: :class:`SpecificationError`)."""
    forced = _state["forced"] or os.environ.get("EVENTSTUDY_KERNELS", "auto").strip().lower()
    if forced not in BACKENDS:
        raise SpecificationError(f"environment variable EVENTSTUDY_KERNELS={forced!r}: set it to one of "
                                 f"{', '.join(BACKENDS)} (the same results either way), or unset it")
    if forced != "auto":
        return forced
    if not _state["compiled"] and _state["pairs"] >= COMPILE_AFTER_PAIRS:
        _state["compiled"] = True                      # for good: its start-up is paid once per process
    return "compiled" if _state["compiled"] else "numpy"


def _impl() -> ModuleType:
    if backend() == "compiled":
        from eventstudy.inference import kernels_compiled

        return kernels_compiled
    from eventstudy.inference import kernels_numpy

    return kernels_numpy


def centre_rows(ea: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over residual rows ``ea (P, T)`` (non-finite: missing).

    Returns ``cnt`` finite values per row, ``npos`` values > 0, ``x0 (P, T)`` the row centred on its
    finite mean (0 where missing), ``sxx = sum_t x0^2`` and ``s1 = sum_t x0`` (0 up to rounding).
    """
    ea = np.ascontiguousarray(ea, dtype=float)
    P, T = ea.shape
    x0 = np.empty((P, T))
    cnt = np.empty(P, dtype=np.int64)
    npos = np.empty(P, dtype=np.int64)
    sxx = np.empty(P)
    s1 = np.empty(P)
    if P:
        _impl().centre_rows_into(ea, x0, cnt, npos, sxx, s1)
    return cnt, npos, x0, sxx, s1


def row_ranks(es: np.ndarray, insert: np.ndarray | None = None):
    """Each row of ``es (P, T)`` (non-finite values: missing) sorted and ranked.

    Returns ``srt (P, T)`` the sorted values with missing ones as +inf at the end; ``rmin (P, T)``
    small ints: the 1-based position in ``srt`` of the first value equal to ``x_it`` (0 where
    missing); ``R2 (P, T)`` small ints: twice the average rank of ``x_it`` among the row's finite
    values (``2 * scipy.stats.rankdata(method="average")``; 0 where missing); ``T_i (P,)`` finite
    counts. The sort is numpy's (SIMD) ``argsort``; ranks and ties come from one pass per row.

    ``insert (P, E)``: values to count against each row while it is in cache; then also returns
    ``c_lt = #{x_i < insert_id}`` and ``c_le = #{x_i <= insert_id}``, both ``(P, E)`` (a NaN value counts 0).
    """
    es = np.asarray(es, dtype=float)
    P, T = es.shape
    fin = np.isfinite(es)
    T_i = fin.sum(axis=1)
    xs = es if bool((T_i == T).all()) else np.where(fin, es, np.inf)
    xs = np.ascontiguousarray(xs)
    order = np.argsort(xs, axis=1)
    itype = np.int16 if 2 * T + 2 < 2 ** 15 else np.int32
    srt = np.empty((P, T))
    rmin = np.empty((P, T), dtype=itype)
    R2 = np.empty((P, T), dtype=itype)
    ins = np.empty((P, 0)) if insert is None else np.ascontiguousarray(insert, dtype=float)
    if ins.shape[0] != P:
        raise ValueError(f"insert must have one row per row of es ({P}), not {ins.shape[0]}")
    c_lt = np.zeros(ins.shape, dtype=np.int64)
    c_le = np.zeros(ins.shape, dtype=np.int64)
    if P and T:
        _impl().fill_ranks(xs, order, T_i, srt, rmin, R2, ins, c_lt, c_le)
    if insert is None:
        return srt, rmin, R2, T_i
    return srt, rmin, R2, T_i, c_lt, c_le


def corrado_rank_sums(rmin: np.ndarray, R2: np.ndarray, c_lt: np.ndarray, c_le: np.ndarray,
                      windows: list[np.ndarray], a: np.ndarray, member_pair: np.ndarray,
                      member_window: np.ndarray, member_cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Corrado's estimation-day rank sums ``S[w, c, t] = sum_{i in c, e_it finite} a_wi K_wit``, (W, C, T).

    ``K_wit`` is the average rank of estimation SAR ``e_it`` among security i's estimation SARs and
    its window SARs ``v_id``, ``d`` in ``windows[w]`` (columns of the event grid):
    ``2 K_wit = R2_it + sum_d ([r_it > c_lt_id] + [r_it > c_le_id])`` with ``c_lt/c_le (P, D)`` from
    :func:`row_ranks` (``insert``) (a missing ``v_id`` is +inf: it moves nothing). ``a (W, P)``: ``1 / (n_wi + 1)``,
    ``n_wi`` security i's ranked values in window w. Membership j puts pair ``member_pair[j]`` in cell
    ``member_cell[j]`` of window ``member_window[j]``; sorted by (pair, window), each pair's rows are
    read once and its rank row in a window is shared by its cells.
    """
    W = len(windows)
    S = np.zeros((W, int(n_cells), rmin.shape[1]))
    mp = np.ascontiguousarray(member_pair, dtype=np.int64)
    if mp.size:
        wcols = np.zeros((W, max(len(x) for x in windows)), dtype=np.int64)
        for w, x in enumerate(windows):
            wcols[w, :len(x)] = x
        n_wcols = np.array([len(x) for x in windows], dtype=np.int64)
        _impl().corrado_sums_into(rmin, R2, np.ascontiguousarray(c_lt), np.ascontiguousarray(c_le), wcols, n_wcols,
                      np.ascontiguousarray(a, dtype=float), mp,
                      np.ascontiguousarray(member_window, dtype=np.int64),
                      np.ascontiguousarray(member_cell, dtype=np.int64), S)
    return S


def grank_rank_sums(srt: np.ndarray, rmin: np.ndarray, R2: np.ndarray, a: np.ndarray, member_pair: np.ndarray,
                    member_cell: np.ndarray, g: np.ndarray, n_cells: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GRANK's estimation-day rank sums ``S[c, t] = sum_{i in c, e_it finite} a_i K_it`` (C, T) when
    membership j inserts its own value ``g[j]`` (the cell's ``GSAR_i0``) into its pair's row, and
    per membership ``c_lt = #{e < g}``, ``c_le = #{e <= g}`` (for day 0's own rank). ``a_i = 1 / (T_i + 2)``.
    """
    M = int(np.size(member_pair))
    S = np.zeros((int(n_cells), rmin.shape[1]))
    c_lt = np.zeros(M, dtype=np.int64)
    c_le = np.zeros(M, dtype=np.int64)
    if M and rmin.shape[1]:                            # no estimation day: nothing to rank against
        _impl().grank_sums_into(srt, rmin, R2, np.ascontiguousarray(a, dtype=float),
                    np.ascontiguousarray(member_pair, dtype=np.int64),
                    np.ascontiguousarray(member_cell, dtype=np.int64),
                    np.ascontiguousarray(g, dtype=float), S, c_lt, c_le)
    return S, c_lt, c_le


def rank_dispersion(S: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row r of the rank sums ``S (R, T)`` (:func:`corrado_rank_sums`, :func:`grank_rank_sums`):
    ``q_r = sum_{t: n_rt > 0} n_rt Ubar_rt^2`` with ``Ubar_rt = (S_rt - n_rt / 2) / n_rt`` the day's mean
    ``U`` over its ``n_rt`` members, and ``D_r = #{t: n_rt > 0}``. ``n``: ``(R, T)`` members with a value
    per row and day, or ``(R,)`` when every member has every day. One pass, no ``(R, T)`` temporaries.
    """
    S = np.ascontiguousarray(S, dtype=float)
    R = S.shape[0]
    q = np.empty(R)
    D = np.empty(R, dtype=np.int64)
    _impl().rank_dispersion_into(S, *_counts(n), q, D)
    return q, D


def _counts(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members per (row, day) for the compiled reductions: ``(n (R, T), empty)`` or, when the count is
    the same every day, ``(empty (0, 0), n (R,))``."""
    n = np.ascontiguousarray(n, dtype=float)
    return (np.empty((0, 0)), n) if n.ndim == 1 else (n, np.empty(0))


def day_mean_dispersion(ssum: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of day sums ``ssum (R, T)`` over ``n`` members (``(R, T)``, or ``(R,)`` when the same every
    day): the day means ``AAR_t = ssum_t / n_t`` over the ``M`` days with ``n_t > 0``; returns ``M``, their
    standard deviation (ddof 1; NaN when M < 2) and whether they are all equal (False when M = 0).
    One pass, no ``(R, T)`` temporaries (``t_time_series``)."""
    ssum = np.ascontiguousarray(ssum, dtype=float)
    R = ssum.shape[0]
    Md = np.empty(R, dtype=np.int64)
    sd = np.empty(R)
    const = np.empty(R, dtype=np.bool_)
    _impl().day_mean_dispersion_into(ssum, *_counts(n), Md, sd, const)
    return Md, sd, const
