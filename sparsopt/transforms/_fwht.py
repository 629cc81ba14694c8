"""Dense fast Walsh-Hadamard transform: ``fwht`` and ``ifwht``."""

from __future__ import annotations

import numpy as np

from ..backends import dispatch


def _check_length(n, name="x"):
    if n < 1 or (n & (n - 1)) != 0:
        raise ValueError(
            f"{name}: the transformed axis must have a length that is a power of two, got {n}."
        )


def fwht(x, *, axis=-1, normalize=None, out=None, n_jobs=None, engine=None):
    """Fast Walsh-Hadamard transform along one axis, in natural (Hadamard) order.

    ``X[k] = sum_m x[m] * (-1) ** popcount(m & k)``; with ``normalize="ortho"``
    the result is divided by ``sqrt(n)`` so that the transform is orthogonal.

    Parameters
    ----------
    x : array_like of shape (..., n, ...)
        Input; ``n`` (the length along ``axis``) must be a power of two.
        float32 stays float32; other dtypes are computed in float64.
    axis : int, default=-1
        Axis to transform.
    normalize : {None, "ortho"}, default=None
        Scaling: none, or ``1 / sqrt(n)``.
    out : ndarray, optional
        Where to write the result (may be ``x`` itself for an in-place transform).
    n_jobs : int, default=None
        Threads over the batch (leading axes).
    engine : {"numpy", "numba"}, default=None
        Kernel backend; ``None`` picks the fastest available.

    Returns
    -------
    X : ndarray of the shape of ``x``
        The transform.

    References
    ----------
    .. [1] Fino, B. J. and Algazi, V. R. (1976). Unified matrix treatment of the
       fast Walsh-Hadamard transform. IEEE Trans. Computers, C-25(11), 1142-1146.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.transforms import fwht
    >>> fwht(np.array([1.0, 0.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    if normalize not in (None, "ortho"):
        raise ValueError(f"normalize must be None or 'ortho', got {normalize!r}.")
    n = x.shape[axis] if x.ndim else 0
    _check_length(n)
    moved = np.moveaxis(x, axis, -1)
    work = np.ascontiguousarray(moved, dtype=dtype).reshape(-1, n)
    if work is moved or np.shares_memory(work, x):
        work = work.copy()
    dispatch("fwht_rows", work, engine=engine)
    if normalize == "ortho":
        work *= 1.0 / np.sqrt(n)
    res = np.moveaxis(work.reshape(moved.shape), -1, axis)
    if out is not None:
        out[...] = res
        return out
    return res


def ifwht(X, *, axis=-1, normalize=None, out=None, n_jobs=None, engine=None):
    """Inverse of :func:`fwht`: ``fwht(X) / n`` (or ``fwht(X, normalize="ortho")``).

    Parameters are those of :func:`fwht`.

    Returns
    -------
    x : ndarray of the shape of ``X``

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.transforms import fwht, ifwht
    >>> x = np.arange(8.0)
    >>> np.allclose(ifwht(fwht(x)), x)
    True
    """
    res = fwht(X, axis=axis, normalize=normalize, out=out, n_jobs=n_jobs, engine=engine)
    if normalize is None:
        res *= 1.0 / res.shape[axis]
    return res
