"""Price sources: local files, Yahoo Finance (with a local cache) and the bundled simulated market.

The public names are imported on first use (PEP 562): a run on local files does not import the Yahoo
source, its cache or pyarrow's Parquet and file-system layers.
"""
from __future__ import annotations

from eventstudy.lazy import lazy_attributes

#: public name -> the submodule that defines it
_LAZY = {
    "Prices": ".base", "PriceDataWarning": ".base", "PriceSource": ".base", "describe_fields": ".base",
    "validate_price_frame": ".validate",
    "CacheWarning": ".cache", "PriceCache": ".cache",
    "FileSource": ".files",
    "YahooSource": ".yahoo",
    "OfflineSource": ".offline",
}

__all__ = list(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY, globals())
