"""``eventstudy run``: the study (shared-date or firm-specific) into a run folder."""
from __future__ import annotations

import warnings
from pathlib import Path

from eventstudy.errors import EventStudyError
from eventstudy.estimation.windows import DEFAULT_WINDOWS
from eventstudy.cli.inputs import bars_from, check_scale_args, dask_executor, firm_inputs_from, hypotheses_from, inputs_from, limits_from, source_from, study_from
from eventstudy.cli.stream import check_stream_args, cmd_stream
from eventstudy.cli.terminal import print_headline, say, say_exclusions, write_error


def cmd_run(args) -> int:
    from eventstudy.estimation.windows import WindowSpec

    spec = WindowSpec.build(args.estimation, args.window or DEFAULT_WINDOWS)
    # the report formats are checked before the study runs: a typo must not cost the whole run
    from eventstudy.present.formats import REPORT_FORMATS
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
    check_scale_args(args)
    if check_stream_args(args):
        return cmd_stream(args, spec)
    from eventstudy.outputs.runfolder import RunFolder
    folder = RunFolder(args.out, "--out folder")     # '' refused here
    from eventstudy.io_utils import check_out_dir
    check_out_dir(folder.out, "--out folder")        # a bad --out must not cost the whole run either
    if args.firm_events and args.bars:
        raise EventStudyError("--bars goes with --events studies (the shared-date design), not --firm-events")
    if args.measure:            # returns alone (the default) needs none of the measures' machinery
        from eventstudy.pipeline.measures import parse_measures
        args.measures = parse_measures(args.measure)
    else:
        args.measures = ("returns",)
    if "volume" in args.measures and not (args.volume or args.prices):
        raise EventStudyError("--measure volume needs trading volume: give --prices FILE (or --volume FILE) with "
                              "a volume column; the bundled SIMULATED market and Yahoo prices carry none here")
    if args.firm_events and len(args.measures) > 1:
        raise EventStudyError("--measure volume|volatility is built for --events studies (every event on every "
                              "instrument); with --firm-events only returns are measured for now")
    if args.firm_events:
        return run_firm(args, spec, folder)
    if args.benchmark or args.by or args.overlap != "flag":
        raise EventStudyError("--benchmark, --by and --overlap go with --firm-events FILE (firm-specific events); "
                              "for --events the benchmark of each instrument comes from the universe")
    events, universe, confounders = inputs_from(args)
    hypotheses = hypotheses_from(args, events, universe)
    limits = limits_from(args)
    source = source_from(args)
    args.bars_obj = bars_from(args)                 # bad bars fail before the study runs
    args.volume_frame = None
    if "volume" in args.measures:                   # and so does a bad volume file
        from eventstudy.data.volume import read_volume_files
        args.volume_files = [args.volume] if args.volume else args.prices
        args.volume_frame = read_volume_files(args.volume_files)
    # the figure workers start first (they must not inherit the folder's lock); folder: locked, staged, swapped in
    with figure_workers(args, formats) as workers, folder:
        return run_into(args, folder, spec, formats, events, universe, confounders, source, hypotheses, limits,
                        workers)


def figure_workers(args, formats):
    """Processes for the report's figures, started before the study so that they import the plotting
    stack meanwhile (a no-op context without a report with figures)."""
    import contextlib

    if args.no_report or not ("html" in formats or "md" in formats):
        return contextlib.nullcontext()
    from eventstudy.outputs.figure_files import FigureWorkers
    return FigureWorkers()


