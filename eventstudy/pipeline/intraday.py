"""The intraday study of one bar instrument, and the reaction clock across venues.

:func:`intraday_study` takes the events (tz-aware announcement times), the bars of one instrument
and, optionally, daily OHLC of other instruments (with opens), and returns an
:class:`IntradayRun`:

* ``bar0`` - each event's bar 0 with the reason (:func:`eventstudy.calendars.bar0.map_bar0`);
* ``reactions`` - every event x window (``session`` = bar 0's whole session from the previous
  session's close, ``rest`` = from bar 0 to the session's close, ``bars:A,B``, ``min:A,B``,
  ``next``): the return, its gap and within-session legs, the time-of-day normal return, the
  prediction-error t and the Gelbach-Helland-Klick sample-quantile p against the same window at
  the same time of day in the ``n_sessions`` earlier sessions of the same kind (other events'
  sessions and futures-roll sessions left out);
* ``clock`` - per event in time order, the move of every venue and session that could react:
  the bar instrument's session of bar 0 (whole, and from bar 0) and the sessions after it up to
  and including the next day session; for each daily instrument the first overnight (open gap)
  and intraday legs that follow the announcement, each with the same two tests against the same
  leg on the ``n_sessions`` earlier sessions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from eventstudy.calendars.bar0 import map_bar0
from eventstudy.calendars.sessions import session_model_for
from eventstudy.calendars.venues import Venue, assign_sessions, detect_venue, venue_for
from eventstudy.data.bars import BarFileError, Bars, load_bars, read_daily_ohlc
from eventstudy.estimation.intraday import benchmark_returns, estimation_anchors, same_time_windows, window_interval
from eventstudy.inputs.intervals import announcement_until
from eventstudy.inference.quantile import prediction_t, regression_prediction, sample_quantile_test
from eventstudy.returns.futures import quarterly_expiries
from eventstudy.returns.intraday import (DEFAULT_WINDOWS, IntradayWindow, bar_legs, daily_legs, leg_arrays, parse_window,
                                         window_return)

__all__ = ["IntradayRun", "intraday_study", "intraday_from_files", "clock_instruments", "placebo_windows", "REACTION_COLUMNS", "CLOCK_COLUMNS", "roll_sessions",
           "bar0_audit"]

REACTION_COLUMNS: tuple[str, ...] = (
    "event_id", "ticker", "venue", "end", "window", "bar0_local", "session", "trading_date", "start_local",
    "end_local", "n_bars", "from_price", "to_price", "ret", "gap", "within", "normal", "ar", "t", "df", "p_t",
    "p_ghk", "n_est", "q025", "q975", "beta")
CLOCK_COLUMNS: tuple[str, ...] = (
    "event_id", "order", "instrument", "venue", "leg", "trading_date", "start_utc", "start_local", "end_local",
    "from_price", "to_price", "ret", "normal", "ar", "t", "p_t", "p_ghk", "n_est", "note")


@dataclass(frozen=True)
class IntradayRun:
    """Result of :func:`intraday_study` (frames described in the module docstring)."""

    ticker: str
    venue: Venue
    source: str
    legs: pd.DataFrame
    sessions: pd.DataFrame
    bar0: pd.DataFrame
    reactions: pd.DataFrame
    clock: pd.DataFrame
    n_sessions: int


def roll_sessions(sessions: pd.DataFrame) -> set[int]:
    """``seq`` of the sessions that open a new quarterly contract of a continuous future: the first session
    opening on or after 17:00 local time of each quarterly last trading day (its gap leg is the roll)."""
    if not len(sessions):
        return set()
    opens = pd.DatetimeIndex(sessions["open_utc"])
    out = set()
    for ltd in quarterly_expiries(opens[0].tz_convert(None) - pd.Timedelta(days=1), opens[-1].tz_convert(None)):
        k = int(opens.searchsorted(ltd.tz_localize("UTC") + pd.Timedelta(hours=7)))  # 16:00 JST on the LTD
        if k < len(sessions):
            out.add(int(sessions["seq"].iloc[k]))
    return out


def _fmt(ts: object, tz: str) -> str:
    return "" if pd.isna(ts) else pd.Timestamp(ts).tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")


def _tests(x: float, sample: np.ndarray) -> dict:
    t, q = prediction_t(x, sample), sample_quantile_test(x, sample)
    return {"normal": t["mean"], "ar": t["ar"], "t": t["t"], "df": t["df"], "p_t": t["p_two"], "p_ghk": q["p_two"],
            "n_est": q["n"], "q025": q["q025"], "q975": q["q975"]}


def _event_seqs(legs: pd.DataFrame, bar0: pd.DataFrame) -> dict[object, set[int]]:
    """Per event, the sessions its windows touch (bar 0's session and the next one)."""
    seq = legs["seq"].to_numpy()
    out: dict[object, set[int]] = {}
    for eid, pos in zip(bar0["event_id"], bar0["bar0_pos"]):
        if pos >= 0:
            out.setdefault(eid, set()).update({int(seq[pos]), int(seq[pos]) + 1})
    return out


def _with_benchmark(tests: dict, arr, pos, w, kept, sample, x, bench) -> dict:
    """``tests`` replaced by the market model on the benchmark's returns over the same instants."""
    opens_ns, closes, bar_ns = bench
    iv = [window_interval(arr, int(p), w, bar_ns) for p in [pos, *kept]]
    b = benchmark_returns(opens_ns, closes, bar_ns, [i[0] for i in iv], [i[1] for i in iv])
    r = regression_prediction(x, b[0], sample, b[1:])
    return {**tests, "normal": r["normal"], "ar": r["ar"], "t": r["t"], "df": r["df"], "p_t": r["p_two"],
            "p_ghk": r["p_ghk"], "n_est": r["n"], "q025": np.nan, "q975": np.nan, "beta": r["beta"]}


def _reactions(legs, bar0, windows, venue, n_sessions, excl_base, ev_seqs, bench=None) -> pd.DataFrame:
    rows = []
    arr = leg_arrays(legs)
    for _, b in bar0.iterrows():
        pos = int(b["bar0_pos"])
        if pos < 0:
            continue
        exclude = excl_base | set().union(*[s for e, s in ev_seqs.items() if e != b["event_id"]] or [set()])
        anchors = estimation_anchors(legs, pos, n_sessions, exclude)
        for w in windows:
            r = window_return(arr, pos, w)
            sample, kept = same_time_windows(legs, pos, w, anchors, exclude, arrays=arr)
            tests = {**_tests(r["logret"], sample), "beta": np.nan}
            if bench is not None:
                tests = _with_benchmark(tests, arr, pos, w, kept, sample, r["logret"], bench)
            rows.append({"event_id": b["event_id"], "ticker": b["ticker"], "venue": venue.code, "end": b["end"],
                         "window": w.label, "bar0_local": b["bar0_local"], "session": b["session"],
                         "trading_date": b["trading_date"], "start_local": _fmt(r["start_utc"], venue.tz),
                         "end_local": _fmt(r["end_utc"], venue.tz),
                         **{k: r[k] for k in ("n_bars", "from_price", "to_price", "ret", "gap", "within")},
                         **tests})
    return pd.DataFrame(rows, columns=list(REACTION_COLUMNS))


def _bar_clock(legs, b, venue, n_sessions, exclude) -> list[dict]:
    """Clock rows of the bar instrument for one event: bar 0's session (whole and from bar 0), then the
    following sessions up to and including the first day session."""
    pos = int(b["bar0_pos"])
    seq, sess = legs["seq"].to_numpy(), legs["session"].to_numpy()
    anchors = estimation_anchors(legs, pos, n_sessions, exclude)
    plan = [(pos, IntradayWindow("session"), "whole session, from the previous close")]
    if not legs["first"].iat[pos]:
        plan[0] = (pos, plan[0][1], plan[0][2] + "; includes the bars before bar 0 (before the news)")
        plan.append((pos, IntradayWindow("rest"), f"from bar 0 ({b['bar0_local']}) to the close"))
    cur = pos
    for _ in range(3):
        nxt = np.flatnonzero(seq > seq[cur])
        if not len(nxt) or sess[cur] == "day" and cur != pos:
            break
        cur = int(nxt[0])
        plan.append((cur, IntradayWindow("session"), "whole session, from the previous close"))
        if sess[cur] == "day":
            break
    rows = []
    arr = leg_arrays(legs)
    for p, w, note in plan:
        r = window_return(arr, p, w)
        anc = anchors if p == pos else estimation_anchors(legs, p, n_sessions, exclude)
        sample, _ = same_time_windows(legs, p, w, anc, exclude, arrays=arr)
        rows.append({"instrument": legs["ticker"].iat[p], "venue": venue.code,
                     "leg": f"{sess[p]} session" + (" (from bar 0)" if w.unit == "rest" else ""),
                     "trading_date": legs["trading_date"].iat[p], "start_utc": r["start_utc"],
                     "start_local": _fmt(r["start_utc"], venue.tz), "end_local": _fmt(r["end_utc"], venue.tz),
                     "from_price": r["from_price"], "to_price": r["to_price"], "ret": r["ret"],
                     **{k: v for k, v in _tests(r["logret"], sample).items() if k in CLOCK_COLUMNS}, "note": note})
    return rows


def _daily_frame(legs: pd.DataFrame, ticker: str, exchange: str | None):
    """(model, the ticker's daily legs on its calendar's sessions, session opens, closes); frames empty when
    the instrument has no prices with opens or no session hours."""
    model = session_model_for(ticker, exchange)
    d = legs[(legs["ticker"] == ticker) & legs["date"].notna()].reset_index(drop=True)
    if len(d) and model.has_times:
        d = d[pd.DatetimeIndex(d["date"]).isin(model.sessions(d["date"].min(), d["date"].max()))].reset_index(drop=True)
    if not len(d) or not model.has_times:
        return model, d.iloc[:0], None, None
    opens, closes = model.session_bounds(pd.DatetimeIndex(d["date"]))
    return model, d, opens, closes


def _daily_plan(at_utc: pd.Timestamp, opens, closes, n: int) -> list[tuple[int, str, str]]:
    """(session position, leg, note) of the first legs of a daily instrument that could react to ``at_utc``."""
    k = int(np.searchsorted(closes.as_unit("ns").asi8, at_utc.value, side="left"))  # first session closing at/after it
    if k >= n:
        return []
    if opens[k] > at_utc:
        return [(k, "overnight", "open gap: previous close to the open"), (k, "intraday", "open to close")]
    return [(k, "intraday", "open to close; includes trading before the news"),
            (k + 1, "overnight", "open gap: previous close to the open"), (k + 1, "intraday", "open to close")]


def _daily_clock(at_utc: pd.Timestamp, frame: tuple, ticker: str, n_sessions: int, skip_dates: set) -> list[dict]:
    """Clock rows of one daily OHLC instrument: the first overnight and intraday legs after ``at_utc``, each
    tested against the same leg on the ``n_sessions`` earlier sessions (``skip_dates`` left out)."""
    model, d, opens, closes = frame
    if not len(d):
        return [{"instrument": ticker, "venue": model.name, "leg": "", "start_utc": pd.NaT,
                 "note": "no daily prices with opens (and session hours) for this instrument"}]
    rows = []
    tz = model.tz
    for i, leg, note in _daily_plan(at_utc, opens, closes, len(d)):
        if i >= len(d):
            continue
        x = d[leg].iat[i]
        past = d.iloc[max(0, i - n_sessions):i]
        past = past[~past["date"].isin(skip_dates)]
        sample = np.log1p(past[leg].to_numpy(dtype="float64"))
        start = opens[i] if leg == "intraday" else closes[i - 1] if i > 0 else pd.NaT
        end = closes[i] if leg == "intraday" else opens[i]
        rows.append({"instrument": ticker, "venue": model.name, "leg": f"{leg} leg", "trading_date": d["date"].iat[i],
                     "start_utc": opens[i], "start_local": _fmt(start, tz), "end_local": _fmt(end, tz),
                     "from_price": d["open"].iat[i] if leg == "intraday" else d["close"].shift(1).iat[i],
                     "to_price": d["close"].iat[i] if leg == "intraday" else d["open"].iat[i], "ret": x,
                     **{k2: v for k2, v in _tests(float(np.log1p(x)), sample).items() if k2 in CLOCK_COLUMNS},
                     "note": note})
    return rows


def _sessions_of(bars: Bars, tick: str, venue: str | None) -> tuple[pd.DataFrame, pd.DataFrame, Venue]:
    """The ticker's bars with sessions, on the given venue, else the ticker's guessed venue when the bars fit
    it, else the one venue whose sessions hold every bar (a guess never overrides the data)."""
    own = bars.of(tick)
    extra = bars.extra[bars.frame["ticker"].to_numpy() == tick].reset_index(drop=True) if len(bars.extra) else None
    if venue:
        v = venue_for(tick, venue)
    else:
        try:
            v = venue_for(tick)
            assign_sessions(own, v, bars.source, extra)
        except BarFileError:
            v = detect_venue(own, extra, bars.source)
    frame, sessions = assign_sessions(own, v, bars.source, extra)
    return frame, sessions, v


def bar0_audit(events: pd.DataFrame, bars: Bars, *, ticker: str | None = None, venue: str | None = None) -> pd.DataFrame:
    """Each event's bar 0 on one instrument's bars, with the reason (:data:`eventstudy.calendars.bar0.BAR0_COLUMNS`):
    the bar-level twin of the day-0 audit, without the study. ``ticker`` (default the bars' first), ``venue`` as
    :func:`intraday_study`; an announcement known only within an interval is mapped at both ends."""
    return _bar0(events, bars, ticker, venue)[-1]


def _bar0(events: pd.DataFrame, bars: Bars, ticker: str | None, venue: str | None):
    """``(ticker, events, legs, sessions, venue, bar0)``: the bars of ``ticker`` (default the first) on their
    venue's sessions and every event's bar 0 (an announcement interval mapped at both ends)."""
    tick = ticker or bars.tickers[0]
    if "time_until" in events.columns and "announced_until" not in events.columns:
        events = events.assign(announced_until=announcement_until(events))
    frame, sessions, v = _sessions_of(bars, tick, venue)
    legs = bar_legs(frame)
    return tick, events, legs, sessions, v, map_bar0(events, legs, sessions, v)


def clock_instruments(timeline: Sequence[str], universe: pd.DataFrame | None = None) -> list[str]:
    """Daily instruments of the reaction clock: the timeline instruments, then their benchmarks in ``universe``."""
    out = list(dict.fromkeys(str(t) for t in timeline))
    if universe is not None and {"ticker", "benchmark"} <= set(universe.columns):
        bench = dict(zip(universe["ticker"].astype(str), universe["benchmark"].astype(str)))
        out += [bench[t] for t in list(out) if bench.get(t) and bench[t] not in out]
    return list(dict.fromkeys(out))


def intraday_from_files(events: pd.DataFrame, bars_path: str, *, ticker: str | None = None, venue: str | None = None,
                        timezone: str | None = None, prices_path: str | None = None,
                        clock_tickers: Sequence[str] = (), exchanges: Mapping[str, str | None] | None = None,
                        **kwargs) -> IntradayRun:
    """:func:`intraday_study` on a bar file, with the daily opens/closes of ``clock_tickers`` read from the
    long price file ``prices_path`` (when it has opens). ``ticker`` names the bars' instrument when the file
    has no ticker column (default: the file's name)."""
    bars = load_bars(bars_path, ticker=ticker or Path(bars_path).stem, timezone=timezone)
    daily = read_daily_ohlc(prices_path, list(clock_tickers)) if prices_path and clock_tickers else None
    return intraday_study(events, bars, ticker=ticker if ticker in bars.tickers else None, venue=venue,
                          daily=daily, daily_tickers=clock_tickers, daily_exchanges=exchanges, **kwargs)


def intraday_study(events: pd.DataFrame, bars: Bars, *, ticker: str | None = None, venue: str | None = None,
                   windows: Sequence[str | IntradayWindow] = DEFAULT_WINDOWS, n_sessions: int = 120,
                   daily: pd.DataFrame | None = None, daily_exchanges: Mapping[str, str | None] | None = None,
                   daily_tickers: Sequence[str] = (), rolls: bool | None = None,
                   benchmark: str | None = None) -> IntradayRun:
    """Bar 0, the windows' reactions with their tests, and the reaction clock (module docstring).

    ``events``: ``event_id, announced_at`` (tz-aware) [, ``announced_until``, or the events file's
    ``time_until``: the announcement known only within an interval, each end mapped and reported]. ``bars``: :class:`Bars`;
    ``ticker`` picks one of its instruments (default: the first). ``venue``: OSE, CME or an
    exchange_calendars code (default: from the ticker). ``daily``: long ``date, ticker, open, close`` of
    instruments for the clock, on the calendars of ``daily_exchanges`` (default: guessed from tickers);
    ``daily_tickers`` the instruments the clock should show (default: those of ``daily``; one without
    opens in ``daily`` gets a row saying so).
    ``rolls``: leave quarterly contract-roll sessions out of the estimation samples (default: True on
    OSE and CME). ``benchmark``: another ticker of ``bars`` whose return over the same instants is the
    regressor of each window's market model (``reactions`` only; ``beta`` column; q025/q975 then empty).
    """
    tick, events, legs, sessions, v, bar0 = _bar0(events, bars, ticker, venue)
    wins = [w if isinstance(w, IntradayWindow) else parse_window(w) for w in windows]
    use_rolls = v.code in ("OSE", "CME") if rolls is None else rolls
    excl = roll_sessions(sessions) if use_rolls else set()
    ev_seqs = _event_seqs(legs, bar0)
    bench = None
    if benchmark:
        bb = bars.of(benchmark)
        bench = (pd.DatetimeIndex(bb["bar_open_utc"]).as_unit("ns").asi8, bb["close"].to_numpy(dtype="float64"),
                 int(round(bars.bar_minutes[benchmark] * 6e10)))
    reactions = _reactions(legs, bar0, wins, v, n_sessions, excl, ev_seqs, bench)
    tickers = list(dict.fromkeys(list(daily_tickers) + (list(daily["ticker"]) if daily is not None else [])))
    clock = _clock(events, legs, bar0, v, n_sessions, excl, ev_seqs, daily, daily_exchanges or {}, tickers)
    return IntradayRun(ticker=tick, venue=v, source=bars.source, legs=legs, sessions=sessions, bar0=bar0,
                       reactions=reactions, clock=clock, n_sessions=n_sessions)


def _clock(events, legs, bar0, v, n_sessions, excl, ev_seqs, daily, exchanges, tickers) -> pd.DataFrame:
    rows = []
    dl = daily_legs(daily) if daily is not None and len(daily) else pd.DataFrame(
        columns=["date", "ticker", "open", "close", "overnight", "intraday", "close_to_close"])
    frames = {t: _daily_frame(dl, t, exchanges.get(t)) for t in tickers}
    announced = bar0[bar0["end"] != "latest"].dropna(subset=["announced_utc"])
    event_dates: dict[str, dict] = {}
    for t, (_, d, o, c) in frames.items():   # each event's reacting sessions, left out of the other events' samples
        event_dates[t] = {e: {d["date"].iat[i] for i, _, _ in _daily_plan(pd.Timestamp(a), o, c, len(d)) if i < len(d)}
                          for e, a in zip(announced["event_id"], announced["announced_utc"])} if len(d) else {}
    for _, b in bar0[bar0["end"] != "latest"].iterrows():
        eid = b["event_id"]
        ev_rows = []
        if int(b["bar0_pos"]) >= 0:
            exclude = excl | set().union(*[s for e, s in ev_seqs.items() if e != eid] or [set()])
            ev_rows += _bar_clock(legs, b, v, n_sessions, exclude)
        if not pd.isna(b["announced_utc"]):
            for t in tickers:
                skip = set().union(*[dates for e, dates in event_dates[t].items() if e != eid] or [set()])
                ev_rows += _daily_clock(pd.Timestamp(b["announced_utc"]), frames[t], t, n_sessions, skip)
        ev_rows.sort(key=lambda r: (pd.Timestamp(r.get("start_utc")).value if not pd.isna(r.get("start_utc", pd.NaT))
                                    else np.iinfo(np.int64).max))
        for i, r in enumerate(ev_rows):
            rows.append({"event_id": eid, "order": i + 1, **r})
    return pd.DataFrame(rows, columns=list(CLOCK_COLUMNS))


def placebo_windows(legs: pd.DataFrame, window: str | IntradayWindow, positions: Sequence[int], *,
                    n_sessions: int = 120, min_est: int = 20, exclude_seq: set[int] | frozenset[int] = frozenset()
                    ) -> pd.DataFrame:
    """Both single-event tests at placebo bar-0 positions where no event happened: ``pos, trading_date,
    session, x (log return), n_est, p_t, p_ghk`` for every position whose window is complete and has at
    least ``min_est`` same-time estimation windows. Their rejection rates are the tests' size on these bars."""
    w = window if isinstance(window, IntradayWindow) else parse_window(window)
    seq = legs["seq"].to_numpy()
    arr = leg_arrays(legs)
    rows = []
    for pos in positions:
        pos = int(pos)
        r = window_return(arr, pos, w)
        if r["n_bars"] == 0 or not np.isfinite(r["logret"]) or int(seq[pos]) in exclude_seq:
            continue
        anchors = estimation_anchors(legs, pos, n_sessions, exclude_seq)
        sample, _ = same_time_windows(legs, pos, w, anchors, exclude_seq, arrays=arr)
        if len(sample) < min_est:
            continue
        t, q = prediction_t(r["logret"], sample), sample_quantile_test(r["logret"], sample)
        rows.append({"pos": pos, "trading_date": legs["trading_date"].iat[pos], "session": legs["session"].iat[pos],
                     "x": r["logret"], "n_est": len(sample), "p_t": t["p_two"], "p_ghk": q["p_two"]})
    return pd.DataFrame(rows, columns=["pos", "trading_date", "session", "x", "n_est", "p_t", "p_ghk"])
