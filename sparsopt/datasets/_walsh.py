"""Sparse pseudo-Boolean functions: a random K-sparse Walsh spectrum and its noisy queries."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..transforms._walsh import check_n_bits, pack_bits, walsh_expansion


class SparseWalshFunction:
    """A sparse Walsh expansion plus Gaussian noise, queried on 0/1 points.

    ``f(m) = sum_k values[k] (-1) ** popcount(m & k) + w``, ``w ~ N(0, noise_var)``
    drawn afresh at each call. Built by :func:`make_sparse_walsh`; it counts the points
    it was queried at in ``n_queries``.

    Parameters
    ----------
    n_bits : int
    indices : ndarray of int64
        Bit-packed frequencies.
    values : ndarray
        Coefficients.
    noise_var : float, default=0.0
        Variance of the noise of one query.
    random_state : int, RandomState instance or None, default=None
        Draws the noise.
    """

    def __init__(self, n_bits, indices, values, noise_var=0.0, random_state=None):
        self.n_bits = n_bits
        self.indices = indices
        self.values = values
        self.noise_var = noise_var
        self.random_state = check_random_state(random_state)
        self.n_queries = 0

    def __call__(self, X):
        """Values at the rows of ``X`` (shape ``(n_points, n_bits)``, entries 0/1)."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_bits:
            raise ValueError(f"SparseWalshFunction: X must have shape (n_points, "
                             f"{self.n_bits}), got {X.shape}.")
        return self.at_packed(pack_bits(X))

    def at_packed(self, points):
        """Values at bit-packed points (int64 array)."""
        points = np.ascontiguousarray(points, dtype=np.int64)
        self.n_queries += points.size
        f = walsh_expansion(points, self.indices, self.values)
        if self.noise_var > 0:
            f = f + self.random_state.normal(0.0, np.sqrt(self.noise_var),
                                             size=f.shape).astype(f.dtype)
        return f


def make_sparse_walsh(n_bits, sparsity, *, magnitude=(1.0, 1.0), snr_db=None,
                      dtype=np.float64, random_state=None):
    r"""A random ``K``-sparse pseudo-Boolean function, to be queried by :func:`spright`.

    The spectrum has ``sparsity`` distinct frequencies drawn uniformly from
    ``{0, 1}^n_bits`` (bit-packed), with amplitudes of random sign and magnitude uniform
    in ``magnitude`` (``(1, 1)``: the constant-magnitude model ``|X[k]| = 1`` of the SPRIGHT
    analysis). The function is

    .. math::
        x[m] = \sum_k X[k] (-1)^{\langle m, k\rangle} + w[m], \qquad
        w[m] \sim \mathcal{N}(0, \sigma^2),

    with the signal-to-noise ratio defined per query (time sample) as
    ``SNR = 10 log10(sum_k |X[k]|^2 / sigma^2)`` dB.

    Parameters
    ----------
    n_bits : int
        Number of binary inputs (at most 62).
    sparsity : int
        Number ``K`` of non-zero coefficients (at most ``2 ** n_bits``).
    magnitude : (float, float), default=(1.0, 1.0)
        Range of the amplitudes' magnitudes.
    snr_db : float or None, default=None
        Signal-to-noise ratio per query in dB; ``None`` is noiseless.
    dtype : {np.float64, np.float32}, default=np.float64
        dtype of the values and of the function's output.
    random_state : int, RandomState instance or None, default=None
        Draws the spectrum and the noise.

    Returns
    -------
    query : SparseWalshFunction
        ``query(X)`` for ``X`` of shape ``(n_points, n_bits)`` with 0/1 entries returns an
        array of shape ``(n_points,)``; ``query.noise_var`` is ``sigma^2``.
    indices : ndarray of shape (sparsity,), dtype int64
        The true frequencies, bit-packed and sorted.
    values : ndarray of shape (sparsity,)
        Their amplitudes.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_walsh
    >>> query, k, v = make_sparse_walsh(8, 3, random_state=0)
    >>> k.shape, sorted(set(abs(v).tolist()))
    ((3,), [1.0])
    >>> query([[0] * 8]).round(6) == v.sum().round(6)
    array([ True])
    """
    n_bits = check_n_bits(n_bits, "make_sparse_walsh")
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, np.integer)) \
            or not 1 <= sparsity <= 2**n_bits:
        raise ValueError(f"make_sparse_walsh: sparsity must be an integer in [1, 2**n_bits], "
                         f"got {sparsity!r}.")
    lo, hi = magnitude
    if not 0 <= lo <= hi:
        raise ValueError(f"make_sparse_walsh: magnitude must be (low, high) with "
                         f"0 <= low <= high, got {magnitude!r}.")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"make_sparse_walsh: dtype must be float32 or float64, got {dtype!r}.")
    rng = check_random_state(random_state)
    if n_bits <= 20:
        idx = rng.choice(2**n_bits, size=sparsity, replace=False).astype(np.int64)
    else:
        idx = np.zeros(0, dtype=np.int64)
        while idx.size < sparsity:
            hi_bits = rng.randint(0, 2**31, size=sparsity).astype(np.int64)
            lo_bits = rng.randint(0, 2 ** (n_bits - 31), size=sparsity).astype(np.int64) \
                if n_bits > 31 else 0
            draw = ((hi_bits << max(n_bits - 31, 0)) | lo_bits) & ((1 << n_bits) - 1)
            idx = np.concatenate([idx, draw])
            idx = idx[np.sort(np.unique(idx, return_index=True)[1])][:sparsity]
    idx = np.sort(idx)
    signs = rng.choice([-1.0, 1.0], size=sparsity)
    values = (signs * rng.uniform(lo, hi, size=sparsity)).astype(dtype)
    noise_var = 0.0
    if snr_db is not None:
        noise_var = float(np.sum(values.astype(np.float64) ** 2) / 10 ** (snr_db / 10))
    query = SparseWalshFunction(n_bits, idx, values, noise_var=noise_var,
                                random_state=rng.randint(0, 2**31 - 1))
    return query, idx, values
