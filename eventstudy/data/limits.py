"""Daily price-limit days (ストップ高/安): loading, flagging pair-windows, and the treatment option.

A stock stopped at its daily price limit closes at the limit, not where the news would have
taken it: that day's return is censored and the rest arrives on later days. Tokyo's J-Quants
data flags such days (``up_limit`` / ``low_limit``); any other market can give its own file.

A limits file is a CSV with ``date, ticker`` and either ``up_limit, low_limit`` flags (0/1,
J-Quants style) or a ``kind`` column (``up`` / ``down``); any other column is ignored.
Treatments (docs/METHODS.md, section 10): ``flag`` (default) keeps every pair and lists each
pair-window that contains a limit day in ``limit_flags.csv``; ``exclude`` leaves out every
(event, security) pair with a limit day inside any computed event window, listed in
``exclusions.csv`` with the reason. A limit on day 0 is always reported.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eventstudy.errors import LimitsFileError
from eventstudy.io_utils import csv_records, names_its_file, problems_message, read_user_text

__all__ = ["LimitsFileError", "LIMIT_TREATMENTS", "LIMIT_FLAG_COLUMNS", "load_limits", "limit_flags",
           "limit_pairs_to_exclude"]

LIMIT_TREATMENTS = ("flag", "exclude")
LIMIT_FLAG_COLUMNS = ["event_id", "ticker", "group", "window_start", "window_end", "limit_days", "limit_dates",
                      "day0_limit"]



def _truthy(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower().isin(["1", "1.0", "true", "yes", "y"])


@names_its_file
def load_limits(path: str | Path) -> pd.DataFrame:
    """Read a price-limit file -> ``date`` (Timestamp), ``ticker``, ``kind`` ('up' | 'down'), one row per
    limit hit (a day flagged both ways gives two rows). Bad files raise :class:`LimitsFileError`."""
    p = Path(path)
    text = read_user_text(p, "price-limit file", LimitsFileError,
                          hint=" (columns date,ticker and up_limit,low_limit flags or a kind column up/down)")
    records = csv_records(text, f"price-limit file {str(p)!r}", LimitsFileError)
    if not records:
        raise LimitsFileError(f"price-limit file {str(p)!r} is empty: it needs a header line (date,ticker,...) "
                              "and one row per limit day.")
    header, header_line = [c.strip() for c in records[0][2]], records[0][0]
    lower = [h.lower() for h in header]
    dup = sorted({h for h in lower if lower.count(h) > 1})
    if dup:
        raise LimitsFileError(f"price-limit file {str(p)!r}, line {header_line}: column(s) {', '.join(dup)} appear "
                              "more than once; keep one of each.", line=header_line)
    bad_rows = [first for first, _, cells in records[1:] if len(cells) != len(header)]
    short = [f"line {first}: {len(cells)} cells but the header has {len(header)}; fix or remove the row."
             for first, _, cells in records[1:] if len(cells) != len(header)]
    if short:
        where = f"price-limit file {str(p)!r}"
        raise LimitsFileError(f"{where}, {short[0]}" if len(short) == 1 else problems_message(where, short),
                              line=bad_rows[0] if len(bad_rows) == 1 else None)
    df = pd.DataFrame([cells for _, _, cells in records[1:]], columns=header, dtype=str)
    line_of = np.array([first for first, _, _ in records[1:]], dtype=int)
    cols = {c.strip().lower(): c for c in df.columns}
    if "date" not in cols or "ticker" not in cols:
        raise LimitsFileError(f"price-limit file {str(p)!r}, line {header_line}: needs columns date and ticker "
                              f"(found: {', '.join(df.columns)}).", line=header_line)
    dates = pd.to_datetime(df[cols["date"]].str.strip(), errors="coerce", format="%Y-%m-%d")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise LimitsFileError(f"price-limit file {str(p)!r}, line {line_of[i]}: date {df[cols['date']].iloc[i]!r} is not "
                              "YYYY-MM-DD; fix or remove the row.", line=int(line_of[i]))
    tick = df[cols["ticker"]].str.strip()
    parts = []
    if "kind" in cols:
        k = df[cols["kind"]].str.strip().str.lower()
        badk = np.flatnonzero(~k.isin(["up", "down"]).to_numpy())
        if badk.size:
            i = int(badk[0])
            raise LimitsFileError(f"price-limit file {str(p)!r}, line {line_of[i]}: kind {df[cols['kind']].iloc[i]!r} "
                                  "must be up or down.", line=int(line_of[i]))
        parts.append(pd.DataFrame({"date": dates, "ticker": tick, "kind": k}))
    else:
        low = cols.get("low_limit", cols.get("under_limit", cols.get("underlimit", cols.get("lowlimit"))))
        up = cols.get("up_limit", cols.get("uplimit"))
        if up is None or low is None:
            raise LimitsFileError(f"price-limit file {str(p)!r}, line {header_line}: needs up_limit and low_limit flag columns "
                                  f"or a kind column (found: {', '.join(df.columns)}).", line=header_line)
        u, d = _truthy(df[up]), _truthy(df[low])
        parts.append(pd.DataFrame({"date": dates[u], "ticker": tick[u], "kind": "up"}))
        parts.append(pd.DataFrame({"date": dates[d], "ticker": tick[d], "kind": "down"}))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["ticker", "date", "kind"]).reset_index(drop=True)


def limit_flags(result, limits: pd.DataFrame | None) -> pd.DataFrame:
    """Every (event, security, window) whose window contains a price-limit day: ``event_id, ticker, group,
    window_start, window_end, limit_days`` (count), ``limit_dates`` ('YYYY-MM-DD up; ...'), ``day0_limit``
    (a limit on day 0). Computed on the event-window abnormal-return dates of ``result.ar`` (each
    security's own sessions); empty when ``limits`` is None or empty."""
    if limits is None or not len(limits) or result.ar.empty:
        return pd.DataFrame(columns=LIMIT_FLAG_COLUMNS)
    ar = result.ar[["event_id", "ticker", "group", "date", "rel_day"]]
    hit = ar.merge(limits[["date", "ticker", "kind"]], on=["date", "ticker"], how="inner")
    if hit.empty:
        return pd.DataFrame(columns=LIMIT_FLAG_COLUMNS)
    parts = []
    for ws, we in result.windows:
        h = hit[(hit["rel_day"] >= ws) & (hit["rel_day"] <= we)]
        if h.empty:
            continue
        h = h.assign(txt=h["date"].dt.strftime("%Y-%m-%d") + " " + h["kind"], d0=h["rel_day"] == 0)
        g = h.groupby(["event_id", "ticker", "group"], sort=False).agg(
            limit_days=("date", "nunique"), limit_dates=("txt", lambda s: "; ".join(sorted(set(s)))),
            day0_limit=("d0", "any")).reset_index()
        g["window_start"], g["window_end"] = ws, we
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=LIMIT_FLAG_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[LIMIT_FLAG_COLUMNS]
    return out.sort_values(["event_id", "ticker", "window_start", "window_end"]).reset_index(drop=True)


def limit_pairs_to_exclude(pairs: pd.DataFrame, sessions: dict[str, pd.DatetimeIndex], limits: pd.DataFrame,
                           rmin: int, rmax: int) -> pd.DataFrame:
    """The (event, ticker) pairs of ``pairs`` (ticker, event_id, day0) with a limit day between relative
    days ``rmin`` and ``rmax`` on the ticker's own sessions: ``ticker, event_id, reason``."""
    rows = []
    lim = limits.groupby("ticker")
    have = set(limits["ticker"])
    for t, grp in pairs.groupby("ticker", sort=False):       # a loop over securities, not pairs
        if t not in have or t not in sessions:
            continue
        sess = sessions[t]
        ld = lim.get_group(t)
        lpos = sess.get_indexer(pd.DatetimeIndex(ld["date"]))
        kinds = ld["kind"].to_numpy()[lpos >= 0]
        lpos = lpos[lpos >= 0]
        if not lpos.size:
            continue
        d0 = sess.get_indexer(pd.DatetimeIndex(grp["day0"]))
        rel = lpos[None, :] - d0[:, None]
        inside = (rel >= rmin) & (rel <= rmax) & (d0[:, None] >= 0)
        for j in np.flatnonzero(inside.any(axis=1)):
            k = np.flatnonzero(inside[j])
            txt = ", ".join(f"{sess[lpos[x]]:%Y-%m-%d} {kinds[x]}" for x in k)
            rows.append(dict(ticker=t, event_id=grp["event_id"].iloc[j],
                             reason=f"price-limit day inside the event windows ({txt}); --limit-treatment exclude"))
    return pd.DataFrame(rows, columns=["ticker", "event_id", "reason"])
