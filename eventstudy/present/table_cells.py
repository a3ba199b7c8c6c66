"""What the table builders share: the run's labels and section headings, window labels, the display
attributes of a built frame, and the cells of a table (which securities, day 0 per event and group, the
dates a window spans, notes on shared day 0, other events and confounders inside a window)."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from eventstudy.content import simulated_title
from eventstudy.errors import WindowError
from eventstudy.inputs.study import Labels

__all__ = ["NEUTRAL_LABELS", "SECTION_DEFAULTS", "run_labels", "group_label", "section_title", "window_label",
           "group_order", "lead_window", "set_attrs", "pair_members", "event_group_day0", "window_spans",
           "window_labels", "names_text", "overlap_notes", "check_windows"]

#: Labels of a run that has none: every group shown by its id, the pooled group as "All equities".
NEUTRAL_LABELS = Labels()

#: Headings a study may rename (``[labels.sections]`` of its study.toml), with their neutral defaults.
SECTION_DEFAULTS: dict[str, str] = {
    "instruments": "Non-equity instruments",
    "timeline": "Market instruments around the events.",
}


# ----------------------------------------------------------------------------- small helpers
def run_labels(run) -> Labels:
    """The labels of a run (``run.labels``), or :data:`NEUTRAL_LABELS` for a run or result without them."""
    lab = getattr(run, "labels", None)
    return lab if isinstance(lab, Labels) else NEUTRAL_LABELS


def group_label(group: str, short: bool = False, labels: Labels | None = None) -> str:
    """Human label of a group id under ``labels`` (``all`` = the pooled equities; default: neutral labels)."""
    return (labels or NEUTRAL_LABELS).label(str(group), short=short)


def section_title(labels: Labels | None, key: str) -> str:
    """Heading of a study-dependent section (``labels.sections``; default :data:`SECTION_DEFAULTS`)."""
    return (labels or NEUTRAL_LABELS).section(key, SECTION_DEFAULTS[key])


def window_label(start: int, end: int) -> str:
    """``(0, 1) -> "[0,1]"``."""
    return f"[{int(start)},{int(end)}]"


def group_order(groups: Iterable[str], pooled: str | None = "all", labels: Labels | None = None) -> list[str]:
    """``groups`` in the study's order, then other ids in order of appearance, ``pooled`` last."""
    return (labels or NEUTRAL_LABELS).ordered(groups, pooled)


def set_attrs(df: pd.DataFrame, run, title: str, columns: list[tuple[str, str, str]],
               star_map: dict[str, str] | None = None, notes: Sequence[str] = ()) -> pd.DataFrame:
    df.attrs["title"] = simulated_title(title, bool(getattr(run, "simulated", False)))
    df.attrs["simulated"] = bool(getattr(run, "simulated", False))
    df.attrs["columns"] = [list(c) for c in columns]
    df.attrs["stars"] = dict(star_map or {})
    df.attrs["notes"] = list(notes)
    return df


def pair_members(run) -> pd.DataFrame:
    """ticker -> group of every estimated pair (from ``run.result.car``), plus the pooled group."""
    car = run.result.car[["event_id", "ticker", "group"]].drop_duplicates()
    pooled = run.result.pooled_group
    if pooled:
        excl = set(getattr(run.config, "pool_exclude", ()))
        p = car[~car["group"].isin(excl)].copy()
        p["group"] = pooled
        car = pd.concat([car, p], ignore_index=True)
    return car


def event_group_day0(run, members: pd.DataFrame) -> pd.DataFrame:
    """Modal day 0 of each (event, group) over the group's instruments (their own calendars)."""
    d0 = run.day0[["event_id", "ticker", "day0"]].dropna(subset=["day0"])
    m = members.merge(d0, on=["event_id", "ticker"], how="inner")
    if m.empty:
        return pd.DataFrame(columns=["event_id", "group", "day0"])
    cnt = m.groupby(["event_id", "group", "day0"], sort=False).size().rename("k").reset_index()
    cnt = cnt.sort_values(["event_id", "group", "k", "day0"], ascending=[True, True, False, True])
    return cnt.drop_duplicates(["event_id", "group"])[["event_id", "group", "day0"]]


