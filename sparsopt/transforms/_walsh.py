"""Bit-packed binary points and sparse Walsh expansions.

A point or frequency of ``F_2^n`` (``n <= 62``) is stored as one int64 whose bit ``i`` is
coordinate ``i``. The Walsh function of frequency ``k`` at ``m`` is
``(-1) ** popcount(m & k)``, and a sparse Walsh expansion is
``f(m) = sum_k values[k] * (-1) ** popcount(m & k)``.
"""

from __future__ import annotations

import numpy as np

from ..backends import dispatch, require_host

MAX_BITS = 62


def host_only(owner, *arrays):
    """Refuse non-NumPy array-API arrays (CuPy, ``array_api_strict`` ...) with a clear error.

    The bit-packed helpers and SPRIGHT are host code (int64 bit tricks, Numba kernels,
    hashing); only the dense :func:`~sparsopt.transforms.fwht` follows its input's namespace.
    """
    require_host(owner, *arrays, reason="bit-packed host code",
                 alternative="use the dense fwht/ifwht, which accept array-API arrays")


def check_n_bits(n_bits, owner):
    """``n_bits`` as an int in ``[1, 62]`` (a point is one int64)."""
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)):
        raise TypeError(f"{owner}: n_bits must be an integer, got {n_bits!r}.")
    if not 1 <= n_bits <= MAX_BITS:
        raise ValueError(f"{owner}: n_bits must be between 1 and {MAX_BITS} (points are "
                         f"bit-packed into int64), got {n_bits}.")
    return int(n_bits)


def parity(a):
    """``popcount(a) mod 2`` of an int64 array, as int64 (by xor-folding)."""
    a = np.asarray(a, dtype=np.int64).view(np.uint64)
    for s in (32, 16, 8, 4, 2, 1):
        a = a ^ (a >> np.uint64(s))
    return (a & np.uint64(1)).astype(np.int64)


def pack_bits(X):
    """Bit-pack the rows of a binary matrix into int64 (bit ``i`` = column ``i``).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_bits)
        Entries 0/1 (or booleans); ``n_bits <= 62``.

    Returns
    -------
    packed : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> from sparsopt.transforms import pack_bits
    >>> pack_bits([[1, 0, 1], [0, 1, 0]])
    array([5, 2])
    """
    host_only("pack_bits", X)
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"pack_bits: X must be 2-D (n_samples, n_bits), got shape {X.shape}.")
    check_n_bits(X.shape[1], "pack_bits")
    if X.dtype != bool and not np.all((X == 0) | (X == 1)):
        raise ValueError("pack_bits: X must hold only 0 and 1.")
    packed = np.packbits(X.astype(bool, copy=False), axis=1, bitorder="little")
    words = np.zeros((X.shape[0], 8), dtype=np.uint8)
    words[:, :packed.shape[1]] = packed
    return words.view("<u8").ravel().astype(np.int64)


def unpack_bits(packed, n_bits):
    """Inverse of :func:`pack_bits`: a ``(len(packed), n_bits)`` int8 0/1 matrix.

    Parameters
    ----------
    packed : array_like of int, shape (n_points,)
        Bit-packed points (non-negative, below ``2 ** n_bits``; others raise
        ``ValueError``).
    n_bits : int
        Number of coordinates (at most 62).

    Returns
    -------
    X : ndarray of shape (n_points, n_bits), dtype int8

    Examples
    --------
    >>> from sparsopt.transforms import unpack_bits
    >>> unpack_bits([5, 2], 3)
    array([[1, 0, 1],
           [0, 1, 0]], dtype=int8)
    """
    n_bits = check_n_bits(n_bits, "unpack_bits")
    host_only("unpack_bits", packed)
    packed = np.asarray(packed)
    if packed.ndim != 1 or (packed.size and packed.dtype.kind not in "iu"):
        raise TypeError(f"unpack_bits: packed must be a 1-D array of integers, got shape "
                        f"{packed.shape} and dtype {packed.dtype}.")
    if packed.size and (int(packed.min()) < 0 or int(packed.max()) >= 2**n_bits):
        raise ValueError(f"unpack_bits: packed points must be in [0, 2**n_bits) = "
                         f"[0, 2**{n_bits}), got values in [{int(packed.min())}, "
                         f"{int(packed.max())}].")
    packed = np.ascontiguousarray(packed, dtype="<i8")
    bits = np.unpackbits(packed.view(np.uint8).reshape(-1, 8), axis=1, count=n_bits,
                         bitorder="little")
    return bits.view(np.int8)


