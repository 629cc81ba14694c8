"""Domain adaptation by entropic transport: :class:`SinkhornTransport`."""

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._core.loop import resolve_verbose
from .._core.progress import progress
from ..backends import (
    array_namespace,
    asarray_on,
    device,
    host_only_error,
    is_numpy_namespace,
    namespace_name,
)
from ..utils.estimator import SparsoptEstimatorMixin, check_fitted_namespace
from .distance import cost_matrix, cost_scale
from .sinkhorn_solvers import sinkhorn
from .sns import sinkhorn_newton_sparse

__all__ = ["SinkhornTransport"]

_METRICS = {"sqeuclidean", "euclidean", "cityblock", "chebyshev", "cosine", "correlation",
            "minkowski", "canberra", "braycurtis"}
_BLOCK = 2048  # rows of new samples mapped at once (bounds the cost-matrix memory)


def _normalize(C, norm, scale):
    """POT's cost normalisation: divide by ``scale`` (max or median), or the log maps."""
    xp = array_namespace(C)
    if norm == "log":
        return xp.log1p(C)
    if norm == "loglog":
        return xp.log1p(xp.log1p(C))
    return C / scale


def _entropic_map(X, Y, pot, reg, scale, metric, norm, out_dtype):
    """``sum_j w_j Y_j`` with ``w_j ∝ exp((pot_j - c(x, Y_j)) / reg)``, per row of X."""
    out = np.empty((X.shape[0], Y.shape[1]), dtype=out_dtype)
    for s in range(0, X.shape[0], _BLOCK):
        C = _normalize(cost_matrix(X[s:s + _BLOCK], Y, metric), norm, scale)
        L = (pot[None, :] - C) / reg
        L -= L.max(axis=1, keepdims=True)
        W = np.exp(L)
        W /= W.sum(axis=1, keepdims=True)
        out[s:s + _BLOCK] = W @ Y
    return out


def _nearest_shift(X, X_fit, mapped, out_dtype):
    """Ferradans et al.'s out-of-sample map: ``mapped[k] + x - X_fit[k]``, ``k`` the fitted
    sample nearest to ``x`` (squared Euclidean)."""
    out = np.empty(X.shape, dtype=out_dtype)
    for s in range(0, X.shape[0], _BLOCK):
        k = np.argmin(cost_matrix(X[s:s + _BLOCK], X_fit, "sqeuclidean"), axis=1)
        out[s:s + _BLOCK] = mapped[k] + X[s:s + _BLOCK] - X_fit[k]
    return out


def _entropic_map_xp(X, Y, pot, reg, scale, metric, norm, out_dtype, xp):
    """:func:`_entropic_map` for arrays of a non-NumPy namespace (blocks concatenated)."""
    blocks = []
    for s in range(0, X.shape[0], _BLOCK):
        # (the standard has no out-of-bounds slice stops)
        C = _normalize(cost_matrix(X[s:min(s + _BLOCK, X.shape[0]), :], Y, metric), norm,
                       scale)
        L = (pot[None, :] - C) / reg
        L = L - xp.max(L, axis=1, keepdims=True)
        W = xp.exp(L)
        W = W / xp.sum(W, axis=1, keepdims=True)
        blocks.append(W @ Y)
    return xp.astype(xp.concat(blocks, axis=0), out_dtype)


def _nearest_shift_xp(X, X_fit, mapped, out_dtype, xp):
    """:func:`_nearest_shift` for arrays of a non-NumPy namespace."""
    blocks = []
    for s in range(0, X.shape[0], _BLOCK):
        Xb = X[s:min(s + _BLOCK, X.shape[0]), :]
        k = xp.argmin(cost_matrix(Xb, X_fit, "sqeuclidean"), axis=1)
        blocks.append(xp.take(mapped, k, axis=0) + Xb - xp.take(X_fit, k, axis=0))
    return xp.astype(xp.concat(blocks, axis=0), out_dtype)


