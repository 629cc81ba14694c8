"""Numba kernels of matrix completion by alternating minimization (robust AltMin).

The observed entries of an ``m x n`` matrix are given as a compressed-row pattern
``(indptr, indices, data)`` (CSR for the rows; the same arrays of the transpose, i.e.
CSC, for the columns). ``indptr`` is int64, ``indices`` int32, ``data`` float32 or
float64; ``F`` (the fixed factor, ``(n, k)``) and ``out`` (``(m, k)``) have the dtype of
``data``. Every per-row computation accumulates in float64.

* ``als_normal_solve``: for every row ``i``, the ridge least-squares problem
  ``min_w sum_{j in row i} (F_j . w - M_ij)^2 + lam_i ||w||^2`` with
  ``lam_i = reg + ridge * trace(G_i) / k`` by the normal equations
  ``(G_i + lam_i I) w = h_i``, ``G_i = A^T A`` with ``A = F[row]`` gathered in float64
  (one BLAS product per row: measured faster than a hand-written upper-triangle
  accumulation by 1.9x at k = 5, 3x at k = 10, 6x at k = 20 and 3.7x at k = 64 on
  4000 x 4000 problems, one thread), and a Cholesky of its upper triangle. Cost
  ``O(|row| k^2 + k^3 / 3)``.
* ``als_sketch_solve``: the same problems by sketch-and-precondition (Gu et al. 2023):
  a CountSketch (or Gaussian) sketch ``S A`` of the gathered ``A = F[row]`` with
  ``s`` rows, a (LAPACK) QR ``S A = Q R`` whose ``R`` preconditions a conjugate
  gradient on the (damped) normal equations, i.e. CGLS on ``A R^{-1}`` (never plain
  Richardson: it diverges when the sketch is a poor embedding), started at the
  sketch-and-solve point (or the previous ``out`` row when ``warm`` and better). Cost
  ``O(|row| k (1 + n_iter) + s k^2 + k^3)``. The QR is of ``[S A; sqrt(lam_p) I]`` with
  ``lam_p = max(lam, 1e-6 trace(A^T A) / k)``: a floor that keeps ``R`` well conditioned
  when the sketch merges columns (CG still solves the problem damped by ``lam``). Rows
  with ``|row| <= s`` (nothing to gain) are solved exactly by the normal equations.
* ``als_residual``: ``out_p = data_p - U_i . V_{indices_p}`` over the pattern; returns
  the float64 sum of squares.

The sketches come from a counter-based hash (splitmix64) of ``(seed, p)`` with ``p`` the
entry's position in ``data``, so a run gives the same result for any split of the rows
over threads (the callers pass ``indptr[a:b+1]`` and ``out[a:b]`` to work on rows
``a:b``: positions in ``indptr`` are absolute).
"""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S63 = np.uint64(63)
_ONE = np.uint64(1)
# CG stops once gamma = g' M^{-1} g <= _CG_FLOOR * ||y||^2 (converged to rounding)
_CG_FLOOR = 1e-26
# relative floor of the damping inside the preconditioner (see _sketch_row)
_PREC_FLOOR = 1e-6


@njit(**_opts)
def _splitmix(z):
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(**_opts)
def _entry_hash(seed, p):
    return _splitmix(_splitmix(np.uint64(seed)) ^ np.uint64(p))


@njit(**_opts)
def _uniform(h):
    """A float in (0, 1) from the top 53 bits of ``h``."""
    return (np.float64(h >> _S11) + 0.5) * (1.0 / 9007199254740992.0)


@njit(**_opts)
def _cholesky_solve(G, h, k, x):
    """Solve ``G x = h`` in place (``G``'s upper triangle becomes ``R``, ``G = R^T R``).

    Returns False when a pivot is not positive (``x`` is then undefined)."""
    for j in range(k):
        s = G[j, j]
        for t in range(j):
            s -= G[t, j] * G[t, j]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        G[j, j] = d
        for c in range(j + 1, k):
            v = G[j, c]
            for t in range(j):
                v -= G[t, j] * G[t, c]
            G[j, c] = v / d
    for j in range(k):  # R^T t = h
        v = h[j]
        for t in range(j):
            v -= G[t, j] * x[t]
        x[j] = v / G[j, j]
    for j in range(k - 1, -1, -1):  # R x = t
        v = x[j]
        for t in range(j + 1, k):
            v -= G[j, t] * x[t]
        x[j] = v / G[j, j]
    return True


