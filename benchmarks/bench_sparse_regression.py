"""Non-convex sparse regression: sparsopt's working_set_cd against skglm (time to accuracy).

Run ``python benchmarks/bench_sparse_regression.py`` (about 15-30 minutes on 2 cores) or
``--quick`` (smaller problems; a smoke run).

Protocol (as ``bench_lasso.py``, benchopt style):

* same objective for both: ``1/(2n) ||y - Xw||^2 + pen(w)``, ``fit_intercept=False``, float64,
  for ``pen`` in MCP (gamma = 3), SCAD (gamma = 3.7) and l0.5 (``alpha sum_j |w_j|^(1/2)``),
  ``alpha`` in {alpha_max/10, alpha_max/100} with ``alpha_max = ||X^T y||_inf / n``;
* columns standardised (``||x_j||^2 / n = 1``): the coordinate prox of MCP (SCAD) needs
  ``gamma > n / ||x_j||^2`` (``> 1 + n / ||x_j||^2``) in both libraries;
* sparsopt: :func:`sparsopt.solvers.working_set_cd` (``ws_strategy="gs-s"`` for MCP and SCAD,
  ``"gs-r"`` for l0.5), from 0 and, for MCP and SCAD, also from the Lasso with the same
  ``alpha`` (``init="l1"``, the Lasso solve included in the time); skglm:
  ``GeneralizedLinearEstimator(Quadratic(), MCPenalty / SCAD / L0_5,
  AndersonCD(ws_strategy="subdiff" / "fixpoint" for L0_5))``: the same working-set
  strategies (skglm's ``subdiff`` is ours ``gs-s``, ``fixpoint`` ours ``gs-r``);
* ``F*`` = the smallest objective of the two tight runs (``tol=1e-12``), from the returned
  coefficients. Both start at 0, but a non-convex problem has many stationary points: when
  the two libraries end at different ones the notes say so (the one with the larger
  objective never reaches small ``eps``, shown as ``not reached``: compared at equal
  objective, that is a loss);
* table A: time to ``(F - F*) / F(0) <= eps`` with ``F*`` the best of both (equal
  objective); table B: with ``F*`` the solver's own tight objective (how fast each converges
  to the stationary point it ends at);
* each solver sweeps ``tol`` over 1e-2, 10^-2.5, ..., 1e-10 (loosest first, stopping once
  ``(F - F*) / F(0) <= 1e-8`` for both ``F*``, or when three settings in a row gain nothing
  after reaching its own end point); each setting is
  timed (median of ``--repeat`` runs; runs longer than 2 s are timed once); the time to reach
  ``eps`` is the fastest setting whose suboptimality is ``<= eps``, eps = 1e-4, 1e-6, 1e-8;
* JIT compilation excluded (one run per case before the sweep, reported separately); BLAS,
  OpenMP and Numba pinned to ``--threads`` (2).

Problems: dense correlated data (``skglm.utils.data.make_correlated_data(n_samples=1000,
n_features=5000, rho=0.6, snr=3, density=0.1, random_state=0)``) and sparse data (5000 x 20000
CSC, density 1e-3, Gaussian non-zeros, 100 non-zero true coefficients, SNR 3). ``--quick``:
300 x 1000 and 1000 x 4000 (density 5e-3).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import (  # noqa: I001
    _pin_numba, alpha_max, log, parse_args, print_notes_and_json, problem_sizes, sparse_problem,
    time_to_lines, tol_sweep,
)

import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import sparsopt
from sparsopt.penalties import MCP, SCAD, Lq
from sparsopt.solvers import working_set_cd

EPSILONS = (1e-4, 1e-6, 1e-8)
TOLS = tuple(10.0 ** (-k / 2) for k in range(4, 21))  # 1e-2, 3.2e-3, ..., 1e-10
TIGHT = 1e-12
PEER = "skglm"
NOTES = []
PENALTIES = {  # name: (sparsopt penalty, skglm penalty factory, skglm ws_strategy, ours)
    "mcp": (lambda a: MCP(alpha=a, gamma=3.0), "MCPenalty", (3.0,), "subdiff", "gs-s"),
    "scad": (lambda a: SCAD(alpha=a, gamma=3.7), "SCAD", (3.7,), "subdiff", "gs-s"),
    "l0.5": (lambda a: Lq(alpha=a, q=0.5), "L0_5", (), "fixpoint", "gs-r"),
}


# ----------------------------------------------------------------------------- data
def _standardize(X):
    if sp.issparse(X):
        s = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel())
        s[s == 0] = 1.0
        return sp.csc_matrix(X @ sp.diags(1.0 / s))
    s = np.sqrt((X ** 2).mean(axis=0))
    s[s == 0] = 1.0
    return np.asfortranarray(X / s)


def correlated_data(n, p):
    from skglm.utils.data import make_correlated_data

    X, y, _ = make_correlated_data(n_samples=n, n_features=p, rho=0.6, snr=3, density=0.1,
                                   random_state=0)
    return _standardize(X), y


def objective(w, d):
    r = d["y"] - d["X"] @ w
    return 0.5 / d["n"] * float(r @ r) + d["pen"].value(w)


# ----------------------------------------------------------------------------- solvers
def make_solvers(pen_name):
    make_pen, sk_name, sk_args, sk_strategy, ours = PENALTIES[pen_name]

    def run_ours(d, tol):
        res = working_set_cd(d["X"], d["y"], penalty=d["pen"], tol=tol, ws_strategy=ours,
                             max_iter=1000, max_epochs=10**6)
        return np.asarray(res.x, dtype=np.float64)

    solvers = {"sparsopt": run_ours}
    if pen_name in ("mcp", "scad"):
        def run_ours_l1(d, tol):  # the same solver started at the Lasso with the same alpha
            res = working_set_cd(d["X"], d["y"], penalty=d["pen"], tol=tol, ws_strategy=ours,
                                 max_iter=1000, max_epochs=10**6, init="l1")
            return np.asarray(res.x, dtype=np.float64)

        solvers["sparsopt init=l1"] = run_ours_l1
    try:
        import skglm.penalties as skpen
        from skglm import GeneralizedLinearEstimator
        from skglm.datafits import Quadratic
        from skglm.solvers import AndersonCD

        def run_skglm(d, tol):
            est = GeneralizedLinearEstimator(
                Quadratic(), getattr(skpen, sk_name)(d["alpha"], *sk_args),
                AndersonCD(tol=tol, fit_intercept=False, ws_strategy=sk_strategy,
                           max_iter=1000, max_epochs=10**6))
            est.fit(d["X"], d["y"])
            return np.asarray(est.coef_, dtype=np.float64).ravel()

        solvers["skglm"] = run_skglm
    except ImportError:
        NOTES.append("skglm is not installed: skipped (pip install skglm).")
    return solvers, make_pen


# ----------------------------------------------------------------------------- protocol
def prepare(name, X, y, divisor, solvers, make_pen):
    alpha = alpha_max(X, y) / divisor
    d = {"X": X, "y": y, "n": X.shape[0], "alpha": alpha, "pen": make_pen(alpha), "case": name}
    d["F0"] = objective(np.zeros(X.shape[1]), d)
    log(f"{name}: F* from tight runs")
    ends = {k: objective(fn(d, TIGHT), d) for k, fn in solvers.items()}
    d["Fstar"] = min(ends.values())
    d["ends"] = ends
    return d


def sweep(d, name, fn, repeat):
    """Warm-up, then the tol sweep: list of (tol, median seconds, (F - F*) / F(0), (F - F_own)
    / F(0)); it stops at 1e-8 for both, or after three settings in a row that gain nothing
    once the solver's own end point is reached."""
    eps = min(EPSILONS)

    def score(w):
        f = objective(w, d)
        return (f - d["Fstar"]) / d["F0"], (f - d["ends"][name]) / d["F0"]

    def done(runs):
        q, q_own = runs[-1][2:]
        stuck = len(runs) > 3 and all(runs[i][2] >= 0.999 * runs[i - 1][2] for i in (-3, -2, -1))
        return max(q, q_own) <= eps or (stuck and q_own <= eps)

    return tol_sweep(lambda tol: fn(d, tol), TOLS, repeat, score, done,
                     label=f"{d['case']:<38}{name:<18}")


