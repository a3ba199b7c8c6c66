"""Synthetic intraday bars over a venue's sessions, shared by the bar-0 and intraday tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

from eventstudy.calendars.venues import assign_sessions, venue, venue_sessions
from eventstudy.data.bars import bars_from_frame


def synthetic_bars(code: str, start: str, end: str, minutes: int = 15, drop_session: int | None = None,
                   ticker: str = "X", seed: int = 0):
    """15-minute bars over every session of a venue's rules (an OSE session's closing print included)."""
    v = venue(code)
    sess = venue_sessions(v, start, end)
    opens = []
    for r in sess.itertuples():
        if drop_session is not None and r.seq == drop_session:
            continue
        last = r.close_utc if code == "OSE" else r.close_utc - pd.Timedelta(minutes=minutes)
        opens.append(pd.date_range(r.open_utc, last, freq=f"{minutes}min"))
    t = opens[0].append(opens[1:])
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(t))))
    open_ = np.r_[100.0, close[:-1]]
    df = pd.DataFrame({"bar_open_utc": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "open": open_, "close": close,
                       "high": np.maximum(open_, close), "low": np.minimum(open_, close)})
    b = bars_from_frame(df, ticker=ticker)
    frame, s = assign_sessions(b.of(ticker), v, b.source)
    return frame, s, v
