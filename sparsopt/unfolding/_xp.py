"""Array-namespace helpers of the unfolded models (issue 23: arrays stay where they are).

The models' NumPy passes use preallocated buffers, ``out=`` GEMMs and the Numba shrinkage
kernels; for arrays of another namespace (CuPy, ``array_api_strict`` ...) each model has
a second pass written against the standard (``_forward_xp``/``_backward_xp``) which runs
the same layers with new arrays, on the input's device. Parameters given as host arrays
are moved next to the data (once per call: the estimators cache the moved copies).
"""

from __future__ import annotations

import numpy as np

from ..backends import array_namespace, asarray_on, non_numpy_namespace
from ..backends._namespace import is_host_array


def data_namespace(*arrays):
    """The namespace of the non-host arrays among ``arrays``, or ``None`` when every
    array is a NumPy array (the NumPy road); host arrays may sit next to the others."""
    return non_numpy_namespace(*arrays, allow_host=True)


def to_namespace(a, like, dtype=None):
    """``a`` (host data or an array of ``like``'s namespace) next to ``like``, in
    ``dtype`` (default ``like``'s)."""
    dtype = like.dtype if dtype is None else dtype
    if is_host_array(a) or not hasattr(a, "shape"):
        return asarray_on(np.asarray(a), like, dtype=dtype)
    xp = array_namespace(a)
    return a if a.dtype == dtype else xp.astype(a, dtype)


def params_to(params, like, dtype=None):
    """A dict of parameters moved next to ``like`` (host arrays are copied once)."""
    return {k: to_namespace(v, like, dtype) for k, v in params.items()}


def spectral_norm(xp, A):
    """``||A||_2`` in float64 as a host float (one synchronisation)."""
    return float(xp.linalg.matrix_norm(xp.astype(A, xp.float64), ord=2))


def masked(xp, G, mask):
    """``G * mask`` for a boolean ``mask`` (the standard does not multiply bools)."""
    return xp.where(mask, G, xp.zeros_like(G))


def xp_dtype(xp, dtype):
    """A NumPy dtype (or a dtype of ``xp``) as the matching float dtype of ``xp``."""
    if isinstance(dtype, (np.dtype, str)) or (isinstance(dtype, type)
                                              and issubclass(dtype, np.generic)):
        return xp.float32 if np.dtype(dtype) == np.float32 else xp.float64
    return dtype


def xp_data(xp, params, A, Y, dtype_key="theta"):
    """``(Y, A, params)`` of a namespace pass, next to ``Y`` (host parameters, operator or
    data are moved there: once per call), all in one float dtype: that of
    ``params[dtype_key]`` (default; the LISTA family casts the data to its parameters'
    dtype) or, with ``dtype_key=None``, that of ``Y`` (the DU models)."""
    ref = params.get(dtype_key) if dtype_key is not None else Y
    dtype = xp_dtype(xp, ref.dtype) if hasattr(ref, "dtype") else xp.float64
    if is_host_array(Y) or not hasattr(Y, "shape"):  # host data with namespace params
        like = next(v for v in (A, *params.values()) if hasattr(v, "shape")
                    and not is_host_array(v))
        Y = to_namespace(Y, like, dtype)
    else:
        Y = to_namespace(Y, Y, dtype)
    return Y, to_namespace(A, Y), params_to(params, Y)
