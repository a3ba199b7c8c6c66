"""SIMULATED panels with a known answer for the volume and volatility measures (size and power).

Not market data. Both generators are seeded and return frames on a weekday calendar with some
weekdays removed as holidays, and ``pairs``: each of ``events`` shared dates hits its own ``n_sec`` securities:

* :func:`simulate_volume` — log volume ``v_it = mu_i + b_i m_t + u_it`` (shares ``exp(v_it)``, rounded),
  ``m_t`` an AR(1) market component with day-of-week and holiday-adjacent effects, ``u_it`` AR(1)
  (``phi``) with right-skewed innovations (centred lognormal), ``spike`` added to ``u`` on day 0.
* :func:`simulate_garch` — returns ``r_it = b_i r_mt + e_it`` with GARCH(1,1) errors, the event day's
  error multiplied by ``jump`` (variance times ``jump**2``) and ``shift`` added to it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulated_calendar", "simulate_volume", "simulate_garch"]


def simulated_calendar(n_days: int, rng: np.random.Generator, holiday_rate: float = 0.03) -> pd.DatetimeIndex:
    """``n_days`` weekdays from 2015-01-05 with about ``holiday_rate`` of the weekdays removed as holidays."""
    days = pd.bdate_range("2015-01-05", periods=int(n_days * (1 + 2 * holiday_rate)) + 10)
    keep = rng.random(len(days)) >= holiday_rate
    return days[keep][:n_days]


def _event_rows(dates: pd.DatetimeIndex, n_sec: int, events: int, rng: np.random.Generator, lo: int, hi_pad: int):
    """Event positions and pairs: event j hits its own ``n_sec`` securities ``S<j>_<i>`` (so no event's
    effect falls in another event's estimation window)."""
    pos = rng.choice(np.arange(lo, len(dates) - hi_pad), size=events, replace=events > len(dates) - hi_pad - lo)
    tick = [f"S{j:03d}_{i:03d}" for j in range(events) for i in range(n_sec)]
    pairs = pd.DataFrame({"ticker": tick, "event_id": np.repeat([f"E{j:03d}" for j in range(events)], n_sec),
                          "day0": np.repeat(dates[pos], n_sec), "group": "sim"})
    return tick, np.repeat(pos, n_sec), pairs


def simulate_volume(n_sec: int = 30, n_days: int = 600, events: int = 50, spike: float = 0.0, phi: float = 0.5,
                    seed: int = 0, skew: float = 0.42, n_market: int = 200, sd: float = 0.32) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(volume frame dates x tickers, pairs). ``spike``: log points added to each event security's day-0 log
    volume. The frame also holds ``n_market`` other securities (``M000``...) that only make up the market.
    Defaults match the real J-Quants panel's log-volume residuals of the China-Japan study (median AR(1)
    0.52, skewness 0.93, sd 0.37): ``phi`` 0.5, lognormal innovations of log-sd ``skew`` 0.42 (skewness
    about 1.4, about 1.0 after the AR filter) scaled to sd ``sd``."""
    rng = np.random.default_rng(seed)
    dates = simulated_calendar(n_days, rng)
    T = len(dates)
    tick, pos, pairs = _event_rows(dates, n_sec, events, rng, 300, 15)
    m = np.zeros(T)
    eps = rng.normal(0, 0.15, T)
    for t in range(1, T):
        m[t] = 0.7 * m[t - 1] + eps[t]
    wd = dates.day_of_week.to_numpy()
    m += np.select([wd == 0, wd == 4], [-0.10, 0.05], 0.0)
    bd = pd.bdate_range(dates[0], dates[-1])
    hol = bd[~bd.isin(dates)]
    adj = (dates - pd.offsets.BDay(1)).isin(hol) | (dates + pd.offsets.BDay(1)).isin(hol)
    m -= 0.2 * adj
    n_ev = n_sec * events
    n_all = n_ev + n_market
    mu = rng.uniform(10, 14, n_all)
    b = rng.uniform(0.6, 1.4, n_all)
    z = rng.normal(0, skew, (T, n_all))
    innov = (np.exp(z) - np.exp(skew ** 2 / 2)) / np.sqrt((np.exp(skew ** 2) - 1) * np.exp(skew ** 2)) * sd
    u = np.zeros((T, n_all))
    for t in range(1, T):
        u[t] = phi * u[t - 1] + innov[t]
    u[pos, np.arange(n_ev)] += spike
    v = mu + m[:, None] * b + u
    vol = np.round(np.exp(v))
    cols = tick + [f"M{i:03d}" for i in range(n_market)]
    return pd.DataFrame(vol, index=pd.DatetimeIndex(dates, name="date"), columns=cols), pairs


def simulate_garch(n_sec: int = 30, n_days: int = 600, events: int = 50, jump: float = 1.0, shift: float = 0.0,
                   seed: int = 0, omega: float = 4e-6, alpha: float = 0.08, beta: float = 0.90,
                   jump_days: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(returns frame dates x tickers with the market column ``MKT``, pairs). Decimal returns: market-model
    returns with GARCH(1,1) errors; the errors of days 0 to ``jump_days - 1`` of each event are multiplied by
    ``jump`` (variance x ``jump**2``; the GARCH recursion is not fed the scaled errors) and day 0's is moved
    by ``shift``. Other draws do not depend on ``jump_days``, so panels differ only in the injection."""
    rng = np.random.default_rng(seed)
    dates = simulated_calendar(n_days, rng)
    T = len(dates)
    tick, pos, pairs = _event_rows(dates, n_sec, events, rng, 300, 15)
    rm = rng.normal(0.0003, 0.01, T)
    n_ev = n_sec * events
    z = rng.standard_normal((T, n_ev))
    h = np.full(n_ev, omega / (1 - alpha - beta))
    e = np.empty((T, n_ev))
    for t in range(T):
        e[t] = np.sqrt(h) * z[t]
        h = omega + alpha * e[t] ** 2 + beta * h
    cols = np.arange(n_ev)
    for k in range(max(1, int(jump_days))):
        e[pos + k, cols] = e[pos + k, cols] * jump
    e[pos, cols] = e[pos, cols] + shift
    b = rng.uniform(0.5, 1.5, n_ev)
    r = rm[:, None] * b + e
    out = pd.DataFrame(r, index=pd.DatetimeIndex(dates, name="date"), columns=tick)
    out["MKT"] = rm
    return out, pairs
