"""The data of an event study, coerced and checked once: returns, sessions, pairs and regressors.

:class:`StudyData` holds the returns panel (a ``ReturnPanel`` or a wide frame of decimal returns,
with any factor frame joined), each ticker's sessions and session closes, and the normalised
``(ticker, event_id, day0, group[, pool])`` pairs. :class:`Regressors` says which columns each
security is regressed on (a benchmark, factors, or a per-ticker mapping). Every problem raises a
:class:`~eventstudy.errors.EventStudyError` naming the column, ticker, event or date.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.data.return_store import ReturnStore
from eventstudy.errors import EstimationError, PairsError, WindowError
from eventstudy.estimation.windows import WindowSpec

__all__ = ["ALL", "POOLED", "MAX_ABS_RETURN", "StudyData", "Regressors", "check_returns", "coerce_panel",
           "normalise_pairs", "session_dates", "join_factors", "drop_positions", "expand_runs", "check_regressors"]

#: the group of a pair given without one (and the default name of the pooled group)
ALL = "all"

#: the cell label of pooled firm-specific events (``EventStudy(pool=True)``)
POOLED = "pooled"

#: a daily return beyond this (a price jump by a factor of 1,000) is a data error, not news
MAX_ABS_RETURN = 1_000.0


@dataclass(frozen=True)
class StudyData:
    """Returns (dates x tickers, decimal, sorted; NaN = missing), each ticker's sessions and session
    closes (UTC instants; empty when unknown), the panel's return kind (``simple`` | ``log``) and the
    normalised pairs (:func:`normalise_pairs`)."""

    returns: pd.DataFrame
    sessions: Mapping[str, pd.DatetimeIndex]
    closes: Mapping[str, pd.DatetimeIndex]
    kind: str
    pairs: pd.DataFrame
    store: ReturnStore | None = None

    @classmethod
    def build(cls, panel, pairs: pd.DataFrame, pool: bool | str = False) -> "StudyData":
        """Coerce ``panel`` (:func:`coerce_panel`) and ``pairs`` (:func:`normalise_pairs`). A
        :class:`~eventstudy.data.return_store.ReturnStore` stays on disk: ``returns`` then holds no column
        until :meth:`with_columns` reads the regressors' (the securities' returns are read per chunk)."""
        if isinstance(panel, ReturnStore):
            return cls(returns=pd.DataFrame(index=panel.dates), sessions=panel.sessions, closes=panel.closes,
                       kind=panel.kind, pairs=normalise_pairs(pairs, pool), store=panel)
        returns, sessions, kind, closes = coerce_panel(panel)
        return cls(returns=returns, sessions=sessions, closes=closes, kind=kind, pairs=normalise_pairs(pairs, pool))

    def with_factors(self, factors: pd.DataFrame) -> "StudyData":
        """The same data with the columns of ``factors`` (indexed by date) joined to the returns."""
        clash = set(factors.columns) & set(self.store.tickers) if self.store is not None else set()
        if clash:
            raise EstimationError(f"factor columns {sorted(clash)} are also tickers of the returns store "
                                  f"{self.store.path}; rename them")
        return replace(self, returns=join_factors(self.returns, factors))

    def with_columns(self, names) -> "StudyData":
        """With a store: the same data with the store's columns among ``names`` read into ``returns`` (the
        regressors, which every pair of their calendar needs whole); without one, ``self``."""
        if self.store is None:
            return self
        read = [n for n in dict.fromkeys(names) if n in self.store.code and n not in self.returns.columns]
        if not read:
            return self
        return replace(self, returns=self.returns.join(self.store.columns(read), how="left"))

    @property
    def columns(self) -> set:
        """Every column the returns have: in memory, plus the store's tickers."""
        cols = set(self.returns.columns)
        return cols | set(self.store.tickers) if self.store is not None else cols

    def sessions_for(self, ticker: str) -> pd.DatetimeIndex:
        """``ticker``'s own trading sessions (the returns' dates when the panel gives none)."""
        own = self.sessions.get(ticker) if self.sessions else None
        if own is None:
            return self.returns.index
        return own if isinstance(own, pd.DatetimeIndex) else pd.DatetimeIndex(own)


