"""A study as data: its files, its labels and its defaults, read from a folder's ``study.toml``.

A study folder holds the study's CSV files and a small ``study.toml``::

    name = "my_study"
    title = "..."
    [files]      events = "events.csv"; universe = "universe.csv"   (hypotheses, confounders, excluded: optional)
    [defaults]   base_group, extra_factors, not_pooled, timeline, ex_post_groups   (all optional)
    [labels]     order = [...]; pooled = "..."; pooled_short = "..."
    [labels.long] / [labels.short]   group id -> text
    [labels.style]                   group id -> [colour, marker, line style]
    [labels.sections]                report texts: instruments (heading of the non-pooled groups'
                                     section), timeline, timeline_title, single_instruments

The library takes a :class:`Study` (or its :class:`Labels` and :class:`StudyDefaults`) as
arguments; no module imports a study. The bundled China–Japan study lives in
``eventstudy/study/china_japan/`` and is what ``eventstudy run`` uses without ``--study``.
Every problem raises :class:`~eventstudy.errors.StudyConfigError` naming the file and the key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from eventstudy.errors import StudyConfigError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["Style", "Labels", "StudyDefaults", "Study", "load_study", "bundled_study", "BUNDLED_STUDY_DIR",
           "POOLED_STYLE", "default_universe_path", "default_events_path", "default_confounders_path",
           "default_excluded_path", "default_hypotheses_path"]

#: Folder of the bundled China–Japan study (data only: CSV files and study.toml).
BUNDLED_STUDY_DIR = Path(__file__).resolve().parent.parent / "study" / "china_japan"

_FALLBACK_COLORS = ("#117733", "#882255", "#44AA99", "#AA4499", "#999933", "#661100", "#6699CC", "#888888")
_FALLBACK_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "h")
_FALLBACK_LINES = ("-", "--", "-.", ":")


@dataclass(frozen=True)
class Style:
    """How one group is drawn: colour (hex), marker and line style."""

    color: str
    marker: str
    linestyle: str


#: Style of the pooled group.
POOLED_STYLE = Style("#332288", "*", "-")


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Labels:
    """How groups are named, ordered and drawn in tables, figures and reports.

    Any group id without a label is shown as its id; groups outside ``order`` follow the
    ordered ones in order of appearance; the pooled group (id ``pooled_id``) comes last.
    """

    order: tuple[str, ...] = ()
    long: Mapping[str, str] = field(default_factory=dict)
    short: Mapping[str, str] = field(default_factory=dict)
    style: Mapping[str, Style] = field(default_factory=dict)
    sections: Mapping[str, str] = field(default_factory=dict)
    pooled: str = "All equities (pooled)"
    pooled_short: str = "All equities"
    pooled_id: str = "all"

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", tuple(str(g) for g in self.order))
        for name in ("long", "short", "style", "sections"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def __reduce__(self):
        return (_labels_from_state, ((self.order, dict(self.long), dict(self.short), dict(self.style),
                                      dict(self.sections), self.pooled, self.pooled_short, self.pooled_id),))

    def label(self, group: str, short: bool = False) -> str:
        """Human label of a group id (``short`` for wide tables)."""
        g = str(group)
        if short:
            if g == self.pooled_id and g not in self.short:
                return self.pooled_short
            return self.short.get(g, g)
        if g == self.pooled_id:
            return self.pooled
        return self.long.get(g, g)

    def ordered(self, groups: Iterable[str], pooled: str | None = "all") -> list[str]:
        """``groups`` in study order, then the others in order of appearance, ``pooled`` last."""
        groups = list(dict.fromkeys(groups))
        known = [g for g in self.order if g in groups]
        other = [g for g in groups if g not in self.order and g != pooled]
        tail = [pooled] if pooled in groups else []
        return known + other + tail

    def styles(self, groups: Iterable[str]) -> dict[str, Style]:
        """Style for each group: the study's for its groups (and the pooled one), a deterministic
        fallback (by sorted name) for any other id, so a group looks the same in every figure."""
        groups = list(dict.fromkeys(str(g) for g in groups))
        fixed = dict(self.style)
        fixed.setdefault(self.pooled_id, POOLED_STYLE)
        out = {g: fixed[g] for g in groups if g in fixed}
        others = sorted(g for g in groups if g not in fixed)
        for i, g in enumerate(others):
            out[g] = Style(_FALLBACK_COLORS[i % len(_FALLBACK_COLORS)], _FALLBACK_MARKERS[i % len(_FALLBACK_MARKERS)],
                           _FALLBACK_LINES[(i // len(_FALLBACK_COLORS)) % len(_FALLBACK_LINES)])
        return out

    def section(self, key: str, default: str) -> str:
        """Heading of a report section a study may rename (``default`` otherwise)."""
        return self.sections.get(key, default)


def _labels_from_state(state) -> Labels:
    order, long, short, style, sections, pooled, pooled_short, pooled_id = state
    return Labels(order, long, short, style, sections, pooled, pooled_short, pooled_id)


@dataclass(frozen=True)
class StudyDefaults:
    """A study's defaults for the pipeline (each can be overridden by an argument or a CLI flag)."""

    base_group: str | None = None
    extra_factors: tuple[str, ...] = ()
    not_pooled: tuple[str, ...] = ()
    timeline: tuple[str, ...] = ()
    ex_post_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Study:
    """A study: its files (absolute paths, ``None`` when the study has none), labels and defaults."""

    name: str
    title: str
    folder: Path | None
    events: Path | None
    universe: Path | None
    hypotheses: Path | None = None
    confounders: Path | None = None
    excluded: Path | None = None
    labels: Labels = field(default_factory=Labels)
    defaults: StudyDefaults = field(default_factory=StudyDefaults)


