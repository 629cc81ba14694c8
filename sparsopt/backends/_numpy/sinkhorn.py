"""NumPy reference kernels of entropic optimal transport (log domain).

All kernels work on the *log kernel* ``K = -M / reg`` and on scaled potentials
``u = f / reg``, ``v = g / reg``, so that the plan is ``P_ij = exp(u_i + v_j + K_ij)``
and no ``exp(-M / reg)`` is ever formed (it underflows at small ``reg``).

* ``sinkhorn_log_iterations``: log-domain Sinkhorn sweeps ``u <- tau_a (log a - lse_row)``
  then ``v <- tau_b (log b - lse_col)`` (``tau = 1`` is balanced OT), with max-shifted
  log-sum-exps. Before each sweep the L1 row-marginal error of the current iterate,
  ``sum_i |exp(u_i + lse_i) - a_i|``, comes for free from the row log-sum-exp; the
  sweeps stop early when it is ``<= tol`` (``tol < 0`` never stops). After a sweep the
  column marginal is exact up to rounding, so this is the L1 marginal error of the
  iterate. Updates ``u`` and ``v`` in place; returns ``(sweeps done, last error)``.
* ``ot_plan``: ``P = exp(u + v + K)`` into ``out``; returns the row and column sums.
* ``ot_sparsify``: the entries of ``P >= thresh`` as CSR ``(indptr, indices, data)``.
* ``ot_newton_cg``: Jacobi-preconditioned conjugate gradients on the sparsified
  negative Hessian of the dual, ``[[diag(r), S], [S^T, diag(c)]] [du; dv] = [ga; gb]``.
  Returns ``(du, dv, iterations)``.
* ``ot_newton_cg_masked``: the same CG with the sparsified plan given as a dense matrix
  ``S`` (zeros off the kept entries): the path of non-NumPy arrays (CuPy, ...), whose
  matrix-vector products are then two dense products on the device.

``sinkhorn_log_iterations``, ``ot_plan``, ``ot_scale_plan`` and ``ot_newton_cg_masked``
are written against the inputs' array namespace (``array_api=True``): they also run on
CuPy or any array-API library. The CSR ops stay NumPy-only (the namespace path of
:func:`sparsopt.ot.sinkhorn_newton_sparse` does not use them).
"""

import numpy as np

from .._namespace import array_namespace, is_numpy_namespace
from .._registry import register_kernel


def _lse_rows(xp, X):
    mx = xp.max(X, axis=1)
    mx = xp.where(xp.isfinite(mx), mx, xp.zeros_like(mx))
    return mx + xp.log(xp.sum(xp.exp(X - mx[:, None]), axis=1))


@register_kernel("sinkhorn_log_iterations", "numpy", array_api=True)
def sinkhorn_log_iterations(K, u, v, loga, logb, a, tau_a, tau_b, n_iter, tol):
    """Reference log-domain Sinkhorn sweeps (see the module docstring)."""
    xp = array_namespace(K, u, v, loga, logb, a)
    err = np.inf
    for it in range(n_iter):
        lse = _lse_rows(xp, v[None, :] + K)
        err = float(xp.sum(xp.abs(xp.exp(u + lse) - a)))  # the stopping test: one sync
        if err <= tol:
            return it, err
        u[...] = tau_a * (loga - lse)
        lse_c = _lse_rows(xp, (u[:, None] + K).T)
        v[...] = tau_b * (logb - lse_c)
    return n_iter, err


@register_kernel("ot_plan", "numpy", array_api=True)
def ot_plan(K, u, v, out):
    """``out = exp(u_i + v_j + K_ij)``; returns ``(out.sum(1), out.sum(0))``."""
    xp = array_namespace(K, u, v, out)
    if is_numpy_namespace(xp):
        np.exp(u[:, None] + v[None, :] + K, out=out)
    else:
        out[...] = xp.exp(u[:, None] + v[None, :] + K)
    return xp.sum(out, axis=1), xp.sum(out, axis=0)


