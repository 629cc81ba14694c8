"""GPU benchmark (issue 23): the same problems on Numba-CPU and on CuPy-GPU, through the public API.

Each case calls one public sparsopt function twice on the same data: with NumPy arrays (the
Numba CPU path, threads pinned to this machine's cores) and with CuPy arrays (the GPU path:
the namespace-generic code of issue 23 Part 1, plus any CuPy kernel registered in the dispatch).
The table's peer is the Numba CPU run, so ``ratio = numba time / cupy time`` (>1: the GPU is
faster; the issue's goal is >= 10 on each case at the default sizes, on an H100).

Cases (default sizes = the issue's; ``--quick`` small; ``--list`` prints them):

* ``fista``: batched FISTA sparse coding, ``sparsopt.solvers.fista(X, D, penalty="l1")``,
  10^6 patches of 8x8 = 64 values against 256 unit-norm atoms, **float32** (the codes are
  10^6 x 256 x 4 B = 1 GB per array; FISTA holds about five such arrays on the device and on
  the host), 20 iterations (``tol=0``: a fixed iteration count, so both do the same work).
* ``sinkhorn``: ``sparsopt.ot.sinkhorn(a, b, M, reg, solver="log")``, n = m = 10^4 (M is 800 MB
  in float64), 30 log-domain sweeps (``tol=0``).
* ``sns``: ``sparsopt.ot.sinkhorn_newton_sparse``, n = m = 10^4, 20 Sinkhorn sweeps then 5 Newton
  steps (``tol=0``; each Newton step's line search is data-dependent, the iteration counts are
  printed so that equal work can be checked).
* ``fwht``: ``sparsopt.transforms.fwht`` of one vector of 2^26 float64 values.
* ``sbl``: ``sparsopt.solvers.sbl`` (EM), M = 500 measurements, N = 10^5 unknowns (X is 400 MB
  in float64), 10 iterations (``tol=0``; pruning is data-dependent: the active counts are printed).
* ``mbdl``: ``MiniBatchDictionaryLearning`` with the FISTA coder (``fit_algorithm="fista"`` where
  the estimator accepts it, else ``penalty="l1", coding_solver="fista"``), 256 atoms, two epochs of
  ``partial_fit`` over 10^5 patches of 64 values in mini-batches of 2,048, **float32**, the coder
  capped at 50 iterations (its tolerance is the estimator's fixed 1e-6); on the device under
  ``sklearn.config_context(array_api_dispatch=True)`` (this script sets ``SCIPY_ARRAY_API=1``
  before SciPy is imported, which scikit-learn's dispatch requires).

Protocol: data are built on the host with a fixed seed and copied to the device before timing
(the transfers are not timed); every implementation is warmed up once (JIT compilation, CuPy
kernel compilation) and that call is reported apart; the median of ``--repeat`` runs is
reported. The device calls end with a stream synchronization inside the timed call. Quality =
max |device result - Numba result| (the plan, codes, transform, posterior mean or dictionary),
computed on the host after timing; a case FAILS if the device result is not an array of the
device namespace (a host round trip), if the relative difference exceeds the case's bound, or
if the call raises anything other than ``NotImplementedError``/``TypeError`` (which mean the
function refuses that namespace: the case is SKIPPED with the message). Exit code: 0 (all ran
or were skipped), 1 (a case failed), 3 (``--require-device`` and no usable CuPy device).

``--pending`` registers the CuPy kernels of ``sparsopt/backends/_cupy/pending.py`` (written but
not yet verified on a device, absent from the dispatch) before timing, so that the device side
uses them where the public function reaches their op through the dispatch.

``--namespace array_api_strict`` is a DRY RUN on the CPU: the same code path, with
``array_api_strict`` arrays on its fake ``device1`` in place of CuPy (they refuse any conversion
to NumPy), at tiny sizes; it verifies this script and the generic paths, not speed.
"""

