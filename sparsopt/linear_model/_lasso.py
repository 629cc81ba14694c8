"""Lasso and ElasticNet (single and multi-target) on the working-set coordinate descent of
``solvers.glm.working_set_cd``; the cross-validated models are in ``_lasso_cv.py``."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..exceptions import ConvergenceWarning
from ..solvers.glm.working_set_cd import WS_STRATEGIES, working_set_cd
from ..utils.estimator import SparsoptEstimatorMixin

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


def _weighted_tol_scale(y, sample_weight, fit_intercept):
    """``||y||^2 / n`` of the centred, weighted target (weights rescaled to sum to ``n``):
    the scale of the solver's stopping criterion ``gap <= tol * ||y||^2 / n``."""
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    sw = None if sample_weight is None else \
        np.asarray(sample_weight, dtype=np.float64) * (n / np.sum(sample_weight))
    yc = y - np.average(y, weights=sw) if fit_intercept else y
    return float(np.sum(yc * yc if sw is None else sw * yc * yc)) / n


def _en_penalty(est, alpha, l1_ratio):
    """The l1 (``l1_ratio == 1``) or elastic-net penalty of an estimator; its ``positive=``
    becomes a constraint in the one place that does it (``_make_penalty`` -> ``get_penalty``)."""
    if float(l1_ratio) == 1.0:
        return est._make_penalty("l1", float(alpha))
    return est._make_penalty("elasticnet", float(alpha), l1_ratio=float(l1_ratio))


def _fit_targets(owner, X, Y, sample_weight, *, penalty, fit_intercept, max_iter, tol, p0,
                 ws_strategy, coef_init=None, stacklevel=3, verbose=0):
    """Solve one penalized least-squares problem per column of ``Y`` (shape (n_samples,
    n_targets)) with :func:`~sparsopt.solvers.glm.working_set_cd.working_set_cd`; emit at most
    one ConvergenceWarning that names ``owner``'s parameters.

    Returns ``(coef, intercept, dual_gaps, n_iters, results)`` with ``coef`` of shape
    (n_targets, n_features) in the dtype of ``X``.
    """
    n_targets = Y.shape[1]
    coef = np.empty((n_targets, X.shape[1]), dtype=X.dtype)
    intercept = np.empty(n_targets, dtype=X.dtype)
    gaps = np.empty(n_targets, dtype=X.dtype)
    results = []
    for k in range(n_targets):
        w0 = None if coef_init is None else coef_init[k]
        with warnings.catch_warnings():
            # the solver's warning names its own budgets (max_epochs): one warning below
            # names the estimator's parameter instead
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = working_set_cd(X, Y[:, k], penalty=penalty, sample_weight=sample_weight,
                                 fit_intercept=fit_intercept, init=w0, max_iter=max_iter,
                                 max_epochs=max_iter, tol=tol, p0=p0, ws_strategy=ws_strategy,
                                 verbose=verbose)
        coef[k] = res.x
        intercept[k] = res.info["intercept"]
        gaps[k] = res.info["dual_gap"]
        results.append(res)
    bad = [k for k, r in enumerate(results) if not r.converged]
    if bad:
        which = "" if n_targets == 1 else f" for {len(bad)} of {n_targets} targets"
        r = results[bad[0]]
        crit, tol_s, what = r.stop_crit, r.info["tol_scaled"], r.info["criterion"]
        if r.info["stopped_by"] == "stagnation":
            warnings.warn(
                f"{owner} did not converge{which}: the {what} stagnates at {crit:.3e} > "
                f"{tol_s:.3e}, below what {np.dtype(X.dtype).name} rounding allows. Increase "
                "tol (or use float64 data).", ConvergenceWarning, stacklevel=stacklevel)
        elif r.info["stopped_by"] not in ("nonfinite", "callback"):
            warnings.warn(
                f"{owner} did not converge{which}: {what} = {crit:.3e} > {tol_s:.3e} after "
                f"max_iter = {max_iter} coordinate-descent epochs. Increase max_iter or tol.",
                ConvergenceWarning, stacklevel=stacklevel)
    n_iters = [int(r.n_iter) for r in results]
    return coef, intercept, gaps, n_iters, results


