"""Kernel dispatch: one op name, one kernel per backend (numpy, numba, cupy).

See :func:`dispatch` and the contributors' architecture page.
"""

from ._registry import (
    BACKENDS,
    array_backend,
    backend_info,
    cupy_available,
    dispatch,
    get_kernel,
    get_namespace,
    has_kernel,
    is_cupy_array,
    kernel_for,
    list_kernels,
    register_kernel,
    resolve_backend,
)

__all__ = [
    "BACKENDS",
    "array_backend",
    "backend_info",
    "cupy_available",
    "dispatch",
    "get_kernel",
    "get_namespace",
    "has_kernel",
    "is_cupy_array",
    "kernel_for",
    "list_kernels",
    "register_kernel",
    "resolve_backend",
]
