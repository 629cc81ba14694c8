"""Numba kernels:
Working-set coordinate descent for squared loss + any separable penalty.

Both kernels run the *inner* solver of
:func:`sparsopt.solvers.glm.working_set_cd.working_set_cd`: cyclic proximal coordinate-descent
epochs restricted to a working set, with Anderson acceleration of the iterates (accepted only
when the objective decreases) and a stopping test on the working set every 10 epochs. They
mirror :mod:`sparsopt.backends._numpy.glm_cd` (the reference) operation by operation.

The penalty arrives as its :class:`~sparsopt.penalties.PenaltySpec` (``kind``, ``params``,
``lower``, ``upper``). Objective of the working-set problem::

    1/(2n) ||R||^2 + sum_j pen(w_j)        (w_j in [lower, upper])

with ``R = y - X w`` kept up to date in place. The coordinate update is the exact
minimisation in ``w_j`` of the objective's quadratic model (exact for a squared loss)::

    w_j <- prox_apply_clip(kind, w_j + g_j / L_j, consts_j, lower, upper)

(:func:`prox_clip`, the same function inlined)
with ``g_j = X_j^T R / n``, ``L_j = ||X_j||^2 / n`` and the prox constants ``consts_j`` of the
step ``1 / L_j``, computed once per call (once per working set). For CEL0 the column norm is
``a_j = ||X_j|| / sqrt(n) = sqrt(L_j)`` (the exact-relaxation weight under the mean datafit):
then ``a_j^2 / L_j = 1`` and the firm threshold degenerates to the hard threshold at
``sqrt(2 alpha) / a_j`` (its limit), which :func:`ws_consts` sets directly.

The stopping test runs every 10 epochs: at epochs 10, 20, ... (``check_offset = 0``) or 1,
11, 21, ... (``check_offset = 1``, skglm's schedule: a working set whose first epoch already
reaches the inner tolerance is left at once, which for non-convex penalties lets the outer
loop steer the iterates to better stationary points). Stopping test ``crit_mode``: 0, the
distance of ``g`` to the subdifferential (``prox.subdiff_distance``; the fixed-point violation
``|w_j - prox(w_j + g_j/L_j)| L_j`` where it has no closed form, or where it is 0 at
``w_j = 0``); 1, the fixed-point violation everywhere.
"""

import math

import numpy as np
from numba import njit

from .._kinds import (
    KIND_CEL0,
    KIND_ELASTICNET,
    KIND_L0,
    KIND_L1,
    KIND_LHALF,
    KIND_LOG,
    KIND_LQ,
    KIND_LTWOTHIRDS,
    KIND_MCP,
    KIND_SCAD,
)
from .._registry import register_kernel
from . import prox as _prox
from .prox import N_CONSTS

_opts = dict(cache=True, nogil=True)
# the per-coordinate helpers take arrays (params, prox constants): inlined at the Numba IR level,
# else every call pays reference counting on its array arguments (~10x the cost of an update)

#: epochs between two inner stopping tests
CHECK_EVERY = 10
#: an extrapolation whose weights have an l1 norm above this is not tried
MAX_WEIGHT = 1e3


# prox.py's scalar dispatchers, compiled again from the same Python functions with
# inline="always": a call to the cached originals with array arguments (the parameters, the
# prox constants) costs several times a coordinate update; inlined, it costs nothing.
_prox_apply = njit(inline="always")(_prox.prox_apply.py_func)
_prox_consts = njit(inline="always")(_prox.prox_consts.py_func)
_subdiff_distance = njit(inline="always")(_prox.subdiff_distance.py_func)
_clip = njit(inline="always")(_prox.clip.py_func)
_l1_apply = njit(inline="always")(_prox.l1_apply.py_func)
_mcp_apply = njit(inline="always")(_prox.mcp_apply.py_func)
_scad_apply = njit(inline="always")(_prox.scad_apply.py_func)


@njit(inline="always", **_opts)
def prox_clip(kind, t, c, lower, upper):
    """``prox.prox_apply_clip(kind, t, c, lower, upper)``, inlined (the same formulas)."""
    return _clip(_prox_apply(kind, t, c), lower, upper)


@njit(inline="always", **_opts)
def ws_consts(kind, p, lcj, c):
    """Prox constants of the coordinate step ``1 / lcj`` (``lcj > 0``) into ``c``."""
    if kind == KIND_CEL0:
        # a_j = sqrt(lcj): a_j^2 * step = 1, the limit of firm thresholding is the hard
        # threshold at sqrt(2 alpha) / a_j (cel0_consts would divide by 1 - 1 = 0)
        c[:] = 0.0
        c[0] = math.sqrt(2.0 * p[0] / lcj)
        c[1] = math.inf
    else:
        _prox_consts(kind, p, 1.0 / lcj, math.sqrt(lcj), c)


