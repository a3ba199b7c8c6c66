"""The error family (eventstudy.errors): organised by problem, structured fields, pickling."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from eventstudy import errors as E
from eventstudy.calendars.sessions import session_model_for
from eventstudy.engine.model import EventStudy
from eventstudy.estimation import normal_returns


def test_every_error_is_an_eventstudy_error_and_old_names_keep_their_parents():
    for name in E.__all__:
        cls = getattr(E, name)
        if name.endswith("Warning"):
            assert issubclass(cls, UserWarning)
        else:
            assert issubclass(cls, E.EventStudyError), name
    for cls in (E.EventsFileError, E.UniverseFileError, E.InstrumentError, E.HypothesesFileError,
                E.LimitsFileError, E.StudyConfigError, E.PriceDataError):
        assert issubclass(cls, E.InputError)
    assert issubclass(E.PairsError, E.WindowError) and issubclass(E.NotASessionError, E.WindowError)
    assert issubclass(E.WindowError, E.SpecificationError) and issubclass(E.SpecificationError, ValueError)
    assert issubclass(E.UnknownModelError, E.EstimationError) and issubclass(E.UnknownModelError, ValueError)


def test_warnings_are_the_same_classes_where_they_were():
    from eventstudy.data.base import PriceDataWarning
    from eventstudy.data.cache import CacheWarning
    assert PriceDataWarning is E.PriceDataWarning and CacheWarning is E.CacheWarning


def test_fields_are_set_checked_and_survive_pickling():
    err = E.PairsError("pair (ticker A, event e) appears twice", ticker="A", event_id="e")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is E.PairsError and str(back) == str(err) and back.message == str(err)
    assert (back.ticker, back.event_id) == ("A", "e")
    assert E.InputError("bad").path is None
    with pytest.raises(TypeError, match="no field"):
        E.PairsError("x", day0="2026-01-06")


def test_unknown_model_is_one_error_from_both_entry_points():
    r = pd.DataFrame({"A": np.zeros(30), "M": np.zeros(30)}, index=pd.bdate_range("2025-01-01", periods=30))
    pairs = pd.DataFrame({"ticker": ["A"], "event_id": ["e"], "day0": [r.index[25]]})
    with pytest.raises(E.UnknownModelError):
        EventStudy(r, pairs, model="capm", benchmark="M")
    with pytest.raises(E.UnknownModelError):
        normal_returns.fit_batch("capm", np.zeros((1, 10)), np.zeros((1, 10, 0)), np.ones(10, bool), 5)


def test_duplicate_pair_and_non_session_carry_their_fields():
    r = pd.DataFrame({"A": np.zeros(30), "M": np.zeros(30)}, index=pd.bdate_range("2025-01-01", periods=30))
    pairs = pd.DataFrame({"ticker": ["A", "A"], "event_id": ["e", "e"], "day0": [r.index[25]] * 2})
    with pytest.raises(E.PairsError) as exc:
        EventStudy(r, pairs, model="market", benchmark="M").fit()
    assert (exc.value.ticker, exc.value.event_id) == ("A", "e")
    model = session_model_for("7203.T")
    with pytest.raises(E.NotASessionError) as exc:
        model.bounds("2026-01-03")                    # a Saturday
    assert exc.value.calendar == "XTKS" and pd.Timestamp(exc.value.date) == pd.Timestamp("2026-01-03")
