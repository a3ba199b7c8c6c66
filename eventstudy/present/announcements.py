"""The line under each figure panel saying when the news came: the announcement in the event's own
timezone, whether it fell before the open, during the session or after the close of the calendar most
instruments trade on, and the day 0 there ('announced 2026-01-06 16:25 CST, after the Tokyo close; day 0
2026-01-07 (Tokyo)').
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from eventstudy.errors import EventStudyError
from eventstudy.present.figure_data import is_run

__all__ = ["announcement_notes", "announcement_note"]

_PLACE = {"XTKS": "Tokyo", "XNYS": "New York", "XNAS": "New York", "CME Globex": "CME Globex",
          "XHKG": "Hong Kong", "XSHG": "Shanghai", "XLON": "London"}


def _reference_model(run):
    """(session model, place, calendar name) of the calendar most instruments with a day 0 trade on.

    The model is None when it has no session times (or is unknown); the calendar name is None when
    the run has no day-0 audit."""
    from eventstudy.calendars.sessions import session_model_for

    d0 = getattr(run, "day0", None)
    if d0 is None or d0.empty or "calendar" not in d0.columns:
        return None, "", None
    with_day0 = d0[d0["day0"].notna()] if "day0" in d0.columns else d0
    src = with_day0 if len(with_day0) else d0
    cal = src["calendar"].mode().iloc[0]
    ticker = str(src.loc[src["calendar"] == cal, "ticker"].iloc[0])
    exch = run.exchanges.get(ticker) if hasattr(run, "calendars") else None
    try:
        model = session_model_for(ticker, exch)
    except EventStudyError:
        return None, "", cal
    if not model.has_times:
        return None, "", cal
    return model, _PLACE.get(str(cal), str(cal)), cal


def announcement_notes(run, events: Sequence[str] | None = None) -> dict[str, str]:
    """Event id -> 'announced 2026-01-06 16:25 CST, after the Tokyo close; day 0 2026-01-07 (Tokyo)'
    (``events``: only these; default every event).

    The time is shown in the event's own timezone; its position (before the open, during the
    session, after the close, on a non-trading day) refers to the calendar most instruments
    with a day 0 trade on, and day 0 is the most common day 0 of the audit on that calendar.
    Empty for a bare :class:`EventStudyResult`.
    """
    if not is_run(run):
        return {}
    model, place, cal = _reference_model(run)
    evs = run.events
    d0 = run.day0[run.day0["day0"].notna()]
    if events is not None:
        wanted = {str(e) for e in events}
        evs = evs[evs["event_id"].astype(str).isin(wanted)]
        d0 = d0[d0["event_id"].astype(str).isin(wanted)]
    if cal is not None:
        d0 = d0[d0["calendar"] == cal]
    # the modal day 0 per event (the earliest of equally common ones, as Series.mode), without a Python call per event
    cnt = d0.assign(event_id=d0["event_id"].astype(str)).groupby(["event_id", "day0"]).size().rename("k").reset_index()
    cnt = cnt.sort_values(["event_id", "k", "day0"], ascending=[True, False, True], kind="stable")
    day0 = cnt.drop_duplicates("event_id").set_index("event_id")["day0"] if len(cnt) else pd.Series(dtype=object)
    out: dict[str, str] = {}
    for _, row in evs.iterrows():
        eid = str(row["event_id"])
        at = row.get("announced_at", pd.NaT)
        if at is None or pd.isna(at):
            text = f"announced {pd.Timestamp(row['date']):%Y-%m-%d} (no time given)"
        else:
            at = pd.Timestamp(at)
            abbr = at.strftime("%Z")
            abbr = abbr if abbr and abbr[0] not in "+-" else at.strftime("UTC%z")
            text = f"announced {at:%Y-%m-%d %H:%M} {abbr}"
            if model is not None:
                local_day = at.tz_convert(model.tz).tz_localize(None).normalize()
                same = local_day == at.tz_localize(None).normalize()
                on = "" if same else f" of {local_day:%Y-%m-%d}"
                try:
                    o, c = model.bounds(local_day)
                except EventStudyError:
                    text += f", {place} closed that day" if same else f", {place} closed on {local_day:%Y-%m-%d}"
                else:
                    t = at.tz_convert("UTC")
                    text += (f", before the {place} open{on}" if t < o else
                             f", after the {place} close{on}" if t >= c else f", during the {place} session{on}")
        if eid in day0.index:
            text += f"; day 0 {pd.Timestamp(day0[eid]):%Y-%m-%d}" + (f" ({place})" if place else "")
        out[eid] = text
    return out


def announcement_note(run, event_id: str) -> str:
    """One event's line of :func:`announcement_notes` ('' when unknown)."""
    return announcement_notes(run, events=[str(event_id)]).get(str(event_id), "")
