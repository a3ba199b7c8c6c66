"""Placebo event dates: the sessions a placebo window may use (away from every real event window and
confounder date, with a full estimation window in the data), seeded draws from them, and the placebo pairs
they give: every member of a design on each drawn date (:func:`placebo_pairs`), or each firm-event on a date
of its own firm's (:func:`firm_draws`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import PlaceboError

__all__ = ["blocked_dates", "eligible_dates", "draw_dates", "as_ns", "placebo_pairs", "firm_draws"]


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


def placebo_pairs(members: dict[str, pd.DataFrame], dates: pd.DataFrame,
                   sessions: Mapping[str, pd.DatetimeIndex]) -> pd.DataFrame:
    """Pairs of every distinct (design, date): each member's day 0 is its first session on or after the date."""
    parts = []
    for design, g in dates.groupby("design", sort=False):
        m = members[design]
        d = pd.DatetimeIndex(g["date"])
        ev = np.repeat(g["event_id"].to_numpy(), len(m))
        tick = np.tile(m["ticker"].to_numpy(), len(d))
        grp = np.tile(m["group"].to_numpy(), len(d))
        day0 = np.empty(len(tick), dtype="datetime64[ns]")
        has = np.ones(len(tick), dtype=bool)
        dd = np.repeat(as_ns(d), len(m))
        for t in m["ticker"]:                                   # per ticker (calendar), vectorised over dates
            sn = as_ns(sessions[t])
            sel = np.flatnonzero(tick == t)
            p = np.searchsorted(sn, dd[sel])
            has[sel] = p < len(sn)                              # no session on or after the date: no pair
            day0[sel] = sn[np.clip(p, 0, len(sn) - 1)].view("datetime64[ns]")
        parts.append(pd.DataFrame({"ticker": tick[has], "event_id": ev[has], "day0": day0[has], "group": grp[has]}))
    return pd.concat(parts, ignore_index=True)


def firm_draws(real: pd.DataFrame, sessions: Mapping[str, pd.DatetimeIndex], estimation: tuple[int, int],
                windows: Sequence[tuple[int, int]], min_obs: int, confounders, draws: int, seed: int):
    """Placebo pairs of a pooled firm-specific design: in every draw, each real firm-event keeps its firm and
    gets a date of its own, drawn from that firm's eligible sessions (away from the firm's own real event
    windows and the confounder dates). Draw ``d`` is one pooled cell per group (``pool`` = ``d<d>``), as
    the real study is. Returns ``(drawn, designs, weights, pairs, eligible, blocked)``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    eligible: dict[str, pd.DatetimeIndex] = {}
    blocked_all = []
    for t, g in real.groupby("ticker", sort=False):           # once per firm
        blk = blocked_dates(g, sessions, windows, confounders)
        blocked_all.append(blk)
        eligible[t] = eligible_dates(sessions, [t], estimation, windows, min_obs, blk)
    empty = [t for t, e in eligible.items() if len(e) == 0]
    if len(empty) == len(eligible):
        raise PlaceboError("no firm has an eligible placebo date: give prices over a longer period")
    use = real[~real["ticker"].isin(empty)].reset_index(drop=True)
    n = len(use)
    sizes = np.array([len(eligible[t]) for t in use["ticker"]])
    pick = (rng.random((draws, n)) * sizes[None, :]).astype(np.int64)        # one uniform date per firm-event
    day0 = np.empty((draws, n), dtype="datetime64[ns]")
    for t, idx in use.groupby("ticker", sort=False).indices.items():           # per firm, vectorised over draws
        el = pd.DatetimeIndex(eligible[t]).as_unit("ns").values
        day0[:, idx] = el[pick[:, idx]]
    d = np.repeat(np.arange(draws), n)
    pairs = pd.DataFrame({
        "ticker": np.tile(use["ticker"].to_numpy(), draws),
        "event_id": np.char.add(np.char.add(np.repeat([f"d{i}" for i in range(draws)], n).astype(str), ":"),
                                np.tile(use["event_id"].to_numpy().astype(str), draws)),
        "day0": day0.ravel(),
        "group": np.tile(use["group"].to_numpy(), draws),
        "pool": np.char.add("d", d.astype(str)),
    })
    drawn = pd.DataFrame({"draw": d, "design": "firm", "date": day0.ravel(), "event_id": pairs["event_id"]})
    designs = pd.DataFrame({"design": ["firm"], "event_id": ["pooled"], "n_tickers": [use["ticker"].nunique()]})
    weights = pd.DataFrame({"event_id": [f"d{i}" for i in range(draws)], "w": 1, "design": "firm"})
    blocked = pd.DatetimeIndex(np.unique(np.concatenate([b.to_numpy().astype("datetime64[ns]") for b in blocked_all])))
    return drawn, designs, weights, pairs, eligible, blocked
