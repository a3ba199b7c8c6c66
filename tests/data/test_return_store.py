"""The Parquet returns store (issue 18, out-of-core input): a study read lazily from it equals the study of
the same returns in memory bit for bit; every kind of bad store or bad returns is refused by name."""
from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy.data.return_store import ReturnStore, write_return_store
from eventstudy.engine.model import EventStudy
from eventstudy.errors import ReturnStoreError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_distributed import _assert_same, _study  # noqa: E402

WINDOWS = [(0, 0), (0, 1), (-1, 1)]


def _lazy(es: EventStudy, store: ReturnStore, **kw) -> EventStudy:
    return EventStudy(store, es.pairs, model=es.model, benchmark=es.benchmark, windows=WINDOWS, **kw)


@pytest.fixture(scope="module")
def study_store(tmp_path_factory):
    es = _study()
    path = write_return_store(es.returns, tmp_path_factory.mktemp("store") / "returns.parquet", dates_per_group=40)
    return es, ReturnStore.open(path)


def test_lazy_fit_equals_the_fit_in_memory_for_any_chunk_size(study_store):
    es, store = study_store
    local = es.fit(bootstrap=49, seed=3, chunk_pairs=40)
    lazy = _lazy(es, store)
    assert lazy.data.returns.columns.tolist() == ["MKT"]            # only the benchmark is held in memory
    assert lazy.fit(bootstrap=49, seed=3, chunk_pairs=40).arrays.layout.mat.shape[0] == 2   # row 0 and MKT
    for chunk_pairs in (40, 200, 10_000):
        _assert_same(local, lazy.fit(bootstrap=49, seed=3, chunk_pairs=chunk_pairs))
    res = lazy.fit()
    np.testing.assert_array_equal(res.residual_corr("e2").to_numpy(), es.fit().residual_corr("e2").to_numpy())


def test_a_long_frame_and_a_pickled_store_give_the_same_study(study_store, tmp_path):
    es, store = study_store
    long = es.returns.rename_axis("date").reset_index().melt(id_vars="date", var_name="ticker", value_name="ret")
    other = ReturnStore.open(write_return_store(long.sample(frac=1, random_state=0), tmp_path / "long.parquet"))
    assert other.tickers == sorted(es.returns.columns)
    again = pickle.loads(pickle.dumps(other))           # what a worker gets: path and metadata, no open file
    _assert_same(es.fit(), _lazy(es, again).fit(chunk_pairs=100))


def test_missing_tickers_and_dates_are_the_exclusions_of_the_run_in_memory(study_store, tmp_path):
    es, _ = study_store
    returns = es.returns.drop(columns=["S007"]).iloc[:600]           # a ticker gone, the last 100 days gone
    pairs = pd.concat([es.pairs, pd.DataFrame({"ticker": ["NOPE"], "event_id": ["e0"],
                                               "day0": [es.pairs["day0"].iloc[0]], "group": ["A"]})])
    mem = EventStudy(returns, pairs, model="market", benchmark="MKT", windows=WINDOWS)
    store = ReturnStore.open(write_return_store(returns, tmp_path / "cut.parquet", dates_per_group=30))
    lazy = EventStudy(store, pairs, model="market", benchmark="MKT", windows=WINDOWS)
    a, b = mem.fit(chunk_pairs=80), lazy.fit(chunk_pairs=80)
    _assert_same(a, b)
    reasons = " ".join(b.exclusions["reason"])
    assert "no returns for ticker S007" in reasons and "no returns for ticker NOPE" in reasons
    assert "outside its data" in reasons                              # day 0 after the store's last date


def test_a_return_panel_with_session_closes_round_trips(tmp_path):
    """Several calendars, regressors aligned by closing time: the store keeps sessions and closes."""
    from eventstudy.data.offline import OfflineSource
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.study import load_study
    from eventstudy.inputs.universe import load_universe
    from eventstudy.pipeline.study import run_study

    study = load_study()
    run = run_study(load_events(study.events), load_universe(study.universe), OfflineSource(), study=study,
                    regressions=False)
    panel = run.panel
    assert len({len(s) for s in panel.sessions.values()}) > 1 and panel.closes
    pairs = run.result.params[["ticker", "event_id"]].merge(run.day0[["ticker", "event_id", "day0"]])
    bench = dict(zip(run.universe["ticker"], run.universe["benchmark"]))
    mem = EventStudy(panel, pairs, benchmark=bench)
    store = ReturnStore.open(write_return_store(panel, tmp_path / "panel.parquet", dates_per_group=25))
    assert set(store.closes) == set(panel.closes) and store.kind == panel.kind
    _assert_same(mem.fit(chunk_pairs=30), EventStudy(store, pairs, benchmark=bench).fit(chunk_pairs=30))


# ------------------------------------------------------------------------------------------- bad input
def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ReturnStoreError, match="nope.parquet: no such returns store; lay one out"):
        ReturnStore.open(tmp_path / "nope.parquet")


def test_an_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ReturnStoreError, match=r"bad.parquet: unreadable as Parquet"):
        ReturnStore.open(bad)


def test_a_parquet_file_that_is_not_a_store_is_named(tmp_path):
    other = tmp_path / "prices.parquet"
    pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=3), "ticker": "A", "close": [1.0, 2, 3]}).to_parquet(other)
    with pytest.raises(ReturnStoreError, match="prices.parquet: a Parquet file but not a returns store"):
        ReturnStore.open(other)


