"""The command line against the fastest Python peer, on the same generated inputs.

Each size is S securities x E event dates (every event on every security), market model on
one market index, estimation window [-250,-11], event window [-10,10], simple returns:

- ``eventstudy run --no-report`` (tables written: abnormal_returns, car, tests, regressions, ...),
  reading a long price CSV ``date,ticker,close``;
- the PyPI package ``eventstudy==0.1a12`` (import name ``eventstudy`` too, so it lives in its own
  virtual environment, created on first use under ``--cache-dir``): the same price CSV read with
  pandas, simple returns, ``Multiple.from_list`` of ``Single.market_model`` with
  ``estimation_size=240, buffer_size=0, event_window=(-10, 10)``, its AR and CAR tables written as CSV.

Before any time counts, every pair's CAR[-10,10] of both programs is checked against an
independent computation (closed-form OLS per pair in numpy, itself checked against
``numpy.linalg.lstsq`` on a sample of pairs). Every command runs in its own process under
``/usr/bin/time -v`` (wall time, peak resident memory), the two programs in turn, ``--repeat`` times.
End-to-end ratio: peer time / CLI time at each size. Marginal cost per pair: (time at N - time at
100 pairs) / (N - 100), which removes start-up (imports, reading small files).

``--offline-runs``: the README's first command, ``eventstudy run --offline``, timed with its report size.

The import floor: ``python -c "import numpy, pandas, pyarrow.csv, scipy.special, rich.console"``, the libraries
every run imports, timed as the commands are; with the peer's 10,000-pair time it gives what a 5x end-to-end
ratio leaves for the run's own work.

The library's least work (with 10,000 among ``--sizes``): a fresh process that imports those libraries, reads and
validates the price CSV with the library's reader, computes returns and fits every pair and test with
``EventStudy(...).fit()`` (day 0 given, nothing written, every CAR checked), at 100 and 10,000 pairs, with the numpy
and with the compiled kernels: what no command line over this engine can undercut.

``--scaling``: the CLI with the report (HTML, Markdown, LaTeX, figures) on many small events
(events x instruments, each event on its own trading day), to show time growing linearly in events.

``--firm``: firm-specific events (``--firm-events``: each a random security, one per 20 firm-events, on a
random day of 1,500 sessions, pooled per news group), to show time growing linearly in firm-events.
``--firm-drop``: the same again with ``--overlap drop`` (each firm's other event windows left out of its
estimation windows).

    python benchmarks/bench_cli_vs_peer.py                       # 1k, 10k, 100k pairs, then the scaling run
    python benchmarks/bench_cli_vs_peer.py --sizes 1000 10000 --repeat 3 --no-scaling
    python benchmarks/bench_cli_vs_peer.py --no-peer --scaling 1000x6 10000x10

Never a test: timings depend on the machine and its load; quote the ranges it prints.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PEER = "eventstudy==0.1a12"
SHAPES = {100: (20, 5), 1_000: (200, 5), 10_000: (2_000, 5), 100_000: (2_000, 50)}
EST, WIN = (-250, -11), (-10, 10)

PEER_SCRIPT = r'''
import sys, numpy as np, pandas as pd
import eventstudy as es
prices, events, out = sys.argv[1], sys.argv[2], sys.argv[3]
long = pd.read_csv(prices)
wide = long.pivot(index="date", columns="ticker", values="close").sort_index()
ret = wide.pct_change().iloc[1:]
data = {"date": pd.to_datetime(ret.index).values.astype("datetime64[D]")}
for c in ret.columns:
    data[c] = ret[c].to_numpy()
es.Single._save_parameter("returns", data)
ev = pd.read_csv(events)
todo = [dict(security_ticker=t, market_ticker="MKT", event_date=np.datetime64(d))
        for t, d in zip(ev["ticker"], ev["date"])]
agg = es.Multiple.from_list(todo, es.Single.market_model, event_window=(-10, 10), estimation_size=240,
                            buffer_size=0, ignore_errors=False)
n = len(agg.sample)
L = agg.event_window_size
ar = pd.DataFrame({"event_id": np.repeat(ev["event_id"].to_numpy(), L), "ticker": np.repeat(ev["ticker"].to_numpy(), L),
                   "rel_day": np.tile(np.arange(-10, 11), n),
                   "ar": np.concatenate([np.asarray(s.AR, float) for s in agg.sample])})
ar.to_csv(out + "/peer_ar.csv", index=False)
car = pd.DataFrame({"event_id": ev["event_id"], "ticker": ev["ticker"],
                    "car": [float(s.CAR[-1]) for s in agg.sample],
                    "car_var": [float(s.var_CAR[-1]) for s in agg.sample],
                    "t": [float(s.tstat[-1]) for s in agg.sample], "p": [float(s.pvalue[-1]) for s in agg.sample]})
car.to_csv(out + "/peer_car.csv", index=False)
agg.results().to_csv(out + "/peer_caar.csv")
'''


# ----------------------------------------------------------------------------- inputs
def make_inputs(folder: Path, n_sec: int, n_ev: int, *, spacing: int = 3, groups: int = 5, seed: int = 0,
                benchmark_in_universe: bool = False) -> dict:
    """Write prices.csv (long), universe.csv, events.csv and pairs.csv (for the peer) into ``folder``."""
    import numpy as np
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # NYSE sessions from 1990 (what eventstudy's NYSE calendar covers): plain symbols such as S00001 and MKT
    # trade on it; when the events need more sessions than there are, several events share a day
    import exchange_calendars as xcals

    sessions = pd.DatetimeIndex(xcals.get_calendar("XNYS", start="1990-01-02").sessions)
    sessions = sessions.tz_localize(None) if sessions.tz is not None else sessions
    n_days = min(300 + spacing * n_ev + 30, len(sessions) - 5)
    dates = sessions[:n_days]
    step = min(float(spacing), (n_days - 330) / max(n_ev, 1))
    mkt = rng.normal(0.0003, 0.01, n_days)
    beta = rng.uniform(0.5, 1.5, n_sec)
    ret = mkt[:, None] * beta[None, :] + rng.normal(0, 0.02, (n_days, n_sec))
    px = 100 * np.cumprod(1 + ret, axis=0)
    mpx = 100 * np.cumprod(1 + mkt)
    tick = np.array([f"S{i:05d}" for i in range(n_sec)])
    long = pd.DataFrame({"date": np.tile(dates.strftime("%Y-%m-%d").to_numpy(), n_sec + 1),
                         "ticker": np.repeat(np.r_[tick, ["MKT"]], n_days),
                         "close": np.round(np.r_[px.T.ravel(), mpx], 6)})
    long.to_csv(folder / "prices.csv", index=False)
    pd.DataFrame({"ticker": tick, "name": tick, "group": [f"g{i % groups}" for i in range(n_sec)],
                  "benchmark": "MKT"}).to_csv(folder / "universe.csv", index=False)
    ev_days = dates[300 + (step * np.arange(n_ev)).astype(int)]
    ids = [f"E{j:05d}" for j in range(n_ev)]
    pd.DataFrame({"event_id": ids, "date": ev_days.strftime("%Y-%m-%d"), "time": "", "timezone": "",
                  "label": ids, "category": "X", "source": ""}).to_csv(folder / "events.csv", index=False)
    pd.DataFrame({"event_id": np.repeat(ids, n_sec), "ticker": np.tile(tick, n_ev),
                  "date": np.repeat(ev_days.strftime("%Y-%m-%d").to_numpy(), n_sec)}).to_csv(
        folder / "pairs.csv", index=False)
    return dict(securities=n_sec, events=n_ev, price_rows=len(long),
                price_mb=(folder / "prices.csv").stat().st_size / 1e6)


def expected_car(folder: Path, check_sample: int = 200):
    """Independent CAR[-10,10] of every pair: closed-form market-model OLS on the estimation days
    [-250,-11] (numpy), checked against ``numpy.linalg.lstsq`` on ``check_sample`` pairs."""
    import numpy as np
    import pandas as pd

    long = pd.read_csv(folder / "prices.csv")
    wide = long.pivot(index="date", columns="ticker", values="close").sort_index()
    r = wide.pct_change()
    pos = {d: i for i, d in enumerate(r.index)}
    pairs = pd.read_csv(folder / "pairs.csv")
    p0 = pairs["date"].map(pos).to_numpy()
    cols = {t: j for j, t in enumerate(r.columns)}
    j = pairs["ticker"].map(cols).to_numpy()
    R, m = r.to_numpy(), r["MKT"].to_numpy()
    est = p0[:, None] + np.arange(EST[0], EST[1] + 1)[None, :]
    win = p0[:, None] + np.arange(WIN[0], WIN[1] + 1)[None, :]
    y, x = R[est, j[:, None]], m[est]
    xm, ym = x.mean(1, keepdims=True), y.mean(1, keepdims=True)
    b = ((x - xm) * (y - ym)).sum(1) / ((x - xm) ** 2).sum(1)
    a = ym[:, 0] - b * xm[:, 0]
    car = (R[win, j[:, None]] - a[:, None] - b[:, None] * m[win]).sum(1)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(pairs), min(check_sample, len(pairs)), replace=False):
        X = np.column_stack([np.ones(est.shape[1]), x[i]])
        coef = np.linalg.lstsq(X, y[i], rcond=None)[0]
        ref = (R[win[i], j[i]] - coef[0] - coef[1] * m[win[i]]).sum()
        assert abs(ref - car[i]) < 1e-12, f"closed-form OLS disagrees with lstsq for pair {i}"
    return pairs.assign(car=car)


def check_cars(folder: Path, out_cli: Path, out_peer: Path | None, tol: float = 1e-9) -> dict:
    """Compare every pair's CAR[-10,10] of the CLI (car.csv) and of the peer with :func:`expected_car`."""
    import numpy as np
    import pandas as pd

    exp = expected_car(folder).set_index(["event_id", "ticker"])["car"]
    cli = pd.read_csv(out_cli / "car.csv")
    cli = cli[(cli["window_start"] == WIN[0]) & (cli["window_end"] == WIN[1])].set_index(["event_id", "ticker"])["car"]
    if len(cli) != len(exp):
        raise SystemExit(f"CLI car.csv has {len(cli)} CARs for {len(exp)} pairs")
    d_cli = float(np.max(np.abs(cli.reindex(exp.index).to_numpy() - exp.to_numpy())))
    out = dict(checked_pairs=len(exp), cli_max_abs_diff=d_cli)
    if out_peer is not None:
        peer = pd.read_csv(out_peer / "peer_car.csv").set_index(["event_id", "ticker"])["car"]
        out["peer_max_abs_diff"] = float(np.max(np.abs(peer.reindex(exp.index).to_numpy() - exp.to_numpy())))
    bad = {k: v for k, v in out.items() if k.endswith("diff") and not v < tol}
    if bad:
        raise SystemExit(f"CAR check failed (tolerance {tol}): {bad}")
    return out


