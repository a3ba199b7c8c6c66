"""A study streamed to Parquet by chunks (eventstudy.outputs.stream): the same rows as the in-memory fit,
an aggregates-only mode without per-day ARs, resuming an interrupted run, refusing other settings."""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_distributed import _study  # noqa: E402

from eventstudy.errors import EventStudyError  # noqa: E402
from eventstudy.outputs.stream import stream_study  # noqa: E402

KEYS = {"ar": ["event_id", "ticker", "rel_day"], "car": ["event_id", "ticker", "window_start"],
        "tests": ["event_id", "group", "window_start", "test"], "params": ["event_id", "ticker"],
        "exclusions": ["event_id", "ticker", "window_start", "reason"]}


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(folder / table)


def _same_rows(streamed: pd.DataFrame, full: pd.DataFrame, keys: list[str]) -> None:
    a = streamed.sort_values(keys, kind="mergesort").reset_index(drop=True)
    b = full.sort_values(keys, kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b[a.columns], check_exact=True, check_dtype=False, check_categorical=False)


@pytest.fixture(scope="module")
def study_and_fit():
    es = _study(n_sec=30, n_events=9)
    return es, es.fit(bootstrap=19, seed=2, chunk_pairs=60)


def test_streamed_parts_hold_the_rows_of_the_fit(tmp_path, study_and_fit):
    es, full = study_and_fit
    info = stream_study(es, tmp_path / "s", bootstrap=19, seed=2, chunk_pairs=60)
    assert info["written"] == len(list((tmp_path / "s" / "car").glob("*.parquet"))) > 1 and info["skipped"] == 0
    for table, keys in KEYS.items():
        _same_rows(_read(tmp_path / "s", table), getattr(full, table), keys)


def test_aggregates_only_keeps_the_cells_without_daily_ars(tmp_path, study_and_fit):
    es, full = study_and_fit
    stream_study(es, tmp_path / "a", bootstrap=19, seed=2, chunk_pairs=60, aggregates_only=True)
    assert not (tmp_path / "a" / "ar").exists()
    _same_rows(_read(tmp_path / "a", "tests"), full.tests, KEYS["tests"])


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, study_and_fit):
    es, full = study_and_fit
    first = stream_study(es, tmp_path / "r", bootstrap=19, seed=2, chunk_pairs=60)
    lost = sorted((tmp_path / "r" / "car").glob("*.parquet"))[1]
    lost.unlink()                                       # as if the run had died while writing that chunk
    again = stream_study(es, tmp_path / "r", bootstrap=19, seed=2, chunk_pairs=60)
    assert (again["written"], again["skipped"]) == (1, first["written"] - 1)
    for table, keys in KEYS.items():
        _same_rows(_read(tmp_path / "r", table), getattr(full, table), keys)
    assert not list((tmp_path / "r").rglob("*.tmp*"))  # no half-written part left


def test_other_settings_in_the_same_folder_are_refused(tmp_path, study_and_fit):
    es, _ = study_and_fit
    stream_study(es, tmp_path / "x", chunk_pairs=60)
    with pytest.raises(EventStudyError, match="other settings.*chunk_pairs"):
        stream_study(es, tmp_path / "x", chunk_pairs=90)


def test_streaming_on_a_process_pool(tmp_path, study_and_fit):
    es, full = study_and_fit
    with ProcessPoolExecutor(max_workers=2) as pool:
        stream_study(es, tmp_path / "p", bootstrap=19, seed=2, chunk_pairs=60, executor=pool)
    for table, keys in KEYS.items():
        _same_rows(_read(tmp_path / "p", table), getattr(full, table), keys)
