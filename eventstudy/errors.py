"""One exception family for everything a user can cause.

Every message names the file, row, ticker or date involved and says what to do.
The CLI prints these without a traceback and exits non-zero.
"""
from __future__ import annotations


class EventStudyError(Exception):
    """Base class of all errors a user can cause (bad input, missing data)."""


class EventsFileError(EventStudyError):
    """An events file is malformed (missing column, bad date, unknown timezone, ...)."""


class UniverseFileError(EventStudyError):
    """A universe file is malformed (missing column, duplicate ticker, ...)."""


class PriceDataError(EventStudyError):
    """A prices file or price frame is unusable (missing columns, duplicates, non-positive prices, ...)."""


class DataUnavailableError(EventStudyError):
    """Data could not be obtained (no network, unknown ticker, empty download)."""


class CacheError(EventStudyError):
    """The local price cache could not be read or written."""


class WindowError(EventStudyError):
    """Estimation/event windows are ill-defined or not covered by the data."""


class EstimationError(EventStudyError):
    """A normal-return model cannot be estimated (too few observations, constant regressor, ...)."""


class InstrumentError(EventStudyError):
    """An instrument declaration is unusable or contradicted by the data (unknown exchange, a declared
    calendar on which the prices do not trade, a benchmark or factor absent from the prices, ...)."""


class StudyConfigError(EventStudyError):
    """A study folder's ``study.toml`` is missing, not valid TOML, or names a file or key that is unusable."""