@njit(inline="always", **_opts)
def pen_value(kind, p, aj, w):
    """Value of the penalty of kind ``kind`` at the scalar ``w`` (CEL0 with weight ``aj``)."""
    u = abs(w)
    lam = p[0]
    if kind == KIND_L1:
        return lam * u
    if kind == KIND_ELASTICNET:
        return lam * (p[1] * u + 0.5 * (1.0 - p[1]) * u * u)
    if kind == KIND_MCP:
        g = p[1]
        return lam * u - u * u / (2.0 * g) if u <= g * lam else 0.5 * g * lam * lam
    if kind == KIND_SCAD:
        a = p[1]
        if u <= lam:
            return lam * u
        if u <= a * lam:
            return (2.0 * a * lam * u - u * u - lam * lam) / (2.0 * (a - 1.0))
        return lam * lam * (a + 1.0) / 2.0
    if kind == KIND_L0:
        return lam if u != 0.0 else 0.0
    if kind == KIND_LHALF:
        return lam * math.sqrt(u)
    if kind == KIND_LTWOTHIRDS:
        return lam * u ** (2.0 / 3.0)
    if kind == KIND_LQ:
        return lam * u ** p[1]
    if kind == KIND_LOG:
        return lam * math.log1p(u / p[1])
    if kind == KIND_CEL0:
        b = math.sqrt(2.0 * lam) / aj if aj > 0.0 else math.inf
        return aj * math.sqrt(2.0 * lam) * u - 0.5 * aj * aj * u * u if u <= b else lam
    return 0.0  # KIND_BOX: inside the box


@njit(inline="always", **_opts)
def violation(kind, p, lower, upper, wj, g, lcj, c, crit_mode):
    """Optimality violation of coordinate ``j``: subdifferential distance (``crit_mode`` 0;
    the fixed-point violation where it has no closed form or is 0 at ``w_j = 0``) or
    fixed-point violation (1).
    ``c`` holds the prox constants of the step ``1 / lcj``."""
    if crit_mode == 0:
        d = _subdiff_distance(kind, wj, g, p, lower, upper)
        # at 0 the limiting subdifferential of l0 / lq is the whole line (d = 0 always):
        # there, ask that the coordinate step leaves 0 in place (for l1, MCP, SCAD, log,
        # d = 0 at 0 already implies it)
        if d > 0.0 or (d == 0.0 and wj != 0.0):
            return d
    if lcj <= 0.0:
        return abs(wj - min(max(0.0, lower), upper))
    return abs(wj - prox_clip(kind, wj + g / lcj, c, lower, upper)) * lcj


@njit(**_opts)
def anderson_coefs(bw, K, c, M):
    """Anderson weights ``c`` (sum 1) from the ``K + 1`` iterates in the rows of ``bw``.

    Solves ``(U U^T) z = 1`` with ``U_k = bw[k+1] - bw[k]`` by Gaussian elimination with
    partial pivoting; returns False (no extrapolation) when the system is singular or the
    weights ``c = z / sum(z)`` have ``sum |c_k| > MAX_WEIGHT``.
    """
    m = bw.shape[1]
    dmax = 0.0
    for k in range(K):
        for l in range(k, K):
            s = 0.0
            for t in range(m):
                s += (bw[k + 1, t] - bw[k, t]) * (bw[l + 1, t] - bw[l, t])
            M[k, l] = s
            M[l, k] = s
        if M[k, k] > dmax:
            dmax = M[k, k]
        c[k] = 1.0
    if not dmax > 0.0 or not math.isfinite(dmax):
        return False
    for k in range(K):  # forward elimination
        piv = k
        for r in range(k + 1, K):
            if abs(M[r, k]) > abs(M[piv, k]):
                piv = r
        if abs(M[piv, k]) <= 1e-14 * dmax:
            return False
        if piv != k:
            for l in range(K):
                tmp = M[k, l]
                M[k, l] = M[piv, l]
                M[piv, l] = tmp
            tmp = c[k]
            c[k] = c[piv]
            c[piv] = tmp
        for r in range(k + 1, K):
            f = M[r, k] / M[k, k]
            if f != 0.0:
                for l in range(k, K):
                    M[r, l] -= f * M[k, l]
                c[r] -= f * c[k]
    for k in range(K - 1, -1, -1):  # back substitution
        s = c[k]
        for l in range(k + 1, K):
            s -= M[k, l] * c[l]
        c[k] = s / M[k, k]
    tot = 0.0
    for k in range(K):
        tot += c[k]
    if tot == 0.0 or not math.isfinite(tot):
        return False
    l1 = 0.0
    for k in range(K):
        c[k] /= tot
        l1 += abs(c[k])
    # huge weights amplify the rounding of the stored iterates (and break R = y - X w)
    return l1 <= MAX_WEIGHT


