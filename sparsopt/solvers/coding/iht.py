"""Batched iterative hard thresholding: fixed sparsity (normalized step) or penalized l0."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..._core.loop import run_iterations
from ...backends import dispatch
from ...penalties import L0
from ...utils.validation import check_int, check_scalar
from ._common import CodingProblem, codes_gram, loop_options, solve_row_blocks, with_objectives
from .ista import ista_run


def iht(X, dictionary, *, n_nonzero_coefs=None, alpha=None, step="normalized", init=None,
        max_iter=1000, tol=1e-6, check_every=1, gram=None, n_jobs=None, engine=None,
        callback=None, verbose=None):
    """Batched iterative hard thresholding (IHT).

    Two modes, one per row of ``X``:

    * **fixed sparsity** (``n_nonzero_coefs=k``): ``C <- H_k(C + mu (B - C G))`` keeps the
      ``k`` largest entries. With ``step="normalized"`` (default) each sample gets the
      adaptive step of normalized IHT (Blumensath and Davies 2010): ``mu = ||g_S||^2 /
      ||g_S D||^2`` on the current support ``S``, halved while a support change would
      break the descent condition, which makes IHT converge without rescaling ``D``.
    * **penalized l0** (``alpha``): hard thresholding at ``sqrt(2 mu alpha)``, i.e.
      :func:`ista` with ``L0(alpha)`` and step ``0.99 / ||D||_2^2`` unless given.

    **Objective** (per-signal sum convention): each row ``x_i`` gets
    ``min_c 1/2 ||x_i - c D||_2^2`` s.t. ``||c||_0 <= k`` (fixed sparsity; the recorded
    objective is the data fit), or ``min_c 1/2 ||x_i - c D||_2^2 + alpha ||c||_0``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows.
    n_nonzero_coefs : int, default=None
        Sparsity ``k`` per sample (fixed-sparsity mode). If neither this nor ``alpha``
        is given, ``max(int(0.1 * n_features), 1)`` as in scikit-learn's OMP.
    alpha : float, default=None
        Weight of ``||c||_0`` (penalized mode). Exclusive with ``n_nonzero_coefs``.
    step : "normalized" or float, default="normalized"
        Step rule of the fixed-sparsity mode (a float is a constant step, which should
        be below ``1 / ||D||_2^2``); in penalized mode a float step or the default.
    init : ndarray of shape (n_samples, n_components), default=None
        Starting codes (zeros by default; kept to its ``k`` largest entries).
    max_iter : int, default=1000
        Hard cap on iterations.
    tol : float, default=1e-6
        Stop when the largest relative change of a sample's code is at most ``tol``.
    check_every : int, default=1
        Evaluate the criterion every this many iterations.
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    n_jobs : int or None, default=None
        Threads over blocks of rows (rows are independent), each block with its own
        loop. Not used with a ``callback`` or ``verbose`` output.
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Kernel backend.
    callback : callable, default=None
        ``callback(state) -> bool`` with a :class:`~sparsopt.solvers.SolverState` at
        each check; True stops (``converged=False``, ``stopped_by == "callback"``).
    verbose : int or None, default=None
        Print a line per check (``None``: the global configuration).

    Returns
    -------
    result : SolverResult

    References
    ----------
    .. [1] T. Blumensath and M. E. Davies, "Iterative hard thresholding for
       compressed sensing", Appl. Comput. Harmon. Anal. 27(3), 2009.
    .. [2] T. Blumensath and M. E. Davies, "Normalized iterative hard thresholding:
       guaranteed stability and performance", IEEE J. Sel. Topics Signal Process.
       4(2), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.solvers import iht
    >>> X, D, C = make_sparse_coding_problem(30, 64, 128, 4, noise=0.0)
    >>> res = iht(X, D, n_nonzero_coefs=4, max_iter=500)
    >>> float(np.mean((res.x != 0) == (C != 0))) > 0.99
    True
    """
    name = "iht"
    if alpha is not None and n_nonzero_coefs is not None:
        raise ValueError(f"{name}: pass either n_nonzero_coefs (fixed sparsity) or alpha "
                         "(penalized l0), not both.")
    if alpha is not None:
        alpha = check_scalar(alpha, "alpha", name, lower=0.0)
        return ista_run(name, X, dictionary, penalty=L0(alpha), alpha=alpha,
                        step=None if isinstance(step, str) else step, init=init,
                        max_iter=max_iter, tol=tol, check_every=check_every, gram=gram,
                        n_jobs=n_jobs, engine=engine, callback=callback, verbose=verbose)
    prob = CodingProblem(X, dictionary, name, gram=gram)
    n_comp = prob.shape[1]
    if n_nonzero_coefs is None:
        n_nonzero_coefs = max(int(0.1 * prob.X.shape[1]), 1)
    k = check_int(n_nonzero_coefs, "n_nonzero_coefs", name, lower=1)
    if k > n_comp:
        raise ValueError(f"{name}: n_nonzero_coefs={k} exceeds n_components={n_comp}.")
    max_iter = check_int(max_iter, "max_iter", name, lower=1)
    tol = check_scalar(tol, "tol", name, lower=0.0)
    normalized = isinstance(step, str)
    if normalized and step != "normalized":
        raise ValueError(f"{name}: step must be 'normalized' or a positive float, got {step!r}.")
    if not normalized:
        step = check_scalar(step, "step", name, lower=0.0, lower_inclusive=False)
    check_int(check_every, "check_every", name, lower=1)
    if n_jobs is not None and n_jobs != 1:
        split = solve_row_blocks(
            lambda Xb, ib: iht(Xb, prob.D, n_nonzero_coefs=k, step=step, init=ib,
                               max_iter=max_iter, tol=tol, check_every=check_every,
                               gram=prob.G, engine=engine),
            prob.X, None if init is None else prob.init_codes(init), n_jobs, callback,
            verbose, name)
        if split is not None:
            return split
    G, B = prob.G, prob.B
    fallback = 1.0 / prob.lipschitz()
    C = prob.init_codes(init)
    if init is not None:
        C = dispatch("topk_threshold", C, k, np.empty_like(C), engine=engine)

    def hk(V):
        return dispatch("topk_threshold", V, k, np.empty_like(V), engine=engine)

    def rowdot(U, V):
        return np.einsum("ij,ij->i", U, V, dtype=np.float64)

    state = SimpleNamespace(x=C, backtracks=0)

    def one(s, it):
        g = B - codes_gram(s.x, G)
        if not normalized:
            s.x = hk(s.x + step * g)
            return
        supp = s.x != 0
        empty = ~supp.any(axis=1)
        if empty.any():
            supp[empty] = hk(g[empty]) != 0
        gs = np.where(supp, g, 0)
        den = rowdot(gs @ G, gs)
        mu = np.where(den > 0, rowdot(gs, gs) / np.where(den > 0, den, 1.0), fallback)
        new = hk(s.x + (mu[:, None] * g).astype(s.x.dtype))
        changed = np.any((new != 0) != supp, axis=1)
        for _ in range(30):  # backtracking on rows whose support changed
            if not changed.any():
                break
            d = new[changed] - s.x[changed]
            dd = rowdot(d, d)
            dgd = rowdot(d @ G, d)
            bad = dgd > 0
            bad[bad] = mu[changed][bad] > 0.99 * dd[bad] / dgd[bad]
            if not bad.any():
                break
            rows = np.flatnonzero(changed)[bad]
            mu[rows] /= 2.0 * 0.99
            s.backtracks += rows.size
            new[rows] = hk(s.x[rows] + (mu[rows, None] * g[rows]).astype(s.x.dtype))
            changed = np.zeros_like(changed)
            changed[rows] = np.any((new[rows] != 0) != supp[rows], axis=1)
        s.x = new

    pen = L0(0.0)  # objective bookkeeping: pure data fit at fixed sparsity
    res = run_iterations(one, state, **loop_options(prob, pen, name, max_iter, tol,
                                                    check_every, callback, verbose),
                         criterion="max relative change of the codes",
                         info={"n_nonzero_coefs": k, "step": "normalized" if normalized
                               else step})
    return with_objectives(res, prob, pen, backtracks=state.backtracks)
