"""Low-rank matrix completion: sparsopt AltMin (and soft-impute) against fancyimpute and
scikit-learn's imputers; and the normal-equations vs sketch crossover.

Run ``python benchmarks/bench_completion.py`` (n = 1000, 5000, 20000; rank 10) or
``--quick`` (n = 1000 only), ``--n 1000 5000`` to choose sizes, ``--crossover`` for the
solver crossover table only.

Problems (spec ``matrix_completion.md`` 3(d)): ``M = U V^T`` with ``U``, ``V`` i.i.d.
N(0, 1) of rank k = 10, each entry observed with probability ``p = 5 k log(n) / n``
(``sparsopt.datasets.make_low_rank_completion``, seed 0), no noise, n x n. The same
observed entries go to every method: a SciPy CSR matrix to sparsopt, the dense n x n array
with NaN at the missing entries to the peers (built before timing; excluded from times).

Methods (rank k given to all of them):

* ``altmin``: ``sparsopt.completion.altmin_complete(X, k, solver="normal", tol=1e-10,
  n_jobs=threads)``; ``altmin-sketch``: the same with ``solver="sketch"``;
* ``soft_impute``: ``sparsopt.completion.soft_impute(X, k)`` (fancyimpute's default
  ``alpha = sigma_max / 50``), sparse + low-rank iterations;
* ``fancyimpute SoftImpute(max_rank=k)`` (default shrinkage, ``max_iters`` 100) and
  ``IterativeSVD(rank=k)``: fancyimpute 0.7.0 calls ``check_array(force_all_finite=...)``,
  removed in scikit-learn 1.8; this script (only) patches the name ``check_array`` in its
  modules to map it to ``ensure_all_finite`` (spec 3(e)). At n = 5000 their ``max_iters``
  is capped (``--peer-iters``, default 10) to keep the run in minutes; they are not run at
  n = 20000 (the dense float64 matrix alone is 3.2 GB);
* scikit-learn ``KNNImputer(n_neighbors=10)`` and ``IterativeImputer(max_iter=5,
  n_nearest_features=2k, random_state=0)`` (feature-wise imputers, not completion
  methods; n = 1000 only).

Error: relative error ``||X_hat - M|| / ||M||`` over 10^6 unobserved entries drawn at
random (all of them when fewer): the relative RMSE on unobserved entries. sparsopt's
solvers record their iterates through ``callback`` (a copy of the factors, O((m + n) k),
and the elapsed time); errors are computed afterwards, so "time to reach eps" is read from
the trace. The peers return one matrix: their time to eps is their total time when their
final error is <= eps. "At equal time" compares each peer's final error with AltMin's error
at the last iterate recorded before the peer's time. Each method runs once (the runs are
long and deterministic); a small problem is solved first to load the Numba kernels (timed
apart). Threads: ``--threads`` (2) for BLAS and sparsopt's ``n_jobs``.

Crossover (``--crossover`` or part of a full run): one half step (all rows' least-squares
solves) of ``als_normal_solve`` against ``als_sketch_solve`` (CountSketch, s = 4k, 4 CG
iterations), for k in {5, 20, 64, 128} and mean row length L in {2s, 8s, 32s} (random
patterns, 2e7 / (L k) rows, at least 50), median of 3 calls after a warm-up call.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import fmt_time, grid, parse_args  # noqa: E402,I001  (pins threads first)

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

EPS = (1e-2, 1e-4, 1e-8)


def _add_args(p):
    p.add_argument("--n", type=int, nargs="+", default=None, help="matrix sizes")
    p.add_argument("--rank", type=int, default=10)
    p.add_argument("--crossover", action="store_true", help="only the solver crossover")
    p.add_argument("--no-crossover", action="store_true", help="skip the crossover table")
    p.add_argument("--peer-iters", type=int, default=10,
                   help="fancyimpute max_iters at n = 5000 (default: 10)")


def _patch_fancyimpute():
    """fancyimpute 0.7.0 on scikit-learn >= 1.8: map force_all_finite to ensure_all_finite."""
    import fancyimpute
    import sklearn.utils
    from fancyimpute import iterative_svd, soft_impute, solver

    def check_array(*args, force_all_finite=None, **kwargs):
        if force_all_finite is not None:
            kwargs["ensure_all_finite"] = force_all_finite
        return sklearn.utils.check_array(*args, **kwargs)

    for mod in (solver, soft_impute, iterative_svd):
        if hasattr(mod, "check_array"):
            mod.check_array = check_array
    return fancyimpute


def _problem(n, k):
    from sparsopt.datasets import make_low_rank_completion

    p = min(1.0, 5 * k * np.log(n) / n)
    X, U, V = make_low_rank_completion(n, n, k, density=p, random_state=0)
    rng = np.random.default_rng(1)
    n_eval = min(10**6, n * n - X.nnz)
    rows = rng.integers(0, n, size=2 * n_eval)
    cols = rng.integers(0, n, size=2 * n_eval)
    observed = np.asarray(X[rows, cols]).ravel() != 0
    rows, cols = rows[~observed][:n_eval], cols[~observed][:n_eval]
    truth = np.einsum("ij,ij->i", U[rows], V[cols])
    return X, p, rows, cols, truth


def _err(pred, truth):
    return float(np.linalg.norm(pred - truth) / np.linalg.norm(truth))


def _traced(fn, X, k, rows, cols, truth, **kw):
    trace = []

    def cb(state):
        U, V = state.x
        trace.append((state.elapsed, U.copy(), V.copy()))

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fn(X, k, callback=cb, **kw)
    total = time.perf_counter() - t0
    # the monitor's clock starts after validation; shift it to the call's clock
    shift = total - res.info["time"]
    points = [(t + shift, _err(np.einsum("ij,ij->i", U[rows], V[cols]), truth))
              for t, U, V in trace]
    final = _err(res.predict(rows, cols), truth)
    points.append((total, final))
    return dict(time=total, err=final, trace=points, n_iter=res.n_iter,
                work=res.info.get("work"))


def _dense_run(fn, X_dense, rows, cols, truth):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(X_dense)
    total = time.perf_counter() - t0
    return dict(time=total, err=_err(out[rows, cols], truth), trace=None)


def _time_to(run, eps):
    if run["trace"] is None:
        return run["time"] if run["err"] <= eps else None
    for t, e in run["trace"]:
        if e <= eps:
            return t
    return None


def _err_at(run, t):
    best = None
    for tt, e in run["trace"]:
        if tt <= t:
            best = e
    return best


def bench_size(n, k, args):
    from sparsopt.completion import altmin_complete, soft_impute

    X, p, rows, cols, truth = _problem(n, k)
    print(f"\n## n = {n}, rank {k}, p = {p:.4f}, |Omega| = {X.nnz}, "
          f"evaluated on {rows.size} unobserved entries", flush=True)
    runs = {}
    runs["altmin"] = _traced(altmin_complete, X, k, rows, cols, truth, solver="normal",
                             random_state=0, n_jobs=args.threads)
    runs["altmin-sketch"] = _traced(altmin_complete, X, k, rows, cols, truth,
                                    solver="sketch", random_state=0, n_jobs=args.threads)
    runs["soft_impute"] = _traced(soft_impute, X, k, rows, cols, truth, random_state=0,
                                  n_jobs=args.threads)
    if n <= 5000:
        fi = _patch_fancyimpute()
        D = np.full((n, n), np.nan)
        D[X.nonzero()] = X.data
        iters = {} if n <= 1000 else dict(max_iters=args.peer_iters)
        runs["fancyimpute SoftImpute"] = _dense_run(
            lambda A: fi.SoftImpute(max_rank=k, verbose=False, **iters).fit_transform(A),
            D, rows, cols, truth)
        runs["fancyimpute IterativeSVD"] = _dense_run(
            lambda A: fi.IterativeSVD(rank=k, verbose=False, **iters).fit_transform(A),
            D, rows, cols, truth)
        if n <= 1000:
            from sklearn.experimental import enable_iterative_imputer  # noqa: F401
            from sklearn.impute import IterativeImputer, KNNImputer

            runs["sklearn KNNImputer"] = _dense_run(
                lambda A: KNNImputer(n_neighbors=10).fit_transform(A), D, rows, cols, truth)
            runs["sklearn IterativeImputer"] = _dense_run(
                lambda A: IterativeImputer(max_iter=5, n_nearest_features=2 * k,
                                           random_state=0).fit_transform(A),
                D, rows, cols, truth)
        del D
    head = ["method", "time", "final rel. error"] + [f"time to {e:g}" for e in EPS] + \
        ["AltMin error at that time", "peer / AltMin error"]
    body = []
    for name, run in runs.items():
        row = [name, fmt_time(run["time"]), f"{run['err']:.2e}"]
        row += [fmt_time(_time_to(run, e)) if _time_to(run, e) is not None else "not reached"
                for e in EPS]
        if name != "altmin":
            ours = _err_at(runs["altmin"], run["time"])
            row += ["(not started)" if ours is None else f"{ours:.2e}",
                    "-" if ours is None else f"{run['err'] / max(ours, 1e-300):.3g}"]
        else:
            row += [f"{run['n_iter']} iterations", f"work (nnz k iters) {run['work']:.3g}"]
        body.append(row)
    print("\n".join(grid(head, body, args.markdown, right=set(range(1, len(head))))))
    return runs


def crossover(args):
    from sparsopt.backends import kernel_for

    rng = np.random.default_rng(0)
    head = ["k", "s = 4k", "row length L", "rows", "normal", "sketch", "sketch / normal"]
    body = []
    for k in (5, 20, 64, 128):
        s = 4 * k
        for mult in (2, 8, 32):
            L = mult * s
            m = max(50, int(2e7 // (L * k)))
            n_cols = max(2 * L, 1000)
            indices = np.concatenate([np.sort(rng.choice(n_cols, L, replace=False))
                                      for _ in range(m)]).astype(np.int32)
            indptr = np.arange(m + 1, dtype=np.int64) * L
            data = rng.standard_normal(m * L)
            F = rng.standard_normal((n_cols, k))
            out = np.zeros((m, k))
            kn = kernel_for("als_normal_solve", data)
            ks = kernel_for("als_sketch_solve", data)
            pat = (indptr, indices, data, F)
            calls = {"normal": (kn, pat + (1e-12, 0.0, out)),
                     "sketch": (ks, pat + (1e-12, 0.0, s, 4, 7, 0, False, out))}
            t = {}
            for name, (fn, fargs) in calls.items():
                fn(*fargs)
                ts = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    fn(*fargs)
                    ts.append(time.perf_counter() - t0)
                t[name] = float(np.median(ts))
            body.append([str(k), str(s), f"{L} ({mult}s)", str(m), fmt_time(t["normal"]),
                         fmt_time(t["sketch"]), f"{t['sketch'] / t['normal']:.2f}"])
            print(f"crossover k={k} L={L}: {t}", flush=True)
    print("\n## normal equations vs sketch-preconditioned CGLS, one half step (one thread)")
    print("\n".join(grid(head, body, args.markdown, right=set(range(1, len(head))))))


def main():
    args = parse_args(__doc__.splitlines()[0], add_arguments=_add_args)
    sizes = args.n or ([1000] if args.quick else [1000, 5000, 20000])
    with threadpool_limits(args.threads):
        from sparsopt.completion import altmin_complete
        from sparsopt.datasets import make_low_rank_completion

        X, _, _ = make_low_rank_completion(60, 50, 3, density=0.5, random_state=0)
        t0 = time.perf_counter()
        for solver in ("normal", "sketch"):
            altmin_complete(X, 3, solver=solver, random_state=0, max_iter=2, tol=0.1)
        print(f"warm-up (Numba compile or cache load): {time.perf_counter() - t0:.2f} s")
        if args.crossover:
            with threadpool_limits(1):
                crossover(args)
            return
        for n in sizes:
            bench_size(n, args.rank, args)
        if not args.no_crossover:
            with threadpool_limits(1):
                crossover(args)


if __name__ == "__main__":
    main()