@njit(**_opts)
def _anderson_extrapolate(bw, br, K, cvec, M, wacc, racc, kind, p, lower, upper, aws):
    """Extrapolated coefficients ``wacc`` and residual state ``racc`` from the stored
    iterates (rows of ``bw`` / ``br``); return their penalty, or -1 when the Anderson
    weights fail or the extrapolation leaves the box ``[lower, upper]``."""
    if not anderson_coefs(bw, K, cvec, M):
        return -1.0
    pen_acc = 0.0
    for t in range(wacc.size):
        s = 0.0
        for k in range(K):
            s += cvec[k] * bw[k + 1, t]
        wacc[t] = s
        if s < lower or s > upper:
            return -1.0
        pen_acc += pen_value(kind, p, aws[t], s)
    for i in range(racc.size):
        s = 0.0
        for k in range(K):
            s += cvec[k] * br[k + 1, i]
        racc[i] = s
    return pen_acc


@njit(**_opts)
def _penalty(w, ws, kind, p, aws):
    s = 0.0
    for t in range(ws.size):
        s += pen_value(kind, p, aws[t], np.float64(w[ws[t]]))
    return s


@njit(inline="always", **_opts)
def _anderson_buffers(K, nw, nr):
    """Anderson storage: ``K + 1`` iterates of ``nw`` coefficients and ``nr`` residual
    entries, the weights, their system and the extrapolated point."""
    bw = np.empty((K + 1, nw))
    br = np.empty((K + 1, nr))
    cvec = np.empty(max(K, 1))
    M = np.empty((max(K, 1), max(K, 1)))
    wacc = np.empty(nw)
    racc = np.empty(nr)
    return bw, br, cvec, M, wacc, racc


@njit(inline="always", **_opts)
def _anderson_store(bw, br, cnt, w, feats, R, n):
    """Store the iterate ``w[feats]`` and the residual ``R[:n]`` in row ``cnt``."""
    for q in range(feats.size):
        bw[cnt, q] = w[feats[q]]
    for i in range(n):
        br[cnt, i] = R[i]


@njit(inline="always", **_opts)
def _set_point(w, feats, wacc, R, racc, n):
    """``w[feats] = wacc``, ``R[:n] = racc[:n]``: the extrapolated point is accepted."""
    for q in range(feats.size):
        w[feats[q]] = wacc[q]
    for i in range(n):
        R[i] = racc[i]


@njit(inline="always", **_opts)
def _accept_dense(w, feats, wacc, R, racc, n, inv_n, pen_acc, pen_cur):
    """Replace ``(w[feats], R)`` by the extrapolated point when its objective is lower."""
    r2acc = 0.0
    r2cur = 0.0
    for i in range(n):
        r2acc += racc[i] * racc[i]
        r2cur += np.float64(R[i]) * R[i]
    f_acc = 0.5 * inv_n * r2acc + pen_acc
    f_cur = 0.5 * inv_n * r2cur + pen_cur
    if f_acc < f_cur:
        _set_point(w, feats, wacc, R, racc, n)


@njit(inline="always", **_opts)
def _centre_sum(center, v, Rs, n):
    """``v^T Rs`` (the running sum of the implicitly centred residual), 0 without centring."""
    sR = 0.0
    if center:
        for i in range(n):
            sR += np.float64(v[i]) * Rs[i]
    return sR


@njit(inline="always", **_opts)
def _accept_sparse(w, feats, wacc, Rs, racc, n, center, v, cR, sR, inv_n, pen_acc, pen_cur):
    """:func:`_accept_dense` on the centred residual ``Rs + cR v`` (``racc[n]`` is the
    extrapolated ``cR``); returns the centring state ``(cR, sR)``."""
    r2acc = 0.0
    r2cur = 0.0
    for i in range(n):
        a = racc[i]
        b = np.float64(Rs[i])
        if center:
            a += racc[n] * v[i]
            b += cR * v[i]
        r2acc += a * a
        r2cur += b * b
    f_acc = 0.5 * inv_n * r2acc + pen_acc
    f_cur = 0.5 * inv_n * r2cur + pen_cur
    if f_acc < f_cur:
        _set_point(w, feats, wacc, Rs, racc, n)
        if center:
            cR = racc[n]
            sR = _centre_sum(center, v, Rs, n)
    return cR, sR


