"""Entropic optimal transport: sparsopt Sinkhorn and Sinkhorn-Newton-Sparse against POT.

Run ``python benchmarks/bench_ot.py`` (n = 500, 1000, 2000 and reg = 1e-2, 2e-3, 1/1200; about
23 minutes on 2 idle cores with the default 30 s cap per run, an estimate from the iteration
counts, not timed end to end; more on a loaded machine; ``--cap 20``: about 19 minutes) or
``--quick`` (n = 500, reg = 1/1200, 5 s cap; 70 s). Most of the time goes to POT's
``sinkhorn_log`` (about 0.8 s per iteration at n = 2000). ``--n`` / ``--reg`` select problems.

Problems (spec ``optimal_transport.md`` 2(d)-(e)): cost C ~ U[0, 1] of shape (n, n) drawn by
``np.random.default_rng(0)`` (already in [0, 1], not rescaled), uniform marginals a = b = 1/n,
float64, the same ``reg`` for every library (POT ``reg``; sparsopt ``reg``; reg = 1/eta of the
SNS paper, whose random-assignment case is n = 500, eta = 1200).

Solvers:

* ``POT sinkhorn``: ``ot.sinkhorn(a, b, C, reg, method="sinkhorn", numItermax, stopThr)``
  (Sinkhorn-Knopp in the scaling domain, K = exp(-C/reg) and BLAS matrix-vector products).
* ``POT sinkhorn_log``: the same with ``method="sinkhorn_log"`` (log domain,
  ``scipy.special.logsumexp``).
* ``sparsopt sinkhorn``: ``sparsopt.ot.sinkhorn(a, b, C, reg, solver="log", tol, max_iter)``.
* ``sparsopt SNS``: ``sparsopt.ot.sinkhorn_newton_sparse(a, b, C, reg, tol,
  max_iter=100, n_jobs=threads)`` (20 Sinkhorn sweeps, then sparse Newton steps; default
  density 5/n; ``n_jobs`` threads its passes of exponentials, as BLAS threads POT's products).

Accuracy is measured here, on the returned plan: err = ||P 1 - a||_1 + ||P^T 1 - b||_1. The
libraries' own stopping rules differ (POT: L2 norm of the column-marginal error, checked every
10 iterations; sparsopt: the L1 error above), so each solver sweeps its *own* tolerance, from
loose to tight (POT ``stopThr`` 1e-7 ... 1e-15, sparsopt ``tol`` 1e-4 ... 1e-12), every run
starting from scratch. Each run is timed once; runs under 5 s are repeated (3 runs, 5 under 1
s) and the median is kept. "Time to reach eps" (eps = 1e-6, 1e-9, 1e-12) is the smallest time
among the runs with err <= eps. A solver's sweep stops at the first run that reaches err <=
1e-12, fails, is cut by its run limit, or takes longer than the per-run cap (``--cap``, 30 s).
The run limit is about 1.5 x cap: sparsopt's solvers get a callback that stops them past that
time; POT has no callback, so its ``numItermax`` is the limit divided by its time per iteration
(measured here). An eps that no run reached is reported as "did not reach (> T)", T being the
longest run whose err was still above eps: the time to reach eps is larger than T. SNS gets
max_iter = 100 Newton steps.

Headline: for each (n, reg, eps) the time of POT's fastest method that reached eps divided by
sparsopt's times (SNS, and log-domain Sinkhorn); where neither POT method reached eps the
ratio is a lower bound ("> r"). A per-iteration table times ``sinkhorn(solver="log", tol=0,
max_iter=N)`` against POT ``sinkhorn_log(numItermax=N, stopThr=0)`` (and POT's scaling-domain
``sinkhorn`` for context), median of ``--repeat`` (5) calls after a 2-iteration warm-up call,
per iteration (call time / N).

Numba: one small solve of each sparsopt function runs first and is timed apart (JIT
compilation, or a load from Numba's disk cache). POT is pure NumPy/SciPy here.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import (  # noqa: I001
    Row, _pin_numba, compute_ratios, fmt_time, grid, parse_args, print_table, time_runs,
    write_json,
)

import math
import statistics
import time
import warnings
from dataclasses import dataclass

import numpy as np
import ot
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import sparsopt
from sparsopt.ot import sinkhorn, sinkhorn_newton_sparse

SEED = 0
N_FULL = (500, 1000, 2000)
REG_FULL = (1e-2, 2e-3, 1 / 1200)
N_QUICK, REG_QUICK = (500,), (1 / 1200,)
CAP_FULL, CAP_QUICK = 30.0, 5.0
EPSILONS = (1e-6, 1e-9, 1e-12)
SO_GRID = (1e-4, 1e-6, 1e-8, 1e-9, 1e-10, 1e-12)  # sparsopt tol (= the L1 error measured here)
POT_GRID = (1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15)  # POT stopThr (L2)
SNS_MAX_NEWTON = 100
SNS_JOBS = [1]  # sparsopt SNS n_jobs: the pinned thread count (set in main)
SO_MAX_ITER = 10**8  # sparsopt sinkhorn: stopped by its time limit (callback), not by max_iter
LIMIT_FACTOR = 1.5  # a run is cut after about LIMIT_FACTOR x cap seconds
PROBE_S = 0.1  # length of the iterations timed to estimate POT's time per iteration
ITERS_PER_CALL = 20  # the per-iteration table
SMALL_REG = 5e-3  # reg below this is "small" for the goal check
GOAL_SNS, GOAL_ITER = 10.0, 3.0

POT_KNOPP, POT_LOG = "POT sinkhorn", "POT sinkhorn_log"
SO_LOG, SO_SNS = "sparsopt sinkhorn", "sparsopt SNS"
SOLVERS = (POT_KNOPP, POT_LOG, SO_LOG, SO_SNS)
POT_SOLVERS = (POT_KNOPP, POT_LOG)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt_reg(reg):
    inv = 1.0 / reg
    if reg < 1e-3 and abs(inv - round(inv)) < 1e-6 * inv:
        return f"1/{round(inv)}"
    return f"{reg:g}"


def parse_reg(text):
    """``--reg`` values: floats or ``1/1200``."""
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den)
    return float(text)


# ----------------------------------------------------------------------------- problems
@dataclass
class Problem:
    n: int
    reg: float
    M: np.ndarray
    a: np.ndarray
    b: np.ndarray
    k_zero: float = 0.0  # fraction of exp(-M/reg) that underflows to 0
    k_subnormal: float = 0.0  # ... that is subnormal (slow arithmetic on x86)

    @property
    def name(self):
        return f"n={self.n} reg={fmt_reg(self.reg)}"


def cost_matrix(n):
    return np.random.default_rng(SEED).random((n, n))


def make_problem(n, reg):
    M = cost_matrix(n)
    a = np.full(n, 1.0 / n)
    with np.errstate(under="ignore"):
        K = np.exp(M / -reg)
    tiny = np.finfo(np.float64).tiny
    return Problem(n, reg, M, a, a.copy(), float(np.mean(K == 0.0)),
                   float(np.mean((K > 0.0) & (K < tiny))))


def marginal_error(P, d):
    """||P 1 - a||_1 + ||P^T 1 - b||_1 of a returned plan, computed here (inf if not finite)."""
    P = np.asarray(P, dtype=np.float64)
    err = float(np.abs(P.sum(axis=1) - d.a).sum() + np.abs(P.sum(axis=0) - d.b).sum())
    return err if np.isfinite(err) else math.inf


# ----------------------------------------------------------------------------- solver calls
@dataclass
class Out:
    """What a solver call returned, in a common form (collected inside the timed call)."""

    plan: np.ndarray
    iters: int
    capped: bool = False  # iteration/time limit hit before the solver's own tolerance
    failed: str | None = None
    lib_err: float | None = None  # sparsopt's own marginal_error
    counts: dict | None = None  # SNS counts


def _pot(method):
    def run(d, thr, max_iter):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            P, lg = ot.sinkhorn(d.a, d.b, d.M, d.reg, method=method, numItermax=max_iter,
                                stopThr=thr, log=True)
        msgs = [str(w.message) for w in caught]
        failed = None
        if any("numerical errors" in m for m in msgs):
            failed = "numerical errors (underflow/overflow)"
        elif not np.all(np.isfinite(P)):
            failed = "NaN/inf in the plan"
        elif np.any(P.sum(axis=1) == 0) or np.any(P.sum(axis=0) == 0):
            failed = "zero row/column (underflow)"
        capped = any("did not converge" in m for m in msgs)
        return Out(P, int(lg["niter"]) + 1, capped=capped, failed=failed)

    return run


def _deadline(seconds):
    """A sparsopt callback that stops the solve once ``seconds`` have passed."""
    end = time.perf_counter() + seconds
    return lambda state: time.perf_counter() > end


def _so_log(d, tol, seconds):
    res = sinkhorn(d.a, d.b, d.M, d.reg, solver="log", tol=tol, max_iter=SO_MAX_ITER,
                   callback=_deadline(seconds))
    return Out(res.plan, int(res.n_iter), capped=not res.converged,
               lib_err=float(res.marginal_error))


def _so_sns(d, tol, seconds):
    res = sinkhorn_newton_sparse(d.a, d.b, d.M, d.reg, tol=tol, max_iter=SNS_MAX_NEWTON,
                                 n_jobs=SNS_JOBS[0], callback=_deadline(seconds))
    info = res.info
    counts = {k: int(info[k]) for k in ("n_sinkhorn", "n_newton", "n_cg", "n_plan_evals",
                                         "n_fallback_sweeps", "n_absorb")}
    return Out(res.plan, int(res.n_iter), capped=not res.converged,
               lib_err=float(res.marginal_error), counts=counts)


CALL = {POT_KNOPP: _pot("sinkhorn"), POT_LOG: _pot("sinkhorn_log"), SO_LOG: _so_log,
        SO_SNS: _so_sns}
GRID = {POT_KNOPP: POT_GRID, POT_LOG: POT_GRID, SO_LOG: SO_GRID, SO_SNS: SO_GRID}
PARAM = {POT_KNOPP: "stopThr", POT_LOG: "stopThr", SO_LOG: "tol", SO_SNS: "tol"}


# ----------------------------------------------------------------------------- timing
def n_repeats(t, repeat):
    """Timed runs for a call whose first run took ``t`` seconds (median kept)."""
    if t < 1.0:
        return max(repeat, 1)
    if t < 5.0:
        return min(max(repeat, 1), 3)
    return 1


def timed(fn, repeat):
    """First run, then more if it was fast; returns (median, times, last output)."""
    times, out = time_runs(fn, 1)
    extra = n_repeats(times[0], repeat) - 1
    if extra > 0 and out.failed is None:
        out = None
        more, out = time_runs(fn, extra)
        times += more
    return statistics.median(times), times, out


def jit_warmup():
    """One small solve of each sparsopt function (Numba compilation or cache load)."""
    M = np.random.default_rng(1).random((64, 64))
    a = np.full(64, 1 / 64)
    out = {}
    for name, fn in ((SO_LOG, lambda: sinkhorn(a, a, M, 0.01, solver="log", tol=1e-9,
                                                 max_iter=2000)),
                     (SO_SNS, lambda: sinkhorn_newton_sparse(a, a, M, 0.005))):
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ot.sinkhorn(a, a, M, 0.01, method="sinkhorn_log", numItermax=20, warn=False)
    ot.sinkhorn(a, a, M, 0.01, method="sinkhorn", numItermax=20, warn=False)
    out["POT (both methods)"] = time.perf_counter() - t0
    return out


# ----------------------------------------------------------------------------- per iteration
FIXED_ITERS = {  # exactly k iterations, no stopping test that can fire (tol = stopThr = 0)
    SO_LOG: lambda d, k: sinkhorn(d.a, d.b, d.M, d.reg, solver="log", tol=0.0,
                                  max_iter=k).plan,
    POT_LOG: lambda d, k: ot.sinkhorn(d.a, d.b, d.M, d.reg, method="sinkhorn_log",
                                      numItermax=k, stopThr=0.0, warn=False),
    POT_KNOPP: lambda d, k: ot.sinkhorn(d.a, d.b, d.M, d.reg, method="sinkhorn",
                                        numItermax=k, stopThr=0.0, warn=False),
}


def per_iteration_rows(ns, reg, iters, repeat):
    """sparsopt log vs POT log (and POT scaling) at a fixed number of iterations."""
    rows = []
    for n in ns:
        d = make_problem(n, reg)
        case = f"n={n} reg={fmt_reg(reg)} N={iters}"
        for name, fn in FIXED_ITERS.items():
            t0 = time.perf_counter()
            fn(d, 2)
            warm = time.perf_counter() - t0
            times, P = time_runs(lambda fn=fn, d=d: fn(d, iters), repeat)
            per = [t / iters for t in times]
            rows.append(Row(case, name, statistics.median(per), min(per), max(per), warm,
                            marginal_error(P, d), per))
            del P
            log(f"  per-iteration {case:<28}{name:<22}{fmt_time(rows[-1].median)}/it")
    return compute_ratios(rows, POT_LOG)


def pot_time_per_iter(solver, d, t_guess):
    """Seconds per iteration of a POT method on this problem (the cost depends on reg through
    subnormal numbers): (time of 2 + m iterations - time of 2 iterations) / m, m chosen from
    the guess ``t_guess`` so that the m iterations take about PROBE_S; median of 3 such pairs
    when a pair is cheap (under 1 s), else one pair."""
    m = int(min(5000, max(3, PROBE_S / max(t_guess, 1e-9))))
    pairs = 3 if 2 * (2 + m) * t_guess < 1.0 else 1
    est = []
    for _ in range(pairs):
        ts = []
        for k in (2, 2 + m):
            t0 = time.perf_counter()
            FIXED_ITERS[solver](d, k)
            ts.append(time.perf_counter() - t0)
        est.append(max((ts[1] - ts[0]) / m, ts[1] / (2 + m) / 4, 1e-7))
    return statistics.median(est)


# ----------------------------------------------------------------------------- sweeps
@dataclass
class SweepRun:
    case: str
    solver: str
    param: float
    time: float
    times: list
    err: float
    iters: int
    status: str  # "ok", "capped", "over cap", "fails: ..."
    limit: str  # the run's iteration or time limit
    lib_err: float | None = None
    counts: dict | None = None

    @property
    def usable(self):
        return not self.status.startswith("fails")


def sweep(d, solver, cap, limit, repeat):
    """Runs over GRID[solver], loose to tight; ``limit``: POT max_iter, sparsopt seconds."""
    runs = []
    fn = CALL[solver]
    label = f"max_iter {limit}" if solver in POT_SOLVERS else f"time limit {limit:g} s"
    for param in GRID[solver]:
        t, times, out = timed(lambda param=param: fn(d, param, limit), repeat)
        err = marginal_error(out.plan, d)
        if out.failed:
            status = f"fails: {out.failed}"
        elif out.capped:
            status = "capped"
        elif t > cap:
            status = "over cap"
        else:
            status = "ok"
        run = SweepRun(d.name, solver, param, t, times, err, out.iters, status, label,
                       out.lib_err, out.counts)
        del out
        runs.append(run)
        log(f"    {d.name:<20}{solver:<20}{PARAM[solver]}={param:.0e} {fmt_time(t):>9} "
            f"x{len(times)}  err {err:.2e}  iters {run.iters}  {status}")
        if status != "ok" or err <= min(EPSILONS):
            break
    return runs


@dataclass
class EpsResult:
    case: str
    n: int
    reg: float
    eps: float
    solver: str
    time: float | None = None  # time to reach eps (None: not reached)
    param: float | None = None
    lower_bound: float | None = None  # when not reached: time-to-eps > lower_bound
    label: str = ""


def time_to_eps(d, solver, runs, eps):
    r = EpsResult(d.name, d.n, d.reg, eps, solver)
    ok = [x for x in runs if x.usable and x.err <= eps]
    if ok:
        best = min(ok, key=lambda x: x.time)
        r.time, r.param = best.time, best.param
        r.label = f"{fmt_time(best.time)} ({best.param:.0e})"
        return r
    failed = [x for x in runs if not x.usable]
    if failed and not any(x.usable for x in runs):
        r.label = "fails (underflow)" if "underflow" in failed[0].status else failed[0].status
        return r
    limited = [x for x in runs if x.usable and x.status in ("capped", "over cap")]
    below = [x for x in runs if x.usable and x.err > eps]
    r.lower_bound = max(x.time for x in below) if below else None
    if limited:
        r.label = f"did not reach (> {fmt_time(r.lower_bound)})"
    elif failed:
        r.label = f"did not reach ({failed[0].status})"
    else:
        best_err = min(x.err for x in runs)
        r.label = f"did not reach (grid ended, err {best_err:.1e})"
    return r


# ----------------------------------------------------------------------------- report
def fmt_ratio(x):
    return f"{x:.3g}" if x < 1000 else f"{x:.0f}"


def eps_table(results, markdown):
    head = ["case", "solver"] + [f"eps={e:.0e}" for e in EPSILONS]
    body = []
    for case in dict.fromkeys(r.case for r in results):
        for solver in SOLVERS:
            cells = [next(r for r in results if r.case == case and r.solver == solver
                          and r.eps == e).label for e in EPSILONS]
            body.append([case, solver] + cells)
    return grid(head, body, markdown, right=set())


def pot_best(results, case, eps):
    """(time, method, is_lower_bound) of POT's fastest method at eps, or None."""
    rs = [r for r in results if r.case == case and r.eps == eps and r.solver in POT_SOLVERS]
    reached = [r for r in rs if r.time is not None]
    if reached:
        best = min(reached, key=lambda r: r.time)
        return best.time, best.solver, False
    bounds = [r for r in rs if r.lower_bound is not None]
    if bounds:
        best = min(bounds, key=lambda r: r.lower_bound)
        return best.lower_bound, "none", True
    return None


