"""The engine gives the same bits with either implementation of the test kernels (numpy below
``kernels.COMPILE_AFTER_PAIRS`` pairs, compiled above), on shared-date and pooled firm-specific designs with
ties (prices on a tick grid) and missing returns; and it chooses by the pairs it is about to test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine.model import EventStudy
from eventstudy.inference import kernels

FRAMES = ("ar", "car", "tests", "params", "exclusions")


def _returns(n_sec: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2022-01-03", periods=800)
    mkt = rng.normal(0, 0.01, len(days))
    r = mkt[:, None] * rng.uniform(0.5, 1.5, n_sec) + rng.normal(0, 0.015, (len(days), n_sec))
    r[:, ::3] = np.round(r[:, ::3], 3)                 # coarse returns: many ties in the rank tests
    out = pd.DataFrame(r, index=days, columns=[f"S{i:03d}" for i in range(n_sec)])
    out["MKT"] = mkt
    out.iloc[300:315, 2] = np.nan
    out.iloc[600, 4] = np.nan
    return out


def _shared() -> EventStudy:
    ret = _returns(30, 1)
    day0 = ret.index[np.linspace(320, 760, 6).astype(int)]
    pairs = pd.DataFrame([(t, f"e{j}", d, "A" if i % 3 else "B") for j, d in enumerate(day0)
                          for i, t in enumerate(ret.columns[:-1])], columns=["ticker", "event_id", "day0", "group"])
    return EventStudy(ret, pairs, model="market", benchmark="MKT", windows=[(0, 0), (-1, 1), (0, 5)])


def _firm() -> EventStudy:
    ret = _returns(40, 2)
    rng = np.random.default_rng(3)
    n = 150
    pairs = pd.DataFrame({"ticker": ret.columns[:-1][rng.integers(0, 40, n)], "event_id": [f"f{j}" for j in range(n)],
                          "day0": ret.index[rng.integers(300, 780, n)], "group": np.where(rng.random(n) < 0.5, "A", "B")})
    return EventStudy(ret, pairs, model="market", benchmark="MKT", pool=True)


@pytest.mark.parametrize("make", [_shared, _firm], ids=["shared dates", "firm-specific pooled"])
def test_numpy_and_compiled_kernels_give_identical_results(make):
    study = make()
    fits = {}
    try:
        for name in ("numpy", "compiled"):
            kernels.set_backend(name)
            fits[name] = study.fit(chunk_pairs=50)
    finally:
        kernels.set_backend(None)
    assert fits["numpy"].tests["p_value"].notna().sum() > 50
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(fits["numpy"], frame), getattr(fits["compiled"], frame),
                                      check_exact=True, obj=frame)


def test_the_engine_plans_its_pairs_before_testing(monkeypatch):
    """A fit counts its pairs first, so a study of COMPILE_AFTER_PAIRS pairs runs compiled from its first chunk."""
    seen = []
    monkeypatch.setattr(kernels, "_state", {"pairs": 0, "forced": None, "compiled": False})
    monkeypatch.delenv("EVENTSTUDY_KERNELS", raising=False)
    real = kernels.centre_rows
    monkeypatch.setattr(kernels, "centre_rows", lambda ea: (seen.append(kernels.backend()), real(ea))[1])
    study = _shared()
    study.fit(chunk_pairs=50)
    assert set(seen) == {"numpy"} and kernels._state["pairs"] == len(study.data.pairs)
    monkeypatch.setattr(kernels, "COMPILE_AFTER_PAIRS", len(study.data.pairs) * 2)
    seen.clear()
    study.fit(chunk_pairs=50)                          # the process's second study: over the threshold
    assert set(seen) == {"compiled"}
