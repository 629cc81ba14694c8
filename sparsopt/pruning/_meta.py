"""``MLPPruner``: prune a scikit-learn ``MLPClassifier``/``MLPRegressor`` in place.

The wrapped estimator is trained densely by its own ``fit`` (or taken as fitted), its
``coefs_`` are pruned in place following a :class:`~sparsopt.pruning.PruningSchedule`, and it
is fine-tuned through its own ``partial_fit`` with ONE minibatch per call (so every call is
exactly one optimizer step), the masks being re-applied in place after each call and the
optimizer moments zeroed at pruned coordinates (spec 4.8 (ii), pitfall 12). The result,
``estimator_``, is an ordinary fitted scikit-learn MLP whose pruned weights are exact zeros.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import check_random_state, gen_batches, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.estimator import _array_api_namespace_of
from ._criteria import PruningCriterion, get_criterion
from ._schedules import OneShot, PruneEvent, PruningSchedule, get_schedule
from ._updaters import SRSTE, MaskUpdater, NeuroRegeneration, SoftShrinkage, check_mask_updater

__all__ = ["MLPPruner"]

_MLP_TYPES = (MLPClassifier, MLPRegressor)
_FLOAT_DTYPES = (np.float64, np.float32)
#: estimator parameters changed on ``estimator_`` while it is fine-tuned, restored after:
#: exactly one optimizer step per ``partial_fit`` call, no per-minibatch printing, no
#: early-stopping error, no "no improvement" bookkeeping on per-minibatch losses
_FT_OVERRIDES = ("batch_size", "early_stopping", "verbose", "n_iter_no_change")


def _realised_density(masks, prunable):
    kept = sum(int(np.count_nonzero(m)) for m, p in zip(masks, prunable) if p)
    size = sum(m.size for m, p in zip(masks, prunable) if p)
    return kept / size if size else 1.0


def _check_mlp(estimator, name="estimator"):
    """The estimator to wrap: a scikit-learn MLP trained by a stochastic solver."""
    if estimator is None:
        return MLPClassifier()
    if not isinstance(estimator, _MLP_TYPES):
        raise TypeError(
            f"{name} must be a scikit-learn MLPClassifier or MLPRegressor, got "
            f"{type(estimator).__name__}. sparsopt's own SparseMLPClassifier/Regressor prune "
            "during their own training (their `density` parameter) and need no wrapper.")
    if estimator.solver not in ("adam", "sgd"):
        raise ValueError(
            f"{name} must use solver='adam' or 'sgd' (got solver={estimator.solver!r}): "
            "fine-tuning goes through partial_fit, which scikit-learn offers only for the "
            "stochastic solvers.")
    return estimator


def _estimator_has(attr):
    """``available_if`` check: the fitted ``estimator_`` (else the given ``estimator``) has
    ``attr``."""

    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        est = MLPClassifier() if self.estimator is None else self.estimator
        return hasattr(est, attr)

    return check


class MLPPruner(MetaEstimatorMixin, BaseEstimator):
    """Prune a scikit-learn ``MLPClassifier`` or ``MLPRegressor`` to a target density.

    The wrapper trains the wrapped estimator with its own ``fit`` (or takes it as fitted,
    ``refit_estimator=False``), prunes its ``coefs_`` **in place** with ``criterion`` at the
    steps planned by ``schedule``, and fine-tunes it for ``finetune_epochs`` epochs through
    its own ``partial_fit``, one minibatch per call, re-applying the masks in place after
    every optimizer step. The fitted ``estimator_`` is an ordinary scikit-learn MLP with
    exact zeros at the pruned weights: it predicts, pickles and scores like the dense one.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor, default=None
        The scikit-learn MLP to prune (``None``: ``MLPClassifier()``). Its ``solver`` must
        be ``"adam"`` or ``"sgd"`` (``"lbfgs"`` has no ``partial_fit``). It is cloned (or,
        when fitted and ``refit_estimator=False``, deep-copied), never modified.
    density : float in (0, 1], default=0.1
        Target fraction of weights kept over the prunable layers. Ignored by criteria that
        fix their own density (N:M keeps ``n/m``).
    criterion : str or PruningCriterion, default="magnitude"
        Which weights to keep: a :class:`~sparsopt.pruning.PruningCriterion` or a name
        accepted by :func:`~sparsopt.pruning.get_criterion` (``"magnitude"``/``"global"``,
        ``"layer"``, ``"erk"``, ``"random"``, ``"random_erk"``, ``"nm"``/``"2:4"``,
        ``"group"``).
    schedule : str or PruningSchedule, default="oneshot"
        When to prune, planned over the fine-tuning steps (``finetune_epochs`` times the
        number of minibatches; step 0 is right after the dense training). A
        :class:`~sparsopt.pruning.OneShot` schedule with ``at="end"`` (the end of the dense
        training) prunes at step 0, before fine-tuning; ``at=f`` prunes after a fraction
        ``f`` of the fine-tuning; ``at="init"`` (pruning before any training) is refused:
        use :class:`~sparsopt.pruning.SparseMLPClassifier` for that. Rewinding
        (``Iterative(rewind="init")``) resets the surviving weights and the biases to their
        values at step 0, i.e. the dense trained network.
    finetune_epochs : int, default=20
        Epochs of masked fine-tuning after (and between) the pruning events.
    mask_updater : None, SRSTE or SoftShrinkage, default=None
        How the masks change between pruning events. ``None``: they are fixed.
        :class:`~sparsopt.pruning.SRSTE`: from the first event on, the wrapper keeps dense
        shadow weights ``W``; the estimator steps on ``W * M(W)`` (its own ``partial_fit``),
        the step is added to ``W`` (the straight-through gradient), the pruned entries decay
        by ``learning_rate_init * decay`` per step, and ``M(W)`` is re-selected by the
        criterion after every step (use it with :class:`~sparsopt.pruning.NMCriterion`).
        :class:`~sparsopt.pruning.SoftShrinkage`: after every step while pruning events are
        still to come, a proximal step of its penalty (step ``learning_rate_init``) on the
        prunable layers (with a schedule that has events during fine-tuning, e.g.
        ``PolynomialDecay``). :class:`~sparsopt.pruning.NeuroRegeneration` needs dense
        gradients that scikit-learn's MLP does not expose: use
        :class:`~sparsopt.pruning.SparseMLPClassifier` for it.
    prune_output_layer : bool, default=True
        Whether the last layer's weights are pruned too (biases are never pruned).
    refit_estimator : bool, default=True
        Train a clone of ``estimator`` with its ``fit`` before pruning. ``False`` takes a
        fitted ``estimator`` as it is (a deep copy; an unfitted one is fitted anyway).
    random_state : int, RandomState instance or None, default=None
        Seeds the fine-tuning minibatch order and the random criteria.

    Attributes
    ----------
    estimator_ : MLPClassifier or MLPRegressor
        The pruned, fine-tuned estimator, with exact zeros at pruned weights. Its
        ``loss_curve_`` gains one entry per fine-tuning minibatch.
    masks_ : list of ndarray of bool
        One mask per layer, shaped like ``estimator_.coefs_[l]`` (True = kept).
    density_ : float
        Realised density over the prunable layers.
    layer_densities_ : list of float
        Realised density of every layer (1.0 for a layer that is not pruned).
    density_history_ : list of (int, float)
        ``(step, density)`` after every pruning event, ``step`` counting fine-tuning steps.
    finetune_loss_curve_ : list of float
        Mean training loss of every fine-tuning epoch (``fit`` and ``partial_fit``).
    n_steps_ : int
        Fine-tuning optimizer steps done so far (``fit`` and ``partial_fit``).
    classes_ : ndarray of shape (n_classes,)
        The classes (classifiers only).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    SparseMLPClassifier : a NumPy/Numba MLP trained with masks from the start.
    sparse_soup : average pruned networks that share a mask.

    Notes
    -----
    Fine-tuning starts with a fresh optimizer (the wrapped estimator's ``solver`` and
    ``learning_rate_init``): the dense training's Adam moments are dropped, so the result does
    not depend on where the dense network was trained. While it fine-tunes, the wrapper sets
    ``batch_size`` to each minibatch's size, and ``early_stopping=False``, ``verbose=False``
    and a huge ``n_iter_no_change`` on ``estimator_`` (scikit-learn's partial_fit refuses
    early stopping, and its stopping bookkeeping would act on per-minibatch losses); they are
    restored afterwards. ``estimator.verbose`` prints one line per fine-tuning epoch.

    References
    ----------
    .. [1] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the efficacy of
       pruning for model compression", arXiv:1710.01878, 2017.
    .. [2] J. Frankle and M. Carbin, "The Lottery Ticket Hypothesis: Finding Sparse,
       Trainable Neural Networks", ICLR 2019.
    .. [3] S. Han, J. Pool, J. Tran and W. J. Dally, "Learning both Weights and Connections
       for Efficient Neural Networks", NeurIPS 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sparsopt.pruning import MLPPruner
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0)
    >>> pruner = MLPPruner(mlp, density=0.2, criterion="erk", finetune_epochs=3,
    ...                    random_state=0).fit(X, y)
    >>> round(pruner.density_, 3)
    0.2
    >>> bool((pruner.estimator_.coefs_[0][~pruner.masks_[0]] == 0).all())
    True
    >>> pruner.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "partial_fit"]), None],
        "density": [Interval(numbers.Real, 0, 1, closed="right")],
        "criterion": [str, PruningCriterion],
        "schedule": [str, PruningSchedule],
        "finetune_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "mask_updater": [None, MaskUpdater],
        "prune_output_layer": ["boolean"],
        "refit_estimator": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, density=0.1, criterion="magnitude", schedule="oneshot",
                 finetune_epochs=20, mask_updater=None, prune_output_layer=True,
                 refit_estimator=True, random_state=None):
        self.estimator = estimator
        self.density = density
        self.criterion = criterion
        self.schedule = schedule
        self.finetune_epochs = finetune_epochs
        self.mask_updater = mask_updater
        self.prune_output_layer = prune_output_layer
        self.refit_estimator = refit_estimator
        self.random_state = random_state

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                            random_state=0)
        return {"estimator": mlp, "density": 0.5, "finetune_epochs": 3, "random_state": 0}

    # ------------------------------------------------------------------ delegation
    @property
    def classes_(self):
        check_is_fitted(self)
        return self.estimator_.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = self.estimator if isinstance(self.estimator, _MLP_TYPES) else MLPClassifier()
        sub = get_tags(est)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = copy.deepcopy(sub.classifier_tags)
        tags.regressor_tags = copy.deepcopy(sub.regressor_tags)
        tags.target_tags = copy.deepcopy(sub.target_tags)
        tags.target_tags.required = True
        tags.input_tags.sparse = sub.input_tags.sparse
        tags.input_tags.allow_nan = False
        return tags

    def predict(self, X):
        """Predict with the pruned estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted classes or values.
        """
        X = self._check_X(X)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the pruned classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class.
        """
        X = self._check_X(X)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the pruned classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class.
        """
        X = self._check_X(X)
        return self.estimator_.predict_log_proba(X)

    def score(self, X, y, sample_weight=None):
        """The wrapped estimator's score (accuracy or R²) of the pruned network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy (classifier) or R² (regressor).
        """
        X = self._check_X(X)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def _check_X(self, X):
        check_is_fitted(self)
        _array_api_namespace_of(self, X)  # NumPy only: a clear error under array API dispatch
        return validate_data(self, X, reset=False, accept_sparse=["csr", "csc"],
                             dtype=list(_FLOAT_DTYPES))

    # ------------------------------------------------------------------ fitting
    def _validate_pieces(self):
        crit = self.criterion
        crit = get_criterion(crit) if isinstance(crit, str) else clone(crit)
        sched = self.schedule
        sched = get_schedule(sched) if isinstance(sched, str) else copy.deepcopy(sched)
        if isinstance(sched, OneShot) and sched.at == "init":
            raise ValueError(
                "schedule=OneShot(at='init') prunes before any training, which MLPPruner "
                "cannot do (the dense training is the wrapped estimator's own fit): use "
                "at='end' (prune after the dense training, then fine-tune) or "
                "SparseMLPClassifier for pruning at initialisation.")
        return crit, sched

    def _plan(self, sched, n_steps):
        events = list(sched.plan(n_steps, self.density))
        if isinstance(sched, OneShot) and sched.at == "end":
            # "end" of training = end of the dense training = step 0 of the fine-tuning
            events = [PruneEvent(step=0, density=ev.density, rewind=ev.rewind) for ev in events]
        events.sort(key=lambda ev: ev.step)
        for ev in events:
            r = ev.rewind
            if isinstance(r, numbers.Integral) and not isinstance(r, bool) and r > ev.step:
                raise ValueError(f"schedule: an event at step {ev.step} rewinds to the later "
                                 f"step {r}.")
        return events

    def _start(self, X, y, *, classes=None, incremental=False):
        """Build ``estimator_`` (dense-trained) and the fitted state before any pruning."""
        est = _check_mlp(self.estimator)
        updater = check_mask_updater(self.mask_updater)
        if isinstance(updater, NeuroRegeneration):
            raise ValueError(
                "mask_updater=NeuroRegeneration() regrows weights where the dense gradient "
                "is largest, which scikit-learn's MLP does not expose to MLPPruner: use "
                "SparseMLPClassifier/SparseMLPRegressor for GraNet regeneration.")
        if updater is not None and not isinstance(updater, (SRSTE, SoftShrinkage)):
            raise ValueError(f"mask_updater: MLPPruner supports None, SRSTE and "
                             f"SoftShrinkage, got {type(updater).__name__}.")
        self._updater = updater
        self._shadow = None  # SR-STE: dense shadow weights, once the first event came
        self._srste_density = None
        fitted = hasattr(est, "coefs_")
        if fitted and not self.refit_estimator:
            est = copy.deepcopy(est)
            n_in = est.coefs_[0].shape[0]
            if n_in != X.shape[1]:
                raise ValueError(f"estimator was fitted with {n_in} features, X has "
                                 f"{X.shape[1]}.")
        else:
            est = clone(est)
            if incremental:
                if isinstance(est, MLPClassifier):
                    est.partial_fit(X, y, classes=classes)
                else:
                    est.partial_fit(X, y)
            else:
                est.fit(X, y)
        self.estimator_ = est
        self._rng = check_random_state(self.random_state)
        n_layers = len(est.coefs_)
        self._prunable = [True] * (n_layers - 1) + [bool(self.prune_output_layer)]
        self.masks_ = [np.ones(c.shape, dtype=bool) for c in est.coefs_]
        self.density_history_ = []
        self.finetune_loss_curve_ = []
        self.n_steps_ = 0
        if hasattr(est, "_optimizer"):  # fine-tuning starts with a fresh optimizer
            del est._optimizer

    def _update_stats(self):
        self.layer_densities_ = [float(np.count_nonzero(m) / m.size) for m in self.masks_]
        self.density_ = float(_realised_density(self.masks_, self._prunable))

    def _remask(self):
        """Zero the pruned weights and their optimizer state, in place."""
        est = self.estimator_
        n_layers = len(est.coefs_)
        for coef, mask in zip(est.coefs_, self.masks_):
            coef[~mask] = 0
        opt = getattr(est, "_optimizer", None)
        if opt is None:
            return
        for attr in ("ms", "vs", "velocities"):  # Adam moments, SGD velocities
            state = getattr(opt, attr, None)
            if state is None:
                continue
            for layer in range(min(n_layers, len(state))):
                if np.shape(state[layer]) == self.masks_[layer].shape:
                    state[layer][~self.masks_[layer]] = 0

    def _reset_optimizer_state(self):
        opt = getattr(self.estimator_, "_optimizer", None)
        for attr in ("ms", "vs", "velocities"):
            for arr in getattr(opt, attr, None) or ():
                arr[...] = 0

    def _select(self, weights, density, masks):
        new = self._criterion.select(weights, density, prunable=self._prunable, masks=masks,
                                     grads=None, random_state=self._rng)
        return [np.asarray(m, dtype=bool).reshape(w.shape) for m, w in zip(new, weights)]

    def _apply_event(self, ev, snapshots, step):
        est = self.estimator_
        srste = isinstance(self._updater, SRSTE)
        if srste and self._shadow is None:
            self._shadow = [c.copy() for c in est.coefs_]
        if ev.rewind is not None:
            coefs, intercepts = snapshots[0 if ev.rewind == "init" else int(ev.rewind)]
            for dst, src in zip(self._shadow if srste else est.coefs_, coefs):
                dst[...] = src
            for dst, src in zip(est.intercepts_, intercepts):
                dst[...] = src
            self._reset_optimizer_state()
        if srste:  # masks recomputed from the dense shadow at every step from now on
            self._srste_density = ev.density
            self.masks_ = self._select(self._shadow, ev.density, None)
            self._publish_srste()
        else:
            self.masks_ = self._select(est.coefs_, ev.density, self.masks_)
            self._remask()
        self._update_stats()
        self.density_history_.append((int(step), self.density_))

    def _publish_srste(self):
        for coef, w, mask in zip(self.estimator_.coefs_, self._shadow, self.masks_):
            np.multiply(w, mask, out=coef)

    def _srste_step(self, before):
        """SR-STE after one ``partial_fit`` step on ``W * M``: the step goes to the dense
        shadow ``W``, the pruned entries decay, the masks are re-selected from ``W``."""
        est = self.estimator_
        shrink = 1.0 - float(est.learning_rate_init) * float(self._updater.decay)
        for w, coef, old, mask, p in zip(self._shadow, est.coefs_, before, self.masks_,
                                         self._prunable):
            w += coef
            w -= old
            if p and shrink != 1.0:
                w[~mask] *= shrink
        self.masks_ = self._select(self._shadow, self._srste_density, None)
        self._publish_srste()

    def _soft_shrink(self):
        """SoftShrinkage: a proximal step of the penalty on the prunable layers."""
        from ..penalties import L1, Penalty

        pen = self._updater.penalty
        pen = L1(alpha=1e-4) if pen is None else pen
        step = float(self.estimator_.learning_rate_init)
        coefs = self.estimator_.coefs_
        if isinstance(pen, Penalty):
            for w, p in zip(coefs, self._prunable):
                if p:
                    w[...] = pen.prox(w, step)
        else:
            new = pen.prox(coefs, step, prunable=self._prunable)
            for w, wn, p in zip(coefs, new, self._prunable):
                if p:
                    w[...] = wn
        self._remask()

    def _batches(self, n_samples, batch_size):
        return list(gen_batches(n_samples, batch_size))

    def _finetune(self, X, y, n_epochs, *, events=(), snapshot_steps=()):
        """``n_epochs`` epochs of one-minibatch ``partial_fit`` calls with masks re-applied,
        applying the pruning ``events`` (steps counted from the start of this call)."""
        est = self.estimator_
        n_samples = X.shape[0]
        bs = est.batch_size
        bs = min(200, n_samples) if bs == "auto" else int(np.clip(bs, 1, n_samples))
        batches = self._batches(n_samples, bs)
        n_steps = n_epochs * len(batches)
        events = list(events)
        snapshots = {}
        saved = {k: getattr(est, k) for k in _FT_OVERRIDES}
        verbose = saved["verbose"]
        est.set_params(early_stopping=False, verbose=False, n_iter_no_change=2**31 - 1)
        best_loss = getattr(est, "best_loss_", None)
        if best_loss is None:  # fitted with early stopping: no training-loss bookkeeping
            est.best_loss_ = np.inf
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        step, i_ev = 0, 0

        def events_up_to(step):
            nonlocal i_ev
            if step in snapshot_steps:
                weights = est.coefs_ if self._shadow is None else self._shadow
                snapshots[step] = ([c.copy() for c in weights],
                                   [b.copy() for b in est.intercepts_])
            while i_ev < len(events) and events[i_ev].step <= step:
                self._apply_event(events[i_ev], snapshots, step)
                i_ev += 1

        shrinkage = isinstance(self._updater, SoftShrinkage)

        try:
            for epoch in range(n_epochs):
                order = self._rng.permutation(n_samples) if est.shuffle else None
                total = 0.0
                for sl in batches:
                    events_up_to(step)
                    idx = order[sl] if order is not None else sl
                    Xb, yb = X[idx], y[idx]
                    est.batch_size = Xb.shape[0]  # exactly one optimizer step
                    before = None if self._shadow is None else [c.copy() for c in est.coefs_]
                    est.partial_fit(Xb, yb)
                    if before is not None:
                        self._srste_step(before)
                    else:
                        self._remask()
                        if shrinkage and i_ev < len(events):
                            self._soft_shrink()
                    total += float(est.loss_) * Xb.shape[0]
                    step += 1
                self.finetune_loss_curve_.append(total / n_samples)
                if verbose:
                    print(f"MLPPruner: fine-tuning epoch {epoch + 1}/{n_epochs}, loss = "
                          f"{total / n_samples:.8f}, density = {self.density_:.4f}")
            events_up_to(n_steps)
            self._update_stats()
        finally:
            est.set_params(**saved)
            if best_loss is None:
                est.best_loss_ = None
        self.n_steps_ += n_steps
        return self

    def _validate_fit_data(self, X, y, reset):
        _array_api_namespace_of(self, X, y)  # NumPy only: a clear error under array API dispatch
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=["csr", "csc"],
                             dtype=list(_FLOAT_DTYPES), multi_output=True)
        if hasattr(X, "tocsr"):
            X = X.tocsr()
        return X, np.asarray(y)

    def fit(self, X, y):
        """Train (or take) the wrapped MLP, prune it following the schedule, fine-tune it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target labels (classifier) or values (regressor).

        Returns
        -------
        self : MLPPruner
            The fitted pruner.
        """
        self._validate_params()
        crit, sched = self._validate_pieces()
        X, y = self._validate_fit_data(X, y, reset=True)
        self._start(X, y)
        n_samples = X.shape[0]
        bs = self.estimator_.batch_size
        bs = min(200, n_samples) if bs == "auto" else int(np.clip(bs, 1, n_samples))
        n_steps = self.finetune_epochs * math.ceil(n_samples / bs)
        events = self._plan(sched, n_steps)
        snap = {0 if ev.rewind == "init" else int(ev.rewind)
                for ev in events if ev.rewind is not None}
        self._criterion = crit
        self._update_stats()
        self._finetune(X, y, self.finetune_epochs, events=events, snapshot_steps=snap)
        return self

    def partial_fit(self, X, y, classes=None):
        """One more epoch of masked fine-tuning over ``(X, y)`` (masks fixed).

        On an unfitted pruner the first call trains a clone of ``estimator`` for one epoch
        (``partial_fit``; unless it is fitted and ``refit_estimator=False``), prunes it once
        to ``density`` with ``criterion`` and fine-tunes it for one epoch.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target labels or values.
        classes : array-like of shape (n_classes,), default=None
            All the classes, required on the first call for a classifier that is not
            fitted yet (as scikit-learn's ``partial_fit``).

        Returns
        -------
        self : MLPPruner
            The updated pruner.
        """
        first = not hasattr(self, "estimator_")
        if first:
            self._validate_params()
            crit, _ = self._validate_pieces()
            X, y = self._validate_fit_data(X, y, reset=True)
            self._start(X, y, classes=classes, incremental=True)
            self._criterion = crit
            self._update_stats()
            events = [PruneEvent(step=0, density=self.density, rewind=None)]
            return self._finetune(X, y, 1, events=events)
        X, y = self._validate_fit_data(X, y, reset=False)
        return self._finetune(X, y, 1)

