"""scikit-learn estimators of the unfolded models: UnfoldedISTA, UnfoldedIHT, LISTA, LIHT."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.progress import fit_progress
from ..backends import asarray_on, device, namespace_name, to_numpy
from ..utils.estimator import SparsoptEstimatorMixin
from ._du import DUIHT, DUISTA
from ._losses import objective
from ._train import SCHEDULES, train_unfolded
from ._xp import data_namespace, to_namespace

__all__ = ["UnfoldedISTA", "UnfoldedIHT", "LISTA", "LIHT"]


# keep-best's validation: at most this many held-out rows (the LISTA-CPSS reference code
# validates on 1000), checked every max(10, max_iter // 10) steps. With 10% of 20000 rows
# every 10 steps, the validation forward passes cost about as much as the training steps.
_MAX_VALIDATION = 1000


def _check_every(max_iter):
    return min(max(10, max_iter // 10), max_iter)


def _check_n_features(check_name):
    """n_features of the data a scikit-learn estimator check uses (the operator must match
    it); the table is SparseCoder's, which has the same constraint."""
    from ..decomposition._sparse_coder import SparseCoder

    if check_name in ("check_array_api_same_namespace", "check_array_api_mixed_inputs"):
        return 10  # make_classification's default, as in check_array_api_input
    return SparseCoder._CHECK_N_FEATURES.get(check_name, 3)

_COMMON_DOC = """
    operator : array-like of shape (n_measurements, n_atoms)
        The measurement operator ``A`` (``y = A x + noise``); required by ``fit``.
    n_layers : int, default=16
        Number of unrolled layers T.
    alpha : float, default=0.1
        Weight ``lam`` of the penalty in the original objective
        ``F(x) = 1/2 ||y - A x||^2 + alpha pen(x)`` (per-signal sum convention).
    loss : {"auto", "supervised", "unsupervised"}, default="auto"
        ``"supervised"``: mean squared error to the true codes given to ``fit`` (required);
        ``"unsupervised"``: the original objective at the last layer (targets ignored);
        ``"auto"``: supervised when ``fit`` receives targets, unsupervised otherwise.
    schedule : {"incremental", "stagewise", "all"}, default="incremental"
        Training schedule (see :func:`~sparsopt.unfolding.train_unfolded`).
    max_iter : int, default=100
        Adam steps per layer (per stage for ``"stagewise"``, in all for ``"all"``).
    batch_size : int, default=50
        Rows per minibatch (drawn with replacement of batches, without within a batch).
    learning_rate : float, default=0.01
        Adam's step relative to each parameter's scale.
    validation_fraction : float, default=0.1
        Share of the rows held out for keep-best, at most 1000 rows (no hold-out below 2
        rows). The held-out loss is evaluated every ``max(10, max_iter // 10)`` steps.
    clip_norm : float or None, default=None
        Global gradient-norm clipping.
    random_state : int, RandomState or None, default=None
        Minibatch draws and the validation split.
    verbose : int or None, default=None
        Progress bar when >= 1 (``None`` reads :func:`sparsopt.get_config`).
"""


