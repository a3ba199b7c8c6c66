"""Where the engine's chunks run besides this process's threads: a ``dask.distributed.Client`` or any
:class:`concurrent.futures.Executor`. At most :func:`in_flight` chunks are submitted and not yet taken
(:func:`as_done`), and a taken result's future is released at once, so what waits on the workers grows with
the workers, not with the study; data every task needs reaches each Dask worker once (:func:`scatter`).
Dask is imported only when a client is given.
"""
from __future__ import annotations

import itertools
import os
from typing import Callable

__all__ = ["is_dask_client", "scatter", "in_flight", "as_done"]


def is_dask_client(executor) -> bool:
    """True for a ``dask.distributed.Client`` (recognised by its methods: dask is imported only when used)."""
    return all(hasattr(executor, name) for name in ("scatter", "submit", "gather", "cancel"))


def scatter(client, parts: list, attempts: int = 3):
    """``parts`` on every worker of a Dask ``client`` (a worker lost during the broadcast is retried)."""
    for attempt in range(attempts):
        try:
            return client.scatter(parts, broadcast=True, hash=False)
        except (KeyError, OSError):          # a worker left while the data was being sent to it
            if attempt == attempts - 1:
                raise
            client.wait_for_workers(1, timeout=60)
    raise AssertionError("unreachable")


def in_flight(executor) -> int:
    """How many chunks may be submitted and not yet taken: twice the executor's worker threads (a Dask
    client's, counted now) and at least 4, so every worker has a next task while results already taken
    are freed: what is held waiting grows with the workers, not with the study."""
    if is_dask_client(executor):
        threads = sum(executor.nthreads().values())
    else:
        threads = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    return max(4, 2 * int(threads))


def as_done(executor, submit: Callable, chunks: list, limit: int):
    """``submit(chunk)`` of every chunk, at most ``limit`` not yet taken at a time, the results yielded as they
    finish; a taken result's future is dropped at once, so its data leaves the worker (the rest cancelled if
    the caller stops or a task fails)."""
    todo = iter(chunks)
    pending = [submit(c) for c in itertools.islice(todo, limit)]
    if is_dask_client(executor):
        from distributed import as_completed

        running = as_completed(pending)
        del pending
        try:
            for future in running:
                result = future.result()
                future.release()
                del future
                nxt = next(todo, None)
                if nxt is not None:
                    running.add(submit(nxt))
                yield result
        finally:
            executor.cancel(list(running.futures))
        return
    from concurrent.futures import FIRST_COMPLETED, wait

    waiting = set(pending)
    del pending
    try:
        while waiting:
            finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for future in finished:
                nxt = next(todo, None)
                if nxt is not None:
                    waiting.add(submit(nxt))
                yield future.result()
            del finished, future
    finally:
        for future in waiting:
            future.cancel()