@njit(**_opts)
def _solve_ridge(G, h, k, lam, G2, x):
    """``(G + lam I) x = h`` with ``G`` holding the upper triangle of a Gram matrix.

    A failed Cholesky (rounding on a numerically singular ``G``) is retried with a
    larger ridge. ``lam == 0`` with a zero trace (no observation) gives ``x = 0``."""
    tr = 0.0
    for a in range(k):
        tr += G[a, a]
    if tr == 0.0 and lam == 0.0:
        for a in range(k):
            x[a] = 0.0
        return
    floor = 1e-14 * tr / k
    for _attempt in range(8):
        for a in range(k):
            for b in range(a, k):
                G2[a, b] = G[a, b]
            G2[a, a] += lam
        if _cholesky_solve(G2, h, k, x):
            return
        lam = max(lam * 100.0, floor)
        floor *= 100.0
    for a in range(k):  # pragma: no cover - G not even positive semidefinite
        x[a] = 0.0


@njit(**_opts)
def _gather(indptr, indices, data, F, i, k, A, y):
    """Copy row ``i``'s regressors ``F[row]`` and values into the float64 ``A``, ``y``;
    returns the row length and ``||A||_F^2``."""
    p0 = indptr[i]
    n_i = indptr[i + 1] - p0
    tr = 0.0
    for e in range(n_i):
        j = indices[p0 + e]
        y[e] = data[p0 + e]
        for a in range(k):
            v = np.float64(F[j, a])
            A[e, a] = v
            tr += v * v
    return n_i, tr


@njit(**_opts)
def _normal_row(indptr, indices, data, F, i, k, ridge, reg, A, y, G2, x):
    """Gather row ``i``, form its Gram matrix with one BLAS ``A^T A`` (float64) and
    solve its ridge normal equations."""
    n_i, tr = _gather(indptr, indices, data, F, i, k, A, y)
    if n_i == 0:
        G = np.zeros((k, k))
        h = np.zeros(k)
    else:
        As = A[:n_i]
        G = np.dot(As.T, As)
        h = np.dot(As.T, y[:n_i])
    _solve_ridge(G, h, k, reg + ridge * tr / k, G2, x)


@njit(**_opts)
def _max_row(indptr):
    nmax = 0
    for i in range(indptr.size - 1):
        nmax = max(nmax, indptr[i + 1] - indptr[i])
    return nmax


@register_kernel("als_normal_solve", "numba")
@njit(**_opts)
def als_normal_solve(indptr, indices, data, F, ridge, reg, out):
    """Row-wise ridge least squares on the observed pattern (see the module docstring)."""
    m = indptr.size - 1
    k = F.shape[1]
    nmax = _max_row(indptr)
    A = np.empty((max(nmax, 1), k))
    y = np.empty(max(nmax, 1))
    G2 = np.zeros((k, k))
    x = np.zeros(k)
    for i in range(m):
        _normal_row(indptr, indices, data, F, i, k, ridge, reg, A, y, G2, x)
        for a in range(k):
            out[i, a] = x[a]


@njit(**_opts)
def _tri_solve_upper(R, k, b, x):
    """``R x = b`` for upper-triangular ``R``."""
    for j in range(k - 1, -1, -1):
        v = b[j]
        for t in range(j + 1, k):
            v -= R[j, t] * x[t]
        x[j] = v / R[j, j]


@njit(**_opts)
def _tri_solve_upper_t(R, k, b, x):
    """``R^T x = b`` for upper-triangular ``R``."""
    for j in range(k):
        v = b[j]
        for t in range(j):
            v -= R[t, j] * x[t]
        x[j] = v / R[j, j]


