"""The engine's parts on their own: StudyData and Regressors (estimation/data.py), PairLayout
(estimation/layout.py), checked against hand-built expectations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.errors import EstimationError
from eventstudy.estimation.data import Regressors, StudyData, drop_positions
from eventstudy.estimation.layout import PairLayout
from eventstudy.estimation.windows import WindowSpec


def _returns(T=60, seed=0):
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-01", periods=T)
    return pd.DataFrame(rng.normal(0, 0.01, (T, 4)), index=days, columns=["A", "B", "M", "X"]), days


def test_regressors_name_factors_by_column_or_by_position():
    same = Regressors.build("factor", factors={"A": ["M", "X"], "B": ["M", "X"]})
    assert same.factors == ("M", "X") and same.q == 2 and same.what == "factor"
    mixed = Regressors.build("factor", factors={"A": ["M", "X"], "B": ["N", "X"]})
    assert mixed.factors == ("benchmark", "X")
    assert mixed.names_for(["B", "C"]) == [["N", "X"], ["", ""]]
    with pytest.raises(EstimationError, match="same number of factors"):
        Regressors.build("factor", factors={"A": ["M"], "B": ["M", "X"]})
    market = Regressors.build("market", benchmark={"A": "M"})
    assert market.q == 1 and market.what == "benchmark"
    assert list(market.benchmark_column(pd.Series(["A", "B", "A"]))) == ["M", "", "M"]
    assert Regressors.build("constant_mean").names_for(["A"]) == [[]]


def test_study_data_joins_factors_and_refuses_a_clash():
    ret, days = _returns()
    pairs = pd.DataFrame({"ticker": ["A"], "event_id": ["e"], "day0": [days[50]]})
    data = StudyData.build(ret, pairs)
    assert list(data.pairs.columns) == ["ticker", "event_id", "day0", "group"] and data.pairs["group"][0] == "all"
    fac = pd.DataFrame({"F": np.arange(len(days), dtype=float)}, index=days + pd.Timedelta(hours=9))
    joined = data.with_factors(fac)
    np.testing.assert_array_equal(joined.returns["F"].to_numpy(), np.arange(len(days), dtype=float))
    with pytest.raises(EstimationError, match="also appear in the returns"):
        data.with_factors(ret[["M"]])


def test_drop_positions_keep_only_estimation_days_of_known_pairs():
    ret, days = _returns()
    pairs = StudyData.build(ret, pd.DataFrame({"ticker": ["A", "B"], "event_id": ["e", "e"],
                                               "day0": [days[50]] * 2})).pairs
    spec = WindowSpec.build((-30, -5), [(0, 1)])
    drop = pd.DataFrame({"ticker": ["B", "A", "A", "Z", "A"], "event_id": ["e"] * 5, "rel_day": [-10, -6, 0, -6, -40]})
    pos, col = drop_positions(pairs, spec, drop)
    # day 0 is not an estimation day, Z is no pair, -40 is off the grid: dropped rows are A -6 and B -10
    assert list(pos) == [0, 1] and list(spec.rel_days[col]) == [-6, -10]


def test_layout_gathers_each_pairs_own_grid():
    ret, days = _returns()
    pairs = pd.DataFrame({"ticker": ["A", "B", "Q"], "event_id": ["e1", "e2", "e1"], "day0": [days[40], days[55], days[40]]})
    data = StudyData.build(ret, pairs)
    spec = WindowSpec.build((-20, -3), [(0, 0), (-1, 2)])
    layout = PairLayout.build(data, Regressors.build("market", benchmark="M"), spec)
    assert list(layout.reason) == ["", "", "no returns for ticker Q (not in the price data)"]
    y, f, dates = layout.gather(np.array([0, 1]))
    rel = spec.rel_days
    for i, (t, d0) in enumerate([("A", 40), ("B", 55)]):
        pos = d0 + rel
        inside = pos < len(days)                       # B's grid runs past the data: NaN there
        np.testing.assert_array_equal(y[i, inside], ret[t].to_numpy()[pos[inside]])
        assert np.isnan(y[i, ~inside]).all()
        np.testing.assert_array_equal(f[i, inside, 0], ret["M"].to_numpy()[pos[inside]])
    span = rel[layout.span]
    assert list(span) == [-1, 0, 1, 2]
    np.testing.assert_array_equal(dates[0], days[40 + span].values)
