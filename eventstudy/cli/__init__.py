"""Command line: ``eventstudy run | placebo | events | fetch``. A thin layer over the library.

Errors a user can cause print one clear line (no traceback) and exit with status 2.

Modules: :mod:`~eventstudy.cli.parser` (options), :mod:`~eventstudy.cli.inputs` (reading them),
:mod:`~eventstudy.cli.run`, :mod:`~eventstudy.cli.placebo`, :mod:`~eventstudy.cli.other` (the commands),
:mod:`~eventstudy.cli.terminal` (what is printed), :mod:`~eventstudy.cli.main` (the entry point).

The command line does its own parallel work (the engine's chunks on threads, the figures in worker
processes), so the BLAS libraries default to one thread each here (multi-threaded BLAS on the small
matrices of an event study only contends with that work); set ``OPENBLAS_NUM_THREADS`` (or
``MKL_NUM_THREADS``) to choose otherwise. The library itself leaves them alone.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):     # not OMP_NUM_THREADS: it sizes pyarrow's pool
    os.environ.setdefault(_var, "1")        # before numpy is imported below

from eventstudy.cli.main import main  # noqa: E402
from eventstudy.cli.parser import PLACEBO_EFFECTS, build_parser  # noqa: E402

__all__ = ["main", "build_parser", "PLACEBO_EFFECTS"]
