"""Shared fixtures: one offline study run per test session (the bundled SIMULATED market)."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
# the price cache is never filled by the tests (no network); the calendar cache goes to a temporary folder
os.environ.setdefault("EVENTSTUDY_CACHE_DIR", tempfile.mkdtemp(prefix="eventstudy-test-cache-"))
atexit.register(shutil.rmtree, os.environ["EVENTSTUDY_CACHE_DIR"], ignore_errors=True)

SHARED = Path(__file__).resolve().parents[2] / "shared"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared is not available")
    return SHARED


@pytest.fixture(scope="session")
def offline_run():
    """The China–Japan study on the bundled simulated market with default settings."""
    from eventstudy.data.offline import OfflineSource
    from eventstudy.inputs.events import load_events
    from eventstudy.pipeline.study import run_study
    from eventstudy.inputs.study import bundled_study
    from eventstudy.inputs.universe import load_confounders, load_universe

    return run_study(load_events(REPO / "events.csv"), load_universe(), OfflineSource(),
                     confounders=load_confounders(), study=bundled_study())
