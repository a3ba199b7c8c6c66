"""Primary hypotheses declared before looking, tested as one family (docs/METHODS.md, section 9).

The declared hypotheses come from :func:`eventstudy.inputs.hypotheses.load_hypotheses` (re-exported
here with :class:`HypothesesFileError`); every test is two-sided, the expected sign is reported beside it.

:func:`primary_table` gives, for every declared cell: N, the estimate (CAAR, or the CAR of a
single instrument), a 95% interval that inverts the same test (it excludes 0 exactly when
p < 0.05), the statistic, p, and p adjusted across the primary family by Holm (1979) and
Benjamini–Hochberg (1995), with confounders and price-limit days inside the window.
:func:`findings` turns that table into plain sentences that never claim more than the adjusted
p-values support.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from eventstudy.inference.base import norm_isf, t_isf
from eventstudy.inference.multitest import adjust_p
from eventstudy.inputs.hypotheses import HYPOTHESIS_COLUMNS, HypothesesFileError, load_hypotheses

__all__ = ["HypothesesFileError", "HYPOTHESIS_COLUMNS", "PRIMARY_COLUMNS", "load_hypotheses",
           "inverted_interval", "kp_interval", "primary_table", "findings",
           "single_instrument_groups", "ALPHA"]

#: level of the primary family's tests (two-sided) and of the intervals (1 - ALPHA)
ALPHA = 0.05

PRIMARY_COLUMNS = ["hypothesis_id", "event_id", "group", "window", "window_start", "window_end", "expected_sign",
                   "n", "estimate_pct", "ci_low_pct", "ci_high_pct", "test", "statistic", "p_value",
                   "p_holm", "q_bh", "family_m", "bootstrap_p", "ghk_p", "sign_as_expected", "verdict",
                   "confounders", "limit_pairs", "day0_limit_pairs", "source", "rationale"]


def inverted_interval(estimate, p_value, df=None, level: float = 1 - ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Interval ``estimate ± |estimate| * q_level / q(1 - p/2)`` that inverts a two-sided test.

    ``q`` is the quantile of the test's reference distribution: Student t with ``df`` degrees of
    freedom, or the standard normal when ``df`` is None/NaN. ``|estimate| / q(1-p/2)`` is the
    standard error the test implies, so the interval excludes 0 exactly when ``p < 1 - level``
    (docs/METHODS.md, section 9). NaN where the estimate or p is missing, or p = 1 (no information).
    """
    est = np.asarray(estimate, dtype=float)
    p = np.asarray(p_value, dtype=float)
    dfa = np.broadcast_to(np.asarray(np.nan if df is None else df, dtype=float), est.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        use_t = np.isfinite(dfa) & (dfa > 0)
        dfs = np.where(use_t, dfa, 1.0)
        q_lvl = np.where(use_t, t_isf((1 - level) / 2, dfs), norm_isf((1 - level) / 2))
        q_p = np.where(use_t, t_isf(p / 2, dfs), norm_isf(p / 2))
        half = np.abs(est) * q_lvl / q_p
    ok = np.isfinite(est) & np.isfinite(p) & (p > 0) & (p < 1) & np.isfinite(half)
    lo = np.where(ok, est - half, np.nan)
    hi = np.where(ok, est + half, np.nan)
    return lo, hi


def kp_interval(car, car_se, factor: float, level: float = 1 - ALPHA) -> tuple[float, float]:
    """The common abnormal return ``delta`` the Kolari–Pynnönen test does not reject at ``1 - level``.

    With ``SCAR_i(delta) = (CAR_i - delta) / se_i`` (``se_i`` = the CAR's standard error, so
    ``SCAR_i(0)`` is the BMP standardised CAR) the test statistic is ``t(delta) = factor * sqrt(N)
    mean(SCAR(delta)) / sd(SCAR(delta))`` (sd ddof 1, ``factor = sqrt((1 - r) / (1 + (N - 1) r))``),
    Student t with N - 1 d.o.f. The set ``|t(delta)| <= q`` is the solution of a quadratic inequality
    (a Fieller-type interval): ``(lo, hi)``, which contains 0 exactly when the test's p >= 1 - level
    (docs/METHODS.md, section 9). Decimals. ``(-inf, inf)`` when the set is unbounded; NaN with
    fewer than 3 CARs.
    """
    c = np.asarray(car, dtype=float)
    s = np.asarray(car_se, dtype=float)
    ok = np.isfinite(c) & np.isfinite(s) & (s > 0)
    c, s = c[ok], s[ok]
    n = c.size
    if n < 3 or not math.isfinite(factor) or factor <= 0:
        return math.nan, math.nan
    a, b = c / s, 1.0 / s
    q = float(t_isf((1 - level) / 2, n - 1))
    am, bm = a.mean(), b.mean()
    saa, sbb = a.var(ddof=1), b.var(ddof=1)
    sab = float(np.cov(a, b, ddof=1)[0, 1])
    k = n * factor ** 2
    A = k * bm ** 2 - q ** 2 * sbb
    B = -2 * k * am * bm + 2 * q ** 2 * sab
    C = k * am ** 2 - q ** 2 * saa
    disc = B * B - 4 * A * C
    if A <= 0 or disc < 0:
        return -math.inf, math.inf
    r1, r2 = (-B - math.sqrt(disc)) / (2 * A), (-B + math.sqrt(disc)) / (2 * A)
    return min(r1, r2), max(r1, r2)


def _kp_factor(run, event_id: str, group: str) -> float:
    """``sqrt((1 - r) / (1 + (N - 1) r))`` of Kolari–Pynnönen for the group's securities on the event (r from
    the estimation residuals, :meth:`EventStudyResult.residual_corr`)."""
    from eventstudy.inference.reference import upper_mean

    res = run.result
    a = getattr(res, "arrays", None)
    if a is None:
        return math.nan
    try:
        rc = res.residual_corr(event_id)
    except Exception:                     # no estimated pair for the event
        return math.nan
    sel = a.ok & (a.pairs["event_id"].to_numpy() == event_id)
    grp = a.pairs["group"].to_numpy()[sel]
    m = grp == group
    n = int(m.sum())
    if n < 2 or len(grp) != len(rc):
        return math.nan
    r = upper_mean(rc.to_numpy()[np.ix_(m, m)])[0]
    den = 1.0 + (n - 1) * r
    return math.sqrt((1.0 - r) / den) if (math.isfinite(r) and den > 0) else math.nan


def single_instrument_groups(run) -> set[str]:
    """Groups that are one instrument, or listings of one contract (the run's non-equity groups, e.g.
    the two CME listings of the Nikkei 225 future, and the index), plus any group with one member.
    They get single-instrument tests (the portfolio's own time series), never a cross-section."""
    car = run.result.car
    per = car.groupby("group")["ticker"].nunique()
    return set(getattr(run.config, "pool_exclude", ())) | set(per[per <= 1].index)


def _window_dates(run, hyp: pd.DataFrame) -> pd.DataFrame:
    """First and last date of each hypothesis cell's window over the group's event-window ARs."""
    ar = run.result.ar[["event_id", "group", "rel_day", "date"]]
    rows = []
    for h in hyp.itertuples(index=False):
        s = ar[(ar["event_id"] == h.event_id) & (ar["group"] == h.group)
               & (ar["rel_day"] >= h.window_start) & (ar["rel_day"] <= h.window_end)]["date"]
        rows.append((s.min() if len(s) else pd.NaT, s.max() if len(s) else pd.NaT))
    return pd.DataFrame(rows, columns=["date_first", "date_last"])


def _confounders_in(run, lo, hi) -> str:
    conf = getattr(run, "confounders", None)
    if conf is None or not len(conf) or pd.isna(lo) or pd.isna(hi):
        return ""
    d = pd.to_datetime(conf["date"]).dt.normalize()
    sel = conf[(d >= lo) & (d <= hi)]
    return "; ".join(f"{pd.Timestamp(a):%Y-%m-%d}: {str(b)[:90]}" for a, b in zip(sel["date"], sel["description"]))


def primary_table(run, hypotheses: pd.DataFrame | None = None) -> pd.DataFrame:
    """The declared hypotheses with their evidence, one row each (:data:`PRIMARY_COLUMNS`).

    Equity groups: Kolari–Pynnönen test of the CAAR (Student t, N-1 d.o.f.), interval
    :func:`kp_interval` (the common abnormal return the same test does not reject); groups of
    :func:`single_instrument_groups`: the event-dummy regression of the group's equal-weighted
    portfolio (OLS), i.e. the instrument's own CAR test, interval :func:`inverted_interval`, and beside it
    ``ghk_p``, the Gelbach–Helland–Klick sample-quantile p of the same CAR (valid without normal returns;
    not the declared test, so not adjusted; NaN for equity groups).
    ``estimate_pct`` is the CAAR (or CAR) in percent with its 95% interval; ``p_holm`` / ``q_bh`` adjust ``p_value`` across
    the family of hypotheses that could be tested (``family_m``). ``verdict``: ``holds after
    adjustment`` (Holm p < 0.05, sign as expected), ``opposite sign`` (Holm p < 0.05 against the
    expected sign), ``nominal only`` (p < 0.05, Holm p >= 0.05), ``not supported``, or
    ``not estimated`` (no data). ``confounders``: confounders dated inside the window;
    ``limit_pairs`` / ``day0_limit_pairs``: the group's securities with a price-limit day inside
    the window / on day 0 (from ``run.limit_flags``).
    """
    hyp = hypotheses if hypotheses is not None else getattr(run, "hypotheses", None)
    if hyp is None or not len(hyp):
        out = pd.DataFrame(columns=PRIMARY_COLUMNS)
        out.attrs["simulated"] = bool(getattr(run, "simulated", False))
        return out
    hyp = hyp.reset_index(drop=True)
    res = run.result
    tt = res.tests
    single = single_instrument_groups(run)
    reg = run.regressions if run.regressions is not None else pd.DataFrame()
    flags = getattr(run, "limit_flags", None)
    recs = []
    computed = {tuple(int(x) for x in w) for w in res.windows}
    dates = _window_dates(run, hyp)
    for i, h in enumerate(hyp.itertuples(index=False)):
        cell = tt[(tt["event_id"] == h.event_id) & (tt["group"] == h.group)
                  & (tt["window_start"] == h.window_start) & (tt["window_end"] == h.window_end)]
        n = int(cell["n"].iloc[0]) if len(cell) else 0
        est = stat = p = df = np.nan
        boot = ghk = np.nan
        test = ""
        kp_ci = (np.nan, np.nan)
        if h.group in single:
            test = "portfolio dummy regression (single instrument, OLS)"
            if len(reg):
                car = reg[(reg["kind"] == "dummy_portfolio") & (reg["subject"] == h.group) & (reg["event_id"] == h.event_id)
                          & (reg["window_start"] == h.window_start) & (reg["window_end"] == h.window_end)
                          & (reg["term"] == "CAR")]
                r = car[car["cov_type"] == "OLS"]
                if len(r):
                    est, stat, p = (float(r["coef"].iloc[0]), float(r["t"].iloc[0]), float(r["p_value"].iloc[0]))
                g = car[car["cov_type"].astype(str).str.startswith("GHK")]
                if len(g):
                    ghk = float(g["p_value"].iloc[0])
        else:
            test = "kolari_pynnonen"
            k = cell[cell["test"] == "kolari_pynnonen"]
            if len(k):
                est, stat, p = float(k["caar"].iloc[0]), float(k["statistic"].iloc[0]), float(k["p_value"].iloc[0])
                df = n - 1.0
                cars = res.car[(res.car["event_id"] == h.event_id) & (res.car["group"] == h.group)
                               & (res.car["window_start"] == h.window_start) & (res.car["window_end"] == h.window_end)]
                kp_ci = kp_interval(cars["car"], cars["car_se"], _kp_factor(run, h.event_id, h.group))
        b = cell[cell["test"] == "bootstrap"]
        if len(b):
            boot = float(b["p_value"].iloc[0])
        if test == "kolari_pynnonen":
            lo, hi = kp_ci
        else:
            lo, hi = inverted_interval(est, p, df=df)
        lim = d0lim = 0
        if flags is not None and len(flags):
            f = flags[(flags["event_id"] == h.event_id) & (flags["group"] == h.group)
                      & (flags["window_start"] == h.window_start) & (flags["window_end"] == h.window_end)]
            lim = int(f["ticker"].nunique())
            d0lim = int(f.loc[f["day0_limit"].astype(bool), "ticker"].nunique())
        if (int(h.window_start), int(h.window_end)) not in computed:
            test = f"window {h.window} not computed in this run (add --window={h.window_start},{h.window_end})"
        recs.append(dict(hypothesis_id=h.hypothesis_id, event_id=h.event_id, group=h.group, window=h.window,
                         window_start=h.window_start, window_end=h.window_end, expected_sign=h.expected_sign,
                         n=n, estimate_pct=100 * est, ci_low_pct=100 * float(lo), ci_high_pct=100 * float(hi),
                         test=test, statistic=stat, p_value=p, bootstrap_p=boot, ghk_p=ghk,
                         confounders=_confounders_in(run, dates["date_first"][i], dates["date_last"][i]),
                         limit_pairs=lim, day0_limit_pairs=d0lim, source=h.source, rationale=h.rationale))
    out = pd.DataFrame(recs)
    pv = out["p_value"].to_numpy(dtype=float)
    ok = np.isfinite(pv)
    out["p_holm"], out["q_bh"] = np.nan, np.nan
    if ok.any():
        out.loc[ok, "p_holm"] = adjust_p(pv[ok], "holm")
        out.loc[ok, "q_bh"] = adjust_p(pv[ok], "fdr_bh")
    out["family_m"] = int(ok.sum())
    sign = np.sign(out["estimate_pct"].to_numpy(dtype=float))
    exp = out["expected_sign"].map({"-": -1.0, "+": 1.0, "±": 0.0}).to_numpy()
    out["sign_as_expected"] = [("n/a" if e == 0 or not np.isfinite(s) else ("yes" if s == e else "no"))
                               for s, e in zip(sign, exp)]
    verdict = []
    for p, ph, s in zip(out["p_value"], out["p_holm"], out["sign_as_expected"]):
        if not np.isfinite(p):
            verdict.append("not estimated")
        elif ph < ALPHA:
            verdict.append("opposite sign" if s == "no" else "holds after adjustment")
        elif p < ALPHA:
            verdict.append("nominal only")
        else:
            verdict.append("not supported")
    out["verdict"] = verdict
    out = out[PRIMARY_COLUMNS]
    out.attrs["simulated"] = bool(getattr(run, "simulated", False))
    return out


def _fmt(x: float, nd: int = 2, signed: bool = True) -> str:
    return "n/a" if not math.isfinite(x) else (f"{x:+.{nd}f}" if signed else f"{x:.{nd}f}")


def _fp(p: float) -> str:
    return "n/a" if not math.isfinite(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def findings(primary: pd.DataFrame, labels: dict[str, str] | None = None) -> list[str]:
    """Plain sentences for the findings box, following the adjusted p-values only.

    The first sentence says how many primary hypotheses hold after Holm adjustment (or plainly that
    none does); then one sentence per hypothesis that holds, per nominal-only result (said not to
    survive), and a line for confounded or price-limited cells.
    """
    lab = labels or {}
    if primary is None or not len(primary):
        return ["No primary hypotheses were declared for this run: every table is exploratory."]
    m = int(primary["family_m"].max()) if len(primary) else 0
    hold = primary[primary["verdict"] == "holds after adjustment"]
    opp = primary[primary["verdict"] == "opposite sign"]
    nom = primary[primary["verdict"] == "nominal only"]
    ne = primary[primary["verdict"] == "not estimated"]
    sim = " (SIMULATED data)" if primary.attrs.get("simulated") else ""

    def name(r) -> str:
        return f"{r.hypothesis_id} ({r.event_id} x {lab.get(r.group, r.group)}, {r.window})"

    def ev(r) -> str:
        return (f"{_fmt(r.estimate_pct)}% [95% CI {_fmt(r.ci_low_pct)}, {_fmt(r.ci_high_pct)}], "
                f"p {_fp(r.p_value)}, Holm p {_fp(r.p_holm)}")

    out = []
    if len(hold) + len(opp) == 0:
        out.append(f"None of the {m} primary hypotheses tested survives the Holm adjustment at 5%{sim}: "
                   "at that level the data do not show that any declared channel moved.")
    else:
        k = len(hold) + len(opp)
        out.append(f"{k} of the {m} primary hypotheses tested {'holds' if k == 1 else 'hold'} after the Holm "
                   f"adjustment at 5%{sim}.")
    for r in hold.itertuples(index=False):
        out.append(f"{name(r)}: {ev(r)}; the sign is {'as expected' if r.sign_as_expected == 'yes' else 'not pre-specified'}.")
    for r in opp.itertuples(index=False):
        out.append(f"{name(r)}: {ev(r)}; significant after adjustment but of the opposite sign to the one declared.")
    for r in nom.itertuples(index=False):
        out.append(f"{name(r)}: {ev(r)}; p < 0.05 on its own but not after adjustment (BH q {_fp(r.q_bh)}), "
                   "so it is not a finding.")
    if len(ne):
        out.append("Not estimated (no data, or the window was not computed, in this run): "
                   + ", ".join(name(r) for r in ne.itertuples(index=False)) + ".")
    conf = primary[primary["confounders"].astype(str) != ""]
    if len(conf):
        out.append("Confounded windows (other news inside the window; read with care): "
                   + ", ".join(r.hypothesis_id for r in conf.itertuples(index=False)) + ".")
    lim = primary[primary["day0_limit_pairs"] > 0]
    if len(lim):
        out.append("Price-limit hit on day 0 (censored return) in: "
                   + ", ".join(f"{r.hypothesis_id} ({r.day0_limit_pairs} securities)" for r in lim.itertuples(index=False))
                   + ".")
    out.append("Every other cell of the impact tables is exploratory; its Holm p and BH q are given beside it.")
    return out
