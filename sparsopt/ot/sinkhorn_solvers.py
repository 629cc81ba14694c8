"""Sinkhorn's algorithm in the log and scaling domains, balanced and unbalanced."""

from __future__ import annotations

import math

import numpy as np

from .._core.loop import LoopMonitor, copy_array, warn_nonfinite, warn_not_converged
from .._core.result import SolverResult
from ..backends import (
    array_namespace,
    device,
    dispatch,
    errstate,
    is_numpy_namespace,
)
from ..utils.parallel import map_row_blocks
from ..utils.validation import check_array, check_int, check_scalar
from ._common import (
    Tracker,
    caller_config,
    final_verdict,
    init_potentials,
    log_sweeps,
    make_result,
    plan,
    solve_problems,
)
from ._validation import MASS_RTOL, check_array_xp, check_problem

_SOLVERS = ("log", "scaling")


def _check_common(tol, max_iter, check_every, owner):
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", owner, lower=0)
    check_every = check_int(check_every, "check_every", owner, lower=1)
    return tol, max_iter, check_every


def _sinkhorn_log(a, b, M, reg, tol, max_iter, eps_scaling, u, v, check_every, tracker,
                  engine):
    xp = array_namespace(a, b, M)
    n_iter = 0
    if eps_scaling is not None:
        spread = float(xp.max(M) - xp.min(M))
        n_stages = max(0, math.ceil(math.log(max(spread, reg) / reg) / math.log(eps_scaling)))
        for s in range(n_stages, 0, -1):
            reg_s = reg * eps_scaling ** s
            us, vs = u * (reg / reg_s), v * (reg / reg_s)
            done, _ = log_sweeps(M * (-1.0 / reg_s), us, vs, a, b, max(tol, 1e-4),
                                 max_iter - n_iter, check_every, tracker, reg_s, engine,
                                 start=n_iter, stage=f"eps={reg_s:.2g}")
            n_iter += done
            u, v = us * (reg_s / reg), vs * (reg_s / reg)
            if tracker.stop_requested:
                break
    K = M * (-1.0 / reg)
    # the sweeps stop on the row error of an iterate; the plan's error adds the column
    # rounding, so if the plan misses tol by that much, sweep on with a tighter test
    sweep_tol = tol
    while True:
        done = 0
        if not tracker.stop_requested:
            done, _ = log_sweeps(K, u, v, a, b, sweep_tol, max_iter - n_iter, check_every,
                                 tracker, reg, engine, start=n_iter)
            n_iter += done
        P, r, c = plan(K, u, v, engine)
        err = float(xp.sum(xp.abs(r - a)) + xp.sum(xp.abs(c - b)))
        # (tol = 0 cannot tighten: a retry that swept nothing would never end)
        if (err <= tol or n_iter >= max_iter or tracker.stop_requested
                or sweep_tol < 1e-3 * tol or (done == 0 and sweep_tol == 0.0)):
            return u, v, P, r, c, n_iter
        sweep_tol *= 0.5


def _sinkhorn_scaling(a, b, M, reg, tol, max_iter, u, v, check_every, tracker, owner):
    # namespace-generic: matrix-vector products and elementwise work only
    xp = array_namespace(a, b, M)
    Kexp = xp.exp(M * (-1.0 / reg))
    if bool(xp.any(xp.max(Kexp, axis=1) == 0.0)) or bool(xp.any(xp.max(Kexp, axis=0) == 0.0)):
        raise ValueError(
            f"{owner}: exp(-M / reg) underflows to an all-zero row or column at reg={reg:g} "
            f"(max M / reg = {float(xp.max(M)) / reg:.3g}); the scaling-domain solver cannot "
            "represent this problem. Use solver='log' or sinkhorn_newton_sparse."
        )
    su, sv = xp.exp(u), xp.exp(v)
    if not (bool(xp.all(xp.isfinite(su))) and bool(xp.all(xp.isfinite(sv)))):
        raise ValueError(f"{owner}: the init potentials overflow exp(f / reg); use "
                         "solver='log'.")
    it = 0
    while it < max_iter:
        with errstate(xp, all="ignore"):
            for _ in range(min(check_every, max_iter - it)):
                su = a / (Kexp @ sv)
                sv = b / (Kexp.T @ su)
                it += 1
            err = float(xp.sum(xp.abs(su * (Kexp @ sv) - a)))
            u, v = xp.log(su), xp.log(sv)
        # a non-finite check rolls (u, v) back to the last finite potentials
        if tracker.record(it, "scaling", err, u, v, reg):
            if tracker.nonfinite:
                su, sv = xp.exp(u), xp.exp(v)
            break
    with errstate(xp, divide="ignore"):
        u, v = xp.log(su), xp.log(sv)
    P = su[:, None] * Kexp * sv[None, :]
    return u, v, P, xp.sum(P, axis=1), xp.sum(P, axis=0), it


