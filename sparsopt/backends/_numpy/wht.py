"""NumPy reference for the fast Walsh-Hadamard transform.

``fwht_rows(x, scale=1, n_threads=1)`` transforms every row of a C-contiguous 2-D
array in place, unnormalised (then multiplied by ``scale``) and in natural (Hadamard)
order: ``X[r, k] = scale * sum_m x[r, m] * (-1) ** popcount(m & k)``. float32,
float64 and int64 (exact) arrays. ``n_threads`` is accepted for the common signature
and ignored. The butterflies are radix-2, one stage at a time, vectorised over the
rows and over each stage's blocks (the Numba kernel fuses stages and blocks for the
caches, so the two are computed differently).

``fwht_axis(x, scale=1, n_threads=1)`` does the same along axis 1 of a C-contiguous
3-D array ``(pre, n, post)``, in place (the Numba kernel works on column panels).
"""

import numpy as np

from .._registry import register_kernel


@register_kernel("fwht_rows", "numpy")
def fwht_rows(x, scale=1, n_threads=1):
    n_rows, n = x.shape
    h = 1
    while h < n:
        v = x.reshape(n_rows, n // (2 * h), 2, h)
        a = v[:, :, 0, :].copy()
        b = v[:, :, 1, :]
        v[:, :, 0, :] += b
        np.subtract(a, b, out=v[:, :, 1, :])
        h *= 2
    if scale != 1:
        x *= x.dtype.type(scale)
    return x


@register_kernel("fwht_axis", "numpy")
def fwht_axis(x, scale=1, n_threads=1):
    pre, n, post = x.shape
    h = 1
    while h < n:
        v = x.reshape(pre, n // (2 * h), 2, h, post)
        a = v[:, :, 0].copy()
        b = v[:, :, 1]
        v[:, :, 0] += b
        np.subtract(a, b, out=v[:, :, 1])
        h *= 2
    if scale != 1:
        x *= x.dtype.type(scale)
    return x
