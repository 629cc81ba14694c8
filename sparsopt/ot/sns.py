"""Sinkhorn-Newton-Sparse: Newton steps on a sparsified Hessian after a Sinkhorn warm-up."""

from __future__ import annotations

import math

import numpy as np

from ..backends import array_namespace, dispatch, errstate, is_numpy_namespace
from ..utils.validation import check_int, check_scalar
from ._common import (
    Tracker,
    caller_config,
    init_potentials,
    log_sweeps,
    make_result,
    solve_problems,
)
from ._scaled import ScaledKernel, ScaledKernelXP
from ._validation import check_problem

_EPS = np.finfo(np.float64).eps
SLOW_RATIO = 0.1  # an accepted step keeping more than this share of the error is slow...
SLOW_GROWTH = 8.0  # ...and doubles the density, up to this factor of the initial density
REUSE_STEP = 0.05  # after steps moving no potential more than this, keep the Hessian's pattern
AUTO_EPS_RATIO, AUTO_EPS_FACTOR = 3000.0, 10.0  # eps_scaling="auto"
STALL_WINDOW, STALL_RATIO = 5, 0.5  # 5 damped steps must halve the error...
LOCAL = 1e-2  # ...once the marginal error is below LOCAL * mass (the Newton regime)


SAMPLE = 1 << 15  # plan entries sampled to place the sparsification threshold


def _threshold(kern, k):
    """About the ``k``-th largest plan entry: exact for small plans, else from a sample.

    The density is a heuristic, so a threshold from ``SAMPLE`` entries on a fixed
    stride (relative error of the count about ``1 / sqrt(k * SAMPLE / (n m))``) is as
    good as an exact ``O(nm)`` selection and needs no copy of the plan.
    """
    n, m = kern.Kt.shape
    total = n * m
    if k >= total:
        return 0.0
    vals = kern.sample(SAMPLE)
    size = vals.shape[0]
    kk = min(size, max(1, round(k * size / total)))
    if isinstance(vals, np.ndarray):
        return float(np.partition(vals, size - kk)[size - kk])
    xp = array_namespace(vals)  # no partition in the standard: sort the sample
    return float(xp.sort(vals)[size - kk])


def _sweeps(kern, a, b, tol, n_sweeps, tracker, reg, start, stage, check_every=10):
    """Scaling-domain sweeps (log-domain where the scalings cannot represent the plan)."""
    done = 0
    while done < n_sweeps:
        chunk = min(check_every, n_sweeps - done)
        k, err, ok = kern.sweeps(a, b, chunk, tol)
        if not ok:  # a row or column of the absorbed kernel underflows entirely
            u, v = kern.potentials()
            xp = array_namespace(u, v)
            u, v = xp.where(xp.isfinite(u), u, kern.u0), xp.where(xp.isfinite(v), v, kern.v0)
            k2, stopped = log_sweeps(kern.K, u, v, a, b, tol, chunk - k, chunk - k,
                                     tracker, reg, kern.engine, start=start + done + k,
                                     stage=stage)
            kern.absorb(u, v)
            done += k + k2
            if stopped:
                return done, True
            continue
        done += k
        u, v = kern.potentials()
        if tracker.record(start + done, stage, err, u, v, reg) or err <= tol:
            if tracker.nonfinite:  # record wrote the last finite potentials into (u, v)
                kern.absorb(u, v)
            return done, True
    return done, False


