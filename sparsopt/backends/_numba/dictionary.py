"""Numba kernels of dictionary learning: the BCD atom sweep and the online statistics.

Mirrors :mod:`.._numpy.dictionary` (same arguments, in-place results).
"""

import math

from numba import njit

from .._registry import register_kernel


@register_kernel("dict_bcd_sweep", "numba")
@njit(cache=True, nogil=True)
def dict_bcd_sweep(D, A, Bt, skip, positive, unit, u):
    """One BCD sweep over the atoms, in place.

    ``D`` (k, f), ``A`` (k, k), ``Bt = C^T X`` (k, f); atoms with ``skip[j]`` are left as
    they are; ``unit``: project on the unit sphere instead of the ball; ``u`` is a float64
    work vector of length f.
    """
    k, f = D.shape
    for j in range(k):
        if skip[j]:
            continue
        for t in range(f):
            u[t] = Bt[j, t]
        for i in range(k):
            a = A[j, i]
            if a != 0.0:
                for t in range(f):
                    u[t] -= a * D[i, t]
        inv = 1.0 / A[j, j]
        nrm = 0.0
        for t in range(f):
            v = D[j, t] + u[t] * inv
            if positive and v < 0.0:
                v = 0.0
            u[t] = v
            nrm += v * v
        scale = 1.0
        if nrm > 1.0 or (unit and nrm > 0.0):
            scale = 1.0 / math.sqrt(nrm)
        for t in range(f):
            D[j, t] = u[t] * scale


@register_kernel("dict_stats_update", "numba")
@njit(cache=True, nogil=True)
def dict_stats_update(A, Bt, C, X, beta, scale, idx):
    """``A <- beta A + scale C^T C``, ``Bt <- beta Bt + scale C^T X`` using the zeros of C.

    Sparse codes (a few non-zeros per row) make this ``O(b s^2 + b s f)`` instead of the
    dense ``O(b k^2 + b k f)`` products; ``idx`` is an int64 work vector of length k.
    """
    k = A.shape[0]
    f = Bt.shape[1]
    for i in range(k):
        for j in range(k):
            A[i, j] *= beta
        for t in range(f):
            Bt[i, t] *= beta
    for r in range(C.shape[0]):
        m = 0
        for j in range(k):
            if C[r, j] != 0.0:
                idx[m] = j
                m += 1
        for p in range(m):
            jp = idx[p]
            cp = C[r, jp] * scale
            for q in range(m):
                A[jp, idx[q]] += cp * C[r, idx[q]]
            for t in range(f):
                Bt[jp, t] += cp * X[r, t]