@njit(**_opts)
def _setup(ws, lc, kind, p):
    """Per working-set constants: prox constants, ``1 / L_j`` and CEL0's ``a_j``."""
    m = ws.size
    consts = np.zeros((m, N_CONSTS))
    inv_l = np.zeros(m)
    aws = np.zeros(m)
    for t in range(m):
        lcj = np.float64(lc[ws[t]])
        if lcj > 0.0:
            ws_consts(kind, p, lcj, consts[t])
            inv_l[t] = 1.0 / lcj
            aws[t] = math.sqrt(lcj)
    return consts, inv_l, aws


@njit(inline="always", **_opts)
def _coord(kind, p, lower, upper, wj, g, inv_lj, consts, t, cj):
    """Coordinate update of working-set entry ``t``: prox of ``w_j + g / L_j``.

    The l1 and elastic-net updates read their one or two constants in place (the hot case
    of the Lasso); the other kinds copy the row ``consts[t]`` into ``cj`` (a copy, not a
    view: no reference counting per update) for the generic dispatcher.
    """
    if inv_lj == 0.0:  # zero column: only the penalty and the box depend on w_j
        return min(max(0.0, lower), upper)
    z = wj + g * inv_lj
    if kind == KIND_L1:
        v = _l1_apply(z, consts[t, 0])
    elif kind == KIND_ELASTICNET:
        v = _l1_apply(z, consts[t, 0]) * consts[t, 1]
    else:
        for q in range(N_CONSTS):
            cj[q] = consts[t, q]
        v = _prox_apply(kind, z, cj)
    return _clip(v, lower, upper)


@register_kernel("glm_cd_ws_dense", "numba")
@njit(**_opts)
def glm_cd_ws_dense(Xt, w, R, ws, lc, kind, params, lower, upper, max_epochs, tol, n_anderson,
                    crit_mode, check_offset):
    n = Xt.shape[1]
    m = ws.size
    inv_n = 1.0 / n
    K = n_anderson
    consts, inv_l, aws = _setup(ws, lc, kind, params)
    cj = np.empty(N_CONSTS)
    bw, br, cvec, M, wacc, racc = _anderson_buffers(K, m, n)
    cnt = 0
    ep = 0
    for ep in range(1, max_epochs + 1):
        for t in range(m):
            j = ws[t]
            old = w[j]
            g = np.float64(np.dot(Xt[j], R))  # BLAS on the contiguous column
            w[j] = _coord(kind, params, lower, upper, np.float64(old), g * inv_n, inv_l[t],
                          consts, t, cj)
            d = w[j] - old
            if d != 0.0:
                for i in range(n):
                    R[i] -= d * Xt[j, i]
        if K > 0:
            _anderson_store(bw, br, cnt, w, ws, R, n)
            cnt += 1
            if cnt == K + 1:
                cnt = 0
                pen_acc = _anderson_extrapolate(bw, br, K, cvec, M, wacc, racc, kind, params,
                                                lower, upper, aws)
                if pen_acc >= 0.0:
                    _accept_dense(w, ws, wacc, R, racc, n, inv_n, pen_acc,
                                  _penalty(w, ws, kind, params, aws))
        if (ep - check_offset) % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for t in range(m):
                j = ws[t]
                g = np.float64(np.dot(Xt[j], R))
                for q in range(N_CONSTS):
                    cj[q] = consts[t, q]
                v = violation(kind, params, lower, upper, np.float64(w[j]), g * inv_n,
                              np.float64(lc[j]), cj, crit_mode)
                if v > crit:
                    crit = v
            if crit <= tol:
                break
    return ep


@njit(inline="always", **_opts)
def _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv):
    g = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        g += np.float64(data[k]) * Rs[indices[k]]
    if center:
        g += cR * xv[j] - mu[j] * (sR + cR * vv)
    return g


@njit(inline="always", **_opts)
def _sparse_epoch(data, indices, indptr, center, mu, xv, vv, w, Rs, ws, kind, params, lower,
                  upper, consts, inv_l, cj, inv_n, cR, sR, mode):
    """One epoch over the working set of the sparse kernel; returns the centring state.

    ``mode`` (a literal at each call site) picks the update: 1 the soft threshold of l1 and
    the elastic net (scaled by ``consts[t, 1]`` for the latter), 2 MCP, 3 SCAD, 0 the
    generic dispatch of :func:`_coord`."""
    enet = kind == KIND_ELASTICNET
    for t in range(ws.size):
        j = ws[t]
        old = np.float64(w[j])
        g = _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv)
        if mode != 0 and inv_l[t] != 0.0:
            z = old + g * inv_n * inv_l[t]
            if mode == 1:
                new = _l1_apply(z, consts[t, 0])
                if enet:
                    new *= consts[t, 1]
            elif mode == 2:
                new = _mcp_apply(z, consts[t, 0], consts[t, 1], consts[t, 2])
            else:
                new = _scad_apply(z, consts[t, 0], consts[t, 1], consts[t, 2], consts[t, 3],
                                  consts[t, 4])
            new = min(max(new, lower), upper)
        else:
            new = _coord(kind, params, lower, upper, old, g * inv_n, inv_l[t], consts, t, cj)
        w[j] = new
        d = w[j] - old
        if d != 0.0:
            for k in range(indptr[j], indptr[j + 1]):
                Rs[indices[k]] -= d * data[k]
            if center:
                cR += d * mu[j]
                sR -= d * xv[j]
    return cR, sR


