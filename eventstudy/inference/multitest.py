"""Multiple testing: p-values adjusted across a family of cells (Holm 1979; Benjamini & Hochberg 1995)."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["P_ADJUST", "adjust_p", "family_adjusted"]

P_ADJUST = ("holm", "fdr_bh")


def adjust_p(p, method: str = "holm") -> np.ndarray:
    """p-values adjusted for testing a family of ``m`` hypotheses at once (``m`` = the finite entries
    of ``p``; NaN stays NaN and is not counted).

    With the finite p-values sorted, ``p_(1) <= ... <= p_(m)``:

    * ``holm`` (Holm 1979): ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``. Rejecting where
      ``p~ <= alpha`` keeps the chance of any false rejection at most ``alpha`` whatever the
      dependence between the tests (the cells of one event date are cross-correlated).
    * ``fdr_bh`` (Benjamini & Hochberg 1995): ``q_(i) = min(1, min_{j >= i} m p_(j) / j)``. Rejecting
      where ``q <= alpha`` keeps the expected share of false rejections at most ``alpha`` for
      independent or positively dependent tests (Benjamini & Yekutieli 2001).

    Same numbers as ``statsmodels.stats.multitest.multipletests`` (tested), without its
    per-call garbage collection.
    """
    if method not in P_ADJUST:
        raise ValueError(f"method must be one of {', '.join(P_ADJUST)}, not {method!r}")
    x = np.asarray(p, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"p must be one-dimensional, got shape {x.shape}")
    fin = np.flatnonzero(np.isfinite(x))
    if ((x[fin] < 0) | (x[fin] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(x.shape, np.nan)
    m = fin.size
    if m:
        order = fin[np.argsort(x[fin], kind="mergesort")]
        ps = x[order]
        j = np.arange(1, m + 1)
        if method == "holm":
            adj = np.maximum.accumulate((m - j + 1) * ps)
        else:
            adj = np.minimum.accumulate((ps / (j / m))[::-1])[::-1]     # m p / j, as statsmodels rounds it
        out[order] = np.minimum(adj, 1.0)
    return out


def family_adjusted(df: pd.DataFrame, pcol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pcol`` adjusted within each window's family of cells: (Holm p, BH q, family size m) per row.

    ``df`` has ``window_start, window_end, group_id, day0, n, caar_pct`` and ``pcol``. Rows with the
    same window, group, day 0, N and CAAR are one cell (events sharing a day 0 measure the same
    returns) and count once in ``m``; rows with a missing p-value do not count. The adjustment is
    :func:`adjust_p` (Holm 1979; Benjamini & Hochberg 1995).
    """
    n = len(df)
    m = np.zeros(n, dtype=int)
    if not n:
        return np.full(0, np.nan), np.full(0, np.nan), m
    key = pd.DataFrame({"w0": df["window_start"].to_numpy(), "w1": df["window_end"].to_numpy(),
                        "g": df["group_id"].to_numpy(), "d": pd.to_datetime(df["day0"]).to_numpy(),
                        "n": df["n"].to_numpy(), "c": np.round(df["caar_pct"].to_numpy(dtype=float), 10)})
    cell = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()   # one window each
    p = df[pcol].to_numpy(dtype=float)
    first = ~pd.Series(cell).duplicated().to_numpy()
    cell_holm, cell_bh = np.full(cell.max() + 1, np.nan), np.full(cell.max() + 1, np.nan)
    for rows in key.groupby(["w0", "w1"], sort=False).indices.values():      # one family per window
        heads = rows[first[rows] & np.isfinite(p[rows])]
        cell_holm[cell[heads]] = adjust_p(p[heads], "holm")
        cell_bh[cell[heads]] = adjust_p(p[heads], "fdr_bh")
        m[rows] = heads.size
    return cell_holm[cell], cell_bh[cell], m
