"""The ``SupervisedDictionaryLearning`` classifier/transformer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..._core.progress import fit_progress
from ...utils.estimator import SparsoptEstimatorMixin
from .._encode import sparse_encode
from .learn import supervised_dictionary_learning
from .problem import (
    MODES,
    SOLVERS,
    _check_feature_rank,
    _check_solver_options,
    _split_features,
)


class SupervisedDictionaryLearning(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin,
                                   ClassifierMixin, TransformerMixin, BaseEstimator):
    """Supervised dictionary learning: a dictionary and a classifier fitted jointly.

    Supervised matrix factorization [1]_ [2]_: the atoms must both reconstruct the
    data (weight ``xi``) and carry the directions that predict the label through a
    multinomial logistic model, so that a weak discriminative direction that PCA or
    unsupervised dictionary learning would drop is kept. See
    :func:`supervised_dictionary_learning` for the objective.

    Parameters
    ----------
    n_components : int
        Number of atoms.
    xi : float, default=1.0
        Weight of the reconstruction term ``xi ||X_d - H W^T||_F^2`` against the
        (summed) logistic loss. Relative to the scale of ``X``: standardize ``X``.
    mode : {"filter", "feature"}, default="filter"
        ``"filter"`` (SMF-W): the classifier reads ``X_d @ components_.T``;
        ``"feature"`` (SMF-H): it reads the codes of ``X_d`` against the atoms (needs
        ``n_components <= n_features_dict`` unless ``alpha_code > 0``).
    solver : {"bcd", "lpgd"}, default="bcd"
        Block coordinate descent, or low-rank projected gradient descent on the lifted
        convex problem warm-started from 20 BCD sweeps (no ``alpha_*``/``positive_*``).
    aux_features : array-like of int or bool, default=None
        Column indices or a boolean mask of ``X`` routed only to the classifier
        (covariates that should not be factorized).
    alpha_code : float, default=0.0
        l1 weight on the codes (training codes and, in feature mode, :meth:`transform`).
    alpha_dict : float, default=0.0
        l1 weight on the atoms.
    l2_reg : float, default=0.0
        Ridge weight of the classifier coefficients (intercept excluded).
    positive_code : bool, default=False
        Non-negative codes.
    positive_dict : bool, default=False
        Non-negative atoms.
    max_iter : int, default=200
        Maximum number of BCD sweeps or LPGD iterations.
    tol : float, default=1e-4
        Tolerance on the relative change of the objective per iteration.
    step_size : "auto" or float, default="auto"
        Multiplier of the ``1/L`` gradient steps (``"auto"``: 1, monotone descent).
    step_decay : float, default=0.0
        Step of iteration ``t`` is ``step_size (t + 10)^(-step_decay) / L``.
    block_scale : "auto" or float, default="auto"
        LPGD's scaling of the classifier block against the reconstruction block in the
        rank-r projection (see :func:`supervised_dictionary_learning`).
    random_state : int, RandomState instance or None, default=None
        Seeds the atoms beyond the rank of the data.
    verbose : int, bool or None, default=None
        Progress of the fit: 1 shows a progress bar (tqdm when installed, plain lines
        otherwise), 2 adds the solver's line per iteration; ``None`` reads
        :func:`sparsopt.get_config`.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features_dict)
        Atoms ``W^T`` over the non-auxiliary features (unit norm or less).
    coef_ : ndarray of shape (n_classes - 1, n_components)
        ``beta``: weights of the projections (filter) or codes (feature); row ``k``
        gives the logit of class ``classes_[k + 1]`` against ``classes_[0]``.
    aux_coef_ : ndarray of shape (n_classes - 1, n_aux_features)
        ``gamma``: weights of the auxiliary features.
    intercept_ : ndarray of shape (n_classes - 1,)
        Intercepts of those logits.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit`` (dictionary and auxiliary).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    dict_features_ : ndarray of shape (n_features_dict,)
        Columns of ``X`` that are factorized.
    aux_features_ : ndarray of shape (n_aux_features,)
        Columns of ``X`` routed to the classifier only.
    n_iter_ : int
        Iterations of the solver (LPGD steps after the warm start for ``"lpgd"``).
    converged_ : bool
        Whether the objective criterion met ``tol``.
    objective_history_ : ndarray of shape (`n_iter_` + 1,)
        Objective from the initial point on (lifted objective for ``"lpgd"``).
    stationarity_ : float
        ``"lpgd"``: norm of the projected-gradient mapping at the last step;
        ``"bcd"``: NaN.

    See Also
    --------
    supervised_dictionary_learning : the function behind :meth:`fit`.
    sparsopt.decomposition.SparseCoder : sparse codes against a fixed dictionary.

    Notes
    -----
    For two classes this is a logistic model ``P(y = classes_[1] | x)`` whose weight
    vector is confined to the span of the atoms (filter mode), plus auxiliary
    covariates. ``fit_transform`` returns :meth:`transform` of the training data; in
    feature mode the training codes also fit the labels and are not returned.

    References
    ----------
    .. [1] J. Lee, H. Lyu and W. Yao, "Supervised matrix factorization: local landscape
       analysis and applications", ICML 2024 (arXiv:2206.06774).
    .. [2] J. Lee, H. Lyu and W. Yao, "Exponentially convergent algorithms for
       supervised matrix factorization", NeurIPS 2023 (arXiv:2311.11182).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition import SupervisedDictionaryLearning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 6))
    >>> y = np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")
    >>> sdl = SupervisedDictionaryLearning(2, xi=0.1, l2_reg=0.1).fit(X, y)
    >>> sdl.components_.shape, sdl.transform(X).shape, sdl.classes_.tolist()
    ((2, 6), (80, 2), ['no', 'yes'])
    >>> bool(sdl.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "xi": [Interval(Real, 0, None, closed="left")],
        "mode": [StrOptions(set(MODES))],
        "solver": [StrOptions(set(SOLVERS))],
        "aux_features": ["array-like", None],
        "alpha_code": [Interval(Real, 0, None, closed="left")],
        "alpha_dict": [Interval(Real, 0, None, closed="left")],
        "l2_reg": [Interval(Real, 0, None, closed="left")],
        "positive_code": ["boolean"],
        "positive_dict": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "step_size": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "step_decay": [Interval(Real, 0, None, closed="left")],
        "block_scale": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose", None],
    }

    def __init__(self, n_components, *, xi=1.0, mode="filter", solver="bcd", aux_features=None,
                 alpha_code=0.0, alpha_dict=0.0, l2_reg=0.0, positive_code=False,
                 positive_dict=False, max_iter=200, tol=1e-4, step_size="auto",
                 step_decay=0.0, block_scale="auto", random_state=None, verbose=None):
        self.n_components = n_components
        self.xi = xi
        self.mode = mode
        self.solver = solver
        self.aux_features = aux_features
        self.alpha_code = alpha_code
        self.alpha_dict = alpha_dict
        self.l2_reg = l2_reg
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.max_iter = max_iter
        self.tol = tol
        self.step_size = step_size
        self.step_decay = step_decay
        self.block_scale = block_scale
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the dictionary and the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dictionary and auxiliary columns).
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : SupervisedDictionaryLearning
        """
        X, y = self._validate_input(X, y, y_numeric=False)
        check_classification_targets(y)
        owner = type(self).__name__
        _check_solver_options(self.mode, self.solver, self.alpha_code, self.alpha_dict,
                              self.positive_code, self.positive_dict, self.xi, owner)
        dict_idx, aux_idx = _split_features(self.aux_features, X.shape[1], owner)
        _check_feature_rank(self.mode, self.alpha_code, self.n_components, dict_idx.size, owner)
        enc = LabelEncoder().fit(y)
        if enc.classes_.size < 2:
            raise ValueError(f"{owner}: y has {enc.classes_.size} class; a classifier needs "
                             "samples of at least 2 classes.")
        with fit_progress(self.max_iter, owner, self.verbose) as fp:
            D, res = supervised_dictionary_learning(
                X, enc.transform(y), n_components=self.n_components, xi=self.xi,
                mode=self.mode, solver=self.solver, aux_features=aux_idx,
                alpha_code=self.alpha_code, alpha_dict=self.alpha_dict, l2_reg=self.l2_reg,
                positive_code=self.positive_code, positive_dict=self.positive_dict,
                max_iter=self.max_iter, tol=self.tol, step_size=self.step_size,
                step_decay=self.step_decay, block_scale=self.block_scale,
                random_state=self.random_state, callback=fp.callback,
                verbose=fp.solver_verbose)
            fp.finish(res.n_iter)
        self.classes_ = enc.classes_
        self.components_ = D
        self.coef_ = res.info["coef"]
        self.intercept_ = res.info["intercept"]
        self.aux_coef_ = res.info["aux_coef"]
        self.dict_features_ = dict_idx
        self.aux_features_ = aux_idx
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        self.objective_history_ = np.array([h["objective"] for h in res.history])
        self.stationarity_ = float(res.info.get("stationarity", np.nan))
        return self

    def _codes(self, Xd):
        """Features the classifier reads, in the dtype of ``Xd``."""
        D = self.components_.astype(Xd.dtype, copy=False)
        if self.mode == "filter":
            return Xd @ D.T
        if self.alpha_code > 0 or self.positive_code:
            # minimizes xi ||x - h D||^2 + alpha_code ||h||_1 (the objective over 2 xi)
            return sparse_encode(Xd, D, penalty="l1", alpha=self.alpha_code / (2 * self.xi),
                                 solver="cd", positive=self.positive_code, max_iter=1000,
                                 tol=1e-8)
        return np.linalg.lstsq(D.T, Xd.T, rcond=None)[0].T

    def transform(self, X):
        """Project (filter) or encode (feature) the dictionary columns of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            ``X_d @ components_.T`` (filter), or the codes minimizing
            ``xi ||x_d - h W^T||^2 + alpha_code ||h||_1`` (feature: least squares when
            ``alpha_code = 0``).
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        return self._codes(X[:, self.dict_features_])

    def decision_function(self, X):
        """Logits of the classes against ``classes_[0]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Two classes: the log-odds of ``classes_[1]``. More: the logits, ``0`` for
            ``classes_[0]``.
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        H = self._codes(X[:, self.dict_features_])
        S = (H @ self.coef_.T.astype(X.dtype, copy=False)
             + X[:, self.aux_features_] @ self.aux_coef_.T.astype(X.dtype, copy=False)
             + self.intercept_.astype(X.dtype, copy=False))
        if self.classes_.size == 2:
            return S[:, 0]
        return np.hstack([np.zeros((S.shape[0], 1), dtype=S.dtype), S])

    def predict_proba(self, X):
        """Class probabilities (multinomial logistic model).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        S = self.decision_function(X)
        if S.ndim == 1:
            S = np.column_stack([np.zeros_like(S), S])
        S = S - S.max(axis=1, keepdims=True)
        return S - np.log(np.exp(S).sum(axis=1, keepdims=True))

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        S = self.decision_function(X)
        idx = (S > 0).astype(np.intp) if S.ndim == 1 else np.argmax(S, axis=1)
        return self.classes_[idx]

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.classifier_tags.multi_class = True
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"n_components": 2, "xi": 0.1, "l2_reg": 1.0, "max_iter": 30, "tol": 1e-3,
                "random_state": 0}