def ratio_cell(pot, ours):
    if pot is None or ours is None or ours.time is None:
        return "-", None
    t, _, lower = pot
    x = t / ours.time
    return (f"> {fmt_ratio(x)}" if lower else fmt_ratio(x)), (x, lower)


def headline(results, markdown):
    head = ["case", "eps", "POT fastest", "sparsopt sinkhorn", "SNS",
            "POT/sinkhorn", "POT/SNS"]
    body, goals = [], []
    for case in dict.fromkeys(r.case for r in results):
        for eps in EPSILONS:
            get = {s: next(r for r in results if r.case == case and r.eps == eps
                           and r.solver == s) for s in (SO_LOG, SO_SNS)}
            pot = pot_best(results, case, eps)
            if pot is None:
                pot_cell = "-"
            elif pot[2]:
                pot_cell = f"> {fmt_time(pot[0])} (neither reached)"
            else:
                pot_cell = f"{fmt_time(pot[0])} ({pot[1].split()[1]})"
            log_cell, _ = ratio_cell(pot, get[SO_LOG])
            sns_cell, sns_ratio = ratio_cell(pot, get[SO_SNS])
            body.append([case, f"{eps:.0e}", pot_cell,
                         get[SO_LOG].label if get[SO_LOG].time is None
                         else fmt_time(get[SO_LOG].time),
                         get[SO_SNS].label if get[SO_SNS].time is None
                         else fmt_time(get[SO_SNS].time), log_cell, sns_cell])
            reg = get[SO_SNS].reg
            if reg < SMALL_REG:
                if sns_ratio is None:
                    verdict = "not determined (SNS or POT has no time)"
                elif sns_ratio[0] >= GOAL_SNS:
                    verdict = "met" + (" (lower bound)" if sns_ratio[1] else "")
                elif sns_ratio[1]:
                    verdict = (f"not determined (POT capped: ratio > {fmt_ratio(sns_ratio[0])})")
                else:
                    verdict = "NOT met"
                goals.append(f"  {case:<22}eps={eps:.0e}  POT/SNS = {sns_cell:<9} {verdict}")
    return grid(head, body, markdown, right={2, 3, 4, 5, 6}), goals


