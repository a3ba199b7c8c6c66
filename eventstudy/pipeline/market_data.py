"""The market data a study stands on, shared by the shared-date and firm-specific designs: which prices to
ask for (:func:`price_request`, :func:`price_span`), date-times turned into each exchange's trading dates
(:func:`local_dates`), every series' trading calendar checked against its dates (:func:`trading_calendars`),
futures roll sessions to mask (:func:`roll_masks`) and how regressors are put on an instrument's sessions
(:func:`alignment_notes`).
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.calendars.resolve import resolve_calendars
from eventstudy.calendars.sessions import DatesModel, SessionModel, session_model_for
from eventstudy.data.base import Prices, localise_price_dates
from eventstudy.errors import WindowError
from eventstudy.estimation.windows import WindowSpec
from eventstudy.inputs.exchanges import guess_exchange
from eventstudy.inputs.instruments import FUTURE_KINDS
from eventstudy.returns.alignment import describe_alignment
from eventstudy.returns.futures import is_continuous_future, roll_mask

__all__ = ["is_benchmark", "price_request", "price_span", "local_dates", "trading_calendars", "roll_masks",
           "alignment_notes"]


def is_benchmark(b: object) -> bool:
    """True for a usable ``benchmark`` cell of the universe (a non-empty string)."""
    return isinstance(b, str) and bool(b)


def price_request(events: pd.DataFrame, universe: pd.DataFrame, spec: WindowSpec,
                  factors: Sequence[str] = ()) -> tuple[list[str], pd.Timestamp, pd.Timestamp]:
    """Tickers (instruments, their benchmarks, ``factors``) and the date span a study needs prices for."""
    bench = [b for b in universe["benchmark"] if is_benchmark(b)]
    tickers = list(dict.fromkeys(list(universe["ticker"]) + bench + list(factors)))
    return (tickers, *price_span(events, spec))


def price_span(events: pd.DataFrame, spec: WindowSpec) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calendar span of prices needed: trading days converted with a generous 1.6 calendar/trading ratio."""
    first = pd.Timestamp(events["date"].min())
    last = pd.Timestamp(events["date"].max())
    before = math.ceil((abs(min(spec.rmin, 0)) + 5) * 1.6) + 10
    after = math.ceil((max(spec.rmax, 0) + 5) * 1.6) + 10
    return first - pd.Timedelta(days=before), last + pd.Timedelta(days=after)


def _price_dates(prices: Prices) -> dict[str, pd.DatetimeIndex]:
    """Each priced ticker's dates with a price (sorted, tz-naive midnight)."""
    f = prices.frame
    codes, names = pd.factorize(f["ticker"], sort=False)
    order = np.argsort(codes, kind="stable")
    cut = np.searchsorted(codes[order], np.arange(len(names) + 1))
    d = f["date"].to_numpy()[order]
    out: dict[str, pd.DatetimeIndex] = {}
    same: dict[bytes, pd.DatetimeIndex] = {}          # tickers with the same dates share one (immutable) index
    for i, t in enumerate(names):
        dates = np.sort(d[cut[i]:cut[i + 1]])
        key = dates.tobytes()
        if key not in same:
            same[key] = pd.DatetimeIndex(dates)
        out[str(t)] = same[key]
    return out


def _session_models(calendars: pd.DataFrame, price_dates: dict[str, pd.DatetimeIndex]) -> dict[str, SessionModel]:
    """ticker -> session model of the resolved calendar (the price-dates model gets its dates)."""
    out: dict[str, SessionModel] = {}
    for t, e in zip(calendars["ticker"], calendars["exchange"]):
        out[t] = session_model_for(t, e, price_dates.get(t))
    return out


