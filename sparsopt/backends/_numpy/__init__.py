"""NumPy reference kernels: the oracle every other backend is tested against."""

from . import prox  # noqa: F401  (registers kernels)
