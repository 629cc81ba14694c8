"""Sinkhorn-Newton-Sparse: Newton steps on a sparsified Hessian after a Sinkhorn warm-up."""

from __future__ import annotations

import math

import numpy as np

from ..backends import dispatch
from ..utils.validation import check_int, check_scalar
from ._common import Tracker, make_result, plan, solve_problems, warm_potentials
from ._sinkhorn import log_sweeps
from ._validation import check_problem

_EPS = np.finfo(np.float64).eps
SLOW_RATIO = 0.5  # an accepted step keeping more than this share of the error is slow...
AUTO_EPS_RATIO, AUTO_EPS_FACTOR = 3000.0, 10.0  # eps_scaling="auto"
STALL_WINDOW, STALL_RATIO = 5, 0.5  # 5 damped steps must halve the error...
LOCAL = 1e-2  # ...once the marginal error is below LOCAL * mass (the Newton regime)


def _threshold(P, k):
    """Value of the ``k``-th largest entry of ``P`` (``O(nm)`` selection)."""
    flat = P.ravel()
    if k >= flat.size:
        return 0.0
    return float(np.partition(flat, flat.size - k)[flat.size - k])


def _newton_stage(a, b, K, u, v, reg, *, tol, max_iter, density, cg_rtol, cg_maxiter, c1,
                  max_linesearch, n_fallback, tracker, start, engine):
    n, m = K.shape
    mass = a.sum()
    dot_ab = lambda u, v: float(a @ u + b @ v)  # noqa: E731
    P, r, c = plan(K, u, v, engine)
    err = float(np.abs(r - a).sum() + np.abs(c - b).sum())
    D = dot_ab(u, v) - float(r.sum())
    stats = dict(n_newton=0, n_cg=0, n_plan_evals=1, n_fallback_sweeps=0, n_failed=0,
                 densities=[])
    it = 0  # Newton attempts, accepted or not
    count = start  # iterations so far: Sinkhorn sweeps plus accepted Newton steps
    stopped = False
    tiny = np.finfo(np.float64).tiny
    since, err_mark, stalled = 0, err, False  # stall detection over STALL_WINDOW steps
    while not stopped and err > tol and it < max_iter:
        k = max(1, math.ceil(density * n * m))
        stats["densities"].append(density)
        thresh = _threshold(P, k)
        indptr, indices, data = dispatch("ot_sparsify", P, thresh, engine=engine)
        ga, gb = a - r, b - c
        rr, cc = np.maximum(r, tiny), np.maximum(c, tiny)
        da, db, n_cg = dispatch("ot_newton_cg", indptr, indices, data, rr, cc, ga, gb,
                                cg_rtol, cg_maxiter, engine=engine)
        stats["n_cg"] += int(n_cg)
        slope = float(ga @ da + gb @ db)
        accepted = False
        alpha = 1.0
        if slope > 0 and np.all(np.isfinite(da)) and np.all(np.isfinite(db)):
            for _ in range(max_linesearch):
                ut, vt = u + alpha * da, v + alpha * db
                with np.errstate(over="ignore", invalid="ignore"):
                    Pt, rt, ct = plan(K, ut, vt, engine)
                stats["n_plan_evals"] += 1
                with np.errstate(over="ignore", invalid="ignore"):
                    St = float(rt.sum())
                    Dt = dot_ab(ut, vt) - St
                    err_t = float(np.abs(rt - a).sum() + np.abs(ct - b).sum())
                # Armijo for ascent, with slack for round-off in D near the optimum, or a
                # decrease of the marginal error once D cannot resolve the progress
                slack = 8 * _EPS * (abs(float(a @ ut)) + abs(float(b @ vt)) + St)
                if np.isfinite(Dt) and (Dt >= D + c1 * alpha * slope - slack
                                        or (err <= 1e-8 * mass and err_t < err)):
                    accepted = True
                    break
                alpha *= 0.5
        it += 1
        if accepted:
            # damped Newton ascent: the dual increases even when the marginal error does
            # not (far from the optimum it can grow for a few steps)
            if err_t > SLOW_RATIO * err and err <= LOCAL * mass:
                # linear rather than quadratic progress near the optimum: the sparsified
                # Hessian misses too much of the plan's mass
                density = min(1.0, 2.0 * density)
            u, v, P, r, c, D, err = ut, vt, Pt, rt, ct, Dt, err_t
            stats["n_newton"] += 1
            count += 1
            stopped = tracker.record(count, "newton", err, u, v, reg)
            since += 1
            stalled = (since >= STALL_WINDOW and err > LOCAL * mass
                       and err > STALL_RATIO * err_mark)
            if since >= STALL_WINDOW:
                since, err_mark = 0, err
        if not accepted or (stalled and not stopped and err > tol):
            # no ascent along the sparse Newton direction, or damped steps that stall far
            # from the optimum: a denser Hessian and Sinkhorn sweeps, more of them after
            # each consecutive failure
            density = min(1.0, 2.0 * density)
            n_sweeps = n_fallback * 2 ** min(stats["n_failed"], 6)
            stats["n_failed"] += 1
            done, stopped = log_sweeps(K, u, v, a, b, tol, n_sweeps, n_sweeps, tracker,
                                       reg, engine, start=count, stage="fallback")
            stats["n_fallback_sweeps"] += done
            count += done
            P, r, c = plan(K, u, v, engine)
            stats["n_plan_evals"] += 1
            err = float(np.abs(r - a).sum() + np.abs(c - b).sum())
            D = dot_ab(u, v) - float(r.sum())
            since, err_mark, stalled = 0, err, False
    return u, v, P, r, c, count, stats


