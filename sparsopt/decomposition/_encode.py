"""``sparse_encode``: one entry point over the batched sparse-coding solvers."""

from __future__ import annotations

import numpy as np

from .._core.result import SolverResult
from ..penalties import CEL0, L0, L1, Penalty, get_penalty
from ..solvers import cd, fista, iht, ista, lars, lca, omp
from ..utils.parallel import effective_n_jobs, map_row_blocks

SOLVERS = ("auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp")


def _resolve_solver(solver, pen, n_nonzero_coefs, init=None):
    if solver not in SOLVERS:
        raise ValueError(f"sparse_encode: solver must be one of {SOLVERS}, got {solver!r}.")
    if solver != "auto":
        return solver
    if n_nonzero_coefs is not None:
        return "omp"
    if isinstance(pen, CEL0):
        # With steps ~1/G_jj the CEL0 coordinate problem is flat (its concavity equals the
        # atom's curvature), so exact coordinate steps act like l0 and lose the relaxation:
        # measured 3x worse objectives than FISTA from zero. Gradient steps keep it.
        return "fista"
    if type(pen) is L1 and init is None:
        return "lars"  # exact codes, and faster than cd at equal objective (benchmarks)
    return "cd" if pen.is_separable and hasattr(pen, "_kernel_spec") else "fista"