import os
import sys
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
# without an installed sparsopt, use this source tree (appended: an installed one wins)
sys.path.append(ROOT)


def _n_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# Numba CPU threads: every core of this machine unless --threads is given (the harness reads
# sys.argv when it is imported, to set the thread variables before NumPy and Numba load)
if __name__ == "__main__" and not any(a == "--threads" or a.startswith("--threads=")
                                      for a in sys.argv[1:]):
    sys.argv.append(f"--threads={_n_cores()}")
# scikit-learn's array_api_dispatch needs this before SciPy is imported (the mbdl case)
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import Case, Impl, environment, fmt_time, parse_args, print_table, run_cases  # noqa: I001, E402

import io  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402

DEVICE, NUMBA = "sparsopt on device", "sparsopt numba (CPU)"


# --------------------------------------------------------------------------- namespaces
class Namespace:
    """Where the device side of each case runs: CuPy, or array_api_strict's device1 (dry run)."""

    def __init__(self, name):
        self.name = name
        if name == "cupy":
            import cupy as cp

            self.xp = cp
            self.put = cp.asarray
            stream = cp.cuda.get_current_stream
            self.sync = lambda: stream().synchronize()
            self.label = f"cupy {cp.__version__}"
            try:
                props = cp.cuda.runtime.getDeviceProperties(0)
                self.label += f", {props['name'].decode()}"
            except Exception:  # pragma: no cover - depends on the driver
                pass
        elif name == "array_api_strict":
            import array_api_strict as xp

            dev = xp.Device("device1")
            self.xp = xp
            self.put = lambda a: xp.asarray(a, device=dev)
            self.sync = lambda: None
            self.label = f"array_api_strict {xp.__version__} on its fake device1 (DRY RUN)"
        else:
            raise ValueError(f"unknown namespace {name!r}")

    def to_dev(self, value):
        """NumPy arrays to the device; anything else (scalars, None) as is."""
        return self.put(value) if isinstance(value, np.ndarray) else value

    def is_dev_array(self, a):
        return type(a).__module__.split(".")[0] == self.xp.__name__.split(".")[0]

    def free(self):
        if self.name == "cupy":
            self.xp.get_default_memory_pool().free_all_blocks()


# --------------------------------------------------------------------------- cases
# each case: sizes per mode, build(size, rng) -> host inputs, call(inputs, host) -> output,
# result(output) -> the array compared, work(output) -> a short description of the work done,
# rtol: relative max |device - numba| / max |numba| above which the case fails.

def _unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _coding_data(n, f, k, rng, dtype):
    D = _unit_rows(rng.standard_normal((k, f))).astype(dtype)
    X = np.zeros((n, f), dtype=dtype)
    for _ in range(5):  # five atoms per signal, N(0, 1) weights, plus noise
        idx = rng.integers(0, k, n)
        X += (rng.standard_normal((n, 1)) * D[idx]).astype(dtype)
    X += (0.01 * rng.standard_normal((n, f))).astype(dtype)
    return X, D


def _build_fista(size, rng):
    n, f, k, n_iter = size
    X, D = _coding_data(n, f, k, rng, np.float32)
    return {"X": X, "D": D, "n_iter": n_iter}


def _call_fista(d, host):
    from sparsopt.solvers import fista

    return fista(d["X"], d["D"], penalty="l1", alpha=0.1, max_iter=d["n_iter"], tol=0.0,
                 check_every=10)


def _ot_data(n, rng):
    xs, xt = rng.random((n, 2)), rng.random((n, 2)) + 0.25
    M = (xs * xs).sum(1)[:, None] + (xt * xt).sum(1)[None, :] - 2.0 * xs @ xt.T
    np.maximum(M, 0.0, out=M)
    M /= M.max()
    a, b = rng.random(n) + 0.5, rng.random(n) + 0.5
    return {"a": a / a.sum(), "b": b / b.sum(), "M": M, "reg": 0.02}