class _UnfoldedEstimator(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin,
                         TransformerMixin, BaseEstimator):
    _parameter_constraints = {
        "operator": ["array-like", None],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions({"auto", "supervised", "unsupervised"})],
        "schedule": [StrOptions(set(SCHEDULES))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose", None],
    }

    def _common_init(self, operator, n_layers, alpha, loss, schedule, max_iter, batch_size,
                     learning_rate, validation_fraction, clip_norm, random_state, verbose):
        self.operator = operator
        self.n_layers = n_layers
        self.alpha = alpha
        self.loss = loss
        self.schedule = schedule
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.clip_norm = clip_norm
        self.random_state = random_state
        self.verbose = verbose

    # -- subclasses -----------------------------------------------------------------------
    def _make_model(self):
        raise NotImplementedError

    # -- validation -----------------------------------------------------------------------
    def _operator(self, n_features, dtype, like=None):
        """The operator checked, in ``dtype``; next to ``like`` (an array of another
        namespace) when given: moved there once per namespace, device and dtype (cached
        with the moved parameters, see :meth:`_moved`)."""
        name = type(self).__name__
        if self.operator is None:
            raise ValueError(f"{name}: operator is required (an array of shape "
                             "(n_measurements, n_atoms)).")
        if like is not None:
            return self._moved(like, with_params=False)["A"]
        A = check_array(self.operator, dtype=[np.float64, np.float32], input_name="operator")
        if A.shape[0] != n_features:
            raise ValueError(f"{name}: operator has shape {A.shape}, its first dimension "
                             f"(n_measurements) must match the {n_features} columns of X.")
        return np.ascontiguousarray(A, dtype=dtype)

    def _moved(self, like, with_params=True):
        """The operator and (once fitted) the parameters next to ``like`` (its namespace,
        device and dtype), computed once and cached per namespace, device and dtype, so
        repeated ``transform`` calls do not transfer the weights again."""
        xp = data_namespace(like)
        key = (namespace_name(xp) if xp is not None else "numpy",
               str(device(like)), str(like.dtype))
        cache = self.__dict__.setdefault("_moved_cache", {})
        entry = cache.get(key)
        if entry is None or entry["op"] is not self.operator:
            name = type(self).__name__
            op = self.operator
            if data_namespace(op) is None:
                op = check_array(op, dtype=[np.float64, np.float32], input_name="operator")
            elif op.ndim != 2:
                raise ValueError(f"{name}: operator must be a 2-D array, got shape "
                                 f"{tuple(op.shape)}.")
            if op.shape[0] != like.shape[1]:
                raise ValueError(f"{name}: operator has shape {tuple(op.shape)}, its first "
                                 "dimension (n_measurements) must match the "
                                 f"{like.shape[1]} columns of X.")
            cache.clear()  # a new operator: the older copies are stale
            entry = cache[key] = {"op": self.operator, "A": _next_to(op, like),
                                  "src": None, "params": None}
        if with_params and entry["src"] is not self.params_:  # fitted (again) since
            entry["params"] = {k: _next_to(v, like) for k, v in self.params_.items()}
            entry["src"] = self.params_
        return entry

    def _targets(self, X_true, Y, n_atoms):
        name = type(self).__name__
        loss = self.loss
        if loss == "auto":
            loss = "unsupervised" if X_true is None else "supervised"
        if loss == "unsupervised":
            return loss, None
        if X_true is None:
            raise ValueError(f"{name}: loss='supervised' needs the true codes: call "
                             "fit(X, y) with the true codes y, or use loss='unsupervised'.")
        X_true = check_array(X_true, dtype=Y.dtype, input_name="y")
        if X_true.shape != (Y.shape[0], n_atoms):
            raise ValueError(f"{name}: y (the true codes) has shape {X_true.shape}, expected "
                             f"{(Y.shape[0], n_atoms)} (n_samples, n_atoms).")
        return loss, X_true

    def _prepare(self, Y, X_true, reset):
        Y = self._validate_input(Y, reset=reset)
        xp = data_namespace(Y)
        if xp is None:
            A = self._operator(Y.shape[1], Y.dtype)
            loss, X_true = self._targets(X_true, Y, A.shape[1])
            return Y, A, loss, X_true
        A = self._operator(Y.shape[1], Y.dtype, like=Y)
        if X_true is not None and self.loss != "unsupervised":
            X_true = _next_to(X_true, Y)
            if tuple(X_true.shape) != (Y.shape[0], A.shape[1]):
                raise ValueError(f"{type(self).__name__}: y (the true codes) has shape "
                                 f"{tuple(X_true.shape)}, expected {(Y.shape[0], A.shape[1])} "
                                 "(n_samples, n_atoms).")
            if not bool(xp.all(xp.isfinite(X_true))):
                raise ValueError(f"{type(self).__name__}: y (the true codes) must be finite.")
        loss = self.loss
        if loss == "auto":
            loss = "unsupervised" if X_true is None else "supervised"
        if loss == "supervised" and X_true is None:
            raise ValueError(f"{type(self).__name__}: loss='supervised' needs the true codes: "
                             "call fit(X, y) with the true codes y, or use "
                             "loss='unsupervised'.")
        return Y, A, loss, (X_true if loss == "supervised" else None)

    # -- fitting --------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the layers' parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_measurements)
            Measurements ``y = A x + noise``, one signal per row.
        y : array-like of shape (n_samples, n_atoms) or None
            True codes ``x`` (supervised loss); ignored by ``loss="unsupervised"``.

        Returns
        -------
        self
        """
        Y, A, loss, X_true = self._prepare(X, y, reset=True)
        rng = check_random_state(self.random_state)
        n = Y.shape[0]
        n_val = min(int(self.validation_fraction * n), _MAX_VALIDATION) if n >= 2 else 0
        perm = rng.permutation(n)
        val, tr = perm[:n_val], perm[n_val:]
        validation = None
        bs = min(self.batch_size, tr.size)
        model = self._make_model()
        n_stages = {"all": 1, "incremental": self.n_layers, "stagewise": 3 * self.n_layers}
        total = self.max_iter * n_stages[self.schedule]
        xp = data_namespace(Y)
        if xp is None:
            if n_val > 0:
                validation = (A, Y[val], None if X_true is None else X_true[val])

            def draw():
                idx = tr[rng.choice(tr.size, bs, replace=False)] if bs < tr.size else tr
                return A, Y[idx], None if X_true is None else X_true[idx]
        else:
            validation, draw = self._namespace_batches(xp, A, Y, X_true, rng, val, tr, bs,
                                                       total)
        with fit_progress(total, type(self).__name__, self.verbose) as fp:
            res = train_unfolded(model, draw, n_layers=self.n_layers, loss=loss,
                                 schedule=self.schedule, max_iter=self.max_iter,
                                 learning_rate=self.learning_rate, validation=validation,
                                 clip_norm=self.clip_norm, callback=fp.callback,
                                 verbose=fp.solver_verbose,
                                 check_every=_check_every(self.max_iter))
            fp.finish(res.n_iter)
        self.loss_ = loss
        self.model_ = model
        self.loss_curve_ = _curve(res.info["loss_curve"], Y)
        self._optimizer = None
        self._set_params(res.x, res.n_iter)
        return self

    @staticmethod
    def _namespace_batches(xp, A, Y, X_true, rng, val, tr, bs, total):
        """Validation set and minibatch source on the data's device: the minibatch rows
        are drawn on the host with the same generator calls as the NumPy fit (so the same
        minibatches), all of them up front, and sent to the device in one transfer;
        each step then gathers its rows there with ``xp.take``."""
        def rows(a, idx):
            return None if a is None else xp.take(a, idx, axis=0)

        validation = None
        if val.size > 0:
            iv = asarray_on(val, Y, dtype=xp.int64)
            validation = (A, rows(Y, iv), rows(X_true, iv))
        if bs >= tr.size:
            itr = asarray_on(tr, Y, dtype=xp.int64)
            batch = (A, rows(Y, itr), rows(X_true, itr))
            return validation, lambda: batch
        draws = np.stack([tr[rng.choice(tr.size, bs, replace=False)] for _ in range(total)])
        idx_all = asarray_on(draws, Y, dtype=xp.int64)
        step = iter(range(total))

        def draw():
            idx = idx_all[next(step), :]
            return A, rows(Y, idx), rows(X_true, idx)

        return validation, draw

    def partial_fit(self, X, y=None):
        """One Adam step on this batch, all layers (schedule ``"all"``), for streams.

        The first call initialises the parameters on ``operator``; later calls continue
        with the same optimiser state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_measurements)
            Measurements.
        y : array-like of shape (n_samples, n_atoms) or None
            True codes.

        Returns
        -------
        self
        """
        first = not hasattr(self, "params_")
        if first:
            self._validate_params()
        Y, A, loss, X_true = self._prepare(X, y, reset=first)
        if first:
            self.model_ = self._make_model()
            self.loss_ = loss
            self.loss_curve_ = _curve([], Y)
            self._optimizer = None
            init = self.model_.init_params(A, self.n_layers, lam=self.alpha, dtype=Y.dtype)
            n_iter = 0
        else:
            if loss != self.loss_:
                raise ValueError(f"{type(self).__name__}: partial_fit got a {loss} batch "
                                 f"after a {self.loss_} one.")
            if data_namespace(Y) is None and data_namespace(*self.params_.values()) is None:
                init = {k: v.astype(Y.dtype, copy=False) for k, v in self.params_.items()}
            else:
                init = {k: _next_to(v, Y) for k, v in self.params_.items()}
            n_iter = self.n_iter_
        res = train_unfolded(self.model_, [(A, Y, X_true)], n_layers=self.n_layers,
                             loss=loss, schedule="all", max_iter=1,
                             learning_rate=self.learning_rate, init=init,
                             clip_norm=self.clip_norm, optimizer=self._optimizer,
                             keep_best=False, check_every=1, verbose=0)
        self._optimizer = res.info["optimizer"]
        new = _curve(res.info["loss_curve"], self.loss_curve_)
        xp = data_namespace(new)
        self.loss_curve_ = (np.concatenate([self.loss_curve_, new]) if xp is None
                            else xp.concat([self.loss_curve_, new]))
        self._set_params(res.x, n_iter + res.n_iter)
        return self

    def _set_params(self, params, n_iter):
        self.params_ = params
        self.n_iter_ = int(n_iter)
        model = self.model_
        self.steps_ = model.steps(params) if hasattr(model, "steps") else params.get("alpha")
        self.thresholds_ = (model.thresholds(params) if hasattr(model, "thresholds")
                            else params.get("theta"))
        self.n_atoms_ = int(np.shape(self.operator)[1])

    # -- inference ------------------------------------------------------------------------
    def _forward(self, Y, method):
        check_is_fitted(self, "params_")
        Y = self._validate_input(Y, reset=False)
        self._check_same_namespace(Y, method)
        if data_namespace(Y, *self.params_.values()) is None:
            A = self._operator(Y.shape[1], Y.dtype)
            params = {k: v.astype(Y.dtype, copy=False) for k, v in self.params_.items()}
        else:  # the weights moved once to Y's namespace, device and dtype (cached)
            moved = self._moved(Y)
            A, params = moved["A"], moved["params"]
        xs, _ = self.model_.forward(params, A, Y)
        return xs, A, Y

    def _check_same_namespace(self, Y, method):
        """Under ``array_api_dispatch``, an estimator fitted on arrays of a namespace
        (or device) refuses inputs from another one (scikit-learn's convention). A NumPy
        fit is accepted everywhere: its weights are moved to the input's namespace and
        device once (see :meth:`_moved`)."""
        from ..utils.estimator import array_api_dispatch_enabled

        ref = self.thresholds_ if self.thresholds_ is not None else self.params_["theta"]
        fitted = data_namespace(ref)
        if fitted is None or not array_api_dispatch_enabled():
            return
        got = data_namespace(Y)
        if got is not None and namespace_name(got) == namespace_name(fitted) \
                and device(Y) == device(ref):
            return
        raise ValueError(
            f"{type(self).__name__}.{method}(): X must use the same namespace and device as "
            f"the data used in fit: fitted on {namespace_name(fitted)} arrays on "
            f"{device(ref)!s}, got {namespace_name(got) if got else 'numpy'} arrays on "
            f"{device(Y)!s}. Move X there, or refit.")

    def transform(self, X):
        """Codes of the last layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_measurements)
            Measurements.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_atoms)
        """
        return self._forward(X, "transform")[0][-1]

    def predict(self, X):
        """Codes of the last layer (same as :meth:`transform`)."""
        return self._forward(X, "predict")[0][-1]

    def layer_outputs(self, X):
        """Codes of every layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_measurements)
            Measurements.

        Returns
        -------
        X_layers : ndarray of shape (n_layers, n_samples, n_atoms)
            ``X_layers[t - 1]`` is ``x_t``, the output of layer t.
        """
        xs = self._forward(X, "layer_outputs")[0][1:]
        xp = data_namespace(*xs)
        return np.stack(xs) if xp is None else xp.stack(xs)

    def score(self, X, y=None):
        """Negative NMSE (supervised fit) or negative mean objective (unsupervised fit).

        After a supervised fit: ``-sum ||x_T - x||^2 / sum ||x||^2`` against the true codes
        ``y`` (required). After an unsupervised fit: ``-mean F(x_T)``, the original objective
        (``y`` ignored). Larger is better either way.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_measurements)
            Measurements.
        y : array-like of shape (n_samples, n_atoms) or None
            True codes.

        Returns
        -------
        score : float
        """
        xs, A, Y = self._forward(X, "score")
        xT = xs[-1]
        xp = data_namespace(xT)
        if self.loss_ == "supervised" and xp is not None:
            if y is None:
                raise ValueError(f"{type(self).__name__}: score after a supervised fit "
                                 "needs the true codes y.")
            X_true = xp.astype(_next_to(y, xT), xp.float64)
            if tuple(X_true.shape) != tuple(xT.shape):
                raise ValueError(f"{type(self).__name__}: y (the true codes) has shape "
                                 f"{tuple(X_true.shape)}, expected {tuple(xT.shape)}.")
            D = xp.astype(xT, xp.float64) - X_true
            return -float(xp.sum(D * D) / xp.sum(X_true * X_true))
        if self.loss_ == "supervised":
            X_true = y
            if X_true is None:
                raise ValueError(f"{type(self).__name__}: score after a supervised fit "
                                 "needs the true codes y.")
            X_true = check_array(X_true, dtype=np.float64, input_name="y")
            if X_true.shape != xT.shape:
                raise ValueError(f"{type(self).__name__}: y (the true codes) has shape "
                                 f"{X_true.shape}, expected {xT.shape}.")
            return -float(np.sum((xT - X_true) ** 2) / np.sum(X_true ** 2))
        return -objective(self.model_.objective_penalty, xT, A, Y, self.alpha,
                          delta=getattr(self.model_, "l0_delta", None))

    def objective(self, X):
        """Mean original objective ``F(x_t)`` of every layer (shape ``(n_layers,)``) on the
        measurements ``X``."""
        xs, A, Y = self._forward(X, "objective")
        pen = self.model_.objective_penalty
        return np.array([objective(pen, x, A, Y, self.alpha) for x in xs[1:]])

    @property
    def _n_features_out(self):
        return int(np.shape(self.operator)[1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = False
        # fit and transform run in the input's namespace (CuPy, array_api_strict ...)
        # under scikit-learn's array_api_dispatch: the layers, the hand-derived
        # gradients and Adam are dense array code
        tags.array_api_support = True
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        rng = np.random.default_rng(0)
        n_features = _check_n_features(check_name)
        operator = rng.normal(size=(n_features, 6))
        if check_name.startswith("check_array_api_"):
            # that check wants every NumPy array in vars(est) in the input's namespace after
            # a fit, constructor parameters included; the operator is user input (moved,
            # not stored, by fit), so it is given there as an array-like list
            operator = operator.tolist()
        return {"operator": operator, "n_layers": 2, "max_iter": 3,
                "loss": "unsupervised", "batch_size": 10, "random_state": 0, "verbose": 0}


def _next_to(a, like):
    """``a`` (host data or an array of any namespace) next to ``like``, in its dtype.

    Host (NumPy) ``like``: an array of another namespace is copied to the host once
    (``to_numpy``: a weight fitted on a device, used on NumPy inputs)."""
    if data_namespace(like) is None:
        host = to_numpy(a) if data_namespace(a) is not None else np.asarray(a)
        return host.astype(like.dtype, copy=False)
    return to_namespace(a, like)


def _curve(values, like):
    """A curve of host floats as a float64 array next to ``like`` (one transfer)."""
    if data_namespace(like) is None:
        return np.asarray(values, dtype=np.float64)
    return asarray_on(np.asarray(values, dtype=np.float64), like,
                      dtype=data_namespace(like).float64)


_ARRAY_API_NOTE = """    Notes
    -----
    Array API: under ``sklearn.config_context(array_api_dispatch=True)``, ``fit``,
    ``partial_fit``, ``transform``/``predict``, ``layer_outputs``, ``score`` and
    ``objective`` accept CuPy, ``array_api_strict``, PyTorch ... arrays and compute in
    their namespace and on their device; the fitted ``params_``, ``steps_``,
    ``thresholds_`` and ``loss_curve_`` are arrays of that namespace. Minibatch rows are
    drawn on the host with the same generator calls as a NumPy fit (all draws up front,
    sent to the device once). An estimator fitted on NumPy arrays also serves device
    inputs: the operator and the weights are moved once per namespace, device and dtype
    and cached; an estimator fitted on device arrays refuses inputs of another namespace
    or device (scikit-learn's convention).

"""


def _doc(cls_doc):
    doc = cls_doc.replace("%(common)s", _COMMON_DOC.strip("\n"))
    return doc.replace("    References\n", _ARRAY_API_NOTE + "    References\n", 1)


class UnfoldedISTA(_UnfoldedEstimator):
    _doc_ = """Deep-unfolded ISTA: T ISTA layers whose step sizes are learned from data.

    Layer t computes ``x_{t+1} = S_theta_t(x_t + alpha_t A^T (y - A x_t))`` with learned
    steps ``alpha_t`` and, by default, the tied threshold ``theta_t = alpha alpha_t`` so
    that every layer stays a prox-gradient step on ``F1 = 1/2 ||y - A x||^2 +
    alpha ||x||_1``. Trained with the spec's hand-derived gradients and Adam
    (:func:`~sparsopt.unfolding.train_unfolded`), supervised (``fit(X, y)`` with the
    measurements ``X`` and the true codes ``y``: MSE) or unsupervised (``fit(X)``: F1 at
    the last layer).

    Parameters
    ----------
%(common)s
    thresholds : {"tied", "layer", "coordinate"}, default="tied"
        Tied ``theta_t = alpha alpha_t``, or free per layer, or per layer and atom.
    step_param : {"linear", "log"}, default="linear"
        Steps stored as ``c_t = alpha_t L`` or ``log c_t``.
    max_step : float, default=10.0
        Cap on ``alpha_t L``.

    Attributes
    ----------
    params_ : dict of ndarray
        Learned parameters (see :class:`~sparsopt.unfolding.DUISTA`).
    steps_ : ndarray of shape (n_layers,)
        Learned steps ``alpha_t``.
    thresholds_ : ndarray of shape (n_layers,) or (n_layers, n_atoms)
    loss_curve_ : ndarray
        Training loss of every Adam step.
    loss_ : str
        The loss used ("supervised" or "unsupervised").
    n_iter_ : int
        Adam steps taken.
    model_ : DUISTA
    n_features_in_ : int

    See Also
    --------
    UnfoldedIHT, LISTA, sparsopt.solvers.ista

    References
    ----------
    K. Nagahisa, R. Hayakawa, Y. Iiguni, "Deep unfolding of ISTA and IHT: supervised vs
    unsupervised training", arXiv:2509.01331, 2025. D. Ito, S. Takabe, T. Wadayama,
    "Trainable ISTA for sparse signal recovery", IEEE Trans. Signal Process., 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import UnfoldedISTA
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20, 40)) / np.sqrt(20)
    >>> X = rng.standard_normal((200, 40)) * (rng.random((200, 40)) < 0.1)
    >>> Y = X @ A.T
    >>> est = UnfoldedISTA(operator=A, n_layers=5, alpha=0.01, max_iter=20,
    ...                    random_state=0).fit(Y, X)
    >>> est.transform(Y).shape, est.steps_.shape, est.loss_
    ((200, 40), (5,), 'supervised')
    """

    def __init__(self, operator=None, *, n_layers=16, alpha=0.1, loss="auto",
                 schedule="incremental", max_iter=100, batch_size=50, learning_rate=0.01,
                 validation_fraction=0.1, clip_norm=None, random_state=None, verbose=None,
                 thresholds="tied", step_param="linear", max_step=10.0):
        self._common_init(operator, n_layers, alpha, loss, schedule, max_iter, batch_size,
                          learning_rate, validation_fraction, clip_norm, random_state,
                          verbose)
        self.thresholds = thresholds
        self.step_param = step_param
        self.max_step = max_step

    _parameter_constraints = {
        **_UnfoldedEstimator._parameter_constraints,
        "thresholds": [StrOptions({"tied", "layer", "coordinate"})],
        "step_param": [StrOptions({"linear", "log"})],
        "max_step": [Interval(Real, 0, None, closed="neither")],
    }

    def _make_model(self):
        return DUISTA(self.alpha, thresholds=self.thresholds, step_param=self.step_param,
                      max_step=self.max_step)


UnfoldedISTA.__doc__ = _doc(UnfoldedISTA._doc_)


class UnfoldedIHT(_UnfoldedEstimator):
    _doc_ = """Deep-unfolded IHT: T hard-thresholding layers whose step sizes are learned.

    Layer t computes ``x_{t+1} = H_tau_t(x_t + alpha_t A^T (y - A x_t))`` with
    ``tau_t = sqrt(2 alpha alpha_t)``: every layer is a prox-gradient step on
    ``F0 = 1/2 ||y - A x||^2 + alpha ||x||_0``. The hard threshold is differentiated with
    a fixed mask (default), straight-through, or a smooth surrogate; the unsupervised loss
    is F0 at the last layer, whose l0 term has no gradient (only the data fit drives
    learning) unless ``l0_delta`` is set with the surrogate.

    Parameters
    ----------
