"""Size of the single-event tests on the real OSE bars, by placebo windows (no event happened there).

For every placebo bar 0 the window's log return is compared, as for a real event, with the same window
at the same time of day in up to 120 earlier sessions of the same kind (futures-roll sessions left out,
at least 20 windows): the prediction-error t and the Gelbach-Helland-Klick sample-quantile test
(:func:`eventstudy.pipeline.intraday.placebo_windows`). The share of placebo windows rejected at 5% and
10% is each test's size on these bars. Placebo bar 0s: every night session's first bar ('session':
night session from the day close), every night session's 17:30 bar ('rest': to the 06:00 close), and
every day and night session's bars at a fixed set of times ('bars:0,3': one hour). Placebo windows
overlap the later ones' estimation samples, so the rates are correlated; the binomial standard error
shown is a lower bound of their noise.

    python benchmarks/bench_intraday_size.py     # ../shared/data/market/mahoganin_ose_nk225mini_15min.csv
"""
from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

import numpy as np

MARKET = Path(__file__).resolve().parents[2] / "shared" / "data" / "market"
BARS = MARKET / "mahoganin_ose_nk225mini_15min.csv"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bars", default=str(BARS))
    ap.add_argument("--sessions", type=int, default=120, help="estimation sessions (default 120)")
    args = ap.parse_args(argv)
    if not Path(args.bars).exists():
        print(f"no bar file at {args.bars}", file=sys.stderr)
        return 1
    from eventstudy.calendars.venues import assign_sessions, venue
    from eventstudy.data.bars import load_bars
    from eventstudy.pipeline.intraday import placebo_windows, roll_sessions
    from eventstudy.returns.intraday import bar_legs

    t0 = time.perf_counter()
    b = load_bars(args.bars, ticker="OSE")
    frame, sess = assign_sessions(b.of("OSE"), venue("OSE"), b.source, b.extra)
    legs = bar_legs(frame)
    rolls = roll_sessions(sess)
    hm = legs["bar_open_utc"].dt.tz_convert("Asia/Tokyo").dt.strftime("%H:%M")
    night = legs["session"] == "night"
    cases = [
        ("session", "night session from the day close", np.flatnonzero(night & legs["first"])),
        ("rest", "night session from 17:30 to the 06:00 close", np.flatnonzero(night & (hm == "17:30"))),
        ("bars:0,3", "one hour from 10:00, 13:00, 17:30, 22:00, 02:00",
         np.flatnonzero(hm.isin(["10:00", "13:00", "17:30", "22:00", "02:00"]))),
    ]
    print(f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python "
          f"{platform.python_version()}; bars: {args.bars} ({len(legs):,} bars); estimation: up to {args.sessions} "
          "earlier same-time windows (at least 20), roll sessions left out.\n")
    print("| window | placebo bar 0s | windows | median n | t: size 5% | t: size 10% | GHK: size 5% | GHK: size 10% | binomial se at 5% |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w, what, pos in cases:
        res = placebo_windows(legs, w, pos, n_sessions=args.sessions, exclude_seq=rolls)
        n = len(res)
        rate = {f"{k}{a}": float((res[f"p_{k}"] <= a / 100).mean()) for k in ("t", "ghk") for a in (5, 10)}
        print(f"| {w} | {what} | {n} | {int(res['n_est'].median())} | {rate['t5']:.3f} | {rate['t10']:.3f} | "
              f"{rate['ghk5']:.3f} | {rate['ghk10']:.3f} | {np.sqrt(0.05 * 0.95 / n):.3f} |")
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
