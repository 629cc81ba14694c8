"""Checks shared by the transport solvers: marginals, costs, regularisation, batches."""

from __future__ import annotations

import numpy as np

from ..backends import array_namespace, asarray_on, device, is_numpy_namespace
from ..utils.validation import check_array, check_scalar

# relative mismatch of the total masses below which b is rescaled to a's mass
MASS_RTOL = 1e-6


def _check_marginal_shape(w, name, size, n_batch, owner):
    """``w`` (1-D, or 2-D for a batch) fits the cost matrix (any namespace)."""
    if w.shape[-1] != size:
        raise ValueError(
            f"{owner}: {name} has {w.shape[-1]} entries but the cost matrix M has {size} "
            f"{'rows' if name == 'a' else 'columns'}."
        )
    if w.ndim == 2 and (n_batch is None or w.shape[0] != n_batch):
        raise ValueError(
            f"{owner}: {name} of shape {tuple(w.shape)} needs a batch of cost matrices M of "
            f"shape ({w.shape[0]}, n, m); got M with {'2' if n_batch is None else n_batch} "
            f"{'dimensions' if n_batch is None else 'problems'}."
        )


def _check_marginal(w, name, size, n_batch, owner):
    if w is None or (hasattr(w, "__len__") and len(w) == 0):
        shape = (size,) if n_batch is None else (n_batch, size)
        return np.full(shape, 1.0 / size)
    w = check_array(w, name, owner, ndim=(1, 2))
    _check_marginal_shape(w, name, size, n_batch, owner)
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


def _check_masses(sa, sb, k, batched, owner):
    """Balanced transport: the total masses ``sa`` and ``sb`` (host floats) must match."""
    if abs(sa - sb) > MASS_RTOL * max(sa, sb):
        where = f" (problem {k})" if batched else ""
        raise ValueError(
            f"{owner}: the marginals have different total masses{where}: "
            f"sum(a) = {sa:.6g}, sum(b) = {sb:.6g}. Balanced optimal transport needs "
            "equal masses: normalise a and b, or use sparsopt.ot.sinkhorn_unbalanced "
            "(reg_m=...) to relax the marginal constraints."
        )


def check_problem(a, b, M, reg, owner, *, balanced=True):
    """Validate an OT problem; returns ``(problems, batched, dtype, reg)``.

    ``problems`` is a list of ``(a, b, M)`` float64 triples (one per batch item),
    ``dtype`` the floating dtype of the input cost (float32 stays float32 on output).
    Masses that differ by less than ``MASS_RTOL`` (relative) are matched by rescaling
    ``b``; larger mismatches are an error unless ``balanced=False``.
    """
    reg = check_scalar(reg, "reg", owner, lower=0.0, lower_inclusive=False)
    xp = array_namespace(a, b, M)
    if not is_numpy_namespace(xp):
        return _check_problem_xp(a, b, M, reg, owner, balanced, xp)
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
            _check_masses(sa, sb, k, batched, owner)
            bk *= sa / sb
        problems.append((ak, bk, np.ascontiguousarray(Ms[k] if batched else Ms)))
    return problems, batched, dtype, reg


def check_array_xp(x, name, owner, xp, *, ndim, like=None):
    """:func:`~sparsopt.utils.validation.check_array` for an array of namespace ``xp``.

    Host data (lists, scalars) next to device arrays is brought to ``like``'s device
    once. Integer and boolean arrays become float64; complex ones are refused.
    """
    if like is not None and array_namespace(x) is not xp:
        x = asarray_on(np.asarray(x, dtype=np.float64), like, dtype=xp.float64)
    if xp.isdtype(x.dtype, "complex floating"):
        raise TypeError(f"{owner}: {name} must be real, got complex dtype {x.dtype}.")
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float64)
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        raise ValueError(
            f"{owner}: {name} must have {' or '.join(map(str, allowed))} dimension(s), "
            f"got shape {tuple(x.shape)}.")
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{owner}: {name} contains NaN or infinity.")
    return x


