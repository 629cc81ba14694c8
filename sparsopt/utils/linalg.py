"""Small linear-algebra helpers shared by solvers."""

from __future__ import annotations

import numpy as np


def spectral_norm_sq(A, *, max_iter=100, tol=1e-7, random_state=0):
    """Squared spectral norm ``||A||_2^2`` (largest eigenvalue of ``A^T A``).

    Dense matrices with a side of at most 1024 use an exact SVD; larger or sparse
    ones use Lanczos (ARPACK ``eigsh``) on ``A^T A``, accurate to ``tol``
    relative (plain power iteration can stall when the top singular values are
    close, underestimating the Lipschitz constant).

    Parameters
    ----------
    A : ndarray or sparse matrix of shape (n_samples, n_features)
    max_iter : int, default=100
        Lanczos restarts are capped at ``10 * max_iter``.
    tol : float, default=1e-7
        Relative accuracy of the Lanczos eigenvalue.
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
    if isinstance(A, np.ndarray) and min(A.shape) <= 1024:
        return float(np.linalg.norm(A.astype(np.float64, copy=False), 2) ** 2)
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = A.shape[1]
    op = LinearOperator((n, n), matvec=lambda v: A.T @ (A @ v), dtype=np.float64)
    v0 = np.random.default_rng(random_state).standard_normal(n)
    val = eigsh(op, k=1, which="LA", v0=v0, tol=tol, maxiter=max_iter * 10,
                return_eigenvectors=False)
    return float(max(val[0], 0.0))
