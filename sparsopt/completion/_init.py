"""Spectral initialisation and factor bookkeeping, in ``O(|Omega| k + (m + n) k^2)``."""

from __future__ import annotations

import numpy as np


def randomized_svd_sparse(A, k, *, n_oversamples=10, n_power_iter=2, rng):
    """Top-``k`` SVD of a sparse (or any ``@``-able) ``(m, n)`` matrix by a randomized
    range finder with ``n_power_iter`` QR-stabilised power iterations (Halko, Martinsson
    and Tropp 2011). Returns ``(U, s, Vt)`` in float64."""
    m, n = A.shape
    ell = min(k + n_oversamples, m, n)
    Q = np.linalg.qr(A @ rng.standard_normal((n, ell)))[0]
    At = A.T
    for _ in range(n_power_iter):
        Q = np.linalg.qr(At @ Q)[0]
        Q = np.linalg.qr(A @ Q)[0]
    B = np.asarray(At @ Q).T  # (ell, n) = Q^T A
    Ub, s, Vt = np.linalg.svd(B, full_matrices=False)
    return Q @ Ub[:, :k], s[:k], Vt[:k]


def balance(U, V):
    """Balanced factors of ``U V^T``: ``(P sqrt(S), Q sqrt(S), s)`` from its thin SVD."""
    dtype = U.dtype
    Qu, Ru = np.linalg.qr(U.astype(np.float64))
    Qv, Rv = np.linalg.qr(V.astype(np.float64))
    A, s, Bt = np.linalg.svd(Ru @ Rv.T)
    r = np.sqrt(s)
    U2 = np.ascontiguousarray((Qu @ A) * r, dtype=dtype)
    V2 = np.ascontiguousarray((Qv @ Bt.T) * r, dtype=dtype)
    return U2, V2, s.astype(dtype)


def orthonormalize(F):
    """``Q`` of the thin QR of ``F`` (same dtype, C-contiguous)."""
    return np.ascontiguousarray(np.linalg.qr(F.astype(np.float64))[0], dtype=F.dtype)


def clip_rows(U, mu):
    """Zero the entries of an orthonormal ``U`` with ``|U_ij| > 2 mu sqrt(k / m)`` (JNS13's
    trimming); ``mu=None`` estimates the incoherence as ``(m / k) max_i ||U_i||^2``."""
    m, k = U.shape
    if mu is None:
        mu = (m / k) * float(np.max(np.sum(U.astype(np.float64) ** 2, axis=1)))
    thr = 2.0 * mu * np.sqrt(k / m)
    out = U.copy()
    out[np.abs(out) > thr] = 0.0
    return out, mu
