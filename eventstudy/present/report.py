"""The study report: one self-contained HTML file, the same content as Markdown, and LaTeX tables.

:func:`write_report` writes into ``out_dir``:

- ``report.html``: one file, CSS inline, figures embedded as base64 PNG data URIs, no external
  requests; a red SIMULATED banner when the run is on the bundled simulated market;
- ``report.md``: the same sections in Markdown, figures as relative links to ``figures/*.png``;
- ``tables.tex``: headline, impact, futures and cross-sectional tables as booktabs ``table``
  environments (``\\usepackage{booktabs}``);
- ``figures/``: the PNG (and SVG) files of :func:`eventstudy.present.plots.save_plots`.

Every file is written atomically.
"""
from __future__ import annotations

import base64
import html as _html
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import quote, urlparse

import numpy as np
import pandas as pd

from eventstudy.present import tables as T
from eventstudy.errors import EventStudyError
from eventstudy.io_utils import atomic_write_text, ensure_out_dir
from eventstudy.inference.reference import TEST_NAMES

__all__ = ["SECTIONS", "CSS", "write_report", "render_html", "render_markdown", "render_latex",
           "day0_summary", "shared_day0"]

#: (anchor, heading) of every report section, in order (HTML h2 and Markdown ##).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("how-to-read", "How to read this"),
    ("headline", "Headline"),
    ("events", "Events"),
    ("day0", "Day 0 by event and calendar"),
    ("universe", "Universe by exposure group"),
    ("setup", "Model, windows and data"),
    ("impact", "Impact by exposure group"),
    ("futures", "Nikkei futures and index"),
    ("cross-section", "Group differences (spread regressions)"),
    ("figures", "Figures"),
    ("confounders", "Confounders"),
    ("excluded", "Excluded securities"),
    ("regressions", "All regressions"),
    ("methods", "Methods"),
)
_H = dict(SECTIONS)

SIMULATED_BANNER = ("SIMULATED DATA — the bundled offline market, not market data. "
                    "The numbers show how the method works; they say nothing about real markets.")

FIGURE_CAPTIONS = {
    "caar_paths": "Cumulative average abnormal return by exposure group around day 0.",
    "heatmap": "CAAR by event and exposure group (stars: Kolari–Pynnönen test).",
    "residual_correlation": "Cross-correlation of estimation-window residuals: what the Kolari–Pynnönen test adjusts for.",
    "timeline": "Nikkei futures and index around the events.",
}

CSS = """
:root{--fg:#1d2433;--muted:#5b6475;--line:#d9dee7;--bg:#ffffff;--alt:#f6f8fb;--neg:#b3261e;--pos:#1b7a3a;--accent:#1f4e8c}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1480px;margin:0 auto;padding:0 24px 64px}
header.es-head{max-width:1480px;margin:0 auto;padding:24px 24px 8px}
h1{font-size:26px;margin:8px 0 4px}
h2{font-size:20px;margin:36px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:20px 0 6px}
p{margin:6px 0}
a{color:var(--accent)}
.es-banner{background:#b3261e;color:#fff;font-weight:700;font-size:17px;padding:12px 24px;text-align:center;letter-spacing:.02em}
.es-sub{color:var(--muted);margin:0}
nav.es-toc{margin:12px 0 0;font-size:13px;color:var(--muted)}
nav.es-toc a{margin-right:12px;white-space:nowrap}
.es-callout{border-left:4px solid #e0a100;background:#fff8e1;padding:8px 12px;margin:10px 0}
.es-table-wrap{overflow-x:auto;margin:8px 0 14px}
table.es-table{border-collapse:collapse;font-size:13px;min-width:40%}
table.es-table caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0 6px;color:var(--fg)}
table.es-table th{background:#eef2f8;border-bottom:2px solid #b8c2d3;padding:5px 6px;vertical-align:bottom;white-space:nowrap}
table.es-table td{border-bottom:1px solid var(--line);padding:4px 6px;vertical-align:top}
table.es-table tbody tr:nth-child(even){background:var(--alt)}
table.es-table .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.es-table .txt{text-align:left}
table.es-table td.long{min-width:240px;max-width:560px;font-size:12px;color:#333}
table.es-table td.neg{color:var(--neg)}
table.es-table td.pos{color:var(--pos)}
table.es-table td.na{color:#9aa3b2}
table.es-table .nowrap{white-space:nowrap}
table.es-table tr.es-break td{border-top:2px solid #9fb0c8}
.es-callout ul{margin:4px 0 0;padding-left:20px}
table.es-simulated caption::before{content:"";}
.es-note{font-size:12px;color:var(--muted);margin:2px 0;max-width:1100px}
details{margin:8px 0 12px;border:1px solid var(--line);border-radius:6px;padding:6px 10px;background:#fcfdfe}
details>summary{cursor:pointer;font-weight:600;color:var(--accent)}
figure{margin:14px 0 22px;border:1px solid var(--line);border-radius:6px;padding:10px;background:#fff}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:13px;color:var(--muted);margin-top:6px}
dl.es-setup{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:8px 0}
dl.es-setup dt{font-weight:600;color:var(--muted)}
dl.es-setup dd{margin:0}
code{background:#f1f3f7;padding:0 3px;border-radius:3px;font-size:13px}
footer{color:var(--muted);font-size:12px;margin-top:40px;border-top:1px solid var(--line);padding-top:8px}
@media print{.es-banner{-webkit-print-color-adjust:exact;print-color-adjust:exact} details{border:none}}
"""


