"""NumPy reference kernels: the oracle every other backend is tested against."""

from . import dictionary, lars, omp, prox, sinkhorn, sparse_coding  # noqa: F401  (registers kernels)
