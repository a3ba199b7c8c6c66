"""③ Sessions and day 0: which trading session an announcement first reaches, per venue.

- :mod:`~eventstudy.calendars.sessions`: session models (exchange_calendars, CME Globex, a series' own dates);
- :mod:`~eventstudy.calendars.resolve`: which calendar each price series is on (declared, guessed and confirmed);
- :mod:`~eventstudy.calendars.day0`: announcement -> day 0, with the audit.

The stage's public names are re-exported here (``from eventstudy.calendars import map_day0``).
"""
from eventstudy.calendars.day0 import AUDIT_COLUMNS, format_announcement, map_day0, map_day0_pairs
from eventstudy.calendars.resolve import resolve_calendars
from eventstudy.calendars.sessions import (DatesModel, ExchangeSessionModel, GlobexSessionModel, SessionModel,
                                           TimedSessionModel, describe_calendar, session_model_for)
from eventstudy.inputs.exchanges import guess_exchange, normalise_exchange

__all__ = ["AUDIT_COLUMNS", "format_announcement", "map_day0", "map_day0_pairs", "resolve_calendars",
           "DatesModel", "ExchangeSessionModel", "GlobexSessionModel", "SessionModel", "TimedSessionModel",
           "describe_calendar", "session_model_for", "guess_exchange", "normalise_exchange"]
