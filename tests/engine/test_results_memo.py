"""The residual correlation an event's hypotheses share is computed once and equals a direct computation;
the cache stays out of pickles."""
import pickle

import numpy as np

from eventstudy.inference.reference import residual_correlation_matrix


def test_residual_corr_cached_equals_direct_and_is_not_pickled(offline_run):
    res = offline_run.result
    a = res.arrays
    ev = res.events[0]
    first = res.residual_corr(ev)
    assert res.residual_corr(ev) is not first and a.event_residual_corr(ev)[1] is a.event_residual_corr(ev)[1]
    sel = a.ok & (a.pairs["event_id"].to_numpy() == ev)
    direct = residual_correlation_matrix(a.subset(sel)[3].ar[:, a.est_mask])
    assert np.array_equal(first.to_numpy(), direct, equal_nan=True)
    assert list(first.index) == list(a.pairs["ticker"].to_numpy()[sel])
    back = pickle.loads(pickle.dumps(res))
    assert "_memo" not in back.arrays.__dict__
    assert np.array_equal(back.residual_corr(ev).to_numpy(), direct, equal_nan=True)
