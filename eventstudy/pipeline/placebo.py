"""Placebo calibration on the user's own panel: size, power, minimum detectable effect,
calibrated p-values and equivalence tests.

The real study is rerun on event dates drawn at random from the panel's estimation-eligible
sessions (Brown & Warner 1985's design on the user's data): same instruments, groups,
calendars, model, estimation window and event windows, with every real event's windows and
the listed confounder dates kept out of every placebo window. Each real event is replaced by
one placebo date for all its securities (a universe-wide event stays universe-wide), drawn per
event design. In a pooled firm-specific design (``run.design == "firm"``) each firm-event keeps its
firm and gets a date of its own in every draw, from that firm's eligible sessions (away from its
own real windows), and a draw is one pooled cell per group (:func:`~eventstudy.pipeline.placebo_dates.firm_draws`). All placebo
events of a run go through ONE batched :class:`~eventstudy.engine.model.EventStudy` fit (their dates
are the event ids), and one more fit per injected effect size.

What comes out (:class:`PlaceboResult`), per test, window and group:

- **size**: the share of placebo cells with nominal p < 1%, 5%, 10% (no effect was added);
- **power**: the same share when an abnormal return ``delta`` (decimal) is added to every
  placebo pair's day-0 return (so the CAAR of every window holding day 0 rises by ``delta``);
- **MDE**: the smallest ``delta`` rejected 80% of the time at 5%, by linear interpolation
  of power over ``0`` (the size) and the injected sizes;
- **calibrated p** of each real cell: ``(1 + #{s_b >= s}) / (1 + B)``, the rank of the real
  statistic's extremeness ``s`` among the B placebo ones of the same (design, group, window,
  test) (randomisation inference on event dates; Phipson & Smyth 2010 for the +1);
- **TOST** for "no reaction" cells: Schuirmann's (1987) two one-sided tests of
  ``|CAAR| >= margin`` against the placebo distribution of the cell's CAAR.

References: Brown & Warner (1985) J. Financial Economics 14; Kolari & Pynnönen (2010) RFS 23;
Schuirmann (1987) J. Pharmacokinetics and Biopharmaceutics 15; Phipson & Smyth (2010) SAGMB 9.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.engine.model import EventStudy
from eventstudy.errors import PlaceboError
from eventstudy.inference.placebo_stats import (LEVELS, MDE_LEVEL, MDE_POWER, calibrated_p, extremeness,
                                                min_detectable_effect, rejection_rates, tost_placebo, tost_t)
from eventstudy.pipeline.placebo_dates import blocked_dates, draw_dates, eligible_dates, firm_draws, placebo_pairs
from eventstudy.progress import progress_bar
from eventstudy.returns.panel import ReturnPanel

#: injected day-0 abnormal returns (decimal) for the power curves
DEFAULT_EFFECTS: tuple[float, ...] = (0.0025, 0.005, 0.01, 0.02, 0.04, 0.08)
#: tests the placebo does not rerun (the bootstrap is a resampling test of its own)
_SKIP_TESTS = ("bootstrap",)
_SEP = "\u241f"          # joins ticker and placebo event in the injected panel's column names

__all__ = ["DEFAULT_EFFECTS", "LEVELS", "MDE_LEVEL", "MDE_POWER", "PlaceboError", "PlaceboResult", "blocked_dates",
           "eligible_dates", "draw_dates", "calibrated_p", "rejection_rates", "min_detectable_effect", "tost_placebo",
           "tost_t", "extremeness", "placebo_study", "study_for_placebo"]



@dataclass(frozen=True, repr=False)
class PlaceboResult:
    """Placebo calibration of a study (all effects and CAARs decimal).

    - ``draws``: draw, design, date, event_id (the placebo event each draw used)
    - ``designs``: design, event_id (real events), n_tickers
    - ``eligible``: design -> DatetimeIndex of the dates drawn from; ``blocked``: dates no placebo window touches
    - ``size``: test, window_start, window_end, group, n (median securities per placebo cell), cells,
      size_01, size_05, size_10
    - ``power``: test, window_start, window_end, group, effect, power_05
    - ``mde``: test, window_start, window_end, group, n, size_05, mde (NaN: not reached at the largest effect)
    - ``calibrated``: event_id, group, window_start, window_end, test, n, caar, statistic, p_value, p_calibrated, draws
    - ``tost``: event_id, group, window_start, window_end, n, caar, margin, margin_source, p_tost, equivalent
    - ``pairs``: ticker, event_id, day0, group of every placebo pair; ``placebo_tests``: the placebo fit's
      tests (columns of ``EventStudyResult.tests`` plus design and ``w``, the draws that used the event);
      ``power_tests``: effect -> the same for the fit with that effect injected
    """

    draws: pd.DataFrame
    designs: pd.DataFrame
    eligible: dict
    blocked: pd.DatetimeIndex
    size: pd.DataFrame
    power: pd.DataFrame
    mde: pd.DataFrame
    calibrated: pd.DataFrame
    tost: pd.DataFrame
    pairs: pd.DataFrame
    placebo_tests: pd.DataFrame
    power_tests: dict
    n_draws: int
    seed: int
    effects: tuple[float, ...]
    lead_test: str = "kolari_pynnonen"
    data_label: str = ""
    simulated: bool = False
    info: dict = field(default_factory=dict)

    def summary(self, window: tuple[int, int] | None = None, group: str = "all") -> str:
        """Size at 5% and MDE per test for one window (default the first) and group, as a text table."""
        from eventstudy.engine.results import text_table
        if self.size.empty:
            return "placebo: no placebo cell could be tested"
        w = window or (int(self.size["window_start"].iloc[0]), int(self.size["window_end"].iloc[0]))
        g = group if group in set(self.size["group"]) else self.size["group"].iloc[0]
        sel = (self.mde["window_start"] == w[0]) & (self.mde["window_end"] == w[1]) & (self.mde["group"] == g)
        t = self.mde[sel].merge(self.size[["test", "window_start", "window_end", "group", "size_01", "size_10"]],
                                on=["test", "window_start", "window_end", "group"])
        out = pd.DataFrame({"test": t["test"], "n": t["n"], "size 1%": t["size_01"].round(3),
                            "size 5%": t["size_05"].round(3), "size 10%": t["size_10"].round(3),
                            "MDE (%)": (100 * t["mde"]).round(2)})
        head = "[SIMULATED] " if self.simulated else ""
        return text_table(out, title=f"{head}Placebo size and MDE, window [{w[0]},{w[1]}], group {g}, "
                                     f"{self.n_draws} draws")


def study_kwargs(run) -> dict:
    """The EventStudy arguments the pipeline used for ``run`` (model, regressors, windows, pooling)."""
    cfg = run.config
    uni = run.universe
    bench = {t: b for t, b in zip(uni["ticker"], uni["benchmark"]) if isinstance(b, str) and b}
    kw = dict(model=cfg.model, estimation=cfg.estimation, windows=list(cfg.windows),
              pool_exclude=tuple(cfg.pool_exclude), log_returns=(cfg.return_kind == "log"), alignment=cfg.alignment)
    if cfg.model in ("market", "market_adjusted"):
        kw["benchmark"] = bench
    elif cfg.model == "factor":
        kw["factors"] = {t: [bench.get(t, ""), *cfg.extra_factors] for t in uni["ticker"]}
    return kw


def _real_pairs(run) -> pd.DataFrame:
    """ticker, event_id, day0, group of the real study (instruments with a day 0)."""
    d = run.day0.dropna(subset=["day0"])[["ticker", "event_id", "day0"]].copy()
    if getattr(run, "design", "events") == "firm":      # groups of firm-events are the run's own (e.g. --by news)
        grp = run.result.params.drop_duplicates(["ticker", "event_id"]).set_index(["ticker", "event_id"])["group"]
        d = d.join(grp, on=["ticker", "event_id"], how="inner")
    else:
        d["group"] = d["ticker"].map(dict(zip(run.universe["ticker"], run.universe["group"])))
    return d[d["ticker"].isin(run.panel.returns.columns)].reset_index(drop=True)


def _designs(pairs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Group real events with the same (ticker, group) set into one design: (event -> design, design -> members)."""
    keys, members, rows = {}, {}, []
    for ev, g in pairs.groupby("event_id", sort=False):
        key = tuple(sorted(zip(g["ticker"], g["group"])))
        if key not in keys:
            keys[key] = f"D{len(keys) + 1}"
            members[keys[key]] = g[["ticker", "group"]].drop_duplicates().reset_index(drop=True)
        rows.append((keys[key], ev, len(key)))
    return pd.DataFrame(rows, columns=["design", "event_id", "n_tickers"]), members


