#!/usr/bin/env python
"""Run the study with the real OSE bars and print the reaction clock of chosen events as Markdown.

    python scripts/intraday_findings.py                          # ../shared/data/market, run in a temporary folder
    python scripts/intraday_findings.py --event dual_use_ban --event travel_advisory

It runs ``eventstudy run --prices <J-Quants file> --bars <OSE 15-minute file> --bars-ticker
NK225MINI.OSE --out DIR --no-report`` and prints, from the ``reaction_clock.csv`` and
``intraday_bar0.csv`` that run wrote, each event's bar 0 and its clock (every venue and session
that could react, in time order, with the t and GHK p). The README quotes this output.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
MARKET = REPO.parent / "shared" / "data" / "market"


def _f(x, spec):
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prices", default=str(MARKET / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"))
    ap.add_argument("--bars", default=str(MARKET / "mahoganin_ose_nk225mini_15min.csv"))
    ap.add_argument("--out", default=None, help="run folder (default: a temporary folder, removed at the end)")
    ap.add_argument("--event", action="append", help="events to print (default: dual_use_ban, travel_advisory)")
    args = ap.parse_args(argv)
    if args.out is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="intraday-findings-") as tmp:
            return main([*(argv if argv is not None else sys.argv[1:]), "--out", str(Path(tmp) / "run")])
    cmd = [sys.executable, "-m", "eventstudy.cli", "run", "--prices", args.prices, "--bars", args.bars,
           "--bars-ticker", "NK225MINI.OSE", "--out", args.out, "--no-report"]
    if subprocess.run(cmd, cwd=REPO, capture_output=True, text=True).returncode != 0:
        print("the run failed:", " ".join(cmd), file=sys.stderr)
        return 1
    clock = pd.read_csv(Path(args.out) / "reaction_clock.csv")
    bar0 = pd.read_csv(Path(args.out) / "intraday_bar0.csv").set_index("event_id")
    print(f"*Output of `python scripts/intraday_findings.py`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.*\n")
    for eid in args.event or ["dual_use_ban", "travel_advisory"]:
        print(f"**{eid}**: {bar0.loc[eid, 'reason']}\n")
        print("| # | instrument | leg | from | to | prices | return % | abnormal % | t | p (t) | p (GHK) | n |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in clock[clock["event_id"] == eid].itertuples():
            if not isinstance(r.leg, str) or not r.leg:
                print(f"| {r.order} | {r.instrument} | no daily prices with opens | | | | | | | | | |")
                continue
            print(f"| {r.order} | {r.instrument} | {r.leg} | {r.start_local} | {r.end_local} | "
                  f"{_f(r.from_price, ',.2f')} → {_f(r.to_price, ',.2f')} | {_f(r.ret * 100, '+.2f')} | "
                  f"{_f(r.ar * 100, '+.2f')} | {_f(r.t, '+.2f')} | {_f(r.p_t, '.3f')} | {_f(r.p_ghk, '.3f')} | "
                  f"{int(r.n_est) if r.n_est == r.n_est else ''} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