@register_kernel("glm_cd_ws_sparse", "numba")
@njit(**_opts)
def glm_cd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, ws, lc,
                     kind, params, lower, upper, max_epochs, tol, n_anderson, crit_mode,
                     check_offset):
    m = ws.size
    inv_n = 1.0 / n
    K = n_anderson
    consts, inv_l, aws = _setup(ws, lc, kind, params)
    cj = np.empty(N_CONSTS)
    bw, br, cvec, M, wacc, racc = _anderson_buffers(K, m, n + 1)
    cR = np.float64(c_arr[0])
    sR = _centre_sum(center, v, Rs, n)
    cnt = 0
    ep = 0
    # the epoch is inlined once per update rule, the rule a constant in each copy: l1 and
    # elastic net (a soft threshold), MCP and SCAD (their closed forms, constants read in
    # place) run as tight as a dedicated loop; very sparse columns spend their time in the
    # update, not in the gradient (the generic dispatch cost ~30% more per coordinate)
    if kind == KIND_L1 or kind == KIND_ELASTICNET:
        mode = 1
    elif kind == KIND_MCP:
        mode = 2
    elif kind == KIND_SCAD:
        mode = 3
    else:
        mode = 0
    for ep in range(1, max_epochs + 1):
        if mode == 1:
            cR, sR = _sparse_epoch(data, indices, indptr, center, mu, xv, vv, w, Rs, ws, kind,
                                   params, lower, upper, consts, inv_l, cj, inv_n, cR, sR, 1)
        elif mode == 2:
            cR, sR = _sparse_epoch(data, indices, indptr, center, mu, xv, vv, w, Rs, ws, kind,
                                   params, lower, upper, consts, inv_l, cj, inv_n, cR, sR, 2)
        elif mode == 3:
            cR, sR = _sparse_epoch(data, indices, indptr, center, mu, xv, vv, w, Rs, ws, kind,
                                   params, lower, upper, consts, inv_l, cj, inv_n, cR, sR, 3)
        else:
            cR, sR = _sparse_epoch(data, indices, indptr, center, mu, xv, vv, w, Rs, ws, kind,
                                   params, lower, upper, consts, inv_l, cj, inv_n, cR, sR, 0)
        if K > 0:
            _anderson_store(bw, br, cnt, w, ws, Rs, n)
            br[cnt, n] = cR
            cnt += 1
            if cnt == K + 1:
                cnt = 0
                pen_acc = _anderson_extrapolate(bw, br, K, cvec, M, wacc, racc, kind, params,
                                                lower, upper, aws)
                if pen_acc >= 0.0:
                    cR, sR = _accept_sparse(w, ws, wacc, Rs, racc, n, center, v, cR, sR, inv_n,
                                            pen_acc, _penalty(w, ws, kind, params, aws))
        if (ep - check_offset) % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for t in range(m):
                j = ws[t]
                g = _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv)
                for q in range(N_CONSTS):
                    cj[q] = consts[t, q]
                val = violation(kind, params, lower, upper, np.float64(w[j]), g * inv_n,
                                np.float64(lc[j]), cj, crit_mode)
                if val > crit:
                    crit = val
            if crit <= tol:
                break
    c_arr[0] = cR
    return ep


@njit(inline="always", **_opts)
def _celer_score(g, norm, const, a1, one_sided):
    """celer's priority ``(const |g| - a1) / norm`` (``const g`` under ``w >= 0``) of a
    feature outside the support; the lowest float for a zero column."""
    if norm > 0.0:
        corr = const * g if one_sided else const * abs(g)
        return (corr - a1) / norm
    return -1.7976931348623157e308


