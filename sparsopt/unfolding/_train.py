"""Training of unfolded models: a hand-written Adam, three schedules, keep-best, the loop protocol.

``train_unfolded`` trains any :class:`~sparsopt.unfolding._base.UnfoldedModel` on an
iterable, or a callable, of ``(A, Y, X_true)`` minibatches (the paper's setting redraws the
operator for every minibatch; an estimator with a fixed operator passes a callable that
draws rows).
"""

from __future__ import annotations

import math

import numpy as np

from .._core.loop import LoopMonitor, check_max_iter, copy_array
from ..backends import device, dispatch, errstate
from ._du import OperatorConstants
from ._losses import LOSSES, loss_and_grad, objective
from ._xp import data_namespace, params_to, to_namespace, xp_dtype

__all__ = ["Adam", "train_unfolded"]

SCHEDULES = ("incremental", "stagewise", "all")


class Adam:
    """Adam (Kingma & Ba, 2015) over a dict of arrays, updated in place.

    The learning rate is relative to each parameter's scale (pitfall 1 of the spec): a key
    whose name starts with ``log_`` moves by ``lr`` in log space; any other key by
    ``lr * mean(|p_0|)`` (``p_0`` its value when the optimiser was built; 1 when zero).
    The moments ``m``, ``v`` have the parameters' dtype (float32 stays float32), and each
    key's update is one fused pass over the parameter, its gradient and its moments
    (kernel ``unfold_adam``), without temporaries.

    Parameters
    ----------
    params : dict of ndarray
    lr : float
    beta1, beta2, eps : float
    engine : {"numba", "numpy"} or None
        Backend of the update kernel; None: the library's default.

    References
    ----------
    .. [1] Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic optimization.
       ICLR 2015, arXiv:1412.6980.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import Adam
    >>> p = {"c": np.ones(2)}
    >>> opt = Adam(p, lr=0.1)
    >>> opt.step(p, {"c": np.array([1.0, -1.0])})
    >>> p["c"]
    array([0.9, 1.1])
    """

    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, engine=None):
        self.lr, self.beta1, self.beta2, self.eps = float(lr), beta1, beta2, eps
        self.engine = engine
        xp = self._xp = data_namespace(*params.values())
        if xp is not None:  # parameters of another namespace: moments next to them
            self.m, self.v, self.scale, self._ones = {}, {}, {}, {}
            for k, v in params.items():
                dt = v.dtype if v.dtype in (xp.float32, xp.float64) else xp.float64
                self.m[k] = xp.zeros(v.shape, dtype=dt, device=device(v))
                self.v[k] = xp.zeros(v.shape, dtype=dt, device=device(v))
                s = float(xp.mean(xp.abs(xp.astype(v, dt)))) if math.prod(v.shape) else 0.0
                self.scale[k] = 1.0 if k.startswith("log_") or not s > 0 else s
            self.t = 0
            return
        # moments in each parameter's dtype (float32 stays float32), 2-D views per layer
        self.m = {k: np.zeros(v.shape, _float_dtype(v)) for k, v in params.items()}
        self.v = {k: np.zeros(v.shape, _float_dtype(v)) for k, v in params.items()}
        self.t = 0
        self.scale = {}
        self._ones = {}
        for k, v in params.items():
            s = float(np.mean(np.abs(v))) if v.size else 0.0
            self.scale[k] = 1.0 if k.startswith("log_") or not s > 0 else s

    def step(self, params, grads, lr=None, multipliers=None, grad_scale=1.0):
        """One update in place; ``multipliers[key]`` scales the step of that key (an array
        broadcast along the leading axis, e.g. per layer); ``grad_scale`` multiplies every
        gradient (clipping) without a copy.

        The update of each key is one fused pass (kernel ``unfold_adam``) over the
        parameter, its gradient and its two moments, with no temporaries."""
        lr = self.lr if lr is None else lr
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        if self._xp is not None:
            self._step_xp(params, grads, lr, multipliers, grad_scale, c1, c2)
            return
        for k, g in grads.items():
            if k not in self.m:
                continue
            p, m, v = params[k], self.m[k], self.v[k]
            if p.size == 0:
                continue
            if not (isinstance(p, np.ndarray) and p.flags.c_contiguous
                    and p.dtype == m.dtype):
                params[k] = p = np.array(p, dtype=m.dtype, order="C")
            rows = p.shape[0] if p.ndim > 1 else 1
            P2 = p.reshape(rows, -1)
            G2 = np.ascontiguousarray(g, dtype=m.dtype).reshape(rows, -1)
            if multipliers is not None and k in multipliers:
                mult = np.asarray(multipliers[k], dtype=m.dtype)
                if p.ndim <= 1 or mult.size == 1:  # a vector or a scalar: per entry
                    mult = np.broadcast_to(mult, p.shape).reshape(rows, -1)
                    P2, G2 = P2.reshape(-1, 1), G2.reshape(-1, 1)
                    rows = P2.shape[0]
                mult = np.ascontiguousarray(np.broadcast_to(mult.reshape(-1), (rows,)))
            else:
                mult = self._ones.get((rows, m.dtype))
                if mult is None:
                    mult = self._ones[rows, m.dtype] = np.ones(rows, m.dtype)
            M2, V2 = m.reshape(P2.shape), v.reshape(P2.shape)
            coef = np.array([grad_scale, lr * self.scale[k], b1, 1 - b1, b2, 1 - b2, c1, c2,
                             self.eps], dtype=m.dtype)
            dispatch("unfold_adam", P2, G2, M2, V2, mult, coef, engine=self.engine)


    def _step_xp(self, params, grads, lr, multipliers, grad_scale, c1, c2):
        """:meth:`step` in the parameters' namespace: the same kernel (its generic
        reference) on 2-D reshapes, the coefficients as host floats (no transfer)."""
        xp = self._xp
        b1, b2 = self.beta1, self.beta2
        for k, g in grads.items():
            if k not in self.m:
                continue
            p, m, v = params[k], self.m[k], self.v[k]
            if math.prod(p.shape) == 0:
                continue
            dev = device(m)
            if data_namespace(p) is None or p.dtype != m.dtype:
                p = to_namespace(p, m)
            rows = p.shape[0] if p.ndim > 1 else 1
            shape2 = (rows, -1)
            if multipliers is not None and k in multipliers:
                mult = multipliers[k]
                if isinstance(mult, (int, float)):
                    mult = xp.full((1,), float(mult), dtype=m.dtype, device=dev)
                else:
                    mult = to_namespace(mult, m)
                msize = math.prod(mult.shape)
                if p.ndim <= 1 or msize == 1:  # a vector or a scalar: per entry
                    base = xp.reshape(mult, () if msize == 1 else (-1,))
                    mult = xp.reshape(xp.broadcast_to(base, p.shape), (-1,))
                    shape2 = (-1, 1)
                    rows = mult.shape[0]
                else:
                    mult = xp.broadcast_to(xp.reshape(mult, (-1,)), (rows,))
            else:
                mult = self._ones.get((rows, m.dtype))
                if mult is None:
                    mult = self._ones[rows, m.dtype] = xp.ones(rows, dtype=m.dtype, device=dev)
            P2, M2, V2 = (xp.reshape(a, shape2) for a in (p, m, v))
            G2 = xp.reshape(to_namespace(g, m), shape2)
            coef = (float(grad_scale), float(lr * self.scale[k]), b1, 1 - b1, b2, 1 - b2,
                    c1, c2, self.eps)
            dispatch("unfold_adam", P2, G2, M2, V2, mult, coef, engine=self.engine)
            params[k] = xp.reshape(P2, p.shape)
            self.m[k] = xp.reshape(M2, m.shape)
            self.v[k] = xp.reshape(V2, v.shape)


