"""``eventstudy run --stream DIR``: the study fitted chunk by chunk into a Parquet dataset (results larger
than memory), resumable, through :func:`eventstudy.outputs.stream.stream_study`."""
from __future__ import annotations

import hashlib
import warnings

import pandas as pd

from eventstudy.errors import EventStudyError
from eventstudy.cli.inputs import dask_executor, inputs_from, limits_from, source_from, study_from
from eventstudy.cli.terminal import say

#: options that do not change a streamed study's numbers (where it runs, what else is written)
NOT_RECORDED = ("command", "out", "stream", "scheduler", "workers", "no_report", "format", "figure_format",
                "figure_formats", "raw_csv", "table_format", "bars_obj", "study_obj", "instruments_table", "measures",
                "volume_frame", "volume_files")


def check_stream_args(args) -> bool:
    """True for a streamed run; refuses --aggregates-only / --chunk-pairs without --stream and what a streamed
    run does not do (firm-specific events, bars, measures), before any data is read."""
    stream = getattr(args, "stream", None)
    if stream is None:
        if getattr(args, "aggregates_only", False) or getattr(args, "chunk_pairs", None) is not None:
            raise EventStudyError("--aggregates-only and --chunk-pairs go with --stream DIR (results streamed to a "
                                  "Parquet dataset)")
        return False
    if not str(stream).strip():
        raise EventStudyError("--stream: give a folder for the Parquet dataset")
    if args.chunk_pairs is not None and args.chunk_pairs < 1:
        raise EventStudyError(f"--chunk-pairs {args.chunk_pairs}: give a number of pairs >= 1")
    unsupported = [flag for flag, on in (("--firm-events", args.firm_events), ("--bars", args.bars),
                                         ("--measure", args.measure)) if on]
    if unsupported:
        raise EventStudyError(f"--stream writes the engine's tables of an --events study; {unsupported[0]} is not "
                              "streamed: run without --stream for it")
    return True


def recorded_options(args, pairs: pd.DataFrame) -> dict:
    """The options that shape the study's numbers, and a digest of its pairs (ticker, event, day 0, group):
    a resumed run must match them."""
    opts = {k: v for k, v in sorted(vars(args).items()) if k not in NOT_RECORDED
            and (v is None or isinstance(v, (str, int, float, bool, list, tuple)))}
    digest = hashlib.sha256(pd.util.hash_pandas_object(pairs, index=False).to_numpy().tobytes()).hexdigest()
    return {**opts, "pairs_sha256": digest}


def cmd_stream(args, spec) -> int:
    """Build the study (:func:`eventstudy.pipeline.study.build_study`) and stream its fit into ``args.stream``."""
    from eventstudy.outputs.stream import stream_study
    from eventstudy.pipeline.checks import single_instrument_tests
    from eventstudy.pipeline.study import build_study

    events, universe, confounders = inputs_from(args)
    say(f"eventstudy: {len(events)} events x {len(universe)} instruments, model {args.model}, streamed to "
        f"{args.stream}/" + (" (aggregates only)" if args.aggregates_only else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        built = build_study(events, universe, source_from(args), model=args.model, estimation=spec.estimation,
                            windows=spec.windows, return_kind=args.returns,
                            extra_factors=tuple(args.factor) if args.factor else None, study=study_from(args),
                            confounders=confounders, limits=limits_from(args), limit_treatment=args.limit_treatment,
                            instruments=getattr(args, "instruments_table", None), alignment=args.alignment)
        single = built.config.pool_exclude

        def blank(tables: dict) -> dict:            # as run_study reports the single-instrument groups
            return {**tables, "tests": single_instrument_tests(tables["tests"], single)}

        with dask_executor(args) as executor:
            info = stream_study(built.study, args.stream, bootstrap=args.bootstrap, seed=args.seed,
                                chunk_pairs=args.chunk_pairs or 4_000, executor=executor,
                                aggregates_only=args.aggregates_only, transform=blank,
                                options=recorded_options(args, built.study.pairs))
    if built.prices.simulated:
        say("eventstudy: SIMULATED data (the bundled offline market) - not market data")
    say(f"eventstudy: prices from {built.prices.source}")
    say(f"eventstudy: {info['written']} chunk(s) of events written, {info['skipped']} already there (resumed) in "
        f"{info['folder']}/; read a table with pandas.read_parquet('{info['folder']}/tests')")
    return 0
