"""NumPy reference for the fast Walsh-Hadamard transform.

``fwht_rows(x)`` transforms every row of a C-contiguous 2-D array in place,
unnormalised and in natural (Hadamard) order:
``X[r, k] = sum_m x[r, m] * (-1) ** popcount(m & k)``.
The butterflies are vectorised over the rows and over each stage's blocks.
"""

import numpy as np

from .._registry import register_kernel


@register_kernel("fwht_rows", "numpy")
def fwht_rows(x):
    n_rows, n = x.shape
    h = 1
    while h < n:
        v = x.reshape(n_rows, n // (2 * h), 2, h)
        a = v[:, :, 0, :].copy()
        b = v[:, :, 1, :]
        v[:, :, 0, :] += b
        np.subtract(a, b, out=v[:, :, 1, :])
        h *= 2
    return x
