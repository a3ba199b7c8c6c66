"""Aligning a regressor (benchmark or factor) on another trading calendar to a security's sessions.

Tokyo's session D runs from the close of D-1 (15:30 JST) to the close of D; the New York session
dated D-1 closes inside it (16:00 ET = 06:00 JST D), the one dated D after it. Matching by calendar
date pairs Tokyo's D with New York's D, which Tokyo has not seen yet. Synchronous alignment (the
``close`` method) gives the regressor's return over the security's own interval instead:

    x_t = prod_{j : c_{t-1} < C_j <= c_t} (1 + r_j) - 1            (simple returns; a sum for log returns)

where ``c`` are the security's session closes and ``C`` the regressor's, as UTC instants from each
calendar's real hours (exchange_calendars: DST and early closes included). A regressor with no
session closing in the interval did not move: x_t = 0. A regressor session inside the interval with
no return (a missing price on a day it traded) makes x_t missing. On one calendar the interval holds
exactly the regressor's session t, so x_t = r_t unchanged. See Scholes & Williams (1977) and
Dimson (1979) on non-synchronous trading; docs/METHODS.md, section 14 "Regressors on other calendars".

``same_date`` (the convention of tools that match by date) takes the regressor's return of the
same calendar date, 0 where its market was closed; it is also what is used when either series has
no session hours (a calendar of its own price dates).
"""
from __future__ import annotations

import numpy as np

__all__ = ["ALIGNMENTS", "align_to_closes", "same_date_values", "describe_alignment"]

#: accepted values of the ``alignment`` option
ALIGNMENTS: tuple[str, ...] = ("close", "same_date")


def align_to_closes(values: np.ndarray, source_closes: np.ndarray, target_closes: np.ndarray, *,
                    log: bool = False) -> np.ndarray:
    """Returns of a source series over each target session's close-to-close interval.

    ``values[j]``: the source's return over its session j (decimal; NaN = missing), ending at
    ``source_closes[j]``; ``target_closes[i]``: close of the target's session i. Both close arrays are
    int64 nanoseconds since the epoch (UTC), increasing. Returns ``x`` with ``x[i]`` the compounded
    source return over ``(target_closes[i-1], target_closes[i]]`` (a sum when ``log``); 0 when no
    source session closes in the interval and the interval lies inside the source's data
    (``source_closes[0] < target_closes[i]`` and ``target_closes[i-1] < source_closes[-1]``); NaN
    when a source return in the interval is missing, outside the source's data, and at ``i = 0``.
    """
    v = np.asarray(values, dtype=float)
    S = np.asarray(source_closes, dtype=np.int64)
    T = np.asarray(target_closes, dtype=np.int64)
    n = len(T)
    out = np.full(n, np.nan)
    if n < 2 or not len(S):
        return out
    lo = np.searchsorted(S, T[:-1], side="right")   # first source session closing after c_{t-1}
    hi = np.searchsorted(S, T[1:], side="right")    # first source session closing after c_t
    count = hi - lo
    missing = np.isnan(v)
    n_missing = np.concatenate([[0], np.cumsum(missing)])
    bad = (n_missing[hi] - n_missing[lo]) > 0
    with np.errstate(invalid="ignore"):
        terms = np.where(missing, 0.0, v if log else np.log1p(v))
    csum = np.concatenate([[0.0], np.cumsum(terms)])
    agg = csum[hi] - csum[lo]
    x = np.where(count == 1, v[np.minimum(lo, len(v) - 1)], agg if log else np.expm1(agg))
    inside = (T[1:] > S[0]) & (T[:-1] < S[-1])
    x = np.where(count == 0, np.where(inside, 0.0, np.nan), x)
    x[bad] = np.nan
    out[1:] = x
    return out


def same_date_values(values: np.ndarray, source_dates: np.ndarray, target_dates: np.ndarray) -> np.ndarray:
    """The source's return on each target date (``same_date``): its own value where it has a session
    on that date, 0 where it had no session (its market was closed) between its first and last
    session, NaN outside its data. Dates are int64 nanoseconds (tz-naive midnight), increasing."""
    v = np.asarray(values, dtype=float)
    S = np.asarray(source_dates, dtype=np.int64)
    T = np.asarray(target_dates, dtype=np.int64)
    out = np.full(len(T), np.nan)
    if not len(S):
        return out
    pos = np.searchsorted(S, T)
    hit = (pos < len(S)) & (S[np.minimum(pos, len(S) - 1)] == T)
    out[hit] = v[pos[hit]]
    closed = ~hit & (T >= S[0]) & (T <= S[-1])
    out[closed] = 0.0
    return out


def describe_alignment(method: str, regressor: str, own_calendar: str, regressor_calendar: str,
                       timed: bool) -> str:
    """Short words for the audit: how ``regressor`` was put on the security's sessions.

    ``own_calendar``/``regressor_calendar``: calendar names ('XTKS', 'XNYS', 'dates'); ``timed``: both
    have session hours."""
    if method == "close" and timed and own_calendar == regressor_calendar:
        return f"{regressor}: same calendar ({own_calendar})"
    if method == "close" and timed:
        return (f"{regressor}: {regressor_calendar} sessions closing in ({own_calendar} close t-1, "
                f"{own_calendar} close t], compounded")
    why = "as asked" if method == "same_date" else "no session hours known"
    return f"{regressor}: same calendar date ({why})"
