"""Numba Batch-OMP, mirroring :mod:`sparsopt.backends._numpy.omp`.

Same algorithm, stopping rules and constants as the NumPy reference (see its module
docstring), organised so that every step costs ``O(n_components)`` per selected atom
and nothing is solved from scratch. With ``Q = D_S^T L^{-T}`` the orthonormal basis
of the selected atoms (``L L^T = G_SS``), keep ``U[j] = D q_j`` (the correlations of
all atoms with ``q_j``) and ``z_j = q_j . x``. When atom ``lam`` enters:

* the new row of ``L`` is ``w_j = U[j, lam]`` (no forward substitution),
  and ``d = G_{lam,lam} - w.w``;
* ``U[k] = (G[lam] - sum_j w_j U[j]) / sqrt(d)`` and ``z_k = alpha_lam / sqrt(d)``;
* ``alpha -= z_k U[k]`` and ``err -= z_k^2``.

The codes come once per sample from the back substitution ``L^T c_S = z``. This is
the progressive-Cholesky form of Batch-OMP (Rubinstein et al. 2008, section 3); it
equals the reference's ``alpha = B_i - G_{:,S} c_S`` and ``err = ||x||^2 - c_S . B_S``
in exact arithmetic. Work buffers (``n_nonzero x n_components`` and a few vectors) are
allocated once per call; the per-sample loop allocates nothing. ``nogil``.
"""

import math

import numpy as np
from numba import njit

from .._numpy.omp import (
    CORR_RTOL_F32,
    CORR_RTOL_F64,
    DEP_RTOL_F32,
    DEP_RTOL_F64,
    STOP_DEPENDENT,
    STOP_N_NONZERO,
    STOP_TOL,
    STOP_ZERO_CORR,
)
from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


@register_kernel("omp_gram", "numba")
@njit(**_opts)
def omp_gram(G, B, norms_sq, n_nonzero, tol, out):
    """Batch-OMP codes of every row of ``B`` into ``out``.

    Same arguments and returns ``(n_active, stop_reason, residual_sq)`` as the NumPy
    reference :func:`sparsopt.backends._numpy.omp.omp_gram`.
    """
    n, K = B.shape
    kmax = max(0, min(n_nonzero, K))
    corr_rtol = CORR_RTOL_F32 if B.itemsize == 4 else CORR_RTOL_F64
    dep_rtol = DEP_RTOL_F32 if G.itemsize == 4 else DEP_RTOL_F64
    use_tol = tol >= 0.0
    # per-call work buffers (float64 whatever the input dtype)
    U = np.empty((max(kmax, 1), K))
    L = np.empty((max(kmax, 1), max(kmax, 1)))
    z = np.empty(max(kmax, 1))
    c = np.empty(max(kmax, 1))
    idx = np.empty(max(kmax, 1), dtype=np.int64)
    alpha = np.empty(K)
    live = np.empty(K)
    n_active = np.zeros(n, dtype=np.int64)
    stop_reason = np.zeros(n, dtype=np.int64)
    residual_sq = np.zeros(n, dtype=np.float64)

    for i in range(n):
        amax = 0.0
        nxt = 0
        for m in range(K):
            a = np.float64(B[i, m])
            alpha[m] = a
            live[m] = 1.0
            out[i, m] = 0.0
            if abs(a) > amax:
                amax = abs(a)
                nxt = m
        thr = corr_rtol * amax
        nbest = amax  # nxt, nbest: the next atom to try and its |alpha|
        err = np.float64(norms_sq[i])
        k = 0
        reason = STOP_N_NONZERO
        while True:
            if use_tol and err <= tol:
                reason = STOP_TOL
                break
            if k == kmax:
                reason = STOP_N_NONZERO
                break
            lam = nxt  # argmax of |alpha| over the atoms not selected (first on ties)
            if lam < 0 or not nbest > thr:
                reason = STOP_ZERO_CORR
                break
            g = np.float64(G[lam, lam])
            s = 0.0
            for j in range(k):
                w = U[j, lam]
                L[k, j] = w
                s += w * w
            d = g - s
            if not d > dep_rtol * g:
                reason = STOP_DEPENDENT
                break
            lkk = math.sqrt(d)
            L[k, k] = lkk
            inv = 1.0 / lkk
            zk = alpha[lam] * inv
            z[k] = zk
            # U[k] = (G[lam] - sum_j w_j U[j]) / lkk, two rows at a time
            uk = U[k]
            for m in range(K):
                uk[m] = G[lam, m]
            j = 0
            while j + 1 < k:
                w0 = L[k, j]
                w1 = L[k, j + 1]
                u0 = U[j]
                u1 = U[j + 1]
                for m in range(K):
                    uk[m] -= w0 * u0[m] + w1 * u1[m]
                j += 2
            if j < k:
                w0 = L[k, j]
                u0 = U[j]
                for m in range(K):
                    uk[m] -= w0 * u0[m]
            # alpha -= zk U[k], fused with the argmax of the next step (live: 0 if selected)
            live[lam] = 0.0
            nbest = -1.0
            nxt = -1
            for m in range(K):
                v = uk[m] * inv
                uk[m] = v
                a = alpha[m] - zk * v
                alpha[m] = a
                sc = abs(a) * live[m]
                if sc > nbest:
                    nbest = sc
                    nxt = m
            err -= zk * zk
            idx[k] = lam
            k += 1
        # back substitution L^T c = z
        for j in range(k - 1, -1, -1):
            s = z[j]
            for m in range(j + 1, k):
                s -= L[m, j] * c[m]
            c[j] = s / L[j, j]
        for j in range(k):
            out[i, idx[j]] = c[j]
        n_active[i] = k
        stop_reason[i] = reason
        residual_sq[i] = err
    return n_active, stop_reason, residual_sq