def _build_sinkhorn(size, rng):
    n, n_iter = size
    return dict(_ot_data(n, rng), n_iter=n_iter)


def _call_sinkhorn(d, host):
    from sparsopt.ot import sinkhorn

    return sinkhorn(d["a"], d["b"], d["M"], d["reg"], solver="log", tol=0.0,
                    max_iter=d["n_iter"], check_every=10)


def _build_sns(size, rng):
    n, n_sinkhorn, n_newton = size
    return dict(_ot_data(n, rng), n_sinkhorn=n_sinkhorn, n_newton=n_newton)


def _call_sns(d, host):
    from sparsopt.ot import sinkhorn_newton_sparse

    return sinkhorn_newton_sparse(d["a"], d["b"], d["M"], d["reg"], n_sinkhorn=d["n_sinkhorn"],
                                  max_iter=d["n_newton"], tol=0.0, eps_scaling=None)


def _build_fwht(size, rng):
    return {"x": rng.standard_normal(2**size)}


def _call_fwht(d, host):
    from sparsopt.transforms import fwht

    return fwht(d["x"], n_jobs=d["_threads"] if host else None)


def _build_sbl(size, rng):
    m, n, n_iter = size
    X = rng.standard_normal((m, n)) / np.sqrt(m)
    x0 = np.zeros(n)
    support = rng.choice(n, max(2, m // 20), replace=False)
    x0[support] = rng.standard_normal(support.size)
    y = X @ x0 + 0.01 * rng.standard_normal(m)
    return {"X": X, "y": y, "n_iter": n_iter}


def _call_sbl(d, host):
    from sparsopt.solvers import sbl

    return sbl(d["X"], d["y"], solver="em", max_iter=d["n_iter"], tol=0.0)


def _fista_coder_params():
    """``fit_algorithm="fista"`` where the estimator accepts it, else the sparsopt spelling."""
    from sparsopt.decomposition import MiniBatchDictionaryLearning

    try:
        MiniBatchDictionaryLearning(fit_algorithm="fista")._validate_params()
        return {"fit_algorithm": "fista"}
    except Exception:  # InvalidParameterError (a ValueError): not an option in this version
        return {"penalty": "l1", "coding_solver": "fista"}


def _build_mbdl(size, rng):
    n, f, k, batch, epochs, coder_iter = size
    X, D = _coding_data(n, f, k, rng, np.float32)
    D0 = _unit_rows(rng.standard_normal((k, f))).astype(np.float32)
    return {"X": X, "D0": D0, "k": k, "batch": batch, "epochs": epochs, "coder_iter": coder_iter,
            "coder": _fista_coder_params()}


def _call_mbdl(d, host):
    import contextlib

    import sklearn

    from sparsopt.decomposition import MiniBatchDictionaryLearning

    est = MiniBatchDictionaryLearning(
        d["k"], alpha=0.1, batch_size=d["batch"], shuffle=False, dict_init=d["D0"],
        transform_max_iter=d["coder_iter"], tol=0.0, max_no_improvement=None, random_state=0,
        **d["coder"])
    ctx = (contextlib.nullcontext() if host
           else sklearn.config_context(array_api_dispatch=True))
    with ctx:
        for _ in range(d["epochs"]):
            est.partial_fit(d["X"])
    return est


def _build_selftest(size, rng):
    n = size
    return {"A": rng.standard_normal((n, n)), "B": rng.standard_normal((n, n))}


def _call_selftest(d, host):
    """Not sparsopt: a plain matrix product in the array's namespace, to check this script."""
    from sparsopt.backends import array_namespace

    xp = array_namespace(d["A"])
    return xp.tanh(d["A"] @ d["B"])


def _n_iter(res):
    return f"n_iter={res.n_iter}"


CASES = {
    # name: (sizes {"full", "quick", "dry"}, build, call, result, work, rtol, description)
    "fista": dict(
        sizes={"full": (10**6, 64, 256, 20), "quick": (20_000, 64, 256, 20),
               "dry": (300, 16, 32, 10)},
        build=_build_fista, call=_call_fista, result=lambda r: r.x, work=_n_iter, rtol=1e-2,
        label=lambda s: f"fista coding {s[0]:.0e}x{s[1]}, {s[2]} atoms, f32, {s[3]} it"),
    "sinkhorn": dict(
        sizes={"full": (10**4, 30), "quick": (1000, 30), "dry": (48, 20)},
        build=_build_sinkhorn, call=_call_sinkhorn, result=lambda r: r.x, work=_n_iter,
        rtol=1e-6, label=lambda s: f"sinkhorn log n={s[0]:.0e}, {s[1]} sweeps"),
    "sns": dict(
        sizes={"full": (10**4, 20, 5), "quick": (1000, 20, 5), "dry": (48, 10, 3)},
        build=_build_sns, call=_call_sns, result=lambda r: r.x, work=_n_iter, rtol=1e-5,
        label=lambda s: f"SNS n={s[0]:.0e}, {s[1]} sweeps + {s[2]} Newton"),
    "fwht": dict(
        sizes={"full": 26, "quick": 20, "dry": 10},
        build=_build_fwht, call=_call_fwht, result=lambda r: r, work=lambda r: "-", rtol=1e-12,
        label=lambda s: f"fwht 2^{s} f64"),
    "sbl": dict(
        sizes={"full": (500, 10**5, 10), "quick": (200, 5000, 10), "dry": (20, 60, 10)},
        build=_build_sbl, call=_call_sbl, result=lambda r: r.x,
        work=lambda r: f"n_iter={r.n_iter}, n_active={r.info.get('n_active')}", rtol=1e-5,
        label=lambda s: f"sbl em M={s[0]}, N={s[1]:.0e}, {s[2]} it"),
    "mbdl": dict(
        sizes={"full": (10**5, 64, 256, 2048, 2, 50), "quick": (8192, 64, 256, 1024, 1, 50),
               "dry": (200, 16, 32, 50, 1, 20)},
        build=_build_mbdl, call=_call_mbdl, result=lambda e: e.components_,
        work=lambda e: f"n_steps={e.n_steps_}", rtol=1e-2,
        label=lambda s: f"minibatch DL {s[0]:.0e}x{s[1]}, {s[2]} atoms, f32, {s[4]} ep"),
    # checks the script itself (not part of the default list): no sparsopt code involved
    "selftest": dict(
        sizes={"full": 4096, "quick": 1024, "dry": 64},
        build=_build_selftest, call=_call_selftest, result=lambda r: r, work=lambda r: "-",
        rtol=1e-10, label=lambda s: f"selftest tanh(A @ B) n={s}"),
}
DEFAULT_CASES = ("fista", "sinkhorn", "sns", "fwht", "sbl", "mbdl")
REFUSALS = (NotImplementedError, TypeError)


def _max_diff(dev_value, ref):
    from sparsopt.backends import to_numpy

    got = np.asarray(to_numpy(dev_value), dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        raise ValueError(f"device result has shape {got.shape}, Numba's {ref.shape}")
    diff = np.abs(got - ref)
    both_nan = np.isnan(got) & np.isnan(ref)
    diff = np.where(both_nan, 0.0, diff)
    scale = float(np.max(np.abs(np.nan_to_num(ref)), initial=0.0)) or 1.0
    return float(np.max(diff, initial=0.0)), float(np.max(diff, initial=0.0)) / scale


def run_case(name, mode, ns, args):
    """Warm up, time and compare one case; returns (rows, status, message)."""
    spec = CASES[name]
    size = spec["sizes"][mode]
    label = spec["label"](size)
    info = {"case": name, "label": label}

    def setup():
        host = spec["build"](size, np.random.default_rng(0))
        host["_threads"] = args.threads
        dev = {k: ns.to_dev(v) for k, v in host.items()}
        ns.sync()
        return {"host": host, "dev": dev}

    def on_device(data):
        out = spec["call"](data["dev"], False)
        ns.sync()
        return out

    def on_host(data):
        return spec["call"](data["host"], True)

    def check(outputs, data):
        dev_val = spec["result"](outputs[DEVICE])
        if not ns.is_dev_array(dev_val):
            raise _Failure(f"the device call returned {type(dev_val).__module__}."
                           f"{type(dev_val).__name__}, not an array of {ns.name} "
                           "(a host round trip)")
        data["ref"] = np.array(spec["result"](outputs[NUMBA]), copy=True)
        absd, reld = _max_diff(dev_val, data["ref"])
        info.update(max_abs_diff=absd, max_rel_diff=reld,
                    work_device=spec["work"](outputs[DEVICE]),
                    work_numba=spec["work"](outputs[NUMBA]))

    def quality(out, data):
        return _max_diff(spec["result"](out), data["ref"])[0]

    impls = [Impl(DEVICE, on_device, quality),  # first: a refusal stops before the CPU run
             Impl(NUMBA, on_host, quality)]
    with warnings.catch_warnings():
        # fixed iteration counts (tol=0) end in ConvergenceWarnings by design
        warnings.simplefilter("ignore")
        try:
            rows = run_cases([Case(label, setup, check)], impls, repeat=args.repeat,
                             threads=args.threads, peer=NUMBA)
        except _Failure as exc:
            return [], "FAILED", str(exc), info
        except REFUSALS as exc:
            return [], "SKIPPED", (f"the function refuses {ns.name} arrays: "
                                   f"{type(exc).__name__}: {exc}"), info
        except Exception as exc:  # not namespace-generic (or a bug): report, go on
            tb = traceback.extract_tb(exc.__traceback__)
            where = next((f"{os.path.relpath(f.filename, ROOT)}:{f.lineno}" for f in reversed(tb)
                          if "sparsopt" in f.filename), "?")
            return [], "FAILED", f"{type(exc).__name__} at {where}: {exc}", info
        finally:
            ns.free()
    if info.get("max_rel_diff", 0.0) > spec["rtol"]:
        return rows, "FAILED", (f"max |device - numba| / max |numba| = {info['max_rel_diff']:.3g}"
                                f" > {spec['rtol']:g}"), info
    return rows, "ok", "", info


class _Failure(Exception):
    pass


def _add_arguments(p):
    p.add_argument("--namespace", choices=("cupy", "array_api_strict"), default="cupy",
                   help="device arrays: cupy (default) or array_api_strict's device1 (a dry run "
                        "on the CPU at tiny sizes)")
    p.add_argument("--only", action="append", default=None, metavar="NAME[,NAME]",
                   help=f"cases to run (default: {', '.join(DEFAULT_CASES)}; also 'selftest')")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="start no new case after this many seconds (the first always runs; the "
                        "rest are then skipped)")
    p.add_argument("--require-device", action="store_true",
                   help="exit 3 (instead of 0) when CuPy has no usable device")
    p.add_argument("--pending", action="store_true",
                   help="register the pending (unverified) CuPy kernels of "
                        "sparsopt/backends/_cupy/pending.py first, so that the device runs "
                        "time them instead of the generic NumPy references (cupy only)")
    p.add_argument("--table", metavar="PATH",
                   help="also write the table and the case lines to PATH (text)")
    p.add_argument("--list", action="store_true", help="list the cases and their sizes, exit")


def main(argv=None):
    """Run the benchmark; return the process exit code."""
    args = parse_args(__doc__.splitlines()[0], argv, _add_arguments)
    dry = args.namespace == "array_api_strict"
    mode = "dry" if dry else ("quick" if args.quick else "full")
    names = DEFAULT_CASES
    if args.only:
        names = tuple(n.strip() for item in args.only for n in item.split(",") if n.strip())
        unknown = [n for n in names if n not in CASES]
        if unknown:
            print(f"unknown case(s) {unknown}; known: {sorted(CASES)}", file=sys.stderr)
            return 2
    if args.list:
        for n in CASES:
            print(f"{n:<10}" + "  ".join(f"{m}: {CASES[n]['label'](CASES[n]['sizes'][m])}"
                                         for m in ("full", "quick", "dry")))
        return 0

    if args.pending and args.namespace != "cupy":
        print("--pending needs --namespace cupy", file=sys.stderr)
        return 2
    import sparsopt
    from sparsopt.backends import backend_info, cupy_available

    if args.namespace == "cupy" and not cupy_available():
        reason = backend_info()["cupy"].get("reason", "unknown reason")
        print(f"CuPy backend not available ({reason}): nothing to benchmark on a GPU.")
        return 3 if args.require_device else 0
    ns = Namespace(args.namespace)
    if args.pending:
        from sparsopt.backends._cupy import pending

        ns.label += " + pending CuPy kernels (" + ", ".join(pending.register_pending()) + ")"
    header = (f"sparsopt {sparsopt.__version__}; device side: {ns.label}; Numba CPU threads: "
              f"{args.threads}; sizes: {mode}; repeat: {args.repeat}")
    print(header, flush=True)
    if dry:
        print("DRY RUN: array_api_strict stands in for CuPy; the timings mean nothing.")

    t_start = time.perf_counter()
    rows, results = [], []
    for name in names:
        elapsed = time.perf_counter() - t_start
        if args.budget is not None and results and elapsed > args.budget:
            results.append(({"case": name, "label": name}, "SKIPPED",
                            f"time budget of {args.budget:g} s used ({elapsed:.0f} s)"))
            continue
        print(f"-- {name}", file=sys.stderr, flush=True)
        case_rows, status, msg, info = run_case(name, mode, ns, args)
        rows += case_rows
        results.append((info, status, msg))
        print(f"   {name}: {status} {msg}".rstrip(), file=sys.stderr, flush=True)

    notes = [f"ratio column = Numba CPU time / this time; device = {ns.label}.",
             "quality = max |result - Numba result| (host, after timing); "
             "data moved to the device before timing.",
             "fista and mbdl run in float32, the others in float64; fixed iteration counts "
             "(tol=0) where the solver allows."]
    buf = io.StringIO()
    if rows:
        print_table(rows, peer=NUMBA, markdown=args.markdown, notes=notes, file=buf)
    else:
        print("(no case ran)", file=buf)
    print(file=buf)
    for info, status, msg in results:
        work = ""
        if "work_device" in info:
            work = (f" [device {info['work_device']}; numba {info['work_numba']}; "
                    f"rel. diff {info['max_rel_diff']:.2g}]")
        print(f"{status:<8}{info['label']}{work}{': ' + msg if msg else ''}", file=buf)
    ratios = [r for r in rows if r.impl == DEVICE and r.ratio is not None]
    if ratios and not dry:
        below = [r.case for r in ratios if r.ratio < 10.0]
        print(f"\ngoal >= 10x the Numba CPU path: {len(ratios) - len(below)}/{len(ratios)} "
              f"cases reach it{'; below: ' + ', '.join(below) if below else ''}", file=buf)
    print(f"total {fmt_time(time.perf_counter() - t_start)}", file=buf)
    report = f"{header}\n\n{buf.getvalue()}"
    print("\n" + buf.getvalue(), end="")
    if args.table:
        with open(args.table, "w", encoding="utf-8") as fh:
            fh.write(report)
    if args.json:
        payload = {"environment": environment(args.threads), "device": ns.label,
                   "args": vars(args), "notes": notes,
                   "cases": [dict(info, status=status, message=msg)
                             for info, status, msg in results],
                   "rows": [r.__dict__ for r in rows]}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, default=str)
    return 1 if any(status == "FAILED" for _, status, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
