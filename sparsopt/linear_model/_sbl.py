"""Sparse Bayesian learning regressors: :class:`SBLRegressor` and :class:`KroneckerSBL`."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..linalg import KroneckerOperator, kron_apply
from ..solvers.bayes.kronecker_sbl import kronecker_sbl
from ..solvers.bayes.sbl import sbl, sbl_posterior
from ..utils.estimator import SparsoptEstimatorMixin

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
        Prune ``j`` when ``gamma_j < prune_rtol * max(gamma)``.
    prune_atol : float, default=0.0
        Prune ``j`` when ``gamma_j <= prune_atol``; scikit-learn's ``threshold_lambda=1e4``
        corresponds to ``prune_atol=1e-4`` with ``prune_rtol=0``.
    max_iter : int, default=300
    tol : float, default=1e-4
        Stopping tolerance on the criterion ``stop``.
    stop : {"gamma", "coef"}, default="gamma"
        Relative change of ``gamma`` or, as scikit-learn, ``sum |w_new - w_old|``.
    alpha_1, alpha_2, lambda_1, lambda_2 : float, default=0.0
        Gamma hyperpriors of scikit-learn's ``ARDRegression`` (which uses 1e-6).
    fit_intercept : bool, default=True
        Centre ``X`` and ``y`` and fit an intercept.
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the weights (zero where pruned).
    intercept_ : float
    sigma_ : ndarray of shape (n_features,)
        Posterior variances of the weights (the diagonal of the posterior covariance,
        zero where pruned).
    gamma_ : ndarray of shape (n_features,)
        Prior variances (zero where pruned); ``1 / gamma_`` is scikit-learn's ``lambda_``.
    noise_variance_ : float
        ``1 / noise_variance_`` is scikit-learn's ``alpha_``.
    active_ : ndarray of bool of shape (n_features,)
    n_iter_ : int
    converged_ : bool
    objective_history_ : ndarray
        SBL cost ``log det C + y^T C^{-1} y`` per iteration.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

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
        "stop": [StrOptions({"gamma", "coef"})],
        "alpha_1": [Interval(Real, 0, None, closed="left")],
        "alpha_2": [Interval(Real, 0, None, closed="left")],
        "lambda_1": [Interval(Real, 0, None, closed="left")],
        "lambda_2": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        **_COMMON,
    }

    def __init__(self, solver="em", *, noise_variance=None, learn_noise=True, prune_rtol=1e-3,
                 prune_atol=0.0, max_iter=300, tol=1e-4, stop="gamma", alpha_1=0.0,
                 alpha_2=0.0, lambda_1=0.0, lambda_2=0.0, fit_intercept=True, verbose=0):
        self.solver = solver
        self.noise_variance = noise_variance
        self.learn_noise = learn_noise
        self.prune_rtol = prune_rtol
        self.prune_atol = prune_atol
        self.max_iter = max_iter
        self.tol = tol
        self.stop = stop
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2
        self.fit_intercept = fit_intercept
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
        X, y = self._validate_input(X, y, ensure_min_samples=2)
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
        res = sbl(Xw, yw, solver=self.solver, noise_variance=self.noise_variance,
                  learn_noise=self.learn_noise, prune_rtol=self.prune_rtol,
                  prune_atol=self.prune_atol, max_iter=self.max_iter, tol=self.tol,
                  stop=self.stop, alpha_1=self.alpha_1, alpha_2=self.alpha_2,
                  lambda_1=self.lambda_1, lambda_2=self.lambda_2, verbose=self.verbose)
        info = res.info
        self.coef_ = np.asarray(res.x, dtype=dtype)
        self.gamma_ = info["gamma"].astype(dtype)
        self.sigma_ = info["sigma_diag"].astype(dtype)
        self.noise_variance_ = float(info["noise_variance"])
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
        X = self._validate_input(X, reset=False)
        y_mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return y_mean
        Xa = (X - self.X_offset_)[:, self.active_].astype(np.float64)
        var = np.einsum("ij,jk,ik->i", Xa, self._cov_active, Xa) + self.noise_variance_
        return y_mean, np.sqrt(np.maximum(var, 0.0)).astype(X.dtype)


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
        op = _operator_or_none(X)
        if op is None and np.issubdtype(getattr(X, "dtype", np.float64), np.complexfloating):
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
        res = kronecker_sbl(factors, y, solver=self.solver, coupling=self.coupling,
                            noise_variance=self.noise_variance, learn_noise=self.learn_noise,
                            prune_rtol=self.prune_rtol, prune_atol=self.prune_atol,
                            max_iter=self.max_iter, tol=self.tol, am_tol=self.am_tol,
                            am_max_iter=self.am_max_iter, verbose=self.verbose)
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
        op = _operator_or_none(X)
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        if op is None:
            X = self._validate_input(X, reset=False)
            return X @ coef
        if op.shape[1] != self.n_features_in_:
            raise ValueError(f"KroneckerSBL: X has {op.shape[1]} columns, the model was fitted "
                             f"with {self.n_features_in_}.")
        return kron_apply(list(op.factors), coef)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