# ----------------------------------------------------------------------------- running
def peer_python(cache: Path) -> Path:
    """The peer's virtual environment (created and filled on first use); returns its python."""
    venv = cache / "peer-venv"
    py = venv / "bin" / "python"
    if not (venv / "ok").exists():
        print(f"creating the peer's virtual environment in {venv} ({PEER})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", PEER], check=True)
        (venv / "ok").write_text(PEER + "\n")
    script = cache / "peer_run.py"
    script.write_text(PEER_SCRIPT)
    return py


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Run ``cmd`` under ``/usr/bin/time -v``; (wall seconds, peak RSS MB). Fails loudly on an error."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    rss = next(int(line.split(":")[1]) for line in p.stderr.splitlines() if "Maximum resident set size" in line)
    return wall, rss / 1024


def cli_cmd(folder: Path, out: Path, report: bool = False, extra: tuple[str, ...] = ()) -> list[str]:
    exe = shutil.which("eventstudy") or "eventstudy"
    cmd = [exe, "run", "--events", str(folder / "events.csv"), "--universe", str(folder / "universe.csv"),
           "--prices", str(folder / "prices.csv"), f"--estimation={EST[0]},{EST[1]}", f"--window={WIN[0]},{WIN[1]}",
           "--out", str(out), *extra]
    return cmd if report else cmd + ["--no-report"]