# ----------------------------------------------------------------------------- small helpers
def _esc(x) -> str:
    return _html.escape("" if x is None else str(x))


def _txt(v) -> str:
    """A cell as text: '' for missing values (never 'nan')."""
    if v is None or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, float) and not np.isfinite(v):
        return ""
    if isinstance(v, pd.Timestamp):
        return f"{v:%Y-%m-%d}" if v == v.normalize() and v.tzinfo is None else str(v)
    return str(v)


def _is_url(s: str) -> bool:
    try:
        u = urlparse(str(s))
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.netloc)


def _host(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


def _link_html(s: str) -> str:
    if _is_url(s):
        return f'<a href="{_esc(s)}" rel="noopener noreferrer">{_esc(_host(s))}</a>'
    return _esc(s)


def _link_md(s: str) -> str:
    """A Markdown link to a http(s) URL (characters that could end the link or open raw HTML are
    %-encoded), else the text escaped."""
    if not _is_url(s):
        return _md(s)
    return f"[{_md(_host(s))}]({quote(str(s), safe=_URL_SAFE)})"


#: characters kept as they are in a Markdown link target; ``( ) < > [ ] " ' \`` and spaces are %-encoded
_URL_SAFE = ":/?#&=%;,+~!$*@.-_"


def _md(s) -> str:
    """User text for Markdown: no raw HTML (``<`` as ``&lt;``), no links or emphasis, one line."""
    return (T._md_escape(str(s)).replace("[", "\\[").replace("]", "\\]").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] | None = None,
                caption: str | None = None, long_cols: Sequence[int] = ()) -> str:
    """Table from already-escaped HTML cells."""
    numeric = list(numeric) if numeric is not None else [False] * len(headers)
    out = ['<div class="es-table-wrap"><table class="es-table">']
    if caption:
        out.append(f"<caption>{_esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th class="{"num" if n else "txt"}">{_esc(h)}</th>'
                                       for h, n in zip(headers, numeric)) + "</tr></thead><tbody>")
    nrows = 0
    for r in rows:
        nrows += 1
        cells = []
        for j, (c, n) in enumerate(zip(r, numeric)):
            cls = "num" if n else ("txt long" if j in long_cols else ("txt nowrap" if j == 0 else "txt"))
            cells.append(f'<td class="{cls}">{c}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    if not nrows:
        out.append(f'<tr><td class="txt na" colspan="{len(headers)}">(none)</td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out) + "\n"


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Markdown table (text columns, left-aligned) from already-escaped Markdown cells."""
    out = ["| " + " | ".join(_md(h) for h in headers) + " |",
           "|" + "|".join(":---" for _ in headers) + "|"]
    n = 0
    for r in rows:
        n += 1
        out.append("| " + " | ".join(r) + " |")
    if not n:
        out.append("| " + " | ".join(["(none)"] + [""] * (len(headers) - 1)) + " |")
    return "\n".join(out) + "\n"


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


def _confounder_hits(run, imp: pd.DataFrame) -> list[str]:
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


REPORT_FORMATS = ("md", "html", "latex", "csv")


def check_formats(formats) -> tuple[str, ...]:
    """The report formats asked for, lower-cased; an error naming the first unknown one."""
    formats = tuple(str(f).lower().strip() for f in formats)
    bad = [f for f in formats if f not in REPORT_FORMATS]
    if bad:
        raise EventStudyError(f"report format {bad[0]!r} is not one of {', '.join(REPORT_FORMATS)}")
    return formats


_NO_FUTURES = "No futures or index in this run (no prices, or regressions not run)."
_NO_CROSS_SECTION = "No group differences in this run (they need two exposure groups with estimated pairs)."


# ----------------------------------------------------------------------------- plots
def _make_plots(run, out_dir: Path, figure_formats: Sequence[str] = ("png",)) -> tuple[dict[str, Path], str]:
    """Call :func:`eventstudy.present.plots.save_plots`; returns (name -> image the report shows: the PNG, else
    the SVG, message)."""
    from eventstudy.present.plots import save_plots   # imported here: tests replace plots.save_plots

    try:
        written = save_plots(run, out_dir / "figures", formats=tuple(figure_formats))
    except Exception as exc:  # a figure failing must not lose the tables; say so in the report
        warnings.warn(f"figures could not be drawn: {exc}", stacklevel=3)
        return {}, f"Figures could not be drawn: {exc}"
    shown = {}
    for name, p in written.items():
        p = Path(p)
        for img in (p.with_suffix(".png"), p.with_suffix(".svg")):
            if img.exists():
                shown[name] = img
                break
    return shown, ""


def _caption(name: str) -> str:
    if name in FIGURE_CAPTIONS:
        return FIGURE_CAPTIONS[name]
    if name.startswith("ar_bars_"):
        return f"Abnormal returns by security, event {name[len('ar_bars_'):]}."
    return name.replace("_", " ")


# ----------------------------------------------------------------------------- content model
class _Content:
    """Everything both renderers show, computed once."""

    def __init__(self, run, title: str | None, impact: pd.DataFrame | None = None):
        self.run = run
        self.sim = bool(run.simulated)
        base = title or "Event study report"
        self.title = f"SIMULATED — {base}" if self.sim else base
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
        self.conf_hits = _confounder_hits(run, self.imp)
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
            "CAAR is the average over the securities of an exposure group; 'All equities' pools every equity group. "
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
            "Futures (two listings of one contract) and the index get single-instrument tests only.",
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
            ("Cross-section base group", T.group_label(cfg.base_group) if cfg.base_group else "first group"),
            ("Pooled 'All equities' leaves out", ", ".join(T.group_label(g) for g in cfg.pool_exclude) or "nothing"),
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
            t = _txt(r.get("time", ""))
            when = f"{_txt(r['date'])} {t} {_txt(r.get('timezone', ''))}".strip() if t else f"{_txt(r['date'])} (time unknown)"
            rows.append(dict(event_id=_txt(r["event_id"]), when=when, label=_txt(r.get("label", "")),
                             category=_txt(r.get("category", "")), source=_txt(r.get("source", "")),
                             notes=_txt(r.get("notes", ""))))
        return rows

    def day0_rows(self) -> list[dict]:
        rows = []
        for _, r in self.d0.iterrows():
            tick = list(r["tickers"])
            inst = (", ".join(tick) if len(tick) <= 4 else f"{len(tick)} instruments")
            rows.append(dict(event_id=_txt(r["event_id"]), calendar=_txt(r["calendar"]),
                             announced=_txt(r["announced_at"]),
                             day0=(f"{pd.Timestamp(r['day0']):%Y-%m-%d (%a)}" if pd.notna(r["day0"]) else "none"),
                             instruments=inst, reason=_txt(r["reason"])))
        return rows

    def universe_groups(self) -> list[tuple[str, pd.DataFrame]]:
        u = self.run.universe
        order = T._group_order(u["group"], None)
        return [(g, u[u["group"] == g]) for g in order]

    def excluded_before(self) -> list[dict]:
        ex = self.run.excluded
        return [dict(ticker=_txt(t), name=self.names.get(str(t), ""), event=_txt(e) or "all events", reason=_txt(r))
                for t, e, r in zip(ex["ticker"], ex["event_id"], ex["reason"])]

    def excluded_pairs(self) -> list[dict]:
        ex = self.run.result.exclusions
        out = []
        for _, r in ex.iterrows():
            w = ("whole event" if pd.isna(r["window_start"])
                 else T.window_label(r["window_start"], r["window_end"]))
            out.append(dict(event=_txt(r["event_id"]), ticker=_txt(r["ticker"]),
                            name=self.names.get(str(r["ticker"]), ""), window=w, reason=_txt(r["reason"])))
        return out

    def shared_lines(self) -> list[str]:
        return [f"{', '.join(evs)} share day 0 {d:%Y-%m-%d} on {cal}: one window, not {len(evs)} pieces of evidence."
                for d, cal, evs in self.shared]


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


def _reg_summary(c: "_Content") -> str:
    total = c.reg.attrs.get("total_rows", len(c.reg))
    return (f"{len(c.reg)} regression rows of window {T.window_label(*c.lead)} (event-dummy portfolio CAR tests "
            f"and cross-sections); all {total} rows, with the per-day dummies and every window, are in "
            f"regressions.csv")


def _one_window(df: pd.DataFrame, w, drop_window: bool = True) -> pd.DataFrame:
    """The rows of ``df`` in window ``w`` (a copy; attrs kept), the window label added to the title;
    ``drop_window``: the window column left out of the displayed columns."""
    out = df[(df["window_start"] == w[0]) & (df["window_end"] == w[1])].copy()
    out.attrs["title"] = df.attrs["title"] + f" {T.window_label(*w)}"
    if drop_window:
        out.attrs["columns"] = [col for col in df.attrs["columns"] if col[0] != "window"]
    return out


def _cs_window(c: _Content, w) -> pd.DataFrame:
    if w not in c.cs_win:                    # the window's own table (title, columns), built once per report
        c.cs_win[w] = c.view(T.cross_section_table(c.run, window=w))
    return c.cs_win[w].copy()


def _fut_window(c: _Content, w) -> pd.DataFrame:
    return c.view(_one_window(c.fut, w))


def _imp_window(c: _Content, w, compact: bool = False) -> pd.DataFrame:
    """The impact rows of one window; ``compact``: no window column and each event's note once."""
    df = c.view(_one_window(c.imp, w, drop_window=compact))
    if compact:
        ev = df["event_id"].tolist()
        notes = df["note"].tolist()
        df["note"] = [n if (i == 0 or ev[i] != ev[i - 1] or n != notes[i - 1]) else "" for i, n in enumerate(notes)]
    return df


# ----------------------------------------------------------------------------- HTML
def render_html(run, figures: dict[str, Path] | None = None, title: str | None = None,
                figures_note: str = "", _content: "_Content | None" = None) -> str:
    """The whole report as one self-contained HTML document (figures as base64 PNG, or SVG, data URIs)."""
    c = _content or _Content(run, title)
    S: list[str] = []

    def h2(key: str) -> None:
        S.append(f'<h2 id="{key}">{_esc(_H[key])}</h2>')

    def details(summary: str, body: str, open_: bool = False) -> str:
        return f"<details{' open' if open_ else ''}><summary>{_esc(summary)}</summary>\n{body}</details>\n"

    h2("how-to-read")
    S += [f"<p>{_esc(p)}</p>" for p in c.how_to_read()]

    h2("headline")
    if len(c.primary):
        S.append('<div class="es-callout es-findings"><strong>Findings (primary hypotheses, adjusted for '
                 'multiple testing)</strong><ul>' + "".join(f"<li>{_esc(line)}</li>" for line in c.findings)
                 + "</ul></div>")
        S.append(T.to_html(c.primary, table_id="primary-table"))
    if c.shared:
        S.append('<div class="es-callout"><strong>Same window, counted once.</strong><ul>'
                 + "".join(f"<li>{_esc(line)}</li>" for line in c.shared_lines()) + "</ul></div>")
    S.append(T.to_html(c.headline, table_id="headline-table"))

    h2("events")
    S.append(_html_table(["Event", "Announced", "What", "Cat.", "Source", "Notes"],
                         ([_esc(r["event_id"]), _esc(r["when"]), _esc(r["label"]), _esc(r["category"]),
                           _link_html(r["source"]), _esc(r["notes"])] for r in c.events_rows()),
                         long_cols=(2, 5)))

    h2("day0")
    S.append("<p>Day 0 is the first session of each instrument's own calendar that could react to the "
             "announcement (news after the close counts from the next session).</p>")
    S.append(_html_table(["Event", "Calendar", "Announced at", "Day 0", "Instruments", "Why"],
                         ([_esc(r["event_id"]), _esc(r["calendar"]), _esc(r["announced"]), _esc(r["day0"]),
                           _esc(r["instruments"]), _esc(r["reason"])] for r in c.day0_rows()),
                         long_cols=(5,)))

    h2("universe")
    groups = c.universe_groups()
    S.append(_html_table(["Group", "N", "Benchmark", "Tickers"],
                         ([_esc(T.group_label(g)), str(len(u)),
                           _esc(", ".join(dict.fromkeys(x for x in u["benchmark"] if isinstance(x, str) and x)) or "–"),
                           _esc(", ".join(u["ticker"]))] for g, u in groups),
                         numeric=[False, True, False, False], long_cols=(3,)))
    body = []
    for g, u in groups:
        body.append(_html_table(["Ticker", "Name", "Benchmark"],
                                ([_esc(t), _esc(_txt(n)), _esc(_txt(b))]
                                 for t, n, b in zip(u["ticker"], u.get("name", [""] * len(u)), u["benchmark"])),
                                caption=f"{T.group_label(g)} ({len(u)})"))
    S.append(details(f"All {len(run.universe)} instruments with names and benchmarks", "".join(body)))

    h2("setup")
    S.append('<dl class="es-setup">' + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in c.setup_items())
             + "</dl>")

    h2("impact")
    S.append("<p>One row per event, exposure group and window. Notes flag events sharing a day 0, other "
             "events' day 0 inside the window and confounders inside it.</p>")
    for w in c.windows:
        S.append(details(f"Window {T.window_label(*w)}", T.to_html(_imp_window(c, w, compact=True), break_on="event_id"),
                         open_=(w == c.lead)))

    def lead_then_others(table_for, has_rows: bool, empty: str) -> None:
        """The lead window's table, the other windows folded below it."""
        if not has_rows:
            S.append(f"<p>{empty}</p>")
            return
        S.append(T.to_html(table_for(c, c.lead), break_on="event_id"))
        others = [w for w in c.windows if w != c.lead]
        if others:
            S.append(details("Other windows", "".join(T.to_html(table_for(c, w), break_on="event_id") for w in others)))

    h2("futures")
    lead_then_others(_fut_window, bool(len(c.fut)), _NO_FUTURES)

    h2("cross-section")
    lead_then_others(_cs_window, bool(len(c.cs_all)), _NO_CROSS_SECTION)

    h2("figures")
    if figures:
        for name, p in figures.items():
            data = base64.b64encode(Path(p).read_bytes()).decode("ascii")
            mime = "image/svg+xml" if Path(p).suffix.lower() == ".svg" else "image/png"
            S.append(f'<figure><img src="data:{mime};base64,{data}" alt="{_esc(_caption(name))}">'
                     f"<figcaption>{_esc(_caption(name))}</figcaption></figure>")
    else:
        S.append(f"<p>{_esc(figures_note or 'Figures were not requested.')}</p>")

    h2("confounders")
    conf = run.confounders
    if conf is not None and len(conf):
        S.append(_html_table(["Date", "Market", "What", "Inside the windows of", "Source"],
                             ([_esc(_txt(pd.Timestamp(d))), _esc(m), _esc(ds), _esc(h), _link_html(_txt(s))]
                              for d, m, ds, s, h in zip(conf["date"], conf["market"], conf["description"],
                                                        conf["source"], c.conf_hits)),
                             long_cols=(2, 3)))
    else:
        S.append("<p>No confounders were given for this run.</p>")

    h2("excluded")
    S.append("<h3>Left out before estimation</h3>")
    S.append(_html_table(["Ticker", "Name", "Event", "Reason"],
                         ([_esc(r["ticker"]), _esc(r["name"]), _esc(r["event"]), _esc(r["reason"])]
                          for r in c.excluded_before()), long_cols=(3,)))
    S.append("<h3>Left out of an event or a window</h3>")
    pairs = c.excluded_pairs()
    tab = _html_table(["Event", "Ticker", "Name", "Window", "Reason"],
                      ([_esc(r["event"]), _esc(r["ticker"]), _esc(r["name"]), _esc(r["window"]), _esc(r["reason"])]
                       for r in pairs), long_cols=(4,))
    S.append(details(f"{len(pairs)} exclusions", tab, open_=len(pairs) <= 20) if pairs else tab)

    h2("regressions")
    S.append(details(_reg_summary(c), T.to_html(c.reg)))

    h2("methods")
    S += [f"<p>{_esc(p)}</p>" for p in c.methods()]

    toc = " ".join(f'<a href="#{k}">{_esc(v)}</a>' for k, v in SECTIONS)
    banner = f'<div class="es-banner" role="alert">{_esc(SIMULATED_BANNER)}</div>\n' if c.sim else ""
    sub = f"{_esc(run.data_label)} · model {_esc(run.config.model)} · generated {c.generated} · eventstudy {_esc(c.version)}"
    head = (f'<header class="es-head"><h1>{_esc(c.title)}</h1><p class="es-sub">{sub}</p>'
            f'<nav class="es-toc">{toc}</nav></header>')
    doc = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
           "style-src 'unsafe-inline'\">",
           f"<title>{_esc(c.title)}</title>", f"<style>{CSS}</style></head><body>", banner, head,
           "<main>", "\n".join(S),
           f"<footer>{_esc(c.title)} · {_esc(run.data_label)}</footer>", "</main></body></html>"]
    return "\n".join(doc) + "\n"


