"""Every error a user can cause, organised by problem, and every warning class.

Every message names the file, row, ticker or date involved and says what to do. The CLI
prints these without a traceback and exits with status 2. The common cases carry structured
fields beside the message (``path``/``line`` for a file, ``ticker``/``event_id`` for a pair,
``ticker``/``date``/``calendar`` for a date that is not a session), so code can act on them::

    EventStudyError                       anything a user can cause
    ├── InputError(path, line)            a file or frame the user gives is unusable
    │   ├── EventsFileError               events / firm-events file
    │   ├── UniverseFileError             universe, confounders, excluded-names files
    │   ├── InstrumentError               instruments file, or a declaration the prices contradict
    │   ├── HypothesesFileError           primary hypotheses file
    │   ├── LimitsFileError               price-limit days file
    │   ├── StudyConfigError              a study folder's study.toml
    │   └── PriceDataError                prices file or frame
    ├── DataUnavailableError              data could not be obtained (no network, unknown ticker, no prices)
    ├── CacheError                        the local price cache could not be read or written
    ├── SpecificationError (ValueError)   a study that cannot be specified this way
    │   ├── WindowError                   windows ill-defined or not covered by the data
    │   │   ├── PairsError(ticker, event_id)        a (security, event) pairs frame that cannot be used
    │   │   └── NotASessionError(ticker, date, calendar)  a date that is not a session of the calendar
    │   └── UnknownModelError (also an EstimationError)   a normal-return model name that does not exist
    ├── EstimationError                   a model cannot be estimated (too few observations, constant regressor)
    └── PlaceboError                      placebo calibration cannot run on this panel

Warnings: :class:`PriceDataWarning` (prices usable, something dropped or set missing),
:class:`CacheWarning` (a damaged cache file discarded). Other modules re-export the class they raise, under the same name.
"""
from __future__ import annotations

__all__ = ["EventStudyError", "InputError", "EventsFileError", "UniverseFileError", "InstrumentError",
           "HypothesesFileError", "LimitsFileError", "StudyConfigError", "PriceDataError", "DataUnavailableError",
           "CacheError", "SpecificationError", "WindowError", "PairsError", "NotASessionError",
           "UnknownModelError", "EstimationError", "PlaceboError", "PriceDataWarning", "CacheWarning"]


class EventStudyError(Exception):
    """Base class of all errors a user can cause (bad input, missing data, an impossible specification).

    Subclasses with structured fields take them as keyword arguments after the message; the
    fields survive pickling (errors cross process boundaries in parallel runs)."""

    _fields: tuple[str, ...] = ()

    def __init__(self, message: str = "", **fields: object) -> None:
        super().__init__(message)
        unknown = set(fields) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(sorted(unknown))}")
        for name in self._fields:
            setattr(self, name, fields.get(name))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return (_rebuild, (type(self), self.args, {k: getattr(self, k, None) for k in self._fields}))


def _rebuild(cls: type, args: tuple, fields: dict) -> EventStudyError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    for k, v in fields.items():
        setattr(err, k, v)
    return err


# ---------------------------------------------------------------------------------------------- inputs
class InputError(EventStudyError):
    """A file or frame the user gives is unusable; ``path`` and ``line`` (as the user sees it,
    header = 1) when known."""

    _fields = ("path", "line")


class EventsFileError(InputError):
    """An events file is malformed (missing column, bad date, unknown timezone, ...)."""


class UniverseFileError(InputError):
    """A universe file is malformed (missing column, duplicate ticker, ...)."""


class InstrumentError(InputError):
    """An instrument declaration is unusable or contradicted by the data (unknown exchange, a declared
    calendar on which the prices do not trade, a benchmark or factor absent from the prices, ...)."""


class HypothesesFileError(InputError):
    """A hypotheses file that cannot be used (names the file, the line and what to do)."""


class LimitsFileError(InputError):
    """A price-limit file that cannot be used (names the file, the line and what to do)."""


class StudyConfigError(InputError):
    """A study folder's ``study.toml`` is missing, not valid TOML, or names a file or key that is unusable."""


class PriceDataError(InputError):
    """A prices file or price frame is unusable (missing columns, duplicates, non-positive prices, ...)."""


# ---------------------------------------------------------------------------------------------- data
class DataUnavailableError(EventStudyError):
    """Data could not be obtained (no network, unknown ticker, empty download, no prices in the range)."""


class CacheError(EventStudyError):
    """The local price cache could not be read or written."""


# ---------------------------------------------------------------------------------------------- specification
class SpecificationError(EventStudyError, ValueError):
    """A study that cannot be specified this way (an option, a window, a model name, a pairs frame)."""


class WindowError(SpecificationError):
    """Estimation/event windows are ill-defined or not covered by the data."""


class PairsError(WindowError):
    """A (security, event) pairs frame that cannot be used; ``ticker`` and ``event_id`` of the first
    offending pair when there is one."""

    _fields = ("ticker", "event_id")


class NotASessionError(WindowError):
    """A date that is not a trading session of ``calendar`` (``ticker``'s, when known)."""

    _fields = ("ticker", "date", "calendar")


# ---------------------------------------------------------------------------------------------- estimation
class EstimationError(EventStudyError):
    """A normal-return model cannot be estimated (too few observations, constant regressor, ...)."""


class UnknownModelError(SpecificationError, EstimationError):
    """A normal-return model name that does not exist (both a specification and an estimation problem,
    so code catching either keeps working)."""


class PlaceboError(EventStudyError):
    """Placebo calibration cannot run on this panel (too few eligible dates, bad options, ...)."""


# ---------------------------------------------------------------------------------------------- warnings
class PriceDataWarning(UserWarning):
    """Price data was usable but something was dropped or treated as missing."""


class CacheWarning(UserWarning):
    """A cache file was damaged and has been discarded (it will be downloaded again)."""


class ReturnStoreError(InputError):
    """A Parquet returns store (:mod:`eventstudy.data.return_store`) that is missing, unreadable, not laid
    out by :func:`~eventstudy.data.return_store.write_return_store`, changed since it was opened, or
    given returns that cannot be decimal returns (the message names the file, ticker and date)."""
