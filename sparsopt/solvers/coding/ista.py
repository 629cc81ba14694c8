"""Batched ISTA, FISTA and LCA for sparse coding with any penalty that has a prox."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np

from ..._core.capabilities import require
from ..._core.loop import copy_array, run_iterations
from ...backends import array_namespace, device
from ...utils.validation import check_int, check_scalar
from ._common import (
    CodingProblem,
    codes_gram,
    empty_like,
    loop_options,
    make_penalty,
    solve_row_blocks,
    with_objectives,
)


def _setup(X, dictionary, penalty, alpha, init, max_iter, tol, check_every, name, gram):
    prob = CodingProblem(X, dictionary, name, gram=gram, array_api=True)
    pen = make_penalty(penalty, alpha, name)
    require(pen, {"prox", "value"}, solver=name)
    check_int(max_iter, "max_iter", name, lower=1)
    check_int(check_every, "check_every", name, lower=1)
    tol = check_scalar(tol, "tol", name, lower=0.0)
    return prob, pen, tol, prob.init_codes(init)


def _check_step(step, scale, prob, pen, name):
    """The gradient step: ``scale / ||D||_2^2`` by default, else ``step`` (> 0), that the
    penalty's prox accepts."""
    step = scale / prob.lipschitz() if step is None else check_scalar(
        step, "step", name, lower=0.0, lower_inclusive=False)
    pen.check_step(step)
    return step


def _split(fn, kwargs, prob, init, n_jobs, callback, verbose, name):
    """Row blocks of ``fn`` in threads (one Gram for all), or ``None`` for one block."""
    if n_jobs is None or n_jobs == 1:
        return None
    kw = dict(kwargs, gram=prob.G, n_jobs=1)
    return solve_row_blocks(lambda Xb, ib: fn(Xb, prob.D, init=ib, **kw), prob.X,
                            None if init is None else prob.init_codes(init), n_jobs,
                            callback, verbose, name)


def _prox(pen, V, step, engine, out):
    return pen.prox(V, step, engine=engine, out=out, check_finite=False)


_COMMON_DOC = """
    X : ndarray of shape (n_samples, n_features)
        Signals (one per row). float32 stays float32. Arrays of any array-API
        namespace (CuPy, ...) are solved in it, on their device: the codes come back
        there, with one host float per check (stopping test, objective).
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows (scikit-learn's layout); the same namespace as ``X``.
    penalty : str or Penalty, default="l1"
        Regularizer; any penalty with a prox (see :mod:`sparsopt.penalties`).
    alpha : float, default=1.0
        Strength used when ``penalty`` is a name.
    init : ndarray of shape (n_samples, n_components), default=None
        Starting codes (zeros by default).
    max_iter : int, default=1000
        Hard cap on iterations.
    tol : float, default=1e-6
        Stop when ``max_i ||c_i^{k+1} - c_i^k||_inf / ||c_i^{k+1}||_inf <= tol``.
    check_every : int, default=10
        Evaluate the criterion, the objective and the callback every this many iterations.
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    n_jobs : int or None, default=None
        Threads over blocks of rows (rows are independent), each block with its own
        loop and stopping test. Not used with a ``callback`` or ``verbose`` output
        (they see the whole batch), nor for non-NumPy arrays (one block on the device).
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Backend of the prox kernels.
    callback : callable, default=None
        ``callback(state) -> bool`` with a :class:`~sparsopt.solvers.SolverState` at
        each check; True stops (``converged=False``, ``stopped_by == "callback"``).
    verbose : int or None, default=None
        Print a line per check (``None``: the global configuration)."""

_OBJECTIVE_DOC = """**Objective** (per-signal sum convention): each row ``x_i`` of ``X`` gets
    ``min_c 1/2 ||x_i - c D||_2^2 + pen(c)``; ``pen`` contains ``alpha`` (non-negative
    codes: ``penalty=L1(alpha) + Positive()``)."""


def ista(X, dictionary, *, penalty="l1", alpha=1.0, step=None, init=None, max_iter=1000,
         tol=1e-6, check_every=10, gram=None, n_jobs=None, engine=None, callback=None,
         verbose=None):
    """Batched iterative shrinkage-thresholding: ``C <- prox(C - step (C G - B))``.

    Solves ``min_c 1/2 ||x_i - c D||^2 + pen(c)`` for every row ``x_i`` of ``X`` at once
    with one matrix product per iteration. Monotone for every penalty whose prox is
    exact at the step, including the nonconvex ones (the scheme of Rentzeperis et al.
    2023 for l0, l1/2 and CEL0).

    %(objective)s

    Parameters
    ----------
    %(common)s
    step : float, default=None
        Step size; ``None`` uses ``0.99 / ||D||_2^2``.

    Returns
    -------
    result : SolverResult
        ``x`` is the codes array; ``info["objective_per_sample"]`` the final objectives.

    References
    ----------
    .. [1] I. Daubechies, M. Defrise and C. De Mol, "An iterative thresholding
       algorithm for linear inverse problems with a sparsity constraint", Comm. Pure
       Appl. Math. 57(11), 2004.
    .. [2] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1
       sparse coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.solvers import ista
    >>> X, D, _ = make_sparse_coding_problem(20, 16, 32, 3)
    >>> res = ista(X, D, penalty="cel0", alpha=0.1, tol=1e-6)
    >>> res.x.shape, res.converged
    ((20, 32), True)
    """
    return ista_run("ista", X, dictionary, penalty=penalty, alpha=alpha, step=step, init=init,
                    max_iter=max_iter, tol=tol, check_every=check_every, gram=gram,
                    n_jobs=n_jobs, engine=engine, callback=callback, verbose=verbose)


