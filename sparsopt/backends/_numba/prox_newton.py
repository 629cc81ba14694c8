"""Numba kernels: Proximal Newton for the sparse logistic and multinomial models.

Each kernel runs weighted coordinate-descent epochs on the quadratic model of one
proximal Newton step, restricted to a working set (the columns of the matrix it is
given), and mirrors the NumPy reference of the same op in ``_numpy/prox_newton.py``
(same iterates, same order of updates). Float64 only: the solver computes in float64.

The penalty arrives as a :class:`~sparsopt.penalties.PenaltySpec` (``kind``, ``params``,
``lower``, ``upper``): the coordinate step is ``prox_apply_clip(kind, w_j - g_j / L_j,
consts_j, lower, upper)`` with ``consts_j = prox_consts(kind, params, 1 / L_j, a_j)``.
``L_j`` is the coordinate curvature of the Newton model, raised to
:func:`pn_curvature_floor` where a non-convex prox needs a step condition (MCP: ``1 / L <
gamma``, SCAD: ``1 / L < gamma - 1``, CEL0: ``a_j^2 / L < 1``): a larger curvature is a
majorant of the model on that coordinate, so each step still decreases the model.
The multinomial kernels also take the row-wise group penalty ``params[0] * ||W_j||_2``
(``group=True``: one block step per row, under the orthant box ``[lower, upper]``).
"""

import numpy as np
from numba import njit

from .._kinds import KIND_CEL0, KIND_L1, KIND_MCP, KIND_SCAD
from .._registry import register_kernel
from .prox import N_CONSTS, clip, l1_apply, prox_apply, prox_apply_clip, prox_consts

_opts = dict(cache=True, nogil=True)

#: the curvature floor of a non-convex prox is this factor above its step condition
FLOOR_MARGIN = 1.05


@njit(**_opts)
def pn_curvature_floor(kind, p, aj):
    """Smallest coordinate curvature ``L`` for which the prox of ``pen / L`` is well posed.

    Zero for the convex kinds and for the non-convex kinds whose prox is a global
    minimiser at any step (l0, lq, log); ``FLOOR_MARGIN`` times the step condition
    otherwise.
    """
    if kind == KIND_MCP:
        return FLOOR_MARGIN / p[1]
    if kind == KIND_SCAD:
        return FLOOR_MARGIN / (p[1] - 1.0)
    if kind == KIND_CEL0:
        return FLOOR_MARGIN * aj * aj
    return 0.0


@njit(**_opts)
def _coord_consts(kind, p, avec, lips, cst):
    """Raise ``lips`` to the floors and fill ``cst[j]`` with the prox constants at ``1/L_j``."""
    for j in range(lips.shape[0]):
        floor = pn_curvature_floor(kind, p, avec[j])
        if lips[j] > 0.0 and lips[j] < floor:
            lips[j] = floor
        if lips[j] > 0.0:
            prox_consts(kind, p, 1.0 / lips[j], avec[j], cst[j])


@njit(**_opts)
def _coord_prox(kind, t, cst, j, lower, upper):
    """``prox_apply_clip(kind, t, cst[j], lower, upper)``, with a fast path for l1 (the
    default penalty): no row view of the constants per coordinate step, which costs as much
    as the step itself on sparse columns. Same arithmetic as the generic path."""
    if kind == KIND_L1:
        v = l1_apply(t, cst[j, 0])
    else:
        v = prox_apply(kind, t, cst[j])
    if v < lower:
        return lower
    if v > upper:
        return upper
    return v


@register_kernel("pn_xt_dot", "numba")
@njit(**_opts)
def pn_xt_dot(XT, RT, out):
    # single-threaded dot products of contiguous rows: on a few shared cores this beats a
    # multi-threaded BLAS gemv by 3-5x for the gradients X^T R of the solver
    p = XT.shape[0]
    K = RT.shape[0]
    for j in range(p):
        xj = XT[j]
        for k in range(K):
            out[j, k] = np.dot(xj, RT[k])
    return out


