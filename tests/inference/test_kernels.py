"""The kernels (eventstudy.inference.kernels), compiled and numpy, against plain numpy/scipy computations
written from their definitions: ranks against scipy.stats.rankdata, counts against np.searchsorted, rank
sums against a loop over (cell, member, day) that ranks each augmented row with rankdata; and the two
implementations against each other, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from eventstudy.inference import kernels as kernels


@pytest.fixture(params=["numpy", "compiled"], autouse=True)
def backend(request):
    """Every test here runs with each implementation."""
    kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(None)


def _rows(seed: int = 0, P: int = 40, T: int = 25):
    """Rows with ties (values on a 0.5 grid), missing values (NaN, +-inf) and a fully missing row."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(P, T)) * 2) / 2
    x[rng.random((P, T)) < 0.08] = np.nan
    x[3, 4], x[5, 0] = np.inf, -np.inf
    x[7] = np.nan
    x[8] = 1.5                                                   # one constant row: every value tied
    return x


def test_row_ranks_are_scipy_average_ranks_with_missing_values_last():
    x = _rows()
    srt, rmin, R2, T_i = kernels.row_ranks(x)
    fin = np.isfinite(x)
    assert np.array_equal(T_i, fin.sum(axis=1))
    for i in range(x.shape[0]):
        f = fin[i]
        exp_sorted = np.r_[np.sort(x[i, f]), np.full((~f).sum(), np.inf)]
        assert np.array_equal(srt[i], exp_sorted)
        avg = stats.rankdata(x[i, f])                           # average ranks of the finite values
        assert np.array_equal(R2[i, f], 2 * avg)
        assert np.array_equal(rmin[i, f], stats.rankdata(x[i, f], method="min"))
        assert (R2[i, ~f] == 0).all() and (rmin[i, ~f] == 0).all()


def test_inserted_values_are_counted_as_searchsorted_including_ties_nan_and_inf():
    x = _rows(1)
    rng = np.random.default_rng(2)
    v = np.round(rng.normal(size=(x.shape[0], 12)) * 2) / 2     # on the grid: many equal values
    v[0, :5] = np.inf
    v[1, :5] = -np.inf
    v[2, :5] = np.nan
    srt, _, _, _, c_lt, c_le = kernels.row_ranks(x, insert=v)
    for i in range(x.shape[0]):
        for j in range(v.shape[1]):
            if np.isnan(v[i, j]):                               # NaN moves nothing: no value compares
                assert c_lt[i, j] == 0 and c_le[i, j] == 0
                continue
            assert c_lt[i, j] == np.searchsorted(srt[i], v[i, j], side="left")
            assert c_le[i, j] == np.searchsorted(srt[i], v[i, j], side="right")