def coerce_panel(panel) -> tuple[pd.DataFrame, Mapping[str, pd.DatetimeIndex], str, Mapping[str, pd.DatetimeIndex]]:
    """Accept a ReturnPanel or a wide DataFrame (date index x tickers): (returns, sessions, kind, closes)."""
    closes: Mapping[str, pd.DatetimeIndex] = {}
    if isinstance(panel, pd.DataFrame):
        returns = panel
        sessions: Mapping[str, pd.DatetimeIndex] = {}
        kind = "simple"
    else:
        returns = panel.returns
        sessions = panel.sessions
        kind = getattr(panel, "kind", "simple")
        closes = getattr(panel, "closes", None) or {}
    if not isinstance(returns.index, pd.DatetimeIndex):
        try:
            returns = returns.copy()
            returns.index = pd.DatetimeIndex(pd.to_datetime(returns.index))
        except (ValueError, TypeError) as exc:
            raise WindowError(f"returns must be indexed by date; could not read the index as dates ({exc})") from None
    if returns.index.has_duplicates:
        dup = returns.index[returns.index.duplicated()][0]
        raise WindowError(f"returns have a duplicated date {dup.date()}; keep one row per date")
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()][0]
        raise EstimationError(f"returns have the column {dup!r} twice; keep one column per ticker")
    returns = returns.sort_index()
    check_returns(returns, given=isinstance(panel, pd.DataFrame))
    return returns, sessions, kind, closes


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


def normalise_pairs(pairs: pd.DataFrame, pool: bool | str = False) -> pd.DataFrame:
    """``ticker, event_id, group`` as text, ``day0`` as session dates (:func:`session_dates`) and, when
    pooling, ``pool`` (the pooling column's values, or :data:`POOLED`); index 0..P-1. Refuses missing
    columns or groups, an empty frame and a pair given twice."""
    need = {"ticker", "event_id", "day0"}
    missing = need - set(pairs.columns)
    if missing:
        raise PairsError(f"pairs need columns ticker, event_id, day0; missing: {', '.join(sorted(missing))}")
    if "group" in pairs.columns and pairs["group"].isna().any():
        bad = pairs.loc[pairs["group"].isna(), "ticker"].astype(str).unique()
        raise EstimationError(f"pairs of {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''} have no group (NaN); "
                              f"give every pair a group, or drop the group column to pool them all")
    out = pd.DataFrame({
        "ticker": pairs["ticker"].astype(str).to_numpy(),
        "event_id": pairs["event_id"].astype(str).to_numpy(),
        "day0": session_dates(pairs),
        "group": (pairs["group"].astype(str).to_numpy() if "group" in pairs.columns
                  else np.full(len(pairs), ALL, dtype=object)),
    })
    if isinstance(pool, str):
        if pool not in pairs.columns:
            raise PairsError(f"pool={pool!r} is not a column of pairs (columns: {', '.join(map(str, pairs.columns))}); "
                              "give the column whose values pool the events, or pool=True for one pooled cell")
        if pairs[pool].isna().any():
            i = int(np.flatnonzero(pairs[pool].isna().to_numpy())[0])
            raise PairsError(f"pairs: column {pool!r} is empty for ticker {pairs['ticker'].iloc[i]}, event "
                             f"{pairs['event_id'].iloc[i]}: give every pair a value (or drop the pair)",
                             ticker=str(pairs["ticker"].iloc[i]), event_id=str(pairs["event_id"].iloc[i]))
        out["pool"] = pairs[pool].astype(str).to_numpy()
    elif pool:
        out["pool"] = POOLED
    if out.empty:
        raise PairsError("no (security, event) pairs to study: pairs is empty")
    dup = out.duplicated(["ticker", "event_id"])
    if dup.any():
        first = out[dup].iloc[0]
        raise PairsError(f"pair (ticker {first.ticker}, event {first.event_id}) appears twice; give each pair once",
                         ticker=first.ticker, event_id=first.event_id)
    return out.reset_index(drop=True)


