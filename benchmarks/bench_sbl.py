"""Kronecker-structured SBL: sparsopt KroneckerSBL against scikit-learn ARDRegression.

Run ``python benchmarks/bench_sbl.py`` (six problems, N = 576 ... 10,648 unknowns; about 2 to 5
minutes on 2 cores, most of it in the dense methods, longer when other processes load the
machine) or ``--quick`` (two small problems; under a minute).

Problems: ``sparsopt.datasets.make_kronecker_problem(m, n, n_nonzero=3, snr=20,
random_state=seed)``, the KroSBL paper's synthetic set-up (spec ``sbl.md`` 3(c)): real i.i.d.
N(0, 1) factors ``A_i`` of shape ``(m_i, n_i)``, a Kronecker-supported signal ``x = x_1 ⊗ ... ⊗
x_I`` with 3 N(0, 1) non-zeros per factor (3^I non-zeros in ``x``) and white noise at 20 dB SNR.
Two factors with n_i = 24, 48, 100 (N = 576, 2,304, 10,000) and three factors with n_i = 10, 15,
22 (N = 1,000, 3,375, 10,648); m_i = ceil(n_i / 2) rows per factor (M = N / 4 and about N / 8).
``--quick``: n_i = 16 (two factors, N = 256) and n_i = 8 (three factors, N = 512).

Implementations, all with their defaults (noise variance learned, started at var(y)):

* ``sparsopt KroneckerSBL svd`` / ``am``: ``KroneckerSBL(solver=...).fit(KroneckerOperator(
  factors), y)`` (which calls ``sparsopt.solvers.kronecker_sbl``): EM SBL with a Kronecker
  prior ``gamma = gamma_1 ⊗ ... ⊗ gamma_I``, the M-step by sequential rank-one SVDs or by
  alternating minimisation; max_iter = 500, tol = 1e-4 on the relative change of gamma,
  per-factor relative pruning 1e-3 (svd) / 1e-2 (am). The dictionary is never formed.
* ``sparsopt SBLRegressor (dense)``: ``SBLRegressor(fit_intercept=False)``, classical EM SBL
  (the paper's cSBL with noise learning) on the formed matrix ``A = kron(A_1, ..., A_I)``;
  max_iter = 300, tol = 1e-4 on the relative change of gamma, relative pruning 1e-3.
* ``sklearn ARDRegression`` (the peer): ``ARDRegression(fit_intercept=False)`` on the formed
  matrix: MacKay updates with Gamma(1e-6, 1e-6) hyperpriors, max_iter = 300, tol = 1e-3 on
  sum |w_new - w_old|, pruning at precision 1e4.

The stopping rules differ (they are each library's own): the comparison is at the defaults, and
the quality is measured here. The dense methods are given the formed matrix: building it is not
timed. They run only where N <= ``--dense-max-n`` (4,000): at N ~ 10^4 one ARD fit would take
from minutes to hours here; the table then says "not run" with an estimate extrapolated from the
largest measured problem with the same number of factors (ARD: time x (N/N0)^2 (M/M0), the cost
of its N x N posterior covariance; SBLRegressor: time x (M/M0)^2 (N/N0), its M x M Woodbury
solves) and the memory it would need.

Protocol: each problem size has a fixed list of seeds (0, 1, 2; ``--seeds-large K`` uses 0 ...
K-1 for N >= 2,000, where one ARD fit can take minutes, and a single seed is not representative:
ARD stops after 9 iterations with a useless estimate on seed 0 at N = 3375), the same for every
implementation. The first call
on seed 0 is timed apart (the "warm-up" column; nothing here is JIT-compiled). If the warm-up
times ``--repeat`` times the number of seeds fits in 30 s (5 s with ``--quick``), every seed is
then timed ``--repeat`` times (median per seed); otherwise each seed is timed once (the warm-up
call is then the timed seed-0 run). The median column is the median over seeds of those per-seed
times, min-max spans every timed call. Quality = NMSE = ||x_hat - x||^2 / ||x||^2 computed here
from ``coef_`` and averaged (linear) over the seeds; per-seed NMSE, iterations, convergence,
support recovery |S ∩ S_hat| / |S ∪ S_hat| (S_hat = {j : |x_hat_j| > 1e-3 max |x_hat|}) and
non-zero counts are printed below the table. Ratio = ARD median / this median on the same case.

A second table runs ``kronecker_sbl`` alone (single calls, ``--robust-seeds`` seeds) for a steadier
NMSE, with ``am`` also at max_iter = 1000 to separate slow convergence from a bad estimate, and
counts the work: iterations (E-steps) and inner AM sweeps (``result.info["am_sweeps"]``).

The timing claims once asserted in ``tests/solvers/test_kronecker_sbl.py`` live here (the tests
now assert work counts): AM-KroSBL takes longer than SVD-KroSBL (compare the two rows of a case)
and SVD-KroSBL is faster than classical SBL on the formed matrix (``SBLRegressor (dense)``).

Threads: the Kronecker solvers make hundreds of tiny BLAS/LAPACK calls per fit (eigh of m_i x m_i,
SVD of an n_1 x N/n_1 matrix, mode products) and ARD's time is dominated by ``pinvh`` (an
``eigh``) of an M x M matrix; with 2 BLAS threads on a 2-core machine that other processes also
load, such calls can become 10x slower and erratic (see the load average printed at the end).
Compare with ``--threads 1`` when the machine is not idle.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import Row, fmt_time, grid, parse_args, time_runs, write_json  # noqa: I001

import math
import statistics
import time
import warnings
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
from sklearn.linear_model import ARDRegression
from threadpoolctl import threadpool_limits

import sparsopt
from sparsopt.datasets import make_kronecker_problem
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.linalg import KroneckerOperator
from sparsopt.linear_model import KroneckerSBL, SBLRegressor
from sparsopt.solvers import kronecker_sbl

SNR = 20.0
N_NONZERO = 3  # per factor
REPEAT_BUDGET_S = 30.0  # repeat every seed only if warm-up x repeat x seeds fits in this
REPEAT_BUDGET_QUICK_S = 5.0
DENSE_MAX_N = 4_000  # dense methods (formed matrix) only up to this N (--dense-max-n)
SUPPORT_RTOL = 1e-3  # S_hat = {j : |x_hat_j| > 1e-3 max |x_hat|} (the paper's recover_rate.m)
ARD_MAX_ITER = 300  # ARDRegression's default, to flag runs that hit it
LARGE_N = 2_000  # from here on: --seeds-large seeds (default 3), and the goal applies

SVD, AM = "sparsopt KroneckerSBL svd", "sparsopt KroneckerSBL am"
DENSE, ARD = "sparsopt SBLRegressor (dense)", "sklearn ARDRegression"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- problems
@dataclass
class Problem:
    """One problem size and its seeds."""

    name: str
    measurements: tuple
    unknowns: tuple
    seeds: tuple
    dense: bool  # run the methods that need the formed matrix

    @property
    def M(self):
        return math.prod(self.measurements)

    @property
    def N(self):
        return math.prod(self.unknowns)

    @property
    def family(self):
        return len(self.unknowns)


def problem(unknowns, dense_max_n, seeds_large=3):
    ns = tuple(unknowns)
    ms = tuple((n + 1) // 2 for n in ns)
    N = math.prod(ns)
    seeds = tuple(range(3 if N < LARGE_N else seeds_large))
    name = f"{len(ns)}f n={ns[0]} N={N} M={math.prod(ms)}"
    return Problem(name, ms, ns, seeds, N <= dense_max_n)


def instance(prob, seed, formed):
    """Data of one seed (untimed): factors, operator, y, x and, if asked, the formed matrix."""
    factors, y, x = make_kronecker_problem(prob.measurements, prob.unknowns, N_NONZERO, snr=SNR,
                                           random_state=seed)
    d = {"factors": factors, "op": KroneckerOperator(factors), "y": y, "x": x, "seed": seed}
    if formed:
        d["A"] = np.ascontiguousarray(reduce(np.kron, factors))
    return d


# ----------------------------------------------------------------------------- metrics
def nmse(x_hat, x):
    x_hat = np.asarray(x_hat, dtype=np.float64)
    return float(np.sum((x_hat - x) ** 2) / np.sum(x ** 2))


def support_rate(x_hat, x):
    a = np.abs(np.asarray(x_hat, dtype=np.float64))
    s_hat = a > SUPPORT_RTOL * a.max() if a.max() > 0 else np.zeros(a.shape, dtype=bool)
    s = x != 0
    return float(np.sum(s & s_hat) / np.sum(s | s_hat))


# ----------------------------------------------------------------------------- implementations
def fit_kron(solver):
    return lambda d: KroneckerSBL(solver=solver).fit(d["op"], d["y"])


IMPLS = {
    SVD: fit_kron("svd"),
    AM: fit_kron("am"),
    DENSE: lambda d: SBLRegressor(fit_intercept=False).fit(d["A"], d["y"]),
    ARD: lambda d: ARDRegression(fit_intercept=False).fit(d["A"], d["y"]),
}
NEEDS_MATRIX = (DENSE, ARD)


def n_iter_converged(est):
    if isinstance(est, ARDRegression):
        return int(est.n_iter_), int(est.n_iter_) < ARD_MAX_ITER
    return int(est.n_iter_), bool(est.converged_)


@dataclass
class BenchRow(Row):
    """A harness row plus what this benchmark reports beside it."""

    runs: str = ""
    n_unknowns: int = 0
    seeds: tuple = ()
    nmse_seeds: list = field(default_factory=list)
    iters: list = field(default_factory=list)
    converged: list = field(default_factory=list)
    support: list = field(default_factory=list)
    nnz: list = field(default_factory=list)
    estimate: dict | None = None


def measure(prob, name, data, repeat, budget):
    """Warm up on seed 0, then time every seed (``repeat`` times, or once if too slow)."""
    fn = IMPLS[name]
    t0 = time.perf_counter()
    first = fn(data[0])
    t_first = time.perf_counter() - t0
    repeated = t_first * repeat * len(data) <= budget
    row = BenchRow(prob.name, name, 0.0, 0.0, 0.0, t_first if repeated else None, None,
                   n_unknowns=prob.N, seeds=prob.seeds)
    per_seed = []
    for k, d in enumerate(data):
        if repeated:
            first = None
            times, est = time_runs(lambda d=d: fn(d), repeat)
        elif k == 0:
            times, est, first = [t_first], first, None
        else:
            times, est = time_runs(lambda d=d: fn(d), 1)
        per_seed.append(statistics.median(times))
        row.times += times
        coef = np.asarray(est.coef_)
        row.nmse_seeds.append(nmse(coef, d["x"]))
        row.support.append(support_rate(coef, d["x"]))
        row.nnz.append(int(np.count_nonzero(coef)))
        it, conv = n_iter_converged(est)
        row.iters.append(it)
        row.converged.append(conv)
        del est
    row.median = statistics.median(per_seed)
    row.min, row.max = min(row.times), max(row.times)
    row.quality = float(np.mean(row.nmse_seeds))
    row.runs = (f"{len(data)} seed(s) x {repeat}" if repeated
                else f"{len(data)} seed(s) x 1 (no warm-up)")
    log(f"  {prob.name:<26}{name:<32}{fmt_time(row.median):>9}  NMSE {row.quality:.2e}")
    return row


def estimate(prob, name, measured):
    """Time and memory a skipped dense method would need, extrapolated from ``measured``:
    the largest problem with the same number of factors where it ran (or None)."""
    M, N = prob.M, prob.N
    gb = 8 * M * N / 1e9  # the formed matrix
    if name == ARD:  # copy of X, X_keep, X_keep / lambda and a product; N x N sigma twice
        peak = 8 * (4 * M * N + 2 * N * N) / 1e9
    else:  # A[:, idx], A Gamma, C^{-1} A (M x N each) and C (M x M)
        peak = 8 * (4 * M * N + M * M) / 1e9
    est = {"matrix_gb": gb, "peak_gb": peak, "seconds": None, "from": None}
    ref = measured.get((prob.family, name))
    if ref is not None:
        p0, t0 = ref
        if name == ARD:
            scale = (N / p0.N) ** 2 * (M / p0.M)
        else:
            scale = (M / p0.M) ** 2 * (N / p0.N)
        est.update(seconds=t0 * scale, **{"from": p0.name})
    return est


def fmt_duration(t):
    """Long durations in minutes or hours (estimates), else :func:`fmt_time`."""
    if t >= 7200:
        return f"{t / 3600:.2g} h"
    if t >= 120:
        return f"{t / 60:.2g} min"
    return fmt_time(t)


def not_run_row(prob, name, measured):
    est = estimate(prob, name, measured)
    row = BenchRow(prob.name, name, None, None, None, None, None, n_unknowns=prob.N,
                   estimate=est)
    t = "?" if est["seconds"] is None else f"~{fmt_duration(est['seconds'])}"
    row.runs = (f"not run: would take {t}; formed matrix {est['matrix_gb']:.2g} GB, "
                f"peak ~{est['peak_gb']:.2g} GB")
    return row


# ----------------------------------------------------------------------------- robustness table
@dataclass
class RobustRow:
    case: str
    impl: str
    seeds: int
    nmse_mean: float
    nmse_median: float
    nmse_max: float
    converged: int
    iters_median: float
    time_median: float
    am_sweeps_median: float  # inner AM sweeps per fit (result.info["am_sweeps"]; 0 for svd)


ROBUST = {
    "kronecker_sbl svd": {"solver": "svd"},
    "kronecker_sbl am": {"solver": "am"},
    "kronecker_sbl am max_iter=1000": {"solver": "am", "max_iter": 1000},
}


def robust_rows(prob, n_seeds):
    data = [instance(prob, s, formed=False) for s in range(n_seeds)]
    rows = []
    for label, kw in ROBUST.items():
        errs, conv, its, times, sweeps = [], 0, [], [], []
        for d in data:
            t0 = time.perf_counter()
            res = kronecker_sbl(d["factors"], d["y"], **kw)
            times.append(time.perf_counter() - t0)
            errs.append(nmse(res.x, d["x"]))
            conv += bool(res.converged)
            its.append(res.n_iter)
            sweeps.append(res.info["am_sweeps"])
        rows.append(RobustRow(prob.name, label, n_seeds, float(np.mean(errs)),
                              float(np.median(errs)), float(np.max(errs)), conv,
                              float(np.median(its)), float(np.median(times)),
                              float(np.median(sweeps))))
        log(f"  robust {prob.name:<26}{label:<32}mean NMSE {rows[-1].nmse_mean:.2e}")
    return rows


# ----------------------------------------------------------------------------- printing
def fmt_ratio(ratio):
    if ratio is None:
        return "-"
    return f"{ratio:.3g}" if ratio < 1000 else f"{ratio:.0f}"


def main_table(rows, markdown):
    """The harness table (same columns) plus a 'runs' column saying how each row was timed."""
    head = ["case", "implementation", "median", "min–max", "warm-up (1st call)", "NMSE",
            "ARD/this (>1 = faster)", "runs"]
    body = []
    for r in rows:
        if r.median is None:
            body.append([r.case, r.impl, "-", "-", "-", "-", "-", r.runs])
            continue
        body.append([r.case, r.impl, fmt_time(r.median), f"{fmt_time(r.min)}–{fmt_time(r.max)}",
                     fmt_time(r.warmup), f"{r.quality:.3g}",
                     fmt_ratio(r.ratio), r.runs])
    return grid(head, body, markdown, right={2, 3, 4, 5, 6})


def robust_table(rows, markdown):
    head = ["case", "implementation", "seeds", "NMSE mean", "median", "max", "converged",
            "iterations (median)", "AM sweeps (median)", "time (median)"]
    body = [[r.case, r.impl, str(r.seeds), f"{r.nmse_mean:.3g}", f"{r.nmse_median:.3g}",
             f"{r.nmse_max:.3g}", f"{r.converged}/{r.seeds}", f"{r.iters_median:g}",
             f"{r.am_sweeps_median:g}", fmt_time(r.time_median)] for r in rows]
    return grid(head, body, markdown, right={2, 3, 4, 5, 6, 7, 8, 9})


def extras_lines(rows):
    lines = []
    for r in rows:
        if r.median is None:
            continue
        cells = [f"NMSE {' '.join(f'{v:.2e}' for v in r.nmse_seeds)}",
                 f"iters {r.iters}", f"converged {sum(r.converged)}/{len(r.converged)}",
                 f"support {np.mean(r.support):.2f}", f"nnz {r.nnz}"]
        lines.append(f"  {r.case:<26}{r.impl:<32}" + "   ".join(cells))
    return lines


def goal_lines(rows, kron_names):
    """The issue's goal: >= 100x faster than ARD at N >= 2000 with an NMSE at most ARD's."""
    lines = []
    cases = list(dict.fromkeys(r.case for r in rows))
    for case in cases:
        rs = {r.impl: r for r in rows if r.case == case}
        if rs[ARD].n_unknowns < LARGE_N:
            continue
        ard = rs.get(ARD)
        for name in kron_names:
            r = rs[name]
            if ard is not None and ard.median is not None:
                ok = r.ratio >= 100 and r.quality <= ard.quality
                lines.append(f"  {case:<26}{name:<32}{r.ratio:8.0f}x faster, NMSE "
                             f"{r.quality:.2e} vs ARD {ard.quality:.2e}: "
                             f"{'met' if ok else 'NOT met'}")
            elif ard is not None and ard.estimate and ard.estimate["seconds"]:
                lines.append(f"  {case:<26}{name:<32}ARD not run; vs its estimated "
                             f"{fmt_duration(ard.estimate['seconds'])}: ~"
                             f"{ard.estimate['seconds'] / r.median:.0f}x faster "
                             f"(NMSE {r.quality:.2e})")
    return lines


# ----------------------------------------------------------------------------- main
def add_arguments(p):
    p.add_argument("--dense-max-n", type=int, default=DENSE_MAX_N,
                   help="run SBLRegressor and ARDRegression (formed matrix) only up to this N "
                        "(default: %(default)s)")
    p.add_argument("--seeds-large", type=int, default=3,
                   help=f"seeds per problem with N >= {LARGE_N} in table (a) (default: "
                        "%(default)s, as below)")
    p.add_argument("--robust-seeds", type=int, default=None,
                   help="seeds of the kronecker_sbl-only table (default: 5, --quick 3; 0 skips)")


def main(argv=None):
    """Parse arguments, run the benchmark, print the tables (and JSON)."""
    args = parse_args(__doc__.splitlines()[0], argv, add_arguments)
    sizes = ([(16, 16), (8, 8, 8)] if args.quick else
             [(24, 24), (10, 10, 10), (48, 48), (15, 15, 15), (100, 100), (22, 22, 22)])
    probs = [problem(ns, args.dense_max_n, args.seeds_large) for ns in sizes]
    n_robust = args.robust_seeds if args.robust_seeds is not None else (3 if args.quick else 5)
    budget = REPEAT_BUDGET_QUICK_S if args.quick else REPEAT_BUDGET_S
    warnings.simplefilter("ignore", ConvergenceWarning)  # counted in the 'converged' column
    import scipy
    import sklearn

    load0 = os.getloadavg()
    print(f"KroSBL benchmark: make_kronecker_problem, {N_NONZERO} non-zeros per factor, SNR "
          f"{SNR:g} dB, m_i = ceil(n_i/2); threads = {args.threads}, repeat = {args.repeat}")
    print(f"sparsopt {sparsopt.__version__}, scikit-learn {sklearn.__version__}, numpy "
          f"{np.__version__}, scipy {scipy.__version__}; {os.cpu_count()} CPUs, load average "
          f"{load0[0]:.2f} at start\n", flush=True)

    t_start = time.perf_counter()
    rows, robust = [], []
    measured = {}  # (n_factors, impl) -> (largest problem where it ran, median time)
    with threadpool_limits(limits=args.threads):
        for prob in probs:
            data = [instance(prob, s, formed=prob.dense) for s in prob.seeds]
            for name in (SVD, AM, DENSE, ARD):
                if name in NEEDS_MATRIX and not prob.dense:
                    rows.append(not_run_row(prob, name, measured))
                    continue
                rows.append(measure(prob, name, data, args.repeat, budget))
                measured[(prob.family, name)] = (prob, rows[-1].median)
            del data
        for r in rows:
            ard = next(a for a in rows if a.case == r.case and a.impl == ARD)
            r.ratio = (ard.median / r.median if ard.median is not None and r.median
                       else None)
        if n_robust > 0:
            for prob in probs:
                robust += robust_rows(prob, n_robust)
    elapsed = time.perf_counter() - t_start
    load1 = os.getloadavg()

    notes = [
        f"NMSE = ||x_hat - x||^2/||x||^2 from coef_, mean over the case's seeds (3 for N < "
        f"{LARGE_N}, {args.seeds_large} from {LARGE_N} on, counting from 0); problems from "
        f"make_kronecker_problem(m, n, {N_NONZERO}, snr={SNR:g}, random_state=seed), m_i = "
        "ceil(n_i/2).",
        f"{SVD} / {AM}: KroneckerSBL(solver=...).fit(KroneckerOperator(factors), y), library "
        "defaults (learned noise, max_iter=500, tol=1e-4); the Kronecker matrix is never formed.",
        f"{DENSE}: SBLRegressor(fit_intercept=False) (EM, learned noise, max_iter=300); "
        f"{ARD}: ARDRegression(fit_intercept=False), scikit-learn defaults (MacKay, max_iter="
        f"{ARD_MAX_ITER}, tol=1e-3 on sum|dw|). Both get the formed kron(A_1, ..., A_I), built "
        "outside the timing: their times are fit() only.",
        f"dense methods run only where N <= {args.dense_max_n}; 'not run' estimates extrapolate "
        "the median time of the largest measured problem with the same number of factors by "
        "(N/N0)^2 (M/M0) (ARD: N x N posterior covariance) or (M/M0)^2 (N/N0) (SBLRegressor: "
        "M x M Woodbury solves), at the same iteration count; memory: the formed matrix and "
        "a rough peak (ARD 4MN + 2N^2 doubles, SBLRegressor 4MN + M^2).",
        f"timing: first call on seed 0 timed apart (warm-up; no JIT here); rows whose warm-up x "
        f"repeat x seeds exceeds {budget:g} s are timed once per seed ('no warm-up': "
        "the first call is the seed-0 timing). median = median over seeds of the per-seed "
        "median; min–max over all timed calls.",
        "stopping rules are each library's own and differ (see the module docstring); 'converged' "
        f"below means the method's own rule was met before max_iter (ARD: n_iter_ < "
        f"{ARD_MAX_ITER}).",
        f"support = |S ∩ S_hat|/|S ∪ S_hat| with S_hat = {{|x_hat_j| > {SUPPORT_RTOL:g} "
        "max|x_hat|}; nnz = non-zeros of coef_ (ARD prunes by absolute precision, the SBL "
        "methods by relative gamma).",
        f"wall time of the whole run {elapsed:.0f} s; load average {load0[0]:.2f} at start, "
        f"{load1[0]:.2f} at end ({os.cpu_count()} CPUs): other processes compete for the cores "
        "when it exceeds the CPU count, and multi-threaded BLAS on small matrices suffers most.",
    ]
    print(f"(a) time and NMSE at the defaults (ratio = {ARD} median / this median)")
    print("\n".join(main_table(rows, args.markdown)))
    print("\nper-row metrics (per seed, computed here from coef_):")
    print("\n".join(extras_lines(rows)))
    goals = goal_lines(rows, (SVD, AM))
    if goals:
        print("\ngoal (>= 100x faster than ARDRegression at N >= 2000 with NMSE <= ARD's):")
        print("\n".join(goals))
    if robust:
        print(f"\n(b) kronecker_sbl alone, seeds 0-{n_robust - 1}, one call each (NMSE spread; "
              "defaults, and am with max_iter=1000)")
        print("\n".join(robust_table(robust, args.markdown)))
    print()
    for note in notes:
        print(f"note: {note}")
    if args.json:
        write_json(args.json, rows, args,
                   notes + extras_lines(rows) + goals
                   + [str(r.__dict__) for r in robust])
    return rows, robust


if __name__ == "__main__":
    main()