def ista_run(name, X, dictionary, *, penalty, alpha, step, init, max_iter, tol, check_every,
             gram, n_jobs, engine, callback, verbose):
    """:func:`ista` under another solver's name (messages, verbose lines): penalized IHT."""
    prob, pen, tol, C = _setup(X, dictionary, penalty, alpha, init, max_iter, tol,
                               check_every, name, gram)
    step = _check_step(step, 0.99, prob, pen, name)
    split = _split(partial(ista_run, name),
                   dict(penalty=pen, alpha=1.0, step=step, max_iter=max_iter, tol=tol,
                        check_every=check_every, engine=engine, callback=None, verbose=None),
                   prob, init, n_jobs, callback, verbose, name)
    if split is not None:
        return split
    G, B = prob.G, prob.B
    state = SimpleNamespace(x=C, buf=empty_like(C))

    def one(s, it):
        V = s.x - step * (codes_gram(s.x, G) - B)
        s.x = _prox(pen, V, step, engine, s.buf)
        s.buf = V  # reuse the freed array as the next output buffer

    res = run_iterations(one, state, **loop_options(prob, pen, name, max_iter, tol,
                                                    check_every, callback, verbose),
                         criterion="max relative change of the codes",
                         info={"step": step})
    return with_objectives(res, prob, pen)


def fista(X, dictionary, *, penalty="l1", alpha=1.0, step=None, init=None, restart=True,
          max_iter=1000, tol=1e-6, check_every=10, gram=None, n_jobs=None, engine=None,
          callback=None, verbose=None):
    """Batched FISTA with per-sample adaptive restart.

    Nesterov momentum on top of :func:`ista`; with ``restart=True`` each sample's
    momentum is reset when it stops decreasing (gradient restart of O'Donoghue and
    Candès), which keeps the iteration monotone-ish on nonconvex penalties too.

    %(objective)s

    Parameters
    ----------
    %(common)s
    step : float, default=None
        Step size; ``None`` uses ``1 / ||D||_2^2``.
    restart : bool, default=True
        Per-sample adaptive restart of the momentum.

    Returns
    -------
    result : SolverResult

    References
    ----------
    .. [1] A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding
       algorithm for linear inverse problems", SIAM J. Imaging Sci. 2(1), 2009.
    .. [2] B. O'Donoghue and E. Candès, "Adaptive restart for accelerated gradient
       schemes", Found. Comput. Math. 15, 2015.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.solvers import fista
    >>> X, D, _ = make_sparse_coding_problem(20, 16, 32, 3)
    >>> res = fista(X, D, alpha=0.1, tol=1e-8, max_iter=5000)
    >>> res.converged
    True
    """
    name = "fista"
    prob, pen, tol, C = _setup(X, dictionary, penalty, alpha, init, max_iter, tol,
                               check_every, name, gram)
    step = _check_step(step, 1.0, prob, pen, name)
    split = _split(fista, dict(penalty=pen, step=step, restart=restart, max_iter=max_iter,
                               tol=tol, check_every=check_every, engine=engine),
                   prob, init, n_jobs, callback, verbose, name)
    if split is not None:
        return split
    G, B = prob.G, prob.B
    if not isinstance(C, np.ndarray):
        return _fista_namespace(prob, pen, C, step, restart, engine, name, max_iter, tol,
                                check_every, callback, verbose)
    state = SimpleNamespace(x=C, y=C.copy(), t=np.ones((C.shape[0], 1)), restarts=0)

    def one(s, it):
        V = s.y - step * (codes_gram(s.y, G) - B)
        new = _prox(pen, V, step, engine, V)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * s.t * s.t))
        mom = ((s.t - 1.0) / t_new).astype(C.dtype)
        if restart:
            bad = np.einsum("ij,ij->i", s.y - new, new - s.x) > 0
            if bad.any():
                s.restarts += int(bad.sum())
                t_new[bad] = 1.0
                mom[bad] = 0.0
        s.y = new + mom * (new - s.x)
        s.x, s.t = new, t_new

    return _run_fista(one, state, prob, pen, step, name, max_iter, tol, check_every, callback,
                      verbose)


