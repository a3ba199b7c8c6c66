"""Daily returns on each ticker's own trading sessions.

For ticker i with sessions s_1 < s_2 < ... (its own calendar), the return on session s_k is

    simple: r = P(s_k) / P(s_{k-1}) - 1        log: r = ln(P(s_k) / P(s_{k-1}))

(decimals). It is NaN when either price is missing: a missing price makes two missing
returns and is never bridged. The first session has no return.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from eventstudy.data.base import PriceDataWarning, Prices, normalise_dates

__all__ = ["ReturnPanel", "compute_returns"]

_MASK_COLS = ["ticker", "date", "reason"]


def _empty_mask() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticker": pd.Series([], dtype=object),
            "date": pd.Series([], dtype="datetime64[ns]"),
            "reason": pd.Series([], dtype=object),
        }
    )


@dataclass(frozen=True)
class ReturnPanel:
    """Wide returns (DatetimeIndex = union of sessions, columns = tickers, NaN = missing),
    each ticker's own sessions, the return kind and the (ticker, date, reason) set to NaN on purpose."""

    returns: pd.DataFrame
    sessions: dict[str, pd.DatetimeIndex]
    kind: str
    masked: pd.DataFrame


def _session_index(values) -> pd.DatetimeIndex:
    idx = normalise_dates(values)
    return pd.DatetimeIndex(np.unique(idx.to_numpy()), name=getattr(values, "name", None))


def compute_returns(
    prices: Prices,
    kind: str = "simple",
    sessions: Mapping[str, pd.DatetimeIndex] | None = None,
    mask: pd.DataFrame | None = None,
) -> ReturnPanel:
    """Returns of every ticker in ``prices`` on its own sessions.

    ``sessions[ticker]`` (optional) is the ticker's trading calendar; it is cut to the span
    between the ticker's first and last price. Without it the ticker's own price dates are
    its sessions. Prices on dates that are not sessions are dropped, recorded in ``masked``
    with reason ``"price on a non-session date of <calendar>"`` (``<calendar>`` is the
    index's ``name``) and reported with a :class:`PriceDataWarning`.
    ``mask`` rows ``ticker, date, reason`` set those returns to NaN and are recorded in
    ``masked`` (rows that do not hit a session of a ticker in the panel are ignored).
    """
    if kind not in ("simple", "log"):
        raise ValueError(f"kind must be 'simple' or 'log', not {kind!r}")
    wide = prices.wide()
    tickers = list(wide.columns)
    masked_parts: list[pd.DataFrame] = []

    own: dict[str, pd.DatetimeIndex] = {}
    normalised: dict[int, pd.DatetimeIndex] = {}  # tickers usually share one calendar object
    off_session: list[tuple[str, pd.Timestamp, str]] = []
    for t in tickers:
        col = wide[t]
        dates = col.index[col.notna().to_numpy()]
        if sessions is not None and t in sessions and sessions[t] is not None:
            raw = sessions[t]
            cal = normalised.get(id(raw))
            if cal is None:
                cal = normalised[id(raw)] = _session_index(raw)
            cal_name = cal.name or f"the {t} trading calendar"
            outside = dates[~dates.isin(cal)]
            if len(outside):
                reason = f"price on a non-session date of {cal_name}"
                off_session += [(t, d, reason) for d in outside]
                dates = dates[dates.isin(cal)]
            if len(dates):
                s = cal[(cal >= dates[0]) & (cal <= dates[-1])]
            else:
                s = cal[:0]
            own[t] = pd.DatetimeIndex(s, name=None).astype("datetime64[ns]")
        else:
            own[t] = pd.DatetimeIndex(dates, name=None).astype("datetime64[ns]")

    if off_session:
        off = pd.DataFrame(off_session, columns=_MASK_COLS)
        per = off.groupby("ticker").size()
        listing = ", ".join(f"{t} ({k})" for t, k in per.head(5).items()) + (", ..." if len(per) > 5 else "")
        warnings.warn(
            f"{len(off)} price(s) fall on dates that are not trading sessions and were dropped: {listing}. "
            "See ReturnPanel.masked for the dates.",
            PriceDataWarning,
            stacklevel=2,
        )
        masked_parts.append(off)

    all_dates = [s.to_numpy() for s in own.values()]
    union = pd.DatetimeIndex(
        np.unique(np.concatenate(all_dates)) if all_dates else np.array([], dtype="datetime64[ns]"), name="date"
    ).astype("datetime64[ns]")

    n, k = len(union), len(tickers)
    P = wide.reindex(index=union).to_numpy(dtype="float64", copy=True) if k else np.empty((n, 0))
    is_session = np.zeros((n, k), dtype=bool)
    for j, t in enumerate(tickers):
        is_session[union.get_indexer(own[t]), j] = True
    P[~is_session] = np.nan

    # previous session row of each (row, ticker): running max of session row numbers, shifted by one
    rows = np.arange(n)[:, None]
    last_session = np.maximum.accumulate(np.where(is_session, rows, -1), axis=0) if n else np.empty((0, k), int)
    prev = np.vstack([np.full((1, k), -1), last_session[:-1]]) if n else last_session
    valid = is_session & (prev >= 0)
    cols = np.broadcast_to(np.arange(k), (n, k))
    P_prev = np.full((n, k), np.nan)
    P_prev[valid] = P[prev[valid], cols[valid]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = P / P_prev
        R = np.log(ratio) if kind == "log" else ratio - 1.0
    R[~valid] = np.nan

    if mask is not None and len(mask):
        m = mask.loc[:, _MASK_COLS].copy()
        m["date"] = normalise_dates(m["date"])
        col_of = {t: j for j, t in enumerate(tickers)}
        j = m["ticker"].map(col_of)
        i = pd.Series(union.get_indexer(pd.DatetimeIndex(m["date"])), index=m.index)
        hit = j.notna() & (i >= 0)
        if hit.any():
            ii = i[hit].to_numpy()
            jj = j[hit].to_numpy(dtype=int)
            on_session = is_session[ii, jj]
            ii, jj = ii[on_session], jj[on_session]
            R[ii, jj] = np.nan
            applied = m.loc[hit].loc[on_session]
            masked_parts.append(applied)

    returns = pd.DataFrame(R, index=union, columns=pd.Index(tickers, dtype=object))
    if masked_parts:
        masked = pd.concat(masked_parts, ignore_index=True)
        masked["date"] = normalise_dates(masked["date"])
        masked = (
            masked.drop_duplicates(["ticker", "date"], keep="last")
            .sort_values(["ticker", "date"], kind="mergesort")
            .reset_index(drop=True)
        )
        masked = masked.astype({"ticker": object, "reason": object})
    else:
        masked = _empty_mask()
    return ReturnPanel(returns=returns, sessions=own, kind=kind, masked=masked)