_FILE_KEYS = ("events", "universe", "hypotheses", "confounders", "excluded")
_DEFAULT_KEYS = ("base_group", "extra_factors", "not_pooled", "timeline", "ex_post_groups")
_LABEL_KEYS = ("order", "pooled", "pooled_short", "long", "short", "style", "sections")
#: report texts a study may set in [labels.sections]
SECTION_KEYS = ("instruments", "timeline", "timeline_title", "single_instruments")


def _strings(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StudyConfigError(f"{where} must be a list of strings, e.g. [\"a\", \"b\"].")
    return tuple(value)


def _text_map(value, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StudyConfigError(f"{where} must be a table of group id = \"text\".")
    return dict(value)


def _unknown(table: dict, allowed: tuple[str, ...], where: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise StudyConfigError(f"{where}: unknown key(s) {', '.join(extra)}. Allowed: {', '.join(allowed)}.")


def load_study(folder: str | os.PathLike | None = None) -> Study:
    """Read a study folder's ``study.toml`` (``None``: the bundled China–Japan study).

    Raises :class:`StudyConfigError` naming the file and key for a missing folder or file, bad
    TOML, unknown keys, a listed file that does not exist, and ill-typed labels or defaults.
    """
    base = BUNDLED_STUDY_DIR if folder is None else Path(folder)
    cfg_path = base / "study.toml" if base.is_dir() else base
    if not cfg_path.is_file():
        raise StudyConfigError(f"Study {base}: no study.toml found. A study folder holds study.toml "
                               f"(name, [files] events and universe, optional [labels] and [defaults]).")
    base = cfg_path.parent
    try:
        cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StudyConfigError(f"Study file {cfg_path}: not valid TOML ({exc}). Fix the line it names.") from None
    where = f"Study file {cfg_path}"
    _unknown(cfg, ("name", "title", "files", "defaults", "labels"), where)
    files = cfg.get("files", {})
    _unknown(files, _FILE_KEYS, f"{where} [files]")
    paths: dict[str, Path | None] = {}
    for key in _FILE_KEYS:
        rel = files.get(key)
        if rel is None:
            paths[key] = None
            continue
        p = (base / str(rel)).resolve()
        if not p.is_file():
            raise StudyConfigError(f"{where} [files] {key} = {rel!r}: {p} does not exist. Fix the path "
                                   f"(relative to the study folder) or remove the key.")
        paths[key] = p
    for key in ("events", "universe"):
        if paths[key] is None:
            raise StudyConfigError(f"{where} [files]: {key} is missing. A study needs events and universe files.")

    d = cfg.get("defaults", {})
    _unknown(d, _DEFAULT_KEYS, f"{where} [defaults]")
    base_group = d.get("base_group")
    if base_group is not None and not isinstance(base_group, str):
        raise StudyConfigError(f"{where} [defaults] base_group must be a group id (text).")
    defaults = StudyDefaults(
        base_group=base_group or None,
        **{k: _strings(d[k], f"{where} [defaults] {k}") for k in _DEFAULT_KEYS[1:] if k in d})

    lab = cfg.get("labels", {})
    _unknown(lab, _LABEL_KEYS, f"{where} [labels]")
    styles = {}
    for g, s in (lab.get("style") or {}).items():
        if not (isinstance(s, list) and len(s) == 3 and all(isinstance(x, str) for x in s)):
            raise StudyConfigError(f"{where} [labels.style] {g}: give [colour, marker, line style], "
                                   f"e.g. [\"#0072B2\", \"o\", \"-\"].")
        styles[g] = Style(*s)
    _unknown(lab.get("sections", {}) if isinstance(lab.get("sections", {}), dict) else {}, SECTION_KEYS,
             f"{where} [labels.sections]")
    kw = {k: lab[k] for k in ("pooled", "pooled_short") if k in lab}
    for k, v in kw.items():
        if not isinstance(v, str):
            raise StudyConfigError(f"{where} [labels] {k} must be text.")
    labels = Labels(order=_strings(lab.get("order", []), f"{where} [labels] order"),
                    long=_text_map(lab.get("long", {}), f"{where} [labels.long]"),
                    short=_text_map(lab.get("short", {}), f"{where} [labels.short]"),
                    style=styles,
                    sections=_text_map(lab.get("sections", {}), f"{where} [labels.sections]"), **kw)
    name = cfg.get("name", base.name)
    return Study(name=str(name), title=str(cfg.get("title", name)), folder=base, labels=labels,
                 defaults=defaults, **paths)


_BUNDLED: list[Study] = []


def bundled_study() -> Study:
    """The bundled China–Japan study (read once per process)."""
    if not _BUNDLED:
        _BUNDLED.append(load_study(None))
    return _BUNDLED[0]


def default_universe_path() -> Path:
    """Path of the bundled study's universe (``eventstudy/study/china_japan/universe.csv``)."""
    return BUNDLED_STUDY_DIR / "universe.csv"


def default_events_path() -> Path:
    """Path of the bundled study's events file (a byte-identical copy of the repo's ``events.csv``)."""
    return BUNDLED_STUDY_DIR / "events.csv"


def default_confounders_path() -> Path:
    """Path of the bundled study's confounders list (``date, market, description, source``)."""
    return BUNDLED_STUDY_DIR / "confounders.csv"


def default_excluded_path() -> Path:
    """Path of the bundled study's names left out of the universe, with the reason."""
    return BUNDLED_STUDY_DIR / "universe_excluded.csv"


def default_hypotheses_path() -> Path:
    """Path of the bundled study's pre-registered hypotheses."""
    return BUNDLED_STUDY_DIR / "hypotheses.csv"
