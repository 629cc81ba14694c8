"""Array namespaces: the glue code follows its input's array library.

sparsopt's hot loops run NumPy arrays through Numba kernels. Any other array that
implements the `array API standard <https://data-apis.org/array-api/>`_ (CuPy on a
GPU, ``array_api_strict`` in the tests, PyTorch, ...) goes through the same solver
loops written against its namespace, obtained here through ``array-api-compat``
(as scikit-learn and SciPy do), and through the namespace-generic NumPy references
of the kernels, or a hand-written CuPy kernel where one is registered. Results stay
in the input's namespace and on its device; nothing here moves data to the host
except :func:`to_numpy`, which says so.

Conventions for namespace-generic code (solver glue and ``array_api=True`` kernels):

* ``xp = array_namespace(x, ...)`` once, then only ``xp.*`` functions of the standard
  (``xp.matmul``, ``xp.where``, ``xp.linalg.vector_norm``, ``xp.astype`` ...), array
  methods of the standard, and in-place writes ``out[...] = values``;
* new arrays are created with ``device=device(x)`` (``xp.zeros(n, dtype=x.dtype,
  device=device(x))``), never from host data inside a loop;
* host scalars come out of 0-D arrays with ``float(...)``/``bool(...)`` (one
  synchronization, no transfer of arrays): stopping tests do this once per check;
* NumPy-only constructs (``np.errstate``, ``out=`` arguments, ``np.dot``, boolean
  fancy assignment on several axes) stay behind ``is_numpy_namespace(xp)``.
"""

from __future__ import annotations

import contextlib

import numpy as np


def _is_array(a):
    return a is not None and not isinstance(a, (int, float, complex, bool, str)) and hasattr(
        a, "shape"
    )


def _is_host(a):
    """NumPy arrays, NumPy scalars and SciPy sparse matrices: the host (Numba) road."""
    if isinstance(a, (np.ndarray, np.generic)):
        return True
    mod = type(a).__module__
    return mod.startswith("scipy.sparse")


def array_namespace(*arrays):
    """The array-API namespace of ``arrays`` (via ``array-api-compat``).

    Scalars, ``None`` and SciPy sparse matrices are ignored; with no array left, or
    NumPy arrays only, the namespace is ``array_api_compat.numpy`` (NumPy with the
    standard's function names).

    Parameters
    ----------
    *arrays : array objects, scalars or None

    Returns
    -------
    xp : module
        ``array_api_compat.numpy``, ``array_api_compat.cupy``, ``array_api_strict``,
        ``array_api_compat.torch`` ...

    Raises
    ------
    TypeError
        If the arrays come from different array libraries.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import array_namespace, is_numpy_namespace
    >>> is_numpy_namespace(array_namespace(np.ones(2), None, 3.0))
    True
    """
    import array_api_compat
    import array_api_compat.numpy as npx

    arrs = [a for a in arrays if _is_array(a) and not _is_host(a)]
    if not arrs:
        return npx
    if len(arrs) != len([a for a in arrays if _is_array(a)]):
        kinds = sorted({type(a).__module__.split(".")[0] for a in arrays if _is_array(a)})
        raise TypeError(
            f"Arrays from different libraries were passed to one sparsopt call ({kinds}). "
            "Move all inputs to one library and device first (e.g. cupy.asarray(...) or "
            "cupy.asnumpy(...))."
        )
    try:
        return array_api_compat.array_namespace(*arrs)
    except TypeError as exc:
        raise TypeError(
            f"sparsopt cannot find one array namespace for these inputs: {exc} Move all "
            "inputs to one array library and device first."
        ) from None


def non_numpy_namespace(*arrays, allow_host=False):
    """The namespace of the non-NumPy array-API arrays among ``arrays``, else ``None``.

    ``None`` means the NumPy road: every array is a NumPy array (or there is none).
    Objects that are not array-API arrays (lists, scalars, ``None``, pandas
    DataFrames, SciPy sparse matrices) are host data and are ignored; lists are not
    looked into (unpack factor lists: ``non_numpy_namespace(*factors, y)``).

    Parameters
    ----------
    *arrays : array objects or host data
    allow_host : bool, default=False
        Also ignore NumPy arrays next to arrays of another library (host parameters
        that the caller moves next to the data) instead of raising ``TypeError``.

    Raises
    ------
    TypeError
        If the arrays come from different array libraries (NumPy included unless
        ``allow_host``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import non_numpy_namespace
    >>> non_numpy_namespace(np.ones(2), [1.0, 2.0], None) is None
    True
    """
    if all(isinstance(a, np.ndarray) or not hasattr(a, "shape") for a in arrays):
        return None  # the common case, without a namespace lookup
    from array_api_compat import is_array_api_obj

    xp = array_namespace(*[a for a in arrays
                           if is_array_api_obj(a) and not (allow_host and _is_host(a))])
    return None if is_numpy_namespace(xp) else xp


