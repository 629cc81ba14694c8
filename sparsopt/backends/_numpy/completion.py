"""NumPy references of the matrix-completion kernels (the oracle of the Numba ones).

Deliberately different derivations from :mod:`.._numba.completion`:

* ``als_normal_solve`` solves each row's ridge problem through the SVD of the gathered
  ``A = F[row]``: ``w = V diag(s / (s^2 + lam)) U^T y`` (no normal equations, no
  Cholesky);
* ``als_sketch_solve`` builds each row's sketch as an explicit dense ``S`` (same hash,
  so the same sketch), factors ``[S A; sqrt(lam) I]`` with LAPACK's QR and runs the
  preconditioned CGLS with vectorised products;
* ``als_residual`` is one gather and one ``einsum``.

The hash (splitmix64 of the seed and the entry's position) is written with vectorised
uint64 arithmetic.
"""

import numpy as np

from .._registry import register_kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(z):
    z = np.asarray(z, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _entry_hash(seed, positions):
    with np.errstate(over="ignore"):
        return _splitmix(_splitmix(np.array([seed], dtype=np.uint64))
                         ^ np.asarray(positions, dtype=np.uint64))


def _uniform(h):
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / 9007199254740992.0


def sketch_matrix(seed, positions, s, kind):
    """The ``(s, len(positions))`` sketch of one row's entries (CountSketch or Gaussian)."""
    n = len(positions)
    h = _entry_hash(seed, positions)
    S = np.zeros((s, n))
    if kind == 0:
        buckets = (h % np.uint64(s)).astype(np.int64)
        signs = np.where((h >> np.uint64(63)) & np.uint64(1), -1.0, 1.0)
        S[buckets, np.arange(n)] = signs
        return S
    b = np.arange(s, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h1 = _splitmix(h[None, :] + np.uint64(2) * b[:, None])
        h2 = _splitmix(h[None, :] + np.uint64(2) * b[:, None] + np.uint64(1))
    return (np.sqrt(-2.0 * np.log(_uniform(h1))) * np.cos(2.0 * np.pi * _uniform(h2))
            / np.sqrt(s))


def _ridge_svd(A, y, lam):
    if A.shape[0] == 0 or not np.any(A):
        return np.zeros(A.shape[1])
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    d = s * s + lam
    coef = np.divide(s, d, out=np.zeros_like(s), where=d > 0)
    return Vt.T @ (coef * (U.T @ y))


def _damped(A, y, lam, v):
    return float(np.sum((y - A @ v) ** 2) + lam * v @ v)


def _rows(indptr, indices, data, F):
    for i in range(indptr.size - 1):
        sl = slice(indptr[i], indptr[i + 1])
        yield i, np.asarray(F[indices[sl]], dtype=np.float64), np.asarray(data[sl], np.float64)


@register_kernel("als_normal_solve", "numpy")
def als_normal_solve(indptr, indices, data, F, ridge, reg, out):
    k = F.shape[1]
    for i, A, y in _rows(indptr, indices, data, F):
        lam = reg + ridge * float(np.sum(A * A)) / k
        out[i] = _ridge_svd(A, y, lam)


@register_kernel("als_sketch_solve", "numpy")
def als_sketch_solve(indptr, indices, data, F, ridge, reg, sketch_size, n_iter, seed, kind,
                     warm, out):
    k = F.shape[1]
    s = max(int(sketch_size), k + 1)
    for i, A, y in _rows(indptr, indices, data, F):
        lam = reg + ridge * float(np.sum(A * A)) / k
        if A.shape[0] <= s:
            out[i] = _ridge_svd(A, y, lam)
            continue
        S = sketch_matrix(seed, np.arange(indptr[i], indptr[i + 1]), s, kind)
        top = S @ np.column_stack([A, y])
        lam_p = max(lam, 1e-6 * float(np.sum(A * A)) / k)  # preconditioner damping floor
        B = np.vstack([top, np.column_stack([np.sqrt(lam_p) * np.eye(k), np.zeros(k)])])
        Q, R = np.linalg.qr(B[:, :k])
        if np.any(np.abs(np.diag(R)) <= 1e-13 * abs(R[0, 0])):
            out[i] = _ridge_svd(A, y, lam)
            continue
        w = np.linalg.solve(R, Q.T @ B[:, k])

        if warm:
            prev = np.asarray(out[i], dtype=np.float64)
            if _damped(A, y, lam, prev) < _damped(A, y, lam, w):
                w = prev.copy()
        Rinv = np.linalg.inv(R)
        Minv = Rinv @ Rinv.T
        r = y - A @ w
        g = A.T @ r - lam * w
        z = Minv @ g
        p = z.copy()
        gamma = g @ z
        floor = 1e-26 * float(y @ y)  # converged to rounding: stop before beta blows up
        for _ in range(int(n_iter)):
            if not gamma > floor:
                break
            q = A @ p
            delta = q @ q + lam * p @ p
            if not delta > 0:
                break
            alpha = gamma / delta
            w = w + alpha * p
            r = r - alpha * q
            g = A.T @ r - lam * w
            z = Minv @ g
            gnew = g @ z
            p = z + (gnew / gamma) * p
            gamma = gnew
        out[i] = w


@register_kernel("als_residual", "numpy")
def als_residual(indptr, indices, data, U, V, out):
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    sl = slice(indptr[0], indptr[-1])
    pred = np.einsum("ij,ij->i", np.asarray(U[rows], np.float64),
                     np.asarray(V[indices[sl]], np.float64))
    res = np.asarray(data[sl], np.float64) - pred
    out[sl] = res
    return float(res @ res)
