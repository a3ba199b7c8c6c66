"""Abnormal volume and volatility of the China-Japan study on the real J-Quants file (README figures).

Runs the study (market model, default windows) on ``../shared/data/market`` with ``run_measures`` and
prints, for the travel advisory and the dual-use ban, window [0,1], each exposure group's average daily
volume relative to normal (``exp(CAAV/2) - 1``) with the Kolari-Pynnonen p on CAV, the variance against
the pre-event days with its rank p (``variance_rank``), and the Savickas mean with its p. Same numbers as
``eventstudy run --prices FILE --measure volume,volatility``.

    python scripts/real_data_measures.py [--data ../shared/data/market] [--events travel_advisory,dual_use_ban]
"""
from __future__ import annotations

import argparse
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from eventstudy.data.files import FileSource
from eventstudy.data.volume import read_volume_file
from eventstudy.inputs.events import load_events
from eventstudy.inputs.study import bundled_study
from eventstudy.inference.multitest import adjust_p
from eventstudy.inputs.universe import load_universe
from eventstudy.pipeline.measures import run_measures
from eventstudy.pipeline.study import run_study

FILE = "keroppa88_chart0_jquants_tse1025_ohlcv.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "market"))
    ap.add_argument("--events", default="travel_advisory,dual_use_ban")
    a = ap.parse_args()
    path = Path(a.data) / FILE
    st = bundled_study()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_study(load_events(st.events), load_universe(st.universe), FileSource(path), study=st,
                        regressions=False)
        mr = run_measures(run, "volume,volatility", volume=read_volume_file(path))
    w = (0, 1)
    vt, xt = mr.volume.tests, mr.volatility.tests

    def cell(t, e, g, test, col):
        r = t[(t["event_id"] == e) & (t["group"] == g) & (t["test"] == test) & (t["window_start"] == w[0])
              & (t["window_end"] == w[1])]
        return (np.nan, np.nan, 0) if r.empty else (float(r[col].iloc[0]), float(r["p_value"].iloc[0]),
                                                     int(r["n"].iloc[0]))

    print(f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from {FILE}; window [0,1].\n")
    print("| event | group | n | volume vs normal | KP p | variance vs pre-event | rank p | Holm | "
          "Savickas mean S | p |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    groups = [g for g in run.labels.ordered(vt["group"].unique()) if g not in run.config.pool_exclude]
    cells = [(e, g) for e in a.events.split(",") for g in groups]
    holm = adjust_p([cell(xt, e, g, "variance_rank", "estimate")[1] for e, g in cells], "holm")
    for (e, g), ph in zip(cells, holm):
        cav, pv, n = cell(vt, e, g, "kolari_pynnonen", "caar")
        vr, pr, _ = cell(xt, e, g, "variance_rank", "estimate")
        sv, ps, _ = cell(xt, e, g, "savickas", "estimate")
        print(f"| {e} | {run.labels.label(g, short=True)} | {n} | {100 * np.expm1(cav / 2):+.0f}% | {pv:.3f} | "
              f"{vr:.2f} | {pr:.3f} | {ph:.3f} | {sv:+.2f} | {ps:.3f} |")
    print("\nHolm: the variance rank p adjusted over the cells of this table.")
    pars = mr.volatility.params
    print(f"\nGARCH(1,1) fits: {len(pars)} pairs, {int(pars['converged'].sum())} converged; median persistence "
          f"{pd.to_numeric(pars['persistence']).median():.2f}. Volume model regressors: "
          + ", ".join(c.removeprefix("beta_") for c in mr.volume.params.columns if c.startswith("beta_")))


if __name__ == "__main__":
    main()
