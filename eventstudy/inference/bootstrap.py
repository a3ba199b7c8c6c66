"""Resampling p-value of the CAAR from pseudo-event windows of the estimation period (test id ``bootstrap``)."""
from __future__ import annotations

import math

import numpy as np

from eventstudy.inference.base import TestResult, as_matrix, as_vector, nan_result

__all__ = ["bootstrap_caar"]


def bootstrap_caar(car, est_ar, L: int, n_boot: int | None = 999, seed: int = 0,
                   statistic: str = "caar", *, scar=None, est_sar=None, k: int = 0) -> TestResult:
    """Resampling p-value from pseudo-event windows that keep the cross-section together.

    All securities share the event date, so their window returns are correlated; the
    null distribution is therefore built from whole cross-sections: a pseudo-window is
    ``L`` consecutive estimation days starting at day ``s`` (circular: the window may wrap
    from the end of the estimation window to its start), and the statistic is computed on
    the residuals of ALL securities on those same days.

    ``statistic="caar"``: observed ``CAAR = mean_i CAR_i``; pseudo
    ``CAAR*(s) = mean_i sum_{t=s..s+L-1} e_it``.
    ``statistic="mean_scar"`` (needs ``scar`` and ``est_sar``): observed ``mean_i SCAR_i``;
    pseudo ``mean_i sum_{t in s..s+L-1} (e_it / s_i) / sqrt(L)``.
    A security enters a pseudo-window only if it has all L residuals in it; starts where no
    security qualifies are never drawn. ``n_boot`` starts are drawn uniformly with
    replacement (``numpy.random.default_rng(seed)``); ``n_boot=None`` uses each of the ``T'``
    usable starts once (a permutation-style enumeration). Two-sided
    ``p = (1 + #{|stat*| >= |stat|}) / (B + 1)``. ``statistic`` in the result is the
    observed CAAR (decimal) or mean SCAR; ``df`` is None.

    Assumptions: residuals are exchangeable over days (no autocorrelation, stable variance:
    circular windows join the two ends of the estimation window); in-sample residuals are
    shrunk, ``E[e_it^2] = sigma_i^2 (M_i - k) / M_i``, so with ``k > 0`` each security's
    residuals are rescaled by ``sqrt(M_i / (M_i - k))`` (``M_i`` its finite residuals). Even so,
    out-of-sample prediction errors are O(k/M) more dispersed than that, which makes the p-value
    slightly liberal for short estimation windows. There are at most T distinct pseudo-windows,
    which bounds the p-value's resolution whatever ``n_boot`` is.
    Reference: in the spirit of the "sampling from the estimation window" bootstrap of
    Marais (1984) and the cross-section-preserving resampling recommended by Kolari &
    Pynnonen (2010) for clustered event dates.
    """
    if statistic not in ("caar", "mean_scar"):
        raise ValueError(f"statistic must be 'caar' or 'mean_scar', got {statistic!r}")
    L = int(L)
    if L < 1:
        raise ValueError(f"L must be >= 1, got {L}")
    if statistic == "caar":
        obs_vec = as_vector(car, "car")
        src = as_matrix(est_ar, "est_ar", obs_vec.size)
        scale_sum = 1.0
    else:
        if scar is None or est_sar is None:
            raise ValueError("statistic='mean_scar' needs scar= and est_sar=")
        obs_vec = as_vector(scar, "scar")
        src = as_matrix(est_sar, "est_sar", obs_vec.size)
        scale_sum = 1.0 / math.sqrt(L)
    keep = np.isfinite(obs_vec)
    obs_vec, src = obs_vec[keep], src[keep]
    if obs_vec.size < 1:
        return nan_result()
    T = src.shape[1]
    if T < L or T < 2:
        return nan_result()
    fin = np.isfinite(src)
    if k > 0:
        m_i = fin.sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            fac = np.where(m_i > k, np.sqrt(m_i / np.maximum(m_i - k, 1.0)), np.nan)
        src = src * fac[:, None]
        fin = np.isfinite(src)
    x = np.where(fin, src, 0.0)
    # circular window sums for every start s = 0..T-1 via cumulative sums of the wrapped series
    xe = np.hstack([x, x[:, :L - 1]])
    fe = np.hstack([fin, fin[:, :L - 1]]).astype(np.int64)
    cs = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(xe, axis=1)], axis=1)
    cf = np.concatenate([np.zeros((x.shape[0], 1), dtype=np.int64), np.cumsum(fe, axis=1)], axis=1)
    wsum = cs[:, L:L + T] - cs[:, :T]
    wcnt = cf[:, L:L + T] - cf[:, :T]
    full = wcnt == L
    n_full = full.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pseudo = np.where(full, wsum, 0.0).sum(axis=0) / n_full * scale_sum
    pseudo = pseudo[n_full > 0]
    if pseudo.size == 0:
        return nan_result()
    stat = float(obs_vec.mean())
    if n_boot is None:
        draws = pseudo
    else:
        n_boot = int(n_boot)
        if n_boot < 1:
            raise ValueError(f"n_boot must be >= 1 or None, got {n_boot}")
        rng = np.random.default_rng(seed)
        draws = pseudo[rng.integers(0, pseudo.size, size=n_boot)]
    # tolerance so that a pseudo statistic equal to the observed one (up to rounding) counts as extreme
    tol = 1e-12 * max(abs(stat), 1e-300)
    exceed = int(np.sum(np.abs(draws) >= abs(stat) - tol))
    return TestResult(stat, float((1 + exceed) / (draws.size + 1)), None)