@njit(inline="always", **_opts)
def _bin_dense_pass(XT, h, grad, w, kind, cst, lower, upper, lips, d, Xd, v, fit_intercept,
                    l_int, grad_int, all_coords, soft):
    """One CD pass (all coordinates, or only the non-zero ones) plus the intercept step;
    ``soft`` (a literal at each call site): the l1 soft threshold inline."""
    m, n = XT.shape
    crit = 0.0
    for j in range(m):
        L = lips[j]
        if L <= 0.0:
            continue
        old = w[j] + d[j]
        if not all_coords and old == 0.0:
            continue
        xj = XT[j]
        g = grad[j] + np.dot(xj, v)
        if soft:
            new = clip(l1_apply(old - g / L, cst[j, 0]), lower, upper)
        else:
            new = _coord_prox(kind, old - g / L, cst, j, lower, upper)
        delta = new - old
        if delta != 0.0:
            d[j] = new - w[j]
            for i in range(n):
                Xd[i] += delta * xj[i]
                v[i] += delta * xj[i] * h[i]
            a = abs(delta) * L
            if a > crit:
                crit = a
    if fit_intercept and l_int > 0.0:
        g = grad_int
        for i in range(n):
            g += v[i]
        delta = -g / l_int
        d[m] += delta
        for i in range(n):
            Xd[i] += delta
            v[i] += delta * h[i]
        if abs(g) > crit:
            crit = abs(g)
    return crit


@njit(**_opts)
def _dense_pass(XT, h, grad, w, kind, cst, lower, upper, lips, d, Xd, v, fit_intercept, l_int,
                grad_int, all_coords):
    # the pass is inlined twice: the l1 copy (the default penalty) has no prox dispatch in
    # its innermost loop, which cost ~25% of the kernel time on sparse columns
    if kind == KIND_L1:
        return _bin_dense_pass(XT, h, grad, w, kind, cst, lower, upper, lips, d, Xd, v,
                               fit_intercept, l_int, grad_int, all_coords, True)
    return _bin_dense_pass(XT, h, grad, w, kind, cst, lower, upper, lips, d, Xd, v,
                           fit_intercept, l_int, grad_int, all_coords, False)


@register_kernel("pn_cd_binary_dense", "numba")
@njit(**_opts)
def pn_cd_binary_dense(XT, h, grad, w, kind, params, lower, upper, avec, fit_intercept,
                       grad_int, max_epochs, tol, d, Xd):
    # XT is the transposed (m, n) matrix: rows are the working-set columns, contiguous, so
    # that the coordinate gradients are BLAS dot products with v = h * Xd (kept up to date)
    m, n = XT.shape
    v = np.zeros(n)
    for i in range(n):
        Xd[i] = 0.0
    for j in range(m + 1):
        d[j] = 0.0
    lips = np.zeros(m)
    for j in range(m):
        s = 0.0
        for i in range(n):
            s += h[i] * XT[j, i] * XT[j, i]
        lips[j] = s
    cst = np.zeros((m, N_CONSTS))
    _coord_consts(kind, params, avec, lips, cst)
    l_int = 0.0
    for i in range(n):
        l_int += h[i]
    crit = np.inf
    ep = 0
    while ep < max_epochs:
        ep += 1
        crit = _dense_pass(XT, h, grad, w, kind, cst, lower, upper, lips, d, Xd, v,
                           fit_intercept, l_int, grad_int, True)
        if crit <= tol:
            break
        while ep < max_epochs:  # passes over the non-zero coordinates until they settle
            ep += 1
            if _dense_pass(XT, h, grad, w, kind, cst, lower, upper, lips, d, Xd, v,
                           fit_intercept, l_int, grad_int, False) <= tol:
                break
    return ep, crit


@njit(inline="always", **_opts)
def _bin_csc_pass(data, indices, indptr, h, grad, w, kind, cst, lower, upper, lips, d, Xd,
                  fit_intercept, l_int, grad_int, all_coords, soft):
    """One CD pass (all coordinates, or only the non-zero ones) plus the intercept step;
    ``soft`` (a literal at each call site): the l1 soft threshold inline."""
    n = h.size
    m = indptr.size - 1
    crit = 0.0
    for j in range(m):
        L = lips[j]
        if L <= 0.0:
            continue
        old = w[j] + d[j]
        if not all_coords and old == 0.0:
            continue
        g = grad[j]
        for q in range(indptr[j], indptr[j + 1]):
            i = indices[q]
            g += data[q] * h[i] * Xd[i]
        if soft:
            new = clip(l1_apply(old - g / L, cst[j, 0]), lower, upper)
        else:
            new = _coord_prox(kind, old - g / L, cst, j, lower, upper)
        delta = new - old
        if delta != 0.0:
            d[j] = new - w[j]
            for q in range(indptr[j], indptr[j + 1]):
                Xd[indices[q]] += delta * data[q]
            a = abs(delta) * L
            if a > crit:
                crit = a
    if fit_intercept and l_int > 0.0:
        g = grad_int
        for i in range(n):
            g += h[i] * Xd[i]
        delta = -g / l_int
        d[m] += delta
        for i in range(n):
            Xd[i] += delta
        if abs(g) > crit:
            crit = abs(g)
    return crit


