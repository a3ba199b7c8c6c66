"""eventstudy: event studies that price political news."""
from __future__ import annotations

__version__ = "0.1.0"
