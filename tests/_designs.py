"""Synthetic designs shared by the tests."""

import numpy as np


def ar1_design(rng, n, p, rho):
    """``(n, p)`` Gaussian design whose columns are AR(1)-correlated with coefficient ``rho``
    (column ``j`` correlates ``rho^|j - k|`` with column ``k``); draws ``n * p`` normals."""
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    return X
