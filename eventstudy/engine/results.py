"""EventStudyResult: an immutable results object with tidy frames and ``.summary()``.

Frames (columns documented in CONTRACTS.md and the README):
``ar``, ``car``, ``tests``, ``params``, ``exclusions``. Arrays used for regressions and
plots are kept in :class:`StudyArrays` (not part of the public contract).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.content import STARS_NOTE, Column, Heading, Paragraph, Summary, Table
from eventstudy.estimation.data import POOLED  # noqa: F401 (the pooled cells' label, public here too)
from eventstudy.estimation.fit import FitSettings, fit_rows
from eventstudy.estimation.layout import PairLayout
from eventstudy.estimation.normal_returns import BatchFit
from eventstudy.estimation.windows import Window
from eventstudy.inference.reference import MIN_OVERLAP, residual_correlation_matrix


@dataclass(frozen=True, repr=False)
class StudyArrays:
    """Dense per-pair arrays behind a result, computed on demand.

    The engine streams over chunks of events and keeps only the event span; the dense arrays on
    the whole relative-day grid ``rel_days`` are recomputed when asked for from the fit's ``layout``
    and ``settings`` (the same gather and fit, so the same numbers): :meth:`subset` for some pairs,
    :meth:`returns` for their gathered returns and regressors only, or the attributes ``y (P, D)``
    returns, ``f (P, D, q)`` regressors, ``dates (P, S)`` sessions of the event span and ``fit``
    (:class:`~eventstudy.estimation.normal_returns.BatchFit`) for all pairs (computed once, then kept).
    Plain arrays and dataclasses only, so a result pickles.
    """

    pairs: pd.DataFrame
    ok: np.ndarray
    rel_days: np.ndarray
    est_mask: np.ndarray
    layout: PairLayout = field(compare=False)
    settings: FitSettings = field(compare=False)

    @staticmethod
    def _rows(sel) -> np.ndarray:
        return np.flatnonzero(sel) if np.asarray(sel).dtype == bool else np.asarray(sel, dtype=np.int64)

    def subset(self, sel) -> tuple[np.ndarray, np.ndarray, np.ndarray, BatchFit]:
        """``(y, f, dates, fit)`` for the pairs selected by ``sel`` (boolean mask or positions), in pair order."""
        return fit_rows(self.layout, self.settings, self._rows(sel))[:4]

    def returns(self, sel) -> tuple[np.ndarray, np.ndarray]:
        """``(y, f)`` for the pairs selected by ``sel``, in pair order: gathered only, no model fitted."""
        return self.layout.gather(self._rows(sel))[:2]

    @cached_property
    def _all(self) -> tuple:
        return self.subset(np.arange(len(self.pairs)))

    @cached_property
    def _memo(self) -> dict:
        return {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_memo", None)             # a cache of this process, rebuilt on demand
        return state

    def event_residual_corr(self, event_id: str, min_overlap: int = MIN_OVERLAP) -> tuple[np.ndarray, np.ndarray]:
        """(tickers, pairwise-complete residual correlation matrix) of the estimated pairs of one event
        (:func:`~eventstudy.inference.reference.residual_correlation_matrix`), computed once per event."""
        key = ("residual_corr", event_id, int(min_overlap))
        if key not in self._memo:
            sel = self.ok & (self.pairs["event_id"].to_numpy() == event_id)
            resid = self.subset(sel)[3].ar[:, self.est_mask]
            self._memo[key] = (self.pairs["ticker"].to_numpy()[sel], residual_correlation_matrix(resid, min_overlap))
        return self._memo[key]

    @property
    def y(self) -> np.ndarray:
        return self._all[0]

    @property
    def f(self) -> np.ndarray:
        return self._all[1]

    @property
    def dates(self) -> np.ndarray:
        return self._all[2]

    @property
    def fit(self) -> BatchFit:
        return self._all[3]


def _fmt(v, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return format(v, spec)


def stars(p: float) -> str:
    """Significance stars: *** p<0.01, ** p<0.05, * p<0.10."""
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def text_table(df: pd.DataFrame, title: str | None = None) -> str:
    """Render a small DataFrame as a fixed-width text table (what ``.summary()`` prints)."""
    cols = [str(c) for c in df.columns]
    rows = [["" if (isinstance(v, float) and not np.isfinite(v)) else str(v) for v in r]
            for r in df.astype(object).itertuples(index=False)]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    num = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]

    def line(vals):
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(vals, widths, num))

    total = sum(widths) + 2 * (len(widths) - 1)
    out = []
    if title:
        out += [title.center(total), "=" * total]
    out += [line(cols), "-" * total]
    out += [line(r) for r in rows]
    out.append("=" * total)
    return "\n".join(out)


@dataclass(frozen=True, repr=False)
class EventStudyResult:
    """Result of :meth:`eventstudy.engine.model.EventStudy.fit`.

    Attributes are tidy DataFrames: ``ar`` (abnormal returns on event-window days, decimal),
    ``car`` (per pair and window; ``car``, ``car_se``, ``bhar`` decimal, ``scar`` unitless,
    ``p_value`` two-sided Student t with ``M_i - k`` d.o.f.), ``tests`` (per event x group x
    window x test id; ``caar`` decimal), ``params`` (model estimates), ``exclusions``
    (which pair or pair-window was left out, and why).
    """

    model: str
    k: int
    estimation: Window
    windows: tuple[Window, ...]
    min_obs: int
    ar: pd.DataFrame
    car: pd.DataFrame
    tests: pd.DataFrame
    params: pd.DataFrame
    exclusions: pd.DataFrame
    pooled_group: str | None
    regressors: tuple[str, ...]
    bootstrap: int | None = 0
    arrays: StudyArrays | None = field(default=None, compare=False)

    # ------------------------------------------------------------------ views
    @property
    def events(self) -> list[str]:
        return list(dict.fromkeys(self.car["event_id"]))

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(self.tests["group"]))

    def test_table(self, test: str = "kolari_pynnonen", window: Window | None = None) -> pd.DataFrame:
        """Tests of one id as a wide table: event x group with CAAR (%), statistic and p-value."""
        t = self.tests[self.tests["test"] == test]
        if window is not None:
            t = t[(t["window_start"] == window[0]) & (t["window_end"] == window[1])]
        out = t[["event_id", "group", "window_start", "window_end", "n", "caar", "statistic", "p_value"]].copy()
        out["caar_pct"] = 100 * out.pop("caar")
        return out.reset_index(drop=True)

    def residual_corr(self, event_id: str, tickers: Sequence[str] | None = None,
                      min_overlap: int = MIN_OVERLAP) -> pd.DataFrame:
        """Pairwise-complete correlation of estimation-window residuals across securities for one event
        (:func:`eventstudy.inference.reference.residual_correlation_matrix`, the ``r`` of Kolari–Pynnönen)."""
        a = self.arrays
        if a is None:
            raise ValueError("this result carries no arrays")
        if tickers is None:
            names, r = a.event_residual_corr(event_id, min_overlap)
            return pd.DataFrame(r, index=names, columns=names)
        sel = a.ok & (a.pairs["event_id"].to_numpy() == event_id)
        if tickers is not None:
            sel &= np.isin(a.pairs["ticker"].to_numpy(), list(tickers))
        resid = a.subset(sel)[3].ar[:, a.est_mask]
        names = a.pairs["ticker"].to_numpy()[sel]
        return pd.DataFrame(residual_correlation_matrix(resid, min_overlap), index=names, columns=names)

    # ------------------------------------------------------------------ summary
    def exclusion_counts(self, top: int = 5) -> pd.DataFrame:
        """Exclusions in a few categories: ``what`` ('pair' = the whole pair, 'pair-window'), ``reason``
        (the message without its dates and day numbers) and ``count``, most common first."""
        ex = self.exclusions
        if ex.empty:
            return pd.DataFrame(columns=["what", "reason", "count"])
        what = np.where(ex["window_start"].isna(), "pair", "pair-window")
        cat = (ex["reason"].astype(str)
               .str.replace(r"\d{4}-\d{2}-\d{2}", "<date>", regex=True)
               .str.replace(r"\(day [+-]?\d+\)", "", regex=True)
               .str.replace(r"day [+-]?\d+", "day <k>", regex=True)
               .str.replace(r"M=\d+", "M=<m>", regex=True)
               .str.split(":").str[0].str.strip())
        tab = (pd.DataFrame({"what": what, "reason": cat}).value_counts().rename("count").reset_index())
        return tab.head(top)

    def summary_frame(self, test: str = "kolari_pynnonen", max_rows: int = 60) -> tuple[list[str], pd.DataFrame]:
        """The content of :meth:`summary`: header lines and the lead test's table (pooled cells first)."""
        n_pairs = len(self.params)            # the estimated pairs (params has one row per estimated pair)
        ex = self.exclusions
        n_excl = int(ex["window_start"].isna().sum())
        n_win = int(ex["window_start"].notna().sum())
        head = [
            f"Model: {self.model} (k={self.k})    Estimation window: [{self.estimation[0]}, {self.estimation[1]}]"
            f"    min obs: {self.min_obs}",
            f"Event windows: {', '.join(f'[{a},{b}]' for a, b in self.windows)}",
            f"Pairs: {n_pairs + n_excl}    estimated: {n_pairs}    pairs excluded: {n_excl}    "
            f"pair-windows excluded: {n_win}    events: {len(self.events)}",
        ]
        for r in self.exclusion_counts().itertuples(index=False):
            head.append(f"  {r.count} {r.what}(s) excluded: {r.reason}")
        lead = self.tests[self.tests["test"] == test]
        if lead.empty:
            return head, pd.DataFrame()
        # pooled cells (firm-specific designs, the pooled group) first
        first = lead["group"] == (self.pooled_group or "")
        lead = pd.concat([lead[first], lead[~first]])
        tab = pd.DataFrame({
            "event": lead["event_id"], "group": lead["group"],
            "window": [f"[{a},{b}]" for a, b in zip(lead["window_start"], lead["window_end"])],
            "N": lead["n"].astype(int),
            "CAAR %": [_fmt(100 * v, "+.2f") for v in lead["caar"]],
            "stat": [_fmt(v, "+.2f") for v in lead["statistic"]],
            "p": [_fmt(v, ".3f") for v in lead["p_value"]],
            "": [stars(v) for v in lead["p_value"]],
        })
        if len(tab) > max_rows:
            head.append(f"(first {max_rows} of {len(tab)} cells; all in .tests)")
            tab = tab.head(max_rows)
        return head, tab.reset_index(drop=True)

    def summary(self, test: str = "kolari_pynnonen", max_rows: int = 60) -> Summary:
        """A readable summary: specification, counts (pairs, pair-windows excluded and why, in a few
        categories) and the lead test per cell (pooled cells first), at most ``max_rows`` rows.

        A :class:`~eventstudy.content.Summary`: the text (it is a ``str``; ``print`` it) and the same
        content as blocks (``.as_html()``, ``.as_markdown()``; notebooks show the HTML)."""
        head, tab = self.summary_frame(test, max_rows)
        body = "(no tests)" if tab.empty else text_table(tab, title=f"Lead test: {test}")
        text = "\n".join(["Event study results", *head]) + "\n\n" + body + "\n" + STARS_NOTE
        lead = self.tests[self.tests["test"] == test]
        first = lead["group"] == (self.pooled_group or "")
        lead = pd.concat([lead[first], lead[~first]]).head(max_rows)
        table = Table(pd.DataFrame({
            "event_id": lead["event_id"].astype(str), "group": lead["group"].astype(str),
            "window": [f"[{a},{b}]" for a, b in zip(lead["window_start"], lead["window_end"])],
            "n": lead["n"].astype(int), "caar_pct": 100 * lead["caar"].astype(float),
            "statistic": lead["statistic"].astype(float), "p_value": lead["p_value"].astype(float)}),
            columns=(Column("event_id", "Event"), Column("group", "Group"), Column("window", "Window"),
                     Column("n", "N", "int"), Column("caar_pct", "CAAR (%)", "pct"),
                     Column("statistic", "Statistic", "stat"), Column("p_value", "p", "p")),
            title=f"Lead test: {test}", stars={"statistic": "p_value"})
        blocks = [Heading("Event study results", 3), *(Paragraph(h.strip()) for h in head),
                  Paragraph("(no tests)") if tab.empty else table, Paragraph(STARS_NOTE)]
        return Summary(text, blocks)

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return (f"<EventStudyResult model={self.model} events={len(self.events)} "
                f"pairs={len(self.params)} windows={list(self.windows)}>")

    def __str__(self) -> str:
        return str.__str__(self.summary())
