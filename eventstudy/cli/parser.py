"""The command line's options and help: one parser for ``eventstudy run | placebo | events | fetch``."""
from __future__ import annotations

import argparse

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


PLACEBO_EFFECTS = "0.0025,0.005,0.01,0.02,0.04,0.08"


EPILOG_EVENTS = """\
examples:
  eventstudy events                             day 0 of every study event for every instrument
  eventstudy events --ticker NIY=F --ticker 7203.T
  eventstudy events --bars bars_15min.csv --bars-ticker NK225MINI.OSE   also each event's bar 0 on those bars
"""


EPILOG_FETCH = """\
examples:
  eventstudy fetch                              download the study's prices into the cache
  eventstudy fetch --refresh                    download again even when cached
"""


def source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("prices (choose one; default Yahoo Finance with a local cache)")
    g.add_argument("--offline", action="store_true",
                   help="use the bundled SIMULATED market (no network; results are labelled SIMULATED)")
    g.add_argument("--prices", metavar="FILE", action="append",
                   help="local prices: long CSV/parquet (date,ticker,close[,adj_close]) or wide (date + one column "
                        "per ticker); repeatable (e.g. stocks and futures from two files; a ticker lives in one)")
    g.add_argument("--refresh", action="store_true", help="Yahoo: download again even when cached")
    g.add_argument("--cache-dir", metavar="DIR", help="Yahoo cache folder (default: user cache dir, "
                   "or $EVENTSTUDY_CACHE_DIR)")


def study_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study", metavar="FOLDER", help="a study folder: study.toml (files, group labels and order, "
                   "defaults) beside its CSV files (default: the bundled China-Japan study, "
                   "eventstudy/study/china_japan); --events, --universe and --hypotheses replace its files")
    p.add_argument("--events", metavar="FILE", help="events CSV (default: the study's events file)")
    p.add_argument("--universe", metavar="FILE", help="universe CSV: ticker,name,group,benchmark[,exchange] "
                   "(default: the study's universe)")
    p.add_argument("--add-universe", metavar="FILE", action="append", default=None,
                   help="a universe CSV whose securities are added to the study's universe (or to --universe), "
                   "e.g. a venue's futures that only some price files carry; the study's hypotheses still apply; "
                   "repeatable")
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


def firm_args(p: argparse.ArgumentParser) -> None:
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


def measure_args(p) -> None:
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
    parser.add_argument("--version", action="version", version=f"eventstudy {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the study and write tables, CSVs and a report",
                         formatter_class=fmt, epilog=EPILOG_RUN,
                         description="Estimate normal returns, abnormal returns and every test for each "
                                     "event x instrument, print the headline impact table, write outputs.")
    study_args(run)
    source_args(run)
    model_args(run)
    firm_args(run)
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
    scale.add_argument("--stream", metavar="DIR",
                       help="results larger than memory: fit chunk by chunk into a Parquet dataset in DIR (one file "
                            "per chunk of events and table: car, tests, params, exclusions, ar; no report, --out "
                            "unused); rerun the same command to resume an interrupted run; other options are refused")
    scale.add_argument("--aggregates-only", action="store_true",
                       help="with --stream: keep the per-cell tests and per-pair CARs, not the per-day abnormal returns")
    scale.add_argument("--chunk-pairs", type=int, metavar="N",
                       help="with --stream: about N pairs per chunk of whole events (default 4000)")
    run.add_argument("--format", default="md,html,latex,csv", metavar="LIST",
                     help="report formats, comma separated from md,html,latex,csv (csv: the impact, futures and "
                          "cross-section tables as CSV; default %(default)s)")
    bars_args(run)
    measure_args(run)

    pl = sub.add_parser("placebo", help="calibrate the tests on this panel: size, power, MDE, calibrated p",
                        formatter_class=fmt, epilog=EPILOG_PLACEBO,
                        description="Rerun the study on placebo event dates drawn from the panel's own sessions "
                                    "(away from every real event window and confounder date): each test's size, "
                                    "power against injected abnormal returns, minimum detectable effect, the real "
                                    "cells' calibrated p-values and equivalence tests.")
    study_args(pl)
    source_args(pl)
    model_args(pl)
    firm_args(pl)
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
    study_args(ev)
    ev.add_argument("--ticker", action="append", metavar="TICKER", help="only these instruments (repeatable)")
    ev.add_argument("--csv", metavar="FILE", help="also write the audit to this CSV")
    ev.add_argument("--raw-csv", action="store_true", help="write CSV text cells verbatim (see run --help)")
    eb = ev.add_argument_group("intraday bars (adds each event's bar 0 on the bars' instrument)")
    eb.add_argument("--bars", metavar="FILE", help="intraday bars of one instrument, as for run --bars")
    eb.add_argument("--bars-ticker", metavar="NAME", help="the bars' instrument (as for run)")
    eb.add_argument("--bars-venue", metavar="CODE", help="where the bars trade (as for run)")
    eb.add_argument("--bars-timezone", metavar="TZ", help="IANA timezone of bar times without an offset (as for run)")

    fe = sub.add_parser("fetch", help="download the study's prices from Yahoo Finance into the cache",
                        formatter_class=fmt, epilog=EPILOG_FETCH,
                        description="Warm the local price cache so later runs need no download.")
    study_args(fe)
    fe.add_argument("--refresh", action="store_true", help="download again even when cached")
    fe.add_argument("--cache-dir", metavar="DIR", help="cache folder")
    fe.add_argument("--estimation", default=f"{DEFAULT_ESTIMATION[0]},{DEFAULT_ESTIMATION[1]}", metavar="START,END")
    fe.add_argument("--window", action="append", metavar="START,END")
    return parser


def bars_args(p: argparse.ArgumentParser) -> None:
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


def model_args(p: argparse.ArgumentParser) -> None:
    """Model, window and return options shared by ``run`` and ``placebo``."""
    p.add_argument("--model", choices=MODELS, default="market", help="normal-return model (default market)")
    p.add_argument("--estimation", default=f"{DEFAULT_ESTIMATION[0]},{DEFAULT_ESTIMATION[1]}", metavar="START,END",
                   help="estimation window in trading days relative to day 0 (default %(default)s); "
                        "write --estimation=-250,-11 because of the minus sign")
    p.add_argument("--window", action="append", metavar="START,END",
                   help="event window, repeatable (default: " + " ".join(f"{a},{b}" for a, b in DEFAULT_WINDOWS) + ")")
    p.add_argument("--returns", choices=("simple", "log"), default="simple", help="return type (default simple)")


def version() -> str:
    from eventstudy import __version__
    return __version__
