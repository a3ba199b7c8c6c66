"""A study streamed to Parquet by chunks (eventstudy.outputs.stream): the same rows as the in-memory fit,
an aggregates-only mode without per-day ARs, resuming an interrupted run, refusing other settings."""
from __future__ import annotations

import dataclasses
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


# --------------------------------------------------------------------- from the command line: run --stream
OFFLINE = ["run", "--offline", "--window=0,1", "--window=-1,1", "--chunk-pairs", "100"]


@pytest.fixture(scope="module")
def offline_run():
    """The in-memory study the CLI streams (`eventstudy run --offline`: build_study then fit_study), with the
    same chunks (a pair's fit can differ in the last bit with the chunk size: its block of pairs sharing a
    regressor is solved together or one by one)."""
    from eventstudy.data.offline import OfflineSource
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.study import load_study
    from eventstudy.inputs.universe import load_universe
    from eventstudy.pipeline.study import build_study, fit_study

    study = load_study()
    built = build_study(load_events(study.events), load_universe(study.universe), OfflineSource(), study=study,
                        windows=[(0, 1), (-1, 1)], regressions=False)
    fit = built.study.fit

    class SameChunks:                                   # the CLI's --chunk-pairs 100
        def __getattr__(self, name):
            return getattr(built.study, name)

        def fit(self, **kw):
            return fit(chunk_pairs=100, **kw)

    return fit_study(dataclasses.replace(built, study=SameChunks()))


def test_cli_stream_holds_the_tables_of_the_run_in_memory(tmp_path, offline_run, capsys):
    from eventstudy.cli import main

    assert main([*OFFLINE, "--stream", str(tmp_path / "s")]) == 0
    assert "8 chunk(s) of events written, 0 already there" in capsys.readouterr().err
    res = offline_run.result
    assert res.tests["p_value"].isna().any()            # the single-instrument groups' blanked tests
    for table, keys in KEYS.items():
        _same_rows(_read(tmp_path / "s", table), getattr(res, table), keys)


def test_cli_stream_interrupted_midway_resumes_to_the_same_tables(tmp_path, offline_run, monkeypatch, capsys):
    import eventstudy.outputs.stream as stream_module
    from eventstudy.cli import main

    real, calls = stream_module.atomic_write_bytes, []

    def dies_in_the_third_chunk(path, data):
        calls.append(path)
        if len(calls) == 13:                            # 5 tables a chunk: two chunks whole, the third half done
            raise KeyboardInterrupt
        return real(path, data)

    monkeypatch.setattr(stream_module, "atomic_write_bytes", dies_in_the_third_chunk)
    assert main([*OFFLINE, "--stream", str(tmp_path / "r")]) == 130       # as Ctrl-C
    monkeypatch.setattr(stream_module, "atomic_write_bytes", real)
    assert not list((tmp_path / "r").rglob("*.tmp"))    # no half-written part
    capsys.readouterr()
    assert main([*OFFLINE, "--stream", str(tmp_path / "r")]) == 0
    assert "6 chunk(s) of events written, 2 already there (resumed)" in capsys.readouterr().err
    for table, keys in KEYS.items():
        _same_rows(_read(tmp_path / "r", table), getattr(offline_run.result, table), keys)


def test_cli_stream_refuses_other_options_in_the_same_folder(tmp_path, capsys):
    from eventstudy.cli import main

    assert main([*OFFLINE, "--stream", str(tmp_path / "x"), "--aggregates-only"]) == 0
    before = sorted(p.name for p in (tmp_path / "x").rglob("*"))
    assert "ar" not in before
    capsys.readouterr()
    assert main([*OFFLINE, "--stream", str(tmp_path / "x"), "--aggregates-only", "--model", "constant_mean"]) == 2
    err = capsys.readouterr().err
    assert "holds a run with other settings" in err and "model" in err and "Traceback" not in err
    assert main([*OFFLINE, "--stream", str(tmp_path / "x"), "--aggregates-only", "--alignment", "same_date"]) == 2
    assert "alignment (was 'close', now 'same_date')" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "x").rglob("*")) == before


@pytest.mark.parametrize("flags,needle", [
    (["--aggregates-only"], "--aggregates-only and --chunk-pairs go with --stream DIR"),
    (["--stream", "{tmp}/s", "--chunk-pairs", "0"], "--chunk-pairs 0: give a number of pairs >= 1"),
    (["--stream", "{tmp}/s", "--measure", "volatility"], "--measure is not streamed"),
])
def test_cli_stream_flags_are_checked_before_any_work(tmp_path, capsys, flags, needle):
    from eventstudy.cli import main

    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    assert main(["run", "--offline", "--out", str(tmp_path / "o"), *flags]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and "events x" not in err
    assert not list(tmp_path.iterdir())
