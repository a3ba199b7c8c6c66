"""Progress bars for long steps: shown on a terminal, never in CI logs or redirected output."""
from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def progress_enabled(requested: bool | None = None) -> bool:
    """``requested`` if given, else True only when stderr is a terminal and ``$CI`` is unset."""
    if requested is not None:
        return bool(requested)
    try:
        tty = sys.stderr.isatty()
    except Exception:  # pragma: no cover - closed or odd streams
        tty = False
    return tty and not os.environ.get("CI")


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it",
             enabled: bool | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar on stderr when :func:`progress_enabled`; else return it unchanged."""
    if not progress_enabled(enabled):
        return iterable
    from tqdm.auto import tqdm
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)


class _NoBar:
    """Stands in for a tqdm bar when none is shown (same ``total``, ``update``, ``refresh``, ``close``)."""

    def __init__(self, total: int = 0) -> None:
        self.total = total

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str = "", unit: str = "it", enabled: bool | None = None):
    """A bar advanced by hand (``.update(n)``, ``.close()``) under the rules of :func:`progress_enabled`;
    a do-nothing object otherwise."""
    if not progress_enabled(enabled):
        return _NoBar(total)
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