def sinkhorn(a, b, M, reg, *, solver="log", tol=1e-9, max_iter=1000, eps_scaling=None,
             init=None, check_every=10, callback=None, verbose=None, n_jobs=None,
             engine=None):
    r"""Entropic optimal transport by Sinkhorn's algorithm.

    Solves :math:`\min_P \langle M, P\rangle + \mathrm{reg}\sum_{ij} P_{ij}(\log P_{ij} - 1)`
    subject to :math:`P\mathbf 1 = a`, :math:`P^\top \mathbf 1 = b`, by alternating exact
    maximisation of the dual over the potentials ``f`` and ``g``.

    Parameters
    ----------
    a : array-like of shape (n,) or (B, n), or None
        Source marginal (non-negative). ``None`` means uniform.
    b : array-like of shape (m,) or (B, m), or None
        Target marginal, with the same total mass as ``a`` (up to 1e-6 relative; it is
        then rescaled to match exactly). ``None`` means uniform.
    M : array-like of shape (n, m) or (B, n, m)
        Ground cost. A 3-D array is a batch of ``B`` problems, solved independently
        (in ``n_jobs`` threads) and returned stacked.
    reg : float
        Entropic regularisation (> 0), in the units of ``M``.
    solver : {"log", "scaling"}, default="log"
        ``"log"``: log-domain sweeps with max-shifted log-sum-exps, stable at any
        ``reg``. ``"scaling"``: the classical Sinkhorn-Knopp matrix scaling with
        ``exp(-M / reg)`` (BLAS matrix-vector products, fast per iteration). Entries
        of ``exp(-M / reg)`` underflow once ``M_ij / reg`` exceeds about 745: if a whole
        row or column vanishes a ValueError says so, and if the scalings overflow the
        potentials of the last finite check are returned with one
        NonFiniteIterateWarning.
    tol : float, default=1e-9
        Stop when the L1 marginal error ``||P1 - a||_1 + ||P^T 1 - b||_1`` of the
        current plan is at most ``tol``. Checked on the returned plan.
    max_iter : int, default=1000
        Maximum number of sweeps (one sweep updates ``f`` then ``g``).
    eps_scaling : float > 1 or None, default=None
        If given, solve a decreasing sequence ``reg * eps_scaling**s`` (from the cost
        range down to ``reg``), each stage warm-starting the next. ``solver="log"`` only.
    init : OTResult or tuple (f, g) or None, default=None
        Initial potentials, in the convention of :class:`OTResult` (``None``: the
        plan ``a b^T exp(-M / reg)``).
    check_every : int, default=10
        Sweeps between checks: history records and callback calls (the error test
        itself is free and runs every sweep with ``solver="log"``).
    callback : callable or None, default=None
        Called at each check with a :class:`~sparsopt.solvers.SolverState` whose ``x``
        is the pair of current potentials ``(f, g)`` (not the plan, which is only
        formed at the end) and whose ``info`` holds ``stage``, ``marginal_error``,
        ``f``, ``g`` and ``reg``. Returning True stops the run: the result holds the
        plan of those potentials, ``converged=False`` and ``stopped_by="callback"``.
    verbose : int, bool or None, default=None
        Print the error at each check; ``None`` reads ``sparsopt.get_config()``.
    n_jobs : int or None, default=None
        Threads over the problems of a batch.
    engine : {"numba", "numpy"} or None, default=None
        Kernel backend (default: the configured one).

    Returns
    -------
    result : OTResult
        Plan (``result.x``), potentials, cost, iterations and the marginal error of
        the plan (``result.stop_crit``).

    Raises
    ------
    ValueError
        Negative or zero-total-mass marginals, marginals of different masses, NaN or
        infinite costs, ``reg <= 0``, mismatched shapes.

    Warns
    -----
    ConvergenceWarning
        Once per call (a batch included), when ``tol`` is not reached within
        ``max_iter`` sweeps.
    NonFiniteIterateWarning
        When the iterates overflow (``solver="scaling"``): the potentials of the
        last finite check are returned.

    See Also
    --------
    sinkhorn_newton_sparse : Newton steps after a Sinkhorn warm-up, for small ``reg``.
    sinkhorn_unbalanced : KL-relaxed marginals.

    Notes
    -----
    Entries of ``a`` or ``b`` equal to zero are handled exactly: the corresponding
    rows or columns of the plan are zero and their potentials ``-inf``. float32
    inputs are solved in float64 (at small ``reg`` float32 potentials carry no
    accuracy) and the plan is returned in float32; ``marginal_error`` is then
    measured on that float32 plan.

    The log-domain kernel computes each log-sum-exp with a per-row (per-column)
    maximum shift and a vectorised exponential; the row-marginal error of every
    iterate falls out of the row log-sum-exp at no cost.

    Arrays of another array-API library (CuPy on a GPU, ...) are solved in their own
    namespace and on their device, both solvers and ``eps_scaling`` included: the
    plan and the potentials of the result are arrays of that library (the scalars are
    host floats), and the loops only read the stopping values on the host. Give all
    array inputs (``a``, ``b``, ``M``, ``init``) from the same library.

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn distances: lightspeed computation of optimal
       transport", NeurIPS 2013.
    .. [2] G. Peyré and M. Cuturi, "Computational optimal transport", Foundations and
       Trends in Machine Learning 11(5-6), 2019, section 4.4 (log-domain Sinkhorn).
    .. [3] B. Schmitzer, "Stabilized sparse scaling algorithms for entropy regularized
       transport problems", SIAM J. Sci. Comput. 41(3), 2019 (epsilon scaling).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import sinkhorn
    >>> rng = np.random.default_rng(0)
    >>> M = rng.random((4, 5))
    >>> res = sinkhorn(None, None, M, reg=0.05)
    >>> res.plan.shape, bool(res.marginal_error <= 1e-9)
    ((4, 5), True)
    """
    owner = "sinkhorn"
    if not (isinstance(solver, str) and solver in _SOLVERS):
        raise ValueError(f"{owner}: solver must be one of {_SOLVERS}, got {solver!r}.")
    tol, max_iter, check_every = _check_common(tol, max_iter, check_every, owner)
    if eps_scaling is not None:
        eps_scaling = check_scalar(eps_scaling, "eps_scaling", owner, lower=1.0,
                                   lower_inclusive=False)
        if solver != "log":
            raise ValueError(f"{owner}: eps_scaling needs solver='log'.")
    problems, batched, dtype, reg = check_problem(a, b, M, reg, owner)
    verbose, engine = caller_config(verbose, engine)

    def single(a, b, M, k, dtype, support):
        u, v = init_potentials(init, a, b, reg, k, batched, owner, support)
        tracker = Tracker(owner, callback, verbose, tol, max_iter, u, v, reg)
        if solver == "log":
            u, v, P, r, c, n_iter = _sinkhorn_log(a, b, M, reg, tol, max_iter, eps_scaling,
                                                  u, v, check_every, tracker, engine)
        else:
            u, v, P, r, c, n_iter = _sinkhorn_scaling(a, b, M, reg, tol, max_iter, u, v,
                                                      check_every, tracker, owner)
        return make_result(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol, tracker,
                           {"solver": solver})

    return solve_problems(
        single, problems, batched, dtype, n_jobs, owner, tol, max_iter,
        "or use sinkhorn_newton_sparse at small reg (max_iter counts sweeps)",
        nonfinite_hint=" with solver='scaling' (solver='log' cannot overflow)")


