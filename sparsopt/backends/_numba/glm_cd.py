"""Numba kernels:
Working-set coordinate descent for the sparse linear models (Lasso, ElasticNet).

Both kernels run the *inner* solver of :func:`sparsopt.solvers.glm.working_set_cd.lasso_cd`: cyclic
proximal coordinate-descent epochs restricted to a working set, with Anderson acceleration of
the iterates (accepted only when the primal objective decreases) and a stopping test on the
working set's largest subdifferential distance every 10 epochs. They mirror
:mod:`sparsopt.backends._numpy.glm_cd` (the reference) operation by operation.

Objective (per coordinate ``j`` of the working set)::

    1/(2n) ||R||^2 + alpha1 |w_j| + alpha2 / 2 w_j^2   (+ indicator(w_j >= 0) if positive)

with ``R = y - X w`` kept up to date in place.
"""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)

#: epochs between two inner stopping tests
CHECK_EVERY = 10
#: an extrapolation whose weights have an l1 norm above this is not tried
MAX_WEIGHT = 1e3


@njit(**_opts)
def cd_update(wj, g, lcj, alpha1, alpha2, positive):
    """Exact minimiser in ``w_j`` given ``g = X_j^T R / n`` and ``lcj = ||X_j||^2 / n``."""
    denom = lcj + alpha2
    if denom <= 0.0:
        return 0.0
    z = wj * lcj + g
    if positive:
        v = z - alpha1 if z > alpha1 else 0.0
    else:
        a = abs(z) - alpha1
        v = 0.0 if a <= 0.0 else math.copysign(a, z)
    return v / denom


@njit(**_opts)
def subdiff_dist(wj, g, alpha1, alpha2, positive):
    """Distance of ``g = -grad_j f`` to the subdifferential of the penalty at ``w_j`` (GS-s)."""
    if wj == 0.0:
        a = g - alpha1 if positive else abs(g) - alpha1
        return a if a > 0.0 else 0.0
    s = 1.0 if wj > 0.0 else -1.0
    return abs(g - alpha1 * s - alpha2 * wj)


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
def _anderson_extrapolate(bw, br, K, cvec, M, wacc, racc, alpha1, alpha2, positive):
    """Extrapolated coefficients ``wacc`` and residual state ``racc`` from the stored
    iterates (rows of ``bw`` / ``br``); return their penalty, or -1 when the Anderson
    weights fail or the extrapolation leaves the constraint ``w >= 0``."""
    if not anderson_coefs(bw, K, cvec, M):
        return -1.0
    pen_acc = 0.0
    for t in range(wacc.size):
        s = 0.0
        for k in range(K):
            s += cvec[k] * bw[k + 1, t]
        wacc[t] = s
        if positive and s < 0.0:
            return -1.0
        pen_acc += alpha1 * abs(s) + 0.5 * alpha2 * s * s
    for i in range(racc.size):
        s = 0.0
        for k in range(K):
            s += cvec[k] * br[k + 1, i]
        racc[i] = s
    return pen_acc


@njit(**_opts)
def _penalty(w, ws, alpha1, alpha2):
    s = 0.0
    for t in range(ws.size):
        v = np.float64(w[ws[t]])
        s += alpha1 * abs(v) + 0.5 * alpha2 * v * v
    return s


@register_kernel("glm_cd_ws_dense", "numba")
@njit(**_opts)
def glm_cd_ws_dense(Xt, w, R, ws, lc, alpha1, alpha2, positive, max_epochs, tol, n_anderson):
    n = Xt.shape[1]
    m = ws.size
    inv_n = 1.0 / n
    K = n_anderson
    bw = np.empty((K + 1, m))
    br = np.empty((K + 1, n))  # Xt = X.T, C-contiguous: feature j is the row Xt[j]
    cvec = np.empty(max(K, 1))
    M = np.empty((max(K, 1), max(K, 1)))
    wacc = np.empty(m)
    racc = np.empty(n)
    cnt = 0
    ep = 0
    for ep in range(1, max_epochs + 1):
        for t in range(m):
            j = ws[t]
            old = w[j]
            g = np.float64(np.dot(Xt[j], R))  # BLAS on the contiguous column
            w[j] = cd_update(np.float64(old), g * inv_n, np.float64(lc[j]), alpha1, alpha2,
                             positive)
            d = w[j] - old
            if d != 0.0:
                for i in range(n):
                    R[i] -= d * Xt[j, i]
        if K > 0:
            for t in range(m):
                bw[cnt, t] = w[ws[t]]
            for i in range(n):
                br[cnt, i] = R[i]
            cnt += 1
            if cnt == K + 1:
                cnt = 0
                pen_acc = _anderson_extrapolate(bw, br, K, cvec, M, wacc, racc, alpha1,
                                                alpha2, positive)
                if pen_acc >= 0.0:
                    r2acc = 0.0
                    r2cur = 0.0
                    for i in range(n):
                        r2acc += racc[i] * racc[i]
                        r2cur += np.float64(R[i]) * R[i]
                    f_acc = 0.5 * inv_n * r2acc + pen_acc
                    f_cur = 0.5 * inv_n * r2cur + _penalty(w, ws, alpha1, alpha2)
                    if f_acc < f_cur:
                        for t in range(m):
                            w[ws[t]] = wacc[t]
                        for i in range(n):
                            R[i] = racc[i]
        if ep % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for t in range(m):
                j = ws[t]
                g = np.float64(np.dot(Xt[j], R))
                v = subdiff_dist(np.float64(w[j]), g * inv_n, alpha1, alpha2, positive)
                if v > crit:
                    crit = v
            if crit <= tol:
                break
    return ep


