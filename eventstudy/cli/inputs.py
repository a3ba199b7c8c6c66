"""The command line's inputs read from its options: the study, events, universe, hypotheses, limits, bars, the price source and the Dask executor."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from eventstudy.errors import EventStudyError


def study_from(args):
    """The study of --study FOLDER (default: the bundled one), read once per command."""
    if getattr(args, "study_obj", None) is None:
        from eventstudy.inputs.study import load_study
        args.study_obj = load_study(getattr(args, "study", None))
    return args.study_obj


def inputs_from(args):
    from eventstudy.inputs.events import load_events
    from eventstudy.inputs.universe import load_confounders, load_universe

    study = study_from(args)
    bundled = getattr(args, "study", None) is None
    events = load_events(args.events or study.events)
    if args.universe:
        universe = load_universe(args.universe)
    else:
        universe = load_universe() if bundled else load_universe(study.universe)
    if getattr(args, "add_universe", None):
        from eventstudy.inputs.universe import extend_universe
        universe = extend_universe(universe, args.add_universe)
    confounders = (load_confounders(study.confounders)
                   if not args.events and study.confounders is not None else None)
    if getattr(args, "instruments", None):
        from eventstudy.inputs.instruments import load_instruments
        args.instruments_table = load_instruments(args.instruments)
    return events, universe, confounders


def limits_from(args):
    """The price-limit days of --limits, or None."""
    if not getattr(args, "limits", None):
        return None
    from eventstudy.data.limits import load_limits
    return load_limits(args.limits)


def hypotheses_from(args, events, universe):
    """The primary hypotheses: --hypotheses FILE, else the packaged study's when the packaged events are used."""
    from eventstudy.inputs.hypotheses import load_hypotheses

    study = study_from(args)
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


def check_scale_args(args) -> None:
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
def dask_executor(args):
    """The Dask client of --scheduler ADDRESS or --workers N (closed at the end), or None."""
    address, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if address is None and workers is None:
        yield None
        return
    check_scale_args(args)
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


def source_from(args):
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


def firm_inputs_from(args):
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
    if getattr(args, "add_universe", None):
        if universe is None:
            raise EventStudyError("--add-universe adds securities to a universe: give --universe FILE too "
                                  "(firm-specific events have no study universe)")
        from eventstudy.inputs.universe import extend_universe
        universe = extend_universe(universe, args.add_universe)
    instruments = None
    if args.instruments:
        from eventstudy.inputs.instruments import load_instruments
        instruments = load_instruments(args.instruments)
    if not args.benchmark and universe is None and args.model != "constant_mean":
        raise EventStudyError("--firm-events needs the market return: --benchmark TICKER (e.g. 1306.T), or a "
                              "--universe with a benchmark per ticker, or --model constant_mean")
    return events, universe, instruments


def bars_from(args):
    """The bars of --bars, read and checked before the study runs (None without --bars)."""
    if not getattr(args, "bars", None):
        return None
    from eventstudy.data.bars import load_bars
    from eventstudy.returns.intraday import parse_window
    for w in getattr(args, "bars_window", None) or ():
        parse_window(w)
    bars = load_bars(args.bars, ticker=args.bars_ticker or Path(args.bars).stem, timezone=args.bars_timezone)
    for opt, name in (("--bars-ticker", args.bars_ticker), ("--bars-benchmark", getattr(args, "bars_benchmark", None))):
        if name and name not in bars.tickers:
            raise EventStudyError(f"{opt} {name!r}: the bar file {args.bars} has no such ticker; its tickers: "
                                  f"{', '.join(bars.tickers)}")
    return bars
