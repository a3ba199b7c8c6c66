"""Chunks as tasks (issue 18): a fit on a process pool or a Dask LocalCluster equals the local fit bit for
bit, whatever the chunk size, the task order, or a worker killed midway."""
from __future__ import annotations

import os
import signal
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from eventstudy.engine.model import EventStudy

FRAMES = ("ar", "car", "tests", "params", "exclusions")


def _study(n_sec: int = 40, n_events: int = 10, seed: int = 7) -> EventStudy:
    """A market-model study with gaps (some pairs and windows excluded) on a shared-date design."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2023-01-02", periods=700)
    mkt = rng.normal(0, 0.01, len(days))
    beta = rng.uniform(0.5, 1.5, n_sec)
    common = rng.normal(0, 0.004, len(days))
    r = mkt[:, None] * beta + common[:, None] + rng.normal(0, 0.015, (len(days), n_sec))
    returns = pd.DataFrame(r, index=days, columns=[f"S{i:03d}" for i in range(n_sec)])
    returns["MKT"] = mkt
    returns.iloc[300:320, 3] = np.nan                      # a hole in one estimation window
    returns.iloc[505, 5] = np.nan                          # a missing event-window day
    day0 = days[np.linspace(320, 650, n_events).astype(int)]
    pairs = pd.DataFrame([(t, f"e{j}", d, "A" if i % 2 else "B")
                          for j, d in enumerate(day0) for i, t in enumerate(returns.columns[:-1])],
                         columns=["ticker", "event_id", "day0", "group"])
    return EventStudy(returns, pairs, model="market", benchmark="MKT", windows=[(0, 0), (0, 1), (-1, 1)])


def _assert_same(a, b) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)


@pytest.fixture(scope="module")
def study_and_local():
    es = _study()
    return es, es.fit(bootstrap=49, seed=3, chunk_pairs=40)


def test_process_pool_equals_local_fit_for_any_chunk_size(study_and_local):
    es, local = study_and_local
    assert not local.exclusions.empty and "bootstrap" in set(local.tests["test"])
    with ProcessPoolExecutor(max_workers=2) as pool:
        for chunk_pairs in (40, 1_000):
            _assert_same(local, es.fit(bootstrap=49, seed=3, chunk_pairs=chunk_pairs, executor=pool))


def test_dask_local_cluster_equals_local_fit(study_and_local):
    distributed = pytest.importorskip("distributed")
    es, local = study_and_local
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        _assert_same(local, es.fit(bootstrap=49, seed=3, chunk_pairs=40, executor=client))
        _assert_same(local, es.fit(bootstrap=49, seed=3, chunk_pairs=120, executor=client))


def _fit_killing_a_worker(monkeypatch, study: EventStudy, **fit):
    """``study.fit(**fit)`` on a 2-worker LocalCluster whose first worker is SIGKILLed as the first chunk comes in."""
    distributed = pytest.importorskip("distributed")
    import eventstudy.engine.chunk as chunk_module

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        victim = sorted(client.run(os.getpid).values())[0]
        seen = []

        class KillOnFirstChunk:                 # the chunk progress bar: kills a worker when the first chunk is in
            def __init__(self, total, **_):
                self.total = total

            def update(self, n):
                seen.append(n)
                if len(seen) == 1:
                    os.kill(victim, signal.SIGKILL)

            def close(self):
                pass

        monkeypatch.setattr(chunk_module, "progress_bar", lambda total, **kw: KillOnFirstChunk(total, **kw))
        remote = study.fit(executor=client, **fit)
        assert len(seen) == 30                                   # every chunk arrived, after the kill
        client.wait_for_workers(2, timeout=60)
        assert victim not in set(client.run(os.getpid).values())          # it died and was replaced
    return remote


def test_a_worker_killed_midway_changes_nothing(monkeypatch):
    pytest.importorskip("distributed")
    es = _study(n_sec=40, n_events=30, seed=11)
    local = es.fit(bootstrap=199, seed=5, chunk_pairs=40)
    _assert_same(local, _fit_killing_a_worker(monkeypatch, es, bootstrap=199, seed=5, chunk_pairs=40))


def test_cli_workers_gives_the_same_files_as_a_local_run(tmp_path):
    pytest.importorskip("distributed")
    from eventstudy.cli import main

    assert main(["run", "--offline", "--out", str(tmp_path / "local"), "--no-report", "--window=0,1"]) == 0
    assert main(["run", "--offline", "--out", str(tmp_path / "dask"), "--no-report", "--window=0,1",
                 "--workers", "2"]) == 0
    names = sorted(p.name for p in (tmp_path / "local").glob("*.csv"))
    assert names and names == sorted(p.name for p in (tmp_path / "dask").glob("*.csv"))
    for name in names:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name


@pytest.mark.parametrize("flags,needle", [(["--workers", "0"], "--workers 0"),
                                          (["--workers", "2", "--scheduler", "tcp://h:1"], "not both")])
def test_cli_bad_scale_flags_are_refused_before_any_work(tmp_path, capsys, flags, needle):
    from eventstudy.cli import main

    assert main(["run", "--offline", "--out", str(tmp_path / "x"), *flags]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and "events x" not in err
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------- lazy input: a Parquet returns store
def _lazy_study(es: EventStudy, folder) -> EventStudy:
    from eventstudy.data.return_store import ReturnStore, write_return_store

    store = ReturnStore.open(write_return_store(es.returns, folder / "returns.parquet", dates_per_group=30))
    return EventStudy(store, es.pairs, model="market", benchmark="MKT", windows=[(0, 0), (0, 1), (-1, 1)])


def test_lazy_input_on_a_local_cluster_equals_the_fit_in_memory(study_and_local, tmp_path):
    """Workers read their chunks' returns from the store themselves: the panel is neither held nor scattered."""
    distributed = pytest.importorskip("distributed")
    es, local = study_and_local
    lazy = _lazy_study(es, tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        _assert_same(local, lazy.fit(bootstrap=49, seed=3, chunk_pairs=40, executor=client))
        _assert_same(local, lazy.fit(bootstrap=49, seed=3, chunk_pairs=160, executor=client))
    with ProcessPoolExecutor(max_workers=2) as pool:
        _assert_same(local, lazy.fit(bootstrap=49, seed=3, chunk_pairs=80, executor=pool))


def test_a_worker_killed_midway_with_lazy_input_changes_nothing(monkeypatch, tmp_path):
    pytest.importorskip("distributed")
    es = _study(n_sec=40, n_events=30, seed=11)
    local = es.fit(bootstrap=99, seed=5, chunk_pairs=40)
    _assert_same(local, _fit_killing_a_worker(monkeypatch, _lazy_study(es, tmp_path), bootstrap=99, seed=5,
                                              chunk_pairs=40))


# ------------------------------------------------------------------- what is held waiting is bounded
def _parts_with_live_futures(es: EventStudy, executor, count_live) -> tuple[list, list[int]]:
    """Every streamed part of ``es`` on ``executor`` and, as each is taken, ``count_live()``."""
    parts, live = [], []
    for first, end, tables in es.fit_parts(chunk_pairs=40, executor=executor):
        parts.append((first, end, tables))
        live.append(count_live())
    return parts, live


def test_a_process_pool_holds_at_most_the_in_flight_limit_of_chunks():
    """Chunks are submitted as earlier ones are taken: never more than ``in_flight`` waiting, whatever the study."""
    from eventstudy.engine.executors import in_flight

    es = _study(n_sec=40, n_events=30, seed=11)                     # 30 chunks of one event
    submitted, taken = [0], [0]

    class Counting(ProcessPoolExecutor):
        def submit(self, *a, **k):
            submitted[0] += 1
            return super().submit(*a, **k)

    with Counting(max_workers=1) as pool:
        limit = in_flight(pool)

        def waiting() -> int:
            taken[0] += 1
            return submitted[0] - taken[0]

        parts, live = _parts_with_live_futures(es, pool, waiting)
    assert limit == 4 and len(parts) == 30 and submitted[0] == 30
    assert max(live) <= limit and live[0] == limit
    local = pd.concat([t["car"] for _, _, t in sorted(_parts_with_live_futures(es, None, lambda: 0)[0],
                                                        key=lambda p: p[0])], ignore_index=True)
    got = pd.concat([t["car"] for _, _, t in sorted(parts, key=lambda p: p[0])], ignore_index=True)
    pd.testing.assert_frame_equal(local, got, check_exact=True)


def test_a_dask_client_keeps_no_taken_chunk_on_its_workers():
    """A taken chunk's future is released at once: the client never holds more than the in-flight chunks and
    the scattered study (before, every finished chunk stayed on the workers until the run ended)."""
    distributed = pytest.importorskip("distributed")
    from eventstudy.engine.executors import in_flight

    es = _study(n_sec=40, n_events=30, seed=11)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        limit = in_flight(client)
        parts, live = _parts_with_live_futures(es, client, lambda: len(client.futures))
    assert limit == 4 and len(parts) == 30
    # in flight + layout, settings and cells (scattered once), with slack for a release still on its way to the
    # scheduler; before, every finished chunk stayed: the count grew to all 30 chunks + 3
    assert max(live) <= 2 * limit + 3
    assert sorted(p[0] for p in parts) == list(range(30))
