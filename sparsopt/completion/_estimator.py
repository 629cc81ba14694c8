"""MatrixCompletion: a scikit-learn imputer of NaN entries by low-rank completion."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from .._core.progress import fit_progress
from ..backends import kernel_for
from ..utils.estimator import SparsoptEstimatorMixin, _array_api_namespace_of
from ..utils.validation import FLOAT_DTYPES
from ._altmin import RIDGE, altmin_complete
from ._pattern import solve_rows
from ._validation import _list, check_rank

#: fraction of the observed entries that ``score(X)`` hides when given neither ``y`` nor
#: ``mask``
SCORE_HOLDOUT = 0.2


class MatrixCompletion(OneToOneFeatureMixin, SparsoptEstimatorMixin, TransformerMixin,
                       BaseEstimator):
    """Impute missing (NaN) entries by low-rank matrix completion (robust AltMin).

    ``fit`` learns a rank-``rank`` model ``X ~ mean + U V^T`` of the training matrix from
    its observed entries only, with :func:`~sparsopt.completion.altmin_complete`
    (alternating least squares, exact or sketch-preconditioned). ``transform`` fills the
    NaN entries of any matrix with the same columns: each row's coefficients are the
    least-squares fit of its observed entries on the learned column factors ``V_``, so it
    works on new rows (a :class:`~sklearn.pipeline.Pipeline` imputes its test data with
    the model learned on its training data). Observed entries are returned unchanged.

    Parameters
    ----------
    rank : int, default=5
        Rank of the model, ``1 <= rank < min(n_samples, n_features)``.
    solver : {"auto", "normal", "sketch"}, default="auto"
        Least-squares solves of :func:`~sparsopt.completion.altmin_complete`.
    alpha : float, default=0.0
        Ridge on the factors (helps on noisy data with few observations per row).
    center : bool, default=False
        Subtract the observed column means before the low-rank fit (they are added back;
        a row without any observed entry is then imputed by the means). Useful for
        features with large offsets and a small rank; note that the centred matrix of an
        exactly rank-``k`` matrix has rank up to ``k + 1`` (the observed means are not the
        true ones), so exact recovery then needs ``rank + 1``.
    max_iter : int, default=50
        Hard cap on AltMin iterations.
    tol : float, default=1e-6
        Stop when the relative observed residual or its change per iteration falls to
        ``tol`` (both tolerances of the solver).
    random_state : int, RandomState instance or None, default=None
        Seeds the spectral initialisation (and the held-out entries of :meth:`score`).
    n_jobs : int or None, default=None
        Threads over row blocks.
    verbose : int, bool or None, default=None
        Progress bar when 1, plus the solver's lines from 2; None reads the
        configuration.

    Attributes
    ----------
    U_ : ndarray of shape (n_samples, rank)
        Row factors of the training matrix (balanced: ``U_ = P sqrt(S)``).
    V_ : ndarray of shape (n_features, rank)
        Column factors (``V_ = Q sqrt(S)``); the completed training matrix is
        ``mean_ + U_ @ V_.T``.
    mean_ : ndarray of shape (n_features,)
        Observed column means (zeros when ``center=False``).
    singular_values_ : ndarray of shape (rank,)
        Singular values of ``U_ @ V_.T``.
    n_iter_ : int
    converged_ : bool
    objective_history_ : ndarray
        ``1/2 ||P_Omega(U V^T - X)||^2 (+ ridge)`` per iteration.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    sparsopt.completion.altmin_complete : the solver.
    sparsopt.completion.select_rank : cross-validated choice of ``rank``.
    sklearn.impute.IterativeImputer, sklearn.impute.KNNImputer : feature-wise imputers.

    Notes
    -----
    :meth:`score` is higher-is-better (scikit-learn's convention): the **negative** RMSE
    on held-out entries, so ``GridSearchCV(MatrixCompletion(), {"rank": [...]})``
    works without a scorer.

    References
    ----------
    .. [1] Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust
       Alternating Minimization in Nearly Linear Time", ICLR 2024, arXiv:2302.11068.
    .. [2] P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using
       alternating minimization", STOC 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.completion import MatrixCompletion
    >>> from sparsopt.datasets import make_low_rank_completion
    >>> X, U, V = make_low_rank_completion(200, 40, 3, density=0.5, output="dense",
    ...                                    random_state=0)
    >>> imp = MatrixCompletion(rank=3, random_state=0).fit(X)
    >>> X_filled = imp.transform(X)
    >>> bool(np.isnan(X_filled).any())
    False
    >>> err = np.abs(X_filled - U @ V.T).max()
    >>> bool(err < 1e-4)
    True
    """

    _parameter_constraints = {
        "rank": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [StrOptions({"auto", "normal", "sketch"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "center": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose", None],
    }

    def __init__(self, rank=5, *, solver="auto", alpha=0.0, center=False, max_iter=50,
                 tol=1e-6, random_state=None, n_jobs=None, verbose=None):
        self.rank = rank
        self.solver = solver
        self.alpha = alpha
        self.center = center
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_X(self, X, reset):
        _array_api_namespace_of(self, X)  # NumPy only: a clear error under array API dispatch
        return validate_data(self, X, reset=reset, dtype=list(FLOAT_DTYPES),
                             ensure_all_finite="allow-nan")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the low-rank model from the observed (non-NaN) entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training matrix, NaN at the missing entries. Every row and column needs at
            least one observed entry.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : MatrixCompletion
        """
        X = self._check_X(X, reset=True)
        name = type(self).__name__
        check_rank(self.rank, X.shape, name)
        observed = ~np.isnan(X)
        if not observed.any():
            raise ValueError(f"{name}: X has no observed entries (all NaN): there is nothing "
                             "to complete from.")
        for what, axis in (("rows", 1), ("columns", 0)):
            empty = np.flatnonzero(~observed.any(axis=axis))
            if empty.size:
                raise ValueError(
                    f"{name}: X has {what} without any observed (non-NaN) entry ({what} "
                    f"{_list(empty)}); an entirely missing {what[:-1]} cannot be learned "
                    f"from. Drop these {what} from the training data.")
        counts = observed.sum(axis=0)
        if self.center:
            mean = np.where(observed, X, 0.0).sum(axis=0, dtype=np.float64) / counts
        else:
            mean = np.zeros(X.shape[1])
        self.mean_ = mean.astype(X.dtype)
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(0, 2**31 - 1))
        with fit_progress(self.max_iter, name, self.verbose) as fp:
            res = altmin_complete(
                X - self.mean_, self.rank, solver=self.solver, alpha=self.alpha,
                max_iter=self.max_iter, tol=self.tol, tol_change=self.tol,
                random_state=seed, callback=fp.callback, verbose=fp.solver_verbose,
                n_jobs=self.n_jobs)
            fp.finish(res.n_iter)
        self.U_, self.V_ = res.U, res.V
        self.singular_values_ = res.singular_values
        self._store_result(res)
        return self

    def _row_factors(self, X):
        """Least-squares coefficients of every row's observed entries on ``V_``."""
        Xc = X - self.mean_
        observed = ~np.isnan(Xc)
        rows, cols = np.nonzero(observed)
        indptr = np.zeros(X.shape[0] + 1, dtype=np.int64)
        np.cumsum(observed.sum(axis=1), out=indptr[1:])
        data = np.ascontiguousarray(Xc[rows, cols])
        V = np.ascontiguousarray(self.V_, dtype=X.dtype)
        U = np.zeros((X.shape[0], V.shape[1]), dtype=X.dtype)
        kern = kernel_for("als_normal_solve", data)
        solve_rows(kern, indptr, cols.astype(np.int32), data, V, U, (RIDGE, float(self.alpha)),
                   self.n_jobs)
        return U

    def _fill(self, X, U):
        out = X.copy()
        rows, cols = np.nonzero(np.isnan(X))
        if rows.size:
            pred = np.einsum("ij,ij->i", U[rows], self.V_[cols].astype(X.dtype))
            out[rows, cols] = pred + self.mean_[cols]
        return out

    def transform(self, X):
        """Fill the NaN entries of ``X`` from the low-rank model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to impute (any number), NaN at the missing entries.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            ``X`` with its NaN entries replaced; observed entries unchanged.
        """
        check_is_fitted(self, "V_")
        X = self._check_X(X, reset=False)
        if not np.isnan(X).any():
            return X.copy()
        need = np.isnan(X).any(axis=1)
        U = np.zeros((X.shape[0], self.V_.shape[1]), dtype=X.dtype)
        U[need] = self._row_factors(X[need])
        return self._fill(X, U)

    def fit_transform(self, X, y=None):
        """Fit, then fill the NaN entries of the training matrix with ``U_ @ V_.T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
        """
        self.fit(X)
        X = self._check_X(X, reset=False)
        return self._fill(X, self.U_.astype(X.dtype))

    def score(self, X, y=None, *, mask=None):
        """Negative RMSE of the imputation on held-out entries (higher is better).

        Three ways to say which entries are held out:

        * ``mask`` (boolean, shape of ``X``): ``X`` is the truth; the observed entries
          where ``mask`` is True are hidden, imputed and compared;
        * ``y`` (array of the shape of ``X``): ``y`` is the truth; the entries that are
          NaN in ``X`` and finite in ``y`` are compared;
        * neither (a one-dimensional ``y``, as passed by a scikit-learn search over an
          unsupervised estimator, is ignored): a random 20% of the observed entries of
          ``X`` (seeded by ``random_state``) are hidden, imputed and compared.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_features) or None, default=None
            The true matrix.
        mask : array-like of bool of shape (n_samples, n_features) or None, default=None
            Entries of ``X`` to hold out.

        Returns
        -------
        score : float
            ``-sqrt(mean((X_imputed - X_true)^2))`` over the held-out entries.
        """
        check_is_fitted(self, "V_")
        X = self._check_X(X, reset=False)
        name = type(self).__name__
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != X.shape or mask.dtype != bool:
                raise ValueError(f"{name}.score: mask must be a boolean array of shape "
                                 f"{X.shape}, got {mask.dtype} of shape {mask.shape}.")
            held = mask & ~np.isnan(X)
            truth, X_in = X, np.where(held, np.nan, X)
        elif y is not None and np.ndim(y) == 2:
            truth = np.asarray(y, dtype=np.float64)
            if truth.shape != X.shape:
                raise ValueError(f"{name}.score: y (the true matrix) must have the shape of "
                                 f"X {X.shape}, got {truth.shape}.")
            held = np.isnan(X) & np.isfinite(truth)
            X_in = X
        else:
            rs = check_random_state(self.random_state)
            held = ~np.isnan(X) & (rs.random_sample(X.shape) < SCORE_HOLDOUT)
            truth, X_in = X, np.where(held, np.nan, X)
        if not held.any():
            raise ValueError(f"{name}.score: there is no held-out entry to score (pass y, "
                             "the true matrix, or a mask of entries to hide).")
        X_hat = self.transform(X_in)
        diff = X_hat[held].astype(np.float64) - truth[held]
        return -float(np.sqrt(np.mean(diff * diff)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Small fast parameters for scikit-learn's checks (their data have 2+ features)."""
        return {"rank": 1, "max_iter": 5, "random_state": 0}
