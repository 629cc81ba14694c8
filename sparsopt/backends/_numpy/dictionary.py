"""NumPy references of the dictionary-learning kernels (the oracle of the Numba ones).

Both are namespace-generic (``array_api=True``): they run unchanged on CuPy,
``array_api_strict`` or PyTorch arrays, with the updates in place and no host transfer.
"""

from .._namespace import array_namespace, device, is_numpy_namespace
from .._registry import register_kernel


@register_kernel("dict_bcd_sweep", "numpy", array_api=True)
def dict_bcd_sweep(D, A, Bt, skip, positive, unit=False, u=None):
    """One BCD sweep over the atoms, in place (same arithmetic, one atom at a time).

    Each atom is computed in float64 (as the Numba kernel's work vector ``u``, unused
    here) from the dictionary as stored (so a float32 dictionary's rounding feeds the
    next atoms, as in the compiled sweep). NumPy skips the atoms with ``skip[j]`` (a host
    test); other namespaces compute every atom and keep the skipped ones with
    ``where`` (no host synchronisation per atom).
    """
    xp = array_namespace(D, A, Bt, skip)
    host = is_numpy_namespace(xp)
    f64 = xp.float64
    dev = device(D)
    one = xp.ones((), dtype=f64, device=dev)
    A64 = xp.astype(A, f64)
    B64 = xp.astype(Bt, f64)
    D64 = xp.astype(D, f64, copy=True)  # the dictionary as stored, in float64
    for j in range(D.shape[0]):
        if host and skip[j]:
            continue
        ajj = A64[j, j] if host else xp.where(skip[j], one, A64[j, j])  # no 0/0 if skipped
        v = D64[j, :] + (B64[j, :] - A64[j, :] @ D64) / ajj
        if positive:
            v = xp.clip(v, min=0.0)
        nrm = xp.linalg.vector_norm(v)
        project = (nrm > 1.0) | ((nrm > 0.0) if unit else False)
        new = xp.astype(v / xp.where(project, nrm, one), D.dtype)
        if not host:
            new = xp.where(skip[j], D[j, :], new)
        D[j, :] = new
        D64[j, :] = xp.astype(new, f64)


@register_kernel("dict_stats_update", "numpy", array_api=True)
def dict_stats_update(A, Bt, C, X, beta, scale, idx=None):
    """``A <- beta A + scale C^T C``, ``Bt <- beta Bt + scale C^T X`` (dense products).

    ``idx`` (the Numba kernel's work vector) is unused.
    """
    A *= beta
    A += (C.T @ C) * scale
    Bt *= beta
    Bt += (C.T @ X) * scale