def sparse_encode(X, dictionary, *, penalty="l1", alpha=1.0, solver="auto", max_iter=1000,
                  tol=1e-6, positive=False, n_nonzero_coefs=None, init=None, gram=None,
                  n_jobs=None, engine=None, return_result=False):
    """Sparse codes of the rows of ``X`` against ``dictionary``.

    Each row ``x`` gets ``c = argmin 1/2 ||x - c D||^2 + alpha * pen(c)`` (or, for
    ``solver="omp"``/``"iht"`` with ``n_nonzero_coefs``, the best ``k``-sparse fit).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows (scikit-learn's layout); ``X ~ codes @ dictionary``.
    penalty : str or Penalty, default="l1"
        ``"l1"``, ``"l0"``, ``"l1/2"``, ``"l2/3"``, ``"lq"``, ``"cel0"``, ``"mcp"``,
        ``"scad"``, ``"log"``, ``"elasticnet"``, ``"group_l21"``, ``"ksupport"``... or a
        :class:`~sparsopt.penalties.Penalty`. A ``"cel0"`` name gets the atoms' norms
        as its ``a``.
    alpha : float, default=1.0
        Regularization strength when ``penalty`` is a name (same scaling as
        scikit-learn's ``transform_alpha`` for ``lasso_cd``: no division by
        ``n_features``).
    solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default="auto"
        ``"auto"``: OMP when ``n_nonzero_coefs`` is given; for the l1 penalty without
        ``init``, the exact homotopy ``"lars"`` (certified exact codes, and faster than
        coordinate descent at equal objective, see the benchmarks); coordinate descent
        for the other separable penalties; FISTA for group penalties and for CEL0
        (exact coordinate steps on CEL0 behave like l0 hard thresholding and reach
        much worse local minima than gradient steps). ``"lars"`` takes l1 and
        elastic-net only and always starts from zero (``init`` is not used).
    max_iter : int, default=1000
        Iterations (epochs for ``"cd"``, path steps for ``"lars"``).
    tol : float, default=1e-6
        Tolerance of the solver's stopping criterion (``"lars"`` has none; it is used
        by the coordinate descent that finishes the rare rows whose path cannot).
    positive : bool, default=False
        Non-negative codes (``"lars"``, ``"cd"``, ``"ista"``, ``"fista"``, ``"lca"``;
        ``"omp"`` and ``"iht"`` refuse it).
    n_nonzero_coefs : int, default=None
        Sparsity of ``"omp"`` and fixed-sparsity ``"iht"``.
    init : ndarray of shape (n_samples, n_components), default=None
        Warm start (iterative solvers).
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    n_jobs : int or None, default=None
        Threads over blocks of rows (kernels release the GIL).
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Kernel backend.
    return_result : bool, default=False
        Also return the :class:`~sparsopt.solvers.SolverResult` (iterations,
        convergence, ``info["objective_per_sample"]``).

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
    result : SolverResult
        Only if ``return_result``.

    References
    ----------
    .. [1] B. A. Olshausen and D. J. Field, "Emergence of simple-cell receptive field
       properties by learning a sparse code for natural images", Nature 381, 1996.
    .. [2] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1
       sparse coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import sparse_encode
    >>> X, D, _ = make_sparse_coding_problem(100, 32, 64, 4, noise=0.05)
    >>> codes = sparse_encode(X, D, penalty="cel0", alpha=0.05)
    >>> codes.shape, bool(np.mean(np.count_nonzero(codes, axis=1)) < 10)
    ((100, 64), True)
    """
    name = "sparse_encode"
    if isinstance(penalty, str) and penalty.strip().lower() == "cel0":
        D = np.asarray(dictionary, dtype=np.float64)
        if D.ndim == 2:
            pen = get_penalty("cel0", alpha=alpha, a=np.linalg.norm(D, axis=1))
        else:
            pen = get_penalty("cel0", alpha=alpha)
    elif isinstance(penalty, (str, Penalty)):
        pen = get_penalty(penalty, alpha=alpha)
    else:
        raise ValueError(f"{name}: penalty must be a name or a Penalty, got {penalty!r}.")
    solver = _resolve_solver(solver, pen, n_nonzero_coefs, init)
    if positive and solver in ("omp", "iht"):
        raise ValueError(f"{name}: positive=True is not supported by solver={solver!r} (its "
                         "greedy selection is sign-free); use solver='lars', 'cd' or 'fista' "
                         "with a penalty for non-negative codes.")
    X_arr = np.asarray(X)
    if X_arr.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D (n_samples, n_features), got shape "
                         f"{X_arr.shape}.")
    if gram is None and np.ndim(dictionary) == 2:
        Dd = np.asarray(dictionary)
        dt = np.float32 if X_arr.dtype == np.float32 else np.float64
        gram = Dd.astype(dt) @ Dd.astype(dt).T

    if solver == "lars":
        res = lars(X, dictionary, penalty=pen, max_iter=max_iter, tol=tol, positive=positive,
                   gram=gram, n_jobs=n_jobs, engine=engine)
    elif solver == "cd":
        res = cd(X, dictionary, penalty=pen, codes0=init, max_iter=max_iter, tol=tol,
                 positive=positive, gram=gram, n_jobs=n_jobs, engine=engine)
    elif solver == "omp":
        res = omp(X, dictionary, n_nonzero_coefs=n_nonzero_coefs, gram=gram, n_jobs=n_jobs,
                  engine=engine)
    else:
        if solver == "iht":
            if n_nonzero_coefs is None and not isinstance(pen, L0):
                raise ValueError(f"{name}: solver='iht' needs n_nonzero_coefs or "
                                 "penalty='l0'.")

            def run(Xb, initb):
                return iht(Xb, dictionary, n_nonzero_coefs=n_nonzero_coefs,
                           alpha=None if n_nonzero_coefs is not None else float(pen.alpha),
                           codes0=initb, max_iter=max_iter, tol=tol, gram=gram,
                           engine=engine)
        else:
            fn = {"fista": fista, "ista": ista, "lca": lca}[solver]

            def run(Xb, initb):
                return fn(Xb, dictionary, penalty=pen, codes0=initb, max_iter=max_iter,
                          tol=tol, positive=positive, gram=gram, engine=engine)

        init_arr = None if init is None else np.asarray(init)
        if effective_n_jobs(n_jobs) == 1:
            res = run(X, init_arr)
        else:
            parts = map_row_blocks(
                lambda a, b: run(X_arr[a:b], None if init_arr is None else init_arr[a:b]),
                X_arr.shape[0], n_jobs)
            res = _concat(parts)
    return (res.x, res) if return_result else res.x


def _concat(parts):
    """Merge the results of row blocks into one SolverResult."""
    info = {"blocks": len(parts)}
    for key in ("objective_per_sample", "n_iter_per_sample", "n_active"):
        if all(key in p.info for p in parts):
            info[key] = np.concatenate([np.asarray(p.info[key]) for p in parts])
    return SolverResult(
        x=np.concatenate([p.x for p in parts], axis=0),
        n_iter=max(p.n_iter for p in parts),
        converged=all(p.converged for p in parts),
        stop_crit=max(p.stop_crit for p in parts),
        history=(),
        info=info,
    )
