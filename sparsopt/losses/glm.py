"""Losses of generalized linear models: squared (least squares), logistic, multinomial, Huber."""

from __future__ import annotations

import numpy as np

from ..backends import array_namespace, device
from ..utils.validation import check_scalar
from ._base import Loss, _as_array, _is_host, _weighted, _weighted_sum


class Squared(Loss):
    """Least squares ``1/2 sum_i (y_i - z_i)^2`` (the name ``"squared"``).

    The library's one name for least squares (``"quadratic"`` is reserved for the form
    ``1/2 x^T A x - b^T x`` of :func:`sparsopt.solvers.bcd`).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.losses import Squared
    >>> Squared().value(np.array([1.0, 2.0]), np.array([0.0, 2.0]))
    0.5
    """

    lipschitz = 1.0

    def __init__(self):
        pass

    def check_target(self, y):
        return _as_array(y)

    def value(self, y, z, sample_weight=None):
        """Loss value (a sum over samples)."""
        r = z - y
        return 0.5 * _weighted_sum(r * r, sample_weight)

    def grad(self, y, z, sample_weight=None):
        """Gradient with respect to ``z``."""
        return _weighted(z - y, sample_weight)


class Logistic(Loss):
    """Logistic loss ``sum_i log(1 + exp(-y_i z_i))`` for labels ``y_i`` in {-1, +1}.

    References
    ----------
    .. [1] T. Hastie, R. Tibshirani and J. Friedman, The Elements of Statistical
       Learning, 2nd ed., Springer, 2009, section 4.4.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.losses import Logistic
    >>> round(Logistic().value(np.array([1.0, -1.0]), np.zeros(2)), 6)  # 2 log 2
    1.386294
    """

    lipschitz = 0.25

    def __init__(self):
        pass

    def check_target(self, y):
        if not _is_host(y):  # in the namespace: one host bool
            xp = array_namespace(y)
            if not bool(xp.all((y == 1) | (y == -1))):
                raise ValueError(
                    "Logistic: y must contain labels -1 and +1 only; encode classes as "
                    "-1/+1 (e.g. 2 * (y == positive) - 1)."
                )
            return xp.astype(y, xp.float64)
        y = np.asarray(y)
        vals = np.unique(y)
        if not np.all(np.isin(vals, [-1, 1])):
            raise ValueError(
                f"Logistic: y must contain labels -1 and +1 only, got values {vals[:5]}; "
                "encode classes as -1/+1 (e.g. 2 * (y == positive) - 1)."
            )
        return y.astype(np.float64)

    def value(self, y, z, sample_weight=None):
        """Loss value (a sum over samples)."""
        if not _is_host(z):
            return _weighted_sum(array_namespace(z).logaddexp(0.0, -y * z), sample_weight)
        return _weighted_sum(np.logaddexp(0.0, -y * z), sample_weight)

    def grad(self, y, z, sample_weight=None):
        """Gradient with respect to ``z``."""
        if not _is_host(z):
            xp = array_namespace(y, z)
            v = -y * z
            e = xp.exp(-xp.abs(v))  # expit(v) without overflow
            sig = xp.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
            return _weighted(xp.astype(-y * sig, z.dtype), sample_weight)
        from scipy.special import expit

        return _weighted((-y * expit(-y * z)).astype(z.dtype, copy=False), sample_weight)


