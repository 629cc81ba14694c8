"""Small benchmark harness shared by the scripts in ``benchmarks/`` (and ``gpu/bench_gpu.py``).

Rules it enforces (``shared/specs/BENCHMARKING.md``): float64 data is the caller's job; threads
are pinned (2 by default) through the environment *and* ``threadpoolctl``; every callable is
warmed up once (JIT compilation) and that call is timed and reported separately; the timing is
the median of ``repeat`` runs (``time.perf_counter``) with the min and max; the quality metric is
computed *outside* the library, by a user function applied to the returned object.

Usage from a script::

    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _harness import Case, Impl, parse_args, print_table, run_cases, write_json

    args = parse_args("What this benchmark compares.")
    rows = run_cases([Case("n=1e6", setup)], [Impl("ours", fn, quality), Impl("peer", g, q)],
                     repeat=args.repeat, threads=args.threads, peer="peer")
    print_table(rows, peer="peer", markdown=args.markdown)

Importing this module sets ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``
and ``NUMBA_NUM_THREADS`` from ``--threads`` (default 2) when NumPy is not imported yet, so import
it before NumPy and Numba.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from threadpoolctl import threadpool_limits  # imports neither numpy nor numba

DEFAULT_THREADS = 2
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def _threads_from_argv(argv):
    """Value of ``--threads N`` / ``--threads=N`` in ``argv``, else :data:`DEFAULT_THREADS`."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--threads" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--threads="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit() and int(value) > 0:
            return int(value)
    return DEFAULT_THREADS


def set_thread_env(n_threads):
    """Set the four thread-count environment variables to ``n_threads`` (effective only if
    done before NumPy/Numba are imported)."""
    for var in _THREAD_VARS:
        os.environ[var] = str(int(n_threads))


if "numpy" not in sys.modules and "numba" not in sys.modules:
    set_thread_env(_threads_from_argv(sys.argv))


@dataclass
class Case:
    """A problem instance: ``setup()`` builds the data (untimed) handed to every ``Impl.fn``.

    ``check(results, data)``, if given, runs after all warm-ups and before any timing, with
    ``results`` mapping implementation name to its warm-up output; raise to abort (e.g. assert
    that all implementations compute the same thing).
    """

    name: str
    setup: Callable[[], Any]
    check: Callable[[dict, Any], None] | None = None


@dataclass
class Impl:
    """``fn(data) -> result``; optional ``quality(result, data) -> float``; ``only``: case names."""

    name: str
    fn: Callable[[Any], Any]
    quality: Callable[[Any, Any], float] | None = None
    only: tuple[str, ...] | None = None


@dataclass
class Row:
    """One measured (case, implementation) pair; times in seconds."""

    case: str
    impl: str
    median: float
    min: float
    max: float
    warmup: float
    quality: float | None
    times: list[float] = field(default_factory=list)
    ratio: float | None = None


def time_runs(fn, repeat):
    """Call ``fn()`` ``repeat`` times; return the durations (s) and the last output.

    The previous output is released before each call so that memory stays bounded.
    """
    times, result = [], None
    for _ in range(repeat):
        result = None
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def time_callable(fn, repeat=5):
    """Warm up ``fn()`` once (JIT compilation lands there), then time ``repeat`` calls.

    Returns ``(warmup_seconds, list_of_seconds, last_output)``.
    """
    t0 = time.perf_counter()
    first = fn()
    warmup = time.perf_counter() - t0
    times, result = time_runs(fn, repeat)
    return warmup, times, (first if repeat == 0 else result)


def compute_ratios(rows, peer):
    """Set ``row.ratio = peer_median / row.median`` per case (>1: the row beats the peer)."""
    peers = {r.case: r.median for r in rows if r.impl == peer}
    for r in rows:
        p = peers.get(r.case)
        r.ratio = p / r.median if p is not None and r.median > 0 else None
    return rows


def _pin_numba(n_threads):
    """Set Numba's thread count if Numba is loaded (capped by NUMBA_NUM_THREADS)."""
    nb = sys.modules.get("numba")
    if nb is not None:
        try:
            nb.set_num_threads(min(int(n_threads), nb.config.NUMBA_NUM_THREADS))
        except Exception:  # numba without a threading layer: nothing to pin
            pass