# ----------------------------------------------------------------------------- Markdown
def render_markdown(run, figures: dict[str, Path] | None = None, out_dir: str | os.PathLike = ".",
                    title: str | None = None, figures_note: str = "", _content: "_Content | None" = None) -> str:
    """The report as Markdown; figures are relative links (from ``out_dir``) to the PNG files."""
    c = _content or _Content(run, title)
    L: list[str] = [f"# {_md(c.title)}", ""]
    if c.sim:
        L += [f"> **{_md(SIMULATED_BANNER)}**", ""]
    L += [f"{_md(run.data_label)} · model {_md(run.config.model)} · generated {c.generated} · "
          f"eventstudy {_md(c.version)}", ""]

    def h2(key: str) -> None:
        L.extend([f"## {_H[key]}", ""])

    def details(summary: str, body: str) -> None:
        L.extend([f"<details><summary>{_esc(summary)}</summary>", "", body, "</details>", ""])

    h2("how-to-read")
    for p in c.how_to_read():
        L += [_md(p), ""]

    h2("headline")
    if len(c.primary):
        L += ["> **Findings (primary hypotheses, adjusted for multiple testing)**", ">"]
        L += [f"> - {_md(line)}" for line in c.findings] + [""]
        L += [T.to_markdown(c.primary), ""]
    if c.shared:
        L += ["> **Same window, counted once.**", ">"] + [f"> - {_md(line)}" for line in c.shared_lines()] + [""]
    L += [T.to_markdown(c.headline), ""]

    h2("events")
    L += [_md_table(["Event", "Announced", "What", "Cat.", "Source", "Notes"],
                    ([_md(r["event_id"]), _md(r["when"]), _md(r["label"]), _md(r["category"]), _link_md(r["source"]),
                      _md(r["notes"])] for r in c.events_rows())), ""]

    h2("day0")
    L += ["Day 0 is the first session of each instrument's own calendar that could react to the announcement "
          "(news after the close counts from the next session).", ""]
    L += [_md_table(["Event", "Calendar", "Announced at", "Day 0", "Instruments", "Why"],
                    ([_md(r["event_id"]), _md(r["calendar"]), _md(r["announced"]), _md(r["day0"]),
                      _md(r["instruments"]), _md(r["reason"])] for r in c.day0_rows())), ""]

    h2("universe")
    groups = c.universe_groups()
    for g, u in groups:
        L += [f"**{_md(T.group_label(g))}** ({len(u)})", ""]
        L += [_md_table(["Ticker", "Name", "Benchmark"],
                        ([_md(t), _md(_txt(n)), _md(_txt(b))]
                         for t, n, b in zip(u["ticker"], u.get("name", [""] * len(u)), u["benchmark"]))), ""]

    h2("setup")
    L += [f"- **{_md(k)}**: {_md(v)}" for k, v in c.setup_items()] + [""]

    h2("impact")
    L += ["One row per event, exposure group and window. Notes flag events sharing a day 0, other events' day 0 "
          "inside the window and confounders inside it.", ""]
    for w in c.windows:
        if w == c.lead:
            L += [T.to_markdown(_imp_window(c, w, compact=True)), ""]
        else:
            details(f"Window {T.window_label(*w)}", T.to_markdown(_imp_window(c, w, compact=True)))

    def lead_then_others(table_for, has_rows: bool, empty: str) -> None:
        """The lead window's table, the other windows folded below it."""
        if not has_rows:
            L.extend([empty, ""])
            return
        L.extend([T.to_markdown(table_for(c, c.lead)), ""])
        for w in c.windows:
            if w != c.lead:
                details(f"Window {T.window_label(*w)}", T.to_markdown(table_for(c, w)))

    h2("futures")
    lead_then_others(_fut_window, bool(len(c.fut)), _NO_FUTURES)

    h2("cross-section")
    lead_then_others(_cs_window, bool(len(c.cs_all)), _NO_CROSS_SECTION)

    h2("figures")
    if figures:
        base = Path(out_dir)
        for name, p in figures.items():
            rel = Path(os.path.relpath(Path(p), base)).as_posix()
            L += [f"![{_md(_caption(name))}]({rel})", "", f"*{_md(_caption(name))}*", ""]
    else:
        L += [_md(figures_note or "Figures were not requested."), ""]

    h2("confounders")
    conf = run.confounders
    if conf is not None and len(conf):
        L += [_md_table(["Date", "Market", "What", "Inside the windows of", "Source"],
                        ([_md(_txt(pd.Timestamp(d))), _md(m), _md(ds), _md(h), _link_md(_txt(s))]
                         for d, m, ds, s, h in zip(conf["date"], conf["market"], conf["description"],
                                                   conf["source"], c.conf_hits))), ""]
    else:
        L += ["No confounders were given for this run.", ""]

    h2("excluded")
    L += ["### Left out before estimation", ""]
    L += [_md_table(["Ticker", "Name", "Event", "Reason"],
                    ([_md(r["ticker"]), _md(r["name"]), _md(r["event"]), _md(r["reason"])]
                     for r in c.excluded_before())), ""]
    L += ["### Left out of an event or a window", ""]
    L += [_md_table(["Event", "Ticker", "Name", "Window", "Reason"],
                    ([_md(r["event"]), _md(r["ticker"]), _md(r["name"]), _md(r["window"]), _md(r["reason"])]
                     for r in c.excluded_pairs())), ""]

    h2("regressions")
    details(_reg_summary(c), T.to_markdown(c.reg))

    h2("methods")
    for p in c.methods():
        L += [_md(p), ""]
    return "\n".join(L).rstrip() + "\n"


