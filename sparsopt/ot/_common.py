"""Pieces shared by the transport solvers: the loop protocol, result assembly, batching."""

from __future__ import annotations

import numpy as np

from .._config import get_config
from .._core.loop import LoopMonitor, resolve_verbose, warn_nonfinite, warn_not_converged
from ..backends import (
    array_namespace,
    asarray_on,
    device,
    dispatch,
    errstate,
    is_host_array,
    is_numpy_namespace,
)
from ..utils.parallel import effective_n_jobs, thread_map
from ._validation import expand_support, reduce_support
from .result import OTResult


def caller_config(verbose, engine):
    """``(verbose, engine)`` resolved in the caller's thread.

    The configuration is thread-local: the worker threads of a batch (``n_jobs``) or of
    row blocks would otherwise read the defaults instead of the caller's
    ``sparsopt.config_context``.
    """
    return resolve_verbose(verbose), engine or get_config()["engine"]


class Tracker:
    """The loop protocol of one transport solve, across its stages.

    One :class:`~sparsopt._core.loop.LoopMonitor` serves every stage (eps-scaling
    stages, Sinkhorn warm-up, Newton steps, fallback sweeps): it keeps the history,
    calls ``callback(SolverState)`` (``state.x`` is the pair of potentials ``(f, g)``;
    ``state.info`` holds ``stage``, the ``marginal_error`` (or ``potential_change``),
    ``f``, ``g`` and ``reg``), prints when verbose and keeps the last finite potentials
    for the non-finite roll back. The stage logic (a stage's own tolerance, the final
    error measured on the plan) stays with the solver; the ConvergenceWarning is
    emitted once per call by :func:`solve_problems`.
    """

    def __init__(self, owner, callback, verbose, tol, max_iter, u, v, reg,
                 criterion="L1 marginal error", key="marginal_error"):
        # max_iter may be 0 for the transport solvers (return the initial plan): the
        # monitor only validates it as a cap and names it in messages
        self.mon = LoopMonitor(owner, max_iter=max(1, max_iter), tol=tol, callback=callback,
                               verbose=verbose, criterion=criterion,
                               x0=(reg * u, reg * v))
        self.key = key

    @property
    def history(self):
        return self.mon.history

    @property
    def stop_requested(self):
        """True once the callback asked to stop or the potentials became non-finite."""
        return self.mon.stopped_by in ("callback", "nonfinite")

    @property
    def nonfinite(self):
        return self.mon.stopped_by == "nonfinite"

    def record(self, iteration, stage, err, u, v, reg):
        """One check of the loop protocol; True means stop (tol, callback or non-finite).

        After a non-finite check the last finite potentials are written back into
        ``u`` and ``v`` (in place), scaled for ``reg``.
        """
        mon = self.mon
        f, g = reg * u, reg * v
        n_rec = len(mon.history)
        with errstate(array_namespace(u), invalid="ignore"):
            stop = mon.check(iteration, (f, g), err, stage=stage, **{self.key: float(err)},
                             f=f, g=g, reg=reg)
        if len(mon.history) > n_rec:
            # the potentials go to the callback, not into every history record
            rec = mon.history[-1]
            for k in ("f", "g", "reg"):
                rec.pop(k, None)
        if self.nonfinite:
            u[...], v[...] = self.last_potentials(reg)
        return stop

    def last_potentials(self, reg):
        """Scaled potentials ``(u, v)`` of the last finite check (or of the start)."""
        f, g = self.mon.last_finite
        return f / reg, g / reg


def init_potentials(init, a, b, reg, k, batched, owner, support=(None, None)):
    """Scaled potentials ``(u, v)``: from ``init`` ((f, g) or an OTResult), else log a, b."""
    n, m = a.shape[0], b.shape[0]  # (1-D; ``.size`` is a method of torch tensors)
    xp = array_namespace(a, b)
    if init is None:
        # P0 = a b^T exp(-M / reg): iterates are then equivariant under splitting a
        # sample into copies (the potentials shift by reg log(copies), the plan and the
        # entropic map do not change)
        return xp.log(a), xp.log(b)
    if isinstance(init, OTResult):
        f, g = init.f, init.g
    else:
        try:
            f, g = init
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{owner}: init must be None, an OTResult or a pair "
                            f"(f, g) of potentials; got {type(init).__name__}.") from exc
    if not is_numpy_namespace(xp):
        return _init_potentials_xp(f, g, a, b, reg, k, batched, owner, support, xp)
    if not all(is_host_array(p) or not hasattr(p, "shape") for p in (f, g)):
        raise TypeError(f"{owner}: init holds potentials of {type(f).__module__} arrays "
                        "but the problem is given as NumPy arrays; pass a, b and M from "
                        "the same library as init (or convert init with "
                        "sparsopt.backends.to_numpy).")
    f = np.asarray(f, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if batched:
        f, g = f[k], g[k]
    rows, cols = support
    if rows is not None and f.ndim == g.ndim == 1 and (f.size, g.size) != (n, m):
        # potentials of the full problem (-inf on zero-mass entries): keep the support
        if f.size > rows.max(initial=-1) and g.size > cols.max(initial=-1):
            f, g = f[rows], g[cols]
    if f.shape != (n,) or g.shape != (m,):
        raise ValueError(f"{owner}: init potentials have shapes {f.shape} and {g.shape}; "
                         f"expected ({n},) and ({m},) (after dropping zero-mass entries).")
    u = f / reg
    v = g / reg
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))):
        raise ValueError(f"{owner}: init potentials must be finite on the support of "
                         "the marginals.")
    return u, v


