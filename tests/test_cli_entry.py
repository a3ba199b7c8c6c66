"""The ``eventstudy`` command's own process (``eventstudy.cli.entry``): what it prints and writes, and its
exit status, are those of :func:`eventstudy.cli.main` run in-process, although it ends with ``os._exit``."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from eventstudy.cli import main

REPO = Path(__file__).resolve().parents[1]


def command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eventstudy.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_the_command_prints_and_exits_as_main_does(tmp_path, capsys):
    events = str(REPO / "events.csv")
    assert main(["events", "--events", events]) == 0
    in_process = capsys.readouterr().out
    proc = command("events", "--events", events, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == in_process          # every line reached the pipe before the quick exit
    assert len(proc.stdout.splitlines()) > 10


def test_a_run_through_the_command_writes_the_same_tables(tmp_path, capsys):
    assert main(["run", "--offline", "--no-report", "--out", str(tmp_path / "lib")]) == 0
    in_process = capsys.readouterr().out
    proc = command("run", "--offline", "--no-report", "--out", str(tmp_path / "cmd"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("tests.csv", "car.csv", "abnormal_returns.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cmd" / name), pd.read_csv(tmp_path / "lib" / name))
    assert proc.stdout == in_process and "CAAR" in proc.stdout     # the headline table, whole


def test_a_user_error_exits_with_status_2_and_one_line(tmp_path):
    proc = command("run", "--offline", "--window", "5,1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("eventstudy: error:") and "Traceback" not in proc.stderr
    assert "--help" in command("--help", cwd=tmp_path).stdout     # argparse's own exit, unchanged


def test_exit_handlers_are_kept_for_a_live_child_process(tmp_path):
    code = ("import multiprocessing as mp, time, sys\n"
            "from eventstudy.cli.entry import needs_exit_handlers\n"
            "before = needs_exit_handlers()\n"
            "p = mp.get_context('spawn').Process(target=time.sleep, args=(2,)); p.start()\n"
            "during = needs_exit_handlers(); p.join()\n"
            "print(before, during, needs_exit_handlers())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.stdout.split() == ["False", "True", "False"], proc.stderr
    code = "import distributed\nfrom eventstudy.cli.entry import needs_exit_handlers\nprint(needs_exit_handlers())\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    if proc.returncode == 0:                  # dask.distributed is an optional extra
        assert proc.stdout.split() == ["True"]
