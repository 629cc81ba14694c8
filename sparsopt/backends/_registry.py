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

BACKENDS = ("numpy", "numba", "cupy")
_BACKEND_PACKAGES = {
    "numpy": "sparsopt.backends._numpy",
    "numba": "sparsopt.backends._numba",
    "cupy": "sparsopt.backends._cupy",
}
_KERNELS: dict[tuple[str, str], object] = {}
_LOADED: dict[str, bool] = {}
_LOAD_ERRORS: dict[str, str] = {}
_lock = threading.RLock()
_CUPY_STATE: dict[str, object] = {}


def register_kernel(op, backend):
    """Decorator registering ``func`` as the kernel of ``op`` on ``backend``.

    Parameters
    ----------
    op : str
        Name of the numerical primitive, e.g. ``"prox_l1"``.
    backend : {"numpy", "numba", "cupy"}
        Backend the kernel runs on.

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

    def decorator(func):
        with _lock:
            _KERNELS[(op, backend)] = func
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
    """Return ``"cupy"`` or ``"numpy"`` from the arrays' types.

    Non-array arguments (scalars, ``None``) are ignored.

    Raises
    ------
    TypeError
        If CuPy arrays are mixed with NumPy arrays.
    """
    kinds = set()
    for a in arrays:
        if a is None or isinstance(a, (int, float, complex, bool, str)):
            continue
        if is_cupy_array(a):
            kinds.add("cupy")
        elif hasattr(a, "__array__") or hasattr(a, "shape"):
            kinds.add("numpy")
    if len(kinds) > 1:
        raise TypeError(
            "Mixed CuPy and NumPy arrays were passed to one sparsopt call. Move all inputs "
            "to the same device first (cupy.asarray(...) or cupy.asnumpy(...))."
        )
    return kinds.pop() if kinds else "numpy"


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
    """
    engine = engine or get_config()["engine"]
    where = array_backend(*arrays)
    if engine == "auto":
        if where == "cupy":
            backend = "cupy"
        else:
            backend = "numba" if has_kernel(op, "numba") else "numpy"
    elif engine in BACKENDS:
        backend = engine
        if where == "cupy" and engine != "cupy":
            raise TypeError(
                f"engine={engine!r} runs on the host but CuPy arrays were passed to {op!r}; "
                "use engine='cupy' or 'auto', or move the data with cupy.asnumpy()."
            )
        if where == "numpy" and engine == "cupy":
            raise TypeError(
                f"engine='cupy' needs CuPy arrays but NumPy arrays were passed to {op!r}; "
                "move the data with cupy.asarray() or use engine='auto'."
            )
    else:
        raise ValueError(f"engine must be one of ('auto',) + {BACKENDS}, got {engine!r}.")
    return backend


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
