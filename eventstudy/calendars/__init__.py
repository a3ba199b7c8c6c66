"""③ Sessions and day 0: which trading session an announcement first reaches, per venue.

``from eventstudy.calendars import map_day0`` and the other public names of the stage are
re-exported here.
"""
from eventstudy.calendars.sessions import *  # noqa: F401,F403
from eventstudy.calendars.sessions import __all__  # noqa: F401
