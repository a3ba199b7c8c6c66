"""The disk cache of exchange calendars gives exactly the arrays exchange_calendars builds, and a
damaged, foreign or unwritable cache never changes them."""
import numpy as np
import pandas as pd
import pytest

from eventstudy.calendars import exchange_arrays as E
from eventstudy.calendars import sessions as S
from eventstudy.data import calendar_cache as C


def _fresh(code):
    """The arrays as the session models took them from exchange_calendars before the cache."""
    cal = E.exchange_calendar(code)
    out = [E._naive_sessions(cal.sessions), E._utc_index(cal.opens), E._utc_index(cal.closes)]
    if cal.has_break:
        out += [E._utc_index(cal.break_starts), E._utc_index(cal.break_ends)]
    return str(cal.tz), out


def _got(a):
    return [x for x in (a.sessions, a.opens, a.closes, a.break_starts, a.break_ends) if x is not None]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(tmp_path))
    E.calendar_arrays.cache_clear()
    yield tmp_path / "calendars"
    E.calendar_arrays.cache_clear()


def _same(a, code):
    tz, want = _fresh(code)
    got = _got(a)
    assert a.tz == tz and len(got) == len(want)
    for g, w in zip(got, want):
        pd.testing.assert_index_equal(g, w, exact=True)
        assert g.freq is None


@pytest.mark.parametrize("code", ["XTKS", "XNYS", "CMES"])
def test_written_then_read_back_identical(cache, code, monkeypatch):
    built = E.calendar_arrays(code)
    _same(built, code)
    assert len(list(cache.glob(f"{code}-*.npz"))) == 1
    E.calendar_arrays.cache_clear()
    monkeypatch.setattr(E, "exchange_calendar", lambda c: pytest.fail("built again although cached"))
    read = E.calendar_arrays(code)
    for g, w in zip(_got(read), _got(built)):
        pd.testing.assert_index_equal(g, w, exact=True)
    assert read.tz == built.tz


def test_xtks_keeps_its_lunch_break(cache):
    a = E.calendar_arrays("XTKS")
    assert a.break_starts is not None and a.break_ends is not None
    assert E.calendar_arrays("XNYS").break_starts is None
    m = S.session_model_for("7203.T")
    bs, be = m.break_bounds(pd.DatetimeIndex(["2025-11-19"]))
    assert (bs[0].tz_convert("Asia/Tokyo").strftime("%H:%M"), be[0].tz_convert("Asia/Tokyo").strftime("%H:%M")) == ("11:30", "12:30")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other key", "unsorted"])
def test_a_bad_file_is_rebuilt_not_trusted(cache, damage):
    E.calendar_arrays("XNYS")
    path = next(cache.glob("XNYS-*.npz"))
    if damage == "garbage":
        path.write_bytes(b"not an npz at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    else:
        key = E._cache_key("XNYS")
        tz, arrays = C.read_calendar_arrays("XNYS", key)
        if damage == "unsorted":
            arrays["sessions"] = arrays["sessions"][::-1].copy()
            C.write_calendar_arrays("XNYS", key, tz, arrays)
        else:
            assert C.read_calendar_arrays("XNYS", key + " (another day)") is None
            np.savez(path, format=np.array("eventstudy.calendar_cache/1"), key=np.array("XNYS|someone else"),
                     tz=np.array(tz), **arrays)
    E.calendar_arrays.cache_clear()
    _same(E.calendar_arrays("XNYS"), "XNYS")
    assert C.read_calendar_arrays("XNYS", E._cache_key("XNYS")) is not None       # rewritten soundly


def test_unwritable_cache_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("EVENTSTUDY_CACHE_DIR", str(blocker))         # calendars/ cannot be created under a file
    E.calendar_arrays.cache_clear()
    try:
        _same(E.calendar_arrays("XNYS"), "XNYS")
    finally:
        E.calendar_arrays.cache_clear()


def test_codes_accepted_without_the_calendar_list_are_exchange_calendars_codes():
    from eventstudy.inputs.exchanges import _KNOWN_CODES, calendar_names, normalise_exchange

    assert _KNOWN_CODES <= calendar_names()
    assert normalise_exchange("tse") == "XTKS" and normalise_exchange("XLON") == "XLON"
    with pytest.raises(Exception, match="unknown exchange 'XXXX'"):
        normalise_exchange("XXXX", "ABC")
