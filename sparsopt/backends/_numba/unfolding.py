"""Numba kernels of the unfolded layers' shrinkage operators (``sparsopt.unfolding``).

One fused pass over a C-contiguous 2-D batch computes the shrunk values and the masks the
backward pass needs (NumPy needs several temporaries). The layer products
``(Y - X A^T) W`` are BLAS GEMMs and stay in NumPy. See ``backends/_numpy/unfolding.py``
for the argument conventions.
"""

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


@register_kernel("unfold_soft_shrink", "numba")
@njit(**_opts)
def unfold_soft_shrink(R, theta, out, mask):
    nb, n = R.shape
    for b in range(nb):
        for i in range(n):
            r = R[b, i]
            th = theta[i]
            if r > th:
                out[b, i] = r - th
                mask[b, i] = True
            elif r < -th:
                out[b, i] = r + th
                mask[b, i] = True
            else:
                out[b, i] = 0
                mask[b, i] = False
    return out, mask


@register_kernel("unfold_hard_shrink", "numba")
@njit(**_opts)
def unfold_hard_shrink(R, tau, out, mask):
    nb, n = R.shape
    for b in range(nb):
        for i in range(n):
            r = R[b, i]
            if abs(r) > tau[i]:
                out[b, i] = r
                mask[b, i] = True
            else:
                out[b, i] = 0
                mask[b, i] = False
    return out, mask


@njit(**_opts)
def _support_select_pass(R, theta, kth, out, mask, bypass):
    nb, n = R.shape
    for b in range(nb):
        kb = kth[b]
        for i in range(n):
            r = R[b, i]
            a = abs(r)
            th = theta[i]
            if a > th:
                mask[b, i] = True
                if a >= kb:
                    bypass[b, i] = True
                    out[b, i] = r
                else:
                    bypass[b, i] = False
                    out[b, i] = r - th if r > 0 else r + th
            else:
                mask[b, i] = False
                bypass[b, i] = False
                out[b, i] = 0
    return out, mask, bypass


@register_kernel("unfold_support_select", "numba")
def unfold_support_select(R, theta, k, out, mask, bypass):
    """The per-row ``k``-th largest ``|r|`` comes from NumPy's introselect
    (``np.partition``, several times faster here than a selection loop compiled by Numba),
    then one fused Numba pass writes the output and both masks."""
    n = R.shape[1]
    if k > 0 and n > 0:
        kth = np.partition(np.abs(R), n - k, axis=1)[:, n - k]
    else:
        kth = np.full(R.shape[0], np.inf, dtype=R.dtype)
    return _support_select_pass(R, theta, np.ascontiguousarray(kth), out, mask, bypass)


@register_kernel("unfold_adam", "numba")
@njit(cache=True, nogil=True, error_model="numpy")
def unfold_adam(P, G, M, V, mult, coef):
    # one fused pass over the parameters (NumPy needs ~8 passes or temporaries). The
    # operations are those of the textbook update in its order (in float64 the same bits
    # as an unfused float64 Adam); the coefficients come in P's dtype so that float32 stays
    # float32 arithmetic, and error_model="numpy" drops the zero-division checks (the
    # divisors are > 0) that kept this loop from vectorising: 5.5x faster in float32.
    gscale, lr, beta1, a1, beta2, a2, c1, c2, eps = (
        coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6], coef[7], coef[8])
    nr, nc = P.shape
    for i in range(nr):
        s = lr * mult[i]
        for j in range(nc):
            g = G[i, j] * gscale
            m = beta1 * M[i, j] + a1 * g
            v = beta2 * V[i, j] + a2 * g * g
            M[i, j] = m
            V[i, j] = v
            P[i, j] -= s * (m / c1) / (np.sqrt(v / c2) + eps)
    return P, M, V
