"""Sparse Bayesian learning regressors: :class:`SBLRegressor` and :class:`KroneckerSBL`."""

from __future__ import annotations

import math
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.loop import resolve_verbose
from .._core.progress import progress
from ..backends import (
    array_namespace,
    asarray_on,
    device,
    errstate,
    is_host_array,
    is_numpy_namespace,
    namespace_name,
    non_numpy_namespace,
    to_numpy,
)
from ..linalg import KroneckerOperator, kron_apply
from ..solvers.bayes._common import gamma_update, initial_noise
from ..solvers.bayes.kronecker_sbl import kronecker_sbl
from ..solvers.bayes.sbl import _dtypes_xp, _expand, _scatter_positions, sbl, sbl_posterior
from ..utils.estimator import SparsoptEstimatorMixin, array_api_dispatch_enabled

__all__ = ["KroneckerSBL", "SBLRegressor"]

_COMMON = {
    "noise_variance": [Interval(Real, 0, None, closed="neither"), None],
    "learn_noise": ["boolean"],
    "prune_atol": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
}


class SBLRegressor(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    """Sparse Bayesian learning (ARD / relevance vector machine) regression.

    Maximises the evidence of ``y = X w + n``, ``n ~ N(0, sigma^2)``, ``w_j ~ N(0,
    gamma_j)`` over the prior variances ``gamma`` (EM or MacKay updates), learning the
    noise variance if asked, pruning the coefficients whose ``gamma`` collapses. The
    E-step solves the ``n_samples x n_samples`` (Woodbury) system when there are fewer
    samples than active features, and only the diagonal of the posterior covariance is
    formed during the iterations.

    Parameters
    ----------
    solver : {"em", "mackay"}, default="em"
        The update of the prior variances: ``gamma_j <- mu_j^2 + Sigma_jj`` (EM; decreases
        the SBL cost monotonically) or ``gamma_j <- mu_j^2 / (1 - Sigma_jj / gamma_j)``
        (MacKay, scikit-learn's ``ARDRegression``; usually fewer iterations).
    noise_variance : float or None, default=None
        Known noise variance (with ``learn_noise=False``) or its starting value (default:
        the variance of ``y``).
    learn_noise : bool, default=True
        Update the noise variance (EM or MacKay, following ``solver``).
    prune_rtol : float, default=1e-3
        Prune ``j`` when ``gamma_j < prune_rtol * max(gamma)`` (a scale-free rule; 0
        disables it, as in scikit-learn's ``ARDRegression``, which has no relative rule).
    threshold_lambda : float, default=np.inf
        Prune ``j`` when its precision ``1 / gamma_j`` is at least ``threshold_lambda``
        (scikit-learn's rule and spelling; scikit-learn's default is 1e4, which depends on
        the scale of ``y`` and ``X``: here the relative rule ``prune_rtol`` prunes by
        default).
    max_iter : int, default=300
        Maximum number of iterations (E-step and M-step each).
    tol : float, default=1e-4
        Stopping tolerance on the criterion ``stop``.
    stop : {"gamma", "coef"}, default="gamma"
        Relative change of ``gamma`` or, as scikit-learn, ``sum |w_new - w_old|``.
    alpha_1 : float, default=0.0
        Shape of the Gamma hyperprior over the noise precision ``alpha_`` (scikit-learn's
        ``ARDRegression`` uses 1e-6).
    alpha_2 : float, default=0.0
        Rate of the Gamma hyperprior over ``alpha_`` (scikit-learn: 1e-6).
    lambda_1 : float, default=0.0
        Shape of the Gamma hyperprior over the weight precisions ``lambda_``
        (scikit-learn: 1e-6).
    lambda_2 : float, default=0.0
        Rate of the Gamma hyperprior over ``lambda_`` (scikit-learn: 1e-6).
    compute_score : bool, default=False
        Record the log marginal likelihood (with the hyperpriors) of each iteration in
        ``scores_``, as scikit-learn's ``ARDRegression`` defines it.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y`` and fit an intercept.
    copy_X : bool, default=True
        Accepted for scikit-learn compatibility: ``X`` is never modified in place (the
        centred copy is always a new array), whatever its value.
    verbose : int, default=0
        1: a progress bar (tqdm when installed, plain lines otherwise) over the
        iterations, with the SBL cost; 2: also one line per iteration from the solver.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the weights (zero where pruned).
    intercept_ : float
    sigma_ : ndarray of shape (n_features,)
        Posterior variances of the weights (the diagonal of the posterior covariance,
        zero where pruned). scikit-learn's ``sigma_`` is the full covariance of the kept
        weights, ``(n_kept, n_kept)``.
    gamma_ : ndarray of shape (n_features,)
        Prior variances (zero where pruned).
    lambda_ : ndarray of shape (n_features,)
        Precisions of the weights, ``1 / gamma_`` on the kept weights; a pruned weight
        keeps the precision it had when it was pruned (scikit-learn's ``lambda_``), so
        ``lambda_ < threshold_lambda`` is the kept set under the absolute rule.
    noise_variance_ : float
        Noise variance.
    alpha_ : float
        Noise precision ``1 / noise_variance_`` (scikit-learn's ``alpha_``).
    scores_ : ndarray of shape (n_iterations,)
        With ``compute_score``, the log marginal likelihood after each iteration (to be
        maximised; scikit-learn's formula, Gamma hyperpriors included); empty otherwise.
    active_ : ndarray of bool of shape (n_features,)
        Kept weights.
    X_offset_ : ndarray of shape (n_features,)
        Mean of ``X`` subtracted before fitting (zeros without ``fit_intercept``).
    n_iter_ : int
        Iterations run.
    converged_ : bool
        Whether ``tol`` was reached.
    objective_history_ : ndarray
        SBL cost ``log det C + y^T C^{-1} y`` per iteration.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    Notes
    -----
    Supports array-API inputs (CuPy, ``array_api_strict`` ...) under
    ``sklearn.config_context(array_api_dispatch=True)``: ``fit`` runs
    :func:`~sparsopt.solvers.sbl` in ``X``'s namespace (``y`` is moved there), the fitted
    array attributes live there, ``predict`` (with ``return_std``) returns arrays of it
    and refuses ``X`` from another namespace or device.

    See Also
    --------
    KroneckerSBL : the same model on Kronecker-structured dictionaries.
    sklearn.linear_model.ARDRegression : MacKay updates with hyperpriors.

    References
    ----------
    .. [1] M. E. Tipping, "Sparse Bayesian learning and the relevance vector machine",
       JMLR 1, 2001.
    .. [2] D. P. Wipf and B. D. Rao, "Sparse Bayesian learning for basis selection",
       IEEE Trans. Signal Process. 52(8), 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import SBLRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20))
    >>> y = X[:, 2] - 2 * X[:, 7] + 0.01 * rng.standard_normal(50)
    >>> reg = SBLRegressor().fit(X, y)
    >>> np.flatnonzero(reg.coef_)
    array([2, 7])
    >>> mean, std = reg.predict(X[:2], return_std=True)
    """

    _parameter_constraints = {
        "solver": [StrOptions({"em", "mackay"})],
        "prune_rtol": [Interval(Real, 0, 1, closed="both")],
        "threshold_lambda": [Interval(Real, 0, None, closed="right")],
        "stop": [StrOptions({"gamma", "coef"})],
        "alpha_1": [Interval(Real, 0, None, closed="left")],
        "alpha_2": [Interval(Real, 0, None, closed="left")],
        "lambda_1": [Interval(Real, 0, None, closed="left")],
        "lambda_2": [Interval(Real, 0, None, closed="left")],
        "compute_score": ["boolean"],
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        **{k: v for k, v in _COMMON.items() if k != "prune_atol"},
    }

    def __init__(self, solver="em", *, noise_variance=None, learn_noise=True, prune_rtol=1e-3,
                 threshold_lambda=np.inf, max_iter=300, tol=1e-4, stop="gamma", alpha_1=0.0,
                 alpha_2=0.0, lambda_1=0.0, lambda_2=0.0, compute_score=False,
                 fit_intercept=True, copy_X=True, verbose=0):
        self.solver = solver
        self.noise_variance = noise_variance
        self.learn_noise = learn_noise
        self.prune_rtol = prune_rtol
        self.threshold_lambda = threshold_lambda
        self.max_iter = max_iter
        self.tol = tol
        self.stop = stop
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2
        self.compute_score = compute_score
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : SBLRegressor
        """
        X, y = self._validate_input(X, *_follow_X(X, y), ensure_min_samples=2)
        xp = array_namespace(X, y)
        if not is_numpy_namespace(xp):  # array API dispatch: CuPy, array_api_strict ...
            return self._fit_xp(xp, X, y)
        dtype = X.dtype
        Xw = np.asarray(X, dtype=np.float64)
        yw = np.asarray(y, dtype=np.float64)
        if self.fit_intercept:
            x_off = Xw.mean(axis=0)
            y_off = float(yw.mean())
            Xw = Xw - x_off
            yw = yw - y_off
        else:
            x_off = np.zeros(Xw.shape[1])
            y_off = 0.0
        n_samples, n_features = Xw.shape
        track = _ARDTracker(self, n_samples, n_features,
                            initial_noise(yw[:, None], self.noise_variance), xp, device(Xw))
        res = self._run_sbl(Xw, yw, track)
        info = res.info
        self.coef_ = np.asarray(res.x, dtype=dtype)
        self.gamma_ = info["gamma"].astype(dtype)
        self.sigma_ = info["sigma_diag"].astype(dtype)
        self.noise_variance_ = float(info["noise_variance"])
        self.alpha_ = 1.0 / self.noise_variance_
        lam = track.lambda_
        kept = self.gamma_ > 0
        lam[kept] = 1.0 / info["gamma"][kept]
        self.lambda_ = lam.astype(dtype)
        self.scores_ = np.asarray(track.scores, dtype=np.float64)
        self.active_ = info["active"]
        self.intercept_ = dtype.type(y_off - float(x_off @ self.coef_))
        self.X_offset_ = x_off.astype(dtype)
        idx = np.flatnonzero(self.active_)
        if idx.size:  # posterior covariance of the kept weights, for predict(return_std)
            cov = sbl_posterior(Xw[:, idx], yw[:, None], info["gamma"][idx],
                                self.noise_variance_, full=True).cov
        else:
            cov = np.zeros((0, 0))
        self._cov_active = cov
        return self._store_result(res)

    def predict(self, X, return_std=False):
        """Posterior predictive mean (and standard deviation).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return ``sqrt(x^T Sigma x + noise_variance_)`` per sample.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
        y_std : ndarray of shape (n_samples,)
            Only with ``return_std``.
        """
        check_is_fitted(self)
        _check_same_namespace(self, X, "predict")
        X = self._validate_input(X, reset=False)
        xp = array_namespace(X, self.coef_)
        if not is_numpy_namespace(xp):
            return self._predict_xp(xp, X, return_std)
        y_mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return y_mean
        Xa = (X - self.X_offset_)[:, self.active_].astype(np.float64)
        var = np.einsum("ij,jk,ik->i", Xa, self._cov_active, Xa) + self.noise_variance_
        return y_mean, np.sqrt(np.maximum(var, 0.0)).astype(X.dtype)


    def _run_sbl(self, Xw, yw, track):
        """:func:`~sparsopt.solvers.sbl` on the centred data (any namespace), with the
        progress bar and the ARD tracker (scores, lambda) fed by its callback."""
        verbose = resolve_verbose(self.verbose)
        with progress(self.max_iter, type(self).__name__, verbose) as bar:
            def callback(state):
                track.update(state)
                bar.update(state.iteration - bar.n, objective=state.objective)

            res = sbl(Xw, yw, solver=self.solver, noise_variance=self.noise_variance,
                      learn_noise=self.learn_noise, prune_rtol=self.prune_rtol,
                      prune_atol=1.0 / self.threshold_lambda, max_iter=self.max_iter,
                      tol=self.tol, stop=self.stop, alpha_1=self.alpha_1,
                      alpha_2=self.alpha_2, lambda_1=self.lambda_1, lambda_2=self.lambda_2,
                      callback=callback, verbose=int(verbose >= 2))
            track.finish(res, Xw, yw)
            if res.n_iter > bar.n:
                bar.update(res.n_iter - bar.n)
        return res

    def _fit_xp(self, xp, X, y):
        """:meth:`fit` on namespace arrays (scikit-learn's array API dispatch): the same
        steps, every array in ``X``'s namespace and on its device (``intercept_``,
        ``noise_variance_`` and ``alpha_`` are host floats, as on NumPy)."""
        dtype = X.dtype
        dev = device(X)
        Xw = xp.astype(X, xp.float64)
        yw = xp.astype(y, xp.float64)
        n_samples, n_features = Xw.shape
        if self.fit_intercept:
            x_off = xp.mean(Xw, axis=0)
            y_off = float(xp.mean(yw))
            Xw = Xw - x_off
            yw = yw - y_off
        else:
            x_off = xp.zeros(n_features, dtype=xp.float64, device=dev)
            y_off = 0.0
        track = _ARDTracker(self, n_samples, n_features,
                            initial_noise(yw[:, None], self.noise_variance), xp, dev)
        res = self._run_sbl(Xw, yw, track)
        info = res.info
        gamma = info["gamma"]
        self.coef_ = xp.astype(res.x, dtype)
        self.gamma_ = xp.astype(gamma, dtype)
        self.sigma_ = xp.astype(info["sigma_diag"], dtype)
        self.noise_variance_ = float(info["noise_variance"])
        self.alpha_ = 1.0 / self.noise_variance_
        kept = gamma > 0
        lam = xp.where(kept, 1.0 / xp.where(kept, gamma, 1.0), track.lambda_)
        self.lambda_ = xp.astype(lam, dtype)
        # host lists of floats, brought next to X once (scikit-learn's rule: every fitted
        # array attribute in X's namespace)
        self.scores_ = asarray_on(np.asarray(track.scores, dtype=np.float64), Xw)
        self.active_ = info["active"]
        self.intercept_ = float(y_off - float(xp.sum(x_off * xp.astype(self.coef_,
                                                                        xp.float64))))
        self.X_offset_ = xp.astype(x_off, dtype)
        if info["n_active"]:  # posterior covariance of the kept weights, for return_std
            idx = xp.nonzero(self.active_)[0]
            cov = sbl_posterior(xp.take(Xw, idx, axis=1), yw[:, None], xp.take(gamma, idx),
                                self.noise_variance_, full=True).cov
        else:
            cov = xp.zeros((0, 0), dtype=xp.float64, device=dev)
        self._cov_active = cov
        self._store_result(res)
        self.objective_history_ = asarray_on(self.objective_history_, Xw)
        return self

    def _predict_xp(self, xp, X, return_std):
        y_mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return y_mean
        idx = xp.nonzero(self.active_)[0]
        Xa = xp.astype(xp.take(X - self.X_offset_, idx, axis=1), xp.float64)
        var = xp.sum((Xa @ self._cov_active) * Xa, axis=1) + self.noise_variance_
        return y_mean, xp.astype(xp.sqrt(xp.maximum(var, 0.0)), X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


def _follow_X(X, y):
    """``(y,)`` moved to ``X``'s namespace and device under array API dispatch, when ``X``
    is a non-NumPy array and ``y`` is not already there ("everything follows X", one
    transfer before the fit)."""
    if (not array_api_dispatch_enabled() or is_host_array(X) or not hasattr(X, "shape")
            or not hasattr(y, "shape")):
        return (y,)
    xp = array_namespace(X)
    same = type(y).__module__.split(".")[0] == type(X).__module__.split(".")[0]
    if same and device(y) == device(X):
        return (y,)
    return (xp.asarray(to_numpy(y), device=device(X)),)


def _check_same_namespace(est, X, method):
    """Under array API dispatch, ``X`` must come from the namespace and device of the fit."""
    if not array_api_dispatch_enabled() or not hasattr(X, "shape"):
        return
    ref = est.coef_
    ns_x, ns_fit = namespace_name(array_namespace(X)), namespace_name(array_namespace(ref))
    if ns_x == ns_fit and device(X) == device(ref):
        return
    raise ValueError(
        f"Inputs passed to {type(est).__name__}.{method}() must use the same namespace and "
        f"the same device as those passed to fit(): got {ns_x} arrays on {device(X)!r}, "
        f"the model was fitted on {ns_fit} arrays on {device(ref)!r}. Move X first."
    )


def _progress_callback(bar):
    """A solver callback advancing ``bar`` to the iteration it reports (never stops)."""
    def callback(state):
        bar.update(state.iteration - bar.n, objective=state.objective)
    return callback


class _ARDTracker:
    """Follows the iterations of :func:`~sparsopt.solvers.sbl` for the attributes of
    scikit-learn's ``ARDRegression``: the precision of each weight when it is pruned
    (``lambda_``) and, with ``compute_score``, the log marginal likelihood per iteration
    (``scores_``). Any namespace ``xp`` (NumPy included): ``lambda_`` and ``gamma`` are
    arrays of ``xp`` on device ``dev``, the scores host floats."""

    def __init__(self, est, n_samples, n_features, sigma2_init, xp, dev):
        self.est = est
        self.xp = xp
        self.n_samples = n_samples
        self.lambda_ = xp.ones(n_features, dtype=xp.float64, device=dev)
        self.gamma = xp.ones(n_features, dtype=xp.float64, device=dev)  # the next E-step's
        self.sigma2 = float(sigma2_init)
        self.scores = []
        self.n_seen = 0

    def finish(self, res, X, y):
        """The check that met ``tol`` calls no callback: redo its E-step (one, with the
        prior variances and noise it started from) for what the tracker needs."""
        if res.info["stopped_by"] != "tol" or self.n_seen >= res.n_iter:
            return
        est, xp = self.est, self.xp
        active = self.gamma > 0
        idx = xp.nonzero(active)[0]
        g_a = xp.take(self.gamma, idx)
        post = sbl_posterior(xp.take(X, idx, axis=1), y[:, None], g_a, self.sigma2)
        m = post.mean[:, 0]
        upd = gamma_update(est.solver, m * m, post.sdiag, g_a, est.lambda_1, est.lambda_2)
        pos = _scatter_positions(xp, active)
        gamma = res.info["gamma"]
        x = xp.where(gamma != 0, _expand(xp, m, active, pos), 0.0)
        info = dict(gamma=gamma, gamma_unpruned=_expand(xp, upd, active, pos),
                    logdet=post.logdet, rss=post.rss,
                    noise_variance=res.info["noise_variance"])
        self.update(SimpleNamespace(x=x, info=info))

    def update(self, state):
        xp = self.xp
        self.n_seen += 1
        info = state.info
        was_active = self.gamma > 0
        gu = info["gamma_unpruned"]  # >= 0; a pruned-to-0 weight gets precision inf
        inv = xp.where(gu > 0, 1.0 / xp.where(gu > 0, gu, 1.0), xp.inf)
        self.lambda_ = xp.where(was_active, inv, self.lambda_)
        if self.est.compute_score:
            self.scores.append(self._score(state, was_active))
        self.gamma = info["gamma"]
        self.sigma2 = float(info["noise_variance"])

    def _score(self, state, was_active):
        """scikit-learn's objective: Gamma log-priors of the precisions, plus the Gaussian
        log evidence terms ``(log det Sigma + n log alpha + sum log lambda - alpha sse -
        sum lambda w^2) / 2``, with ``Sigma`` and ``sse`` those of the E-step (host
        scalars through ``np.log``, array terms reduced in ``xp``)."""
        est, info, xp = self.est, state.info, self.xp
        lam = self.lambda_
        alpha = 1.0 / float(info["noise_variance"])
        n = self.n_samples
        # det(sigma^2 I + X Gamma X^T) = sigma^(2n) det(Gamma) / det(Sigma)
        g_a = xp.take(self.gamma, xp.nonzero(was_active)[0])
        logdet_sigma = (n * np.log(self.sigma2) + float(xp.sum(xp.log(g_a)))
                        - float(info["logdet"]))
        coef = xp.reshape(xp.astype(state.x, xp.float64), (-1,))
        with errstate(xp, divide="ignore", invalid="ignore", over="ignore"):
            log_lam = xp.log(lam)
            s = float(xp.sum(est.lambda_1 * log_lam - est.lambda_2 * lam))
            s += est.alpha_1 * np.log(alpha) - est.alpha_2 * alpha
            s += 0.5 * (logdet_sigma + n * np.log(alpha) + float(xp.sum(log_lam)))
            s -= 0.5 * (alpha * float(info["rss"]) + float(xp.sum(lam * coef ** 2)))
        return float(s)


def _operator_or_none(X):
    if isinstance(X, KroneckerOperator):
        return X
    if isinstance(X, (list, tuple)) and X and all(np.ndim(f) == 2 for f in X):
        return KroneckerOperator(X)
    return None


class KroneckerSBL(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    """Sparse Bayesian learning with a Kronecker-structured dictionary and prior (KroSBL).

    ``y = (A_1 ⊗ ... ⊗ A_I) w + n`` with ``w_j ~ N(0, gamma_j)`` and ``gamma = gamma_1 ⊗ ...
    ⊗ gamma_I``. Neither the dictionary nor the posterior covariance is formed: each
    iteration costs a few small eigendecompositions and Kronecker matvecs. ``fit(X, y)``
    takes ``X`` as a :class:`~sparsopt.linalg.KroneckerOperator`, a list of factor matrices
    or a plain real 2-D array (one factor: classical EM SBL); complex data go through a
    ``KroneckerOperator``.

    Parameters
    ----------
    solver : {"svd", "am"}, default="svd"
        Hyperparameter M-step: sequential rank-one SVDs or alternating minimisation.
    coupling : tuple of float or None, default=None
        One coefficient per factor (0: none) for the pattern-coupled block-sparse prior
        (PC-KroSBL): factor ``i`` is ``1e-5 + C_i gamma_i`` with ``C_i`` tridiagonal,
        ``1`` on the diagonal and ``coupling[i]`` beside it. Needs ``solver="am"``.
    noise_variance : float or None, default=None
        Known noise variance (with ``learn_noise=False``) or its starting value.
    learn_noise : bool, default=True
    prune_rtol : float or None, default=None
        Per-factor relative pruning threshold (None: 1e-3 for "svd", 1e-2 for "am").
    prune_atol : float, default=0.0
    max_iter : int, default=500
        (The reference code uses 150; AM often needs more.)
    tol : float, default=1e-4
        On the relative change of the full ``gamma``.
    am_tol : float, default=1e-5
    am_max_iter : int, default=100
    verbose : int, default=0
        1: a progress bar over the iterations (tqdm when installed, plain lines
        otherwise) showing the SBL cost; 2: also one line per iteration from the solver.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_snapshots, n_features)
        Posterior mean (complex when the data are).
    gamma_ : ndarray of shape (n_features,)
    gamma_factors_ : list of ndarray
        The factors of ``gamma_`` (zeros at pruned entries).
    sigma_ : ndarray of shape (n_features,)
        Posterior variances (diagonal of the posterior covariance).
    noise_variance_ : float
    factor_shapes_ : tuple of (int, int)
    n_iter_ : int
    converged_ : bool
    objective_history_ : ndarray
    n_features_in_ : int
        ``N = n_1 ... n_I`` (the number of unknowns).

    Notes
    -----
    Supports array-API inputs (CuPy, ``array_api_strict`` ...): a list of factors of
    that library (any time), or one 2-D array under
    ``sklearn.config_context(array_api_dispatch=True)``, is fitted in its namespace and on
    its device (:func:`~sparsopt.solvers.kronecker_sbl`), and the fitted arrays and
    ``predict``'s output live there. A ``KroneckerOperator`` and ``coupling`` are
    NumPy-only.

    See Also
    --------
    SBLRegressor : classical SBL on a dense design matrix.
    sparsopt.linalg.KroneckerOperator

    References
    ----------
    .. [1] Y. He and G. Joseph, "Bayesian algorithms for Kronecker-structured sparse vector
       recovery with application to IRS-MIMO channel estimation", IEEE Trans. Signal
       Process., 2024 (arXiv:2307.14719).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_kronecker_problem
    >>> from sparsopt.linalg import KroneckerOperator
    >>> from sparsopt.linear_model import KroneckerSBL
    >>> factors, y, w = make_kronecker_problem((6, 6), (8, 8), n_nonzero=2, snr=30,
    ...                                        random_state=0)
    >>> X = KroneckerOperator(factors)
    >>> est = KroneckerSBL().fit(X, y)
    >>> bool(np.sum((est.coef_ - w) ** 2) / np.sum(w ** 2) < 1e-2)
    True
    >>> est.predict(X).shape
    (36,)
    """

    _parameter_constraints = {
        "solver": [StrOptions({"svd", "am"})],
        "coupling": ["array-like", None],
        "prune_rtol": [Interval(Real, 0, 1, closed="both"), None],
        "am_tol": [Interval(Real, 0, None, closed="left")],
        "am_max_iter": [Interval(Integral, 1, None, closed="left")],
        **_COMMON,
    }

    def __init__(self, solver="svd", *, coupling=None, noise_variance=None, learn_noise=True,
                 prune_rtol=None, prune_atol=0.0, max_iter=500, tol=1e-4, am_tol=1e-5,
                 am_max_iter=100, verbose=0):
        self.solver = solver
        self.coupling = coupling
        self.noise_variance = noise_variance
        self.learn_noise = learn_noise
        self.prune_rtol = prune_rtol
        self.prune_atol = prune_atol
        self.max_iter = max_iter
        self.tol = tol
        self.am_tol = am_tol
        self.am_max_iter = am_max_iter
        self.verbose = verbose

    def _check_operator_y(self, op, y):
        y = np.asarray(y)
        if y.ndim not in (1, 2) or y.shape[0] != op.shape[0]:
            raise ValueError(
                f"KroneckerSBL: y must have shape ({op.shape[0]},) or ({op.shape[0]}, "
                f"n_snapshots) for a dictionary with {op.shape[0]} rows "
                f"({' x '.join(str(m) for m, _ in op.factor_shapes)}), got {y.shape}."
            )
        if not np.all(np.isfinite(y)):
            raise ValueError("KroneckerSBL: y contains NaN or infinity.")
        return y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : KroneckerOperator, list of ndarray of shape (m_i, n_i), or array-like of shape
            (n_samples, n_features)
            The dictionary (``n_samples = M = prod m_i``, ``n_features = N = prod n_i``).
        y : array-like of shape (n_samples,) or (n_samples, n_snapshots)
            Real or complex measurements.

        Returns
        -------
        self : KroneckerSBL
        """
        xp = _factors_namespace(X, y)
        if xp is not None:  # CuPy, array_api_strict ... factors or array (array API dispatch)
            return self._fit_xp(xp, X, y)
        op = _operator_or_none(X)
        dt = getattr(X, "dtype", None)  # a NumPy dtype, or another library's (converted below)
        cplx = np.issubdtype(dt, np.complexfloating) if isinstance(dt, np.dtype) else \
            "complex" in str(dt)
        if op is None and cplx:
            raise ValueError("Complex data not supported as a plain array by KroneckerSBL: "
                             "pass a KroneckerOperator (or a list of factors), e.g. "
                             "KroneckerOperator([X]).")
        if op is None:
            X, y = self._validate_input(X, y, ensure_min_samples=2, multi_output=True)
            factors = [X]
            dtype = X.dtype
        else:
            y = self._check_operator_y(op, y)
            factors = list(op.factors)
            dtype = np.result_type(op.dtype, np.float32)
            self.n_features_in_ = op.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        res = self._run_kronecker_sbl(factors, y)
        x = np.asarray(res.x)
        if not np.iscomplexobj(x):
            x = x.astype(dtype, copy=False)
        self.coef_ = x.T if x.ndim == 2 else x
        info = res.info
        real = np.float32 if dtype == np.float32 else np.float64
        self.gamma_ = info["gamma"].astype(real)
        self.gamma_factors_ = [g.astype(real) for g in info["gamma_factors"]]
        self.sigma_ = info["sigma_diag"].astype(real)
        self.noise_variance_ = float(info["noise_variance"])
        self.factor_shapes_ = tuple(f.shape for f in factors)
        return self._store_result(res)

    def predict(self, X):
        """``X @ coef_`` for a dictionary ``X`` of the fitted layout.

        Parameters
        ----------
        X : KroneckerOperator, list of ndarray, or array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_snapshots)
        """
        check_is_fitted(self)
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        if isinstance(X, (list, tuple)) and _factors_namespace(X, None) is not None:
            n = math.prod(f.shape[1] for f in X)
            if n != self.n_features_in_:
                raise ValueError(f"KroneckerSBL: X has {n} columns, the model was fitted "
                                 f"with {self.n_features_in_}.")
            return kron_apply(list(X), coef)  # mode products in the factors' namespace
        if not isinstance(X, (list, tuple, KroneckerOperator)):
            _check_same_namespace(self, X, "predict")
        op = _operator_or_none(X)
        if op is None:
            X = self._validate_input(X, reset=False)
            return X @ coef
        if op.shape[1] != self.n_features_in_:
            raise ValueError(f"KroneckerSBL: X has {op.shape[1]} columns, the model was fitted "
                             f"with {self.n_features_in_}.")
        return kron_apply(list(op.factors), coef)

    def _run_kronecker_sbl(self, factors, y):
        """:func:`~sparsopt.solvers.kronecker_sbl` with the progress bar (any namespace)."""
        verbose = resolve_verbose(self.verbose)
        with progress(self.max_iter, type(self).__name__, verbose) as bar:
            res = kronecker_sbl(
                factors, y, solver=self.solver, coupling=self.coupling,
                noise_variance=self.noise_variance, learn_noise=self.learn_noise,
                prune_rtol=self.prune_rtol, prune_atol=self.prune_atol,
                max_iter=self.max_iter, tol=self.tol, am_tol=self.am_tol,
                am_max_iter=self.am_max_iter, verbose=int(verbose >= 2),
                callback=_progress_callback(bar) if verbose else None)
            if res.n_iter > bar.n:
                bar.update(res.n_iter - bar.n)
        return res

    def _fit_xp(self, xp, X, y):
        """:meth:`fit` on namespace arrays: a list of factors (any time), or one 2-D array
        under scikit-learn's array API dispatch; fitted arrays live in that namespace."""
        if isinstance(X, (list, tuple)):
            factors = list(X)
            M = math.prod(f.shape[0] for f in factors)
            if not hasattr(y, "shape") or y.ndim not in (1, 2) or y.shape[0] != M:
                raise ValueError(
                    f"KroneckerSBL: y must be an array of shape ({M},) or ({M}, "
                    f"n_snapshots) for a dictionary with {M} rows, got "
                    f"{getattr(y, 'shape', type(y).__name__)}.")
            dtype = _dtypes_xp(xp, *([f.dtype for f in factors] + [y.dtype]))[0]
            self.n_features_in_ = math.prod(f.shape[1] for f in factors)
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            if xp.isdtype(X.dtype, "complex floating"):
                raise ValueError("Complex data not supported as a plain array by KroneckerSBL: "
                                 "pass a list of factors, e.g. [X].")
            X, y = self._validate_input(X, *_follow_X(X, y), ensure_min_samples=2,
                                        multi_output=True)
            factors = [X]
            dtype = X.dtype
        res = self._run_kronecker_sbl(factors, y)
        x = res.x
        if not xp.isdtype(x.dtype, "complex floating"):
            x = xp.astype(x, dtype)
        self.coef_ = x.T if x.ndim == 2 else x
        info = res.info
        real = xp.float32 if dtype in (xp.float32, xp.complex64) else xp.float64
        self.gamma_ = xp.astype(info["gamma"], real)
        self.gamma_factors_ = [xp.astype(g, real) for g in info["gamma_factors"]]
        self.sigma_ = xp.astype(info["sigma_diag"], real)
        self.noise_variance_ = float(info["noise_variance"])
        self.factor_shapes_ = tuple(tuple(f.shape) for f in factors)
        self._store_result(res)
        self.objective_history_ = asarray_on(self.objective_history_, factors[0],
                                             dtype=xp.float64)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.array_api_support = True
        return tags


def _factors_namespace(X, y):
    """The namespace of non-NumPy array-API inputs of :class:`KroneckerSBL` (a list of
    factors, or one 2-D array under array API dispatch), else None (the NumPy road;
    a :class:`~sparsopt.linalg.KroneckerOperator` is NumPy-only)."""
    from array_api_compat import is_array_api_obj

    if isinstance(X, KroneckerOperator):
        return None
    listed = isinstance(X, (list, tuple))
    arrays = [a for a in ([*X] if listed else [X]) if is_array_api_obj(a)]
    if not arrays or all(isinstance(a, np.ndarray) for a in arrays):
        return None
    if not listed and not array_api_dispatch_enabled():
        return None  # scikit-learn's own validation decides, as for its estimators
    return non_numpy_namespace(*arrays, *([y] if listed else []))