@njit(**_opts)
def _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv):
    g = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        g += np.float64(data[k]) * Rs[indices[k]]
    if center:
        g += cR * xv[j] - mu[j] * (sR + cR * vv)
    return g


@register_kernel("glm_cd_ws_sparse", "numba")
@njit(**_opts)
def glm_cd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, ws, lc,
                     alpha1, alpha2, positive, max_epochs, tol, n_anderson):
    m = ws.size
    inv_n = 1.0 / n
    K = n_anderson
    bw = np.empty((K + 1, m))
    br = np.empty((K + 1, n + 1))
    cvec = np.empty(max(K, 1))
    M = np.empty((max(K, 1), max(K, 1)))
    wacc = np.empty(m)
    racc = np.empty(n + 1)
    cR = np.float64(c_arr[0])
    sR = 0.0
    if center:
        for i in range(n):
            sR += np.float64(v[i]) * Rs[i]
    cnt = 0
    ep = 0
    for ep in range(1, max_epochs + 1):
        for t in range(m):
            j = ws[t]
            old = w[j]
            g = _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv)
            w[j] = cd_update(np.float64(old), g * inv_n, np.float64(lc[j]), alpha1, alpha2,
                             positive)
            d = w[j] - old
            if d != 0.0:
                for k in range(indptr[j], indptr[j + 1]):
                    Rs[indices[k]] -= d * data[k]
                if center:
                    cR += np.float64(d) * mu[j]
                    sR -= np.float64(d) * xv[j]
        if K > 0:
            for t in range(m):
                bw[cnt, t] = w[ws[t]]
            for i in range(n):
                br[cnt, i] = Rs[i]
            br[cnt, n] = cR
            cnt += 1
            if cnt == K + 1:
                cnt = 0
                pen_acc = _anderson_extrapolate(bw, br, K, cvec, M, wacc, racc, alpha1,
                                                alpha2, positive)
                if pen_acc >= 0.0:
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
                    f_cur = 0.5 * inv_n * r2cur + _penalty(w, ws, alpha1, alpha2)
                    if f_acc < f_cur:
                        for t in range(m):
                            w[ws[t]] = wacc[t]
                        for i in range(n):
                            Rs[i] = racc[i]
                        if center:
                            cR = racc[n]
                            sR = 0.0
                            for i in range(n):
                                sR += np.float64(v[i]) * Rs[i]
        if ep % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for t in range(m):
                j = ws[t]
                g = _sparse_grad(data, indices, indptr, j, Rs, center, cR, sR, mu, xv, vv)
                val = subdiff_dist(np.float64(w[j]), g * inv_n, alpha1, alpha2, positive)
                if val > crit:
                    crit = val
            if crit <= tol:
                break
    c_arr[0] = cR
    return ep


@register_kernel("glm_cd_scores", "numba")
@njit(**_opts)
def glm_cd_scores(w, G, lc, norms, alpha1, alpha2, positive, strategy, const, screened, score):
    p = w.size
    kmax = 0.0
    nnz = 0
    for j in range(p):
        if screened[j]:
            score[j] = -np.inf
            continue
        wj = w[j]
        g = G[j]
        k = subdiff_dist(wj, g, alpha1, alpha2, positive)
        if k > kmax:
            kmax = k
        if wj != 0.0:
            score[j] = np.inf
            nnz += 1
        elif strategy == 0:
            score[j] = k
        elif strategy == 1:
            score[j] = abs(cd_update(0.0, g, lc[j], alpha1, alpha2, positive))
        elif norms[j] > 0.0:
            corr = const * g if positive else const * abs(g)
            score[j] = (corr - alpha1) / norms[j]
        else:
            score[j] = -1.7976931348623157e308
    return kmax, nnz
