"""Low-rank matrix completion by (robust) alternating minimization."""

from __future__ import annotations

import warnings

import numpy as np

from .._core.loop import LoopMonitor, check_max_iter
from ..backends import kernel_for
from ..utils.validation import check_scalar
from ._init import balance, clip_rows, orthonormalize, randomized_svd_sparse
from ._pattern import residual, solve_rows
from ._sketch import check_sketch_options, choose_solver
from ._validation import check_observed, check_rank, underdetermined
from .result import CompletionResult

#: relative ridge of every row's normal equations, ``ridge * trace(G_i) / k`` (spec 3(c))
RIDGE = 1e-12


def _check_init(init, shape, rank, dtype, owner):
    if isinstance(init, str):
        if init not in ("svd", "random"):
            raise ValueError(f"{owner}: init must be 'svd', 'random', an array U of shape "
                             f"(n_rows, rank) or a result, got {init!r}.")
        return init
    if isinstance(init, CompletionResult):
        init = init.U
    elif isinstance(init, tuple):
        init = init[0]
    U = np.asarray(init)
    if U.shape != (shape[0], rank):
        raise ValueError(f"{owner}: init U must have shape {(shape[0], rank)}, got "
                         f"{U.shape}.")
    if not np.all(np.isfinite(U)):
        raise ValueError(f"{owner}: init contains NaN or infinity.")
    return np.ascontiguousarray(U, dtype=dtype)


def _warn_underdetermined(rows, cols, rank, owner):
    if rows.size or cols.size:
        warnings.warn(
            f"{owner}: {rows.size} rows and {cols.size} columns have fewer observed entries "
            f"than rank={rank}; their factors are determined by the ridge only (see "
            "result.info['underdetermined_rows'] / ['underdetermined_cols']). Observe "
            "more entries or lower the rank.", UserWarning, stacklevel=3)


def spectral_init(pattern, rank, rng, n_power_iter=2):
    """Top-``rank`` left singular vectors of ``P_Omega(M) / p`` and the values."""
    A = pattern.to_csr(pattern.row_data.astype(np.float64) / pattern.density)
    U, s, _ = randomized_svd_sparse(A, rank, n_power_iter=n_power_iter, rng=rng)
    return U, s