def _newton_stage(a, b, kern, reg, *, tol, max_iter, density, cg_rtol, cg_maxiter, c1,
                  max_linesearch, n_fallback, tracker, start, engine):
    n, m = kern.K.shape
    xp = array_namespace(a, b, kern.K)
    # NumPy: CSR sparsification and the CSR CG kernel; other namespaces: the sparsified
    # plan as a dense masked matrix of the namespace and the masked CG kernel
    on_host = is_numpy_namespace(xp)
    mass = float(xp.sum(a))
    dot_ab = lambda u, v: float(a @ u + b @ v)  # noqa: E731

    def l1_err(r, c):
        return float(xp.sum(xp.abs(r - a)) + xp.sum(xp.abs(c - b)))

    def amax(x):
        return float(xp.max(xp.abs(x)))

    u, v = kern.potentials()
    r, c = kern.marginals()
    err = l1_err(r, c)
    D = dot_ab(u, v) - float(xp.sum(r))
    stats = dict(n_newton=0, n_cg=0, n_plan_evals=1, n_fallback_sweeps=0, n_failed=0,
                 densities=[])
    it = 0  # Newton attempts, accepted or not
    count = start  # iterations so far: Sinkhorn sweeps plus accepted Newton steps
    stopped = False
    tiny = float(np.finfo(np.float64).tiny)
    since, err_mark, stalled = 0, err, False  # stall detection over STALL_WINDOW steps
    slow_cap = min(1.0, SLOW_GROWTH * density)
    pattern = None  # (density, indptr, indices, row of each entry) of the last sparsification
    while not stopped and err > tol and it < max_iter:
        k = max(1, math.ceil(density * n * m))
        stats["densities"].append(density)
        ga, gb = a - r, b - c
        if not on_host:
            if pattern is not None and pattern[0] == density:
                S, mask = kern.masked(mask=pattern[1])
            else:
                S, mask = kern.masked(_threshold(kern, k))
                pattern = (density, mask)
            rr, cc = xp.clip(r, min=tiny), xp.clip(c, min=tiny)
            da, db, n_cg = dispatch("ot_newton_cg_masked", S, rr, cc, ga, gb, cg_rtol,
                                    cg_maxiter, engine=engine)
            del S
        elif pattern is not None and pattern[0] == density:
            # small steps change every entry by a factor exp(+-2 REUSE_STEP) at most: the
            # same entries stay the largest, only their values are refreshed (O(nnz))
            _, indptr, indices, rows = pattern
            data = kern.Kt[rows, indices] * kern.alpha[rows] * kern.beta[indices]
        else:
            indptr, indices, data = kern.sparsify(_threshold(kern, k))
            pattern = (density, indptr, indices, np.repeat(np.arange(n), np.diff(indptr)))
        if on_host:
            rr, cc = np.maximum(r, tiny), np.maximum(c, tiny)
            da, db, n_cg = dispatch("ot_newton_cg", indptr, indices, data, rr, cc, ga, gb,
                                    cg_rtol, cg_maxiter, engine=engine)
        stats["n_cg"] += int(n_cg)
        slope = float(ga @ da + gb @ db)
        accepted = False
        alpha = 1.0
        if slope > 0 and bool(xp.all(xp.isfinite(da)) & xp.all(xp.isfinite(db))):
            for _ in range(max_linesearch):
                ut, vt = u + alpha * da, v + alpha * db
                rt, ct, absorbed = kern.trial(ut, vt)
                stats["n_plan_evals"] += 1
                with errstate(xp, over="ignore", invalid="ignore"):
                    St = float(xp.sum(rt))
                    Dt = dot_ab(ut, vt) - St
                    err_t = l1_err(rt, ct)
                # Armijo for ascent, with slack for round-off in D near the optimum, or a
                # decrease of the marginal error once D cannot resolve the progress
                slack = 8 * _EPS * (abs(float(a @ ut)) + abs(float(b @ vt)) + St)
                if math.isfinite(Dt) and (Dt >= D + c1 * alpha * slope - slack
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
                density = max(density, min(slow_cap, 2.0 * density))
            if alpha * max(amax(da), amax(db)) > REUSE_STEP:
                pattern = None
            if absorbed is not None:
                kern.adopt(absorbed)
            else:
                kern.set_point(ut, vt)
            u, v, r, c, D, err = ut, vt, rt, ct, Dt, err_t
            stats["n_newton"] += 1
            count += 1
            stopped = tracker.record(count, "newton", err, u, v, reg)
            if tracker.nonfinite:  # record wrote the last finite potentials into (u, v)
                kern.absorb(u, v)
                r, c = kern.marginals()
                err = l1_err(r, c)
                break
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
            done, stopped = _sweeps(kern, a, b, tol, n_sweeps, tracker, reg, count,
                                    "fallback")
            stats["n_fallback_sweeps"] += done
            count += done
            pattern = None
            u, v = kern.potentials()
            r, c = kern.marginals()
            stats["n_plan_evals"] += 1
            err = l1_err(r, c)
            D = dot_ab(u, v) - float(xp.sum(r))
            since, err_mark, stalled = 0, err, False
    stats["n_absorb"] = kern.n_absorb
    return u, v, count, stats


def sinkhorn_newton_sparse(a, b, M, reg, *, n_sinkhorn=20, density=None, tol=1e-12,
                           max_iter=100, eps_scaling="auto", cg_rtol=1e-10, cg_maxiter=None,
                           armijo=1e-4, max_linesearch=30, n_fallback=10, init=None,
                           callback=None, verbose=None, n_jobs=None, engine=None):
    r"""Entropic optimal transport by Sinkhorn-Newton-Sparse (SNS).

    Runs ``n_sinkhorn`` Sinkhorn sweeps, then Newton ascent steps on the concave dual
    :math:`D(f, g) = \langle a, f\rangle + \langle b, g\rangle -
    \mathrm{reg}\sum_{ij} e^{(f_i + g_j - M_{ij})/\mathrm{reg}}`. Each Newton step keeps
    the exact row and column sums of the plan ``P`` as the Hessian's diagonal blocks and
    only its ``density * n * m`` largest entries off the diagonal, solves the sparse
    system by Jacobi-preconditioned conjugate gradients (``O(nnz)`` per product), and
    takes the largest step ``2**-j`` passing an Armijo test on the dual (damped Newton
    ascent: far from the optimum the marginal error may grow for a few steps while the
    dual increases). Near the optimum the dual value cannot resolve the progress in
    float64, so a step that lowers the marginal error is then accepted too. Once the
    error is below 1% of the mass, a step that does not divide it by 10 (linear rather
    than quadratic progress) doubles the density, up to 8 times the initial one; a
    failed line search doubles it and falls back to Sinkhorn sweeps (``n_fallback``,
    doubling after each consecutive failure).

    The work runs in a stabilized scaling domain (Schmitzer, 2019): the plan is
    ``diag(alpha) Kt diag(beta)`` with ``Kt = exp((f0_i + g0_j - M_ij) / reg)`` formed
    at reference potentials, so a sweep, and the marginals of a line-search trial, are
    two BLAS matrix-vector products, and a Newton step selects its entries in one pass
    over ``Kt`` (no exponential). The scalings are absorbed into a new ``Kt`` whenever
    ``|log alpha|`` or ``|log beta|`` exceeds 30, so nothing overflows and what
    underflows is below ``1e-290`` times the plan's scale. Small steps keep the
    previous sparsity pattern and only refresh its values.

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
    init, verbose, engine
        As in :func:`sinkhorn`.
    callback : callable or None, default=None
        Called every 10 sweeps and after every accepted Newton step, across all
        stages, with a :class:`~sparsopt.solvers.SolverState` whose ``x`` is the pair
        of current potentials ``(f, g)`` and whose ``info`` holds ``stage``
        (``"sinkhorn"``, ``"newton"`` or ``"fallback"``), ``marginal_error``, ``f``,
        ``g`` and ``reg`` (that of the current eps-scaling stage). Returning True
        stops the run: ``converged=False``, ``stopped_by="callback"``.
    n_jobs : int or None, default=None
        Threads: over the problems of a batch, or, for one problem, over row blocks of
        the ``O(nm)`` exponential passes (the matrix-vector products use BLAS threads).

    Returns
    -------
    result : OTResult
        Plan (``result.x``) and marginal error (``result.stop_crit``), with ``info``
        holding ``n_sinkhorn`` (sweeps done), ``n_newton``, ``n_cg``
        (CG matrix-vector products), ``n_plan_evals`` (``O(nm)`` marginal
        evaluations, line-search trials included), ``n_absorb`` (``O(nm)`` passes of
        exponentials), ``n_fallback_sweeps`` and ``densities`` (one
        per Newton attempt), ``n_failed`` (fallbacks to Sinkhorn sweeps: a Newton
        attempt without ascent, or five damped steps that did not halve the error).
        ``n_iter`` counts Sinkhorn sweeps (warm-up and fallback) plus accepted Newton
        steps.

    Warns
    -----
    ConvergenceWarning
        Once per call (a batch included), when ``tol`` is not reached within
        ``max_iter`` Newton steps.
    NonFiniteIterateWarning
        If the potentials become non-finite: those of the last finite check are
        returned.

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
    variables. Rows or columns of ``Kt`` that underflow entirely (extreme warm starts)
    are swept in the log domain instead.

    Arrays of another array-API library (CuPy on a GPU, ...) are solved in their
    namespace and on their device: the sparsified Hessian is then a dense masked
    matrix (zeros off the kept entries) and CG runs with dense matrix-vector products
    (``O(nm)`` each instead of ``O(nnz)``, which a GPU absorbs), while NumPy arrays
    keep the CSR matrix and the Numba kernels. Both select the same entries and solve
    the same systems; their rounding differs, so near the tolerance the two runs may
    take a Newton step more or less. The plan and potentials of the result are arrays
    of the input's library.

    References
    ----------
    .. [1] X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil,
       T. Xiao and L. Ying, "Accelerating Sinkhorn algorithm with sparse Newton
       iterations", ICLR 2024 (arXiv:2401.12253).
    .. [2] B. Schmitzer, "Stabilized sparse scaling algorithms for entropy regularized
       transport problems", SIAM J. Sci. Comput. 41(3), 2019.

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
    verbose, engine = caller_config(verbose, engine)
    # threads go over the problems of a batch, or over row blocks of a single one
    inner_jobs = n_jobs if len(problems) == 1 else None

    def single(a, b, M, k, dtype, support):
        n, m = M.shape
        u, v = init_potentials(init, a, b, reg, k, batched, owner, support)
        tracker = Tracker(owner, callback, verbose, tol, max_iter, u, v, reg)
        dens = density if density is not None else min(1.0, 5.0 / min(n, m))
        regs = [reg]
        xp = array_namespace(a, b, M)
        spread = float(xp.max(M) - xp.min(M))
        factor = eps_scaling
        if isinstance(factor, str):
            factor = AUTO_EPS_FACTOR if spread / reg > AUTO_EPS_RATIO else None
        if factor is not None:
            n_stages = max(0, math.ceil(math.log(max(spread, reg) / reg) / math.log(factor)))
            regs = [reg * factor ** s for s in range(n_stages, 0, -1)] + [reg]
        n_iter, n_sk, stopped = 0, 0, False
        info = {"solver": "sns", "n_sinkhorn": 0, "n_newton": 0, "n_cg": 0, "n_plan_evals": 0,
                "n_fallback_sweeps": 0, "n_failed": 0, "n_absorb": 0, "densities": ()}
        u, v = u * reg / regs[0], v * reg / regs[0]
        for s, reg_s in enumerate(regs):
            if s:
                u, v = u * regs[s - 1] / reg_s, v * regs[s - 1] / reg_s
            final = s == len(regs) - 1
            tol_s = tol if final else max(tol, 1e-6 * float(xp.sum(a)))
            kernel_cls = ScaledKernel if is_numpy_namespace(xp) else ScaledKernelXP
            kern = kernel_cls(M * (-1.0 / reg_s), u, v, engine, inner_jobs)
            if n_sinkhorn:
                n_sk, stopped = _sweeps(kern, a, b, tol_s, n_sinkhorn, tracker, reg_s, n_iter,
                                        "sinkhorn")
                info["n_sinkhorn"] += n_sk
            u, v, n_iter, stats = _newton_stage(
                a, b, kern, reg_s, tol=tol_s, max_iter=0 if stopped else max_iter,
                density=dens, cg_rtol=cg_rtol, cg_maxiter=cg_maxiter or 10 * (n + m),
                c1=armijo, max_linesearch=max_linesearch, n_fallback=n_fallback,
                tracker=tracker, start=n_iter + n_sk, engine=engine)
            for key, val in stats.items():
                info[key] = info[key] + (tuple(val) if key == "densities" else val)
            if tracker.stop_requested:
                break
        P, r, c = kern.plan()
        u, v = u * (reg_s / reg), v * (reg_s / reg)  # a callback may stop an earlier stage
        return make_result(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol,
                           tracker, info)

    return solve_problems(single, problems, batched, dtype, n_jobs, owner, tol, max_iter,
                          "or raise density / n_sinkhorn (max_iter counts Newton steps)")
