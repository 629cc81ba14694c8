"""Global configuration: which compute engine to use and how chatty to be.

The configuration is thread-local so that ``config_context`` in one thread does
not leak into another (estimators run kernels from worker threads with ``n_jobs``).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_ENGINES = ("auto", "numpy", "numba", "cupy")
_DEFAULTS = {"engine": "auto", "verbose": 0}
_local = threading.local()


def _get_threadlocal():
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config():
    """Return a copy of the current sparsopt configuration.

    Returns
    -------
    config : dict
        Keys are ``"engine"`` and ``"verbose"``.

    Examples
    --------
    >>> import sparsopt
    >>> sparsopt.get_config()["engine"]
    'auto'
    """
    return dict(_get_threadlocal())


def set_config(engine=None, verbose=None):
    """Set the global (thread-local) sparsopt configuration.

    Parameters
    ----------
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Compute engine for kernels. ``"auto"`` follows the input arrays: CuPy
        arrays run CuPy kernels, NumPy arrays run Numba kernels (falling back to
        the NumPy reference where no Numba kernel exists). ``None`` leaves the
        current value unchanged.
    verbose : int, default=None
        Default verbosity of solvers. ``None`` leaves it unchanged.

    Examples
    --------
    >>> import sparsopt
    >>> sparsopt.set_config(engine="numpy")
    >>> sparsopt.get_config()["engine"]
    'numpy'
    >>> sparsopt.set_config(engine="auto")
    """
    cfg = _get_threadlocal()
    if engine is not None:
        if engine not in _ENGINES:
            raise ValueError(f"engine must be one of {_ENGINES}, got {engine!r}.")
        cfg["engine"] = engine
    if verbose is not None:
        if int(verbose) < 0:
            raise ValueError(f"verbose must be a non-negative integer, got {verbose!r}.")
        cfg["verbose"] = int(verbose)


@contextmanager
def config_context(**new_config):
    """Context manager that temporarily changes the configuration.

    Parameters
    ----------
    **new_config
        Any keyword accepted by :func:`set_config`.

    Examples
    --------
    >>> import sparsopt
    >>> with sparsopt.config_context(engine="numpy"):
    ...     sparsopt.get_config()["engine"]
    'numpy'
    """
    old = get_config()
    set_config(**new_config)
    try:
        yield
    finally:
        _get_threadlocal().update(old)
