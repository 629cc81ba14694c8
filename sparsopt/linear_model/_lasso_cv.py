"""LassoCV and ElasticNetCV: warm-started paths per fold (and l1_ratio), through joblib."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.base import _fit_context
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

from .._core.progress import progress
from ..exceptions import ConvergenceWarning
from ..solvers.glm.working_set_cd import alpha_max, working_set_cd_path
from ..utils.parallel import effective_n_jobs, joblib_n_jobs
from ._lasso import (
    _COMMON_CONSTRAINTS,
    _check_gram,
    _en_penalty,
    _fit_targets,
    _GLMBase,
    _solver_kwargs,
    _weighted_tol_scale,
    enet_path,
    lasso_path,
)

_CV_CONSTRAINTS = {
    "eps": [Interval(Real, 0, None, closed="neither")],
    "n_alphas": [Interval(Integral, 1, None, closed="left")],
    "alphas": [Interval(Integral, 1, None, closed="left"), "array-like", None],
    "cv": ["cv_object"],
    "verbose": ["verbose"],
    "n_jobs": [Integral, None],
    **_COMMON_CONSTRAINTS,
}


class _LinearModelCV(_GLMBase):
    """Cross-validation machinery shared by :class:`LassoCV` and :class:`ElasticNetCV`."""

    def _l1_ratios(self):
        return np.array([1.0])

    def _grids(self, X, y, sample_weight, l1_ratios):
        """One decreasing alpha grid per l1_ratio, shape (n_l1_ratio, n_alphas)."""
        name = type(self).__name__
        if self.alphas is not None and not isinstance(self.alphas, Integral):
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
                raise ValueError(f"{name}: alphas must be a non-empty array of finite "
                                 "values >= 0.")
            return np.tile(alphas, (l1_ratios.size, 1))
        if np.any(l1_ratios == 0):
            raise ValueError(
                f"{name}: the automatic alpha grid is not defined for l1_ratio=0 (alpha_max "
                "is infinite without an l1 term); pass an explicit grid with alphas=[...] or "
                "use l1_ratio > 0.")
        n_alphas = self.n_alphas if self.alphas is None else int(self.alphas)
        grids = []
        res = np.finfo(np.float64).resolution
        # alpha_max of the l1 part; divided by each l1_ratio exactly as scikit-learn does
        # (solvers.glm.working_set_cd.alpha_max caps 1 / l1_ratio at 1e3)
        a_max_l1 = alpha_max(X, y, penalty=_en_penalty(self, 1.0, 1.0),
                             sample_weight=sample_weight, fit_intercept=self.fit_intercept)
        for r in l1_ratios:
            a_max = a_max_l1 / float(r)
            if not np.isfinite(a_max):
                raise ValueError(f"{name}: l1_ratio={float(r)!r} is too small for an "
                                 "automatic alpha grid (alpha_max / l1_ratio overflows); "
                                 "pass alphas=[...].")
            if a_max <= res:
                grids.append(np.full(n_alphas, res))
            else:
                grids.append(np.geomspace(a_max, a_max * self.eps, num=n_alphas))
        return np.array(grids)

    def _split_params(self, sample_weight, params):
        """The metadata for ``cv.split``: routed by scikit-learn's metadata routing when it
        is enabled (``sklearn.set_config(enable_metadata_routing=True)``); otherwise only
        ``groups`` is accepted and passed to the splitter."""
        if get_config().get("enable_metadata_routing", False):
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            return routed.splitter.split
        unknown = sorted(set(params) - {"groups"})
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.fit got unexpected arguments {unknown}: only groups "
                "is passed to the splitter without metadata routing; enable it with "
                "sklearn.set_config(enable_metadata_routing=True) to route other metadata.")
        return dict(params)

    def get_metadata_routing(self):
        """Metadata routing of this estimator: ``fit`` consumes ``sample_weight`` and routes
        the splitter's metadata (``groups``) to ``cv.split``.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
            The routing information (see scikit-learn's metadata routing user guide).
        """
        return (MetadataRouter(owner=self)
                .add_self_request(self)
                .add(splitter=check_cv(self.cv),
                     method_mapping=MethodMapping().add(caller="fit", callee="split")))

    def _cv_fit(self, X, y, sample_weight, params):
        name = type(self).__name__
        X, y, sample_weight = self._validate_xy(X, y, sample_weight)
        _check_gram(self.precompute, X, sample_weight, self.fit_intercept, name)
        effective_n_jobs(self.n_jobs)  # validates n_jobs
        l1_ratios = self._l1_ratios()
        grids = self._grids(X, y, sample_weight, l1_ratios)
        split_params = self._split_params(sample_weight, params)
        folds = list(check_cv(self.cv).split(X, y, **split_params))
        Xr = X.tocsr() if sp.issparse(X) else X
        y64 = y.astype(np.float64)
        kw = dict(_solver_kwargs(self), warn=False)

        jobs = [(i_r, f) for i_r in range(l1_ratios.size) for f in folds]
        # joblib, so that joblib.parallel_config(backend="dask") sends the paths to a Dask
        # cluster; threads by default (the kernels release the GIL). The arrays are
        # arguments, not closure cells, so the Dask backend scatters them once.
        n_workers = joblib_n_jobs(self.n_jobs)
        tasks = (delayed(_fold_path)(self, Xr, y, y64, sample_weight, grids[i_r],
                                     float(l1_ratios[i_r]), train, test, kw)
                 for i_r, (train, test) in jobs)
        out = []
        # one unit of progress per (l1_ratio, fold) path of grids.shape[1] alphas
        with progress(len(jobs), f"{name} (paths of {grids.shape[1]} alphas)",
                      self.verbose) as bar:
            for o in _run_parallel(n_workers, tasks):
                out.append(o)
                bar.update(1)
        mse = np.array([o[0] for o in out]).reshape(l1_ratios.size, len(folds), -1)
        n_bad = sum(o[1].size for o in out)
        if n_bad:
            smallest = min(float(o[1].min()) for o in out if o[1].size)
            warnings.warn(
                f"{name}: {n_bad} of {grids.size * len(folds)} (alpha, fold) path fits did not "
                f"converge (smallest alpha {smallest:.3e}): the duality gap stayed above "
                f"tol * ||y||^2 / n after max_iter = {self.max_iter} epochs. Increase max_iter "
                "or tol.", ConvergenceWarning, stacklevel=3)
        mean_mse = mse.mean(axis=1)  # (n_l1_ratio, n_alphas)
        best_mse = np.inf
        for i_r in range(l1_ratios.size):  # first minimum wins, as scikit-learn
            k = int(np.argmin(mean_mse[i_r]))
            if mean_mse[i_r, k] < best_mse:
                best_mse, best_r, best_k = mean_mse[i_r, k], i_r, k
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1))
        self.alpha_ = float(grids[best_r, best_k])
        self.l1_ratio_ = float(l1_ratios[best_r])
        explicit = self.alphas is not None and not isinstance(self.alphas, Integral)
        self.alphas_ = grids[0] if (explicit or l1_ratios.size == 1) else grids
        if self.verbose:
            print(f"{name}: alpha_ = {self.alpha_:.4e}, l1_ratio_ = {self.l1_ratio_:g} "
                  f"(mean held-out MSE {best_mse:.4e})")
        coef, intercept, gaps, n_iters, results = _fit_targets(
            name, X, y[:, None], sample_weight,
            penalty=_en_penalty(self, self.alpha_, self.l1_ratio_),
            fit_intercept=self.fit_intercept, stacklevel=5, **_solver_kwargs(self))
        self.coef_ = coef[0]
        self.intercept_ = float(intercept[0])
        self.dual_gap_ = float(gaps[0])
        self._store_result(results[0])
        return self


def _run_parallel(n_jobs, tasks):
    """``joblib.Parallel(prefer="threads")`` over ``tasks``, results as they come in order."""
    try:  # joblib >= 1.3: a generator, so the progress bar moves per path
        par = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")
    except TypeError:  # pragma: no cover - joblib 1.2 (scikit-learn 1.6's floor)
        par = Parallel(n_jobs=n_jobs, prefer="threads")
    return par(tasks)


def _fold_path(est, Xr, y, y64, sample_weight, grid, l1_ratio, train, test, kw):
    """Held-out MSE along the path of one (l1_ratio, fold), and the unconverged alphas."""
    Xtr, Xte = Xr[train], Xr[test]
    if sp.issparse(Xtr):
        Xtr = Xtr.tocsc()
    sw_tr = None if sample_weight is None else sample_weight[train]
    pen = _en_penalty(est, float(grid[0]), l1_ratio)
    _, coefs, icpt, gaps, _ = working_set_cd_path(
        Xtr, y[train], alphas=grid, penalty=pen,
        sample_weight=sw_tr, fit_intercept=est.fit_intercept, **kw)
    pred = np.asarray(safe_sparse_dot(Xte, coefs.astype(np.float64))) + icpt[None, :]
    sq = (y64[test][:, None] - pred) ** 2
    if sample_weight is None:
        mse = sq.mean(axis=0)
    else:  # scikit-learn's _path_residuals: weighted held-out MSE
        mse = np.average(sq, weights=sample_weight[test], axis=0)
    # a tiny slack: the solver computes ||y||^2 in the dtype of X
    tol_s = est.tol * _weighted_tol_scale(y[train], sw_tr, est.fit_intercept)
    bad = grid[gaps > tol_s * (1 + 1e-6) + 1e-300]
    return mse, bad


class LassoCV(_LinearModelCV):
    """Lasso with ``alpha`` chosen by cross-validation over a warm-started path.

    The grid is scikit-learn's: ``n_alphas`` values log-spaced from ``alpha_max`` (the
    smallest ``alpha`` giving ``w = 0`` on the whole data, with the sample weights) down to
    ``eps * alpha_max``. Each fold solves the path in decreasing ``alpha`` with warm starts
    (:func:`~sparsopt.solvers.glm.working_set_cd.working_set_cd_path`); folds run in parallel
    through joblib (threads by default, ``n_jobs``; the kernels release the GIL; inside
    ``joblib.parallel_config(backend="dask")`` they run on the Dask cluster). The model is
    then refit on all the data at the ``alpha`` with the smallest mean held-out (weighted)
    mean squared error.

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
    precompute : bool, "auto" or array-like of shape (n_features, n_features), \
