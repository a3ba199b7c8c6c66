"""Public names imported on first use (``eventstudy.lazy``): every listed name resolves to its submodule's
object, an unknown name is an AttributeError, and a command's start-up does not import what it never uses."""
from __future__ import annotations

import subprocess
import sys

import pytest

import eventstudy
import eventstudy.data


@pytest.mark.parametrize("package", [eventstudy, eventstudy.data])
def test_every_public_name_resolves_and_an_unknown_one_does_not(package):
    import importlib

    for name, sub in package._LAZY.items():
        assert getattr(package, name) is getattr(importlib.import_module(sub, package.__name__), name)
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = package.Nope


def test_the_command_line_and_the_engine_import_no_yahoo_cache_or_parquet_layer():
    code = ("import sys, eventstudy.cli.main, eventstudy.engine.model, eventstudy.data\n"
            "print(sorted(m for m in ('eventstudy.data.yahoo', 'eventstudy.data.cache', 'pyarrow.parquet')"
            " if m in sys.modules))\n"
            "from eventstudy.data import PriceCache\n"
            "print('eventstudy.data.cache' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split("\n")[:2] == ["[]", "True"], out.stderr