def _injected_panel(panel: ReturnPanel, pairs: pd.DataFrame, effect: float) -> tuple[ReturnPanel, pd.DataFrame, dict]:
    """A panel with one column per placebo pair (its security's returns, ``effect`` added on the pair's day 0),
    so an injection never reaches another placebo event's estimation window; pairs renamed to those columns."""
    ret = panel.returns
    tick = pairs["ticker"].to_numpy()
    names = np.char.add(np.char.add(tick.astype(str), _SEP), pairs["event_id"].to_numpy().astype(str))
    cols = ret.columns.get_indexer(tick)
    vals = ret.to_numpy()[:, cols].copy()
    rows = ret.index.get_indexer(pd.DatetimeIndex(pairs["day0"]))
    vals[rows, np.arange(len(pairs))] += effect
    copies = pd.DataFrame(vals, index=ret.index, columns=names)
    regs = ret.drop(columns=np.unique(tick))
    wide = pd.concat([regs, copies], axis=1)
    sessions = dict(panel.sessions)
    sessions.update({n: panel.sessions[t] for n, t in zip(names, tick)})
    closes = dict(getattr(panel, "closes", None) or {})
    closes.update({n: closes[t] for n, t in zip(names, tick) if t in closes})
    new = ReturnPanel(returns=wide, sessions=sessions, kind=panel.kind, masked=panel.masked, closes=closes)
    p2 = pairs.copy()
    p2["ticker"] = names
    return new, p2, dict(zip(names, tick))


