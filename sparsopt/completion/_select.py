"""Choosing the rank by cross-validation over held-out observed entries."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..exceptions import ConvergenceWarning
from ..utils.validation import check_int
from ._altmin import altmin_complete
from ._validation import check_observed, check_rank


@dataclass(frozen=True)
class RankSelection:
    """Scores of :func:`select_rank`.

    Attributes
    ----------
    ranks : ndarray of shape (n_ranks,)
    rmse : ndarray of shape (n_ranks, cv)
        RMSE on each fold's held-out entries.
    mean_rmse, std_rmse : ndarray of shape (n_ranks,)
    best_rank : int
        The rank of the lowest mean RMSE.
    n_not_converged : ndarray of shape (n_ranks,)
        Fits per rank that reached ``max_iter`` (their warnings are collected here).
    """

    ranks: np.ndarray
    rmse: np.ndarray
    mean_rmse: np.ndarray
    std_rmse: np.ndarray
    best_rank: int
    n_not_converged: np.ndarray


def select_rank(X_observed, ranks, *, cv=5, random_state=None, **params):
    """Cross-validated RMSE of :func:`altmin_complete` for each candidate rank.

    The observed entries are split at random into ``cv`` folds (one entry per row and
    per column is always kept for training, so that no row or column loses all its
    observations); each fold is held out in turn, the matrix is completed from the other
    entries, and the RMSE on the held-out entries is recorded.

    Parameters
    ----------
    X_observed : sparse matrix or ndarray of shape (n_rows, n_cols)
        Observed entries (as for :func:`altmin_complete`).
    ranks : sequence of int
        Candidate ranks (each ``< min(n_rows, n_cols)``).
    cv : int, default=5
        Number of folds (>= 2).
    random_state : int, Generator or None, default=None
        Seeds the folds and the solver.
    **params
        Passed on to :func:`altmin_complete` (``solver``, ``alpha``, ``max_iter``,
        ``tol``, ``n_jobs``...).

    Returns
    -------
    selection : RankSelection
        ``best_rank``, ``mean_rmse`` and the per-fold scores.

    See Also
    --------
    MatrixCompletion.score : the same held-out RMSE for a
        :class:`~sklearn.model_selection.GridSearchCV` over the imputer.

    References
    ----------
    .. [1] R. Mazumder, T. Hastie, R. Tibshirani, "Spectral Regularization Algorithms for
       Learning Large Incomplete Matrices", JMLR 11, 2010 (held-out observed entries to
       choose the regularisation).

    Examples
    --------
    >>> from sparsopt.completion import select_rank
    >>> from sparsopt.datasets import make_low_rank_completion
    >>> X, _, _ = make_low_rank_completion(150, 120, 3, density=0.3, noise=0.1,
    ...                                    random_state=0)
    >>> sel = select_rank(X, [1, 2, 3, 5, 8], cv=3, random_state=0)
    >>> sel.best_rank
    3
    """
    import scipy.sparse as sp

    owner = "select_rank"
    pattern = check_observed(X_observed, owner)
    cv = check_int(cv, "cv", owner, lower=2)
    ranks = np.array([check_rank(r, pattern.shape, owner) for r in ranks], dtype=int)
    if ranks.size == 0:
        raise ValueError(f"{owner}: ranks is empty.")
    rng = np.random.default_rng(random_state)
    labels = rng.integers(0, cv, size=pattern.nnz)
    rows = pattern.rows()
    # keep one random entry of every row and of every column in every training set
    order = rng.permutation(pattern.nnz)
    keep = np.zeros(pattern.nnz, dtype=bool)
    for idx in (rows[order], pattern.row_ind[order]):
        _, first = np.unique(idx, return_index=True)
        keep[order[first]] = True
    labels[keep] = -1
    seeds = rng.integers(0, 2**31 - 1, size=cv)
    rmse = np.full((ranks.size, cv), np.nan)
    not_conv = np.zeros(ranks.size, dtype=int)
    params.setdefault("max_iter", 50)
    params.setdefault("tol", 1e-6)
    params.setdefault("tol_change", params["tol"])
    for f in range(cv):
        test = labels == f
        if not test.any():
            continue
        train = ~test
        counts = np.bincount(rows[train], minlength=pattern.shape[0])
        indptr = np.concatenate([[0], np.cumsum(counts)])
        X_train = sp.csr_array((pattern.row_data[train], pattern.row_ind[train], indptr),
                               shape=pattern.shape)
        for a, r in enumerate(ranks):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = altmin_complete(X_train, int(r), random_state=int(seeds[f]),
                                      **params)
            not_conv[a] += any(issubclass(w.category, ConvergenceWarning) for w in caught)
            pred = res.predict(rows[test], pattern.row_ind[test])
            err = pred.astype(np.float64) - pattern.row_data[test]
            rmse[a, f] = float(np.sqrt(np.mean(err * err)))
    mean = np.nanmean(rmse, axis=1)
    return RankSelection(ranks=ranks, rmse=rmse, mean_rmse=mean,
                         std_rmse=np.nanstd(rmse, axis=1),
                         best_rank=int(ranks[int(np.nanargmin(mean))]),
                         n_not_converged=not_conv)
