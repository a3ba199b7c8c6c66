"""⑦ The event study: ``EventStudy(...).fit()`` -> :class:`EventStudyResult`."""
from eventstudy.engine.model import EventStudy, run_event_study
from eventstudy.engine.results import EventStudyResult

__all__ = ["EventStudy", "EventStudyResult", "run_event_study"]
