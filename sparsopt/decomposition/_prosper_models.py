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
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.progress import fit_progress
from ..utils.estimator import SparsoptEstimatorMixin
from ._prosper_anneal import LinearAnnealing
from ._prosper_em import (
    _check_common,
    _resolve_anneal,
    bsc_em,
    data_norms,
    estep_statistics,
    gsc_em,
    initial_params,
    m_step,
    perturb_params,
    preselection_rule,
)
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
        "learning_decay": [Interval(numbers.Real, 0.5, 1, closed="right")],
        "learning_offset": [Interval(numbers.Real, 0, None, closed="left")],
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
        params = dict(components=W.astype(np.float64), prior=res.prior,
                      noise_std=float(res.noise_std), slab_mean=res.slab_mean,
                      slab_var=res.slab_var)
        self._set_model(params, W.dtype, res.preselection)
        self.log_likelihood_curve_ = np.asarray(res.log_likelihood_curve)
        self._store_result(res)
        self.n_steps_ = int(res.n_iter)
        self._online = dict(stats=res.statistics, rng=check_random_state(self.random_state),
                            params=params)
        return self

    def _set_model(self, P, dtype, preselection):
        """The fitted attributes from the EM's parameters ``P``."""
        self.components_ = P["components"].astype(dtype)
        self.n_components_ = self.components_.shape[0]
        self.noise_std_ = float(P["noise_std"])
        if self._model == "bsc":
            self.prior_ = float(P["prior"])
        else:
            self.prior_ = np.asarray(P["prior"], dtype=np.float64)
            self.slab_mean_ = np.asarray(P["slab_mean"], dtype=np.float64)
            self.slab_std_ = np.sqrt(np.asarray(P["slab_var"], dtype=np.float64))
        self.preselection_ = preselection

    def partial_fit(self, X, y=None):
        """One step of online EM on the mini-batch ``X``.

        The truncated E-step runs on ``X`` under the current parameters; its sufficient
        statistics (per-sample averages over the ``N_cut`` kept points: ``Σ x⟨s⟩ᵀ``,
        ``Σ⟨s sᵀ⟩``, ``Σ||x||²``, the truncation-corrected prior, and for GSC the slab
        moments) are blended into running averages with the step
        ``ρ_t = (learning_offset + t)^(-learning_decay)`` (stochastic-approximation EM,
        Cappé and Moulines 2009), and the M-step maps the averages to new parameters.
        The first call (``t = 0``, ``ρ = 1``) initialises the model on its batch exactly
        as :meth:`fit` does, so one ``partial_fit`` on ``X`` equals ``fit`` with
        ``n_iter=1``. The annealing schedule advances one position per call over
        ``n_iter`` calls and then stays at its final values; after :meth:`fit`, the
        updates continue from the fitted model and its last statistics. The data
        truncation ranks the points of each batch among themselves (exact for the full
        batch; a batch of a few points truncates coarsely).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A mini-batch.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self

        References
        ----------
        .. [1] O. Cappé and E. Moulines, "On-line expectation-maximization algorithm for
           latent data models", JRSS B 71(3), 2009.
        """
        first = not hasattr(self, "components_")
        if first:
            self._validate_params()
        X = self._validate_input(X, reset=first)
        name = type(self).__name__
        X = self._check_sizes(X)
        model = self._model
        if first:
            rng = check_random_state(self.random_state)
            self._online = dict(stats=None, rng=rng,
                                params=initial_params(model, X, self.n_components, None,
                                                      rng, name))
            self.n_steps_ = 0
            self.log_likelihood_curve_ = np.empty(0)
        else:
            X = np.ascontiguousarray(X, dtype=self.components_.dtype)
        state = self._online
        t = self.n_steps_
        a = _resolve_anneal(self.anneal, model)(min(t, self.n_iter - 1), self.n_iter)
        P = perturb_params(model, state["params"], a, state["rng"])
        X64, yy, yy_x = data_norms(X)
        stats, ll = estep_statistics(model, X, X64, yy, yy_x, P, a,
                                     n_preselect=self.n_preselect, max_active=self.max_active,
                                     block_size=self.block_size, n_jobs=self.n_jobs,
                                     engine=None, prosper_compat=self.prosper_compat)
        if state["stats"] is not None:
            rho = float(self.learning_offset + t) ** -float(self.learning_decay)
            stats = {k: (1.0 - rho) * v + rho * stats[k] for k, v in state["stats"].items()}
        P = m_step(model, stats, P, prosper_compat=self.prosper_compat)
        if not (np.isfinite(P["components"]).all() and math.isfinite(ll)):
            raise FloatingPointError(f"{name}.partial_fit: the EM produced non-finite "
                                     f"parameters; check the scaling of X.")
        state.update(stats=stats, params=P)
        self._set_model(P, X.dtype, preselection_rule(a, self.prosper_compat))
        self.log_likelihood_curve_ = np.append(self.log_likelihood_curve_, ll)
        self.n_steps_ = t + 1
        self.n_iter_ = self.n_steps_
        self.converged_ = False
        self.objective_history_ = -self.log_likelihood_curve_
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
                            preselection=self.preselection_, **self._params())
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
    learning_decay : float in (0.5, 1], default=0.7
        ``κ`` of the online-EM step ``ρ_t = (learning_offset + t)^(-κ)`` of
        :meth:`partial_fit` (``κ > 1/2`` for the stochastic approximation to converge).
    learning_offset : float >= 0, default=10.0
        ``τ₀`` of that step: a larger value weighs the early batches less.
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
    n_steps_ : int
        EM updates so far (``fit``'s iterations plus ``partial_fit`` calls).
    preselection_ : {"singleton", "residual"}
        The preselection rule of the last E-step, also used by ``transform``, ``score``
        and ``inference``.

    Notes
    -----
    :meth:`partial_fit` runs online EM (running averages of the sufficient statistics);
    its data truncation ranks each batch's points among themselves.

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

    Online EM on mini-batches:

    >>> online = BinarySparseCoding(10, n_preselect=6, max_active=3, random_state=0)
    >>> for batch in range(5):
    ...     online = online.partial_fit(X[100 * batch:100 * (batch + 1)])
    >>> online.n_steps_
    5
    """

    _model = "bsc"

    def __init__(self, n_components=10, *, n_preselect=8, max_active=5, n_iter=50,
                 anneal=None, tol=None, block_size=1000, random_state=None, n_jobs=None,
                 verbose=None, prosper_compat=False, learning_decay=0.7,
                 learning_offset=10.0):
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
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset


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
    n_steps_ : int
        EM updates so far (``fit``'s iterations plus ``partial_fit`` calls).
    preselection_ : {"singleton", "residual"}
        The preselection rule of the last E-step (see :class:`BinarySparseCoding`).

    Notes
    -----
    The model is invariant to ``W_h → c W_h``, ``(μ_h, ψ_h) → (μ_h, ψ_h) / c``: only
    ``μ_h W_h`` and ``ψ_h / μ_h`` are identifiable.

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
                 verbose=None, prosper_compat=False, learning_decay=0.7,
                 learning_offset=10.0):
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
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
