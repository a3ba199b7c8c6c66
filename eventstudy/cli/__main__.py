"""``python -m eventstudy.cli``: the command line (the same process as the ``eventstudy`` command)."""
from eventstudy.cli.entry import console

console()