def sinkhorn_newton_sparse(a, b, M, reg, *, n_sinkhorn=20, density=None, tol=1e-12,
                           max_iter=100, eps_scaling="auto", cg_rtol=1e-10, cg_maxiter=None,
                           armijo=1e-4, max_linesearch=30, n_fallback=10, warm_start=None,
                           callback=None,
                           verbose=False, n_jobs=None, engine=None):
    r"""Entropic optimal transport by Sinkhorn-Newton-Sparse (SNS).

    Runs ``n_sinkhorn`` log-domain Sinkhorn sweeps, then Newton ascent steps on the
    concave dual :math:`D(f, g) = \langle a, f\rangle + \langle b, g\rangle -
    \mathrm{reg}\sum_{ij} e^{(f_i + g_j - M_{ij})/\mathrm{reg}}`. Each Newton step
    forms the plan ``P`` (``O(nm)``), keeps the exact row and column sums of ``P`` as
    the Hessian's diagonal blocks and only its ``density * n * m`` largest entries
    off the diagonal, solves the sparse system by Jacobi-preconditioned conjugate
    gradients (``O(nnz)`` per product), and takes the largest step ``2**-j`` passing an
    Armijo test on the dual (damped Newton ascent: far from the optimum the marginal
    error may grow for a few steps while the dual increases). Near the optimum the
    dual value cannot resolve the progress in float64, so a step that lowers the
    marginal error is then accepted too. Once the error is below 1% of the mass, a
    step that fails to halve it (linear rather than quadratic progress) doubles the
    density; a failed line search doubles it and falls back to Sinkhorn sweeps
    (``n_fallback``, doubling after each consecutive failure).

    Parameters
    ----------
    a, b, M, reg
        As in :func:`sinkhorn` (batches of shape ``(B, n, m)`` included).
    n_sinkhorn : int, default=20
        Sinkhorn sweeps before the first Newton step.
    density : float in (0, 1] or None, default=None
        Fraction of the plan's entries kept in the sparsified Hessian. ``None`` means
        ``5 / min(n, m)`` (about five entries per row); the paper's ``2 / n`` converges
        only linearly on hard instances.
    tol : float, default=1e-12
        Stop when the L1 marginal error of the current plan is at most ``tol``.
        Checked on the returned plan.
    max_iter : int, default=100
        Maximum number of Newton steps (attempts, per ``eps_scaling`` stage).
    eps_scaling : float > 1, "auto" or None, default="auto"
        If a float, solve first with ``reg * eps_scaling**s`` (from the cost range
        down to ``reg``) to a marginal error of 1e-6, each stage warm-starting the
        next. This is needed at extreme ``(max(M) - min(M)) / reg``, where 20 sweeps
        leave the Newton stage far from the optimum. ``"auto"`` uses 10 when that
        ratio exceeds 3000 and nothing otherwise; ``None`` never scales.
    cg_rtol : float, default=1e-10
        Relative residual at which CG stops.
    cg_maxiter : int or None, default=None
        CG iteration cap (``None``: ``10 * (n + m)``).
    armijo : float, default=1e-4
        Sufficient-increase constant of the line search.
    max_linesearch : int, default=30
        Maximum number of step halvings.
    n_fallback : int, default=10
        Sinkhorn sweeps after a failed Newton step.
    warm_start, callback, verbose, n_jobs, engine
        As in :func:`sinkhorn` (the callback runs after the warm-up and after every
        Newton step; its ``stage`` is ``"sinkhorn"``, ``"newton"`` or ``"fallback"``).

    Returns
    -------
    result : OTResult
        With ``info`` holding ``n_sinkhorn`` (sweeps done), ``n_newton``, ``n_cg``
        (CG matrix-vector products), ``n_plan_evals`` (``O(nm)`` plan formations,
        line-search trials included), ``n_fallback_sweeps`` and ``densities`` (one
        per Newton attempt), ``n_failed`` (fallbacks to Sinkhorn sweeps: a Newton
        attempt without ascent, or five damped steps that did not halve the error).
        ``n_iter`` counts Sinkhorn sweeps (warm-up and fallback) plus accepted Newton
        steps.

    Warns
    -----
    ConvergenceWarning
        When ``tol`` is not reached within ``max_iter`` Newton steps.

    See Also
    --------
    sinkhorn : Log-domain Sinkhorn alone.

    Notes
    -----
    With ``u = f / reg`` and ``v = g / reg`` the Newton system is
    ``[[diag(P1), P_s], [P_s^T, diag(P^T 1)]] [du; dv] = [a - P1; b - P^T 1]`` with
    ``P_s`` the sparsified plan: keeping the full row and column sums on the diagonal
    makes the matrix diagonally dominant, hence positive (semi)definite, and CG well
    defined. The ``reg`` factor cancels. The scaled potentials are the Newton
    variables, the plan stays in log form until it is exponentiated by the same
    vectorised kernel as :func:`sinkhorn`.

    References
    ----------
    .. [1] X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil,
       T. Xiao and L. Ying, "Accelerating Sinkhorn algorithm with sparse Newton
       iterations", ICLR 2024 (arXiv:2401.12253).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import sinkhorn_newton_sparse
    >>> rng = np.random.default_rng(0)
    >>> M = rng.random((60, 60))
    >>> res = sinkhorn_newton_sparse(None, None, M, reg=1 / 200)
    >>> bool(res.marginal_error <= 1e-12), res.info["n_newton"] < 30
    (True, True)
    """
    owner = "sinkhorn_newton_sparse"
    n_sinkhorn = check_int(n_sinkhorn, "n_sinkhorn", owner, lower=0)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", owner, lower=0)
    cg_rtol = check_scalar(cg_rtol, "cg_rtol", owner, lower=0.0)
    armijo = check_scalar(armijo, "armijo", owner, lower=0.0, upper=0.5, lower_inclusive=False,
                          upper_inclusive=False)
    max_linesearch = check_int(max_linesearch, "max_linesearch", owner, lower=1)
    n_fallback = check_int(n_fallback, "n_fallback", owner, lower=1)
    if density is not None:
        density = check_scalar(density, "density", owner, lower=0.0, upper=1.0,
                               lower_inclusive=False)
    if eps_scaling is not None and not (isinstance(eps_scaling, str)
                                        and eps_scaling == "auto"):
        eps_scaling = check_scalar(eps_scaling, "eps_scaling", owner, lower=1.0,
                                   lower_inclusive=False)
    if cg_maxiter is not None:
        cg_maxiter = check_int(cg_maxiter, "cg_maxiter", owner, lower=1)
    problems, batched, dtype, reg = check_problem(a, b, M, reg, owner)

    def single(a, b, M, k, dtype, support):
        n, m = M.shape
        tracker = Tracker(owner, callback, verbose)
        u, v = warm_potentials(warm_start, a, b, reg, k, batched, owner, support)
        dens = density if density is not None else min(1.0, 5.0 / min(n, m))
        regs = [reg]
        spread = float(M.max() - M.min())
        factor = eps_scaling
        if isinstance(factor, str):
            factor = AUTO_EPS_FACTOR if spread / reg > AUTO_EPS_RATIO else None
        if factor is not None:
            n_stages = max(0, math.ceil(math.log(max(spread, reg) / reg) / math.log(factor)))
            regs = [reg * factor ** s for s in range(n_stages, 0, -1)] + [reg]
        n_iter, n_sk, stopped = 0, 0, False
        info = {"method": "sns", "n_sinkhorn": 0, "n_newton": 0, "n_cg": 0, "n_plan_evals": 0,
                "n_fallback_sweeps": 0, "n_failed": 0, "densities": ()}
        u, v = u * reg / regs[0], v * reg / regs[0]
        for s, reg_s in enumerate(regs):
            if s:
                u, v = u * regs[s - 1] / reg_s, v * regs[s - 1] / reg_s
            final = s == len(regs) - 1
            tol_s = tol if final else max(tol, 1e-6 * float(a.sum()))
            K = M * (-1.0 / reg_s)
            if n_sinkhorn:
                n_sk, stopped = log_sweeps(K, u, v, a, b, tol_s, n_sinkhorn, n_sinkhorn,
                                           tracker, reg_s, engine, start=n_iter)
                info["n_sinkhorn"] += n_sk
            u, v, P, r, c, n_iter, stats = _newton_stage(
                a, b, K, u, v, reg_s, tol=tol_s, max_iter=0 if stopped else max_iter,
                density=dens, cg_rtol=cg_rtol, cg_maxiter=cg_maxiter or 10 * (n + m),
                c1=armijo, max_linesearch=max_linesearch, n_fallback=n_fallback,
                tracker=tracker, start=n_iter + n_sk, engine=engine)
            for key, val in stats.items():
                info[key] = info[key] + (tuple(val) if key == "densities" else val)
            if tracker.stop_requested:
                break
        return make_result(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol,
                           tracker, info)

    return solve_problems(single, problems, batched, dtype, n_jobs, owner,
                          f"L1 marginal error > tol={tol:g} with max_iter={max_iter} "
                          "Newton steps")
