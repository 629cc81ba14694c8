"""Estimators of probabilistic sparse coding by truncated EM: BSC and GSC (spike-and-slab)."""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import logsumexp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.progress import fit_progress
from ..utils.estimator import SparsoptEstimatorMixin
from ._prosper_anneal import LinearAnnealing
from ._prosper_em import _check_common, bsc_em, gsc_em
from ._prosper_estep import state_combinations, truncated_estep

__all__ = ["BinarySparseCoding", "GaussianSparseCoding"]


def _state_logjoints(model, X, W, cand, combos, params):
    """Dense log-joints ``(n, S)`` and supports ``(n, S, H)`` (for :meth:`inference`)."""
    n, D = X.shape
    H = W.shape[0]
    X = X.astype(np.float64)
    W = W.astype(np.float64)
    yw = X @ W.T
    yy = np.einsum("ij,ij->i", X, X)
    G = W @ W.T
    M = combos.shape[0]
    S = np.zeros((n, 1 + H + M, H), dtype=bool)
    S[:, 1 + np.arange(H), np.arange(H)] = True
    for m in range(M):
        pos = combos[m][combos[m] >= 0]
        S[np.arange(n)[:, None], 1 + H + m, cand[:, pos]] = True
    Sf = S.astype(np.float64)
    s2 = params["noise_std"] ** 2
    if model == "bsc":
        pi = params["prior"]
        resid = yy[:, None] - 2 * np.einsum("nsh,nh->ns", Sf, yw) \
            + np.einsum("nsh,hk,nsk->ns", Sf, G, Sf)
        lj = (Sf.sum(-1) * math.log(pi) + (H - Sf.sum(-1)) * math.log1p(-pi)
              - 0.5 * D * math.log(2 * math.pi * s2) - resid / (2 * s2))
        return lj, S
    pi, mu, psi2 = params["prior"], params["slab_mean"], params["slab_var"]
    lj = np.empty((n, S.shape[1]))
    base = np.log1p(-pi).sum() - 0.5 * D * math.log(2 * math.pi * s2)
    for t in range(S.shape[1]):
        for i in range(n):
            A = np.flatnonzero(S[i, t])
            GA = G[np.ix_(A, A)]
            Lam = GA / s2 + np.diag(1.0 / psi2[A])
            ld = np.linalg.slogdet(Lam)[1] if A.size else 0.0
            b = (yw[i, A] - GA @ mu[A]) / s2
            r = yy[i] - 2 * mu[A] @ yw[i, A] + mu[A] @ GA @ mu[A]
            quad = r / s2 - (b @ np.linalg.solve(Lam, b) if A.size else 0.0)
            lj[i, t] = (base + np.log(pi[A] / (1 - pi[A])).sum()
                        - 0.5 * (np.log(psi2[A]).sum() + ld + quad))
    return lj, S