def _remap(mapping, alias: dict) -> dict:
    """A ticker -> regressor mapping extended to the injected panel's column names."""
    m = dict(mapping)
    m.update({n: mapping[t] for n, t in alias.items() if t in mapping})
    return m


def _fit_tests(panel, pairs: pd.DataFrame, kw: dict) -> pd.DataFrame:
    """The test table of one batched fit, as the pipeline reports it: the cross-sectional tests of the
    non-pooled instrument groups (one instrument, or listings of one contract) are NaN."""
    from eventstudy.pipeline.checks import CROSS_SECTIONAL_TESTS

    t = EventStudy(panel, pairs, progress=False, **kw).fit().tests
    t = t[~t["test"].isin(_SKIP_TESTS)].copy()
    single = t["group"].isin(list(kw.get("pool_exclude", ()))) & t["test"].isin(CROSS_SECTIONAL_TESTS)
    t.loc[single, ["statistic", "p_value"]] = np.nan
    return t


_CELL = ["design", "group", "window_start", "window_end", "test"]


def _weighted(tests: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Placebo test rows with ``design`` and ``w`` (how many draws used the event)."""
    return tests.merge(weights, on="event_id", how="inner")


def placebo_study(run, draws: int = 500, effects: Sequence[float] = DEFAULT_EFFECTS, seed: int = 0,
                  margin: float | None = None, lead_test: str = "kolari_pynnonen",
                  min_estimation: int | None = None, batch_pairs: int = 50_000, progress: bool | None = None) -> PlaceboResult:
    """Placebo calibration of a :class:`~eventstudy.pipeline.study.StudyRun` (see the module docstring).

    ``draws`` placebo dates per real event design, seeded by ``seed``; ``effects`` the injected day-0
    abnormal returns (decimal, positive) for power and MDE; ``margin`` the equivalence margin on the
    CAAR (decimal) for the TOST, default each cell's MDE of ``lead_test`` at 5%. ``min_estimation``: sessions
    of the estimation window a placebo date needs inside the data (default the model's ``min_obs``, as
    the real pairs; the full window length keeps only dates with complete estimation windows). Placebo events are
    fitted ``batch_pairs`` pairs at a time (one fit for a typical study), each fit on both cores.
    """
    if draws < 1:
        raise PlaceboError(f"draws={draws}: give at least 1 placebo draw (hundreds for stable rates)")
    effects = tuple(sorted(float(e) for e in effects))
    if any(e <= 0 for e in effects):
        raise PlaceboError(f"effects {effects}: injected abnormal returns must be positive decimals (0.01 = 1%)")
    firm = getattr(run, "design", "events") == "firm"
    kw = study_kwargs(run)
    windows = [tuple(w) for w in run.config.windows]
    real = _real_pairs(run)
    if real.empty:
        raise PlaceboError("the study has no (security, event) pair with a day 0: nothing to calibrate")
    sessions = run.panel.sessions
    probe = EventStudy(run.panel, real, progress=False, **kw)
    conf = run.confounders["date"] if len(run.confounders) else []
    min_obs = probe.min_obs if min_estimation is None else int(min_estimation)
    if firm:
        kw["pool"] = "pool"
        drawn, designs, weights, pairs, eligible, blocked = firm_draws(real, sessions, run.config.estimation,
                                                                        windows, min_obs, conf, draws, seed)
        distinct = weights
    else:
        blocked = blocked_dates(real, sessions, windows, conf)
        designs, members = _designs(real)
        ss = np.random.SeedSequence(seed)
        draw_rows, eligible = [], {}
        for design, child in zip(members, ss.spawn(len(members))):
            el = eligible_dates(sessions, members[design]["ticker"].tolist(), run.config.estimation, windows,
                                min_obs, blocked)
            eligible[design] = el
            d = draw_dates(el, draws, child)
            draw_rows.append(pd.DataFrame({"draw": np.arange(draws), "design": design, "date": d}))
        drawn = pd.concat(draw_rows, ignore_index=True)
        multi = len(members) > 1
        drawn["event_id"] = drawn["date"].dt.strftime("%Y-%m-%d") + (("/" + drawn["design"]) if multi else "")
        distinct = drawn.drop_duplicates("event_id")[["design", "date", "event_id"]]
        weights = drawn.groupby("event_id").size().rename("w").reset_index().merge(distinct[["event_id", "design"]])
        pairs = placebo_pairs(members, distinct, sessions)

    # batches of whole placebo events (firm designs: whole draws, each one pooled cell per group)
    ev_codes, _ = pd.factorize(pairs["pool"] if firm else pairs["event_id"])
    n_batches = max(1, math.ceil(len(pairs) / batch_pairs))
    batch_of = (ev_codes * n_batches) // max(1, ev_codes.max() + 1)
    bar = progress_bar(n_batches * (1 + len(effects)), desc="placebo fits", unit="fit", enabled=progress)
    null_parts, power_parts = [], {e: [] for e in effects}
    try:
        for b in range(n_batches):
            pb = pairs[batch_of == b].reset_index(drop=True)
            null_parts.append(_fit_tests(run.panel, pb, kw))
            bar.update(1)
            for e in effects:
                pan, pe, alias = _injected_panel(run.panel, pb, e)
                kwe = dict(kw)
                if "benchmark" in kwe:
                    kwe["benchmark"] = _remap(kwe["benchmark"], alias)
                if "factors" in kwe:
                    kwe["factors"] = _remap(kwe["factors"], alias)
                power_parts[e].append(_fit_tests(pan, pe, kwe))
                bar.update(1)
    finally:
        bar.close()
    null = _weighted(pd.concat(null_parts, ignore_index=True), weights)

    # size per test x window x group (over designs: the study's design cells pooled)
    key = ["test", "window_start", "window_end", "group"]
    size_rows = []
    for k, g in null.groupby(key, sort=False):
        r = rejection_rates(g["p_value"].to_numpy(), g["w"].to_numpy())
        size_rows.append((*k, float(np.median(g["n"])), int(g.loc[g["p_value"].notna(), "w"].sum()), *r))
    size = pd.DataFrame(size_rows, columns=key + ["n", "cells", "size_01", "size_05", "size_10"])

    pw_rows, power_tests = [], {}
    for e in effects:
        pt = power_tests[e] = _weighted(pd.concat(power_parts[e], ignore_index=True), weights)
        for k, g in pt.groupby(key, sort=False):
            pw_rows.append((*k, e, rejection_rates(g["p_value"].to_numpy(), g["w"].to_numpy(), (MDE_LEVEL,))[0]))
    power = pd.DataFrame(pw_rows, columns=key + ["effect", "power_05"])

    mde_rows = []
    pw_idx = power.set_index(key)
    for r in size.itertuples(index=False):
        k = (r.test, r.window_start, r.window_end, r.group)
        if k in pw_idx.index:
            p = pw_idx.loc[[k]].sort_values("effect")
            pw = dict(zip(p["effect"], p["power_05"]))
        else:
            pw = {}
        has0 = r.window_start <= 0 <= r.window_end
        m = min_detectable_effect(effects, [pw.get(e, np.nan) for e in effects], r.size_05) if has0 else math.nan
        mde_rows.append((*k, r.n, r.size_05, m))
    mde = pd.DataFrame(mde_rows, columns=key + ["n", "size_05", "mde"])

    calibrated = _calibrate(run, designs, null, lead_test)
    tost = _tost(run, designs, null, mde, margin, lead_test)
    info = dict(placebo_events=len(distinct), placebo_pairs=len(pairs), fits=n_batches * (1 + len(effects)),
                eligible={k: len(v) for k, v in eligible.items()})
    return PlaceboResult(draws=drawn, designs=designs, eligible=eligible, blocked=blocked, size=size, power=power,
                         mde=mde, calibrated=calibrated, tost=tost, pairs=pairs, placebo_tests=null,
                         power_tests=power_tests, n_draws=draws, seed=seed, effects=effects,
                         lead_test=lead_test, data_label=getattr(run, "data_label", ""),
                         simulated=bool(getattr(run, "simulated", False)), info=info)


def _calibrate(run, designs: pd.DataFrame, null: pd.DataFrame, lead_test: str) -> pd.DataFrame:
    """Calibrated p of every real test row: its extremeness ranked among the placebo cells of its design."""
    rt = run.result.tests
    rt = rt[~rt["test"].isin(_SKIP_TESTS)].merge(designs[["event_id", "design"]], on="event_id", how="inner")
    rt = rt.assign(score=extremeness(rt["test"].to_numpy(), rt["statistic"].to_numpy(), rt["n"].to_numpy()))
    pl = null.assign(score=extremeness(null["test"].to_numpy(), null["statistic"].to_numpy(), null["n"].to_numpy()))
    out = np.full(len(rt), np.nan)
    nd = np.zeros(len(rt))
    groups = pl.groupby(_CELL, sort=False)
    for k, idx in rt.groupby(_CELL, sort=False).indices.items():
        if k not in groups.indices:
            continue
        g = pl.iloc[groups.indices[k]]
        g = g[g["score"].notna()]
        out[idx] = calibrated_p(rt["score"].to_numpy()[idx], g["score"].to_numpy(), g["w"].to_numpy())
        nd[idx] = g["w"].sum()
    cols = ["event_id", "group", "window_start", "window_end", "test", "n", "caar", "statistic", "p_value"]
    res = rt[cols].copy()
    res["p_calibrated"] = out
    res["draws"] = nd.astype(int)
    return res.reset_index(drop=True)


def _tost(run, designs: pd.DataFrame, null: pd.DataFrame, mde: pd.DataFrame, margin: float | None,
          lead_test: str) -> pd.DataFrame:
    """TOST of every real (event, group, window) CAAR against the placebo CAARs of its design cell."""
    rt = run.result.tests
    rt = rt[rt["test"] == lead_test].merge(designs[["event_id", "design"]], on="event_id", how="inner")
    pl = null[null["test"] == lead_test]
    key = ["design", "group", "window_start", "window_end"]
    m_of = {(g, a, b): v for g, a, b, v in zip(mde.loc[mde["test"] == lead_test, "group"],
                                                 mde.loc[mde["test"] == lead_test, "window_start"],
                                                 mde.loc[mde["test"] == lead_test, "window_end"],
                                                 mde.loc[mde["test"] == lead_test, "mde"])}
    groups = pl.groupby(key, sort=False).indices
    rows = []
    for r in rt.itertuples(index=False):
        k = (r.design, r.group, r.window_start, r.window_end)
        mg = float(margin) if margin is not None else m_of.get((r.group, r.window_start, r.window_end), math.nan)
        if k in groups:
            g = pl.iloc[groups[k]]
            p = tost_placebo(r.caar, g["caar"].to_numpy(), mg, g["w"].to_numpy())
        else:
            p = math.nan
        rows.append((r.event_id, r.group, r.window_start, r.window_end, r.n, r.caar, mg,
                     "user" if margin is not None else f"MDE of {lead_test}", p, bool(p < 0.05) if p == p else False))
    return pd.DataFrame(rows, columns=["event_id", "group", "window_start", "window_end", "n", "caar", "margin",
                                       "margin_source", "p_tost", "equivalent"])


def study_for_placebo(events: pd.DataFrame, universe: pd.DataFrame, source, *, history_days: int = 730,
                      **kwargs):
    """:func:`~eventstudy.pipeline.study.run_study` on prices over a longer span (``history_days`` calendar days
    before and after the study's own request), so placebo dates can come from the whole available history.
    The real study's own numbers are unchanged (its pairs see the same sessions)."""
    from eventstudy.data.base import Prices
    from eventstudy.pipeline.market_data import price_request
    from eventstudy.pipeline.study import run_study
    from eventstudy.estimation.windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, WindowSpec

    spec = WindowSpec.build(kwargs.get("estimation", DEFAULT_ESTIMATION), kwargs.get("windows", DEFAULT_WINDOWS))
    model = kwargs.get("model", "market")
    study = kwargs.get("study")
    default_factors = study.defaults.extra_factors if study is not None else ()
    given = kwargs.get("extra_factors")
    factors = (tuple(given) if given is not None else default_factors) if model == "factor" else ()
    tickers, start, end = price_request(events, universe, spec, factors)
    pad = pd.Timedelta(days=int(history_days))
    prices = source if isinstance(source, Prices) else source.get(tickers, start - pad, end + pad)
    return run_study(events, universe, prices, **kwargs)