def sinkhorn_unbalanced(a, b, M, reg, reg_m, *, tol=1e-9, max_iter=1000, init=None,
                        check_every=10, callback=None, verbose=None, n_jobs=None,
                        engine=None):
    r"""Unbalanced entropic transport with KL-relaxed marginals (log domain).

    Solves :math:`\min_P \langle M,P\rangle + \mathrm{reg}\sum P(\log P - 1)
    + \mathrm{reg\_m}\,(\mathrm{KL}(P\mathbf 1\,|\,a) + \mathrm{KL}(P^\top\mathbf 1\,|\,b))`
    with the generalised Sinkhorn iterations of Chizat et al.: each half-sweep is the
    balanced one damped by ``tau = reg_m / (reg_m + reg)``. The masses of ``a`` and
    ``b`` may differ.

    Parameters
    ----------
    a, b, M, reg
        As in :func:`sinkhorn` (the total masses need not agree).
    reg_m : float
        Marginal relaxation (> 0); ``reg_m -> inf`` recovers balanced transport.
    tol : float, default=1e-9
        Stop when the largest change of the potentials over one sweep, divided by
        ``reg``, is at most ``tol``.
    max_iter, init, check_every, callback, verbose, n_jobs, engine
        As in :func:`sinkhorn` (``state.info`` holds ``potential_change`` instead of
        ``marginal_error``).

    Returns
    -------
    result : OTResult
        ``stop_crit`` is the potentials' change of the last sweep (the criterion),
        ``marginal_error`` the (non-zero, by design) L1 deviation from ``a`` and
        ``b``; ``objective`` includes the two KL terms.

    Warns
    -----
    ConvergenceWarning
        Once per call, when ``tol`` is not reached within ``max_iter`` sweeps.

    Notes
    -----
    Arrays of another array-API library (CuPy, ...) are solved in their namespace, as
    in :func:`sinkhorn`.

    References
    ----------
    .. [1] L. Chizat, G. Peyré, B. Schmitzer and F.-X. Vialard, "Scaling algorithms for
       unbalanced optimal transport problems", Math. Comp. 87, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import sinkhorn_unbalanced
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn_unbalanced([0.5, 0.5], [1.0, 1.0], M, reg=0.1, reg_m=1.0)
    >>> bool(0.5 < res.plan.sum() < 2.0)
    True
    """
    owner = "sinkhorn_unbalanced"
    tol, max_iter, check_every = _check_common(tol, max_iter, check_every, owner)
    reg_m = check_scalar(reg_m, "reg_m", owner, lower=0.0, lower_inclusive=False)
    problems, batched, dtype, reg = check_problem(a, b, M, reg, owner, balanced=False)
    verbose, engine = caller_config(verbose, engine)
    tau = reg_m / (reg_m + reg)

    def single(a, b, M, k, dtype, support):
        u, v = init_potentials(init, a, b, reg, k, batched, owner, support)
        tracker = Tracker(owner, callback, verbose, tol, max_iter, u, v, reg,
                          criterion="potential change", key="potential_change")
        xp = array_namespace(a, b, M)
        K = M * (-1.0 / reg)
        loga, logb = xp.log(a), xp.log(b)
        it, change = 0, np.inf
        while it < max_iter:
            chunk = min(check_every, max_iter - it)
            if chunk > 1:
                dispatch("sinkhorn_log_iterations", K, u, v, loga, logb, a, tau, tau,
                         chunk - 1, -1.0, engine=engine)
            u0, v0 = copy_array(u), copy_array(v)
            dispatch("sinkhorn_log_iterations", K, u, v, loga, logb, a, tau, tau, 1, -1.0,
                     engine=engine)
            it += chunk
            change = float(xp.maximum(xp.max(xp.abs(u - u0)), xp.max(xp.abs(v - v0))))
            if tracker.record(it, "sinkhorn", change, u, v, reg):
                break
        P, r, c = plan(K, u, v, engine)
        res = make_result(M, a, b, u, v, P, r, c, reg, dtype, it, tol, tracker,
                          {"solver": "unbalanced", "potential_change": change},
                          stop_crit=change)
        kl = _kl(r, a) + _kl(c, b)
        fields = res._fields()
        fields["objective"] = res.objective + reg_m * kl
        return type(res)(**fields)

    return solve_problems(single, problems, batched, dtype, n_jobs, owner, tol, max_iter,
                          "max_iter counts sweeps")