class _ProsperBase(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                   BaseEstimator):
    _model = "bsc"

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_preselect": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_active": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "anneal": [None, StrOptions({"default"}), LinearAnnealing],
        "tol": [Interval(numbers.Real, 0, None, closed="left"), None],
        "block_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose", None],
        "prosper_compat": ["boolean"],
    }

    def _check_sizes(self, X):
        H = self.n_components
        return _check_common(X, H, self.n_preselect,
                             self.max_active, self.n_iter, self.block_size, type(self).__name__)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the generative model from ``X`` by truncated EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (float32 or float64; float32 stays float32).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self
        """
        X = self._validate_input(X)
        self._check_sizes(X)
        name = type(self).__name__
        em = bsc_em if self._model == "bsc" else gsc_em
        with fit_progress(self.n_iter, name, self.verbose) as fp:
            W, res = em(X, self.n_components, n_preselect=self.n_preselect,
                        max_active=self.max_active, max_iter=self.n_iter, anneal=self.anneal,
                        tol=self.tol, block_size=self.block_size,
                        random_state=self.random_state, n_jobs=self.n_jobs,
                        callback=fp.callback, verbose=fp.solver_verbose,
                        prosper_compat=self.prosper_compat)
            fp.finish(res.n_iter)
        self.components_ = W
        self.n_components_ = W.shape[0]
        self.noise_std_ = float(res.noise_std)
        if self._model == "bsc":
            self.prior_ = float(res.prior)
        else:
            self.prior_ = np.asarray(res.prior, dtype=np.float64)
            self.slab_mean_ = np.asarray(res.slab_mean, dtype=np.float64)
            self.slab_std_ = np.sqrt(np.asarray(res.slab_var, dtype=np.float64))
        self.log_likelihood_curve_ = np.asarray(res.log_likelihood_curve)
        self._store_result(res)
        return self

    def _params(self):
        p = {"prior": self.prior_, "noise_std": self.noise_std_}
        if self._model == "gsc":
            p.update(slab_mean=self.slab_mean_, slab_var=self.slab_std_**2)
        return p

    def _estep(self, X):
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        W = self.components_.astype(X.dtype, copy=False)
        e = truncated_estep(X, W, model=self._model, n_preselect=self.n_preselect,
                            max_active=self.max_active, block_size=self.block_size,
                            n_jobs=self.n_jobs, prosper_compat=self.prosper_compat,
                            **self._params())
        return X, e

    def transform(self, X):
        """Posterior means of the latent causes under the truncated posterior.

        BSC: ``⟨s⟩ = p(s_h = 1 | x)``; GSC: ``⟨s⊙z⟩``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        """
        _, e = self._estep(X)
        return e.es if self._model == "bsc" else e.esz

    def inverse_transform(self, X):
        """``codes @ components_`` (the mean of ``x`` given the latent causes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "components_")
        return self._signals_from_codes(X, self.components_)

    def score_samples(self, X):
        """Truncated log-likelihood ``log Σ_{s∈K_n} p(s, x_n)`` of each sample.

        A lower bound on ``log p(x_n)`` (tight when ``K_n`` holds the posterior mass).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        X, e = self._estep(X)
        logz = e.logz.astype(np.float64)
        if self._model == "bsc":
            D = X.shape[1]
            H = self.n_components_
            logz = logz + H * math.log1p(-self.prior_) \
                - 0.5 * D * math.log(2 * math.pi * self.noise_std_**2)
        return logz

    def score(self, X, y=None):
        """Mean truncated log-likelihood per sample (see :meth:`score_samples`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def inference(self, X, n_top=5):
        """Most probable states of the truncated posterior and the marginals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        n_top : int, default=5
            Number of states returned per sample (at most ``|K_n|``). The states are
            enumerated densely per block of ``block_size`` samples.

        Returns
        -------
        states : ndarray of shape (n_samples, n_top, n_components), bool
            The ``n_top`` most probable supports, most probable first.
        probabilities : ndarray of shape (n_samples, n_top)
            Their truncated posterior probabilities.
        marginals : ndarray of shape (n_samples, n_components)
            ``p(s_h = 1 | x)`` under the truncated posterior.
        """
        if isinstance(n_top, bool) or not isinstance(n_top, numbers.Integral) or n_top < 1:
            raise ValueError(f"n_top must be an integer >= 1, got {n_top!r}.")
        X, e = self._estep(X)
        combos = state_combinations(self.n_preselect, self.max_active)
        k = min(int(n_top), 1 + self.n_components_ + combos.shape[0])
        n = X.shape[0]
        states = np.zeros((n, k, self.n_components_), dtype=bool)
        probs = np.zeros((n, k), dtype=X.dtype)
        for a in range(0, n, self.block_size):  # dense states: bounded by block_size
            b = min(a + self.block_size, n)
            lj, S = _state_logjoints(self._model, X[a:b], self.components_, e.cand[a:b],
                                     combos, self._params())
            q = np.exp(lj - logsumexp(lj, axis=1, keepdims=True))
            top = np.argsort(-q, axis=1, kind="stable")[:, :k]
            rows = np.arange(b - a)[:, None]
            states[a:b] = S[rows, top]
            probs[a:b] = q[rows, top]
        return states, probs, e.es

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Small fast constructor parameters for scikit-learn's estimator checks.

        Some checks reset ``n_components`` to 1, so ``H' = γ = 1`` (singleton states).
        """
        return {"n_components": 3, "n_preselect": 1, "max_active": 1, "n_iter": 3,
                "random_state": 0}


_COMMON_PARAMS = """
    n_preselect : int, default={hp}
        ``H'``: units preselected per data point (``<= n_components``).
    max_active : int, default={gamma}
        ``γ``: the most units active together in a state (``<= n_preselect``).
    n_iter : int, default=50
        EM iterations.
    anneal : None, "default" or LinearAnnealing, default=None
        Annealing schedule (temperature, data truncation, parameter noise). ``None``: no
        annealing; ``"default"``: :meth:`LinearAnnealing.default`.
    tol : float or None, default=None
        ``None`` runs all ``n_iter`` iterations; else stop early when the relative change
        of the log-likelihood is ``<= tol`` after the annealing.
    block_size : int, default=1000
        Samples per E-step block (bounds the memory).
    random_state : int, RandomState instance or None, default=None
    n_jobs : int or None, default=None
        Threads over sample blocks in the E-step.
    verbose : int or None, default=None
        Progress (``None`` reads :func:`sparsopt.get_config`).
    prosper_compat : bool, default=False
        Reproduce the ProSper reference code's conventions where they differ (see the
        Notes of :func:`{fn}`).
