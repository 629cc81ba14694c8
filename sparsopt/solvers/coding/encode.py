"""``encode``: one entry point over the batched sparse-coding solvers."""

from __future__ import annotations

import numpy as np

from ...backends import _kinds, is_numpy_namespace, namespace_name
from ...penalties import Penalty, get_penalty
from ._common import (
    ARRAY_API_SOLVERS,
    atom_norms,
    has_bounds,
    host_only_error,
    input_namespace,
    is_cel0_name,
    spec_or_none,
)
from .cd import cd
from .iht import iht
from .ista import fista, ista, lca
from .lars import lars
from .omp import omp

SOLVERS = ("auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp")


def resolve_solver(solver, pen, n_nonzero_coefs=None, init=None):
    """The solver ``encode`` runs: ``solver`` itself, or the choice of ``"auto"``.

    ``"auto"`` decides from capabilities: OMP when ``n_nonzero_coefs`` is given; a
    penalty with a coordinate-wise kernel spec gets coordinate descent, or the exact
    homotopy ``"lars"`` for the l1 norm (optionally non-negative) without ``init``;
    every other penalty (group penalties, anything with only a prox) gets FISTA.

    Examples
    --------
    >>> from sparsopt.penalties import L1, GroupL21, Positive
    >>> from sparsopt.solvers.coding.encode import resolve_solver
    >>> resolve_solver("auto", L1(0.1) + Positive()), resolve_solver("auto", GroupL21(0.1))
    ('lars', 'fista')
    """
    if solver not in SOLVERS:
        raise ValueError(f"encode: solver must be one of {SOLVERS}, got {solver!r}.")
    if solver != "auto":
        return solver
    if n_nonzero_coefs is not None:
        return "omp"
    spec = spec_or_none(pen)
    if spec is None:
        return "fista"
    if spec.kind == _kinds.KIND_CEL0:
        # With steps ~1/G_jj the CEL0 coordinate problem is flat (its concavity equals the
        # atom's curvature), so exact coordinate steps act like l0 and lose the relaxation:
        # measured 3x worse objectives than FISTA from zero. Gradient steps keep it.
        return "fista"
    orthant = spec.upper == np.inf and spec.lower in (0.0, -np.inf)
    if spec.kind == _kinds.KIND_L1 and orthant and init is None:
        return "lars"  # exact codes, and faster than cd at equal objective (benchmarks)
    return "cd"


def _array_api_solver(solver, n_nonzero_coefs, xp, name):
    """The solver for non-NumPy arrays: ``"auto"`` is FISTA; host-only ones raise."""
    if solver not in SOLVERS:
        raise ValueError(f"{name}: solver must be one of {SOLVERS}, got {solver!r}.")
    if solver == "auto":
        if n_nonzero_coefs is not None:
            raise TypeError(
                f"{name}: n_nonzero_coefs (k-sparse codes by OMP or IHT) runs on NumPy "
                f"arrays only, got {namespace_name(xp)} arrays; use a penalty with "
                "solver='fista' (e.g. penalty='l1' or 'l0') on them, or NumPy arrays.")
        return "fista"
    if solver not in ARRAY_API_SOLVERS:
        raise host_only_error(f"{name}: solver={solver!r}", xp)
    return solver


def coding_penalty(penalty, alpha, dictionary, positive=False, name="encode"):
    """The penalty object of a coding call; the name ``"cel0"`` gets the atoms' norms
    as its ``a`` (the CEL0 of the problem ``1/2 ||x - c D||^2``)."""
    if is_cel0_name(penalty):
        a = {"a": atom_norms(dictionary)} if np.ndim(dictionary) == 2 else {}
        return get_penalty("cel0", alpha=alpha, positive=positive, **a)
    if isinstance(penalty, (str, Penalty)):
        return get_penalty(penalty, alpha=alpha, positive=positive)
    raise ValueError(f"{name}: penalty must be a name or a Penalty, got {penalty!r}.")


