"""NumPy reference of Batch-OMP (orthogonal matching pursuit on the Gram matrix).

Batch-OMP (Rubinstein, Zibulevsky and Elad, 2008) codes many signals against one
dictionary ``D`` (atoms as rows) using only ``G = D D^T``, ``B = X D^T`` and the
squared norms ``||x_i||^2``. For one sample with correlations ``b = B_i``:

1. ``alpha = b``, ``S = []``, ``err = ||x||^2``;
2. stop if ``tol >= 0`` and ``err <= tol`` (the target residual energy is reached) or
   if ``|S| = n_nonzero``;
3. pick ``lam = argmax_{j not in S} |alpha_j|`` (first index on ties); stop if
   ``|alpha_lam| <= corr_rtol * max_j |b_j|`` (nothing left to explain);
4. grow the Cholesky factor ``L`` of ``G_SS``: ``w = L^{-1} G_{S,lam}``,
   ``d = G_{lam,lam} - w.w``; stop *without* adding ``lam`` if
   ``d <= dep_rtol * G_{lam,lam}`` (the atom is linearly dependent on ``S``);
5. ``S += [lam]``, ``c_S = (L L^T)^{-1} b_S``, ``alpha = b - G_{:,S} c_S``,
   ``err = ||x||^2 - c_S . b_S`` (exact for OMP: ``G_SS c_S = b_S``), go to 2.

The constants depend on the dtype of ``B``: ``corr_rtol`` is 1e-12 (float64) or
1e-5 (float32) and ``dep_rtol`` is ``16 eps``. All arithmetic is float64, whatever
the input dtype; only the codes are written in the dtype of ``out``.

Both backends return the same three per-sample arrays (see :func:`omp_gram`) so
that the solver can report how every sample stopped.
"""

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

from .._registry import register_kernel

#: why a sample stopped (the ``stop_reason`` array returned by the kernels)
STOP_N_NONZERO = 0  # |S| reached n_nonzero (or n_components)
STOP_TOL = 1  # residual energy <= tol
STOP_ZERO_CORR = 2  # largest correlation with the residual is ~0
STOP_DEPENDENT = 3  # the best atom is linearly dependent on the selected ones
STOP_NAMES = ("n_nonzero", "tol", "zero_correlation", "linear_dependence")

#: relative threshold of the largest remaining correlation, by itemsize of B
CORR_RTOL_F64 = 1e-12
CORR_RTOL_F32 = 1e-5
#: relative threshold of the Cholesky pivot d / G_{lam,lam}, by itemsize of G
DEP_RTOL_F64 = 16.0 * 2.220446049250313e-16
DEP_RTOL_F32 = 16.0 * 1.1920928955078125e-07


@register_kernel("omp_gram", "numpy")
def omp_gram(G, B, norms_sq, n_nonzero, tol, out):
    """Batch-OMP codes of every row of ``B`` (reference implementation).

    Parameters
    ----------
    G : ndarray of shape (n_components, n_components)
        Symmetric Gram matrix ``D D^T`` (float32 or float64).
    B : ndarray of shape (n_samples, n_components)
        Correlations ``X D^T``, same dtype as ``G``.
    norms_sq : ndarray of shape (n_samples,)
        Squared norms ``||x_i||^2`` (only used by the ``tol`` rule and ``residual_sq``).
    n_nonzero : int
        Maximum number of atoms per sample (capped at ``n_components``).
    tol : float
        Stop a sample once its residual energy ``||x_i - c_i D||^2`` is ``<= tol``;
        a negative value disables this rule (stop on ``n_nonzero`` only).
    out : ndarray of shape (n_samples, n_components)
        Codes, overwritten (zeros outside the selected atoms).

    Returns
    -------
    n_active : ndarray of shape (n_samples,), int64
        Number of atoms selected per sample.
    stop_reason : ndarray of shape (n_samples,), int64
        ``STOP_N_NONZERO``, ``STOP_TOL``, ``STOP_ZERO_CORR`` or ``STOP_DEPENDENT``.
    residual_sq : ndarray of shape (n_samples,), float64
        Final residual energy ``||x_i||^2 - c_S . b_S`` (may be a rounding error below 0).
    """
    n, K = B.shape
    kmax = max(0, min(int(n_nonzero), K))
    corr_rtol = CORR_RTOL_F32 if B.dtype == np.float32 else CORR_RTOL_F64
    dep_rtol = DEP_RTOL_F32 if G.dtype == np.float32 else DEP_RTOL_F64
    G64 = np.asarray(G, dtype=np.float64)
    n_active = np.zeros(n, dtype=np.int64)
    stop_reason = np.zeros(n, dtype=np.int64)
    residual_sq = np.zeros(n, dtype=np.float64)
    out[...] = 0
    for i in range(n):
        b = np.asarray(B[i], dtype=np.float64)
        alpha = b.copy()
        thr = corr_rtol * np.max(np.abs(b))
        err = float(norms_sq[i])
        S = []
        L = np.zeros((kmax, kmax))
        c = np.zeros(0)
        reason = STOP_N_NONZERO
        while True:
            if tol >= 0 and err <= tol:
                reason = STOP_TOL
                break
            k = len(S)
            if k == kmax:
                reason = STOP_N_NONZERO
                break
            score = np.abs(alpha)
            score[S] = -1.0
            lam = int(np.argmax(score))
            if not score[lam] > thr:  # also catches NaN
                reason = STOP_ZERO_CORR
                break
            g = G64[lam, lam]
            if k > 0:
                w = solve_triangular(L[:k, :k], G64[S, lam], lower=True, check_finite=False)
                d = g - w @ w
            else:
                w = np.zeros(0)
                d = g
            if not d > dep_rtol * g:
                reason = STOP_DEPENDENT
                break
            L[k, :k] = w
            L[k, k] = np.sqrt(d)
            S.append(lam)
            c = cho_solve((L[: k + 1, : k + 1], True), b[S], check_finite=False)
            alpha = b - G64[:, S] @ c
            err = float(norms_sq[i]) - float(c @ b[S])
        n_active[i] = len(S)
        stop_reason[i] = reason
        residual_sq[i] = err
        out[i, S] = c
    return n_active, stop_reason, residual_sq