def _masks(labels):
    """One-hot masks of ``labels`` over their sorted unique values (POT's convention)."""
    _, idx = np.unique(np.asarray(labels), return_inverse=True)
    return np.eye(int(idx.max()) + 1)[idx.ravel()]


def _masks_like(labels, P, xp):
    """:func:`_masks` as an array next to ``P`` (namespace ``xp``): labels of ``xp``
    are encoded there; host labels on the host, then brought over once."""
    if not is_numpy_namespace(array_namespace(labels)):
        values, idx = xp.unique_inverse(xp.reshape(labels, (-1,)))
        k = xp.arange(values.shape[0], device=device(P))
        return xp.astype(idx[:, None] == k[None, :], P.dtype)
    return asarray_on(_masks(labels), P)


def _carried_labels(P, labels):
    """Soft labels of the rows of a plan ``P`` from the ``labels`` of its columns: each
    row's mass per class (rows normalised to 1), classes in sorted order."""
    xp = array_namespace(P)
    if not is_numpy_namespace(xp):
        return (P / xp.sum(P, axis=1, keepdims=True)) @ _masks_like(labels, P, xp)
    return (P / P.sum(axis=1, keepdims=True)) @ _masks(labels)


def _weights(w, X, name):
    try:
        w = _check_sample_weight(w, X, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"SinkhornTransport: {name}: {exc}") from exc
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"SinkhornTransport: {name} must be non-negative with a positive "
                         "sum.")
    return w


def _follow(v, X, xp):
    """``v`` (weights, labels) next to ``X``: host data is brought over once, arrays of
    another library or device are moved (scikit-learn's "everything follows X")."""
    try:
        v_xp = array_namespace(v)
    except TypeError:
        v_xp = None
    if v_xp is not None and is_numpy_namespace(v_xp):
        v = np.asarray(v)
        if v.dtype.kind not in "biuf":
            raise TypeError(f"SinkhornTransport: weights and labels must be numeric for "
                            f"{namespace_name(xp)} arrays; got dtype {v.dtype}.")
        return asarray_on(v.astype(np.float64), X, dtype=xp.float64)
    if v_xp is not xp or device(v) != device(X):
        try:
            from sklearn.utils._array_api import move_to
        except ImportError:  # scikit-learn < 1.8
            raise TypeError(f"SinkhornTransport: weights and labels must be arrays of the "
                            f"library and device of X ({namespace_name(xp)}).") from None
        v = move_to(v, xp=xp, device=device(X))
    return v


def _weights_xp(w, X, name, xp):
    """:func:`_weights` for samples ``X`` of a non-NumPy namespace: float64 weights there."""
    n = X.shape[0]
    if w is None:
        return xp.ones(n, dtype=xp.float64, device=device(X))
    w = xp.astype(xp.reshape(_follow(w, X, xp), (-1,)), xp.float64)
    if w.shape[0] != n:
        raise ValueError(f"SinkhornTransport: {name}: sample_weight.shape == "
                         f"{tuple(w.shape)}, expected ({n},)!")
    if not bool(xp.all(xp.isfinite(w))):
        raise ValueError(f"SinkhornTransport: {name} contains NaN or infinity.")
    if bool(xp.any(w < 0)) or not float(xp.sum(w)) > 0:
        raise ValueError(f"SinkhornTransport: {name} must be non-negative with a positive "
                         "sum.")
    return w


def _same_namespace(X, est, method):
    """Under ``array_api_dispatch``: a ValueError when ``X`` is not of the namespace and
    device the estimator was fitted on (scikit-learn's check, where it has one; else the
    namespace path's own TypeError)."""
    check_fitted_namespace(X, est, "coupling_", method)