# ----------------------------------------------------------------------------- LaTeX
def _chunks(df: pd.DataFrame, key: str, max_rows: int) -> list[pd.DataFrame]:
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


def _drop_cols(df: pd.DataFrame, drop: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    out.attrs.update(df.attrs)
    out.attrs["columns"] = [c for c in df.attrs.get("columns", []) if c[0] not in drop]
    return out


def render_latex(run, max_rows: int = 45, _content: "_Content | None" = None) -> str:
    """Headline, impact, futures and cross-sectional tables as booktabs ``table`` environments
    (at most about ``max_rows`` rows each; long tables are split by event), for a document with
    ``\\usepackage{booktabs}``."""
    c = _content or _Content(run, None)
    sim = "SIMULATED data. " if c.sim else ""
    out = ["% Tables of an eventstudy run: needs \\usepackage{booktabs} (UTF-8 input); the wide tables fit",
           "% 2 cm margins (\\usepackage[margin=2cm]{geometry}) or a landscape page.",
           f"% {sim}Data: {T.latex_escape(run.data_label)}", ""]
    shared = " ".join(c.shared_lines())

    def add(df: pd.DataFrame, label: str, extra_note: str = "") -> None:
        d = df.copy()
        d.attrs.update(df.attrs)
        if extra_note:
            d.attrs["notes"] = list(df.attrs.get("notes", [])) + [extra_note]
        out.append(T.to_latex(d, label=label, size=r"\scriptsize", tabcolsep="3pt"))

    def add_parts(df: pd.DataFrame, label: str, extra_note: str = "") -> None:
        """``df`` split by event into tables of at most about ``max_rows`` rows, titled 'part i of n'."""
        parts = _chunks(df, "event_id", max_rows)
        for i, p in enumerate(parts):
            if len(parts) > 1:
                p.attrs["title"] = df.attrs["title"] + f" (part {i + 1} of {len(parts)})"
            add(p, label + (f"-{i + 1}" if len(parts) > 1 else ""), extra_note)

    def stem(w) -> str:
        return f"{w[0]}_{w[1]}".replace("-", "m")

    if len(c.primary):
        add(_drop_cols(c.primary, ["confounders"]), "tab:primary", " ".join(c.findings))
    for w in c.windows:
        h = c.headline if w == c.lead else c.view(T.headline_table(run, window=w, impact=c.imp))
        add(_drop_cols(h, ["note"]), f"tab:headline-{stem(w)}", shared)
    out.append("\\clearpage\n")
    for w in c.windows:
        # on paper: the lead test with its adjusted p-values, the others' statistics only (BMP t, which
        # KP adjusts, is in the HTML and CSV), so that the table fits 2 cm margins
        imp = _drop_cols(_imp_window(c, w), ["note", "day0", "window", "t_cross_section_p", "grank_p",
                                              "sign_generalized_p", "bmp_p", "bmp_stat"])
        imp.attrs["columns"] = [[col, lab, k] if col != "group" else ["group_short", "Group", "text"]
                                for col, lab, k in imp.attrs["columns"]]
        imp["group_short"] = imp["group_id"].map(lambda g: T.group_label(g, short=True))
        add_parts(imp, f"tab:impact-{stem(w)}", shared)
        out.append("\\clearpage\n")
    if len(c.fut):
        for w in c.windows:
            add_parts(_drop_cols(_fut_window(c, w), ["note"]), f"tab:futures-{stem(w)}")
        out.append("\\clearpage\n")
    if len(c.cs_all):
        for w in c.windows:
            add_parts(_cs_window(c, w), f"tab:cross-section-{stem(w)}")
            out.append("\\clearpage\n")
    return "\n".join(out)


# ----------------------------------------------------------------------------- entry point
def write_report(run, out_dir: str | os.PathLike, formats: Sequence[str] = ("md", "html", "latex"),
                 plots: bool = True, title: str | None = None,
                 impact: pd.DataFrame | None = None, raw_csv: bool = False,
                 figure_formats: Sequence[str] = ("png",)) -> dict[str, Path]:
    """Write the report of ``run`` into ``out_dir`` (created if needed), atomically.

    ``formats`` from ``md`` (``report.md``), ``html`` (``report.html``, self-contained), ``latex``
    (``tables.tex``), ``csv`` (``impact_table.csv``, ``futures_table.csv``,
    ``cross_section_table.csv``). With ``plots`` the figures of :func:`eventstudy.present.plots.save_plots`
    go to ``out_dir/figures`` in ``figure_formats`` (``png``, ``svg``; default PNG) and are embedded
    (HTML; the PNG, or the SVG when only SVG is asked for) or linked (Markdown).
    ``impact``: :func:`eventstudy.present.tables.impact_table` of ``run`` with its defaults, when the caller
    already has it (it is not computed again). ``raw_csv``: CSV text cells verbatim (default: a
    leading ``'`` before text a spreadsheet would evaluate, :func:`eventstudy.io_utils.spreadsheet_safe`).
    Returns ``{file name: path}`` of every file written (figures as ``figures/<name>.png``).
    """
    formats = check_formats(formats)
    out = ensure_out_dir(out_dir, "report folder", "the report")
    written: dict[str, Path] = {}
    figures: dict[str, Path] = {}
    note = "Figures were not requested."
    if plots and ("html" in formats or "md" in formats):
        figures, note = _make_plots(run, out, figure_formats)
        for name, p in figures.items():
            written[Path(os.path.relpath(p, out)).as_posix()] = p
    content = _Content(run, title, impact)
    if "html" in formats:
        written["report.html"] = atomic_write_text(
            out / "report.html", render_html(run, figures, title=title, figures_note=note, _content=content))
    if "md" in formats:
        written["report.md"] = atomic_write_text(
            out / "report.md", render_markdown(run, figures, out, title=title, figures_note=note, _content=content))
    if "latex" in formats:
        written["tables.tex"] = atomic_write_text(out / "tables.tex", render_latex(run, _content=content))
    if "csv" in formats:
        for name, df in (("impact_table.csv", content.imp), ("futures_table.csv", content.fut),
                         ("cross_section_table.csv", content.cs_all)):
            T.to_csv(df, out / name, raw=raw_csv)
            written[name] = out / name
    return written
