"""The engine's chunks on a Dask LocalCluster next to the in-process engine (issue 18).

Synthetic studies (market model, every test, windows [0,0] [0,1] [-1,1] [0,5], estimation [-250,-11]):
shared dates (S securities x E event dates) or, with ``--layout firm``, firm-specific events (each a
random security on a random day, pooled per month of day 0: a cell is a month's firm-events, so a
chunk holds whole months); each size and mode runs in a fresh subprocess so
the peak memory is its own. Reports the time to build the study (``EventStudy(...)``: pairs checked,
the benchmark read) and the engine's time (the fit), pairs per second of the fit, the main (client)
process's peak resident memory and, for Dask, each worker's peak.

With ``--lazy`` the returns are first laid out as a Parquet returns store
(:func:`eventstudy.data.return_store.write_return_store`, in a process of its own, timed apart) and
each run reads them from it (``EventStudy(ReturnStore.open(path), ...)``): the client holds no return
panel and each chunk reads its securities over its dates, on the worker that fits it. The in-memory
rows are run too, for comparison.

    python benchmarks/bench_dask.py                     # 100k and 300k pairs, local and 2 workers
    python benchmarks/bench_dask.py --sizes 100000 --workers 2
    python benchmarks/bench_dask.py --stream --lazy --sizes 1000000 10000000
    python benchmarks/bench_dask.py --stream --lazy --layout firm --sizes 1000000 10000000

Prints a Markdown table (date and machine in its caption) for the README's scale-out section.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {100_000: (1_000, 100), 300_000: (1_000, 300), 1_000_000: (2_000, 500), 10_000_000: (5_000, 2_000)}
#: firm-specific layout: securities and trading days of the panel (each pair a security on its own random day)
FIRM_PANEL = (5_000, 2_300)


def _peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM of its own address space where Linux gives it
    (``ru_maxrss`` also counts the parent's peak at the fork before an exec: a Dask worker spawned after
    the client built a large study would report the client's peak as its own)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _days(n_ev: int):
    import pandas as pd

    return pd.bdate_range("2015-01-01", periods=300 + n_ev * 3)


def make_returns(n_pairs: int, layout: str = "shared"):
    """The synthetic returns (dates x securities, plus the market ``MKT``) of a study of ``n_pairs``."""
    import numpy as np
    import pandas as pd

    n_sec, n_ev = SHAPES[n_pairs] if layout == "shared" else (FIRM_PANEL[0], 0)
    rng = np.random.default_rng(0)
    days = _days(n_ev) if layout == "shared" else pd.bdate_range("2015-01-01", periods=FIRM_PANEL[1])
    mkt = rng.normal(0.0003, 0.01, len(days))
    r = mkt[:, None] * rng.uniform(0.5, 1.5, n_sec) + rng.normal(0, 0.02, (len(days), n_sec))
    returns = pd.DataFrame(r, index=days, columns=[f"S{i:05d}" for i in range(n_sec)])
    returns["MKT"] = mkt
    return returns


def make_pairs(n_pairs: int, layout: str = "shared"):
    """``shared``: every security on every event date (day 0 every third session after the first 280).
    ``firm``: firm-specific events, each a random security on a random day of its own (after the first 300
    sessions), pooled per calendar month of day 0 (a ``month`` column: ``EventStudy(pool="month")``)."""
    import numpy as np
    import pandas as pd

    if layout == "firm":
        n_sec, n_days = FIRM_PANEL
        days = pd.bdate_range("2015-01-01", periods=n_days)
        rng = np.random.default_rng(1)
        day0 = days[rng.integers(300, n_days - 20, n_pairs)]
        return pd.DataFrame({"ticker": np.array([f"S{i:05d}" for i in range(n_sec)], dtype=object)[
                                 rng.integers(0, n_sec, n_pairs)],
                             "event_id": np.char.add("F", np.arange(n_pairs).astype(str)).astype(object),
                             "day0": day0, "group": (np.arange(n_pairs) % 5).astype(str),
                             "month": day0.strftime("%Y-%m")})
    n_sec, n_ev = SHAPES[n_pairs]
    days = _days(n_ev)
    tickers = np.array([f"S{i:05d}" for i in range(n_sec)], dtype=object)
    day0 = days[300 + np.arange(n_ev) * 3 - 20]
    return pd.DataFrame({"ticker": np.tile(tickers, n_ev), "event_id": np.repeat([f"e{j}" for j in range(n_ev)], n_sec),
                         "day0": np.repeat(day0, n_sec), "group": np.tile(np.arange(n_sec) % 5, n_ev).astype(str)})


def write_store(n_pairs: int, path: str, layout: str = "shared") -> dict:
    """Lay out the study's returns as a Parquet returns store at ``path`` (timed, peak memory)."""
    from eventstudy.data.return_store import write_return_store

    returns = make_returns(n_pairs, layout)
    t0 = time.perf_counter()
    write_return_store(returns, path)
    return dict(write_s=time.perf_counter() - t0, store_mb=os.path.getsize(path) / 2**20, peak_mb=_peak_mb())


def _cluster(workers: int):
    import distributed

    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    return cluster, distributed.Client(cluster)


