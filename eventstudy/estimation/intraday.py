"""Time-of-day normal returns for intraday bars, and same-time windows of the estimation period.

Intraday volatility has a strong time-of-day pattern (the open, the US open inside Osaka's
night session, the closing auction). The normal-return model therefore compares like with like:

* :func:`slot_profile` - per bar slot (session name, minutes after the session's open) and per
  session gap, the mean and standard deviation of the leg's log returns over the estimation
  sessions; :func:`standardise` turns each leg into an abnormal return ``ar = r - mean`` and a
  standardised one ``sar = ar / sd`` of its own time of day.
* :func:`same_time_windows` - the event window's log return on every estimation session of the
  same kind, starting at the same time of day (the sample the single-event tests compare the
  event with: the prediction-error t and the Gelbach-Helland-Klick sample-quantile test,
  :mod:`eventstudy.inference.quantile`). The expected window return is their mean.

With a benchmark (another instrument's bars), the event window and each sample window get the
benchmark's log return over the same instants (:func:`window_interval`, :func:`benchmark_returns`)
and the normal return is the market model fitted on the sample windows
(:func:`eventstudy.inference.quantile.regression_prediction`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.returns.intraday import IntradayWindow, LegArrays, leg_arrays, window_positions, window_return

__all__ = ["slot_profile", "standardise", "same_time_windows", "estimation_anchors", "window_interval",
           "benchmark_returns"]


def slot_profile(legs: pd.DataFrame, use: np.ndarray) -> pd.DataFrame:
    """Mean, sd (ddof 1) and count of the bar legs per (session, slot), and of the gap legs per
    (session, slot = -1), over the bars where ``use`` is True. Index (session, slot)."""
    d = legs.loc[use, ["session", "slot", "ret", "gap", "first"]]
    bars = d.groupby(["session", "slot"])["ret"].agg(["mean", "std", "count"])
    gaps = d[d["first"]].dropna(subset=["gap"]).groupby("session")["gap"].agg(["mean", "std", "count"])
    gaps.index = pd.MultiIndex.from_arrays([gaps.index, np.full(len(gaps), -1.0)], names=["session", "slot"])
    return pd.concat([bars, gaps]).rename(columns={"std": "sd", "count": "n"})


def standardise(legs: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """``ar``, ``sar`` of every bar leg and ``gap_ar``, ``gap_sar`` of every gap leg against ``profile``."""
    key = pd.MultiIndex.from_arrays([legs["session"], legs["slot"].astype(float)])
    gkey = pd.MultiIndex.from_arrays([legs["session"], np.full(len(legs), -1.0)])
    p, g = profile.reindex(key), profile.reindex(gkey)
    out = legs.copy()
    out["ar"] = legs["ret"].to_numpy() - p["mean"].to_numpy()
    out["sar"] = out["ar"] / p["sd"].to_numpy()
    out["gap_ar"] = legs["gap"].to_numpy() - g["mean"].to_numpy()
    out["gap_sar"] = out["gap_ar"] / g["sd"].to_numpy()
    return out


def estimation_anchors(legs: pd.DataFrame, pos: int, n_sessions: int = 120,
                       exclude_seq: frozenset[int] | set[int] = frozenset()) -> np.ndarray:
    """Bar positions of the same time of day as bar ``pos`` (same session name and slot) in the
    ``n_sessions`` most recent sessions whose trading date is before bar ``pos``'s trading date,
    leaving out sessions in ``exclude_seq`` (other events, futures rolls)."""
    sess, slot = legs["session"].to_numpy(), legs["slot"].to_numpy()
    td = pd.DatetimeIndex(legs["trading_date"]).as_unit("ns").asi8
    seq = legs["seq"].to_numpy()
    ok = (sess == sess[pos]) & (slot == slot[pos]) & (td < td[pos])
    if exclude_seq:
        ok &= ~np.isin(seq, list(exclude_seq))
    return np.flatnonzero(ok)[-n_sessions:]


def same_time_windows(legs: pd.DataFrame, pos: int, w: IntradayWindow, anchors: np.ndarray,
                      exclude_seq: frozenset[int] | set[int] = frozenset(),
                      arrays: LegArrays | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(log returns of window ``w`` at each anchor, the anchors kept).

    An anchor is kept when its window is complete like the event's: the same number of bars for
    ``bars``/``minutes`` windows, at least one bar and a known gap where the event's window has one,
    and no bar in a session of ``exclude_seq``. ``arrays``: :func:`leg_arrays` of ``legs`` if at hand."""
    a = arrays if arrays is not None else leg_arrays(legs)
    ev = window_return(a, pos, w)
    excl = np.asarray(sorted(exclude_seq))
    vals, kept = [], []
    for anchor in anchors:
        idx, _ = window_positions(a, int(anchor), w)
        if not len(idx) or (w.unit in ("bars", "minutes") and len(idx) != ev["n_bars"]):
            continue
        if len(excl) and np.isin(a.seq[idx[0]:idx[-1] + 1], excl).any():
            continue
        r = window_return(a, int(anchor), w)
        if not np.isfinite(r["logret"]):
            continue
        vals.append(r["logret"])
        kept.append(int(anchor))
    return np.asarray(vals, dtype="float64"), np.asarray(kept, dtype=int)


def window_interval(a: LegArrays, pos: int, w: IntradayWindow, bar_ns: int) -> tuple[int, int]:
    """(t0, t1) in ns UTC over which window ``w`` at bar ``pos`` measures its return: from the instant of its
    starting price (the end of the bar before it when the window starts from the previous close, else its
    first bar's open) to the end of its last bar."""
    idx, with_gap = window_positions(a, pos, w)
    if not len(idx):
        return -1, -1
    i, j = int(idx[0]), int(idx[-1])
    t0 = a.t[i - 1] + bar_ns if (i > 0 and (with_gap or not a.first[i])) else a.t[i]
    return int(t0), int(a.t[j] + bar_ns)


def benchmark_returns(opens_ns: np.ndarray, closes: np.ndarray, bar_ns: int, t0, t1) -> np.ndarray:
    """Log return of a benchmark between instants ``t0`` and ``t1`` (ns UTC) from its bars (open instants
    ``opens_ns``, ``closes``, length ``bar_ns``): its price at an instant is the close of its last bar ending
    at or before it (0 where it did not trade in between; NaN before its first bar)."""
    ends = np.asarray(opens_ns) + bar_ns
    i0 = np.searchsorted(ends, np.asarray(t0), side="right") - 1
    i1 = np.searchsorted(ends, np.asarray(t1), side="right") - 1
    out = np.full(len(i0), np.nan)
    ok = (i0 >= 0) & (i1 >= 0)
    c = np.asarray(closes, dtype="float64")
    out[ok] = np.log(c[i1[ok]] / c[i0[ok]])
    return out
