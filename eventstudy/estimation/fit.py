"""Fit the normal-return model for some pairs of a layout, and say why a pair or a window has no estimate.

:func:`fit_rows` gathers the pairs' dense arrays (:meth:`PairLayout.gather`), leaves out the estimation
days the study drops, fits the model (:func:`eventstudy.estimation.normal_returns.fit_batch`) and names
the regressor behind a constant-regressor exclusion; :func:`missing_reason` words why a pair has no CAR
in a window. :class:`FitSettings` holds what these need of the study's specification; it pickles.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from eventstudy.estimation import normal_returns
from eventstudy.estimation.layout import PairLayout
from eventstudy.estimation.windows import Window, WindowSpec

__all__ = ["FitSettings", "fit_rows", "constant_reason", "missing_reason"]


@dataclass(frozen=True)
class FitSettings:
    """The specification a fit of pairs follows: ``model`` with ``k`` parameters, the windows ``spec``,
    ``min_obs`` usable estimation days, the residual-variance ``variance_ddof`` (None: ``k``), whether the
    returns are ``log_returns`` (BHAR), ``what`` a regressor is called in messages (``benchmark`` |
    ``factor``) and ``drop``: (pair index, grid column) of estimation days left out, sorted by pair."""

    model: str
    k: int
    spec: WindowSpec
    min_obs: int
    variance_ddof: int | None = None
    log_returns: bool = False
    what: str = "benchmark"
    drop: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def windows(self) -> list[Window]:
        return list(self.spec.windows)

    def window_masks(self) -> list[np.ndarray]:
        """Each event window's days on the relative-day grid."""
        return [self.spec.window_mask(w) for w in self.spec.windows]

    def subset(self, rows: np.ndarray) -> "FitSettings":
        """The settings of the pairs ``rows`` only (pair ``i`` here is ``rows[i]`` there): ``drop`` renumbered."""
        if self.drop is None:
            return self
        local = pd.Index(rows).get_indexer(self.drop[0])
        keep = local >= 0
        order = np.argsort(local[keep], kind="stable")
        return replace(self, drop=(local[keep][order], self.drop[1][keep][order]))

    def estimation_block(self) -> tuple[int, int]:
        """First and one-past-last grid position of the estimation days (one contiguous block)."""
        days = np.flatnonzero(self.spec.estimation_mask())
        return int(days[0]), int(days[-1]) + 1


def fit_rows(layout: PairLayout, settings: FitSettings, rows: np.ndarray):
    """Gather and fit the pairs ``rows``: ``(y, f, dates, BatchFit, reason)``; ``reason`` ('' when the pair
    is estimated) is the layout's reason, else the fit's, with a constant regressor named."""
    y, f, dates = layout.gather(rows)
    if settings.drop is not None:              # estimation days left out for these pairs (another own event)
        drop_pair, drop_col = settings.drop
        local = pd.Index(rows).get_indexer(drop_pair)
        hit = local >= 0
        y[local[hit], drop_col[hit]] = np.nan
    fitted = normal_returns.fit_batch(settings.model, y, f, settings.spec.estimation_mask(), settings.min_obs,
                                      ddof=settings.variance_ddof, blocks=layout.block[rows])
    pre = layout.reason[rows]
    reason = np.where(pre != "", pre, fitted.reason)
    const = np.flatnonzero(reason == normal_returns.CONSTANT_REGRESSOR)
    if const.size and layout.row_names is not None and f.shape[2]:
        reason[const] = constant_reason(layout, settings, rows[const], y[const], f[const])
    return y, f, dates, fitted, reason


def constant_reason(layout: PairLayout, settings: FitSettings, rows: np.ndarray, y: np.ndarray,
                    f: np.ndarray) -> list[str]:
    """Name the benchmark or factor that does not vary over each pair's estimation days (exclusions only)."""
    est = settings.spec.estimation_mask()
    what = settings.what
    out = []
    for row, yi, fi in zip(rows, y, f):       # one per excluded pair
        x = fi[est][np.isfinite(yi[est]) & np.isfinite(fi[est]).all(axis=1)]
        bad = normal_returns.is_degenerate(x.var(axis=0), x.mean(axis=0)) if len(x) else np.ones(fi.shape[1], bool)
        k = int(np.argmax(bad))
        name = layout.row_names[layout.frow[row, k]]
        out.append(f"{what} {name} is constant over the estimation window (value {x[0, k]:.6g} on every "
                   f"estimation day): it cannot explain returns; give a {what} that moves"
                   if len(x) else normal_returns.CONSTANT_REGRESSOR)
    return out


def missing_reason(layout: PairLayout, settings: FitSettings, row: int, y: np.ndarray, f: np.ndarray,
                   span_dates: np.ndarray, ar: np.ndarray, window_mask: np.ndarray) -> str:
    """Why one pair has no CAR in a window: its own missing returns, or a regressor's, by name and date."""
    rel = settings.spec.rel_days
    gone = ~np.isfinite(ar[window_mask])
    rel_gone = rel[window_mask][gone]
    dates_gone = span_dates[window_mask[layout.span]][gone]
    own_missing = ~np.isfinite(y[window_mask])[gone]
    reg_missing = ~np.isfinite(f[window_mask])[gone] if f.size else np.zeros((gone.sum(), 0), dtype=bool)

    def when(r: int, d) -> str:
        return f"{pd.Timestamp(d).date()} (day {r:+d})" if not pd.isna(d) else f"day {r:+d} (after the last session in the data)"

    if own_missing.any() or layout.row_names is None:
        sel = own_missing if own_missing.any() else np.ones(len(rel_gone), dtype=bool)
        where = ", ".join(f"day {r:+d}" + (f" ({pd.Timestamp(d).date()})" if not pd.isna(d)
                                           else " (after the last session in the data)")
                          for r, d in zip(rel_gone[sel][:3], dates_gone[sel][:3]))
        return f"missing return in the event window: {where}"
    k = int(np.argmax(reg_missing.any(axis=0)))
    name = layout.row_names[layout.frow[row, k]]
    days = np.flatnonzero(reg_missing[:, k])
    listed = ", ".join(when(int(rel_gone[j]), dates_gone[j]) for j in days[:3])
    return f"{settings.what} {name} has no return for session {listed} of the event window"