def run_cases(cases, impls, repeat=5, threads=DEFAULT_THREADS, peer=None, verbose=True):
    """Warm up, time and score every implementation on every case.

    Everything (set-up, warm-up, timings) runs under ``threadpool_limits(threads)`` and with
    Numba's thread count set to ``threads``. Returns a list of :class:`Row` (ratios filled if
    ``peer`` names an implementation). ``verbose``: one progress line per row on stderr.
    """
    rows = []
    _pin_numba(threads)
    with threadpool_limits(limits=threads):
        for case in cases:
            data = case.setup()
            todo = [im for im in impls if im.only is None or case.name in im.only]
            outputs, warm = {}, {}
            for im in todo:  # warm-ups first, so that `check` sees every output
                t0 = time.perf_counter()
                outputs[im.name] = im.fn(data)
                warm[im.name] = time.perf_counter() - t0
            if case.check is not None:
                case.check(outputs, data)
            outputs.clear()
            for im in todo:
                times, result = time_runs(lambda im=im, data=data: im.fn(data), repeat)
                quality = im.quality(result, data) if im.quality is not None else None
                del result
                rows.append(Row(case.name, im.name, statistics.median(times), min(times),
                                max(times), warm[im.name], quality, times))
                if verbose:
                    print(f"  {case.name:<24}{im.name:<28}{fmt_time(rows[-1].median)}",
                          file=sys.stderr, flush=True)
    return compute_ratios(rows, peer) if peer else rows


def fmt_time(t):
    """Human-readable duration: s, ms or µs with 3 significant digits."""
    if t is None:
        return "-"
    if t >= 1.0:
        return f"{t:.3g} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} µs"


def table_lines(rows, peer=None, markdown=False):
    """Lines of the result table (plain aligned text or GitHub markdown)."""
    ratio_head = f"{peer}/this (>1 = faster)" if peer else "ratio"
    head = ["case", "implementation", "median", "min–max", "warm-up (1st call)", "quality",
            ratio_head]
    body = []
    for r in rows:
        q = "-" if r.quality is None else f"{r.quality:.3g}"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        body.append([r.case, r.impl, fmt_time(r.median),
                     f"{fmt_time(r.min)}–{fmt_time(r.max)}", fmt_time(r.warmup), q, ratio])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return lines + ["| " + " | ".join(b) + " |" for b in body]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    right = {2, 3, 4, 5, 6}

    def fmt(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body]


def print_table(rows, peer=None, markdown=False, notes=(), file=None):
    """Print the table of ``rows`` and the ``notes`` below it."""
    out = file or sys.stdout
    print("\n".join(table_lines(rows, peer, markdown)), file=out)
    if peer:
        print(f"\nratio = {peer} median time / this median time (>1: faster than {peer}).",
              file=out)
    for note in notes:
        print(f"note: {note}", file=out)


def environment(threads):
    """Dictionary describing the machine and library versions for the JSON output."""
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "processor": platform.processor(), "cpu_count": os.cpu_count(), "threads": threads}
    for mod in ("numpy", "numba", "sparsopt", "skglm", "ot", "cupy"):
        m = sys.modules.get(mod)
        if m is not None:
            env[mod] = getattr(m, "__version__", "?")
    return env


def write_json(path, rows, args=None, notes=()):
    """Write rows, environment and arguments to ``path`` as JSON."""
    threads = getattr(args, "threads", None)
    payload = {"environment": environment(threads), "args": vars(args) if args else {},
               "notes": list(notes), "rows": [r.__dict__ for r in rows]}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, default=str)


def parse_args(description, argv=None, add_arguments=None):
    """Common command line: --threads, --repeat, --quick, --markdown, --json.

    ``add_arguments(parser)`` may add script-specific options.
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help="threads for BLAS/OpenMP/Numba (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=5,
                   help="timed runs per implementation; the median is reported (default: 5)")
    p.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    p.add_argument("--markdown", action="store_true", help="print a markdown table")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    if add_arguments is not None:
        add_arguments(p)
    args = p.parse_args(argv)
    if args.repeat < 1 or args.threads < 1:
        p.error("--repeat and --threads must be >= 1")
    return args


def grid(head, body, markdown, right):
    """Text (or markdown) table lines; columns in ``right`` are right-aligned."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return lines + ["| " + " | ".join(b) + " |" for b in body]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def fmt(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body]


# ------------------------------------------------------------ time to accuracy (tol sweeps)
# The protocol of bench_lasso.py and bench_sparse_regression.py (benchopt style): every solver
# sweeps its ``tol`` from loose to tight, each setting is timed and scored, and the time to an
# accuracy ``eps`` is that of the fastest setting that reaches it.

