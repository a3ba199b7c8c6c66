"""The batched test battery (eventstudy.inference.batched) against the per-cell reference
(eventstudy.inference.reference.run_tests), cell by cell, on data built to reach every branch:
several events, groups of different sizes (1, 2, 5, 12, 30, 60), a pooled cell, missing
estimation residuals (both Kolari-Pynnonen paths), ties in every rank test, a size-1
cell and constant cells, NaN CARs and SARs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from eventstudy.inference import reference as st
from eventstudy.inference.batched import run_tests_batched
from eventstudy.engine.model import EventStudy
from eventstudy.errors import EstimationError

TOL = 1e-10


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= TOL * max(1.0, abs(b))


def make_data(seed: int = 0, T: int = 60, k: int = 2, complete: bool = False):
    """Pairs of 3 events x groups of sizes 1, 2, 5, 12, 30, 60 (+ an excluded group of 4), 3 windows.
    ``complete``: no missing estimation residual (the batched code's shortcuts for that case)."""
    rng = np.random.default_rng(seed)
    sizes = {"one": 1, "two": 2, "five": 5, "twelve": 12, "thirty": 30, "sixty": 60, "fut": 4}
    rows = []
    for e in range(3):
        for g, n in sizes.items():
            rows += [(e, g)] * n
    ev = np.array([r[0] for r in rows])
    gr = np.array([r[1] for r in rows])
    P = len(rows)
    D = 8                                                       # event grid days -2..5
    masks = np.zeros((3, D), dtype=bool)
    masks[0, 2] = True                                          # [0,0]
    masks[1, 1:4] = True                                        # [-1,1]
    masks[2, 2:8] = True                                        # [0,5]
    # estimation residuals: a common factor (cross-correlation), SARs on a 0.1 grid (ties)
    common = rng.normal(size=(3, T))
    est_ar = 0.01 * (0.5 * common[ev] + rng.normal(size=(P, T)))
    s = rng.uniform(0.5, 2.0, P)
    est_sar = np.round(est_ar / 0.01 / s[:, None] * 2, 1) / 2     # many exact ties
    event_sar = np.round(rng.normal(size=(P, D)), 1)             # ties with estimation SARs
    # missing residuals: some rows with a few gaps, one with too few days for any pair (< 30 common)
    for i in rng.choice(P, 25, replace=False):
        gaps = rng.choice(T, rng.integers(1, 8), replace=False)
        if not complete:
            est_ar[i, gaps] = np.nan
            est_sar[i, gaps] = np.nan
    short = np.flatnonzero(gr == "twelve")[:2]
    if not complete:
        est_ar[short, :min(35, T - 10)] = np.nan
        est_sar[short, :min(35, T - 10)] = np.nan
    m = np.isfinite(est_ar).sum(axis=1).astype(float)
    car = np.round(rng.normal(0.002, 0.02, (3, P)), 4)
    # wilcoxon ties: |CAR| tied in a cell of 12 (scipy: permutation), of 30 (normal) and of 60; a zero CAR
    for g_, n_tie in (("twelve", 2), ("thirty", 4), ("sixty", 6)):
        idx = np.flatnonzero((gr == g_) & (ev == 0))[2:2 + n_tie]
        car[:, idx] = 0.0123 * np.where(np.arange(n_tie) % 2, 1.0, -1.0)
    car[:, np.flatnonzero((gr == "sixty") & (ev == 1))[7]] = 0.0
    scar = car / 0.02 * rng.uniform(0.8, 1.2, P)
    # grank ties: a cell with SCAR = 0, 1, 2 (S_SCAR = 1, so GSAR0 is on the SAR grid)
    five0 = np.flatnonzero((gr == "five") & (ev == 0))
    scar[:, five0[:3]] = [0.0, 1.0, 2.0]
    car[:, five0[3:]] = np.nan                                   # leaves 3 securities in that cell
    # constant cells: event 1's "two" has equal CARs and SCARs; event 2's "five" equal CARs of 0.1
    two1 = np.flatnonzero((gr == "two") & (ev == 1))
    car[:, two1], scar[:, two1] = 0.1, 0.7
    five2 = np.flatnonzero((gr == "five") & (ev == 2))
    car[:, five2] = 0.1
    # missing CARs in some windows, a finite CAR with NaN SCAR, NaN window SARs
    car[2, rng.choice(P, 15, replace=False)] = np.nan
    scar[1, rng.choice(P, 5, replace=False)] = np.nan
    event_sar[rng.choice(P, 10, replace=False), 2] = np.nan
    event_sar[np.flatnonzero(gr == "one")[0], :] = np.nan        # a pair without any finite window SAR
    scar = np.where(np.isfinite(car), scar, np.nan)
    valid = np.isfinite(car)
    return dict(ev=ev, gr=gr, P=P, masks=masks, est_ar=est_ar, est_sar=est_sar, event_sar=event_sar,
                m=m, k=k, car=car, scar=scar, valid=valid)


def cells_of(d, pool_exclude=("fut",)):
    ev, gr = d["ev"], d["gr"]
    groups = list(dict.fromkeys(gr))
    cells, mp, mc, blk = [], [], [], []
    for e in dict.fromkeys(ev):
        for g in groups + ["all"]:
            sel = (ev == e) & ((gr == g) if g != "all" else ~np.isin(gr, pool_exclude))
            idx = np.flatnonzero(sel)
            mp += list(idx)
            mc += [len(cells)] * len(idx)
            blk.append(e)
            cells.append((e, g, sel))
    return cells, np.array(mp), np.array(mc), np.array(blk)


def reference(d, sel, w):
    key = (id(d), sel.tobytes(), w)
    if key not in _REF:
        _REF[key] = _reference(d, sel, w)
    return _REF[key]


_REF: dict = {}
_DATA: dict = {}


def data(seed=0, T=60, complete=False):
    """make_data, cached (read-only use) so that the reference loop runs once per data set."""
    if (seed, T, complete) not in _DATA:
        _DATA[(seed, T, complete)] = make_data(seed, T, complete=complete)
    return _DATA[(seed, T, complete)]


def _reference(d, sel, w):
    m_ = sel & d["valid"][w]
    wm = d["masks"][w]
    return st.run_tests(car=d["car"][w][m_], scar=d["scar"][w][m_], m=d["m"][m_], k=d["k"], L=int(wm.sum()),
                        est_ar=d["est_ar"][m_], est_sar=d["est_sar"][m_], event_sar=d["event_sar"][m_][:, wm])


@pytest.mark.parametrize("chunk,complete", [(1, False), (10_000, False), (10_000, True)])
def test_batched_equals_per_cell_reference(chunk, complete):
    d = data(complete=complete)
    cells, mp, mc, blk = cells_of(d)
    res = run_tests_batched(member_pair=mp, member_cell=mc, n_cells=len(cells), car=d["car"], scar=d["scar"],
                            valid=d["valid"], m=d["m"], k=d["k"], est_ar=d["est_ar"], est_sar=d["est_sar"],
                            event_sar=d["event_sar"], window_masks=d["masks"], cell_block=blk,
                            chunk_members=chunk)
    assert res.test_ids == st.TEST_IDS
    seen = {t: 0 for t in st.TEST_IDS}                  # finite results compared per test
    n_sizes = set()
    for c, (e, g, sel) in enumerate(cells):
        for w in range(3):
            n = int((sel & d["valid"][w]).sum())
            assert res.n[c, w] == n
            if n == 0:
                continue
            n_sizes.add(n)
            assert _close(res.caar[c, w], float(np.mean(d["car"][w][sel & d["valid"][w]])))
            ref = reference(d, sel, w)
            for j, tid in enumerate(st.TEST_IDS):
                a, b = res.statistic[j, c, w], ref[tid].statistic
                assert _close(a, b), (e, g, w, tid, "statistic", a, b)
                a, b = res.p_value[j, c, w], ref[tid].p_value
                assert _close(a, b), (e, g, w, tid, "p_value", a, b)
                seen[tid] += math.isfinite(b)
    # every test was exercised with finite values, and the cells covered the sizes meant
    assert all(v > 10 for v in seen.values()), seen
    assert {1, 2, 3}.issubset(n_sizes) and max(n_sizes) > 50


def test_batched_wilcoxon_names_the_distribution_of_its_p_value():
    """The batched engine says which null distribution each Wilcoxon p-value came from, by
    stattests.wilcoxon_p_method on the cell's nonzero CARs and their ties; the fixture reaches all three."""
    d = data()
    cells, mp, mc, blk = cells_of(d)
    res = run_tests_batched(member_pair=mp, member_cell=mc, n_cells=len(cells), car=d["car"], scar=d["scar"],
                            valid=d["valid"], m=d["m"], k=d["k"], est_ar=d["est_ar"], est_sar=d["est_sar"],
                            event_sar=d["event_sar"], window_masks=d["masks"], cell_block=blk)
    j = st.TEST_IDS.index("wilcoxon")
    seen = set()
    for c, (e, g, sel) in enumerate(cells):
        for w in range(3):
            cars = d["car"][w][sel & d["valid"][w]]
            nz = cars[np.isfinite(cars) & (cars != 0)]
            ties = len(np.unique(np.abs(nz))) < nz.size
            want = st.wilcoxon_p_method(nz.size, ties) if nz.size >= st.MIN_N else ""
            assert res.wilcoxon_p_method[c, w] == want, (e, g, w)
            assert (want == "") == math.isnan(res.p_value[j, c, w])
            seen.add(want)
    assert {"exact", "permutation", "normal"} <= seen


def test_data_reaches_the_branches_it_is_meant_to():
    """The fixture really has: both KP paths, an all-NaN KP cell, constant cells, wilcoxon's three p-value paths."""
    d = data()
    cells, *_ = cells_of(d)
    by = {(e, g): sel for e, g, sel in cells}
    # constant CAR cells give NaN for the t tests (the reference's exact constancy rule)
    r = reference(d, by[(2, "five")], 0)
    assert math.isnan(r["t_cross_section"].statistic)
    r = reference(d, by[(1, "two")], 0)
    assert math.isnan(r["bmp"].statistic) and math.isnan(r["grank"].statistic)
    # missing residuals inside large cells (exact KP path) next to complete rows (fast path)
    sel = by[(0, "sixty")] & d["valid"][0]
    assert 0 < (~np.isfinite(d["est_ar"][sel])).any(axis=1).sum() < sel.sum()
    # the "twelve" group has securities sharing < 30 days with everyone: their pairs are dropped
    sel = by[(0, "twelve")]
    rr = st.residual_correlation_matrix(d["est_ar"][sel])
    assert np.isnan(rr[0, 1:]).all() and np.isfinite(rr[2:, 2:][np.triu_indices(10, 1)]).all()
    # wilcoxon: ties with n <= 13 (scipy's permutation path), ties with 13 < n <= 50 and n > 50 (normal),
    # no ties with n <= 50 (exact distribution)
    for g, lo, hi in (("twelve", 2, 13), ("thirty", 14, 50), ("sixty", 51, 10**6)):
        cars = d["car"][0][by[(0, g)] & d["valid"][0]]
        assert lo <= cars.size <= hi and len(np.unique(np.abs(cars))) < cars.size, g
    cars = d["car"][0][by[(1, "thirty")] & d["valid"][0]]
    assert len(np.unique(np.abs(cars))) == cars.size <= 50


def test_all_kp_pairs_below_overlap_is_nan_and_tiny_windows_of_days():
    """A cell whose securities never share min_overlap days: r is NaN and so is KP (as the reference)."""
    d = data(seed=3, T=25)                            # T < MIN_OVERLAP: no pair qualifies anywhere
    cells, mp, mc, blk = cells_of(d)
    res = run_tests_batched(member_pair=mp, member_cell=mc, n_cells=len(cells), car=d["car"], scar=d["scar"],
                            valid=d["valid"], m=d["m"], k=d["k"], est_ar=d["est_ar"], est_sar=d["est_sar"],
                            event_sar=d["event_sar"], window_masks=d["masks"], cell_block=blk)
    j = st.TEST_IDS.index("kolari_pynnonen")
    assert np.isnan(res.statistic[j]).all()
    for c, (e, g, sel) in enumerate(cells[:8]):
        ref = reference(d, sel, 1)
        for jj, tid in enumerate(st.TEST_IDS):
            assert _close(res.statistic[jj, c, 1], ref[tid].statistic), tid
            assert _close(res.p_value[jj, c, 1], ref[tid].p_value), tid


def test_constant_sample_of_tenths_is_nan_in_both():
    """np.mean(0.1, 0.1, 0.1) rounds: the reference used to report t ~ 1e16; both now give NaN."""
    x = np.full(3, 0.1)
    assert math.isnan(st.t_cross_section(x).statistic) and math.isnan(st.bmp(x).statistic)
    res = run_tests_batched(member_pair=np.arange(3), member_cell=np.zeros(3, int), n_cells=1,
                            car=x[None], scar=x[None], valid=np.ones((1, 3), bool), m=np.full(3, 50.0), k=2,
                            est_ar=np.random.default_rng(0).normal(size=(3, 50)),
                            est_sar=np.random.default_rng(1).normal(size=(3, 50)),
                            event_sar=np.ones((3, 1)), window_masks=np.ones((1, 1), bool))
    for tid in ("t_cross_section", "bmp", "kolari_pynnonen", "grank"):
        assert math.isnan(res.statistic[st.TEST_IDS.index(tid), 0, 0]), tid


def test_patell_error_matches_reference():
    d = make_data()
    cells, mp, mc, blk = cells_of(d)
    bad = np.flatnonzero((d["gr"] == "two") & (d["ev"] == 0))[1]     # second cell of the run: cheap reference
    d["m"][bad] = d["k"] + 2
    with pytest.raises(EstimationError) as ref_err:
        for e, g, sel in cells:
            for w in range(3):
                if (sel & d["valid"][w]).sum():
                    reference(d, sel, w)
    with pytest.raises(EstimationError) as got:
        run_tests_batched(member_pair=mp, member_cell=mc, n_cells=len(cells), car=d["car"], scar=d["scar"],
                          valid=d["valid"], m=d["m"], k=d["k"], est_ar=d["est_ar"], est_sar=d["est_sar"],
                          event_sar=d["event_sar"], window_masks=d["masks"], cell_block=blk)
    assert str(got.value) == str(ref_err.value)


def test_engine_tests_table_equals_per_cell_loop():
    """EventStudy.fit's batched table equals the former per-cell loop over stattests.run_tests."""
    from eventstudy.estimation import normal_returns as models

    rng = np.random.default_rng(5)
    T = 420
    dates = pd.bdate_range("2023-01-02", periods=T)
    mkt = rng.normal(0, 0.01, T)
    df = pd.DataFrame({f"S{i}": 0.8 * mkt + rng.normal(0, 0.015, T) for i in range(24)}, index=dates)
    df["M"] = mkt
    df.iloc[100:104, 3] = np.nan                             # gaps in the estimation window
    df.iloc[331, 5] = np.nan                                 # a missing return in a window
    groups = np.array(["a"] * 3 + ["b"] * 8 + ["c"] * 12 + ["x"])
    pairs = pd.concat([pd.DataFrame({"ticker": df.columns[:24], "event_id": f"E{j}", "day0": dates[320 + 7 * j],
                                     "group": groups}) for j in range(3)], ignore_index=True)
    es = EventStudy(df, pairs, model="market", benchmark="M", windows=[(0, 0), (-1, 1), (0, 5)],
                    pool_exclude=["x"])
    res = es.fit()
    a = res.arrays
    fit, est = a.fit, a.est_mask
    est_ar = fit.ar[:, est]
    with np.errstate(invalid="ignore", divide="ignore"):
        est_sar = fit.ar[:, est] / np.sqrt(fit.s2)[:, None]
    sar_all = models.sar(fit)
    ok = a.ok
    evs, grs = a.pairs["event_id"].to_numpy(), a.pairs["group"].to_numpy()
    n_rows = 0
    for w in es.spec.windows:
        wm = es.spec.window_mask(w)
        cs = models.car_stats(fit, a.f, wm)
        for (e, g), sub in res.tests[(res.tests.window_start == w[0]) & (res.tests.window_end == w[1])].groupby(
                ["event_id", "group"], sort=False):
            sel = (evs == e) & ((grs == g) if g != "all" else grs != "x") & ok & np.isfinite(cs["car"])
            ref = st.run_tests(car=cs["car"][sel], scar=cs["scar"][sel], m=fit.m[sel], k=es.k, L=int(wm.sum()),
                               est_ar=est_ar[sel], est_sar=est_sar[sel], event_sar=sar_all[sel][:, wm])
            assert list(sub["test"]) == list(st.TEST_IDS)
            assert (sub["n"] == sel.sum()).all()
            for _, row in sub.iterrows():
                assert _close(row["statistic"], ref[row["test"]].statistic), (e, g, w, row["test"])
                assert _close(row["p_value"], ref[row["test"]].p_value), (e, g, w, row["test"])
                n_rows += 1
    assert n_rows == len(res.tests) == 3 * 5 * 3 * len(st.TEST_IDS)


def test_chunk_bounds_cuts_runs_of_about_target_only_where_allowed():
    from eventstudy.inference.batched import chunk_bounds

    sizes = np.array([3, 3, 3, 10, 1, 1, 1, 1, 2])
    b = chunk_bounds(sizes, 5)
    assert b[0] == 0 and b[-1] == sizes.size and np.all(np.diff(b) > 0)
    assert list(b) == [0, 2, 3, 4, 5, 9]          # starts 0,3 | 6 | 9 (big: alone) | 19 | 20..23 (buckets of 5)
    cut_ok = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1], dtype=bool)
    b2 = chunk_bounds(sizes, 5, cut_ok)
    assert set(b2[:-1]) <= set(np.flatnonzero(cut_ok)) and list(b2) == [0, 3, 8, 9]
    assert list(chunk_bounds(np.array([], dtype=int), 5)) == [0]
    assert list(chunk_bounds(sizes, 10 ** 9)) == [0, 9]


