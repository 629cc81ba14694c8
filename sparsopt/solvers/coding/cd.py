"""Batched proximal coordinate descent on the Gram matrix (the fast sparse-coding path)."""

from __future__ import annotations

from functools import partial

import numpy as np

from ..._core.loop import LoopMonitor, resolve_verbose
from ...backends import _kinds, dispatch
from ...utils.parallel import map_row_blocks
from ...utils.validation import check_int, check_scalar
from ._common import (
    CodingProblem,
    atom_parameter,
    coding_spec,
    make_penalty,
    uses_atom_parameter,
)

CRITERION = "number of samples whose largest coordinate change per epoch exceeds tol x max|c|"


def cd(X, dictionary, *, penalty="l1", alpha=1.0, init=None, max_iter=1000, tol=1e-6,
       check_every=10, gram=None, n_jobs=None, engine=None, callback=None, verbose=None):
    """Batched proximal coordinate descent for sparse coding with separable penalties.

    For every row ``x_i`` of ``X``, cycles over the atoms and minimizes
    ``1/2 ||x_i - c D||^2 + pen(c)`` in one coordinate at a time with the penalty's
    scalar prox at step ``1 / G_jj`` (an exact coordinate minimization for convex
    penalties), keeping ``q = B_i - c G`` up to date so that an update costs
    ``O(n_components)`` only when the coordinate changes. Rows are independent:
    ``n_jobs`` threads share them (the kernel releases the GIL).

    This is the algorithm behind scikit-learn's ``lasso_cd`` with a precomputed
    Gram, without the per-sample Python overhead, and for every separable penalty,
    optionally under a box (``penalty + Positive()``: non-negative codes). CEL0 uses
    steps ``0.99 / G_jj`` (its prox needs ``a_j^2 step < 1``).

    **Objective** (per-signal sum convention): each row ``x_i`` gets
    ``min_c 1/2 ||x_i - c D||_2^2 + pen(c)``; ``pen`` contains ``alpha``.

    **Loop.** Without ``callback`` and ``verbose`` each block of rows runs all its
    epochs in one compiled call (the fast path). With either, the kernel runs in chunks
    of ``check_every`` epochs, resuming from the codes, and the check between chunks
    evaluates the objective, prints and calls ``callback(SolverState)``; True stops
    (``converged=False``, ``info["stopped_by"] == "callback"``). The criterion is the
    number of samples not yet converged (``state.stop_crit``); a sample has converged
    when its largest coordinate change in an epoch is at most ``tol * max_j |c_j|``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows.
    penalty : str or Penalty, default="l1"
        A separable penalty (L1, L0, Lq, CEL0, MCP, SCAD, Log, ElasticNet, Box),
        optionally under a constraint (``L1(0.1) + Positive()``).
    alpha : float, default=1.0
        Strength used when ``penalty`` is a name.
    init : ndarray of shape (n_samples, n_components), default=None
        Starting codes (zeros by default).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the atoms) per sample.
    tol : float, default=1e-6
        A sample stops when its largest coordinate change in an epoch is at most
        ``tol * max_j |c_j|``.
    check_every : int, default=10
        Epochs between two checks when a ``callback`` or ``verbose`` is given.
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    n_jobs : int or None, default=None
        Threads over blocks of samples (``-1``: all cores).
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend (the NumPy reference is slow; use it for testing).
    callback : callable, default=None
        ``callback(state) -> bool`` at each check (every ``check_every`` epochs);
        True stops.
    verbose : int or None, default=None
        Print a line per check (``None``: the global configuration).

    Returns
    -------
    result : SolverResult
        ``x`` the codes; ``n_iter`` the largest number of epochs used; ``stop_crit``
        the number of samples that did not converge; ``info["n_iter_per_sample"]`` and
        ``info["objective_per_sample"]``.

    Warns
    -----
    ConvergenceWarning
        Once, when some samples reach ``max_iter`` epochs.
    NonFiniteIterateWarning
        When the codes become NaN or infinite: the last finite codes (the ``init``)
        are returned.

    References
    ----------
    .. [1] J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for
       generalized linear models via coordinate descent", J. Stat. Softw. 33(1), 2010.
    .. [2] P. Breheny and J. Huang, "Coordinate descent algorithms for nonconvex
       penalized regression", Ann. Appl. Stat. 5(1), 2011.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.solvers import cd
    >>> X, D, _ = make_sparse_coding_problem(50, 16, 32, 3)
    >>> res = cd(X, D, penalty="mcp", alpha=0.1)
    >>> res.x.shape, res.converged
    ((50, 32), True)
    """
    name = "cd"
    prob = CodingProblem(X, dictionary, name, gram=gram)
    pen = make_penalty(penalty, alpha, name)
    spec = coding_spec(pen, name)
    max_iter = check_int(max_iter, "max_iter", name, lower=1)
    tol = check_scalar(tol, "tol", name, lower=0.0)
    check_every = check_int(check_every, "check_every", name, lower=1)
    run_block = _kernel(prob, pen, spec, tol, engine, name)
    C = prob.init_codes(init)
    n = C.shape[0]
    n_iter = np.zeros(n, dtype=np.int64)
    # the monitor counts unconverged samples: it has converged at 0 (its tol); the
    # per-sample tolerance is the kernel's. The fast path has one check, after the run:
    # its only earlier finite iterate is the init, rebuilt if needed (no copy of the codes:
    # a copy costs as much as a few epochs on large batches).
    fast = callback is None and not resolve_verbose(verbose)
    mon = LoopMonitor(name, max_iter=max_iter, tol=0.0, callback=callback, verbose=verbose,
                      criterion=CRITERION,
                      hint=f"tol = {tol:.1e} is per sample (0 above: no sample left)",
                      x0=None if fast else C, keep_finite=not fast)

    def objective():
        return float(prob.objectives(C, pen).sum())

    if fast:  # one compiled call per block of rows
        map_row_blocks(lambda a, b: run_block(C, n_iter, a, b, max_iter, None), n, n_jobs)
        n_bad = int(np.sum(n_iter >= max_iter))
        mon.check(int(n_iter.max(initial=0)), C, n_bad, None)
    else:
        active = np.arange(n)
        done = 0
        while True:
            chunk = min(check_every, max_iter - done)
            epochs = np.zeros(active.size, dtype=np.int64)
            whole = active.size == n
            Ca = C if whole else np.ascontiguousarray(C[active])
            rows = None if whole else active
            map_row_blocks(partial(_run_rows, run_block, Ca, epochs, chunk, rows),
                           active.size, n_jobs)
            if not whole:
                C[active] = Ca
            n_iter[active] += epochs
            done += chunk
            # a sample that used the whole chunk may not have converged: resume it
            active = active[epochs >= chunk]
            n_bad = active.size if done < max_iter else int(np.sum(n_iter >= max_iter))
            if mon.check(done, C, n_bad, objective()) or done >= max_iter:
                break
    final = C
    if fast and mon.stopped_by == "nonfinite":
        final = prob.init_codes(init)  # the fast path's last finite iterate
    res = mon.result(final, stacklevel=2, tol=tol, n_iter_per_sample=n_iter)
    obj = prob.objectives(res.x, pen)
    fields = res._fields()
    if mon.stopped_by != "nonfinite":
        fields["n_iter"] = int(n_iter.max(initial=0))
        if fast and fields["history"]:  # the objective of the one check, computed once
            fields["history"] = ({**fields["history"][-1], "objective": float(obj.sum())},)
    fields["info"]["objective_per_sample"] = obj
    return type(res)(**fields)