def altmin_complete(X_observed, rank, *, solver="auto", alpha=0.0, max_iter=50, tol=1e-10,
                    tol_change=1e-12, init="svd", sketch="countsketch", sketch_size=None,
                    n_inner=4, clip=False, orthonormalize_steps=False,
                    sample_splitting=False, random_state=None, callback=None, verbose=None,
                    n_jobs=None, engine=None):
    r"""Complete a low-rank matrix from some of its entries by alternating minimization.

    Finds factors ``U`` (``n_rows x rank``) and ``V`` (``n_cols x rank``) minimising

    .. math:: \tfrac12 \lVert P_\Omega(U V^\top - M) \rVert_F^2
              + \tfrac{\alpha}{2} (\lVert U\rVert_F^2 + \lVert V\rVert_F^2)

    by exact alternating least squares over the observed set :math:`\Omega` (Jain,
    Netrapalli and Sanghavi 2013): every half step solves one small ridge regression per
    column (for ``V``) then per row (for ``U``), in ``O(|\Omega| k^2 + (m+n) k^3)``
    with the normal equations (``solver="normal"``) or in
    ``O(|\Omega| k\, n_{inner} + (m+n)(s k^2 + k^3))`` with the sketch-preconditioned
    solves of Gu, Song, Yin and Zhang (2023) (``solver="sketch"``). Their theorem is that
    alternating minimization still converges geometrically when every regression is
    solved only approximately, which is what lets the sketch replace the exact solve.

    Memory is ``O(|\Omega| + (m + n) k)``: the dense matrix is never formed.

    Parameters
    ----------
    X_observed : sparse matrix or ndarray of shape (n_rows, n_cols)
        The observed entries: a SciPy sparse matrix (its stored entries, explicit zeros
        included, are the observations) or a dense array with NaN for missing entries.
        float32 stays float32. Every row and column needs at least one observation.
    rank : int
        Rank ``k`` of the completion, ``1 <= rank < min(n_rows, n_cols)``.
    solver : {"auto", "normal", "sketch"}, default="auto"
        How each row's and column's least-squares problem is solved: ``"normal"``,
        exactly (normal equations, Cholesky); ``"sketch"``, by CGLS preconditioned with
        a sketch of the problem (``sketch``, ``sketch_size``, ``n_inner``); ``"auto"``,
        the sketch for ``rank >= 128`` when rows and columns hold on average at least
        ``32 * sketch_size`` observations, else the normal equations (the measured
        crossover: below that the BLAS normal equations are faster, see the user guide).
    alpha : float, default=0.0
        Ridge on the factors (0: plain AltMin; a tiny relative ridge
        ``1e-12 trace(G_i) / k`` is always added for stability).
    max_iter : int, default=50
        Hard cap on the outer iterations (one column step and one row step each).
    tol : float, default=1e-10
        Stop when the relative observed residual
        ``||P_Omega(U V^T - M)||_F / ||P_Omega(M)||_F <= tol``.
    tol_change : float, default=1e-12
        ... or when the relative change of ``U V^T`` on the observed entries in one
        iteration is ``<= tol_change`` (the residual stalls at the noise level on noisy
        data). For float32 input both tolerances are raised to at least ``1e-6``.
    init : {"svd", "random"}, ndarray or CompletionResult, default="svd"
        Initial ``U`` (an array has shape ``(n_rows, rank)``): the top-``rank`` left
        singular vectors of ``P_Omega(M) / p`` (randomized SVD of the sparse matrix), a
        random Gaussian matrix, a given array,
        or an earlier result (warm start).
    sketch : {"countsketch", "gaussian"}, default="countsketch"
        Sketch of ``solver="sketch"``: CountSketch costs ``O(|row| k)`` to apply,
        Gaussian ``O(s |row| k)``.
    sketch_size : int or None, default=None
        Sketch rows ``s > rank``; None uses ``4 * rank``.
    n_inner : int, default=4
        Preconditioned CGLS iterations per least-squares problem (``solver="sketch"``),
        started from the better of the sketch-and-solve point and the previous iterate.
    clip : bool or float, default=False
        Paper mode: clip the initial ``U`` (zero entries above ``2 mu sqrt(k / m)``,
        then orthonormalise); ``True`` estimates ``mu`` from the initial ``U``, a float
        gives it.
    orthonormalize_steps : bool, default=False
        Paper mode: orthonormalise (QR) each factor after its half step.
    sample_splitting : bool, default=False
        Paper mode: split the observations at random into ``2 max_iter + 1`` disjoint
        parts, the first for the initialisation and one fresh part per half step (a proof
        device: it needs far more observations than plain AltMin).
    random_state : int, Generator or None, default=None
        Seeds the initialisation, the sketches and the splitting.
    callback : callable ``callback(SolverState) -> bool`` or None, default=None
        Called after each iteration with ``state.x = (U, V)``; True stops.
    verbose : int, bool or None, default=None
        One line per iteration when > 0; ``None`` reads :func:`sparsopt.get_config`.
    n_jobs : int or None, default=None
        Threads over row blocks (kernels release the GIL).
    engine : {"auto", "numpy", "numba"} or None, default=None
        Kernel backend.

    Returns
    -------
    result : CompletionResult
        ``result.U``, ``result.V`` (``X_hat = U @ V.T``), ``result.x = (U, V)``,
        ``result.singular_values``, ``n_iter``, ``converged``, ``stop_crit`` (relative
        observed residual), ``history`` and ``info`` (``underdetermined_rows``,
        ``underdetermined_cols``, ``solver``, ``work``...).

    Raises
    ------
    ValueError
        Rank not in ``[1, min(n_rows, n_cols))``, no observed entry, a row or column
        without observations, infinite observed values, bad options.

    Warns
    -----
    UserWarning
        When rows or columns have fewer observations than ``rank`` (listed in ``info``).
    ConvergenceWarning
        When ``max_iter`` is reached.

    See Also
    --------
    soft_impute : the nuclear-norm baseline on the same kernels.
    MatrixCompletion : the scikit-learn imputer built on this function.

    References
    ----------
    .. [1] Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust
       Alternating Minimization in Nearly Linear Time", ICLR 2024, arXiv:2302.11068.
    .. [2] P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using
       alternating minimization", STOC 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.completion import altmin_complete
    >>> from sparsopt.datasets import make_low_rank_completion
    >>> X, U, V = make_low_rank_completion(200, 150, 3, density=0.3, random_state=0)
    >>> res = altmin_complete(X, 3, random_state=0)
    >>> M = U @ V.T
    >>> err = np.linalg.norm(res.U @ res.V.T - M) / np.linalg.norm(M)
    >>> bool(res.converged), bool(err < 1e-8)
    (True, True)
    """
    owner = "altmin_complete"
    pattern = check_observed(X_observed, owner)
    m, n = pattern.shape
    k = check_rank(rank, pattern.shape, owner)
    dtype = pattern.dtype
    if solver not in ("auto", "normal", "sketch"):
        raise ValueError(f"{owner}: solver must be 'auto', 'normal' or 'sketch', got "
                         f"{solver!r}.")
    alpha = check_scalar(alpha, "alpha", owner, lower=0.0)
    max_iter = check_max_iter(max_iter, owner)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    tol_change = check_scalar(tol_change, "tol_change", owner, lower=0.0)
    if dtype == np.float32:
        tol, tol_change = max(tol, 1e-6), max(tol_change, 1e-6)
    kind, s, n_inner = check_sketch_options(sketch, sketch_size, n_inner, k, owner)
    solver = choose_solver(solver, k, pattern, s)
    if not (isinstance(clip, (bool, np.bool_)) or (isinstance(clip, (int, float))
                                                   and clip > 0)):
        raise ValueError(f"{owner}: clip must be a bool or a positive incoherence mu, got "
                         f"{clip!r}.")
    init = _check_init(init, pattern.shape, k, dtype, owner)
    rng = np.random.default_rng(random_state)
    sketch_seed = int(rng.integers(0, 2**62))

    under_rows, under_cols = underdetermined(pattern, k)
    _warn_underdetermined(under_rows, under_cols, k, owner)

    # the parts of Omega used by each half step (sample splitting) or Omega itself
    if sample_splitting:
        n_parts = 2 * max_iter + 1
        if pattern.nnz < n_parts:
            raise ValueError(f"{owner}: sample_splitting needs at least 2 max_iter + 1 = "
                             f"{n_parts} observed entries, got {pattern.nnz}.")
        labels = rng.integers(0, n_parts, size=pattern.nnz)

        def part(t):
            return pattern.subset(labels == t)
        init_pattern = part(0)
    else:
        def part(t):
            return pattern
        init_pattern = pattern

    if isinstance(init, str):
        if init == "svd":
            U0, sv = spectral_init(init_pattern, k, rng)
        else:
            U0 = np.linalg.qr(rng.standard_normal((m, k)))[0]
            sv = np.ones(k)
        if clip is not False:
            U0, _ = clip_rows(U0, None if clip is True else float(clip))
            U0 = np.linalg.qr(U0)[0]
        if not orthonormalize_steps:  # balanced scale: U0 diag(sqrt(s))
            U0 = U0 * np.sqrt(np.maximum(sv, 0.0))
        U = np.ascontiguousarray(U0, dtype=dtype)
    else:
        U = init.copy()
    V = np.zeros((n, k), dtype=dtype)

    op = "als_normal_solve" if solver == "normal" else "als_sketch_solve"
    kern = kernel_for(op, pattern.row_data, engine=engine)
    kres = kernel_for("als_residual", pattern.row_data, engine=engine)
    norm_m = float(np.linalg.norm(pattern.row_data.astype(np.float64)))
    norm_m = norm_m if norm_m > 0 else 1.0
    res_vec = np.empty(pattern.nnz, dtype=dtype)
    prev_vec = None

    def half_step(P, F, out, by_rows, t):
        if by_rows:
            ptr, ind, data = P.row_ptr, P.row_ind, P.row_data
        else:
            ptr, ind, data = P.col_ptr, P.col_ind, P.col_data
        if solver == "normal":
            args = (RIDGE, alpha)
        else:
            args = (RIDGE, alpha, s, n_inner, sketch_seed + 2 * t + int(by_rows), kind,
                    True)
        solve_rows(kern, ptr, ind, data, F, out, args, n_jobs)

    mon = LoopMonitor(owner, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion="relative observed residual ||P_Omega(U V^T - M)|| / "
                                "||P_Omega(M)||",
                      hint="a rank too small for the data, too few observations, or noise "
                           "(then raise tol_change or set alpha)",
                      x0=None)
    stopped_change = False
    for t in range(1, max_iter + 1):
        Pv = part(t)
        half_step(Pv, U, V, False, t)
        if orthonormalize_steps:
            V = orthonormalize(V)
        Pu = part(max_iter + t)
        half_step(Pu, V, U, True, t)
        with np.errstate(over="ignore", invalid="ignore"):
            ss = residual(kres, pattern, U, V, res_vec, n_jobs)
        rel = float(np.sqrt(ss)) / norm_m if np.isfinite(ss) else float("nan")
        if prev_vec is None:
            change = float("inf")
            prev_vec = res_vec.copy()
        else:
            change = float(np.linalg.norm(res_vec - prev_vec)) / norm_m
            prev_vec[...] = res_vec
        obj = 0.5 * ss + 0.5 * alpha * (float(np.vdot(U, U)) + float(np.vdot(V, V)))
        if mon.check(t, (U, V), rel, obj, rel_change=change):
            break
        if change <= tol_change:
            stopped_change = True
            break
        if orthonormalize_steps and t < max_iter:
            U = orthonormalize(U)
    if stopped_change:
        mon.converged = True
        mon.stopped_by = "tol_change"
    res = mon.result(None, result_cls=CompletionResult, stacklevel=2)
    U, V = res.x
    Ub, Vb, sv = balance(U, V)
    return CompletionResult(
        x=(Ub, Vb), singular_values=sv, n_iter=res.n_iter, converged=res.converged,
        stop_crit=res.stop_crit, history=res.history,
        info=dict(res.info, solver=solver, n_observed=pattern.nnz, density=pattern.density,
                  underdetermined_rows=under_rows, underdetermined_cols=under_cols,
                  work=pattern.nnz * k * res.n_iter, sketch_size=s if solver == "sketch"
                  else None, tol_change=tol_change))
