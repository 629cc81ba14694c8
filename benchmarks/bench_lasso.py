"""Lasso: sparsopt.linear_model.Lasso against scikit-learn, skglm and celer (time to accuracy).

Run ``python benchmarks/bench_lasso.py`` (about 10-20 minutes on 2 cores) or ``--quick``
(smaller problems; a smoke run).

Protocol (``shared/specs/bcd.md`` §1(e), benchopt style):

* same objective for everybody: ``1/(2n) ||y - Xw||^2 + alpha ||w||_1``, ``fit_intercept=False``,
  float64, ``alpha`` in {alpha_max/10, alpha_max/100} with ``alpha_max = ||X^T y||_inf / n``;
* ``F*`` = the smallest objective of two very tight runs (sparsopt ``tol=1e-14``, skglm
  ``tol=1e-14``), computed here from the returned coefficients;
* each solver sweeps its ``tol`` over 1e-2, 10^-2.5, 1e-3, ..., 1e-10 (half decades, loosest
  first, stopping once the relative suboptimality ``(F - F*) / F(0)`` is below 1e-8); each
  setting is timed (median of ``--repeat`` runs; runs longer than 2 s are timed once) and
  scored; the time to reach
  ``eps`` is the fastest setting whose suboptimality is ``<= eps``, for eps = 1e-4, 1e-6, 1e-8.
  ``tol`` does not mean the same thing across solvers (duality gap for scikit-learn, celer and
  sparsopt; KKT violation for skglm), which is why they are compared at equal *accuracy*;
* JIT compilation is excluded: every solver is run once on the case before its sweep (and that
  run's time is reported separately); BLAS, OpenMP and Numba are pinned to ``--threads`` (2).

Problems: dense correlated data (``skglm.utils.data.make_correlated_data(n_samples=1000,
n_features=5000, rho=0.6, snr=3, density=0.1, random_state=0)``) and sparse data (5000 x 20000
CSC, density 1e-3, Gaussian non-zeros, 100 non-zero true coefficients, SNR 3). ``--quick``:
300 x 1000 and 1000 x 4000 (density 5e-3).

Peers that are not installed are skipped with a note (``pip install celer==0.7.4 skglm``).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import (  # noqa: I001
    _pin_numba, alpha_max, log, parse_args, print_notes_and_json, problem_sizes, sparse_problem,
    time_to_lines, tol_sweep,
)

import importlib
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import sparsopt
from sparsopt.linear_model._lasso import Lasso

EPSILONS = (1e-4, 1e-6, 1e-8)
TOLS = tuple(10.0 ** (-k / 2) for k in range(4, 21))  # 1e-2, 3.2e-3, ..., 1e-10
PEER = "skglm"
NOTES = []


# ----------------------------------------------------------------------------- data
def correlated_data(n, p):
    try:
        from skglm.utils.data import make_correlated_data
    except ImportError:  # same recipe: AR(1) columns, sparse Gaussian truth, SNR 3
        rng = np.random.default_rng(0)
        rho = 0.6
        Z = rng.standard_normal((n, p))
        X = np.empty((n, p))
        X[:, 0] = Z[:, 0]
        for j in range(1, p):
            X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
        w = np.zeros(p)
        k = int(0.1 * p)
        w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
        y = X @ w
        y += rng.standard_normal(n) * np.linalg.norm(y) / (3 * np.sqrt(n))
        NOTES.append("skglm missing: dense data from the equivalent AR(1) generator here.")
        return np.asfortranarray(X), y
    X, y, _ = make_correlated_data(n_samples=n, n_features=p, rho=0.6, snr=3, density=0.1,
                                   random_state=0)
    return np.asfortranarray(X), y


def objective(w, d):
    r = d["y"] - d["X"] @ w
    return 0.5 / d["n"] * float(r @ r) + d["alpha"] * float(np.abs(w).sum())


# ----------------------------------------------------------------------------- solvers
def _fit(est, d):
    est.fit(d["X"], d["y"])
    return np.asarray(est.coef_, dtype=np.float64).ravel()


def make_solvers():
    solvers = {
        "sparsopt": lambda d, tol: _fit(Lasso(alpha=d["alpha"], fit_intercept=False, tol=tol,
                                              max_iter=10**6), d),
    }
    from sklearn.linear_model import Lasso as SkLasso

    solvers["scikit-learn"] = lambda d, tol: _fit(SkLasso(alpha=d["alpha"], fit_intercept=False,
                                                          tol=tol, max_iter=10**6), d)
    try:
        from skglm import Lasso as SkglmLasso

        solvers["skglm"] = lambda d, tol: _fit(SkglmLasso(alpha=d["alpha"], fit_intercept=False,
                                                          tol=tol, max_iter=1000), d)
    except ImportError:
        NOTES.append("skglm is not installed: skipped (pip install skglm).")
    try:
        from celer import Lasso as CelerLasso

        solvers["celer"] = lambda d, tol: _fit(CelerLasso(alpha=d["alpha"], fit_intercept=False,
                                                          tol=tol, max_iter=1000), d)
    except ImportError:
        NOTES.append("celer is not installed: skipped (pip install celer==0.7.4).")
    return solvers


# ----------------------------------------------------------------------------- protocol
def prepare(name, X, y, divisor, solvers):
    d = {"X": X, "y": y, "n": X.shape[0], "alpha": alpha_max(X, y) / divisor, "case": name}
    d["F0"] = objective(np.zeros(X.shape[1]), d)
    log(f"{name}: F* from tight runs")
    tight = [solvers["sparsopt"](d, 1e-14)]
    if "skglm" in solvers:
        tight.append(solvers["skglm"](d, 1e-14))
    fs = [objective(w, d) for w in tight]
    d["Fstar"] = min(fs)
    d["tight_spread"] = (max(fs) - min(fs)) / d["F0"]
    d["nnz"] = int(np.count_nonzero(tight[int(np.argmin(fs))]))
    return d


def sweep(d, name, fn, repeat):
    """Warm-up, then the tol sweep: list of (tol, median seconds, relative suboptimality)."""
    return tol_sweep(lambda tol: fn(d, tol), TOLS, repeat,
                     score=lambda w: ((objective(w, d) - d["Fstar"]) / d["F0"],),
                     done=lambda runs: runs[-1][2] <= min(EPSILONS),
                     label=f"{d['case']:<34}{name:<14}")


def main(argv=None):
    """Parse arguments, run the benchmark, print the table (and JSON)."""
    args = parse_args(__doc__.splitlines()[0], argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    import numba
    import sklearn

    solvers = make_solvers()
    versions = {m: getattr(importlib.import_module(m), "__version__", "?")
                for m in ("skglm", "celer") if m in solvers}
    print(f"Lasso benchmark: threads = {args.threads}, repeat = {args.repeat}")
    print(f"sparsopt {sparsopt.__version__}, scikit-learn {sklearn.__version__}, numpy "
          f"{np.__version__}, numba {numba.__version__}, "
          + ", ".join(f"{k} {v}" for k, v in versions.items()) + "\n", flush=True)
    dense_shape, sparse_shape, density = problem_sizes(args.quick)
    datasets = [
        (f"dense {dense_shape[0]}x{dense_shape[1]} rho=0.6", correlated_data(*dense_shape)),
        (f"sparse {sparse_shape[0]}x{sparse_shape[1]}", sparse_problem(*sparse_shape, density)),
    ]
    rows, results = [], {}
    _pin_numba(args.threads)
    with threadpool_limits(limits=args.threads):
        for data_name, (X, y) in datasets:
            for divisor in (10, 100):
                case = f"{data_name} a_max/{divisor}"
                d = prepare(case, X, y, divisor, solvers)
                for name, fn in solvers.items():
                    warm, runs = sweep(d, name, fn, args.repeat)
                    results[(case, name)] = (warm, runs)
                    rows.append({"case": case, "solver": name, "warmup": warm, "runs": runs,
                                 "Fstar": d["Fstar"], "F0": d["F0"], "nnz": d["nnz"]})
                log(f"{case}: F* = {d['Fstar']:.12g}, nnz = {d['nnz']}, spread of the tight "
                    f"runs = {d['tight_spread']:.1e}")
                NOTES.append(f"{case}: F* = {d['Fstar']:.12g}, support at F* = {d['nnz']}, "
                             f"(F(sparsopt 1e-14) - F(skglm 1e-14)) spread / F(0) = "
                             f"{d['tight_spread']:.1e}")
    print("time to reach (F - F*)/F(0) <= eps (median of the fastest tol setting that reaches "
          f"it); xR = {PEER} time / this time (>1: faster than {PEER})\n")
    print("\n".join(time_to_lines(results, EPSILONS, PEER, args.markdown)))
    print()
    print_notes_and_json(args, NOTES, rows)
    return results


if __name__ == "__main__":
    main()
