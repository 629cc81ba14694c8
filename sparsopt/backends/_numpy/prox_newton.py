"""NumPy references: Proximal Newton for the sparse logistic and multinomial models.

Each op runs coordinate-descent epochs on the quadratic model of one proximal Newton
step of a penalised GLM, restricted to a working set: the columns of the matrix it is
given (dense, or CSC as ``data, indices, indptr``). The sparse references densify the
matrix and call the dense ones (same arithmetic up to the order of the sums).

Binary model (``pn_cd_binary_*``): minimise over the direction ``d`` (the last entry
is the intercept's)::

    grad^T d_w + grad_int d_int + 1/2 sum_i h_i (X d_w + d_int)_i^2 + pen(w + d_w)

Multinomial model (``pn_cd_multi_*``, ``P`` the class probabilities, ``sw`` the
normalised sample weights, ``M = X D_w + 1 d_int``)::

    <G, D_w> + <G_int, d_int> + 1/2 sum_i sw_i M_i^T (diag(P_i) - P_i P_i^T) M_i
        + pen(W + D_w),

``pen`` a separable penalty (coordinate steps) or the sum of the row l2 norms (one
block step per row with the bound ``sum_i sw_i X_ij^2 min(max_k P_ik, 2 max_k
P_ik (1 - P_ik))`` on the row's Hessian). The intercepts take exact coordinate steps.

The separable penalty is a :class:`~sparsopt.penalties.PenaltySpec` (``kind``, ``params``,
``lower``, ``upper``; ``avec`` the per-column CEL0 constants): the coordinate step is the
prox of ``pen / L_j`` at ``w_j - g_j / L_j`` clipped to ``[lower, upper]``, with ``L_j``
raised to the curvature floor of a non-convex prox (:func:`pn_curvature_floor`). The
group penalty (``group=True``, multinomial) is ``params[0] * sum_j ||W_j||_2``; its block
step shrinks the row clipped to the orthant box ``[lower, upper]``, which is exactly the
prox of the row norm plus the indicator of the orthant. The intercepts stay
unconstrained.

``pn_cd_binary_dense`` takes the transposed matrix ``XT`` of shape ``(m, n_samples)``
(C-contiguous rows), the other dense op ``X`` of shape ``(n_samples, m)``. Every op writes
the direction into ``d``/``D`` and ``X d`` into ``Xd``/``M`` (``s``
receives ``sum_k P_ik M_ik``) and returns ``(epochs, crit)``: it stops after the
first epoch whose largest scaled change ``L_j |delta_j|`` (and intercept gradient)
is ``<= tol``.
"""

import numpy as np

from .. import _kinds as K
from .._registry import register_kernel
from . import prox as _prox

#: same margin as the Numba kernels
FLOOR_MARGIN = 1.05


def pn_curvature_floor(kind, p, aj):
    """Reference of the Numba ``pn_curvature_floor``: the smallest coordinate curvature
    for which the prox of ``pen / L`` is well posed (zero where any step is)."""
    if kind == K.KIND_MCP:
        return FLOOR_MARGIN / p[1]
    if kind == K.KIND_SCAD:
        return FLOOR_MARGIN / (p[1] - 1.0)
    if kind == K.KIND_CEL0:
        return FLOOR_MARGIN * aj * aj
    return 0.0


def prox_clip(kind, p, step, aj, t, lower, upper):
    """Reference scalar prox of ``step * pen`` at ``t`` (penalty ``(kind, p)``), clipped to
    ``[lower, upper]`` (the Numba ``prox_apply_clip`` with ``prox_consts``)."""
    return float(min(max(_prox.prox_scalar(kind, p, step, aj, t), lower), upper))


def _floored(kind, p, avec, lips):
    """``lips`` raised to the curvature floors (a copy)."""
    lips = np.array(lips, dtype=np.float64)
    for j in range(lips.shape[0]):
        floor = pn_curvature_floor(kind, p, avec[j])
        if 0.0 < lips[j] < floor:
            lips[j] = floor
    return lips


