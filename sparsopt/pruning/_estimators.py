"""SparseMLPClassifier and SparseMLPRegressor: scikit-learn MLPs trained with masks."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils import shuffle as sk_shuffle
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._core.progress import fit_progress
from ..utils.estimator import SparsoptEstimatorMixin
from ._criteria import get_criterion
from ._mlp import _SGD, MLPEngine, _Adam, forward_dense, glorot_init
from ._schedules import get_schedule
from ._updaters import MaskUpdater, check_mask_updater

__all__ = ["SparseMLPClassifier", "SparseMLPRegressor"]


_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Units of each hidden layer (as scikit-learn's ``MLPClassifier``).
    density : float in (0, 1], default=0.1
        Target density (kept / size) of the prunable layers at the end of the schedule.
        ``density=1.0`` (with a magnitude or random criterion and no mask updater) is
        scikit-learn's dense fit, stopping included, whatever the schedule.
    criterion : str or PruningCriterion, default="magnitude"
        Which weights to keep at a prune event: an instance of
        :class:`MagnitudeCriterion`, :class:`RandomCriterion`, :class:`NMCriterion`,
        :class:`GroupEnvelope`, or a name for :func:`get_criterion` (``"magnitude"``
        (global), ``"layer"``, ``"erk"``, ``"random"``, ``"random_erk"``, ``"2:4"``, ...).
    schedule : str or PruningSchedule, default="gradual"
        When to prune and to which density: :class:`OneShot`, :class:`Iterative`,
        :class:`PolynomialDecay` (``"gradual"``: Zhu-Gupta cubic), :class:`Constant`
        (static sparse training), or a name for :func:`get_schedule`. The plan is made
        for ``max_iter`` epochs of optimizer steps; fractions in the schedule are
        fractions of that run.
    mask_updater : None, SRSTE, NeuroRegeneration or SoftShrinkage, default=None
        What happens to the masks during training (:class:`SRSTE` for N:M masks,
        :class:`NeuroRegeneration` for GraNet's prune-and-regrow,
        :class:`SoftShrinkage` for iterative soft shrinkage with a penalty).
    prune_output_layer : bool, default=True
        Whether the output layer is pruned too (biases are never pruned).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Hidden-layer activation.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer (applied in place, with the masks).
    alpha : float, default=1e-4
        L2 strength, scaled by the batch size as in scikit-learn.
    batch_size : int or "auto", default="auto"
        Minibatch rows; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of ``solver="sgd"`` (scikit-learn's).
    learning_rate_init : float, default=1e-3
        Initial step.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Epochs. Stopping on ``tol`` waits until the schedule's last event before the end
        of training has been applied.
    shuffle : bool, default=True
        Shuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights, shuffling, the validation split and random criteria.
    tol : float, default=1e-4
        Improvement of the training loss (or validation score with
        ``early_stopping``) below which an epoch counts as no improvement.
    verbose : int or None, default=None
        1 shows a progress bar (or lines) per epoch, 2 also scikit-learn's loss lines;
        None reads :func:`sparsopt.get_config`.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for SGD.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when their score stops
        improving; the best weights (and masks) are restored.
    validation_fraction : float, default=0.1
        Share held out for early stopping.
    beta_1, beta_2, epsilon : float
        Adam's parameters (0.9, 0.999, 1e-8).
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.
"""

_ATTRS_DOC = """
    coefs_ : list of ndarray of shape (n_in, n_out)
        Layer weights, exactly 0 outside ``masks_``.
    intercepts_ : list of ndarray of shape (n_out,)
        Biases (never pruned).
    masks_ : list of ndarray of bool of shape (n_in, n_out)
        Kept weights (all True for layers that are not prunable).
    density_ : float
        Realised density of the prunable layers.
    layer_densities_ : list of float
        Realised density of each layer.
    density_history_ : list of (int, float)
        ``(optimizer step, realised density)`` after each prune event.
    loss_ : float
        Training loss of the last epoch (scikit-learn's, L2 term included).
    loss_curve_ : list of float
        Training loss per epoch.
    best_loss_ : float or None
        Lowest training loss since the last prune event (None with early stopping).
    validation_scores_ : list of float or None
        Validation score per epoch with early stopping.
    best_validation_score_ : float or None
        Best validation score since the last prune event.
    n_iter_ : int
        Epochs run by the last call (1 after ``partial_fit``, as scikit-learn).
    t_ : int
        Training rows seen, summed over calls.
    n_layers_ : int
        Number of layers (input and output included).
    n_outputs_ : int
    out_activation_ : str
    n_features_in_ : int
"""


