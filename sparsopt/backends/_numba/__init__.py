"""Numba kernels (CPU default). Imported lazily by the dispatcher."""

from ._cache import configure_cache

configure_cache()

from . import dictionary, lars, omp, prox, sinkhorn, sparse_coding  # noqa: E402,F401  (registers kernels)