def sns_count_lines(runs):
    lines = []
    for r in runs:
        if r.solver != SO_SNS or r.counts is None:
            continue
        c = r.counts
        lines.append(
            f"  {r.case:<22}tol={r.param:.0e}  {fmt_time(r.time):>9}  err {r.err:.2e}  "
            f"iterations {c['n_sinkhorn']} + {c['n_newton']} (Sinkhorn + Newton)  "
            f"CG matvecs {c['n_cg']}  marginal evals {c['n_plan_evals']}  "
            f"absorptions {c['n_absorb']}  fallback sweeps {c['n_fallback_sweeps']}")
    return lines


def curve_lines(runs):
    lines = []
    for case in dict.fromkeys(r.case for r in runs):
        for solver in SOLVERS:
            rs = [r for r in runs if r.case == case and r.solver == solver]
            if not rs:
                continue
            cells = [f"{r.param:.0e}: {fmt_time(r.time)} {r.err:.1e} ({r.iters} it"
                     + ("" if r.status == "ok" else f", {r.status}") + ")" for r in rs]
            lines.append(f"  {case:<22}{solver:<18}({rs[0].limit}) {PARAM[solver]} "
                         + " | ".join(cells))
    return lines


def consistency_notes(runs):
    """sparsopt's reported marginal_error / converged flag against the measure here."""
    worst_abs, worst_rel, bad = 0.0, 0.0, []
    for r in runs:
        if r.lib_err is None or not math.isfinite(r.err):
            continue
        gap = abs(r.lib_err - r.err)
        worst_abs = max(worst_abs, gap)
        if r.err >= 1e-10:
            worst_rel = max(worst_rel, gap / r.err)
        if gap > 1e-6 * r.err + 1e-15:
            bad.append(f"{r.case} {r.solver} tol={r.param:.0e}: reported {r.lib_err:.3e}, "
                       f"measured {r.err:.3e}")
        if r.status == "ok" and r.err > r.param * (1 + 1e-6) + 1e-15:
            bad.append(f"{r.case} {r.solver} tol={r.param:.0e}: reported converged but the "
                       f"measured error is {r.err:.3e}")
    if bad:
        return ["MISMATCH between sparsopt's reported error/convergence and the measurement: "
                + "; ".join(bad)]
    return [f"sparsopt's reported marginal_error matches the error measured here (largest "
            f"absolute gap {worst_abs:.1e}, relative {worst_rel:.1e} where err >= 1e-10), and "
            "every run it reports converged has err <= tol."]