def test_wilcoxon_exact_p_values_equal_scipy_for_every_small_n():
    """The batched exact p-value (untied cells, n <= 50) is scipy.stats.wilcoxon(method='auto')."""
    from scipy import stats

    from eventstudy.inference.batched_ranks import wilcoxon_exact_p as _wilcoxon_exact_p

    rng = np.random.default_rng(11)
    w, n, ref = [], [], []
    for nn in list(range(2, 51)) * 3:
        d = rng.normal(0.3 * rng.normal(), 1.0, nn)
        r = stats.rankdata(np.abs(d))
        w.append(r[d > 0].sum())
        n.append(nn)
        ref.append(stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="two-sided",
                                  method="auto").pvalue)
    for nn in (2, 5, 17, 50):                          # the extremes: all positive, all negative
        for sign in (1.0, -1.0):
            d = sign * np.arange(1, nn + 1) * 0.01
            w.append(float(np.arange(1, nn + 1)[d > 0].sum()))
            n.append(nn)
            ref.append(stats.wilcoxon(d, zero_method="wilcox", correction=False, method="auto").pvalue)
    p = _wilcoxon_exact_p(np.array(w, dtype=float), np.array(n))
    np.testing.assert_allclose(p, ref, rtol=1e-9, atol=1e-14)


def test_memberships_outside_the_cells_or_pairs_are_refused():
    d = data()
    cells, mp, mc, blk = cells_of(d)
    kw = dict(n_cells=len(cells), car=d["car"], scar=d["scar"], valid=d["valid"], m=d["m"], k=d["k"],
              est_ar=d["est_ar"], est_sar=d["est_sar"], event_sar=d["event_sar"], window_masks=d["masks"])
    bad_cell = mc.copy()
    bad_cell[3] = len(cells)
    with pytest.raises(ValueError, match="member_cell must lie in"):
        run_tests_batched(member_pair=mp, member_cell=bad_cell, **kw)
    bad_pair = mp.copy()
    bad_pair[0] = -1
    with pytest.raises(ValueError, match="member_pair must lie in"):
        run_tests_batched(member_pair=bad_pair, member_cell=mc, **kw)
