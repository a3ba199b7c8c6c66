"""eventstudy: event studies that price political news.

The data path, one module per step::

    events -> data (prices) -> calendars (day 0) -> returns -> windows -> models
           -> stattests / regression -> results -> tables, plots, report

Quick start::

    from eventstudy import EventStudy
    res = EventStudy(returns, pairs, model="market", benchmark="1306.T").fit()
    print(res.summary())
"""
from __future__ import annotations

__version__ = "0.1.0"

import importlib

# Public names -> the submodule that defines them, imported on first use (PEP 562) so that
# ``import eventstudy.cli`` does not pay for the engine and the pipeline.
_LAZY = {
    "EventStudy": ".engine",
    "run_event_study": ".engine",
    "EventStudyError": ".errors",
    "load_events": ".events",
    "map_day0": ".calendars",
    "StudyRun": ".pipeline",
    "run_study": ".pipeline",
    "EventStudyResult": ".results",
    "load_firm_events": ".events",
    "map_day0_pairs": ".calendars",
    "run_firm_study": ".firm_study",
    "load_instruments": ".instruments",
}

__all__ = ["EventStudy", "EventStudyResult", "EventStudyError", "StudyRun", "load_events", "map_day0",
           "run_event_study", "run_study", "load_firm_events", "map_day0_pairs", "run_firm_study",
           "load_instruments", "__version__"]


def __getattr__(name: str):
    sub = _LAZY.get(name)
    if sub is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(sub, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
