"""Price sources: local files, Yahoo Finance (with a local cache) and the bundled simulated market."""
from __future__ import annotations

from eventstudy.data.base import Prices, PriceDataWarning, PriceSource, describe_fields
from eventstudy.data.validate import validate_price_frame
from eventstudy.data.cache import CacheWarning, PriceCache
from eventstudy.data.files import FileSource
from eventstudy.data.yahoo import YahooSource

__all__ = [
    "Prices",
    "PriceDataWarning",
    "PriceSource",
    "describe_fields",
    "validate_price_frame",
    "CacheWarning",
    "PriceCache",
    "FileSource",
    "YahooSource",
]

from eventstudy.data.offline import OfflineSource  # noqa: E402

__all__ += ["OfflineSource"]