%(common)s
    gradient : {"mask", "straight_through", "surrogate"}, default="mask"
        See :class:`~sparsopt.unfolding.DUIHT`.
    temperature : float, default=0.1
        Relative temperature of the surrogate (at the start of training when annealed).
    temperature_final : float or None, default=None
        Anneal the surrogate geometrically from ``temperature`` to this value over
        training (sharpening it towards the hard threshold); None: a fixed temperature.
    anneal : {"training", "layer"}, default="training"
        Anneal over all the training steps, or afresh over each added layer's steps.
    l0_delta : float or None, default=None
        Smooth l0 of the unsupervised loss with the surrogate.
    step_param : {"linear", "log"}, default="linear"
    max_step : float, default=10.0

    Attributes
    ----------
    params_ : dict of ndarray
    steps_ : ndarray of shape (n_layers,)
    thresholds_ : ndarray of shape (n_layers,)
        ``tau_t``.
    loss_curve_ : ndarray
    loss_ : str
    n_iter_ : int
    model_ : DUIHT
    n_features_in_ : int

    See Also
    --------
    UnfoldedISTA, LIHT, sparsopt.solvers.iht

    References
    ----------
    K. Nagahisa, R. Hayakawa, Y. Iiguni, arXiv:2509.01331, 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import UnfoldedIHT
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20, 40)) / np.sqrt(20)
    >>> X = rng.standard_normal((200, 40)) * (rng.random((200, 40)) < 0.1)
    >>> est = UnfoldedIHT(operator=A, n_layers=5, alpha=0.01, max_iter=20,
    ...                   random_state=0).fit(X @ A.T)
    >>> est.loss_, est.layer_outputs(X @ A.T).shape
    ('unsupervised', (5, 200, 40))
    """

    def __init__(self, operator=None, *, n_layers=16, alpha=0.1, loss="auto",
                 schedule="incremental", max_iter=100, batch_size=50, learning_rate=0.01,
                 validation_fraction=0.1, clip_norm=None, random_state=None, verbose=None,
                 gradient="mask", temperature=0.1, temperature_final=None,
                 anneal="training", l0_delta=None, step_param="linear", max_step=10.0):
        self._common_init(operator, n_layers, alpha, loss, schedule, max_iter, batch_size,
                          learning_rate, validation_fraction, clip_norm, random_state,
                          verbose)
        self.gradient = gradient
        self.temperature = temperature
        self.temperature_final = temperature_final
        self.anneal = anneal
        self.l0_delta = l0_delta
        self.step_param = step_param
        self.max_step = max_step

    _parameter_constraints = {
        **_UnfoldedEstimator._parameter_constraints,
        "gradient": [StrOptions({"mask", "straight_through", "surrogate"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "temperature_final": [Interval(Real, 0, None, closed="neither"), None],
        "anneal": [StrOptions({"training", "layer"})],
        "l0_delta": [Interval(Real, 0, None, closed="neither"), None],
        "step_param": [StrOptions({"linear", "log"})],
        "max_step": [Interval(Real, 0, None, closed="neither")],
    }

    def _make_model(self):
        return DUIHT(self.alpha, gradient=self.gradient, temperature=self.temperature,
                     temperature_final=self.temperature_final, anneal=self.anneal,
                     l0_delta=self.l0_delta, step_param=self.step_param,
                     max_step=self.max_step)


UnfoldedIHT.__doc__ = _doc(UnfoldedIHT._doc_)


def _lista_module():
    try:
        from . import _lista
    except ImportError as exc:  # pragma: no cover - the other half of the family
        raise ImportError("sparsopt.unfolding._lista (the LISTA models) is not available "
                          "in this build.") from exc
    return _lista


class LISTA(_UnfoldedEstimator):
    _doc_ = """LISTA and its variants: unrolled ISTA with learned matrices and thresholds.

    ``variant`` picks the layer (Gregor & LeCun's untied or tied LISTA, LISTA-CP,
    LISTA-CPSS with support selection, TiLISTA, ALISTA with its analytic weight matrix);
    the model is :class:`sparsopt.unfolding._lista.LISTAModel`.

    Parameters
    ----------
