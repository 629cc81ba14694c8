"""Checks shared by the transport solvers: marginals, costs, regularisation, batches."""

from __future__ import annotations

import numpy as np

from ..utils.validation import check_array, check_scalar

# relative mismatch of the total masses below which b is rescaled to a's mass
MASS_RTOL = 1e-6


def _check_marginal(w, name, size, n_batch, owner):
    if w is None or (hasattr(w, "__len__") and len(w) == 0):
        shape = (size,) if n_batch is None else (n_batch, size)
        return np.full(shape, 1.0 / size)
    w = check_array(w, name, owner, ndim=(1, 2))
    if w.shape[-1] != size:
        raise ValueError(
            f"{owner}: {name} has {w.shape[-1]} entries but the cost matrix M has {size} "
            f"{'rows' if name == 'a' else 'columns'}."
        )
    if w.ndim == 2 and (n_batch is None or w.shape[0] != n_batch):
        raise ValueError(
            f"{owner}: {name} of shape {w.shape} needs a batch of cost matrices M of shape "
            f"({w.shape[0]}, n, m); got M with {'2' if n_batch is None else n_batch} "
            f"{'dimensions' if n_batch is None else 'problems'}."
        )
    if np.any(w < 0):
        raise ValueError(
            f"{owner}: {name} has negative mass (min {float(w.min()):.3g}); marginals must be "
            "non-negative weights."
        )
    if np.any(w.sum(axis=-1) <= 0):
        raise ValueError(f"{owner}: {name} has zero total mass.")
    w = np.asarray(w, dtype=np.float64)
    if n_batch is not None and w.ndim == 1:
        w = np.broadcast_to(w, (n_batch, size))
    return w


def check_problem(a, b, M, reg, owner, *, balanced=True):
    """Validate an OT problem; returns ``(problems, batched, dtype, reg)``.

    ``problems`` is a list of ``(a, b, M)`` float64 triples (one per batch item),
    ``dtype`` the floating dtype of the input cost (float32 stays float32 on output).
    Masses that differ by less than ``MASS_RTOL`` (relative) are matched by rescaling
    ``b``; larger mismatches are an error unless ``balanced=False``.
    """
    reg = check_scalar(reg, "reg", owner, lower=0.0, lower_inclusive=False)
    M = check_array(M, "M", owner, ndim=(2, 3))
    dtype = M.dtype
    batched = M.ndim == 3
    n_batch = M.shape[0] if batched else None
    n, m = M.shape[-2:]
    a = _check_marginal(a, "a", n, n_batch, owner)
    b = _check_marginal(b, "b", m, n_batch, owner)
    Ms = M.astype(np.float64, copy=False)
    problems = []
    for k in range(n_batch if batched else 1):
        ak = np.array(a[k] if batched else a, dtype=np.float64)
        bk = np.array(b[k] if batched else b, dtype=np.float64)
        sa, sb = ak.sum(), bk.sum()
        if balanced:
            if abs(sa - sb) > MASS_RTOL * max(sa, sb):
                where = f" (problem {k})" if batched else ""
                raise ValueError(
                    f"{owner}: the marginals have different total masses{where}: "
                    f"sum(a) = {sa:.6g}, sum(b) = {sb:.6g}. Balanced optimal transport needs "
                    "equal masses: normalise a and b, or use sparsopt.ot.sinkhorn_unbalanced "
                    "(reg_m=...) to relax the marginal constraints."
                )
            bk *= sa / sb
        problems.append((ak, bk, np.ascontiguousarray(Ms[k] if batched else Ms)))
    return problems, batched, dtype, reg


def reduce_support(a, b, M):
    """Drop zero-mass rows and columns: ``(a, b, M, rows, cols)`` with the kept indices."""
    rows = np.flatnonzero(a > 0)
    cols = np.flatnonzero(b > 0)
    if rows.size == a.size and cols.size == b.size:
        return a, b, M, None, None
    return a[rows], b[cols], np.ascontiguousarray(M[np.ix_(rows, cols)]), rows, cols


def expand_support(plan, f, g, shape, rows, cols):
    """Inverse of :func:`reduce_support`: zero rows/columns, ``-inf`` potentials."""
    if rows is None:
        return plan, f, g
    n, m = shape
    P = np.zeros((n, m), dtype=plan.dtype)
    P[np.ix_(rows, cols)] = plan
    F = np.full(n, -np.inf)
    F[rows] = f
    G = np.full(m, -np.inf)
    G[cols] = g
    return P, F, G
