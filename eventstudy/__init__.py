"""eventstudy: event studies that price political news.

The data path, one folder per stage::

    inputs (events, universe, study) -> data (prices) -> calendars (day 0) -> returns
      -> estimation (normal returns) -> inference (tests) -> engine (EventStudy.fit)
      -> pipeline (whole studies) -> present (tables, figures, report) -> outputs (files) -> cli

Quick start::

    from eventstudy import EventStudy
    res = EventStudy(returns, pairs, model="market", benchmark="1306.T").fit()
    print(res.summary())
"""
from __future__ import annotations

__version__ = "0.1.0"

from eventstudy.lazy import lazy_attributes

# Public names -> the submodule that defines them, imported on first use (PEP 562) so that
# ``import eventstudy.cli`` does not pay for the engine and the pipeline.
_LAZY = {
    "EventStudy": ".engine.model",
    "run_event_study": ".engine.model",
    "EventStudyResult": ".engine.results",
    "EventStudyError": ".errors",
    "load_events": ".inputs.events",
    "load_firm_events": ".inputs.events",
    "load_universe": ".inputs.universe",
    "load_instruments": ".inputs.instruments",
    "load_study": ".inputs.study",
    "Study": ".inputs.study",
    "Labels": ".inputs.study",
    "WindowSpec": ".estimation.windows",
    "map_day0": ".calendars.day0",
    "map_day0_pairs": ".calendars.day0",
    "StudyRun": ".pipeline.study",
    "run_study": ".pipeline.study",
    "run_firm_study": ".pipeline.firm",
    "FileSource": ".data.files",
    "YahooSource": ".data.yahoo",
    "OfflineSource": ".data.offline",
    "ReturnStore": ".data.return_store",
    "write_return_store": ".data.return_store",
    "stream_study": ".outputs.stream",
    "build_study": ".pipeline.study",
    "fit_study": ".pipeline.study",
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__ = lazy_attributes(__name__, _LAZY, globals())