@register_kernel("pn_xt_dot", "numpy")
def pn_xt_dot(XT, RT, out):
    """``out = XT @ RT.T``: ``XT`` of shape ``(p, n)``, ``RT`` of shape ``(K, n)``, ``out``
    of shape ``(p, K)`` (the gradients ``X^T R`` of the solver, from transposed inputs)."""
    out[:] = XT @ RT.T
    return out


def _bin_pass(XT, h, grad, w, spec, lips, d, Xd, fit_intercept, l_int, grad_int,
              all_coords):
    kind, params, lower, upper, avec = spec
    m = XT.shape[0]
    crit = 0.0
    for j in range(m):
        L = lips[j]
        if L <= 0.0:
            continue
        old = w[j] + d[j]
        if not all_coords and old == 0.0:
            continue
        g = grad[j] + XT[j] @ (h * Xd)
        new = prox_clip(kind, params, 1.0 / L, avec[j], old - g / L, lower, upper)
        delta = new - old
        if delta != 0.0:
            d[j] = new - w[j]
            Xd += delta * XT[j]
            crit = max(crit, abs(delta) * L)
    if fit_intercept and l_int > 0.0:
        g = grad_int + h @ Xd
        delta = -g / l_int
        d[m] += delta
        Xd += delta
        crit = max(crit, abs(g))
    return crit


@register_kernel("pn_cd_binary_dense", "numpy")
def pn_cd_binary_dense(XT, h, grad, w, kind, params, lower, upper, avec, fit_intercept,
                       grad_int, max_epochs, tol, d, Xd):
    """Weighted CD epochs on the binary quadratic model (see the module docstring).

    ``XT`` is the transposed matrix, of shape ``(m, n_samples)``: one row per column of
    the working set. After each full pass that does not meet ``tol``, passes over the
    non-zero coordinates only follow until they meet it (each counts as an epoch); the
    returned criterion is that of the last full pass.
    """
    m, n = XT.shape
    Xd[:] = 0.0
    d[:] = 0.0
    lips = _floored(kind, params, avec, (XT * XT) @ h if m else np.zeros(0))
    l_int = float(h.sum())
    spec = (kind, params, lower, upper, avec)
    args = (XT, h, grad, w, spec, lips, d, Xd, fit_intercept, l_int, grad_int)
    crit = np.inf
    ep = 0
    while ep < max_epochs:
        ep += 1
        crit = _bin_pass(*args, True)
        if crit <= tol:
            break
        while ep < max_epochs:
            ep += 1
            if _bin_pass(*args, False) <= tol:
                break
    return ep, crit


def _dense(data, indices, indptr, n):
    from scipy.sparse import csc_matrix

    return csc_matrix((data, indices, indptr), shape=(n, indptr.size - 1)).toarray()


@register_kernel("pn_cd_binary_csc", "numpy")
def pn_cd_binary_csc(data, indices, indptr, h, grad, w, kind, params, lower, upper, avec,
                     fit_intercept, grad_int, max_epochs, tol, d, Xd):
    """``pn_cd_binary_dense`` on a CSC matrix ``(data, indices, indptr)``."""
    X = _dense(data, indices, indptr, h.size)
    return pn_cd_binary_dense(np.ascontiguousarray(X.T), h, grad, w, kind, params, lower, upper,
                              avec, fit_intercept, grad_int, max_epochs, tol, d, Xd)


