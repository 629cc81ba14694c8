"""Sparse logistic regression: binary (:class:`SparseLogisticRegression`) and multinomial
(:class:`MultinomialLogisticRegression`), fitted by proximal Newton with working sets."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..solvers.glm.prox_newton import prox_newton
from ..utils.estimator import SparsoptEstimatorMixin, penalty_constraint

__all__ = ["MultinomialLogisticRegression", "SparseLogisticRegression"]

_COMMON = {
    "alpha": [Interval(Real, 0, None, closed="left")],
    "fit_intercept": ["boolean"],
    "positive": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "max_pn_iter": [Interval(Integral, 1, None, closed="left")],
    "p0": [Interval(Integral, 1, None, closed="left")],
    "ws_strategy": [StrOptions({"subdiff", "fixpoint"})],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
    "class_weight": [dict, StrOptions({"balanced"}), None],
}


def _fold_class_weight(class_weight, classes, y, yi, sample_weight):
    """scikit-learn's ``class_weight`` folded into the sample weights: each sample's weight
    is multiplied by the weight of its class (``"balanced"``: ``n_samples / (n_classes *
    weighted class count)``, computed with the sample weights, as scikit-learn does)."""
    if class_weight is None:
        return sample_weight
    sw = np.ones(yi.shape[0]) if sample_weight is None else sample_weight
    k = len(classes)
    if isinstance(class_weight, str):  # "balanced" (the only string the constraints allow)
        counts = np.bincount(yi, weights=sw, minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            cw = counts.sum() / (k * counts)
    else:
        known = {c: float(class_weight[c]) for c in classes if c in class_weight}
        missing = [c for c in classes if c not in known]
        if missing and len(known) != len(class_weight):  # scikit-learn's rule
            raise ValueError(f"class_weight: the classes {missing} are not in class_weight "
                             "(its other keys are not classes of y).")
        cw = np.array([known.get(c, 1.0) for c in classes], dtype=np.float64)
    # a class whose samples all weigh 0 has an infinite "balanced" weight: they stay at 0
    # (0 * inf is NaN, masked out here)
    with np.errstate(invalid="ignore"):
        return np.where(sw > 0, sw * cw[yi], 0.0)


class _SparseLogisticBase(SparsoptEstimatorMixin, LinearClassifierMixin, BaseEstimator):
    """Shared fit logic; subclasses set ``_multi`` and the penalty."""

    _multi = False

    def _penalty(self, n_classes):
        """The penalty object: ``self.penalty`` (name or object) with ``alpha``, under
        ``positive`` (scikit-learn's spelling of the constraint ``+ Positive()``)."""
        pen = self.penalty
        if isinstance(pen, str) and pen == "group":
            from ..penalties import GroupL21

            # the row-wise l2 norm over the classes: one group of all the classes
            pen = GroupL21(alpha=self.alpha, groups=n_classes, weights=[1.0])
        return self._make_penalty(penalty=pen)

    def _encode(self, y):
        check_classification_targets(y)
        le = LabelEncoder()
        yi = le.fit_transform(y)
        classes = le.classes_
        name = type(self).__name__
        if classes.size < 2:
            raise ValueError(
                f"{name} needs samples of at least 2 classes in y; got 1 class "
                f"({classes[0]!r}).")
        return yi, classes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 stays float32 in the fitted attributes; the solver
            computes in float64). Sparse matrices are used in CSC format.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: the loss is the weighted mean over samples.

        Returns
        -------
        self : object
        """
        X, y = self._validate_input(X, y, accept_sparse="csc", y_numeric=False)
        yi, classes = self._encode(y)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        sw = _fold_class_weight(self.class_weight, classes, y, yi, sw)
        K = classes.size
        # the softmax model for MultinomialLogisticRegression, and for more than two
        # classes in SparseLogisticRegression (scikit-learn >= 1.5 is multinomial too)
        multi = self._multi or K > 2
        init = None
        if self.warm_start and hasattr(self, "coef_"):
            shape = (K if multi else 1, X.shape[1])
            if self.coef_.shape == shape and np.array_equal(self.classes_, classes):
                coef = np.asarray(self.coef_, dtype=np.float64).T
                coef = coef if multi else coef[:, 0]
                intercept = np.asarray(self.intercept_, dtype=np.float64)
                intercept = intercept if multi else float(intercept[0])
                init = (coef, intercept if self.fit_intercept else None)
        target = yi if multi else np.where(yi == 1, 1.0, -1.0)
        res = prox_newton(
            X, target, penalty=self._penalty(K), loss="multinomial" if multi else "logistic",
            n_classes=K if multi else None,
            fit_intercept=self.fit_intercept, sample_weight=sw, init=init, tol=self.tol,
            max_iter=self.max_iter, max_pn_iter=self.max_pn_iter, p0=self.p0,
            ws_strategy=self.ws_strategy, verbose=self.verbose)
        dtype = X.dtype
        W = np.asarray(res.x)
        self.classes_ = classes
        self.coef_ = (W.T if multi else W[None, :]).astype(dtype)
        self.intercept_ = np.atleast_1d(np.asarray(res.info["intercept"])).astype(dtype)
        self.kkt_violation_ = float(res.stop_crit)
        gap = res.info["dual_gap"]
        self.dual_gap_ = None if gap is None else float(gap)
        self.objective_ = float(res.info["objective"])
        self._store_result(res)
        # scikit-learn's LogisticRegression: an int32 array of shape (1,)
        self.n_iter_ = np.array([res.n_iter], dtype=np.int32)
        return self

    def predict_proba(self, X):
        """Class probabilities: ``[1 - sigmoid(f), sigmoid(f)]`` for a binary model, the
        softmax of the class scores otherwise (``f`` the decision function).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        Z = LinearClassifierMixin.decision_function(self, X)
        if Z.ndim == 1:  # binary: log sigmoid of -f and f, computed stably
            return -np.logaddexp(0, np.column_stack([Z, -Z]))
        return log_softmax(Z, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = True
        # non-negative coefficients cannot fit a class that decreases with a feature
        tags.classifier_tags.poor_score = bool(self.positive)
        return tags


class SparseLogisticRegression(_SparseLogisticBase):
    """Logistic regression with a sparse penalty, by proximal Newton with working sets.

    For two classes, minimises the mean logistic loss plus a penalty, l1 by default
    (skglm's scaling)::

        1/n sum_i log(1 + exp(-y_i (x_i^T w + b))) + alpha * ||w||_1

    with ``y_i`` in {-1, +1} (the second class of ``classes_`` is +1). For more than two
    classes the model is **multinomial** (softmax), as scikit-learn's
    ``LogisticRegression`` since 1.5 (no one-vs-rest): the objective and the solver are
    those of :class:`MultinomialLogisticRegression` (the penalty on every entry of the
    ``(n_classes, n_features)`` coefficients). ``penalty`` takes any
    separable penalty (MCP, SCAD, elastic net...). With
    ``sample_weight`` the mean is weighted: ``sum_i s_i loss_i / sum_i s_i``. This is
    scikit-learn's ``LogisticRegression(penalty="l1", C=C)`` (``l1_ratio=1`` from
    scikit-learn 1.8 on), whose objective is ``C sum_i loss_i + ||w||_1``, for
    ``C = 1 / (n_samples * alpha)``; compare without intercept with ``solver="liblinear"``,
    which penalises the intercept, or use ``solver="saga"``. celer's
    ``LogisticRegression(C)`` converts likewise, skglm's ``SparseLogisticRegression(alpha)``
    is the same objective.

    The solver (:func:`sparsopt.solvers.glm.prox_newton.prox_newton`) grows a working set
    from the greedy GS-s scores (distance of the gradient to the subdifferential), takes
    proximal Newton steps on it (weighted coordinate descent on the quadratic model in a
    compiled kernel, backtracking line search), and stops when the largest KKT violation
    over all features is at most ``tol``.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength (``>= 0``). For the l1 penalty the coefficients are all zero for
        ``alpha >= ||X^T r||_inf``, ``r`` the gradient of the intercept-only model (see
        :func:`sparsopt.solvers.glm.prox_newton.logistic_alpha_max`).
    penalty : str or Penalty, default="l1"
        A penalty name of :func:`sparsopt.penalties.get_penalty` (built with ``alpha``) or
        a separable penalty object (``L1``, ``ElasticNet``, ``MCP``, ``SCAD``, ``Log``,
        ``L0``, ``Lq``, ``CEL0``; its own ``alpha`` then applies). With a non-convex
        penalty the fit is a stationary point and ``dual_gap_`` is None.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (the intercept stays free): the
        penalty becomes ``penalty + Positive()``. The KKT criterion and the working-set
        scores then use the constrained subdifferential: for l1 a zero coefficient is
        optimal when its gradient is ``>= -alpha``.
    tol : float, default=1e-4
        Tolerance on the largest KKT violation (skglm's criterion).
    max_iter : int, default=50
        Maximum number of outer (working-set) iterations.
    max_pn_iter : int, default=50
        Maximum number of Newton steps per working set.
    p0 : int, default=10
        Smallest working-set size.
    ws_strategy : {"subdiff", "fixpoint"}, default="subdiff"
        Greedy score ranking candidate features: distance of the gradient to the
        subdifferential (GS-s) or curvature-scaled proximal step length (GS-r).
    warm_start : bool, default=False
        Start from the previous solution when the classes and shapes match.
    verbose : int, default=0
        Print one line per outer iteration.
    class_weight : dict, "balanced" or None, default=None
        scikit-learn's class weights, folded into the sample weights: each sample's
        weight is multiplied by its class's weight (``"balanced"``: ``n_samples /
        (n_classes * count)``, the counts weighted by ``sample_weight``). The datafit being
        the weighted *mean*, only the ratios of the weights matter (see Notes).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One row for two classes (the +1 class is ``classes_[1]``), one row per class
        otherwise, as scikit-learn.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : ndarray of shape (1,)
        Outer (working-set) iterations, an int32 array as scikit-learn's
        ``LogisticRegression``.
    converged_ : bool
    kkt_violation_ : float
        Final largest KKT violation (the stopping criterion).
    dual_gap_ : float or None
        Duality gap of the final coefficients for the problem in ``coef_`` with the
        intercept held fixed at ``intercept_`` (with ``fit_intercept=False``: the whole
        problem): the objective minus the Fenchel dual objective at the dual point built
        from the loss gradient at the fitted margins, rescaled to be dual feasible. It is
        ``>= 0`` up to rounding, bounds ``objective_`` minus the optimum of that problem,
        and tends to 0 as ``tol`` does; ``kkt_violation_`` remains the stopping criterion.
        None for the non-convex penalties.
    objective_ : float
        Final objective value.
    objective_history_ : ndarray
        Objective after each outer iteration.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    Notes
    -----
    scikit-learn's objective is ``C sum_i s_i loss_i + pen(w)``; this one is ``sum_i s_i
    loss_i / sum_i s_i + alpha pen(w)``: the same minimiser for ``alpha = 1 / (C sum_i
    s_i)``, i.e. ``1 / (C n_samples)`` without weights and with
    ``class_weight="balanced"`` (whose weights sum to ``n_samples``).

    See Also
    --------
    MultinomialLogisticRegression : the softmax model for any number of classes, l1 or
        group penalty.
    sklearn.linear_model.LogisticRegression : with ``l1_ratio=1`` and ``C = 1 / (n alpha)``.

    References
    ----------
    .. [1] J. D. Lee, Y. Sun and M. A. Saunders, "Proximal Newton-type methods for
       minimizing composite functions", SIAM J. Optim. 24(3), 2014.
    .. [2] M. Massias, S. Vaiter, A. Gramfort and J. Salmon, "Dual extrapolation for
       sparse generalized linear models", JMLR 21(234), 2020.
    .. [3] Q. Bertrand et al., "Beyond L1: faster and better sparse models with skglm",
       NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import SparseLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10))
    >>> y = np.where(X[:, 0] - X[:, 3] > 0, "yes", "no")
    >>> clf = SparseLogisticRegression(alpha=0.05).fit(X, y)
    >>> np.flatnonzero(clf.coef_).tolist(), clf.score(X, y) > 0.9
    ([0, 3], True)
    >>> bool(0 <= clf.dual_gap_ < 1e-4)
    True
    >>> pos = SparseLogisticRegression(alpha=0.05, positive=True).fit(X, y)
    >>> bool(pos.coef_.min() >= 0), float(pos.coef_[0, 3])  # feature 3 has a negative effect
    (True, 0.0)
    >>> noisy = np.where(X[:, 0] - X[:, 3] + rng.standard_normal(100) > 0, "yes", "no")
    >>> mcp = SparseLogisticRegression(alpha=0.05, penalty="mcp").fit(X, noisy)
    >>> np.flatnonzero(mcp.coef_).tolist(), mcp.dual_gap_ is None
    ([0, 3], True)

    With a non-convex penalty (MCP, SCAD, l0...) the fit is a stationary point; on
    separable classes such penalties, which do not shrink large coefficients, have no
    minimiser (the coefficients grow until ``max_iter``), so use them on noisy classes.
    """

    _parameter_constraints = {**_COMMON, "penalty": penalty_constraint()}

    def __init__(self, alpha=1.0, *, penalty="l1", fit_intercept=True, positive=False, tol=1e-4,
                 max_iter=50, max_pn_iter=50, p0=10, ws_strategy="subdiff", warm_start=False,
                 verbose=0, class_weight=None):
        self.class_weight = class_weight
        self.alpha = alpha
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.tol = tol
        self.max_iter = max_iter
        self.max_pn_iter = max_pn_iter
        self.p0 = p0
        self.ws_strategy = ws_strategy
        self.warm_start = warm_start
        self.verbose = verbose

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"alpha": 1e-3, "tol": 1e-8}


