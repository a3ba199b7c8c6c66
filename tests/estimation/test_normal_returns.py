"""The block-shared fit (regressor statistics once per event block) equals the general batched fit."""
from __future__ import annotations

import numpy as np
import pytest

from eventstudy.estimation.normal_returns import MIN_BLOCK, fit_batch


@pytest.mark.parametrize("q", [1, 2])
@pytest.mark.parametrize("layout", ["contiguous", "interleaved"])
def test_blocked_fit_equals_general_fit(q, layout):
    """Blocks as contiguous runs of rows (worked on in place) or interleaved (through copies); block 4
    has fewer than MIN_BLOCK pairs and takes the general path."""
    rng = np.random.default_rng(4)
    P, D = 60, 130
    est = np.zeros(D, dtype=bool)
    est[:110] = True
    blocks = np.r_[np.repeat(np.arange(4), 14), [4, 4, 4, 4]]
    assert (blocks == 4).sum() < MIN_BLOCK
    f_block = rng.normal(0, 0.01, (5, D, q))
    f_block[1, 30, 0] = np.nan                    # a missing benchmark day in block 1
    f = f_block[blocks]
    y = 0.001 + np.einsum("pdi,i->pd", f, np.linspace(0.5, 1.5, q)) + rng.normal(0, 0.02, (P, D))
    y[3, 40:45] = np.nan                          # incomplete pairs take the general path
    y[20, :100] = np.nan                          # too few observations
    y[33] = 0.0                                   # zero variance
    f[45:50, :, :] = f_block[3][None]             # identical rows, same block
    if layout == "interleaved":
        perm = np.random.default_rng(1).permutation(P)
        y, f, blocks = y[perm], f[perm], blocks[perm]
    g = fit_batch("market" if q == 1 else "factor", y, f, est, min_obs=50)
    b = fit_batch("market" if q == 1 else "factor", y, f, est, min_obs=50, blocks=blocks)
    np.testing.assert_array_equal(g.ok, b.ok)
    np.testing.assert_array_equal(g.reason, b.reason)
    np.testing.assert_array_equal(g.m, b.m)
    for name in ("const", "slopes", "s2", "normal", "ar", "h"):
        np.testing.assert_allclose(getattr(b, name), getattr(g, name), rtol=1e-10, atol=1e-14, err_msg=name)
    if layout == "contiguous":
        assert not g.ok[20] and not g.ok[33] and g.ok[3]
    assert (~g.ok).sum() == 2
