"""NumPy reference kernels of the pruning family (``sparsopt.pruning``).

* ``nm_mask``: the N:M mask of a layer ``(n_in, n_out)`` along axis 0, by a stable
  argsort of each group of ``m`` rows.
"""

import numpy as np

from .._registry import register_kernel


@register_kernel("nm_mask", "numpy")
def nm_mask(W, n, m):
    """Keep the ``n`` largest ``|W|`` in every ``m`` consecutive rows of each column.

    ``W`` has shape ``(n_in, n_out)`` with ``n_in % m == 0``. Ties go to the lower
    row. Returns a bool array of the shape of ``W``.
    """
    n_in, n_out = W.shape
    g = np.abs(W).reshape(n_in // m, m, n_out)
    order = np.argsort(-g, axis=1, kind="stable")  # stable: equal magnitudes, lower row first
    keep = np.zeros(g.shape, dtype=bool)
    np.put_along_axis(keep, order[:, :n, :], True, axis=1)
    return keep.reshape(n_in, n_out)