def run_into(args, folder, spec, formats, events, universe, confounders, source, hypotheses, limits,
             workers=None) -> int:
    from eventstudy.outputs.csvs import write_tables
    from eventstudy.pipeline.study import run_study
    say(f"eventstudy: {len(events)} events x {len(universe)} instruments, model {args.model}, "
         f"estimation [{spec.estimation[0]},{spec.estimation[1]}], windows "
         + " ".join(f"[{a},{b}]" for a, b in spec.windows))
    with warnings.catch_warnings(), dask_executor(args) as executor:
        warnings.simplefilter("ignore", category=RuntimeWarning)
        run = run_study(events, universe, source, model=args.model, estimation=spec.estimation, windows=spec.windows,
                        return_kind=args.returns, extra_factors=tuple(args.factor) if args.factor else None,
                        study=study_from(args), bootstrap=args.bootstrap, seed=args.seed, confounders=confounders,
                        hypotheses=hypotheses, limits=limits, limit_treatment=args.limit_treatment,
                        instruments=getattr(args, "instruments_table", None), alignment=args.alignment,
                        executor=executor)
    if run.simulated:
        say("eventstudy: SIMULATED data (the bundled offline market) - not market data")
    say(f"eventstudy: prices from {run.prices.source}")
    if not run.simulated:
        from eventstudy.data.base import describe_fields
        say(f"eventstudy: {describe_fields(run.prices.field)}")
    out = Path(args.out)
    stage = folder.path
    figures = start_report_figures(args, run, stage, formats, workers)    # drawn by the workers meanwhile
    try:
        written = write_tables(run, stage, table_format=args.table_format, raw=args.raw_csv)
        from eventstudy.present.tables import impact_table
        impact = None if args.no_report else impact_table(run)      # computed once: headline and report
        print_headline(run, impact)
        if not args.no_report:
            from eventstudy.outputs.report_files import write_report
            written.update(write_report(run, stage, formats=formats, impact=impact, raw_csv=args.raw_csv,
                                        figure_formats=getattr(args, "figure_formats", ("png",)),
                                        figures=figures))
        if getattr(args, "bars_obj", None) is not None:
            written.update(write_bars(args, run, args.bars_obj, stage))
        if len(args.measures) > 1:
            written.update(write_measures(args, run, stage))
    except OSError as exc:      # a full disk, a quota, a vanished folder: the earlier set stays as it was
        raise write_error(out, exc) from None
    finally:
        if figures is not None:
            figures.close()
    folder.commit(manifest_info(args, run))
    say_exclusions(run, out)
    say(f"eventstudy: wrote {len(written)} files and manifest.json to {out}/")
    return 0


def start_report_figures(args, run, stage, formats, workers=None):
    """The report's figures started now (``None`` without a report with figures, or when they cannot
    start: the report then tries again and says why)."""
    if args.no_report or not ("html" in formats or "md" in formats):
        return None
    from eventstudy.outputs.report_files import start_figures
    try:
        return start_figures(run, stage, getattr(args, "figure_formats", ("png",)),
                             workers=workers)
    except Exception:       # reported by write_report, which draws them itself
        return None


