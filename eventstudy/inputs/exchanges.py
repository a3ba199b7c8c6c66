"""Exchange names a user may write, and what a ticker's spelling suggests.

:func:`normalise_exchange` reads a declared exchange (an exchange_calendars code, an alias such
as ``TSE`` or ``NYSE``, ``CME`` for CME Globex, ``dates`` for a series' own price dates);
:func:`guess_exchange` guesses one from a Yahoo or Bloomberg spelling (``7203.T``, ``^GSPC``,
``NKD=F``, ``7203 JP Equity``, ``NKY Index``). A guess is only ever used after the series' own
price dates have been checked against it (:func:`eventstudy.calendars.resolve.resolve_calendars`).
"""
from __future__ import annotations

import functools

from eventstudy.errors import UniverseFileError

__all__ = ["EXCHANGE_NAMES", "calendar_names", "guess_exchange", "normalise_exchange"]

# Human names for reports.
EXCHANGE_NAMES = {
    "XTKS": "Tokyo Stock Exchange",
    "XNYS": "New York Stock Exchange",
    "XNAS": "Nasdaq",
    "XASX": "Australian Securities Exchange",
    "XHKG": "Hong Kong Stock Exchange",
    "XLON": "London Stock Exchange",
    "XKRX": "Korea Exchange",
    "XTAI": "Taiwan Stock Exchange",
    "XSHG": "Shanghai Stock Exchange",
    "XBOM": "BSE/NSE India",
    "XTSE": "Toronto Stock Exchange",
    "XETR": "Xetra (Frankfurt)",
    "XPAR": "Euronext Paris",
}
# Yahoo Finance suffix -> exchange_calendars code. NSE (.NS) shares BSE's hours and holidays.
_SUFFIX_EXCHANGE = {
    ".T": "XTKS",
    ".AX": "XASX",
    ".HK": "XHKG",
    ".L": "XLON",
    ".KS": "XKRX",
    ".TW": "XTAI",
    ".SS": "XSHG",
    ".BO": "XBOM",
    ".NS": "XBOM",
    ".TO": "XTSE",
    ".DE": "XETR",
    ".PA": "XPAR",
}
_TOKYO_INDICES = frozenset({"^N225", "^TOPX", "^TPX", "^NKX"})
_US_INDICES = frozenset({"^GSPC", "^SOX", "^VIX", "^DJI", "^IXIC", "^NDX", "^RUT", "^SPX"})
# CME Globex equity-index futures roots (Yahoo continuous contracts ROOT=F) with 17:00-16:00 CT hours.
_GLOBEX_INDEX_ROOTS = frozenset({"NKD", "NIY", "ES", "NQ", "YM", "RTY", "MES", "MNQ", "MYM", "M2K", "EMD"})
# Values accepted for an explicit ``exchange``.
_EXCHANGE_ALIASES = {
    "XTKS": "XTKS", "TSE": "XTKS", "TYO": "XTKS", "JPX": "XTKS", "TOKYO": "XTKS",
    "XNYS": "XNYS", "NYSE": "XNYS", "XNAS": "XNAS", "NASDAQ": "XNAS",
}
_KNOWN_CODES = frozenset(_EXCHANGE_ALIASES.values())
_GLOBEX_ALIASES = frozenset({"CME", "GLOBEX", "CME GLOBEX", "CMES", "CME_GLOBEX"})
_DATES_ALIASES = frozenset({"DATES", "NONE", "PRICE DATES", "PRICE_DATES"})
# Osaka Exchange index derivatives (day and night sessions; trading dates from the venue's rules)
_OSE_ALIASES = frozenset({"OSE", "XOSE", "OSAKA", "JPX OSE", "JPX-OSE"})



@functools.lru_cache(maxsize=1)
def calendar_names() -> frozenset[str]:
    """The exchange_calendars codes and aliases (read once)."""
    import exchange_calendars as xcals

    return frozenset(xcals.get_calendar_names())


