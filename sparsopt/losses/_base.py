"""Base class of losses."""

from __future__ import annotations

import numpy as np

from ..backends import array_namespace, is_host_array
from ..utils._params import ParamsMixin
from ..utils.linalg import spectral_norm_sq


class Loss(ParamsMixin):
    """Base class: ``value``, ``grad`` with respect to the prediction, a curvature bound.

    Conventions: ``y`` is the target (shape ``(n_samples,)`` or ``(n_samples, k)``),
    ``z`` the linear prediction of the same shape (``(n_samples, n_classes)`` for
    :class:`~sparsopt.losses.Multinomial`), ``sample_weight`` an optional
    non-negative vector of length ``n_samples``. Values are sums over samples (no
    ``1/n``): estimators that want means scale the penalty instead.

    Arrays of any array-API namespace (CuPy, ...) are computed in it: ``grad`` returns an
    array of that namespace, ``value`` a host float (one synchronization).
    """

    #: bound on the second derivative of one sample's loss with respect to z
    lipschitz = 1.0
    capabilities = frozenset({"value", "grad", "lipschitz"})

    def check_target(self, y):
        """Validate and convert the target; returns the array the loss works with."""
        return _as_array(y)

    def value(self, y, z, sample_weight=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def grad(self, y, z, sample_weight=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def lipschitz_constant(self, A, sample_weight=None):
        """Lipschitz constant of the gradient of ``x -> value(y, A x)``.

        Equal to ``lipschitz * ||diag(sqrt(w)) A||_2^2``.

        Parameters
        ----------
        A : ndarray or sparse matrix of shape (n_samples, n_features)
        sample_weight : ndarray of shape (n_samples,) or None

        Returns
        -------
        L : float
        """
        if not _is_host(A):  # another array namespace: the largest singular value there
            xp = array_namespace(A, sample_weight)
            A64 = xp.astype(A, xp.float64)
            if sample_weight is not None:
                A64 = A64 * xp.sqrt(xp.astype(sample_weight, xp.float64))[:, None]
            smax = float(xp.max(xp.linalg.svdvals(A64)))
            return self.lipschitz * smax * smax * (1.0 + 1e-6)
        if sample_weight is not None:
            sw = np.sqrt(np.asarray(sample_weight, dtype=np.float64))
            A = A.multiply(sw[:, None]).tocsr() if hasattr(A, "multiply") and not isinstance(
                A, np.ndarray) else A * sw[:, None]
        return self.lipschitz * spectral_norm_sq(A) * (1.0 + 1e-6)


def _is_host(a):
    return is_host_array(a) or not hasattr(a, "shape")


def _as_array(y):
    """``np.asarray`` for host data; arrays of other namespaces as they are."""
    return np.asarray(y) if _is_host(y) else y


def _weighted_sum(values, sample_weight):
    if not _is_host(values):  # one host float
        xp = array_namespace(values, sample_weight)
        if sample_weight is None:
            return float(xp.sum(values))
        values = xp.sum(xp.reshape(values, (values.shape[0], -1)), axis=1)
        return float(xp.sum(xp.astype(sample_weight, values.dtype) * values))
    if sample_weight is None:
        return float(np.sum(values))
    values = values.reshape(values.shape[0], -1).sum(axis=1)
    return float(np.dot(sample_weight, values))


def _weighted(grad, sample_weight):
    if sample_weight is None:
        return grad
    if not _is_host(grad):
        sw = array_namespace(grad).astype(sample_weight, grad.dtype)
    else:
        sw = np.asarray(sample_weight, dtype=grad.dtype)
    return grad * (sw if grad.ndim == 1 else sw[:, None])