def rng_text(xs: list[float], fmt: str = "{:.2f}") -> str:
    lo, hi = min(xs), max(xs)
    return fmt.format(statistics.median(xs)) + (f" ({fmt.format(lo)}–{fmt.format(hi)})" if len(xs) > 1 else "")


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    try:
        mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        mem = float("nan")
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def side_by_side(sizes: list[int], repeat: int, cache: Path, peer: bool) -> list[dict]:
    py = peer_python(cache) if peer else None
    rows = []
    for n in sorted(set([100, *sizes])):
        n_sec, n_ev = SHAPES[n]
        folder = cache / f"pairs_{n}"
        if not (folder / "pairs.csv").exists():
            make_inputs(folder, n_sec, n_ev)
        out_cli, out_peer = folder / "out_cli", folder / "out_peer"
        out_peer.mkdir(exist_ok=True)
        # correctness first: one run of each, every CAR checked, before any time counts
        subprocess.run(cli_cmd(folder, out_cli), check=True, capture_output=True)
        if py is not None:
            subprocess.run([str(py), str(cache / "peer_run.py"), str(folder / "prices.csv"), str(folder / "pairs.csv"),
                            str(out_peer)], check=True, capture_output=True)
        chk = check_cars(folder, out_cli, out_peer if py is not None else None)
        cli_t, cli_m, peer_t, peer_m = [], [], [], []
        for _ in range(repeat):
            w, m = timed(cli_cmd(folder, out_cli))
            cli_t.append(w)
            cli_m.append(m)
            if py is not None:
                w, m = timed([str(py), str(cache / "peer_run.py"), str(folder / "prices.csv"),
                              str(folder / "pairs.csv"), str(out_peer)])
                peer_t.append(w)
                peer_m.append(m)
        rows.append(dict(pairs=n, securities=n_sec, events=n_ev, cli_s=cli_t, cli_mb=cli_m, peer_s=peer_t,
                         peer_mb=peer_m, **chk))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def scaling(specs: list[tuple[int, int]], cache: Path, repeat: int) -> list[dict]:
    rows = []
    for n_ev, n_inst in specs:
        folder = cache / f"events_{n_ev}x{n_inst}"
        if not (folder / "events.csv").exists():
            make_inputs(folder, n_inst, n_ev, spacing=1, groups=min(3, n_inst))
        out = folder / "out_report"
        ts, ms = [], []
        for _ in range(repeat):
            w, m = timed(cli_cmd(folder, out, report=True))
            ts.append(w)
            ms.append(m)
        rows.append(dict(events=n_ev, instruments=n_inst, pairs=n_ev * n_inst, cli_s=ts, cli_mb=ms))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def make_firm_inputs(folder: Path, n_events: int, n_days: int = 1_500, seed: int = 3) -> None:
    """prices.csv (one security per 20 firm-events, at least 50, and MKT on the first ``n_days`` NYSE sessions)
    and firm_events.csv: ``n_events`` (security, day) draws, each at least 260 sessions into the panel, with a
    ``news`` column: about 20 events per security over 5 years, as quarterly earnings with some news."""
    n_sec = max(50, n_events // 20)
    import numpy as np
    import pandas as pd

    make_inputs(folder, n_sec, 1, spacing=n_days - 330, seed=seed)         # the price panel; its one event unused
    dates = pd.read_csv(folder / "prices.csv", usecols=["date"])["date"].drop_duplicates().to_numpy()
    rng = np.random.default_rng(seed)
    ev = pd.DataFrame({"ticker": [f"S{i:05d}" for i in rng.integers(0, n_sec, n_events)],
                       "date": dates[rng.integers(260, len(dates) - 15, n_events)],
                       "news": np.where(rng.random(n_events) < 0.5, "good", "bad")})
    ev.drop_duplicates(["ticker", "date"]).to_csv(folder / "firm_events.csv", index=False)


def firm_scaling(sizes: list[int], cache: Path, repeat: int, overlap: str = "flag") -> list[dict]:
    """``eventstudy run --firm-events`` (tables and the terminal summary; this design has no report) on
    ``sizes`` firm-events, 20 per security: the time should grow linearly in firm-events. ``overlap``: the
    ``--overlap`` option (``drop``: each firm's other event windows left out of its estimation windows, which puts
    most firm-events on the pairwise-complete correlation path)."""
    import pandas as pd

    exe = shutil.which("eventstudy") or "eventstudy"
    rows = []
    for n in sizes:
        folder = cache / f"firm_{n}"
        if not (folder / "firm_events.csv").exists():
            make_firm_inputs(folder, n)
        n_ev = sum(1 for _ in open(folder / "firm_events.csv")) - 1
        cmd = [exe, "run", "--firm-events", str(folder / "firm_events.csv"), "--prices", str(folder / "prices.csv"),
               "--benchmark", "MKT", "--by", "news", f"--estimation={EST[0]},{EST[1]}", f"--window={WIN[0]},{WIN[1]}",
               "--out", str(folder / ("out" if overlap == "flag" else f"out_{overlap}")), "--no-report",
               "--overlap", overlap]
        ts, ms = [], []
        for _ in range(repeat):
            w, m = timed(cmd)
            ts.append(w)
            ms.append(m)
        n_sec = len(pd.read_csv(folder / "firm_events.csv", usecols=["ticker"])["ticker"].unique())
        rows.append(dict(firm_events=n_ev, securities=n_sec, cli_s=ts, cli_mb=ms))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def offline(cache: Path, repeat: int) -> dict:
    """The README's first command (install aside): ``eventstudy run --offline``, report included."""
    out = cache / "offline"
    exe = shutil.which("eventstudy") or "eventstudy"
    ts, ms = [], []
    for _ in range(repeat):
        w, m = timed([exe, "run", "--offline", "--out", str(out)])
        ts.append(w)
        ms.append(m)
    return dict(wall_s=ts, peak_mb=ms, report_mb=(out / "report.html").stat().st_size / 1e6)


#: the libraries every ``eventstudy run`` imports before it can read a price (its own modules aside)
FLOOR_IMPORTS = "numpy, pandas, pyarrow.csv, scipy.special, rich.console"


def import_floor(repeat: int) -> list[float]:
    """Wall seconds of ``python -c "import <FLOOR_IMPORTS>"`` in this environment: the start-up no run can avoid."""
    return [timed([sys.executable, "-c", f"import {FLOOR_IMPORTS}"])[0] for _ in range(repeat)]


#: the least a 10,000-pair run can do in a fresh process: the libraries, the price file read and validated by the
#: library's reader, returns, and ``EventStudy(...).fit()`` of every pair and test on the one window; nothing
#: written, no calendars (day 0 is the event date), no headline. Prints every pair's CAR[-10,10] to a file so
#: that it is checked like the CLI's.
LIBRARY_SCRIPT = r'''
import sys
import numpy as np, pandas as pd, pyarrow.csv, scipy.special, rich.console
from eventstudy.data.base import make_prices
from eventstudy.data.files import read_price_file
from eventstudy.engine.model import EventStudy
from eventstudy.returns.panel import compute_returns
folder, out = sys.argv[1], sys.argv[2]
frame, field = read_price_file(folder + "/prices.csv")
panel = compute_returns(make_prices(frame, field, "benchmark prices"))
pairs = pd.read_csv(folder + "/pairs.csv").rename(columns={"date": "day0"})
pairs["day0"] = pd.to_datetime(pairs["day0"])
res = EventStudy(panel, pairs, model="market", benchmark="MKT", estimation=(-250, -11), windows=[(-10, 10)]).fit()
res.car[["event_id", "ticker", "window_start", "window_end", "car"]].to_csv(out + "/car.csv", index=False)
'''


def library_floor(cache: Path, repeat: int) -> dict[tuple[int, str], list[float]]:
    """Wall seconds of :data:`LIBRARY_SCRIPT` in a fresh process on the 100- and 10,000-pair inputs, with the numpy and
    with the compiled kernels (``EVENTSTUDY_KERNELS``); its CARs are checked against :func:`expected_car` first.
    Keys: (pairs, kernels)."""
    script = cache / "library_run.py"
    script.write_text(LIBRARY_SCRIPT)
    res = {}
    for n in (100, 10_000):
        folder = cache / f"pairs_{n}"
        if not (folder / "pairs.csv").exists():
            make_inputs(folder, *SHAPES[n])
        out = folder / "out_library"
        out.mkdir(exist_ok=True)
        cmd = [sys.executable, str(script), str(folder), str(out)]
        for kern in ("numpy", "compiled"):
            env = {**os.environ, "EVENTSTUDY_KERNELS": kern}
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            check_cars(folder, out, None)
            ts = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                ts.append(time.perf_counter() - t0)
            res[(n, kern)] = ts
    return res


def _per_thousand(rows: list[dict], key: str) -> list[str]:
    """Seconds per 1,000 more ``key`` than the first row (median times), '–' for the first row."""
    m0, n0 = statistics.median(rows[0]["cli_s"]), rows[0][key]
    return [f"{1000 * (statistics.median(r['cli_s']) - m0) / (r[key] - n0):.2f}" if r[key] > n0 else "–"
            for r in rows]


def _growth_table(rows: list[dict], key: str, header: str, label) -> list[str]:
    """A table of CLI runs growing in ``key``: ``label(row)`` cells, median (min–max) seconds, seconds per 1,000
    more ``key`` than the first row, peak MB."""
    out = ["", header, "|---|---|---|---|---|"]
    for r, extra in zip(rows, _per_thousand(rows, key)):
        out.append(f"| {label(r)} | {rng_text(r['cli_s'])} | {extra} | {max(r['cli_mb']):.0f} |")
    return out


def report(rows: list[dict], scal: list[dict], peer: bool, off: dict | None = None, firm: list[dict] | None = None,
           floor: list[float] | None = None, lib: dict[tuple[int, str], list[float]] | None = None,
           firm_drop: list[dict] | None = None) -> str:
    base = next(r for r in rows if r["pairs"] == 100) if rows else None
    first = next((t[0] for t in (rows, scal, firm or [], firm_drop or []) if t), {"cli_s": []})
    out = [f"Measured {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}; "
           f"median (min–max) of {len(first['cli_s'])} runs per command, each its own process.", ""]
    if rows:
        out += ["| pairs | securities × events | CLI s | peer s | end-to-end ratio | CLI ms / pair (marginal) | "
                "peer ms / pair (marginal) | marginal ratio | CLI peak MB | peer peak MB | max |CAR − reference| CLI / peer |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            c, p = r["cli_s"], r["peer_s"]
            ratio = rng_text([b / a for a, b in zip(c, p)]) + "x" if peer else "–"
            if r["pairs"] > 100:
                dn = r["pairs"] - 100
                mc = [1000 * (a - statistics.median(base["cli_s"])) / dn for a in c]
                mp = [1000 * (b - statistics.median(base["peer_s"])) / dn for b in p] if peer else []
                mratio = (f"{statistics.median(mp) / statistics.median(mc):.1f}x" if peer and statistics.median(mc) > 0
                          else "–")
                mct, mpt = rng_text(mc, "{:.4f}"), (rng_text(mp, "{:.4f}") if peer else "–")
            else:
                mct = mpt = mratio = "(start-up)"
            out.append(f"| {r['pairs']:,} | {r['securities']:,} × {r['events']} | {rng_text(c)} | "
                       f"{rng_text(p) if peer else '–'} | {ratio} | {mct} | {mpt} | {mratio} | "
                       f"{max(r['cli_mb']):.0f} | {max(r['peer_mb']) if peer else float('nan'):.0f} | "
                       f"{r['cli_max_abs_diff']:.1e} / {r.get('peer_max_abs_diff', float('nan')):.1e} |")
    if floor:
        line = (f"Import floor (`python -c \"import {FLOOR_IMPORTS}\"`, what every run imports before its own "
                f"modules): {rng_text(floor)} s.")
        ten = next((r for r in rows if r["pairs"] == 10_000), None)
        if peer and ten is not None:
            budget = statistics.median(ten["peer_s"]) / 5 - statistics.median(floor)
            line += (f" At 10,000 pairs, 5x the peer's end-to-end time leaves {budget:.2f} s for everything else "
                     f"the run does (the CLI takes {statistics.median(ten['cli_s']) - statistics.median(floor):.2f} s "
                     f"above the floor).")
        out += ["", line]
    if lib:
        med = {k: statistics.median(v) for k, v in lib.items()}
        line = ("The library's least work (a fresh process: those imports, the price CSV read and validated, returns, "
                "`EventStudy(...).fit()` of every pair and test; nothing written, day 0 given, every CAR checked), "
                f"at 10,000 pairs: {rng_text(lib[(10_000, 'numpy')])} s with the numpy kernels, "
                f"{rng_text(lib[(10_000, 'compiled')])} s with the compiled ones (numba's loading included); "
                f"at 100 pairs {rng_text(lib[(100, 'numpy')])} s.")
        marg = 1000 * (med[(10_000, "numpy")] - med[(100, "numpy")]) / 9_900
        line += f" Per pair above that: {marg:.4f} ms with the numpy kernels."
        ten = next((r for r in rows if r["pairs"] == 10_000), None)
        base = next((r for r in rows if r["pairs"] == 100), None)
        if peer and ten is not None and base is not None:
            pm = 1000 * (statistics.median(ten["peer_s"]) - statistics.median(base["peer_s"])) / 9_900
            line += (f" Against the peer: {statistics.median(ten['peer_s']) / med[(10_000, 'numpy')]:.1f}x end to end "
                     f"(5x is {statistics.median(ten['peer_s']) / 5:.2f} s) and {pm / marg:.1f}x per pair.")
        out += ["", line]
    if off:
        out += ["", f"`eventstudy run --offline` (71 stocks + 3 Nikkei instruments x 12 events, report and figures "
                    f"included): {rng_text(off['wall_s'])} s over {len(off['wall_s'])} runs, peak "
                    f"{max(off['peak_mb']):.0f} MB, report.html {off['report_mb']:.2f} MB."]
    if scal:
        out += _growth_table(scal, "events", "| events × instruments | pairs | CLI with report s | s per 1,000 more "
                             "events than the first row | peak MB |",
                             lambda r: f"{r['events']:,} × {r['instruments']} | {r['pairs']:,}")
    if firm:
        out += _growth_table(firm, "firm_events", "| firm-events | securities | CLI s (tables, no report) | s per "
                             "1,000 more firm-events than the first row | peak MB |",
                             lambda r: f"{r['firm_events']:,} | {r['securities']:,}")
    if firm_drop:
        out += _growth_table(firm_drop, "firm_events", "| firm-events | securities | CLI s with `--overlap drop` | s per "
                             "1,000 more firm-events than the first row | peak MB |",
                             lambda r: f"{r['firm_events']:,} | {r['securities']:,}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000], choices=sorted(SHAPES))
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each command (default 3)")
    ap.add_argument("--no-peer", action="store_true", help="time the CLI only")
    ap.add_argument("--scaling", nargs="*", default=["100x6", "1000x6", "1000x10", "10000x10"], metavar="EVENTSxINST",
                    help="the CLI with the report on many events (default %(default)s)")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--firm", type=int, nargs="*", default=[1_000, 10_000, 30_000], metavar="N",
                    help="firm-specific runs (--firm-events) of N firm-events each (default %(default)s)")
    ap.add_argument("--no-firm", action="store_true")
    ap.add_argument("--firm-drop", action="store_true", help="the firm-specific runs again with --overlap drop")
    ap.add_argument("--offline-runs", type=int, default=3, help="runs of 'eventstudy run --offline' (0: skip)")
    ap.add_argument("--cache-dir", default=os.environ.get("EVENTSTUDY_BENCH_DIR",
                                                        str(Path.home() / ".cache" / "eventstudy-bench")),
                    help="generated inputs, outputs and the peer's venv (default %(default)s)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables to FILE")
    a = ap.parse_args()
    cache = Path(a.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    rows = side_by_side(a.sizes, a.repeat, cache, not a.no_peer) if a.sizes else []
    specs = [] if a.no_scaling else [tuple(int(x) for x in s.lower().split("x")) for s in a.scaling]
    scal = scaling(specs, cache, max(1, min(a.repeat, 2))) if specs else []
    firm = [] if a.no_firm else firm_scaling(a.firm, cache, max(1, min(a.repeat, 2)))
    firm_drop = firm_scaling(a.firm, cache, max(1, min(a.repeat, 2)), overlap="drop") if a.firm_drop else []
    off = offline(cache, a.offline_runs) if a.offline_runs > 0 else None
    floor = import_floor(a.repeat) if rows else None
    lib = library_floor(cache, a.repeat) if 10_000 in a.sizes else None
    text = report(rows, scal, not a.no_peer, off, firm, floor, lib, firm_drop)
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
