"""The synthetic datasets A, B and C of the block coordinate descent experiments."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..utils.validation import check_int, check_scalar

_NAME = "make_bcd_problem"
#: the paper's names of the datasets
_ALIASES = {"ls": "squared", "softmax": "multinomial"}


def make_bcd_problem(kind="squared", n_samples=1000, n_features=None, *, n_classes=50,
                     density=None, w_density=0.1, flip=0.1, sparse=False, random_state=None):
    """Datasets A (least squares), B (logistic) and C (multinomial) of Nutini et al.

    The design is built column-scaled and sparse, as in the authors' code:
    ``A = N(0, 1) + 1``, each column multiplied by ``10 N(0, 1)``, each entry kept
    with probability ``density`` (default ``10 log(n_samples) / n_samples``). The
    planted coefficients have N(0, 1) entries, each kept with probability
    ``w_density``.

    * ``"squared"`` (dataset A, least squares): ``y = A w + N(0, 1)``; with
      ``n_features > n_samples`` the system is consistent and the least-squares optimum
      is ``f* = 0``.
    * ``"logistic"`` (dataset B): ``y = sign(A w)`` in {-1, +1}, a fraction ``flip``
      of the signs flipped.
    * ``"multinomial"`` (dataset C, the paper's "softmax"): ``y = argmax_c (A W + E)_c``
      with ``W`` of shape ``(n_features, n_classes)`` and ``E`` standard normal noise.

    The names are those of :func:`~sparsopt.solvers.bcd`'s ``loss``; the paper's
    ``"ls"`` and ``"softmax"`` are accepted as aliases.

    Parameters
    ----------
    kind : {"squared", "logistic", "multinomial"}, default="squared"
        Which dataset (the loss it is made for).
    n_samples : int, default=1000
        Rows of ``A``.
    n_features : int or None, default=None
        Columns of ``A``; ``None`` uses the paper's sizes (10000 for ``"squared"`` and
        ``"logistic"``, 1000 for ``"multinomial"``).
    n_classes : int, default=50
        Classes of ``"multinomial"``.
    density : float or None, default=None
        Probability of keeping an entry of ``A``.
    w_density : float, default=0.1
        Probability of keeping an entry of ``w`` (``W``).
    flip : float, default=0.1
        Fraction of flipped labels for ``"logistic"``.
    sparse : bool, default=False
        Return ``A`` as a CSC matrix.
    random_state : int, Generator or None, default=None
        Seed (``numpy.random.default_rng``).

    Returns
    -------
    A : ndarray or csc_matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Real targets, -1/+1 labels or class indices in ``0 .. n_classes - 1``.
    w : ndarray of shape (n_features,) or (n_features, n_classes)
        Planted coefficients.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, "Let's Make Block Coordinate Descent
       Converge Faster", JMLR 23(131), 2022, Appendix F.1 and the authors' code
       (``IssamLaradji/BlockCoordinateDescent``, ``src/datasets``).

    Examples
    --------
    >>> from sparsopt.datasets import make_bcd_problem
    >>> A, y, w = make_bcd_problem("squared", 50, 200, random_state=0)
    >>> A.shape, y.shape, w.shape
    ((50, 200), (50,), (200,))
    """
    kind = _ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if kind not in ("squared", "logistic", "multinomial"):
        raise ValueError(f"{_NAME}: kind must be 'squared', 'logistic' or 'multinomial', got "
                         f"{kind!r}.")
    n = check_int(n_samples, "n_samples", _NAME, lower=2)
    if n_features is None:
        n_features = 1000 if kind == "multinomial" else 10000
    p = check_int(n_features, "n_features", _NAME, lower=1)
    k = check_int(n_classes, "n_classes", _NAME, lower=2)
    if density is None:
        density = min(1.0, 10.0 * math.log(n) / n)
    density = check_scalar(density, "density", _NAME, lower=0.0, upper=1.0,
                           lower_inclusive=False)
    w_density = check_scalar(w_density, "w_density", _NAME, lower=0.0, upper=1.0)
    flip = check_scalar(flip, "flip", _NAME, lower=0.0, upper=1.0)
    rng = np.random.default_rng(random_state)
    A = rng.standard_normal((n, p)) + 1.0
    A *= 10.0 * rng.standard_normal(p)
    A *= rng.random((n, p)) < density
    if kind == "multinomial":
        w = rng.standard_normal((p, k)) * (rng.random((p, k)) < w_density)
        y = np.argmax(A @ w + rng.standard_normal((n, k)), axis=1).astype(np.int64)
    else:
        w = rng.standard_normal(p) * (rng.random(p) < w_density)
        if kind == "squared":
            y = A @ w + rng.standard_normal(n)
        else:
            y = np.where(A @ w >= 0.0, 1.0, -1.0)
            y[rng.random(n) < flip] *= -1.0
    if sparse:
        A = sp.csc_matrix(A)
    return A, y, w