def _init_potentials_xp(f, g, a, b, reg, k, batched, owner, support, xp):
    """:func:`init_potentials` for a problem in a non-NumPy namespace (``support`` holds
    the boolean masks of :func:`reduce_support`); host potentials come over once."""
    n, m = a.shape[0], b.shape[0]
    f = f if array_namespace(f) is xp else asarray_on(np.asarray(f, dtype=np.float64), a)
    g = g if array_namespace(g) is xp else asarray_on(np.asarray(g, dtype=np.float64), a)
    f, g = xp.astype(f, xp.float64), xp.astype(g, xp.float64)
    if batched:
        f, g = f[k, ...], g[k, ...]
    keep_r, keep_c = support
    if (keep_r is not None and f.ndim == g.ndim == 1 and (f.shape[0], g.shape[0]) != (n, m)
            and (f.shape[0], g.shape[0]) == (keep_r.shape[0], keep_c.shape[0])):
        f, g = f[keep_r], g[keep_c]  # potentials of the full problem: keep the support
    if tuple(f.shape) != (n,) or tuple(g.shape) != (m,):
        raise ValueError(f"{owner}: init potentials have shapes {tuple(f.shape)} and "
                         f"{tuple(g.shape)}; expected ({n},) and ({m},) (after dropping "
                         "zero-mass entries).")
    u, v = f / reg, g / reg
    if not (bool(xp.all(xp.isfinite(u))) and bool(xp.all(xp.isfinite(v)))):
        raise ValueError(f"{owner}: init potentials must be finite on the support of "
                         "the marginals.")
    return u, v


def final_verdict(stopped_by, crit, tol):
    """``(converged, stopped_by)`` of a run whose criterion ``crit`` is measured on what
    it returns, after the loop: a callback stop or a roll-back after a non-finite check
    (``stopped_by`` of the :class:`LoopMonitor`) never converged; otherwise ``crit <= tol``
    decides between ``"tol"`` and ``"max_iter"``."""
    if stopped_by in ("nonfinite", "callback"):
        return False, stopped_by
    converged = crit <= tol
    return converged, "tol" if converged else "max_iter"


def make_result(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol, tracker, info,
                stop_crit=None):
    """Assemble an :class:`OTResult` for a solved (reduced) problem.

    ``stop_crit`` is the criterion compared with ``tol`` (default: the float64 L1
    marginal error of the plan). ``converged`` follows it, unless a callback stopped
    the run or the potentials were rolled back after a non-finite check.
    """
    xp = array_namespace(M, P)
    if not is_numpy_namespace(xp):
        return _make_result_xp(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol, tracker,
                               info, stop_crit, xp)
    err64 = float(np.abs(r - a).sum() + np.abs(c - b).sum())
    if dtype == np.float32:
        # the float32 plan carries its own rounding (~1e-7 relative): measured on it,
        # while ``converged`` refers to the float64 solve
        P = P.astype(np.float32)
        r = P.sum(axis=1, dtype=np.float64)
        c = P.sum(axis=0, dtype=np.float64)
    err = float(np.abs(r - a).sum() + np.abs(c - b).sum())
    cost = float(np.vdot(M, P))
    # reg * sum P (log P - 1) with log P = u_i + v_j - M_ij / reg
    objective = float(reg * (r @ u + c @ v - r.sum()))
    return _finish(M, u, v, P, reg, n_iter, tol, tracker, info, stop_crit, err64, err,
                   cost, objective)


