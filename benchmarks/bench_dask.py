"""The engine's chunks on a Dask LocalCluster next to the in-process engine (issue 18).

Synthetic shared-date studies (S securities x E event dates, market model, every test, windows
[0,0] [0,1] [-1,1] [0,5], estimation [-250,-11]); each size and mode runs in a fresh subprocess so
the peak memory is its own. Reports the engine's time (fit only: the panel is built before), pairs
per second, the main process's peak resident memory and, for Dask, each worker's peak.

    python benchmarks/bench_dask.py                     # 100k and 300k pairs, local and 2 workers
    python benchmarks/bench_dask.py --sizes 100000 --workers 2

Prints a Markdown table (date and machine in its caption) for the README's scale-out section.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

SHAPES = {100_000: (1_000, 100), 300_000: (1_000, 300), 1_000_000: (2_000, 500), 10_000_000: (5_000, 2_000)}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(n_pairs: int, workers: int, stream: bool = False) -> dict:
    import numpy as np
    import pandas as pd

    from eventstudy.engine.model import EventStudy

    n_sec, n_ev = SHAPES[n_pairs]
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2015-01-01", periods=300 + n_ev * 3)
    mkt = rng.normal(0.0003, 0.01, len(days))
    r = mkt[:, None] * rng.uniform(0.5, 1.5, n_sec) + rng.normal(0, 0.02, (len(days), n_sec))
    returns = pd.DataFrame(r, index=days, columns=[f"S{i:05d}" for i in range(n_sec)])
    returns["MKT"] = mkt
    day0 = days[300 + np.arange(n_ev) * 3 - 20]
    pairs = pd.DataFrame({"ticker": np.tile(returns.columns[:-1], n_ev), "event_id": np.repeat([f"e{j}" for j in range(n_ev)], n_sec),
                          "day0": np.repeat(day0, n_sec), "group": np.tile(np.arange(n_sec) % 5, n_ev).astype(str)})
    es = EventStudy(returns, pairs, model="market", benchmark="MKT")
    del pairs
    if stream:
        import shutil
        import tempfile

        from eventstudy.outputs.stream import stream_study

        folder = tempfile.mkdtemp(prefix="bench-stream-")
        client = cluster = None
        if workers:
            import distributed

            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=40)
            client = distributed.Client(cluster)
        try:
            t0 = time.perf_counter()
            stream_study(es, folder, aggregates_only=True, executor=client, chunk_pairs=20_000)
            took = time.perf_counter() - t0
            worker_mb = sorted(client.run(_peak_mb).values()) if client else []
            size_mb = sum(f.stat().st_size for f in __import__("pathlib").Path(folder).rglob("*.parquet")) / 2**20
            import pandas as _pd
            test_rows = len(_pd.read_parquet(f"{folder}/tests"))
        finally:
            if client:
                client.close()
                cluster.close()
            shutil.rmtree(folder, ignore_errors=True)
        return dict(pairs=n_pairs, securities=n_sec, events=n_ev, workers=workers, engine_s=took,
                    pairs_per_s=n_pairs / took, main_peak_mb=_peak_mb(), worker_peak_mb=worker_mb,
                    test_rows=test_rows, output_mb=size_mb)
    if workers == 0:
        t0 = time.perf_counter()
        res = es.fit()
        took = time.perf_counter() - t0
        worker_mb = []
    else:
        import distributed

        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            t0 = time.perf_counter()
            res = es.fit(executor=client)
            took = time.perf_counter() - t0
            worker_mb = sorted(client.run(_peak_mb).values())
    return dict(pairs=n_pairs, securities=n_sec, events=n_ev, workers=workers, engine_s=took,
                pairs_per_s=n_pairs / took, main_peak_mb=_peak_mb(), worker_peak_mb=worker_mb,
                test_rows=len(res.tests))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 300_000], choices=sorted(SHAPES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--stream", action="store_true",
                    help="stream to a Parquet dataset in aggregates-only mode (per-cell tables and per-pair CARs, "
                         "no per-day ARs) instead of holding the result in memory")
    ap.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.child[0], a.child[1], bool(a.child[2]))))
        return
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()} (engine time only; peak resident memory).\n")
    mode = "streamed to Parquet, aggregates only" if a.stream else "held in memory"
    print(f"Results {mode}.\n")
    print("| pairs | securities x events | where | engine s | pairs/s | main peak MB | worker peak MB | output MB |")
    print("|---:|:---|:---|---:|---:|---:|:---|---:|")
    for n in a.sizes:
        for w in (0, a.workers):
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(w), str(int(a.stream))],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            where = "in process" if w == 0 else f"LocalCluster, {w} worker processes"
            wmb = ", ".join(f"{m:,.0f}" for m in r["worker_peak_mb"]) or "–"
            print(f"| {r['pairs']:,} | {r['securities']:,} x {r['events']} | {where} | {r['engine_s']:.1f} | "
                  f"{r['pairs_per_s']:,.0f} | {r['main_peak_mb']:,.0f} | {wmb} | "
                  f"{r.get('output_mb', float('nan')):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