"""


class BinarySparseCoding(_ProsperBase):
    __doc__ = """Binary sparse coding (BSC) learned by truncated EM.

    Generative model ``s_h ~ Bernoulli(π)``, ``x = Σ_h s_h W_h + ε``, ``ε ~ N(0, σ² I)``,
    learned by Expectation Truncation: the posterior of each data point is restricted to
    the singletons and the supports of up to ``max_active`` of ``n_preselect``
    preselected units. See :func:`bsc_em`.

    Parameters
    ----------
    n_components : int, default=10
        ``H``, the number of latent causes.""" + _COMMON_PARAMS.format(
        hp=8, gamma=5, fn="bsc_em") + """
    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``W`` (one cause per row).
    prior_ : float
        ``π``.
    noise_std_ : float
        ``σ``.
    log_likelihood_curve_ : ndarray of shape (n_iterations,)
        The monitored truncated log-likelihood per sample at each iteration.
    n_iter_ : int
    converged_ : bool
    objective_history_ : ndarray
        Minus the log-likelihood curve.
    n_components_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)

    Notes
    -----
    There is no ``partial_fit``: the data truncation ranks all data points by their
    truncated evidence at every iteration and the π update is corrected for it, so an
    incremental EM over chunks would not optimise the same objective.

    References
    ----------
    .. [1] M. Henniges, G. Puertas, J. Bornschein, J. Eggert and J. Lücke, "Binary sparse
       coding", LVA/ICA 2010.
    .. [2] G. Exarchakis et al., "ProSper", arXiv:1908.06843, 2019.

    Examples
    --------
    >>> from sparsopt.datasets import make_bars
    >>> from sparsopt.decomposition import BinarySparseCoding
    >>> X, W_true, S_true = make_bars(500, random_state=0)
    >>> bsc = BinarySparseCoding(10, n_preselect=6, max_active=3, n_iter=30,
    ...                          anneal="default", random_state=0).fit(X)
    >>> bsc.components_.shape, bsc.transform(X[:3]).shape
    ((10, 25), (3, 10))
    """

    _model = "bsc"

    def __init__(self, n_components=10, *, n_preselect=8, max_active=5, n_iter=50,
                 anneal=None, tol=None, block_size=1000, random_state=None, n_jobs=None,
                 verbose=None, prosper_compat=False):
        self.n_components = n_components
        self.n_preselect = n_preselect
        self.max_active = max_active
        self.n_iter = n_iter
        self.anneal = anneal
        self.tol = tol
        self.block_size = block_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.prosper_compat = prosper_compat


class GaussianSparseCoding(_ProsperBase):
    __doc__ = """Spike-and-slab (Gaussian) sparse coding (GSC) learned by truncated EM.

    Generative model ``s_h ~ Bernoulli(π_h)``, ``z ~ N(μ, diag(ψ²))``,
    ``x = Σ_h s_h z_h W_h + ε``, ``ε ~ N(0, σ² I)``; the slab is integrated out exactly
    for each state of the truncated posterior. See :func:`gsc_em`.

    Parameters
    ----------
    n_components : int, default=10
        ``H``, the number of latent causes.""" + _COMMON_PARAMS.format(
        hp=7, gamma=4, fn="gsc_em") + """
    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    prior_ : ndarray of shape (n_components,)
        ``π_h``.
    noise_std_ : float
        ``σ``.
    slab_mean_ : ndarray of shape (n_components,)
        ``μ``.
    slab_std_ : ndarray of shape (n_components,)
        ``ψ`` (``Ψ = diag(ψ²)``).
    log_likelihood_curve_ : ndarray of shape (n_iterations,)
    n_iter_ : int
    converged_ : bool
    objective_history_ : ndarray
    n_components_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)

    Notes
    -----
    The model is invariant to ``W_h → c W_h``, ``(μ_h, ψ_h) → (μ_h, ψ_h) / c``: only
    ``μ_h W_h`` and ``ψ_h / μ_h`` are identifiable. There is no ``partial_fit`` (see
    :class:`BinarySparseCoding`).

    References
    ----------
    .. [1] A.-S. Sheikh, J. A. Shelton and J. Lücke, "A truncated EM approach for
       spike-and-slab sparse coding", JMLR 15, 2014.

    Examples
    --------
    >>> from sparsopt.datasets import make_bars
    >>> from sparsopt.decomposition import GaussianSparseCoding
    >>> X, W_true, S_true = make_bars(300, model="spike_and_slab", random_state=0)
    >>> gsc = GaussianSparseCoding(10, n_preselect=5, max_active=3, n_iter=10,
    ...                            random_state=0).fit(X)
    >>> gsc.slab_mean_.shape, gsc.transform(X[:2]).shape
    ((10,), (2, 10))
    """

    _model = "gsc"

    def __init__(self, n_components=10, *, n_preselect=7, max_active=4, n_iter=50,
                 anneal=None, tol=None, block_size=1000, random_state=None, n_jobs=None,
                 verbose=None, prosper_compat=False):
        self.n_components = n_components
        self.n_preselect = n_preselect
        self.max_active = max_active
        self.n_iter = n_iter
        self.anneal = anneal
        self.tol = tol
        self.block_size = block_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.prosper_compat = prosper_compat
