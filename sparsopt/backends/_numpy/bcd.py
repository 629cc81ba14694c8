"""NumPy references:
Block coordinate descent with greedy rules (solver ``sparsopt.solvers.blockcd.engine``).

* ``bcd_nnqp``: exact solution of a small non-negative quadratic program
  ``min_{z >= 0} 1/2 z^T Q z + c^T z`` (``Q`` positive definite) by the primal
  active-set method of Lawson and Hanson written for a quadratic instead of a
  least-squares objective. It is the block solve of the projected-Newton and
  matrix updates with ``x >= 0`` or l1 penalties.
* ``bcd_csc_cols_axpy``: ``out += A[:, cols] @ d`` for a CSC matrix given by its
  ``indptr``, ``indices`` and ``data`` (residual / gradient maintenance).
* ``bcd_csc_gather``: the dense block ``A[:, cols]`` of a CSC matrix (block Hessians).
* ``bcd_csc_cols_rows``: the rows touched by ``A[:, cols]`` and their values of
  ``A[:, cols] @ D`` (incremental margins, sparse in the rows).
* ``bcd_csc_block_grams``: the Gram matrices ``A_b^T A_b`` of all blocks of a fixed
  partition (block Lipschitz constants and matrix bounds).
* ``bcd_csr_rows_tmatvec``: ``out += A[rows, :]^T @ vals`` for ``A`` in CSR form
  (incremental gradients: only the touched rows).

* ``bcd_prox_steps``: the prox of a separable penalty given by its kernel spec
  (``kind``, ``params``, box ``[lower, upper]``), one step per coordinate (the
  block updates and the greedy proximal rules).
* ``bcd_subdiff_scores``: distance of ``-g_i`` to the subdifferential of the penalty
  plus the normal cone of the box at ``x_i`` (the GS-s score), with the fixed-point
  violation ``L_i |x_i - prox(x_i - g_i / L_i)|`` where it has no closed form;
  optionally signed like the gradient mapping (the minimum-norm subgradient scored by
  the non-proximal greedy rules).

CSC indices must be sorted without duplicates (``sort_indices``; the solver does it).
"""

import math

import numpy as np

from .. import _kinds as K
from .._registry import register_kernel
from . import prox as P


def _prox_scalar_step(kind, p, t, step, a):
    """Prox of ``step * pen`` (spec ``kind``, ``p``) on the array ``t`` (one step)."""
    out = np.empty_like(t)
    if kind == K.KIND_L1:
        return P.prox_l1(t, step * p[0], out)
    if kind == K.KIND_L0:
        return P.prox_l0(t, math.sqrt(2.0 * step * p[0]), out)
    if kind == K.KIND_LHALF:
        return P.prox_lhalf(t, step * p[0], out)
    if kind == K.KIND_LTWOTHIRDS:
        return P.prox_ltwothirds(t, step * p[0], out)
    if kind == K.KIND_LQ:
        return P.prox_lq(t, step * p[0], p[1], out)
    if kind == K.KIND_CEL0:
        return P.prox_cel0(t, np.asarray(a, dtype=np.float64), p[0], step, out)
    if kind == K.KIND_MCP:
        return P.prox_mcp(t, p[0], p[1], step, out)
    if kind == K.KIND_SCAD:
        return P.prox_scad(t, p[0], p[1], step, out)
    if kind == K.KIND_LOG:
        return P.prox_log(t, step * p[0], p[1], out)
    if kind == K.KIND_ELASTICNET:
        return P.prox_elasticnet(t, step * p[0] * p[1], 1.0 + step * p[0] * (1.0 - p[1]), out)
    return P.prox_box(t, p[0], p[1], out)