def test_centre_rows_against_numpy():
    x = _rows(3)
    cnt, npos, x0, sxx, s1 = kernels.centre_rows(x)
    fin = np.isfinite(x)
    assert np.array_equal(cnt, fin.sum(axis=1))
    assert np.array_equal(npos, np.count_nonzero(x > 0, axis=1))
    with np.errstate(invalid="ignore"):
        mean = np.where(fin, x, 0.0).sum(axis=1) / np.maximum(fin.sum(axis=1), 1)
    exp = np.where(fin, x - mean[:, None], 0.0)
    np.testing.assert_allclose(x0, exp, rtol=0, atol=1e-13)
    np.testing.assert_allclose(sxx, (exp ** 2).sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(s1, 0.0, atol=1e-12)


def _memberships(P: int, C: int, seed: int):
    rng = np.random.default_rng(seed)
    mp, mc = [], []
    for c in range(C):
        mem = np.sort(rng.choice(P, rng.integers(1, P // 2), replace=False))
        mp += list(mem)
        mc += [c] * mem.size
    return np.array(mp), np.array(mc)


def test_corrado_rank_sums_equal_ranking_each_augmented_row():
    x = _rows(4)
    P, T = x.shape
    D = 6
    rng = np.random.default_rng(5)
    ev = np.round(rng.normal(size=(P, D)) * 2) / 2              # window values tied with estimation values
    ev[rng.random((P, D)) < 0.1] = np.nan
    v = np.where(np.isfinite(ev), ev, np.inf)
    srt, rmin, R2, T_i, c_lt, c_le = kernels.row_ranks(x, insert=v)
    windows = [np.array([1, 2, 4]), np.array([0]), np.array([0, 1, 2, 3, 4, 5])]
    a = np.stack([1.0 / (T_i + np.isfinite(ev[:, wc]).sum(axis=1) + 1.0) for wc in windows])
    mps, mws, mcs = [], [], []
    for w in range(len(windows)):                               # each window its own memberships
        mp, mc = _memberships(P, 4, 6 + w)
        mps.append(mp), mws.append(np.full(mp.size, w)), mcs.append(mc)
    mp, mw, mc = np.concatenate(mps), np.concatenate(mws), np.concatenate(mcs)
    o = np.lexsort((mw, mp))
    S = kernels.corrado_rank_sums(rmin, R2, c_lt, c_le, windows, a, mp[o], mw[o], mc[o], 4)
    exp = np.zeros((len(windows), 4, T))
    for p, w, c in zip(mp, mw, mc):
        row = np.r_[x[p], ev[p, windows[w]]]
        f = np.isfinite(row)
        rk = np.full(row.size, np.nan)
        rk[f] = stats.rankdata(row[f])
        for t in range(T):
            if np.isfinite(x[p, t]):
                exp[w, c, t] += a[w, p] * rk[t]
    np.testing.assert_allclose(S, exp, rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("order", ["cell", "pair"])
def test_grank_rank_sums_equal_ranking_each_row_with_its_own_value(order):
    x = _rows(7)
    P, T = x.shape
    srt, rmin, R2, T_i = kernels.row_ranks(x)
    mp, mc = _memberships(P, 5, 8)
    rng = np.random.default_rng(9)
    g = np.round(rng.normal(size=mp.size) * 2) / 2              # ties with the rows' values
    if order == "pair":
        o = np.argsort(mp, kind="stable")
        mp, mc, g = mp[o], mc[o], g[o]
    a = 1.0 / (T_i + 2.0)
    S, c_lt, c_le = kernels.grank_rank_sums(srt, rmin, R2, a, mp, mc, g, 5)
    exp = np.zeros((5, T))
    for j, (p, c) in enumerate(zip(mp, mc)):
        f = np.isfinite(x[p])
        assert c_lt[j] == (x[p, f] < g[j]).sum() and c_le[j] == (x[p, f] <= g[j]).sum()
        row = np.r_[x[p], g[j]]
        ff = np.isfinite(row)
        rk = np.full(row.size, np.nan)
        rk[ff] = stats.rankdata(row[ff])
        exp[c, f] += a[p] * rk[:T][f]
    np.testing.assert_allclose(S, exp, rtol=1e-13, atol=1e-12)


def test_empty_inputs():
    srt, rmin, R2, T_i = kernels.row_ranks(np.empty((0, 5)))
    assert srt.shape == rmin.shape == R2.shape == (0, 5) and T_i.size == 0
    S = kernels.corrado_rank_sums(rmin, R2, np.empty((0, 2), np.int64), np.empty((0, 2), np.int64),
                                  [np.array([0])], np.empty((1, 0)), np.empty(0, np.int64), np.empty(0, np.int64),
                                  np.empty(0, np.int64), 3)
    assert S.shape == (1, 3, 5) and not S.any()
    S, lt, le = kernels.grank_rank_sums(srt, rmin, R2, np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64),
                                        np.empty(0), 2)
    assert S.shape == (2, 5) and lt.size == le.size == 0


def test_row_ranks_insert_edges():
    x = _rows(10)
    ins = np.zeros((x.shape[0], 3))
    ins[0, 0] = np.inf
    srt, rmin, R2, T_i, c_lt, c_le = kernels.row_ranks(x, insert=ins)
    assert c_lt[0, 0] == T_i[0] and c_le[0, 0] == x.shape[1]       # +inf: above every finite value
    with pytest.raises(ValueError, match="one row per row"):
        kernels.row_ranks(x, insert=ins[:-1])


def test_rank_dispersion_against_numpy_per_day_and_constant_counts():
    rng = np.random.default_rng(12)
    R, T = 7, 30
    n = rng.integers(0, 4, (R, T)).astype(float)
    n[2] = 0.0                                                  # a row without any member
    S = rng.uniform(0, 1, (R, T)) * n
    q, D = kernels.rank_dispersion(S, n)
    used = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.where(used, (S - 0.5 * n) / n, 0.0)
    np.testing.assert_allclose(q, (n * ubar ** 2).sum(axis=1), rtol=1e-13)
    assert np.array_equal(D, used.sum(axis=1))
    N = np.array([3.0, 0.0, 1.0, 5.0, 2.0, 2.0, 4.0])           # every member every day
    q2, D2 = kernels.rank_dispersion(S, N)
    q3, D3 = kernels.rank_dispersion(S, np.repeat(N[:, None], T, axis=1))
    np.testing.assert_allclose(q2, q3, rtol=1e-13)
    assert np.array_equal(D2, D3) and D2[1] == 0 and q2[1] == 0.0


def test_day_mean_dispersion_against_numpy():
    rng = np.random.default_rng(13)
    R, T = 6, 20
    n = rng.integers(0, 3, (R, T)).astype(float)
    n[1] = 0.0                                                  # no day: M = 0
    n[2] = 0.0
    n[2, 5] = 2.0                                               # one day: sd NaN
    ssum = rng.normal(size=(R, T)) * n
    ssum[3] = 0.7 * n[3]                                        # equal day means: constant
    Md, sd, const = kernels.day_mean_dispersion(ssum, n)
    for i in range(R):
        used = n[i] > 0
        aar = ssum[i, used] / n[i, used]
        assert Md[i] == used.sum()
        if aar.size >= 2:
            assert sd[i] == pytest.approx(np.std(aar, ddof=1), rel=1e-12)
        else:
            assert np.isnan(sd[i])
        assert const[i] == (aar.size > 0 and aar.max() == aar.min())
    assert const[3] and not const[1]
    N = np.array([2.0, 0.0, 1.0, 3.0, 1.0, 2.0])
    a1 = kernels.day_mean_dispersion(ssum, N)
    a2 = kernels.day_mean_dispersion(ssum, np.repeat(N[:, None], T, axis=1))
    assert np.array_equal(a1[0], a2[0]) and np.array_equal(a1[2], a2[2])
    np.testing.assert_allclose(a1[1], a2[1], rtol=1e-13)


def test_rows_without_any_day_count_nothing():
    srt, rmin, R2, T_i, lt, le = kernels.row_ranks(np.empty((3, 0)), insert=np.ones((3, 2)))
    assert srt.shape == (3, 0) and (T_i == 0).all() and not lt.any() and not le.any()
    S, lt, le = kernels.grank_rank_sums(srt, rmin, R2, np.ones(3), np.arange(3), np.zeros(3, np.int64), np.ones(3), 1)
    assert S.shape == (1, 0) and not lt.any() and not le.any()


def _both(fn):
    """``fn()`` under each implementation: (numpy's outputs, compiled outputs)."""
    out = []
    for name in ("numpy", "compiled"):
        kernels.set_backend(name)
        out.append(fn())
    return out


def _same_bits(a, b):
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), "the implementations differ in some bit"


@pytest.mark.parametrize("few_cells", [64, 0], ids=["a sum per cell", "add.at"])
@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_and_compiled_give_the_same_bits(seed, few_cells, backend, monkeypatch):
    """Continuous residuals (every sum's order matters), some on a grid (ties), missing values, a row of
    zeros and of -0.0, an empty row; memberships sorted by (pair, window) as the engine gives them; the
    numpy sums over a cell's members both ways."""
    if backend != "numpy":
        pytest.skip("compares both implementations itself")
    from eventstudy.inference import kernels_numpy

    monkeypatch.setattr(kernels_numpy, "FEW_CELLS", few_cells)
    rng = np.random.default_rng(seed)
    P, T, D, C = 300, 240, 21, 7
    x = rng.standard_t(4, (P, T)) * 0.02
    x[::7] = np.round(x[::7] * 200) / 200
    x[rng.random((P, T)) < 0.03] = np.nan
    x[5], x[6], x[9] = 0.0, -0.0, np.nan
    x[11, 3] = -np.inf
    ev = rng.standard_t(4, (P, D)) * 0.02
    ev[::5] = np.round(ev[::5] * 200) / 200
    ev[rng.random((P, D)) < 0.05] = np.nan
    v = np.where(np.isfinite(ev), ev, np.inf)
    _same_bits(*_both(lambda: kernels.centre_rows(x)))
    ranks = _both(lambda: kernels.row_ranks(x, insert=v))
    _same_bits(*ranks)
    srt, rmin, R2, T_i, c_lt, c_le = ranks[1]
    windows = [np.arange(10, 11), np.arange(10, 12), np.arange(9, 12), np.arange(0, 21)]
    a = np.stack([1.0 / (T_i + np.isfinite(ev[:, wc]).sum(axis=1) + 1.0) for wc in windows])
    mps, mws, mcs = [], [], []
    for w in range(len(windows)):
        mp, mc = _memberships(P, C, 20 + w + seed)
        mps.append(mp), mws.append(np.full(mp.size, w)), mcs.append(mc)
    mp, mw, mc = np.concatenate(mps), np.concatenate(mws), np.concatenate(mcs)
    o = np.lexsort((mw, mp))
    _same_bits(*_both(lambda: kernels.corrado_rank_sums(rmin, R2, c_lt, c_le, windows, a, mp[o], mw[o], mc[o], C)))
    g = rng.standard_t(4, mp.size) * 0.02
    S = _both(lambda: kernels.grank_rank_sums(srt, rmin, R2, 1.0 / (T_i + 2.0), mp[o], mc[o], g, C))
    _same_bits(*S)
    n = rng.integers(0, 40, (C, T)).astype(float)
    n[2] = 0.0
    _same_bits(*_both(lambda: kernels.rank_dispersion(S[1][0], n)))
    _same_bits(*_both(lambda: kernels.rank_dispersion(S[1][0], n[:, 0])))
    ssum = rng.normal(size=(C, T)) * n * 0.01
    ssum[3] = 0.7 * n[3]
    _same_bits(*_both(lambda: kernels.day_mean_dispersion(ssum, n)))
    _same_bits(*_both(lambda: kernels.day_mean_dispersion(ssum, n[:, 0])))


def test_backend_choice(monkeypatch, backend):
    """numpy until the process has planned COMPILE_AFTER_PAIRS pairs, then compiled for good; forced by
    set_backend or EVENTSTUDY_KERNELS; a wrong name is refused."""
    kernels.set_backend(None)
    monkeypatch.setattr(kernels, "_state", {"pairs": 0, "forced": None, "compiled": False})
    monkeypatch.delenv("EVENTSTUDY_KERNELS", raising=False)
    assert kernels.backend() == "numpy"
    kernels.plan(kernels.COMPILE_AFTER_PAIRS - 1)
    assert kernels.backend() == "numpy"
    kernels.plan(1)
    assert kernels.backend() == "compiled"
    monkeypatch.setenv("EVENTSTUDY_KERNELS", "numpy")
    assert kernels.backend() == "numpy"
    monkeypatch.setenv("EVENTSTUDY_KERNELS", "fast")
    with pytest.raises(ValueError, match="EVENTSTUDY_KERNELS='fast': set it to one of auto, numpy, compiled"):
        kernels.backend()
    with pytest.raises(ValueError, match="kernel backend must be one of"):
        kernels.set_backend("gpu")