class SinkhornTransport(SparsoptEstimatorMixin, OneToOneFeatureMixin, TransformerMixin,
                        BaseEstimator):
    """Map source samples onto a target domain with an entropic transport plan.

    ``fit(Xs, Xt=Xt)`` solves entropic optimal transport between the two empirical
    distributions (weights ``sample_weight`` and ``target_weight``, or
    ``distribution_estimation``, uniform by default) for the ground cost ``cost_``;
    ``transform(Xs)`` moves samples to the target domain by the entropic map
    ``T(x) = sum_j w_j(x) Xt_j`` with ``w_j(x) ∝ exp((g_j - c(x, Xt_j)) / reg_e)``. On the
    fitted source samples this is the barycentric projection ``(P Xt) / (P 1)`` of the
    plan; it also extends to new samples without refitting. ``inverse_transform`` maps
    target-domain samples back with the source potential ``f``. The parameters, the
    keywords of ``fit``, ``transform`` and ``inverse_transform`` and the attributes
    ``coupling_``, ``cost_``, ``log_`` follow POT's ``ot.da.SinkhornTransport``.

    Parameters
    ----------
    reg_e : float, default=1.0
        Entropic regularisation, in the units of the (normalised, see ``norm``) cost.
        Small values give a sharper (closer to unregularised) transport;
        :func:`~sparsopt.ot.sinkhorn_newton_sparse` keeps them cheap.
    solver : {"sns", "sinkhorn"}, default="sns"
        Sinkhorn-Newton-Sparse or log-domain Sinkhorn (POT's ``method="sinkhorn_log"``).
    max_iter : int or None, default=None
        Solver iteration cap (``None``: 50 Newton steps for SNS, 1000 sweeps for
        Sinkhorn).
    tol : float, default=1e-9
        L1 marginal error of the plan at which the solver stops.
    verbose : int, default=0
        1: a progress bar over the solver's checks (tqdm when installed, plain lines
        otherwise) showing the marginal error; 2: also the solver's own lines.
    log : bool, default=False
        Accepted for POT compatibility: ``log_`` is always filled.
    metric : str, default="sqeuclidean"
        Ground cost (see :func:`~sparsopt.ot.cost_matrix`).
    norm : {"max", "median", "log", "loglog"} or None, default=None
        Normalisation of the cost matrix, as POT: divide it by its maximum (or median)
        so that ``reg_e`` is scale-free, or take ``log(1 + C)`` (``"log"``) or
        ``log(1 + log(1 + C))`` (``"loglog"``). New samples in ``transform`` get the same
        normalisation (the fitted factor).
    distribution_estimation : callable or None, default=None
        ``distribution_estimation(X)`` returns the (non-negative) weights of the samples
        of ``X``, used for the source and target weights not given to ``fit``; ``None``
        means uniform weights (POT's ``distribution_estimation_uniform``).
    out_of_sample_map : {"continuous", "ferradans"}, default="continuous"
        How ``transform`` and ``inverse_transform`` map samples: the entropic map above
        (``"continuous"``), or the barycentric projection of the fitted samples, moved
        to a new sample from its nearest fitted sample (``"ferradans"``: ``T(x) =
        T(x_k) + x - x_k``).
    limit_max : float, default=np.inf
        Semi-supervised mode (when ``fit`` gets the source labels ``ys`` and the target
        labels ``yt``, ``-1`` marking unlabelled samples): the cost between labelled
        samples of different classes is raised to ``limit_max * max(cost)``; an
        infinite ``limit_max`` (default) uses ``max(cost) + 100 * reg_e`` instead of
        POT's infinite cost (the solvers need finite costs), which weighs those pairs by
        about ``e^-100``.

    Attributes
    ----------
    coupling_ : ndarray of shape (n_source, n_target)
        Transport plan (total mass 1).
    cost_ : ndarray of shape (n_source, n_target)
        The ground cost the plan was solved for (normalised, and with the label
        correction of ``limit_max`` when labels were given).
    log_ : dict
        POT's log: ``"niter"`` (solver iterations), ``"err"`` (marginal error at each
        check), ``"log_u"`` and ``"log_v"`` (the log-scalings ``f / reg_e`` and
        ``g / reg_e``: the plan is ``exp(log_u_i - cost_ij / reg_e + log_v_j)``; POT's
        may differ by a constant moved from one to the other), ``"u"``, ``"v"`` (their
        exponentials).
    xs_ : ndarray of shape (n_source, n_features)
        Fitted source samples.
    xt_ : ndarray of shape (n_target, n_features)
        Target samples (the source samples themselves when ``Xt`` was not given).
    mu_s_ : ndarray of shape (n_source,)
        Source weights (mass 1); POT's ``mu_s``.
    mu_t_ : ndarray of shape (n_target,)
        Target weights (mass 1); POT's ``mu_t``.
    f_ : ndarray of shape (n_source,)
        Source potential (``-inf`` where the weight is zero).
    g_ : ndarray of shape (n_target,)
        Target potential.
    cost_scale_ : float
        Factor the ground cost was divided by (1 for ``norm`` None, "log" or "loglog";
        POT's ``norm_cost_``).
    transport_cost_ : float
        ``<cost_, P>``.
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
    samples. POT's keyword calls work too: ``fit(Xs=Xs, ys=ys, Xt=Xt, yt=yt)``,
    ``transform(Xs=X)``, ``fit_transform(Xs=Xs, Xt=Xt)``, ``inverse_transform(Xt=X)``.
    Without ``Xt`` the samples are transported onto themselves (an entropic
    smoothing), which is mostly useful for testing. The cost matrix and plan are dense:
    memory grows as ``n_source * n_target``.

    Under ``sklearn.config_context(array_api_dispatch=True)`` the estimator accepts
    arrays of another array-API library (CuPy on a GPU, ...): the solve, ``transform``,
    ``inverse_transform`` and the label transfers run in that namespace, and the fitted
    arrays (``coupling_``, ``cost_``, ``f_``, ``g_``, ...) are arrays of that library.
    There ``metric`` must be ``"sqeuclidean"`` or ``"euclidean"`` and ``norm`` must not
    be ``"median"`` (they run on the host through SciPy/NumPy: a TypeError says so),
    and labels must be numeric.

    References
    ----------
    .. [1] N. Courty, R. Flamary, D. Tuia and A. Rakotomamonjy, "Optimal transport for
       domain adaptation", IEEE TPAMI 39(9), 2017.
    .. [2] A.-A. Pooladian and J. Niles-Weed, "Entropic estimation of optimal transport
       maps", arXiv:2109.12004, 2021.
    .. [3] X. Tang et al., "Accelerating Sinkhorn algorithm with sparse Newton
       iterations", ICLR 2024.
    .. [4] S. Ferradans, N. Papadakis, G. Peyré and J.-F. Aujol, "Regularized discrete
       optimal transport", SIAM J. Imaging Sci. 7(3), 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import SinkhornTransport
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.normal(size=(100, 2))
    >>> Xt = Xs + np.array([5.0, 0.0])
    >>> est = SinkhornTransport(reg_e=1e-3, norm="max").fit(Xs=Xs, Xt=Xt)
    >>> bool(np.abs(est.transform(Xs=Xs) - Xt).mean() < 0.05)
    True
    """

    _parameter_constraints = {
        "reg_e": [Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"sns", "sinkhorn"})],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "log": ["boolean"],
        "metric": [StrOptions(_METRICS)],
        "norm": [StrOptions({"max", "median", "log", "loglog"}), None],
        "distribution_estimation": [callable, None],
        "out_of_sample_map": [StrOptions({"continuous", "ferradans"})],
        "limit_max": [Interval(Real, 0, None, closed="right")],
    }

    def __init__(self, reg_e=1.0, *, solver="sns", max_iter=None, tol=1e-9, verbose=0,
                 log=False, metric="sqeuclidean", norm=None, distribution_estimation=None,
                 out_of_sample_map="continuous", limit_max=np.inf):
        self.reg_e = reg_e
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.log = log
        self.metric = metric
        self.norm = norm
        self.distribution_estimation = distribution_estimation
        self.out_of_sample_map = out_of_sample_map
        self.limit_max = limit_max

    def _sample_weights(self, w, X, name):
        xp = array_namespace(X)
        if not is_numpy_namespace(xp):
            if w is None and self.distribution_estimation is not None:
                w = self.distribution_estimation(X)
            return _weights_xp(w, X, name, xp)
        if w is None and self.distribution_estimation is not None:
            w = np.asarray(self.distribution_estimation(X), dtype=np.float64).reshape(-1)
        return _weights(w, X, name)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, Xs=None, y=None, *, Xt=None, ys=None, yt=None, sample_weight=None,
            target_weight=None):
        """Solve the transport problem from the samples ``Xs`` to ``Xt``.

        Parameters
        ----------
        Xs : array-like of shape (n_source, n_features)
            Source samples.
        y : array-like of shape (n_source,) or None, default=None
            Source labels (what a pipeline passes); only used with ``yt`` (see
            ``limit_max``).
        Xt : array-like of shape (n_target, n_features) or None, default=None
            Target samples; ``None`` transports ``Xs`` onto itself.
        ys : array-like of shape (n_source,) or None, default=None
            POT's spelling of ``y`` (give one of the two).
        yt : array-like of shape (n_target,) or None, default=None
            Target labels, ``-1`` for unlabelled samples (POT's semi-supervised mode,
            with ``ys`` and ``limit_max``).
        sample_weight : array-like of shape (n_source,) or None, default=None
            Source weights (non-negative; normalised to mass 1).
        target_weight : array-like of shape (n_target,) or None, default=None
            Target weights; when ``Xt`` is None they default to ``sample_weight``.

        Returns
        -------
        self : SinkhornTransport
            Fitted estimator.
        """
        if Xs is None:
            raise TypeError("SinkhornTransport.fit needs the source samples Xs.")
        if y is not None and ys is not None:
            raise TypeError("SinkhornTransport.fit: give the source labels as y or as ys "
                            "(POT's spelling), not both.")
        ys = y if ys is None else ys
        X = self._validate_input(Xs)
        xp = array_namespace(X)
        on_host = is_numpy_namespace(xp)
        if not on_host:
            self._check_namespace_options(xp)
        a = self._sample_weights(sample_weight, X, "sample_weight")
        if Xt is None:
            Xt_ = X
            if target_weight is None:
                b = a
            elif on_host:
                b = _weights(target_weight, X, "target_weight")
            else:
                b = _weights_xp(target_weight, X, "target_weight", xp)
        else:
            Xt_ = self._validate_input(Xt, reset=False)
            b = self._sample_weights(target_weight, Xt_, "target_weight")
        if on_host:
            a = a / a.sum()
            b = b / b.sum()
            xs = np.asarray(X, dtype=np.float64)
            xt = np.asarray(Xt_, dtype=np.float64)
        else:
            a = a / xp.sum(a)
            b = b / xp.sum(b)
            xs = xp.astype(X, xp.float64)
            xt = xp.astype(Xt_, xp.float64)
        C = cost_matrix(xs, xt, self.metric)
        scale = cost_scale(C, self.norm) if self.norm in ("max", "median") else 1.0
        C = _normalize(C, self.norm, scale)
        if ys is not None and yt is not None:
            C = self._label_cost(C, ys, yt, xs.shape[0], xt.shape[0])
        verbose = resolve_verbose(self.verbose)
        kwargs = dict(tol=self.tol, verbose=int(verbose >= 2))
        if self.max_iter is not None:
            kwargs["max_iter"] = self.max_iter
        solve = sinkhorn_newton_sparse if self.solver == "sns" else sinkhorn
        errors = []

        with progress(None, type(self).__name__, verbose) as bar:
            def callback(state):
                errors.append(float(state.info["marginal_error"]))
                if verbose:
                    bar.update(1, stage=state.info["stage"], err=errors[-1])

            res = solve(a, b, C, self.reg_e, callback=callback, **kwargs)
        self.coupling_ = res.plan
        self.cost_ = C
        self.xs_ = xs
        self.xt_ = xt
        self.mu_s_ = a
        self.mu_t_ = b
        self.f_ = res.f
        self.g_ = res.g
        self.cost_scale_ = scale
        self.transport_cost_ = float(res.cost)
        self.marginal_error_ = float(res.marginal_error)
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        errors.append(self.marginal_error_)
        log_u, log_v = res.f / self.reg_e, res.g / self.reg_e
        self.log_ = {"niter": self.n_iter_, "err": errors, "log_u": log_u, "log_v": log_v,
                     "u": xp.exp(log_u), "v": xp.exp(log_v)}
        return self

    def _check_namespace_options(self, xp):
        """The options that run on the host only, refused for arrays of ``xp``."""
        if self.metric not in ("sqeuclidean", "euclidean"):
            raise host_only_error(f"SinkhornTransport: metric={self.metric!r}", xp,
                                  reason="SciPy's cdist",
                                  alternative="use metric='sqeuclidean' or 'euclidean'")
        if self.norm == "median":
            raise host_only_error("SinkhornTransport: norm='median'", xp,
                                  alternative="use norm='max'")

    def _label_cost(self, C, ys, yt, n_s, n_t):
        xp = array_namespace(C)
        if not is_numpy_namespace(xp):
            return self._label_cost_xp(C, ys, yt, n_s, n_t, xp)
        ys = np.asarray(ys).reshape(-1)
        yt = np.asarray(yt).reshape(-1)
        if ys.shape[0] != n_s or yt.shape[0] != n_t:
            raise ValueError(f"SinkhornTransport: ys and yt must have {n_s} and {n_t} "
                             f"labels, got {ys.shape[0]} and {yt.shape[0]}.")
        top = float(C.max())
        if np.isfinite(self.limit_max):
            limit = self.limit_max * top
        else:
            limit = top + 100.0 * self.reg_e
        wrong = (ys[:, None] != -1) & (yt[None, :] != -1) & (ys[:, None] != yt[None, :])
        return np.where(wrong, np.maximum(C, limit), C)

    def _label_cost_xp(self, C, ys, yt, n_s, n_t, xp):
        def labels(y):
            return xp.reshape(_follow(y, C, xp), (-1,))

        ys, yt = labels(ys), labels(yt)
        if ys.shape[0] != n_s or yt.shape[0] != n_t:
            raise ValueError(f"SinkhornTransport: ys and yt must have {n_s} and {n_t} "
                             f"labels, got {ys.shape[0]} and {yt.shape[0]}.")
        top = float(xp.max(C))
        limit = self.limit_max * top if np.isfinite(self.limit_max) else top + 100 * self.reg_e
        wrong = (ys[:, None] != -1) & (yt[None, :] != -1) & (ys[:, None] != yt[None, :])
        return xp.where(wrong, xp.clip(C, min=limit), C)

    def transform(self, Xs):
        """Move samples to the target domain (``out_of_sample_map``).

        Parameters
        ----------
        Xs : array-like of shape (n_samples, n_features)
            Source-domain samples (the fitted ones or new ones); POT's keyword call
            ``transform(Xs=X)`` works too.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Transported samples, in the dtype of ``Xs``.
        """
        check_is_fitted(self)
        _same_namespace(Xs, self, "transform")
        X = self._validate_input(Xs, reset=False)
        return self._map(X, self.xs_, self.xt_, self.g_, self.coupling_)

    def inverse_transform(self, Xt):
        """Move target-domain samples back to the source domain (``out_of_sample_map``).

        Parameters
        ----------
        Xt : array-like of shape (n_samples, n_features)
            Target-domain samples.

        Returns
        -------
        X_source : ndarray of shape (n_samples, n_features)
            Samples mapped onto the source domain, in the dtype of ``Xt``.
        """
        check_is_fitted(self)
        _same_namespace(Xt, self, "inverse_transform")
        X = self._validate_input(Xt, reset=False)
        return self._map(X, self.xt_, self.xs_, self.f_, self.coupling_.T)

    def transform_labels(self, ys):
        """Soft target labels: the source labels carried by the plan (POT's method).

        Parameters
        ----------
        ys : array-like of shape (n_source,)
            Labels of the fitted source samples.

        Returns
        -------
        proba : ndarray of shape (n_target, n_classes)
            For each target sample, the plan's mass from each class (columns of the
            plan normalised to 1), classes in sorted order.
        """
        check_is_fitted(self)
        return _carried_labels(self.coupling_.T, ys)

    def inverse_transform_labels(self, yt):
        """Soft source labels: the target labels carried back by the plan (POT's method).

        Parameters
        ----------
        yt : array-like of shape (n_target,)
            Labels of the fitted target samples.

        Returns
        -------
        proba : ndarray of shape (n_source, n_classes)
            For each source sample, the plan's mass to each class (rows of the plan
            normalised to 1), classes in sorted order.
        """
        check_is_fitted(self)
        return _carried_labels(self.coupling_, yt)

    def _map(self, X, X_fit, Y, pot, P):
        xp = array_namespace(X)
        if not is_numpy_namespace(xp):
            return self._map_xp(X, X_fit, Y, pot, P, xp)
        Xf = np.asarray(X, dtype=np.float64)
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # exp(-inf) for zero weights
            if self.out_of_sample_map == "continuous":
                return _entropic_map(Xf, Y, pot, self.reg_e, self.cost_scale_, self.metric,
                                     self.norm, X.dtype)
            mapped = np.nan_to_num((P @ Y) / P.sum(axis=1, keepdims=True), nan=0.0,
                                   posinf=0.0, neginf=0.0)
            if Xf.shape == X_fit.shape and np.array_equal(Xf, X_fit):
                return mapped.astype(X.dtype, copy=False)
            return _nearest_shift(Xf, X_fit, mapped, X.dtype)

    def _map_xp(self, X, X_fit, Y, pot, P, xp):
        if array_namespace(X_fit) is not xp:
            raise TypeError(f"SinkhornTransport was fitted on {type(X_fit).__module__} "
                            f"arrays; transform got {namespace_name(xp)} arrays. Transform "
                            "arrays of the library it was fitted on.")
        Xf = xp.astype(X, xp.float64)
        # np.errstate quiets NumPy-backed namespaces (exp(-inf) for zero weights)
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.out_of_sample_map == "continuous":
                return _entropic_map_xp(Xf, Y, pot, self.reg_e, self.cost_scale_,
                                        self.metric, self.norm, X.dtype, xp)
            mapped = (P @ Y) / xp.sum(P, axis=1, keepdims=True)
            mapped = xp.where(xp.isfinite(mapped), mapped, xp.zeros_like(mapped))
            if Xf.shape == X_fit.shape and bool(xp.all(Xf == X_fit)):
                return xp.astype(mapped, X.dtype)
            return _nearest_shift_xp(Xf, X_fit, mapped, X.dtype, xp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # fit / transform / inverse_transform run in the input's namespace (see Notes)
        tags.array_api_support = True
        return tags


def _pot_keyword(method, keyword):
    """Let ``method`` (wrapped by scikit-learn's ``set_output`` machinery, whose wrapper
    takes the samples positionally) also take them as POT's keyword ``keyword=``."""
    inner = getattr(SinkhornTransport, method)

    @functools.wraps(inner)
    def call(self, *args, **kwargs):
        if keyword in kwargs:
            if args:
                raise TypeError(f"SinkhornTransport.{method}: the samples were given twice "
                                f"(positionally and as {keyword}=).")
            args = (kwargs.pop(keyword),)
        return inner(self, *args, **kwargs)

    return call


SinkhornTransport.transform = _pot_keyword("transform", "Xs")
SinkhornTransport.fit_transform = _pot_keyword("fit_transform", "Xs")
