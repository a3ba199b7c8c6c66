"""Cross-sectional regression of CARs on exposure variables (group dummies with a base group, or numeric
characteristics) with heteroskedasticity-robust (HC3 by default) standard errors (MacKinnon & White 1985).

It treats the CARs as independent, which they are not on a shared event date; kept for characteristics
and for studies with scattered dates. On a shared date the group differences are
:func:`eventstudy.inference.regression.group_difference_regressions`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from eventstudy.errors import EstimationError
from eventstudy.estimation.windows import Window
from eventstudy.inference.regression import REG_COLUMNS

__all__ = ["cross_sectional_regression", "RobustOLS", "ols_robust"]


def cross_sectional_regression(car: pd.DataFrame, event_id: str, window: Window, base_group: str | None = None,
                               characteristics: pd.DataFrame | None = None, exclude_groups: Sequence[str] = (),
                               cov_type: str = "HC3", scale: float = 100.0) -> tuple[pd.DataFrame, object]:
    """Regress ``CAR_i`` (in percent by default, ``scale=100``) on exposure variables.

    With ``characteristics`` (indexed by ticker, numeric columns such as China sales share) those
    columns are the regressors; otherwise group dummies with ``base_group`` as the omitted base
    (the constant is the base group's mean CAR and each coefficient the difference to it).
    Heteroskedasticity-robust ``cov_type`` (HC0..HC3, :func:`ols_robust`). Returns the tidy rows and the
    fit (:class:`RobustOLS`).
    """
    d = car[(car["event_id"] == event_id) & (car["window_start"] == window[0]) & (car["window_end"] == window[1])]
    d = d[~d["group"].isin(list(exclude_groups))].dropna(subset=["car"])
    if characteristics is not None:
        X = characteristics.reindex(d["ticker"].to_numpy())
        X.index = d.index
        keep = X.notna().all(axis=1)
        d, X = d[keep], X[keep].astype(float)
        X.insert(0, "const", 1.0)
        names = ["const"] + list(characteristics.columns)
        subject = "CAR on characteristics"
    else:
        groups = list(dict.fromkeys(d["group"]))
        if base_group is None:
            base_group = groups[0]
        if base_group not in groups:
            raise EstimationError(f"base group {base_group!r} has no CAR for event {event_id} window {list(window)}")
        others = [g for g in groups if g != base_group]
        X = pd.DataFrame({f"group[{g}]": (d["group"] == g).astype(float).to_numpy() for g in others}, index=d.index)
        X.insert(0, "const", 1.0)
        names = [f"const ({base_group})"] + list(X.columns[1:])
        subject = f"CAR on groups (base: {base_group})"
    if len(d) <= X.shape[1]:
        raise EstimationError(f"cross-sectional regression for {event_id} {list(window)}: {len(d)} CARs for "
                              f"{X.shape[1]} coefficients; too few")
    res = ols_robust(d["car"].to_numpy() * scale, X.to_numpy(dtype=float), cov_type=cov_type)
    rows = [dict(kind="cross_section", event_id=event_id, subject=subject, window_start=window[0],
                 window_end=window[1], term=n, coef=float(c), std_err=float(s), t=float(t), p_value=float(p),
                 cov_type=cov_type, nobs=int(res.nobs), r2=float(res.rsquared))
            for n, c, s, t, p in zip(names, res.params, res.bse, res.tvalues, res.pvalues)]
    return pd.DataFrame(rows, columns=REG_COLUMNS), res


@dataclass(frozen=True)
class RobustOLS:
    """OLS with a heteroskedasticity-robust covariance: the attributes of statsmodels' results that the
    cross-section uses (``params, bse, tvalues, pvalues`` normal, ``nobs, rsquared``, ``cov``)."""

    params: np.ndarray
    bse: np.ndarray
    tvalues: np.ndarray
    pvalues: np.ndarray
    nobs: int
    rsquared: float
    cov: np.ndarray

    def cov_params(self) -> np.ndarray:
        return self.cov


def ols_robust(y: np.ndarray, X: np.ndarray, cov_type: str = "HC3") -> RobustOLS:
    """OLS of ``y`` on ``X`` (with its constant column) with White / MacKinnon–White (1985) covariance
    ``(X'X)⁻¹ X' diag(ω) X (X'X)⁻¹``: HC0 ``ω = e²``, HC1 ``e² n/(n-k)``, HC2 ``e²/(1-h)``, HC3
    ``e²/(1-h)²`` (``h`` the leverages); p-values from the normal distribution, R² centred. What
    ``statsmodels.OLS(y, X).fit(cov_type=...)`` gives (tested), without its per-call overhead."""
    from scipy import special     # norm.sf(x) = ndtr(-x), without scipy.stats

    y = np.asarray(y, float)
    X = np.asarray(X, float)
    n, k = X.shape
    XtXi = np.linalg.pinv(X.T @ X)
    b = XtXi @ (X.T @ y)
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    kind = cov_type.upper()
    with np.errstate(divide="ignore", invalid="ignore"):
        omega = {"HC0": e ** 2, "HC1": e ** 2 * n / (n - k), "HC2": e ** 2 / (1 - h),
                 "HC3": e ** 2 / (1 - h) ** 2}.get(kind)
        if omega is None:
            raise ValueError(f"cov_type {cov_type!r}: choose HC0, HC1, HC2 or HC3")
        cov = XtXi @ (X.T * omega) @ X @ XtXi
        se = np.sqrt(np.diag(cov))
        t = b / se
        tss = float(((y - y.mean()) ** 2).sum())
        r2 = 1.0 - float(e @ e) / tss
    return RobustOLS(params=b, bse=se, tvalues=t, pvalues=2 * special.ndtr(-np.abs(t)), nobs=n, rsquared=r2, cov=cov)