def _float_dtype(v):
    dt = np.asarray(v).dtype
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float64)


def _sq_norm(g):
    """Squared norm of one gradient, in its dtype (BLAS dot), float64 if that overflows."""
    g = np.asarray(g)
    if g.dtype not in (np.float32, np.float64):
        g = g.astype(np.float64)
    flat = g.reshape(-1)
    s = float(np.dot(flat, flat))
    if not math.isfinite(s) and np.isfinite(flat).all():
        f64 = flat.astype(np.float64)
        s = float(np.dot(f64, f64))
    return s


def _copy(params):
    return {k: copy_array(v) for k, v in params.items()}


def _grad_norm(grads):
    """Global gradient norm as a host float (for arrays of another namespace, one
    synchronisation for all the keys; float64 if the sum of squares overflows)."""
    xp = data_namespace(*grads.values())
    if xp is None:
        return math.sqrt(sum(_sq_norm(g) for g in grads.values()))
    sq = [xp.sum(g * g) for g in grads.values() if math.prod(g.shape)]
    if not sq:
        return 0.0
    total = float(xp.sum(xp.stack([xp.astype(q, xp.float64) for q in sq])))
    if not math.isfinite(total):
        g64 = [xp.astype(g, xp.float64) for g in grads.values() if math.prod(g.shape)]
        total = float(xp.sum(xp.stack([xp.sum(g * g) for g in g64])))
    return math.sqrt(total)