def _fista_namespace(prob, pen, C, step, restart, engine, name, max_iter, tol, check_every,
                     callback, verbose):
    """:func:`fista`'s loop on non-NumPy arrays: the per-sample restart is a mask (no
    host decision per iteration); the restart count comes back once, at the end."""
    xp = array_namespace(C)
    G, B = prob.G, prob.B
    dev = device(C)
    state = SimpleNamespace(x=C, y=copy_array(C),
                            t=xp.ones((C.shape[0], 1), dtype=xp.float64, device=dev),
                            restarts=xp.zeros((), dtype=xp.int64, device=dev))

    def one(s, it):
        V = s.y - step * (s.y @ G - B)
        new = _prox(pen, V, step, engine, V)
        t_new = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * s.t * s.t))
        mom = xp.astype((s.t - 1.0) / t_new, C.dtype)
        if restart:
            bad = (xp.sum((s.y - new) * (new - s.x), axis=1) > 0)[:, None]
            s.restarts = s.restarts + xp.sum(xp.astype(bad, xp.int64))
            t_new = xp.where(bad, 1.0, t_new)
            mom = xp.where(bad, xp.zeros_like(mom), mom)
        s.y = new + mom * (new - s.x)
        s.x, s.t = new, t_new

    return _run_fista(one, state, prob, pen, step, name, max_iter, tol, check_every, callback,
                      verbose)


def _run_fista(one, state, prob, pen, step, name, max_iter, tol, check_every, callback,
               verbose):
    """:func:`fista`'s iterations of ``one`` (either namespace) and its result; the
    restart count (a host int, or a 0-D device array) comes to the host once."""
    res = run_iterations(one, state, **loop_options(prob, pen, name, max_iter, tol,
                                                    check_every, callback, verbose),
                         criterion="max relative change of the codes",
                         info={"step": step})
    return with_objectives(res, prob, pen, restarts=int(state.restarts))


def lca(X, dictionary, *, penalty="l1", alpha=1.0, eta=0.1, init=None, max_iter=1000,
        tol=1e-6, check_every=10, gram=None, n_jobs=None, engine=None, callback=None,
        verbose=None):
    """Locally competitive algorithm (Rozell et al. 2008), Euler-discretized.

    Membrane potentials ``u`` follow ``u <- (1 - eta) u + eta (B - C (G - I))`` with
    activations ``C = T(u)``, where ``T`` is the penalty's prox at step 1 (soft
    thresholding gives the Lasso). Its fixed points are those of ISTA with unit step,
    so the penalty must admit step 1 (CEL0 with unit-norm atoms does not).

    %(objective)s

    Parameters
    ----------
    %(common)s
    eta : float, default=0.1
        Time step over time constant, in (0, 1]; ``eta = 1`` is ISTA with unit step.

    Returns
    -------
    result : SolverResult
        ``x`` are the activations; ``info["potentials"]`` the final potentials.

    References
    ----------
    .. [1] C. J. Rozell, D. H. Johnson, R. G. Baraniuk and B. A. Olshausen, "Sparse
       coding via thresholding and local competition in neural circuits", Neural
       Comput. 20(10), 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.solvers import fista, lca
    >>> X, D, _ = make_sparse_coding_problem(10, 32, 24, 3)
    >>> a = lca(X, D / 1.5, alpha=0.2, eta=0.2, tol=1e-9, max_iter=20000).x
    >>> b = fista(X, D / 1.5, alpha=0.2, tol=1e-10, max_iter=20000).x
    >>> bool(np.allclose(a, b, atol=1e-5))
    True
    """
    name = "lca"
    prob, pen, tol, C = _setup(X, dictionary, penalty, alpha, init, max_iter, tol,
                               check_every, name, gram)
    eta = check_scalar(eta, "eta", name, lower=0.0, upper=1.0, lower_inclusive=False)
    pen.check_step(1.0)
    split = _split(lca, dict(penalty=pen, eta=eta, max_iter=max_iter, tol=tol,
                             check_every=check_every, engine=engine),
                   prob, init, n_jobs, callback, verbose, name)
    if split is not None:
        return split
    G, B = prob.G, prob.B
    # potentials consistent with the starting codes: u = C + (B - C G) is ISTA's argument
    state = SimpleNamespace(x=C, u=C + (B - C @ G))
    state.x = _prox(pen, state.u, 1.0, engine, empty_like(C))

    def one(s, it):
        drive = B - codes_gram(s.x, G) + s.x  # B - C (G - I)
        s.u = (1.0 - eta) * s.u + eta * drive
        s.x = _prox(pen, s.u, 1.0, engine, empty_like(s.u))

    res = run_iterations(one, state, **loop_options(prob, pen, name, max_iter, tol,
                                                    check_every, callback, verbose),
                         criterion="max relative change of the activations",
                         hint="a larger eta converges faster", info={"eta": eta})
    return with_objectives(res, prob, pen, potentials=state.u)


for _f in (ista, fista, lca):
    _f.__doc__ = _f.__doc__.replace("%(common)s", _COMMON_DOC.strip("\n").lstrip()).replace(
        "%(objective)s", _OBJECTIVE_DOC)
