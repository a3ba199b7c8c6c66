"""The window spans of the tables (first and last date of each event x group x window), computed from one
row per pair, equal the merge of every AR row they replaced."""
import pandas as pd
import pytest

from eventstudy.present.table_cells import pair_members, window_spans


def _reference(run, members, windows):
    ar = run.result.ar[["event_id", "ticker", "rel_day", "date"]]
    m = members.merge(ar, on=["event_id", "ticker"], how="inner")
    parts = []
    for ws, we in windows:
        sel = m[(m["rel_day"] >= ws) & (m["rel_day"] <= we)]
        g = sel.groupby(["event_id", "group"], sort=False)["date"].agg(["min", "max"]).reset_index()
        g["window_start"], g["window_end"] = ws, we
        parts.append(g)
    return pd.concat(parts, ignore_index=True).rename(columns={"min": "date_first", "max": "date_last"})


@pytest.mark.parametrize("windows", [[(0, 0)], [(0, 1), (-1, 1), (0, 5)], [(-2, 5)]])
def test_window_spans_equal_the_row_merge(offline_run, windows):
    members = pair_members(offline_run)
    got = window_spans(offline_run, members, windows)
    pd.testing.assert_frame_equal(got, _reference(offline_run, members, windows))


def test_window_spans_fall_back_when_rows_are_not_in_blocks(offline_run):
    import dataclasses

    res = offline_run.result
    shuffled = res.ar.sample(frac=1.0, random_state=3).reset_index(drop=True)
    run = dataclasses.replace(offline_run, result=dataclasses.replace(res, ar=shuffled))
    members = pair_members(run)
    got = window_spans(run, members, [(0, 1)])
    pd.testing.assert_frame_equal(got, _reference(run, members, [(0, 1)]))
