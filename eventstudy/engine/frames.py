"""The tidy frames of a result, built from plain arrays: ``ar``, ``car``, ``params``, ``tests``, ``exclusions``.

Columns (units in CONTRACTS.md and the README): returns, CARs and CAAR are decimal; ``scar`` and test
statistics unitless; p-values two-sided. String columns are taken from the pairs' own arrays (no
per-row Python objects).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.estimation import normal_returns
from eventstudy.estimation.data import Regressors
from eventstudy.estimation.windows import Window

__all__ = ["AR_COLUMNS", "CAR_COLUMNS", "PARAMS_COLUMNS", "TEST_COLUMNS", "EXCLUSION_COLUMNS",
           "ar_frame", "car_frame", "params_frame", "tests_frame", "exclusions_frame"]

#: the pair labels every per-pair frame starts with
PAIR_LABELS = ("event_id", "ticker", "group")
#: abnormal returns on the event span's days, one row per estimated pair and day
AR_COLUMNS = [*PAIR_LABELS, "date", "rel_day", "ret", "normal_ret", "ar", "sar"]
#: one row per estimated pair and event window (window-major)
CAR_COLUMNS = [*PAIR_LABELS, "window_start", "window_end", "car", "car_se", "scar", "p_value", "bhar", "n_days",
               "m_obs"]
#: one row per estimated pair; then ``benchmark`` (market, market-adjusted), ``beta`` (market) or
#: ``beta_<factor>`` (factor model)
PARAMS_COLUMNS = [*PAIR_LABELS, "model", "m_obs", "df", "sigma", "const"]
#: one row per tested (cell, window, test id), cell-major
TEST_COLUMNS = ["event_id", "group", "window_start", "window_end", "n", "caar", "test", "statistic", "p_value"]
#: one row per excluded pair (window_start/end NaN) or pair-window
EXCLUSION_COLUMNS = ["event_id", "ticker", "window_start", "window_end", "reason"]


def _labels(pairs: pd.DataFrame) -> dict:
    return {c: pairs[c].array for c in PAIR_LABELS}


def car_frame(pairs: pd.DataFrame, estimated: np.ndarray, windows: Sequence[Window], car: dict[str, np.ndarray],
              window_lengths: Sequence[int], m_obs: np.ndarray) -> pd.DataFrame:
    """Per window (window-major), the ``estimated`` pairs (positions): ``car``, ``car_se``, ``scar``,
    ``p_value``, ``bhar`` from ``car`` (``(W, P)`` arrays ``car, var, scar, p, bhar``), ``n_days``, ``m_obs``."""
    n_est, n_windows = len(estimated), len(windows)
    tile = np.tile(estimated, n_windows)
    return pd.DataFrame({
        **{c: v.take(tile) for c, v in _labels(pairs).items()},
        "window_start": np.repeat([w[0] for w in windows], n_est),
        "window_end": np.repeat([w[1] for w in windows], n_est),
        "car": car["car"][:, estimated].ravel(), "car_se": np.sqrt(car["var"][:, estimated]).ravel(),
        "scar": car["scar"][:, estimated].ravel(), "p_value": car["p"][:, estimated].ravel(),
        "bhar": car["bhar"][:, estimated].ravel(),
        "n_days": np.repeat(window_lengths, n_est), "m_obs": np.tile(m_obs[estimated], n_windows),
    })


def ar_frame(pairs: pd.DataFrame, estimated: np.ndarray, rel_span: np.ndarray, span: dict[str, np.ndarray],
             dates: np.ndarray) -> pd.DataFrame:
    """The ``estimated`` pairs on the event span's relative days ``rel_span``: session ``date``, ``ret``,
    ``normal_ret``, ``ar``, ``sar`` (``(P, S)`` arrays in ``span``; ``dates (P, S)``)."""
    rep = np.repeat(estimated, len(rel_span))
    return pd.DataFrame({
        **{c: v.take(rep) for c, v in _labels(pairs).items()},
        "date": dates[estimated].ravel(),
        "rel_day": np.tile(rel_span, len(estimated)),
        **{name: span[name][estimated].ravel() for name in ("ret", "normal_ret", "ar", "sar")},
    })


def params_frame(pairs: pd.DataFrame, ok: np.ndarray, regressors: Regressors, k: int, m_obs: np.ndarray,
                 s2: np.ndarray, const: np.ndarray, slopes: np.ndarray) -> pd.DataFrame:
    """The model's estimates of the estimated pairs (``ok``): usable days, residual d.o.f., sigma, constant,
    benchmark and slopes named by regressor."""
    model = regressors.model
    params = pd.DataFrame({
        **_labels(pairs),
        "model": model, "m_obs": m_obs, "df": normal_returns.residual_df(m_obs, k), "sigma": np.sqrt(s2),
        "const": const,
    })
    if model in ("market", "market_adjusted"):
        params["benchmark"] = regressors.benchmark_column(pairs["ticker"])
    if model == "market":
        params["beta"] = slopes[:, 0]
    elif model == "factor":
        for j, name in enumerate(regressors.factors):
            params[f"beta_{name}"] = slopes[:, j]
    return params[ok].reset_index(drop=True)


def tests_frame(pairs: pd.DataFrame, events: list, groups: list, windows: Sequence[Window], test_ids: Sequence[str],
                n: np.ndarray, caar: np.ndarray, statistic: np.ndarray, p_value: np.ndarray) -> pd.DataFrame:
    """Every tested (cell, window): cell-major, then window, then test id. Cell ``c`` is event
    ``events[c // len(groups)]`` and group ``groups[c % len(groups)]`` (the pooled group's name last when
    there is one); ``n``, ``caar`` ``(cells, W)``, ``statistic``, ``p_value`` ``(tests, cells, W)``; a
    (cell, window) without members (``n == 0``) has no rows."""
    cell_idx, win_idx = np.nonzero(n > 0)
    n_tests, n_groups = len(test_ids), len(groups)
    # labels as arrays of the pairs' own string dtype, taken (no per-row Python objects)
    names_e = pd.array(np.array(events, dtype=object), dtype=pairs["pool" if "pool" in pairs.columns else "event_id"].dtype)
    names_g = pd.array(np.array(groups, dtype=object), dtype=pairs["group"].dtype)
    return pd.DataFrame({
        "event_id": names_e.take(np.repeat(cell_idx // n_groups, n_tests)),
        "group": names_g.take(np.repeat(cell_idx % n_groups, n_tests)),
        "window_start": np.repeat(np.array([w[0] for w in windows])[win_idx], n_tests),
        "window_end": np.repeat(np.array([w[1] for w in windows])[win_idx], n_tests),
        "n": np.repeat(n[cell_idx, win_idx], n_tests),
        "caar": np.repeat(caar[cell_idx, win_idx], n_tests),
        "test": np.tile(np.array(test_ids, dtype=object), len(cell_idx)),
        "statistic": statistic[:, cell_idx, win_idx].T.ravel(),
        "p_value": p_value[:, cell_idx, win_idx].T.ravel(),
    }, columns=TEST_COLUMNS)


def exclusions_frame(pairs: pd.DataFrame, ok: np.ndarray, reason: np.ndarray, windows: Sequence[Window],
                     window_exclusions: list[tuple[int, int, str]]) -> pd.DataFrame:
    """The pairs not estimated (``ok`` False; their ``reason``, no window) in pair order, then the pair-windows
    without a CAR, ``(window index, pair index, reason)``, by window and pair."""
    event_ids, tickers = pairs["event_id"].to_numpy(), pairs["ticker"].to_numpy()
    rows = [dict(event_id=e, ticker=t, window_start=np.nan, window_end=np.nan, reason=r)
            for e, t, r in zip(event_ids[~ok], tickers[~ok], reason[~ok])]
    for wi, i, text in sorted(window_exclusions, key=lambda x: (x[0], x[1])):
        rows.append(dict(event_id=event_ids[i], ticker=tickers[i], window_start=windows[wi][0],
                         window_end=windows[wi][1], reason=text))
    return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS)
