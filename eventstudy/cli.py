"""Command line: ``eventstudy run | placebo | events | fetch``. A thin layer over the library.

Errors a user can cause print one clear line (no traceback) and exit with status 2.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Sequence

from eventstudy.errors import EventStudyError
from eventstudy.estimation.normal_returns import MODELS
from eventstudy.estimation.windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS

EPILOG_RUN = """\
examples:
  eventstudy run --offline                      the whole China-Japan study on the bundled SIMULATED market
  eventstudy run --prices ../shared/data/market/keroppa88_chart0_jquants_tse1025_ohlcv.csv --out results/real
  eventstudy run                                the same with Yahoo Finance (cached under your user cache dir)
  eventstudy run --offline --model factor --window=0,0 --window=0,3 --bootstrap 999
  eventstudy run --events my_events.csv --universe my_universe.csv --prices prices.parquet --no-report
  eventstudy run --prices bloomberg.csv --universe u.csv --instruments instruments.csv
  eventstudy run --firm-events earnings.csv --prices prices.csv --benchmark 1306.T --by news
                                                firm-specific events (ticker,date[,time,timezone,...]), pooled

outputs in --out: abnormal_returns.csv car.csv tests.csv regressions.csv day0.csv exclusions.csv
params.csv (or .parquet with --table-format parquet), report.md report.html tables.tex,
impact_table.csv futures_table.csv cross_section_table.csv and plots (figures/*.png; *.svg with
--figure-format png,svg) unless --no-report, and manifest.json
(written last: every file with its SHA-256, the options, versions and data source). The folder
is written as one unit: a run replaces the whole folder, or leaves it unchanged if it fails.
"""

EPILOG_PLACEBO = """\
examples:
  eventstudy placebo --offline --draws 200                     size, power and MDE on the bundled SIMULATED market
  eventstudy placebo --prices ../shared/data/market/keroppa88_chart0_jquants_tse1025_ohlcv.csv --draws 500
  eventstudy placebo --offline --window=0,0 --effects 0.005,0.01,0.02 --margin 0.01 --seed 7

outputs in --out: placebo_size.csv placebo_power.csv placebo_mde.csv placebo_calibrated_p.csv
placebo_tost.csv placebo_draws.csv calibration.md figures/placebo_power.png|svg; a report.md or
report.html already in --out (from 'eventstudy run') gets the calibration section added.
"""

#: ``eventstudy placebo --effects`` default, written out so that building the parser imports no engine
#: (equal to :data:`eventstudy.pipeline.placebo.DEFAULT_EFFECTS`, tested)
PLACEBO_EFFECTS = "0.0025,0.005,0.01,0.02,0.04,0.08"

EPILOG_EVENTS = """\
examples:
  eventstudy events                             day 0 of every study event for every instrument
  eventstudy events --ticker NIY=F --ticker 7203.T
"""

EPILOG_FETCH = """\
examples:
  eventstudy fetch                              download the study's prices into the cache
  eventstudy fetch --refresh                    download again even when cached
"""


def _source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("prices (choose one; default Yahoo Finance with a local cache)")
    g.add_argument("--offline", action="store_true",
                   help="use the bundled SIMULATED market (no network; results are labelled SIMULATED)")
    g.add_argument("--prices", metavar="FILE", help="local prices: long CSV/parquet (date,ticker,close[,adj_close]) "
                   "or wide (date + one column per ticker)")
    g.add_argument("--refresh", action="store_true", help="Yahoo: download again even when cached")
    g.add_argument("--cache-dir", metavar="DIR", help="Yahoo cache folder (default: user cache dir, "
                   "or $EVENTSTUDY_CACHE_DIR)")


def _study_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study", metavar="FOLDER", help="a study folder: study.toml (files, group labels and order, "
                   "defaults) beside its CSV files (default: the bundled China-Japan study, "
                   "eventstudy/study/china_japan); --events, --universe and --hypotheses replace its files")
    p.add_argument("--events", metavar="FILE", help="events CSV (default: the study's events file)")
    p.add_argument("--universe", metavar="FILE", help="universe CSV: ticker,name,group,benchmark[,exchange] "
                   "(default: the study's universe)")
    p.add_argument("--hypotheses", metavar="FILE", help="primary hypotheses CSV: hypothesis_id,event_id,group,window,"
                   "expected_sign,source,rationale, tested as one family (default: the packaged China-Japan file "
                   "when neither --events nor --universe is given; 'none' for no primary family)")
    p.add_argument("--limits", metavar="FILE", help="daily price-limit days: CSV date,ticker and up_limit,low_limit "
                   "flags (J-Quants style) or a kind column up/down; pair-windows containing one are flagged in "
                   "limit_flags.csv and day-0 hits printed")
    p.add_argument("--limit-treatment", choices=("flag", "exclude"), default="flag",
                   help="flag (default): keep every pair and flag it; exclude: leave out every (event, security) pair "
                   "with a limit day inside an event window (listed in exclusions.csv)")
    p.add_argument("--instruments", metavar="FILE",
                   help="instruments CSV: ticker,exchange[,kind,currency] - the trading calendar of any series "
                        "(securities, benchmarks, factors): an exchange_calendars code (XTKS, XNYS, ...), CME, or "
                        "'dates' for the dates in the price file. Undeclared names get the calendar their symbol "
                        "suggests only when their price dates agree, else their own dates")


def _firm_args(p: argparse.ArgumentParser) -> None:
    fe_ = p.add_argument_group("firm-specific events (one row per firm and announcement; pooled tests)")
    fe_.add_argument("--firm-events", metavar="FILE",
                     help="firm events CSV: ticker,date[,time,timezone,event_id,label,category,...]; each row is "
                          "mapped to day 0 on its own instrument's sessions and the tests pool all firm-events "
                          "(instead of --events, which applies every event to the whole universe)")
    fe_.add_argument("--benchmark", metavar="TICKER", help="market return for every firm (with --firm-events; "
                     "a --universe may give one per ticker instead)")
    fe_.add_argument("--by", metavar="COLUMN", help="with --firm-events: a column of the file (e.g. news) whose values "
                     "are the tests' groups, or 'group' for the universe's groups (the pooled group 'all' is kept)")
    fe_.add_argument("--overlap", choices=("flag", "drop"), default="flag",
                     help="with --firm-events: a firm's other events inside its estimation window are only "
                          "reported (flag, default) or left out of the estimation window (drop)")


def _measure_args(p) -> None:
    g = p.add_argument_group("measures beside returns (abnormal volume and volatility; docs/METHODS.md)")
    g.add_argument("--measure", action="append", metavar="LIST",
                   help="returns|volume|volatility, comma separated or repeated (default returns; returns are always "
                        "computed: their day-0 audit, windows and groups are the measures' too)")
    g.add_argument("--volume", metavar="FILE", help="long file with a volume column for --measure volume "
                   "(default: the --prices file)")
    g.add_argument("--volume-market", default="all", metavar="WHICH",
                   help="market log volume regressor: all (equal-weighted, every ticker of the volume file; default), "
                        "universe (the study's instruments) or a ticker")
    g.add_argument("--volume-calendar", choices=("dow+holiday", "dow", "none"), default="dow+holiday",
                   help="calendar regressors of the volume model (default %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="eventstudy", formatter_class=fmt,
        description="Event studies that price political news (China-Japan 2025-26 by default).",
        epilog="run 'eventstudy COMMAND --help' for the options and examples of each command")
    parser.add_argument("--version", action="version", version=f"eventstudy {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the study and write tables, CSVs and a report",
                         formatter_class=fmt, epilog=EPILOG_RUN,
                         description="Estimate normal returns, abnormal returns and every test for each "
                                     "event x instrument, print the headline impact table, write outputs.")
    _study_args(run)
    _source_args(run)
    _model_args(run)
    _firm_args(run)
    run.add_argument("--alignment", choices=("close", "same_date"), default="close",
                     help="regressors on another calendar: 'close' compounds the regressor's sessions that close "
                          "inside each security session's close-to-close interval (default); 'same_date' matches "
                          "by calendar date, as tools that ignore closing times do")
    run.add_argument("--factor", action="append", metavar="TICKER",
                     help="extra factor for --model factor, repeatable (default: the study's, JPY=X for the bundled one)")
    run.add_argument("--bootstrap", type=int, default=0, metavar="N",
                     help="add a cross-section-preserving bootstrap p-value with N draws (default off)")
    run.add_argument("--seed", type=int, default=0, help="random seed for the bootstrap")
    run.add_argument("--out", default="results", metavar="DIR", help="output folder (default %(default)s)")
    run.add_argument("--no-report", action="store_true", help="write the CSVs only (no report, plots, LaTeX)")
    run.add_argument("--table-format", choices=("csv", "parquet"), default="csv",
                     help="how the result tables are written: csv (default) or parquet (columnar, typed; "
                          "faster to write and to read back for large studies)")
    run.add_argument("--figure-format", default="png", metavar="LIST",
                     help="figure formats, comma separated from png,svg (default %(default)s; the report embeds PNG)")
    run.add_argument("--raw-csv", action="store_true",
                     help="write CSV text cells verbatim (default: a ' before text starting with = + - @, tab or CR, "
                          "so a spreadsheet shows it instead of evaluating it)")
    scale = run.add_argument_group("scale-out (Dask; install eventstudy-engine[dask])")
    scale.add_argument("--scheduler", metavar="ADDRESS",
                       help="a Dask scheduler (e.g. tcp://10.0.0.5:8786): the engine's chunks of events run on "
                            "that cluster; the results are identical to a local run")
    scale.add_argument("--workers", type=int, metavar="N",
                       help="run the engine's chunks on a local Dask cluster of N worker processes")
    run.add_argument("--format", default="md,html,latex,csv", metavar="LIST",
                     help="report formats, comma separated from md,html,latex,csv (csv: the impact, futures and "
                          "cross-section tables as CSV; default %(default)s)")
    _bars_args(run)
    _measure_args(run)

    pl = sub.add_parser("placebo", help="calibrate the tests on this panel: size, power, MDE, calibrated p",
                        formatter_class=fmt, epilog=EPILOG_PLACEBO,
                        description="Rerun the study on placebo event dates drawn from the panel's own sessions "
                                    "(away from every real event window and confounder date): each test's size, "
                                    "power against injected abnormal returns, minimum detectable effect, the real "
                                    "cells' calibrated p-values and equivalence tests.")
    _study_args(pl)
    _source_args(pl)
    _model_args(pl)
    _firm_args(pl)
    pl.add_argument("--alignment", choices=("close", "same_date"), default="close",
                    help="regressors on another calendar: by closing time (default) or by calendar date")
    pl.add_argument("--factor", action="append", metavar="TICKER",
                    help="extra factor for --model factor, repeatable (default: the study's, JPY=X for the bundled one)")
    pl.add_argument("--draws", type=int, default=500, metavar="N", help="placebo draws (default %(default)s)")
    pl.add_argument("--seed", type=int, default=0, help="random seed of the draws (default 0)")
    pl.add_argument("--effects", default=PLACEBO_EFFECTS, metavar="LIST",
                    help="injected day-0 abnormal returns, decimals, comma separated (default %(default)s)")
    pl.add_argument("--margin", type=float, default=None, metavar="DEC",
                    help="equivalence margin on the CAAR, decimal (default: each cell's MDE of the lead test)")
    pl.add_argument("--min-estimation", type=int, default=None, metavar="DAYS",
                    help="estimation-window sessions a placebo date needs in the data (default: the model's minimum)")
    pl.add_argument("--out", default="results", metavar="DIR",
                    help="output folder (default %(default)s, where 'eventstudy run' writes: its report.md and "
                         "report.html get the calibration section)")

    ev = sub.add_parser("events", help="print the day-0 audit: which session each event hits per instrument",
                        formatter_class=fmt, epilog=EPILOG_EVENTS,
                        description="Map every event's announcement time to day 0 on each instrument's own "
                                    "trading calendar and say why.")
    _study_args(ev)
    ev.add_argument("--ticker", action="append", metavar="TICKER", help="only these instruments (repeatable)")
    ev.add_argument("--csv", metavar="FILE", help="also write the audit to this CSV")
    ev.add_argument("--raw-csv", action="store_true", help="write CSV text cells verbatim (see run --help)")

    fe = sub.add_parser("fetch", help="download the study's prices from Yahoo Finance into the cache",
                        formatter_class=fmt, epilog=EPILOG_FETCH,
                        description="Warm the local price cache so later runs need no download.")
    _study_args(fe)
    fe.add_argument("--refresh", action="store_true", help="download again even when cached")
    fe.add_argument("--cache-dir", metavar="DIR", help="cache folder")
    fe.add_argument("--estimation", default=f"{DEFAULT_ESTIMATION[0]},{DEFAULT_ESTIMATION[1]}", metavar="START,END")
    fe.add_argument("--window", action="append", metavar="START,END")
    return parser



def _bars_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("intraday bars (bar 0, session reactions, the reaction clock)")
    g.add_argument("--bars", metavar="FILE",
                   help="intraday OHLC bars of one instrument (CSV/Parquet: bar open time in UTC or with an offset, "
                        "open, high, low, close[, volume, ticker, trading_date, session]): adds each event's bar 0, "
                        "the session and window reactions with the t and sample-quantile (GHK) tests, the reaction "
                        "clock and the intraday path figures (intraday_*.csv, reaction_clock.csv, report section)")
    g.add_argument("--bars-ticker", metavar="NAME", help="name of the bars' instrument when the file has no ticker "
                                                         "column (default: the file's name)")
    g.add_argument("--bars-venue", metavar="CODE", help="where the bars trade: OSE, CME or an exchange_calendars code "
                                                        "(default: from the ticker, else the one venue whose sessions "
                                                        "hold every bar)")
    g.add_argument("--bars-timezone", metavar="TZ", help="IANA timezone of bar times written without an offset")
    g.add_argument("--bars-benchmark", metavar="TICKER",
                   help="another instrument of the bar file: its return over the same instants is the regressor of "
                        "each intraday window's market model (default: none, same-time-of-day mean)")
    g.add_argument("--bars-window", action="append", metavar="W",
                   help="intraday window, repeatable: session, rest, next, bars:A,B or min:A,B "
                        "(default: session, rest, bars:0,3, next)")
    g.add_argument("--clock", action="append", metavar="TICKER",
                   help="daily instrument of the reaction clock, with opens in --prices, repeatable (default: the "
                        "study's timeline instruments and their benchmarks)")


def _load_bars(args):
    """The bars of --bars, read and checked before the study runs (None without --bars)."""
    if not getattr(args, "bars", None):
        return None
    from eventstudy.data.bars import load_bars
    from eventstudy.returns.intraday import parse_window
    for w in args.bars_window or ():
        parse_window(w)
    bars = load_bars(args.bars, ticker=args.bars_ticker or Path(args.bars).stem, timezone=args.bars_timezone)
    for opt, name in (("--bars-ticker", args.bars_ticker), ("--bars-benchmark", args.bars_benchmark)):
        if name and name not in bars.tickers:
            raise EventStudyError(f"{opt} {name!r}: the bar file {args.bars} has no such ticker; its tickers: "
                                  f"{', '.join(bars.tickers)}")
    return bars


def _write_bars(args, run, bars, stage) -> dict:
    """The intraday study of --bars on the run's events, written into the staging folder."""
    from eventstudy.data.bars import read_daily_ohlc
    from eventstudy.outputs.intraday import write_intraday
    from eventstudy.pipeline.intraday import clock_instruments, intraday_study
    from eventstudy.returns.intraday import DEFAULT_WINDOWS as BAR_WINDOWS

    tickers = args.clock or clock_instruments(_load_study(args).defaults.timeline, run.universe)
    daily = read_daily_ohlc(args.prices, tickers) if args.prices else None
    exchanges = dict(zip(run.calendars["ticker"], run.calendars["exchange"])) if len(run.calendars) else {}
    irun = intraday_study(run.events, bars, ticker=args.bars_ticker if args.bars_ticker in bars.tickers else None,
                          venue=args.bars_venue, windows=args.bars_window or BAR_WINDOWS, daily=daily,
                          daily_tickers=tickers, daily_exchanges=exchanges, benchmark=args.bars_benchmark)
    _say(f"eventstudy: intraday bars of {irun.ticker} on {irun.venue.code}: bar 0 of "
         f"{int((irun.bar0['bar0_pos'] >= 0).sum())} of {len(irun.bar0)} events")
    return write_intraday(irun, stage, report=not args.no_report, raw=args.raw_csv, simulated=run.simulated)


def _model_args(p: argparse.ArgumentParser) -> None:
    """Model, window and return options shared by ``run`` and ``placebo``."""
    p.add_argument("--model", choices=MODELS, default="market", help="normal-return model (default market)")
    p.add_argument("--estimation", default=f"{DEFAULT_ESTIMATION[0]},{DEFAULT_ESTIMATION[1]}", metavar="START,END",
                   help="estimation window in trading days relative to day 0 (default %(default)s); "
                        "write --estimation=-250,-11 because of the minus sign")
    p.add_argument("--window", action="append", metavar="START,END",
                   help="event window, repeatable (default: " + " ".join(f"{a},{b}" for a, b in DEFAULT_WINDOWS) + ")")
    p.add_argument("--returns", choices=("simple", "log"), default="simple", help="return type (default simple)")


def _version() -> str:
    from eventstudy import __version__
    return __version__


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _load_study(args):
    """The study of --study FOLDER (default: the bundled one), read once per command."""
    if getattr(args, "study_obj", None) is None:
        from eventstudy.inputs.study import load_study
        args.study_obj = load_study(getattr(args, "study", None))
    return args.study_obj


def _load_inputs(args):
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.universe import load_confounders, load_universe

    study = _load_study(args)
    bundled = getattr(args, "study", None) is None
    events = load_events(args.events or study.events)
    if args.universe:
        universe = load_universe(args.universe)
    else:
        universe = load_universe() if bundled else load_universe(study.universe)
    confounders = (load_confounders(study.confounders)
                   if not args.events and study.confounders is not None else None)
    if getattr(args, "instruments", None):
        from eventstudy.inputs.instruments import load_instruments
        args.instruments_table = load_instruments(args.instruments)
    return events, universe, confounders


def _load_limits(args):
    """The price-limit days of --limits, or None."""
    if not getattr(args, "limits", None):
        return None
    from eventstudy.data.limits import load_limits
    return load_limits(args.limits)


def _load_hypotheses(args, events, universe):
    """The primary hypotheses: --hypotheses FILE, else the packaged study's when the packaged events are used."""
    from eventstudy.inputs.hypotheses import load_hypotheses

    study = _load_study(args)
    path = getattr(args, "hypotheses", None)
    if path is not None and path.strip().lower() == "none":
        return None
    if path is None and (getattr(args, "events", None) or getattr(args, "universe", None)):
        return None
    if path is None:
        if study.hypotheses is None:
            return None
        path = study.hypotheses
    return load_hypotheses(path, events=list(events["event_id"]), groups=list(dict.fromkeys(universe["group"])),
                           ex_post_groups=study.defaults.ex_post_groups)


def _check_scale_args(args) -> None:
    """--scheduler / --workers checked before any data is read."""
    address, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if address is None and workers is None:
        return
    if address is not None and workers is not None:
        raise EventStudyError("choose --scheduler ADDRESS (an existing Dask cluster) or --workers N (a local one), "
                              "not both")
    if workers is not None and workers < 1:
        raise EventStudyError(f"--workers {workers}: give a number of worker processes >= 1")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise EventStudyError("--scheduler/--workers need Dask: pip install 'eventstudy-engine[dask]' "
                              "(dask.distributed)") from None


@contextlib.contextmanager
def _executor(args):
    """The Dask client of --scheduler ADDRESS or --workers N (closed at the end), or None."""
    address, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if address is None and workers is None:
        yield None
        return
    _check_scale_args(args)
    import distributed
    if address is not None:
        try:
            client = distributed.Client(address, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise EventStudyError(f"--scheduler {address!r}: cannot reach a Dask scheduler there ({exc}); check the "
                                  "address (tcp://host:8786) and that the scheduler is running") from None
        with client:
            yield client
        return
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _make_source(args):
    if args.offline and args.prices:
        raise EventStudyError("choose one price source: --offline or --prices FILE, not both")
    if args.offline:
        from eventstudy.data.offline import OfflineSource
        return OfflineSource()
    if args.prices:
        from eventstudy.data.files import FileSource
        return FileSource(args.prices)
    from eventstudy.data.cache import PriceCache
    from eventstudy.data.yahoo import YahooSource
    return YahooSource(cache=PriceCache(args.cache_dir), refresh=args.refresh)


def cmd_run(args) -> int:
    from eventstudy.estimation.windows import WindowSpec

    spec = WindowSpec.build(args.estimation, args.window or DEFAULT_WINDOWS)
    # the report formats are checked before the study runs: a typo must not cost the whole run
    from eventstudy.present.report import REPORT_FORMATS
    asked = [f.strip() for f in args.format.split(",") if f.strip()]
    formats = tuple(f.lower() for f in asked)
    bad = [f for f in asked if f.lower() not in REPORT_FORMATS]   # named as the user wrote it
    if bad:
        raise EventStudyError(f"--format {bad[0]!r}: choose from {', '.join(REPORT_FORMATS)}")
    figure_formats = tuple(dict.fromkeys(f.strip().lower() for f in args.figure_format.split(",") if f.strip()))
    bad = [f for f in figure_formats if f not in ("png", "svg")]
    if bad or not figure_formats:
        raise EventStudyError(f"--figure-format {args.figure_format!r}: choose png, svg or png,svg")
    args.figure_formats = figure_formats
    from eventstudy.engine.model import check_bootstrap, check_seed
    check_bootstrap(args.bootstrap, "--bootstrap")
    check_seed(args.seed, "--seed")
    _check_scale_args(args)
    from eventstudy.outputs.runfolder import RunFolder
    folder = RunFolder(args.out, "--out folder")     # '' refused here
    from eventstudy.io_utils import check_out_dir
    check_out_dir(folder.out, "--out folder")        # a bad --out must not cost the whole run either
    if args.firm_events and args.bars:
        raise EventStudyError("--bars goes with --events studies (the shared-date design), not --firm-events")
    from eventstudy.pipeline.measures import parse_measures
    args.measures = parse_measures(args.measure)
    if "volume" in args.measures and not (args.volume or args.prices):
        raise EventStudyError("--measure volume needs trading volume: give --prices FILE (or --volume FILE) with "
                              "a volume column; the bundled SIMULATED market and Yahoo prices carry none here")
    if args.firm_events and len(args.measures) > 1:
        raise EventStudyError("--measure volume|volatility is built for --events studies (every event on every "
                              "instrument); with --firm-events only returns are measured for now")
    if args.firm_events:
        return _run_firm(args, spec, folder)
    if args.benchmark or args.by or args.overlap != "flag":
        raise EventStudyError("--benchmark, --by and --overlap go with --firm-events FILE (firm-specific events); "
                              "for --events the benchmark of each instrument comes from the universe")
    events, universe, confounders = _load_inputs(args)
    hypotheses = _load_hypotheses(args, events, universe)
    limits = _load_limits(args)
    source = _make_source(args)
    args.bars_obj = _load_bars(args)                 # bad bars fail before the study runs
    with folder:                                     # locked, staged beside --out, swapped in at the end
        return _run_into(args, folder, spec, formats, events, universe, confounders, source, hypotheses, limits)


def _run_into(args, folder, spec, formats, events, universe, confounders, source, hypotheses, limits) -> int:
    from eventstudy.outputs.csvs import write_tables
    from eventstudy.pipeline.study import run_study
    _say(f"eventstudy: {len(events)} events x {len(universe)} instruments, model {args.model}, "
         f"estimation [{spec.estimation[0]},{spec.estimation[1]}], windows "
         + " ".join(f"[{a},{b}]" for a, b in spec.windows))
    with warnings.catch_warnings(), _executor(args) as executor:
        warnings.simplefilter("ignore", category=RuntimeWarning)
        run = run_study(events, universe, source, model=args.model, estimation=spec.estimation, windows=spec.windows,
                        return_kind=args.returns, extra_factors=tuple(args.factor) if args.factor else None,
                        study=_load_study(args), bootstrap=args.bootstrap, seed=args.seed, confounders=confounders,
                        hypotheses=hypotheses, limits=limits, limit_treatment=args.limit_treatment,
                        instruments=getattr(args, "instruments_table", None), alignment=args.alignment,
                        executor=executor)
    if run.simulated:
        _say("eventstudy: SIMULATED data (the bundled offline market) - not market data")
    _say(f"eventstudy: prices from {run.prices.source}")
    if not run.simulated:
        from eventstudy.data.base import describe_fields
        _say(f"eventstudy: {describe_fields(run.prices.field)}")
    out = Path(args.out)
    stage = folder.path
    try:
        written = write_tables(run, stage, table_format=args.table_format, raw=args.raw_csv)
        from eventstudy.present.tables import impact_table
        impact = None if args.no_report else impact_table(run)      # computed once: headline and report
        _print_headline(run, impact)
        if not args.no_report:
            from eventstudy.outputs.report_files import write_report
            written.update(write_report(run, stage, formats=formats, impact=impact, raw_csv=args.raw_csv,
                                        figure_formats=getattr(args, "figure_formats", ("png",))))
        if getattr(args, "bars_obj", None) is not None:
            written.update(_write_bars(args, run, args.bars_obj, stage))
        if len(args.measures) > 1:
            written.update(_write_measures(args, run, stage))
    except OSError as exc:      # a full disk, a quota, a vanished folder: the earlier set stays as it was
        raise _write_error(out, exc) from None
    folder.commit(_manifest_info(args, run))
    _say_exclusions(run, out)
    _say(f"eventstudy: wrote {len(written)} files and manifest.json to {out}/")
    return 0


def _write_measures(args, run, stage) -> dict:
    """``--measure volume|volatility``: the measures on the run, their tables, figure and report section."""
    from eventstudy.pipeline.measures import run_measures
    from eventstudy.present.tables import lead_window
    from eventstudy.outputs.measures import write_measures

    volume, src = None, ""
    if "volume" in args.measures:
        from eventstudy.data.volume import read_volume_file
        path = args.volume or args.prices          # one of them: checked before the run
        volume, src = read_volume_file(path), f"file {path}"
    _say("eventstudy: measures " + ", ".join(args.measures[1:]) + (f" (volume from {src})" if src else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mr = run_measures(run, args.measures, volume=volume, volume_market=args.volume_market,
                          volume_calendar=args.volume_calendar, volume_source=src)
    written = write_measures(run, mr, stage, lead_window(run), table_format=args.table_format, raw=args.raw_csv,
                             figures=not args.no_report, report=not args.no_report)
    names = sorted(n for n in written if n.startswith(("volume_", "volatility_")))
    _say("eventstudy: measures written: " + ", ".join(names)
         + ("" if args.no_report else "; report section 'Volume and volatility'"))
    return written


def cmd_placebo(args) -> int:
    from eventstudy.estimation.windows import WindowSpec

    spec = WindowSpec.build(args.estimation, args.window or DEFAULT_WINDOWS)
    try:
        effects = tuple(float(x) for x in args.effects.split(",") if x.strip())
    except ValueError:
        raise EventStudyError(f"--effects {args.effects!r}: give decimals separated by commas, e.g. 0.005,0.01,0.02") from None
    if not effects or any(not e > 0 for e in effects):
        raise EventStudyError(f"--effects {args.effects!r}: give positive decimals (0.01 = 1%), e.g. 0.005,0.01,0.02")
    if args.draws < 1:
        raise EventStudyError(f"--draws {args.draws}: give a number of placebo draws >= 1 (hundreds for stable rates)")
    from eventstudy.engine.model import check_seed
    check_seed(args.seed, "--seed")
    from eventstudy.outputs.runfolder import RunFolder
    folder = RunFolder(args.out, "--out folder")
    from eventstudy.io_utils import check_out_dir
    check_out_dir(folder.out, "--out folder")
    if args.firm_events:
        events, universe, instruments = _firm_inputs(args)
        source = _make_source(args)
        with folder:
            return _placebo_into(args, folder, spec, effects, events, universe, None, None, None, source,
                                 instruments=instruments)
    if args.benchmark or args.by or args.overlap != "flag":
        raise EventStudyError("--benchmark, --by and --overlap go with --firm-events FILE (firm-specific events)")
    events, universe, confounders = _load_inputs(args)
    hypotheses = _load_hypotheses(args, events, universe)
    limits = _load_limits(args)
    source = _make_source(args)
    with folder:                 # locked; the earlier run's files and the placebo's are swapped in as one unit
        return _placebo_into(args, folder, spec, effects, events, universe, confounders, hypotheses, limits, source)


def _placebo_into(args, folder, spec, effects, events, universe, confounders, hypotheses, limits, source,
                  instruments=None) -> int:
    from eventstudy.pipeline.placebo import placebo_study, study_for_placebo
    from eventstudy.outputs.placebo_files import carry_over, write_placebo

    _say(f"eventstudy placebo: {args.draws} draws, effects {', '.join(f'{100 * e:g}%' for e in effects)}, "
         f"model {args.model}, windows " + " ".join(f"[{a},{b}]" for a, b in spec.windows)
         + (" (firm-specific design: every firm-event gets its own placebo date in each draw)" if args.firm_events else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        if args.firm_events:
            from eventstudy.pipeline.firm import run_firm_study
            run = run_firm_study(events, source, benchmark=args.benchmark, universe=universe, by=args.by,
                                 model=args.model, estimation=spec.estimation, windows=spec.windows,
                                 return_kind=args.returns, factors=tuple(args.factor or ()), overlap=args.overlap,
                                 instruments=instruments, alignment=args.alignment)
        else:
            run = study_for_placebo(events, universe, source, model=args.model, estimation=spec.estimation,
                                    windows=spec.windows, return_kind=args.returns,
                                    extra_factors=tuple(args.factor) if args.factor else None,
                                    study=_load_study(args), confounders=confounders,
                                    instruments=getattr(args, "instruments_table", None), alignment=args.alignment,
                                    hypotheses=hypotheses, limits=limits, limit_treatment=args.limit_treatment,
                                    regressions=False)
        if run.simulated:
            _say("eventstudy: SIMULATED data (the bundled offline market) - not market data")
        pr = placebo_study(run, draws=args.draws, effects=effects, seed=args.seed, margin=args.margin,
                           min_estimation=args.min_estimation)
    from eventstudy.present.tables import lead_window
    lw = lead_window(run)
    try:
        previous = carry_over(folder.out, folder.path)
        written = write_placebo(pr, folder.path, window=lw, hypotheses=getattr(run, "hypotheses", None),
                                labels=getattr(run, "labels", None))
    except OSError as exc:
        raise _write_error(Path(args.out), exc) from None
    info = _manifest_info(args, run)
    info["command"] = "eventstudy placebo"
    if previous:
        info["previous_run"] = previous
    folder.commit(info)
    print(pr.summary(window=lw))
    if args.firm_events:
        sizes = [len(v) for v in pr.eligible.values()]
        _say(f"eventstudy: {args.draws} draws of {pr.info['placebo_pairs'] // max(args.draws, 1)} firm-events, each "
             f"from its firm's eligible dates ({min(sizes)} to {max(sizes)} per firm); wrote {len(written)} files "
             f"and manifest.json to {args.out}/")
    else:
        _say(f"eventstudy: {pr.info['placebo_events']} distinct placebo dates from "
             f"{', '.join(str(len(v)) for v in pr.eligible.values())} eligible; wrote {len(written)} files "
             f"and manifest.json to {args.out}/")
    return 0


def _write_error(out: Path, exc: OSError) -> EventStudyError:
    """The message for a write that failed (a full disk, a quota, a vanished folder)."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return EventStudyError(f"could not write the results for {out}{where}: {exc.strerror or exc}. Nothing in "
                           f"{out} was changed (the run is written beside it and moved in only when complete): "
                           f"free some space or choose another --out folder, then run again")


def _manifest_info(args, run) -> dict:
    """What manifest.json records besides the files: command options, versions, data source."""
    from eventstudy.outputs.runfolder import package_versions
    opts = {k: v for k, v in vars(args).items() if k not in ("command", "bars_obj")}
    p = run.prices
    return {"command": "eventstudy run", "options": opts, "versions": package_versions(),
            "data": {"source": str(p.source), "simulated": bool(p.simulated),
                     "tickers_with_prices": int(p.frame["ticker"].nunique()),
                     "tickers_without_prices": [str(t) for t in p.failures.get("ticker", [])],
                     "first_date": f"{p.frame['date'].min():%Y-%m-%d}",
                     "last_date": f"{p.frame['date'].max():%Y-%m-%d}"}}


def _run_firm(args, spec, folder) -> int:
    """``eventstudy run --firm-events FILE``: pooled firm-specific events; CSVs and a pooled summary."""
    events, universe, instruments = _firm_inputs(args)
    source = _make_source(args)
    with folder:                                     # locked, staged beside --out, swapped in at the end
        return _run_firm_into(args, spec, folder, events, universe, instruments, source)


def _firm_inputs(args):
    """(firm events, universe or None, instruments or None) of a --firm-events command, checked."""
    from eventstudy.inputs.events import load_firm_events

    if args.events:
        raise EventStudyError("choose one design: --events FILE (events that hit the whole universe) or "
                              "--firm-events FILE (one row per firm and announcement), not both")
    events = load_firm_events(args.firm_events)
    universe = None
    if args.universe:
        from eventstudy.inputs.universe import load_universe
        universe = load_universe(args.universe)
    instruments = None
    if args.instruments:
        from eventstudy.inputs.instruments import load_instruments
        instruments = load_instruments(args.instruments)
    if not args.benchmark and universe is None and args.model != "constant_mean":
        raise EventStudyError("--firm-events needs the market return: --benchmark TICKER (e.g. 1306.T), or a "
                              "--universe with a benchmark per ticker, or --model constant_mean")
    return events, universe, instruments


def _run_firm_into(args, spec, folder, events, universe, instruments, source) -> int:
    from eventstudy.pipeline.firm import run_firm_study
    from eventstudy.io_utils import atomic_write_text, spreadsheet_safe
    from eventstudy.outputs.csvs import write_csvs

    _say(f"eventstudy: firm-specific design: {len(events)} firm-events of {events['ticker'].nunique()} "
         f"securities, model {args.model}, estimation [{spec.estimation[0]},{spec.estimation[1]}], windows "
         + " ".join(f"[{a},{b}]" for a, b in spec.windows) + (f", groups by {args.by}" if args.by else ""))
    with warnings.catch_warnings(), _executor(args) as executor:
        warnings.simplefilter("ignore", category=RuntimeWarning)
        run = run_firm_study(events, source, benchmark=args.benchmark, universe=universe, by=args.by,
                             model=args.model, estimation=spec.estimation, windows=spec.windows,
                             return_kind=args.returns, factors=tuple(args.factor or ()), overlap=args.overlap,
                             instruments=instruments, alignment=args.alignment, bootstrap=args.bootstrap,
                             seed=args.seed, executor=executor)
    _say(f"eventstudy: prices from {run.prices.source}")
    out = Path(args.out)
    try:
        written = write_csvs(run, folder.path, raw=args.raw_csv)
        if len(run.overlaps):
            ov = run.overlaps if args.raw_csv else spreadsheet_safe(run.overlaps)
            written["overlaps.csv"] = atomic_write_text(folder.path / "overlaps.csv", ov.to_csv(index=False))
    except OSError as exc:
        raise _write_error(out, exc) from None
    folder.commit(_manifest_info(args, run))
    print(run.result.summary(max_rows=40))
    _say(f"eventstudy: wrote {len(written)} files and manifest.json to {out}/ (firm-specific design: CSVs and this "
         "summary; the report covers the shared-date design)")
    return 0


def _say_exclusions(run, out: Path, shown: int = 5) -> None:
    """Name what was left out in the terminal, briefly; the full list is in exclusions.csv."""
    ex = run.excluded
    no_prices = ex[ex["event_id"] == ""]
    no_day0 = ex[ex["event_id"] != ""]
    pairs = run.result.exclusions
    pairs = pairs[pairs["window_start"].isna()]
    lines = [f"  {t}: {r}" for t, r in zip(no_prices["ticker"][:shown], no_prices["reason"][:shown])]
    if len(no_prices) > shown:
        lines.append(f"  ... and {len(no_prices) - shown} more instruments without prices")
    for ev, g in no_day0.groupby("event_id", sort=False):
        lines.append(f"  event {ev}: no day 0 for {len(g)} instrument(s): {g['reason'].iloc[0]}")
    for r, g in pairs.groupby("reason", sort=False):
        who = ", ".join(f"{t} ({e})" for t, e in zip(g["ticker"][:3], g["event_id"][:3]))
        lines.append(f"  {len(g)} pair(s) not estimated: {r}: {who}{' ...' if len(g) > 3 else ''}")
    if lines:
        _say("eventstudy: left out (full list with reasons in " + str(out / "exclusions.csv") + "):")
        for line in lines[:3 * shown]:
            _say(line)


def _print_headline(run, impact=None) -> None:
    from eventstudy.present.tables import (MAX_SHOWN_EVENTS, headline_table, impact_table, lead_window, primary_hypotheses_table,
                         print_table, shown_rows, top_events)
    prim = primary_hypotheses_table(run)
    if len(prim):
        print_table(prim)
        print("Findings:")
        for line in prim.attrs.get("findings", []):
            print(f"  - {line}")
        print()
    w = lead_window(run)
    imp = impact if impact is not None else impact_table(run, windows=[w], tests=("kolari_pynnonen",))
    head = headline_table(run, impact=imp)               # titled with the run's lead window (SIMULATED marked)
    if len(head) > MAX_SHOWN_EVENTS:                     # a study of many events: the largest moves, counted
        head = shown_rows(head, top_events(imp, MAX_SHOWN_EVENTS, w, run.result.pooled_group), len(head))
    print_table(head)
    _say_day0_limits(run)


def _say_day0_limits(run) -> None:
    """A price-limit hit on day 0 is never silent: name each pair (the full list is in limit_flags.csv)."""
    f = getattr(run, "limit_flags", None)
    if f is None or not len(f):
        return
    d0 = f[f["day0_limit"].astype(bool)].drop_duplicates(["event_id", "ticker"])
    _say(f"eventstudy: {f[['event_id', 'ticker']].drop_duplicates().shape[0]} (event, security) pair(s) have a "
         "price-limit day inside an event window (limit_flags.csv)")
    for e, t, g, d in zip(d0["event_id"], d0["ticker"], d0["group"], d0["limit_dates"]):
        _say(f"  day-0 price limit: {t} ({g}) on event {e}: {d} - its day-0 return is censored")


def cmd_events(args) -> int:
    from eventstudy.calendars.day0 import map_day0
    from eventstudy.inputs.instruments import declared_exchanges

    if args.csv is not None:        # checked before any work
        from eventstudy.io_utils import check_out_file
        check_out_file(args.csv, "events --csv")
    events, universe, _ = _load_inputs(args)
    tickers = args.ticker or list(universe["ticker"])
    unknown = [t for t in (args.ticker or []) if t not in set(universe["ticker"])]
    exch = declared_exchanges(universe, getattr(args, "instruments_table", None))
    if unknown:
        _say(f"eventstudy: {', '.join(unknown)} not in the universe; calendar guessed from the symbol")
    audit = map_day0(events, tickers, exchanges={t: exch.get(t) for t in tickers})
    # one row per event x calendar unless tickers were asked for explicitly
    if not args.ticker:
        shown = (audit.groupby(["event_id", "calendar"], sort=False)
                 .agg(instruments=("ticker", "size"), announced_at=("announced_at", "first"),
                      day0=("day0", "first"), reason=("reason", "first")).reset_index())
    else:
        shown = audit[["event_id", "ticker", "calendar", "announced_at", "day0", "reason"]]
    shown = shown.copy()
    shown["day0"] = shown["day0"].dt.strftime("%Y-%m-%d (%a)")
    from eventstudy.present.tables import print_table
    print_table(shown, title="Day 0 per event and trading calendar")
    if args.csv:
        from eventstudy.io_utils import atomic_write_text, spreadsheet_safe
        atomic_write_text(args.csv, (audit if args.raw_csv else spreadsheet_safe(audit)).to_csv(index=False))
        _say(f"eventstudy: wrote {args.csv}")
    return 0


def cmd_fetch(args) -> int:
    from eventstudy.data.cache import PriceCache
    from eventstudy.data.yahoo import YahooSource
    from eventstudy.pipeline.study import price_request
    from eventstudy.estimation.windows import WindowSpec

    events, universe, _ = _load_inputs(args)
    spec = WindowSpec.build(args.estimation, args.window or DEFAULT_WINDOWS)
    tickers, start, end = price_request(events, universe, spec, factors=_load_study(args).defaults.extra_factors)
    cache = PriceCache(args.cache_dir)
    prices = YahooSource(cache=cache, refresh=args.refresh).get(tickers, start, end)
    _say(f"eventstudy: {prices.frame['ticker'].nunique()} tickers cached in {cache.directory}")
    for t, r in zip(prices.failures["ticker"], prices.failures["reason"]):
        _say(f"  failed: {t}: {r}")
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    _say(f"eventstudy: warning: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings():      # warnings read as messages, without Python's file and line
            warnings.showwarning = _show_warning
            return {"run": cmd_run, "events": cmd_events, "fetch": cmd_fetch,
                    "placebo": cmd_placebo}[args.command](args)
    except EventStudyError as exc:
        _say(f"eventstudy: error: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("eventstudy: interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
