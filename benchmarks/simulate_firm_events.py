"""Size and power of the pooled tests for firm-specific events, by simulation.

Each replication is one pooled cell of N firm-events (random securities of a 300-security panel on
random days), tested on window [0,0] with the market model: all replications run as ONE engine fit,
the replication id being the pooling column (``EventStudy(pool="rep")``). Returns: market factor,
an industry factor shared by every security (residual correlation rho = var(g) / (var(g) + var(e)),
about 0.3) and Student-t(5) noise.

Designs: ``spread`` - every firm-event on its own random date; ``shared`` - half of the cell's
firm-events on one date (where the industry factor moves them together), half spread. Effects: none,
or ``--effect`` (decimal) added to each firm-event's day-0 return.

    python benchmarks/simulate_firm_events.py --reps 400
"""
from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

TESTS = ("kolari_pynnonen", "bmp", "t_cross_section", "patell", "corrado", "grank", "sign_generalized", "wilcoxon")


def panel(n_sec: int, T: int, seed: int):
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-01", periods=T)
    m = rng.normal(0.0003, 0.01, T)
    g = rng.normal(0, 0.01, T)
    beta = rng.uniform(0.6, 1.4, n_sec)
    e = rng.standard_t(5, (T, n_sec)) * 0.015 / math.sqrt(5 / 3)
    ret = pd.DataFrame(0.0002 + m[:, None] * beta[None, :] + g[:, None] + e, index=days,
                       columns=[f"S{i:03d}" for i in range(n_sec)])
    ret["M"] = m
    return ret, days


def rejection_rates(design: str, reps: int, n: int, effect: float, seed: int) -> dict[str, float]:
    from eventstudy import EventStudy

    ret, days = panel(300, 2_500, seed)
    rng = np.random.default_rng(seed + 1)
    rows = []
    for r in range(reps):
        tick = rng.choice(300, n, replace=False)
        pos = rng.choice(np.arange(300, 2_480), n, replace=False)
        if design == "shared":
            pos[: n // 2] = pos[0]
        rows.append(pd.DataFrame({"ticker": [f"S{i:03d}" for i in tick], "event_id": [f"r{r}_{i}" for i in range(n)],
                                  "day0": days[pos], "rep": f"r{r}"}))
    pairs = pd.concat(rows, ignore_index=True)
    if effect:
        ret = ret.copy()
        for t, d in zip(pairs["ticker"], pairs["day0"]):
            ret.loc[d, t] += effect
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0)], pool="rep", pooled_group=None).fit()
    t = res.tests
    return {k: float((t.loc[t["test"] == k, "p_value"] < 0.05).mean()) for k in TESTS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--n", type=int, default=40, help="firm-events per pooled cell (default 40)")
    ap.add_argument("--effect", type=float, default=0.01, help="day-0 abnormal return for the power columns")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cols = [("spread", 0.0), ("shared", 0.0), ("spread", a.effect), ("shared", a.effect)]
    res = {c: rejection_rates(c[0], a.reps, a.n, c[1], a.seed + 10 * i) for i, c in enumerate(cols)}
    se = math.sqrt(0.05 * 0.95 / a.reps)
    print(f"Rejection rates at the 5% level, window [0,0], {a.reps} pooled cells of {a.n} firm-events each "
          f"(Monte-Carlo se of a 5% rate: {se:.3f})\n")
    head = ["test", "spread dates, no effect", "half on one date, no effect",
            f"spread, {100 * a.effect:+.1f}% day 0", f"half on one date, {100 * a.effect:+.1f}% day 0"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for k in TESTS:
        print(f"| {k} | " + " | ".join(f"{res[c][k]:.3f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
