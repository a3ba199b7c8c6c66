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

from .engine import EventStudy, run_event_study
from .errors import EventStudyError
from .events import load_events
from .calendars import map_day0
from .pipeline import StudyRun, run_study
from .results import EventStudyResult

__all__ = ["EventStudy", "EventStudyResult", "EventStudyError", "StudyRun", "load_events", "map_day0",
           "run_event_study", "run_study", "__version__"]