@njit(**_opts)
def _csc_pass(data, indices, indptr, h, grad, w, kind, cst, lower, upper, lips, d, Xd,
              fit_intercept, l_int, grad_int, all_coords):
    # the pass is inlined twice, as _dense_pass
    if kind == KIND_L1:
        return _bin_csc_pass(data, indices, indptr, h, grad, w, kind, cst, lower, upper, lips,
                             d, Xd, fit_intercept, l_int, grad_int, all_coords, True)
    return _bin_csc_pass(data, indices, indptr, h, grad, w, kind, cst, lower, upper, lips, d,
                         Xd, fit_intercept, l_int, grad_int, all_coords, False)


@register_kernel("pn_cd_binary_csc", "numba")
@njit(**_opts)
def pn_cd_binary_csc(data, indices, indptr, h, grad, w, kind, params, lower, upper, avec,
                     fit_intercept, grad_int, max_epochs, tol, d, Xd):
    n = h.size
    m = indptr.size - 1
    for i in range(n):
        Xd[i] = 0.0
    for j in range(m + 1):
        d[j] = 0.0
    lips = np.zeros(m)
    for j in range(m):
        s = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            s += h[indices[q]] * data[q] * data[q]
        lips[j] = s
    cst = np.zeros((m, N_CONSTS))
    _coord_consts(kind, params, avec, lips, cst)
    l_int = 0.0
    for i in range(n):
        l_int += h[i]
    crit = np.inf
    ep = 0
    while ep < max_epochs:
        ep += 1
        crit = _csc_pass(data, indices, indptr, h, grad, w, kind, cst, lower, upper, lips,
                         d, Xd, fit_intercept, l_int, grad_int, True)
        if crit <= tol:
            break
        while ep < max_epochs:  # passes over the non-zero coordinates until they settle
            ep += 1
            if _csc_pass(data, indices, indptr, h, grad, w, kind, cst, lower, upper, lips,
                         d, Xd, fit_intercept, l_int, grad_int, False) <= tol:
                break
    return ep, crit


@njit(**_opts)
def _multi_setup(P, sw, group, D, M, s):
    """Zero the outputs; ``Q = sw * P``, per-sample curvatures ``c`` (for the group bound)."""
    n, K = P.shape
    Q = np.empty((n, K))
    c = np.empty(n)
    for i in range(n):
        s[i] = 0.0
        pmax = 0.0
        vmax = 0.0
        for k in range(K):
            M[i, k] = 0.0
            Q[i, k] = sw[i] * P[i, k]
            if P[i, k] > pmax:
                pmax = P[i, k]
            v = 2.0 * P[i, k] * (1.0 - P[i, k])
            if v > vmax:
                vmax = v
        c[i] = sw[i] * min(pmax, vmax)
    for j in range(D.shape[0]):
        for k in range(K):
            D[j, k] = 0.0
    return Q, c


@njit(**_opts)
def _multi_consts(kind, params, avec, lips, group):
    """Prox constants per entry ``(j, k)`` (none for the group penalty)."""
    m, K = lips.shape
    cst = np.zeros((m * K, N_CONSTS))
    if not group:
        a = np.empty(m * K)
        for j in range(m):
            for k in range(K):
                a[j * K + k] = avec[j]
        _coord_consts(kind, params, a, lips.reshape(m * K), cst)
    return cst


