"""Estimation and event windows in relative trading days.

A (security, event) pair is located by the position ``p0`` of its day 0 in the
security's own session list. Relative day ``t`` is session ``p0 + t``; a session
outside the data is missing (NaN), never shifted. Every window of a study is
evaluated on one grid of relative days ``rel = rmin..rmax`` so that all pairs are
processed as dense ``(pairs, days)`` arrays (filled by :meth:`eventstudy.estimation.layout.PairLayout.gather`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from eventstudy.errors import WindowError

Window = tuple[int, int]

DEFAULT_ESTIMATION: Window = (-250, -11)
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (0, 5))
#: farthest a window may reach from day 0, in trading days (about 40 years of sessions)
MAX_REL_DAY = 10_000


def parse_window(text: str | Sequence[int], what: str = "window") -> Window:
    """Parse ``"-1,1"`` (or a pair of ints) into ``(-1, 1)``; raise :class:`WindowError` if malformed."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.replace(":", ",").split(",")]
        if len(parts) != 2:
            raise WindowError(f"{what} {text!r}: expected START,END in trading days, e.g. -1,1")
        try:
            a, b = int(parts[0]), int(parts[1])
        except ValueError:
            raise WindowError(f"{what} {text!r}: START and END must be whole numbers of trading days, e.g. -250,-11") from None
    else:
        try:
            a, b = (int(v) for v in text)
        except (TypeError, ValueError):
            raise WindowError(f"{what} {text!r}: expected two whole numbers (START, END)") from None
    if a > b:
        raise WindowError(f"{what} [{a},{b}]: START must not be after END")
    if max(abs(a), abs(b)) > MAX_REL_DAY:
        raise WindowError(f"{what} [{a},{b}]: a window may reach at most {MAX_REL_DAY:,} trading days (about 40 "
                          f"years) from day 0; give a shorter window")
    return (a, b)


@dataclass(frozen=True)
class WindowSpec:
    """An estimation window and the event windows evaluated with it (relative trading days, inclusive)."""

    estimation: Window = DEFAULT_ESTIMATION
    windows: tuple[Window, ...] = DEFAULT_WINDOWS

    @classmethod
    def build(cls, estimation: Window | str = DEFAULT_ESTIMATION,
              windows: Iterable[Window | str] = DEFAULT_WINDOWS) -> "WindowSpec":
        """Validate and build. Estimation must end before every event window starts."""
        est = parse_window(estimation, "estimation window")
        wins: list[Window] = []
        for w in windows:
            pw = parse_window(w, "event window")
            if pw not in wins:
                wins.append(pw)
        if not wins:
            raise WindowError("no event window given; pass at least one, e.g. 0,0")
        first = min(w[0] for w in wins)
        for w in wins:
            if est[1] >= w[0]:
                end = first - 1               # a suggestion that is itself valid: before every window, same length
                start = min(est[0], end - (est[1] - est[0]))
                raise WindowError(
                    f"estimation window [{est[0]},{est[1]}] overlaps event window [{w[0]},{w[1]}]: "
                    f"end the estimation window before day {first} (e.g. --estimation={start},{end})")
        if est[1] - est[0] + 1 < 3:
            raise WindowError(f"estimation window [{est[0]},{est[1]}] is too short to estimate anything")
        return cls(est, tuple(wins))

    @property
    def rmin(self) -> int:
        return min(self.estimation[0], *(w[0] for w in self.windows))

    @property
    def rmax(self) -> int:
        return max(self.estimation[1], *(w[1] for w in self.windows))

    @property
    def rel_days(self) -> np.ndarray:
        """All relative days of the grid, ``rmin..rmax``."""
        return np.arange(self.rmin, self.rmax + 1)

    @property
    def estimation_length(self) -> int:
        return self.estimation[1] - self.estimation[0] + 1

    def estimation_mask(self) -> np.ndarray:
        """Boolean over the grid: True on estimation days."""
        return self.window_mask(self.estimation)

    def window_mask(self, window: Window) -> np.ndarray:
        """Boolean over the grid: True on the days of ``window``."""
        r = self.rel_days
        return (r >= window[0]) & (r <= window[1])

    def event_span(self) -> Window:
        """Smallest window covering every event window."""
        return (min(w[0] for w in self.windows), max(w[1] for w in self.windows))

