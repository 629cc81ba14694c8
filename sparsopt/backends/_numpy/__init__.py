"""NumPy reference kernels: the oracle every other backend is tested against."""

from . import (  # noqa: F401  (registers kernels)
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
