"""Mask updaters: what happens to the masks between and at the schedule's prune events.

A mask updater is a small parameter object (``get_params``/``set_params``/``repr``, like the
penalties) given to :class:`~sparsopt.pruning.SparseMLPClassifier` as ``mask_updater``. The
training engine copies it at ``fit`` and calls three hooks:

* ``before_update(engine, events)`` after the minibatch's forward/backward pass (dense
  gradients in ``engine.coef_grads``) and before the optimizer step; ``events`` are the
  prune events applied at this step;
* ``after_update(engine)`` after the optimizer step;
* ``on_finish(engine)`` after the events "after the last step".

``dense_shadow = True`` (SR-STE) tells the engine to keep dense weights and to recompute
the masks from them at every step.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ..utils._params import ParamsMixin

__all__ = ["MaskUpdater", "SRSTE", "NeuroRegeneration", "SoftShrinkage"]


def _check_real(value, name, owner, low, high=None, low_closed=True, high_closed=True):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}.")
    value = float(value)
    ok = (value >= low if low_closed else value > low)
    if high is not None:
        ok = ok and (value <= high if high_closed else value < high)
    if not ok or not np.isfinite(value):
        lo = "[" if low_closed else "("
        hi = "]" if high_closed else ")"
        rng = f"{lo}{low}, {high if high is not None else 'inf'}{hi}"
        raise ValueError(f"{owner}: {name} must be in {rng}, got {value!r}.")


class MaskUpdater(ParamsMixin):
    """Base class of the mask updaters (hooks of the sparse MLP's training loop).

    Subclasses store their constructor parameters unchanged, check them in
    ``_validate`` and override some of ``before_update``, ``after_update`` and
    ``on_finish``. The engine works on a copy, so an updater given to an estimator is
    never modified by ``fit``.

    Examples
    --------
    A custom updater: a max-norm constraint after every optimizer step (pruned weights
    stay 0):

    >>> import numpy as np
    >>> from sparsopt.pruning import MaskUpdater, OneShot, SparseMLPRegressor
    >>> class ClipWeights(MaskUpdater):
    ...     def __init__(self, limit=0.3):
    ...         self.limit = limit
    ...     def after_update(self, engine):
    ...         for W in engine.coefs:
    ...             np.clip(W, -self.limit, self.limit, out=W)
    >>> X = np.random.default_rng(0).standard_normal((40, 4))
    >>> reg = SparseMLPRegressor((8,), density=0.5, schedule=OneShot("init"),
    ...                          mask_updater=ClipWeights(0.3), tol=1.0, n_iter_no_change=1,
    ...                          random_state=0).fit(X, X[:, 0])
    >>> max(float(np.abs(W).max()) for W in reg.coefs_) <= 0.3, reg.density_
    (True, 0.5)
    """

    #: keep dense (shadow) weights and recompute the masks from them every step
    dense_shadow = False

    def _validate(self):
        pass

    def before_update(self, engine, events):
        """Hook called between the backward pass and the optimizer step."""

    def after_update(self, engine):
        """Hook called after the optimizer step."""

    def on_finish(self, engine):
        """Hook called after the events "after the last step"."""


class SRSTE(MaskUpdater):
    """Sparse-refined straight-through estimator for N:M (and other) masks.

    The forward pass uses ``W * M(W)``, the mask recomputed from the dense weights ``W``
    at every step; the gradient at the masked weights is applied to the dense ``W``,
    plus the sparse-refined decay of the pruned entries::

        W <- W - lr * (grad(W * M(W)) + decay * (1 - M(W)) * W)

    It is active from the schedule's first prune event on (before it, training is
    dense); the mask is the criterion's (usually
    :class:`~sparsopt.pruning.NMCriterion`). The fitted ``coefs_`` are ``W * M(W)``.

    Parameters
    ----------
    decay : float, default=2e-4
        ``lambda_w``, the decay of the pruned weights (the paper's default, tuned for
        SGD; under Adam the update is normalised by ``sqrt(v)``, which changes its
        effective strength: tune it).

    References
    ----------
    .. [1] A. Zhou, Y. Ma, J. Zhu, J. Liu, Z. Zhang, K. Yuan, W. Sun and H. Li,
       "Learning N:M fine-grained structured sparse neural networks from scratch",
       ICLR 2021.

    Examples
    --------
    >>> from sparsopt.pruning import SRSTE
    >>> SRSTE(decay=1e-3)
    SRSTE(decay=0.001)
    """

    dense_shadow = True

    def __init__(self, decay=2e-4):
        self.decay = decay

    def _validate(self):
        _check_real(self.decay, "decay", "SRSTE", 0.0)

    def before_update(self, engine, events):
        if engine.srste_density is None or not self.decay:
            return
        from ._mlp import _axpy

        lam = float(self.decay)
        # (1 - M) * W = W - W * M, and W * M is the forward pass's weight: no temporary
        for W, Wt, G, M, S in zip(engine.coefs, engine._weights(refresh=False),
                                  engine.coef_grads, engine.masks, engine._scratch):
            if M is not None:
                np.subtract(W, Wt, out=S)
                _axpy(lam, S, G, S)


class NeuroRegeneration(MaskUpdater):
    """GraNet's zero-cost neuroregeneration: prune and regrow at every prune event.

    At each of the schedule's prune events after initialisation (usually a
    :class:`~sparsopt.pruning.PolynomialDecay` schedule with global magnitude pruning),
    after pruning to the event's density, each prunable layer with ``nnz`` kept weights
    drops the ``k = ceil(r_t nnz)`` smallest-magnitude survivors and regrows ``k``
    currently-pruned positions, those with the largest dense gradient magnitude
    (``growth="gradient"``) or at random (``growth="random"``). Regrown weights start at
    0 and the optimizer state at dropped and regrown positions is zeroed, so the density
    is unchanged. ``r_t`` decays from ``rate`` to ``eta_min`` by a cosine over *all*
    training steps (not only the pruning window).

    Parameters
    ----------
    rate : float, default=0.5
        Initial regeneration rate ``r_0`` in [0, 1].
    decay : {"cosine", "constant"}, default="cosine"
        Decay of the rate over the training steps.
    eta_min : float, default=0.005
        Final rate of the cosine decay.
    growth : {"gradient", "random"}, default="gradient"
        Which pruned positions regrow.

    References
    ----------
    .. [1] S. Liu, T. Chen, X. Chen, Z. Atashgahi, L. Yin, H. Kou, L. Shen, M.
       Pechenizkiy, Z. Wang and D. C. Mocanu, "Sparse training via boosting pruning
       plasticity with neuroregeneration", NeurIPS 2021.

    Examples
    --------
    >>> from sparsopt.pruning import NeuroRegeneration
    >>> upd = NeuroRegeneration(rate=0.3)
    >>> round(upd.rate_at(0, 100), 3), round(upd.rate_at(100, 100), 3)
    (0.3, 0.005)
    """

    def __init__(self, rate=0.5, decay="cosine", eta_min=0.005, growth="gradient"):
        self.rate = rate
        self.decay = decay
        self.eta_min = eta_min
        self.growth = growth

    def _validate(self):
        _check_real(self.rate, "rate", "NeuroRegeneration", 0.0, 1.0)
        _check_real(self.eta_min, "eta_min", "NeuroRegeneration", 0.0, 1.0)
        if self.decay not in ("cosine", "constant"):
            raise ValueError("NeuroRegeneration: decay must be 'cosine' or 'constant', "
                             f"got {self.decay!r}.")
        if self.growth not in ("gradient", "random"):
            raise ValueError("NeuroRegeneration: growth must be 'gradient' or 'random', "
                             f"got {self.growth!r}.")

    def rate_at(self, step, n_steps):
        """The regeneration rate at optimizer step ``step`` of ``n_steps``."""
        r0 = float(self.rate)
        if self.decay == "constant" or n_steps <= 0:
            return r0
        eta = min(float(self.eta_min), r0)
        frac = min(max(step / n_steps, 0.0), 1.0)
        return eta + 0.5 * (r0 - eta) * (1.0 + math.cos(math.pi * frac))

    def before_update(self, engine, events):
        if not events or engine.step == 0:
            return
        r = self.rate_at(engine.step, engine.n_steps)
        for i, (W, G, M) in enumerate(zip(engine.coefs, engine.coef_grads, engine.masks)):
            if M is None or not engine.prunable[i]:
                continue
            new = regenerate(W, G, M, r, self.growth, engine.rng)
            changed = new != M
            if not changed.any():
                continue
            keep = ~changed  # moments zeroed at dropped and regrown positions
            engine.optimizer.mask_state(i, keep)
            W *= keep  # dropped weights vanish, regrown ones start at 0
            engine.masks[i] = new


def regenerate(W, G, M, rate, growth="gradient", rng=None):
    """One GraNet prune-and-regrow of a layer's mask (a new mask, same count).

    Drops the ``k = ceil(rate * nnz)`` smallest ``|W|`` among the kept entries and
    regrows ``k`` of the then-unkept entries with the largest ``|G|`` (``growth=
    "gradient"``) or at random; ties are broken by position (deterministic).
    """
    flat_m = M.ravel()
    kept = np.flatnonzero(flat_m)
    nnz = kept.size
    k = min(math.ceil(rate * nnz), nnz, flat_m.size - nnz)
    if k <= 0:
        return M.copy()
    new = flat_m.copy()
    mag = np.abs(W.ravel()[kept])
    drop = kept[np.argsort(mag, kind="stable")[:k]]
    new[drop] = False
    free = np.flatnonzero(~new)
    if growth == "random":
        rng = np.random.default_rng(None) if rng is None else rng
        grow = free[rng.permutation(free.size)[:k]]
    else:
        score = np.abs(G.ravel()[free])
        grow = free[np.argsort(-score, kind="stable")[:k]]
    new[grow] = True
    return new.reshape(M.shape)


class SoftShrinkage(MaskUpdater):
    """Iterative soft shrinkage (ISS-P style) as a proximal step with a library penalty.

    While prune events are still to come, every optimizer step is followed by a
    proximal step of ``penalty`` on the kept weights of the prunable layers, with the
    step ``learning_rate_init``: small weights are shrunk softly towards 0 rather than
    cut, so the next hard prune event removes weights that already carry little. After
    the schedule's last event training continues without the penalty (fine-tuning).

    Parameters
    ----------
    penalty : Penalty or object with ``prox(coefs, step, prunable=...)`` or None, \
