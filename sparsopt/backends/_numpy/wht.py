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

Both are namespace-generic (``array_api=True``): on NumPy arrays they run the in-place
butterflies above; on any other array-API array (CuPy, ``array_api_strict``) the same
radix-2 stages are computed out of place with ``xp.reshape``/``xp.stack`` (the standard
does not promise that a reshape is a view, so no write goes through one) and the result
is written back into ``x`` at the end, so the in-place contract holds there too.
"""

import numpy as np

from .._namespace import array_namespace, is_numpy_namespace
from .._registry import register_kernel


def _fwht_generic(xp, x, pre, n, post):
    """Radix-2 stages on a namespace array viewed as ``(pre, n, post)``; writes into ``x``.

    Stage ``h`` pairs the halves of every block of ``2 h`` positions: with the block axis
    split as ``(n / 2h, 2, h)``, ``(a, b) -> (a + b, a - b)``; ``log2(n)`` vectorised
    stages, each a fresh array (no in-place writes through reshapes).
    """
    shape = x.shape
    w = xp.reshape(x, (pre, n, post))
    h = 1
    while h < n:
        v = xp.reshape(w, (pre, n // (2 * h), 2, h, post))
        a = v[:, :, 0, ...]
        b = v[:, :, 1, ...]
        w = xp.reshape(xp.stack((a + b, a - b), axis=2), (pre, n, post))
        h *= 2
    x[...] = xp.reshape(w, shape)
    return x


@register_kernel("fwht_rows", "numpy", array_api=True)
def fwht_rows(x, scale=1, n_threads=1):
    n_rows, n = x.shape
    xp = array_namespace(x)
    if not is_numpy_namespace(xp):
        _fwht_generic(xp, x, n_rows, n, 1)
        if scale != 1:
            x[...] = x * float(scale)
        return x
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


@register_kernel("fwht_axis", "numpy", array_api=True)
def fwht_axis(x, scale=1, n_threads=1):
    pre, n, post = x.shape
    xp = array_namespace(x)
    if not is_numpy_namespace(xp):
        _fwht_generic(xp, x, pre, n, post)
        if scale != 1:
            x[...] = x * float(scale)
        return x
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
