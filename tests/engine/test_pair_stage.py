"""One large chunk (a pooled firm-specific design) has its per-pair stage cut into parts of whole regressor
blocks on several threads: every result, exclusions included, is the same to the last bit as in one piece, and
the parts cover every pair once."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine import chunk
from eventstudy.engine.model import EventStudy

FRAMES = ("ar", "car", "tests", "params", "exclusions")


def _study() -> EventStudy:
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2021-01-04", periods=900)
    n_sec = 60
    mkt = rng.normal(0, 0.01, len(days))
    r = mkt[:, None] * rng.uniform(0.5, 1.5, n_sec) + rng.standard_t(4, (len(days), n_sec)) * 0.01
    r[:, ::4] = np.round(r[:, ::4], 3)                    # ties for the rank tests
    ret = pd.DataFrame(r, index=days, columns=[f"S{i:03d}" for i in range(n_sec)])
    ret["MKT"] = mkt
    ret.iloc[500:520, 3] = np.nan                         # missing returns: exclusions in some windows
    ret.iloc[700, 5] = np.nan
    ret.iloc[650, 7] = np.nan
    ret.iloc[610, 9] = np.nan                             # day 0 of the big block below, for S009 only
    n = 700
    day0 = days[rng.integers(300, 880, n)].to_numpy().copy()
    day0[:120] = days[610]                                # a block of 120 pairs on one day: the blocked fit
    day0[120:140] = days[702]                             # and one next to a missing return
    pairs = pd.DataFrame({"ticker": ret.columns[:-1][rng.integers(0, n_sec, n)],
                          "event_id": [f"f{j}" for j in range(n)], "day0": day0,
                          "group": np.where(rng.random(n) < 0.5, "good", "bad")})
    hit = pd.DataFrame({"ticker": ["S003", "S003", "S005", "S005", "S007", "S007"],   # a missing return in a window
                        "event_id": [f"x{j}" for j in range(6)],
                        "day0": days[[505, 517, 699, 700, 648, 650]], "group": "bad"})
    pairs.loc[:119, "ticker"] = ret.columns[10:-1][rng.integers(0, n_sec - 10, 120)]
    last = pd.DataFrame({"ticker": ["S009"], "event_id": ["late"], "day0": [days[610]], "group": ["good"]})
    # S009's pair: last in the chunk, in the first part (the big block's), without a return on day 0
    pairs = pd.concat([pairs.iloc[:300], hit, pairs.iloc[300:], last], ignore_index=True)
    pairs = pairs.drop_duplicates(["ticker", "day0"]).reset_index(drop=True)
    drop = pd.DataFrame({"ticker": pairs["ticker"].iloc[:40], "event_id": pairs["event_id"].iloc[:40],
                         "rel_day": -100})                 # estimation days left out (own-event overlaps)
    return EventStudy(ret, pairs, model="market", benchmark="MKT", windows=[(0, 0), (-1, 1), (0, 5)], pool=True,
                      estimation_drop=drop)


def test_a_pooled_chunk_in_parts_gives_the_same_bits(monkeypatch):
    study = _study()
    monkeypatch.setattr(chunk.os, "cpu_count", lambda: 2)
    whole = study.fit()                                   # fewer than 2 * PART_PAIRS pairs: one piece
    calls = []
    real = chunk._pair_stage_rows
    monkeypatch.setattr(chunk, "_pair_stage_rows", lambda *a: (calls.append(len(a[2])), real(*a))[1])
    monkeypatch.setattr(chunk, "PART_PAIRS", 90)
    parts = study.fit()
    assert len(calls) >= 5 and sum(calls) == len(study.data.pairs)      # really cut, every pair once
    assert len(whole.exclusions) > 3 and whole.tests["p_value"].notna().sum() > 50
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(whole, frame), getattr(parts, frame), check_exact=True, obj=frame)


def test_one_thread_keeps_the_chunk_in_one_piece(monkeypatch):
    study = _study()
    monkeypatch.setattr(chunk.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(chunk, "PART_PAIRS", 90)
    calls = []
    real = chunk._pair_stage_rows
    monkeypatch.setattr(chunk, "_pair_stage_rows", lambda *a: (calls.append(len(a[2])), real(*a))[1])
    study.fit()
    assert calls == [len(study.data.pairs)]


@pytest.mark.parametrize("seed", range(5))
def test_parts_are_whole_blocks_covering_every_pair_once(seed):
    rng = np.random.default_rng(seed)
    block = rng.integers(0, rng.integers(1, 300), rng.integers(1, 3000))
    size = int(rng.integers(1, 500))
    parts = chunk._parts(block, size)
    allpos = np.concatenate(parts)
    assert np.array_equal(np.sort(allpos), np.arange(block.size))
    for p in parts:
        assert np.all(np.diff(p) > 0)                     # ascending: the chunk's order within a part
    owner = np.empty(block.size, dtype=int)
    for i, p in enumerate(parts):
        owner[p] = i
    for b in np.unique(block):                            # a block never split
        assert np.unique(owner[block == b]).size == 1
    sizes = [np.unique(block[p], return_counts=True)[1].max() for p in parts]
    assert all(len(p) < size + s for p, s in zip(parts, sizes))   # about ``size``: at most one block over
