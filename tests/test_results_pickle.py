"""A fitted result pickles and, unpickled, recomputes the same dense arrays (as statsmodels' test_shrink_pickle).

The result holds its layout and fit settings (plain arrays and frozen dataclasses, no closures), so
it can be sent between processes; these tests round-trip a shared-date design with a bootstrap and a
pooled firm-specific design with estimation days left out, and check the recomputed arrays against
the frames the fit itself wrote.
"""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from eventstudy.engine.chunk import Cells, combine, fit_chunk
from eventstudy.engine.model import EventStudy
from eventstudy.estimation.layout import PairLayout


def _panel(n=8, T=360, seed=4):
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2023-01-02", periods=T)
    m = rng.normal(0, 0.01, T)
    cols = {f"S{i}": rng.uniform(0.5, 1.5) * m + rng.normal(0, 0.01, T) for i in range(n)}
    cols["S3"][200] = np.nan                       # a missing return inside an event window: a pair-window excluded
    return pd.DataFrame({**cols, "M": m}, index=days), days


def _assert_same(back, res):
    for name in ("ar", "car", "tests", "params", "exclusions"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name))
    assert back.summary() == res.summary()
    assert (back.model, back.k, back.windows, back.bootstrap) == (res.model, res.k, res.windows, res.bootstrap)


def _span_ar_matches_frame(res):
    """The recomputed abnormal returns on the event span equal the ``ar`` frame the fit wrote."""
    a = res.arrays
    ok = np.flatnonzero(a.ok)
    span = a.layout.span
    recomputed = a.fit.ar[ok][:, span].ravel()
    np.testing.assert_array_equal(recomputed, res.ar["ar"].to_numpy())


def test_shared_date_result_with_bootstrap_pickles_and_recomputes():
    ret, days = _panel()
    pairs = pd.DataFrame({"ticker": [f"S{i}" for i in range(8)] * 2,
                          "event_id": ["e1"] * 8 + ["e2"] * 8,
                          "day0": [days[199]] * 8 + [days[300]] * 8,
                          "group": ["a", "b"] * 8})
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0), (-1, 1)]).fit(bootstrap=99, seed=2, chunk_pairs=8)
    assert "bootstrap" in set(res.tests["test"]) and len(res.exclusions)
    back = pickle.loads(pickle.dumps(res))
    _assert_same(back, res)
    np.testing.assert_array_equal(back.arrays.fit.ar, res.arrays.fit.ar)
    np.testing.assert_array_equal(back.arrays.y, res.arrays.y)
    pd.testing.assert_frame_equal(back.residual_corr("e1"), res.residual_corr("e1"))
    _span_ar_matches_frame(back)


def test_pooled_firm_result_with_dropped_days_pickles_and_recomputes():
    ret, days = _panel(seed=5)
    tickers = [f"S{i}" for i in range(8)]
    pairs = pd.DataFrame({"ticker": tickers * 2, "event_id": [f"{t}-q1" for t in tickers] + [f"{t}-q2" for t in tickers],
                          "day0": [days[250 + i] for i in range(8)] + [days[330 - i % 2] for i in range(8)]})
    drop = pd.DataFrame({"ticker": ["S0"] * 5, "event_id": ["S0-q1"] * 5, "rel_day": [-20, -19, -18, -17, -16]})
    res = EventStudy(ret, pairs, benchmark="M", windows=[(0, 0), (0, 2)], pool=True, estimation_drop=drop).fit()
    assert set(res.tests["event_id"]) == {"pooled"}
    back = pickle.loads(pickle.dumps(res))
    _assert_same(back, res)
    # the dropped estimation days stay dropped after the round trip: M_i of S0's first event is 5 fewer
    _, _, _, fit = back.arrays.subset(np.arange(len(pairs)))
    np.testing.assert_array_equal(fit.m[back.arrays.ok], res.params["m_obs"].to_numpy())
    assert fit.m[0] == fit.m[8] - 5
    _span_ar_matches_frame(back)


def test_chunks_fitted_one_by_one_give_the_fit():
    """fit_chunk on each chunk of whole events, combined, gives the same arrays as EventStudy.fit."""
    ret, days = _panel(seed=6)
    pairs = pd.DataFrame({"ticker": [f"S{i}" for i in range(8)] * 3, "event_id": np.repeat(["e1", "e2", "e3"], 8),
                          "day0": np.repeat([days[150], days[220], days[300]], 8)})
    es = EventStudy(ret, pairs, benchmark="M", windows=[(0, 1)])
    res = es.fit(chunk_pairs=8)
    layout = PairLayout.build(es.data, es.regressors, es.spec)
    cells = Cells.build(es.pairs, es.pooled_group)
    chunks = cells.chunks(8)
    assert [len(c.rows) for c in chunks] == [8, 8, 8]          # whole events
    parts = [fit_chunk(layout, es.settings, cells, c) for c in reversed(chunks)]   # order does not matter
    out = combine(parts, len(pairs), cells.n_cells, 1, 9)
    ok = np.flatnonzero(out.reason == "")
    np.testing.assert_array_equal(out.car["car"][0, ok], res.car["car"].to_numpy())
    kp = res.tests[res.tests.test == "kolari_pynnonen"]["statistic"].to_numpy()
    np.testing.assert_array_equal(out.statistic[4][out.n[:, 0] > 0, 0], kp)


def test_offline_study_result_pickles(offline_run):
    """The bundled study's result (sessions of several calendars, regressors aligned by closing time) round-trips."""
    res = offline_run.result
    back = pickle.loads(pickle.dumps(res))
    _assert_same(back, res)
    sel = np.flatnonzero(res.arrays.ok)[:50]
    np.testing.assert_array_equal(back.arrays.subset(sel)[3].ar, res.arrays.subset(sel)[3].ar)
    np.testing.assert_array_equal(back.arrays.returns(sel)[1], res.arrays.returns(sel)[1])
