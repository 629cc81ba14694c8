"""Numba kernels (CPU default). Imported lazily by the dispatcher."""

from ._cache import configure_cache, stamp_kernel_sources

configure_cache()
stamp_kernel_sources()

from . import (  # noqa: E402,F401  (registers kernels)
    bcd,
    completion,
    dictionary,
    glm_cd,
    lars,
    omp,
    prosper,
    prox,
    prox_newton,
    pruning,
    sinkhorn,
    sparse_coding,
    spright,
    trees,
    unfolding,
    wht,
)