class _BaseSparseMLP(SparsoptEstimatorMixin, BaseEstimator):
    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "density": [Real],
        "criterion": [str, HasMethods(["select"])],
        "schedule": [str, HasMethods(["plan"])],
        "mask_updater": [None, MaskUpdater],
        "prune_output_layer": ["boolean"],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose", None],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, hidden_layer_sizes=(100,), *, density=0.1, criterion="magnitude",
                 schedule="gradual", mask_updater=None, prune_output_layer=True,
                 activation="relu", solver="adam", alpha=1e-4, batch_size="auto",
                 learning_rate="constant", learning_rate_init=1e-3, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=None,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.density = density
        self.criterion = criterion
        self.schedule = schedule
        self.mask_updater = mask_updater
        self.prune_output_layer = prune_output_layer
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # ------------------------------------------------------------------ small helpers
    @classmethod
    def _test_params(cls, check_name=""):
        """Small, fast parameters for scikit-learn's estimator checks."""
        return {"hidden_layer_sizes": (16,), "density": 0.5, "max_iter": 60,
                "learning_rate_init": 0.01, "random_state": 0}

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(int(s) <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _check_density(self):
        d = self.density
        if isinstance(d, bool) or not isinstance(d, Real) or not (0 < d <= 1):
            raise ValueError(f"density must be in (0, 1], got {d!r}.")
        return float(d)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                          "It is going to be clipped", stacklevel=2)
        return int(np.clip(self.batch_size, 1, n_samples))

    # ---------------------------------------------------------------------- fitting
    def _make_engine(self, X, Y, n_train):
        """Initial weights, optimizer, criterion and plan for a run of max_iter epochs."""
        density = self._check_density()
        criterion = get_criterion(self.criterion)
        schedule = get_schedule(self.schedule)
        updater = check_mask_updater(self.mask_updater)
        sizes = [X.shape[1]] + self._hidden_sizes() + [Y.shape[1]]
        coefs, intercepts = glorot_init(self._random_state, sizes, self.activation, X.dtype)
        params = coefs + intercepts
        if self.solver == "adam":
            opt = _Adam(params, self.learning_rate_init, self.beta_1, self.beta_2,
                        self.epsilon)
        else:
            opt = _SGD(params, self.learning_rate_init, self.learning_rate, self.momentum,
                       self.nesterovs_momentum, self.power_t)
        batch = self._batch_size(n_train)
        n_steps = self.max_iter * (-(-n_train // batch))
        plan = schedule.plan(n_steps, density)
        prunable = [True] * len(coefs)
        prunable[-1] = bool(self.prune_output_layer)
        if not any(prunable):
            raise ValueError("prune_output_layer=False with no hidden layer leaves nothing "
                             "to prune: add a hidden layer or set prune_output_layer=True.")
        rs = self.random_state
        if rs is None or isinstance(rs, np.random.RandomState):
            crit_rng = rs
        else:
            crit_rng = np.random.RandomState(rs)
        self.n_layers_ = len(sizes)
        return MLPEngine(coefs, intercepts, self.activation, self.out_activation_,
                         self.alpha, opt, prunable, criterion, plan, n_steps,
                         updater=updater, rng=crit_rng)

    def _initialize(self, X, Y, n_train):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self._engine = self._make_engine(X, Y, n_train)
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._best = None

    def _fit(self, X, y, incremental=False):
        first = not incremental or not hasattr(self, "_engine")
        X, Y, ylab = self._prepare(X, y, incremental, reset=first)
        self._random_state = check_random_state(self.random_state)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if first:  # weights drawn before the validation split, as scikit-learn does
            n_val = math.ceil(self.validation_fraction * X.shape[0])
            self._initialize(X, Y, X.shape[0] - n_val if self.early_stopping else X.shape[0])
        if self.early_stopping:
            stratify = Y if (self._is_clf and Y.shape[1] == 1) else None
            parts = train_test_split(X, Y, np.arange(X.shape[0]),
                                     random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_tr, X_val, Y_tr, Y_val, i_tr, i_val = parts
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            y_val = self._targets_of(Y_val, None if ylab is None else ylab[i_val])
            ylab_tr = None if ylab is None else ylab[i_tr]
        else:
            X_tr, Y_tr, ylab_tr, X_val, y_val = X, Y, ylab, None, None
        eng = self._engine
        n = X_tr.shape[0]
        batch = self._batch_size(n)
        idx = np.arange(n)
        n_epochs = 1 if incremental else self.max_iter
        name = type(self).__name__
        self.n_iter_ = 0  # per call, as scikit-learn's MLP
        stopped = False
        try:
            with fit_progress(n_epochs, name, self.verbose) as fp:
                for _ in range(n_epochs):
                    order = None
                    if self.shuffle:
                        idx = sk_shuffle(idx, random_state=self._random_state)
                        order = idx
                    events_before = eng.events_applied
                    total = eng.train_epoch(X_tr, Y_tr, ylab_tr, batch, order)
                    self.n_iter_ += 1
                    self.loss_ = total / n
                    self.t_ += n
                    self.loss_curve_.append(self.loss_)
                    if fp.solver_verbose:
                        print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                    fp.bar.update(1, loss=self.loss_, density=eng.density())
                    if eng.events_applied != events_before:
                        self._reset_tracking()
                    self._publish()
                    self._update_no_improvement(X_val, y_val)
                    eng.optimizer.iteration_ends(self.t_)
                    if (self._no_improvement_count > self.n_iter_no_change
                            and eng.schedule_done()):
                        if eng.optimizer.trigger_stopping():
                            stopped = True
                            break
                        self._no_improvement_count = 0
                    if incremental:
                        break
        except KeyboardInterrupt:  # keep what was trained, as scikit-learn does
            warnings.warn("Training interrupted by user.", stacklevel=3)
            eng.remask()
            stopped = True
        if not incremental and not stopped and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                f"optimization hasn't converged yet (tol={self.tol}, n_iter_no_change="
                f"{self.n_iter_no_change}); increase max_iter.", ConvergenceWarning,
                stacklevel=4)
        if self.early_stopping and self._best is not None:
            coefs, intercepts, masks = self._best
            for W, W0 in zip(eng.coefs, coefs):
                np.copyto(W, W0)
            for b, b0 in zip(eng.intercepts, intercepts):
                np.copyto(b, b0)
            eng.masks = [None if M is None else M.copy() for M in masks]
        if not incremental or eng.step >= eng.n_steps:
            eng.finish()
        self._publish()
        self._sparse_cache = {}  # the packed sparse network, built at the first predict
        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            raise ValueError("Solver produced non-finite parameter weights. The input data "
                             "may contain large values and need to be preprocessed.")
        return self

    def _reset_tracking(self):
        """A prune event changed the network: compare the next epochs among themselves."""
        self._no_improvement_count = 0
        if self.early_stopping:
            self.best_validation_score_ = -np.inf
        else:
            self.best_loss_ = np.inf

    def _update_no_improvement(self, X_val, y_val):
        eng = self._engine
        if self.early_stopping:
            score = self._score_fn(y_val, self._predict_raw_targets(X_val))
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best = ([W.copy() for W in self.coefs_],
                              [b.copy() for b in self.intercepts_],
                              [None if M is None else M.copy() for M in eng.masks])
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _publish(self):
        eng = self._engine
        if eng.srste_density is not None:
            eng.refresh_srste_masks()
        self.coefs_ = list(eng.published_coefs())
        self.intercepts_ = list(eng.intercepts)
        self.masks_ = eng.full_masks()
        self.density_ = eng.density()
        self.layer_densities_ = eng.layer_densities()
        self.density_history_ = list(eng.density_history)

    # ------------------------------------------------------------------- inference
    def _forward(self, X):
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return forward_dense(X, self.coefs_, self.intercepts_, self.activation,
                             self.out_activation_, cache=self._sparse_cache)


class SparseMLPClassifier(ClassifierMixin, _BaseSparseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained with pruning masks.

    A scikit-learn ``MLPClassifier`` (same parameters, losses, initialisation, Adam and
    SGD, minibatches, early stopping) whose weights carry masks during training: a
    pruning ``schedule`` says when to prune and to which density, a ``criterion`` which
    weights to keep, and an optional ``mask_updater`` how the masks move in between
    (SR-STE for N:M, GraNet's regeneration, soft shrinkage). Pruned weights are exactly 0
    after every optimizer step and the optimizer state is masked with them. At
    ``density=1`` the fit equals ``MLPClassifier``'s (same ``random_state``).
    Predictions go through the compressed sparse layers when that is faster.

    Parameters
    ----------{_PARAMS_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.{_ATTRS_DOC}
    See Also
    --------
    SparseMLPRegressor : the regression counterpart.
    sklearn.neural_network.MLPClassifier : the dense model it mirrors.

    References
    ----------
    .. [1] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the efficacy of
       pruning for model compression", arXiv:1710.01878, 2017.
    .. [2] S. Liu, T. Chen, X. Chen, L. Shen, D. C. Mocanu, Z. Wang and M. Pechenizkiy,
       "The unreasonable effectiveness of random pruning: return of the most naive
       baseline for sparse training", ICLR 2022.
    .. [3] D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization", ICLR
       2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sparsopt.pruning import SparseMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = SparseMLPClassifier((64,), density=0.1, criterion="erk",
    ...                           learning_rate_init=0.01, max_iter=40, tol=0.03,
    ...                           random_state=0).fit(X / 16, y)
    >>> round(clf.density_, 3), clf.score(X / 16, y) > 0.95
    (0.1, True)
    >>> [round(d, 3) for d in clf.layer_densities_]  # ERK: the small layer denser
    [0.073, 0.272]
    """

    _is_clf = True

    def _prepare(self, X, y, incremental, reset):
        X, y = self._validate_input(X, y, reset=reset, multi_output=True, y_numeric=False)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not incremental:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = self._label_binarizer.classes_
            if not np.isin(np.unique(y), classes).all() and y.ndim == 1:
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` "
                                 f"has {classes}. 'y' has {np.unique(y)}.")
        if type_of_target(y) not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"Unknown label type: {type_of_target(y)!r}")
        Y = self._label_binarizer.transform(y).astype(X.dtype, copy=False)
        ylab = None
        if self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
            ylab = np.searchsorted(self.classes_, y).astype(np.intp)
        else:
            self.out_activation_ = "logistic"
        return X, np.ascontiguousarray(Y), ylab

    def _targets_of(self, Y_val, ylab_val):
        return self._label_binarizer.inverse_transform(Y_val)

    def _score_fn(self, y_true, y_pred):
        return accuracy_score(y_true, y_pred)

    def _predict_raw_targets(self, X):
        out = forward_dense(X, self.coefs_, self.intercepts_, self.activation,
                            self.out_activation_)
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network with its pruning schedule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : SparseMLPClassifier
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)`` in the same minibatches as ``fit``.

        The schedule advances by the engine's own step counter (planned at the first
        call for ``max_iter`` epochs of this data size), so ``max_iter`` calls with
        ``shuffle=False`` give the same network as ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,) or None
            All the classes; required at the first call.

        Returns
        -------
        self : SparseMLPClassifier
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(self.classes_)
        return self._fit(X, y, incremental=True)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        out = self._forward(X)
        if self.n_outputs_ == 1:
            out = out.ravel()
        if out.ndim == 1:
            return np.vstack([1 - out, out]).T
        return out

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        out = self._forward(X)
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class SparseMLPRegressor(RegressorMixin, _BaseSparseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained with pruning masks.

    scikit-learn's ``MLPRegressor`` (squared error, identity output) with the pruning
    machinery of :class:`SparseMLPClassifier`: schedule, criterion, mask updater, exact
    zeros outside the masks, masked optimizer state, sparse inference.

    Parameters
    ----------{_PARAMS_DOC}
    Attributes
    ----------{_ATTRS_DOC}
    See Also
    --------
    SparseMLPClassifier : the classification counterpart.
    sklearn.neural_network.MLPRegressor : the dense model it mirrors.

    References
    ----------
    .. [1] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the efficacy of
       pruning for model compression", arXiv:1710.01878, 2017.
    .. [2] D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization", ICLR
       2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import SparseMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 8))
    >>> y = X[:, 0] - 2 * X[:, 1]
    >>> reg = SparseMLPRegressor((32,), density=0.2, criterion="layer",
    ...                          learning_rate_init=0.01, max_iter=100, tol=0.01,
    ...                          random_state=0).fit(X, y)
    >>> round(reg.density_, 2), reg.score(X, y) > 0.9
    (0.2, True)
    """

    _is_clf = False

    def _prepare(self, X, y, incremental, reset):
        X, y = self._validate_input(X, y, reset=reset, multi_output=True, y_numeric=True)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.out_activation_ = "identity"
        return X, np.ascontiguousarray(y, dtype=X.dtype), None

    def _targets_of(self, Y_val, ylab_val):
        return Y_val

    def _score_fn(self, y_true, y_pred):
        return r2_score(y_true, y_pred)

    def _predict_raw_targets(self, X):
        return forward_dense(X, self.coefs_, self.intercepts_, self.activation,
                             self.out_activation_)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network with its pruning schedule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : SparseMLPRegressor
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """One epoch over ``(X, y)`` in the same minibatches as ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : SparseMLPRegressor
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        out = self._forward(X)
        if out.shape[1] == 1:
            return out.ravel()
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