@njit(**_opts)
def _sketch_row(indptr, indices, data, F, i, k, s, n_iter, seed, kind, ridge, reg, warm,
                A, y, B, w, z, p, t, G2, out_row):
    """Sketch-and-precondition solve of row ``i`` into ``w`` (see the module docstring)."""
    p0 = indptr[i]
    n_i, tr = _gather(indptr, indices, data, F, i, k, A, y)
    lam = reg + ridge * tr / k
    # the sketch S [A | y] (s x (k + 1)), then k more rows sqrt(lam) I (damping)
    nr = s + k
    for a in range(nr):
        for c in range(k + 1):
            B[a, c] = 0.0
    if kind == 0:  # CountSketch: one bucket and one sign per observed entry
        for e in range(n_i):
            hh = _entry_hash(seed, p0 + e)
            bucket = np.int64(hh % np.uint64(s))
            sign = -1.0 if (hh >> _S63) & _ONE else 1.0
            for a in range(k):
                B[bucket, a] += sign * A[e, a]
            B[bucket, k] += sign * y[e]
    else:  # Gaussian sketch, entries N(0, 1/s)
        scale = 1.0 / math.sqrt(s)
        for e in range(n_i):
            hh = _entry_hash(seed, p0 + e)
            for b in range(s):
                h1 = _splitmix(hh + np.uint64(2 * b))
                h2 = _splitmix(hh + np.uint64(2 * b + 1))
                gv = scale * math.sqrt(-2.0 * math.log(_uniform(h1))) * math.cos(
                    2.0 * math.pi * _uniform(h2))
                for a in range(k):
                    B[b, a] += gv * A[e, a]
                B[b, k] += gv * y[e]
    # the preconditioner's damping has a floor: a sketch that merges columns (CountSketch
    # with few rows) would make R nearly singular and CG inaccurate; CG still solves the
    # problem damped by lam, R only needs to be well conditioned
    sl = math.sqrt(max(lam, _PREC_FLOOR * tr / k))
    for a in range(k):
        B[s + a, a] = sl
    # LAPACK QR of the (damped) sketch: R preconditions, Q^T S y starts
    Q, R = np.linalg.qr(np.ascontiguousarray(B[:, :k]))
    r00 = abs(R[0, 0])
    for a in range(k):
        if not abs(R[a, a]) > 1e-13 * r00:
            _normal_row(indptr, indices, data, F, i, k, ridge, reg, A, y, G2, w)
            return
    for a in range(k):  # Q^T (S y)
        v = 0.0
        for c in range(s + k):
            v += Q[c, a] * B[c, k]
        z[a] = v
    _tri_solve_upper(R, k, z, w)  # sketch-and-solve start
    As = A[:n_i]
    ys = y[:n_i]
    if warm:  # the previous iterate, if its damped objective is lower
        for a in range(k):
            t[a] = out_row[a]
        u1 = ys - np.dot(As, w)
        u2 = ys - np.dot(As, t)
        f_new = np.dot(u1, u1) + lam * np.dot(w, w)
        f_old = np.dot(u2, u2) + lam * np.dot(t, t)
        if f_old < f_new:
            for a in range(k):
                w[a] = t[a]
    # preconditioned CGLS on the damped problem, preconditioner M = R^T R
    rr = ys - np.dot(As, w)
    g = np.dot(As.T, rr) - lam * w
    _tri_solve_upper_t(R, k, g, t)
    _tri_solve_upper(R, k, t, z)
    gamma = 0.0
    for a in range(k):
        p[a] = z[a]
        gamma += g[a] * z[a]
    floor = _CG_FLOOR * np.dot(ys, ys)  # below: rounding noise, and beta would blow up
    for _it in range(n_iter):
        if not gamma > floor:
            break
        qq = np.dot(As, p)
        delta = np.dot(qq, qq) + lam * np.dot(p, p)
        if not delta > 0.0:
            break
        alpha = gamma / delta
        for a in range(k):
            w[a] += alpha * p[a]
        rr -= alpha * qq
        g = np.dot(As.T, rr) - lam * w
        _tri_solve_upper_t(R, k, g, t)
        _tri_solve_upper(R, k, t, z)
        gnew = 0.0
        for a in range(k):
            gnew += g[a] * z[a]
        beta = gnew / gamma
        gamma = gnew
        for a in range(k):
            p[a] = z[a] + beta * p[a]


@register_kernel("als_sketch_solve", "numba")
@njit(**_opts)
def als_sketch_solve(indptr, indices, data, F, ridge, reg, sketch_size, n_iter, seed, kind,
                     warm, out):
    """Row-wise ridge least squares by sketch-and-precondition (module docstring).

    ``kind`` 0 is CountSketch, 1 Gaussian; ``warm`` (bool) also tries the current
    ``out`` row as the starting point."""
    m = indptr.size - 1
    k = F.shape[1]
    s = max(sketch_size, k + 1)
    nmax = max(_max_row(indptr), 1)
    A = np.empty((nmax, k))
    y = np.empty(nmax)
    B = np.empty((s + k, k + 1))
    w = np.zeros(k)
    z = np.zeros(k)
    p = np.zeros(k)
    t = np.zeros(k)
    G2 = np.zeros((k, k))
    for i in range(m):
        if indptr[i + 1] - indptr[i] <= s:
            _normal_row(indptr, indices, data, F, i, k, ridge, reg, A, y, G2, w)
        else:
            _sketch_row(indptr, indices, data, F, i, k, s, n_iter, seed, kind, ridge, reg,
                        warm, A, y, B, w, z, p, t, G2, out[i])
        for a in range(k):
            out[i, a] = w[a]


@register_kernel("als_residual", "numba")
@njit(**_opts)
def als_residual(indptr, indices, data, U, V, out):
    """``out_p = data_p - U_i . V_j`` on the pattern; returns the float64 sum of squares."""
    m = indptr.size - 1
    k = U.shape[1]
    total = 0.0
    for i in range(m):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = np.float64(data[p])
            for a in range(k):
                v -= np.float64(U[i, a]) * V[j, a]
            out[p] = v
            total += v * v
    return total
