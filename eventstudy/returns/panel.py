"""Daily returns on each ticker's own trading sessions.

For ticker i with sessions s_1 < s_2 < ... (its own calendar), the return on session s_k is

    simple: r = P(s_k) / P(s_{k-1}) - 1        log: r = ln(P(s_k) / P(s_{k-1}))

(decimals). It is NaN when either price is missing: a missing price makes two missing
returns and is never bridged. The first session has no return.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from eventstudy.data.base import PriceDataWarning, Prices
from eventstudy.inputs.dates import normalise_dates
from eventstudy.errors import SpecificationError

__all__ = ["ReturnPanel", "compute_returns", "with_closes"]

_MASK_COLS = ["ticker", "date", "reason"]


def empty_mask() -> pd.DataFrame:
    """An empty mask frame of the shape :func:`compute_returns` takes (``ticker, date, reason``)."""
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
    each ticker's own sessions, the return kind and the (ticker, date, reason) set to NaN on purpose.

    ``closes[ticker]`` (optional) holds the UTC close instant of each of the ticker's sessions
    (``datetime64[ns, UTC]``, aligned with ``sessions[ticker]``); tickers without session hours are
    absent. The engine uses them to align regressors on other calendars by closing time
    (:mod:`eventstudy.returns.alignment`); :func:`with_closes` adds them.
    """

    returns: pd.DataFrame
    sessions: dict[str, pd.DatetimeIndex]
    kind: str
    masked: pd.DataFrame
    closes: Mapping[str, pd.DatetimeIndex] = field(default_factory=dict)


def _session_index(values) -> pd.DatetimeIndex:
    idx = normalise_dates(values)
    return pd.DatetimeIndex(np.unique(idx.to_numpy()), name=getattr(values, "name", None))


