"""Command line: ``eventstudy run | placebo | events | fetch``. A thin layer over the library.

Errors a user can cause print one clear line (no traceback) and exit with status 2.

Modules: :mod:`~eventstudy.cli.parser` (options), :mod:`~eventstudy.cli.inputs` (reading them),
:mod:`~eventstudy.cli.run`, :mod:`~eventstudy.cli.placebo`, :mod:`~eventstudy.cli.other` (the commands),
:mod:`~eventstudy.cli.terminal` (what is printed), :mod:`~eventstudy.cli.main` (the entry point).
"""
from eventstudy.cli.main import main
from eventstudy.cli.parser import PLACEBO_EFFECTS, build_parser

__all__ = ["main", "build_parser", "PLACEBO_EFFECTS"]
