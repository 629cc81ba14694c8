"""Numba kernels of the pruning family (``sparsopt.pruning``).

* ``nm_mask``: the N:M mask of a layer ``(n_in, n_out)`` along axis 0: a weight is kept
  when fewer than ``n`` weights of its group of ``m`` rows beat it (larger magnitude,
  or equal magnitude and a lower row).
"""

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


@register_kernel("nm_mask", "numba")
@njit(**_opts)
def nm_mask(W, n, m):
    """Keep the ``n`` largest ``|W|`` in every ``m`` consecutive rows of each column
    (ties: the lower row). ``W`` is ``(n_in, n_out)`` with ``n_in % m == 0``."""
    n_in, n_out = W.shape
    keep = np.zeros((n_in, n_out), dtype=np.bool_)
    for g0 in range(0, n_in, m):
        for j in range(n_out):
            for a in range(g0, g0 + m):
                wa = abs(W[a, j])
                rank = 0
                for b in range(g0, g0 + m):
                    wb = abs(W[b, j])
                    if wb > wa or (wb == wa and b < a):
                        rank += 1
                keep[a, j] = rank < n
    return keep
