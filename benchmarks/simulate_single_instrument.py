"""Size and power of the single-instrument tests: one series, one event (a future, an index, H6).

The event-dummy regression's CAR is tested three ways (``eventstudy.inference.regression``): the OLS t,
the Newey-West (HAC) t, and the Gelbach-Helland-Klick (2013) sample-quantile p (the CAR's rank among the
estimation period's sums of as many consecutive residuals). With one event the OLS t of one day's
prediction error is only t-distributed when that day's error is normal; the GHK p needs no such law.

Each series: 240 estimation days then the event window, ``y_t = 0.0002 + 0.9 m_t + e_t`` with the market
``m_t ~ N(0, 1%)`` and errors of sd 1.2% drawn from a normal, a Student t(3) (fat tails) or a centred
lognormal (skewed), all scaled to the same sd. Size: no effect; power: an abnormal return of 2 error sds
(2.4%) added on day 0. Every series is tested by the library's batched regression, the rejection rates
are over ``--reps`` series (Monte Carlo standard error of a 5% rate: sqrt(0.05 x 0.95 / reps)).

    python benchmarks/simulate_single_instrument.py                 # 20,000 series per law, Markdown table
    python benchmarks/simulate_single_instrument.py --reps 2000     # quicker

Never a test: it prints a table for the README (seeded, so the same numbers on any machine).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventstudy.inference.regression import dummy_regressions_batched  # noqa: E402

EST, SD, BETA = 240, 0.012, 0.9
WINDOWS = ((0, 0), (0, 5))
LEVELS = (0.01, 0.05, 0.10)
METHODS = (("OLS", "OLS t"), ("HAC", "HAC t"), ("GHK", "GHK p"))


def errors(law: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Errors of sd :data:`SD` and mean 0 drawn from ``law`` (normal, t3, lognormal)."""
    if law == "normal":
        z = rng.standard_normal(shape)
    elif law == "t3":
        z = rng.standard_t(3, shape) / np.sqrt(3.0)                 # var of t(3) is 3
    elif law == "lognormal":
        s = 0.8
        z = (rng.lognormal(0.0, s, shape) - np.exp(s * s / 2)) / np.sqrt((np.exp(s * s) - 1) * np.exp(s * s))
    else:
        raise ValueError(law)
    return SD * z


def rejection_rates(law: str, reps: int, effect: float, seed: int) -> dict[tuple[int, int], dict[str, list[float]]]:
    """{window: {method: [rate at each of LEVELS]}} over ``reps`` simulated series."""
    rng = np.random.default_rng(seed)
    last = max(w[1] for w in WINDOWS)
    rel = np.arange(-EST, last + 1)
    D = len(rel)
    m = rng.normal(0, 0.01, (reps, D))
    y = 0.0002 + BETA * m + errors(law, rng, (reps, D))
    y[:, rel == 0] += effect
    est = rel < 0
    out = {}
    for w in WINDOWS:
        wm = (rel >= w[0]) & (rel <= w[1])
        out[w] = {}
        for ct, _ in METHODS:
            p = dummy_regressions_batched(y, m[:, :, None], est, wm, rel, cov_type=ct)["car_p"]
            out[w][ct] = [float(np.mean(p < a)) for a in LEVELS]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2013)
    a = ap.parse_args(argv)
    laws = ("normal", "t3", "lognormal")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    se = np.sqrt(0.05 * 0.95 / a.reps)
    print(f"Run {now}, Python {platform.python_version()}, {platform.machine()}; {a.reps:,} series per row "
          f"(Monte Carlo standard error of a 5% rate: {se:.4f}); seed {a.seed}.\n")
    head = "| errors | window | " + " | ".join(f"{lab} size {int(100 * lv)}%" for _, lab in METHODS for lv in LEVELS)
    head += " | " + " | ".join(f"{lab} power 5%" for _, lab in METHODS) + " |"
    print(head)
    print("|" + "---|" * (2 + len(METHODS) * (len(LEVELS) + 1)))
    for i, law in enumerate(laws):
        size = rejection_rates(law, a.reps, 0.0, a.seed + 10 * i)
        power = rejection_rates(law, a.reps, 2 * SD, a.seed + 10 * i + 1)
        for w in WINDOWS:
            cells = [f"{size[w][ct][j]:.3f}" for ct, _ in METHODS for j in range(len(LEVELS))]
            cells += [f"{power[w][ct][1]:.3f}" for ct, _ in METHODS]
            print(f"| {law} | [{w[0]},{w[1]}] | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
