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

MARKET = Path(__file__).resolve().parents[2] / "shared" / "data" / "market"
REAL = MARKET / "keroppa88_chart0_jquants_tse1025_ohlcv.csv"
LIMITS = MARKET / "keroppa88_chart0_limit_hits.csv"


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
        if not a.offline and Path(a.prices) == REAL and LIMITS.exists():
            cmd += ["--limits", str(LIMITS)]            # as the README's real-data run (flags only)
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
        kp = mde[(mde["test"] == "kolari_pynnonen") & (mde["window_start"] == w[0]) & (mde["window_end"] == w[1])]
        print(f"\nkolari_pynnonen MDE per group, window [{w[0]},{w[1]}]: " + "; ".join(
            f"{g} (n {n:.0f}) {'' if pd.isna(v) else f'{100 * v:.2f}%'}" for g, n, v in zip(kp["group"], kp["n"], kp["mde"])
            if n > 1))
        from eventstudy.inputs.hypotheses import load_hypotheses
        cal = pd.read_csv(out / "placebo_calibrated_p.csv")
        tost = pd.read_csv(out / "placebo_tost.csv")
        print("\nprimary hypotheses (kolari_pynnonen; futures: t_time_series):")
        for h in load_hypotheses(None).itertuples(index=False):
            test = "t_time_series" if h.group in ("futures", "index") else "kolari_pynnonen"
            k = ((cal["event_id"] == h.event_id) & (cal["group"] == h.group) & (cal["test"] == test)
                 & (cal["window_start"] == h.window_start) & (cal["window_end"] == h.window_end))
            if not k.any():
                print(f"- {h.hypothesis_id} {h.event_id} x {h.group}: not tested on this data")
                continue
            r = cal[k].iloc[0]
            line = (f"- {h.hypothesis_id} {h.event_id} x {h.group} [{h.window_start},{h.window_end}]: CAAR "
                    f"{100 * r.caar:+.2f}%, p {r.p_value:.3f}, calibrated p {r.p_calibrated:.3f}")
            mm = mde[(mde["test"] == test) & (mde["group"] == h.group) & (mde["window_start"] == h.window_start)
                     & (mde["window_end"] == h.window_end)]["mde"]
            if not r.p_value < 0.05:
                m = mm.iloc[0] if len(mm) else float("nan")
                line += f", MDE {'not reached' if pd.isna(m) else f'{100 * m:.2f}%'}"
                t = tost[(tost["event_id"] == h.event_id) & (tost["group"] == h.group)
                         & (tost["window_start"] == h.window_start) & (tost["window_end"] == h.window_end)]
                if test == "kolari_pynnonen" and len(t) and not pd.isna(t["p_tost"].iloc[0]):
                    line += (f", TOST p {t['p_tost'].iloc[0]:.3f} against ±{100 * t['margin'].iloc[0]:.2f}%: "
                             + ("a reaction that large is excluded" if t["p_tost"].iloc[0] < 0.05
                                else "a reaction that large is not excluded"))
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
