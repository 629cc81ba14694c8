"""The engine of the sparse MLP: forward, backward, optimizers with masks, the prune loop.

Everything here works on plain lists of NumPy arrays in scikit-learn's layout (weights
``coefs[l]`` of shape ``(n_in, n_out)``, ``intercepts[l]`` of shape ``(n_out,)``), so the
fitted network is a drop-in ``coefs_``/``intercepts_`` pair. The loop follows the
pruning contract:

* a schedule's :class:`PruneEvent` ``(step, density, rewind)`` prunes to ``density``
  *before* optimizer step ``step`` (0 = at initialisation); events at ``step == n_steps``
  ("after the last step") are applied by :meth:`MLPEngine.finish`, when training ends
  for any reason;
* after every optimizer step ``W = W * M`` holds exactly and the optimizer state (Adam
  moments, SGD velocities) is 0 outside the mask (spec 4.8 (i), invariants 1-3); under
  SR-STE the trained weights are a dense shadow, the forward pass uses ``W * M(W)``;
* the engine counts its own steps, so ``partial_fit`` epoch by epoch equals ``fit``.

Per minibatch the Adam path allocates no array of the weights' size: activations, deltas
and gradients live in buffers allocated once per batch size, products go through
``np.dot(..., out=)``, the L2 term through a scratch buffer, and the masked Adam step is
one fused kernel (``masked_adam``; the NumPy fallback and SGD use temporaries).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, xlogy

from ..backends import has_kernel, kernel_for

__all__ = ["MLPEngine", "HIDDEN_ACTIVATIONS", "forward_dense", "glorot_init"]


# ----------------------------------------------------------------------- activations
def _identity(Z):
    return Z


def _relu(Z):
    np.maximum(Z, 0, out=Z)
    return Z


def _tanh(Z):
    np.tanh(Z, out=Z)
    return Z


def _logistic(Z):
    expit(Z, out=Z)
    return Z


def _softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


HIDDEN_ACTIVATIONS = {"identity": _identity, "relu": _relu, "tanh": _tanh,
                      "logistic": _logistic}
OUTPUT_ACTIVATIONS = {"identity": _identity, "logistic": _logistic, "softmax": _softmax}


def _d_identity(Z, delta):
    pass


def _d_relu(Z, delta):
    # Z is the activation (>= 0): the derivative is 1 where Z > 0
    np.multiply(delta, Z > 0, out=delta)


def _d_tanh(Z, delta):
    delta *= 1 - Z * Z


def _d_logistic(Z, delta):
    delta *= Z
    delta *= 1 - Z


_DERIVATIVES = {"identity": _d_identity, "relu": _d_relu, "tanh": _d_tanh,
                "logistic": _d_logistic}


def glorot_init(rng, layer_units, activation, dtype):
    """scikit-learn's MLP initialisation (Glorot uniform), drawn in its order.

    Returns ``(coefs, intercepts)``; with the same ``RandomState`` the arrays equal those
    of ``MLPClassifier``/``MLPRegressor``.
    """
    coefs, intercepts = [], []
    factor = 2.0 if activation == "logistic" else 6.0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype, copy=False)
        b = rng.uniform(-bound, bound, fan_out).astype(dtype, copy=False)
        coefs.append(np.ascontiguousarray(W))
        intercepts.append(b)
    return coefs, intercepts


def _loss_sum(out_activation, Y, P, ylab):
    """Sum over the rows of scikit-learn's per-sample loss (``log_loss``,
    ``binary_log_loss`` or ``squared_error``)."""
    if out_activation == "softmax":
        eps = np.finfo(P.dtype).eps
        p = P[np.arange(P.shape[0]), ylab]
        return -float(np.log(p.clip(eps, 1 - eps)).sum())
    if out_activation == "logistic":
        eps = np.finfo(P.dtype).eps
        Pc = np.clip(P, eps, 1 - eps)
        return -float((xlogy(Y, Pc) + xlogy(1 - Y, 1 - Pc)).sum())
    return 0.5 * float(((Y - P) ** 2).sum()) / Y.shape[1]


# ---------------------------------------------------------------------- inference
#: the fused sparse forward pass is used when the network's density (all layers) is at
#: most this ... (measured, one thread, 64-256-128-10 and 784-1024-1024-10: the fused
#: kernel is 2-16x faster than dense BLAS at density <= 0.1, 1.0-3.8x at 0.2, and
#: 0.5-1.7x at 0.3)
SPARSE_DENSITY_MAX = 0.15
#: ... and the input has at least this many rows (below, dense BLAS costs microseconds)
SPARSE_MIN_SAMPLES = 32


def _fingerprint(coefs, intercepts):
    """Identity and sums of the arrays: a changed (or replaced) weight changes it."""
    return tuple((id(a), a.__array_interface__["data"][0], a.shape, a.dtype.str,
                  float(np.sum(a))) for a in list(coefs) + list(intercepts))


def sparse_network_of(coefs, intercepts, cache=None):
    """The packed sparse network of the layers, or None when they are too dense.

    ``cache`` (a dict kept by the estimator) holds the last network with the
    fingerprint of the arrays it was built from, so repeated ``predict`` calls pay the
    packing once; a weight modified in place or replaced invalidates it.
    """
    from ._sparse import to_sparse_network

    key = _fingerprint(coefs, intercepts)
    if cache is not None and cache.get("key") == key:
        return cache["net"]
    size = sum(W.size for W in coefs)
    nnz = sum(int(np.count_nonzero(W)) for W in coefs)
    net = None
    if nnz <= SPARSE_DENSITY_MAX * size and all(np.isfinite(W).all() for W in coefs):
        net = to_sparse_network(coefs, intercepts)
    if cache is not None:
        cache.clear()
        cache.update(key=key, net=net)
    return net


def forward_dense(X, coefs, intercepts, activation, out_activation, *, sparse="auto",
                  cache=None):
    """The network's output on ``X`` (for ``predict``; no training buffers).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    coefs, intercepts : lists of ndarray
    activation, out_activation : str
    sparse : {"auto", True, False}, default="auto"
        ``"auto"`` runs the fused sparse forward pass (``sparse_mlp_forward``: CSR
        layers, hidden activations kept per block of samples) when the network's
        density is at most :data:`SPARSE_DENSITY_MAX` and ``X`` has at least
        :data:`SPARSE_MIN_SAMPLES` rows, dense BLAS otherwise; True forces the sparse
        pass, False dense BLAS.
    cache : dict or None
        Where the packed network is kept between calls (see :func:`sparse_network_of`).

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
    """
    net = None
    if sparse is True:
        from ._sparse import to_sparse_network

        net = to_sparse_network(coefs, intercepts)
    elif sparse == "auto" and X.shape[0] >= SPARSE_MIN_SAMPLES:
        net = sparse_network_of(coefs, intercepts, cache)
    if net is not None:
        from ._sparse import sparse_network_forward

        A = sparse_network_forward(X, net, activation)
        A = A.astype(np.result_type(X.dtype, coefs[0].dtype), copy=False)
    else:
        act = HIDDEN_ACTIVATIONS[activation]
        last = len(coefs) - 1
        A = X
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            A = A @ W
            A += b
            if i != last:
                act(A)
    OUTPUT_ACTIVATIONS[out_activation](A)
    return A


def _axpy(a, x, y, scratch):
    """``y += a * x`` in place through ``scratch`` (no allocation).

    NumPy ufuncs rather than BLAS ``axpy``: level-1 BLAS calls are threaded by
    OpenBLAS and cost ~1.5 ms each instead of 0.02 ms on a loaded 2-core machine.
    """
    np.multiply(x, a, out=scratch)
    np.add(y, scratch, out=y)


# ---------------------------------------------------------------------- optimizers
def _adam_numpy(p, g, mask, m, v, lr, beta1, beta2, eps, t):
    """Reference masked Adam step (scikit-learn's update), in place."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    p -= lr_t * m / (np.sqrt(v) + eps)
    if mask is not None:
        p *= mask
        m *= mask
        v *= mask


class _Adam:
    """Adam with scikit-learn's bias correction; state masked with the weights."""

    def __init__(self, params, lr, beta1, beta2, eps):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.learning_rate = lr
        self.reset(params)

    def reset(self, params):
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def step(self, params, grads, masks, kernel):
        self.t += 1
        t = self.t
        self.learning_rate = (self.lr * math.sqrt(1 - self.beta2 ** t)
                              / (1 - self.beta1 ** t))
        for i, (p, g) in enumerate(zip(params, grads)):
            mask = masks[i] if i < len(masks) else None
            if kernel is not None and p.ndim == 2:
                kernel(p, g, mask, self.ms[i],
                       self.vs[i], self.lr, self.beta1, self.beta2, self.eps, t)
            else:
                _adam_numpy(p, g, mask, self.ms[i], self.vs[i], self.lr, self.beta1,
                            self.beta2, self.eps, t)

    def mask_state(self, i, keep):
        self.ms[i] *= keep
        self.vs[i] *= keep

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self):
        return True


