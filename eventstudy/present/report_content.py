"""What the study report shows, computed once: the tables of a run cut to the report's windows and
events, and the derived frames (day 0 per event and calendar, shared day 0, confounders in windows).

:class:`ReportContent` is read by the section builders of :mod:`eventstudy.present.report_sections`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.content import SIMULATED
from eventstudy.inference.reference import TEST_NAMES
from eventstudy.present import tables as T

__all__ = ["ReportContent", "day0_summary", "shared_day0", "confounder_hits", "text_cell", "chunks", "drop_columns"]


def text_cell(v) -> str:
    """A cell as text: '' for missing values (never 'nan')."""
    if v is None or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, float) and not np.isfinite(v):
        return ""
    if isinstance(v, pd.Timestamp):
        return f"{v:%Y-%m-%d}" if v == v.normalize() and v.tzinfo is None else str(v)
    return str(v)



def _windows(run) -> list[tuple[int, int]]:
    return [tuple(w) for w in run.result.windows]


def _names(run) -> dict[str, str]:
    u = run.universe
    names = u["name"] if "name" in u.columns else pd.Series([""] * len(u))
    return {str(t): (str(n) if isinstance(n, str) else "") for t, n in zip(u["ticker"], names)}


# ----------------------------------------------------------------------------- derived frames
def day0_summary(run) -> pd.DataFrame:
    """The day-0 audit collapsed to one row per event x calendar (x day 0 x reason), with the
    instruments counted: ``event_id, calendar, announced_at, day0, n, tickers, reason``."""
    d = run.day0.copy()
    if d.empty:
        return pd.DataFrame(columns=["event_id", "calendar", "announced_at", "day0", "n", "tickers", "reason"])
    d["day0_key"] = d["day0"].astype(str)
    g = (d.groupby(["event_id", "calendar", "announced_at", "day0_key", "reason"], sort=False, dropna=False)
         .agg(day0=("day0", "first"), n=("ticker", "size"), tickers=("ticker", lambda s: list(s))).reset_index())
    order = {e: i for i, e in enumerate(run.events["event_id"])}
    g["_o"] = g["event_id"].map(order)
    g = g.sort_values(["_o", "calendar"], kind="stable").reset_index(drop=True)
    return g[["event_id", "calendar", "announced_at", "day0", "n", "tickers", "reason"]]


def shared_day0(run) -> list[tuple[pd.Timestamp, str, list[str]]]:
    """Events that share a day 0 on a calendar: ``[(day0, calendar, [event_id, ...]), ...]``
    (their results are the same window, not separate evidence)."""
    d = run.day0.dropna(subset=["day0"])
    if d.empty:
        return []
    u = d.drop_duplicates(["event_id", "calendar", "day0"])
    out = []
    for (cal, day), grp in u.groupby(["calendar", "day0"], sort=True):
        evs = list(dict.fromkeys(grp["event_id"]))
        if len(evs) > 1:
            out.append((pd.Timestamp(day), str(cal), evs))
    return sorted(out, key=lambda x: (x[0], x[1]))


def confounder_hits(run, imp: pd.DataFrame) -> list[str]:
    """For each confounder: the events (pooled group) whose windows contain its date."""
    conf = run.confounders
    if conf is None or not len(conf):
        return []
    pooled = run.result.pooled_group
    rows = imp[imp["group_id"] == pooled] if pooled in set(imp["group_id"]) else imp.drop_duplicates(
        ["event_id", "window_start", "window_end"])
    nwin = len(_windows(run))
    out = []
    for d in pd.to_datetime(conf["date"]):
        hit = rows[(rows["date_first"] <= d) & (rows["date_last"] >= d)]
        parts = []
        for e, g in hit.groupby("event_id", sort=False):
            ws = list(g["window"])
            parts.append(f"{e} (all windows)" if len(ws) == nwin else f"{e} {' '.join(ws)}")
        out.append("; ".join(parts) if parts else "none of the event windows")
    return out


class ReportContent:
    """Everything both renderers show, computed once."""

    def __init__(self, run, title: str | None, impact: pd.DataFrame | None = None):
        self.run = run
        self.labels = T.run_labels(run)
        self.sim = bool(run.simulated)
        base = title or "Event study report"
        self.title = f"{SIMULATED} — {base}" if self.sim else base
        self.lead = T.lead_window(run)
        self.windows = _windows(run)
        self.imp = T.impact_table(run) if impact is None else impact
        # a study of many events is summarised: the tables show the events of largest pooled |CAAR|
        n_ev = int(self.imp["event_id"].nunique()) if len(self.imp) else 0
        self.n_events = n_ev
        self.shown = (T.top_events(self.imp, T.MAX_SHOWN_EVENTS, self.lead, run.result.pooled_group)
                      if n_ev > T.MAX_SHOWN_EVENTS else None)
        self.headline = self.view(T.headline_table(run, window=self.lead, impact=self.imp))
        self.primary = T.primary_hypotheses_table(run)
        self.findings = list(self.primary.attrs.get("findings", []))
        self.fut = T.futures_table(run)
        self.cs_all = T.cross_section_table(run, window=None)
        self.cs_win: dict[tuple[int, int], pd.DataFrame] = {}
        self.reg = self.view(_lead_regressions(T.regressions_table(run), self.lead))
        self.d0 = day0_summary(run)
        if self.shown is not None:
            self.d0 = self.d0[self.d0["event_id"].isin(self.shown)].reset_index(drop=True)
        self.shared = shared_day0(run)
        if self.shown is not None:
            keep = set(self.shown)
            self.shared = [x for x in self.shared if keep & set(x[2])]
        self.conf_hits = confounder_hits(run, self.imp)
        self.names = _names(run)
        from eventstudy import __version__
        self.version = __version__
        self.generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    def view(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` as the report shows it: every row, or with many events the rows of the shown events."""
        if self.shown is None or "event_id" not in df.columns:
            return df
        return T.shown_rows(df, self.shown, self.n_events)

    # text pieces shared by HTML and Markdown (plain text; escaped by the renderer)
    def how_to_read(self) -> list[str]:
        w = T.window_label(*self.lead)
        return [
            f"Each number is a cumulative abnormal return in percent: the return of a stock beyond what its usual "
            f"co-movement with its benchmark predicts, summed over a window of trading days counted from day 0, "
            f"the first session that could react to the news. {w} means day 0 and the next session.",
            f"CAAR is the average over the securities of an exposure group; '{self.labels.pooled_short}' pools every "
            "equity group. "
            "Stars mark significance by the Kolari–Pynnönen test (*** 1%, ** 5%, * 10%), which allows for the "
            "stocks moving together on a shared date.",
            "Events that share a day 0 are the same window measured once, not separate evidence; a listed "
            "confounder (other news on those days) may explain a move as well as the event.",
            "Many cells are tested at once, so a few small p-values are expected by chance: the impact table's "
            "Holm p and BH q adjust the lead test's p-value for every cell of the window.",
        ]

    def methods(self) -> list[str]:
        cfg = self.run.config
        est = f"[{cfg.estimation[0]},{cfg.estimation[1]}]"
        model = {"market": "market model (each security on its benchmark)",
                 "factor": "factor model (benchmark plus " + ", ".join(cfg.extra_factors or ()) + ")",
                 "constant_mean": "constant-mean model", "market_adjusted": "market-adjusted model"}.get(cfg.model, cfg.model)
        return [
            f"Normal returns come from the {model}, estimated by OLS over trading days {est} relative to day 0 on "
            f"each instrument's own calendar; abnormal returns are actual minus normal returns, cumulated over each "
            f"window (CAR) and averaged within exposure groups (CAAR).",
            "The lead test is Kolari & Pynnönen (2010): the Boehmer–Musumeci–Poulsen standardized test (robust to "
            "event-induced variance) scaled by sqrt((1 − r)/(1 + (N − 1) r)), r the mean pairwise correlation of "
            "the securities' estimation-window residuals, because securities that share an event date are "
            "cross-correlated and the plain BMP and cross-sectional t tests then reject too often.",
            "Formulas, the other tests (" + ", ".join(TEST_NAMES[t] for t in T.LEAD_TESTS[1:]) + ") and the "
            "event-dummy regressions are in docs/METHODS.md of the eventstudy repository.",
            "Primary hypotheses (declared in a file of the study before looking, with a source each) are tested as "
            "one family with Holm and Benjamini–Hochberg adjustment; their 95% intervals invert the same test. "
            "Group differences come from the event-dummy regression of the group-minus-base portfolio spread, "
            "whose variance is estimated on the spread's own estimation window, so it holds under a shared date. "
            + self.labels.section("single_instruments", "Groups left out of the pooled equities ("
                                + (", ".join(self.labels.label(g) for g in cfg.pool_exclude) or "none")
                                + ") get single-instrument tests only."),
        ]

    def setup_items(self) -> list[tuple[str, str]]:
        from eventstudy.data.base import describe_fields

        run, cfg = self.run, self.run.config
        failures = run.prices.failures
        items = [
            ("Data", run.data_label),
            ("Price source", str(run.prices.source)),
            ("Price field", describe_fields(run.prices.field)),
            ("Instruments with prices", f"{run.prices.frame['ticker'].nunique()}"
             + (f" ({len(failures)} requested without prices, see Excluded securities)" if len(failures) else "")),
            ("Model", str(cfg.model) + (f" with factors {', '.join(cfg.extra_factors)}" if cfg.extra_factors else "")),
            ("Estimation window", f"[{cfg.estimation[0]},{cfg.estimation[1]}] trading days relative to day 0"),
            ("Event windows", " ".join(T.window_label(*w) for w in self.windows)),
            ("Returns", str(cfg.return_kind)),
            ("Cross-section base group", self.labels.label(cfg.base_group) if cfg.base_group else "first group"),
            (f"Pooled '{self.labels.pooled_short}' leaves out", ", ".join(self.labels.label(g) for g in cfg.pool_exclude) or "nothing"),
            ("Bootstrap", "every pseudo-window of the estimation period" if cfg.bootstrap is None else
             f"{cfg.bootstrap} resamples (seed {cfg.seed})" if cfg.bootstrap else "not run"),
            ("Tests shown", ", ".join(TEST_NAMES[t] for t in T.LEAD_TESTS)),
        ]
        return items

    def events_rows(self) -> list[dict]:
        ev = self.run.events
        if self.shown is not None:
            ev = ev[ev["event_id"].astype(str).isin(self.shown)]
        rows = []
        for _, r in ev.iterrows():
            t = text_cell(r.get("time", ""))
            when = f"{text_cell(r['date'])} {t} {text_cell(r.get('timezone', ''))}".strip() if t else f"{text_cell(r['date'])} (time unknown)"
            rows.append(dict(event_id=text_cell(r["event_id"]), when=when, label=text_cell(r.get("label", "")),
                             category=text_cell(r.get("category", "")), source=text_cell(r.get("source", "")),
                             notes=text_cell(r.get("notes", ""))))
        return rows

    def day0_rows(self) -> list[dict]:
        rows = []
        for _, r in self.d0.iterrows():
            tick = list(r["tickers"])
            inst = (", ".join(tick) if len(tick) <= 4 else f"{len(tick)} instruments")
            rows.append(dict(event_id=text_cell(r["event_id"]), calendar=text_cell(r["calendar"]),
                             announced=text_cell(r["announced_at"]),
                             day0=(f"{pd.Timestamp(r['day0']):%Y-%m-%d (%a)}" if pd.notna(r["day0"]) else "none"),
                             instruments=inst, reason=text_cell(r["reason"])))
        return rows

    def universe_groups(self) -> list[tuple[str, pd.DataFrame]]:
        u = self.run.universe
        order = self.labels.ordered(u["group"], None)
        return [(g, u[u["group"] == g]) for g in order]

    def excluded_before(self) -> list[dict]:
        ex = self.run.excluded
        return [dict(ticker=text_cell(t), name=self.names.get(str(t), ""), event=text_cell(e) or "all events", reason=text_cell(r))
                for t, e, r in zip(ex["ticker"], ex["event_id"], ex["reason"])]

    def excluded_pairs(self) -> list[dict]:
        ex = self.run.result.exclusions
        out = []
        for _, r in ex.iterrows():
            w = ("whole event" if pd.isna(r["window_start"])
                 else T.window_label(r["window_start"], r["window_end"]))
            out.append(dict(event=text_cell(r["event_id"]), ticker=text_cell(r["ticker"]),
                            name=self.names.get(str(r["ticker"]), ""), window=w, reason=text_cell(r["reason"])))
        return out

    def shared_lines(self) -> list[str]:
        return [f"{', '.join(evs)} share day 0 {d:%Y-%m-%d} on {cal}: one window, not {len(evs)} pieces of evidence."
                for d, cal, evs in self.shared]

    def reg_summary(self) -> str:
        """The one-line summary of the folded regressions table."""
        total = self.reg.attrs.get("total_rows", len(self.reg))
        return (f"{len(self.reg)} regression rows of window {T.window_label(*self.lead)} (event-dummy portfolio CAR tests "
                f"and cross-sections); all {total} rows, with the per-day dummies and every window, are in "
                f"regressions.csv")

    def cs_window(self, w) -> pd.DataFrame:
        """The group-differences table of window ``w``."""
        if w not in self.cs_win:                    # the window's own table (title, columns), built once per report
            self.cs_win[w] = self.view(T.cross_section_table(self.run, window=w))
        return self.cs_win[w].copy()

    def futures_window(self, w) -> pd.DataFrame:
        """The futures-table rows of window ``w``."""
        return self.view(_one_window(self.fut, w))

    def impact_window(self, w, compact: bool = False) -> pd.DataFrame:
        """The impact rows of one window; ``compact``: no window column and each event's note once."""
        df = self.view(_one_window(self.imp, w, drop_window=compact))
        if compact:
            ev = df["event_id"].tolist()
            notes = df["note"].tolist()
            df["note"] = [n if (i == 0 or ev[i] != ev[i - 1] or n != notes[i - 1]) else "" for i, n in enumerate(notes)]
        return df