def write_measures(args, run, stage) -> dict:
    """``--measure volume|volatility``: the measures on the run, their tables, figure and report section."""
    from eventstudy.pipeline.measures import run_measures
    from eventstudy.present.tables import lead_window
    from eventstudy.outputs.measures import write_measures

    volume, src = None, ""
    if "volume" in args.measures:
        files = args.volume_files                  # read before the run: a bad file fails early
        volume = args.volume_frame
        src = f"file{'s' if len(files) > 1 else ''} {', '.join(map(str, files))}" + ("; turnover = volume / shares_outstanding" if volume.attrs.get("measure") == "turnover"
                                else "")
    say("eventstudy: measures " + ", ".join(args.measures[1:]) + (f" (volume from {src})" if src else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mr = run_measures(run, args.measures, volume=volume, volume_market=args.volume_market,
                          volume_calendar=args.volume_calendar, volume_source=src)
    written = write_measures(run, mr, stage, lead_window(run), table_format=args.table_format, raw=args.raw_csv,
                             figures=not args.no_report, report=not args.no_report)
    names = sorted(n for n in written if n.startswith(("volume_", "volatility_")))
    say("eventstudy: measures written: " + ", ".join(names)
         + ("" if args.no_report else "; report section 'Volume and volatility'"))
    return written


def write_bars(args, run, bars, stage) -> dict:
    """The intraday study of --bars on the run's events, written into the staging folder."""
    from eventstudy.data.bars import read_daily_ohlc
    from eventstudy.outputs.intraday import write_intraday
    from eventstudy.pipeline.intraday import clock_instruments, intraday_study
    from eventstudy.returns.intraday import DEFAULT_WINDOWS as BAR_WINDOWS

    tickers = args.clock or clock_instruments(study_from(args).defaults.timeline, run.universe)
    daily = read_daily_ohlc(args.prices, tickers) if args.prices else None
    exchanges = dict(zip(run.calendars["ticker"], run.calendars["exchange"])) if len(run.calendars) else {}
    irun = intraday_study(run.events, bars, ticker=args.bars_ticker if args.bars_ticker in bars.tickers else None,
                          venue=args.bars_venue, windows=args.bars_window or BAR_WINDOWS, daily=daily,
                          daily_tickers=tickers, daily_exchanges=exchanges, benchmark=args.bars_benchmark)
    say(f"eventstudy: intraday bars of {irun.ticker} on {irun.venue.code}: bar 0 of "
         f"{int((irun.bar0['bar0_pos'] >= 0).sum())} of {len(irun.bar0)} events")
    return write_intraday(irun, stage, report=not args.no_report, raw=args.raw_csv, simulated=run.simulated,
                          table_format=args.table_format)


def manifest_info(args, run) -> dict:
    """What manifest.json records besides the files: command options, versions, data source."""
    from eventstudy.outputs.runfolder import package_versions
    opts = {k: v for k, v in vars(args).items() if k not in ("command", "bars_obj", "volume_frame", "volume_files")}
    p = run.prices
    return {"command": "eventstudy run", "options": opts, "versions": package_versions(),
            "data": {"source": str(p.source), "simulated": bool(p.simulated),
                     "tickers_with_prices": int(p.frame["ticker"].nunique()),
                     "tickers_without_prices": [str(t) for t in p.failures.get("ticker", [])],
                     "first_date": f"{p.frame['date'].min():%Y-%m-%d}",
                     "last_date": f"{p.frame['date'].max():%Y-%m-%d}"}}


def run_firm(args, spec, folder) -> int:
    """``eventstudy run --firm-events FILE``: pooled firm-specific events; CSVs and a pooled summary."""
    events, universe, instruments = firm_inputs_from(args)
    source = source_from(args)
    with folder:                                     # locked, staged beside --out, swapped in at the end
        return run_firm_into(args, spec, folder, events, universe, instruments, source)


def run_firm_into(args, spec, folder, events, universe, instruments, source) -> int:
    from eventstudy.pipeline.firm import run_firm_study
    from eventstudy.io_utils import spreadsheet_safe
    from eventstudy.outputs.csvs import write_csv, write_csvs

    say(f"eventstudy: firm-specific design: {len(events)} firm-events of {events['ticker'].nunique()} "
         f"securities, model {args.model}, estimation [{spec.estimation[0]},{spec.estimation[1]}], windows "
         + " ".join(f"[{a},{b}]" for a, b in spec.windows) + (f", groups by {args.by}" if args.by else ""))
    with warnings.catch_warnings(), dask_executor(args) as executor:
        warnings.simplefilter("ignore", category=RuntimeWarning)
        run = run_firm_study(events, source, benchmark=args.benchmark, universe=universe, by=args.by,
                             model=args.model, estimation=spec.estimation, windows=spec.windows,
                             return_kind=args.returns, factors=tuple(args.factor or ()), overlap=args.overlap,
                             instruments=instruments, alignment=args.alignment, bootstrap=args.bootstrap,
                             seed=args.seed, executor=executor)
    say(f"eventstudy: prices from {run.prices.source}")
    out = Path(args.out)
    try:
        written = write_csvs(run, folder.path, raw=args.raw_csv)
        if len(run.overlaps):
            ov = run.overlaps if args.raw_csv else spreadsheet_safe(run.overlaps)
            written["overlaps.csv"] = write_csv(ov, folder.path / "overlaps.csv")
    except OSError as exc:
        raise write_error(out, exc) from None
    folder.commit(manifest_info(args, run))
    print(run.result.summary(max_rows=40))
    say(f"eventstudy: wrote {len(written)} files and manifest.json to {out}/ (firm-specific design: CSVs and this "
         "summary; the report covers the shared-date design)")
    return 0
