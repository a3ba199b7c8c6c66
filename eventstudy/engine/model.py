"""The event-study engine: (security, event) pairs + returns -> EventStudyResult.

Every pair is located once (:meth:`EventStudy._layout`: its return row, regressor rows and
first column in a stacked NaN-padded matrix per trading calendar). The work then streams over
chunks of whole events on the machine's cores: each chunk is gathered into dense
``(pairs, relative days)`` arrays, the normal-return model is fitted for all its pairs at once
(:mod:`eventstudy.estimation.normal_returns`), and the test battery runs batched over its (event, group, window)
cells (:mod:`eventstudy.inference.batched`, equal to the per-cell reference :mod:`eventstudy.inference.reference`).
There is no Python loop per pair.
"""
from __future__ import annotations

import copy
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

from eventstudy.estimation import normal_returns as _models
from eventstudy.returns.alignment import ALIGNMENTS, align_to_closes, same_date_values
from eventstudy.errors import EstimationError, WindowError
from eventstudy.progress import progress_bar
from eventstudy.engine.results import POOLED, EventStudyResult, StudyArrays
from eventstudy.estimation.windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, Window, WindowSpec

ALL = "all"

#: most bootstrap draws accepted: each draw holds ~24 bytes per (event, group, window) cell while that
#: cell is tested (the draw's index, its value and the comparison), so 10 million draws need ~240 MB a
#: cell per core; the p-value's resolution is bounded by the estimation window's pseudo-windows anyway
MAX_BOOTSTRAP = 10_000_000


def check_bootstrap(n, name: str = "bootstrap") -> None:
    """Raise :class:`EstimationError` unless ``n`` is None or a whole number of draws 0..MAX_BOOTSTRAP."""
    if n is None:
        return
    cli = name.startswith("--")
    who = f"{name} {n}" if cli else f"{name}={n!r}"
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) and not (isinstance(n, float) and n.is_integer()) \
            or n < 0:
        raise EstimationError(f"{who}: give a number of draws >= 0 "
                              + ("(0, the default, is off)" if cli else "(0: none), or None for every pseudo-window"))
    if n > MAX_BOOTSTRAP:
        raise EstimationError(f"{who}: at most {MAX_BOOTSTRAP:,} draws ({MAX_BOOTSTRAP * 24 / 1e6:,.0f} MB per "
                              f"cell and core; {n:,} would need {n * 24 / 1e9:,.1f} GB); more draws cannot sharpen "
                              f"the p-value beyond the estimation window's pseudo-windows: use 9999 or 99999")


