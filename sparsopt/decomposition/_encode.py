"""``sparse_encode``: scikit-learn's spelling of :func:`sparsopt.solvers.encode`."""

from __future__ import annotations

from ..solvers.coding.encode import SOLVERS, coding_penalty, encode, resolve_solver

__all__ = ["SOLVERS", "sparse_encode"]

# the dictionary learners import this name (they move to resolve_solver / encode)
_resolve_solver = resolve_solver


def sparse_encode(X, dictionary, *, penalty="l1", alpha=1.0, solver="auto", max_iter=1000,
                  tol=1e-6, positive=False, n_nonzero_coefs=None, init=None, gram=None,
                  n_jobs=None, engine=None):
    """Sparse codes of the rows of ``X`` against ``dictionary`` (scikit-learn's mirror).

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
        Non-negative codes: the penalty becomes ``penalty + Positive()`` (``"lars"``,
        ``"cd"``, ``"ista"``, ``"fista"``, ``"lca"``; ``"omp"`` and ``"iht"`` refuse it).
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
    """
    pen = coding_penalty(penalty, alpha, dictionary, positive=positive, name="sparse_encode")
    return encode(X, dictionary, penalty=pen, solver=solver, max_iter=max_iter, tol=tol,
                  n_nonzero_coefs=n_nonzero_coefs, init=init, gram=gram, n_jobs=n_jobs,
                  engine=engine).x
