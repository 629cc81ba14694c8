"""Pieces shared by the transport solvers: result assembly, batching, warnings."""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..backends import dispatch
from ..exceptions import ConvergenceWarning
from ..utils.parallel import effective_n_jobs
from ._result import OTResult
from ._validation import expand_support, reduce_support


class Tracker:
    """History, timing, verbose printing and the user callback of one solve."""

    def __init__(self, owner, callback, verbose):
        self.owner = owner
        self.callback = callback
        self.verbose = verbose
        self.history = []
        self.stop_requested = False
        self.t0 = time.perf_counter()

    def record(self, iteration, stage, err, u=None, v=None, reg=None):
        """Store a record; returns True when the callback asks to stop."""
        rec = dict(iteration=int(iteration), stage=stage, marginal_error=float(err),
                   time=time.perf_counter() - self.t0)
        self.history.append(rec)
        if self.verbose:
            print(f"[{self.owner}] {stage:>8s} it {iteration:5d}  marginal error {err:.3e}")
        if self.callback is not None:
            state = dict(rec)
            if u is not None:
                state["f"] = reg * u
                state["g"] = reg * v
            self.stop_requested = bool(self.callback(state))
            return self.stop_requested
        return False


def warm_potentials(warm_start, a, b, reg, k, batched, owner, support=(None, None)):
    """Scaled potentials ``(u, v)``: from ``warm_start`` ((f, g) or an OTResult), else log a, b."""
    n, m = a.size, b.size
    if warm_start is None:
        # P0 = a b^T exp(-M / reg): iterates are then equivariant under splitting a
        # sample into copies (the potentials shift by reg log(copies), the plan and the
        # entropic map do not change)
        return np.log(a), np.log(b)
    if isinstance(warm_start, OTResult):
        f, g = warm_start.f, warm_start.g
    else:
        try:
            f, g = warm_start
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{owner}: warm_start must be None, an OTResult or a pair "
                            f"(f, g) of potentials; got {type(warm_start).__name__}.") from exc
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
        raise ValueError(f"{owner}: warm_start potentials have shapes {f.shape} and {g.shape}; "
                         f"expected ({n},) and ({m},) (after dropping zero-mass entries).")
    u = f / reg
    v = g / reg
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))):
        raise ValueError(f"{owner}: warm_start potentials must be finite on the support of "
                         "the marginals.")
    return u, v


def make_result(M, a, b, u, v, P, r, c, reg, dtype, n_iter, tol, tracker, info):
    """Assemble an :class:`OTResult` for a solved (reduced) problem."""
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
    converged = bool(info.pop("converged", err64 <= tol))
    if tracker.stop_requested:
        info["stopped_by"] = "callback"
    return OTResult(plan=P, cost=cost, f=reg * u, g=reg * v, n_iter=int(n_iter),
                    marginal_error=err, converged=converged, objective=objective, reg=reg,
                    history=tracker.history, info=info)


def solve_problems(single, problems, batched, dtype, n_jobs, owner, criterion):
    """Run ``single(a, b, M, k)`` per problem (threads over the batch), then one warning."""
    def run(k):
        a, b, M = problems[k]
        n, m = M.shape
        ar, br, Mr, rows, cols = reduce_support(a, b, M)
        res = single(ar, br, Mr, k, dtype, (rows, cols))
        if rows is not None:
            P, f, g = expand_support(res.plan, res.f, res.g, (n, m), rows, cols)
            res = OTResult(plan=P, cost=res.cost, f=f, g=g, n_iter=res.n_iter,
                           marginal_error=res.marginal_error, converged=res.converged,
                           objective=res.objective, reg=res.reg, history=res.history,
                           info=dict(res.info))
        return res

    n_threads = min(effective_n_jobs(n_jobs), len(problems))
    if n_threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_threads) as pool:
            results = list(pool.map(run, range(len(problems))))
    else:
        results = [run(k) for k in range(len(problems))]
    # results whose solver already warned (e.g. a rolled-back overflow) are not repeated
    # and a callback's stop is the user's decision, not a failure
    bad = [k for k, r in enumerate(results) if not r.converged and not r.info.get("warned")
           and r.info.get("stopped_by") != "callback"]
    if bad:
        worst = max(results[k].marginal_error for k in bad)
        which = f"{len(bad)} of {len(results)} problems" if batched else "the problem"
        iters = sorted({int(results[k].n_iter) for k in bad})
        warnings.warn(
            f"{owner} did not converge on {which}: {criterion} (largest L1 marginal error "
            f"{worst:.3g}, iterations {', '.join(map(str, iters[:5]))}). Increase max_iter, "
            "loosen tol"
            + (", or use sinkhorn_newton_sparse at small reg." if "newton" not in owner else
               ", or raise density / n_sinkhorn."),
            ConvergenceWarning, stacklevel=3,
        )
    return OTResult.stack(results) if batched else results[0]


def plan(K, u, v, engine):
    """``(P, row sums, column sums)`` for scaled potentials ``u, v``."""
    P = np.empty(K.shape)
    r, c = dispatch("ot_plan", K, u, v, P, engine=engine)
    return P, r, c
