"""NumPy references of the dictionary-learning kernels (the oracle of the Numba ones)."""

import numpy as np

from .._registry import register_kernel


@register_kernel("dict_bcd_sweep", "numpy")
def dict_bcd_sweep(D, A, Bt, skip, positive, unit=False, u=None):
    """One BCD sweep over the atoms, in place (same arithmetic, one atom at a time)."""
    for j in range(D.shape[0]):
        if skip[j]:
            continue
        v = D[j] + (Bt[j].astype(np.float64) - A[j].astype(np.float64) @ D) / float(A[j, j])
        if positive:
            np.maximum(v, 0.0, out=v)
        nrm = float(np.linalg.norm(v))
        D[j] = v / nrm if (nrm > 1.0 or (unit and nrm > 0.0)) else v


@register_kernel("dict_stats_update", "numpy")
def dict_stats_update(A, Bt, C, X, beta, scale, idx=None):
    """``A <- beta A + scale C^T C``, ``Bt <- beta Bt + scale C^T X`` (dense products)."""
    A *= beta
    A += (C.T @ C) * scale
    Bt *= beta
    Bt += (C.T @ X) * scale