@register_kernel("pn_cd_multi_dense", "numpy")
def pn_cd_multi_dense(X, P, sw, G, W, kind, params, lower, upper, avec, group, fit_intercept,
                      G_int, max_epochs, tol, D, M, s):
    """CD epochs on the multinomial quadratic model (see the module docstring)."""
    n, m = X.shape
    K = P.shape[1]
    D[:] = 0.0
    M[:] = 0.0
    s[:] = 0.0
    Q = sw[:, None] * P
    c = sw * np.minimum(P.max(axis=1), (2.0 * P * (1.0 - P)).max(axis=1))
    X2 = X * X
    if group:
        lips = np.repeat((X2.T @ c)[:, None], K, axis=1)
    else:
        lips = X2.T @ (sw[:, None] * P * (1.0 - P))
        lips = _floored(kind, params, np.repeat(avec, K), lips.reshape(-1)).reshape(m, K)
    alpha = params[0]
    crit = np.inf
    ep = 0
    for ep in range(1, max_epochs + 1):  # noqa: B007 (read after the loop)
        crit = 0.0
        for j in range(m):
            xj = X[:, j]
            if group:
                L = lips[j, 0]
                if L <= 0.0:
                    continue
                gvec = G[j] + xj @ (Q * (M - s[:, None]))
                u = np.clip(W[j] + D[j] - gvec / L, lower, upper)
                nrm = np.sqrt(u @ u)
                scale = 1.0 - (alpha / L) / nrm if nrm > alpha / L else 0.0
                new = scale * u
                delta = new - (W[j] + D[j])
                change = float(delta @ delta)
                if change > 0.0:
                    D[j] = new - W[j]   # not += delta: W + D stays in the box exactly
                    M += np.outer(xj, delta)
                    s += xj * (P @ delta)
                    crit = max(crit, np.sqrt(change) * L)
            else:
                for k in range(K):
                    L = lips[j, k]
                    if L <= 0.0:
                        continue
                    g = G[j, k] + xj @ (Q[:, k] * (M[:, k] - s))
                    old = W[j, k] + D[j, k]
                    new = prox_clip(kind, params, 1.0 / L, avec[j], old - g / L, lower, upper)
                    delta = new - old
                    if delta != 0.0:
                        D[j, k] = new - W[j, k]
                        M[:, k] += delta * xj
                        s += delta * xj * P[:, k]
                        crit = max(crit, abs(delta) * L)
        if fit_intercept:
            for k in range(K):
                L = float(sw @ (P[:, k] * (1.0 - P[:, k])))
                g = G_int[k] + Q[:, k] @ (M[:, k] - s)
                if L <= 0.0:
                    continue
                delta = -g / L
                D[m, k] += delta
                M[:, k] += delta
                s += delta * P[:, k]
                crit = max(crit, abs(g))
        if crit <= tol:
            break
    return ep, crit


@register_kernel("pn_cd_multi_csc", "numpy")
def pn_cd_multi_csc(data, indices, indptr, P, sw, G, W, kind, params, lower, upper, avec, group,
                    fit_intercept, G_int, max_epochs, tol, D, M, s):
    """``pn_cd_multi_dense`` on a CSC matrix ``(data, indices, indptr)``."""
    X = _dense(data, indices, indptr, P.shape[0])
    return pn_cd_multi_dense(X, P, sw, G, W, kind, params, lower, upper, avec, group,
                             fit_intercept, G_int, max_epochs, tol, D, M, s)


@register_kernel("pn_fixpoint", "numpy")
def pn_fixpoint(kind, params, lower, upper, avec, W, G, L, out):
    """Fixed-point violation ``L_i |w_i - prox_{pen / L_i}(w_i - g_i / L_i)|`` per entry.

    Flat arrays; ``L_i`` is raised to :func:`pn_curvature_floor`; zero where ``L_i = 0``.
    The working-set scores of the solver where the subdifferential has no closed form
    (CEL0, generic lq) and its GS-r ranking.
    """
    for i in range(W.size):
        Li = float(L[i])
        if Li <= 0.0:
            out[i] = 0.0
            continue
        Li = max(Li, pn_curvature_floor(kind, params, avec[i]))
        new = prox_clip(kind, params, 1.0 / Li, avec[i], W[i] - G[i] / Li, lower, upper)
        out[i] = Li * abs(W[i] - new)
    return out
