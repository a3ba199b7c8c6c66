"""A study streamed to a Parquet dataset as its chunks finish: results larger than memory, resumable.

``stream_study(study, folder)`` writes one Parquet file per chunk of whole events and table,
``folder/<table>/events-<first>-<end>.parquet`` (tables ``car``, ``tests``, ``params``, ``exclusions`` and,
unless ``aggregates_only``, ``ar``), each written to a temporary name and renamed, so a part is either
whole or absent. ``folder/stream.json`` records the settings that fix the chunks; a rerun with the
same settings skips every chunk whose files are all there (an interrupted run resumes), and a rerun
with other settings is refused rather than mixing two studies. Read the dataset back with
``pandas.read_parquet(folder / "car")``.
"""
from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from eventstudy.errors import EventStudyError
from eventstudy.io_utils import atomic_write_bytes, atomic_write_text, ensure_out_dir
from eventstudy.progress import progress_bar

__all__ = ["stream_study", "STREAM_TABLES", "MANIFEST"]

STREAM_TABLES = ("car", "tests", "params", "exclusions", "ar")
MANIFEST = "stream.json"


def _part_name(first: int, end: int) -> str:
    return f"events-{first:07d}-{end:07d}.parquet"


def _parquet_bytes(frame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def stream_study(study, folder: str | os.PathLike, *, bootstrap: int | None = 0, seed: int = 0,
                 chunk_pairs: int = 4_000, executor=None, aggregates_only: bool = False,
                 progress: bool | None = None, options: dict | None = None, transform=None) -> dict:
    """Fit ``study`` (an :class:`~eventstudy.engine.model.EventStudy`) chunk by chunk into ``folder`` (see the
    module docstring); returns ``{"written": chunks written, "skipped": chunks already there, "folder": path}``.
    ``executor`` as :meth:`EventStudy.fit`. ``options`` (JSON values) are recorded with the settings and must
    match on a resumed run (e.g. the command-line options that shaped the study); ``transform(tables)`` ->
    tables is applied to each chunk's tables before they are written. A progress bar counts the chunks."""
    out = ensure_out_dir(folder, "stream folder", "the streamed results")
    tables = [t for t in STREAM_TABLES if not (aggregates_only and t == "ar")]
    settings = {"chunk_pairs": int(chunk_pairs), "bootstrap": None if bootstrap is None else int(bootstrap),
                "seed": int(seed), "aggregates_only": bool(aggregates_only), "model": study.model,
                "pairs": int(len(study.pairs)), "windows": [list(w) for w in study.spec.windows],
                "estimation": list(study.spec.estimation)}
    if options is not None:
        settings["options"] = json.loads(json.dumps(options))
    _check_settings(out, settings)
    for t in tables:
        (out / t).mkdir(exist_ok=True)

    def done(first: int, end: int) -> bool:
        return all((out / t / _part_name(first, end)).exists() for t in tables)

    skipped = []
    bar = progress_bar(None, desc="chunks", unit="chunk", enabled=progress)

    def start(n: int) -> None:
        bar.total = n
        bar.refresh()

    written = 0
    try:
        for first, end, parts in study.fit_parts(bootstrap=bootstrap, seed=seed, chunk_pairs=chunk_pairs,
                                                 executor=executor, aggregates_only=aggregates_only, on_start=start,
                                                 skip=lambda a, b: done(a, b) and not skipped.append((a, b))):
            parts = transform(parts) if transform is not None else parts
            for t in tables:
                atomic_write_bytes(out / t / _part_name(first, end), _parquet_bytes(parts[t]))
            written += 1
            bar.update(1)
    finally:
        bar.close()
    return {"written": written, "skipped": len(skipped), "folder": out}


def _check_settings(out, settings: dict) -> None:
    """Record ``settings`` in a new folder; in a folder of an earlier run, refuse other settings by name."""
    manifest = out / MANIFEST
    if not manifest.exists():
        atomic_write_text(manifest, json.dumps(settings, indent=1))
        return
    try:
        before = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EventStudyError(f"{manifest}: unreadable ({exc}); delete the folder's contents to start over") from None
    if before == settings:
        return
    changed = [k for k in sorted(set(settings) | set(before)) if before.get(k) != settings.get(k) and k != "options"]
    old, new = before.get("options") or {}, settings.get("options") or {}
    changed += [f"{k} (was {old.get(k)!r}, now {new.get(k)!r})" for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)]
    raise EventStudyError(f"stream folder {out} holds a run with other settings ({', '.join(changed)}): "
                          "resume with the same settings, or choose an empty folder")
