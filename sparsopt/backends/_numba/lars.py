"""Numba Lasso homotopy (LARS with the lasso modification), mirroring ``_numpy/lars.py``.

Same path, events and statuses as the NumPy reference (see its module docstring). The
reference solves ``G_AA w = s_A`` from scratch at every step; here the inverse of
``G_AA`` is kept up to date instead: bordering when an atom joins (``O(m^2)``, with the
Schur complement ``d = G_jj - g^T G_AA^{-1} g`` as the dependence test) and the
rank-one downdate of the inverse when an atom leaves. A step then costs ``m^2`` for
``w``, ``m k`` for ``a = G_{:,A} w`` (up to four rows of ``G`` per sweep) and ``k``
for the event search (a branch-free pass that lists the candidates, then exact tests on
those). Work buffers are allocated once per call. ``nogil``; ``fastmath`` limited to
``reassoc`` and ``contract`` (no NaN/Inf assumptions: the certificate relies on them).
``quad`` receives ``1/2 c G c - c . b`` of every certified row from the certificate's
``q`` (NaN for the others), so that the solver needs no ``C @ G`` product for the
objectives.
"""

import numpy as np
from numba import njit

from .._numpy.lars import DEP_RTOL, KKT_RTOL, STATUS_DEPENDENT, STATUS_KKT, STATUS_MAX_STEPS
from .._registry import register_kernel

_opts = dict(cache=True, nogil=True, fastmath={'reassoc', 'contract'})


@njit(**_opts)
def _inv_add(G, idx, m, Inv, j, u, gv):
    """Border ``Inv = G_AA^{-1}`` (size ``m``) with atom ``j``; False if ``j`` is dependent."""
    for b in range(m):
        gv[b] = G[j, idx[b]]
    for a in range(m):
        v = 0.0
        for b in range(m):
            v += Inv[a, b] * gv[b]
        u[a] = v
    d = np.float64(G[j, j])
    for a in range(m):
        d -= gv[a] * u[a]
    if not d > DEP_RTOL * G[j, j]:
        return False
    inv_d = 1.0 / d
    for a in range(m):
        ua = u[a] * inv_d
        for b in range(m):
            Inv[a, b] += ua * u[b]
        Inv[a, m] = -ua
        Inv[m, a] = -ua
    Inv[m, m] = inv_d
    return True


@njit(**_opts)
def _inv_remove(Inv, m, p):
    """Drop row and column ``p`` of the inverse of ``G_AA`` (size ``m``) in place."""
    ipp = 1.0 / Inv[p, p]
    for a in range(m):
        if a != p:
            f = Inv[a, p] * ipp
            for b in range(m):
                Inv[a, b] -= f * Inv[p, b]
    for a in range(p, m - 1):
        for b in range(m):
            Inv[a, b] = Inv[a + 1, b]
    for a in range(m - 1):
        for b in range(p, m - 1):
            Inv[a, b] = Inv[a, b + 1]