def require_host(name, *arrays, reason="", alternative=""):
    """Refuse non-NumPy array-API arrays for a NumPy-only (host) function.

    Raises the ``TypeError`` of a host-only feature given CuPy, ``array_api_strict``
    ... arrays: it names the function (``name``), why it is host code (``reason``,
    optional), the namespace of the arrays, how to convert them, and the array-API
    ``alternative`` when there is one. Lists and tuples among ``arrays`` (factor
    lists) are looked into. NumPy arrays and host data pass silently.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import require_host
    >>> require_host("my_function", np.ones(3), [np.ones(2)])  # NumPy: nothing happens
    """
    flat = []
    for a in arrays:
        flat.extend(a if isinstance(a, (list, tuple)) else [a])
    xp = non_numpy_namespace(*flat)
    if xp is not None:
        raise host_only_error(name, xp, reason=reason, alternative=alternative)


def host_only_error(name, xp, *, reason="", alternative=""):
    """The ``TypeError`` of a NumPy-only function or option given arrays of namespace ``xp``.

    ``"{name} runs on NumPy arrays only ({reason}), got {namespace} arrays; convert them
    first (sparsopt.backends.to_numpy, cupy.asnumpy), or {alternative}."``: ``name`` is
    the function or the option (``"owner: solver='omp'"``), ``reason`` why it is host
    code, ``alternative`` what runs in the arrays' namespace (both optional).

    Examples
    --------
    >>> import array_api_strict
    >>> from sparsopt.backends import host_only_error
    >>> print(host_only_error("omp", array_api_strict, alternative="use 'fista'"))
    ... # doctest: +ELLIPSIS
    omp runs on NumPy arrays only..., got array_api_strict arrays; ...use 'fista'.
    """
    return TypeError(
        f"{name} runs on NumPy arrays only{f' ({reason})' if reason else ''}, got "
        f"{namespace_name(xp)} arrays; convert them first (sparsopt.backends.to_numpy, "
        f"cupy.asnumpy){f', or {alternative}' if alternative else ''}."
    )


def is_numpy_namespace(xp):
    """Whether ``xp`` is NumPy (plain or wrapped by ``array-api-compat``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import array_namespace, is_numpy_namespace
    >>> is_numpy_namespace(np), is_numpy_namespace(array_namespace(np.ones(1)))
    (True, True)
    """
    return getattr(xp, "__name__", "") in ("numpy", "array_api_compat.numpy")


def namespace_name(xp):
    """A short name of the namespace for messages (``"numpy"``, ``"cupy"``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import array_namespace, namespace_name
    >>> namespace_name(array_namespace(np.ones(1)))
    'numpy'
    """
    name = getattr(xp, "__name__", str(xp))
    return name.removeprefix("array_api_compat.")


def device(x):
    """The device ``x`` lives on (``"cpu"`` for NumPy arrays).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import device
    >>> device(np.ones(2))
    'cpu'
    """
    import array_api_compat

    return array_api_compat.device(x)


def is_host_array(x):
    """True for NumPy arrays (and SciPy sparse matrices): the Numba road.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import is_host_array
    >>> is_host_array(np.ones(2)), is_host_array([1.0])
    (True, False)
    """
    return _is_host(x)


def to_numpy(x):
    """Copy ``x`` to a host NumPy array (an explicit transfer; NumPy input is returned as is).

    For tests, host-only steps (plots, reports) and ``cupy.asnumpy``-like needs; the
    solvers never call it inside a loop.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import to_numpy
    >>> to_numpy(np.arange(3))
    array([0, 1, 2])
    """
    if _is_host(x) or not _is_array(x):
        return np.asarray(x)
    mod = type(x).__module__.split(".")[0]
    if mod == "cupy":
        return x.get()
    if mod == "torch":
        return x.detach().cpu().numpy()
    if mod == "array_api_strict":  # DLPack: to_device needs NumPy 2 in older releases
        xp = array_namespace(x)
        if x.dtype == xp.bool:  # NumPy < 2 reads no boolean DLPack
            return np.array(np.from_dlpack(xp.astype(x, xp.uint8)), dtype=bool)
        return np.array(np.from_dlpack(x), copy=True)
    return np.asarray(x)


def errstate(xp, **kwargs):
    """``np.errstate(**kwargs)`` for NumPy, a no-op context for other namespaces.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import array_namespace, errstate
    >>> x = np.zeros(1)
    >>> with errstate(array_namespace(x), divide="ignore"):
    ...     float((1.0 / x)[0])
    inf
    """
    if is_numpy_namespace(xp):
        return np.errstate(**kwargs)
    return contextlib.nullcontext()


def asarray_on(values, like, dtype=None):
    """``values`` (host data: list, scalar, NumPy array) as an array next to ``like``.

    Same namespace and device as ``like``; ``dtype`` defaults to ``like``'s. Used to
    bring small parameter vectors (penalty parameters, weights) to the device once,
    before a loop.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import asarray_on
    >>> asarray_on([1, 2], np.zeros(3, dtype=np.float32))
    array([1., 2.], dtype=float32)
    """
    xp = array_namespace(like)
    if is_numpy_namespace(xp):
        return np.asarray(values, dtype=like.dtype if dtype is None else dtype)
    if not _is_host(values) and _is_array(values):  # already an array of that library
        return xp.asarray(values, dtype=like.dtype if dtype is None else dtype)
    dt = like.dtype if dtype is None else dtype
    return xp.asarray(np.asarray(values), dtype=dt, device=device(like))


__all__ = [
    "array_namespace",
    "asarray_on",
    "device",
    "errstate",
    "host_only_error",
    "is_host_array",
    "is_numpy_namespace",
    "namespace_name",
    "non_numpy_namespace",
    "require_host",
    "to_numpy",
]
