"""Dense fast Walsh-Hadamard transform: ``fwht`` and ``ifwht``."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._config import _get_threadlocal
from ..backends import array_namespace, dispatch, is_numpy_namespace, kernel_for, namespace_name
from ..utils.parallel import effective_n_jobs

_INT64_MAX = 2**63 - 1
_F32, _F64, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
#: an inner axis is transformed where it lies when at least this many values follow it
#: in memory (the kernel vectorises along them) and it is at most this long (its column
#: panels stay in L2 and are >= 16 values wide); otherwise it is moved last in a copy.
#: Measured: fwht(x, axis=0) of a 1024 x 1024 float64 array 2.1 ms where it lies (1.6 ms
#: in place) against 7.9 ms moved last (15 ms in place); 4096 x 8: 0.085 against 0.053
_MIN_POST = 16
_MAX_STRIDED_N = 2**13
#: results of at least this many bytes are allocated on a 64-byte boundary (_aligned_copy)
_ALIGN_MIN_BYTES = 1 << 14


def _check_length(n, name="x"):
    if n < 1 or (n & (n - 1)) != 0:
        raise ValueError(
            f"{name}: the transformed axis must have a length that is a power of two "
            f"(1, 2, 4, 8, ...), got {n}. Pad with zeros to the next power of two."
        )


def _result_dtype(x, scale):
    """float32 stays float32 (float16 too), integers (and booleans) stay exact int64
    when no scaling is asked (``scale`` the int ``1`` of :func:`_scale`; a normalised or
    inverse transform of length 1, scale ``1.0``, is float64 as at every other length),
    everything else real is float64."""
    dt = x.dtype
    kind = dt.kind
    if kind == "f":
        return _F32 if dt.itemsize <= 4 else _F64
    if kind == "c":
        raise TypeError(
            "x: complex input is not supported; transform x.real and x.imag separately "
            "(the transform is real)."
        )
    if kind not in "biu":
        raise TypeError(f"x must be a real numeric array, got dtype {x.dtype}.")
    return _I64 if type(scale) is int else _F64


def _check_int_range(x, n):
    """Integer exact mode: every partial sum is bounded by ``max|x| * n``."""
    if x.size == 0:
        return
    big = max(abs(int(x.max())), abs(int(x.min())))
    if big * n > _INT64_MAX:
        raise ValueError(
            f"x: integer transform would overflow int64 (max|x| * n = {big} * {n} "
            f">= 2**63); pass x.astype(np.float64) for a floating-point transform."
        )


def _check_out(out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray or None, got {type(out).__name__}.")
    if out.shape != shape:
        raise ValueError(f"out must have the shape of x {shape}, got {out.shape}.")
    if out.dtype != dtype:
        raise TypeError(
            f"out must have dtype {dtype} (the dtype of the result for this x and "
            f"normalize), got {out.dtype}."
        )
    if not out.flags.writeable:
        raise ValueError("out is read-only.")


def _scale(n, normalize, inverse):
    """The factor of a length-``n`` transform: ``1/sqrt(n)`` (``"ortho"``), ``1/n`` (the
    inverse), else the int ``1`` (no scaling: integer input stays exact)."""
    if normalize is not None:
        return 1.0 / math.sqrt(n)
    return 1.0 / n if inverse else 1


def _transform(x, axis, normalize, out, n_jobs, engine, inverse):
    # The common call (an ndarray, an int axis, the last one) runs as few Python lines
    # as the checks allow: right after the caller wrote a large array, every line runs
    # from cold caches (measured ~0.1 ms from fwht() down to the kernel on a 4 MiB
    # float32 batch, 20 % of a 2**14-point transform, before these shortcuts)
    if normalize is not None and normalize != "ortho":
        raise ValueError(f"normalize must be None or 'ortho', got {normalize!r}.")
    if type(x) is not np.ndarray and not isinstance(x, np.ndarray):
        xp = array_namespace(x)
        if not is_numpy_namespace(xp):  # CuPy, array_api_strict ...: stays in its namespace
            return _transform_xp(xp, x, axis, normalize, out, n_jobs, engine, inverse)
        x = np.asarray(x)
    n_threads = 1 if n_jobs is None else effective_n_jobs(n_jobs)
    ndim = x.ndim
    if ndim == 0:
        raise ValueError("x must have at least one dimension, got a scalar.")
    if type(axis) is not int:
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"axis must be an integer, got {axis!r}.")
        axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for x with {ndim} dimensions.")
    if axis < 0:
        axis += ndim
    n = x.shape[axis]
    if n < 1 or n & (n - 1):
        _check_length(n)
    scale = _scale(n, normalize, inverse)
    dtype = _result_dtype(x, scale)
    if dtype is _I64:
        _check_int_range(x, n)
    if out is not None:
        _check_out(out, x.shape, dtype)
    last = axis == ndim - 1
    if last:
        pre = post = 0  # unused: the kernel takes rows
        strided = False
    else:
        pre = math.prod(x.shape[:axis])
        post = math.prod(x.shape[axis + 1:])
        # along an inner axis with rows of >= 8 values after it: transformed where it
        # lies (vectorised along those rows), else the axis is moved last in a copy
        strided = post >= _MIN_POST and n <= _MAX_STRIDED_N
    if out is not None and out.flags.c_contiguous and (last or strided):
        # transform in out's own memory: in place if out is x, else one copy into out
        if out is not x:
            if np.may_share_memory(out, x):
                x = x.copy()
            np.copyto(out, x, casting="unsafe")
        _run(out, n, pre, post, last, scale, n_threads, engine)
        return out
    if last or strided:
        work = _aligned_copy(x, dtype)
        _run(work, n, pre, post, last, scale, n_threads, engine)
    else:
        work = np.array(np.moveaxis(x, axis, -1), dtype=dtype, order="C", copy=True)
        _run(work, n, pre, 1, True, scale, n_threads, engine)
        work = np.moveaxis(work, -1, axis)
    if out is not None:
        out[...] = work
        return out
    return work


def _aligned_copy(x, dtype):
    """A C-contiguous copy of ``x`` in ``dtype`` whose data start on a 64-byte boundary
    (a cache line; ``np.empty`` gives 16 bytes): the kernel's vector loads and stores then
    never straddle two lines. Measured on a float64 batch of 16 rows of 2**16 (Zen 5): 284
    against 385 us on a buffer at 16 bytes past a line."""
    nbytes = x.size * np.dtype(dtype).itemsize
    if nbytes < _ALIGN_MIN_BYTES:
        return np.array(x, dtype=dtype, order="C", copy=True)
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    work = raw[start:start + nbytes].view(dtype).reshape(x.shape)
    np.copyto(work, x, casting="unsafe")
    return work


def _check_axis(axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {axis!r}.")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for x with {ndim} dimensions.")
    return axis + ndim if axis < 0 else axis


def _transform_xp(xp, x, axis, normalize, out, n_jobs, engine, inverse):
    """The transform of a non-NumPy array-API array (CuPy, ``array_api_strict`` ...).

    Same checks, dtypes and results as the NumPy path, computed in ``x``'s namespace by
    the namespace-generic reference kernels (``fwht_rows`` along the last axis, else
    ``fwht_axis`` on the ``(pre, n, post)`` reshape: no axis is moved); nothing goes to
    the host except the two integer bounds of the exact int64 mode's overflow check.
    """
    name = "ifwht" if inverse else "fwht"
    if n_jobs is not None and n_jobs != 1:
        raise ValueError(
            f"{name}: n_jobs (host threads of the Numba kernel) applies to NumPy arrays "
            f"only, got n_jobs={n_jobs!r} with {namespace_name(xp)} arrays; leave it None "
            "(the namespace's own library parallelises the transform)."
        )
    ndim = x.ndim
    if ndim == 0:
        raise ValueError("x must have at least one dimension, got a scalar.")
    axis = _check_axis(axis, ndim)
    n = x.shape[axis]
    _check_length(n)
    scale = _scale(n, normalize, inverse)
    dt = x.dtype
    if xp.isdtype(dt, "complex floating"):
        raise TypeError(
            "x: complex input is not supported; transform x.real and x.imag separately "
            "(the transform is real)."
        )
    if xp.isdtype(dt, "real floating"):
        dtype = xp.float64 if dt == xp.float64 else xp.float32
    elif xp.isdtype(dt, "integral") or xp.isdtype(dt, "bool"):
        dtype = xp.int64 if type(scale) is int else xp.float64
    else:
        raise TypeError(f"x must be a real numeric array, got dtype {dt}.")
    work = xp.astype(x, dtype, copy=True)
    if dtype == xp.int64 and math.prod(x.shape):  # (torch's .size is a method)
        # integer exact mode: every partial sum is bounded by max|x| * n (two host ints)
        big = max(abs(int(xp.max(work))), abs(int(xp.min(work))))
        if big * n > _INT64_MAX:
            raise ValueError(
                f"x: integer transform would overflow int64 (max|x| * n = {big} * {n} "
                f">= 2**63); pass a float64 array for a floating-point transform."
            )
    if out is not None:
        if namespace_name(array_namespace(out)) != namespace_name(xp):
            raise TypeError(f"out must be an array of x's namespace ({namespace_name(xp)}), "
                            f"got {type(out).__name__}.")
        if tuple(out.shape) != tuple(x.shape):
            raise ValueError(f"out must have the shape of x {tuple(x.shape)}, got "
                             f"{tuple(out.shape)}.")
        if out.dtype != dtype:
            raise TypeError(
                f"out must have dtype {dtype} (the dtype of the result for this x and "
                f"normalize), got {out.dtype}."
            )
    pre = math.prod(x.shape[:axis])
    post = math.prod(x.shape[axis + 1:])
    if post == 1:
        block = dispatch("fwht_rows", xp.reshape(work, (pre, n)), scale, 1, engine=engine)
    else:
        block = dispatch("fwht_axis", xp.reshape(work, (pre, n, post)), scale, 1,
                         engine=engine)
    res = xp.reshape(block, x.shape)
    if out is not None:
        out[...] = res
        return out
    return res


#: the kernel of each (op, engine) for NumPy arrays, as the registry resolves it (see _run)
_HOST_KERNELS = {}


def _host_kernel(op, work, engine):
    """The kernel :func:`~sparsopt.backends.dispatch` runs for the NumPy array ``work``
    under ``engine`` (``None``: the configured one), resolved by the registry once per
    engine (its errors too: an engine that cannot run NumPy arrays raises every call)."""
    if engine is None:
        engine = _get_threadlocal()["engine"]
    try:
        kernel = _HOST_KERNELS.get((op, engine))
    except TypeError:  # an unhashable engine: the registry says what is wrong with it
        return kernel_for(op, work, engine=engine)
    if kernel is None:
        kernel = _HOST_KERNELS[op, engine] = kernel_for(op, work, engine=engine)
    return kernel


def _run(work, n, pre, post, last, scale, n_threads, engine):
    # work is a NumPy array here, so the kernel depends only on the engine: looked up in
    # a dict rather than through dispatch. The call comes right after the caller (or
    # the copy into out) wrote the array, so every line of Python runs from cold
    # caches; the registry's resolution cost 10-20 us of a float64 2**20 batch
    # (2**10 ... 2**20 per row, Zen 5, 16 bytes past a line: 248 -> 238 us at 2**10,
    # 310 -> 298 at 2**14, 456 -> 435 at 2**20). The kernel decides below which size
    # its threads do not pay (MIN_PARALLEL_BYTES).
    if last:
        _host_kernel("fwht_rows", work, engine)(
            work if work.ndim == 2 else work.reshape(-1, n), scale, n_threads)
    else:
        _host_kernel("fwht_axis", work, engine)(work.reshape(pre, n, post), scale,
                                                n_threads)


def fwht(x, *, axis=-1, normalize=None, out=None, n_jobs=None, engine=None):
    """Fast Walsh-Hadamard transform along one axis, in natural (Hadamard) order.

    ``X[k] = sum_m x[m] * (-1) ** popcount(m & k)`` for ``0 <= k < n``: the product
    with the Sylvester-Hadamard matrix (``scipy.linalg.hadamard(n)``), computed with
    ``n log2(n)`` additions. With ``normalize="ortho"`` the result is divided by
    ``sqrt(n)`` and the transform is orthogonal (and its own inverse).

    The Numba kernel fuses three butterfly stages at a time, works on cache-sized
    blocks (so a row of ``2**24`` values is read and written twice, not 24 times)
    and runs in place; every leading axis is a batch.

    Parameters
    ----------
    x : array_like of shape (..., n, ...)
        Input; ``n`` (the length along ``axis``) must be a power of two.
        float32 (and float16) is computed and returned in float32, float64 in float64.
        Integers and booleans are transformed **exactly** in int64 when no scaling is
        asked (``normalize=None``); this needs ``max|x| * n < 2**63`` (else a
        ``ValueError`` suggests ``x.astype(np.float64)``). Complex input is refused
        (transform the real and imaginary parts separately).
    axis : int, default=-1
        Axis to transform; the other axes are a batch.
    normalize : {None, "ortho"}, default=None
        Scaling: none, or ``1 / sqrt(n)`` (fused into the last pass over the data).
    out : ndarray, optional
        Where to write the result: same shape as ``x``, dtype of the result. ``out=x``
        (with ``x`` an array of the result dtype) transforms ``x`` in place, with no
        copy when ``x`` is C-contiguous and ``axis`` is its last axis, or an inner axis
        of length at most ``2**13`` followed by at least 16 values in memory (such an
        axis is transformed where it lies, vectorised along the values after it);
        another C-contiguous ``out`` receives one copy of ``x`` that is transformed
        there.
    n_jobs : int, default=None
        Threads at most (``None``: 1; ``-1``: all cores). With several rows, threads
        share the rows; with fewer rows than threads, each long row's cache blocks and
        then its column panels are shared (a row that fits in one cache block is cut
        in eight). Arrays under 512 KiB are transformed on one thread, which was
        measured faster there. Results are bitwise identical for any ``n_jobs``.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend; ``None`` follows :func:`sparsopt.get_config` (Numba when
        available).

    Returns
    -------
    X : ndarray of the shape of ``x``
        The transform (``out`` if given), an array of ``x``'s namespace.

    Raises
    ------
    ValueError
        If ``x`` is 0-d, ``axis`` is out of range, the length along ``axis`` is not a
        power of two (or is zero), ``normalize`` or ``engine`` is unknown, ``out`` has the
        wrong shape or is read-only, ``n_jobs`` is 0 or not an integer (or given with a
        non-NumPy array), or an integer transform would overflow.
    TypeError
        If ``x`` is complex or not numeric, ``axis`` is not an integer, or ``out`` is not
        an array (of ``x``'s namespace) or has the wrong dtype.

    See Also
    --------
    ifwht : the inverse transform.

    Notes
    -----
    NaN and infinity propagate as in :func:`numpy.fft.fft`: every output mixes every
    input, so one NaN in a row makes that whole row NaN; no error is raised.
    Floating-point results agree with the matrix product to rounding (relative error
    about ``log2(n) * eps``); the threaded and serial kernels compute the same sums
    in the same order.

    **Array API inputs.** A CuPy (or any other array-API, e.g. ``array_api_strict``)
    array is transformed in its own namespace and on its device by the
    namespace-generic reference kernel (``log2(n)`` vectorised radix-2 stages, each a
    new array), with the same dtypes and results as for NumPy; ``out`` must then be an
    array of that namespace (written with ``out[...] = ...``), and ``n_jobs`` (host
    threads) must stay ``None``. Only the overflow check of the exact integer mode
    reads two scalars (``max`` and ``min``) back to the host.

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
    >>> fwht(np.array([1, 2, 3, 4]))  # integers are transformed exactly
    array([10, -2, -4,  0])
    >>> x = np.arange(8.0)
    >>> X = fwht(x, normalize="ortho", out=x)  # in place
    >>> X is x
    True
    """
    return _transform(x, axis, normalize, out, n_jobs, engine, inverse=False)


def ifwht(X, *, axis=-1, normalize=None, out=None, n_jobs=None, engine=None):
    """Inverse fast Walsh-Hadamard transform: ``fwht(X) / n``.

    With ``normalize="ortho"`` it is ``fwht(X, normalize="ortho")`` (the orthogonal
    transform is its own inverse). The ``1 / n`` scaling is fused into the transform;
    integer input is returned in float64.

    Parameters
    ----------
    X : array_like of shape (..., n, ...)
        Transform coefficients; ``n`` along ``axis`` must be a power of two.
    axis, normalize, out, n_jobs, engine
        As in :func:`fwht`.

    Returns
    -------
    x : ndarray of the shape of ``X``
        float32 for float32 (and float16) input, float64 otherwise.

    See Also
    --------
    fwht : the forward transform.

    References
    ----------
    .. [1] Fino, B. J. and Algazi, V. R. (1976). Unified matrix treatment of the
       fast Walsh-Hadamard transform. IEEE Trans. Computers, C-25(11), 1142-1146.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.transforms import fwht, ifwht
    >>> x = np.arange(8.0)
    >>> np.allclose(ifwht(fwht(x)), x)
    True
    """
    return _transform(X, axis, normalize, out, n_jobs, engine, inverse=True)
