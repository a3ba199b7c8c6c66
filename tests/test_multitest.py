"""Multiple-testing adjustment of the impact tables: stattests.adjust_p and tables.family_adjusted,
checked against hand-worked cases and loops written from the formulas (Holm 1979; BH 1995)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.present import tables as T
from eventstudy.inference.multitest import adjust_p


def ref_holm(p):
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    idx = [i for i in range(p.size) if np.isfinite(p[i])]
    idx.sort(key=lambda i: p[i])
    m, run = len(idx), 0.0
    for j, i in enumerate(idx, start=1):
        run = max(run, (m - j + 1) * p[i])
        out[i] = min(1.0, run)
    return out


def ref_bh(p):
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    idx = [i for i in range(p.size) if np.isfinite(p[i])]
    idx.sort(key=lambda i: p[i])
    m, run = len(idx), np.inf
    for j in range(m, 0, -1):
        i = idx[j - 1]
        run = min(run, m * p[i] / j)
        out[i] = min(1.0, run)
    return out


def test_hand_worked_four_p_values():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 = 0.04 -> running max 0.06
    np.testing.assert_allclose(adjust_p(p, "holm"), [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    # BH: 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04 -> running min from the top
    np.testing.assert_allclose(adjust_p(p, "fdr_bh"), [0.02, 0.04, 0.04, 0.02], rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_matches_the_formulas_and_skips_nan(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, 40) ** 3
    p[[0, 5, 11, 20]] = np.nan
    p[3] = p[7] = 0.002                                   # a tie
    h, b = adjust_p(p, "holm"), adjust_p(p, "fdr_bh")
    np.testing.assert_allclose(h, ref_holm(p), rtol=1e-12)
    np.testing.assert_allclose(b, ref_bh(p), rtol=1e-12)
    fin = np.isfinite(p)
    assert np.isnan(h[~fin]).all() and np.isnan(b[~fin]).all()
    assert (p[fin] <= b[fin] + 1e-15).all() and (b[fin] <= h[fin] + 1e-15).all()


def test_bad_input():
    with pytest.raises(ValueError, match="method must be one of holm, fdr_bh"):
        adjust_p([0.1], "bonferroni")
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        adjust_p([0.1, 1.5])
    with pytest.raises(ValueError, match="one-dimensional"):
        adjust_p([[0.1, 0.2]])
    assert adjust_p([]).size == 0 and np.isnan(adjust_p([np.nan])).all()


def test_family_counts_events_sharing_a_day0_once_per_window():
    d0, d1 = pd.Timestamp("2026-01-07"), pd.Timestamp("2025-11-17")
    df = pd.DataFrame({
        "window_start": [0, 0, 0, 0, 0, 0],
        "window_end": [0, 0, 0, 1, 1, 1],
        "group_id": ["a", "a", "b", "a", "a", "b"],
        "day0": [d0, d0, d1, d0, d0, d1],
        "n": [10, 10, 12, 10, 10, 12],
        "caar_pct": [1.5, 1.5, -0.2, 2.0, 2.0, np.nan],
        "p": [0.01, 0.01, 0.04, 0.02, 0.02, np.nan],
    })
    holm, bh, m = T.family_adjusted(df, "p")
    # window [0,0]: two distinct cells (0.01, 0.04): Holm 0.02, 0.04; BH 0.02, 0.04
    np.testing.assert_allclose(holm[:3], [0.02, 0.02, 0.04], rtol=1e-12)
    np.testing.assert_allclose(bh[:3], [0.02, 0.02, 0.04], rtol=1e-12)
    # window [0,1]: one cell with a p-value (the shared one); the missing p stays missing
    np.testing.assert_allclose(holm[3:5], [0.02, 0.02], rtol=1e-12)
    assert np.isnan(holm[5]) and np.isnan(bh[5])
    assert list(m) == [2, 2, 2, 1, 1, 1]


def test_impact_table_carries_the_adjusted_lead_p(offline_run):
    imp = T.impact_table(offline_run)
    p, h, q = imp["kolari_pynnonen_p"], imp["kolari_pynnonen_p_holm"], imp["kolari_pynnonen_q_bh"]
    fin = p.notna()
    assert fin.any() and (h[fin] >= p[fin] - 1e-15).all() and (q[fin] <= h[fin] + 1e-15).all()
    assert (q[fin] >= p[fin] - 1e-15).all()
    for (a, b), g in imp.groupby(["window_start", "window_end"]):
        cells = g[g["kolari_pynnonen_p"].notna()].drop_duplicates(["group_id", "day0", "n", "caar_pct"])
        assert (g["family_m"] == len(cells)).all()
        np.testing.assert_allclose(g["kolari_pynnonen_p_holm"].loc[cells.index],
                                   ref_holm(cells["kolari_pynnonen_p"]), rtol=1e-12)
    labels = [c[1] for c in imp.attrs["columns"]]
    assert labels[labels.index("KP t") + 1:labels.index("KP t") + 4] == ["p", "Holm p", "BH q"]
    assert any("Holm (1979)" in n for n in imp.attrs["notes"])


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_equals_statsmodels_multipletests(method):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    for m in (1, 2, 7, 80):
        p = rng.uniform(0, 1, m) ** 4
        p[::5] = p[0]                                    # ties
        np.testing.assert_allclose(adjust_p(p, method), multipletests(p, method=method)[1], rtol=1e-12)