def _as_packed(X, owner):
    host_only(owner, X)
    X = np.asarray(X)
    if X.ndim == 1:
        if X.dtype.kind not in "iu":
            raise TypeError(f"{owner}: 1-D X must hold bit-packed integer points, got "
                            f"dtype {X.dtype}.")
        return X.astype(np.int64)
    return pack_bits(X)


def _check_indices(indices, owner):
    host_only(owner, indices)
    indices = np.asarray(indices)
    if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
        raise TypeError(f"{owner}: indices must be a 1-D array of bit-packed integer "
                        "frequencies.")
    indices = indices.astype(np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= 2**MAX_BITS):
        raise ValueError(f"{owner}: indices must be in [0, 2**{MAX_BITS}).")
    return indices


def walsh_features(X, indices, *, dtype=np.float64):
    """Walsh functions ``(-1) ** popcount(x & k)`` of the points at the frequencies.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_bits) or (n_samples,)
        Binary 0/1 points, or bit-packed int64 points.
    indices : array_like of int of shape (n_indices,)
        Bit-packed frequencies.
    dtype : {np.float64, np.float32}, default=np.float64
        dtype of the result.

    Returns
    -------
    features : ndarray of shape (n_samples, n_indices)
        Entries +1 and -1.

    Examples
    --------
    >>> from sparsopt.transforms import walsh_features
    >>> walsh_features([[0, 0], [1, 0], [1, 1]], [0, 1, 3])
    array([[ 1.,  1.,  1.],
           [ 1., -1., -1.],
           [ 1., -1.,  1.]])
    """
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"walsh_features: dtype must be np.float32 or np.float64, got "
                        f"{np.dtype(dtype)}.")
    m = _as_packed(X, "walsh_features")
    k = _check_indices(indices, "walsh_features")
    return (1 - 2 * parity(m[:, None] & k[None, :])).astype(dtype)


def walsh_expansion(X, indices, values, *, engine=None):
    """Evaluate a sparse Walsh expansion ``sum_k values[k] (-1) ** popcount(x & k)``.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_bits) or (n_samples,)
        Binary 0/1 points, or bit-packed int64 points.
    indices : array_like of int of shape (n_indices,)
        Bit-packed frequencies.
    values : array_like of shape (n_indices,)
        Coefficients (float32 gives a float32 result).
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend of the ``walsh_eval`` op.

    Returns
    -------
    f : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sparsopt.transforms import walsh_expansion
    >>> walsh_expansion([[0, 0], [1, 0], [1, 1]], [0, 3], [2.0, 0.5])
    array([2.5, 1.5, 2.5])
    """
    m = np.ascontiguousarray(_as_packed(X, "walsh_expansion"))
    k = np.ascontiguousarray(_check_indices(indices, "walsh_expansion"))
    host_only("walsh_expansion", values)
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"walsh_expansion: values must be real numbers, got dtype "
                        f"{values.dtype}.")
    dtype = np.float32 if values.dtype == np.float32 else np.float64
    values = np.ascontiguousarray(values, dtype=dtype)
    if values.shape != k.shape:
        raise ValueError(f"walsh_expansion: values must have the shape of indices "
                         f"{k.shape}, got {values.shape}.")
    out = np.empty(m.shape[0], dtype=dtype)
    if k.size == 0:
        out[:] = 0
        return out
    return dispatch("walsh_eval", m, k, values, out, engine=engine)