@njit(**_opts)
def _multi_intercept(P, sw, Q, G_int, D, M, s, m):
    """Exact coordinate steps on the (unpenalised) intercepts; returns the largest |gradient|."""
    n, K = P.shape
    crit = 0.0
    for k in range(K):
        L = 0.0
        g = G_int[k]
        for i in range(n):
            L += sw[i] * P[i, k] * (1.0 - P[i, k])
            g += Q[i, k] * (M[i, k] - s[i])
        if L <= 0.0:
            continue
        delta = -g / L
        D[m, k] += delta
        for i in range(n):
            M[i, k] += delta
            s[i] += delta * P[i, k]
        if abs(g) > crit:
            crit = abs(g)
    return crit


@njit(**_opts)
def _group_step(W, D, j, gvec, u, L, alpha, lower, upper):
    """Block soft-threshold of row ``j`` at step ``1/L``: ``u`` <- the new point,
    ``gvec`` <- the change of ``W[j] + D[j]``; returns its squared norm (shared by the dense
    and CSC kernels). The point is first clipped to the orthant box ``[lower, upper]``
    (exactly the prox of the row norm plus the indicator of an orthant). The caller sets
    ``D[j] = u - W[j]`` (not ``D[j] += gvec``, whose rounding could leave ``W + D`` a few
    ulp outside the box), as the coordinate steps do."""
    K = W.shape[1]
    nrm = 0.0
    for k in range(K):
        u[k] = min(max(W[j, k] + D[j, k] - gvec[k] / L, lower), upper)
        nrm += u[k] * u[k]
    nrm = np.sqrt(nrm)
    scale = 0.0
    if nrm > alpha / L:
        scale = 1.0 - (alpha / L) / nrm
    change = 0.0
    for k in range(K):
        u[k] = scale * u[k]
        delta = u[k] - (W[j, k] + D[j, k])
        gvec[k] = delta
        change += delta * delta
    return change


@register_kernel("pn_cd_multi_dense", "numba")
@njit(**_opts)
def pn_cd_multi_dense(X, P, sw, G, W, kind, params, lower, upper, avec, group, fit_intercept,
                      G_int, max_epochs, tol, D, M, s):
    n, m = X.shape
    K = P.shape[1]
    Q, c = _multi_setup(P, sw, group, D, M, s)
    lips = np.zeros((m, K))
    for j in range(m):
        if group:
            acc = 0.0
            for i in range(n):
                acc += X[i, j] * X[i, j] * c[i]
            for k in range(K):
                lips[j, k] = acc
        else:
            for k in range(K):
                acc = 0.0
                for i in range(n):
                    acc += X[i, j] * X[i, j] * sw[i] * P[i, k] * (1.0 - P[i, k])
                lips[j, k] = acc
    cst = _multi_consts(kind, params, avec, lips, group)
    alpha = params[0]
    gvec = np.empty(K)
    u = np.empty(K)
    crit = np.inf
    ep = 0
    for ep in range(1, max_epochs + 1):  # noqa: B007 (read after the loop)
        crit = 0.0
        for j in range(m):
            if group:
                L = lips[j, 0]
                if L <= 0.0:
                    continue
                for k in range(K):
                    g = G[j, k]
                    for i in range(n):
                        g += X[i, j] * Q[i, k] * (M[i, k] - s[i])
                    gvec[k] = g
                change = _group_step(W, D, j, gvec, u, L, alpha, lower, upper)
                if change > 0.0:
                    for k in range(K):
                        D[j, k] = u[k] - W[j, k]
                    for i in range(n):
                        xij = X[i, j]
                        if xij != 0.0:
                            acc = 0.0
                            for k in range(K):
                                M[i, k] += gvec[k] * xij
                                acc += gvec[k] * P[i, k]
                            s[i] += acc * xij
                    v = np.sqrt(change) * L
                    if v > crit:
                        crit = v
            else:
                for k in range(K):
                    L = lips[j, k]
                    if L <= 0.0:
                        continue
                    g = G[j, k]
                    for i in range(n):
                        g += X[i, j] * Q[i, k] * (M[i, k] - s[i])
                    old = W[j, k] + D[j, k]
                    new = _coord_prox(kind, old - g / L, cst, j * K + k, lower, upper)
                    delta = new - old
                    if delta != 0.0:
                        D[j, k] = new - W[j, k]
                        for i in range(n):
                            M[i, k] += delta * X[i, j]
                            s[i] += delta * X[i, j] * P[i, k]
                        v = abs(delta) * L
                        if v > crit:
                            crit = v
        if fit_intercept:
            v = _multi_intercept(P, sw, Q, G_int, D, M, s, m)
            if v > crit:
                crit = v
        if crit <= tol:
            break
    return ep, crit


