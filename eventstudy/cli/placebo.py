"""``eventstudy placebo``: placebo calibration into the run folder."""
from __future__ import annotations

import warnings
from pathlib import Path

from eventstudy.errors import EventStudyError
from eventstudy.estimation.windows import DEFAULT_WINDOWS
from eventstudy.cli.inputs import firm_inputs_from, hypotheses_from, inputs_from, limits_from, source_from, study_from
from eventstudy.cli.run import manifest_info
from eventstudy.cli.terminal import say, write_error


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
        events, universe, instruments = firm_inputs_from(args)
        source = source_from(args)
        with folder:
            return placebo_into(args, folder, spec, effects, events, universe, None, None, None, source,
                                 instruments=instruments)
    if args.benchmark or args.by or args.overlap != "flag":
        raise EventStudyError("--benchmark, --by and --overlap go with --firm-events FILE (firm-specific events)")
    events, universe, confounders = inputs_from(args)
    hypotheses = hypotheses_from(args, events, universe)
    limits = limits_from(args)
    source = source_from(args)
    with folder:                 # locked; the earlier run's files and the placebo's are swapped in as one unit
        return placebo_into(args, folder, spec, effects, events, universe, confounders, hypotheses, limits, source)


def placebo_into(args, folder, spec, effects, events, universe, confounders, hypotheses, limits, source,
                  instruments=None) -> int:
    from eventstudy.pipeline.placebo import placebo_study, study_for_placebo
    from eventstudy.outputs.placebo_files import carry_over, write_placebo

    say(f"eventstudy placebo: {args.draws} draws, effects {', '.join(f'{100 * e:g}%' for e in effects)}, "
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
                                    study=study_from(args), confounders=confounders,
                                    instruments=getattr(args, "instruments_table", None), alignment=args.alignment,
                                    hypotheses=hypotheses, limits=limits, limit_treatment=args.limit_treatment,
                                    regressions=False)
        if run.simulated:
            say("eventstudy: SIMULATED data (the bundled offline market) - not market data")
        pr = placebo_study(run, draws=args.draws, effects=effects, seed=args.seed, margin=args.margin,
                           min_estimation=args.min_estimation)
    from eventstudy.present.tables import lead_window
    lw = lead_window(run)
    try:
        previous = carry_over(folder.out, folder.path)
        written = write_placebo(pr, folder.path, window=lw, hypotheses=getattr(run, "hypotheses", None),
                                labels=getattr(run, "labels", None))
    except OSError as exc:
        raise write_error(Path(args.out), exc) from None
    info = manifest_info(args, run)
    info["command"] = "eventstudy placebo"
    if previous:
        info["previous_run"] = previous
    folder.commit(info)
    print(pr.summary(window=lw))
    if args.firm_events:
        sizes = [len(v) for v in pr.eligible.values()]
        say(f"eventstudy: {args.draws} draws of {pr.info['placebo_pairs'] // max(args.draws, 1)} firm-events, each "
             f"from its firm's eligible dates ({min(sizes)} to {max(sizes)} per firm); wrote {len(written)} files "
             f"and manifest.json to {args.out}/")
    else:
        say(f"eventstudy: {pr.info['placebo_events']} distinct placebo dates from "
             f"{', '.join(str(len(v)) for v in pr.eligible.values())} eligible; wrote {len(written)} files "
             f"and manifest.json to {args.out}/")
    return 0
