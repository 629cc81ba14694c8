"""Synthetic sparse problems with known ground truth."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import check_int, check_scalar


def make_sparse_signal(n_samples=100, n_features=200, n_nonzero=10, *, noise=0.01,
                       normalize=True, dtype=np.float64, random_state=None):
    """Linear measurements of a sparse vector: ``y = A x_true + noise``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of measurements (rows of ``A``).
    n_features : int, default=200
        Length of the unknown vector.
    n_nonzero : int, default=10
        Non-zeros of ``x_true`` (at random positions, values ``±(1 + |N(0,1)|)``).
    noise : float, default=0.01
        Standard deviation of the Gaussian noise, relative to ``std(A x_true)``.
    normalize : bool, default=True
        Scale the columns of ``A`` to unit l2 norm.
    dtype : {np.float64, np.float32}, default=np.float64
        Floating dtype of the outputs.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    A : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    x_true : ndarray of shape (n_features,)

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_signal
    >>> A, y, x = make_sparse_signal(20, 50, 3, random_state=0)
    >>> A.shape, y.shape, int((x != 0).sum())
    ((20, 50), (20,), 3)
    """
    name = "make_sparse_signal"
    n_samples = check_int(n_samples, "n_samples", name, lower=1)
    n_features = check_int(n_features, "n_features", name, lower=1)
    n_nonzero = check_int(n_nonzero, "n_nonzero", name, lower=0)
    if n_nonzero > n_features:
        raise ValueError(f"{name}: n_nonzero={n_nonzero} exceeds n_features={n_features}.")
    noise = check_scalar(noise, "noise", name, lower=0.0)
    rng = check_random_state(random_state)
    A = rng.standard_normal((n_samples, n_features))
    if normalize:
        A /= np.linalg.norm(A, axis=0)
    x = np.zeros(n_features)
    support = rng.choice(n_features, n_nonzero, replace=False)
    x[support] = rng.choice([-1.0, 1.0], n_nonzero) * (1.0 + np.abs(rng.standard_normal(n_nonzero)))
    clean = A @ x
    scale = clean.std() if n_nonzero else 1.0
    y = clean + noise * scale * rng.standard_normal(n_samples)
    return A.astype(dtype), y.astype(dtype), x.astype(dtype)


def make_sparse_coding_problem(n_samples=500, n_features=64, n_components=256, n_nonzero=8, *,
                               noise=0.1, dtype=np.float64, random_state=0):
    """Signals that are sparse combinations of the atoms of a random dictionary.

    Follows the generator of the sparse-coding reproduction (spec T1b): with
    ``rng = np.random.default_rng(random_state)``, in this order, the dictionary
    ``Phi`` (standard normal, unit-norm atoms), the codes (``n_nonzero`` non-zeros
    per sample at ``rng.choice(n_components, n_nonzero, replace=False)``, N(0, 1)
    values) and ``X = codes @ dictionary + noise * std(codes @ dictionary) * N(0, 1)``.

    Parameters
    ----------
    n_samples : int, default=500
        Number of signals.
    n_features : int, default=64
        Signal dimension.
    n_components : int, default=256
        Number of atoms.
    n_nonzero : int, default=8
        Non-zeros per code.
    noise : float, default=0.1
        Noise standard deviation relative to the clean signals' standard deviation.
    dtype : {np.float64, np.float32}, default=np.float64
        Floating dtype of the outputs.
    random_state : int or None, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Noisy signals.
    dictionary : ndarray of shape (n_components, n_features)
        Unit-norm atoms (rows), scikit-learn's layout: ``X ~ codes @ dictionary``.
    codes : ndarray of shape (n_samples, n_components)
        Ground-truth sparse codes.

    References
    ----------
    .. [1] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1
       sparse coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> X, D, C = make_sparse_coding_problem(10, 16, 32, 3)
    >>> X.shape, D.shape, C.shape
    ((10, 16), (32, 16), (10, 32))
    """
    name = "make_sparse_coding_problem"
    n_samples = check_int(n_samples, "n_samples", name, lower=1)
    n_features = check_int(n_features, "n_features", name, lower=1)
    n_components = check_int(n_components, "n_components", name, lower=1)
    n_nonzero = check_int(n_nonzero, "n_nonzero", name, lower=0)
    if n_nonzero > n_components:
        raise ValueError(f"{name}: n_nonzero={n_nonzero} exceeds n_components={n_components}.")
    noise = check_scalar(noise, "noise", name, lower=0.0)
    rng = np.random.default_rng(random_state)
    phi = rng.standard_normal((n_features, n_components))
    phi /= np.linalg.norm(phi, axis=0)
    codes = np.zeros((n_samples, n_components))
    for i in range(n_samples):
        idx = rng.choice(n_components, n_nonzero, replace=False)
        codes[i, idx] = rng.standard_normal(n_nonzero)
    clean = codes @ phi.T
    X = clean + noise * clean.std() * rng.standard_normal(clean.shape)
    return X.astype(dtype), np.ascontiguousarray(phi.T).astype(dtype), codes.astype(dtype)


def make_kronecker_problem(measurements=(8, 12, 15), unknowns=(15, 15, 15), n_nonzero=3, *,
                           snr=20.0, n_snapshots=None, complex=False, random_state=None,
                           return_noise_variance=False):
    """A Kronecker-structured sparse recovery problem ``y = (A_1 ⊗ … ⊗ A_I) x + n``.

    The KroSBL paper's synthetic set-up: i.i.d. standard normal factors ``A_i`` of shape
    ``(m_i, n_i)``, a Kronecker-supported signal ``x = x_1 ⊗ ... ⊗ x_I`` with
    ``n_nonzero`` standard normal entries per factor (``n_nonzero^I`` non-zeros in ``x``),
    and white noise of variance ``sigma^2 = (||A x||^2 / M) / 10^(snr / 10)``.

    Parameters
    ----------
    measurements : sequence of int, default=(8, 12, 15)
        ``m_i``, rows of each factor (``M = prod m_i``).
    unknowns : sequence of int, default=(15, 15, 15)
        ``n_i``, columns of each factor (``N = prod n_i``).
    n_nonzero : int, default=3
        Non-zeros per factor signal ``x_i``.
    snr : float or None, default=20.0
        Signal-to-noise ratio in dB (None: noiseless).
    n_snapshots : int or None, default=None
        With an int ``L``, ``L`` snapshots sharing the support (``y`` and ``x`` 2-D).
    complex : bool, default=False
        Circularly-symmetric complex Gaussian factors, signal and noise.
    random_state : int, RandomState instance or None, default=None
    return_noise_variance : bool, default=False
        Also return ``sigma^2``.

    Returns
    -------
    factors : list of ndarray
    y : ndarray of shape (M,) or (M, L)
    x : ndarray of shape (N,) or (N, L)
    noise_variance : float
        Only with ``return_noise_variance``.

    Examples
    --------
    >>> from sparsopt.datasets import make_kronecker_problem
    >>> factors, y, x = make_kronecker_problem(random_state=0)
    >>> [f.shape for f in factors], y.shape, x.shape, int((x != 0).sum())
    ([(8, 15), (12, 15), (15, 15)], (1440,), (3375,), 27)
    """
    name = "make_kronecker_problem"
    ms = [check_int(m, "measurements", name, lower=1) for m in measurements]
    ns = [check_int(n, "unknowns", name, lower=1) for n in unknowns]
    if len(ms) != len(ns) or not ms:
        raise ValueError(f"{name}: measurements and unknowns must have the same (non-zero) "
                         f"length, got {len(ms)} and {len(ns)}.")
    k = check_int(n_nonzero, "n_nonzero", name, lower=1)
    if k > min(ns):
        raise ValueError(f"{name}: n_nonzero = {k} exceeds the smallest factor size {min(ns)}.")
    rng = check_random_state(random_state)

    def gauss(*shape):
        if complex:
            return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)
        return rng.standard_normal(shape)

    factors = [gauss(m, n) for m, n in zip(ms, ns)]
    L = 1 if n_snapshots is None else check_int(n_snapshots, "n_snapshots", name, lower=1)
    supports = [np.sort(rng.choice(n, k, replace=False)) for n in ns]
    x = np.zeros((int(np.prod(ns)), L), dtype=np.complex128 if complex else np.float64)
    for col in range(L):
        parts = []
        for n, s in zip(ns, supports):
            v = np.zeros(n, dtype=x.dtype)
            v[s] = gauss(k)
            parts.append(v)
        xv = parts[0]
        for v in parts[1:]:
            xv = np.kron(xv, v)
        x[:, col] = xv
    from ..linalg import kron_apply

    y0 = kron_apply(factors, x)
    M = y0.shape[0]
    if snr is None:
        sigma2 = 0.0
    else:
        snr = check_scalar(snr, "snr", name)
        sigma2 = float(np.real(np.vdot(y0, y0))) / (M * L) / 10 ** (snr / 10)
    y = y0 + np.sqrt(sigma2) * gauss(*y0.shape)
    if n_snapshots is None:
        y, x = y[:, 0], x[:, 0]
    if return_noise_variance:
        return factors, y, x, sigma2
    return factors, y, x