def _sessions(price_dates: dict[str, pd.DatetimeIndex], models: dict[str, SessionModel]) -> dict[str, pd.DatetimeIndex]:
    """Each priced ticker's trading calendar for :func:`~eventstudy.returns.panel.compute_returns`.

    Tickers of one exchange share one index (the exchange's sessions over the span of all their
    prices; ``compute_returns`` cuts it to each ticker's first and last price), so the calendar
    work is done once per exchange. A ticker on the price-dates model has its own price dates.
    """
    out: dict[str, pd.DatetimeIndex] = {}
    shared: dict[SessionModel, list[str]] = {}
    for t in price_dates:
        model = models[t]
        if isinstance(model, DatesModel):
            out[t] = model.sessions()
        else:
            shared.setdefault(model, []).append(t)
    for model, tickers in shared.items():
        distinct = {id(price_dates[t]): price_dates[t] for t in tickers}.values()    # shared indexes once
        lo = min(ix[0] for ix in distinct)
        hi = max(ix[-1] for ix in distinct)
        try:
            cal = model.sessions(lo, hi)
        except WindowError:
            for t in tickers:            # name the first ticker whose prices reach outside the calendar
                try:
                    model.sessions(price_dates[t][0], price_dates[t][-1])
                except WindowError as exc:
                    raise WindowError(f"{t} (prices {price_dates[t][0]:%Y-%m-%d} to "
                                      f"{price_dates[t][-1]:%Y-%m-%d}): {exc}") from None
            raise
        for t in tickers:
            out[t] = cal
    return out


def local_dates(prices: Prices, declared: dict[str, str] | None = None) -> Prices:
    """``prices`` with date-times given as instants (e.g. ``2025-11-16T15:00:00Z``) turned into the trading
    date of each series' exchange (declared, else read from the name); a series with no known exchange
    keeps the UTC date, with a warning."""
    f = prices.frame
    if "instant" not in f.columns:
        return prices
    declared = declared or {}
    tz_of: dict[str, str | None] = {}
    for t in pd.unique(f.loc[f["instant"].notna(), "ticker"]):
        code = declared.get(t) or guess_exchange(t)
        tz_of[t] = None if code in (None, "dates") else session_model_for(t, code).tz
    unknown = [t for t, z in tz_of.items() if not z]
    if unknown:
        warnings.warn(f"prices of {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} carry times with a "
                      "timezone, but no exchange is known for them: their trading dates are the UTC dates of those "
                      "times; declare their exchange (instruments file) to use its local dates", stacklevel=3)
    return localise_price_dates(prices, tz_of)


def trading_calendars(prices: Prices, declared: dict[str, str] | None = None, tickers: Sequence[str] = ()
                      ) -> tuple[pd.DataFrame, dict[str, SessionModel], dict[str, pd.DatetimeIndex]]:
    """The calendar of every series in ``prices`` (and of ``tickers`` without prices), checked against
    its dates: ``(calendars, models, sessions)`` - the table of
    :func:`~eventstudy.calendars.resolve.resolve_calendars`, ticker -> session model, and each priced
    ticker's sessions for :func:`~eventstudy.returns.panel.compute_returns`."""
    price_dates = _price_dates(prices)
    calendars = resolve_calendars(price_dates, declared or {}, tickers=tickers)
    models = _session_models(calendars, price_dates)
    return calendars, models, _sessions(price_dates, models)


def alignment_notes(tickers: Sequence[str], regressors: dict[str, list[str]], exch: dict[str, str],
                     models: dict[str, SessionModel], method: str) -> dict[str, str]:
    """ticker -> how each of its regressors was put on its sessions (words for the day-0 audit)."""
    out: dict[str, str] = {}
    for t in tickers:
        parts = []
        for r in regressors.get(t, []):
            if r not in models:
                continue
            timed = models[t].has_times and models[r].has_times
            parts.append(describe_alignment(method, r, exch.get(t, "dates"), exch.get(r, "dates"), timed))
        out[t] = "; ".join(parts)
    return out


def roll_masks(prices: Prices, kinds: dict[str, str]) -> pd.DataFrame | None:
    """The futures-roll days to mask (continuous futures series, declared in ``kinds`` or recognised by
    name, :func:`eventstudy.returns.futures.roll_mask`), or None: their returns are missing, not abnormal."""
    futures = [t for t in prices.tickers
               if (kinds[t] in FUTURE_KINDS if t in kinds else is_continuous_future(t))]
    if not futures:
        return None
    fut = prices.select(tickers=futures).wide()
    masks = [roll_mask(t, fut[t].dropna()) for t in futures]
    return pd.concat(masks, ignore_index=True) if masks else None
