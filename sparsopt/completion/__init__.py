"""Low-rank matrix completion: robust alternating minimization and soft-impute.

Functions take the observed entries ``X_observed`` (a SciPy sparse matrix whose stored
entries are the observations, or a dense array with NaN for the missing ones) and a rank,
and return a :class:`CompletionResult` whose ``x`` is the pair of factors ``(U, V)``
with ``X_hat = U @ V.T``. They follow the library's loop protocol (``callback``,
``verbose``, ``max_iter``, ``n_jobs``, ``engine``). :class:`MatrixCompletion` is the
scikit-learn imputer built on them, :func:`select_rank` picks the rank by
cross-validation over held-out entries.
"""

from ._altmin import altmin_complete
from ._estimator import MatrixCompletion
from ._select import RankSelection, select_rank
from ._soft_impute import soft_impute
from .result import CompletionResult

__all__ = [
    "CompletionResult",
    "MatrixCompletion",
    "RankSelection",
    "altmin_complete",
    "select_rank",
    "soft_impute",
]