class MultinomialLogisticRegression(_SparseLogisticBase):
    """Multinomial (softmax) logistic regression with an l1 or group-l1 penalty.

    Minimises the mean multinomial loss plus a sparsity penalty on the coefficients
    ``W = coef_.T`` of shape ``(n_features, n_classes)``::

        1/n sum_i (logsumexp(W^T x_i + b) - (W^T x_i + b)_{y_i}) + alpha * pen(W)

    with ``pen(W) = sum_jk |W_jk|`` (``penalty="l1"``) or ``pen(W) = sum_j ||W_j||_2``
    (``penalty="group"``: feature ``j`` is used by all classes or by none). With
    ``sample_weight`` the mean is weighted. scikit-learn's multinomial
    ``LogisticRegression(penalty="l1", solver="saga", C=C)`` is the l1 case with
    ``C = 1 / (n_samples * alpha)``.

    Solved by proximal Newton with working sets of features
    (:func:`sparsopt.solvers.glm.prox_newton.prox_newton`): the quadratic model uses the full
    class-coupled Hessian ``diag(p_i) - p_i p_i^T``; its minimisation is coordinate descent
    on the entries (l1) or block steps on the rows (group).

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength (``>= 0``).
    penalty : str or Penalty, default="l1"
        ``"group"`` (the row-wise l2 norm: ``GroupL21(alpha, groups=n_classes,
        weights=[1.0])``), a penalty name of :func:`sparsopt.penalties.get_penalty` or a
        separable penalty object applied to every entry of ``W`` (see
        :class:`SparseLogisticRegression`).
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per class.
    positive : bool, default=False
        Constrain all the coefficients to be non-negative (the intercepts stay free). With
        ``penalty="group"`` each row step shrinks the row's projection onto the orthant,
        the exact prox of the row norm plus the constraint. Note that, unlike the
        unconstrained model, the constrained one is not invariant to adding a constant to
        every class's coefficients of a feature.
    tol : float, default=1e-4
        Tolerance on the largest KKT violation.
    max_iter : int, default=50
        Maximum number of outer (working-set) iterations.
    max_pn_iter : int, default=50
        Maximum number of Newton steps per working set.
    p0 : int, default=10
        Smallest working-set size (features).
    ws_strategy : {"subdiff", "fixpoint"}, default="subdiff"
        Greedy score ranking candidate features (GS-s or GS-r, see
        :class:`SparseLogisticRegression`).
    warm_start : bool, default=False
        Start from the previous solution when the classes and shapes match.
    verbose : int, default=0
        Print one line per outer iteration.
    class_weight : dict, "balanced" or None, default=None
        scikit-learn's class weights, folded into the sample weights (see
        :class:`SparseLogisticRegression`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        One row per class, also for two classes (unlike scikit-learn's binary
        ``LogisticRegression``, whose one row is the binomial model: use
        :class:`SparseLogisticRegression` for that).
    intercept_ : ndarray of shape (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : ndarray of shape (1,)
        Outer (working-set) iterations, an int32 array as scikit-learn's.
    converged_ : bool
    kkt_violation_ : float
        Final largest KKT violation (the stopping criterion).
    dual_gap_ : float or None
        Duality gap of the final coefficients for the problem in ``coef_`` with the
        intercept held fixed at ``intercept_`` (with ``fit_intercept=False``: the whole
        problem): the objective minus the Fenchel dual objective at the dual point built
        from the loss gradient at the fitted margins, rescaled to be dual feasible. It is
        ``>= 0`` up to rounding, bounds ``objective_`` minus the optimum of that problem,
        and tends to 0 as ``tol`` does; ``kkt_violation_`` remains the stopping criterion.
        None for the non-convex penalties.
    objective_ : float
    objective_history_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    SparseLogisticRegression : the binary model.

    References
    ----------
    .. [1] J. D. Lee, Y. Sun and M. A. Saunders, "Proximal Newton-type methods for
       minimizing composite functions", SIAM J. Optim. 24(3), 2014.
    .. [2] J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for
       generalized linear models via coordinate descent", J. Stat. Softw. 33(1), 2010
       (the multinomial and grouped multinomial lasso).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linear_model import MultinomialLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((150, 10))
    >>> y = np.argmax(X[:, :3], axis=1)
    >>> clf = MultinomialLogisticRegression(alpha=0.05, penalty="group").fit(X, y)
    >>> np.flatnonzero(np.abs(clf.coef_).sum(axis=0)).tolist()
    [0, 1, 2]
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _multi = True
    _parameter_constraints = {**_COMMON,
                              "penalty": [StrOptions({"group"}), *penalty_constraint()]}

    def __init__(self, alpha=1.0, *, penalty="l1", fit_intercept=True, positive=False,
                 tol=1e-4, max_iter=50, max_pn_iter=50, p0=10, ws_strategy="subdiff",
                 warm_start=False, verbose=0, class_weight=None):
        self.class_weight = class_weight
        self.alpha = alpha
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.tol = tol
        self.max_iter = max_iter
        self.max_pn_iter = max_pn_iter
        self.p0 = p0
        self.ws_strategy = ws_strategy
        self.warm_start = warm_start
        self.verbose = verbose

    def _scores(self, X):
        check_is_fitted(self)
        return LinearClassifierMixin.decision_function(self, X)

    def decision_function(self, X):
        """Class scores ``X coef_^T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            For two classes, the difference of the two columns (scikit-learn's
            convention for binary problems: positive means ``classes_[1]``).
        """
        Z = self._scores(X)
        if Z.ndim == 2 and Z.shape[1] == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self._scores(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X):
        """Softmax of the class scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return np.exp(log_softmax(self._scores(X), axis=1))

    def predict_log_proba(self, X):
        """Log-softmax of the class scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._scores(X), axis=1)

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"alpha": 1e-3, "tol": 1e-8}