def _run_rows(run_block, C, n_iter, iters, rows, start, stop):
    run_block(C, n_iter, start, stop, iters, rows)


def _kernel(prob, pen, spec, tol, engine, name):
    """The kernel-selection helper: ``run(C, n_iter, start, stop, max_iter, rows)`` runs
    ``max_iter`` epochs on rows ``start:stop`` of ``C`` (rows ``rows[start:stop]`` of the
    problem when ``rows`` is given)."""
    diag = np.diag(prob.G).astype(np.float64)
    live = diag > 0
    step_scale = 1.0
    a = np.ones(1)
    if uses_atom_parameter(spec):
        # CEL0's prox at step s needs a_j^2 s < 1; at s = 1 / G_jj with a_j = ||d_j|| the
        # coordinate problem is flat, so 0.99 keeps it strictly convex
        step_scale = 0.99
        a = atom_parameter(pen)
        ab = np.broadcast_to(a, diag.shape)
        if np.any(ab[live] ** 2 * step_scale / diag[live] >= 1.0):
            raise ValueError(
                f"{name}: CEL0 needs a_j <= ||d_j|| (the norms of the atoms); pass "
                "a=np.linalg.norm(dictionary, axis=1)."
            )
    elif live.any():
        pen.check_step(step_scale / diag[live].min())
    lower, upper = float(spec.lower), float(spec.upper)
    # specialised kernel for l1, free or on the non-negative orthant: the same iterates,
    # the soft threshold inlined (no penalty dispatch in the innermost loop)
    l1_fast = spec.kind == _kinds.KIND_L1 and upper == np.inf and lower in (0.0, -np.inf)
    G, B = prob.G, prob.B
    kind, params = int(spec.kind), spec.params

    def run(C, n_iter, start, stop, iters, rows):
        Bb = B[start:stop] if rows is None else np.ascontiguousarray(B[rows[start:stop]])
        if l1_fast:
            dispatch("cd_gram_l1", G, Bb, C[start:stop], float(params[0]), lower == 0.0,
                     iters, tol, n_iter[start:stop], engine=engine)
        else:
            dispatch("cd_gram", G, Bb, C[start:stop], kind, params, a, step_scale, lower,
                     upper, iters, tol, n_iter[start:stop], engine=engine)

    return run
