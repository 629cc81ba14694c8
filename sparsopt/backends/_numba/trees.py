"""Numba kernels:
Message passing on forests: exact tree solves for sparse quadratics (label propagation)."""
