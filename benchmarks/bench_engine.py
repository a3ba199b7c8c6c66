"""Speed and memory of the whole pipeline, from a long price table to the test table.

Synthetic panel: S securities x E events (every event hits every security), a 250-day
estimation window [-250,-11], windows [0,0] [0,1] [-1,1] [0,5], market model, every test
except the bootstrap, 5 exposure groups. Each size runs in a fresh subprocess so that the
peak resident memory (ru_maxrss) belongs to that size alone.

    python benchmarks/bench_engine.py                 # 1k, 10k, 100k pairs
    python benchmarks/bench_engine.py --sizes 1000 --repeat 3
    python benchmarks/bench_engine.py --layout scattered --sizes 10000 30000

``--layout scattered``: the same number of pairs as events of 2 securities each on their own
random day (an earnings-style study: many tiny cells, no shared day 0), 200 securities.
``--layout firm``: the same number of firm-specific events (1,000 securities, each event a random
security on a random day of a 1,500-day panel), pooled per group (``EventStudy(pool=True)``, the
date-clustered Kolari-Pynnonen), as ``eventstudy run --firm-events`` does.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SHAPES = {1_000: (100, 10), 10_000: (1_000, 10), 30_000: (1_000, 30), 100_000: (1_000, 100)}


def make_long_prices(n_sec: int, n_days: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=n_days)
    mkt = rng.normal(0.0003, 0.01, n_days)
    beta = rng.uniform(0.5, 1.5, n_sec)
    ret = mkt[:, None] * beta[None, :] + rng.normal(0, 0.02, (n_days, n_sec))
    px = 100 * np.exp(np.cumsum(np.log1p(ret), axis=0))
    mpx = 100 * np.exp(np.cumsum(np.log1p(mkt)))
    tick = np.array([f"S{i:05d}" for i in range(n_sec)])
    long = pd.DataFrame({
        "date": np.tile(dates.values, n_sec + 1),
        "ticker": np.repeat(np.r_[tick, ["MKT"]], n_days),
        "close": np.r_[px.T.ravel(), mpx],
    })
    return long, dates, tick


def make_pairs(n_pairs: int, layout: str):
    """The long price table and the (security, event) pairs of one benchmark size."""
    import numpy as np
    import pandas as pd

    if layout == "firm":
        n_sec = 1_000
        long, dates, tick = make_long_prices(n_sec, 1_500)
        rng = np.random.default_rng(1)
        pairs = pd.DataFrame({
            "ticker": tick[rng.integers(0, n_sec, n_pairs)],
            "event_id": [f"F{j:07d}" for j in range(n_pairs)],
            "day0": dates[rng.integers(300, 1_480, n_pairs)].values,
            "group": np.array([f"g{i % 5}" for i in range(n_pairs)]),
        })
        return long, pairs, n_sec, n_pairs
    if layout == "scattered":
        n_sec, n_ev = 200, n_pairs // 2
        long, dates, tick = make_long_prices(n_sec, 1000)
        rng = np.random.default_rng(1)
        day = dates[rng.integers(300, 980, n_ev)].values
        pairs = pd.DataFrame({
            "ticker": np.r_[tick[rng.integers(0, 100, n_ev)], tick[rng.integers(100, 200, n_ev)]],
            "event_id": np.tile([f"E{j:06d}" for j in range(n_ev)], 2),
            "day0": np.tile(day, 2),
            "group": np.repeat(["g0", "g1"], n_ev),
        })
        return long, pairs, n_sec, n_ev
    n_sec, n_ev = SHAPES[n_pairs]
    n_days = 300 + 3 * n_ev + 20
    long, dates, tick = make_long_prices(n_sec, n_days)
    ev_days = dates[300 + 3 * np.arange(n_ev)]
    pairs = pd.DataFrame({
        "ticker": np.tile(tick, n_ev),
        "event_id": np.repeat([f"E{j:03d}" for j in range(n_ev)], n_sec),
        "day0": np.repeat(ev_days.values, n_sec),
        "group": np.tile(np.array([f"g{i % 5}" for i in range(n_sec)]), n_ev),
    })
    return long, pairs, n_sec, n_ev


def run_one(n_pairs: int, repeat: int, layout: str = "shared") -> dict:
    from eventstudy.data.base import make_prices
    from eventstudy.data.validate import validate_price_frame
    from eventstudy.engine.model import EventStudy
    from eventstudy.returns.panel import compute_returns

    long, pairs, n_sec, n_ev = make_pairs(n_pairs, layout)
    timings = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        frame, field = validate_price_frame(long, origin="benchmark")
        prices = make_prices(frame, field, "synthetic benchmark panel")
        t1 = time.perf_counter()
        panel = compute_returns(prices)
        t2 = time.perf_counter()
        res = EventStudy(panel, pairs, model="market", benchmark="MKT", pool=(layout == "firm")).fit()
        t3 = time.perf_counter()
        timings.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
    best = min(timings, key=lambda x: x[3])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(pairs=n_pairs, securities=n_sec, events=n_ev, price_rows=len(long),
                validate_s=best[0], returns_s=best[1], engine_s=best[2], total_s=best[3],
                ms_per_pair=1000 * best[3] / n_pairs, pairs_per_s=n_pairs / best[3],
                test_rows=len(res.tests), peak_rss_mb=peak_mb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000], choices=sorted(SHAPES))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--layout", choices=["shared", "scattered", "firm"], default="shared",
                    help="shared: every event hits every security (default); scattered: events of 2 securities; "
                         "firm: firm-specific events pooled per group")
    ap.add_argument("--kernels", choices=["compiled", "numpy", "auto"], default="compiled",
                    help="the test kernels' implementation (EVENTSTUDY_KERNELS; default compiled: the engine's speed "
                         "once a process has tested 12,000 pairs; bench_kernels.py compares them in a first fit)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.child, a.repeat, a.layout)))
        return
    print(f"{'pairs':>8} {'secs x events':>14} {'validate':>9} {'returns':>8} {'engine':>8} {'total s':>8} "
          f"{'ms/pair':>8} {'pairs/s':>9} {'peak MB':>8}")
    for n in a.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--repeat", str(a.repeat),
                              "--layout", a.layout],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "EVENTSTUDY_KERNELS": a.kernels})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['pairs']:>8,} {r['securities']:>6} x {r['events']:<5} {r['validate_s']:>9.2f} {r['returns_s']:>8.2f} "
              f"{r['engine_s']:>8.2f} {r['total_s']:>8.2f} {r['ms_per_pair']:>8.4f} {r['pairs_per_s']:>9,.0f} "
              f"{r['peak_rss_mb']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