@register_kernel("lars_gram", "numba")
@njit(**_opts)
def lars_gram(G, B, C, alpha, positive, max_steps, n_steps, status, quad):
    n, k = B.shape
    corr = np.empty(k)
    a = np.empty(k)
    w = np.empty(k)
    u = np.empty(k)
    gv = np.empty(k)
    s = np.empty(k)
    cA = np.empty(k)
    Inv = np.zeros((k, k))
    idx = np.empty(k, np.int64)
    excluded = np.zeros(k, np.bool_)
    cand = np.empty(k, np.int64)
    dead = np.zeros(k, np.bool_)
    for j in range(k):
        dead[j] = not G[j, j] > 0.0
    for i in range(n):
        lam = 0.0
        jb = -1
        bmax = 0.0
        for j in range(k):
            cj = np.float64(B[i, j])
            corr[j] = cj
            excluded[j] = dead[j]
            C[i, j] = 0.0
            bmax = max(bmax, abs(cj))
            v = cj if positive else abs(cj)
            if v > lam and not dead[j]:
                lam = v
                jb = j
        n_steps[i] = 0
        status[i] = 0
        quad[i] = 0.0
        if lam <= alpha:
            continue
        m = 0
        _inv_add(G, idx, 0, Inv, jb, u, gv)
        idx[0] = jb
        s[0] = 1.0 if corr[jb] > 0.0 else -1.0
        cA[0] = 0.0
        excluded[jb] = True
        m = 1
        steps = 0
        last_drop = -1  # the atom that just left, blocked on the side it left by (drop_side)
        drop_side = 0.0
        while True:
            if steps >= max_steps:
                status[i] = STATUS_MAX_STEPS
                break
            steps += 1
            # direction: G_AA w = s_A; correlations move by a = G_{:,A} w
            for r in range(m):
                v = 0.0
                for b in range(m):
                    v += Inv[r, b] * s[b]
                w[r] = v
            # a = G_{:,A} w, four rows at a time (the first block assigns)
            b = 0
            if m >= 2:
                w0 = w[0]
                w1 = w[1]
                i0 = idx[0]
                i1 = idx[1]
                for j in range(k):
                    a[j] = w0 * G[i0, j] + w1 * G[i1, j]
                b = 2
            else:
                w0 = w[0]
                i0 = idx[0]
                for j in range(k):
                    a[j] = w0 * G[i0, j]
                b = 1
            while b + 3 < m:
                w0 = w[b]
                w1 = w[b + 1]
                w2 = w[b + 2]
                w3 = w[b + 3]
                i0 = idx[b]
                i1 = idx[b + 1]
                i2 = idx[b + 2]
                i3 = idx[b + 3]
                for j in range(k):
                    a[j] += (w0 * G[i0, j] + w1 * G[i1, j]) + (w2 * G[i2, j] + w3 * G[i3, j])
                b += 4
            while b + 1 < m:
                w0 = w[b]
                w1 = w[b + 1]
                i0 = idx[b]
                i1 = idx[b + 1]
                for j in range(k):
                    a[j] += w0 * G[i0, j] + w1 * G[i1, j]
                b += 2
            if b < m:
                w0 = w[b]
                i0 = idx[b]
                for j in range(k):
                    a[j] += w0 * G[i0, j]
            # next event: end (lam reaches alpha), drop (an active code hits 0), join
            gamma = lam - alpha
            ev = 0
            evj = -1
            evs = 0.0
            for r in range(m):
                if w[r] != 0.0:
                    g = -cA[r] / w[r]
                    if g > 0.0 and g < gamma:
                        gamma = g
                        ev = 2
                        evj = r
            # pass 1 (branch-free): list the atoms that could join before the current gamma
            # (a store at ``cand[nc]`` per atom, ``nc`` advanced by the test, so there is no
            # branch to mispredict); pass 2 runs the exact tests on the listed ones only. A
            # join passes ``lam - q_j < gamma den`` with gamma <= gamma0, so it is listed (a
            # rounding-level miss is caught by the certificate).
            gamma0 = gamma
            nc = 0
            if positive:
                for j in range(k):
                    cand[nc] = j
                    nc += ((lam - corr[j]) - gamma0 * (1.0 - a[j]) < 0.0) & ~excluded[j]
            else:
                for j in range(k):
                    aj = a[j]
                    cj = corr[j]
                    cand[nc] = j
                    nc += (((lam - cj) - gamma0 * (1.0 - aj) < 0.0) | (
                        (lam + cj) - gamma0 * (1.0 + aj) < 0.0)) & ~excluded[j]
            for t in range(nc):
                j = cand[t]
                aj = a[j]
                cj = corr[j]
                den = 1.0 - aj
                if den > 1e-12 and lam - cj < gamma * den and not (
                        j == last_drop and drop_side > 0.0):
                    gamma = max((lam - cj) / den, 0.0)
                    ev = 1
                    evj = j
                    evs = 1.0
                if not positive:
                    den = 1.0 + aj
                    if den > 1e-12 and lam + cj < gamma * den and not (
                            j == last_drop and drop_side < 0.0):
                        gamma = max((lam + cj) / den, 0.0)
                        ev = 1
                        evj = j
                        evs = -1.0
            for r in range(m):
                cA[r] += gamma * w[r]
            for j in range(k):
                corr[j] -= gamma * a[j]
            lam -= gamma
            last_drop = -1
            if ev == 0:
                break
            if ev == 2:
                jd = idx[evj]
                excluded[jd] = False
                last_drop = jd
                drop_side = s[evj]
                _inv_remove(Inv, m, evj)
                for r in range(evj, m - 1):
                    idx[r] = idx[r + 1]
                    s[r] = s[r + 1]
                    cA[r] = cA[r + 1]
                m -= 1
            else:
                if not _inv_add(G, idx, m, Inv, evj, u, gv):
                    status[i] = STATUS_DEPENDENT
                    break
                idx[m] = evj
                s[m] = evs  # the side it joins on (always +1 with positive)
                cA[m] = 0.0
                excluded[evj] = True
                m += 1
        n_steps[i] = steps
        for r in range(m):
            C[i, idx[r]] = cA[r]
        if status[i] != 0:
            quad[i] = np.nan
            continue
        # certificate, with q = B_i - c G recomputed from the codes as stored (drift-free):
        # active codes non-zero with the path's signs and q_j = alpha s_j there, and
        # |q_j| <= alpha (q_j <= alpha with positive) off the support
        ok = True
        for r in range(m):
            c = np.float64(C[i, idx[r]])  # float() keeps float32 in Numba
            cA[r] = c
            if c == 0.0 or (c > 0.0) != (s[r] > 0.0):
                ok = False
        for j in range(k):
            corr[j] = B[i, j]
        b = 0
        while b + 1 < m:
            c0 = cA[b]
            c1 = cA[b + 1]
            i0 = idx[b]
            i1 = idx[b + 1]
            for j in range(k):
                corr[j] -= c0 * G[i0, j] + c1 * G[i1, j]
            b += 2
        if b < m:
            c0 = cA[b]
            i0 = idx[b]
            for j in range(k):
                corr[j] -= c0 * G[i0, j]
        slack = KKT_RTOL * (alpha + bmax)
        lim = alpha + slack
        h = 0.0
        for r in range(m):
            j = idx[r]
            if abs(corr[j] - alpha * s[r]) > slack:
                ok = False
            h -= 0.5 * cA[r] * (B[i, j] + corr[j])
        viol = False
        if positive:
            for j in range(k):
                viol |= (corr[j] > lim) & ~excluded[j]
        else:
            for j in range(k):
                viol |= (abs(corr[j]) > lim) & ~excluded[j]
        if viol or not ok:
            status[i] = STATUS_KKT
        quad[i] = h if status[i] == 0 else np.nan
    return C

