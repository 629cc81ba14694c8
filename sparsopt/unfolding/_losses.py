"""Training losses of the unfolded models and their terminal gradients ``G_T = dL/dx_T``.

* ``"supervised"``: ``L = 1/(B n) sum_b ||x_T^b - x^b||^2`` (mean over all entries),
  ``G_T = 2 (x_T - x) / (B n)``;
* ``"unsupervised"``: ``L = 1/B sum_b F(x_T^b; y^b)`` with the model's original objective
  ``F1 = 1/2 ||y - A x||^2 + lam ||x||_1`` or ``F0 = ... + lam ||x||_0``;
  ``G_T = (-(Y - X A^T) A + lam sign(X)) / B`` (``sign(0) = 0``, autograd's convention);
  the l0 term has no gradient (zero almost everywhere) unless the model carries an
  ``l0_delta``, which replaces ``||x||_0`` by ``sum x^2 / (x^2 + delta)``.
"""

from __future__ import annotations

import numpy as np

from ._xp import data_namespace, to_namespace

__all__ = ["loss_and_grad", "objective", "nmse_db"]

LOSSES = ("supervised", "unsupervised")


def objective(penalty, X, A, Y, lam, *, delta=None):
    """Mean over samples of ``F(x) = 1/2 ||y - A x||^2 + lam pen(x)`` (``pen`` = l1 or l0).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import objective
    >>> objective("l1", np.zeros((2, 3)), np.ones((1, 3)), np.ones((2, 1)), 1.0)
    0.5
    """
    xp = data_namespace(X, A, Y)
    if xp is not None:
        return _objective_xp(xp, penalty, X, A, Y, lam, delta)
    R = Y - X @ A.T
    data = 0.5 * float(np.sum(R.astype(np.float64) ** 2))
    if penalty == "l1":
        pen = float(np.sum(np.abs(X), dtype=np.float64))
    elif penalty == "l0":
        if delta is None:
            pen = float(np.count_nonzero(X))
        else:
            X2 = X.astype(np.float64) ** 2
            pen = float(np.sum(X2 / (X2 + delta)))
    else:
        raise ValueError(f"penalty must be 'l1' or 'l0', got {penalty!r}.")
    return (data + lam * pen) / X.shape[0]


def _objective_xp(xp, penalty, X, A, Y, lam, delta):
    """:func:`objective` in the namespace ``xp`` (one synchronisation for the float)."""
    A, Y = to_namespace(A, X), to_namespace(Y, X)
    R = xp.astype(Y - X @ A.T, xp.float64)
    X64 = xp.astype(X, xp.float64)
    if penalty == "l1":
        pen = xp.sum(xp.abs(X64))
    elif penalty == "l0":
        if delta is None:
            pen = xp.astype(xp.count_nonzero(X), xp.float64)
        else:
            X2 = X64 * X64
            pen = xp.sum(X2 / (X2 + delta))
    else:
        raise ValueError(f"penalty must be 'l1' or 'l0', got {penalty!r}.")
    return float(0.5 * xp.sum(R * R) + lam * pen) / X.shape[0]


def loss_and_grad(loss, model, xT, A, Y, X_true, lam):
    """Value of the training loss at ``x_T`` and its gradient ``G_T`` (shape of ``xT``).

    Parameters
    ----------
    loss : {"supervised", "unsupervised"}
    model : UnfoldedModel
        Gives ``objective_penalty`` (``"l1"``/``"l0"``) and optionally ``l0_delta``.
    xT : ndarray of shape (n_samples, n_atoms)
    A : ndarray of shape (n_measurements, n_atoms)
    Y : ndarray of shape (n_samples, n_measurements)
    X_true : ndarray of shape (n_samples, n_atoms) or None
        Required by the supervised loss.
    lam : float

    Returns
    -------
    value : float
    G_T : ndarray of shape (n_samples, n_atoms)

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import DUISTA, loss_and_grad
    >>> x = np.array([[1.0, 0.0]]); A = np.eye(2)
    >>> loss_and_grad("supervised", DUISTA(1.0), x, A, x, np.zeros((1, 2)), 1.0)
    (0.5, array([[1., 0.]]))
    """
    xp = data_namespace(xT, A, Y, X_true)
    if xp is not None:
        return _loss_and_grad_xp(xp, loss, model, xT, A, Y, X_true, lam)
    B, n = xT.shape
    if loss == "supervised":
        if X_true is None:
            raise ValueError("loss='supervised' needs the true codes X_true.")
        D = xT - X_true
        value = float(np.mean(D.astype(np.float64) ** 2))
        return value, (2.0 / (B * n)) * D
    value, G = _unsupervised(np, loss, model, xT, A, Y, lam)
    return value, G.astype(xT.dtype, copy=False)


