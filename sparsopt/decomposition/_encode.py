"""``sparse_encode``: scikit-learn's spelling of :func:`sparsopt.solvers.encode`."""

from __future__ import annotations

from ..solvers.coding.encode import SOLVERS, coding_penalty, encode, resolve_solver
from ._sklearn_compat import check_one_spelling, sk_encode

__all__ = ["SOLVERS", "sparse_encode"]

# the dictionary learners import this name (they move to resolve_solver / encode)
_resolve_solver = resolve_solver


def sparse_encode(X, dictionary, *, gram=None, cov=None, algorithm=None, n_nonzero_coefs=None,
                  alpha=None, copy_cov=True, init=None, max_iter=1000, n_jobs=None,
                  check_input=True, verbose=0, positive=False, penalty=None, solver=None,
                  tol=None, engine=None):
    """Sparse codes of the rows of ``X`` against ``dictionary`` (scikit-learn's mirror).

    scikit-learn's signature and meanings (``algorithm``, with ``alpha=None`` meaning
    1.0 and ``n_nonzero_coefs=None`` meaning 10% of the features), plus sparsopt's
    coder names ``penalty``, ``solver`` and ``tol``. Setting ``algorithm`` together
    with ``penalty``, ``solver`` or ``tol`` raises ``ValueError``; setting none of them
    is scikit-learn's default, ``algorithm="lasso_lars"`` (the l1 codes of
    ``penalty="l1", solver="auto"``), unless ``n_nonzero_coefs`` is given (then OMP:
    scikit-learn would ignore it).

    The codes array of :func:`sparsopt.solvers.encode`, with scikit-learn's
    ``positive=`` flag (mapped to ``penalty + Positive()``); use ``encode`` for the
    :class:`~sparsopt.solvers.SolverResult` (iterations, convergence, objectives),
    a ``callback`` or ``verbose`` output.

    **Objective** (per-signal sum convention): each row ``x`` gets
    ``c = argmin 1/2 ||x - c D||^2 + pen(c)`` (``pen`` contains ``alpha``), or, for
    ``solver="omp"``/``"iht"`` with ``n_nonzero_coefs``, the best ``k``-sparse fit.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32. Arrays of another array-API namespace (CuPy,
        ...) are coded in it, on their device, by ``algorithm="fista"`` or
        ``"threshold"``, or ``solver="fista"``/``"ista"``/``"lca"`` (``"auto"`` is FISTA
        for them); the other coders are NumPy-only and raise ``TypeError``.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows (scikit-learn's layout); ``X ~ codes @ dictionary``. Same
        namespace as ``X``.
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    cov : ndarray of shape (n_components, n_samples), default=None
        Precomputed ``dictionary @ X.T`` (scikit-learn's name); used by
        ``algorithm="threshold"`` and ``"lars"``, ignored by the other coders.
    algorithm : {"lasso_lars", "lasso_cd", "lars", "omp", "threshold", "fista"}, \
default=None
        scikit-learn's coder names: ``"lasso_lars"`` is ``penalty="l1",
        solver="lars"``, ``"lasso_cd"`` is ``penalty="l1", solver="cd"`` (warm started
        from ``init``), ``"omp"`` is ``solver="omp"`` with ``n_nonzero_coefs``,
        ``"lars"`` is least-angle regression stopped at ``n_nonzero_coefs`` atoms and
        ``"threshold"`` soft-thresholds ``X @ dictionary.T`` at ``alpha``; ``"fista"``
        (sparsopt's extension) is ``penalty="l1", solver="fista"``. ``None``:
        ``"lasso_lars"`` unless ``penalty``, ``solver``, ``tol`` or ``n_nonzero_coefs`` is set.
    n_nonzero_coefs : int, default=None
        Sparsity of ``"omp"``, ``"lars"`` and fixed-sparsity ``"iht"``. With
        ``algorithm`` (or no coder named), ``None`` is scikit-learn's
        ``int(min(max(n_features / 10, 1), n_components))`` for ``"omp"``/``"lars"``
        and it is unused by the other algorithms. Without ``algorithm``, a value
        selects OMP (``solver="auto"``); scikit-learn's default ``"lasso_lars"`` would
        ignore it.
    alpha : float, default=None
        Regularization strength (``None``: 1.0). Same scaling as scikit-learn's lasso
        algorithms (which divide by ``n_features`` for a mean-scaled Lasso: the same
        codes); the threshold of ``"threshold"``; unused by ``"omp"`` and ``"lars"``.
    copy_cov : bool, default=True
        Accepted for scikit-learn compatibility; ``cov`` is never modified.
    init : ndarray of shape (n_samples, n_components), default=None
        Warm start (iterative solvers, ``"lasso_cd"``).
    max_iter : int, default=1000
        Iterations (epochs for ``"cd"``, path steps for ``"lars"``).
    n_jobs : int or None, default=None
        Threads over blocks of rows (kernels release the GIL).
    check_input : bool, default=True
        Accepted for scikit-learn compatibility (inputs are always checked).
    verbose : int, default=0
        Solver output.
    positive : bool, default=False
        Non-negative codes: the penalty becomes ``penalty + Positive()`` (``"lars"``,
        ``"cd"``, ``"ista"``, ``"fista"``, ``"lca"``, and the algorithms
        ``"lasso_lars"``, ``"lasso_cd"``, ``"threshold"``; ``"omp"``, ``"iht"`` and the
        algorithm ``"lars"`` refuse it).
    penalty : str or Penalty, default=None
        sparsopt's coder: ``"l1"``, ``"l0"``, ``"l1/2"``, ``"l2/3"``, ``"lq"``,
        ``"cel0"``, ``"mcp"``, ``"scad"``, ``"log"``, ``"elasticnet"``,
        ``"group_l21"``, ``"ksupport"``... or a :class:`~sparsopt.penalties.Penalty`
        (``None``: ``"l1"``). A ``"cel0"`` name gets the atoms' norms as its ``a``.
    solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default=None
        ``None``/``"auto"``: OMP when ``n_nonzero_coefs`` is given; for the l1 penalty
        without ``init``, the exact homotopy ``"lars"`` (certified exact codes, and
        faster than coordinate descent at equal objective, see the benchmarks);
        coordinate descent for the other separable penalties; FISTA for group penalties
        and for CEL0 (exact coordinate steps on CEL0 behave like l0 hard thresholding
        and reach much worse local minima than gradient steps). ``"lars"`` takes l1 and
        elastic-net only and always starts from zero (``init`` is not used).
    tol : float, default=None
        Tolerance of the solver's stopping criterion (``None``: 1e-6; ``"lars"`` has
        none: it is used by the coordinate descent that finishes the rare rows whose
        path cannot).
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Kernel backend.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)

    See Also
    --------
    sparsopt.solvers.encode : The same codes with the solver's report.

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
    >>> omp_codes = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=4)  # scikit-learn
    >>> int(np.count_nonzero(omp_codes, axis=1).max())
    4
    """
    owner = "sparse_encode"
    spelling = check_one_spelling(
        owner, {"penalty": penalty is not None, "solver": solver is not None,
                "tol": tol is not None},
        {"algorithm": algorithm is not None})
    # n_nonzero_coefs without any coder named: k-sparse codes (OMP under solver="auto";
    # scikit-learn's default lasso_lars would ignore it)
    if spelling == "sklearn" and algorithm is None and n_nonzero_coefs is None:
        algorithm = "lasso_lars"
    if algorithm is not None:
        return sk_encode(X, dictionary, algorithm,
                         n_nonzero_coefs=n_nonzero_coefs, alpha=alpha, max_iter=max_iter,
                         init=init, gram=gram, cov=cov, positive=positive, n_jobs=n_jobs,
                         verbose=verbose, owner=owner)
    pen = coding_penalty("l1" if penalty is None else penalty, 1.0 if alpha is None else alpha,
                         dictionary, positive=positive, name=owner)
    return encode(X, dictionary, penalty=pen, solver="auto" if solver is None else solver,
                  max_iter=max_iter, tol=1e-6 if tol is None else tol,
                  n_nonzero_coefs=n_nonzero_coefs, init=init, gram=gram, n_jobs=n_jobs,
                  engine=engine, verbose=verbose).x
