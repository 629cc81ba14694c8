"""The SparseCoder estimator: a fixed dictionary, every penalty, every solver."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..solvers.coding.encode import SOLVERS, encode
from ..utils.estimator import SparsoptEstimatorMixin, penalty_constraint


class SparseCoder(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                  BaseEstimator):
    """Encode signals as sparse combinations of the atoms of a fixed dictionary.

    A drop-in for :class:`sklearn.decomposition.SparseCoder` that adds the nonconvex
    penalties (l0, l1/2, l2/3, CEL0, MCP, SCAD, log), group penalties and fast batched
    solvers. Each row ``x`` of ``X`` is encoded as
    ``c = argmin 1/2 ||x - c D||^2 + pen(c)`` (per-signal sum convention; ``pen``
    contains ``alpha``) by :func:`sparsopt.solvers.encode`.

    Parameters
    ----------
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows; not modified.
    penalty : str or Penalty, default="l1"
        Regularizer (see :func:`~sparsopt.decomposition.sparse_encode`).
    alpha : float, default=1.0
        Regularization strength when ``penalty`` is a name.
    solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default="auto"
        Algorithm (``"auto"``: OMP if ``n_nonzero_coefs`` is set, the exact homotopy
        ``"lars"`` for l1, coordinate descent for the other separable penalties, FISTA
        otherwise; see :func:`~sparsopt.decomposition.sparse_encode`).
    max_iter : int, default=1000
        Iterations (epochs for ``"cd"``, path steps for ``"lars"``).
    tol : float, default=1e-6
        Tolerance of the solver's stopping criterion.
    positive : bool, default=False
        Non-negative codes (the penalty becomes ``penalty + Positive()``).
    n_nonzero_coefs : int, default=None
        Sparsity for ``"omp"`` and ``"iht"``.
    n_jobs : int or None, default=None
        Threads over blocks of samples.

    Attributes
    ----------
    n_components_ : int
        Number of atoms.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    n_iter_ : int
        Iterations used to encode the data passed to :meth:`fit`.
    converged_ : bool
        Whether every sample of that data converged.
    objective_ : float
        Mean per-sample objective on that data. :meth:`transform` is stateless (as
        scikit-learn requires); :meth:`encode` returns a per-call report.

    See Also
    --------
    sparsopt.solvers.encode : the function behind :meth:`transform`.
    sparsopt.decomposition.sparse_encode : its scikit-learn spelling.

    References
    ----------
    .. [1] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1
       sparse coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import SparseCoder
    >>> X, D, _ = make_sparse_coding_problem(50, 32, 64, 4, noise=0.05)
    >>> coder = SparseCoder(D, penalty="mcp", alpha=0.1)
    >>> codes = coder.fit_transform(X)
    >>> codes.shape, coder.inverse_transform(codes).shape
    ((50, 64), (50, 32))
    """

    _parameter_constraints = {
        "dictionary": ["array-like"],
        "penalty": penalty_constraint(),
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "positive": ["boolean"],
        "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, dictionary, *, penalty="l1", alpha=1.0, solver="auto", max_iter=1000,
                 tol=1e-6, positive=False, n_nonzero_coefs=None, n_jobs=None):
        self.dictionary = dictionary
        self.penalty = penalty
        self.alpha = alpha
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.positive = positive
        self.n_nonzero_coefs = n_nonzero_coefs
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Validate, then encode ``X`` once to record the solver report.

        The dictionary is fixed, so nothing is learned; ``n_iter_``, ``converged_`` and
        ``objective_`` describe the encoding of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : SparseCoder
        """
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Encode ``X`` and record the solver report (one solve, not two).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        """
        self._validate_params()
        X = self._validate_input(X)
        self._check_dictionary(X.shape[1])
        codes, res = self._encode(X)
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        obj = res.info.get("objective_per_sample")
        self.objective_ = float(np.mean(obj)) if obj is not None and len(obj) else float("nan")
        return self._wrap_output(codes, X)

    def _wrap_output(self, codes, X):
        # fit_transform is overridden, so apply set_output's container by hand
        from sklearn.utils._set_output import _wrap_data_with_container

        return _wrap_data_with_container("transform", codes, X, self)

    def _check_dictionary(self, n_features):
        D = np.asarray(self.dictionary)
        if D.ndim != 2:
            raise ValueError(f"SparseCoder: dictionary must be 2-D (n_components, n_features),"
                             f" got shape {D.shape}.")
        if D.shape[1] != n_features:
            raise ValueError(
                f"SparseCoder: X has {n_features} features but the dictionary has "
                f"{D.shape[1]} columns (atoms are rows)."
            )
        if not np.all(np.isfinite(D)):
            raise ValueError("SparseCoder: dictionary contains NaN or infinity.")
        self.n_components_ = D.shape[0]
        return D

    def _encode(self, X):
        D = np.asarray(self.dictionary).astype(X.dtype, copy=False)
        extra = {}
        if isinstance(self.penalty, str) and self.penalty.strip().lower() == "cel0":
            extra["a"] = np.linalg.norm(D.astype(np.float64), axis=1)  # CEL0 of this D
        res = encode(X, D, penalty=self._make_penalty(**extra), solver=self.solver,
                     max_iter=self.max_iter, tol=self.tol,
                     n_nonzero_coefs=self.n_nonzero_coefs, n_jobs=self.n_jobs)
        return res.x, res

    def transform(self, X):
        """Sparse codes of ``X`` (stateless: the estimator is not modified).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        """
        return self.encode(X)[0]

    def encode(self, X):
        """Codes of ``X`` with this call's solver report.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        result : SolverResult
            ``n_iter``, ``converged`` and ``info["objective_per_sample"]`` of this call.
        """
        check_is_fitted(self, "n_components_")
        X = self._validate_input(X, reset=False)
        if X.shape[1] != np.shape(self.dictionary)[1]:  # dictionary replaced after fit
            self._check_dictionary(X.shape[1])
        return self._encode(X)

    def inverse_transform(self, X):
        """Signals from codes: ``codes @ dictionary``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "n_components_")
        return self._signals_from_codes(X, self.dictionary)

    @property
    def components_(self):
        """The dictionary (atoms as rows), as in scikit-learn's decompositions."""
        return np.asarray(self.dictionary)

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # n_features of the data each scikit-learn estimator check uses (the dictionary must
    # match it); same table as scikit-learn's own tests of its SparseCoder.
    _CHECK_N_FEATURES = {
        "check_array_api_input": 10, "check_estimators_dtypes": 5, "check_dtype_object": 10,
        "check_transformers_unfitted_stateless": 5, "check_fit_idempotent": 2,
        "check_transformer_preserve_dtypes": 3, "check_set_output_transform": 5,
        "check_global_output_transform_pandas": 5, "check_set_output_transform_pandas": 5,
        "check_set_output_transform_polars": 5, "check_global_set_output_transform_polars": 5,
        "check_dataframe_column_names_consistency": 8, "check_estimators_overwrite_params": 2,
        "check_estimators_fit_returns_self": 2, "check_readonly_memmap_input": 2,
        "check_n_features_in_after_fitting": 4, "check_fit_check_is_fitted": 2,
        "check_n_features_in": 2, "check_positive_only_tag_during_fit": 4,
        "check_fit2d_1sample": 10, "check_fit2d_1feature": 1,
    }

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        rng = np.random.default_rng(0)
        n_features = cls._CHECK_N_FEATURES.get(check_name, 3)
        return {"dictionary": rng.normal(size=(5, n_features))}