SLOW_RUN = 2.0  # seconds: a tol setting whose first run takes longer is timed once


def log(msg):
    """A progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def problem_sizes(quick):
    """``(dense_shape, sparse_shape, sparse_density)`` of the time-to-accuracy problems."""
    if quick:
        return (300, 1000), (1000, 4000), 5e-3
    return (1000, 5000), (5000, 20000), 1e-3


def sparse_problem(n, p, density, transform=None):
    """Sparse regression data: ``n x p`` CSC, Gaussian non-zeros, 100 non-zero true
    coefficients, SNR 3 (seed 0). ``transform(X)`` (e.g. a column scaling) is applied
    before ``y`` is drawn."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = sp.random(n, p, density=density, format="csc", random_state=0,
                  data_rvs=rng.standard_normal)
    if transform is not None:
        X = transform(X)
    w = np.zeros(p)
    w[rng.choice(p, 100, replace=False)] = rng.standard_normal(100)
    y = X @ w
    y = y + rng.standard_normal(n) * np.linalg.norm(y) / (3 * np.sqrt(n))
    return X, y


def alpha_max(X, y):
    """``||X^T y||_inf / n``: the smallest l1 weight whose Lasso solution is 0."""
    return float(abs(X.T @ y).max()) / X.shape[0]


def tol_sweep(fn, tols, repeat, score, done, label, slow_run=SLOW_RUN):
    """Warm up ``fn(tols[0])`` (JIT compilation lands there), then time and score each ``tol``.

    Each setting is timed ``repeat`` times (once if its first run takes ``slow_run`` seconds or
    more); ``score(output)`` returns a tuple whose first entry is the relative suboptimality
    logged. The sweep stops after the first setting for which ``done(runs)`` is true. Returns
    ``(warm-up seconds, runs)``, ``runs`` a list of ``(tol, median seconds, *score)``.
    """
    t0 = time.perf_counter()
    fn(tols[0])
    warm = time.perf_counter() - t0
    runs = []
    for tol in tols:
        times, out = time_runs(lambda tol=tol: fn(tol), 1)
        if times[0] < slow_run and repeat > 1:
            more, out = time_runs(lambda tol=tol: fn(tol), repeat - 1)
            times += more
        scores = tuple(score(out))
        runs.append((tol, statistics.median(times), *scores))
        log(f"  {label}tol={tol:.1e}  {fmt_time(runs[-1][1]):>9}  "
            f"(F-F*)/F(0) = {scores[0]:.2e}")
        if done(runs):
            break
    return warm, runs


def time_to(runs, eps, column=2):
    """``(seconds, tol)`` of the fastest setting of ``runs`` (from :func:`tol_sweep`) whose
    ``runs[i][column]`` is ``<= eps``; None if none reaches it."""
    ok = [(r[1], r[0]) for r in runs if r[column] <= eps]
    return min(ok) if ok else None


def time_to_lines(results, epsilons, peer, markdown, column=2, peer_missing=""):
    """Table lines: per ``(case, solver)`` of ``results`` (values ``(warm-up, runs)``) the time
    to each ``eps``, its ``tol`` and ``xR`` (``peer`` time / this time), then the warm-up.

    ``peer_missing`` is appended where the row reaches ``eps`` and the peer does not."""
    body = []
    for (case, name), (warm, runs) in results.items():
        peer_runs = results.get((case, peer))
        cells = [case, name]
        for eps in epsilons:
            hit = time_to(runs, eps, column)
            cell = "not reached" if hit is None else f"{fmt_time(hit[0])} (tol {hit[1]:.1e})"
            if hit is not None and peer_runs is not None and name != peer:
                p_hit = time_to(peer_runs[1], eps, column)
                cell += peer_missing if p_hit is None else f" x{p_hit[0] / hit[0]:.2f}"
            cells.append(cell)
        cells.append(fmt_time(warm))
        body.append(cells)
    head = ["case", "solver"] + [f"time to {eps:.0e}" for eps in epsilons] + ["1st call"]
    return grid(head, body, markdown, right=set(range(2, len(head))))


def print_notes_and_json(args, notes, rows):
    """Print the ``notes``; with ``--json PATH``, write the arguments, notes and rows there."""
    for note in notes:
        print(f"note: {note}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "notes": notes, "rows": rows}, fh, indent=2,
                      default=str)