def _kl(x, y):
    xp = array_namespace(x, y)
    with errstate(xp, divide="ignore", invalid="ignore"):
        t = xp.where(x > 0, x * xp.log(x / y), xp.zeros_like(x))
    return float(xp.sum(t) - xp.sum(x) + xp.sum(y))


def sinkhorn_knopp_scaling(K, *, a=None, b=None, tol=1e-12, max_iter=10000, init=None,
                           callback=None, verbose=None, n_jobs=None, engine=None):
    r"""Scale a non-negative matrix to prescribed row and column sums (Sinkhorn-Knopp).

    Finds positive diagonal scalings with ``P = diag(x) K diag(y)``, ``P 1 = a`` and
    ``P^T 1 = b``. With the defaults (``a = b = 1``) a square matrix becomes doubly
    stochastic: the Bregman (KL) projection of ``K`` onto the Birkhoff polytope.

    Parameters
    ----------
    K : array-like of shape (n, m)
        Non-negative, finite, without zero rows or columns. Strictly positive
        matrices always scale; matrices with zeros scale exactly only if they have
        *total support* (otherwise the iterations converge slowly to a limit with
        more zeros, and the exactness check below warns).
    a : array-like of shape (n,) or None, default=None
        Row sums (default: ones).
    b : array-like of shape (m,) or None, default=None
        Column sums (default: ones for a square ``K``, ``n / m`` otherwise).
    tol : float, default=1e-12
        Required max-abs deviation of the row and column sums.
    max_iter : int, default=10000
        Maximum number of alternating scalings.
    init : ndarray of shape (m,) or None, default=None
        Initial column scaling ``y`` (positive; default: ones).
    callback : callable or None, default=None
        Called every 10 scalings with a :class:`~sparsopt.solvers.SolverState` whose
        ``x`` is the pair of current scalings ``(x, y)`` (not the scaled matrix) and
        whose ``stop_crit`` is the max-abs deviation of the row sums; True stops.
    verbose : int, bool or None, default=None
        Print the deviation at each check; ``None`` reads ``sparsopt.get_config()``.
    n_jobs : int or None, default=None
        Threads over row blocks of the final ``O(nm)`` scaling pass (the
        matrix-vector products use BLAS threads).
    engine : {"numba", "numpy"} or None, default=None
        Kernel backend of that pass (default: the configured one).

    Returns
    -------
    result : SolverResult
        ``result.x`` is the scaled matrix ``P``, ``result.stop_crit`` the max-abs
        deviation of its row and column sums, ``result.info["row_scaling"]`` and
        ``result.info["col_scaling"]`` the scalings ``x`` and ``y``.

    Warns
    -----
    ConvergenceWarning
        Exactness check: when the returned ``P`` misses the prescribed sums by more
        than ``tol`` (max-abs), with the deviation and the likely cause.
    NonFiniteIterateWarning
        When the scalings overflow: those of the last finite check are used.

    Notes
    -----
    Arrays of another array-API library (CuPy, ...) are scaled in their namespace and
    on their device (matrix-vector products only); ``result.x`` and the scalings are
    then arrays of that library.

    References
    ----------
    .. [1] R. Sinkhorn and P. Knopp, "Concerning nonnegative matrices and doubly
       stochastic matrices", Pacific J. Math. 21(2), 1967.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import sinkhorn_knopp_scaling
    >>> res = sinkhorn_knopp_scaling(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> P = res.x
    >>> np.allclose(P.sum(0), 1) and np.allclose(P.sum(1), 1), bool(res.converged)
    (True, True)
    """
    owner = "sinkhorn_knopp_scaling"
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", owner, lower=1)
    xp = array_namespace(K, a, b, init)
    K, a, b, y = _knopp_inputs(K, a, b, init, owner, xp)
    n = K.shape[0]
    x = xp.ones(n, dtype=xp.float64, device=device(K))
    verbose, engine = caller_config(verbose, engine)
    mon, x, y = _knopp_loop(xp, K, a, b, x, y, tol, max_iter, callback, verbose, owner)
    P = K  # K is a private float64 copy: scaled in place
    if is_numpy_namespace(xp):  # in threads over row blocks
        parts = map_row_blocks(
            lambda s, e: dispatch("ot_scale_plan", P[s:e], x[s:e], y, engine=engine),
            n, n_jobs if n >= 256 else None)
        r = np.concatenate([p[0] for p in parts])
        c = sum(p[1] for p in parts)
        dev = float(max(np.abs(r - a).max(), np.abs(c - b).max()))
    else:
        r, c = dispatch("ot_scale_plan", P, x, y, engine=engine)
        dev = float(xp.maximum(xp.max(xp.abs(r - a)), xp.max(xp.abs(c - b))))
    return _knopp_result(mon, P, x, y, dev, tol, max_iter, owner, stacklevel=3)