@register_kernel("ot_scale_plan", "numpy", array_api=True)
def ot_scale_plan(Kt, alpha, beta):
    """``Kt = diag(alpha) Kt diag(beta)`` in place; returns ``(Kt.sum(1), Kt.sum(0))``."""
    xp = array_namespace(Kt, alpha, beta)
    if is_numpy_namespace(xp):
        np.multiply(alpha[:, None] * Kt, beta[None, :], out=Kt)
    else:
        Kt[...] = alpha[:, None] * Kt * beta[None, :]
    return xp.sum(Kt, axis=1), xp.sum(Kt, axis=0)


@register_kernel("ot_sparsify", "numpy")
def ot_sparsify(P, thresh):
    """Entries ``P_ij >= thresh`` as CSR arrays ``(indptr, indices, data)`` (int64, float64)."""
    mask = P >= thresh
    counts = mask.sum(axis=1)
    indptr = np.zeros(P.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    rows, cols = np.nonzero(mask)
    return indptr, cols.astype(np.int64), P[rows, cols].astype(np.float64)


@register_kernel("ot_sparsify_scaled", "numpy")
def ot_sparsify_scaled(Kt, alpha, beta, thresh):
    """Entries of ``P = diag(alpha) Kt diag(beta)`` with ``P_ij >= thresh``, as CSR arrays."""
    return ot_sparsify(alpha[:, None] * Kt * beta[None, :], thresh)


def _matvec(indptr, indices, data, r, c, xa, xb):
    n = r.shape[0]
    ya = r * xa
    yb = c * xb
    for i in range(n):
        lo, hi = indptr[i], indptr[i + 1]
        cols = indices[lo:hi]
        vals = data[lo:hi]
        ya[i] += vals @ xb[cols]
        np.add.at(yb, cols, vals * xa[i])
    return ya, yb


@register_kernel("ot_newton_cg", "numpy")
def ot_newton_cg(indptr, indices, data, r, c, ga, gb, rtol, maxiter):
    """Preconditioned CG for the sparsified Newton system (see the module docstring)."""
    return _pcg(array_namespace(r, c, ga, gb),
                lambda pa, pb: _matvec(indptr, indices, data, r, c, pa, pb),
                lambda u, v: u @ v, r, c, ga, gb, rtol, maxiter)


def _pcg(xp, matvec, dot, r, c, ga, gb, rtol, maxiter):
    """Jacobi-preconditioned CG on ``[[diag(r), S], [S^T, diag(c)]] d = g`` (any namespace):
    ``matvec(pa, pb)`` applies the matrix, ``dot`` is the inner product. The host reads
    two scalars per iteration (the residual test and the curvature check)."""
    da = xp.zeros_like(ga)
    db = xp.zeros_like(gb)
    ra, rb = ga, gb
    inv_r = 1.0 / r
    inv_c = 1.0 / c
    pa, pb = ra * inv_r, rb * inv_c
    rz = dot(ra, pa) + dot(rb, pb)
    target = rtol * xp.sqrt(dot(ga, ga) + dot(gb, gb))
    it = 0
    while it < maxiter:
        if bool(xp.sqrt(dot(ra, ra) + dot(rb, rb)) <= target):
            break
        qa, qb = matvec(pa, pb)
        pq = dot(pa, qa) + dot(pb, qb)
        if not bool(pq > 0.0):
            break
        alpha = rz / pq
        da = da + alpha * pa
        db = db + alpha * pb
        ra = ra - alpha * qa
        rb = rb - alpha * qb
        za, zb = ra * inv_r, rb * inv_c
        rz_new = dot(ra, za) + dot(rb, zb)
        beta = rz_new / rz
        rz = rz_new
        pa = za + beta * pa
        pb = zb + beta * pb
        it += 1
    return da, db, it


@register_kernel("ot_newton_cg_masked", "numpy", array_api=True)
def ot_newton_cg_masked(S, r, c, ga, gb, rtol, maxiter):
    """:func:`ot_newton_cg` with the sparsified plan as a dense masked matrix ``S``.

    Namespace-generic: the products ``S @ x`` and ``S.T @ y`` are dense (device) matrix
    products; the host reads two scalars per iteration (the residual test and the
    curvature check), never an array.
    """
    xp = array_namespace(S, r, c, ga, gb)
    return _pcg(xp, lambda pa, pb: (r * pa + S @ pb, c * pb + S.T @ pa),
                lambda u, v: xp.sum(u * v), r, c, ga, gb, rtol, maxiter)
