"""``python -m eventstudy.cli``: the command line."""
import sys

from eventstudy.cli.main import main

sys.exit(main())
