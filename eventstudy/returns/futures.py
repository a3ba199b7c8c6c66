"""Roll detection for continuous front-month futures series (Yahoo ``=F`` tickers).

A continuous series such as ``NKD=F`` / ``NIY=F`` (CME Nikkei 225 futures) jumps from the
expiring contract to the next one; that day's "return" is the calendar spread, not news.

Rule (one or two masked sessions per quarterly roll):
1. Contract months are Mar/Jun/Sep/Dec. The last trading day is the business day before
   the second Friday of the month (CME rule; taken as the Thursday before, exchange
   holidays ignored). The roll session is the first session of the series after it.
2. Detection window: the 3 sessions up to the roll session and the 3 sessions from it
   (positions roll-3 .. roll+2 of the series' own dates).
3. The roll session is always masked (a small calendar spread is still not a return, and a
   spread hidden inside an ordinary-looking move must not pass as an abnormal return).
4. Robust scale of the whole series: sd = 1.4826 * median(|r - median(r)|) of daily log
   returns r. In the window, the session with the largest |r - median(r)| is masked as well
   if it is another session and exceeds ``k_sd`` (default 4) robust sd: the provider rolled
   on a different day. Masking a real move near a roll costs one observation; reading a
   roll as news would cost the result.
Days outside the windows are never flagged, however large the move.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.inputs.dates import normalise_dates
from eventstudy.returns.panel import empty_mask

__all__ = ["is_continuous_future", "roll_mask", "quarterly_expiries"]

_ROLL_MONTHS = (3, 6, 9, 12)
MAD_TO_SD = 1.4826


def is_continuous_future(ticker: str) -> bool:
    """True for Yahoo continuous front-month futures symbols (``...=F``, e.g. ``NKD=F``)."""
    return str(ticker).strip().upper().endswith("=F")


def quarterly_expiries(start, end) -> pd.DatetimeIndex:
    """Last trading days (Thursday before the 2nd Friday of Mar/Jun/Sep/Dec) within [start, end]."""
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    out = []
    for year in range(start.year, end.year + 1):
        for month in _ROLL_MONTHS:
            first = pd.Timestamp(year=year, month=month, day=1)
            first_friday = first + pd.Timedelta(days=(4 - first.weekday()) % 7)
            expiry = first_friday + pd.Timedelta(days=6)  # Thursday before the second Friday
            if start <= expiry <= end:
                out.append(expiry)
    return pd.DatetimeIndex(out, dtype="datetime64[ns]")


def roll_mask(ticker: str, prices: pd.Series, *, k_sd: float = 4.0, half_window: int = 3) -> pd.DataFrame:
    """Sessions of a continuous futures price series whose return is a contract roll.

    ``prices`` is indexed by date (one value per session, > 0; NaN ignored). Returns a frame
    ``ticker, date, reason`` with one row per quarterly roll inside the series' span (see the
    module docstring for the rule); ``date`` is the session whose return should be NaN.
    """
    s = pd.Series(np.asarray(prices, dtype="float64"), index=normalise_dates(prices.index)).dropna()
    s = s[~s.index.duplicated(keep="last")].sort_index()
    if len(s) < 3:
        return empty_mask()
    dates = s.index
    lr = np.full(len(s), np.nan)
    lr[1:] = np.log(s.to_numpy()[1:] / s.to_numpy()[:-1])
    med = np.nanmedian(lr)
    sd = MAD_TO_SD * np.nanmedian(np.abs(lr - med))
    dev = np.abs(lr - med)

    rows = []
    for expiry in quarterly_expiries(dates[0], dates[-1]):
        pos = int(dates.searchsorted(expiry, side="right"))  # first session after expiry
        if pos >= len(dates) or pos == 0:
            continue
        lo, hi = max(pos - half_window, 1), min(pos + half_window, len(dates))
        window = np.arange(lo, hi)
        best = window[np.nanargmax(dev[window])] if np.isfinite(dev[window]).any() else None
        # The scheduled roll session is always masked: a roll jump hidden inside an ordinary-
        # looking move must not pass as an abnormal return. A larger outlier elsewhere in the
        # window (the provider rolled on another day) is masked as well: missing is missing.
        rows.append(
            (ticker, dates[pos],
             f"futures roll after the {expiry.date()} expiry: first session after expiry (masked by rule)")
        )
        if best is not None and best != pos and sd > 0 and dev[best] > k_sd * sd:
            rows.append(
                (ticker, dates[best],
                 f"possible futures roll near the {expiry.date()} expiry: log return {lr[best]:+.2%} is "
                 f"{dev[best] / sd:.1f} robust sd from the median (> {k_sd:g})")
            )
    if not rows:
        return empty_mask()
    out = pd.DataFrame(rows, columns=["ticker", "date", "reason"]).astype({"ticker": object, "reason": object})
    out["date"] = out["date"].astype("datetime64[ns]")
    return out