def _knopp_inputs(K, a, b, init, owner, xp):
    """``(K, a, b, y)`` of :func:`sinkhorn_knopp_scaling`, checked, as float64 arrays of
    ``xp`` on ``K``'s device (``K`` a private copy); the checks read host scalars only."""
    if is_numpy_namespace(xp):
        def convert(v, name, ndim, like=None, copy=False):
            return check_array(v, name, owner, ndim=ndim).astype(np.float64)
    else:
        def convert(v, name, ndim, like=None, copy=False):
            return xp.astype(check_array_xp(v, name, owner, xp, ndim=ndim, like=like),
                             xp.float64, copy=copy)
    K = convert(K, "K", 2, copy=True)
    n, m = K.shape
    if bool(xp.any(K < 0)):
        raise ValueError(f"{owner}: K must be non-negative (min {float(xp.min(K)):.3g}).")
    if bool(xp.any(xp.max(K, axis=1) == 0)) or bool(xp.any(xp.max(K, axis=0) == 0)):
        raise ValueError(f"{owner}: K has a zero row or column; no scaling can give it "
                         "positive sums.")
    where = device(K)
    a = (xp.ones(n, dtype=xp.float64, device=where) if a is None
         else convert(a, "a", 1, like=K))
    b = (xp.full(m, n / m, dtype=xp.float64, device=where) if b is None
         else convert(b, "b", 1, like=K))
    if tuple(a.shape) != (n,) or tuple(b.shape) != (m,):
        raise ValueError(f"{owner}: a and b must have shapes ({n},) and ({m},); got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}.")
    if bool(xp.any(a <= 0)) or bool(xp.any(b <= 0)):
        raise ValueError(f"{owner}: the target sums a and b must be positive.")
    sa, sb = float(xp.sum(a)), float(xp.sum(b))
    if abs(sa - sb) > MASS_RTOL * max(sa, sb):
        raise ValueError(f"{owner}: sum(a) = {sa:.6g} and sum(b) = {sb:.6g} "
                         "differ; no matrix has both.")
    if init is None:
        y = xp.ones(m, dtype=xp.float64, device=where)
    else:
        y = convert(init, "init", 1, like=K)
        if tuple(y.shape) != (m,) or bool(xp.any(y <= 0)):
            raise ValueError(f"{owner}: init must be a positive column scaling of shape "
                             f"({m},); got shape {tuple(y.shape)}.")
    return K, a, b, y