@register_kernel("pn_cd_multi_csc", "numba")
@njit(**_opts)
def pn_cd_multi_csc(data, indices, indptr, P, sw, G, W, kind, params, lower, upper, avec, group,
                    fit_intercept, G_int, max_epochs, tol, D, M, s):
    K = P.shape[1]
    m = indptr.size - 1
    Q, c = _multi_setup(P, sw, group, D, M, s)
    lips = np.zeros((m, K))
    for j in range(m):
        if group:
            acc = 0.0
            for q in range(indptr[j], indptr[j + 1]):
                acc += data[q] * data[q] * c[indices[q]]
            for k in range(K):
                lips[j, k] = acc
        else:
            for k in range(K):
                acc = 0.0
                for q in range(indptr[j], indptr[j + 1]):
                    i = indices[q]
                    acc += data[q] * data[q] * sw[i] * P[i, k] * (1.0 - P[i, k])
                lips[j, k] = acc
    cst = _multi_consts(kind, params, avec, lips, group)
    alpha = params[0]
    gvec = np.empty(K)
    u = np.empty(K)
    crit = np.inf
    ep = 0
    for ep in range(1, max_epochs + 1):  # noqa: B007 (read after the loop)
        crit = 0.0
        for j in range(m):
            if group:
                L = lips[j, 0]
                if L <= 0.0:
                    continue
                for k in range(K):
                    g = G[j, k]
                    for q in range(indptr[j], indptr[j + 1]):
                        i = indices[q]
                        g += data[q] * Q[i, k] * (M[i, k] - s[i])
                    gvec[k] = g
                change = _group_step(W, D, j, gvec, u, L, alpha, lower, upper)
                if change > 0.0:
                    for k in range(K):
                        D[j, k] = u[k] - W[j, k]
                    for q in range(indptr[j], indptr[j + 1]):
                        i = indices[q]
                        xij = data[q]
                        acc = 0.0
                        for k in range(K):
                            M[i, k] += gvec[k] * xij
                            acc += gvec[k] * P[i, k]
                        s[i] += acc * xij
                    v = np.sqrt(change) * L
                    if v > crit:
                        crit = v
            else:
                for k in range(K):
                    L = lips[j, k]
                    if L <= 0.0:
                        continue
                    g = G[j, k]
                    for q in range(indptr[j], indptr[j + 1]):
                        i = indices[q]
                        g += data[q] * Q[i, k] * (M[i, k] - s[i])
                    old = W[j, k] + D[j, k]
                    new = _coord_prox(kind, old - g / L, cst, j * K + k, lower, upper)
                    delta = new - old
                    if delta != 0.0:
                        D[j, k] = new - W[j, k]
                        for q in range(indptr[j], indptr[j + 1]):
                            i = indices[q]
                            M[i, k] += delta * data[q]
                            s[i] += delta * data[q] * P[i, k]
                        v = abs(delta) * L
                        if v > crit:
                            crit = v
        if fit_intercept:
            v = _multi_intercept(P, sw, Q, G_int, D, M, s, m)
            if v > crit:
                crit = v
        if crit <= tol:
            break
    return ep, crit


@register_kernel("pn_fixpoint", "numba")
@njit(**_opts)
def pn_fixpoint(kind, params, lower, upper, avec, W, G, L, out):
    # fixed-point violation L_i |w_i - prox_{pen / L_i}(w_i - g_i / L_i)| per entry (flat
    # arrays), L_i raised to the curvature floor; zero where L_i = 0 (an empty column)
    cst = np.zeros(N_CONSTS)
    for i in range(W.size):
        Li = L[i]
        if Li <= 0.0:
            out[i] = 0.0
            continue
        floor = pn_curvature_floor(kind, params, avec[i])
        if Li < floor:
            Li = floor
        prox_consts(kind, params, 1.0 / Li, avec[i], cst)
        out[i] = Li * abs(W[i] - prox_apply_clip(kind, W[i] - G[i] / Li, cst, lower, upper))
    return out
