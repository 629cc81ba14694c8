"""Kernel dispatch: one op name, one kernel per backend (numpy, numba, cupy).

NumPy inputs run the Numba kernels (the NumPy references with ``engine="numpy"``);
CuPy and other array-API inputs run a hand-written kernel of their library when one
is registered, else the op's namespace-generic NumPy reference, and stay in their
namespace (see :func:`array_namespace`). See :func:`dispatch` and the contributors'
architecture page.
"""

from ._namespace import (
    array_namespace,
    asarray_on,
    device,
    errstate,
    host_only_error,
    is_host_array,
    is_numpy_namespace,
    namespace_name,
    non_numpy_namespace,
    require_host,
    to_numpy,
)
from ._registry import (
    BACKENDS,
    array_api_kernels,
    array_backend,
    backend_info,
    cupy_available,
    dispatch,
    get_kernel,
    get_namespace,
    has_kernel,
    is_array_api_kernel,
    is_cupy_array,
    kernel_for,
    list_kernels,
    register_kernel,
    resolve_backend,
)

__all__ = [
    "BACKENDS",
    "array_api_kernels",
    "array_namespace",
    "asarray_on",
    "device",
    "errstate",
    "host_only_error",
    "is_array_api_kernel",
    "is_host_array",
    "is_numpy_namespace",
    "namespace_name",
    "non_numpy_namespace",
    "require_host",
    "to_numpy",
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
