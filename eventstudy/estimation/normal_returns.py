"""Normal-return models estimated for all (security, event) pairs at once.

Pure numpy on dense ``(pairs, days)`` arrays. NaN marks a missing return; a day
enters the estimation of a pair only when the return and every regressor are
present (so ``M_i`` counts the usable days, docs/METHODS.md "Notation").

Models (docs/METHODS.md "Normal-return models"; MacKinlay 1997):

- constant mean      ``R_it = mu_i + e_it``                         k = 1
- market-adjusted    ``AR_it = R_it - R_mt`` (nothing estimated)     k = 0
- market model       ``R_it = a_i + b_i R_mt + e_it``               k = 2
- factor model       ``R_it = a_i + sum_j b_ij F_jt + e_it``        k = 1 + q

OLS is solved in the centred parametrisation, which is numerically stable and
gives the prediction-error term directly:

``x_t'(X'X)^-1 x_u = 1/M + (f_t - fbar)' S^-1 (f_u - fbar)``,
``S = sum_est (f - fbar)(f - fbar)'``  (Campbell, Lo & MacKinlay 1997, ch. 4).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventstudy.errors import UnknownModelError

MODELS = ("constant_mean", "market_adjusted", "market", "factor")
MIN_BLOCK = 8   # fewest pairs for which a shared-regressor block is fitted as a block
ZERO_VARIANCE = "returns have zero variance over the estimation window (constant price?)"


def n_params(model: str, q: int) -> int:
    """Number of estimated parameters ``k`` (docs/METHODS.md): constant mean 1, market 2, factor 1+q, market-adjusted 0."""
    if model == "market_adjusted":
        return 0
    if model == "constant_mean":
        return 1
    return 1 + q


@dataclass(frozen=True)
class BatchFit:
    """A fitted normal-return model for P pairs on D relative days.

    Arrays: ``const (P,)``, ``slopes (P, q)``, ``fbar (P, q)``, ``s_inv (P, q, q)`` (inverse
    centred cross-product of the regressors over the estimation days), ``m (P,)`` usable
    estimation days, ``s2 (P,)`` residual variance ``sum e^2 / (M - k)``, ``normal (P, D)``
    fitted normal returns, ``ar (P, D)`` abnormal returns (estimation residuals on estimation
    days), ``h (P, D)`` the prediction-error term ``x_t'(X'X)^-1 x_t`` (0 for market-adjusted),
    ``ok (P,)`` whether the fit is usable.
    """

    model: str
    k: int
    const: np.ndarray
    slopes: np.ndarray
    fbar: np.ndarray
    s_inv: np.ndarray
    m: np.ndarray
    s2: np.ndarray
    normal: np.ndarray
    ar: np.ndarray
    h: np.ndarray
    ok: np.ndarray
    reason: np.ndarray  # (P,) object: '' when ok, else why not

    @property
    def df(self) -> np.ndarray:
        """Residual degrees of freedom ``M_i - k`` (``M_i - 1`` for market-adjusted)."""
        return residual_df(self.m, self.k)


#: exclusion reason of a pair whose benchmark or factor does not vary over its estimation days
CONSTANT_REGRESSOR = "a regressor (benchmark or factor) is constant over the estimation window"


def is_degenerate(var_f, fbar):
    """A regressor with (almost) no variation over the estimation days (elementwise)."""
    return var_f <= 1e-14 * np.maximum(fbar ** 2 + var_f, 1e-300)


def residual_df(m: np.ndarray, k: int) -> np.ndarray:
    """Residual degrees of freedom of the normal-return model: ``M_i - k`` (``M_i - 1`` when ``k = 0``,
    market-adjusted: the mean abnormal return is still estimated)."""
    return m - max(k, 1)


def fit_batch(model: str, y: np.ndarray, f: np.ndarray, est: np.ndarray, min_obs: int,
              ddof: int | None = None, blocks: np.ndarray | None = None) -> BatchFit:
    """Fit ``model`` for every pair.

    ``blocks`` (optional, ``(P,)`` ints): pairs with the same id have identical regressor rows
    ``f`` (same calendar, day 0 and regressor columns: an event hitting many securities). Then
    the regressor statistics (means, ``S^-1``, leverage ``h``) are computed once per block for
    the pairs with a return on every usable estimation day, and their slopes by one matrix
    product; the other pairs take the general path. Both paths give the same numbers
    (``tests/test_models.py``).

    Parameters
    ----------
    model : one of :data:`MODELS`.
    y : ``(P, D)`` returns of the securities (decimal), NaN = missing.
    f : ``(P, D, q)`` regressors (benchmark or factor returns, decimal); for
        ``market_adjusted`` ``q = 1`` (the benchmark); for ``constant_mean`` ``q = 0``.
    est : ``(D,)`` boolean, True on estimation days.
    min_obs : a pair needs at least this many usable estimation days.
    ddof : residual-variance denominator ``M_i - ddof``; default ``k`` (docs/METHODS.md). ``ddof=1``
        reproduces packages that take the sample sd of the residuals (R's estudy2).

    Returns a :class:`BatchFit`; pairs that cannot be fitted have ``ok = False`` and a
    ``reason``, and NaN estimates.
    """
    if model not in MODELS:
        raise UnknownModelError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if blocks is not None and model in ("market", "factor") and f.shape[2] > 0 and len(y):
        return _fit_blocked(model, y, f, est, min_obs, ddof, np.asarray(blocks))
    return _fit_general(model, y, f, est, min_obs, ddof)


def _fit_general(model: str, y: np.ndarray, f: np.ndarray, est: np.ndarray, min_obs: int,
                 ddof: int | None) -> BatchFit:
    """The general batched fit (any missing pattern): see :func:`fit_batch`."""
    P, D = y.shape
    q = f.shape[2]
    k = n_params(model, q)
    present = np.isfinite(y) & np.all(np.isfinite(f), axis=2)
    use = present & est[None, :]
    m = use.sum(axis=1)
    reason = np.full(P, "", dtype=object)
    msafe = np.maximum(m, 1)

    if model == "market_adjusted":
        ar = y - f[:, :, 0]
        ar_e = np.where(use, ar, 0.0)
        mu = ar_e.sum(axis=1) / msafe
        dev = np.where(use, ar - mu[:, None], 0.0)
        s2 = (dev ** 2).sum(axis=1) / np.maximum(m - (1 if ddof is None else ddof), 1)
        normal = f[:, :, 0].copy()
        h = np.zeros((P, D))
        const = np.zeros(P)
        slopes = np.ones((P, 1))
        fbar = np.zeros((P, 1))
        s_inv = np.zeros((P, 1, 1))
        degenerate = np.zeros(P, dtype=bool)
    else:
        ybar = np.where(use, y, 0.0).sum(axis=1) / msafe
        if q:
            # q is small (1 for the market model): work on (P, D) slices per regressor, which
            # avoids (P, D, q) temporaries and einsum overhead on the hot path.
            fs = [f[:, :, i] for i in range(q)]
            fbar = np.column_stack([np.where(use, fi, 0.0).sum(axis=1) / msafe for fi in fs])
            fdev = [fi - fbar[:, i, None] for i, fi in enumerate(fs)]
            fc = [np.where(use, d, 0.0) for d in fdev]
            yc = np.where(use, y - ybar[:, None], 0.0)
            sxx = np.empty((P, q, q))
            for i in range(q):
                for j in range(i, q):
                    sxx[:, i, j] = sxx[:, j, i] = np.einsum("pd,pd->p", fc[i], fc[j])
            sxy = np.column_stack([np.einsum("pd,pd->p", fc[i], yc) for i in range(q)])
            # A regressor with no variation over the estimation days cannot be estimated.
            var_f = np.einsum("pii->pi", sxx) / msafe[:, None]
            degenerate = is_degenerate(var_f, fbar).any(axis=1)
            sxx_safe = np.where(degenerate[:, None, None], np.eye(q)[None], sxx)
            s_inv = np.linalg.inv(sxx_safe)
            slopes = np.einsum("pij,pj->pi", s_inv, sxy)
            const = ybar - np.einsum("pi,pi->p", fbar, slopes)
            normal = np.repeat(const[:, None], D, axis=1)
            h = np.repeat(1.0 / msafe[:, None], D, axis=1)
            for i in range(q):
                normal += fs[i] * slopes[:, i, None]
                h += fdev[i] * fdev[i] * s_inv[:, i, i, None]
                for j in range(i + 1, q):
                    h += 2.0 * fdev[i] * fdev[j] * s_inv[:, i, j, None]
        else:
            degenerate = np.zeros(P, dtype=bool)
            fbar = np.zeros((P, 0))
            slopes = np.zeros((P, 0))
            s_inv = np.zeros((P, 0, 0))
            const = ybar
            normal = np.repeat(const[:, None], D, axis=1)
            h = np.repeat(1.0 / msafe[:, None], D, axis=1)
        ar = y - normal
        e = np.where(use, ar, 0.0)
        s2 = (e ** 2).sum(axis=1) / np.maximum(m - (k if ddof is None else ddof), 1)

    too_few = m < min_obs
    if too_few.any():
        n_y = np.zeros(P, dtype=np.int64)
        n_y[too_few] = (np.isfinite(y[too_few]) & est[None, :]).sum(axis=1)
    for idx in np.flatnonzero(too_few):
        if n_y[idx] == 0:
            reason[idx] = "no returns in the estimation window (NaN-only or outside the data)"
        else:
            reason[idx] = (f"too few estimation observations: M={int(m[idx])} usable days "
                           f"< minimum {min_obs}")
    if model != "market_adjusted":
        reason[degenerate & (reason == "")] = CONSTANT_REGRESSOR
    zero_var = (s2 <= 0) & (reason == "")
    reason[zero_var] = ZERO_VARIANCE
    ok = reason == ""
    bad = ~ok
    if bad.any():
        s2 = np.where(bad, np.nan, s2)
        const = np.where(bad, np.nan, const)
        slopes = np.where(bad[:, None], np.nan, slopes)
        normal = np.where(bad[:, None], np.nan, normal)
        ar = np.where(bad[:, None], np.nan, ar)
        h = np.where(bad[:, None], np.nan, h)
    # Estimation days without a return (or regressor) stay missing.
    ar = np.where(present, ar, np.nan)
    return BatchFit(model=model, k=k, const=const, slopes=slopes, fbar=fbar, s_inv=s_inv, m=m,
                    s2=s2, normal=normal, ar=ar, h=h, ok=ok, reason=reason)


def _fit_blocked(model: str, y: np.ndarray, f: np.ndarray, est: np.ndarray, min_obs: int,
                 ddof: int | None, blocks: np.ndarray) -> BatchFit:
    """OLS with regressor statistics shared per block (see :func:`fit_batch`).

    For a block with regressor rows ``F`` (D, q) and usable estimation days ``u`` (``M`` of them),
    ``fbar``, ``S = Fc'Fc`` and ``h_t = 1/M + (f_t - fbar)' S^-1 (f_t - fbar)`` are the block's;
    each complete pair's slopes are ``S^-1 Fc' y_u`` (``Fc`` sums to 0 over ``u``, so centring
    ``y`` is not needed), ``a = ybar - fbar' b``.
    """
    P, D = y.shape
    q = f.shape[2]
    k = n_params(model, q)
    kd = k if ddof is None else ddof
    ids, rep, inv, size = np.unique(blocks, return_index=True, return_inverse=True, return_counts=True)
    inv = np.asarray(inv).ravel()
    const = np.full(P, np.nan)
    slopes = np.full((P, q), np.nan)
    fbar = np.full((P, q), np.nan)
    s_inv = np.full((P, q, q), np.nan)
    m = np.zeros(P, dtype=np.int64)
    s2 = np.full(P, np.nan)
    # every row is written below: by its block, or by the general path (rows not done)
    normal = np.empty((P, D))
    ar = np.empty((P, D))
    h = np.empty((P, D))
    reason = np.full(P, "", dtype=object)
    done = np.zeros(P, dtype=bool)
    order = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[order], np.arange(len(ids)))
    ends = np.r_[starts[1:], P]
    # small blocks (e.g. every pair with its own day 0) gain nothing: the general path takes them
    for b in np.flatnonzero(size >= MIN_BLOCK):
        rows = order[starts[b]:ends[b]]
        Fb = f[rep[b]]                                           # (D, q)
        u = np.all(np.isfinite(Fb), axis=1) & est
        M = int(u.sum())
        if M < max(min_obs, 1):
            continue
        ui = np.flatnonzero(u)
        usel = slice(ui[0], ui[-1] + 1) if ui[-1] - ui[0] + 1 == M else ui
        fb = Fb[usel].mean(axis=0)
        Fc = Fb[usel] - fb
        S = Fc.T @ Fc
        var_f = np.diag(S) / M
        if is_degenerate(var_f, fb).any():
            continue                                             # degenerate: the general path says why
        Si = np.linalg.inv(S)
        # a contiguous run of rows is worked on in place (views), others through copies
        sel = slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] + 1 == len(rows) else rows
        Yb = y[sel]
        Yu = Yb[:, usel]
        comp = np.isfinite(Yu).all(axis=1)                       # a return on every usable day
        if not comp.all():
            rows = rows[comp]
            if not len(rows):
                continue
            sel = rows
            Yb = y[rows]
            Yu = Yb[:, usel]
        yb = Yu.mean(axis=1)
        bs = (Yu @ Fc) @ Si
        a = yb - bs @ fb
        fd = Fb - fb
        hb = 1.0 / M + np.einsum("di,ij,dj->d", fd, Si, fd)
        if isinstance(sel, slice):
            nb = normal[sel]
            np.matmul(bs, Fb.T, out=nb)
            nb += a[:, None]
            arb = ar[sel]
            np.subtract(Yb, nb, out=arb)
            h[sel] = hb
        else:
            nb = a[:, None] + bs @ Fb.T
            arb = Yb - nb
            normal[sel], ar[sel], h[sel] = nb, arb, hb
        e = arb[:, usel]
        s2b = np.einsum("pd,pd->p", e, e) / max(M - kd, 1)
        const[sel], slopes[sel], fbar[sel], s_inv[sel] = a, bs, fb, Si
        m[sel], s2[sel] = M, s2b
        done[rows] = True
    zero_var = done & ~(s2 > 0)
    reason[zero_var] = ZERO_VARIANCE
    for arr in (const, s2, slopes, normal, ar, h):
        arr[zero_var] = np.nan
    rest = np.flatnonzero(~done)
    if len(rest):
        g = _fit_general(model, y[rest], f[rest], est, min_obs, ddof)
        const[rest], slopes[rest], fbar[rest], s_inv[rest] = g.const, g.slopes, g.fbar, g.s_inv
        m[rest], s2[rest], normal[rest], ar[rest], h[rest] = g.m, g.s2, g.normal, g.ar, g.h
        reason[rest] = g.reason
    ok = reason == ""
    return BatchFit(model=model, k=k, const=const, slopes=slopes, fbar=fbar, s_inv=s_inv, m=m,
                    s2=s2, normal=normal, ar=ar, h=h, ok=ok, reason=reason)


def car_stats(fit: BatchFit, f: np.ndarray, win: np.ndarray) -> dict[str, np.ndarray]:
    """CAR, Var(CAR), SCAR for one event window.

    ``CAR_i = sum_{t in W} AR_it``;
    ``Var(CAR_i) = 1'V_i 1 = s_i^2 (L + L^2/M_i + d_i' S_i^-1 d_i)``, ``d_i = sum_{t in W}(f_t - fbar_i)``
    (MacKinlay 1997; for the market model this is Kolari & Pynnonen 2010's expression);
    market-adjusted: ``s_i^2 L``. ``SCAR_i = CAR_i / sqrt(Var(CAR_i))``.

    A pair with a missing abnormal return inside the window gets NaN (reported by the caller).
    Returns arrays ``car, var, scar, n_missing``.
    """
    L = int(win.sum())
    arw = fit.ar[:, win]
    n_missing = (~np.isfinite(arw)).sum(axis=1)
    car = arw.sum(axis=1)
    car = np.where(n_missing > 0, np.nan, car)
    if fit.model == "market_adjusted":
        var = fit.s2 * L
    else:
        q = fit.slopes.shape[1]
        msafe = np.maximum(fit.m, 1)
        if q:
            d = (f[:, win, :] - fit.fbar[:, None, :]).sum(axis=1)
            quad = np.einsum("pi,pij,pj->p", d, fit.s_inv, d)
        else:
            quad = 0.0
        var = fit.s2 * (L + L * L / msafe + quad)
    var = np.where(np.isfinite(car), var, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        scar = car / np.sqrt(var)
    return {"car": car, "var": var, "scar": scar, "n_missing": n_missing}


def sar(fit: BatchFit, days: slice = slice(None)) -> np.ndarray:
    """Standardised abnormal returns ``SAR_it = AR_it / sqrt(s_i^2 (1 + h_it))`` (prediction-error corrected).

    On estimation days the same expression is used with the in-sample leverage, so the
    estimation-window SARs are ``e_it / sqrt(s_i^2 (1 + h_it))``; callers that want plain
    ``e_it / s_i`` use ``fit.ar / sqrt(fit.s2)``. ``days``: the grid columns wanted (default all).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return fit.ar[:, days] / np.sqrt(fit.s2[:, None] * (1.0 + fit.h[:, days]))


def bhar(y: np.ndarray, normal: np.ndarray, win: np.ndarray, log_returns: bool = False) -> np.ndarray:
    """Buy-and-hold abnormal return over a window: ``prod(1 + R_it) - prod(1 + E[R_it])``.

    With log returns, ``exp(sum r) - exp(sum E[r])``. NaN when a return in the window is missing.
    """
    yw, nw = y[:, win], normal[:, win]
    if log_returns:
        out = np.exp(yw.sum(axis=1)) - np.exp(nw.sum(axis=1))
    else:
        out = np.prod(1.0 + yw, axis=1) - np.prod(1.0 + nw, axis=1)
    return out
