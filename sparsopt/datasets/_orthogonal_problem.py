"""Synthetic complete orthogonal dictionary learning problems (Bernoulli-Gaussian codes)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import check_int, check_scalar


def make_orthogonal_dictionary_problem(n_samples=1000, n_features=10, *, theta=0.3, noise=0.0,
                                       dtype=np.float64, random_state=None):
    """Signals ``X = codes @ dictionary + noise`` with an orthogonal dictionary.

    The model of the l4/lp-maximization and online orthogonal dictionary learning papers
    (``Y = D0 X`` there, with samples as columns), written in scikit-learn's layout:

    * ``dictionary`` is a Haar-random orthogonal matrix (QR of a Gaussian matrix with the
      signs of ``diag(R)`` fixed), atoms as rows;
    * ``codes`` are Bernoulli(``theta``)-Gaussian: ``codes_ij = b_ij g_ij`` with
      ``b_ij ~ Bernoulli(theta)`` and ``g_ij ~ N(0, 1)``;
    * ``X = codes @ dictionary + noise * N(0, 1)`` (absolute noise standard deviation).

    Draws, in this order from ``check_random_state(random_state)``: the Gaussian matrix of
    the dictionary, the Bernoulli mask, the Gaussian values, the noise (only if
    ``noise > 0``).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of signals (rows of ``X``).
    n_features : int, default=10
        Signal dimension, equal to the number of atoms.
    theta : float, default=0.3
        Probability that a code entry is non-zero, in (0, 1].
    noise : float, default=0.0
        Standard deviation of the additive Gaussian noise (absolute, not relative).
    dtype : {np.float64, np.float32}, default=np.float64
        Floating dtype of the outputs (computed in float64, then cast).
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Signals, one per row.
    dictionary : ndarray of shape (n_features, n_features)
        True orthogonal dictionary, atoms as rows (``dictionary @ dictionary.T = I``).
    codes : ndarray of shape (n_samples, n_features)
        True sparse codes (``X @ dictionary.T == codes`` without noise).

    References
    ----------
    .. [1] Y. Zhai, Z. Yang, Z. Liao, J. Wright and Y. Ma, "Complete dictionary learning
       via l4-norm maximization over the orthogonal group", J. Mach. Learn. Res. 21, 2020.
    .. [2] Y. Xue and V. K. N. Lau, "Online orthogonal dictionary learning based on
       Frank-Wolfe method", arXiv:2103.01484, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_orthogonal_dictionary_problem
    >>> X, D, C = make_orthogonal_dictionary_problem(500, 6, theta=0.2, random_state=0)
    >>> X.shape, D.shape, C.shape
    ((500, 6), (6, 6), (500, 6))
    >>> bool(np.allclose(D @ D.T, np.eye(6)) and np.allclose(X @ D.T, C))
    True
    """
    name = "make_orthogonal_dictionary_problem"
    n_samples = check_int(n_samples, "n_samples", name, lower=1)
    n_features = check_int(n_features, "n_features", name, lower=1)
    theta = check_scalar(theta, "theta", name, lower=0.0, lower_inclusive=False, upper=1.0)
    noise = check_scalar(noise, "noise", name, lower=0.0)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}: dtype must be np.float32 or np.float64, got {dtype}.")
    rng = check_random_state(random_state)
    Q, R = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1.0
    dictionary = (Q * signs).T  # rows = atoms (Q^T is Haar-distributed as well)
    mask = rng.random_sample((n_samples, n_features)) < theta
    codes = mask * rng.standard_normal((n_samples, n_features))
    X = codes @ dictionary
    if noise > 0:
        X = X + noise * rng.standard_normal((n_samples, n_features))
    return X.astype(dtype), dictionary.astype(dtype), codes.astype(dtype)