# Bloomberg "<code> <country> Equity" country codes -> exchange_calendars code (a convenience guess).
_BLOOMBERG_COUNTRY = {
    "JP": "XTKS", "JT": "XTKS", "US": "XNYS", "UN": "XNYS", "UA": "XNYS", "UW": "XNAS", "UQ": "XNAS",
    "LN": "XLON", "HK": "XHKG", "AU": "XASX", "AT": "XASX", "KS": "XKRX", "TT": "XTAI", "CG": "XSHG",
    "CH": "XSHG", "IN": "XBOM", "IB": "XBOM", "CN": "XTSE", "CT": "XTSE", "GY": "XETR", "GR": "XETR",
    "FP": "XPAR",
}
# Bloomberg index tickers ("NKY Index") -> exchange
_BLOOMBERG_INDICES = {"NKY": "XTKS", "TPX": "XTKS", "SPX": "XNYS", "INDU": "XNYS", "CCMP": "XNAS", "NDX": "XNAS"}


def guess_exchange(ticker: str) -> str | None:
    """A guess of the calendar from the ticker's spelling: an exchange_calendars code, ``'CME'``, or None.

    A convenience for Yahoo symbols (``7203.T`` -> XTKS, ``^GSPC`` -> XNYS, ``NKD=F`` -> CME, plain
    ``AAPL`` -> XNYS) and Bloomberg-style names (``7203 JP Equity`` -> XTKS, ``NKY Index`` -> XTKS).
    A guess is only ever used after the instrument's own price dates have been checked against it
    (:func:`eventstudy.calendars.resolve.resolve_calendars`); a declared exchange always wins.
    """
    t = str(ticker).strip().upper()
    parts = t.split()
    if len(parts) == 3 and parts[2] == "EQUITY":
        return _BLOOMBERG_COUNTRY.get(parts[1])
    if len(parts) == 2 and parts[1] == "INDEX":
        return _BLOOMBERG_INDICES.get(parts[0])
    if len(parts) != 1:
        return None
    if t in _TOKYO_INDICES:
        return "XTKS"
    if t in _US_INDICES:
        return "XNYS"
    if t.endswith(".OSE"):
        return "OSE"
    if t.endswith("=F"):
        return "CME" if t[:-2] in _GLOBEX_INDEX_ROOTS else None
    if "=" in t or t.startswith("^"):
        return None
    dot = t.rfind(".")
    if dot > 0:
        return _SUFFIX_EXCHANGE.get(t[dot:])
    if t and all(ch.isalnum() or ch == "-" for ch in t):
        return "XNYS"  # plain US ticker (BRK-B style class shares included)
    return None


def normalise_exchange(exchange: object, ticker: str = "", error: type[Exception] = UniverseFileError) -> str | None:
    """A declared exchange as ``'CME'``, ``'dates'`` (the instrument's own price dates), an
    exchange_calendars code ('XTKS', 'XNYS', ...), or None when empty (= not declared).

    Accepts aliases ('TSE', 'NYSE', 'Globex', 'price dates', ...), case-insensitive. Raises ``error``
    naming ``ticker`` for anything else.
    """
    if exchange is None or (isinstance(exchange, float) and exchange != exchange):
        return None
    key = str(exchange).strip().upper()
    if not key:
        return None
    if key in _GLOBEX_ALIASES:
        return "CME"
    if key in _DATES_ALIASES:
        return "dates"
    if key in _OSE_ALIASES:
        return "OSE"
    code = _EXCHANGE_ALIASES.get(key, key)
    # the codes of the alias table are exchange_calendars codes: only others need its list (an import)
    if code not in _KNOWN_CODES and code not in calendar_names():
        who = f"ticker {ticker!r}: " if ticker else ""
        raise error(
            f"{who}unknown exchange {exchange!r}: use an exchange_calendars code such as XTKS, XNYS or XNAS, "
            "'CME' for CME Globex futures, 'OSE' for Osaka index derivatives, 'dates' for the dates in your price file, or leave it empty to "
            "guess from the ticker."
        )
    return code
