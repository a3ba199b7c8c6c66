"""The China–Japan study (Nov 2025 – Jan 2026): its events, universe and confounders.

The library never imports this package; the CLI and notebooks use it for defaults.
"""
from __future__ import annotations

from eventstudy.study.universe import (
    GROUP_LABELS,
    GROUPS,
    default_confounders_path,
    default_events_path,
    default_excluded_path,
    default_universe_path,
    is_equity,
    load_confounders,
    load_excluded,
    load_universe,
)

__all__ = [
    "GROUPS",
    "GROUP_LABELS",
    "load_universe",
    "load_confounders",
    "load_excluded",
    "is_equity",
    "default_universe_path",
    "default_events_path",
    "default_confounders_path",
    "default_excluded_path",
]
