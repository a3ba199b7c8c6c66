"""The primary-hypotheses file: one row per question declared before looking (docs/METHODS.md, section 9).

A hypotheses file is a CSV (UTF-8, header on line 1), one row per declared question::

    hypothesis_id,event_id,group,window,expected_sign,source,rationale
    H1,travel_advisory,tourism_consumption,"0,1",-,https://...,"why this group should move"

``window`` is ``START,END`` in trading days relative to day 0; ``expected_sign`` is ``-``, ``+``
or ``±`` (no prior on the sign). Any study can pass its own file (CLI ``--hypotheses FILE``); the
bundled study's is found through :func:`eventstudy.inputs.study.default_hypotheses_path`. A hypothesis
on an ex-post group (a group whose members were chosen after seeing the event's returns) is refused:
such a group is exploratory only. The tests of the declared cells are
:func:`eventstudy.inference.hypotheses.primary_table`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

import pandas as pd

from eventstudy.errors import EventStudyError
from eventstudy.io_utils import read_user_text
from eventstudy.inputs.study import default_hypotheses_path

__all__ = ["HypothesesFileError", "HYPOTHESIS_COLUMNS", "load_hypotheses"]

HYPOTHESIS_COLUMNS = ("hypothesis_id", "event_id", "group", "window", "expected_sign", "source", "rationale")


class HypothesesFileError(EventStudyError):
    """A hypotheses file that cannot be used (names the file, the line and what to do)."""


_SIGNS = {"-": "-", "−": "-", "neg": "-", "negative": "-", "+": "+", "pos": "+", "positive": "+",
          "±": "±", "+/-": "±", "two-sided": "±", "0": "±", "": "±"}


def load_hypotheses(path: str | Path | None = None, *, events: Sequence[str] | None = None,
                    groups: Sequence[str] | None = None, ex_post_groups: Sequence[str] = ()) -> pd.DataFrame:
    """Read and check a hypotheses file (default: the China–Japan study's).

    Returns ``hypothesis_id, event_id, group, window, window_start, window_end, expected_sign
    ('-', '+' or '±'), source, rationale``. With ``events`` / ``groups`` each row's event and group
    must be among them; a row on one of ``ex_post_groups`` is refused. All problems are reported
    at once as :class:`HypothesesFileError` naming the file and line.
    """
    p = Path(path) if path is not None else default_hypotheses_path()
    label = "hypotheses file"
    text = read_user_text(p, label, HypothesesFileError,
                          hint=" (columns: " + ", ".join(HYPOTHESIS_COLUMNS) + ")")
    reader = csv.reader(io.StringIO(text))
    rows = [(i + 1, r) for i, r in enumerate(reader)]
    rows = [(ln, r) for ln, r in rows if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise HypothesesFileError(f"{label} {str(p)!r} is empty: give a header line ({','.join(HYPOTHESIS_COLUMNS)}) "
                                  "and one row per hypothesis.")
    header = [c.strip().lower() for c in rows[0][1]]
    missing = [c for c in ("event_id", "group", "window", "expected_sign") if c not in header]
    if missing:
        raise HypothesesFileError(f"{label} {str(p)!r}, line {rows[0][0]}: missing column(s) {', '.join(missing)} "
                                  f"(found: {', '.join(header)}); the columns are {', '.join(HYPOTHESIS_COLUMNS)}.")
    problems: list[str] = []
    out = []
    ev_set = set(events) if events is not None else None
    gr_set = set(groups) if groups is not None else None
    seen: dict[tuple, int] = {}
    for k, (ln, r) in enumerate(rows[1:]):
        rec = {h: (r[j].strip() if j < len(r) else "") for j, h in enumerate(header)}
        where = f"line {ln}"
        hid = rec.get("hypothesis_id") or f"H{k + 1}"
        ev, g = rec["event_id"], rec["group"]
        if not ev or not g:
            problems.append(f"{where}: event_id and group must not be empty")
            continue
        if ev_set is not None and ev not in ev_set:
            problems.append(f"{where}: event {ev!r} is not in the events file")
        if gr_set is not None and g not in gr_set:
            problems.append(f"{where}: group {g!r} is not a group of the universe")
        if g in set(ex_post_groups):
            problems.append(f"{where}: group {g!r} was chosen after the event (ex post); it is exploratory only "
                            "and cannot be a primary hypothesis")
        try:
            a, b = (int(x) for x in rec["window"].replace(" ", "").split(","))
            if a > b:
                raise ValueError
        except ValueError:
            problems.append(f"{where}: window {rec['window']!r} is not START,END with START <= END (e.g. \"0,1\")")
            continue
        sign = _SIGNS.get(rec["expected_sign"].lower())
        if sign is None:
            problems.append(f"{where}: expected_sign {rec['expected_sign']!r} is not -, + or ±")
            continue
        key = (ev, g, a, b)
        if key in seen:
            problems.append(f"{where}: the same event, group and window as line {seen[key]}")
        seen[key] = ln
        out.append(dict(hypothesis_id=hid, event_id=ev, group=g, window=f"[{a},{b}]", window_start=a, window_end=b,
                        expected_sign=sign, source=rec.get("source", ""), rationale=rec.get("rationale", "")))
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise HypothesesFileError(f"{label} {str(p)!r}: " + "; ".join(problems[:10]) + more
                                  + ". Fix these rows (events and groups must match the study's files).")
    if not out:
        raise HypothesesFileError(f"{label} {str(p)!r} has a header but no hypothesis rows.")
    return pd.DataFrame(out)