def _shared_keys(model, params, n_layers):
    shared = getattr(model, "shared_keys", None)
    if shared is not None:
        return set(shared)
    return {k for k, v in params.items() if v.ndim == 0 or v.shape[0] != n_layers}


def _layer_mult(params, shared, n_layers, weights):
    """Per-key multipliers: ``weights`` (shape (n_layers,)) on per-layer keys."""
    out = {}
    for k in params:
        if k in shared:
            continue
        out[k] = weights
    return out


def _batch_source(batches):
    if callable(batches):
        return batches, True
    it = iter(batches)
    return (lambda: next(it)), False


def train_unfolded(model, batches, *, n_layers, loss="supervised", schedule="incremental",
                   max_iter=100, learning_rate=0.01, init=None, validation=None,
                   n_validation=4, clip_norm=None, patience=None, check_every=10,
                   keep_best=True, optimizer=None, callback=None, verbose=None):
    """Train an unfolded model with hand-derived gradients and Adam.

    Parameters
    ----------
    model : UnfoldedModel
        :class:`~sparsopt.unfolding.DUISTA`, :class:`~sparsopt.unfolding.DUIHT` or a
        LISTA-family model; its ``lam`` weighs the unsupervised objective.
    batches : callable or iterable
        ``batches()`` (or each item) returns ``(A, Y, X_true)``: the operator
        ``(n_measurements, n_atoms)``, the measurements ``(batch, n_measurements)`` and the
        true codes ``(batch, n_atoms)`` (``None`` allowed with ``loss="unsupervised"``). The
        operator may change from batch to batch. An exhausted iterable ends training.
    n_layers : int
        Number of layers T.
    loss : {"supervised", "unsupervised"}, default="supervised"
        MSE to the true codes, or the model's original objective (F1 / F0) at ``x_T``.
    schedule : {"incremental", "stagewise", "all"}, default="incremental"
        ``"incremental"`` (TISTA): for t = 1..T, ``max_iter`` steps of the loss at layer t
        updating every layer 1..t (a fresh Adam per layer). ``"stagewise"`` (LISTA-CPSS):
        for t = 1..T, three stages of at most ``max_iter`` steps: the new layer only at
        ``learning_rate``, then layers 1..t at ``0.2`` and ``0.02`` times it, older layers
        damped by ``0.3`` per layer of age; each stage also stops after ``patience`` steps
        without a relative validation improvement of 1e-4. ``"all"``: ``max_iter`` steps
        of the loss at layer T on every layer.
    max_iter : int, default=100
        Adam steps per layer (per stage for ``"stagewise"``, in all for ``"all"``).
    learning_rate : float, default=0.01
        Adam's step, relative to each parameter's scale (see :class:`Adam`).
    init : dict or None
        Initial parameters (copied); None: ``model.init_params`` on the first batch's
        operator. NumPy parameters with batches of another array namespace are moved to
        the data's device once, before the first step.
    validation : tuple ``(A, Y, X_true)``, list of them, or None
        Validation batches (their mean loss, evaluated with the exact layers and, for the
        unsupervised loss, the exact objective even where training smooths the l0 term
        with ``l0_delta``) for keep-best and plateau stopping; None:
        ``n_validation`` extra draws when ``batches`` is callable (with a fresh operator
        per batch, several operators make keep-best see atypical ones), no validation for
        an iterable.
    n_validation : int, default=4
        Draws of the default validation set.
    clip_norm : float or None, default=None
        Clip the global gradient norm (over every parameter) to this value.
    patience : int or None
        Steps without validation improvement that end a stage (``"stagewise"`` default:
        ``max(max_iter // 4, check_every)``); None elsewhere: no early stop.
    check_every : int, default=10
        Steps between validation checks (and protocol checks: callback, verbose).
    keep_best : bool, default=True
        At the end of every stage, restore the parameters with the best validation loss.
    optimizer : Adam or None
        Continue with this optimiser (``schedule="all"`` only; ``partial_fit``).
    callback : callable ``callback(SolverState) -> bool | None`` or None
        Called at each check with ``state.x`` the current parameters dict; True stops.
    verbose : int, bool or None
        One line per check when > 0; None reads :func:`sparsopt.get_config`.

    Returns
    -------
    result : SolverResult
        ``x`` is the learned parameters dict; ``n_iter`` the Adam steps taken; ``history``
        one record per check (``objective``: training loss; ``stop_crit``: validation loss,
        or the training loss without validation); ``info["loss_curve"]`` the training loss
        of every step, ``info["optimizer"]`` the last :class:`Adam`, ``info["n_skipped"]``
        the steps skipped because the loss or gradient was not finite.

    Notes
    -----
    Array API: batches of CuPy, ``array_api_strict``, PyTorch ... arrays train in their
    namespace and on their device (the layers, the hand-derived gradients and Adam are
    dense array code; the shrinkages and Adam's update are the namespace-generic
    references of their kernels); the learned parameters are arrays of that namespace.
    Each step synchronises twice with the host (the loss value and the gradient norm,
    host floats for the skip/clip decisions and the loss curve), and no array is
    transferred inside the loop. With ``step_scale="operator"`` the operators' constants
    ``||A||_2^2`` are computed once per batch and once per validation operator for the
    call (memoised by array identity, without reading the operators back; validation
    operators must not change during the call).

    References
    ----------
    D. Ito, S. Takabe, T. Wadayama, "Trainable ISTA for sparse signal recovery", IEEE
    Trans. Signal Process., 2019 (incremental training). X. Chen, J. Liu, Z. Wang, W. Yin,
    "Theoretical linear convergence of unfolded ISTA", NeurIPS 2018 (stage-wise training).
    D. P. Kingma, J. Ba, "Adam", ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import DUISTA, train_unfolded
    >>> rng = np.random.default_rng(0)
    >>> def draw():
    ...     A = rng.standard_normal((15, 30)) / np.sqrt(15)
    ...     X = rng.standard_normal((20, 30)) * (rng.random((20, 30)) < 0.1)
    ...     return A, X @ A.T, X
    >>> res = train_unfolded(DUISTA(lam=0.01), draw, n_layers=3, max_iter=20)
    >>> sorted(res.x), res.n_iter
    (['L', 'c'], 60)
    """
    solver = "train_unfolded"
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) \
            or n_layers < 1:
        raise ValueError(f"{solver}: n_layers must be an integer >= 1, got {n_layers!r}.")
    n_layers = int(n_layers)
    if loss not in LOSSES:
        raise ValueError(f"{solver}: loss must be one of {LOSSES}, got {loss!r}.")
    if schedule not in SCHEDULES:
        raise ValueError(f"{solver}: schedule must be one of {SCHEDULES}, got {schedule!r}.")
    max_iter = check_max_iter(max_iter, solver)
    check_every = check_max_iter(check_every, solver, "check_every")
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(f"{solver}: learning_rate must be > 0, got {learning_rate!r}.")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"{solver}: clip_norm must be > 0 or None, got {clip_norm!r}.")
    if optimizer is not None and schedule != "all":
        raise ValueError(f"{solver}: optimizer= continues schedule='all' only.")
    draw, is_callable = _batch_source(batches)
    lam = float(getattr(model, "lam", 0.0))

    # ||A||_2^2 of device operators, once per batch (validation: once per call)
    consts = OperatorConstants()
    first = None
    if init is None:
        first = draw()
        A0, Y0 = first[0], first[1]
        xp = data_namespace(A0, Y0)
        if xp is None:
            params = model.init_params(np.asarray(A0), n_layers, lam=lam,
                                       dtype=np.asarray(Y0).dtype)
        else:  # initialised in the data's namespace and on its device
            like = Y0 if data_namespace(Y0) is not None else A0
            with consts.active():
                params = model.init_params(to_namespace(A0, like, xp_dtype(xp, like.dtype)),
                                           n_layers, lam=lam, dtype=like.dtype)
    else:
        params = _copy(init)
    xp = data_namespace(*params.values())
    like = next(iter(params.values())) if xp is not None else None
    err_xp = np if xp is None else xp  # np.errstate on the NumPy road only
    if validation is None and is_callable:
        validation = [draw() for _ in range(n_validation)]
    if validation is not None and isinstance(validation, tuple):
        validation = [validation]
    if patience is None and schedule == "stagewise":
        patience = max(max_iter // 4, check_every)

    # the stages: (layer t, lr factor, multipliers or None)
    shared = _shared_keys(model, params, n_layers)
    stages = []
    if schedule == "all":
        stages.append((n_layers, 1.0, None))
    elif schedule == "incremental":
        stages.extend((t, 1.0, None) for t in range(1, n_layers + 1))
    else:
        for t in range(1, n_layers + 1):
            only_new = np.zeros(n_layers)
            only_new[t - 1] = 1.0
            m1 = _layer_mult(params, shared, n_layers, only_new)
            if t > 1:
                m1.update(dict.fromkeys(shared, 0.0))
            age = np.zeros(n_layers)
            age[:t] = 0.3 ** np.arange(t - 1, -1, -1)
            m2 = _layer_mult(params, shared, n_layers, age)
            if xp is not None:  # the per-layer weights moved next to the parameters once
                m1, m2 = ({k: w if isinstance(w, float) else to_namespace(w, like)
                           for k, w in mm.items()} for mm in (m1, m2))
            stages += [(t, 1.0, m1), (t, 0.2, m2), (t, 0.02, m2)]

    mon = LoopMonitor(solver, max_iter=max_iter * len(stages), tol=0.0, callback=callback,
                      verbose=verbose, criterion="validation loss", keep_finite=False)
    loss_curve, val_curve = [], []
    n_skipped = 0
    it = 0
    stop = False
    exhausted = False
    opt = optimizer

    anneals = bool(getattr(model, "anneals", False))
    per_layer = getattr(model, "anneal", "training") == "layer"
    n_total = max_iter * len(stages)

    def val_loss(p, t):
        total = 0.0
        with errstate(err_xp, over="ignore", invalid="ignore"), consts.active(pinned=True):
            for Av, Yv, Xv in validation:
                xs, _ = model.forward(p, Av, Yv, n_layers=t)
                if loss == "unsupervised":  # the exact F, not a smoothed l0 (l0_delta)
                    total += objective(model.objective_penalty, xs[t], Av, Yv, lam)
                else:
                    total += loss_and_grad(loss, model, xs[t], Av, Yv, Xv, lam)[0]
        return total / len(validation) if math.isfinite(total) else math.inf

    for t, lr_factor, mult in stages:
        if stop or exhausted:
            break
        if opt is None or schedule != "all":
            opt = Adam(params, lr=learning_rate)
        best_p, best_v, since = None, math.inf, 0
        if validation is not None:
            best_v = val_loss(params, t)
            best_p = _copy(params)
        last = math.nan
        for k in range(1, max_iter + 1):
            if first is not None:
                batch, first = first, None
            else:
                try:
                    batch = draw()
                except StopIteration:
                    exhausted = True
                    break
                consts.next_batch()
            A, Y, X_true = batch
            if xp is None and data_namespace(A, Y) is not None:
                # NumPy parameters (init=) with batches of another namespace: moved to the
                # data's device once, before the first step (a NumPy optimiser restarts)
                xp = err_xp = data_namespace(A, Y)
                like = Y if data_namespace(Y) is not None else A
                params = params_to(params, like)
                opt = Adam(params, lr=learning_rate)
                if best_p is not None:
                    best_p = params_to(best_p, like)
            with errstate(err_xp, over="ignore", invalid="ignore", divide="ignore"), \
                    consts.active():
                if anneals:  # an annealed surrogate: its temperature follows the progress
                    if per_layer:
                        progress = (k - 1) / max(max_iter - 1, 1)
                    else:
                        progress = it / max(n_total - 1, 1)
                    xs, cache = model.forward(params, A, Y, n_layers=t, cache=True,
                                              progress=progress)
                else:
                    xs, cache = model.forward(params, A, Y, n_layers=t, cache=True)
                value, G = loss_and_grad(loss, model, xs[t], A, Y, X_true, lam)
                grads = model.backward(params, A, Y, cache, G, n_layers=t)
            it += 1
            gnorm = _grad_norm(grads)
            if not (math.isfinite(value) and math.isfinite(gnorm)):
                n_skipped += 1
            else:
                gscale = 1.0
                if clip_norm is not None and gnorm > clip_norm:
                    gscale = clip_norm / gnorm
                opt.step(params, grads, lr=learning_rate * lr_factor, multipliers=mult,
                         grad_scale=gscale)
                model.project(params)
                last = value
            loss_curve.append(value)
            if k % check_every == 0 or k == max_iter:
                crit = last
                if validation is not None:
                    crit = val_loss(params, t)
                    val_curve.append(crit)
                    # a plateau: no relative improvement above 1e-4 for ``patience`` steps
                    since = 0 if crit < best_v - 1e-4 * abs(best_v) else since + check_every
                    if crit < best_v:
                        best_v, best_p = crit, _copy(params)
                if mon.check(it, params, crit if math.isfinite(crit) else math.inf,
                             objective=last, finite=True, layer=t):
                    stop = True
                    break
                if patience is not None and validation is not None and since >= patience:
                    break
        if keep_best and best_p is not None and not stop:
            params = best_p
    if mon.n_iter != it:
        mon.n_iter = it
    if exhausted and mon.stopped_by == "max_iter":
        mon.stopped_by = "batches"
    return mon.result(params, warn=False, loss_curve=np.asarray(loss_curve),
                      validation_curve=np.asarray(val_curve), optimizer=opt,
                      n_skipped=n_skipped, schedule=schedule, n_layers=n_layers, loss=loss)
