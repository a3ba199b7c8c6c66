"""The t and normal tail functions taken from scipy.special (so scipy.stats is not imported at start-up)
give exactly scipy.stats' numbers, edge cases included."""
import numpy as np
import pytest
from scipy import stats

from eventstudy.inference.base import norm_isf, t_isf, t_result, two_sided_t, two_sided_z, z_result


def _grid():
    rng = np.random.default_rng(7)
    q = np.r_[rng.uniform(0, 1, 5000), 0.0, 1.0, 0.5, np.nan, 1e-300, 0.3, 0.3, 0.0]
    df = np.r_[rng.uniform(1, 500, 5000), 3, 3, 3, 3, 3, 0.0, np.nan, -1.0]
    return q, df


def test_t_isf_and_norm_isf_equal_scipy_stats_bit_for_bit():
    q, df = _grid()
    assert np.array_equal(t_isf(q, df), stats.t.isf(q, df), equal_nan=True)
    assert np.array_equal(norm_isf(q), stats.norm.isf(q), equal_nan=True)
    assert float(t_isf(0.025, 5)) == pytest.approx(2.5705818366147395, rel=1e-9)     # the t table's 2.571


@pytest.mark.parametrize("stat,df", [(0.0, 5), (1.3, 7), (-2.5, 300), (40.0, 2.5), (1e-300, 1), (3.0, np.inf)])
def test_p_values_equal_scipy_stats(stat, df):
    assert t_result(stat, df).p_value == 2 * stats.t.sf(abs(stat), df)
    assert z_result(stat).p_value == 2 * stats.norm.sf(abs(stat))
    s, d = np.array([stat, np.nan]), np.array([df, 3.0])
    assert np.array_equal(two_sided_t(s, d), 2 * stats.t.sf(np.abs(s), d), equal_nan=True)
    assert np.array_equal(two_sided_z(s), 2 * stats.norm.sf(np.abs(s)), equal_nan=True)
