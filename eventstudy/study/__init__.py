"""The China–Japan study (Nov 2025 – Jan 2026): its events, universe and confounders.

The CLI and notebooks use it for defaults. The engine, data and pipeline modules do not
import it; `tables` and `plots` take the study's group order and labels from here (and fall
back to group ids for other universes).
"""
from __future__ import annotations

from eventstudy.study.universe import *  # noqa: F401,F403  (the package exports the loader module's API)
from eventstudy.study.universe import __all__  # noqa: F401