def _unsupervised(xp, loss, model, xT, A, Y, lam):
    """The unsupervised loss (the objective) and its gradient divided by the batch size,
    in ``xp`` (``A`` and ``Y`` next to ``xT``); ``ValueError`` for an unknown ``loss``."""
    if loss != "unsupervised":
        raise ValueError(f"loss must be 'supervised' or 'unsupervised', got {loss!r}.")
    pen = model.objective_penalty
    delta = getattr(model, "l0_delta", None) if pen == "l0" else None
    value = objective(pen, xT, A, Y, lam, delta=delta)
    G = -((Y - xT @ A.T) @ A)
    if pen == "l1":
        G = G + lam * xp.sign(xT)
    elif delta is not None:
        d2 = xT * xT + delta
        G = G + lam * (2.0 * delta * xT / (d2 * d2))
    return value, G / xT.shape[0]


def _loss_and_grad_xp(xp, loss, model, xT, A, Y, X_true, lam):
    """:func:`loss_and_grad` in the namespace ``xp`` (the value is one synchronisation)."""
    B, n = xT.shape
    if loss == "supervised":
        if X_true is None:
            raise ValueError("loss='supervised' needs the true codes X_true.")
        D = xT - to_namespace(X_true, xT)
        D64 = xp.astype(D, xp.float64)
        value = float(xp.mean(D64 * D64))
        return value, (2.0 / (B * n)) * D
    value, G = _unsupervised(xp, loss, model, xT, to_namespace(A, xT), to_namespace(Y, xT),
                             lam)
    return value, xp.astype(G, xT.dtype)


def nmse_db(xs, X_true):
    """NMSE in dB, ``10 log10(sum ||x_t - x||^2 / sum ||x||^2)``, of one array or per layer.

    Squared errors are summed over the batch first, then the log is taken (pitfall 4).

    Parameters
    ----------
    xs : ndarray of shape (n_samples, n_atoms) or a sequence of them
    X_true : ndarray of shape (n_samples, n_atoms)

    Returns
    -------
    nmse : float or ndarray of shape (len(xs),)

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import nmse_db
    >>> float(nmse_db(np.zeros((1, 2)), np.ones((1, 2))))
    0.0
    """
    single = hasattr(xs, "ndim") and xs.ndim == 2
    arrs = [xs] if single else list(xs)
    xp = data_namespace(X_true, *arrs)
    if xp is not None:  # one host float per array (a report, not a loop)
        like = next(a for a in (X_true, *arrs) if data_namespace(a) is not None)
        Xt = to_namespace(X_true, like)

        def sq(a):
            a = xp.astype(a, xp.float64)
            return float(xp.sum(a * a))

        ref = sq(Xt)
        out = [10 * np.log10(sq(to_namespace(x, like) - Xt) / ref) for x in arrs]
        return out[0] if single else np.array(out)
    ref = float(np.sum(np.asarray(X_true, dtype=np.float64) ** 2))
    if isinstance(xs, np.ndarray) and xs.ndim == 2:
        return 10 * np.log10(float(np.sum((xs - X_true).astype(np.float64) ** 2)) / ref)
    return np.array([10 * np.log10(float(np.sum((x - X_true).astype(np.float64) ** 2)) / ref)
                     for x in xs])