def window_spans(run, members: pd.DataFrame, windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """First and last calendar date of each (event, group, window) from the event-window ARs."""
    ar = run.result.ar[["event_id", "ticker", "rel_day", "date"]]
    per_pair = _pair_spans(ar, windows)
    parts = []
    for k, (ws, we) in enumerate(windows):
        if per_pair is not None:      # each pair's first and last date, then the cells': one row per pair merged
            m = members.merge(per_pair[k], on=["event_id", "ticker"], how="inner")
            g = m.groupby(["event_id", "group"], sort=False).agg(min=("first", "min"), max=("last", "max"))
            g = g.reset_index()
        else:
            m = members.merge(ar, on=["event_id", "ticker"], how="inner")
            sel = m[(m["rel_day"] >= ws) & (m["rel_day"] <= we)]
            g = sel.groupby(["event_id", "group"], sort=False)["date"].agg(["min", "max"]).reset_index()
        g["window_start"], g["window_end"] = ws, we
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=["event_id", "group", "min", "max", "window_start", "window_end"])
    return pd.concat(parts, ignore_index=True).rename(columns={"min": "date_first", "max": "date_last"})


def _pair_spans(ar: pd.DataFrame, windows: Sequence[tuple[int, int]]) -> list[pd.DataFrame] | None:
    """Per window, each pair's first and last date on its window days (``event_id, ticker, first, last``),
    read from the AR table's layout (every pair on the same relative days, in a block of rows); None when the
    table is not laid out so (then the caller merges every row)."""
    n = len(ar)
    if n == 0 or not pd.api.types.is_datetime64_dtype(ar["date"]) or getattr(ar["date"].dt, "tz", None) is not None:
        return None
    rel = ar["rel_day"].to_numpy()
    span = int(np.argmax(rel[1:] <= rel[:-1])) + 1 if n > 1 and (rel[1:] <= rel[:-1]).any() else n
    if n % span or not (rel.reshape(-1, span) == rel[:span]).all():
        return None
    e, t = ar["event_id"], ar["ticker"]
    inner = (e.ne(e.shift()) | t.ne(t.shift())).to_numpy().copy()    # a label change ...
    inner[::span] = False                                      # ... anywhere but at a block's first row
    if inner.any():
        return None
    ev, tk = e.iloc[::span].to_numpy(), t.iloc[::span].to_numpy()
    d = ar["date"].to_numpy().astype("datetime64[ns]").view("int64").reshape(-1, span)
    nat = d == np.iinfo(np.int64).min
    out = []
    for ws, we in windows:
        cols = (rel[:span] >= ws) & (rel[:span] <= we)
        lo = np.where(nat[:, cols], np.iinfo(np.int64).max, d[:, cols]).min(axis=1, initial=np.iinfo(np.int64).max)
        hi = d[:, cols].max(axis=1, initial=np.iinfo(np.int64).min)
        none = nat[:, cols].all(axis=1)
        lo[none] = hi[none] = np.iinfo(np.int64).min          # no date in the window: NaT, as the groupby gives
        out.append(pd.DataFrame({"event_id": ev, "ticker": tk, "first": lo.view("datetime64[ns]"),
                                 "last": hi.view("datetime64[ns]")}))
    return out


def window_labels(starts, ends) -> list[str]:
    """:func:`window_label` of each (start, end), computed once per distinct window."""
    pairs = list(zip(starts, ends))
    lab = {w: window_label(*w) for w in dict.fromkeys(pairs)}
    return [lab[w] for w in pairs]


