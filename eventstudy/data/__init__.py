"""Price sources: local files, Yahoo Finance (with a local cache) and the bundled simulated market.

The public names are imported on first use (PEP 562): a run on local files does not import the Yahoo
source, its cache or pyarrow's Parquet and file-system layers.
"""
from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    sub = _LAZY.get(name)
    if sub is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(sub, __name__), name)
    globals()[name] = value
    return value