@njit(**_opts)
def _scores_l1(w, G, lc, norms, alpha1, alpha2, positive, strategy, const, screened, score):
    """Closed-form scores of l1 / elastic net (alone or under ``w >= 0``): the specialised
    fast path of :func:`glm_cd_scores` (same values; no per-feature prox constants)."""
    p = w.size
    kmax = 0.0
    nnz = 0
    for j in range(p):
        if screened[j]:
            score[j] = -np.inf
            continue
        wj = w[j]
        g = G[j]
        if wj == 0.0:
            k = g - alpha1 if positive else abs(g) - alpha1
            k = k if k > 0.0 else 0.0
        else:
            k = abs(g - math.copysign(alpha1, wj) - alpha2 * wj)
        if k > kmax:
            kmax = k
        if wj != 0.0:
            score[j] = np.inf
            nnz += 1
        elif strategy == 0:
            score[j] = k
        elif strategy == 1:
            den = lc[j] + alpha2
            z = g - alpha1 if positive else abs(g) - alpha1
            score[j] = z / den if (z > 0.0 and lc[j] > 0.0) else 0.0  # lc 0: no step
        else:
            score[j] = _celer_score(g, norms[j], const, alpha1, positive)
    return kmax, nnz


@register_kernel("glm_cd_scores", "numba")
@njit(**_opts)
def glm_cd_scores(w, G, lc, norms, kind, params, lower, upper, strategy, crit_mode, const,
                  screened, score):
    if ((kind == KIND_L1 or kind == KIND_ELASTICNET) and crit_mode == 0 and upper == np.inf
            and (lower == 0.0 or lower == -np.inf)):
        # kernel selection: the convex l1 / elastic net have closed-form scores
        l1r = 1.0 if kind == KIND_L1 else params[1]
        return _scores_l1(w, G, lc, norms, params[0] * l1r, params[0] * (1.0 - l1r),
                          lower == 0.0, strategy, const, screened, score)
    p = w.size
    kmax = 0.0
    nnz = 0
    c = np.zeros(N_CONSTS)
    a1 = params[0] if kind == KIND_L1 else (params[0] * params[1] if kind == KIND_ELASTICNET
                                             else 0.0)
    one_sided = lower >= 0.0
    for j in range(p):
        if screened[j]:
            score[j] = -np.inf
            continue
        wj = w[j]
        g = G[j]
        lcj = lc[j]
        if lcj > 0.0 and (wj == 0.0 or crit_mode == 1 or kind == KIND_CEL0
                          or kind == KIND_LQ):
            ws_consts(kind, params, lcj, c)
        k = violation(kind, params, lower, upper, wj, g, lcj, c, crit_mode)
        if k > kmax:
            kmax = k
        if wj != 0.0:
            score[j] = np.inf
            nnz += 1
        elif strategy == 0:
            score[j] = k
        elif strategy == 1:
            score[j] = abs(prox_clip(kind, g / lcj, c, lower, upper) if lcj > 0.0
                           else min(max(0.0, lower), upper))
        else:  # celer's priority (L1 / elastic net only)
            score[j] = _celer_score(g, norms[j], const, a1, one_sided)
    return kmax, nnz



# ----------------------------------------------------------------------------- group kernels
# Working-set BLOCK coordinate descent for squared loss + sum_G t_G ||w_G||_2 (the group
# lasso, GroupSpec of the penalty), optionally under w >= 0 (``lower == 0``). The groups are
# ``gidx[gptr[G]:gptr[G+1]]`` (disjoint; features in no group come as singletons with
# ``t_G = 0``); ``ws`` holds GROUP indices; ``lg[G] = ||X_G||_2^2 / n`` (spectral norm). One
# block update: ``v = w_G + X_G^T R / (n L_G)`` (``max(v, 0)`` under the orthant), then
# ``w_G <- max(1 - t_G / (L_G ||v||), 0) v``; a group with ``L_G = 0`` (zero columns) is set
# to 0. Anderson extrapolation as in the coordinate kernels (accepted only when the
# objective decreases and the point stays in the orthant). Inner stop: the largest
# subdifferential distance of a working-set group (:func:`group_dist`) ``<= tol``, tested at
# epochs 10, 20, ... (``check_offset = 0``) or 1, 11, ... (1).


@njit(inline="always", **_opts)
def group_dist(wb, gb, m, t, positive):
    """Distance of ``g_G`` (``gb[:m]``, the negative gradient) to the subdifferential of
    ``t ||.||`` (+ the normal cone of the orthant when ``positive``) at ``w_G = wb[:m]``:
    ``max(||g_G|| - t, 0)`` at 0 (``g`` replaced by ``max(g, 0)`` under the orthant),
    ``||g_G - t w_G / ||w_G|| ||`` otherwise (``max(g_j, 0)`` for a zero ``w_j`` under it)."""
    nw2 = 0.0
    for k in range(m):
        nw2 += wb[k] * wb[k]
    s = 0.0
    if nw2 == 0.0:
        for k in range(m):
            g = gb[k]
            if positive and g < 0.0:
                g = 0.0
            s += g * g
        d = math.sqrt(s) - t
        return d if d > 0.0 else 0.0
    nw = math.sqrt(nw2)
    for k in range(m):
        if positive and wb[k] == 0.0:
            r = gb[k] if gb[k] > 0.0 else 0.0
        else:
            r = gb[k] - t * wb[k] / nw
        s += r * r
    return math.sqrt(s)


