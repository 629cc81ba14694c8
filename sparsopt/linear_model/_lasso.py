"""Lasso, ElasticNet and LassoCV on the working-set coordinate descent of ``solvers.glm_cd``."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..solvers.glm_cd import WS_STRATEGIES, _alpha_max, _path, _Problem, _solve
from ..utils.estimator import SparsoptEstimatorMixin
from ..utils.parallel import effective_n_jobs

_COMMON_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "copy_X": ["boolean"],
    "positive": ["boolean"],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
    "p0": [Interval(Integral, 1, None, closed="left")],
    "ws_strategy": [StrOptions(set(WS_STRATEGIES))],
}


class _GLMBase(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    """Shared validation, prediction and tags of the sparse linear models."""

    def _validate_xy(self, X, y, sample_weight, reset=True):
        X, y = self._validate_input(X, y, accept_sparse="csc", reset=reset)
        y = np.asarray(y, dtype=X.dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            if not sample_weight.sum() > 0:
                raise ValueError(f"{type(self).__name__}: sample_weight must have a positive "
                                 "sum.")
        return X, y, sample_weight

    def _solver_kwargs(self):
        return dict(max_iter=self.max_iter, max_epochs=self.max_iter, tol=self.tol, p0=self.p0,
                    ws_strategy=self.ws_strategy)

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "coef_")
        X = self._validate_input(X, accept_sparse=["csr", "csc", "coo"], reset=False)
        return np.asarray(safe_sparse_dot(X, self.coef_.astype(X.dtype, copy=False))).ravel() \
            + X.dtype.type(self.intercept_)

    @property
    def sparse_coef_(self):
        """``coef_`` as a SciPy CSR matrix of shape (1, n_features)."""
        check_is_fitted(self, "coef_")
        return sp.csr_matrix(self.coef_[None, :])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class ElasticNet(_GLMBase):
    """Linear regression with combined l1 and l2 priors (scikit-learn's objective, faster).

    Minimises, exactly as :class:`sklearn.linear_model.ElasticNet`::

        1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    with working-set coordinate descent: the support plus the features with the largest
    greedy scores (GS-r by default) are solved by cyclic coordinate descent with Anderson
    acceleration in a Numba kernel, and the working set grows until the duality gap is small
    (see :func:`sparsopt.solvers.glm_cd.lasso_cd`).

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the penalty terms (>= 0).
    l1_ratio : float, default=0.5
        Elastic-net mixing parameter in [0, 1]; 1 is the Lasso.
    fit_intercept : bool, default=True
        Fit an intercept (the data are centred, implicitly for sparse ``X``).
    max_iter : int, default=1000
        Budget of coordinate-descent epochs. One epoch is a pass over the *working set*
        (scikit-learn's epochs pass over all features), so the same number allows more
        progress here.
    tol : float, default=1e-4
        Stop when the duality gap is ``<= tol * ||y||^2 / n_samples`` (``y`` centred and
        weighted): scikit-learn's criterion, so equal ``tol`` means equal certified accuracy.
    copy_X : bool, default=True
        Accepted for compatibility; ``X`` is never modified.
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Force the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility (the solver is deterministic).
    selection : {"cyclic", "random"}, default="cyclic"
        Accepted for compatibility: the working set is always swept cyclically (random
        order brings nothing once features are ranked greedily).
    p0 : int, default=10
        Size of the first working set.
    ws_strategy : {"gs-r", "gs-s", "gap"}, default="gs-r"
        Greedy score ranking the features (see :func:`~sparsopt.solvers.glm_cd.lasso_cd`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients, in the dtype of ``X`` (float32 stays float32).
    intercept_ : float
        Intercept (0.0 without ``fit_intercept``).
    dual_gap_ : float
        Duality gap at the end, in the objective's scale (as scikit-learn's).
    n_iter_ : int
        Coordinate-descent epochs run (over the working sets).
    converged_ : bool
        Whether ``dual_gap_ <= tol * ||y||^2 / n_samples``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    Single-target only (``y`` of shape (n_samples,)). ``precompute`` is not offered: the
    working sets keep epochs cheap without a Gram matrix.

    See Also
    --------
    Lasso : ``l1_ratio = 1``.
    LassoCV : Lasso with ``alpha`` chosen by cross-validation.

    References
    ----------
    .. [1] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias, "Beyond L1:
       faster and better sparse models with skglm", NeurIPS 2022.
    .. [2] M. Massias, A. Gramfort and J. Salmon, "Celer: a fast solver for the Lasso with
       dual extrapolation", ICML 2018.
    .. [3] H. Zou and T. Hastie, "Regularization and variable selection via the elastic
       net", J. R. Stat. Soc. B 67(2), 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import ElasticNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 6))
    >>> y = X @ np.array([1.0, 0, 0, 2.0, 0, 0]) + 3.0
    >>> reg = ElasticNet(alpha=0.1, l1_ratio=0.7).fit(X, y)
    >>> np.flatnonzero(np.abs(reg.coef_) > 0.5).tolist(), round(reg.intercept_, 1)
    ([0, 3], 3.0)
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "warm_start": ["boolean"],
        **_COMMON_CONSTRAINTS,
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, max_iter=1000,
                 tol=1e-4, copy_X=True, warm_start=False, positive=False, random_state=None,
                 selection="cyclic", p0=10, ws_strategy="gs-r"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.p0 = p0
        self.ws_strategy = ws_strategy

    def _get_l1_ratio(self):
        return self.l1_ratio

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by working-set coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse input is used as CSC, never densified).
        y : array-like of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to ``n_samples``.

        Returns
        -------
        self : object
        """
        X, y, sample_weight = self._validate_xy(X, y, sample_weight)
        name = type(self).__name__
        if self.alpha == 0:
            warnings.warn(f"{name}: with alpha=0 the problem is least squares and the "
                          "duality gap is not a useful criterion; use "
                          "sklearn.linear_model.LinearRegression.", UserWarning, stacklevel=2)
        w0 = None
        if self.warm_start and getattr(self, "coef_", None) is not None \
                and np.shape(self.coef_) == (X.shape[1],):
            w0 = self.coef_
        prob = _Problem(X, y, sample_weight, self.fit_intercept, name)
        res = _solve(prob, float(self.alpha), float(self._get_l1_ratio()),
                     positive=self.positive, w0=w0, owner=name, budget_name="max_iter",
                     **self._solver_kwargs())
        self.coef_ = res.x
        self.intercept_ = res.info["intercept"]
        self.dual_gap_ = res.info["dual_gap"]
        self._store_result(res)
        return self

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"alpha": 0.01, "tol": 1e-10, "max_iter": 20_000}


class Lasso(ElasticNet):
    """Linear model trained with an l1 prior (scikit-learn's objective, faster).

    Minimises, exactly as :class:`sklearn.linear_model.Lasso`::

        1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * ||w||_1

    by working-set coordinate descent with Anderson acceleration and gap-safe screening
    (see :class:`ElasticNet` and :func:`sparsopt.solvers.glm_cd.lasso_cd`).

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the l1 term (>= 0).
    fit_intercept : bool, default=True
        Fit an intercept (the data are centred, implicitly for sparse ``X``).
    max_iter : int, default=1000
        Budget of coordinate-descent epochs over the working sets.
    tol : float, default=1e-4
        Stop when the duality gap is ``<= tol * ||y||^2 / n_samples`` (scikit-learn's
        criterion).
    copy_X : bool, default=True
        Accepted for compatibility; ``X`` is never modified.
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Force the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility (the solver is deterministic).
    selection : {"cyclic", "random"}, default="cyclic"
        Accepted for compatibility (working sets are swept cyclically).
    p0 : int, default=10
        Size of the first working set.
    ws_strategy : {"gs-r", "gs-s", "gap"}, default="gs-r"
        Greedy score ranking the features.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients, in the dtype of ``X``.
    intercept_ : float
        Intercept.
    dual_gap_ : float
        Final duality gap (objective scale).
    n_iter_ : int
        Coordinate-descent epochs run.
    converged_ : bool
        Whether the gap criterion was met.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    See Also
    --------
    ElasticNet, LassoCV

    References
    ----------
    .. [1] R. Tibshirani, "Regression shrinkage and selection via the lasso", J. R. Stat.
       Soc. B 58(1), 1996.
    .. [2] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias, "Beyond L1:
       faster and better sparse models with skglm", NeurIPS 2022.
    .. [3] M. Massias, A. Gramfort and J. Salmon, "Celer: a fast solver for the Lasso with
       dual extrapolation", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import Lasso
    >>> reg = Lasso(alpha=0.1).fit([[0, 0], [1, 1], [2, 2]], [0, 1, 2])
    >>> reg.coef_.round(2).tolist(), round(reg.intercept_, 2)
    ([0.85, 0.0], 0.15)
    """

    _parameter_constraints = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, max_iter=1000, tol=1e-4, copy_X=True,
                 warm_start=False, positive=False, random_state=None, selection="cyclic",
                 p0=10, ws_strategy="gs-r"):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         max_iter=max_iter, tol=tol, copy_X=copy_X, warm_start=warm_start,
                         positive=positive, random_state=random_state, selection=selection,
                         p0=p0, ws_strategy=ws_strategy)

    def _get_l1_ratio(self):
        return 1.0


class LassoCV(_GLMBase):
    """Lasso with ``alpha`` chosen by cross-validation over a warm-started path.

    The grid is scikit-learn's: ``n_alphas`` values log-spaced from ``alpha_max`` (the
    smallest ``alpha`` giving ``w = 0`` on the whole data) down to ``eps * alpha_max``. Each
    fold solves the path in decreasing ``alpha`` with warm starts; folds run in parallel
    threads (``n_jobs``; the kernels release the GIL). The model is then refit on all the
    data at the ``alpha`` with the smallest mean held-out mean squared error.

    Parameters
    ----------
    eps : float, default=1e-3
        ``alpha_min / alpha_max``.
    n_alphas : int, default=100
        Number of alphas when ``alphas`` is None.
    alphas : int or array-like or None, default=None
        An int is a number of alphas (scikit-learn >= 1.7 style); an array the grid itself.
    fit_intercept : bool, default=True
        Fit an intercept.
    max_iter : int, default=1000
        Epoch budget per ``alpha``.
    tol : float, default=1e-4
        Duality-gap tolerance, as in :class:`Lasso`.
    copy_X : bool, default=True
        Accepted for compatibility; ``X`` is never modified.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (None: 5-fold).
    verbose : bool or int, default=False
        Print the best alpha.
    n_jobs : int or None, default=None
        Threads over folds.
    positive : bool, default=False
        Non-negative coefficients.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility.
    selection : {"cyclic", "random"}, default="cyclic"
        Accepted for compatibility.
    p0 : int, default=10
        Size of the first working set.
    ws_strategy : {"gs-r", "gs-s", "gap"}, default="gs-r"
        Greedy score ranking the features.

    Attributes
    ----------
    alpha_ : float
        Selected ``alpha``.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean squared error per alpha and fold.
    coef_ : ndarray of shape (n_features,)
        Coefficients of the refit.
    intercept_ : float
        Intercept of the refit.
    dual_gap_ : float
        Duality gap of the refit.
    n_iter_ : int
        Epochs of the refit.
    converged_ : bool
        Whether the refit converged.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    ``sample_weight`` is not supported (fit :class:`Lasso` with weights at a chosen
    ``alpha``); single-target only.

    See Also
    --------
    Lasso, sparsopt.solvers.glm_cd.lasso_cd_path

    References
    ----------
    .. [1] J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for generalized
       linear models via coordinate descent", J. Stat. Softw. 33(1), 2010.
    .. [2] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias, "Beyond L1:
       faster and better sparse models with skglm", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import LassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 10))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(60)
    >>> reg = LassoCV(n_alphas=20, cv=3).fit(X, y)
    >>> reg.mse_path_.shape, np.flatnonzero(np.abs(reg.coef_) > 0.1).tolist()
    ((20, 3), [0, 1])
    """

    _parameter_constraints = {
        "eps": [Interval(Real, 0, None, closed="neither")],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "cv": ["cv_object"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        **_COMMON_CONSTRAINTS,
    }

    def __init__(self, *, eps=1e-3, n_alphas=100, alphas=None, fit_intercept=True,
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False, n_jobs=None,
                 positive=False, random_state=None, selection="cyclic", p0=10,
                 ws_strategy="gs-r"):
        self.eps = eps
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.p0 = p0
        self.ws_strategy = ws_strategy

    def _grid(self, X, y, sample_weight):
        if self.alphas is not None and not isinstance(self.alphas, Integral):
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
                raise ValueError("LassoCV: alphas must be finite values >= 0.")
            return alphas
        n_alphas = self.n_alphas if self.alphas is None else int(self.alphas)
        prob = _Problem(X, y, sample_weight, self.fit_intercept, "LassoCV")
        a_max = _alpha_max(prob, 1.0, self.positive)
        if a_max <= np.finfo(float).resolution:
            return np.full(n_alphas, np.finfo(float).resolution)
        return np.geomspace(a_max, a_max * self.eps, num=n_alphas)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Cross-validate the path, then refit at the best ``alpha``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target.

        Returns
        -------
        self : object
        """
        X, y, _ = self._validate_xy(X, y, None)
        effective_n_jobs(self.n_jobs)  # validates
        alphas = self._grid(X, y, None)
        folds = list(check_cv(self.cv).split(X, y))
        Xr = X.tocsr() if sp.issparse(X) else X
        kw = dict(positive=self.positive, owner="LassoCV", **self._solver_kwargs())

        def run_fold(train_test):
            train, test = train_test
            Xtr, Xte = Xr[train], Xr[test]
            if sp.issparse(Xtr):
                Xtr = Xtr.tocsc()
            prob = _Problem(Xtr, y[train], None, self.fit_intercept, "LassoCV")
            coefs, icpt, _, _, bad = _path(prob, alphas, 1.0, **kw)
            pred = np.asarray(safe_sparse_dot(Xte, coefs.astype(np.float64))) + icpt[None, :]
            mse = ((y[test].astype(np.float64)[:, None] - pred) ** 2).mean(axis=0)
            return mse, bad

        n_threads = min(effective_n_jobs(self.n_jobs), len(folds))
        if n_threads > 1:
            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                out = list(pool.map(run_fold, folds))
        else:
            out = [run_fold(f) for f in folds]
        self.mse_path_ = np.stack([o[0] for o in out], axis=1)
        n_bad = sum(len(o[1]) for o in out)
        if n_bad:
            warnings.warn(
                f"LassoCV: {n_bad} of {alphas.size * len(folds)} (alpha, fold) fits did not "
                f"converge (smallest alpha {min(min(o[1]) for o in out if o[1]):.3e}): the "
                f"duality gap stayed above tol * ||y||^2 / n after max_iter = {self.max_iter}"
                " epochs. Increase max_iter or tol.", ConvergenceWarning, stacklevel=2)
        self.alphas_ = alphas
        best = int(np.argmin(self.mse_path_.mean(axis=1)))
        self.alpha_ = float(alphas[best])
        if self.verbose:
            print(f"LassoCV: alpha_ = {self.alpha_:.4e} (index {best} of {alphas.size})")
        prob = _Problem(X, y, None, self.fit_intercept, "LassoCV")
        res = _solve(prob, self.alpha_, 1.0, positive=self.positive, owner="LassoCV",
                     budget_name="max_iter", **self._solver_kwargs())
        self.coef_ = res.x
        self.intercept_ = res.info["intercept"]
        self.dual_gap_ = res.info["dual_gap"]
        self._store_result(res)
        return self

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"n_alphas": 5, "cv": 3, "tol": 1e-8, "max_iter": 5000}


__all__ = ["ElasticNet", "Lasso", "LassoCV"]
