"""The event-study engine: (security, event) pairs + returns -> EventStudyResult.

The hot path is batched over all pairs: returns are gathered into dense
``(pairs, relative days)`` arrays per trading calendar (:func:`eventstudy.windows.gather`),
the normal-return model is fitted for all pairs at once (:mod:`eventstudy.models`),
and the test battery runs once per (event, group, window) cell (:mod:`eventstudy.stattests`).
There is no Python loop per pair.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import models as _models

from .errors import EstimationError, WindowError
from .progress import progress
from .results import EventStudyResult, StudyArrays
from .windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, Window, WindowSpec

ALL = "all"


def _as_panel(panel) -> tuple[pd.DataFrame, Mapping[str, pd.DatetimeIndex], str]:
    """Accept a ReturnPanel or a wide DataFrame (date index x tickers)."""
    if isinstance(panel, pd.DataFrame):
        ret = panel
        sessions: Mapping[str, pd.DatetimeIndex] = {}
        kind = "simple"
    else:
        ret = panel.returns
        sessions = panel.sessions
        kind = getattr(panel, "kind", "simple")
    if not isinstance(ret.index, pd.DatetimeIndex):
        try:
            ret = ret.copy()
            ret.index = pd.DatetimeIndex(pd.to_datetime(ret.index))
        except (ValueError, TypeError) as exc:
            raise WindowError(f"returns must be indexed by date; could not read the index as dates ({exc})") from None
    if ret.index.has_duplicates:
        dup = ret.index[ret.index.duplicated()][0]
        raise WindowError(f"returns have a duplicated date {dup.date()}; keep one row per date")
    ret = ret.sort_index()
    return ret, sessions, kind


def _normalise_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    need = {"ticker", "event_id", "day0"}
    missing = need - set(pairs.columns)
    if missing:
        raise WindowError(f"pairs need columns ticker, event_id, day0; missing: {', '.join(sorted(missing))}")
    out = pd.DataFrame({
        "ticker": pairs["ticker"].astype(str).to_numpy(),
        "event_id": pairs["event_id"].astype(str).to_numpy(),
        "day0": pd.to_datetime(pairs["day0"]).dt.normalize().to_numpy(),
        "group": (pairs["group"].astype(str).to_numpy() if "group" in pairs.columns
                  else np.full(len(pairs), ALL, dtype=object)),
    })
    if out.empty:
        raise WindowError("no (security, event) pairs to study: pairs is empty")
    dup = out.duplicated(["ticker", "event_id"])
    if dup.any():
        r = out[dup].iloc[0]
        raise WindowError(f"pair (ticker {r.ticker}, event {r.event_id}) appears twice; give each pair once")
    return out.reset_index(drop=True)


def _calendar_key(idx: pd.DatetimeIndex) -> tuple:
    v = idx.asi8
    return (len(v), int(v[0]) if len(v) else 0, int(v[-1]) if len(v) else 0, hash(v.tobytes()))


class EventStudy:
    """Specification of an event study; :meth:`fit` runs it.

    Parameters
    ----------
    panel : ReturnPanel or wide DataFrame of returns (decimal; dates x tickers; NaN = missing).
        With a plain DataFrame every column's trading days are the frame's index.
    pairs : DataFrame with ``ticker, event_id, day0`` and optionally ``group``.
    model : ``constant_mean``, ``market_adjusted``, ``market`` or ``factor``.
    benchmark : column of ``panel`` used as the market return, one name for all or a
        mapping ticker -> column (market and market-adjusted models).
    factors : list of columns of ``panel`` (or a DataFrame indexed by date whose columns
        are joined to the panel) used as regressors by the factor model, or a mapping
        ticker -> list of columns (same number for every ticker; e.g. each security's own
        benchmark plus ``JPY=X``).
    estimation, windows : relative trading days, inclusive (METHODS.md "Notation").
    min_obs : minimum usable estimation days; default ``max(k + 3, ceil(estimation length / 2))``.
    pooled_group : name of the group that pools every pair (``None`` for none).
    pool_exclude : groups left out of the pooled group (e.g. futures and indices).
    log_returns : whether returns are log returns (affects BHAR only); default from the panel.
    variance_ddof : residual variance ``sum e^2 / (M_i - variance_ddof)``; default ``k`` as in
        METHODS.md. ``1`` reproduces R's estudy2 (sample sd of the residuals).
    progress : show a progress bar for the bootstrap (default: on a terminal, not under CI).
    """

    def __init__(self, panel, pairs: pd.DataFrame, model: str = "market",
                 benchmark: str | Mapping[str, str] | None = None,
                 factors: Sequence[str] | pd.DataFrame | None = None,
                 estimation: Window | str = DEFAULT_ESTIMATION,
                 windows: Iterable[Window | str] = DEFAULT_WINDOWS,
                 min_obs: int | None = None, pooled_group: str | None = ALL,
                 pool_exclude: Sequence[str] = (), log_returns: bool | None = None,
                 variance_ddof: int | None = None, progress: bool | None = None) -> None:
        if model not in _models.MODELS:
            raise EstimationError(f"unknown model {model!r}; choose one of {', '.join(_models.MODELS)}")
        self.returns, self.sessions, kind = _as_panel(panel)
        self.pairs = _normalise_pairs(pairs)
        self.model = model
        self.spec = WindowSpec.build(estimation, windows)
        self.log_returns = (kind == "log") if log_returns is None else bool(log_returns)
        if isinstance(factors, pd.DataFrame):
            fac = factors.copy()
            fac.index = pd.DatetimeIndex(pd.to_datetime(fac.index)).normalize()
            clash = set(fac.columns) & set(self.returns.columns)
            if clash:
                raise EstimationError(f"factor columns {sorted(clash)} also appear in the returns; rename them")
            self.returns = self.returns.join(fac, how="left")
            factors = list(fac.columns)
        # factors: one list for every security, or a mapping ticker -> list (same length for all)
        self.factor_map: dict[str, list[str]] | None = None
        if isinstance(factors, Mapping):
            self.factor_map = {str(t): list(v) for t, v in factors.items()}
            lens = {len(v) for v in self.factor_map.values()}
            if len(lens) > 1:
                raise EstimationError("every security needs the same number of factors in the factor model")
            q = lens.pop() if lens else 0
            # name a factor by its column when every security uses the same one, else by position
            self.factors = []
            for j in range(q):
                cols = {v[j] for v in self.factor_map.values()}
                self.factors.append(cols.pop() if len(cols) == 1 else ("benchmark" if j == 0 else f"factor{j + 1}"))
        else:
            self.factors = list(factors) if factors is not None else []
        self.benchmark = benchmark
        if model in ("market", "market_adjusted") and benchmark is None:
            raise EstimationError(f"the {model} model needs a benchmark (a column of the returns, e.g. '1306.T')")
        if model == "factor" and not self.factors:
            raise EstimationError("the factor model needs factor columns, e.g. factors=['1306.T', 'JPY=X']")
        for fname in (self.factors if self.factor_map is None else []):
            if fname not in self.returns.columns:
                raise EstimationError(f"factor {fname!r} is not a column of the returns; "
                                      f"available columns include {', '.join(map(str, list(self.returns.columns)[:8]))}")
        q = 0 if model == "constant_mean" else (len(self.factors) if model == "factor" else 1)
        self.k = _models.n_params(model, q)
        est_len = self.spec.estimation_length
        self.min_obs = int(min_obs) if min_obs is not None else max(self.k + 3, math.ceil(est_len / 2))
        if self.min_obs > est_len:
            raise WindowError(f"min_obs={self.min_obs} exceeds the estimation window length {est_len}")
        self.pooled_group = pooled_group
        self.pool_exclude = tuple(pool_exclude)
        self.variance_ddof = variance_ddof
        self.progress = progress

    # ------------------------------------------------------------------ helpers
    def _regressor_names(self, tickers: np.ndarray) -> list[list[str]]:
        if self.model == "constant_mean":
            return [[] for _ in tickers]
        if self.model == "factor":
            if self.factor_map is not None:
                return [self.factor_map.get(t, [""] * len(self.factors)) for t in tickers]
            return [list(self.factors) for _ in tickers]
        if isinstance(self.benchmark, str):
            return [[self.benchmark] for _ in tickers]
        bm = dict(self.benchmark)
        return [[bm.get(t, "")] for t in tickers]

    def _benchmark_column(self, tickers: np.ndarray) -> np.ndarray:
        """The benchmark of each ticker (market and market-adjusted models), via unique tickers."""
        uniq, inv = np.unique(tickers.astype(str), return_inverse=True)
        return np.array([rg[0] for rg in self._regressor_names(uniq)], dtype=object)[inv]

    def _sessions_for(self, ticker: str) -> pd.DatetimeIndex:
        s = self.sessions.get(ticker) if self.sessions else None
        return self.returns.index if s is None else pd.DatetimeIndex(s)

    # ------------------------------------------------------------------ gather
    def _gather(self):
        """Dense arrays for every pair; returns (y, f, dates, pair_reason, blocks).

        Work is per unique ticker and per (calendar, day-0 position) block, never per pair:
        pairs that share a calendar and a day 0 (an event hitting many securities) are filled
        from one slice of that calendar's return matrix.
        """
        pairs = self.pairs
        P = len(pairs)
        rel = self.spec.rel_days
        D = len(rel)
        q = 0 if self.model == "constant_mean" else (len(self.factors) if self.model == "factor" else 1)
        y = np.full((P, D), np.nan)
        f = np.full((P, D, q), np.nan)
        lo_s, hi_s = self.spec.event_span()
        span = (rel >= lo_s) & (rel <= hi_s)
        s0, S = int(np.flatnonzero(span)[0]), int(span.sum())
        dates = np.full((P, S), np.datetime64("NaT"), dtype="datetime64[ns]")   # on the event span only
        blocks = np.full(P, -1, dtype=np.int64)     # pairs with identical regressor rows share a block
        next_block = 0
        uniq, inv = np.unique(pairs["ticker"].to_numpy().astype(str), return_inverse=True)
        regs_u = self._regressor_names(uniq)
        cols_avail = set(self.returns.columns)
        reason_u = np.full(len(uniq), "", dtype=object)
        for u, (t, rg) in enumerate(zip(uniq, regs_u)):
            if t not in cols_avail:
                reason_u[u] = f"no returns for ticker {t} (not in the price data)"
            else:
                missing = [r for r in rg if r not in cols_avail]
                if missing:
                    what = "benchmark" if self.model != "factor" else "factor"
                    reason_u[u] = f"{what} {missing[0] or '(none given)'} of {t} is not in the price data"
        reason = reason_u[inv]
        # trading calendar of each unique ticker
        cal_keys: dict[tuple, int] = {}
        cal_sessions: list[pd.DatetimeIndex] = []
        cal_u = np.full(len(uniq), -1)
        for u, t in enumerate(uniq):
            if reason_u[u]:
                continue
            sess = pd.DatetimeIndex(self._sessions_for(t))
            key = _calendar_key(sess)
            if key not in cal_keys:
                cal_keys[key] = len(cal_sessions)
                cal_sessions.append(sess)
            cal_u[u] = cal_keys[key]
        cal = cal_u[inv]
        day0 = pd.DatetimeIndex(pairs["day0"])
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
            names = sorted(set(uniq[us]) | {r for u in us for r in regs_u[u]})
            col_of = {n: j for j, n in enumerate(names)}
            mat = self.returns.reindex(index=sess, columns=names).to_numpy(dtype=float, copy=True)
            reg_names = {r for u in us for r in regs_u[u]}
            if self.sessions:
                # A benchmark or factor whose market is closed on one of this calendar's sessions
                # did not move: its return there is 0, not missing (a security's own missing
                # return stays missing). Only dates outside the regressor's own sessions are filled.
                for j, n in enumerate(names):
                    own = self.sessions.get(n)
                    if n in reg_names and own is not None and len(own):
                        own = pd.DatetimeIndex(own)
                        closed = ~sess.isin(own) & (sess >= own.min()) & (sess <= own.max())
                        mat[closed, j] = 0.0
            ycol_u = np.full(len(uniq), -1)
            ycol_u[us] = [col_of[t] for t in uniq[us]]
            fcol_u = np.zeros((len(uniq), q), dtype=int)
            if q:
                fcol_u[us] = [[col_of[r] for r in regs_u[u]] for u in us]
            # pad the matrix so that every window slice is in range: out of data = NaN
            pad_lo, pad_hi = max(0, -(int(p0.min()) + int(rel[0]))), max(0, int(p0.max()) + int(rel[-1]) + 1 - len(sess))
            matp = np.vstack([np.full((pad_lo, mat.shape[1]), np.nan), mat, np.full((pad_hi, mat.shape[1]), np.nan)])
            datep = np.concatenate([np.full(pad_lo, np.datetime64("NaT"), dtype="datetime64[ns]"),
                                    sess.values.astype("datetime64[ns]"),
                                    np.full(pad_hi, np.datetime64("NaT"), dtype="datetime64[ns]")])
            order = np.argsort(p0, kind="stable")
            p_sorted = p0[order]
            cuts = np.flatnonzero(np.diff(p_sorted)) + 1
            for grp in np.split(order, cuts):           # one block per distinct day 0 on this calendar
                rows = idx[grp]
                lo = int(p0[grp[0]]) + int(rel[0]) + pad_lo
                block = matp[lo:lo + D]                  # (D, columns)
                uu = inv[rows]
                y[rows] = block[:, ycol_u[uu]].T
                if q:
                    f[rows] = np.transpose(block[:, fcol_u[uu]], (1, 0, 2))
                    _, sub = np.unique(fcol_u[uu], axis=0, return_inverse=True)
                    sub = np.asarray(sub).ravel()
                    blocks[rows] = next_block + sub
                    next_block += int(sub.max()) + 1
                else:
                    blocks[rows] = next_block
                    next_block += 1
                dates[rows] = datep[lo + s0:lo + s0 + S]
        return y, f, dates, reason, blocks

    # ------------------------------------------------------------------ fit
    def fit(self, bootstrap: int = 0, seed: int = 0) -> EventStudyResult:
        """Estimate the model for every pair, compute AR/CAR and run the test battery.

        ``bootstrap`` > 0 adds a resampling p-value with that many draws (test id ``bootstrap``).
        """
        from . import stattests  # imported here: the maths module is independent of the engine

        spec = self.spec
        pairs = self.pairs
        y, f, dates, pre_reason, blocks = self._gather()
        est = spec.estimation_mask()
        fitted = _models.fit_batch(self.model, y, f, est, self.min_obs, ddof=self.variance_ddof, blocks=blocks)
        reason = np.where(pre_reason != "", pre_reason, fitted.reason)
        ok = reason == ""

        excl_rows = [dict(event_id=e, ticker=t, window_start=np.nan, window_end=np.nan, reason=r)
                     for e, t, r in zip(pairs["event_id"][~ok], pairs["ticker"][~ok], reason[~ok])]
        if not ok.any():
            summary = pd.Series(reason).value_counts().head(3)
            raise WindowError("no (security, event) pair could be estimated; most common reasons: "
                              + "; ".join(f"{n}× {r}" for r, n in summary.items()))

        # SARs are needed on the event span only (every window lies inside it)
        lo, hi = spec.event_span()
        span = (spec.rel_days >= lo) & (spec.rel_days <= hi)
        with np.errstate(invalid="ignore", divide="ignore"):
            sar_span = fitted.ar[:, span] / np.sqrt(fitted.s2[:, None] * (1.0 + fitted.h[:, span]))
            e_idx = np.flatnonzero(est)                  # one contiguous block: a view, not a copy
            est_ar = fitted.ar[:, e_idx[0]:e_idx[-1] + 1]
            est_sar = est_ar / np.sqrt(fitted.s2)[:, None]

        # ---- per window: CAR table
        car_frames = []
        win_arrays = {}
        df_resid = fitted.df.astype(float)
        for w in spec.windows:
            wm = spec.window_mask(w)
            cs = _models.car_stats(fitted, f, wm)
            bh = _models.bhar(y, fitted.normal, wm, self.log_returns)
            with np.errstate(invalid="ignore"):
                p = 2 * stats.t.sf(np.abs(cs["scar"]), np.maximum(df_resid, 1))
            miss = ok & (cs["n_missing"] > 0)
            for i in np.flatnonzero(miss):
                rd = spec.rel_days[wm][~np.isfinite(fitted.ar[i, wm])]
                dd = dates[i, wm[span]][~np.isfinite(fitted.ar[i, wm])]
                where = ", ".join(
                    f"day {r:+d}" + (f" ({pd.Timestamp(d).date()})" if not pd.isna(d) else " (after the last session in the data)")
                    for r, d in zip(rd[:3], dd[:3]))
                excl_rows.append(dict(event_id=pairs.at[i, "event_id"], ticker=pairs.at[i, "ticker"],
                                      window_start=w[0], window_end=w[1],
                                      reason=f"missing return in the event window: {where}"))
            valid = ok & np.isfinite(cs["car"])
            win_arrays[w] = (cs, valid, wm)
            car_frames.append(pd.DataFrame({
                "event_id": pairs["event_id"], "ticker": pairs["ticker"], "group": pairs["group"],
                "window_start": w[0], "window_end": w[1],
                "car": np.where(ok, cs["car"], np.nan), "car_se": np.where(ok, np.sqrt(cs["var"]), np.nan),
                "scar": np.where(ok, cs["scar"], np.nan), "p_value": np.where(ok, p, np.nan),
                "bhar": np.where(ok, bh, np.nan), "n_days": int(wm.sum()), "m_obs": fitted.m,
            })[ok])
        car = pd.concat(car_frames, ignore_index=True)

        # ---- AR panel over the event span
        rel_span = spec.rel_days[span]
        okidx = np.flatnonzero(ok)
        n_s = len(rel_span)
        ar_df = pd.DataFrame({
            "event_id": np.repeat(pairs["event_id"].to_numpy()[okidx], n_s),
            "ticker": np.repeat(pairs["ticker"].to_numpy()[okidx], n_s),
            "group": np.repeat(pairs["group"].to_numpy()[okidx], n_s),
            "date": dates[okidx].ravel(),
            "rel_day": np.tile(rel_span, len(okidx)),
            "ret": y[:, span][okidx].ravel(),
            "normal_ret": fitted.normal[:, span][okidx].ravel(),
            "ar": fitted.ar[:, span][okidx].ravel(),
            "sar": sar_span[okidx].ravel(),
        })

        # ---- params
        params = pd.DataFrame({
            "event_id": pairs["event_id"], "ticker": pairs["ticker"], "group": pairs["group"],
            "model": self.model, "m_obs": fitted.m, "df": fitted.df, "sigma": np.sqrt(fitted.s2),
            "const": fitted.const,
        })
        if self.model == "market":
            params["benchmark"] = self._benchmark_column(pairs["ticker"].to_numpy())
            params["beta"] = fitted.slopes[:, 0]
        elif self.model == "factor":
            for j, name in enumerate(self.factors):
                params[f"beta_{name}"] = fitted.slopes[:, j]
        elif self.model == "market_adjusted":
            params["benchmark"] = self._benchmark_column(pairs["ticker"].to_numpy())
        params = params[ok].reset_index(drop=True)

        # ---- tests per (event, group, window): one batched call over every cell (eventstudy.cellstats)
        from .cellstats import run_tests_batched

        groups = list(dict.fromkeys(pairs["group"]))
        ev_arr = pairs["event_id"].to_numpy()
        gr_arr = pairs["group"].to_numpy()
        pooled = None
        if self.pooled_group and not (len(groups) == 1 and groups[0] == self.pooled_group):
            pooled = ~np.isin(gr_arr, list(self.pool_exclude))
        events = list(dict.fromkeys(ev_arr))
        n_g = len(groups) + (pooled is not None)
        ev_code = pd.Index(events).get_indexer(ev_arr)
        gr_code = pd.Index(groups).get_indexer(gr_arr)
        # cell id = event * n_g + group (the pooled group last): the order the tests table lists them
        okp = np.flatnonzero(ok)
        mem_pair = [okp]
        mem_cell = [ev_code[okp] * n_g + gr_code[okp]]
        if pooled is not None:
            pp = np.flatnonzero(ok & pooled)
            mem_pair.append(pp)
            mem_cell.append(ev_code[pp] * n_g + (n_g - 1))
        n_cells = len(events) * n_g
        wins = list(spec.windows)
        batch = run_tests_batched(
            member_pair=np.concatenate(mem_pair), member_cell=np.concatenate(mem_cell), n_cells=n_cells,
            car=np.stack([win_arrays[w][0]["car"] for w in wins]),
            scar=np.stack([win_arrays[w][0]["scar"] for w in wins]),
            valid=np.stack([win_arrays[w][1] for w in wins]), m=fitted.m, k=self.k,
            est_ar=est_ar, est_sar=est_sar, event_sar=sar_span, window_masks=np.stack([win_arrays[w][2][span] for w in wins]),
            cell_block=np.repeat(np.arange(len(events)), n_g))
        tids = list(batch.test_ids)
        stat = batch.statistic
        pval = batch.p_value
        if bootstrap is None or int(bootstrap) > 0:      # resampling stays per cell (optional, not batched)
            cell_sel = [(ev_arr == e) & ((gr_arr == g) if j < len(groups) else pooled)
                        for e in events for j, g in enumerate(groups + ([self.pooled_group] if pooled is not None else []))]
            boot = np.full((1, n_cells, len(wins)), np.nan)
            boot_p = np.full((1, n_cells, len(wins)), np.nan)
            for c, sel in enumerate(progress(cell_sel, total=len(cell_sel), desc="bootstrap", unit="cell",
                                             enabled=self.progress)):
                for wi, w in enumerate(wins):
                    cs, valid, wm = win_arrays[w]
                    m_ = sel & valid
                    if m_.any():
                        tr = stattests.bootstrap_caar(cs["car"][m_], est_ar[m_], int(wm.sum()), n_boot=bootstrap,
                                                      seed=int(seed), statistic="caar", scar=cs["scar"][m_],
                                                      est_sar=est_sar[m_], k=self.k)
                        boot[0, c, wi], boot_p[0, c, wi] = tr.statistic, tr.p_value
            tids.append("bootstrap")
            stat = np.concatenate([stat, boot])
            pval = np.concatenate([pval, boot_p])
        cell_idx, win_idx = np.nonzero(batch.n > 0)        # cell-major, then window: the table's order
        nt = len(tids)
        names_g = np.array(groups + ([self.pooled_group] if pooled is not None else []), dtype=object)
        tests = pd.DataFrame({
            "event_id": np.repeat(np.array(events, dtype=object)[cell_idx // n_g], nt),
            "group": np.repeat(names_g[cell_idx % n_g], nt),
            "window_start": np.repeat(np.array([w[0] for w in wins])[win_idx], nt),
            "window_end": np.repeat(np.array([w[1] for w in wins])[win_idx], nt),
            "n": np.repeat(batch.n[cell_idx, win_idx], nt),
            "caar": np.repeat(batch.caar[cell_idx, win_idx], nt),
            "test": np.tile(np.array(tids, dtype=object), len(cell_idx)),
            "statistic": stat[:, cell_idx, win_idx].T.ravel(),
            "p_value": pval[:, cell_idx, win_idx].T.ravel(),
        }, columns=["event_id", "group", "window_start", "window_end", "n", "caar", "test", "statistic", "p_value"])
        exclusions = pd.DataFrame(excl_rows, columns=["event_id", "ticker", "window_start", "window_end", "reason"])

        arrays = StudyArrays(pairs=pairs, ok=ok, rel_days=spec.rel_days, est_mask=est, y=y, f=f,
                             dates=dates, fit=fitted)
        return EventStudyResult(
            model=self.model, k=self.k, estimation=spec.estimation, windows=spec.windows,
            min_obs=self.min_obs, ar=ar_df.reset_index(drop=True), car=car, tests=tests,
            params=params, exclusions=exclusions, pooled_group=self.pooled_group,
            regressors=tuple(self.factors) if self.model == "factor" else (
                () if self.model == "constant_mean" else ("benchmark",)),
            bootstrap=int(bootstrap), arrays=arrays)


def run_event_study(panel, pairs: pd.DataFrame, **kwargs) -> EventStudyResult:
    """Functional shortcut: ``EventStudy(panel, pairs, **spec).fit(bootstrap=..., seed=...)``."""
    fit_kw = {k: kwargs.pop(k) for k in ("bootstrap", "seed") if k in kwargs}
    return EventStudy(panel, pairs, **kwargs).fit(**fit_kw)
