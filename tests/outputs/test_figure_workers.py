"""Figure workers started before the run exists draw the same files as drawing in this process, and a
killed run leaves none of them behind."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from eventstudy.outputs.figure_files import FigureWorkers, PlotJob, save_plots
from eventstudy.present.figure_data import figure_plan

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and PR_SET_PDEATHSIG are Linux here")


def test_prestarted_workers_draw_the_same_files(offline_run, tmp_path):
    kw = dict(bar_events=1, max_events=3, dpi=30)
    here = save_plots(offline_run, tmp_path / "here", workers=1, **kw)
    with FigureWorkers(workers=2) as pool:
        job = PlotJob(offline_run, tmp_path / "pool", pool=pool, **kw)
        assert job._futures is not None              # the run went to the pre-started workers
        there = job.result()
    forked = save_plots(offline_run, tmp_path / "forked", workers=2, **kw)
    names = [n for n, _, _ in figure_plan(offline_run, bar_events=1, max_events=3)]
    assert sorted(here) == sorted(there) == sorted(forked) == sorted(names)
    for name in names:
        assert there[name].read_bytes() == here[name].read_bytes() == forked[name].read_bytes(), name


def test_a_killed_run_leaves_no_figure_worker(tmp_path):
    code = textwrap.dedent("""
        import sys, time
        from eventstudy.outputs.figure_files import FigureWorkers
        w = FigureWorkers(workers=2)
        w.pool.submit(int).result()
        print(" ".join(str(p) for p in w.pool._processes), flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids), "a figure worker outlived the killed run"
    finally:
        if proc.poll() is None:
            proc.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"     # a zombie has exited
    except FileNotFoundError:
        return False
