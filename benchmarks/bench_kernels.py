"""When the compiled (numba) kernels pay: the first fit in a fresh process with each implementation.

The batched tests' inner loops come in two implementations that give the same bits
(:mod:`eventstudy.inference.kernels`): compiled loops, which cost about 0.45 s to load in a process
(numba's import, then each loop from its disk cache), and numpy, which costs nothing to load and more
per pair. A command-line run is one process and one fit, so what counts is the first fit's time.
For each size (the synthetic panels of ``bench_engine.py``) and implementation, a fresh process
times ``EventStudy(...).fit()`` once (``EVENTSTUDY_KERNELS`` forces the implementation); the best
of ``--repeat`` processes is printed, with a digest of the car and tests tables, which must agree.
``kernels.COMPILE_AFTER_PAIRS`` is set from where the columns cross.

    python benchmarks/bench_kernels.py
    python benchmarks/bench_kernels.py --sizes 10000 100000 --repeat 3 --layout firm

Never a test: timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def child(n_pairs: int, layout: str) -> dict:
    from bench_engine import make_pairs

    from eventstudy.data.base import make_prices
    from eventstudy.data.validate import validate_price_frame
    from eventstudy.engine.model import EventStudy
    from eventstudy.inference import kernels
    from eventstudy.returns.panel import compute_returns

    long, pairs, n_sec, n_ev = make_pairs(n_pairs, layout)
    frame, field = validate_price_frame(long, origin="benchmark")
    panel = compute_returns(make_prices(frame, field, "synthetic benchmark panel"))
    study = EventStudy(panel, pairs, model="market", benchmark="MKT", pool=(layout == "firm"))
    t0 = time.perf_counter()
    res = study.fit()
    fit_s = time.perf_counter() - t0
    digest = hashlib.sha256()
    for frame in (res.car, res.tests):
        digest.update(frame.to_csv(index=False, float_format="%.17g").encode())
    return dict(pairs=n_pairs, backend=kernels.backend(), fit_s=fit_s, digest=digest.hexdigest()[:12])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 30_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--layout", choices=["shared", "scattered", "firm"], default="shared")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.layout)))
        return
    from eventstudy.inference import kernels

    print(f"layout {a.layout}; first fit in a fresh process, best of {a.repeat}; "
          f"COMPILE_AFTER_PAIRS = {kernels.COMPILE_AFTER_PAIRS:,}")
    print("| pairs | numpy s | compiled s (with loading) | compiled / numpy | same results |")
    print("|---|---|---|---|---|")
    for n in a.sizes:
        best, digests = {}, set()
        for name in ("numpy", "compiled"):
            times = []
            for _ in range(a.repeat):
                out = subprocess.run([sys.executable, __file__, "--child", str(n), "--layout", a.layout],
                                     capture_output=True, text=True, check=True,
                                     env={**os.environ, "EVENTSTUDY_KERNELS": name})
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if r["backend"] != name:
                    raise SystemExit(f"asked for {name}, the fit ran {r['backend']}")
                times.append(r["fit_s"])
                digests.add(r["digest"])
            best[name] = min(times)
        print(f"| {n:,} | {best['numpy']:.2f} | {best['compiled']:.2f} | {best['compiled'] / best['numpy']:.2f} | "
              f"{'yes' if len(digests) == 1 else 'NO: ' + ', '.join(sorted(digests))} |", flush=True)


if __name__ == "__main__":
    main()