@njit(inline="always", **_opts)
def block_prox(wb, gb, m, lg, t, positive):
    """Block prox-gradient step of one group into ``gb[:m]``: ``v = w + g / L`` (``max(v, 0)``
    under the orthant), then ``max(1 - t / (L ||v||), 0) v``; 0 when ``L == 0``."""
    if lg <= 0.0:
        for k in range(m):
            gb[k] = 0.0
        return
    nv2 = 0.0
    for k in range(m):
        v = wb[k] + gb[k] / lg
        if positive and v < 0.0:
            v = 0.0
        gb[k] = v
        nv2 += v * v
    nv = math.sqrt(nv2)
    scale = 1.0 - t / (lg * nv) if nv > 0.0 else 0.0
    if scale < 0.0:
        scale = 0.0
    for k in range(m):
        gb[k] *= scale


@njit(**_opts)
def _group_feats(gptr, gidx, ws):
    """The features of the working-set groups (in group order) and the largest group size."""
    nf = 0
    mmax = 1
    for t in range(ws.size):
        m = gptr[ws[t] + 1] - gptr[ws[t]]
        nf += m
        if m > mmax:
            mmax = m
    feats = np.empty(nf, dtype=np.int64)
    q = 0
    for t in range(ws.size):
        for k in range(gptr[ws[t]], gptr[ws[t] + 1]):
            feats[q] = gidx[k]
            q += 1
    return feats, mmax


@njit(**_opts)
def _group_penalty(vals, feats, ws, gptr, thresh):
    """``sum_G t_G ||vals_G||`` with ``vals[feats]`` laid out as the working set's features."""
    s = 0.0
    q = 0
    for t in range(ws.size):
        G = ws[t]
        nv2 = 0.0
        for _k in range(gptr[G + 1] - gptr[G]):
            x = np.float64(vals[feats[q]])
            nv2 += x * x
            q += 1
        s += thresh[G] * math.sqrt(nv2)
    return s


@njit(**_opts)
def _group_anderson(bw, br, K, cvec, M, wacc, racc, positive, feats, ws, gptr, thresh, pos):
    """Anderson point of the stored iterates and its penalty; -1 when the weights fail or it
    leaves the orthant (the coordinate kernels' :func:`_anderson_extrapolate`). ``pos`` is
    ``arange(feats.size)``: ``wacc`` is laid out as the working set's features."""
    if not anderson_coefs(bw, K, cvec, M):
        return -1.0
    for t in range(wacc.size):
        s = 0.0
        for k in range(K):
            s += cvec[k] * bw[k + 1, t]
        wacc[t] = s
        if positive and s < 0.0:
            return -1.0
    for i in range(racc.size):
        s = 0.0
        for k in range(K):
            s += cvec[k] * br[k + 1, i]
        racc[i] = s
    return _group_penalty(wacc, pos, ws, gptr, thresh)


@njit(inline="always", **_opts)
def _group_buffers(gptr, gidx, ws, K, nr):
    """The working set's features, one group's coefficients and gradient (``wb``, ``gb``),
    the Anderson storage (:func:`_anderson_buffers`) and ``pos = arange(n_features)``."""
    feats, mmax = _group_feats(gptr, gidx, ws)
    nf = feats.size
    bw, br, cvec, M, wacc, racc = _anderson_buffers(K, nf, nr)
    return feats, np.empty(mmax), np.empty(mmax), bw, br, cvec, M, wacc, racc, np.arange(nf)


@njit(inline="always", **_opts)
def _block_grad_dense(Xt, R, w, gidx, a, m, wb, gb, inv_n):
    """``wb[:m] = w_G`` and ``gb[:m] = X_G^T R / n`` of the group ``gidx[a:a + m]``."""
    for k in range(m):
        j = gidx[a + k]
        wb[k] = w[j]
        gb[k] = np.float64(np.dot(Xt[j], R)) * inv_n


@njit(inline="always", **_opts)
def _block_grad_sparse(data, indices, indptr, Rs, center, cR, sR, mu, xv, vv, w, gidx, a, m,
                       wb, gb, inv_n):
    """:func:`_block_grad_dense` on the implicitly centred CSC columns."""
    for k in range(m):
        j = gidx[a + k]
        wb[k] = w[j]
        gb[k] = _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv) * inv_n


