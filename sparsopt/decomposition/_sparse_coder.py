"""The SparseCoder estimator: a fixed dictionary, every penalty, every solver."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..backends import array_namespace, asarray_on, is_host_array
from ..solvers.coding._common import (
    ARRAY_API_SOLVERS,
    atom_norms,
    check_namespace_array,
    host_only_error,
    is_cel0_name,
)
from ..solvers.coding.encode import SOLVERS, encode
from ..utils.estimator import SparsoptEstimatorMixin, penalty_constraint
from ._sklearn_compat import (
    EXT_ALGORITHMS,
    SK_ALGORITHMS,
    check_one_spelling,
    sk_encode,
    split_codes,
    unsplit_codes,
)


def _is_host_data(a):
    """NumPy arrays, SciPy sparse matrices and data without a shape (lists): the NumPy
    road; anything else with a shape is an array of another namespace."""
    return is_host_array(a) or not hasattr(a, "shape")


def _where(X):
    """``(namespace name, device)`` of ``X`` (``("numpy", "cpu")`` for host data)."""
    from ..backends import device, namespace_name, non_numpy_namespace

    xp = non_numpy_namespace(X)
    if xp is None:
        return ("numpy", "cpu")  # NumPy, lists, DataFrames: host data
    return (namespace_name(xp), str(device(X)))


class SparseCoder(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                  BaseEstimator):
    """Encode signals as sparse combinations of the atoms of a fixed dictionary.

    A drop-in for :class:`sklearn.decomposition.SparseCoder` that adds the nonconvex
    penalties (l0, l1/2, l2/3, CEL0, MCP, SCAD, log), group penalties and fast batched
    solvers. Each row ``x`` of ``X`` is encoded as
    ``c = argmin 1/2 ||x - c D||^2 + pen(c)`` (per-signal sum convention; ``pen``
    contains ``alpha``) by :func:`sparsopt.solvers.encode`.

    Two spellings choose the coder: sparsopt's (``penalty``, ``alpha``, ``solver``,
    ``n_nonzero_coefs``, ``tol``, ``positive``) and scikit-learn's
    (``transform_algorithm``, ``transform_alpha``, ``transform_n_nonzero_coefs``,
    ``positive_code``); ``transform_max_iter``, ``split_sign`` and ``n_jobs`` serve
    both. Setting parameters of both raises ``ValueError``; setting none gives
    scikit-learn's default, OMP with 10% of the features as non-zeros, so that code
    written for scikit-learn runs unchanged.

    Stateless, as scikit-learn's: :meth:`transform` works without :meth:`fit`, which
    only validates ``X`` and records ``n_features_in_``.

    Array API: under ``sklearn.config_context(array_api_dispatch=True)``, ``X`` of any
    array-API namespace (CuPy, ...) is encoded in it, on its device, by the coders that
    run there: ``solver="fista"``, ``"ista"``, ``"lca"`` (``"auto"`` picks FISTA), or
    ``transform_algorithm="fista"`` / ``"threshold"``; the codes and
    :meth:`inverse_transform` come back in that namespace. A NumPy ``dictionary`` is
    copied next to ``X`` once per call (pass it in ``X``'s namespace to avoid that). The
    other coders (LARS, OMP, coordinate descent, IHT, the scikit-learn algorithms
    ``"lasso_lars"``, ``"lasso_cd"``, ``"lars"``, ``"omp"``, and the default ``"omp"``)
    run on NumPy arrays only and raise ``TypeError`` naming FISTA.

    Parameters
    ----------
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows; not modified.
    penalty : str or Penalty, default=None
        Regularizer (see :func:`~sparsopt.decomposition.sparse_encode`); ``None``:
        ``"l1"`` when another sparsopt coder parameter is set.
    alpha : float, default=None
        Regularization strength when ``penalty`` is a name (``None``: 1.0).
    solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default=None
        Algorithm (``None``/``"auto"``: OMP if ``n_nonzero_coefs`` is set, the exact
        homotopy ``"lars"`` for l1, coordinate descent for the other separable
        penalties, FISTA otherwise; see :func:`~sparsopt.decomposition.sparse_encode`).
    tol : float, default=None
        Tolerance of the solver's stopping criterion (``None``: 1e-6).
    positive : bool, default=None
        Non-negative codes (the penalty becomes ``penalty + Positive()``; ``None``:
        False).
    n_nonzero_coefs : int, default=None
        Sparsity for ``"omp"`` and ``"iht"``.
    n_jobs : int or None, default=None
        Threads over blocks of samples.
    transform_algorithm : {"lasso_lars", "lasso_cd", "lars", "omp", "threshold", \
"fista"}, default=None
        scikit-learn's coder name (see :func:`~sparsopt.decomposition.sparse_encode`);
        ``None``: ``"omp"`` (scikit-learn's default) unless a sparsopt coder parameter
        is set. ``"fista"`` (sparsopt's extension): the l1 codes of
        ``transform_alpha`` by batched FISTA, which also runs on array-API inputs.
    transform_n_nonzero_coefs : int, default=None
        Non-zeros of ``"omp"``/``"lars"``; ``None``: ``int(n_features / 10)`` within
        ``[1, n_components]`` (scikit-learn's).
    transform_alpha : float, default=None
        ``alpha`` of ``"lasso_lars"``, ``"lasso_cd"``, ``"threshold"`` and ``"fista"``;
        ``None``: 1.0.
    split_sign : bool, default=False
        Return ``[max(c, 0), -min(c, 0)]`` (``2 n_components`` columns), as
        scikit-learn; works with both spellings.
    positive_code : bool, default=False
        scikit-learn's name of ``positive``.
    transform_max_iter : int, default=1000
        Iterations of the iterative coders (epochs for ``"cd"`` and ``"lasso_cd"``, path
        steps for ``"lars"`` and ``"lasso_lars"``), with both spellings (the name of
        scikit-learn's parameter; sparsopt's functions call it ``max_iter``).

    Attributes
    ----------
    n_components_ : int
        Number of atoms.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    n_iter_ : int
        Iterations used by the last :meth:`fit_transform` (sparsopt coders only).
    converged_ : bool
        Whether every sample of that data converged (sparsopt coders only).
    objective_ : float
        Mean per-sample objective on that data (sparsopt coders only).
        :meth:`transform` is stateless (as scikit-learn requires); :meth:`encode`
        returns a per-call report.

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
    >>> SparseCoder(D, transform_algorithm="omp",  # scikit-learn's spelling, no fit
    ...             transform_n_nonzero_coefs=4).transform(X).shape
    (50, 64)
    """

    _parameter_constraints = {
        "dictionary": ["array-like"],
        "penalty": penalty_constraint() + [None],
        "alpha": [Interval(Real, 0, None, closed="left"), None],
        "solver": [StrOptions(set(SOLVERS)), None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "positive": ["boolean", None],
        "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "transform_algorithm": [StrOptions(set(SK_ALGORITHMS) | set(EXT_ALGORITHMS)), None],
        "transform_n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "transform_alpha": [Interval(Real, 0, None, closed="left"), None],
        "split_sign": ["boolean"],
        "positive_code": ["boolean"],
        "transform_max_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, dictionary, *, penalty=None, alpha=None, solver=None, tol=None,
                 positive=None, n_nonzero_coefs=None, n_jobs=None,
                 transform_algorithm=None, transform_n_nonzero_coefs=None,
                 transform_alpha=None, split_sign=False, positive_code=False,
                 transform_max_iter=1000):
        self.dictionary = dictionary
        self.penalty = penalty
        self.alpha = alpha
        self.solver = solver
        self.tol = tol
        self.positive = positive
        self.n_nonzero_coefs = n_nonzero_coefs
        self.n_jobs = n_jobs
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.split_sign = split_sign
        self.positive_code = positive_code
        self.transform_max_iter = transform_max_iter

    def _spelling(self):
        """``"native"`` or ``"sklearn"``: which set of names chooses the coder."""
        native = ("penalty", "alpha", "solver", "tol", "positive", "n_nonzero_coefs")
        return check_one_spelling(
            type(self).__name__,
            {name: getattr(self, name) is not None for name in native},
            {"transform_algorithm": self.transform_algorithm is not None,
             "transform_n_nonzero_coefs": self.transform_n_nonzero_coefs is not None,
             "transform_alpha": self.transform_alpha is not None,
             "positive_code": bool(self.positive_code)})

    def fit(self, X, y=None):
        """Validate the parameters and ``X``; nothing is learned (as scikit-learn).

        Records ``n_features_in_`` (and ``feature_names_in_``) and ``n_components_``.

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
        self._validate_params()
        self._spelling()
        self._fit_input(X)
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
            (``2 n_components`` columns with ``split_sign``).
        """
        self._validate_params()
        X = self._fit_input(X)
        codes, res = self._encode(X)
        if res is not None:
            self.n_iter_ = int(res.n_iter)
            self.converged_ = bool(res.converged)
            obj = res.info.get("objective_per_sample")
            self.objective_ = (float(array_namespace(obj).mean(obj))
                               if obj is not None and obj.shape[0] else float("nan"))
        return self._wrap_output(self._split(codes), X)

    def _fit_input(self, X):
        """``X`` validated (``n_features_in_`` recorded), the dictionary checked against
        it, and the namespace and device of the fit recorded."""
        X = self._validate_input(X)
        self._check_dictionary(X.shape[1])
        self._fit_namespace = _where(X)
        return X

    def _split(self, codes):
        return split_codes(codes) if self.split_sign else codes

    def _wrap_output(self, codes, X):
        # fit_transform is overridden, so apply set_output's container by hand
        from sklearn.utils._set_output import _wrap_data_with_container

        return _wrap_data_with_container("transform", codes, X, self)

    def _dictionary_array(self):
        """``dictionary`` as an array: host data as a NumPy array, other arrays as given."""
        D = self.dictionary
        return np.asarray(D) if _is_host_data(D) else D

    def _check_dictionary(self, n_features):
        D = self._dictionary_array()
        if D.ndim != 2:
            raise ValueError(f"SparseCoder: dictionary must be 2-D (n_components, n_features),"
                             f" got shape {D.shape}.")
        host = isinstance(D, np.ndarray)
        if not host:  # an array of another namespace: checked there
            check_namespace_array(D, "dictionary", "SparseCoder", 2)
        if D.shape[1] != n_features:
            raise ValueError(
                f"SparseCoder: X has {n_features} features but the dictionary has "
                f"{D.shape[1]} columns (atoms are rows)."
            )
        if host and not np.all(np.isfinite(D)):
            raise ValueError("SparseCoder: dictionary contains NaN or infinity.")
        self.n_components_ = D.shape[0]
        return D

    def _encode(self, X):
        """``(codes, SolverResult or None)``: None for scikit-learn's coders."""
        D = self._dictionary_like(X)
        if self._spelling() == "sklearn":
            codes = sk_encode(X, D, self.transform_algorithm or "omp",
                              n_nonzero_coefs=self.transform_n_nonzero_coefs,
                              alpha=self.transform_alpha, max_iter=self.transform_max_iter,
                              positive=self.positive_code, n_jobs=self.n_jobs,
                              owner=type(self).__name__, name="transform_algorithm")
            return codes, None
        penalty = "l1" if self.penalty is None else self.penalty
        extra = {"a": atom_norms(D)} if is_cel0_name(penalty) else {}  # CEL0 of this D
        pen = self._make_penalty(penalty=penalty,
                                 alpha=1.0 if self.alpha is None else self.alpha,
                                 positive=bool(self.positive), **extra)
        if not isinstance(X, np.ndarray) and (self.solver or "auto") not in (
                ("auto",) + ARRAY_API_SOLVERS):
            raise host_only_error(f"{type(self).__name__}: solver={self.solver!r}",
                                  array_namespace(X))
        res = encode(X, D, penalty=pen, solver=self.solver or "auto",
                     max_iter=max(self.transform_max_iter, 1),
                     tol=1e-6 if self.tol is None else self.tol,
                     n_nonzero_coefs=self.n_nonzero_coefs, n_jobs=self.n_jobs)
        return res.x, res

    def _dictionary_like(self, X):
        """The dictionary with ``X``'s dtype, in ``X``'s namespace and on its device."""
        D = self.dictionary
        if isinstance(X, np.ndarray):
            return np.asarray(D).astype(X.dtype, copy=False)
        xp = array_namespace(X)
        if _is_host_data(D):
            return asarray_on(np.asarray(D), X, dtype=X.dtype)
        array_namespace(D, X)  # TypeError for arrays of two libraries
        return xp.astype(D, X.dtype)

    def transform(self, X):
        """Sparse codes of ``X`` (stateless: works without :meth:`fit`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            (``2 n_components`` columns with ``split_sign``).
        """
        self._check_same_namespace(X, "transform")
        return self._split(self._encode_checked(X)[0])

    def encode(self, X):
        """Codes of ``X`` with this call's solver report (stateless).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Without ``split_sign``.
        result : SolverResult or None
            ``n_iter``, ``converged`` and ``info["objective_per_sample"]`` of this call
            (None for scikit-learn's ``transform_algorithm`` coders).
        """
        self._check_same_namespace(X, "encode")
        return self._encode_checked(X)

    def _check_same_namespace(self, X, method):
        """scikit-learn's rule under ``array_api_dispatch``: after a fit, the other
        methods take inputs of the fit's namespace and device (stateless use, without
        fit, takes any)."""
        from sklearn import get_config

        fitted = getattr(self, "_fit_namespace", None)
        if fitted is None or not get_config()["array_api_dispatch"]:
            return
        now = _where(X)
        if now != fitted:
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the same "
                "namespace and the same device as those passed to fit(). Array namespace "
                f"and device used during fit: {fitted}, in {method}: {now}. Fit again "
                "on the new inputs (SparseCoder learns nothing) or move them."
            )

    def _encode_checked(self, X):
        self._validate_params()
        X = self._validate_input(X, reset=False)
        D = self._dictionary_array()
        if D.ndim != 2 or X.shape[1] != D.shape[1]:
            self._check_dictionary(X.shape[1])  # raises the error
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
        if not _is_host_data(X):
            return self._inverse_namespace(X)
        D = np.asarray(self.dictionary)
        if self.split_sign:
            from sklearn.utils import check_array

            X = check_array(X, dtype=[np.float64, np.float32])
            if X.shape[1] != 2 * D.shape[0]:
                raise ValueError(f"SparseCoder: codes have {X.shape[1]} columns, expected "
                                 f"2 * n_components_={2 * D.shape[0]} (split_sign=True).")
            X = unsplit_codes(X)
        return self._signals_from_codes(X, D)

    def _inverse_namespace(self, X):
        """:meth:`inverse_transform` of codes of another array namespace, in it."""
        name = type(self).__name__
        codes = check_namespace_array(X, "X", name, 2)
        D = self._dictionary_like(codes)
        k = D.shape[0] * (2 if self.split_sign else 1)
        if codes.shape[1] != k:
            raise ValueError(f"{name}: codes have {codes.shape[1]} columns, expected "
                             f"{'2 * ' if self.split_sign else ''}n_components_={D.shape[0]}"
                             f"{' (split_sign=True)' if self.split_sign else ''}.")
        if self.split_sign:
            codes = unsplit_codes(codes)
        return codes @ D

    @property
    def components_(self):
        """The dictionary (atoms as rows), as in scikit-learn's decompositions."""
        return np.asarray(self.dictionary)

    @property
    def _n_features_out(self):
        return np.shape(self.dictionary)[0] * (2 if self.split_sign else 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # the gradient coders (and "threshold") run in the input's namespace; the
        # others raise a clear TypeError under array_api_dispatch
        tags.array_api_support = True
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
        if check_name.startswith("check_array_api"):
            n_features = 10  # scikit-learn's make_classification(n_features=10)
            # a coder that runs in the namespace; the dictionary as a list so that it is
            # not taken for a fitted array attribute (it is a constructor parameter)
            return {"dictionary": rng.normal(size=(5, n_features)).tolist(),
                    "transform_algorithm": "fista"}
        return {"dictionary": rng.normal(size=(5, n_features))}