def _check_marginal_xp(w, name, size, n_batch, owner, xp, M):
    if w is None or (hasattr(w, "__len__") and not hasattr(w, "shape") and len(w) == 0):
        shape = (size,) if n_batch is None else (n_batch, size)
        return xp.full(shape, 1.0 / size, dtype=xp.float64, device=device(M))
    w = check_array_xp(w, name, owner, xp, ndim=(1, 2), like=M)
    _check_marginal_shape(w, name, size, n_batch, owner)
    if bool(xp.any(w < 0)):
        raise ValueError(
            f"{owner}: {name} has negative mass (min {float(xp.min(w)):.3g}); marginals must "
            "be non-negative weights."
        )
    if bool(xp.any(xp.sum(w, axis=-1) <= 0)):
        raise ValueError(f"{owner}: {name} has zero total mass.")
    w = xp.astype(w, xp.float64)
    if n_batch is not None and w.ndim == 1:
        w = xp.broadcast_to(w, (n_batch, size))
    return w


def _check_problem_xp(a, b, M, reg, owner, balanced, xp):
    """:func:`check_problem` for arrays of a non-NumPy namespace: the problems stay there
    (float64, on the input's device)."""
    M = check_array_xp(M, "M", owner, xp, ndim=(2, 3))
    dtype = M.dtype
    batched = M.ndim == 3
    n_batch = M.shape[0] if batched else None
    n, m = M.shape[-2:]
    a = _check_marginal_xp(a, "a", n, n_batch, owner, xp, M)
    b = _check_marginal_xp(b, "b", m, n_batch, owner, xp, M)
    Ms = xp.astype(M, xp.float64)
    problems = []
    for k in range(n_batch if batched else 1):
        ak = xp.asarray(a[k, ...] if batched else a, copy=True)
        bk = xp.asarray(b[k, ...] if batched else b, copy=True)
        sa, sb = float(xp.sum(ak)), float(xp.sum(bk))
        if balanced:
            _check_masses(sa, sb, k, batched, owner)
            bk = bk * (sa / sb)
        problems.append((ak, bk, Ms[k, ...] if batched else Ms))
    return problems, batched, dtype, reg


def reduce_support(a, b, M):
    """Drop zero-mass rows and columns: ``(a, b, M, rows, cols)`` with the kept indices.

    For non-NumPy arrays ``rows`` and ``cols`` are boolean masks of the kept entries.
    """
    xp = array_namespace(a, b, M)
    if not is_numpy_namespace(xp):
        if bool(xp.all(a > 0)) and bool(xp.all(b > 0)):
            return a, b, M, None, None
        # the kept rows and columns as boolean masks (no scatter in the standard)
        keep_r, keep_c = a > 0, b > 0
        rows, cols = xp.nonzero(keep_r)[0], xp.nonzero(keep_c)[0]
        Mr = xp.take(xp.take(M, rows, axis=0), cols, axis=1)
        return xp.take(a, rows), xp.take(b, cols), Mr, keep_r, keep_c
    rows = np.flatnonzero(a > 0)
    cols = np.flatnonzero(b > 0)
    if rows.size == a.size and cols.size == b.size:
        return a, b, M, None, None
    return a[rows], b[cols], np.ascontiguousarray(M[np.ix_(rows, cols)]), rows, cols


def expand_support(plan, f, g, shape, rows, cols):
    """Inverse of :func:`reduce_support`: zero rows/columns, ``-inf`` potentials."""
    if rows is None:
        return plan, f, g
    xp = array_namespace(plan, f, g)
    if not is_numpy_namespace(xp):
        # no scatter in the standard: gather each full row (column) from its position
        # among the kept ones, then zero the dropped ones
        n, m = shape
        dev = device(plan)
        keep_r, keep_c = rows, cols  # masks on this path
        pos_r = xp.clip(xp.cumulative_sum(xp.astype(keep_r, xp.int64)) - 1, min=0)
        pos_c = xp.clip(xp.cumulative_sum(xp.astype(keep_c, xp.int64)) - 1, min=0)
        P = xp.take(xp.take(plan, pos_r, axis=0), pos_c, axis=1)
        P = xp.where(keep_r[:, None] & keep_c[None, :], P, xp.zeros_like(P))
        F = xp.where(keep_r, xp.take(f, pos_r), xp.full(n, -xp.inf, dtype=f.dtype, device=dev))
        G = xp.where(keep_c, xp.take(g, pos_c), xp.full(m, -xp.inf, dtype=g.dtype, device=dev))
        return P, F, G
    n, m = shape
    P = np.zeros((n, m), dtype=plan.dtype)
    P[np.ix_(rows, cols)] = plan
    F = np.full(n, -np.inf)
    F[rows] = f
    G = np.full(m, -np.inf)
    G[cols] = g
    return P, F, G