def main(argv=None):
    """Parse arguments, run the benchmark, print the table (and JSON)."""
    def extra(parser):
        parser.add_argument("--penalties", nargs="+", default=list(PENALTIES),
                            choices=list(PENALTIES), help="the penalties to run")

    args = parse_args(__doc__.splitlines()[0], argv, extra)
    warnings.simplefilter("ignore")
    import numba

    try:
        import skglm
        skglm_v = skglm.__version__
    except ImportError:
        skglm_v = "missing"
    print(f"Sparse regression benchmark: threads = {args.threads}, repeat = {args.repeat}")
    print(f"sparsopt {sparsopt.__version__}, numpy {np.__version__}, numba "
          f"{numba.__version__}, skglm {skglm_v}\n", flush=True)
    dense_shape, sparse_shape, density = problem_sizes(args.quick)
    datasets = [
        (f"dense {dense_shape[0]}x{dense_shape[1]}", correlated_data(*dense_shape)),
        (f"sparse {sparse_shape[0]}x{sparse_shape[1]}",
         sparse_problem(*sparse_shape, density, transform=_standardize)),
    ]
    rows, results = [], {}
    _pin_numba(args.threads)
    with threadpool_limits(limits=args.threads):
        for pen_name in args.penalties:
            solvers, make_pen = make_solvers(pen_name)
            for data_name, (X, y) in datasets:
                for divisor in (10, 100):
                    case = f"{pen_name} {data_name} a_max/{divisor}"
                    d = prepare(case, X, y, divisor, solvers, make_pen)
                    for name, fn in solvers.items():
                        warm, runs = sweep(d, name, fn, args.repeat)
                        results[(case, name)] = (warm, runs)
                        rows.append({"case": case, "solver": name, "warmup": warm,
                                     "runs": runs, "Fstar": d["Fstar"], "F0": d["F0"]})
                    ends = ", ".join(f"{k} {(v - d['Fstar']) / d['F0']:.1e}"
                                     for k, v in d["ends"].items())
                    same = max(d["ends"].values()) - d["Fstar"] <= 1e-9 * d["F0"]
                    NOTES.append(f"{case}: F* = {d['Fstar']:.12g}; tight runs end at (F - F*) / "
                                 f"F(0) = {ends}"
                                 + ("" if same else " -> different stationary points"))
    for own in (False, True):
        if not own:
            print("A. time to reach (F - F*)/F(0) <= eps, F* the best objective of both "
                  "libraries (equal objective); xR = skglm time / this time (>1: faster)\n")
        else:
            print("B. time to reach (F - F_own)/F(0) <= eps, F_own the solver's own tight "
                  "objective (its own stationary point); xR as above\n")
        lines = time_to_lines(results, EPSILONS, PEER, args.markdown, column=3 if own else 2,
                              peer_missing=" (peer: not reached)")
        print("\n".join(lines))
        print()
    print_notes_and_json(args, NOTES, rows)
    return results


if __name__ == "__main__":
    main()
