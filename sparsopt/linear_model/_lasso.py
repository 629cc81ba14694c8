"""Lasso and ElasticNet (single and multi-target) on the working-set coordinate descent of
``solvers.glm.working_set_cd``; the cross-validated models are in ``_lasso_cv.py``."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..exceptions import ConvergenceWarning
from ..penalties import get_penalty
from ..solvers.glm.working_set_cd import (
    WS_STRATEGIES,
    alpha_max,
    working_set_cd,
    working_set_cd_path,
)
from ..utils.estimator import SparsoptEstimatorMixin

_COMMON_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "copy_X": ["boolean"],
    "positive": ["boolean"],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
    "precompute": ["boolean", StrOptions({"auto"}), "array-like"],
    "p0": [Interval(Integral, 1, None, closed="left")],
    "ws_strategy": [StrOptions(set(WS_STRATEGIES))],
}


def _solver_kwargs(est):
    """THE one place where the scikit-learn spellings of a Lasso-type estimator become the
    keywords of :func:`~sparsopt.solvers.glm.working_set_cd.working_set_cd` (and of its path).

    * ``max_iter`` (scikit-learn: coordinate-descent epochs) -> ``max_epochs`` and the outer
      budget ``max_iter``;
    * ``tol`` -> ``tol`` (the same duality-gap criterion, ``gap <= tol ||y||^2 / n``);
    * ``positive`` -> a ``Positive()`` constraint on the penalty (in :func:`_en_penalty`);
    * ``precompute``, ``check_input`` -> validated (see :func:`_check_gram`), not passed:
      the working sets keep each epoch at ``O(n_samples |working set|)`` without a Gram;
    * ``selection``, ``random_state`` -> validated, not passed: the working set is swept
      cyclically (the greedy ranking already orders the features);
    * ``copy_X`` -> not passed: ``X`` is never modified.
    """
    return dict(max_iter=est.max_iter, max_epochs=est.max_iter, tol=est.tol, p0=est.p0,
                ws_strategy=est.ws_strategy)


def _check_gram(precompute, X, sample_weight, fit_intercept, owner, check_gram=True):
    """Validate scikit-learn's ``precompute`` against the problem the solver sees.

    ``False``, ``True`` and ``"auto"`` are accepted (the solver does not use a Gram
    matrix). An array must be ``X^T diag(s) X`` of shape (n_features, n_features), ``s``
    the sample weights rescaled to sum to ``n_samples``: its shape is always checked and,
    with ``check_gram``, one whole column is compared with the data (scikit-learn checks one
    entry). As in scikit-learn, a Gram matrix is ignored with a UserWarning when
    ``fit_intercept`` centres a non-centred ``X``, and silently for sparse ``X``.
    """
    if isinstance(precompute, (bool, np.bool_, str)):
        return
    G = np.asarray(precompute)
    p = X.shape[1]
    if G.shape != (p, p):
        raise ValueError(f"{owner}: the Gram matrix passed as precompute must have shape "
                         f"(n_features, n_features) = ({p}, {p}), got {G.shape}.")
    if sp.issparse(X):
        return  # scikit-learn: precompute is not used with sparse X
    n = X.shape[0]
    sw = None if sample_weight is None else \
        np.asarray(sample_weight, dtype=np.float64) * (n / np.sum(sample_weight))
    if fit_intercept:
        offset = np.average(X, axis=0, weights=sw)
        if not np.allclose(offset, 0.0):
            warnings.warn(f"{owner}: a Gram matrix was provided but X is centred to fit the "
                          "intercept: the Gram matrix is not used.", UserWarning, stacklevel=4)
            return
    if not check_gram:
        return
    j = p // 2
    xj = X[:, j].astype(np.float64)
    col = X.T @ (xj if sw is None else sw * xj)
    rtol = 1e-4 if np.float32 in (X.dtype, G.dtype) else 1e-7
    if not np.allclose(G[:, j], col, rtol=rtol, atol=1e-5):
        raise ValueError(f"{owner}: the Gram matrix passed as precompute is not X^T X (with "
                         f"the sample weights): its column {j} differs from the data's.")


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
                 ws_strategy, max_epochs=None, coef_init=None, stacklevel=3, verbose=0):
    """Solve one penalized least-squares problem per column of ``Y`` (shape (n_samples,
    n_targets)) with :func:`~sparsopt.solvers.glm.working_set_cd.working_set_cd`; emit at most
    one ConvergenceWarning that names ``owner``'s parameters.

    Returns ``(coef, intercept, dual_gaps, n_iters, results)`` with ``coef`` of shape
    (n_targets, n_features) in the dtype of ``X``.
    """
    max_epochs = max_iter if max_epochs is None else max_epochs
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
                                 max_epochs=max_epochs, tol=tol, p0=p0, ws_strategy=ws_strategy,
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
                f"max_iter = {max_epochs} coordinate-descent epochs. Increase max_iter or tol.",
                ConvergenceWarning, stacklevel=stacklevel)
    n_iters = [int(r.n_iter) for r in results]
    return coef, intercept, gaps, n_iters, results


_PATH_PARAMS = ("sample_weight", "tol", "max_iter", "random_state", "selection",
                "do_screening")


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=None, alphas=None,
              precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
              return_n_iter=False, positive=False, check_input=True, **params):
    """Elastic-net regularisation path, scikit-learn's ``enet_path`` on working sets.

    Solves, for each ``alpha`` in decreasing order with warm starts (by
    :func:`~sparsopt.solvers.glm.working_set_cd.working_set_cd_path`)::

        1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * l1_ratio * ||w||_1
        + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    without intercept, as scikit-learn's path (centre ``X`` and ``y`` first to fit one).
    The calls written for scikit-learn >= 1.9 run unchanged and return the same shapes.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data (float32 stays float32; sparse input is used as CSC).
    y : array-like of shape (n_samples,)
        Target. A 2-D ``y`` (scikit-learn's multi-task path) is refused.
    l1_ratio : float, default=0.5
        Mixing parameter in [0, 1]; 1 is the Lasso.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    n_alphas : int or None, default=None
        Number of alphas of the automatic grid when ``alphas`` is None (deprecated in
        scikit-learn 1.9; prefer ``alphas=int``).
    alphas : int, array-like or None, default=None
        An int is the number of alphas of the automatic grid (``alpha_max`` down to
        ``eps * alpha_max``, log-spaced; 100 when None); an array is the grid itself
        (sorted decreasing).
    precompute : bool, "auto" or array-like of shape (n_features, n_features), \
default="auto"
        Accepted and validated as in :class:`ElasticNet` (a Gram matrix must be ``X^T X``),
        not used.
    Xy : array-like of shape (n_features,), default=None
        scikit-learn's precomputed ``X^T y``: checked against the data (ValueError if it
        differs), not used.
    copy_X : bool, default=True
        Accepted; ``X`` is never modified.
    coef_init : array-like of shape (n_features,), default=None
        Initial coefficients of the first ``alpha``.
    verbose : bool or int, default=False
        Print one line with the number of alphas that converged.
    return_n_iter : bool, default=False
        Also return the epochs per ``alpha``.
    positive : bool, default=False
        Force the coefficients to be non-negative.
    check_input : bool, default=True
        ``X`` and ``y`` are always validated; ``False`` only skips the comparison of a Gram
        matrix with the data.
    **params : dict
        scikit-learn's ``sample_weight`` (rescaled to sum to ``n_samples``), ``tol``
        (duality gap ``<= tol * ||y||^2 / n``, default 1e-4), ``max_iter`` (epochs per
        ``alpha``, default 1000), ``random_state`` and ``selection`` (accepted, the
        working sets are swept cyclically), ``do_screening`` (gap-safe screening, default
        True). Anything else raises a ValueError (scikit-learn's private ``X_offset`` and
        ``X_scale`` included: centre the data yourself).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
        Coefficients along the path, in the dtype of ``X``.
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gaps at the end of each fit (objective scale, as scikit-learn's).
    n_iters : list of int
        Epochs per ``alpha`` (only with ``return_n_iter=True``).

    See Also
    --------
    lasso_path, ElasticNet, ElasticNetCV,
    sparsopt.solvers.glm.working_set_cd.working_set_cd_path

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import enet_path
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 5)), rng.standard_normal(30)
    >>> alphas, coefs, gaps = enet_path(X, y, l1_ratio=0.8, alphas=4)
    >>> alphas.shape, coefs.shape, gaps.shape, bool(np.all(coefs[:, 0] == 0))
    ((4,), (5, 4), (4,), True)
    """
    owner = "enet_path"
    params = dict(params)
    unknown = sorted(set(params) - set(_PATH_PARAMS))
    if unknown:
        raise ValueError(f"{owner}: unexpected parameters in params: {unknown}; supported: "
                         f"{list(_PATH_PARAMS)}.")
    sample_weight = params.get("sample_weight")
    tol = float(params.get("tol", 1e-4))
    max_iter = int(params.get("max_iter", 1000))
    if params.get("selection", "cyclic") not in ("cyclic", "random"):
        raise ValueError(f"{owner}: selection must be 'cyclic' or 'random'.")
    if not 0.0 <= float(l1_ratio) <= 1.0:
        raise ValueError(f"{owner}: l1_ratio must be in [0, 1], got {l1_ratio!r}.")
    X = check_array(X, accept_sparse="csc", dtype=[np.float64, np.float32])
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    if y.ndim != 1:
        raise ValueError(f"{owner}: y must be 1-D; the multi-task path (2-D y) is not "
                         "supported (fit each column, or use a GroupL21 penalty).")
    check_consistent_length(X, y)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
    _check_gram(precompute, X, sample_weight, False, owner, check_gram=check_input)
    n, p = X.shape
    if Xy is not None:
        Xy = np.asarray(Xy, dtype=np.float64).reshape(-1)
        yw = y if sample_weight is None else y * sample_weight * (n / sample_weight.sum())
        ref = np.asarray(safe_sparse_dot(X.T, yw.astype(np.float64))).reshape(-1)
        if Xy.shape != (p,) or not np.allclose(Xy, ref, rtol=1e-4, atol=1e-5):
            raise ValueError(f"{owner}: Xy must be X^T y (shape ({p},)), with the sample "
                             "weights.")
    if alphas is None or isinstance(alphas, Integral):
        n_grid = int(alphas if alphas is not None else (n_alphas or 100))
        if n_grid < 1:
            raise ValueError(f"{owner}: the number of alphas must be >= 1.")
        if float(l1_ratio) == 0.0:
            raise ValueError(f"{owner}: the automatic alpha grid is not defined for "
                             "l1_ratio=0; pass alphas=[...].")
        a_max = alpha_max(X, y, penalty=get_penalty("l1", alpha=1.0),
                          sample_weight=sample_weight, fit_intercept=False) / float(l1_ratio)
        res = np.finfo(np.float64).resolution
        grid = (np.full(n_grid, res) if a_max <= res
                else np.geomspace(a_max, a_max * eps, num=n_grid))
    else:
        grid = np.asarray(alphas, dtype=np.float64).ravel()
    pen = (get_penalty("l1", alpha=float(grid.max()), positive=bool(positive))
           if float(l1_ratio) == 1.0 else
           get_penalty("elasticnet", alpha=float(grid.max()), l1_ratio=float(l1_ratio),
                       positive=bool(positive)))
    init = None if coef_init is None else np.asarray(coef_init, dtype=np.float64).reshape(p)
    grid, coefs, _, gaps, n_iters = working_set_cd_path(
        X, y, alphas=grid, penalty=pen, sample_weight=sample_weight, fit_intercept=False,
        init=init, max_iter=max_iter, max_epochs=max_iter, tol=tol,
        screening=bool(params.get("do_screening", True)), warn=False)
    tol_s = tol * _weighted_tol_scale(y, sample_weight, False)
    bad = gaps > tol_s * (1 + 1e-6) + 1e-300
    if np.any(bad):
        warnings.warn(f"{owner}: {int(bad.sum())} of {grid.size} alphas did not converge "
                      f"(smallest {grid[bad].min():.3e}): the duality gap stayed above tol * "
                      f"||y||^2 / n after max_iter = {max_iter} epochs. Increase max_iter or "
                      "tol.", ConvergenceWarning, stacklevel=2)
    if verbose:
        print(f"{owner}: {grid.size - int(bad.sum())} of {grid.size} alphas converged.")
    gaps = gaps.astype(X.dtype)
    if return_n_iter:
        return grid, coefs, gaps, [int(k) for k in n_iters]
    return grid, coefs, gaps


def lasso_path(X, y, *, eps=1e-3, n_alphas=None, alphas=None, precompute="auto", Xy=None,
               copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
               positive=False, **params):
    """Lasso regularisation path, scikit-learn's ``lasso_path`` on working sets.

    :func:`enet_path` with ``l1_ratio=1``: for each ``alpha`` (decreasing, warm-started)
    minimises ``1 / (2 * n_samples) * ||y - Xw||^2_2 + alpha * ||w||_1`` without
    intercept.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Target (1-D).
    eps : float, default=1e-3
        ``alpha_min / alpha_max``.
    n_alphas : int or None, default=None
        Grid size when ``alphas`` is None (prefer ``alphas=int``).
    alphas : int, array-like or None, default=None
        Number of alphas (100 when None) or the grid.
    precompute : bool, "auto" or array-like, default="auto"
        Accepted and validated, not used (see :func:`enet_path`).
    Xy : array-like of shape (n_features,), default=None
        Checked against ``X^T y``, not used.
    copy_X : bool, default=True
        Accepted; ``X`` is never modified.
    coef_init : array-like of shape (n_features,), default=None
        Initial coefficients.
    verbose : bool or int, default=False
        Print a one-line summary.
    return_n_iter : bool, default=False
        Also return the epochs per ``alpha``.
    positive : bool, default=False
        Force non-negative coefficients.
    **params : dict
        ``sample_weight``, ``tol``, ``max_iter``, ``random_state``, ``selection``,
        ``do_screening``, ``check_input`` (see :func:`enet_path`).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
    n_iters : list of int
        Only with ``return_n_iter=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import lasso_path
    >>> X = np.array([[1, 2, 3.1], [2.3, 5.4, 4.3]]).T
    >>> y = np.array([1, 2, 3.1])
    >>> alphas, coefs, _ = lasso_path(X, y, alphas=[5.0, 1.0, 0.5])
    >>> coefs.round(2).tolist()
    [[0.0, 0.0, 0.47], [0.22, 0.44, 0.24]]
    """
    check_input = params.pop("check_input", True)
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                     check_input=check_input, **params)


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
    precompute : bool, "auto" or array-like of shape (n_features, n_features), \
default=False
        scikit-learn's Gram option, accepted and validated but not used: the working sets
        keep each epoch at ``O(n_samples |working set|)`` without a Gram matrix. An array
        must be ``X^T X`` (of ``X`` rescaled by the square roots of the sample weights,
        normalised to sum to ``n_samples``): its shape is checked and, unless
        ``check_input=False``, one column is compared with the data (ValueError if they
        differ); with ``fit_intercept`` on a non-centred ``X`` it is ignored with a
        UserWarning, as in scikit-learn.
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
    sparse_coef_ : scipy.sparse.csr_matrix of shape (1, n_features) or \
(n_targets, n_features)
        ``coef_`` as a sparse matrix (read-only property).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    A 2-D ``y`` of shape (n_samples, n_targets) is solved target by target (independent
    problems sharing ``X``, as scikit-learn does; for a penalty coupling the targets use a
    group penalty). ``precompute`` is validated but not used: the working sets keep epochs
    cheap without a Gram matrix. ``ElasticNet.path`` is :func:`enet_path`, as in
    scikit-learn.

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

    path = staticmethod(enet_path)

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, tol=1e-4, copy_X=True, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", p0=10, ws_strategy="gs-r"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
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
    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model by working-set coordinate descent, one target at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse input is used as CSC, never densified).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target(s). Each column of a 2-D ``y`` is an independent problem on the same
            ``X`` (as in scikit-learn, not the row-sparse multi-task penalty).
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to ``n_samples``.
        check_input : bool, default=True
            scikit-learn's switch to skip input checks. ``X`` and ``y`` are always
            validated here (it costs little next to the fit); ``False`` only skips the
            comparison of a ``precompute`` Gram matrix with the data.

        Returns
        -------
        self : object
        """
        X, y, sample_weight = self._validate_xy(X, y, sample_weight)
        name = type(self).__name__
        _check_gram(self.precompute, X, sample_weight, self.fit_intercept, name,
                    check_gram=check_input)
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
            coef_init=coef_init, **_solver_kwargs(self))
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
    precompute : bool, "auto" or array-like of shape (n_features, n_features), \
default=False
        Accepted and validated, not used (see :class:`ElasticNet`).
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
    sparse_coef_ : scipy.sparse.csr_matrix of shape (1, n_features) or \
(n_targets, n_features)
        ``coef_`` as a sparse matrix (read-only property).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    A 2-D ``y`` is solved target by target, as in scikit-learn. ``Lasso.path`` is
    :func:`enet_path` (with its default ``l1_ratio=0.5``), exactly as in scikit-learn; call
    :func:`lasso_path` for the Lasso path.

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

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, max_iter=1000,
                 tol=1e-4, copy_X=True, warm_start=False, positive=False, random_state=None,
                 selection="cyclic", p0=10, ws_strategy="gs-r"):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, tol=tol, copy_X=copy_X,
                         warm_start=warm_start, positive=positive,
                         random_state=random_state, selection=selection, p0=p0,
                         ws_strategy=ws_strategy)

    def _get_l1_ratio(self):
        return 1.0


__all__ = ["ElasticNet", "Lasso", "enet_path", "lasso_path"]
