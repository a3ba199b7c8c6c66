"""The chunks' outputs put together over all pairs and cells: :class:`StudyOutput` (and :func:`combine`).

Chunks of whole events (:mod:`eventstudy.engine.chunk`) may finish in any order, on any worker; each is
written into its pairs' rows and its cells, and :meth:`StudyOutput.finish` puts their exclusions and
errors back in event order, so the result does not depend on where or when the chunks ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eventstudy.errors import EstimationError

__all__ = ["PairArrays", "StudyOutput", "combine", "CAR_FIELDS", "SPAN_FIELDS"]

#: per pair and window (``(W, P)`` arrays): CAR, its variance, SCAR, BHAR, the pair's p-value
CAR_FIELDS = ("car", "var", "scar", "bhar", "p")
#: per pair on the event span (``(P, S)`` arrays)
SPAN_FIELDS = ("ret", "normal_ret", "ar", "sar")


@dataclass
class PairArrays:
    """Per pair, for a chunk's pairs or the whole study's: ``reason`` ('' when estimated), ``m``, ``s2``,
    ``const``, ``slopes (n, q)``; ``car`` a dict of :data:`CAR_FIELDS` ``(W, n)``; ``span`` a dict of
    :data:`SPAN_FIELDS` ``(n, S)`` and ``dates (n, S)``."""

    reason: np.ndarray
    m: np.ndarray
    s2: np.ndarray
    const: np.ndarray
    slopes: np.ndarray
    car: dict[str, np.ndarray]
    span: dict[str, np.ndarray]
    dates: np.ndarray

    @staticmethod
    def empty_fields(n_pairs: int, n_windows: int, q: int, n_span: int) -> dict:
        """The fields for ``n_pairs`` pairs (``q`` slopes, ``n_span`` span days), not yet filled (NaN, NaT, '')."""
        return dict(
            reason=np.full(n_pairs, "", dtype=object), m=np.zeros(n_pairs, dtype=np.int64),
            s2=np.full(n_pairs, np.nan), const=np.full(n_pairs, np.nan), slopes=np.full((n_pairs, q), np.nan),
            car={name: np.full((n_windows, n_pairs), np.nan) for name in CAR_FIELDS},
            span={name: np.full((n_pairs, n_span), np.nan) for name in SPAN_FIELDS},
            dates=np.full((n_pairs, n_span), np.datetime64("NaT"), dtype="datetime64[ns]"))

    def put(self, rows, part: "PairArrays") -> None:
        """``part``'s pairs written into these arrays at ``rows`` (positions, or a slice)."""
        self.reason[rows], self.m[rows], self.s2[rows], self.const[rows] = part.reason, part.m, part.s2, part.const
        if self.slopes.shape[1]:
            self.slopes[rows] = part.slopes
        for name in CAR_FIELDS:
            self.car[name][:, rows] = part.car[name]
        for name in SPAN_FIELDS:
            self.span[name][rows] = part.span[name]
        self.dates[rows] = part.dates


@dataclass
class StudyOutput(PairArrays):
    """The chunks' outputs put together over all ``P`` pairs and cells (fields as :class:`~eventstudy.engine.chunk.ChunkOutput`,
    pair arrays in pair order; ``errors`` the chunks' test errors in event order). Cells of a chunk whose
    tests failed stay empty."""

    exclusions: list[tuple[int, int, str]]
    n: np.ndarray
    caar: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    errors: list[EstimationError]
    pending: list = field(default_factory=list)

    def finish(self) -> "StudyOutput":
        """Exclusions and errors of every chunk added, in event order (whatever order the chunks came in)."""
        for _, exclusions, error in sorted(self.pending, key=lambda item: item[0]):
            self.exclusions += exclusions
            if error is not None:
                self.errors.append(error)
        self.pending = []
        return self

    @classmethod
    def empty(cls, n_pairs: int, n_cells: int, n_windows: int, n_tests: int, q: int, n_span: int) -> "StudyOutput":
        """Arrays for ``n_pairs`` pairs (``q`` slopes, ``n_span`` span days) and ``n_cells`` cells, not yet filled."""
        return cls(
            **PairArrays.empty_fields(n_pairs, n_windows, q, n_span), exclusions=[],
            n=np.zeros((n_cells, n_windows), dtype=np.int64), caar=np.full((n_cells, n_windows), np.nan),
            statistic=np.full((n_tests, n_cells, n_windows), np.nan),
            p_value=np.full((n_tests, n_cells, n_windows), np.nan), errors=[])

    def add(self, part) -> None:
        """Write one chunk's output into its pairs' rows and its cells (chunks may come in any order:
        :meth:`finish` puts their exclusions and errors back in event order)."""
        self.put(part.rows, part)
        self.pending.append((part.first_cell, part.exclusions, part.error))
        if part.error is not None:
            return
        cells = slice(part.first_cell, part.first_cell + part.n.shape[0])
        self.n[cells], self.caar[cells] = part.n, part.caar
        self.statistic[:, cells], self.p_value[:, cells] = part.statistic, part.p_value


def combine(parts: list, n_pairs: int, n_cells: int, n_windows: int, n_tests: int) -> StudyOutput:
    """Put chunk outputs (any order) into arrays over all pairs and cells."""
    first = parts[0]
    out = StudyOutput.empty(n_pairs, n_cells, n_windows, n_tests, first.slopes.shape[1], first.dates.shape[1])
    for part in parts:
        out.add(part)
    return out.finish()