def check_seed(seed, name: str = "seed") -> None:
    """Raise :class:`EstimationError` unless ``seed`` is a whole number 0 .. 2**63-1 (numpy's range)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 63:
        who = f"{name} {seed!r}" if name.startswith("--") else f"{name}={seed!r}"
        raise EstimationError(f"{who}: give a whole number from 0 to {2 ** 63 - 1} "
                              f"(the random generator takes no negative seeds)")


def _as_panel(panel) -> tuple[pd.DataFrame, Mapping[str, pd.DatetimeIndex], str, Mapping[str, pd.DatetimeIndex]]:
    """Accept a ReturnPanel or a wide DataFrame (date index x tickers): (returns, sessions, kind, closes)."""
    closes: Mapping[str, pd.DatetimeIndex] = {}
    if isinstance(panel, pd.DataFrame):
        ret = panel
        sessions: Mapping[str, pd.DatetimeIndex] = {}
        kind = "simple"
    else:
        ret = panel.returns
        sessions = panel.sessions
        kind = getattr(panel, "kind", "simple")
        closes = getattr(panel, "closes", None) or {}
    if not isinstance(ret.index, pd.DatetimeIndex):
        try:
            ret = ret.copy()
            ret.index = pd.DatetimeIndex(pd.to_datetime(ret.index))
        except (ValueError, TypeError) as exc:
            raise WindowError(f"returns must be indexed by date; could not read the index as dates ({exc})") from None
    if ret.index.has_duplicates:
        dup = ret.index[ret.index.duplicated()][0]
        raise WindowError(f"returns have a duplicated date {dup.date()}; keep one row per date")
    if ret.columns.has_duplicates:
        dup = ret.columns[ret.columns.duplicated()][0]
        raise EstimationError(f"returns have the column {dup!r} twice; keep one column per ticker")
    ret = ret.sort_index()
    check_returns(ret, given=isinstance(panel, pd.DataFrame))
    return ret, sessions, kind, closes


#: a daily return beyond this (a price jump by a factor of 1,000) is a data error, not news
MAX_ABS_RETURN = 1_000.0


def check_returns(ret: pd.DataFrame, given: bool = True) -> None:
    """Refuse returns that cannot be decimal returns, naming the column, the date and what to do.

    Always: non-numeric columns, infinite values and returns beyond :data:`MAX_ABS_RETURN` (an
    overflow or a unit error in the prices). When the caller ``given`` the returns: columns that
    look like price levels (all positive, median above 0.5) or percentages (median absolute
    value above 0.2, i.e. 20% a day), judged on columns with at least 20 values.
    """
    try:
        vals = ret.to_numpy(dtype="float64")
    except (TypeError, ValueError):
        bad = next((c for c in ret.columns if not pd.api.types.is_numeric_dtype(ret[c])), None)
        raise EstimationError(f"returns column {bad!r} is not numeric; give decimal returns (0.01 = 1%)") from None
    with np.errstate(invalid="ignore", over="ignore"):
        big = ~np.isnan(vals) & ~(np.abs(vals) <= MAX_ABS_RETURN)
    if big.any():
        i, j = (int(x[0]) for x in np.nonzero(big))
        raise EstimationError(
            f"return of {ret.columns[j]} on {ret.index[i]:%Y-%m-%d} is {vals[i, j]:.6g}: a price jump by a factor "
            f"above {MAX_ABS_RETURN:,.0f} (or an overflow) is a data error, not news; check that ticker's prices "
            f"around that date (units, a missing decimal point)")
    if not given or vals.shape[0] < 20:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN columns
        n = np.sum(~np.isnan(vals), axis=0)
        med = np.nanmedian(vals, axis=0)
        med_abs = np.nanmedian(np.abs(vals), axis=0)
        all_pos = np.nanmin(vals, axis=0) > 0
    enough = n >= 20
    level = enough & all_pos & (med > 0.5)
    if level.any():
        j = int(np.flatnonzero(level)[0])
        raise EstimationError(f"returns column {ret.columns[j]!r} looks like price levels (all positive, median "
                              f"{med[j]:.4g}): give returns, e.g. prices.pct_change(), or pass the prices to "
                              f"eventstudy.returns.panel.compute_returns")
    pct = enough & ~level & (med_abs > 0.2)
    if pct.any():
        j = int(np.flatnonzero(pct)[0])
        raise EstimationError(f"returns column {ret.columns[j]!r} looks like percentages (median absolute return "
                              f"{med_abs[j]:.4g}, i.e. {med_abs[j] * 100:.4g}% a "
                              f"day): give decimal returns (0.01 = 1%), e.g. divide by 100")


def _normalise_pairs(pairs: pd.DataFrame, pool: bool | str = False) -> pd.DataFrame:
    need = {"ticker", "event_id", "day0"}
    missing = need - set(pairs.columns)
    if missing:
        raise WindowError(f"pairs need columns ticker, event_id, day0; missing: {', '.join(sorted(missing))}")
    if "group" in pairs.columns and pairs["group"].isna().any():
        bad = pairs.loc[pairs["group"].isna(), "ticker"].astype(str).unique()
        raise EstimationError(f"pairs of {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''} have no group (NaN); "
                              f"give every pair a group, or drop the group column to pool them all")
    out = pd.DataFrame({
        "ticker": pairs["ticker"].astype(str).to_numpy(),
        "event_id": pairs["event_id"].astype(str).to_numpy(),
        "day0": _session_dates(pairs),
        "group": (pairs["group"].astype(str).to_numpy() if "group" in pairs.columns
                  else np.full(len(pairs), ALL, dtype=object)),
    })
    if isinstance(pool, str):
        if pool not in pairs.columns:
            raise WindowError(f"pool={pool!r} is not a column of pairs (columns: {', '.join(map(str, pairs.columns))}); "
                              "give the column whose values pool the events, or pool=True for one pooled cell")
        if pairs[pool].isna().any():
            i = int(np.flatnonzero(pairs[pool].isna().to_numpy())[0])
            raise WindowError(f"pairs: column {pool!r} is empty for ticker {pairs['ticker'].iloc[i]}, event "
                              f"{pairs['event_id'].iloc[i]}: give every pair a value (or drop the pair)")
        out["pool"] = pairs[pool].astype(str).to_numpy()
    elif pool:
        out["pool"] = POOLED
    if out.empty:
        raise WindowError("no (security, event) pairs to study: pairs is empty")
    dup = out.duplicated(["ticker", "event_id"])
    if dup.any():
        r = out[dup].iloc[0]
        raise WindowError(f"pair (ticker {r.ticker}, event {r.event_id}) appears twice; give each pair once")
    return out.reset_index(drop=True)


def _session_dates(pairs: pd.DataFrame) -> np.ndarray:
    """``pairs.day0`` as session dates (datetime64[ns] midnight). A time of day or a timezone is refused:
    an announcement instant is not a session date (the session depends on the exchange's hours), and
    truncating it would silently pick a day."""
    try:
        d = pd.to_datetime(pairs["day0"])
    except (ValueError, TypeError) as exc:
        raise WindowError(f"pairs: day0 must be session dates (YYYY-MM-DD); could not read them ({exc})") from None
    hint = ("map announcement times to session dates with eventstudy.calendars.map_day0 (or "
            "eventstudy.run_study), which uses each instrument's trading hours")
    if getattr(d.dt, "tz", None) is not None:
        raise WindowError(f"pairs: day0 has a timezone ({d.dt.tz}), so it is an instant, not a session date: {hint}.")
    timed = d.notna() & (d != d.dt.normalize())
    if timed.any():
        i = int(np.flatnonzero(timed.to_numpy())[0])
        r = pairs.iloc[i]
        raise WindowError(f"pairs: day0 {d.iloc[i]} of ticker {r['ticker']}, event {r['event_id']} has a time of day, "
                          f"so it is an instant, not a session date: {hint}.")
    return d.dt.normalize().to_numpy().astype("datetime64[ns]")


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
    estimation, windows : relative trading days, inclusive (docs/METHODS.md "Notation").
    min_obs : minimum usable estimation days; default ``max(k + 3, ceil(estimation length / 2))``.
    pooled_group : name of the group that pools every pair (``None`` for none).
    pool_exclude : groups left out of the pooled group (e.g. futures and indices).
    log_returns : whether returns are log returns (affects BHAR only); default from the panel.
    variance_ddof : residual variance ``sum e^2 / (M_i - variance_ddof)``; default ``k`` as in
        docs/METHODS.md. ``1`` reproduces R's estudy2 (sample sd of the residuals).
    progress : show a progress bar for the bootstrap (default: on a terminal, not under CI).
    pool : ``False`` (default): each ``event_id`` is its own test cell (events that hit many securities on
        one date). ``True``: firm-specific events pooled: every pair enters one cell ``"pooled"`` (per
        group), whatever its event. A column name of ``pairs`` (e.g. ``"year"``, ``"news"``): pooled
        per value of that column. In pooled cells the Kolari-Pynnonen correlation counts only pairs
        whose day 0 is the same date (pairs on different dates are independent by assumption), see
        :func:`eventstudy.inference.reference.kolari_pynnonen`; ``ar``/``car`` keep each pair's own event id.
    estimation_drop : optional ``ticker, event_id, rel_day`` rows: estimation days of a pair left out of
        its estimation window (e.g. the days of another event of the same firm), counted out of ``M_i``.
    alignment : how a benchmark or factor on another trading calendar is put on a security's
        sessions: ``"close"`` (default) compounds the regressor's sessions that close inside the
        security's close-to-close interval (needs session closes, ``ReturnPanel.closes``; pairs
        without them are matched by date); ``"same_date"`` matches by calendar date, 0 where the
        regressor's market was closed (:mod:`eventstudy.returns.alignment`).
    """

    def __init__(self, panel, pairs: pd.DataFrame, model: str = "market",
                 benchmark: str | Mapping[str, str] | None = None,
                 factors: Sequence[str] | pd.DataFrame | None = None,
                 estimation: Window | str = DEFAULT_ESTIMATION,
                 windows: Iterable[Window | str] = DEFAULT_WINDOWS,
                 min_obs: int | None = None, pooled_group: str | None = ALL,
                 pool_exclude: Sequence[str] = (), log_returns: bool | None = None,
                 variance_ddof: int | None = None, progress: bool | None = None,
                 alignment: str = "close", pool: bool | str = False,
                 estimation_drop: pd.DataFrame | None = None) -> None:
        if model not in _models.MODELS:
            raise EstimationError(f"unknown model {model!r}; choose one of {', '.join(_models.MODELS)}")
        if alignment not in ALIGNMENTS:
            raise EstimationError(f"unknown alignment {alignment!r}; choose one of {', '.join(ALIGNMENTS)}")
        self.alignment = alignment
        self.returns, self.sessions, kind, self.closes = _as_panel(panel)
        self.pool = pool
        self.pairs = _normalise_pairs(pairs, pool)
        self.model = model
        self.spec = WindowSpec.build(estimation, windows)
        self._drop = self._drop_positions(estimation_drop)
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
        self.k = _models.n_params(model, self._q)
        est_len = self.spec.estimation_length
        self.min_obs = int(min_obs) if min_obs is not None else max(self.k + 3, math.ceil(est_len / 2))
        if self.min_obs > est_len:
            if min_obs is None:      # the default: say what the window needs, not an option the CLI does not have
                a, b = self.spec.estimation
                raise WindowError(f"estimation window [{a},{b}] has {est_len} trading days; the {model} model needs "
                                  f"at least {self.min_obs} ({self.k} parameter(s) + 3): lengthen it, e.g. "
                                  f"--estimation={b - max(self.min_obs, 2 * est_len) + 1},{b}")
            raise WindowError(f"min_obs={self.min_obs} exceeds the estimation window length {est_len}")
        self.pooled_group = pooled_group
        self.pool_exclude = tuple(pool_exclude)
        groups = set(self.pairs["group"])
        if pooled_group and pooled_group in groups and groups != {pooled_group}:
            who = self.pairs.loc[self.pairs["group"] == pooled_group, "ticker"].unique()[:3]
            raise EstimationError(f"group {pooled_group!r} ({', '.join(who)}) has the name of the pooled group of "
                                  f"every pair; rename the group, or pass pooled_group= another name")
        self._check_regressors()
        self.variance_ddof = variance_ddof
        self.progress = progress

    # ------------------------------------------------------------------ helpers
    def _check_regressors(self) -> None:
        """A security among its own regressors, a regressor given twice, or a regressor whose returns
        are identical to the security's: a perfect fit or a singular design, refused by name."""
        if self.model == "constant_mean":
            return
        tickers = self.pairs["ticker"].unique()
        cols = set(self.returns.columns)
        for t, regs in zip(tickers, self._regressor_names(tickers)):
            regs = [r for r in regs if r]
            if t in regs:
                raise EstimationError(f"{t} is among its own regressors ({', '.join(regs)}): it would be regressed "
                                      f"on itself; choose another benchmark or factor for it")
            if len(set(regs)) < len(regs):
                dup = next(r for r in regs if regs.count(r) > 1)
                raise EstimationError(f"{t}: regressor {dup} is given twice (e.g. a factor equal to the benchmark): "
                                      f"the regression would be singular; give each regressor once")
        # a regressor that is a security under another name (identical returns)
        regs = {r for rr in self._regressor_names(tickers) for r in rr if r in cols}
        sec = [t for t in tickers if t in cols and t not in regs]
        if not regs or not sec:
            return
        key = {}
        for r in regs:
            v = self.returns[r].to_numpy(dtype="float64")
            if np.isfinite(v).sum() >= 2:
                key.setdefault(v.tobytes(), r)
        for t in sec:
            r = key.get(self.returns[t].to_numpy(dtype="float64").tobytes())
            if r is not None:
                raise EstimationError(f"regressor {r} has returns identical to {t}'s: {t} would be regressed on "
                                      f"itself; drop {r} as a regressor or {t} from the study")

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

    def _benchmark_column(self, tickers) -> np.ndarray:
        """The benchmark of each ticker (market and market-adjusted models), via unique tickers."""
        inv, uniq = pd.factorize(tickers)
        return np.array([rg[0] for rg in self._regressor_names(np.asarray(uniq))], dtype=object)[inv]

    def _sessions_for(self, ticker: str) -> pd.DatetimeIndex:
        s = self.sessions.get(ticker) if self.sessions else None
        if s is None:
            return self.returns.index
        return s if isinstance(s, pd.DatetimeIndex) else pd.DatetimeIndex(s)

    # ------------------------------------------------------------------ layout and gather
    def _layout(self) -> "_Layout":
        """Where every pair's returns and regressors sit; built once per fit.

        Work is per unique ticker and per trading calendar, never per pair: each calendar's
        returns become one NaN-padded row per name (security or regressor) of a stacked matrix,
        and a pair is then three integers (its return row, its regressor rows, the column of its
        first relative day). Row 0 of the matrix is all-NaN: excluded pairs point there.
        """
        pairs = self.pairs
        P = len(pairs)
        rel = self.spec.rel_days
        D = len(rel)
        q = self._q
        inv, uniq = pd.factorize(pairs["ticker"].to_numpy().astype(str))
        uniq = np.asarray(uniq, dtype=str)
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
        cal_closes: list[pd.DatetimeIndex | None] = []
        for u, t in enumerate(uniq):
            if reason_u[u]:
                continue
            sess = self._sessions_for(t)
            closes = self.closes.get(t) if self.alignment == "close" else None
            key = (_calendar_key(sess), None if closes is None else _calendar_key(pd.DatetimeIndex(closes)))
            if key not in cal_keys:
                cal_keys[key] = len(cal_sessions)
                cal_sessions.append(sess)
                cal_closes.append(closes)
            cal_u[u] = cal_keys[key]
        cal = cal_u[inv]
        day0 = pd.DatetimeIndex(pairs["day0"])
        yrow = np.zeros(P, dtype=np.int64)
        frow = np.zeros((P, q), dtype=np.int64)
        start = np.zeros(P, dtype=np.int64)
        drow = np.zeros(P, dtype=np.int64)
        mats: list[np.ndarray] = []
        date_rows: list[np.ndarray] = []
        names_per_cal: list[list[str]] = []
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
            mat = self.returns.reindex(index=sess, columns=names).to_numpy(dtype=float, copy=True)
            if self.sessions:
                self._align_regressors(mat, names, reg_names, sess, cal_closes[c])
            # pad so that every pair's grid is in range: out of the data = NaN
            pad_lo = max(0, -(int(p0.min()) + int(rel[0])))
            pad_hi = max(0, int(p0.max()) + int(rel[-1]) + 1 - len(sess))
            body = np.full((len(names), pad_lo + len(sess) + pad_hi), np.nan)
            body[:, pad_lo:pad_lo + len(sess)] = mat.T
            drow_c = np.full(body.shape[1], np.datetime64("NaT"), dtype="datetime64[ns]")
            drow_c[pad_lo:pad_lo + len(sess)] = sess.values.astype("datetime64[ns]")
            ycol_u = np.full(len(uniq), -1)
            ycol_u[us] = [col_of[t] for t in uniq[us]]
            yrow[idx] = n_rows + ycol_u[inv[idx]]
            if q:
                fcol_u = np.zeros((len(uniq), q), dtype=np.int64)
                fcol_u[us] = [[col_of[r] for r in regs_u[u]] for u in us]
                frow[idx] = n_rows + fcol_u[inv[idx]]
            start[idx] = p0 + int(rel[0]) + pad_lo
            drow[idx] = len(date_rows) + 1
            mats.append(body)
            date_rows.append(drow_c)
            names_per_cal.append(names)
            n_rows += len(names)
        width = max([D] + [m_.shape[1] for m_ in mats])
        big = np.full((n_rows, width), np.nan)
        dmat = np.full((len(date_rows) + 1, width), np.datetime64("NaT"), dtype="datetime64[ns]")
        r0 = 1
        for c, (m_, d_) in enumerate(zip(mats, date_rows)):
            big[r0:r0 + m_.shape[0], :m_.shape[1]] = m_
            dmat[c + 1, :d_.size] = d_
            r0 += m_.shape[0]
        # pairs with identical regressor rows (calendar, first column, regressor names) share a block
        block = pd.factorize(drow * width + start)[0]
        for j in range(q):
            block = pd.factorize(block.astype(np.int64) * n_rows + frow[:, j])[0]
        row_names = np.array([""] + [n for ns in names_per_cal for n in ns], dtype=object)
        return _Layout(mat=big, dates=dmat, yrow=yrow, frow=frow, start=start, drow=drow, block=block,
                       reason=reason, row_names=row_names)

    def _drop_positions(self, drop: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray] | None:
        """(pair index, grid column) of the estimation days to leave out, sorted by pair; None if none."""
        if drop is None or not len(drop):
            return None
        need = {"ticker", "event_id", "rel_day"}
        if not need <= set(drop.columns):
            raise WindowError(f"estimation_drop needs columns ticker, event_id, rel_day; found {', '.join(map(str, drop.columns))}")
        key = pd.MultiIndex.from_arrays([self.pairs["ticker"], self.pairs["event_id"]])
        pos = key.get_indexer(pd.MultiIndex.from_arrays([drop["ticker"].astype(str), drop["event_id"].astype(str)]))
        rel = self.spec.rel_days
        col = np.searchsorted(rel, drop["rel_day"].to_numpy(dtype=np.int64))
        ok = (pos >= 0) & (col < len(rel))
        ok[ok] &= rel[col[ok]] == drop["rel_day"].to_numpy(dtype=np.int64)[ok]
        ok[ok] &= self.spec.estimation_mask()[col[ok]]
        order = np.argsort(pos[ok], kind="stable")
        return pos[ok][order], col[ok][order]

    def _align_regressors(self, mat: np.ndarray, names: list[str], reg_names: set[str],
                          sess: pd.DatetimeIndex, closes: pd.DatetimeIndex | None) -> None:
        """Put each regressor column of ``mat`` (sessions ``sess`` x ``names``) on these sessions, in place.

        With the ``close`` alignment and session closes known for both sides, a regressor's value on
        session t is its return compounded over its sessions closing in (close t-1, close t]
        (:func:`eventstudy.returns.alignment.align_to_closes`). Otherwise (``same_date``, or no hours
        known) a regressor whose market is closed on one of these sessions did not move: its return
        there is 0, not missing; only dates outside its own sessions are filled. A security's own
        missing return stays missing either way.
        """
        for j, n in enumerate(names):
            own = self.sessions.get(n)
            if n not in reg_names or own is None or not len(own):
                continue
            own = pd.DatetimeIndex(own)
            vals = self.returns[n].reindex(own).to_numpy(dtype=float)
            reg_closes = self.closes.get(n)
            if closes is not None and reg_closes is not None:
                mat[:, j] = align_to_closes(vals, pd.DatetimeIndex(reg_closes).as_unit("ns").asi8,
                                            pd.DatetimeIndex(closes).as_unit("ns").asi8, log=self.log_returns)
            else:
                mat[:, j] = same_date_values(vals, own.as_unit("ns").asi8, sess.as_unit("ns").asi8)

    def _missing_reason(self, lay: "_Layout", row: int, y: np.ndarray, f: np.ndarray, span_dates: np.ndarray,
                        ar: np.ndarray, wm: np.ndarray, sl: slice) -> str:
        """Why one pair has no CAR in a window: its own missing returns, or a regressor's, by name and date."""
        rel = self.spec.rel_days
        gone = ~np.isfinite(ar[wm])
        rd = rel[wm][gone]
        dd = span_dates[wm[sl]][gone]
        own_missing = ~np.isfinite(y[wm])[gone]
        reg_missing = ~np.isfinite(f[wm])[gone] if f.size else np.zeros((gone.sum(), 0), dtype=bool)
        what = "factor" if self.model == "factor" else "benchmark"

        def when(r: int, d) -> str:
            return f"{pd.Timestamp(d).date()} (day {r:+d})" if not pd.isna(d) else f"day {r:+d} (after the last session in the data)"

        if own_missing.any() or lay.row_names is None:
            sel = own_missing if own_missing.any() else np.ones(len(rd), dtype=bool)
            where = ", ".join(f"day {r:+d}" + (f" ({pd.Timestamp(d).date()})" if not pd.isna(d)
                                               else " (after the last session in the data)")
                              for r, d in zip(rd[sel][:3], dd[sel][:3]))
            return f"missing return in the event window: {where}"
        k = int(np.argmax(reg_missing.any(axis=0)))
        name = lay.row_names[lay.frow[row, k]]
        days = np.flatnonzero(reg_missing[:, k])
        listed = ", ".join(when(int(rd[j]), dd[j]) for j in days[:3])
        return f"{what} {name} has no return for session {listed} of the event window"

    @property
    def _q(self) -> int:
        return 0 if self.model == "constant_mean" else (len(self.factors) if self.model == "factor" else 1)

    def _gather_rows(self, lay: "_Layout", rows: np.ndarray):
        """Dense ``y (n, D)``, ``f (n, D, q)`` and span dates ``(n, S)`` for the pairs ``rows``.

        Pairs that share a first column (same calendar position of day 0: an event hitting many
        securities) are copied as row slices of the stacked matrix; with many distinct first
        columns one flat ``take`` does it."""
        D = len(self.spec.rel_days)
        s0, S = self._span_slice()
        q = self._q
        n = len(rows)
        start = lay.start[rows]
        starts, inv = np.unique(start, return_inverse=True)
        if len(starts) <= 64:
            y = np.empty((n, D))
            f = np.empty((n, D, q))
            dates = np.empty((n, S), dtype="datetime64[ns]")
            yr, fr, dr = lay.yrow[rows], lay.frow[rows], lay.drow[rows]
            for j, c in enumerate(starts):
                sel = np.flatnonzero(inv == j) if len(starts) > 1 else slice(None)
                y[sel] = lay.mat[yr[sel], c:c + D]
                for k in range(q):
                    f[sel, :, k] = lay.mat[fr[sel, k], c:c + D]
                dates[sel] = lay.dates[dr[sel], c + s0:c + s0 + S]
            return y, f, dates
        width = lay.mat.shape[1]
        cols = start[:, None] + np.arange(D)
        flat = lay.mat.ravel()
        y = np.take(flat, lay.yrow[rows, None] * width + cols)
        f = np.empty((n, D, q))
        for k in range(q):
            f[:, :, k] = np.take(flat, lay.frow[rows, k, None] * width + cols)
        dates = np.take(lay.dates.ravel(), lay.drow[rows, None] * width + cols[:, s0:s0 + S])
        return y, f, dates

    def _span_slice(self) -> tuple[int, int]:
        """First grid position and length of the event span (every event window lies inside it)."""
        lo, hi = self.spec.event_span()
        return int(lo - self.spec.rmin), int(hi - lo + 1)

    def _fit_rows(self, lay: "_Layout", rows: np.ndarray):
        """Gather and fit the pairs ``rows``: ``(y, f, dates, BatchFit, reason)``."""
        y, f, dates = self._gather_rows(lay, rows)
        if self._drop is not None:              # estimation days left out for these pairs (another own event)
            dp, dc = self._drop
            local = pd.Index(rows).get_indexer(dp)
            hit = local >= 0
            y[local[hit], dc[hit]] = np.nan
        fitted = _models.fit_batch(self.model, y, f, self.spec.estimation_mask(), self.min_obs,
                                   ddof=self.variance_ddof, blocks=lay.block[rows])
        pre = lay.reason[rows]
        reason = np.where(pre != "", pre, fitted.reason)
        const = np.flatnonzero(reason == _models.CONSTANT_REGRESSOR)
        if const.size and lay.row_names is not None and f.shape[2]:
            reason[const] = self._constant_reason(lay, rows[const], y[const], f[const])
        return y, f, dates, fitted, reason

    def _constant_reason(self, lay: "_Layout", rows: np.ndarray, y: np.ndarray, f: np.ndarray) -> list[str]:
        """Name the benchmark or factor that does not vary over each pair's estimation days (exclusions only)."""
        est = self.spec.estimation_mask()
        what = "factor" if self.model == "factor" else "benchmark"
        out = []
        for row, yi, fi in zip(rows, y, f):       # one per excluded pair
            x = fi[est][np.isfinite(yi[est]) & np.isfinite(fi[est]).all(axis=1)]
            bad = _models.is_degenerate(x.var(axis=0), x.mean(axis=0)) if len(x) else np.ones(fi.shape[1], bool)
            k = int(np.argmax(bad))
            name = lay.row_names[lay.frow[row, k]]
            out.append(f"{what} {name} is constant over the estimation window (value {x[0, k]:.6g} on every "
                       f"estimation day): it cannot explain returns; give a {what} that moves"
                       if len(x) else _models.CONSTANT_REGRESSOR)
        return out

    # ------------------------------------------------------------------ fit
    def fit(self, bootstrap: int | None = 0, seed: int = 0, chunk_pairs: int = 4_000) -> EventStudyResult:
        """Estimate the model for every pair, compute AR/CAR and run the test battery.

        ``bootstrap`` > 0 adds a resampling p-value with that many draws (test id ``bootstrap``);
        ``None`` uses every pseudo-window of the estimation period instead of random draws (see
        :func:`eventstudy.inference.reference.bootstrap_caar`); 0 leaves it out.

        The work streams over chunks of whole events (about ``chunk_pairs`` pairs each; an event is
        never split, since its cells' tests need all of its securities): each chunk is gathered,
        fitted and tested on its own, on the machine's cores, so the dense ``(pairs, days)`` arrays
        exist for one chunk at a time and memory stays linear in the number of pairs. The result's
        :class:`~eventstudy.engine.results.StudyArrays` recomputes the dense arrays on demand.
        """
        check_bootstrap(bootstrap)
        check_seed(seed)
        spec = self.spec
        pairs = self.pairs
        P = len(pairs)
        lay = self._layout()
        rel = spec.rel_days
        est = spec.estimation_mask()
        s0, S = self._span_slice()
        e_idx = np.flatnonzero(est)
        e0, e1 = int(e_idx[0]), int(e_idx[-1]) + 1     # estimation days: one contiguous block
        wins = list(spec.windows)
        W = len(wins)
        wmasks = [spec.window_mask(w) for w in wins]
        q = self._q

        # cells: (event, group) and the pooled group, numbered event * n_g + group
        ev_arr = pairs["event_id"].to_numpy()
        gr_arr = pairs["group"].to_numpy()
        pooling = "pool" in pairs.columns
        # the event dimension of the cells: each event, or the pooling values of firm-specific events
        ev_code, events = pd.factorize(pairs["pool"].to_numpy() if pooling else ev_arr)   # order of first appearance
        # pooled cells: pairs on one calendar date form a cluster (Kolari-Pynnonen correlation within it only)
        date_cluster = pd.factorize(pairs["day0"].to_numpy())[0] if pooling else None
        gr_code, groups = pd.factorize(gr_arr)
        events, groups = list(events), list(groups)
        pooled = None
        if self.pooled_group and not (len(groups) == 1 and groups[0] == self.pooled_group):
            pooled = ~np.isin(gr_arr, list(self.pool_exclude))
        n_g = len(groups) + (pooled is not None)
        n_cells = len(events) * n_g

        from eventstudy.inference.batched import chunk_bounds, run_tests_batched

        # chunks: runs of whole events (in event order) of about chunk_pairs pairs
        by_event = np.argsort(ev_code, kind="stable")
        ev_start = np.searchsorted(ev_code[by_event], np.arange(len(events) + 1))
        bounds = chunk_bounds(np.diff(ev_start), chunk_pairs)
        chunks = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(bounds) - 1)]

        # per-pair outputs, filled chunk by chunk (disjoint rows)
        reason = np.full(P, "", dtype=object)
        m_out = np.zeros(P, dtype=np.int64)
        s2_out = np.full(P, np.nan)
        const_out = np.full(P, np.nan)
        slopes_out = np.full((P, q), np.nan)
        car_out = {name: np.full((W, P), np.nan) for name in ("car", "var", "scar", "bhar", "p")}
        span_out = {name: np.full((P, S), np.nan) for name in ("ret", "normal_ret", "ar", "sar")}
        dates_out = np.full((P, S), np.datetime64("NaT"), dtype="datetime64[ns]")
        from eventstudy.inference.reference import TEST_IDS, bootstrap_caar

        do_boot = bootstrap is None or int(bootstrap) > 0
        n_tests = len(TEST_IDS) + int(do_boot)
        t_n = np.zeros((n_cells, W), dtype=np.int64)
        t_caar = np.full((n_cells, W), np.nan)
        t_stat = np.full((n_tests, n_cells, W), np.nan)
        t_p = np.full((n_tests, n_cells, W), np.nan)
        bar = progress_bar(n_cells, desc="bootstrap", unit="cell", enabled=self.progress if do_boot else False)
        win_span = np.stack([wm[s0:s0 + S] for wm in wmasks])      # window days on the event span
        L_w = [int(wm.sum()) for wm in wmasks]

        def work(ch: tuple[int, int]):
            ea, eb = ch
            rows = by_event[ev_start[ea]:ev_start[eb]]
            y, f, dates, fitted, rsn = self._fit_rows(lay, rows)
            ok = rsn == ""
            reason[rows] = rsn
            m_out[rows] = fitted.m
            s2_out[rows] = fitted.s2
            const_out[rows] = fitted.const
            if q:
                slopes_out[rows] = fitted.slopes
            excl: list[tuple] = []
            with np.errstate(invalid="ignore", divide="ignore"):
                sl = slice(s0, s0 + S)
                est_ar = np.ascontiguousarray(fitted.ar[:, e0:e1])
                est_sar = est_ar / np.sqrt(fitted.s2)[:, None]
            sar_span = _models.sar(fitted, sl)
            span_out["ret"][rows] = y[:, sl]
            span_out["normal_ret"][rows] = fitted.normal[:, sl]
            span_out["ar"][rows] = fitted.ar[:, sl]
            span_out["sar"][rows] = sar_span
            dates_out[rows] = dates
            n = len(rows)
            car_c, scar_c = np.empty((W, n)), np.empty((W, n))
            valid_c = np.empty((W, n), dtype=bool)
            df_chunk = np.maximum(fitted.df, 1).astype(float)
            for wi, (w, wm) in enumerate(zip(wins, wmasks)):
                cs = _models.car_stats(fitted, f, wm)
                valid = ok & np.isfinite(cs["car"])
                car_out["car"][wi, rows] = cs["car"]
                car_out["var"][wi, rows] = cs["var"]
                car_out["scar"][wi, rows] = cs["scar"]
                with np.errstate(invalid="ignore"):    # = 2 t.sf(|SCAR|, M_i - k)
                    car_out["p"][wi, rows] = 2 * special.stdtr(df_chunk, -np.abs(cs["scar"]))
                car_out["bhar"][wi, rows] = _models.bhar(y, fitted.normal, wm, self.log_returns)
                car_c[wi], scar_c[wi], valid_c[wi] = cs["car"], cs["scar"], valid
                for i in np.flatnonzero(ok & (cs["n_missing"] > 0)):   # exclusions only
                    excl.append((wi, int(rows[i]), self._missing_reason(lay, int(rows[i]), y[i], f[i], dates[i],
                                                                        fitted.ar[i], wm, sl)))
            # tests: the chunk's cells are cells [ea * n_g, eb * n_g) of the table
            okl = np.flatnonzero(ok)
            mem_pair = [okl]
            mem_cell = [(ev_code[rows[okl]] - ea) * n_g + gr_code[rows[okl]]]
            if pooled is not None:
                pl = np.flatnonzero(ok & pooled[rows])
                mem_pair.append(pl)
                mem_cell.append((ev_code[rows[pl]] - ea) * n_g + (n_g - 1))
            mp, mc = np.concatenate(mem_pair), np.concatenate(mem_cell)
            c0, c1 = ea * n_g, eb * n_g
            try:
                batch = run_tests_batched(
                    member_pair=mp, member_cell=mc, n_cells=c1 - c0, cell_block=np.arange(c1 - c0) // n_g,
                    car=car_c, scar=scar_c, valid=valid_c, m=fitted.m, k=self.k,
                    est_ar=est_ar, est_sar=est_sar, event_sar=sar_span,
                    window_masks=win_span, pair_cluster=None if date_cluster is None else date_cluster[rows])
            except EstimationError as exc:
                return excl, exc
            t_n[c0:c1] = batch.n
            t_caar[c0:c1] = batch.caar
            t_stat[:len(TEST_IDS), c0:c1] = batch.statistic
            t_p[:len(TEST_IDS), c0:c1] = batch.p_value
            if do_boot:        # resampling stays per cell (optional, not batched)
                o = np.lexsort((mp, mc))                   # each cell's members, in pair order
                mp_c, cut = mp[o], np.searchsorted(mc[o], np.arange(c1 - c0 + 1))
                for c in range(c1 - c0):
                    members = mp_c[cut[c]:cut[c + 1]]
                    for wi in range(W):
                        m_ = members[valid_c[wi, members]]
                        if m_.size:
                            tr = bootstrap_caar(car_c[wi, m_], est_ar[m_], L_w[wi], n_boot=bootstrap,
                                                seed=int(seed), statistic="caar", k=self.k)
                            t_stat[-1, c0 + c, wi], t_p[-1, c0 + c, wi] = tr.statistic, tr.p_value
                    bar.update(1)
            return excl, None

        # Chunks write disjoint rows and cells: run them on the machine's cores (numpy releases the GIL
        # in its array loops). Errors are reported for the first failing chunk in event order.
        workers = 1 if (do_boot or len(chunks) == 1) else min(len(chunks), os.cpu_count() or 1, 4)
        try:
            if workers > 1:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    outs = list(pool.map(work, chunks))
            else:
                outs = [work(ch) for ch in chunks]
        finally:
            bar.close()
        ok = reason == ""
        if not ok.any():
            summary = pd.Series(reason).value_counts().head(3)
            raise WindowError("no (security, event) pair could be estimated; most common reasons: "
                              + "; ".join(f"{n}× {r}" for r, n in summary.items()))
        for _, err in outs:
            if err is not None:
                raise err

        tk_s = pairs["ticker"].to_numpy()
        # string columns of the frames: taken from the pairs' own (Arrow) arrays, no Python objects
        labels = {c: pairs[c].array for c in ("event_id", "ticker", "group")}
        excl_rows = [dict(event_id=e, ticker=t, window_start=np.nan, window_end=np.nan, reason=r)
                     for e, t, r in zip(ev_arr[~ok], tk_s[~ok], reason[~ok])]
        for wi, i, text in sorted((x for ex, _ in outs for x in ex), key=lambda x: (x[0], x[1])):
            excl_rows.append(dict(event_id=ev_arr[i], ticker=tk_s[i], window_start=wins[wi][0],
                                  window_end=wins[wi][1], reason=text))

        # ---- CAR table: per window (window-major), the estimated pairs
        okidx = np.flatnonzero(ok)
        n_ok = len(okidx)
        df_all = _models.residual_df(m_out, self.k)
        scar_ok = car_out["scar"][:, okidx]
        tile = np.tile(okidx, W)
        car = pd.DataFrame({
            **{c: v.take(tile) for c, v in labels.items()},
            "window_start": np.repeat([w[0] for w in wins], n_ok),
            "window_end": np.repeat([w[1] for w in wins], n_ok),
            "car": car_out["car"][:, okidx].ravel(), "car_se": np.sqrt(car_out["var"][:, okidx]).ravel(),
            "scar": scar_ok.ravel(), "p_value": car_out["p"][:, okidx].ravel(), "bhar": car_out["bhar"][:, okidx].ravel(),
            "n_days": np.repeat(L_w, n_ok), "m_obs": np.tile(m_out[okidx], W),
        })

        # ---- AR panel over the event span
        rel_span = rel[s0:s0 + S]
        rep = np.repeat(okidx, S)
        ar_df = pd.DataFrame({
            **{c: v.take(rep) for c, v in labels.items()},
            "date": dates_out[okidx].ravel(),
            "rel_day": np.tile(rel_span, len(okidx)),
            **{name: span_out[name][okidx].ravel() for name in ("ret", "normal_ret", "ar", "sar")},
        })

        # ---- params
        params = pd.DataFrame({
            **labels,
            "model": self.model, "m_obs": m_out, "df": df_all, "sigma": np.sqrt(s2_out),
            "const": const_out,
        })
        if self.model in ("market", "market_adjusted"):
            params["benchmark"] = self._benchmark_column(pairs["ticker"])
        if self.model == "market":
            params["beta"] = slopes_out[:, 0]
        elif self.model == "factor":
            for j, name in enumerate(self.factors):
                params[f"beta_{name}"] = slopes_out[:, j]
        params = params[ok].reset_index(drop=True)

        # ---- tests table: cell-major, then window, then test id
        tids = list(TEST_IDS) + (["bootstrap"] if do_boot else [])
        cell_idx, win_idx = np.nonzero(t_n > 0)
        nt = len(tids)
        # labels as arrays of the pairs' own string dtype, taken (no per-row Python objects)
        names_e = pd.array(np.array(events, dtype=object), dtype=pairs["pool" if pooling else "event_id"].dtype)
        names_g = pd.array(np.array(groups + ([self.pooled_group] if pooled is not None else []), dtype=object),
                           dtype=pairs["group"].dtype)
        tests = pd.DataFrame({
            "event_id": names_e.take(np.repeat(cell_idx // n_g, nt)),
            "group": names_g.take(np.repeat(cell_idx % n_g, nt)),
            "window_start": np.repeat(np.array([w[0] for w in wins])[win_idx], nt),
            "window_end": np.repeat(np.array([w[1] for w in wins])[win_idx], nt),
            "n": np.repeat(t_n[cell_idx, win_idx], nt),
            "caar": np.repeat(t_caar[cell_idx, win_idx], nt),
            "test": np.tile(np.array(tids, dtype=object), len(cell_idx)),
            "statistic": t_stat[:, cell_idx, win_idx].T.ravel(),
            "p_value": t_p[:, cell_idx, win_idx].T.ravel(),
        }, columns=["event_id", "group", "window_start", "window_end", "n", "caar", "test", "statistic", "p_value"])
        exclusions = pd.DataFrame(excl_rows, columns=["event_id", "ticker", "window_start", "window_end", "reason"])
        if tests.empty:
            # every estimated pair lacks a complete event window: one sentence that says why
            why = exclusions.loc[exclusions["window_start"].notna(), "reason"].value_counts().head(3)
            raise WindowError(
                f"{int(ok.sum())} pair(s) were estimated, but none has a complete event window in any of the "
                f"windows {', '.join(f'[{a},{b}]' for a, b in wins)}, so no test could be computed; most common "
                "reasons: " + "; ".join(f"{n}x {r}" for r, n in why.items()))

        spec_now = copy.copy(self)         # the arrays follow this fit's specification, not later edits
        recompute = _Recompute(spec_now, lay)
        arrays = StudyArrays(pairs=pairs, ok=ok, rel_days=rel, est_mask=est,
                             compute=recompute.fit, gather=recompute.gather)
        return EventStudyResult(
            model=self.model, k=self.k, estimation=spec.estimation, windows=spec.windows,
            min_obs=self.min_obs, ar=ar_df, car=car, tests=tests,
            params=params, exclusions=exclusions, pooled_group=self.pooled_group,
            regressors=tuple(self.factors) if self.model == "factor" else (
                () if self.model == "constant_mean" else ("benchmark",)),
            bootstrap=None if bootstrap is None else int(bootstrap), arrays=arrays)


@dataclass(frozen=True)
class _Recompute:
    """The dense arrays of some pairs, recomputed from a fit's specification and layout (the same gather
    and fit, so the same numbers). Module-level, so a result that holds it pickles."""

    study: "EventStudy"
    layout: "_Layout"

    def fit(self, rows: np.ndarray) -> tuple:
        """``(y, f, dates, BatchFit)`` of the pairs ``rows``."""
        return self.study._fit_rows(self.layout, rows)[:4]

    def gather(self, rows: np.ndarray) -> tuple:
        """``(y, f, dates)`` of the pairs ``rows``, no model fitted."""
        return self.study._gather_rows(self.layout, rows)


@dataclass(frozen=True)
class _Layout:
    """Where each pair's data sits (see :meth:`EventStudy._layout`).

    ``mat (R, width)``: stacked returns rows (per calendar, one row per security or regressor;
    row 0 all-NaN), ``dates (n_cal + 1, width)`` the session date of each column per calendar,
    ``yrow (P,)``, ``frow (P, q)`` rows of a pair's own return and regressors, ``start (P,)`` the
    column of its first relative day, ``drow (P,)`` its row of ``dates``, ``block (P,)`` pairs with
    identical regressor rows, ``reason (P,)`` why a pair cannot be gathered ('' when it can).
    """

    mat: np.ndarray
    dates: np.ndarray
    yrow: np.ndarray
    frow: np.ndarray
    start: np.ndarray
    drow: np.ndarray
    block: np.ndarray
    reason: np.ndarray
    row_names: np.ndarray | None = None     # (rows,) name of each row of ``mat`` ('' for row 0)


def run_event_study(panel, pairs: pd.DataFrame, **kwargs) -> EventStudyResult:
    """Functional shortcut: ``EventStudy(panel, pairs, **spec).fit(bootstrap=..., seed=...)``."""
    fit_kw = {k: kwargs.pop(k) for k in ("bootstrap", "seed") if k in kwargs}
    return EventStudy(panel, pairs, **kwargs).fit(**fit_kw)
