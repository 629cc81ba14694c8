"""Input validation with errors that name the offending parameter."""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.float64, np.float32)


def check_scalar(value, name, owner, *, lower=None, upper=None, lower_inclusive=True,
                 upper_inclusive=True):
    """Validate a finite real scalar and return it as ``float``.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Parameter name used in the message.
    owner : str
        Name of the object or function that owns the parameter.
    lower, upper : float or None
        Bounds.
    lower_inclusive, upper_inclusive : bool
        Whether the bounds are allowed.

    Returns
    -------
    value : float

    Raises
    ------
    TypeError
        If ``value`` is not a real number (booleans are refused).
    ValueError
        If it is not finite or out of bounds.

    Examples
    --------
    >>> from sparsopt.utils.validation import check_scalar
    >>> check_scalar(0.5, "alpha", "L1", lower=0.0)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}.")
    try:
        v = float(value)
    except OverflowError:
        v = float("inf")
    if not np.isfinite(v):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}.")
    if lower is not None and (v < lower or (v == lower and not lower_inclusive)):
        op = ">=" if lower_inclusive else ">"
        raise ValueError(f"{owner}: {name} must be {op} {lower}, got {value!r}.")
    if upper is not None and (v > upper or (v == upper and not upper_inclusive)):
        op = "<=" if upper_inclusive else "<"
        raise ValueError(f"{owner}: {name} must be {op} {upper}, got {value!r}.")
    return v


def check_int(value, name, owner, *, lower=None):
    """Validate an integer parameter (booleans refused) and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r}.")
    if lower is not None and value < lower:
        raise ValueError(f"{owner}: {name} must be >= {lower}, got {value!r}.")
    return int(value)


def check_array(x, name, owner, *, ndim=None, dtype="float", allow_sparse=False, copy=False):
    """Convert ``x`` to an array and check dimensions, dtype and finiteness.

    Parameters
    ----------
    x : array-like
        Input.
    name : str
        Parameter name used in messages.
    owner : str
        Function or class that owns the parameter.
    ndim : int or tuple of int or None
        Accepted numbers of dimensions.
    dtype : {"float", "numeric", None}
        ``"float"``: float32 stays float32, anything else becomes float64.
    allow_sparse : bool
        Accept SciPy sparse matrices (their stored values are checked).
    copy : bool
        Force a copy.

    Returns
    -------
    array : ndarray (or sparse matrix if allowed)

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.utils.validation import check_array
    >>> check_array([1, 2], "y", "demo").dtype
    dtype('float64')
    """
    import scipy.sparse as sp

    if sp.issparse(x):
        if not allow_sparse:
            raise TypeError(f"{owner}: {name} must be a dense array; got a sparse matrix.")
        data = x.data
        if dtype == "float" and x.dtype not in FLOAT_DTYPES:
            x = x.astype(np.float64)
            data = x.data
        if not np.all(np.isfinite(data)):
            raise ValueError(f"{owner}: {name} contains NaN or infinity.")
        return x.copy() if copy else x
    try:
        arr = np.asarray(x)
    except Exception as exc:
        raise TypeError(f"{owner}: {name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"{owner}: {name} must be numeric, got dtype {arr.dtype}.")
    if arr.dtype.kind == "c":
        raise TypeError(f"{owner}: {name} must be real, got complex dtype {arr.dtype}.")
    if dtype == "float" and arr.dtype not in FLOAT_DTYPES:
        arr = arr.astype(np.float64)
    elif copy:
        arr = arr.copy()
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(
                f"{owner}: {name} must have {' or '.join(map(str, allowed))} dimension(s), "
                f"got shape {arr.shape}."
            )
    if arr.size == 0:
        raise ValueError(f"{owner}: {name} is empty (shape {arr.shape}).")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{owner}: {name} contains NaN or infinity; remove or impute them first."
        )
    return arr