def session_dates(pairs: pd.DataFrame) -> np.ndarray:
    """``pairs.day0`` as session dates (datetime64[ns] midnight). A time of day or a timezone is refused:
    an announcement instant is not a session date (the session depends on the exchange's hours), and
    truncating it would silently pick a day."""
    try:
        d = pd.to_datetime(pairs["day0"])
    except (ValueError, TypeError) as exc:
        raise PairsError(f"pairs: day0 must be session dates (YYYY-MM-DD); could not read them ({exc})") from None
    hint = ("map announcement times to session dates with eventstudy.calendars.map_day0 (or "
            "eventstudy.run_study), which uses each instrument's trading hours")
    if getattr(d.dt, "tz", None) is not None:
        raise PairsError(f"pairs: day0 has a timezone ({d.dt.tz}), so it is an instant, not a session date: {hint}.")
    timed = d.notna() & (d != d.dt.normalize())
    if timed.any():
        i = int(np.flatnonzero(timed.to_numpy())[0])
        r = pairs.iloc[i]
        raise PairsError(f"pairs: day0 {d.iloc[i]} of ticker {r['ticker']}, event {r['event_id']} has a time of day, "
                         f"so it is an instant, not a session date: {hint}.",
                         ticker=str(r["ticker"]), event_id=str(r["event_id"]))
    return d.dt.normalize().to_numpy().astype("datetime64[ns]")