default=None
        A :mod:`sparsopt.penalties` penalty applied to each layer (e.g.
        ``L1(alpha=1e-4)``), or a group criterion with a list-level ``prox`` such as
        :class:`~sparsopt.pruning.GroupEnvelope`. None means ``L1(alpha=1e-4)``.

    References
    ----------
    .. [1] Y. Zhang, Y. Chen, J. Zhang and others, "Iterative soft shrinkage learning
       for efficient image super-resolution", ICCV 2023 (ISS-P).
    .. [2] N. Parikh and S. Boyd, "Proximal algorithms", Foundations and Trends in
       Optimization 1(3), 2014.

    Examples
    --------
    >>> from sparsopt.penalties import L1
    >>> from sparsopt.pruning import SoftShrinkage
    >>> SoftShrinkage(penalty=L1(alpha=1e-3))
    SoftShrinkage(penalty=L1(alpha=0.001))
    """

    def __init__(self, penalty=None):
        self.penalty = penalty

    def _validate(self):
        from ..penalties import Penalty

        pen = self.penalty
        if pen is not None and not isinstance(pen, Penalty) and not callable(
                getattr(pen, "prox", None)):
            raise TypeError("SoftShrinkage: penalty must be a sparsopt Penalty, an object "
                            f"with a prox method, or None; got {pen!r}.")

    def _pen(self):
        from ..penalties import L1

        return L1(alpha=1e-4) if self.penalty is None else self.penalty

    def after_update(self, engine):
        if not engine.events_left():
            return
        from ..penalties import Penalty

        pen = self._pen()
        step = float(engine.optimizer.lr)
        if isinstance(pen, Penalty):
            for W, M, p in zip(engine.coefs, engine.masks, engine.prunable):
                if p:
                    pen.prox(W, step, out=W, check_finite=False)
                    if M is not None:
                        W *= M
            return
        new = pen.prox(engine.coefs, step, prunable=engine.prunable)
        for W, Wn, M, p in zip(engine.coefs, new, engine.masks, engine.prunable):
            if p:
                np.copyto(W, Wn)
                if M is not None:
                    W *= M


def check_mask_updater(updater):
    """Validate a ``mask_updater`` parameter and return a private copy (or None)."""
    import copy

    if updater is None:
        return None
    if not isinstance(updater, MaskUpdater):
        raise TypeError("mask_updater must be None or a mask updater (SRSTE(), "
                        f"NeuroRegeneration(), SoftShrinkage()); got {updater!r}.")
    updater = copy.deepcopy(updater)
    updater._validate()
    return updater