@register_kernel("bcd_prox_steps", "numpy")
def bcd_prox_steps(kind, params, lower, upper, a, v, steps, out):
    """``out_i = clip(prox_{steps_i pen}(v_i), lower, upper)`` for the spec of a penalty.

    Parameters
    ----------
    kind : int
        ``KIND_*`` code of the penalty (:class:`~sparsopt.penalties.PenaltySpec`).
    params : ndarray of float64
        Its parameters, ``alpha`` first.
    lower, upper : float
        The box composed with the penalty.
    a : ndarray of shape (1,) or (n,), float64
        CEL0 column norms (cycled; ignored by the other kinds).
    v, steps, out : ndarray of shape (n,), float64
        Points, positive steps, and the output (may be ``v``).
    """
    v = np.array(v, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.float64)
    aa = np.resize(np.asarray(a, dtype=np.float64), v.shape[0]) if v.shape[0] else a
    res = np.empty_like(v)
    keys = np.stack([steps, aa]) if v.shape[0] else np.empty((2, 0))
    for s, aj in {(float(s), float(aj)) for s, aj in keys.T}:
        sel = (steps == s) & (aa == aj)
        res[sel] = _prox_scalar_step(kind, params, v[sel], s, np.array([aj]))
    out[:] = np.clip(res, lower, upper)
    return out


