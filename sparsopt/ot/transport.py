"""Domain adaptation by entropic transport: :class:`SinkhornTransport`."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..utils.estimator import SparsoptEstimatorMixin
from .distance import cost_matrix, cost_scale
from .sinkhorn_solvers import sinkhorn
from .sns import sinkhorn_newton_sparse

__all__ = ["SinkhornTransport"]

_METRICS = {"sqeuclidean", "euclidean", "cityblock", "chebyshev", "cosine", "correlation",
            "minkowski", "canberra", "braycurtis"}
_BLOCK = 2048  # rows of new samples mapped at once (bounds the cost-matrix memory)


def _entropic_map(X, Y, pot, reg, scale, metric, out_dtype):
    """``sum_j w_j Y_j`` with ``w_j ∝ exp((pot_j - c(x, Y_j) / scale) / reg)``, per row of X."""
    out = np.empty((X.shape[0], Y.shape[1]), dtype=out_dtype)
    for s in range(0, X.shape[0], _BLOCK):
        C = cost_matrix(X[s:s + _BLOCK], Y, metric) / scale
        L = (pot[None, :] - C) / reg
        L -= L.max(axis=1, keepdims=True)
        W = np.exp(L)
        W /= W.sum(axis=1, keepdims=True)
        out[s:s + _BLOCK] = W @ Y
    return out


def _weights(w, X, name):
    try:
        w = _check_sample_weight(w, X, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"SinkhornTransport: {name}: {exc}") from exc
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"SinkhornTransport: {name} must be non-negative with a positive "
                         "sum.")
    return w


class SinkhornTransport(SparsoptEstimatorMixin, OneToOneFeatureMixin, TransformerMixin,
                        BaseEstimator):
    """Map source samples onto a target domain with an entropic transport plan.

    ``fit(Xs, Xt=Xt)`` solves entropic optimal transport between the two empirical
    distributions (weights ``sample_weight`` and ``target_weight``, uniform by default)
    with a normalised ground cost; ``transform(X)`` moves samples to the target
    domain by the entropic map ``T(x) = sum_j w_j(x) Xt_j`` with
    ``w_j(x) ∝ exp((g_j - c(x, Xt_j)) / reg)``. On the fitted source samples this is
    the barycentric projection ``(P Xt) / (P 1)`` of the plan; it also extends to new
    samples without refitting. ``inverse_transform`` maps target-domain samples back
    with the source potential ``f``. In the spirit of POT's domain-adaptation classes.

    Parameters
    ----------
    reg : float, default=1e-2
        Entropic regularisation, relative to the normalised cost (see
        ``normalize_cost``). Small values give a sharper (closer to unregularised)
        transport; :func:`~sparsopt.ot.sinkhorn_newton_sparse` keeps them cheap.
    solver : {"sns", "sinkhorn"}, default="sns"
        Sinkhorn-Newton-Sparse or log-domain Sinkhorn.
    metric : str, default="sqeuclidean"
        Ground cost (see :func:`~sparsopt.ot.cost_matrix`).
    normalize_cost : {"max", "median"} or None, default="max"
        Divide the cost matrix by its maximum (or median) so that ``reg`` is
        scale-free. The same factor applies to new samples in ``transform``.
    tol : float, default=1e-9
        L1 marginal error of the plan at which the solver stops.
    max_iter : int or None, default=None
        Solver iteration cap (``None``: 50 Newton steps for SNS, 1000 sweeps for
        Sinkhorn).
    verbose : bool, default=False
        Print solver progress.

    Attributes
    ----------
    coupling_ : ndarray of shape (n_source, n_target)
        Transport plan (total mass 1).
    xs_ : ndarray of shape (n_source, n_features)
        Fitted source samples.
    xt_ : ndarray of shape (n_target, n_features)
        Target samples (the source samples themselves when ``Xt`` was not given).
    f_ : ndarray of shape (n_source,)
        Source potential (``-inf`` where the weight is zero).
    g_ : ndarray of shape (n_target,)
        Target potential.
    cost_scale_ : float
        Factor the ground cost was divided by.
    transport_cost_ : float
        ``<C, P>`` in normalised cost units.
    marginal_error_ : float
        L1 marginal error of ``coupling_``.
    n_iter_ : int
        Solver iterations (Sinkhorn sweeps plus Newton steps).
    converged_ : bool
        Whether the solver reached ``tol``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (string column names only).

    See Also
    --------
    sparsopt.ot.sinkhorn_newton_sparse : The default solver.

    Notes
    -----
    ``fit`` takes the target samples as a keyword (``Xt``) so that the estimator
    sits in a :class:`~sklearn.pipeline.Pipeline` (``pipe.fit(Xs, ys,
    sinkhorntransport__Xt=Xt)``): the next step then learns on the transported source
    samples. Without ``Xt`` the samples are transported onto themselves (an entropic
    smoothing), which is mostly useful for testing. The cost matrix and plan are dense:
    memory grows as ``n_source * n_target``.

    References
    ----------
    .. [1] N. Courty, R. Flamary, D. Tuia and A. Rakotomamonjy, "Optimal transport for
       domain adaptation", IEEE TPAMI 39(9), 2017.
    .. [2] A.-A. Pooladian and J. Niles-Weed, "Entropic estimation of optimal transport
       maps", arXiv:2109.12004, 2021.
    .. [3] X. Tang et al., "Accelerating Sinkhorn algorithm with sparse Newton
       iterations", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import SinkhornTransport
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.normal(size=(100, 2))
    >>> Xt = Xs + np.array([5.0, 0.0])
    >>> est = SinkhornTransport(reg=1e-3).fit(Xs, Xt=Xt)
    >>> bool(np.abs(est.transform(Xs) - Xt).mean() < 0.05)
    True
    """

    _parameter_constraints = {
        "reg": [Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"sns", "sinkhorn"})],
        "metric": [StrOptions(_METRICS)],
        "normalize_cost": [StrOptions({"max", "median"}), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, reg=1e-2, *, solver="sns", metric="sqeuclidean", normalize_cost="max",
                 tol=1e-9, max_iter=None, verbose=False):
        self.reg = reg
        self.solver = solver
        self.metric = metric
        self.normalize_cost = normalize_cost
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, Xt=None, sample_weight=None, target_weight=None):
        """Solve the transport problem from the samples ``X`` to ``Xt``.

        Parameters
        ----------
        X : array-like of shape (n_source, n_features)
            Source samples.
        y : None
            Ignored (labels of the source samples pass through a pipeline).
        Xt : array-like of shape (n_target, n_features) or None, default=None
            Target samples; ``None`` transports ``X`` onto itself.
        sample_weight : array-like of shape (n_source,) or None, default=None
            Source weights (non-negative; normalised to mass 1).
        target_weight : array-like of shape (n_target,) or None, default=None
            Target weights; when ``Xt`` is None they default to ``sample_weight``.

        Returns
        -------
        self : SinkhornTransport
            Fitted estimator.
        """
        X = self._validate_input(X)
        a = _weights(sample_weight, X, "sample_weight")
        if Xt is None:
            Xt_ = X
            b = a if target_weight is None else _weights(target_weight, X, "target_weight")
        else:
            Xt_ = self._validate_input(Xt, reset=False)
            b = _weights(target_weight, Xt_, "target_weight")
        a = a / a.sum()
        b = b / b.sum()
        xs = np.asarray(X, dtype=np.float64)
        xt = np.asarray(Xt_, dtype=np.float64)
        C = cost_matrix(xs, xt, self.metric)
        scale = cost_scale(C, self.normalize_cost)
        C /= scale
        kwargs = dict(tol=self.tol, verbose=bool(self.verbose))
        if self.max_iter is not None:
            kwargs["max_iter"] = self.max_iter
        solve = sinkhorn_newton_sparse if self.solver == "sns" else sinkhorn
        res = solve(a, b, C, self.reg, **kwargs)
        self.coupling_ = res.plan
        self.xs_ = xs
        self.xt_ = xt
        self.f_ = res.f
        self.g_ = res.g
        self.cost_scale_ = scale
        self.transport_cost_ = float(res.cost)
        self.marginal_error_ = float(res.marginal_error)
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        return self

    def transform(self, X):
        """Move samples to the target domain by the entropic map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source-domain samples (the fitted ones or new ones).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Transported samples, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._map(X, self.xt_, self.g_)

    def inverse_transform(self, X):
        """Move target-domain samples back to the source domain (entropic map with ``f``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target-domain samples.

        Returns
        -------
        X_source : ndarray of shape (n_samples, n_features)
            Samples mapped onto the source domain, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._map(X, self.xs_, self.f_)

    def _map(self, X, Y, pot):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # exp(-inf) for zero weights
            return _entropic_map(np.asarray(X, dtype=np.float64), Y, pot, self.reg,
                                 self.cost_scale_, self.metric, X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