@register_kernel("glm_bcd_ws_dense", "numba")
@njit(**_opts)
def glm_bcd_ws_dense(Xt, w, R, gptr, gidx, ws, lg, thresh, lower, max_epochs, tol, n_anderson,
                     check_offset):
    n = Xt.shape[1]
    inv_n = 1.0 / n
    K = n_anderson
    positive = lower == 0.0
    feats, wb, gb, bw, br, cvec, M, wacc, racc, pos = _group_buffers(gptr, gidx, ws, K, n)
    cnt = 0
    ep = 0
    for ep in range(1, max_epochs + 1):
        for t in range(ws.size):
            G = ws[t]
            a = gptr[G]
            m = gptr[G + 1] - a
            _block_grad_dense(Xt, R, w, gidx, a, m, wb, gb, inv_n)
            block_prox(wb, gb, m, np.float64(lg[G]), thresh[G], positive)
            for k in range(m):
                j = gidx[a + k]
                w[j] = gb[k]
                d = np.float64(w[j]) - wb[k]
                if d != 0.0:
                    for i in range(n):
                        R[i] -= d * Xt[j, i]
        if K > 0:
            _anderson_store(bw, br, cnt, w, feats, R, n)
            cnt += 1
            if cnt == K + 1:
                cnt = 0
                pen_acc = _group_anderson(bw, br, K, cvec, M, wacc, racc, positive, feats, ws,
                                          gptr, thresh, pos)
                if pen_acc >= 0.0:
                    _accept_dense(w, feats, wacc, R, racc, n, inv_n, pen_acc,
                                  _group_penalty(w, feats, ws, gptr, thresh))
        if (ep - check_offset) % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for t in range(ws.size):
                G = ws[t]
                a = gptr[G]
                m = gptr[G + 1] - a
                _block_grad_dense(Xt, R, w, gidx, a, m, wb, gb, inv_n)
                v = group_dist(wb, gb, m, thresh[G], positive)
                if v > crit:
                    crit = v
            if crit <= tol:
                break
    return ep


@register_kernel("glm_bcd_ws_sparse", "numba")
@njit(**_opts)
def glm_bcd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, gptr, gidx,
                      ws, lg, thresh, lower, max_epochs, tol, n_anderson, check_offset):
    inv_n = 1.0 / n
    K = n_anderson
    positive = lower == 0.0
    feats, wb, gb, bw, br, cvec, M, wacc, racc, pos = _group_buffers(gptr, gidx, ws, K, n + 1)
    cR = np.float64(c_arr[0])
    sR = _centre_sum(center, v, Rs, n)
    cnt = 0
    ep = 0
    for ep in range(1, max_epochs + 1):
        for t in range(ws.size):
            G = ws[t]
            a = gptr[G]
            m = gptr[G + 1] - a
            _block_grad_sparse(data, indices, indptr, Rs, center, cR, sR, mu, xv, vv, w, gidx,
                               a, m, wb, gb, inv_n)
            block_prox(wb, gb, m, np.float64(lg[G]), thresh[G], positive)
            for k in range(m):
                j = gidx[a + k]
                w[j] = gb[k]
                d = np.float64(w[j]) - wb[k]
                if d != 0.0:
                    for q in range(indptr[j], indptr[j + 1]):
                        Rs[indices[q]] -= d * data[q]
                    if center:
                        cR += d * mu[j]
                        sR -= d * xv[j]
        if K > 0:
            _anderson_store(bw, br, cnt, w, feats, Rs, n)
            br[cnt, n] = cR
            cnt += 1
            if cnt == K + 1:
                cnt = 0
                pen_acc = _group_anderson(bw, br, K, cvec, M, wacc, racc, positive, feats, ws,
                                          gptr, thresh, pos)
                if pen_acc >= 0.0:
                    cR, sR = _accept_sparse(w, feats, wacc, Rs, racc, n, center, v, cR, sR,
                                            inv_n, pen_acc,
                                            _group_penalty(w, feats, ws, gptr, thresh))
        if (ep - check_offset) % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for t in range(ws.size):
                G = ws[t]
                a = gptr[G]
                m = gptr[G + 1] - a
                _block_grad_sparse(data, indices, indptr, Rs, center, cR, sR, mu, xv, vv, w,
                                   gidx, a, m, wb, gb, inv_n)
                val = group_dist(wb, gb, m, thresh[G], positive)
                if val > crit:
                    crit = val
            if crit <= tol:
                break
    c_arr[0] = cR
    return ep