def encode(X, dictionary, *, penalty="l1", alpha=1.0, solver="auto", max_iter=1000, tol=1e-6,
           n_nonzero_coefs=None, init=None, gram=None, n_jobs=None, engine=None,
           callback=None, verbose=None):
    """Sparse codes of the rows of ``X`` against ``dictionary``, with the solver's report.

    **Objective** (per-signal sum convention): each row ``x`` of ``X`` gets
    ``c = argmin_c 1/2 ||x - c D||_2^2 + pen(c)`` where ``pen`` contains ``alpha``; with
    ``n_nonzero_coefs`` (``"omp"``, fixed-sparsity ``"iht"``) the best ``k``-sparse fit.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32. Arrays of another array-API namespace (CuPy,
        ...) are coded in it, on their device, by the gradient coders (``"fista"``,
        ``"ista"``, ``"lca"``; ``"auto"`` picks ``"fista"`` for them); the other
        solvers run Numba kernels on NumPy arrays and raise ``TypeError`` for them.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows (scikit-learn's layout); ``X ~ codes @ dictionary``. Same
        namespace as ``X``.
    penalty : str or Penalty, default="l1"
        ``"l1"``, ``"l0"``, ``"l1/2"``, ``"l2/3"``, ``"lq"``, ``"cel0"``, ``"mcp"``,
        ``"scad"``, ``"log"``, ``"elasticnet"``, ``"group_l21"``, ``"ksupport"``... or a
        :class:`~sparsopt.penalties.Penalty`, optionally under a constraint
        (``L1(0.1) + Positive()``: non-negative codes). A ``"cel0"`` name gets the
        atoms' norms as its ``a``.
    alpha : float, default=1.0
        Regularization strength when ``penalty`` is a name (no division by
        ``n_features``, as scikit-learn's ``transform_alpha``).
    solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default="auto"
        ``"auto"`` decides from the penalty's capabilities: OMP when
        ``n_nonzero_coefs`` is given; for the l1 penalty (optionally non-negative)
        without ``init``, the exact homotopy ``"lars"`` (certified exact codes, and
        faster than coordinate descent at equal objective, see the benchmarks);
        coordinate descent for the other penalties with a coordinate-wise kernel; FISTA
        for the others (group penalties) and for CEL0 (exact coordinate steps on CEL0
        behave like l0 hard thresholding and reach much worse local minima than
        gradient steps). ``"lars"`` takes l1 and elastic-net only and always starts
        from zero (``init`` is not used).
    max_iter : int, default=1000
        Iterations (epochs for ``"cd"``, path steps for ``"lars"``).
    tol : float, default=1e-6
        Tolerance of the solver's stopping criterion (``"lars"`` has none: it is used by
        the coordinate descent that finishes the rare rows whose path cannot; ``"omp"``
        does not use it).
    n_nonzero_coefs : int, default=None
        Sparsity of ``"omp"`` and fixed-sparsity ``"iht"``.
    init : ndarray of shape (n_samples, n_components), default=None
        Starting codes of the iterative solvers.
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    n_jobs : int or None, default=None
        Threads over blocks of rows (rows are independent); NumPy arrays only (other
        namespaces run the batch as one block).
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Kernel backend.
    callback : callable, default=None
        ``callback(SolverState) -> bool`` at each check of an iterative solver; True
        stops. ``"omp"`` and ``"lars"`` are direct algorithms and refuse it.
    verbose : int or None, default=None
        Print a line per check (``None``: the global configuration).

    Returns
    -------
    result : SolverResult
        ``x`` the codes (n_samples, n_components); ``n_iter``, ``converged``,
        ``info["objective_per_sample"]`` (``info["solver"]`` names the solver run).

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
    >>> from sparsopt.solvers import encode
    >>> X, D, _ = make_sparse_coding_problem(100, 32, 64, 4, noise=0.05)
    >>> res = encode(X, D, penalty="cel0", alpha=0.05)
    >>> res.x.shape, res.info["solver"], bool(np.mean(np.count_nonzero(res.x, axis=1)) < 10)
    ((100, 64), 'fista', True)
    """
    name = "encode"
    xp = input_namespace(X, dictionary, init, gram)  # TypeError for mixed libraries
    pen = coding_penalty(penalty, alpha, dictionary, name=name)
    if not is_numpy_namespace(xp):
        solver = _array_api_solver(solver, n_nonzero_coefs, xp, name)
    solver = resolve_solver(solver, pen, n_nonzero_coefs, init)
    if solver in ("omp", "iht") and has_bounds(pen):
        raise ValueError(f"{name}: constrained codes ({pen!r}) are not supported by "
                         f"solver={solver!r} (its greedy selection is sign-free); use "
                         "solver='lars', 'cd' or 'fista' for non-negative codes.")
    if solver in ("omp", "lars") and (callback is not None or verbose):
        raise ValueError(f"{name}: solver={solver!r} is a direct (finite) algorithm: it "
                         "takes no callback or verbose; use 'cd' or 'fista' to monitor.")
    X_arr = X if not is_numpy_namespace(xp) else np.asarray(X)
    if X_arr.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D (n_samples, n_features), got shape "
                         f"{tuple(X_arr.shape)}.")
    if gram is None and is_numpy_namespace(xp) and np.ndim(dictionary) == 2:
        # once, shared by the row blocks
        Dd = np.asarray(dictionary)
        dt = np.float32 if X_arr.dtype == np.float32 else np.float64
        gram = Dd.astype(dt) @ Dd.astype(dt).T
    common = dict(gram=gram, n_jobs=n_jobs, engine=engine)
    loop = dict(max_iter=max_iter, tol=tol, callback=callback, verbose=verbose)
    if solver == "lars":
        res = lars(X, dictionary, penalty=pen, max_iter=max_iter, tol=tol, **common)
    elif solver == "omp":
        res = omp(X, dictionary, n_nonzero_coefs=n_nonzero_coefs, **common)
    elif solver == "iht":
        if n_nonzero_coefs is not None:
            res = iht(X, dictionary, n_nonzero_coefs=n_nonzero_coefs, init=init, **loop,
                      **common)
        else:
            spec = spec_or_none(pen)
            if spec is None or spec.kind != _kinds.KIND_L0:
                raise ValueError(f"{name}: solver='iht' needs n_nonzero_coefs or "
                                 f"penalty='l0', got {pen!r}.")
            res = iht(X, dictionary, alpha=float(spec.params[0]), init=init, **loop,
                      **common)
    else:
        fn = {"cd": cd, "fista": fista, "ista": ista, "lca": lca}[solver]
        res = fn(X, dictionary, penalty=pen, init=init, **loop, **common)
    return res.with_info(solver=solver)
