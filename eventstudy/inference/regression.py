"""Abnormal-return regressions with statsmodels.

- Event-dummy regression (Karafiath 1988): regress ``R_t`` on the model regressors plus
  one dummy per event-window day over the estimation and event days together. The dummy
  coefficients equal ``AR_t``, their OLS standard errors equal ``sqrt(V[t,t])``, and the
  t-test of the sum of the dummies equals the CAR test (docs/METHODS.md). ``cov_type='HAC'``
  gives Newey-West standard errors for autocorrelated residuals.
- Portfolio approach: the same regression on the equal-weighted portfolio of a group
  (mean return of the members present each day; regressors averaged the same way). One
  time series per group, so it is robust to cross-correlation when all members share the
  event date.
- Group differences under a shared date (:func:`group_difference_regressions`, what the study
  reports): the event-dummy regression of the return spread between a group's and the base
  group's equal-weighted portfolios (docs/METHODS.md, section 8).
- Cross-sectional regression of CARs on exposure variables: :mod:`eventstudy.inference.cross_section`.

The single-series event-dummy regression, the reference the batched ones are tested against, is
:mod:`eventstudy.inference.dummy_regression` (:func:`dummy_regression`, re-exported here).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import EstimationError
from eventstudy.estimation.windows import Window
# the single-series regression, the reference of the batched ones here (public here too)
from eventstudy.inference.dummy_regression import (DummyRegression, dummy_regression, missing_days_message,
                                                   newey_west_lags)

__all__ = ["REG_COLUMNS", "DummyRegression", "dummy_regression", "newey_west_lags", "dummy_regressions_batched",
           "event_dummy_regressions", "group_difference_regressions"]

REG_COLUMNS = ["kind", "event_id", "subject", "window_start", "window_end", "term", "coef", "std_err",
               "t", "p_value", "cov_type", "nobs", "r2"]


def dummy_regressions_batched(Y: np.ndarray, F: np.ndarray, est_mask: np.ndarray, window_mask: np.ndarray,
                              rel_days: np.ndarray, cov_type: str = "OLS", maxlags: int | None = None) -> dict:
    """:func:`dummy_regression` (with a constant) of many return series at once, in numpy.

    ``Y`` (N, D) returns, ``F`` (N, D, q) regressors, masks (D,) on the grid ``rel_days`` shared by
    the series. Returns arrays over the series: ``ar, ar_se, ar_t, ar_p`` (N, L); ``car, car_se, car_t,
    car_p, nobs, df_resid, r2`` (N,); ``lags`` (N,) for HAC; ``error`` (list: None or the message
    :func:`dummy_regression` raises). The same closed forms as the single-series function (OLS:
    dummies = ARs with covariance ``s² (I + X_w (X'X)⁻¹ X_w')``; HAC: :func:`eventstudy.inference.dummy_regression.dummy_regression`,
    Newey–West with Bartlett weights, no small-sample correction), computed per series by batched
    matrix products; :func:`dummy_regression` is the reference it is tested against. ``cov_type='GHK'``:
    ``car_p`` is the Gelbach–Helland–Klick sample-quantile p of the CAR (docs/METHODS.md, section 4; no
    standard errors).
    """
    return _dummy_window(_dummy_prep(Y, F, est_mask), window_mask, rel_days, cov_type, maxlags)


def _dummy_prep(Y: np.ndarray, F: np.ndarray, est_mask: np.ndarray) -> dict:
    """The estimation-window part of :func:`dummy_regressions_batched`, shared by every window."""
    Y = np.asarray(Y, float)
    N, D = Y.shape
    F = np.asarray(F, float).reshape(N, D, -1)
    k = 1 + F.shape[2]
    valid = np.isfinite(Y) & np.all(np.isfinite(F), axis=2)
    E = valid & est_mask[None, :]
    n_e = E.sum(axis=1)
    X = np.concatenate([np.ones((N, D, 1)), np.where(np.isfinite(F), F, 0.0)], axis=2)
    y0 = np.where(E, Y, 0.0)
    Xe = X * E[:, :, None]
    XtX = np.einsum("ndk,ndl->nkl", Xe, Xe)
    few = n_e <= k + 1
    XtX[few] = np.eye(k)
    A = np.linalg.pinv(XtX)                 # as statsmodels: a generalised inverse
    b = np.einsum("nkl,nl->nk", A, np.einsum("ndk,nd->nk", Xe, y0))
    resid = np.where(E, y0 - np.einsum("ndk,nk->nd", X, b), 0.0)
    return dict(Y=Y, N=N, D=D, k=k, valid=valid, E=E, n_e=n_e, few=few, X=X, y0=y0, Xe=Xe, A=A, b=b, resid=resid,
                ssr=np.einsum("nd,nd->n", resid, resid), df=(n_e - k).astype(float), hac={})


def _hac_cov(P: dict, maxlags: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lags, Newey–West parameter covariance C, compressed estimation residuals) of the prepared series."""
    key = maxlags
    if key not in P["hac"]:
        n_e, N = P["n_e"], P["N"]
        lags = (np.array([newey_west_lags(int(n)) for n in n_e]) if maxlags is None else np.full(N, int(maxlags)))
        order, ec = _estimation_resid(P)            # estimation rows compressed to consecutive positions
        u = np.take_along_axis(P["Xe"], order[:, :, None], axis=1) * ec[:, :, None]
        S = np.einsum("ndk,ndl->nkl", u, u)
        for j in range(1, int(lags.max(initial=0)) + 1):
            wj = np.clip(1.0 - j / (lags + 1.0), 0.0, None) * (j <= lags)
            G = np.einsum("ndk,ndl->nkl", u[:, j:], u[:, :-j])
            S += wj[:, None, None] * (G + np.transpose(G, (0, 2, 1)))
        A = P["A"]
        P["hac"][key] = (lags, A @ S @ A, ec)
    return P["hac"][key]


def _estimation_resid(P: dict) -> tuple[np.ndarray, np.ndarray]:
    """(order, residuals) of the prepared series with each one's estimation rows first, in date order
    (statsmodels drops the missing rows): worked out once per batch, for HAC and GHK alike."""
    if "ec" not in P:
        order = np.argsort(~P["E"], axis=1, kind="stable")
        P["ec"] = (order, np.take_along_axis(P["resid"], order, axis=1))
    return P["ec"]


def _ghk(P: dict, L: int, car: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gelbach–Helland–Klick (2013) sample-quantile p of each series' CAR of ``L`` days among the sums of L
    consecutive estimation residuals (every start, overlapping). Returns ``car_p (N,), windows (N,)`` (the
    sample size)."""
    from eventstudy.inference.quantile import sample_quantile_p

    n_e, D = P["n_e"], P["D"]
    windows = np.maximum(n_e - L + 1, 0)
    if L > D:
        return np.full(len(car), np.nan), windows
    ec = _estimation_resid(P)[1]
    sums = np.lib.stride_tricks.sliding_window_view(ec, L, axis=1).sum(axis=2)
    return sample_quantile_p(car, sums, np.arange(sums.shape[1])[None, :] < windows[:, None])[2], windows


def _dummy_window(P: dict, window_mask: np.ndarray, rel_days: np.ndarray, cov_type: str,
                  maxlags: int | None) -> dict:
    """One window and covariance type of :func:`dummy_regressions_batched` on prepared series (``GHK``: the
    sample-quantile p instead of a covariance, :func:`_ghk`)."""
    from scipy import special     # t.sf(x, df) = stdtr(df, -x), norm.sf(x) = ndtr(-x), without scipy.stats

    N, D, E, n_e, Y = P["N"], P["D"], P["E"], P["n_e"], P["Y"]
    hac = cov_type.upper() == "HAC"
    ghk = cov_type.upper() == "GHK"
    wdays = np.flatnonzero(window_mask)
    L = len(wdays)
    valid = P["valid"]
    bad_w = ~valid[:, wdays].all(axis=1)
    error: list[str | None] = [None] * N
    for i in np.flatnonzero(bad_w):
        error[i] = missing_days_message(rel_days[wdays[~valid[i, wdays]]])
    for i in np.flatnonzero(~bad_w & P["few"]):
        error[i] = "too few estimation observations for the dummy regression"
    Xw, A, b, df, ssr = P["X"][:, wdays, :], P["A"], P["b"], P["df"], P["ssr"]
    yw = np.where(np.isfinite(Y[:, wdays]), Y[:, wdays], 0.0)
    ar = yw - np.einsum("nlk,nk->nl", Xw, b)
    car = ar.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if ghk:
            car_p, windows = _ghk(P, L, car)
            ar_se = ar_t = ar_p = np.full_like(ar, np.nan)
            car_se = car_t = r2 = np.full(N, np.nan)
            lags = np.zeros(N, dtype=int)
            label = np.array([f"GHK({int(m)})" for m in windows], dtype=object)
            return dict(ar=ar, ar_se=ar_se, ar_t=ar_t, ar_p=ar_p, car=car, car_se=car_se, car_t=car_t,
                        car_p=car_p, nobs=n_e + L, df_resid=df, r2=r2, lags=lags, error=error,
                        rel_days=rel_days[wdays], label=label, car_only=True)
        if not hac:
            s2 = ssr / df
            H = np.einsum("nlk,nkm,njm->nlj", Xw, A, Xw)
            ar_se = np.sqrt(s2[:, None] * (1.0 + np.einsum("nll->nl", H)))
            car_se = np.sqrt(s2 * (L + H.sum(axis=(1, 2))))
            ar_t, car_t = ar / ar_se, car / car_se
            ar_p = 2 * special.stdtr(df[:, None], -np.abs(ar_t))
            car_p = 2 * special.stdtr(df, -np.abs(car_t))
            ybar = (P["y0"].sum(axis=1) + yw.sum(axis=1)) / (n_e + L)
            tss = (np.where(E, (Y - ybar[:, None]) ** 2, 0.0).sum(axis=1)
                   + ((yw - ybar[:, None]) ** 2).sum(axis=1))
            lags = np.zeros(N, dtype=int)
        else:
            lags, C, ec = _hac_cov(P, maxlags)
            g = np.stack([np.einsum("nd,nd->n", ec[:, : D - j], ec[:, j:]) for j in range(L)], axis=1) / df[:, None]
            w = np.clip(1.0 - np.arange(L)[None, :] / (lags[:, None] + 1.0), 0.0, None)
            ar_var = g[:, :1] + np.einsum("nlk,nkm,nlm->nl", Xw, C, Xw)
            car_var = L * g[:, 0] + 2.0 * ((L - np.arange(L))[None, 1:] * w[:, 1:] * g[:, 1:]).sum(axis=1)
            sx = Xw.sum(axis=1)
            car_var += np.einsum("nk,nkm,nm->n", sx, C, sx)
            ar_se, car_se = np.sqrt(ar_var), np.sqrt(car_var)
            ar_t, car_t = ar / ar_se, car / car_se
            ar_p, car_p = 2 * special.ndtr(-np.abs(ar_t)), 2 * special.ndtr(-np.abs(car_t))
            ybar = P["y0"].sum(axis=1) / n_e
            tss = np.where(E, (Y - ybar[:, None]) ** 2, 0.0).sum(axis=1)
        r2 = 1.0 - ssr / tss
    return dict(ar=ar, ar_se=ar_se, ar_t=ar_t, ar_p=ar_p, car=car, car_se=car_se, car_t=car_t, car_p=car_p,
                nobs=n_e + L, df_resid=df, r2=r2, lags=lags, error=error, rel_days=rel_days[wdays])


def event_dummy_regressions(result, by: str = "group", subjects: Sequence[str] | None = None,
                            windows: Iterable[Window] | None = None,
                            cov_types: Sequence[str] = ("OLS", "HAC", "GHK"), chunk: int = 2048) -> pd.DataFrame:
    """Event-dummy regressions for every event, per group portfolio (``by='group'``) or per security
    (``by='ticker'``), for each window and covariance type. Tidy frame with :data:`REG_COLUMNS`.

    ``cov_types``: ``OLS``, ``HAC`` (Newey–West) and ``GHK``: the Gelbach–Helland–Klick (2013)
    sample-quantile p of the CAR among the estimation period's sums of L consecutive residuals (the ``CAR``
    row only; ``cov_type`` ``GHK(n)`` with n those sums; ``std_err`` and ``t`` empty): valid without
    normality for one series and one event (docs/METHODS.md, section 4).

    The portfolio is the equal-weighted mean of the members' returns present each day; its regressors
    are the members' regressors averaged the same way (identical when members share a benchmark).
    Every (event, subject) series is regressed at once per window and covariance type
    (:func:`dummy_regressions_batched`, ``chunk`` series at a time), rows in the order event, subject,
    window, covariance type.
    """
    a = result.arrays
    if a is None:
        raise ValueError("the result carries no arrays; re-run the study")
    if result.model == "market_adjusted":
        raise EstimationError("event-dummy regressions need an estimated model (not market_adjusted)")
    pairs = a.pairs
    key = pairs["group"].to_numpy() if by == "group" else pairs["ticker"].to_numpy()
    ev = pairs["event_id"].to_numpy()
    wins = list(windows) if windows is not None else list(result.windows)
    rel = a.rel_days
    q = len(result.regressors)
    kind = "dummy_portfolio" if by == "group" else "dummy_security"
    wmasks = [(w, (rel >= w[0]) & (rel <= w[1])) for w in wins]
    # series = (event, subject) with an estimated pair, in the order event, then subject as first met
    codes = pd.DataFrame({"e": ev, "s": key})
    series = codes.groupby(["e", "s"], sort=False).ngroup().to_numpy()
    ev_code = pd.factorize(ev)[0]
    keep = a.ok & (np.ones(len(ev), bool) if subjects is None else np.isin(key, list(subjects)))
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((series[rows], ev_code[rows]))]
    if not len(rows):
        return pd.DataFrame(columns=REG_COLUMNS)
    labels, Y, Fq = _portfolio_means(a, key, rows, q, chunk, key_name=by)    # whole events, `chunk` pairs at a time
    n_w, n_c = len(wmasks), len(cov_types)
    blocks = []
    for lo in range(0, len(labels), chunk):
        prep = _dummy_prep(Y[lo:lo + chunk], Fq[lo:lo + chunk], a.est_mask)       # once for every window
        for wi, (w, wm) in enumerate(wmasks):
            for ci, ct in enumerate(cov_types):
                r = _dummy_window(prep, wm, rel, ct, None)
                blocks.append(_batch_rows(r, labels[lo:lo + chunk], lo, kind, w, ct, wi, ci, n_w, n_c))
    out = pd.concat(blocks, ignore_index=True).sort_values(["_o", "_r"], kind="stable").reset_index(drop=True)
    has_note = out["note"].notna().any()
    out = out.drop(columns=["_o", "_r"] + ([] if has_note else ["note"]))
    return out[REG_COLUMNS + (["note"] if has_note else [])]


def _batch_rows(r: dict, labels, offset: int, kind: str, w: Window, ct: str, wi: int, ci: int,
                n_w: int, n_c: int) -> pd.DataFrame:
    """The tidy rows of one :func:`dummy_regressions_batched` call: per series the ``AR[+d]`` rows and
    the ``CAR`` row, or one ``CAR`` row of NaN with the reason; ``_o, _r`` order keys."""
    n, L = r["ar"].shape
    err = np.array([x is not None for x in r["error"]], dtype=bool)
    good = np.flatnonzero(~err)
    bad = np.flatnonzero(err)
    ev = np.array([lab[0] for lab in labels], dtype=object)
    sub = np.array([lab[1] for lab in labels], dtype=object)
    is_hac = ct.upper() == "HAC"
    label = (r["label"] if r.get("label") is not None
             else np.array([f"HAC({int(x)})" for x in r["lags"]], dtype=object) if is_hac
             else np.full(n, "OLS", dtype=object))
    days = 0 if r.get("car_only") else L             # GHK: the CAR row only
    terms = np.array([f"AR[{d:+d}]" for d in r["rel_days"][:days]] + ["CAR"], dtype=object)
    m = days + 1
    g_rep = np.repeat(good, m)
    coef = np.c_[r["ar"][:, :days], r["car"]][good].ravel()
    se = np.c_[r["ar_se"][:, :days], r["car_se"]][good].ravel()
    tt = np.c_[r["ar_t"][:, :days], r["car_t"]][good].ravel()
    pp = np.c_[r["ar_p"][:, :days], r["car_p"]][good].ravel()
    order = (offset + np.arange(n)) * n_w * n_c + wi * n_c + ci
    ok_rows = pd.DataFrame({
        "kind": kind, "event_id": ev[g_rep], "subject": sub[g_rep], "window_start": w[0], "window_end": w[1],
        "term": np.tile(terms, len(good)), "coef": coef, "std_err": se, "t": tt, "p_value": pp,
        "cov_type": label[g_rep], "nobs": r["nobs"][g_rep], "r2": r["r2"][g_rep], "note": None,
        "_o": order[g_rep], "_r": np.tile(np.arange(m), len(good))})
    if not len(bad):
        return ok_rows
    bad_rows = pd.DataFrame({
        "kind": kind, "event_id": ev[bad], "subject": sub[bad], "window_start": w[0], "window_end": w[1],
        "term": "CAR", "coef": np.nan, "std_err": np.nan, "t": np.nan, "p_value": np.nan, "cov_type": ct,
        "nobs": 0, "r2": np.nan, "note": [r["error"][i] for i in bad], "_o": order[bad], "_r": 0})
    return pd.concat([ok_rows, bad_rows], ignore_index=True)


def _portfolio_means(a, key: np.ndarray, rows: np.ndarray, q: int, chunk: int = 4096, key_name: str = ""):
    """Equal-weighted portfolio returns and regressors of the pairs ``rows`` (positions, already in the
    order of the series: pairs of one series adjacent, whole events together) by segment sums over
    ``(event, key)``: (labels [(event, key)], Y (N, D), F (N, D, q)). As ``np.nanmean`` over members.
    With ``key_name`` (the pairs' column ``key`` comes from) the result is kept on the arrays' cache, so the
    group portfolios of the event-dummy and the spread regressions are gathered once."""
    memo = getattr(a, "_memo", None) if key_name else None
    tag = ("portfolio_means", key_name, rows.tobytes(), q)
    if memo is not None and tag in memo:
        return memo[tag]
    out = _portfolio_sums(a, key, rows, q, chunk)
    if memo is not None:
        for arr in out[1:]:
            arr.setflags(write=False)         # shared by the callers: never changed in place
        memo[tag] = out
    return out


def _portfolio_sums(a, key: np.ndarray, rows: np.ndarray, q: int, chunk: int):
    pairs = a.pairs
    ev = pairs["event_id"].to_numpy()
    D = len(a.rel_days)
    ser = pd.DataFrame({"e": ev[rows], "s": key[rows]}).groupby(["e", "s"], sort=False).ngroup().to_numpy()
    ev_r = pd.factorize(ev[rows])[0]
    cuts = np.flatnonzero(np.r_[True, ev_r[1:] != ev_r[:-1]])
    ys, fs, labels = [], [], []
    start = 0
    while start < len(rows):
        nxt = cuts[cuts >= start + chunk]
        stop = int(nxt[0]) if len(nxt) else len(rows)
        part = rows[start:stop]
        y, f = a.returns(part)
        f = np.asarray(f, float).reshape(len(part), D, q)
        s = ser[start:stop]
        seg = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        ok_y = np.isfinite(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            ys.append(np.add.reduceat(np.where(ok_y, y, 0.0), seg, axis=0) / np.add.reduceat(ok_y, seg, axis=0))
            ok_f = np.isfinite(f)
            fs.append(np.add.reduceat(np.where(ok_f, f, 0.0), seg, axis=0) / np.add.reduceat(ok_f, seg, axis=0)
                      if q else np.zeros((len(seg), D, 0)))
        labels.extend(zip(ev[part[seg]], key[part[seg]]))
        start = stop
    if not labels:
        return [], np.zeros((0, D)), np.zeros((0, D, q))
    return labels, np.concatenate(ys), np.concatenate(fs).reshape(len(labels), D, q)


def group_difference_regressions(result, base_group: str, groups: Sequence[str] | None = None,
                                 windows: Iterable[Window] | None = None, scale: float = 100.0) -> pd.DataFrame:
    """Group differences that hold under a shared event date (docs/METHODS.md, section 8).

    For each event, window and exposure group ``g`` (``groups``, default every group with estimated
    pairs other than ``base_group``): the Karafiath event-dummy regression (:func:`dummy_regression`,
    OLS) of the return spread ``R_g,t - R_base,t`` of the two equal-weighted portfolios on the members'
    averaged regressors over the estimation days plus window dummies. The dummy sum is the difference
    in CAAR; its standard error comes from the spread's own residual variance on the estimation
    window, so the common shock of a shared date (and the cross-correlation of the members) is in
    the variance, unlike HC3 on a cross-section of CARs. Rows ``kind='cross_section'``: term
    ``const (base)`` (the base portfolio's CAR test) and ``group[g]`` (the difference), coefficients
    in percent (``scale``), ``cov_type='OLS spread'``. Every spread of every event is regressed at once
    (:func:`dummy_regressions_batched`); :func:`dummy_regression` per spread is the tested reference.
    """
    a = result.arrays
    if a is None:
        raise ValueError("the result carries no arrays; re-run the study")
    pairs = a.pairs
    gr = pairs["group"].to_numpy()
    ev = pairs["event_id"].to_numpy()
    wins = list(windows) if windows is not None else list(result.windows)
    rel = a.rel_days
    q = len(result.regressors)
    ok_rows = np.flatnonzero(a.ok)
    if not len(ok_rows):
        return pd.DataFrame(columns=REG_COLUMNS)
    # series (event, group) in the order event, then group as first met among the event's estimated pairs
    ser = pd.DataFrame({"e": ev[ok_rows], "g": gr[ok_rows]}).groupby(["e", "g"], sort=False).ngroup().to_numpy()
    ev_code = pd.factorize(ev[ok_rows])[0]
    rows = ok_rows[np.lexsort((ser, ev_code))]
    labels, Y, F = _portfolio_means(a, gr, rows, q, key_name="group")
    # per event: the base portfolio, then each other group's spread over it
    specs = []                       # (event, term, y, f)
    by_event: dict = {}
    for i, (e, g) in enumerate(labels):
        by_event.setdefault(e, []).append((g, i))
    for e, members in by_event.items():
        base = next((i for g, i in members if g == base_group), None)
        if base is None:
            continue
        yb, fb = Y[base], F[base]
        specs.append((e, f"const ({base_group})", yb, fb))
        for g, i in members:
            if g == base_group or (groups is not None and g not in groups):
                continue
            fg = F[i]
            f = fg if np.allclose(fg, fb, equal_nan=True) else np.column_stack([fg, fb])
            specs.append((e, f"group[{g}]", Y[i] - yb, f))
    if not specs:
        return pd.DataFrame(columns=REG_COLUMNS)
    n = len(specs)
    out = {c: np.full(n * len(wins), np.nan) for c in ("coef", "std_err", "t", "p_value", "r2")}
    nobs = np.zeros(n * len(wins), dtype=int)
    widths = np.array([s[3].shape[1] for s in specs])
    for width in np.unique(widths):                # one batch per number of regressors
        idx = np.flatnonzero(widths == width)
        for lo in range(0, len(idx), 2048):
            part = idx[lo:lo + 2048]
            prep = _dummy_prep(np.stack([specs[i][2] for i in part]),
                               np.stack([specs[i][3] for i in part]).reshape(len(part), len(rel), width), a.est_mask)
            for wi, w in enumerate(wins):
                r = _dummy_window(prep, (rel >= w[0]) & (rel <= w[1]), rel, "OLS", None)
                good = np.array([x is None for x in r["error"]], dtype=bool)
                at = part * len(wins) + wi
                out["coef"][at[good]] = r["car"][good] * scale
                out["std_err"][at[good]] = r["car_se"][good] * scale
                out["t"][at[good]] = r["car_t"][good]
                out["p_value"][at[good]] = r["car_p"][good]
                out["r2"][at[good]] = r["r2"][good]
                nobs[at[good]] = r["nobs"][good]
    return pd.DataFrame({
        "kind": "cross_section", "event_id": np.repeat(np.array([s[0] for s in specs], dtype=object), len(wins)),
        "subject": f"spread regression (base: {base_group})",
        "window_start": np.tile([w[0] for w in wins], n), "window_end": np.tile([w[1] for w in wins], n),
        "term": np.repeat(np.array([s[1] for s in specs], dtype=object), len(wins)),
        **{c: out[c] for c in ("coef", "std_err", "t", "p_value")}, "cov_type": "OLS spread", "nobs": nobs,
        "r2": out["r2"]})[REG_COLUMNS]
