"""Numba kernels: block coordinate descent with greedy rules (``solvers.blockcd``).

Mirrors ``sparsopt/backends/_numpy/bcd.py`` (see there for the semantics).
"""

import math

import numpy as np
from numba import njit

from .._kinds import (
    KIND_BOX,
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
from .prox import N_CONSTS, clip, prox_apply_clip, prox_consts, subdiff_distance

_opts = dict(cache=True, nogil=True)


@njit(**_opts)
def _en_params(kind, params):
    """``(l1, l2)`` of the l1 / elastic-net / box kinds (the loops specialised below)."""
    if kind == KIND_L1:
        return params[0], 0.0
    if kind == KIND_ELASTICNET:
        return params[0] * params[1], params[0] * (1.0 - params[1])
    return 0.0, 0.0  # KIND_BOX: the bounds are the spec's lower / upper


@register_kernel("bcd_prox_steps", "numba")
@njit(**_opts)
def bcd_prox_steps(kind, params, lower, upper, a, v, steps, out):
    n = v.shape[0]
    if kind == KIND_L1 or kind == KIND_ELASTICNET or kind == KIND_BOX:
        # the common kinds in one branch-free loop (prox_apply's dispatch per element
        # costs more than the prox itself)
        l1, l2 = _en_params(kind, params)
        for i in range(n):
            t = v[i]
            s = steps[i]
            z = abs(t) - s * l1
            z = 0.0 if z <= 0.0 else math.copysign(z, t) / (1.0 + s * l2)
            out[i] = clip(z, lower, upper)
        return out
    c = np.zeros(N_CONSTS)
    na = a.shape[0]
    last_s = -1.0
    last_a = -1.0
    for i in range(n):
        s = steps[i]
        aj = a[i % na]
        if s != last_s or aj != last_a:  # constants once per distinct step
            prox_consts(kind, params, s, aj, c)
            last_s = s
            last_a = aj
        out[i] = prox_apply_clip(kind, v[i], c, lower, upper)
    return out


@njit(**_opts)
def _pen_u(kind, p, u, aj):
    """Penalty value at ``|t| = u`` (0 for the box: the points are feasible)."""
    if kind == KIND_L1:
        return p[0] * u
    if kind == KIND_ELASTICNET:
        return p[0] * (p[1] * u + 0.5 * (1.0 - p[1]) * u * u)
    if kind == KIND_MCP:
        lam, gam = p[0], p[1]
        return lam * u - u * u / (2.0 * gam) if u <= gam * lam else 0.5 * gam * lam * lam
    if kind == KIND_SCAD:
        lam, gam = p[0], p[1]
        if u <= lam:
            return lam * u
        if u <= gam * lam:
            return (2.0 * gam * lam * u - u * u - lam * lam) / (2.0 * (gam - 1.0))
        return lam * lam * (gam + 1.0) / 2.0
    if kind == KIND_LOG:
        return p[0] * math.log1p(u / p[1])
    if kind == KIND_L0:
        return p[0] if u != 0.0 else 0.0
    if kind == KIND_LHALF:
        return p[0] * math.sqrt(u)
    if kind == KIND_LTWOTHIRDS:
        return p[0] * u ** (2.0 / 3.0)
    if kind == KIND_LQ:
        return p[0] * u ** p[1]
    if kind == KIND_CEL0:
        r = math.sqrt(2.0 * p[0])
        if u <= r / aj:
            return aj * r * u - 0.5 * aj * aj * u * u
        return p[0]
    return 0.0


@njit(**_opts)
def _pen_delta(kind, p, x, z, aj):
    """``pen(z) - pen(x)`` for one coordinate, factored by ``|z| - |x|`` on a piece."""
    ux = abs(x)
    uz = abs(z)
    du = uz - ux
    if du == 0.0:
        return 0.0
    if kind == KIND_L1:
        return p[0] * du
    if kind == KIND_ELASTICNET:
        return p[0] * (p[1] * du + 0.5 * (1.0 - p[1]) * du * (uz + ux))
    if kind == KIND_MCP:
        top = p[1] * p[0]
        if uz <= top and ux <= top:
            return du * (p[0] - (uz + ux) / (2.0 * p[1]))
        if uz > top and ux > top:
            return 0.0
    elif kind == KIND_SCAD:
        lam, gam = p[0], p[1]
        if uz <= lam and ux <= lam:
            return lam * du
        if lam < uz <= gam * lam and lam < ux <= gam * lam:
            return du * (2.0 * gam * lam - (uz + ux)) / (2.0 * (gam - 1.0))
        if uz > gam * lam and ux > gam * lam:
            return 0.0
    elif kind == KIND_LOG:
        return p[0] * math.log1p(du / (p[1] + ux))
    elif kind == KIND_CEL0:
        r = math.sqrt(2.0 * p[0])
        if uz <= r / aj and ux <= r / aj:
            return du * (aj * r - 0.5 * aj * aj * (uz + ux))
    return _pen_u(kind, p, uz, aj) - _pen_u(kind, p, ux, aj)


@register_kernel("bcd_value_delta", "numba")
@njit(**_opts)
def bcd_value_delta(kind, params, a, x, z, out):
    if kind == KIND_L1 or kind == KIND_ELASTICNET or kind == KIND_BOX:
        l1, l2 = _en_params(kind, params)
        for i in range(x.shape[0]):
            ux = abs(x[i])
            uz = abs(z[i])
            du = uz - ux
            out[i] = 0.0 if du == 0.0 else du * (l1 + 0.5 * l2 * (uz + ux))
        return out
    na = a.shape[0]
    for i in range(x.shape[0]):
        out[i] = _pen_delta(kind, params, x[i], z[i], a[i % na])
    return out


@register_kernel("bcd_subdiff_scores", "numba")
@njit(**_opts)
def bcd_subdiff_scores(kind, params, lower, upper, a, x, g, L, signed, out):
    n = x.shape[0]
    if kind == KIND_L1 or kind == KIND_ELASTICNET or kind == KIND_BOX:
        # convex: the minimum-norm element e = g + clip(-g, lo, hi) of g + d pen(x) + N(x),
        # signed as the gradient mapping (|e| is the subdiff distance)
        l1, l2 = _en_params(kind, params)
        for i in range(n):
            xi = x[i]
            if xi == 0.0:
                lo, hi = -l1, l1
            else:
                lo = hi = math.copysign(l1, xi) + l2 * xi
            if xi <= lower:
                lo = -math.inf
            if xi >= upper:
                hi = math.inf
            e = g[i] + clip(-g[i], lo, hi)
            out[i] = e if signed else abs(e)
        return out
    c = np.zeros(N_CONSTS)
    na = a.shape[0]
    for i in range(n):
        xi = x[i]
        gi = g[i]
        dist = subdiff_distance(kind, xi, -gi, params, lower, upper)
        if dist < 0.0 or signed:
            li = L[i]
            prox_consts(kind, params, 1.0 / li, a[i % na], c)
            gm = li * (xi - prox_apply_clip(kind, xi - gi / li, c, lower, upper))
            if dist < 0.0:
                dist = abs(gm)
            if signed:
                sgn = gm if gm != 0.0 else gi
                dist = math.copysign(dist, sgn) if sgn != 0.0 else 0.0
        out[i] = dist
    return out


@register_kernel("bcd_nnqp", "numba")
@njit(**_opts)
def bcd_nnqp(Q, c, z, max_iter, tol):
    m = c.shape[0]
    for i in range(m):
        z[i] = 0.0
    passive = np.zeros(m, dtype=np.bool_)
    idx = np.empty(m, dtype=np.int64)
    it = 0
    while it < max_iter:
        j = -1
        best = tol
        for i in range(m):
            if passive[i]:
                continue
            wi = -c[i]
            for l in range(m):
                wi -= Q[i, l] * z[l]
            if wi > best:
                best = wi
                j = i
        if j < 0:
            break
        passive[j] = True
        while it < max_iter:
            it += 1
            k = 0
            for i in range(m):
                if passive[i]:
                    idx[k] = i
                    k += 1
            sub = np.empty((k, k))
            rhs = np.empty(k)
            for a in range(k):
                rhs[a] = -c[idx[a]]
                for b in range(k):
                    sub[a, b] = Q[idx[a], idx[b]]
            sol = np.linalg.solve(sub, rhs)
            ok = True
            for a in range(k):
                if sol[a] <= 0.0:
                    ok = False
                    break
            if ok:
                for i in range(m):
                    z[i] = 0.0
                for a in range(k):
                    z[idx[a]] = sol[a]
                break
            alpha = np.inf
            for a in range(k):
                if sol[a] <= 0.0:
                    zi = z[idx[a]]
                    den = zi - sol[a]
                    r = zi / den if den > 0.0 else 0.0
                    if r < alpha:
                        alpha = r
            for a in range(k):
                i = idx[a]
                z[i] = z[i] + alpha * (sol[a] - z[i])
                if z[i] <= 0.0:
                    z[i] = 0.0
                    passive[i] = False
    return it


@register_kernel("bcd_csc_cols_axpy", "numba")
@njit(**_opts)
def bcd_csc_cols_axpy(indptr, indices, data, cols, d, out):
    for a in range(cols.shape[0]):
        dc = np.float64(d[a])
        if dc == 0.0:
            continue
        c = cols[a]
        for q in range(indptr[c], indptr[c + 1]):
            out[indices[q]] += np.float64(data[q]) * dc
    return out


@register_kernel("bcd_csc_gather", "numba")
@njit(**_opts)
def bcd_csc_gather(indptr, indices, data, cols, out):
    n = out.shape[0]
    for a in range(cols.shape[0]):
        for i in range(n):
            out[i, a] = 0.0
        c = cols[a]
        for q in range(indptr[c], indptr[c + 1]):
            out[indices[q], a] = data[q]
    return out


@register_kernel("bcd_csc_cols_rows", "numba")
@njit(**_opts)
def bcd_csc_cols_rows(indptr, indices, data, cols, D, mark, rows, vals):
    k = D.shape[1]
    cnt = 0
    for a in range(cols.shape[0]):
        c = cols[a]
        for q in range(indptr[c], indptr[c + 1]):
            r = indices[q]
            pos = mark[r]
            if pos < 0:
                pos = cnt
                mark[r] = cnt
                rows[cnt] = r
                for t in range(k):
                    vals[cnt, t] = 0.0
                cnt += 1
            v = np.float64(data[q])
            for t in range(k):
                vals[pos, t] += v * D[a, t]
    for s in range(cnt):
        mark[rows[s]] = -1
    return cnt


@register_kernel("bcd_csr_rows_tmatvec", "numba")
@njit(**_opts)
def bcd_csr_rows_tmatvec(indptr, indices, data, rows, vals, out):
    k = vals.shape[1]
    work = 0
    if k == 1:
        for s in range(rows.shape[0]):
            r = rows[s]
            v = vals[s, 0]
            lo, hi = indptr[r], indptr[r + 1]
            for q in range(lo, hi):
                out[indices[q], 0] += data[q] * v
            work += hi - lo
        return work
    for s in range(rows.shape[0]):
        r = rows[s]
        for q in range(indptr[r], indptr[r + 1]):
            v = np.float64(data[q])
            j = indices[q]
            for t in range(k):
                out[j, t] += v * vals[s, t]
        work += indptr[r + 1] - indptr[r]
    return work


@register_kernel("bcd_csc_block_grams", "numba")
@njit(**_opts)
def bcd_csc_block_grams(indptr, indices, data, blocks, w, out):
    n_blocks, bs = blocks.shape
    for i in range(n_blocks):
        for a in range(bs):
            c = blocks[i, a]
            for q in range(indptr[c], indptr[c + 1]):
                w[indices[q]] = data[q]
            for e in range(a, bs):
                c2 = blocks[i, e]
                s = 0.0
                for q in range(indptr[c2], indptr[c2 + 1]):
                    s += np.float64(data[q]) * w[indices[q]]
                out[i, a, e] = s
                out[i, e, a] = s
            for q in range(indptr[c], indptr[c + 1]):
                w[indices[q]] = 0.0
    return out
