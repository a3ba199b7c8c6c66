"""The presentation API as the tests written before issue 12 address it, composed from the modules
that hold it now (test helper, not a test file):

- the file writers moved from ``eventstudy.present`` to ``eventstudy.outputs`` (``save_plots``,
  ``write_report``, ``to_csv``);
- helpers that tables.py shared as private names are public in ``eventstudy.present.table_cells``;
- the group helpers take the study's labels as an argument; these tests run the bundled study, so its
  labels are bound here (``plots.group_label``, ``plots._order_groups``, ``report.SECTIONS``).

Attribute reads fall through to the modules in order; attribute writes (``monkeypatch.setattr``) go
to the module that holds the name, so a stand-in is seen by the library.
"""
from __future__ import annotations

import types
from functools import partial

from eventstudy.inputs.study import bundled_study
from eventstudy.outputs import figure_files, report_files, table_files
from eventstudy.present import figure_data
from eventstudy.present import plots as _plots
from eventstudy.present import report as _report
from eventstudy.present import table_cells
from eventstudy.present import tables as _tables

LABELS = bundled_study().labels


class _View(types.ModuleType):
    def __init__(self, name: str, modules, **own):
        super().__init__(name)
        object.__setattr__(self, "_modules", tuple(modules))
        object.__setattr__(self, "_own", dict(own))

    def __getattr__(self, name):
        own = object.__getattribute__(self, "_own")
        if name in own:
            return own[name]
        for m in object.__getattribute__(self, "_modules"):
            if hasattr(m, name):
                return getattr(m, name)
        raise AttributeError(name)

    def __setattr__(self, name, value):
        for m in object.__getattribute__(self, "_modules"):
            if hasattr(m, name):
                _ORIGINAL.setdefault((m.__name__, name), (m, getattr(m, name)))
                setattr(m, name, value)
                return
        object.__getattribute__(self, "_own")[name] = value

    def __delattr__(self, name):
        """Undo of a patch (pytest's monkeypatch deletes what it set on the view): the module's original."""
        for m in object.__getattribute__(self, "_modules"):
            if (m.__name__, name) in _ORIGINAL:
                setattr(m, name, _ORIGINAL.pop((m.__name__, name))[1])
                return
        object.__getattribute__(self, "_own").pop(name, None)


_ORIGINAL: dict = {}


tables = _View("tables", (_tables, table_files),
               _names_text=table_cells.names_text, _overlap_notes=table_cells.overlap_notes)
plots = _View("plots", (_plots, figure_files),
              group_label=partial(_plots.group_label, labels=LABELS),
              _order_groups=partial(figure_data.order_groups, labels=LABELS))
report = _View("report", (_report, report_files), SECTIONS=_report.sections(LABELS))