class _SGD:
    """SGD with (Nesterov) momentum and scikit-learn's learning-rate schedules."""

    def __init__(self, params, lr, schedule, momentum, nesterov, power_t):
        self.lr, self.schedule, self.momentum = lr, schedule, momentum
        self.nesterov, self.power_t = nesterov, power_t
        self.learning_rate = float(lr)
        self.reset(params)

    def reset(self, params):
        self.velocities = [np.zeros_like(p) for p in params]

    def step(self, params, grads, masks, kernel=None):
        lr, mu = self.learning_rate, self.momentum
        for i, (p, g) in enumerate(zip(params, grads)):
            vel = self.velocities[i]
            vel *= mu
            vel -= lr * g
            if self.nesterov:
                p += mu * vel - lr * g
            else:
                p += vel
            mask = masks[i] if i < len(masks) else None
            if mask is not None:
                p *= mask
                vel *= mask

    def mask_state(self, i, keep):
        self.velocities[i] *= keep

    def iteration_ends(self, time_step):
        if self.schedule == "invscaling":
            self.learning_rate = float(self.lr) / (time_step + 1) ** self.power_t

    def trigger_stopping(self):
        if self.schedule != "adaptive":
            return True
        if self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        return False


# --------------------------------------------------------------------------- engine
def _mask_changed(M0, M1):
    """Whether two masks (``None`` = all kept) differ."""
    if M0 is None or M1 is None:
        return M0 is not M1
    return not np.array_equal(M0, M1)