%(common)s
    variant : {"untied", "tied", "cp", "cpss", "tilista", "alista"}, default="cp"

    Attributes
    ----------
    params_ : dict of ndarray
    steps_ : ndarray or None
        Learned ``alpha_t`` (TiLISTA, ALISTA), else None.
    thresholds_ : ndarray
    loss_curve_ : ndarray
    loss_ : str
    n_iter_ : int
    n_features_in_ : int

    References
    ----------
    K. Gregor, Y. LeCun, "Learning fast approximations of sparse coding", ICML 2010.
    X. Chen, J. Liu, Z. Wang, W. Yin, NeurIPS 2018. J. Liu, X. Chen, Z. Wang, W. Yin,
    "ALISTA: analytic weights are as good as learned weights in LISTA", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import LISTA
    >>> est = LISTA(operator=np.eye(3), variant="cp", n_layers=4)
    >>> est.variant
    'cp'
    """

    def __init__(self, operator=None, *, variant="cp", n_layers=16, alpha=0.1, loss="auto",
                 schedule="incremental", max_iter=100, batch_size=50, learning_rate=0.01,
                 validation_fraction=0.1, clip_norm=None, random_state=None, verbose=None):
        self._common_init(operator, n_layers, alpha, loss, schedule, max_iter, batch_size,
                          learning_rate, validation_fraction, clip_norm, random_state,
                          verbose)
        self.variant = variant

    _parameter_constraints = {
        **_UnfoldedEstimator._parameter_constraints,
        "variant": [StrOptions({"untied", "tied", "cp", "cpss", "tilista", "alista"})],
    }

    def _make_model(self):
        return _lista_module().LISTAModel(self.variant, self.alpha)


LISTA.__doc__ = _doc(LISTA._doc_)


class LIHT(_UnfoldedEstimator):
    _doc_ = """Learned IHT (the ALISTA repository's LIHT): unrolled IHT with learned matrices.

    The model is :class:`sparsopt.unfolding._lista.LIHTModel`; its threshold gets no
    gradient (hard thresholding), so only the matrices are learned.

    Parameters
    ----------
%(common)s

    Attributes
    ----------
    params_ : dict of ndarray
    thresholds_ : ndarray
    loss_curve_ : ndarray
    loss_ : str
    n_iter_ : int
    n_features_in_ : int

    References
    ----------
    X. Chen et al., NeurIPS 2018; J. Liu et al., ICLR 2019 (the ALISTA repository's LIHT).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import LIHT
    >>> LIHT(operator=np.eye(3), n_layers=4).n_layers
    4
    """

    def __init__(self, operator=None, *, n_layers=16, alpha=0.1, loss="auto",
                 schedule="incremental", max_iter=100, batch_size=50, learning_rate=0.01,
                 validation_fraction=0.1, clip_norm=None, random_state=None, verbose=None):
        self._common_init(operator, n_layers, alpha, loss, schedule, max_iter, batch_size,
                          learning_rate, validation_fraction, clip_norm, random_state,
                          verbose)

    def _make_model(self):
        return _lista_module().LIHTModel(self.alpha)


LIHT.__doc__ = _doc(LIHT._doc_)
