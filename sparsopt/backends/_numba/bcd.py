"""Numba kernels: Block coordinate descent with greedy rules (solver ``sparsopt.solvers.bcd``).

Mirrors ``sparsopt/backends/_numpy/bcd.py`` (see there for the semantics).
"""

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


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
        dc = float(d[a])
        if dc == 0.0:
            continue
        c = cols[a]
        for q in range(indptr[c], indptr[c + 1]):
            out[indices[q]] += float(data[q]) * dc
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