def run_one(n_pairs: int, workers: int, stream: bool = False, store: str | None = None,
            layout: str = "shared") -> dict:
    from eventstudy.engine.model import EventStudy

    n_sec, n_ev = SHAPES[n_pairs] if layout == "shared" else (FIRM_PANEL[0], n_pairs)
    pool = "month" if layout == "firm" else False
    t0 = time.perf_counter()
    if store:
        from eventstudy.data.return_store import ReturnStore

        es = EventStudy(ReturnStore.open(store), make_pairs(n_pairs, layout), model="market", benchmark="MKT",
                        pool=pool)
    else:
        es = EventStudy(make_returns(n_pairs, layout), make_pairs(n_pairs, layout), model="market",
                        benchmark="MKT", pool=pool)
    build_s = time.perf_counter() - t0
    cluster = client = None
    if workers:
        cluster, client = _cluster(workers)
    folder = tempfile.mkdtemp(prefix="bench-stream-")
    try:
        t0 = time.perf_counter()
        if stream:
            from eventstudy.outputs.stream import stream_study

            stream_study(es, folder, aggregates_only=True, executor=client, chunk_pairs=20_000)
        else:
            res = es.fit(executor=client)
        took = time.perf_counter() - t0
        worker_mb = sorted(client.run(_peak_mb).values()) if client else []
        if stream:
            import pandas as pd

            size_mb = sum(f.stat().st_size for f in Path(folder).rglob("*.parquet")) / 2**20
            test_rows = len(pd.read_parquet(f"{folder}/tests"))
        else:
            size_mb, test_rows = float("nan"), len(res.tests)
    finally:
        if client:
            client.close()
            cluster.close()
        shutil.rmtree(folder, ignore_errors=True)
    return dict(pairs=n_pairs, securities=n_sec, events=n_ev, workers=workers, build_s=build_s, engine_s=took,
                pairs_per_s=n_pairs / took, main_peak_mb=_peak_mb(), worker_peak_mb=worker_mb,
                test_rows=test_rows, output_mb=size_mb, lazy=bool(store))


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 300_000], choices=sorted(SHAPES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--stream", action="store_true",
                    help="stream to a Parquet dataset in aggregates-only mode (per-cell tables and per-pair CARs, "
                         "no per-day ARs) instead of holding the result in memory")
    ap.add_argument("--lazy", action="store_true",
                    help="also read the returns lazily from a Parquet returns store (written first, timed apart)")
    ap.add_argument("--layout", choices=["shared", "firm"], default="shared",
                    help="shared: every security on every event date; firm: firm-specific events (a random "
                         f"security of {FIRM_PANEL[0]:,} on a random day of {FIRM_PANEL[1]:,} sessions), pooled per "
                         "month of day 0")
    ap.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--write-store", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.write_store:
        print(json.dumps(write_store(int(a.write_store[0]), a.write_store[1], a.layout)))
        return
    if a.child:
        print(json.dumps(run_one(a.child[0], a.child[1], bool(a.child[2]), a.store, a.layout)))
        return
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()} (build: EventStudy(...); engine: the fit; "
          "peak resident memory).\n")
    mode = "streamed to Parquet, aggregates only" if a.stream else "held in memory"
    design = ("every security on every event date" if a.layout == "shared" else
              "firm-specific events, each on its own day, pooled per month of day 0")
    print(f"Results {mode}; {design}.\n")
    rows, stores = [], []
    for n in a.sizes:
        for w in (0, a.workers):
            rows.append(_child("--child", str(n), str(w), str(int(a.stream)), "--layout", a.layout))
        if a.lazy:
            tmp = tempfile.mkdtemp(prefix="bench-store-")
            path = os.path.join(tmp, "returns.parquet")
            try:
                stores.append({"pairs": n, **_child("--write-store", str(n), path, "--layout", a.layout)})
                for w in (0, a.workers):
                    rows.append(_child("--child", str(n), str(w), str(int(a.stream)), "--store", path,
                                       "--layout", a.layout))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    print("| pairs | securities x events | returns | where | build s | engine s | pairs/s | main peak MB "
          "| worker peak MB | output MB |")
    print("|---:|:---|:---|:---|---:|---:|---:|---:|:---|---:|")
    for r in rows:
        where = "in process" if r["workers"] == 0 else f"LocalCluster, {r['workers']} worker processes"
        wmb = ", ".join(f"{m:,.0f}" for m in r["worker_peak_mb"]) or "–"
        print(f"| {r['pairs']:,} | {r['securities']:,} x {r['events']:,} | {'Parquet store' if r['lazy'] else 'in memory'} "
              f"| {where} | {r['build_s']:.1f} | {r['engine_s']:.1f} | {r['pairs_per_s']:,.0f} | {r['main_peak_mb']:,.0f} "
              f"| {wmb} | {'–' if r['output_mb'] != r['output_mb'] else format(r['output_mb'], ',.0f')} |", flush=True)
    for s in stores:
        print(f"\nReturns store of the {s['pairs']:,}-pair study: {s['store_mb']:,.0f} MB, written in "
              f"{s['write_s']:.1f} s (peak {s['peak_mb']:,.0f} MB, with the panel in memory).")


if __name__ == "__main__":
    main()