def _lead_regressions(reg: pd.DataFrame, lead) -> pd.DataFrame:
    """The report's regressions: the lead window's rows, without the per-day dummy coefficients
    (``AR[+d]``, equal to the abnormal returns); every row is in ``regressions.csv``."""
    if not len(reg):
        return reg
    keep = ((reg["window_start"] == lead[0]) & (reg["window_end"] == lead[1])
            & ~reg["term"].astype(str).str.startswith("AR["))
    out = reg[keep].reset_index(drop=True)
    out.attrs.update(reg.attrs)
    out.attrs["title"] = f"{reg.attrs.get('title', 'Regressions')} {T.window_label(*lead)}"
    out.attrs["total_rows"] = len(reg)
    return out


def _one_window(df: pd.DataFrame, w, drop_window: bool = True) -> pd.DataFrame:
    """The rows of ``df`` in window ``w`` (a copy; attrs kept), the window label added to the title;
    ``drop_window``: the window column left out of the displayed columns."""
    out = df[(df["window_start"] == w[0]) & (df["window_end"] == w[1])].copy()
    out.attrs["title"] = df.attrs["title"] + f" {T.window_label(*w)}"
    if drop_window:
        out.attrs["columns"] = [col for col in df.attrs["columns"] if col[0] != "window"]
    return out


def chunks(df: pd.DataFrame, key: str, max_rows: int) -> list[pd.DataFrame]:
    """Split ``df`` into pieces of at most about ``max_rows`` rows without splitting a ``key`` value."""
    out, cur, n = [], [], 0
    for _, g in df.groupby(key, sort=False):
        if cur and n + len(g) > max_rows:
            out.append(pd.concat(cur))
            cur, n = [], 0
        cur.append(g)
        n += len(g)
    if cur:
        out.append(pd.concat(cur))
    for o in out:
        o.attrs.update(df.attrs)
    return out or [df]


def drop_columns(df: pd.DataFrame, drop: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    out.attrs.update(df.attrs)
    out.attrs["columns"] = [c for c in df.attrs.get("columns", []) if c[0] not in drop]
    return out


