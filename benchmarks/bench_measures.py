"""Size, power and cost per pair of the volume and volatility measures, by seeded simulation.

Volume (:func:`eventstudy.data.simulated_measures.simulate_volume`): N securities share each of E event
dates on a panel that also holds 200 market-only securities; log volume has a market component with
day-of-week and holiday effects, AR(1) idiosyncratic noise (``phi``) with right-skewed innovations
(sd 0.32; defaults matched to the real J-Quants residuals: AR(1) 0.5, skewness about 1). Scenarios: no effect;
a day-0 spike of 0.1 and 0.2 log points (+10.5%, +22% volume).
Every test of the battery runs on the cumulated abnormal log volume of windows [0,0] and [0,1].

Volatility (:func:`eventstudy.data.simulated_measures.simulate_garch`): market-model returns with
GARCH(1,1) errors (alpha 0.08, beta 0.90, sd 2%). Scenarios: no effect; the day-0 error's sd doubled
(variance x4) with no mean effect; the errors' sd times sqrt(2) on each of days 0-9 (variance x2 over the
window: the variance shift the GARCH dummy models); doubled day-0 sd plus a day-0 shift of 2% (one
unconditional sd). Reported: the Savickas GARCH test, the ML variance-shift dummy (windows of 10+ days)
and the pre-event variance rank test, beside the returns battery's BMP, Patell and Kolari-Pynnonen
(windows [0,0] and [0,9]). Then the reason the variance tests use the pre-event days as reference: the
mean squared standardised abnormal return on estimation days and on the days after them, without an effect.

Rejection rates at 5% (two-sided), each over ``cells`` = panels x events; a correct 5% rate has a
standard error of sqrt(0.05 * 0.95 / cells). Cost: wall time of the fit divided by the pairs.

    python benchmarks/bench_measures.py              # the README figures (about 2-4 minutes on 2 cores)
    python benchmarks/bench_measures.py --quick      # a smaller run
"""
from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from eventstudy.data.simulated_measures import simulate_garch, simulate_volume
from eventstudy.engine.measures import abnormal_volatility, abnormal_volume
from eventstudy.engine.model import EventStudy

VOLUME_TESTS = ["kolari_pynnonen", "bmp", "t_cross_section", "t_time_series", "patell", "corrado", "grank",
                "sign_generalized", "wilcoxon"]


def rates(tests: pd.DataFrame, window: tuple[int, int], ids) -> pd.Series:
    t = tests[(tests["window_start"] == window[0]) & (tests["window_end"] == window[1]) & tests["test"].isin(ids)]
    return t.groupby("test")["p_value"].apply(lambda p: float(np.mean(p.dropna() < 0.05))).reindex(ids)


def volume_block(panels: int, n: int, events: int, phi: float) -> tuple[pd.DataFrame, float, int]:
    cols, secs, pairs_n = {}, 0.0, 0
    for name, spike in (("no effect", 0.0), ("spike +0.1", 0.1), ("spike +0.2", 0.2)):
        parts = []
        for rep in range(panels):
            vol, pairs = simulate_volume(n_sec=n, events=events, spike=spike, phi=phi, seed=100 + rep)
            t0 = time.perf_counter()
            res = abnormal_volume(vol, pairs, windows=[(0, 0), (0, 1)], pooled_group=None)
            secs += time.perf_counter() - t0
            pairs_n += len(pairs)
            parts.append(res.tests)
        tests = pd.concat(parts)
        for w in ((0, 0), (0, 1)):
            cols[f"{name} [{w[0]},{w[1]}]"] = rates(tests, w, VOLUME_TESTS)
    return pd.DataFrame(cols), secs, pairs_n


def volatility_block(panels: int, n: int, events: int, n_jobs: int) -> tuple[pd.DataFrame, float, float, int]:
    cols, fit_s, ols_s, pairs_n = {}, 0.0, 0.0, 0
    ids = ["savickas", "garch_dummy", "variance_rank", "bmp", "patell", "kolari_pynnonen"]
    for name, jump, shift, days in (("no effect", 1.0, 0.0, 1), ("variance x4 day 0", 2.0, 0.0, 1),
                                    ("variance x2 days 0-9", 2 ** 0.5, 0.0, 10), ("variance x4, +2%", 2.0, 0.02, 1)):
        parts = []
        for rep in range(panels):
            ret, pairs = simulate_garch(n_sec=n, events=events, jump=jump, shift=shift, seed=200 + rep, jump_days=days)
            t0 = time.perf_counter()
            r = EventStudy(ret, pairs, model="market", benchmark="MKT", windows=[(0, 0), (0, 9)],
                           pooled_group=None).fit()
            t1 = time.perf_counter()
            v = abnormal_volatility(r, n_jobs=n_jobs)
            t2 = time.perf_counter()
            ols_s += t1 - t0
            fit_s += t2 - t1
            pairs_n += len(pairs)
            parts.append(pd.concat([v.tests, r.tests]))
        tests = pd.concat(parts)
        for w in ((0, 0), (0, 9)):
            cols[f"{name} [{w[0]},{w[1]}]"] = rates(tests, w, ids)
    return pd.DataFrame(cols), fit_s, ols_s, pairs_n


