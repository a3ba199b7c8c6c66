"""The entry point: parse, dispatch, and turn every user error into one line and exit status 2."""
from __future__ import annotations

import sys
import warnings
from typing import Sequence

from eventstudy.errors import EventStudyError
from eventstudy.cli.other import cmd_events, cmd_fetch
from eventstudy.cli.parser import build_parser
from eventstudy.cli.placebo import cmd_placebo
from eventstudy.cli.run import cmd_run
from eventstudy.cli.terminal import say, show_warning
from eventstudy.inference import kernels


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        kernels.backend()                    # a wrong EVENTSTUDY_KERNELS is refused before any work
        with warnings.catch_warnings():      # warnings read as messages, without Python's file and line
            warnings.showwarning = show_warning
            return {"run": cmd_run, "events": cmd_events, "fetch": cmd_fetch,
                    "placebo": cmd_placebo}[args.command](args)
    except EventStudyError as exc:
        say(f"eventstudy: error: {exc}")
        return 2
    except KeyboardInterrupt:
        say("eventstudy: interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