def test_a_store_with_the_wrong_schema_is_named(study_store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, store = study_store
    table = pq.read_table(store.path)
    bad = table.set_column(2, "ret", pa.array(table.column(2).to_numpy().astype("float32")))
    pq.write_table(bad.replace_schema_metadata(table.schema.metadata), tmp_path / "f32.parquet")
    with pytest.raises(ReturnStoreError, match=r"f32.parquet: columns .* are not a returns store's"):
        ReturnStore.open(tmp_path / "f32.parquet")


def test_a_store_replaced_after_it_was_opened_is_refused_on_read(study_store, tmp_path):
    es, _ = study_store
    path = write_return_store(es.returns, tmp_path / "r.parquet")
    store = pickle.loads(pickle.dumps(ReturnStore.open(path)))     # as a worker holds it: not yet opened
    write_return_store(es.returns * 0.5, path)
    with pytest.raises(ReturnStoreError, match=r"r.parquet: not the returns store that was opened"):
        store.read(np.array([0]), np.datetime64("2023-01-02"), np.datetime64("2023-03-01"))
    with pytest.raises(ReturnStoreError, match=r"r.parquet: not the returns store that was opened"):
        _lazy(es, store)


def test_a_truncated_store_is_refused_naming_the_file(study_store, tmp_path):
    import pyarrow.parquet as pq

    _, store = study_store
    table = pq.read_table(store.path)
    pq.write_table(table.slice(0, 100), tmp_path / "short.parquet")
    with pytest.raises(ReturnStoreError, match=r"short.parquet: holds 100 returns but its metadata says"):
        ReturnStore.open(tmp_path / "short.parquet")


@pytest.mark.parametrize("edit,needle", [
    (lambda r: r.assign(S001="x"), "returns column 'S001' is not numeric"),
    (lambda r: r.assign(S002=np.where(np.arange(len(r)) == 5, np.inf, r["S002"])), r"returns column 'S002': value inf at 2023-01-09"),
    (lambda r: r.assign(S003=np.where(np.arange(len(r)) == 7, 5e3, r["S003"])), r"'S003': value 5000 at 2023-01-11"),
    (lambda r: pd.concat([r.iloc[:3], r.iloc[2:5]]), "returns have the date 2023-01-04 twice"),
    (lambda r: r.assign(S004=100 * (1 + r["S004"])), "returns of S004 look like price levels"),
    (lambda r: r.assign(S005=100 * r["S005"]), "returns of S005 look like percentages"),
])
def test_returns_that_cannot_be_a_store_are_refused_by_name(study_store, tmp_path, edit, needle):
    es, _ = study_store
    with pytest.raises(ReturnStoreError, match=needle):
        write_return_store(edit(es.returns), tmp_path / "x.parquet")
    assert not list(tmp_path.iterdir())                            # nothing half-written left behind


def test_a_long_frame_with_a_pair_twice_or_an_overflow_is_refused_by_ticker_and_date(tmp_path):
    long = pd.DataFrame({"date": ["2024-01-02", "2024-01-02"], "ticker": ["A", "A"], "ret": [0.01, 0.02]})
    with pytest.raises(ReturnStoreError, match="ticker A has two rows on 2024-01-02"):
        write_return_store(long, tmp_path / "x.parquet")
    long = pd.DataFrame({"date": ["2024-01-03", "2024-01-02"], "ticker": ["B", "A"], "ret": [1e9, 0.02]})
    with pytest.raises(ReturnStoreError, match="value 1e\\+09 at ticker B on 2024-01-03"):
        write_return_store(long, tmp_path / "x.parquet")


def test_factor_columns_named_like_store_tickers_are_refused(study_store):
    es, store = study_store
    clash = pd.DataFrame({"S001": 0.0}, index=es.returns.index)
    with pytest.raises(Exception, match=r"factor columns \['S001'\] are also tickers of the returns store"):
        EventStudy(store, es.pairs, model="factor", factors=clash)


def test_the_store_file_gets_the_users_normal_permissions(study_store, tmp_path):
    import os

    from eventstudy.io_utils import default_file_mode

    es, _ = study_store
    path = write_return_store(es.returns, tmp_path / "perm.parquet")
    assert os.stat(path).st_mode & 0o777 == default_file_mode()


def test_a_range_is_read_one_row_group_at_a_time_with_the_values_of_the_frame(study_store):
    """``read_groups`` yields one row group's returns at a time (a chunk never holds the whole range in long
    form); together they are ``read``'s arrays and the frame's own values."""
    es, store = study_store
    codes = np.array([store.code[t] for t in ("S001", "S017", "MKT")], dtype=np.int32)
    start, end = es.returns.index[35].to_datetime64(), es.returns.index[170].to_datetime64()
    parts = list(store.read_groups(codes, start, end))
    lo, hi = np.int64(start.astype("datetime64[ns]").astype(np.int64)), np.int64(end.astype("datetime64[ns]").astype(np.int64))
    touched = ((store.group_dates[:, 1] >= lo) & (store.group_dates[:, 0] <= hi)).sum()
    assert len(parts) == touched >= 4                       # 136 sessions in groups of 40 dates: one part each
    code, date, value = store.read(codes, start, end)
    for got, want in zip((code, date, value), (np.concatenate([p[i] for p in parts]) for i in range(3))):
        np.testing.assert_array_equal(got, want)
    frame = es.returns.loc[pd.Timestamp(start):pd.Timestamp(end), ["S001", "S017", "MKT"]].stack()
    assert len(value) == len(frame)
    names = np.array(store.tickers)[code]
    np.testing.assert_array_equal(value, frame.loc[list(zip(pd.DatetimeIndex(date), names))].to_numpy())
