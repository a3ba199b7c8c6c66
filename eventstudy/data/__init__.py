"""Price sources: local files, Yahoo Finance (with a local cache) and the bundled simulated market."""
from __future__ import annotations

from eventstudy.data.base import (
    Prices,
    PriceDataWarning,
    PriceSource,
    describe_fields,
    validate_price_frame,
)
from eventstudy.data.files import FileSource

__all__ = [
    "Prices",
    "PriceDataWarning",
    "PriceSource",
    "describe_fields",
    "validate_price_frame",
    "FileSource",
]
