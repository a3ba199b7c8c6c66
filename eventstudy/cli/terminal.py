"""What the command line prints: messages, the headline table, exclusions and day-0 limit hits."""
from __future__ import annotations

import sys
from pathlib import Path

from eventstudy.errors import EventStudyError


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def say_exclusions(run, out: Path, shown: int = 5) -> None:
    """Name what was left out in the terminal, briefly; the full list is in exclusions.csv."""
    ex = run.excluded
    no_prices = ex[ex["event_id"] == ""]
    no_day0 = ex[ex["event_id"] != ""]
    pairs = run.result.exclusions
    pairs = pairs[pairs["window_start"].isna()]
    lines = [f"  {t}: {r}" for t, r in zip(no_prices["ticker"][:shown], no_prices["reason"][:shown])]
    if len(no_prices) > shown:
        lines.append(f"  ... and {len(no_prices) - shown} more instruments without prices")
    for ev, g in no_day0.groupby("event_id", sort=False):
        lines.append(f"  event {ev}: no day 0 for {len(g)} instrument(s): {g['reason'].iloc[0]}")
    for r, g in pairs.groupby("reason", sort=False):
        who = ", ".join(f"{t} ({e})" for t, e in zip(g["ticker"][:3], g["event_id"][:3]))
        lines.append(f"  {len(g)} pair(s) not estimated: {r}: {who}{' ...' if len(g) > 3 else ''}")
    if lines:
        say("eventstudy: left out (full list with reasons in " + str(out / "exclusions.csv") + "):")
        for line in lines[:3 * shown]:
            say(line)


def print_headline(run, impact=None) -> None:
    from eventstudy.present.tables import (MAX_SHOWN_EVENTS, headline_table, impact_table, lead_window, primary_hypotheses_table,
                         print_table, shown_rows, top_events)
    prim = primary_hypotheses_table(run)
    if len(prim):
        print_table(prim)
        print("Findings:")
        for line in prim.attrs.get("findings", []):
            print(f"  - {line}")
        print()
    w = lead_window(run)
    imp = impact if impact is not None else impact_table(run, windows=[w], tests=("kolari_pynnonen",))
    head = headline_table(run, impact=imp)               # titled with the run's lead window (SIMULATED marked)
    if len(head) > MAX_SHOWN_EVENTS:                     # a study of many events: the largest moves, counted
        head = shown_rows(head, top_events(imp, MAX_SHOWN_EVENTS, w, run.result.pooled_group), len(head))
    print_table(head)
    say_day0_limits(run)


def say_day0_limits(run) -> None:
    """A price-limit hit on day 0 is never silent: name each pair (the full list is in limit_flags.csv)."""
    f = getattr(run, "limit_flags", None)
    if f is None or not len(f):
        return
    d0 = f[f["day0_limit"].astype(bool)].drop_duplicates(["event_id", "ticker"])
    say(f"eventstudy: {f[['event_id', 'ticker']].drop_duplicates().shape[0]} (event, security) pair(s) have a "
         "price-limit day inside an event window (limit_flags.csv)")
    for e, t, g, d in zip(d0["event_id"], d0["ticker"], d0["group"], d0["limit_dates"]):
        say(f"  day-0 price limit: {t} ({g}) on event {e}: {d} - its day-0 return is censored")


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    say(f"eventstudy: warning: {message}")


def write_error(out: Path, exc: OSError) -> EventStudyError:
    """The message for a write that failed (a full disk, a quota, a vanished folder)."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return EventStudyError(f"could not write the results for {out}{where}: {exc.strerror or exc}. Nothing in "
                           f"{out} was changed (the run is written beside it and moved in only when complete): "
                           f"free some space or choose another --out folder, then run again")
