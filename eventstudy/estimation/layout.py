"""Where every (security, event) pair's returns and regressors sit: :class:`PairLayout`, built once per fit.

Work is per unique ticker and per trading calendar, never per pair: each calendar's returns become
one NaN-padded row per name (security or regressor) of a stacked matrix, and a pair is then three
integers (its return row, its regressor rows, the column of its first relative day). Row 0 of the
matrix is all-NaN: pairs that cannot be gathered point there. :meth:`PairLayout.gather` copies some
pairs' data into dense ``(pairs, relative days)`` arrays. A layout holds only arrays, so it pickles.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eventstudy.data.return_store import ReturnStore
from eventstudy.estimation.data import Regressors, StudyData
from eventstudy.estimation.windows import WindowSpec
from eventstudy.returns.alignment import align_to_closes, same_date_values

__all__ = ["PairLayout", "calendar_key", "PAIR_FIELDS"]

#: the fields of :class:`PairLayout` with one entry per pair
PAIR_FIELDS = ("yrow", "frow", "start", "drow", "block", "reason")


@dataclass(frozen=True)
class PairLayout:
    """Where each pair's data sits (see the module docstring).

    ``mat (R, width)``: stacked returns rows (per calendar, one row per security or regressor;
    row 0 all-NaN), ``dates (n_cal + 1, width)`` the session date of each column per calendar,
    ``yrow (P,)``, ``frow (P, q)`` rows of a pair's own return and regressors, ``start (P,)`` the
    column of its first relative day, ``drow (P,)`` its row of ``dates``, ``block (P,)`` pairs with
    identical regressor rows, ``reason (P,)`` why a pair cannot be gathered ('' when it can),
    ``row_names (R,)`` the name of each row of ``mat`` ('' for row 0). ``n_days`` is the length of the
    relative-day grid and ``span_start, span_len`` the event span's first grid position and length.

    With a returns ``store`` (lazy input) ``mat`` holds only the regressors' rows (read whole, aligned as in
    memory): a security's row is read from the store when a chunk gathers it. Then ``row_pos (R,)`` is a
    row's position in ``mat`` (-1: in the store), ``row_cal (R,)`` its row of ``dates`` and ``row_code (R,)``
    its ticker's position in the store.
    """

    mat: np.ndarray
    dates: np.ndarray
    yrow: np.ndarray
    frow: np.ndarray
    start: np.ndarray
    drow: np.ndarray
    block: np.ndarray
    reason: np.ndarray
    row_names: np.ndarray | None = None
    n_days: int = 0
    span_start: int = 0
    span_len: int = 0
    store: ReturnStore | None = None
    row_pos: np.ndarray | None = None
    row_cal: np.ndarray | None = None
    row_code: np.ndarray | None = None

    @property
    def span(self) -> slice:
        """The event span on the relative-day grid (every event window lies inside it)."""
        return slice(self.span_start, self.span_start + self.span_len)

    @classmethod
    def build(cls, data: StudyData, regressors: Regressors, spec: WindowSpec, *, alignment: str = "close",
              log_returns: bool = False) -> "PairLayout":
        """Locate every pair of ``data.pairs`` on its own calendar (regressors put on the security's
        sessions by ``alignment``, :mod:`eventstudy.returns.alignment`)."""
        pairs = data.pairs
        n_pairs, q = len(pairs), regressors.q
        rel = spec.rel_days
        inv, uniq = pd.factorize(pairs["ticker"].to_numpy().astype(str))
        uniq = np.asarray(uniq, dtype=str)
        regs_u = regressors.names_for(uniq)
        reason_u = _unavailable(uniq, regs_u, data.columns, regressors.what)
        reason = reason_u[inv]
        cal, cal_sessions, cal_closes = _calendars(data, uniq, reason_u, alignment)
        cal = cal[inv]
        day0 = pd.DatetimeIndex(pairs["day0"])
        yrow = np.zeros(n_pairs, dtype=np.int64)
        frow = np.zeros((n_pairs, q), dtype=np.int64)
        start = np.zeros(n_pairs, dtype=np.int64)
        drow = np.zeros(n_pairs, dtype=np.int64)
        blocks: list[tuple[np.ndarray, np.ndarray, list[str]]] = []     # (matrix, dates, row names) per calendar
        lazy_rows: list[list[str]] = []                                   # the names of its rows in the matrix
        n_rows = 1
        for c, sess in enumerate(cal_sessions):
            idx = np.flatnonzero(cal == c)
            p0 = sess.get_indexer(day0[idx])
            bad = p0 < 0
            for j in np.flatnonzero(bad):          # exclusions only
                reason[idx[j]] = (f"day 0 {day0[idx[j]].date()} is not a trading session of {uniq[inv[idx[j]]]} "
                                  f"(or is outside its data); map announcements with eventstudy.calendars.map_day0")
            idx, p0 = idx[~bad], p0[~bad]
            if not len(idx):
                continue
            us = np.unique(inv[idx])
            reg_names = {r for u in us for r in regs_u[u]}
            names = sorted(set(uniq[us]) | reg_names)
            col_of = {n: j for j, n in enumerate(names)}
            eager = [n for n in names if data.store is None or n in data.returns.columns]
            body, dates_c, pad_lo = _calendar_rows(data, eager, reg_names, sess, cal_closes[c], p0, rel, log_returns)
            ycol_u = np.full(len(uniq), -1)
            ycol_u[us] = [col_of[t] for t in uniq[us]]
            yrow[idx] = n_rows + ycol_u[inv[idx]]
            if q:
                fcol_u = np.zeros((len(uniq), q), dtype=np.int64)
                fcol_u[us] = [[col_of[r] for r in regs_u[u]] for u in us]
                frow[idx] = n_rows + fcol_u[inv[idx]]
            start[idx] = p0 + int(rel[0]) + pad_lo
            drow[idx] = len(blocks) + 1
            blocks.append((body, dates_c, names))
            lazy_rows.append(eager)
            n_rows += len(names)
        big, dmat, row_names = _stack(blocks, n_rows, len(rel))
        lazy = {} if data.store is None else _lazy_rows(data.store, blocks, lazy_rows, n_rows)
        width = big.shape[1]
        # pairs with identical regressor rows (calendar, first column, regressor names) share a block
        block = pd.factorize(drow * width + start)[0]
        for j in range(q):
            block = pd.factorize(block.astype(np.int64) * n_rows + frow[:, j])[0]
        lo, hi = spec.event_span()
        return cls(mat=big, dates=dmat, yrow=yrow, frow=frow, start=start, drow=drow, block=block,
                   reason=reason, row_names=row_names, n_days=len(rel), span_start=int(lo - spec.rmin),
                   span_len=int(hi - lo + 1), **lazy)

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense ``y (n, D)``, ``f (n, D, q)`` and span dates ``(n, S)`` for the pairs ``rows``.

        Pairs that share a first column (same calendar position of day 0: an event hitting many
        securities) are copied as row slices of the stacked matrix; with many distinct first
        columns one flat ``take`` does it."""
        if self.store is not None:
            return self._gather_lazy(rows)
        n_days, s0, n_span = self.n_days, self.span_start, self.span_len
        q = self.frow.shape[1]
        n = len(rows)
        start = self.start[rows]
        starts, inv = np.unique(start, return_inverse=True)
        if len(starts) <= 64:
            y = np.empty((n, n_days))
            f = np.empty((n, n_days, q))
            dates = np.empty((n, n_span), dtype="datetime64[ns]")
            yr, fr, dr = self.yrow[rows], self.frow[rows], self.drow[rows]
            for j, c in enumerate(starts):
                sel = np.flatnonzero(inv == j) if len(starts) > 1 else slice(None)
                y[sel] = self.mat[yr[sel], c:c + n_days]
                for k in range(q):
                    f[sel, :, k] = self.mat[fr[sel, k], c:c + n_days]
                dates[sel] = self.dates[dr[sel], c + s0:c + s0 + n_span]
            return y, f, dates
        width = self.mat.shape[1]
        cols = start[:, None] + np.arange(n_days)
        flat = self.mat.ravel()
        y = np.take(flat, self.yrow[rows, None] * width + cols)
        f = np.empty((n, n_days, q))
        for k in range(q):
            f[:, :, k] = np.take(flat, self.frow[rows, k, None] * width + cols)
        dates = np.take(self.dates.ravel(), self.drow[rows, None] * width + cols[:, s0:s0 + n_span])
        return y, f, dates

    def pair_arrays(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The per-pair fields of the pairs ``rows`` (pair ``i`` of :meth:`with_pairs` is ``rows[i]`` here)."""
        return {name: getattr(self, name)[rows] for name in PAIR_FIELDS}

    def with_pairs(self, arrays: dict[str, np.ndarray]) -> "PairLayout":
        """The same matrix and calendars with other per-pair fields (:meth:`pair_arrays`): with a store, what
        one chunk's task needs, whatever the size of the study."""
        return dataclasses.replace(self, **arrays)

    def _gather_lazy(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`gather` with a store: the rows and columns these pairs use, the securities' read from the
        store (only their tickers, only these dates), put in a small layout of their own and gathered there
        (the same values, copied the same way, as from the whole matrix)."""
        live = self.yrow[rows] > 0                      # pairs that can be gathered (the others point at row 0)
        start = self.start[rows]
        lo = int(start[live].min()) if live.any() else 0
        hi = (int(start[live].max()) if live.any() else 0) + self.n_days
        used = np.unique(np.concatenate([[0], self.yrow[rows][live], self.frow[rows][live].ravel()]))
        local = np.full((len(used), hi - lo), np.nan)
        pos = self.row_pos[used]
        local[pos >= 0] = self.mat[pos[pos >= 0], lo:hi]
        lazy = np.flatnonzero(pos < 0)
        for cal in np.unique(self.row_cal[used[lazy]]):
            which = lazy[self.row_cal[used[lazy]] == cal]
            day = self.dates[cal, lo:hi]
            cols = np.flatnonzero(~np.isnat(day))
            if not cols.size:
                continue
            sess = day[cols].astype(np.int64)
            codes = self.row_code[used[which]]
            slot = np.zeros(len(self.store.tickers), dtype=np.int64)
            slot[codes] = which
            for code, date, value in self.store.read_groups(codes, day[cols[0]], day[cols[-1]]):
                at = np.minimum(np.searchsorted(sess, date), len(sess) - 1)
                on = sess[at] == date                    # a stored date that is not a session here is not used
                local[slot[code[on]], cols[at[on]]] = value[on]
        sub = PairLayout(mat=local, dates=self.dates[:, lo:hi], yrow=np.where(live, np.searchsorted(used, self.yrow[rows]), 0),
                         frow=np.where(live[:, None], np.searchsorted(used, self.frow[rows]), 0),
                         start=np.where(live, start - lo, 0), drow=self.drow[rows], block=self.block[rows],
                         reason=self.reason[rows], n_days=self.n_days, span_start=self.span_start,
                         span_len=self.span_len)
        return sub.gather(np.arange(len(rows)))


def _lazy_rows(store: ReturnStore, blocks: list, eager: list[list[str]], n_rows: int) -> dict:
    """With a store: where every row of the stacked numbering is (:class:`PairLayout`'s ``row_pos`` in the
    matrix of the rows held in memory, ``row_cal``, ``row_code`` in the store)."""
    row_pos = np.full(n_rows, -1, dtype=np.int64)
    row_cal = np.zeros(n_rows, dtype=np.int64)
    row_code = np.full(n_rows, -1, dtype=np.int64)
    row_pos[0] = 0
    r0, kept = 1, 1
    for c, ((_, _, names), in_memory) in enumerate(zip(blocks, eager)):
        held = set(in_memory)
        for j, name in enumerate(names):
            row_cal[r0 + j] = c + 1
            if name in held:                 # rows held are in the order of the names
                row_pos[r0 + j] = kept
                kept += 1
            else:
                row_code[r0 + j] = store.code[name]
        r0 += len(names)
    return {"store": store, "row_pos": row_pos, "row_cal": row_cal, "row_code": row_code}


def calendar_key(idx: pd.DatetimeIndex) -> tuple:
    """A hashable key of a session index (equal indexes, equal keys)."""
    v = idx.asi8
    return (len(v), int(v[0]) if len(v) else 0, int(v[-1]) if len(v) else 0, hash(v.tobytes()))


def _unavailable(tickers: np.ndarray, regs: list[list[str]], columns: set, what: str) -> np.ndarray:
    """Per unique ticker, why it cannot be gathered: its returns or a regressor's are not in the data."""
    reason = np.full(len(tickers), "", dtype=object)
    for u, (t, rg) in enumerate(zip(tickers, regs)):
        if t not in columns:
            reason[u] = f"no returns for ticker {t} (not in the price data)"
        else:
            missing = [r for r in rg if r not in columns]
            if missing:
                reason[u] = f"{what} {missing[0] or '(none given)'} of {t} is not in the price data"
    return reason


def _calendars(data: StudyData, tickers: np.ndarray, reason: np.ndarray, alignment: str):
    """The calendar number of each unique ticker (-1 when it cannot be gathered), and each calendar's
    sessions and session closes (closes only with the ``close`` alignment)."""
    keys: dict[tuple, int] = {}
    sessions: list[pd.DatetimeIndex] = []
    closes_of: list[pd.DatetimeIndex | None] = []
    calendar = np.full(len(tickers), -1)
    close_keys: dict[int, tuple] = {}          # id -> (closes, key): tickers of one calendar share their closes
    for u, t in enumerate(tickers):
        if reason[u]:
            continue
        sess = data.sessions_for(t)
        closes = data.closes.get(t) if alignment == "close" else None
        if closes is not None and id(closes) not in close_keys:
            close_keys[id(closes)] = (closes, calendar_key(pd.DatetimeIndex(closes)))
        key = (calendar_key(sess), None if closes is None else close_keys[id(closes)][1])
        if key not in keys:
            keys[key] = len(sessions)
            sessions.append(sess)
            closes_of.append(closes)
        calendar[u] = keys[key]
    return calendar, sessions, closes_of


def _calendar_rows(data: StudyData, names: list[str], reg_names: set[str], sess: pd.DatetimeIndex,
                   closes: pd.DatetimeIndex | None, day0_pos: np.ndarray, rel: np.ndarray, log_returns: bool):
    """One calendar's rows: the returns of ``names`` on its sessions ``sess`` (regressors aligned to them),
    NaN-padded so that every pair's grid (day 0 at session position ``day0_pos``) is in range; the session
    date of each column; and the padding before the first session."""
    mat = data.returns.reindex(index=sess, columns=names).to_numpy(dtype=float, copy=True)
    if data.sessions:
        _align_regressors(data, mat, names, reg_names, sess, closes, log_returns)
    # pad so that every pair's grid is in range: out of the data = NaN
    pad_lo = max(0, -(int(day0_pos.min()) + int(rel[0])))
    pad_hi = max(0, int(day0_pos.max()) + int(rel[-1]) + 1 - len(sess))
    body = np.full((len(names), pad_lo + len(sess) + pad_hi), np.nan)
    body[:, pad_lo:pad_lo + len(sess)] = mat.T
    dates = np.full(body.shape[1], np.datetime64("NaT"), dtype="datetime64[ns]")
    dates[pad_lo:pad_lo + len(sess)] = sess.values.astype("datetime64[ns]")
    return body, dates, pad_lo


def _stack(blocks: list[tuple[np.ndarray, np.ndarray, list[str]]], n_rows: int, n_days: int):
    """The calendars' padded matrices stacked under an all-NaN row 0, their date rows, and the row names
    (with a store, the matrices hold only the rows kept in memory: ``n_rows`` counts all)."""
    width = max([n_days] + [body.shape[1] for body, _, _ in blocks])
    big = np.full((1 + sum(body.shape[0] for body, _, _ in blocks), width), np.nan)
    dmat = np.full((len(blocks) + 1, width), np.datetime64("NaT"), dtype="datetime64[ns]")
    r0 = 1
    for c, (body, dates_c, _) in enumerate(blocks):
        big[r0:r0 + body.shape[0], :body.shape[1]] = body
        dmat[c + 1, :dates_c.size] = dates_c
        r0 += body.shape[0]
    row_names = np.array([""] + [n for _, _, names in blocks for n in names], dtype=object)
    return big, dmat, row_names


def _align_regressors(data: StudyData, mat: np.ndarray, names: list[str], reg_names: set[str],
                      sess: pd.DatetimeIndex, closes: pd.DatetimeIndex | None, log_returns: bool) -> None:
    """Put each regressor column of ``mat`` (sessions ``sess`` x ``names``) on these sessions, in place.

    With the ``close`` alignment and session closes known for both sides, a regressor's value on
    session t is its return compounded over its sessions closing in (close t-1, close t]
    (:func:`eventstudy.returns.alignment.align_to_closes`). Otherwise (``same_date``, or no hours
    known) a regressor whose market is closed on one of these sessions did not move: its return
    there is 0, not missing; only dates outside its own sessions are filled. A security's own
    missing return stays missing either way.
    """
    for j, n in enumerate(names):
        own = data.sessions.get(n)
        if n not in reg_names or own is None or not len(own):
            continue
        own = pd.DatetimeIndex(own)
        vals = data.returns[n].reindex(own).to_numpy(dtype=float)
        reg_closes = data.closes.get(n)
        if closes is not None and reg_closes is not None:
            mat[:, j] = align_to_closes(vals, pd.DatetimeIndex(reg_closes).as_unit("ns").asi8,
                                        pd.DatetimeIndex(closes).as_unit("ns").asi8, log=log_returns)
        else:
            mat[:, j] = same_date_values(vals, own.as_unit("ns").asi8, sess.as_unit("ns").asi8)