def _make_result_xp(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol, tracker, info,
                    stop_crit, xp):
    """:func:`make_result` in a non-NumPy namespace: the plan and potentials stay there,
    the scalars (errors, cost, objective) come to the host as floats."""
    err64 = float(xp.sum(xp.abs(r - a)) + xp.sum(xp.abs(c - b)))
    if dtype == xp.float32:
        P = xp.astype(P, xp.float32)
        r = xp.sum(P, axis=1, dtype=xp.float64)
        c = xp.sum(P, axis=0, dtype=xp.float64)
    err = float(xp.sum(xp.abs(r - a)) + xp.sum(xp.abs(c - b)))
    cost = float(xp.sum(M * P))
    objective = float(reg * (xp.sum(r * u) + xp.sum(c * v) - xp.sum(r)))
    return _finish(M, u, v, P, reg, n_iter, tol, tracker, info, stop_crit, err64, err,
                   cost, objective)


def _finish(M, u, v, P, reg, n_iter, tol, tracker, info, stop_crit, err64, err, cost,
            objective):
    mon = tracker.mon
    crit = err64 if stop_crit is None else float(stop_crit)
    converged, stopped_by = final_verdict(mon.stopped_by, crit, tol)
    if stopped_by == "nonfinite":
        if stop_crit is not None:
            crit = mon.stop_crit  # that of the last finite check
        # the solver already went back to the last finite potentials (warned once per
        # call by solve_problems)
        info["nonfinite_at"] = (mon.n_iter, mon.last_finite_iter)
        n_iter = mon.last_finite_iter
    info.update(stopped_by=stopped_by, criterion=mon.criterion, tol=tol)
    return OTResult(x=P, n_iter=int(n_iter), converged=converged, stop_crit=crit,
                    history=mon.history, info=info, plan=P, cost=cost, f=reg * u,
                    g=reg * v, marginal_error=err, objective=objective, reg=reg)


def solve_problems(single, problems, batched, dtype, n_jobs, owner, tol, max_iter, hint,
                   nonfinite_hint=""):
    """Run ``single(a, b, M, k)`` per problem (threads over the batch), then warn once.

    At most one :class:`~sparsopt.exceptions.NonFiniteIterateWarning` and one
    :class:`~sparsopt.exceptions.ConvergenceWarning` per call (a batch included), from
    the caller's thread: a callback's stop is the user's decision, not a failure, and a
    rolled-back run has its own warning.
    """
    def run(k):
        a, b, M = problems[k]
        n, m = M.shape
        ar, br, Mr, rows, cols = reduce_support(a, b, M)
        res = single(ar, br, Mr, k, dtype, (rows, cols))
        if rows is not None:
            P, f, g = expand_support(res.plan, res.f, res.g, (n, m), rows, cols)
            fields = res._fields()
            fields.update(x=P, plan=P, f=f, g=g)
            res = OTResult(**fields)
        return res

    results = thread_map(run, range(len(problems)), effective_n_jobs(n_jobs))

    def which(ks):
        return f"{owner} ({len(ks)} of {len(results)} problems)" if batched else owner

    rolled = [k for k, r in enumerate(results) if r.stopped_by == "nonfinite"]
    if rolled:
        at, good = results[rolled[0]].info["nonfinite_at"]
        warn_nonfinite(which(rolled) + nonfinite_hint, at, good, stacklevel=3)
    bad = [k for k, r in enumerate(results) if r.stopped_by == "max_iter"]
    if bad:
        worst = max(float(results[k].stop_crit) for k in bad)
        warn_not_converged(which(bad), results[bad[0]].info["criterion"], worst, tol,
                           max_iter, hint, stacklevel=3)
    return OTResult.stack(results) if batched else results[0]


def log_sweeps(K, u, v, a, b, tol, max_iter, check_every, tracker, reg, engine,
               start=0, stage="sinkhorn", tau=1.0):
    """Log-domain sweeps in chunks of ``check_every``; returns ``(sweeps, stopped)``.

    ``stopped`` is True when the row-marginal error of an iterate fell to ``tol`` (or
    the callback asked to stop).
    """
    xp = array_namespace(a, b)
    loga, logb = xp.log(a), xp.log(b)
    it = 0
    while it < max_iter:
        chunk = min(check_every, max_iter - it)
        done, err = dispatch("sinkhorn_log_iterations", K, u, v, loga, logb, a, tau, tau,
                             chunk, tol, engine=engine)
        it += done
        if tracker.record(start + it, stage, err, u, v, reg) or done < chunk:
            return it, True
    return it, False


def plan(K, u, v, engine):
    """``(P, row sums, column sums)`` for scaled potentials ``u, v``."""
    xp = array_namespace(K)
    if is_numpy_namespace(xp):
        P = np.empty(K.shape)
    else:
        P = xp.empty(K.shape, dtype=K.dtype, device=device(K))
    r, c = dispatch("ot_plan", K, u, v, P, engine=engine)
    return P, r, c