class _GLMBase(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    """Shared validation, prediction and tags of the sparse linear models."""

    _multi_output = False

    def _validate_xy(self, X, y, sample_weight, reset=True):
        X, y = self._validate_input(X, y, accept_sparse="csc", reset=reset,
                                    multi_output=self._multi_output)
        y = np.asarray(y, dtype=X.dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            if not sample_weight.sum() > 0:
                raise ValueError(f"{type(self).__name__}: sample_weight must have a positive "
                                 "sum.")
        return X, y, sample_weight

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            In the dtype of ``X``; 2-D when the model was fitted on several targets.
        """
        check_is_fitted(self, "coef_")
        X = self._validate_input(X, accept_sparse=["csr", "csc", "coo"], reset=False)
        coef = np.asarray(self.coef_, dtype=X.dtype)
        intercept = np.asarray(self.intercept_, dtype=X.dtype)
        if coef.ndim == 1:
            return np.asarray(safe_sparse_dot(X, coef)).reshape(-1) + intercept
        return np.asarray(safe_sparse_dot(X, coef.T)) + intercept

    @property
    def sparse_coef_(self):
        """``coef_`` as a SciPy CSR matrix of shape (1, n_features) or (n_targets,
        n_features)."""
        check_is_fitted(self, "coef_")
        return sp.csr_matrix(np.atleast_2d(self.coef_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self._multi_output:
            tags.target_tags.multi_output = True
        return tags


class ElasticNet(_GLMBase):
    """Linear regression with combined l1 and l2 priors (scikit-learn's objective, faster).

    Minimises, exactly as :class:`sklearn.linear_model.ElasticNet`::

        1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    with working-set coordinate descent: the support plus the features with the largest
    greedy scores (GS-r by default) are solved by cyclic coordinate descent with Anderson
    acceleration in a Numba kernel, and the working set grows until the duality gap is small
    (see :func:`sparsopt.solvers.glm.working_set_cd.working_set_cd`).

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
        Start from the previous ``coef_`` (per target; ignored when the number of targets
        or features changed).
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
        Greedy score ranking the features (see :func:`~sparsopt.solvers.working_set_cd`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of ``X`` (float32 stays float32); 2-D when ``y`` has
        several columns (a one-column ``y`` gives shape (n_features,), as scikit-learn).
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept; an array for a 2-D ``y`` (the float 0.0 without ``fit_intercept``, as
        scikit-learn).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the end, in the objective's scale (as scikit-learn's), per target
        for several targets.
    n_iter_ : int or list of int
        Coordinate-descent epochs run (over the working sets), per target for several
        targets.
    converged_ : bool
        Whether ``dual_gap_ <= tol * ||y||^2 / n_samples`` (for every target).
    objective_history_ : ndarray of shape (n_outer,) or list of such arrays
        Objective at each working-set iteration (one array per target for several
        targets).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    A 2-D ``y`` of shape (n_samples, n_targets) is solved target by target (independent
    problems sharing ``X``, as scikit-learn does; for a penalty coupling the targets use a
    group penalty). ``precompute`` is not offered: the working sets keep epochs cheap
    without a Gram matrix.

    See Also
    --------
    Lasso : ``l1_ratio = 1``.
    LassoCV : Lasso with ``alpha`` chosen by cross-validation.
    ElasticNetCV : ``alpha`` and ``l1_ratio`` chosen by cross-validation.

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
    _multi_output = True

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
        """Fit the model by working-set coordinate descent, one target at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse input is used as CSC, never densified).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target(s). Each column of a 2-D ``y`` is an independent problem on the same
            ``X`` (as in scikit-learn, not the row-sparse multi-task penalty).
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
        Y = y[:, None] if y.ndim == 1 else y
        n_targets, p = Y.shape[1], X.shape[1]
        coef_init = None
        if self.warm_start and getattr(self, "coef_", None) is not None:
            prev = np.atleast_2d(np.asarray(self.coef_))
            if prev.shape == (n_targets, p):
                coef_init = prev
        pen = _en_penalty(self, self.alpha, self._get_l1_ratio())
        coef, intercept, gaps, n_iters, results = _fit_targets(
            name, X, Y, sample_weight, penalty=pen, fit_intercept=self.fit_intercept,
            max_iter=self.max_iter, tol=self.tol, p0=self.p0, ws_strategy=self.ws_strategy,
            coef_init=coef_init)
        if not self.fit_intercept:
            intercept = 0.0  # scikit-learn: a float 0.0 without intercept, whatever y
        if n_targets == 1:
            self.coef_ = coef[0]
            self._store_result(results[0])
            self.dual_gap_ = float(gaps[0])
            # scikit-learn: a float for 1-D y, an array of shape (1,) for a one-column y
            self.intercept_ = (intercept if not self.fit_intercept
                               else float(intercept[0]) if y.ndim == 1 else intercept)
        else:
            self.coef_ = coef
            self.intercept_ = intercept
            self.dual_gap_ = gaps
            self.n_iter_ = n_iters
            self.converged_ = all(r.converged for r in results)
            self.objective_history_ = [
                np.array([h["objective"] for h in r.history]) for r in results]
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
    (see :class:`ElasticNet` and :func:`sparsopt.solvers.glm.working_set_cd.working_set_cd`).

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
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of ``X``; 2-D for a ``y`` with several columns.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept; an array for a 2-D ``y`` (0.0 without ``fit_intercept``).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Final duality gap (objective scale), per target for several targets.
    n_iter_ : int or list of int
        Coordinate-descent epochs run, per target for several targets.
    converged_ : bool
        Whether the gap criterion was met (for every target).
    objective_history_ : ndarray of shape (n_outer,) or list of such arrays
        Objective at each working-set iteration (one array per target).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    A 2-D ``y`` is solved target by target, as in scikit-learn.

    See Also
    --------
    ElasticNet, LassoCV, ElasticNetCV

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

    Several targets are solved column by column:

    >>> Y = np.array([[0, 0], [1, 2], [2, 4]])
    >>> reg = Lasso(alpha=0.1).fit([[0, 0], [1, 1], [2, 2]], Y)
    >>> reg.coef_.shape, reg.intercept_.shape, reg.predict([[1, 1]]).shape
    ((2, 2), (2,), (1, 2))
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


__all__ = ["ElasticNet", "Lasso"]