def in_and_out_of_sample(panels: int, n: int, events: int) -> pd.DataFrame:
    """Mean squared standardised abnormal return, no effect: on the estimation days (in sample, residuals
    over ``s_i sqrt(1 - h)``), on the pre-event days -10..-1 and on the window days 0..9 (out of sample,
    over ``s_i sqrt(1 + h)``); 1 for each under constant variance."""
    rows = []
    for label, alpha, beta in (("constant variance", 0.0, 0.0), ("GARCH(1,1), persistence 0.98", 0.08, 0.90)):
        est_v, pre_v, win_v = [], [], []
        for rep in range(panels):
            omega = 4e-6 if alpha else 4e-4
            ret, pairs = simulate_garch(n_sec=n, events=events, seed=300 + rep, alpha=alpha, beta=beta, omega=omega)
            r = EventStudy(ret, pairs, model="market", benchmark="MKT", windows=[(0, 9)], pooled_group=None).fit()
            a = r.arrays
            fit = a.subset(np.flatnonzero(a.ok))[3]
            est, rel = np.asarray(a.est_mask), np.asarray(a.rel_days)
            lev = np.where(est[None, :], 1.0 - fit.h, 1.0 + fit.h)
            x = fit.ar ** 2 / (fit.s2[:, None] * lev)
            est_v.append(np.nanmean(x[:, est]))
            pre_v.append(np.nanmean(x[:, (rel >= -10) & (rel <= -1)]))
            win_v.append(np.nanmean(x[:, (rel >= 0) & (rel <= 9)]))
        rows.append({"errors": label, "estimation days": np.mean(est_v), "pre-event days -10..-1": np.mean(pre_v),
                     "window days 0..9": np.mean(win_v)})
    return pd.DataFrame(rows).set_index("errors")


def md(df: pd.DataFrame) -> str:
    head = f"| {df.index.name or 'test'} | " + " | ".join(df.columns) + " |"
    rule = "|---|" + "---|" * len(df.columns)
    rows = [f"| {i} | " + " | ".join(f"{v:.3f}" for v in r) + " |" for i, r in df.iterrows()]
    return "\n".join([head, rule, *rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer panels and events")
    ap.add_argument("--jobs", type=int, default=2, help="processes for the GARCH fits")
    a = ap.parse_args()
    vp, ve, gp, ge = (1, 100, 1, 10) if a.quick else (3, 200, 8, 25)
    print(f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
          f"{platform.machine()}; seeds fixed.\n")
    for phi in (0.0, 0.5):
        tab, secs, pairs = volume_block(vp, 30, ve, phi)
        print(f"Abnormal log volume, N = 30 per event, AR(1) phi = {phi}, {vp * ve} cells per column "
              f"(5% level):\n")
        print(md(tab))
        print(f"\ncost: {1e3 * secs / pairs:.3f} ms per pair ({pairs:,} pairs, batched OLS + battery, "
              f"two windows)\n")
    tab, fit_s, ols_s, pairs = volatility_block(gp, 20, ge, a.jobs)
    print(f"Volatility, N = 20 per event, GARCH(1,1) errors, {gp * ge} cells per column, windows [0,0] and "
          f"[0,9] (garch_dummy only on windows of 10+ days; 5% level):\n")
    print(md(tab))
    print(f"\ncost: GARCH measures {1e3 * fit_s / pairs:.2f} ms per pair on {a.jobs} processes (fits, filter, "
          f"tests); the returns fit before it {1e3 * ols_s / pairs:.3f} ms per pair ({pairs:,} pairs)")
    print(f"\nMean squared standardised abnormal return without an effect (N = 20 per event, {gp * ge} events; "
          f"1 = the standardisation is right):\n")
    print(md(in_and_out_of_sample(gp, 20, ge)))


if __name__ == "__main__":
    main()
