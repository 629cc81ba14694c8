"""Small linear-algebra helpers shared by solvers."""

from __future__ import annotations

import numpy as np


def spectral_norm_sq(A, *, max_iter=100, tol=1e-7, random_state=0):
    """Squared spectral norm ``||A||_2^2`` (largest eigenvalue of ``A^T A``).

    Small dense matrices use an exact SVD; large or sparse ones use power
    iteration on ``A^T A``, which returns a lower bound converging to the value
    (multiply by ``1 + 1e-6`` or so for a safe Lipschitz constant).

    Parameters
    ----------
    A : ndarray or sparse matrix of shape (n_samples, n_features)
    max_iter : int, default=100
        Power iterations.
    tol : float, default=1e-7
        Relative change that stops the power iteration.
    random_state : int, default=0
        Seed of the starting vector.

    Returns
    -------
    value : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.utils.linalg import spectral_norm_sq
    >>> spectral_norm_sq(np.diag([3.0, 1.0]))
    9.0
    """
    if isinstance(A, np.ndarray) and min(A.shape) <= 512:
        return float(np.linalg.norm(A.astype(np.float64, copy=False), 2) ** 2)
    rng = np.random.default_rng(random_state)
    v = rng.standard_normal(A.shape[1])
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(max_iter):
        w = A.T @ (A @ v)
        new = float(np.linalg.norm(w))
        if new == 0.0:
            return 0.0
        v = w / new
        if abs(new - lam) <= tol * new:
            lam = new
            break
        lam = new
    return lam
