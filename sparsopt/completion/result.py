"""The result object of the matrix-completion solvers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.result import SolverResult


@dataclass(frozen=True, kw_only=True)
class CompletionResult(SolverResult):
    """A low-rank completion ``X_hat = U @ V.T`` of a partially observed matrix.

    A :class:`~sparsopt.solvers.SolverResult` whose iterate ``x`` is the pair of factors
    ``(U, V)`` (so ``U, V = result.x``) and whose ``stop_crit`` is the relative
    residual on the observed entries, ``||P_Omega(U V^T - M)||_F / ||P_Omega(M)||_F``.

    The factors are balanced on return: ``U = P diag(sqrt(s))``, ``V = Q diag(sqrt(s))``
    with ``P diag(s) Q^T`` the thin SVD of ``X_hat`` (``s`` = :attr:`singular_values`,
    decreasing).

    Attributes
    ----------
    x : tuple of ndarray
        ``(U, V)``.
    U : ndarray of shape (n_rows, rank)
    V : ndarray of shape (n_cols, rank)
    singular_values : ndarray of shape (rank,)
        Singular values of ``U @ V.T``, decreasing.
    n_iter : int
        Outer iterations (one iteration: a column step and a row step).
    converged : bool
        Whether a stopping test was met (see ``info["stopped_by"]``: ``"tol"`` for the
        residual, ``"tol_change"`` for the change of the fit on the observed entries).
    stop_crit : float
        Relative residual on the observed entries of the returned factors.
    history : tuple of dict
        One record per iteration: ``iteration``, ``stop_crit``, ``objective``,
        ``time``, ``rel_change`` (relative change of ``U V^T`` on the observed entries).
    info : mapping
        ``solver`` (``"normal"`` or ``"sketch"``, or ``"soft_impute"``), ``n_observed``,
        ``density``, ``underdetermined_rows`` and ``underdetermined_cols`` (indices of
        the rows and columns with fewer observed entries than the rank), ``work``
        (``|Omega| * rank * n_iter``), ``stopped_by``, ``criterion``, ``tol``, ``time``...

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.completion import altmin_complete
    >>> from sparsopt.datasets import make_low_rank_completion
    >>> X, U, V = make_low_rank_completion(60, 50, 2, density=0.5, random_state=0)
    >>> res = altmin_complete(X, 2, random_state=0)
    >>> bool(res.converged), res.U.shape, res.V.shape
    (True, (60, 2), (50, 2))
    >>> err = np.linalg.norm(res.U @ res.V.T - U @ V.T) / np.linalg.norm(U @ V.T)
    >>> bool(err < 1e-8)
    True
    """

    singular_values: Any = None

    @property
    def U(self):
        """Left factor, ``(n_rows, rank)``."""
        return self.x[0]

    @property
    def V(self):
        """Right factor, ``(n_cols, rank)``."""
        return self.x[1]

    @property
    def rank(self):
        """Number of columns of the factors."""
        return self.x[0].shape[1]

    def predict(self, rows, cols):
        """Entries ``X_hat[rows, cols]`` (arrays of indices), without forming ``X_hat``."""
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        return np.einsum("...k,...k->...", self.U[rows], self.V[cols])

    def to_dense(self):
        """The completed matrix ``U @ V.T`` (dense: ``n_rows * n_cols`` entries)."""
        return self.U @ self.V.T

    def _fields(self):
        fields = super()._fields()
        fields.update(singular_values=self.singular_values)
        return fields
