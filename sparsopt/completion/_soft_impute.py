"""Soft-impute: nuclear-norm regularised completion (the convex baseline)."""

from __future__ import annotations

import numpy as np

from .._core.loop import LoopMonitor, check_max_iter
from ..backends import kernel_for
from ..utils.validation import check_int, check_scalar
from ._init import randomized_svd_sparse
from ._pattern import residual
from ._validation import check_observed, check_rank
from .result import CompletionResult


def _frob_inner(Ua, sa, Va, Ub, sb, Vb):
    """``<Ua diag(sa) Va^T, Ub diag(sb) Vb^T>_F`` in ``O((m + n) k^2)``."""
    return float(np.sum((Ua.T @ Ub) * np.outer(sa, sb) * (Va.T @ Vb)))


def soft_impute(X_observed, rank, *, alpha=None, max_iter=100, tol=1e-5, n_power_iter=1,
                init="svd", random_state=None, callback=None, verbose=None, n_jobs=None,
                engine=None):
    r"""Nuclear-norm regularised matrix completion by soft-impute.

    Minimises

    .. math:: \tfrac12 \lVert P_\Omega(X - M) \rVert_F^2 + \alpha \lVert X \rVert_*

    over matrices of rank at most ``rank`` by Mazumder, Hastie and Tibshirani's
    iteration ``X <- S_alpha(P_Omega(M) + P_Omega^perp(X))`` (``S_alpha``: soft-threshold
    the singular values). The filled matrix is *sparse plus low rank*,
    ``P_Omega(M - X) + X``, so each iteration costs one residual kernel on the observed
    entries and a warm-started subspace iteration of ``n_power_iter`` products: memory
    ``O(|Omega| + (m + n) k)``, never the dense matrix.

    This is the convex baseline that fancyimpute's ``SoftImpute`` implements (with dense
    SVDs there). Its shrinkage biases the singular values, so its error has a floor of
    order ``alpha`` that AltMin does not have; use it to compare, or when the rank is
    unknown (a large ``rank`` with a suitable ``alpha`` selects one).

    Parameters
    ----------
    X_observed : sparse matrix or ndarray of shape (n_rows, n_cols)
        Observed entries (stored entries of a sparse matrix, or non-NaN entries).
    rank : int
        Maximum rank of the iterate, ``1 <= rank < min(n_rows, n_cols)``.
    alpha : float or None, default=None
        Nuclear-norm weight; None uses fancyimpute's default, ``sigma_max(P_Omega(M)) /
        50`` (the largest singular value of the zero-filled matrix).
    max_iter : int, default=100
        Hard cap on iterations.
    tol : float, default=1e-5
        Stop when ``||X_t - X_{t-1}||_F^2 / ||X_{t-1}||_F^2 <= tol`` (Mazumder et al.'s
        criterion).
    n_power_iter : int, default=1
        Subspace iterations per step (warm-started from the previous right factor).
    init : {"svd", "zero"}, default="svd"
        Start from the soft-thresholded top-``rank`` SVD of the zero-filled matrix, or
        from zero.
    random_state : int, Generator or None, default=None
    callback : callable ``callback(SolverState) -> bool`` or None, default=None
        Called after each iteration with ``state.x = (U, V)`` (``X = U @ V.T``).
    verbose : int, bool or None, default=None
    n_jobs : int or None, default=None
        Threads of the residual kernel.
    engine : {"auto", "numpy", "numba"} or None, default=None

    Returns
    -------
    result : CompletionResult
        ``U``, ``V`` (``X = U @ V.T``, balanced: ``U = P sqrt(S)``), the singular values
        after shrinkage, ``stop_crit`` (relative change of ``X``); ``info`` holds
        ``alpha``, ``rel_residual`` (relative observed residual) and ``n_nonzero_sv``.

    References
    ----------
    .. [1] R. Mazumder, T. Hastie, R. Tibshirani, "Spectral Regularization Algorithms for
       Learning Large Incomplete Matrices", JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.completion import soft_impute
    >>> from sparsopt.datasets import make_low_rank_completion
    >>> X, U, V = make_low_rank_completion(120, 100, 3, density=0.4, random_state=0)
    >>> res = soft_impute(X, 5, alpha=1.0, tol=1e-8, random_state=0)
    >>> M = U @ V.T
    >>> err = np.linalg.norm(res.U @ res.V.T - M) / np.linalg.norm(M)
    >>> bool(err < 0.05), int(res.info["n_nonzero_sv"])
    (True, 3)
    """
    owner = "soft_impute"
    pattern = check_observed(X_observed, owner)
    m, n = pattern.shape
    k = check_rank(rank, pattern.shape, owner)
    dtype = pattern.dtype
    max_iter = check_max_iter(max_iter, owner)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    n_power_iter = check_int(n_power_iter, "n_power_iter", owner, lower=1)
    if init not in ("svd", "zero"):
        raise ValueError(f"{owner}: init must be 'svd' or 'zero', got {init!r}.")
    rng = np.random.default_rng(random_state)

    A0 = pattern.astype(np.float64).to_csr()
    U0, s0, Vt0 = randomized_svd_sparse(A0, k, n_power_iter=2, rng=rng)
    if alpha is None:
        alpha = float(s0[0]) / 50.0
    alpha = check_scalar(alpha, "alpha", owner, lower=0.0)
    if init == "svd":
        U, s, V = U0, np.maximum(s0 - alpha, 0.0), Vt0.T.copy()
    else:
        U, s, V = np.zeros((m, k)), np.zeros(k), np.linalg.qr(rng.standard_normal((n, k)))[0]

    kres = kernel_for("als_residual", pattern.row_data, engine=engine)
    res_vec = np.empty(pattern.nnz, dtype=np.float64)
    pat64 = pattern.astype(np.float64)  # soft-impute iterates in float64
    norm_m = float(np.linalg.norm(pat64.row_data)) or 1.0

    mon = LoopMonitor(owner, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion="relative change ||X_t - X_{t-1}||_F^2 / ||X_{t-1}||_F^2",
                      hint="or raise alpha", x0=None)
    rel_res = float("nan")
    for t in range(1, max_iter + 1):
        # residual on Omega of the current X = U diag(s) V^T
        ss = residual(kres, pat64, np.ascontiguousarray(U * s), np.ascontiguousarray(V),
                      res_vec, n_jobs)
        rel_res = float(np.sqrt(ss)) / norm_m
        R = pat64.to_csr(res_vec)
        Rt = pat64.to_csc(res_vec).T  # (n, m), CSR-like
        # subspace iteration on Z = R + U S V^T, warm-started from V
        Q = V
        for _ in range(n_power_iter):
            Y = R @ Q + U @ (s[:, None] * (V.T @ Q))
            P = np.linalg.qr(Y)[0]
            Q = np.linalg.qr(Rt @ P + V @ (s[:, None] * (U.T @ P)))[0]
        Bt = Rt @ P + V @ (s[:, None] * (U.T @ P))  # Z^T P, (n, k)
        W, sig, Zt = np.linalg.svd(Bt.T, full_matrices=False)  # P^T Z = W sig Zt
        s_new = np.maximum(sig - alpha, 0.0)
        U_new, V_new = P @ W, Zt.T
        old2 = float(np.sum(s * s))
        new2 = float(np.sum(s_new * s_new))
        diff2 = max(old2 + new2 - 2.0 * _frob_inner(U, s, V, U_new, s_new, V_new), 0.0)
        crit = diff2 / old2 if old2 > 0 else (0.0 if new2 == 0 else float("inf"))
        U, s, V = U_new, s_new, V_new
        r = np.sqrt(s)
        obj = 0.5 * ss + alpha * float(np.sum(s))
        if mon.check(t, ((U * r).astype(dtype), (V * r).astype(dtype)), crit, obj,
                     rel_residual=rel_res):
            break
    res = mon.result(None, result_cls=CompletionResult, stacklevel=2)
    Uf, Vf = res.x
    rel_res = float(np.sqrt(residual(kres, pat64, Uf.astype(np.float64), Vf.astype(np.float64),
                                     res_vec, n_jobs))) / norm_m
    return CompletionResult(
        x=(np.ascontiguousarray(Uf), np.ascontiguousarray(Vf)),
        singular_values=s.astype(dtype), n_iter=res.n_iter, converged=res.converged,
        stop_crit=res.stop_crit, history=res.history,
        info=dict(res.info, solver="soft_impute", alpha=alpha, rel_residual=rel_res,
                  n_nonzero_sv=int(np.count_nonzero(s)), n_observed=pattern.nnz,
                  density=pattern.density, work=pattern.nnz * k * res.n_iter))