class MLPEngine:
    """Training state of a masked MLP: weights, masks, optimizer, step counter, plan.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        Initial weights (owned and updated in place).
    activation : {"identity", "relu", "tanh", "logistic"}
    out_activation : {"identity", "logistic", "softmax"}
    alpha : float
        L2 strength, scaled as scikit-learn does (``alpha / batch rows``).
    optimizer : _Adam or _SGD
    prunable : list of bool
    criterion : object with ``select``
    plan : list of PruneEvent
    n_steps : int
        Total number of optimizer steps the plan was made for.
    updater : mask updater or None (a private copy)
    rng : RandomState or None
        Random state handed to the criterion (random masks).
    """

    def __init__(self, coefs, intercepts, activation, out_activation, alpha, optimizer,
                 prunable, criterion, plan, n_steps, updater=None, rng=None):
        self.coefs = coefs
        self.intercepts = intercepts
        self.activation = activation
        self.out_activation = out_activation
        self.alpha = float(alpha)
        self.optimizer = optimizer
        self.prunable = list(prunable)
        self.criterion = criterion
        self.plan = sorted(plan, key=lambda e: e.step)
        self.n_steps = int(n_steps)
        self.updater = updater
        self.rng = rng
        self.step = 0
        self.next_event = 0
        self.masks = [None] * len(coefs)  # None: dense (all kept)
        self.density_history = []
        self.events_applied = 0
        self.srste_density = None  # SR-STE: density of the masks recomputed each step
        for e in self.plan:
            r = e.rewind
            if isinstance(r, (int, np.integer)) and not isinstance(r, bool) and r > e.step:
                raise ValueError(f"rewind={r} is a step after the prune event at step "
                                 f"{e.step}: weights can only be rewound to an earlier step.")
        self._snapshots = {}
        self._rewind_steps = {e.rewind for e in self.plan if isinstance(e.rewind, int)
                              and not isinstance(e.rewind, bool)}
        if any(e.rewind == "init" for e in self.plan):
            self._snapshot("init")
        if 0 in self._rewind_steps:
            self._snapshot(0)
        self._buf_rows = 0
        self._adam_kernel = None
        self._init_kernels()

    # -------------------------------------------------------------- pickling/buffers
    def _init_kernels(self):
        self._adam_kernel = None
        if isinstance(self.optimizer, _Adam) and has_kernel("masked_adam", "numba"):
            self._adam_kernel = kernel_for("masked_adam", self.coefs[0])

    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("_acts", "_deltas", "_xbuf", "_ybuf", "_lbuf", "_adam_kernel",
                    "_wshadow", "_scratch", "coef_grads", "intercept_grads"):
            state.pop(key, None)
        state["_buf_rows"] = 0
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_kernels()

    def _ensure_buffers(self, rows, n_features, n_outputs):
        if rows <= self._buf_rows:
            return
        dt = self.coefs[0].dtype
        self._acts = [np.empty((rows, W.shape[1]), dtype=dt) for W in self.coefs]
        self._deltas = [np.empty((rows, W.shape[1]), dtype=dt) for W in self.coefs]
        self._xbuf = np.empty((rows, n_features), dtype=dt)
        self._ybuf = np.empty((rows, n_outputs), dtype=dt)
        self._lbuf = np.empty(rows, dtype=np.intp)
        if not hasattr(self, "coef_grads"):
            self._scratch = [np.empty_like(W) for W in self.coefs]
            self.coef_grads = [np.empty_like(W) for W in self.coefs]
            self.intercept_grads = [np.empty_like(b) for b in self.intercepts]
        self._buf_rows = rows

    # ---------------------------------------------------------------------- masks
    def full_masks(self):
        """The masks as bool arrays (all True for dense layers)."""
        return [np.ones(W.shape, dtype=bool) if M is None else M
                for W, M in zip(self.coefs, self.masks)]

    def density(self):
        """Realised density over the prunable layers (kept / size)."""
        kept = size = 0
        for W, M, p in zip(self.coefs, self.masks, self.prunable):
            if p:
                size += W.size
                kept += W.size if M is None else int(np.count_nonzero(M))
        return kept / size if size else 1.0

    def layer_densities(self):
        return [1.0 if M is None else float(np.count_nonzero(M)) / M.size
                for M in self.masks]

    def _set_masks(self, new_masks):
        """Install ``new_masks``: weights and optimizer state zeroed outside them."""
        for i, M in enumerate(new_masks):
            M = np.asarray(M, dtype=bool)
            if not self.prunable[i] or M.all():
                self.masks[i] = None
                continue
            self.masks[i] = np.ascontiguousarray(M)
            if self.srste_density is None:
                self.coefs[i] *= M
            self.optimizer.mask_state(i, M)

    def remask(self):
        """``W = W * M`` again (after an interrupted step)."""
        if self.srste_density is None:
            for W, M in zip(self.coefs, self.masks):
                if M is not None:
                    W *= M

    def _snapshot(self, key):
        self._snapshots[key] = ([W.copy() for W in self.coefs],
                                [b.copy() for b in self.intercepts])

    def _apply_event(self, event, grads=None):
        density = float(event.density)
        before = [None if M is None else M.copy() for M in self.masks]
        upd = self.updater
        if upd is not None and getattr(upd, "dense_shadow", False):
            # SR-STE: the dense shadow stays, masks are recomputed from it every step
            self.srste_density = density
            masks = self.criterion.select(self.coefs, density, prunable=self.prunable,
                                          masks=None, grads=None, random_state=self.rng)
            self._set_masks(masks)
        else:
            masks = self.criterion.select(self.coefs, density, prunable=self.prunable,
                                          masks=self.full_masks(), grads=grads,
                                          random_state=self.rng)
            self._set_masks(masks)
        if event.rewind is not None:
            coefs0, intercepts0 = self._snapshots[event.rewind]
            for W, W0, M in zip(self.coefs, coefs0, self.masks):
                np.copyto(W, W0)
                if M is not None:
                    W *= M
            for b, b0 in zip(self.intercepts, intercepts0):
                np.copyto(b, b0)
            self.optimizer.reset(self.coefs + self.intercepts)
        changed = (event.rewind is not None or self.srste_density is not None
                   or any(_mask_changed(M0, M1) for M0, M1 in zip(before, self.masks)))
        if changed:  # counts the events that changed the network (the estimators restart
            self.events_applied += 1  # their stopping rule's tracking after one)
        self.density_history.append((int(event.step), self.density()))

    def _pending(self, step):
        """Events due before optimizer step ``step`` (not the "after the end" ones)."""
        out = []
        while (self.next_event < len(self.plan)
               and self.plan[self.next_event].step <= step
               and self.plan[self.next_event].step < self.n_steps):
            out.append(self.plan[self.next_event])
            self.next_event += 1
        return out

    def _is_noop(self, event):
        """Whether ``event`` cannot change the network: it keeps every weight (density 1
        with a criterion that follows the density; N:M patterns do not), rewinds nothing,
        and no mask updater reacts to it."""
        return (float(event.density) >= 1.0 and event.rewind is None
                and getattr(self.criterion, "_uses_density", True)
                and self.updater is None and self.srste_density is None)

    def schedule_done(self):
        """True when no event that can change the network is pending before the end of
        training (events that keep every weight do not hold the stopping rule back)."""
        return all(self._is_noop(e) for e in self.plan[self.next_event:]
                   if e.step < self.n_steps)

    def events_left(self):
        """Number of events not applied yet (those after the end included)."""
        return len(self.plan) - self.next_event

    def finish(self):
        """Apply the remaining events (those "after the last step"); return how many."""
        n = 0
        while self.next_event < len(self.plan):
            self._apply_event(self.plan[self.next_event])
            self.next_event += 1
            n += 1
        if n and self.updater is not None:
            self.updater.on_finish(self)
        return n

    def refresh_srste_masks(self):
        """SR-STE: the masks ``M(W)`` of the dense shadow weights, recomputed."""
        masks = self.criterion.select(self.coefs, self.srste_density, prunable=self.prunable,
                                      masks=None, grads=None, random_state=self.rng)
        for i, M in enumerate(masks):
            self.masks[i] = (None if not self.prunable[i]
                             else np.ascontiguousarray(M, dtype=bool))

    def published_coefs(self):
        """The weights a fitted model exposes: ``W * M`` (a copy only under SR-STE)."""
        if self.srste_density is None:
            return self.coefs
        return [W * M if M is not None else W.copy()
                for W, M in zip(self.coefs, self.masks)]

    # ------------------------------------------------------------- forward/backward
    def _weights(self, refresh=True):
        """The weights the forward pass uses (masked copies under SR-STE)."""
        if self.srste_density is None:
            return self.coefs
        if getattr(self, "_wshadow", None) is None:
            self._wshadow = [np.empty_like(W) for W in self.coefs]
        elif not refresh:
            return self._wshadow
        for W, Wt, M in zip(self.coefs, self._wshadow, self.masks):
            if M is None:
                np.copyto(Wt, W)
            else:
                np.multiply(W, M, out=Wt)
        return self._wshadow

    def forward_backward(self, X, Y, ylab, weights):
        """Loss (sum over rows, plus scikit-learn's L2 term) and the gradients.

        Fills ``self.coef_grads`` (dense, L2 included) and ``self.intercept_grads``.
        """
        n = X.shape[0]
        L = len(weights)
        acts = [a[:n] for a in self._acts]
        deltas = [d[:n] for d in self._deltas]
        hidden = HIDDEN_ACTIVATIONS[self.activation]
        A = X
        for i in range(L):
            np.dot(A, weights[i], out=acts[i])
            acts[i] += self.intercepts[i]
            if i < L - 1:
                hidden(acts[i])
            A = acts[i]
        OUTPUT_ACTIVATIONS[self.out_activation](acts[-1])
        loss = _loss_sum(self.out_activation, Y, acts[-1], ylab)
        sq = 0.0
        for W in weights:
            sq += float(np.einsum("ij,ij->", W, W))  # not BLAS ddot (threaded)
        loss += 0.5 * self.alpha * sq
        # deltas scaled by 1/n once: every gradient below is then the batch mean
        d = deltas[-1]
        np.subtract(acts[-1], Y, out=d)
        d *= 1.0 / n
        deriv = _DERIVATIVES[self.activation]
        scale = self.alpha / n
        for i in range(L - 1, -1, -1):
            prev = X if i == 0 else acts[i - 1]
            np.dot(prev.T, deltas[i], out=self.coef_grads[i])
            if scale:
                _axpy(scale, weights[i], self.coef_grads[i], self._scratch[i])
            deltas[i].sum(axis=0, out=self.intercept_grads[i])
            if i > 0:
                np.dot(deltas[i], weights[i].T, out=deltas[i - 1])
                deriv(acts[i - 1], deltas[i - 1])
        return loss

    # ------------------------------------------------------------------- the loop
    def train_epoch(self, X, Y, ylab, batch_size, sample_idx=None):
        """One pass over ``X`` in minibatches; returns the summed loss.

        ``sample_idx`` is the (shuffled) row order, or None for the rows in order.
        """
        n = X.shape[0]
        self._ensure_buffers(min(batch_size, n), X.shape[1], Y.shape[1])
        total = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            if sample_idx is None:
                Xb, Yb = X[start:stop], Y[start:stop]
                lb = None if ylab is None else ylab[start:stop]
            else:
                idx = sample_idx[start:stop]
                m = stop - start
                Xb = X.take(idx, axis=0, out=self._xbuf[:m])
                Yb = Y.take(idx, axis=0, out=self._ybuf[:m])
                lb = None if ylab is None else ylab.take(idx, out=self._lbuf[:m])
            total += self.one_step(Xb, Yb, lb)
        return total

    def one_step(self, Xb, Yb, lb):
        """Events due at this step, forward/backward, updater hooks, optimizer step."""
        step = self.step
        if step in self._rewind_steps and step not in self._snapshots:
            self._snapshot(step)
        events = self._pending(step)
        for ev in events:
            self._apply_event(ev)
        upd = self.updater
        if self.srste_density is not None:
            self.refresh_srste_masks()
        weights = self._weights()
        loss = self.forward_backward(Xb, Yb, lb, weights)
        if upd is not None:
            upd.before_update(self, events)
        params = self.coefs + self.intercepts
        grads = self.coef_grads + self.intercept_grads
        opt_masks = [None] * len(self.coefs) if self.srste_density is not None else self.masks
        self.optimizer.step(params, grads, opt_masks, self._adam_kernel)
        if upd is not None:
            upd.after_update(self)
        self.step += 1
        return loss
