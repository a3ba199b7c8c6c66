"""Wall time of ``eventstudy placebo --draws N`` on the real J-Quants panel, and the placebo size it finds.

Runs the command as a fresh process (the whole CLI: reading the 15 MB price file, the real study, the
placebo fits with every injected effect, the CSVs, calibration.md and the power-curve figure), then
prints the machine, the date, the wall time and, from the written ``placebo_size.csv`` and
``placebo_mde.csv``, each test's size at 1/5/10% and its MDE for the pooled group on the lead window.

    python benchmarks/bench_placebo.py                     # --draws 500 on ../shared/data/market (real data)
    python benchmarks/bench_placebo.py --draws 100 --offline
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "market" / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prices", default=str(REAL))
    ap.add_argument("--offline", action="store_true", help="the bundled SIMULATED market instead of --prices")
    ap.add_argument("--out", default=None, help="keep the outputs here (default: a temporary folder)")
    a = ap.parse_args(argv)
    if not a.offline and not Path(a.prices).exists():
        print(f"no price file at {a.prices}; give --prices FILE or --offline", file=sys.stderr)
        return 2
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.out or tmp)
        cmd = [sys.executable, "-m", "eventstudy.cli", "placebo", "--draws", str(a.draws), "--seed", str(a.seed),
               "--out", str(out)] + (["--offline"] if a.offline else ["--prices", a.prices])
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = pd.read_csv(out / "placebo_size.csv")
        mde = pd.read_csv(out / "placebo_mde.csv")
        draws = pd.read_csv(out / "placebo_draws.csv")
        w = (0, 1) if ((size["window_start"] == 0) & (size["window_end"] == 1)).any() else \
            (int(size["window_start"].iloc[0]), int(size["window_end"].iloc[0]))
        sel = lambda d: d[(d["window_start"] == w[0]) & (d["window_end"] == w[1]) & (d["group"] == "all")]  # noqa: E731
        t = sel(size).merge(sel(mde)[["test", "mde"]], on="test")
        data = "SIMULATED offline market" if a.offline else Path(a.prices).name
        print(f"date {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; machine {platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}")
        print(f"eventstudy placebo --draws {a.draws} on {data}: wall {wall:.1f} s, peak RSS {rss:.0f} MB, "
              f"{draws['event_id'].nunique()} distinct placebo dates")
        print(f"\nsize and MDE, window [{w[0]},{w[1]}], group all (n = {t['n'].iloc[0]:.0f}):\n")
        print("| test | size 1% | size 5% | size 10% | MDE (%) |")
        print("|---|---|---|---|---|")
        for r in t.itertuples(index=False):
            m = "" if pd.isna(r.mde) else f"{100 * r.mde:.2f}"
            print(f"| {r.test} | {r.size_01:.3f} | {r.size_05:.3f} | {r.size_10:.3f} | {m} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
