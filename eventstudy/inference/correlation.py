"""The Kolari-Pynnonen mean residual correlation of every cell of a batch (:mod:`eventstudy.inference.batched`).

The same pairs and the same validity rule as :func:`eventstudy.inference.reference.residual_correlation_matrix`
and :func:`eventstudy.inference.reference.kolari_pynnonen` (``tests/test_cellstats.py`` checks them cell by
cell); complete residual rows take the O(N T) path, the others the exact pairwise-complete one.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from eventstudy.inference.reference import centred_rows

__all__ = ["cell_mean_correlation", "cross_correlation"]


def cell_mean_correlation(lp, cl, C, fast, Z, ea, min_overlap, days_ok, cluster=None):
    """Mean pairwise residual correlation per cell (the ``r`` of Kolari-Pynnonen) over the members ``lp`` (local
    pair) of the ``C`` cells ``cl`` (sorted). Members with ``fast`` (a residual on every day, a usable variance)
    enter through their standardised rows ``Z`` (``sum_{i != j} r_ij = ||sum_i z_i||^2 - N``); the others
    through the pairwise-complete formula on their residuals ``ea`` (:func:`cross_correlation`) against every
    member of the cell. ``days_ok``: enough estimation days for any pair to reach ``min_overlap``.

    ``cluster`` (per local pair, optional): date clusters of pooled firm-specific events; pairs of
    members in different clusters count as correlation 0 (see :func:`eventstudy.inference.reference.kolari_pynnonen`)."""
    tot = np.zeros(C)
    npair = np.zeros(C)
    f = fast[lp]
    if days_ok and f.any():
        if cluster is None:
            sub, sub_cell = cl[f], np.arange(C)
        else:                              # sums per (cell, date cluster); every pair of the cell counted
            K = int(cluster.max()) + 1
            uniq, sub = np.unique(cl[f].astype(np.int64) * K + cluster[lp[f]], return_inverse=True)
            sub_cell = uniq // K
        n_sub = len(sub_cell)
        Cm = sparse.csr_matrix((np.ones(int(f.sum())), (sub, lp[f])), shape=(n_sub, Z.shape[0]))
        zs = np.asarray(Cm @ Z)
        ns = np.bincount(sub, minlength=n_sub).astype(float)
        tot += np.bincount(sub_cell, weights=0.5 * ((zs * zs).sum(axis=1) - ns), minlength=C)
        nf = np.bincount(cl[f], minlength=C).astype(float)
        npair += nf * (nf - 1.0) / 2.0
    slow_cells = np.unique(cl[~f])
    if slow_cells.size:
        starts = np.searchsorted(cl, slow_cells)
        ends = np.searchsorted(cl, slow_cells, side="right")
        for c, a, b in zip(slow_cells, starts, ends):
            mem = lp[a:b]
            if cluster is None:
                tot[c], npair[c] = _slow_pairs(mem, np.arange(mem.size), fast, ea, min_overlap, tot[c], npair[c])
                continue
            # pairs on different dates are independent (correlation 0, counted); only a slow member's own date
            # cluster is worked out, so the cost is that of the clusters, not of the (slow x cell) matrix
            fm = fast[mem]
            n_s, n_f = float((~fm).sum()), float(fm.sum())
            npair[c] += n_s * n_f + n_s * (n_s - 1.0) / 2.0         # every pair with a slow member, once
            cm = cluster[mem]
            by = np.argsort(cm, kind="stable")                        # each date's members, in cell order
            cut = np.flatnonzero(np.diff(cm[by])) + 1
            for g in np.split(by, cut):
                if fm[g].all():
                    continue
                k = float((~fm[g]).sum())
                npair[c] -= k * float(fm[g].sum()) + k * (k - 1.0) / 2.0   # counted again below if finite
                tot[c], npair[c] = _slow_pairs(mem, g, fast, ea, min_overlap, tot[c], npair[c])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(npair > 0, tot / npair, np.nan)


def _slow_pairs(mem: np.ndarray, at: np.ndarray, fast: np.ndarray, ea: np.ndarray, min_overlap: int,
                tot: float, npair: float) -> tuple[float, float]:
    """``tot`` and ``npair`` with the pairwise-complete correlations of the members ``mem[at]`` (``at``: positions in
    the cell, ascending) that involve a slow member added: a slow row against every fast column, and slow-slow pairs
    once (the later position as column); undefined correlations (too little overlap) are not counted."""
    m = mem[at]
    sl = np.flatnonzero(~fast[m])                   # the exact-path members among them
    r = cross_correlation(ea[m[sl]], ea[m], min_overlap)
    take = fast[m][None, :] | (at[None, :] > at[sl][:, None])
    v = r[take]
    v = v[np.isfinite(v)]
    return tot + v.sum(), npair + v.size


def cross_correlation(xa: np.ndarray, xb: np.ndarray, min_overlap: int) -> np.ndarray:
    """Rows of :func:`eventstudy.inference.reference.residual_correlation_matrix` for securities ``xa`` against ``xb``.

    The same pairwise-complete formula and validity rule, for a rectangular block (A, B).
    """
    wa, x0a = centred_rows(xa)
    wb, x0b = centred_rows(xb)
    n = wa @ wb.T
    sx_ab = x0a @ wb.T                 # sum of x_a over the days common with b
    sx_ba = wa @ x0b.T                 # sum of x_b over the days common with a
    sxx_ab = (x0a * x0a) @ wb.T
    sxx_ba = wa @ (x0b * x0b).T
    sxy = x0a @ x0b.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx_ab * sx_ba / n
        vx = sxx_ab - sx_ab * sx_ab / n
        vy = sxx_ba - sx_ba * sx_ba / n
        r = cov / np.sqrt(vx * vy)
    scale2 = np.maximum(sxx_ab, sxx_ba) + 1e-300
    bad = (n < max(int(min_overlap), 2)) | ~(vx > 1e-13 * scale2) | ~(vy > 1e-13 * scale2)
    return np.where(bad, np.nan, np.clip(r, -1.0, 1.0))