# ----------------------------------------------------------------------------- main
def add_arguments(p):
    p.add_argument("--n", type=int, nargs="+", default=None,
                   help=f"problem sizes (default: {' '.join(map(str, N_FULL))}; --quick: "
                        f"{N_QUICK[0]})")
    p.add_argument("--reg", type=parse_reg, nargs="+", default=None,
                   help="regularisations, floats or 1/x (default: 1e-2 2e-3 1/1200; --quick: "
                        "1/1200)")
    p.add_argument("--cap", type=float, default=None,
                   help=f"per-run time cap in seconds (default: {CAP_FULL:g}; --quick: "
                        f"{CAP_QUICK:g})")
    p.add_argument("--iters", type=int, default=ITERS_PER_CALL,
                   help="iterations per call in the per-iteration table (default: %(default)s)")


def main(argv=None):
    """Parse arguments, run the benchmark, print the tables (and JSON)."""
    args = parse_args(__doc__.splitlines()[0], argv, add_arguments)
    ns = args.n or (N_QUICK if args.quick else N_FULL)
    regs = args.reg or (REG_QUICK if args.quick else REG_FULL)
    cap = args.cap if args.cap is not None else (CAP_QUICK if args.quick else CAP_FULL)
    if cap <= 0 or args.iters < 1 or min(ns) < 2 or min(regs) <= 0:
        sys.exit("--cap, --iters, --n and --reg must be positive (n >= 2)")
    args.n, args.reg, args.cap = list(ns), list(regs), cap
    warnings.simplefilter("ignore", ConvergenceWarning)  # counted as 'capped' in the sweeps
    import numba
    import scipy

    load0 = os.getloadavg()
    print(f"entropic OT benchmark: C ~ U[0,1] (seed {SEED}), a = b = 1/n, n in {list(ns)}, "
          f"reg in {[fmt_reg(r) for r in regs]}; threads = {args.threads}, cap = {cap:g} s "
          "per run")
    print(f"sparsopt {sparsopt.__version__}, POT {ot.__version__}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, numba {numba.__version__}; {os.cpu_count()} CPUs, load "
          f"average {load0[0]:.2f} at start\n", flush=True)

    limit_s = LIMIT_FACTOR * cap
    t_start = time.perf_counter()
    _pin_numba(args.threads)
    SNS_JOBS[0] = args.threads
    runs, results = [], []
    problems = []
    with threadpool_limits(limits=args.threads):
        warm = jit_warmup()
        log("warm-up: " + ", ".join(f"{k} {fmt_time(v)}" for k, v in warm.items()))
        reg_iter = min(regs)
        iter_rows = per_iteration_rows(ns, reg_iter, args.iters, args.repeat)
        per_it = {(r.case.split()[0], r.impl): r.median for r in iter_rows}
        for n in ns:
            for reg in regs:
                d = make_problem(n, reg)
                problems.append(d)
                log(f"  {d.name}: exp(-C/reg) zero {d.k_zero:.1%}, subnormal {d.k_subnormal:.1%}")
                t_it = {p: pot_time_per_iter(p, d, per_it[(f"n={n}", p)]) for p in POT_SOLVERS}
                log("  seconds per iteration: "
                    + ", ".join(f"{s} {fmt_time(t)}" for s, t in t_it.items()))
                for solver in SOLVERS:
                    limit = (max(10, math.ceil(limit_s / t_it[solver])) if solver in t_it
                             else limit_s)
                    rs = sweep(d, solver, cap, limit, args.repeat)
                    runs += rs
                    results += [time_to_eps(d, solver, rs, eps) for eps in EPSILONS]
                del d
    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()

    head_lines, goals = headline(results, args.markdown)
    iter_goal = []
    for case in dict.fromkeys(r.case for r in iter_rows):
        r = next(x for x in iter_rows if x.case == case and x.impl == SO_LOG)
        iter_goal.append(f"  {case:<28}POT sinkhorn_log / sparsopt sinkhorn = "
                         f"{r.ratio:.3g}x per iteration: "
                         + ("met" if r.ratio >= GOAL_ITER else "NOT met"))
    underflow = [f"{d.name}: exp(-C/reg) has {d.k_zero:.1%} zeros and {d.k_subnormal:.1%} "
                 "subnormal entries" for d in problems]
    notes = [
        "err = ||P1 - a||_1 + ||P^T 1 - b||_1 computed here on each returned plan; POT's own "
        "stopThr is on ||P^T 1 - b||_2 checked every 10 iterations (roughly sqrt(n) x smaller "
        "than err), sparsopt's tol is err itself.",
        "time to reach eps = the smallest median time among sweep runs with err <= eps; runs "
        "under 5 s are timed 3x (5x under 1 s) and the median kept, longer runs once. The "
        "tolerance grids are coarse (decades), so a time to eps can exceed the true one by "
        "up to one grid step of iterations.",
        f"run limits: every run is cut after about {LIMIT_FACTOR:g} x cap = {limit_s:g} s. "
        "sparsopt: a callback returning True past that time (checked every 10 sweeps, after "
        f"each Newton step; max_iter {SO_MAX_ITER:.0e} sweeps, SNS {SNS_MAX_NEWTON} Newton "
        "steps). POT (no callback): numItermax = ceil(limit / time per iteration), the time "
        "per iteration being measured on each problem (it depends on reg: subnormal numbers) "
        "as the time difference of runs of 2 and 2 + m iterations divided by m (m iterations "
        f"~ {PROBE_S:g} s, at least 3; median of 3 pairs where cheap), so a POT run may end a "
        f"bit before or after the limit. A sweep stops after the first run over the {cap:g} s "
        "cap. "
        "'did not reach (> T)': no run got err <= eps and a run of T seconds still had err > "
        "eps. SNS other parameters at their defaults (n_sinkhorn=20, density=5/n).",
        "ratio = POT's fastest method that reached eps / this solver (> 1: sparsopt faster); "
        "'> r' where neither POT method reached eps within the cap (a lower bound).",
        "POT sinkhorn (scaling domain) is run at every reg and reported as 'fails (underflow)' "
        "if it warns about numerical errors or returns NaN / empty rows. With C in [0, 1] the "
        "entries of exp(-C/reg) that underflow (C_ij > ~745 reg) carry plan mass below "
        "exp(-(C_ij - f_i - g_j)/reg) ~ 1e-300 here, so the underflow is harmless on this "
        "data; subnormal kernel entries slow its BLAS products instead (see below).",
        "per-iteration table: call time / N after a 2-iteration warm-up call (the 'warm-up' "
        "column is that call, not divided); it includes each call's set-up (forming -C/reg or "
        "exp(-C/reg), the final plan), and the quality column is err after N iterations (the "
        "update orders differ: sparsopt updates f then g, POT v then u).",
        "JIT / first-call times (one 64 x 64 solve each, excluded from every timing): "
        + ", ".join(f"{k} {fmt_time(v)}" for k, v in warm.items()) + ".",
        f"threads pinned to {args.threads} (environment variables, threadpoolctl, Numba). Wall "
        f"time of the whole run {elapsed:.0f} s; load average {load0[0]:.2f} at start, "
        f"{load1[0]:.2f} at end ({os.cpu_count()} CPUs).",
    ] + consistency_notes(runs) + underflow

    print(f"(a) per iteration: sparsopt sinkhorn(solver='log', tol=0, max_iter=N) vs POT "
          f"sinkhorn_log(numItermax=N, stopThr=0), N = {args.iters}, median of {args.repeat}")
    print_table(iter_rows, peer=POT_LOG, markdown=args.markdown)
    print(f"\ngoal (>= {GOAL_ITER:g}x faster per iteration than POT sinkhorn_log):")
    print("\n".join(iter_goal))
    print(f"\n(b) time to reach err <= eps (cap {cap:g} s per run; in parentheses the solver's "
          "own tolerance of the run)")
    print("\n".join(eps_table(results, args.markdown)))
    print("\n(c) headline: POT's fastest method reaching eps / sparsopt (>1: sparsopt faster)")
    print("\n".join(head_lines))
    if goals:
        print(f"\ngoal (reg < {SMALL_REG:g}: SNS >= {GOAL_SNS:g}x faster than POT's fastest "
              "method at the same eps):")
        print("\n".join(goals))
    print("\n(d) SNS counts per run of its sweep (Sinkhorn sweeps + Newton steps, CG "
          "matrix-vector products, O(n^2) marginal evaluations incl. line-search trials, "
          "absorptions = O(n^2) passes of exp)")
    print("\n".join(sns_count_lines(runs)))
    print("\n(e) sweeps (tolerance: median time, err measured here, iterations)")
    print("\n".join(curve_lines(runs)))
    print()
    for note in notes:
        print(f"note: {note}")
    if args.json:
        write_json(args.json, iter_rows + results + runs, args,
                   notes + iter_goal + goals + sns_count_lines(runs))
    return iter_rows, results, runs


if __name__ == "__main__":
    main()