def join_factors(returns: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """``returns`` with the columns of ``factors`` (indexed by date, normalised to midnight) left-joined;
    a factor column that is also a returns column is refused."""
    fac = factors.copy()
    fac.index = pd.DatetimeIndex(pd.to_datetime(fac.index)).normalize()
    clash = set(fac.columns) & set(returns.columns)
    if clash:
        raise EstimationError(f"factor columns {sorted(clash)} also appear in the returns; rename them")
    return returns.join(fac, how="left")


def expand_runs(start: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs ``start[i] .. start[i] + n[i] - 1`` (``n >= 0``) laid end to end: each value's run ``i`` and the
    value, without a Python loop."""
    run = np.repeat(np.arange(n.size), n)
    return run, start[run] + (np.arange(run.size) - np.repeat(np.cumsum(n) - n, n))


def drop_positions(pairs: pd.DataFrame, spec: WindowSpec,
                   drop: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(pair index, grid column) of the estimation days ``drop`` leaves out, sorted by pair; None if none.

    ``drop``: ``ticker, event_id, rel_day`` rows (one day each), or ``ticker, event_id, rel_day_first, rel_day_last``
    rows (a run of days each, as :func:`eventstudy.pipeline.firm.own_event_overlap_spans` gives them: the same
    positions as the runs laid out day by day, without a row per day). Days naming no pair or no estimation day
    are ignored."""
    if drop is None or not len(drop):
        return None
    runs = {"rel_day_first", "rel_day_last"} <= set(drop.columns)
    need = {"ticker", "event_id"} | ({"rel_day_first", "rel_day_last"} if runs else {"rel_day"})
    if not need <= set(drop.columns):
        raise WindowError(f"estimation_drop needs columns ticker, event_id and rel_day (or rel_day_first, "
                          f"rel_day_last); found {', '.join(map(str, drop.columns))}")
    key = pd.MultiIndex.from_arrays([pairs["ticker"], pairs["event_id"]])
    pos = key.get_indexer(pd.MultiIndex.from_arrays([drop["ticker"].astype(str), drop["event_id"].astype(str)]))
    if runs:
        first = drop["rel_day_first"].to_numpy(dtype=np.int64)
        run, day = expand_runs(first, np.maximum(drop["rel_day_last"].to_numpy(dtype=np.int64) - first + 1, 0))
        pos = pos[run]
    else:
        day = drop["rel_day"].to_numpy(dtype=np.int64)
    rel = spec.rel_days
    col = np.searchsorted(rel, day)
    ok = (pos >= 0) & (col < len(rel))
    ok[ok] &= rel[col[ok]] == day[ok]
    ok[ok] &= spec.estimation_mask()[col[ok]]
    order = np.argsort(pos[ok], kind="stable")
    return pos[ok][order], col[ok][order]


@dataclass(frozen=True)
class Regressors:
    """Which columns each security is regressed on.

    ``model`` (``constant_mean``: none; ``market``/``market_adjusted``: ``benchmark``, one name or a
    mapping ticker -> name; ``factor``: ``factors`` for every security, or ``factor_map`` ticker -> list,
    the same length for all). ``factors`` names the factor model's regressors: the column when every
    security uses the same one, else ``benchmark`` / ``factor2`` ... by position.
    """

    model: str
    benchmark: str | Mapping[str, str] | None = None
    factors: tuple[str, ...] = ()
    factor_map: Mapping[str, list[str]] | None = None

    @classmethod
    def build(cls, model: str, benchmark=None, factors: Sequence[str] | Mapping[str, Sequence[str]] | None = None
              ) -> "Regressors":
        """Resolve ``factors`` (a list of columns, or a mapping ticker -> list of columns)."""
        if not isinstance(factors, Mapping):
            return cls(model, benchmark, tuple(factors) if factors is not None else ())
        factor_map = {str(t): list(v) for t, v in factors.items()}
        lens = {len(v) for v in factor_map.values()}
        if len(lens) > 1:
            raise EstimationError("every security needs the same number of factors in the factor model")
        q = lens.pop() if lens else 0
        names = []
        for j in range(q):
            cols = {v[j] for v in factor_map.values()}
            names.append(cols.pop() if len(cols) == 1 else ("benchmark" if j == 0 else f"factor{j + 1}"))
        return cls(model, benchmark, tuple(names), factor_map)

    @property
    def q(self) -> int:
        """Regressors per security (0 for the constant-mean model)."""
        return 0 if self.model == "constant_mean" else (len(self.factors) if self.model == "factor" else 1)

    @property
    def what(self) -> str:
        """How messages call a regressor: ``factor`` or ``benchmark``."""
        return "factor" if self.model == "factor" else "benchmark"

    def names_for(self, tickers: Sequence[str]) -> list[list[str]]:
        """Each ticker's regressor columns (``''`` where a mapping gives none)."""
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

    def benchmark_column(self, tickers) -> np.ndarray:
        """The benchmark of each ticker (market and market-adjusted models), via unique tickers."""
        inv, uniq = pd.factorize(tickers)
        return np.array([rg[0] for rg in self.names_for(np.asarray(uniq))], dtype=object)[inv]


def check_regressors(data: StudyData, regressors: Regressors) -> None:
    """A security among its own regressors, a regressor given twice, or a regressor whose returns
    are identical to the security's: a perfect fit or a singular design, refused by name."""
    if regressors.model == "constant_mean":
        return
    tickers = data.pairs["ticker"].unique()
    cols = set(data.returns.columns)
    names = regressors.names_for(tickers)
    for t, regs in zip(tickers, names):
        regs = [r for r in regs if r]
        if t in regs:
            raise EstimationError(f"{t} is among its own regressors ({', '.join(regs)}): it would be regressed "
                                  f"on itself; choose another benchmark or factor for it")
        if len(set(regs)) < len(regs):
            dup = next(r for r in regs if regs.count(r) > 1)
            raise EstimationError(f"{t}: regressor {dup} is given twice (e.g. a factor equal to the benchmark): "
                                  f"the regression would be singular; give each regressor once")
    # a regressor that is a security under another name (identical returns)
    used = {r for rr in names for r in rr if r in cols}
    securities = [t for t in tickers if t in cols and t not in used]
    if not used or not securities:
        return
    by_values = {}
    for r in used:
        v = data.returns[r].to_numpy(dtype="float64")
        if np.isfinite(v).sum() >= 2:
            by_values.setdefault(v.tobytes(), r)
    if not by_values:
        return
    bits = data.returns[securities].to_numpy(dtype="float64").view(np.uint64)     # one copy; bit for bit
    match = np.full(len(securities), -1)                   # per security: the regressor it equals, if any
    for i, key in enumerate(by_values):
        match[(bits == np.frombuffer(key, dtype=np.uint64)[:, None]).all(axis=0)] = i
    if (match >= 0).any():
        j = int(np.flatnonzero(match >= 0)[0])
        t, r = securities[j], list(by_values.values())[match[j]]
        raise EstimationError(f"regressor {r} has returns identical to {t}'s: {t} would be regressed on "
                              f"itself; drop {r} as a regressor or {t} from the study")