def _knopp_loop(xp, K, a, b, x, y, tol, max_iter, callback, verbose, owner):
    """The alternating scalings of :func:`sinkhorn_knopp_scaling` (any namespace):
    ``(monitor, x, y)``, the last finite scalings after a non-finite stop."""
    mon = LoopMonitor(owner, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion="max-abs deviation of the row sums", x0=(x, y))
    with errstate(xp, all="ignore"):
        for it in range(1, max_iter + 1):
            x = a / (K @ y)
            y = b / (K.T @ x)
            if (it % 10 == 0 or it == max_iter) and mon.check(
                    it, (x, y), float(xp.max(xp.abs(x * (K @ y) - a)))):
                break
    if mon.stopped_by == "nonfinite":
        x, y = mon.last_finite
    return mon, x, y


def _knopp_result(mon, P, x, y, dev, tol, max_iter, owner, stacklevel):
    """The :class:`SolverResult` of :func:`sinkhorn_knopp_scaling` (``dev``: the max-abs
    deviation of the scaled matrix's sums), with its warning (``stacklevel`` counts
    this frame)."""
    converged, stopped_by = final_verdict(mon.stopped_by, dev, tol)
    if stopped_by == "nonfinite":
        warn_nonfinite(owner, mon.n_iter, mon.last_finite_iter, stacklevel=stacklevel)
    elif stopped_by == "max_iter":
        # the exactness check of the returned matrix, rows and columns
        warn_not_converged(owner, "max-abs deviation of the sums", dev, tol, max_iter,
                           "if K has zeros, it may lack total support (then no exact "
                           "scaling exists)", stacklevel=stacklevel)
    n_iter = mon.last_finite_iter if mon.stopped_by == "nonfinite" else mon.n_iter
    return SolverResult(x=P, n_iter=n_iter, converged=converged, stop_crit=dev,
                        history=mon.history,
                        info=dict(stopped_by=stopped_by, criterion=mon.criterion, tol=tol,
                                  row_scaling=x, col_scaling=y))