def _span_rows(member: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a bool (rows x cols) matrix: (count, first, last) True row (0, 0, -1 if none)."""
    n = member.shape[0]
    count = member.sum(axis=0)
    if n == 0:
        z = np.zeros(member.shape[1], dtype=np.intp)
        return count, z, z - 1
    first = member.argmax(axis=0)
    last = n - 1 - member[::-1].argmax(axis=0)
    return count, np.where(count > 0, first, 0), np.where(count > 0, last, -1)


def _own_dates(base: pd.DatetimeIndex, member: np.ndarray) -> list[pd.DatetimeIndex]:
    """``base[member[:, j]]`` for every column j (a slice when the rows are contiguous)."""
    count, first, last = _span_rows(member)
    out = []
    for j in range(member.shape[1]):
        if last[j] - first[j] + 1 == count[j]:
            out.append(base[first[j]:last[j] + 1])
        else:
            out.append(base[member[:, j]])
    return out


def _calendar_spans(pos: np.ndarray, member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``member`` (dates x cols, True = price): ``(lo, hi)`` such that
    ``cal[lo:hi]`` runs from the column's first to its last price on a session of ``cal``
    (``pos = cal.get_indexer(dates)``)."""
    count, first, last = _span_rows(member & (pos >= 0)[:, None])
    lo = np.where(count > 0, pos[first], 0)
    hi = np.where(count > 0, pos[np.maximum(last, 0)] + 1, 0)
    return lo, hi


def _covered(lo: np.ndarray, hi: np.ndarray, size: int) -> np.ndarray:
    """Bool mask of the positions 0..size-1 inside at least one range [lo[j], hi[j])."""
    depth = np.cumsum(np.bincount(lo, minlength=size + 1) - np.bincount(hi, minlength=size + 1))
    return depth[:size] > 0


def _calendar_groups(tickers: list[str], sessions) -> tuple[list[int], list[tuple[object, list[int]]]]:
    """Columns without a calendar, and (raw calendar, columns) for each distinct calendar object."""
    plain: list[int] = []
    groups: dict[int, tuple[object, list[int]]] = {}
    for j, t in enumerate(tickers):
        if sessions is not None and t in sessions and sessions[t] is not None:
            raw = sessions[t]
            groups.setdefault(id(raw), (raw, []))[1].append(j)
        else:
            plain.append(j)
    return plain, list(groups.values())


def _own_sessions(
    dates: pd.DatetimeIndex, has: np.ndarray, tickers: list[str], sessions
) -> tuple[dict[str, pd.DatetimeIndex], pd.DatetimeIndex, list, pd.DataFrame | None]:
    """Each ticker's own sessions from its price dates (``has``: dates x tickers, True = price).

    Returns ``(own, union, spans, off)``: sessions per ticker, their union (named ``date``),
    ``(calendar, columns, lo, hi)`` per calendar (column j's sessions are ``cal[lo:hi]``) and
    the prices on non-session dates as ``ticker, date, reason`` (None when there are none).
    """
    k = has.shape[1]
    plain, groups = _calendar_groups(tickers, sessions)
    own_list: list[pd.DatetimeIndex | None] = [None] * k
    union_parts: list[np.ndarray] = []
    # per calendar: (calendar, columns, lo, hi) with sessions cal[lo[j]:hi[j]] of column j
    spans: list[tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]] = []
    off_cols: list[np.ndarray] = []
    off_rows: list[np.ndarray] = []
    off_reason: dict[int, str] = {}
    if plain:
        member = has[:, plain] if len(plain) < k else has
        for j, own in zip(plain, _own_dates(dates, member)):
            own_list[j] = own
        union_parts.append(dates.to_numpy()[member.any(axis=1)])
    for raw, cols in groups:
        cal = _session_index(raw)
        cols = np.asarray(cols, dtype=np.intp)
        h = has[:, cols]
        pos = cal.get_indexer(dates)
        oc, orow = np.nonzero((h & (pos < 0)[:, None]).T)
        if len(oc):
            off_cols.append(cols[oc])
            off_rows.append(orow)
            for j in np.unique(cols[oc]):
                off_reason[int(j)] = f"price on a non-session date of {cal.name or f'the {tickers[j]} trading calendar'}"
        lo, hi = _calendar_spans(pos, h)
        cut: dict[tuple[int, int], pd.DatetimeIndex] = {}     # columns with the same span share one slice
        for j, a, b in zip(cols, lo.tolist(), hi.tolist()):
            if (a, b) not in cut:
                cut[a, b] = cal[a:b]
            own_list[j] = cut[a, b]
        union_parts.append(cal.to_numpy()[_covered(lo, hi, len(cal))])
        spans.append((cal, cols, lo, hi))

    off = None
    if off_cols:
        oc, orow = np.concatenate(off_cols), np.concatenate(off_rows)
        o = np.lexsort((orow, oc))
        oc, orow = oc[o], orow[o]
        off = pd.DataFrame(
            {
                "ticker": np.asarray(tickers, dtype=object)[oc],
                "date": dates.to_numpy()[orow],
                "reason": np.array([off_reason[int(j)] for j in oc], dtype=object),
            }
        )
    union = pd.DatetimeIndex(
        np.unique(np.concatenate(union_parts)) if union_parts else np.array([], dtype="datetime64[ns]"), name="date"
    ).astype("datetime64[ns]")
    return dict(zip(tickers, own_list)), union, spans, off


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
        raise SpecificationError(f"kind must be 'simple' or 'log', not {kind!r}")
    wide = prices.wide()
    tickers = list(wide.columns)
    masked_parts: list[pd.DataFrame] = []
    dates = pd.DatetimeIndex(wide.index.to_numpy().astype("datetime64[ns]"), name=wide.index.name)
    W = wide.to_numpy(dtype="float64")
    has = ~np.isnan(W)
    n0, k = W.shape

    own, union, spans, off = _own_sessions(dates, has, tickers, sessions)
    if off is not None:
        per = off.groupby("ticker").size()
        listing = ", ".join(f"{t} ({k})" for t, k in per.head(5).items()) + (", ..." if len(per) > 5 else "")
        warnings.warn(
            f"{len(off)} price(s) fall on dates that are not trading sessions and were dropped: {listing}. "
            "See ReturnPanel.masked for the dates.",
            PriceDataWarning,
            stacklevel=2,
        )
        masked_parts.append(off)

    n = len(union)
    src = dates.get_indexer(union)  # row of `wide` for each union date, -1 if none
    got = src >= 0
    if got.all() and n == n0:
        P, is_session = W.copy(), has  # W may be a read-only view of `wide`
    else:
        P = np.full((n, k), np.nan)
        is_session = np.zeros((n, k), dtype=bool)
        P[got] = W[src[got]]
        is_session[got] = has[src[got]]
    for cal, cols, lo, hi in spans:
        pos = cal.get_indexer(union)[:, None]
        is_session[:, cols] = (pos >= lo[None, :]) & (pos < hi[None, :])
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
        masked = empty_mask()
    return ReturnPanel(returns=returns, sessions=own, kind=kind, masked=masked)


def with_closes(panel: ReturnPanel, models: Mapping[str, object]) -> ReturnPanel:
    """``panel`` with the close instant of every session of each ticker whose session model has hours.

    ``models``: ticker -> :class:`~eventstudy.calendars.sessions.SessionModel`; a model without hours
    (``has_times`` False) adds nothing. Work is per distinct model: its closes are looked up once,
    then taken at each ticker's own sessions."""
    import dataclasses

    closes: dict[str, pd.DatetimeIndex] = dict(panel.closes)
    by_model: dict[int, tuple[object, list[str]]] = {}
    for t, m in models.items():
        if t in panel.sessions and getattr(m, "has_times", False):
            by_model.setdefault(id(m), (m, []))[1].append(t)
    for m, tickers in by_model.values():
        full = m.all_sessions()
        _, all_closes = m.session_bounds(full)
        seen: dict[bytes, pd.DatetimeIndex | None] = {}      # tickers with the same sessions share one lookup
        for t in tickers:
            own = panel.sessions[t]
            own = own if isinstance(own, pd.DatetimeIndex) else pd.DatetimeIndex(own)
            key = own.asi8.tobytes()
            if key not in seen:
                pos = full.get_indexer(own)
                # not on this calendar: no hours (the engine then matches by date)
                seen[key] = None if (pos < 0).any() else all_closes[pos]
            if seen[key] is not None:
                closes[t] = seen[key]
    return dataclasses.replace(panel, closes=closes)
