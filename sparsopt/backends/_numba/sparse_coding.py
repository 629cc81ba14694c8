"""Numba kernels for batched sparse coding, mirroring ``_numpy/sparse_coding.py``."""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel
from .prox import N_CONSTS, prox_apply_clip, prox_consts

_opts = dict(cache=True, nogil=True)


@njit(**_opts)
def _init_q(G, B, C, i, q):
    """``q = B_i - C_i G`` using the non-zeros of row ``i`` of the codes."""
    k = q.size
    for l in range(k):
        q[l] = B[i, l]
    for j in range(k):
        cj = C[i, j]
        if cj != 0.0:
            for l in range(k):
                q[l] -= cj * G[j, l]


@register_kernel("cd_gram", "numba")
@njit(**_opts)
def cd_gram(G, B, C, kind, params, a, step_scale, lower, upper, max_iter, tol, n_iter):
    """Proximal coordinate descent per row; the penalty is a :class:`PenaltySpec`
    (``kind``, ``params``) under the box ``[lower, upper]`` (see the NumPy reference)."""
    n, k = B.shape
    consts = np.zeros((k, N_CONSTS))
    steps = np.zeros(k)
    na = a.size
    for j in range(k):
        g = G[j, j]
        if g > 0.0:
            steps[j] = step_scale / g
            prox_consts(kind, params, steps[j], a[j % na], consts[j])
    q = np.empty(k)
    for i in range(n):
        _init_q(G, B, C, i, q)
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007 (it is read after the loop)
            max_change = 0.0
            max_abs = 0.0
            for j in range(k):
                step = steps[j]
                if step == 0.0:
                    continue
                cj = C[i, j]
                C[i, j] = prox_apply_clip(kind, cj + step * q[j], consts[j], lower, upper)
                new = C[i, j]  # read back in the array's dtype (float32 stays float32)
                d = new - cj
                if d != 0.0:
                    for l in range(k):
                        q[l] -= d * G[j, l]
                    if abs(d) > max_change:
                        max_change = abs(d)
                if abs(new) > max_abs:
                    max_abs = abs(new)
            if max_change <= tol * max_abs:
                break
        n_iter[i] = it
    return C


@register_kernel("topk_threshold", "numba")
@njit(**_opts)
def topk_threshold(V, k, out):
    n, m = V.shape
    kk = min(k, m)
    neg = np.empty(m)
    for i in range(n):
        for j in range(m):
            neg[j] = -abs(V[i, j])
            out[i, j] = 0.0
        order = np.argsort(neg, kind="mergesort")  # stable: lower index wins ties
        for r in range(kk):
            j = order[r]
            out[i, j] = V[i, j]
    return out


@register_kernel("cd_gram_l1", "numba")
@njit(**_opts)
def cd_gram_l1(G, B, C, alpha, positive, max_iter, tol, n_iter):
    """``cd_gram`` specialised to ``alpha * ||c||_1`` (the common case).

    Same iterates as ``cd_gram`` with the L1 penalty and unit step scale; the soft
    threshold is inlined with per-atom constants, which removes the generic
    penalty dispatch from the innermost loop (about 2x faster), and zero codes that
    stay zero (``|q_j| <= alpha``) are skipped before any arithmetic (1.3x more).
    """
    n, k = B.shape
    inv = np.zeros(k)
    thr = np.zeros(k)
    for j in range(k):
        if G[j, j] > 0.0:
            inv[j] = 1.0 / G[j, j]
            thr[j] = alpha * inv[j]
    q = np.empty(k)
    for i in range(n):
        _init_q(G, B, C, i, q)
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007 (it is read after the loop)
            max_change = 0.0
            max_abs = 0.0
            for j in range(k):
                cj = C[i, j]
                qj = q[j]
                # a zero code whose |q_j| <= alpha stays zero: skip it without touching C
                # (bit-identical to the full update, which rounds monotonically to v <= 0)
                if cj == 0.0 and (qj <= alpha if positive else abs(qj) <= alpha):
                    continue
                if inv[j] == 0.0:
                    continue
                z = cj + inv[j] * qj
                v = abs(z) - thr[j]
                if v <= 0.0 or (positive and z < 0.0):
                    C[i, j] = 0.0
                else:
                    C[i, j] = math.copysign(v, z)
                new = C[i, j]
                d = new - cj
                if d != 0.0:
                    for l in range(k):
                        q[l] -= d * G[j, l]
                    if abs(d) > max_change:
                        max_change = abs(d)
                if abs(new) > max_abs:
                    max_abs = abs(new)
            if max_change <= tol * max_abs:
                break
        n_iter[i] = it
    return C
