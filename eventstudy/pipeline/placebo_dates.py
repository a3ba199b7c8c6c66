"""Placebo event dates: the sessions a placebo window may use (away from every real event window and
confounder date, with a full estimation window in the data) and seeded draws from them.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import PlaceboError

__all__ = ["blocked_dates", "eligible_dates", "draw_dates", "as_ns"]


def as_ns(idx) -> np.ndarray:
    """Dates as int64 nanoseconds whatever the index's unit (``datetime64[us]`` indexes compare wrong as ``asi8``)."""
    return pd.DatetimeIndex(idx).as_unit("ns").asi8


def _span(windows: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Relative days covered by the event windows (always including day 0)."""
    return min(0, *(a for a, _ in windows)), max(0, *(b for _, b in windows))


def blocked_dates(day0: pd.DataFrame, sessions: Mapping[str, pd.DatetimeIndex], windows: Sequence[tuple[int, int]],
                  confounders: Sequence | pd.DatetimeIndex = ()) -> pd.DatetimeIndex:
    """Every session covered by a real event window of any pair (``day0``: ticker, day0), on the pair's own
    calendar from day ``min(0, window starts)`` to ``max(0, window ends)``, plus the ``confounders`` dates."""
    lo, hi = _span(windows)
    out = [pd.DatetimeIndex(pd.to_datetime(list(confounders))).normalize()]
    d0 = day0.dropna(subset=["day0"])
    for t, g in d0.groupby("ticker", sort=False):
        s = sessions.get(t)
        if s is None or len(s) == 0:
            continue
        pos = np.searchsorted(as_ns(s), as_ns(pd.DatetimeIndex(g["day0"]).normalize()))
        rel = pos[:, None] + np.arange(lo, hi + 1)[None, :]
        rel = rel[(rel >= 0) & (rel < len(s))]
        out.append(s[np.unique(rel)])
    return pd.DatetimeIndex(np.unique(np.concatenate([o.to_numpy().astype("datetime64[ns]") for o in out])))


def eligible_dates(sessions: Mapping[str, pd.DatetimeIndex], tickers: Sequence[str], estimation: tuple[int, int],
                   windows: Sequence[tuple[int, int]], min_obs: int, blocked: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Placebo day-0 dates for a design of ``tickers``: sessions of its commonest calendar where that calendar
    has at least ``min_obs`` sessions in the estimation window and every window day inside the data, and
    where no ticker's window span (day 0 mapped to its first session on or after the date) touches ``blocked``."""
    cals: dict[tuple, pd.DatetimeIndex] = {}
    count: dict[tuple, int] = {}
    for t in tickers:
        s = sessions.get(t)
        if s is None or len(s) == 0:
            continue
        key = (len(s), int(as_ns(s[:1])[0]), int(as_ns(s[-1:])[0]))
        cals.setdefault(key, s)
        count[key] = count.get(key, 0) + 1
    if not cals:
        return pd.DatetimeIndex([])
    ref = cals[max(count, key=count.get)]
    lo, hi = _span(windows)
    e0, e1 = estimation
    pos = np.arange(len(ref))
    n_est = np.minimum(pos + e1, len(ref) - 1) - np.maximum(pos + e0, 0) + 1
    ok = (n_est >= min_obs) & (pos + lo >= 0) & (pos + hi < len(ref))
    cand = ref[ok]
    blk = as_ns(blocked)
    keep = np.ones(len(cand), dtype=bool)
    for s in cals.values():
        sn = as_ns(s)
        p = np.searchsorted(sn, as_ns(cand))                       # first session on or after the date
        rel = p[:, None] + np.arange(lo, hi + 1)[None, :]
        inside = (rel >= 0) & (rel < len(s))
        days = sn[np.clip(rel, 0, len(s) - 1)]
        keep &= ~(np.isin(days, blk) & inside).any(axis=1)
    return cand[keep]


def draw_dates(eligible: pd.DatetimeIndex, draws: int, seed: int | np.random.SeedSequence) -> pd.DatetimeIndex:
    """``draws`` placebo dates from ``eligible``, uniformly: without replacement when there are enough
    dates, else with replacement. Reproducible from ``seed``."""
    if len(eligible) == 0:
        raise PlaceboError("no eligible placebo date: every session is inside a real event window, a confounder "
                           "date or too close to the start of the data for the estimation window; give prices "
                           "over a longer period")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(eligible), size=draws, replace=draws > len(eligible))
    return eligible[idx]


# ---------------------------------------------------------------------------------- the study
