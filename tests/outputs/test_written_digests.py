"""SHA-256 computed while a file is written (``io_utils.written_sha256``), used by the run manifest instead of
reading the file again: equal to hashing the file's bytes, and never used once the file has changed."""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd

from eventstudy.cli import main
from eventstudy.io_utils import atomic_write_bytes, written_sha256
from eventstudy.outputs.csvs import SLICE_ROWS, write_csv
from eventstudy.outputs.runfolder import MANIFEST, sha256_file


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_digest_of_streamed_and_sliced_tables_and_of_bytes(tmp_path):
    n = SLICE_ROWS + 1000                       # the rows go out in slices made on threads
    df = pd.DataFrame({"a": np.arange(n), "b": np.random.default_rng(0).normal(size=n), "t": "x"})
    for frame, name in ((df, "big.csv"), (df.iloc[:10], "small.csv")):
        p = write_csv(frame, tmp_path / name)
        assert written_sha256(p) == digest(p) == sha256_file(p)
    p = atomic_write_bytes(tmp_path / "b.bin", b"hello")
    assert written_sha256(p) == hashlib.sha256(b"hello").hexdigest()


def test_a_changed_or_unknown_file_is_hashed_from_its_bytes(tmp_path):
    p = atomic_write_bytes(tmp_path / "b.bin", b"hello")
    with open(p, "ab") as fh:
        fh.write(b"!")
    assert written_sha256(p) is None and sha256_file(p) == hashlib.sha256(b"hello!").hexdigest()
    p.write_bytes(b"HELLO")                     # same size, rewritten: the modification time differs
    os.utime(p, ns=(1, 1))
    assert written_sha256(p) is None and sha256_file(p) == hashlib.sha256(b"HELLO").hexdigest()
    q = atomic_write_bytes(tmp_path / "c.bin", b"hello")
    st = q.stat()
    swap = tmp_path / "swap.bin"
    swap.write_bytes(b"HELLO")                  # another file put in its place, size and times made equal
    os.utime(swap, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(swap, q)
    assert written_sha256(q) is None and sha256_file(q) == hashlib.sha256(b"HELLO").hexdigest()
    other = tmp_path / "plain.txt"
    other.write_bytes(b"abc")
    assert written_sha256(other) is None and sha256_file(other) == hashlib.sha256(b"abc").hexdigest()
    os.unlink(p)
    assert written_sha256(p) is None


def test_every_manifest_checksum_is_the_files_own(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "--offline", "--out", str(out), "--window=0,0", "--format", "md,csv"]) == 0
    man = json.loads((out / MANIFEST).read_text())
    assert len(man["files"]) > 10
    for f in man["files"]:
        assert f["sha256"] == digest(out / f["path"]), f["path"]
        assert f["bytes"] == (out / f["path"]).stat().st_size


def test_the_remembered_digests_are_bounded_and_the_oldest_go_first(tmp_path, monkeypatch):
    from eventstudy import io_utils

    monkeypatch.setattr(io_utils, "MAX_REMEMBERED_DIGESTS", 3)
    paths = [atomic_write_bytes(tmp_path / f"f{i}.bin", bytes([i])) for i in range(5)]
    assert [written_sha256(p) for p in paths[:2]] == [None, None]          # forgotten: hashed from the file
    assert [sha256_file(p) for p in paths[:2]] == [digest(p) for p in paths[:2]]
    assert [written_sha256(p) for p in paths[2:]] == [digest(p) for p in paths[2:]]
    atomic_write_bytes(paths[2], b"again")                                 # rewritten: newest again
    atomic_write_bytes(tmp_path / "g.bin", b"g")
    assert written_sha256(paths[2]) == digest(paths[2]) and written_sha256(paths[3]) is None