def _pen_u(kind, p, u, a):
    """Penalty value at ``|t| = u`` (array), 0 for the box (feasible points)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == K.KIND_L1:
            return p[0] * u
        if kind == K.KIND_ELASTICNET:
            return p[0] * (p[1] * u + 0.5 * (1.0 - p[1]) * u * u)
        if kind == K.KIND_MCP:
            lam, gam = p[0], p[1]
            return np.where(u <= gam * lam, lam * u - u * u / (2.0 * gam), 0.5 * gam * lam * lam)
        if kind == K.KIND_SCAD:
            lam, gam = p[0], p[1]
            mid = (2.0 * gam * lam * u - u * u - lam * lam) / (2.0 * (gam - 1.0))
            return np.where(u <= lam, lam * u,
                            np.where(u <= gam * lam, mid, lam * lam * (gam + 1.0) / 2.0))
        if kind == K.KIND_LOG:
            return p[0] * np.log1p(u / p[1])
        if kind == K.KIND_L0:
            return np.where(u != 0.0, p[0], 0.0)
        if kind == K.KIND_LHALF:
            return p[0] * np.sqrt(u)
        if kind == K.KIND_LTWOTHIRDS:
            return p[0] * u ** (2.0 / 3.0)
        if kind == K.KIND_LQ:
            return p[0] * u ** p[1]
        if kind == K.KIND_CEL0:
            r = math.sqrt(2.0 * p[0])
            return np.where(u <= r / a, a * r * u - 0.5 * a * a * u * u, p[0])
        return np.zeros_like(u)


@register_kernel("bcd_value_delta", "numpy")
def bcd_value_delta(kind, params, a, x, z, out):
    """``out_i = pen(z_i) - pen(x_i)`` for the spec ``kind``, ``params`` (CEL0 norms ``a``).

    Where ``x_i`` and ``z_i`` lie on one piece of the penalty the difference is factored
    by ``|z_i| - |x_i|`` (exact to rounding however close the two points are).
    """
    p = params
    ux, uz = np.abs(np.asarray(x, dtype=np.float64)), np.abs(np.asarray(z, dtype=np.float64))
    aa = np.resize(np.asarray(a, dtype=np.float64), ux.shape[0]) if ux.shape[0] else a
    du = uz - ux
    res = _pen_u(kind, p, uz, aa) - _pen_u(kind, p, ux, aa)
    if kind == K.KIND_L1:
        res = p[0] * du
    elif kind == K.KIND_ELASTICNET:
        res = p[0] * (p[1] * du + 0.5 * (1.0 - p[1]) * du * (uz + ux))
    elif kind == K.KIND_MCP:
        top = p[1] * p[0]
        res = np.where((uz <= top) & (ux <= top), du * (p[0] - (uz + ux) / (2.0 * p[1])),
                       np.where((uz > top) & (ux > top), 0.0, res))
    elif kind == K.KIND_SCAD:
        lam, gam = p[0], p[1]
        mid = (lam < uz) & (uz <= gam * lam) & (lam < ux) & (ux <= gam * lam)
        res = np.where((uz <= lam) & (ux <= lam), lam * du,
                       np.where(mid, du * (2.0 * gam * lam - (uz + ux)) / (2.0 * (gam - 1.0)),
                                np.where((uz > gam * lam) & (ux > gam * lam), 0.0, res)))
    elif kind == K.KIND_LOG:
        res = p[0] * np.log1p(du / (p[1] + ux))
    elif kind == K.KIND_CEL0:
        r = math.sqrt(2.0 * p[0])
        res = np.where((uz <= r / aa) & (ux <= r / aa), du * (aa * r - 0.5 * aa * aa * (uz + ux)),
                       res)
    out[:] = np.where(du == 0.0, 0.0, res)
    return out


@register_kernel("bcd_subdiff_scores", "numpy")
def bcd_subdiff_scores(kind, params, lower, upper, a, x, g, L, signed, out):
    """GS-s scores: distance of ``-g`` to the subdifferential (+ normal cone) at ``x``.

    ``-1`` distances of :func:`~sparsopt.backends._numpy.prox.subdiff_distance` (no
    closed form) become the fixed-point violation ``L |x - prox(x - g / L)|``; with
    ``signed`` the distance takes the sign of that gradient mapping (of ``g`` where the
    mapping is 0). ``L`` holds positive per-coordinate curvatures.
    """
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    dist = P.subdiff_distance(kind, x, -g, params, lower, upper)
    z = bcd_prox_steps(kind, params, lower, upper, a, x - g / L, 1.0 / L, np.empty_like(x))
    gm = L * (x - z)
    dist = np.where(dist < 0.0, np.abs(gm), dist)
    if signed:
        sgn = np.where(gm != 0.0, np.sign(gm), np.sign(g))
        dist = sgn * dist
    out[:] = dist
    return out


@register_kernel("bcd_nnqp", "numpy")
def bcd_nnqp(Q, c, z, max_iter, tol):
    """Solve ``min_{z >= 0} 1/2 z^T Q z + c^T z`` in place in ``z``; return the iterations.

    Parameters
    ----------
    Q : ndarray of shape (m, m), float64
        Symmetric positive definite matrix.
    c : ndarray of shape (m,), float64
        Linear term.
    z : ndarray of shape (m,), float64
        Output (overwritten; the method starts from ``z = 0``).
    max_iter : int
        Cap on the number of inner (linear-solve) iterations.
    tol : float
        A coordinate enters the passive set only if ``-(Q z + c)_j > tol``.

    Returns
    -------
    n_iter : int
        Linear solves performed (``max_iter`` means the cap was hit).
    """
    m = c.shape[0]
    z[:] = 0.0
    passive = np.zeros(m, dtype=bool)
    it = 0
    while it < max_iter:
        w = -(Q @ z + c)
        w_masked = np.where(passive, -np.inf, w)
        j = int(np.argmax(w_masked)) if m else 0
        if m == 0 or w_masked[j] <= tol:
            break
        passive[j] = True
        while it < max_iter:
            it += 1
            idx = np.flatnonzero(passive)
            sol = np.linalg.solve(Q[np.ix_(idx, idx)], -c[idx])
            if np.all(sol > 0.0):
                z[:] = 0.0
                z[idx] = sol
                break
            zi = z[idx]
            neg = sol <= 0.0
            den = zi[neg] - sol[neg]
            alpha = np.min(np.where(den > 0.0, zi[neg] / np.where(den > 0.0, den, 1.0), 0.0))
            z[idx] = zi + alpha * (sol - zi)
            drop = idx[z[idx] <= 0.0]
            z[drop] = 0.0
            passive[drop] = False
    return it


@register_kernel("bcd_csc_cols_axpy", "numpy")
def bcd_csc_cols_axpy(indptr, indices, data, cols, d, out):
    """``out += A[:, cols] @ d`` for ``A`` in CSC form (``out`` float64, modified in place)."""
    for c, dc in zip(cols, d):
        if dc != 0.0:
            lo, hi = indptr[c], indptr[c + 1]
            np.add.at(out, indices[lo:hi], data[lo:hi].astype(np.float64) * float(dc))
    return out


@register_kernel("bcd_csc_gather", "numpy")
def bcd_csc_gather(indptr, indices, data, cols, out):
    """``out[:, a] = A[:, cols[a]]`` (dense float64 ``out`` of shape (n_rows, len(cols)))."""
    out[:] = 0.0
    for a, c in enumerate(cols):
        lo, hi = indptr[c], indptr[c + 1]
        out[indices[lo:hi], a] = data[lo:hi]
    return out


@register_kernel("bcd_csc_cols_rows", "numpy")
def bcd_csc_cols_rows(indptr, indices, data, cols, D, mark, rows, vals):
    """Rows touched by ``A[:, cols]`` and their values of ``A[:, cols] @ D``.

    Parameters
    ----------
    indptr, indices, data : CSC arrays of ``A`` (n_rows, n_cols); indices sorted
    cols : ndarray of shape (b,), int64 (repeats allowed)
    D : ndarray of shape (b, k), float64
    mark : ndarray of shape (n_rows,), int64
        All ``-1`` on entry; restored to ``-1`` on exit (work buffer).
    rows : ndarray of shape (n_rows,), int64
        ``rows[:cnt]``: the touched rows, in order of first appearance.
    vals : ndarray of shape (n_rows, k), float64
        ``vals[:cnt]``: ``(A[:, cols] @ D)[rows[:cnt]]``.

    Returns
    -------
    cnt : int
    """
    k = D.shape[1]
    cnt = 0
    for a, c in enumerate(cols):
        lo, hi = indptr[c], indptr[c + 1]
        for r, v in zip(indices[lo:hi], data[lo:hi]):
            if mark[r] < 0:
                mark[r] = cnt
                rows[cnt] = r
                vals[cnt, :k] = 0.0
                cnt += 1
            vals[mark[r]] += float(v) * D[a]
    mark[rows[:cnt]] = -1
    return cnt


@register_kernel("bcd_csr_rows_tmatvec", "numpy")
def bcd_csr_rows_tmatvec(indptr, indices, data, rows, vals, out):
    """``out += A[rows, :]^T @ vals`` for ``A`` in CSR form; return the entries read.

    ``vals`` has shape (len(rows), k) and ``out`` (n_cols, k), float64 (in place).
    """
    work = 0
    for s, r in enumerate(rows):
        lo, hi = indptr[r], indptr[r + 1]
        out[indices[lo:hi]] += np.outer(data[lo:hi].astype(np.float64), vals[s])
        work += int(hi - lo)
    return work


@register_kernel("bcd_csc_block_grams", "numpy")
def bcd_csc_block_grams(indptr, indices, data, blocks, w, out):
    """``out[i] = A[:, blocks[i]]^T A[:, blocks[i]]`` for ``A`` in CSC form.

    ``blocks`` is an int64 array of shape (n_blocks, bs), ``out`` float64 of shape
    (n_blocks, bs, bs) (overwritten), ``w`` a float64 work vector of length n_rows,
    zero on entry and exit.
    """
    n_rows = w.shape[0]
    for i, blk in enumerate(blocks):
        Ab = np.zeros((n_rows, blk.size))
        for a, c in enumerate(blk):
            lo, hi = indptr[c], indptr[c + 1]
            Ab[indices[lo:hi], a] = data[lo:hi]
        out[i] = Ab.T @ Ab
    return out