def names_text(names: Sequence[str], shown: int = 5) -> str:
    """``a, b, c`` or, for many, the first ``shown`` and ``and N more``."""
    names = list(names)
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def overlap_notes(cells: pd.DataFrame, day0: pd.DataFrame, confounders: pd.DataFrame) -> list[str]:
    """Per row of ``cells`` (event_id, group, day0, date_first, date_last): shared day 0,
    other events' day 0 inside the window, confounders inside the window.

    Each group's day 0s are sorted once and all cells find their neighbours by one vectorised
    binary search, so the cost grows with the cells and the events they name, not cells x events;
    a long list of events is cut to its first five and a count."""
    n = len(cells)
    notes = [""] * n
    if not n:
        return notes
    dd = pd.to_datetime(day0["day0"]).to_numpy(dtype="datetime64[ns]")
    d_ev = day0["event_id"].to_numpy(dtype=object)
    c_day = pd.to_datetime(cells["day0"]).to_numpy(dtype="datetime64[ns]")
    c_lo = pd.to_datetime(cells["date_first"]).to_numpy(dtype="datetime64[ns]")
    c_hi = pd.to_datetime(cells["date_last"]).to_numpy(dtype="datetime64[ns]")
    c_ev = cells["event_id"].to_numpy(dtype=object)
    same_txt = [[] for _ in range(n)]
    inside_txt = [[] for _ in range(n)]
    day_groups = pd.Series(range(len(day0))).groupby(day0["group"].to_numpy(), sort=False).indices
    for g, rows in pd.Series(range(n)).groupby(cells["group"].to_numpy(), sort=False).indices.items():
        idx = np.asarray(day_groups.get(g, []), dtype=int)
        if not len(idx):
            continue
        order = idx[np.argsort(dd[idx], kind="stable")]
        days, evs, pos = dd[order], d_ev[order].tolist(), order
        rows = np.asarray(rows)
        d, lo, hi = c_day[rows], c_lo[rows], c_hi[rows]
        has_d, has_w = ~np.isnat(d), ~np.isnat(lo) & ~np.isnat(hi)
        s_a = np.where(has_d, np.searchsorted(days, d, "left"), 0)
        s_b = np.where(has_d, np.searchsorted(days, d, "right"), 0)
        w_a = np.where(has_w, np.searchsorted(days, lo, "left"), 0)
        w_b = np.where(has_w, np.searchsorted(days, hi, "right"), 0)
        # only cells with another event on day 0 or in the window need their names listed
        busy = np.flatnonzero((s_b - s_a > 1) | ((w_b - w_a) - np.clip(np.minimum(w_b, s_b) - np.maximum(w_a, s_a),
                                                                           0, None) > 0))
        for j in busy:
            i, e = rows[j], c_ev[rows[j]]
            a, b, wa, wb = int(s_a[j]), int(s_b[j]), int(w_a[j]), int(w_b[j])
            if b - a > 1:
                k = sorted(range(a, b), key=pos.__getitem__)
                same_txt[i] = [evs[x] for x in k if evs[x] != e]
            k = [x for x in range(wa, wb) if not a <= x < b]
            if k:
                k.sort(key=pos.__getitem__)
                inside_txt[i] = [evs[x] for x in k if evs[x] != e]
    conf_dates = (pd.to_datetime(confounders["date"]).dt.normalize().to_numpy()
                  if confounders is not None and len(confounders) else np.array([], dtype="datetime64[ns]"))
    for i in range(n):
        parts = []
        if same_txt[i]:
            parts.append(f"same day 0 ({pd.Timestamp(c_day[i]):%Y-%m-%d}) as {names_text(same_txt[i])}: "
                         f"one window, not separate evidence")
        if inside_txt[i]:
            parts.append(f"window contains day 0 of {names_text(inside_txt[i])}")
        if conf_dates.size and not (np.isnat(c_lo[i]) or np.isnat(c_hi[i])):
            hit = conf_dates[(conf_dates >= c_lo[i]) & (conf_dates <= c_hi[i])]
            if hit.size:
                cnt = Counter(pd.DatetimeIndex(hit).strftime("%Y-%m-%d"))
                txt = ", ".join(x + (f" (x{cnt[x]})" if cnt[x] > 1 else "") for x in sorted(cnt))
                parts.append(f"confounder{'s' if hit.size > 1 else ''} {txt}")
        if parts:
            notes[i] = "; ".join(parts)
    return notes


def check_windows(res, wins: Sequence[tuple[int, int]]) -> None:
    have = [tuple(w) for w in res.windows]
    bad = [w for w in wins if tuple(w) not in have]
    if bad:
        raise WindowError(f"window {window_label(*bad[0])} was not computed in this run (windows: "
                          f"{' '.join(window_label(*w) for w in have)}); re-run with it or choose one of these")


def lead_window(run) -> tuple[int, int]:
    """The window tables and figures lead with: ``(0, 1)`` when the run computed it, else the run's first
    window (``run``: a StudyRun or an EventStudyResult)."""
    wins = [tuple(int(x) for x in w) for w in getattr(run, "result", run).windows]
    return (0, 1) if (0, 1) in wins else wins[0]
