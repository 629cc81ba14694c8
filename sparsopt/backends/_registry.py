"""Kernel registry and dispatch.

A kernel is identified by an op name (``"prox_l1"``) and a backend name
(``"numpy"``, ``"numba"`` or ``"cupy"``). Backend packages register their
kernels when imported; they are imported lazily, on the first dispatch that
needs them, so ``import sparsopt`` never imports Numba or CuPy.
"""

from __future__ import annotations

import importlib
import os
import threading

from .._config import get_config
from ._namespace import _is_array, _is_host

BACKENDS = ("numpy", "numba", "cupy")
_BACKEND_PACKAGES = {
    "numpy": "sparsopt.backends._numpy",
    "numba": "sparsopt.backends._numba",
    "cupy": "sparsopt.backends._cupy",
}
_KERNELS: dict[tuple[str, str], object] = {}
#: ops whose NumPy reference is written against the array namespace (``array_api=True``)
_GENERIC: set[str] = set()
_LOADED: dict[str, bool] = {}
_LOAD_ERRORS: dict[str, str] = {}
_lock = threading.RLock()
_CUPY_STATE: dict[str, object] = {}


def register_kernel(op, backend, *, array_api=False):
    """Decorator registering ``func`` as the kernel of ``op`` on ``backend``.

    Parameters
    ----------
    op : str
        Name of the numerical primitive, e.g. ``"prox_l1"``.
    backend : {"numpy", "numba", "cupy"}
        Backend the kernel runs on.
    array_api : bool, default=False
        Only for ``backend="numpy"``: the reference is written against the input's
        array namespace (:func:`sparsopt.backends.array_namespace`), so it also runs on
        CuPy, ``array_api_strict`` or PyTorch arrays. Dispatch uses it for such inputs
        when no hand-written kernel of their library is registered.

    Returns
    -------
    decorator : callable
        Registers and returns the decorated function unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import register_kernel, dispatch
    >>> @register_kernel("my_double", "numpy")
    ... def my_double(x):
    ...     return 2 * x
    >>> dispatch("my_double", np.ones(2), engine="numpy")
    array([2., 2.])
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    if array_api and backend != "numpy":
        raise ValueError("array_api=True marks a namespace-generic NumPy reference: "
                         f"backend must be 'numpy', got {backend!r}.")

    def decorator(func):
        with _lock:
            _KERNELS[(op, backend)] = func
            if array_api:
                _GENERIC.add(op)
        return func

    return decorator


def _load_backend(backend):
    """Import the backend package once; return True if it is usable."""
    with _lock:
        if backend in _LOADED:
            return _LOADED[backend]
        if backend == "cupy" and not cupy_available():
            _LOADED[backend] = False
            _LOAD_ERRORS[backend] = str(_CUPY_STATE.get("reason", "CuPy unavailable"))
            return False
        try:
            importlib.import_module(_BACKEND_PACKAGES[backend])
            _LOADED[backend] = True
        except ImportError as exc:  # e.g. numba missing on an exotic platform
            _LOADED[backend] = False
            _LOAD_ERRORS[backend] = f"{type(exc).__name__}: {exc}"
        return _LOADED[backend]


def cupy_available():
    """Whether the CuPy backend can be used.

    CuPy is used only if it imports, at least one CUDA device is visible, and
    the environment variable ``SPARSOPT_DISABLE_CUPY`` is unset (or ``0``).
    The answer is computed once and cached.

    Returns
    -------
    available : bool

    Examples
    --------
    >>> from sparsopt.backends import cupy_available
    >>> isinstance(cupy_available(), bool)
    True
    """
    if "available" in _CUPY_STATE:
        return _CUPY_STATE["available"]
    flag = os.environ.get("SPARSOPT_DISABLE_CUPY", "").strip().lower()
    if flag not in ("", "0", "false", "no"):
        _CUPY_STATE.update(available=False, reason="disabled by SPARSOPT_DISABLE_CUPY")
        return False
    try:
        import cupy

        n_dev = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDARuntimeError, missing driver ...
        _CUPY_STATE.update(available=False, reason=f"{type(exc).__name__}: {exc}")
        return False
    ok = n_dev > 0
    _CUPY_STATE.update(available=ok, reason="" if ok else "no CUDA device", n_devices=n_dev)
    return ok


def is_cupy_array(x):
    """True if ``x`` is a CuPy array (checked without importing CuPy)."""
    return type(x).__module__.split(".")[0] == "cupy"


def get_namespace(x):
    """The array module of ``x``: ``cupy`` for CuPy arrays, ``numpy`` otherwise.

    The libraries' own modules, for kernel code written against NumPy's or CuPy's API.
    Namespace-generic code uses :func:`array_namespace` instead (the array-API
    namespace of any library, ``TypeError`` for mixed libraries).

    See Also
    --------
    array_namespace : The array-API namespace of arrays of any library.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import get_namespace
    >>> get_namespace(np.ones(2)) is np
    True
    """
    if is_cupy_array(x):
        import cupy

        return cupy
    import numpy

    return numpy


def array_backend(*arrays):
    """Where the arrays live: ``"numpy"``, ``"cupy"`` or ``"array_api"``.

    ``"array_api"`` is any other library implementing the array API standard
    (``array_api_strict``, PyTorch ...). Non-array arguments (scalars, ``None``) are
    ignored; SciPy sparse matrices count as NumPy.

    Raises
    ------
    TypeError
        If arrays of different libraries are mixed (e.g. CuPy with NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import array_backend
    >>> array_backend(np.ones(2), 1.0, None)
    'numpy'
    """
    kinds = set()
    for a in arrays:
        if not _is_array(a):
            continue
        if _is_host(a):
            kinds.add("numpy")
        elif is_cupy_array(a):
            kinds.add("cupy")
        else:
            kinds.add(type(a).__module__.split(".")[0])
    if len(kinds) > 1:
        if kinds == {"numpy", "cupy"}:
            raise TypeError(
                "Mixed CuPy and NumPy arrays were passed to one sparsopt call. Move all inputs "
                "to the same device first (cupy.asarray(...) or cupy.asnumpy(...))."
            )
        raise TypeError(
            f"Arrays from different libraries ({sorted(kinds)}) were passed to one sparsopt "
            "call. Move all inputs to one library and device first."
        )
    if not kinds:
        return "numpy"
    kind = kinds.pop()
    return kind if kind in ("numpy", "cupy") else "array_api"


def is_array_api_kernel(op):
    """Whether the NumPy reference of ``op`` is namespace-generic (``array_api=True``).

    Examples
    --------
    >>> from sparsopt.backends import is_array_api_kernel
    >>> is_array_api_kernel("prox_l1"), is_array_api_kernel("cd_gram")
    (True, False)
    """
    _load_backend("numpy")
    return op in _GENERIC


def array_api_kernels():
    """Sorted op names whose NumPy reference runs on any array-API namespace.

    These are the ops a CuPy (or ``array_api_strict``, PyTorch ...) array can reach
    without a hand-written kernel of its library.

    Examples
    --------
    >>> from sparsopt.backends import array_api_kernels
    >>> "prox_l1" in array_api_kernels()
    True
    """
    _load_backend("numpy")
    return sorted(_GENERIC)


def has_kernel(op, backend):
    """Whether ``op`` has a kernel on ``backend`` (importing the backend if needed)."""
    if not _load_backend(backend):
        return False
    return (op, backend) in _KERNELS


def resolve_backend(op, *arrays, engine=None):
    """Choose the backend that ``dispatch`` would use for these inputs.

    Parameters
    ----------
    op : str
        Op name.
    *arrays : array-like
        The inputs; their type decides between host and device.
    engine : {"auto", "numpy", "numba", "cupy"} or None
        Explicit choice; ``None`` uses :func:`sparsopt.get_config`.

    Returns
    -------
    backend : str
        For NumPy inputs, ``"numba"`` when it has the op (``"auto"``), else ``"numpy"``.
        For CuPy inputs, ``"cupy"`` when a CuPy kernel is registered, else ``"numpy"``
        if the op's NumPy reference is namespace-generic (it then runs on the device).
        For other array-API inputs (``array_api_strict``, PyTorch), ``"numpy"`` for
        namespace-generic ops.

    Raises
    ------
    NotImplementedError
        Non-NumPy inputs to an op with neither a kernel of their library nor a
        namespace-generic reference.
    TypeError
        An engine that cannot run on the inputs (``"numba"`` with device arrays,
        ``"cupy"`` with NumPy arrays), or mixed libraries.
    """
    engine = engine or get_config()["engine"]
    if engine != "auto" and engine not in BACKENDS:
        raise ValueError(f"engine must be one of {('auto',) + tuple(BACKENDS)}, got "
                         f"{engine!r}.")
    where = array_backend(*arrays)
    if where == "numpy":
        if engine == "auto":
            return "numba" if has_kernel(op, "numba") else "numpy"
        if engine == "cupy":
            raise TypeError(
                f"engine='cupy' needs CuPy arrays but NumPy arrays were passed to {op!r}; "
                "move the data with cupy.asarray() or use engine='auto'."
            )
        return engine
    # device or other array-API arrays: a hand-written kernel of their library, else the
    # namespace-generic NumPy reference (which runs on them), never the host kernels
    if engine == "numba":
        raise TypeError(
            f"engine='numba' runs on NumPy arrays but {where if where == 'cupy' else 'non-NumPy'} "
            f"arrays were passed to {op!r}; use engine='auto' (or 'numpy' for the "
            "namespace-generic reference), or convert the inputs to NumPy."
        )
    if where == "array_api" and engine == "cupy":
        raise TypeError(
            f"engine='cupy' needs CuPy arrays but other array-API arrays were passed to {op!r}; "
            "use engine='auto'."
        )
    if where == "cupy" and engine in ("auto", "cupy") and has_kernel(op, "cupy"):
        return "cupy"
    if is_array_api_kernel(op):
        return "numpy"
    raise NotImplementedError(
        f"Op {op!r} has no kernel for {where} arrays: no hand-written "
        f"{'CuPy ' if where == 'cupy' else ''}kernel is registered and its NumPy reference "
        "is NumPy-only (not array-API generic). Convert the inputs to NumPy (e.g. "
        "cupy.asnumpy(...)) for this call. The ops that run on any array-API namespace are "
        "listed by sparsopt.backends.array_api_kernels()."
    )


def get_kernel(op, backend):
    """Return the kernel registered for ``(op, backend)``.

    Raises
    ------
    NotImplementedError
        If the backend cannot be loaded or has no kernel for ``op``.
    """
    if not _load_backend(backend):
        raise NotImplementedError(
            f"Backend {backend!r} is not available for op {op!r}: "
            f"{_LOAD_ERRORS.get(backend, 'failed to load')}."
        )
    try:
        return _KERNELS[(op, backend)]
    except KeyError:
        raise NotImplementedError(
            f"No kernel for op {op!r} on backend {backend!r}. Available backends for this "
            f"op: {sorted(b for (o, b) in _KERNELS if o == op) or 'none'}."
        ) from None


def kernel_for(op, *arrays, engine=None):
    """The kernel ``dispatch`` would run on these inputs, to call it many times.

    ``kernel_for(op, x, engine=e)`` is ``kernel_for(op, x, engine=e)``:
    the one call a solver makes before its loop, so that the loop calls the kernel
    directly.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import kernel_for
    >>> kern = kernel_for("prox_l1", np.zeros(3), engine="numpy")
    >>> kern(np.array([-2.0, 0.5, 3.0]), 1.0, np.empty(3))
    array([-1.,  0.,  2.])
    """
    return get_kernel(op, resolve_backend(op, *arrays, engine=engine))


def dispatch(op, *args, engine=None, **kwargs):
    """Run the kernel of ``op`` on the backend chosen from the inputs.

    Parameters
    ----------
    op : str
        Op name, e.g. ``"prox_l1"``.
    *args
        Positional arguments of the kernel; arrays among them decide the backend.
    engine : {"auto", "numpy", "numba", "cupy"} or None, default=None
        Override of the configured engine.
    **kwargs
        Keyword arguments passed to the kernel.

    Returns
    -------
    result
        Whatever the kernel returns (arrays stay on their device).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.backends import dispatch
    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> dispatch("prox_l1", x, 1.0, np.empty_like(x), engine="numpy")
    array([-1.,  0.,  2.])
    """
    backend = resolve_backend(op, *args, engine=engine)
    return get_kernel(op, backend)(*args, **kwargs)


def list_kernels(backend=None):
    """Sorted op names registered on ``backend`` (all backends if ``None``).

    Loading a backend registers its kernels, so this imports the backend.

    Examples
    --------
    >>> from sparsopt.backends import list_kernels
    >>> "prox_l1" in list_kernels("numpy")
    True
    """
    backends = BACKENDS if backend is None else (backend,)
    for b in backends:
        _load_backend(b)
    return sorted({op for (op, b) in _KERNELS if b in backends})


def backend_info():
    """Dictionary describing each backend: available, version or reason."""
    info = {"numpy": {"available": True}}
    import numpy

    info["numpy"]["version"] = numpy.__version__
    ok = _load_backend("numba")
    entry = {"available": ok}
    if ok:
        import numba

        entry["version"] = numba.__version__
        entry["threading_layer_default"] = numba.config.THREADING_LAYER
        entry["cache_dir"] = os.environ.get("NUMBA_CACHE_DIR", "<next to sources>")
    else:
        entry["reason"] = _LOAD_ERRORS.get("numba", "")
    info["numba"] = entry
    ok = cupy_available()
    entry = {"available": ok}
    if ok:
        import cupy

        entry["version"] = cupy.__version__
        entry["n_devices"] = _CUPY_STATE.get("n_devices", 0)
        try:
            props = cupy.cuda.runtime.getDeviceProperties(0)
            entry["device0"] = props["name"].decode()
        except Exception:  # pragma: no cover - depends on the driver
            pass
    else:
        entry["reason"] = _CUPY_STATE.get("reason", "")
    info["cupy"] = entry
    return info
