"""Random low-rank matrix-completion problems (the standard benchmark of spec 3(d))."""

from __future__ import annotations

import numpy as np

from ..utils.validation import check_int, check_scalar


def _sorted_unique(a):
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])]


def _sample_positions(total, density, rng):
    """Sorted distinct linear indices of a Bernoulli(``density``) subset of
    ``range(total)``, in ``O(|Omega|)`` memory (no dense mask for large sizes)."""
    if total <= 4_000_000:
        return np.flatnonzero(rng.random(total) < density)
    count = int(rng.binomial(total, density))
    if density > 0.2:
        return np.sort(rng.choice(total, size=count, replace=False))
    picked = _sorted_unique(rng.integers(0, total, size=count + count // 8 + 64))
    while picked.size < count:  # rare: too many duplicates
        more = rng.integers(0, total, size=count - picked.size + 64)
        picked = _sorted_unique(np.concatenate([picked, more]))
    if picked.size > count:
        picked = np.sort(picked[rng.permutation(picked.size)[:count]])
    return picked


def make_low_rank_completion(n_rows, n_cols, rank, density=0.1, noise=0.0, *,
                             output="sparse", dtype=np.float64, random_state=None):
    """A random rank-``rank`` matrix ``M = U V^T`` and a random subset of its entries.

    ``U`` and ``V`` have i.i.d. standard normal entries (incoherent with high
    probability); every entry is observed independently with probability ``density``
    (Bernoulli sampling), plus ``noise * N(0, 1)`` on the observed values. The matrix
    ``M`` itself is never formed (memory ``O(|Omega| + (m + n) k)``), so large problems
    (``20000 x 20000``) are cheap.

    A useful scale for ``density`` is the oversampling ratio
    ``rho = |Omega| / (k (m + n - k))`` (the degrees of freedom of a rank-``k`` matrix):
    ``density = rho * k * (m + n - k) / (m n)``; alternating minimization needs ``rho``
    of about 3 to 4.

    Parameters
    ----------
    n_rows, n_cols : int
        Shape of ``M``.
    rank : int
        Rank ``k`` of ``M``.
    density : float, default=0.1
        Probability that an entry is observed, in ``(0, 1]``.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the observed entries.
    output : {"sparse", "dense"}, default="sparse"
        ``"sparse"``: a SciPy CSR array holding the observed entries (explicit zeros
        would be observations too); ``"dense"``: an ``(n_rows, n_cols)`` array with NaN at
        the missing entries (what scikit-learn-style imputers take).
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
    random_state : int, Generator or None, default=None

    Returns
    -------
    X_observed : scipy.sparse.csr_array or ndarray of shape (n_rows, n_cols)
        The observed entries.
    U : ndarray of shape (n_rows, rank)
    V : ndarray of shape (n_cols, rank)
        The true factors: ``M = U @ V.T``.

    References
    ----------
    .. [1] P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using
       alternating minimization", STOC 2013 (the random model and its incoherence).

    Examples
    --------
    >>> from sparsopt.datasets import make_low_rank_completion
    >>> X, U, V = make_low_rank_completion(100, 80, 3, density=0.2, random_state=0)
    >>> X.shape, U.shape, V.shape
    ((100, 80), (100, 3), (80, 3))
    >>> 0.15 < X.nnz / (100 * 80) < 0.25
    True
    """
    import scipy.sparse as sp

    owner = "make_low_rank_completion"
    m = check_int(n_rows, "n_rows", owner, lower=1)
    n = check_int(n_cols, "n_cols", owner, lower=1)
    k = check_int(rank, "rank", owner, lower=1)
    density = check_scalar(density, "density", owner, lower=0.0, upper=1.0,
                           lower_inclusive=False)
    noise = check_scalar(noise, "noise", owner, lower=0.0)
    if output not in ("sparse", "dense"):
        raise ValueError(f"{owner}: output must be 'sparse' or 'dense', got {output!r}.")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{owner}: dtype must be float32 or float64, got {dtype}.")
    rng = np.random.default_rng(random_state)
    U = rng.standard_normal((m, k))
    V = rng.standard_normal((n, k))
    pos = _sample_positions(m * n, density, rng)
    rows, cols = np.divmod(pos, n)
    vals = np.empty(pos.size)
    chunk = 1 << 20
    for a in range(0, pos.size, chunk):
        b = min(a + chunk, pos.size)
        vals[a:b] = np.einsum("ij,ij->i", U[rows[a:b]], V[cols[a:b]])
    if noise > 0:
        vals += noise * rng.standard_normal(vals.size)
    U, V, vals = U.astype(dtype), V.astype(dtype), vals.astype(dtype)
    if output == "dense":
        X = np.full((m, n), np.nan, dtype=dtype)
        X[rows, cols] = vals
        return X, U, V
    X = sp.csr_array((vals, (rows.astype(np.int32 if max(m, n) < 2**31 else np.int64),
                             cols)), shape=(m, n))
    return X, U, V