default="auto"
        scikit-learn's Gram option, accepted and validated (an array must be ``X^T X`` of
        the whole data, see :class:`ElasticNet`), not used.
    max_iter : int, default=1000
        Epoch budget per ``alpha``.
    tol : float, default=1e-4
        Duality-gap tolerance, as in :class:`Lasso`.
    copy_X : bool, default=True
        Accepted for compatibility; ``X`` is never modified.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (None: 5-fold).
    verbose : bool or int, default=False
        Show progress over the (fold) path fits (a tqdm bar when tqdm is installed, plain
        lines otherwise) and print the best alpha.
    n_jobs : int or None, default=None
        Parallel fold paths through joblib (threads by default). ``None`` follows
        ``joblib.parallel_config`` as in scikit-learn (one thread, or all Dask workers
        under the Dask backend).
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
        Held-out mean squared error per alpha and fold (weighted by ``sample_weight``).
    coef_ : ndarray of shape (n_features,)
        Coefficients of the refit, in the dtype of ``X``.
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
    Single-target only, as scikit-learn's ``LassoCV``. ``precompute``, ``selection`` and
    ``random_state`` are validated but not used. ``fit(X, y, groups=groups)`` passes
    ``groups`` to the splitter (``cv=GroupKFold(...)``) with or without scikit-learn's
    metadata routing (scikit-learn requires routing to be enabled). ``LassoCV.path`` is
    :func:`lasso_path`, as in scikit-learn.

    See Also
    --------
    Lasso, ElasticNetCV, sparsopt.solvers.glm.working_set_cd.working_set_cd_path

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

    _parameter_constraints = dict(_CV_CONSTRAINTS)
    path = staticmethod(lasso_path)

    def __init__(self, *, eps=1e-3, n_alphas=100, alphas=None, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, copy_X=True, cv=None,
                 verbose=False, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", p0=10, ws_strategy="gs-r"):
        self.eps = eps
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validate the path, then refit at the best ``alpha``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, used in the path fits (rescaled to sum to the number of
            training samples), in ``alpha_max`` and in the held-out MSE (a weighted
            average), as scikit-learn.
        **params : dict
            Metadata for the splitter: ``groups`` (for ``cv=GroupKFold(...)`` and the
            like), with or without metadata routing; with
            ``sklearn.set_config(enable_metadata_routing=True)`` whatever the splitter
            requests is routed to ``cv.split``.

        Returns
        -------
        self : object
        """
        self._cv_fit(X, y, sample_weight, params)
        del self.l1_ratio_
        return self

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        # tight: the sample-weight equivalence checks compare predictions at rtol 1e-7 on a
        # nearly interpolating problem
        return {"n_alphas": 5, "cv": 3, "tol": 1e-10, "max_iter": 50_000}


class ElasticNetCV(_LinearModelCV):
    """Elastic net with ``alpha`` and ``l1_ratio`` chosen by cross-validation.

    For each ``l1_ratio`` the grid is scikit-learn's: ``n_alphas`` values log-spaced from
    ``alpha_max / l1_ratio`` (the smallest ``alpha`` giving ``w = 0``) down to ``eps``
    times it. Every (fold, ``l1_ratio``) pair solves its path in decreasing ``alpha`` with
    warm starts (:func:`~sparsopt.solvers.glm.working_set_cd.working_set_cd_path`); the pairs run in
    parallel through joblib (threads by default, ``n_jobs``; on the Dask cluster inside
    ``joblib.parallel_config(backend="dask")``). The model is refit on all the data at the
    pair with the smallest mean held-out (weighted) mean squared error. Minimises, per fit,
    the objective of :class:`ElasticNet`::

        1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    Parameters
    ----------
    l1_ratio : float or array-like of float, default=0.5
        Mixing parameter(s) in [0, 1], tried in the given order. ``0`` (ridge) needs an
        explicit ``alphas`` grid, as in scikit-learn.
    eps : float, default=1e-3
        ``alpha_min / alpha_max``.
    n_alphas : int, default=100
        Number of alphas per ``l1_ratio`` when ``alphas`` is None.
    alphas : int or array-like or None, default=None
        An int is a number of alphas (scikit-learn >= 1.7 style); an array is the grid
        used for every ``l1_ratio``.
    fit_intercept : bool, default=True
        Fit an intercept.
    precompute : bool, "auto" or array-like of shape (n_features, n_features), \
default="auto"
        scikit-learn's Gram option, accepted and validated (an array must be ``X^T X`` of
        the whole data, see :class:`ElasticNet`), not used.
    max_iter : int, default=1000
        Epoch budget per ``alpha``.
    tol : float, default=1e-4
        Duality-gap tolerance, as in :class:`ElasticNet`.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (None: 5-fold).
    copy_X : bool, default=True
        Accepted for compatibility; ``X`` is never modified.
    verbose : bool or int, default=0
        Show progress over the (``l1_ratio``, fold) path fits (a tqdm bar when tqdm is
        installed, plain lines otherwise) and print the selected parameters.
    n_jobs : int or None, default=None
        Parallel (fold, ``l1_ratio``) paths through joblib (threads by default). ``None``
        follows ``joblib.parallel_config`` as in scikit-learn.
    positive : bool, default=False
        Non-negative coefficients.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility (the solver is deterministic).
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
    l1_ratio_ : float
        Selected ``l1_ratio``.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grids, decreasing: one row per ``l1_ratio`` when several are given and the grid
        is automatic (as scikit-learn).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Held-out mean squared error (weighted by ``sample_weight``).
    coef_ : ndarray of shape (n_features,)
        Coefficients of the refit, in the dtype of ``X``.
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
    Single-target only, as scikit-learn's ``ElasticNetCV``. ``precompute``, ``selection``
    and ``random_state`` are validated but not used. ``groups`` reaches the splitter as in
    :class:`LassoCV`. ``ElasticNetCV.path`` is :func:`enet_path`, as in scikit-learn.

    See Also
    --------
    ElasticNet, LassoCV, sparsopt.solvers.glm.working_set_cd.working_set_cd_path

    References
    ----------
    .. [1] J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for generalized
       linear models via coordinate descent", J. Stat. Softw. 33(1), 2010.
    .. [2] H. Zou and T. Hastie, "Regularization and variable selection via the elastic
       net", J. R. Stat. Soc. B 67(2), 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import ElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 10))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(60)
    >>> reg = ElasticNetCV(l1_ratio=[0.2, 0.9], n_alphas=20, cv=3).fit(X, y)
    >>> reg.alphas_.shape, reg.mse_path_.shape, reg.l1_ratio_ in (0.2, 0.9)
    ((2, 20), (2, 20, 3), True)
    >>> np.flatnonzero(np.abs(reg.coef_) > 0.1).tolist()
    [0, 1]
    """

    _parameter_constraints = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        **_CV_CONSTRAINTS,
    }

    path = staticmethod(enet_path)

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, n_alphas=100, alphas=None,
                 fit_intercept=True, precompute="auto", max_iter=1000, tol=1e-4, cv=None,
                 copy_X=True, verbose=0, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", p0=10, ws_strategy="gs-r"):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.p0 = p0
        self.ws_strategy = ws_strategy

    def _l1_ratios(self):
        try:
            r = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        except (TypeError, ValueError):
            r = None
        if r is None or r.ndim != 1 or r.size == 0 or not np.all(np.isfinite(r)) \
                or np.any(r < 0) or np.any(r > 1):
            raise ValueError("ElasticNetCV: l1_ratio must be a float or a non-empty list of "
                             f"floats in [0, 1], got {self.l1_ratio!r}.")
        return r

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validate the paths for every ``l1_ratio``, then refit at the best pair.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse input is used without densifying).
        y : array-like of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, used in the path fits, in ``alpha_max`` and in the
            held-out MSE (a weighted average), as scikit-learn.
        **params : dict
            Metadata for the splitter (``groups``), as in :meth:`LassoCV.fit`.

        Returns
        -------
        self : object
        """
        return self._cv_fit(X, y, sample_weight, params)

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"l1_ratio": [0.5, 0.9], "n_alphas": 5, "cv": 3, "tol": 1e-10,
                "max_iter": 50_000}


__all__ = ["ElasticNetCV", "LassoCV"]