class Multinomial(Loss):
    """Multinomial (softmax cross-entropy) loss ``sum_i logsumexp(z_i) - z_{i, y_i}``.

    ``y`` holds integer class indices in ``[0, n_classes)``; ``z`` has shape
    ``(n_samples, n_classes)``.

    References
    ----------
    .. [1] C. M. Bishop, Pattern Recognition and Machine Learning, Springer,
       2006, section 4.3.4.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.losses import Multinomial
    >>> round(Multinomial().value(np.array([0, 1]), np.zeros((2, 3))), 6)  # 2 log 3
    2.197225
    """

    lipschitz = 0.5

    def __init__(self):
        pass

    def check_target(self, y):
        if not _is_host(y):  # in the namespace: one host bool
            xp = array_namespace(y)
            if y.ndim != 1:
                raise ValueError(f"Multinomial: y must be 1-D class indices, got shape "
                                 f"{tuple(y.shape)}.")
            if not xp.isdtype(y.dtype, "integral"):
                if not bool(xp.all(y == xp.round(y))):
                    raise ValueError("Multinomial: y must hold non-negative integer class "
                                     "indices.")
            if y.shape[0] and bool(xp.any(y < 0)):
                raise ValueError("Multinomial: y must hold non-negative integer class indices.")
            return xp.astype(y, xp.int64)
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"Multinomial: y must be 1-D class indices, got shape {y.shape}.")
        if not np.all(np.equal(np.mod(y, 1), 0)) or (y.size and y.min() < 0):
            raise ValueError("Multinomial: y must hold non-negative integer class indices.")
        return y.astype(np.int64)

    def _onehot(self, y, z):
        """The one-hot matrix of the classes ``y`` (checked), in ``z``'s namespace and dtype.

        Cached for the last ``y`` object only on the private copy a solver makes for one
        run (it passes its own validated target at every iteration, so the checks' host
        scalars are taken once, not per iteration); a user's direct calls are never
        cached, so a target changed in place is always seen.
        """
        xp = array_namespace(y, z)
        use_cache = self.__dict__.get("_cache_onehot", False)
        cached = self.__dict__.get("_onehot_cache") if use_cache else None
        if cached is not None and cached[0] is y and cached[1] == (z.shape[1], z.dtype):
            return cached[2]
        y_in = y
        y = self.check_target(y)
        if y.shape[0] and int(xp.max(y)) >= z.shape[1]:
            raise ValueError(
                f"Multinomial: class index {int(xp.max(y))} >= n_classes = {z.shape[1]} "
                "(columns of z)."
            )
        classes = xp.arange(z.shape[1], dtype=y.dtype, device=device(z))
        onehot = xp.astype(y[:, None] == classes[None, :], z.dtype)
        if use_cache:
            self.__dict__["_onehot_cache"] = (y_in, (z.shape[1], z.dtype), onehot)
        return onehot

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_onehot_cache", None)
        state.pop("_cache_onehot", None)
        return state

    def _idx(self, y, z):
        y = self.check_target(y)
        if y.max(initial=0) >= z.shape[1]:
            raise ValueError(
                f"Multinomial: class index {y.max()} >= n_classes = {z.shape[1]} (columns of z)."
            )
        return y

    def value(self, y, z, sample_weight=None):
        """Loss value (a sum over samples)."""
        if not _is_host(z):
            xp = array_namespace(z)
            onehot = self._onehot(y, z)
            zmax = xp.max(z, axis=1, keepdims=True)
            lse = xp.log(xp.sum(xp.exp(z - zmax), axis=1)) + zmax[:, 0]
            return _weighted_sum(lse - xp.sum(z * onehot, axis=1), sample_weight)
        from scipy.special import logsumexp

        y = self._idx(y, z)
        per = logsumexp(z, axis=1) - z[np.arange(z.shape[0]), y]
        return _weighted_sum(per, sample_weight)

    def grad(self, y, z, sample_weight=None):
        """Gradient with respect to ``z``: ``softmax(z) - onehot(y)``."""
        if not _is_host(z):
            xp = array_namespace(z)
            onehot = self._onehot(y, z)
            e = xp.exp(z - xp.max(z, axis=1, keepdims=True))
            return _weighted(e / xp.sum(e, axis=1, keepdims=True) - onehot, sample_weight)
        from scipy.special import log_softmax

        y = self._idx(y, z)
        g = np.exp(log_softmax(z, axis=1)).astype(z.dtype, copy=False)
        g[np.arange(z.shape[0]), y] -= 1
        return _weighted(g, sample_weight)


class Huber(Loss):
    """Huber loss ``sum_i h(z_i - y_i)``, quadratic for ``|r| <= delta``, linear beyond.

    Parameters
    ----------
    delta : float, default=1.35
        Transition point (``> 0``), as in :class:`sklearn.linear_model.HuberRegressor`.

    References
    ----------
    .. [1] P. J. Huber, "Robust estimation of a location parameter", Ann. Math.
       Statist. 35(1), 1964.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.losses import Huber
    >>> Huber(delta=1.0).value(np.zeros(2), np.array([0.5, 3.0]))
    2.625
    """

    lipschitz = 1.0

    def __init__(self, delta=1.35):
        self.delta = delta
        self._validate()

    def _validate(self):
        check_scalar(self.delta, "delta", "Huber", lower=0.0, lower_inclusive=False)

    def value(self, y, z, sample_weight=None):
        """Loss value (a sum over samples)."""
        d = float(self.delta)
        xp = np if _is_host(z) else array_namespace(z)
        r = xp.abs(z - y)
        return _weighted_sum(xp.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d)), sample_weight)

    def grad(self, y, z, sample_weight=None):
        """Gradient with respect to ``z``."""
        d = float(self.delta)
        xp = np if _is_host(z) else array_namespace(z)
        return _weighted(xp.clip(z - y, -d, d), sample_weight)


_LOSSES = {"squared": Squared, "logistic": Logistic, "multinomial": Multinomial,
           "huber": Huber}


def get_loss(loss):
    """Build a loss from its name or return a :class:`Loss` instance unchanged.

    Parameters
    ----------
    loss : {"squared", "logistic", "multinomial", "huber"} or Loss

    Returns
    -------
    loss : Loss

    Examples
    --------
    >>> from sparsopt.losses import get_loss
    >>> get_loss("huber")
    Huber(delta=1.35)
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss.lower() in _LOSSES:
        return _LOSSES[loss.lower()]()
    raise ValueError(f"Unknown loss {loss!r}. Use a Loss instance or one of {sorted(_LOSSES)}.")
