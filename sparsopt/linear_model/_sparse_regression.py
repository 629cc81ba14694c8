"""SparseRegression: least squares with any separable penalty (l1, MCP, SCAD, l0, lq, ...) or
the group lasso, on the working-set coordinate descent of
:func:`sparsopt.solvers.working_set_cd`."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ..solvers.glm.working_set_cd import WS_STRATEGIES
from ..utils.estimator import penalty_constraint
from ._lasso import _fit_targets, _GLMBase


class SparseRegression(_GLMBase):
    """Least squares with any separable penalty or the group lasso, by working-set
    coordinate descent.

    Minimises scikit-learn's mean datafit plus the penalty::

        1 / (2 * n_samples) * sum_i s_i (y_i - x_i^T w - b)^2 + pen(w)

    (sample weights ``s`` rescaled to sum to ``n_samples``; ``b`` the intercept) with the
    working-set coordinate descent of :func:`~sparsopt.solvers.working_set_cd`: the support
    plus the features with the largest greedy scores are solved by cyclic proximal coordinate
    descent with Anderson acceleration in a Numba kernel (dense or sparse ``X``), and the
    working set grows until every feature is optimal to ``tol``. ``penalty="l1"`` is
    :class:`Lasso`; the non-convex penalties (MCP, SCAD, l0, lq, log, CEL0) remove the
    Lasso's bias on large coefficients. ``penalty=GroupL21(alpha, groups, weights)`` is the
    group lasso (whole groups in or out), solved by working-set block coordinate descent
    over the groups.

    Parameters
    ----------
    penalty : str or Penalty, default="l1"
        A separable penalty: a name (``"l1"``, ``"elasticnet"``, ``"mcp"``, ``"scad"``,
        ``"log"``, ``"l0"``, ``"l1/2"``, ``"l2/3"``, ``"lq"``, ``"cel0"``; built with
        ``alpha`` and the penalty's default parameters) or an instance such as
        ``MCP(alpha=0.1, gamma=3.0)`` (its own ``alpha`` is used then), or the group lasso
        ``GroupL21(alpha=..., groups=..., weights=...)`` (groups given as a size are laid out
        on the features; features in no group are not penalised). The k-support norm has no
        coordinate or group kernel: use :func:`~sparsopt.solvers.proximal_gradient`.
    alpha : float, default=1.0
        Regularization strength when ``penalty`` is a name (``>= 0``).
    fit_intercept : bool, default=True
        Fit an intercept (the data are centred, implicitly for sparse ``X``).
    positive : bool, default=False
        Force the coefficients to be non-negative (the penalty gets ``+ Positive()``).
    max_iter : int, default=1000
        Budget of coordinate-descent epochs (passes over the working sets).
    tol : float, default=1e-4
        Stopping tolerance: for ``"l1"`` / ``"elasticnet"`` the duality gap must be
        ``<= tol * ||y||^2 / n_samples`` (scikit-learn's criterion); for the other
        penalties the largest optimality violation over the features (the fixed-point
        violation ``|w_j - prox(w_j + g_j / L_j)| L_j`` with ``ws_strategy="gs-r"``, the
        distance to the subdifferential with ``"gs-s"``) must be ``<= tol`` (skglm's); for
        the group lasso the duality gap ``<= tol * ||y||^2 / n_samples`` when every feature
        is in a group of positive weight, else the largest group subdifferential distance
        ``<= tol``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` (ignored when the number of features changed).
        For non-convex penalties the stationary point reached depends on the start.
    init : {None, "l1"}, default=None
        Start of a cold fit: zeros (None), or for MCP and SCAD the Lasso solution with the
        same ``alpha`` (``"l1"``, their convex relaxation; usually a lower stationary point,
        at the cost of one Lasso solve). ``warm_start`` takes precedence when it applies.
    p0 : int, default=10
        Size of the first working set.
    ws_strategy : {"gs-r", "gs-s", "gap"}, default="gs-r"
        Greedy score ranking the features (see :func:`~sparsopt.solvers.working_set_cd`;
        ``"gap"`` for l1 / elastic net only; with ``GroupL21`` the scores rank groups).
    verbose : int, default=0
        Print one line per working-set iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients, in the dtype of ``X`` (float32 stays float32).
    intercept_ : float
        Intercept (0.0 without ``fit_intercept``).
    n_iter_ : int
        Coordinate-descent epochs run.
    converged_ : bool
        Whether the stopping criterion reached ``tol``.
    stop_crit_ : float
        Final value of the stopping criterion (duality gap or optimality violation).
    objective_history_ : ndarray of shape (n_outer,)
        Objective at each working-set iteration.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    Notes
    -----
    Coordinate ``j`` is updated by the prox of the penalty with step ``1 / L_j``,
    ``L_j = ||x_j||^2 / n_samples`` (after centring and weighting). MCP needs ``gamma >
    1 / L_j`` and SCAD ``gamma > 1 + 1 / L_j`` for this prox to be well defined (skglm has
    the same constraint): with standardised columns (``L_j = 1``) any ``gamma > 1`` (MCP)
    or ``> 2`` (SCAD) works; ``fit`` raises a ValueError naming ``gamma`` and the column norm
    otherwise. CEL0's weights are the column norms ``||x_j|| / sqrt(n_samples)``. For
    non-convex penalties the result is a stationary point (a coordinate-wise minimum), not
    necessarily the global minimum. With ``GroupL21`` group ``G`` is updated by the block
    soft threshold with step ``1 / L_G``, ``L_G = ||X_G||_2^2 / n_samples`` (squared spectral
    norm of its columns).

    See Also
    --------
    Lasso : the l1 penalty (with the scikit-learn interface of ``sklearn.linear_model.Lasso``).
    sparsopt.solvers.working_set_cd : the solver function.

    References
    ----------
    .. [1] P. Breheny and J. Huang, "Coordinate descent algorithms for nonconvex penalized
       regression, with applications to biological feature selection", Ann. Appl. Stat.
       5(1), 2011.
    .. [2] J. Fan and R. Li, "Variable selection via nonconcave penalized likelihood and its
       oracle properties", J. Amer. Statist. Assoc. 96(456), 2001.
    .. [3] C.-H. Zhang, "Nearly unbiased variable selection under minimax concave penalty",
       Ann. Statist. 38(2), 2010.
    .. [4] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias, "Beyond L1:
       faster and better sparse models with skglm", NeurIPS 2022.
    .. [5] M. Massias, A. Gramfort and J. Salmon, "Celer: a fast solver for the Lasso with
       dual extrapolation", ICML 2018.
    .. [6] M. Massias, S. Vaiter, A. Gramfort and J. Salmon, "Dual extrapolation for sparse
       generalized linear models", JMLR 21(234), 2020.
    .. [7] M. Yuan and Y. Lin, "Model selection and estimation in regression with grouped
       variables", J. R. Statist. Soc. B 68(1), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import Lasso, SparseRegression
    >>> from sparsopt.penalties import MCP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> y = X @ np.r_[3.0, -2.0, np.zeros(18)] + 0.01 * rng.standard_normal(100)
    >>> mcp = SparseRegression(penalty=MCP(alpha=0.2, gamma=3.0)).fit(X, y)
    >>> lasso = Lasso(alpha=0.2).fit(X, y)
    >>> np.flatnonzero(mcp.coef_).tolist(), np.round(mcp.coef_[:2], 2).tolist()
    ([0, 1], [3.0, -2.0])
    >>> np.round(lasso.coef_[:2], 1).tolist()  # the l1 penalty shrinks them by ~alpha
    [2.8, -1.8]
    >>> from sparsopt.penalties import GroupL21
    >>> group = SparseRegression(penalty=GroupL21(alpha=0.2, groups=2)).fit(X, y)
    >>> np.flatnonzero(group.coef_).tolist()  # the first group, as a whole
    [0, 1]
    """

    _parameter_constraints = {
        "penalty": penalty_constraint(),
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "init": [StrOptions({"l1"}), None],
        "p0": [Interval(Integral, 1, None, closed="left")],
        "ws_strategy": [StrOptions(set(WS_STRATEGIES))],
        "verbose": ["verbose"],
    }

    def __init__(self, penalty="l1", alpha=1.0, *, fit_intercept=True, positive=False,
                 max_iter=1000, tol=1e-4, warm_start=False, init=None, p0=10,
                 ws_strategy="gs-r", verbose=0):
        self.penalty = penalty
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.init = init
        self.p0 = p0
        self.ws_strategy = ws_strategy
        self.verbose = verbose

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

        Raises
        ------
        TypeError
            For a penalty with neither a coordinate nor a group kernel (k-support).
        ValueError
            When the coordinate steps ``1 / L_j`` make the penalty's prox ill-posed (MCP:
            ``gamma <= n_samples / ||x_j||^2`` for some column).
        """
        X, y, sample_weight = self._validate_xy(X, y, sample_weight)
        pen = self._make_penalty()  # positive= becomes + Positive() here
        coef_init = None if self.init is None else (self.init,)  # "l1": the solver's start
        if self.warm_start and getattr(self, "coef_", None) is not None:
            prev = np.asarray(self.coef_)
            if prev.shape == (X.shape[1],):
                coef_init = prev[None, :]
        coef, intercept, _, _, results = _fit_targets(
            type(self).__name__, X, y[:, None], sample_weight, penalty=pen,
            fit_intercept=self.fit_intercept, max_iter=self.max_iter, tol=self.tol,
            p0=self.p0, ws_strategy=self.ws_strategy, coef_init=coef_init,
            verbose=int(self.verbose))
        res = results[0]
        self.coef_ = coef[0]
        self.intercept_ = float(intercept[0]) if self.fit_intercept else 0.0
        self.stop_crit_ = float(res.stop_crit)
        self._store_result(res)
        return self

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"alpha": 0.01, "tol": 1e-10, "max_iter": 20_000}


__all__ = ["SparseRegression"]
