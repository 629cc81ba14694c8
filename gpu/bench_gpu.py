"""GPU benchmark: sparsopt's CuPy kernels against its Numba kernels, on the same data.

For every op in ``sparsopt.backends.list_kernels("cupy")`` that is a penalty prox, time
``penalty.prox`` on a CuPy array (stream synchronized inside the timed call) and on the same
data as a NumPy array with ``engine="numba"``; print a table (peer = Numba, so the ratio is
``numba time / cupy time``, >1 meaning the GPU is faster). Quality = max |cupy - numba|,
computed on the host after the timings.

Exits 0 with a message when CuPy or a device is unavailable, or when no CuPy kernels are
registered; exits 1 if a registered CuPy kernel fails or disagrees with Numba.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
# without an installed sparsopt, use this source tree (appended: an installed one wins)
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import Case, Impl, parse_args, print_table, run_cases, write_json  # noqa: I001

import numpy as np

import sparsopt
from sparsopt import penalties as P
from sparsopt.backends import backend_info, cupy_available, list_kernels

CUPY, NUMBA = "sparsopt cupy", "sparsopt numba"
TOL = 1e-10

# op -> (penalty factory, step, layout): "flat" = 1-D vector, "rows" = 2-D (n // 64, 64)
PROX_OPS = {
    "prox_l1": (lambda: P.L1(1.0), 1.0, "flat"),
    "prox_l0": (lambda: P.L0(0.5), 1.0, "flat"),
    "prox_lhalf": (lambda: P.Lq(1.0, q=0.5), 1.0, "flat"),
    "prox_ltwothirds": (lambda: P.Lq(1.0, q=2.0 / 3.0), 1.0, "flat"),
    "prox_lq": (lambda: P.Lq(1.0, q=0.3), 1.0, "flat"),
    "prox_mcp": (lambda: P.MCP(1.0, gamma=3.0), 1.0, "flat"),
    "prox_scad": (lambda: P.SCAD(1.0, gamma=3.7), 1.0, "flat"),
    "prox_log": (lambda: P.Log(1.0, eps=1.0), 1.0, "flat"),
    "prox_elasticnet": (lambda: P.ElasticNet(1.0, l1_ratio=0.5), 1.0, "flat"),
    "prox_cel0": (lambda: P.CEL0(0.5, a=1.0), 0.5, "flat"),
    "prox_box": (lambda: P.Box(-1.0, 1.0), 1.0, "flat"),
    "prox_group_l2": (lambda: P.GroupL21(1.0, groups=8), 1.0, "rows"),
    "prox_ksupport": (lambda: P.KSupport(0.5, k=2, groups=8), 1.0, "rows"),
}


def make_case(op, n, cp):
    """Case for one op: the same float64 data on host and device, Numba output as oracle."""
    factory, step, layout = PROX_OPS[op]

    def setup():
        x = np.random.default_rng(0).standard_normal(n) * 2.0
        if layout == "rows":
            x = x[: n - n % 64].reshape(-1, 64)
        pen = factory()
        return {"pen": pen, "step": step, "x": x, "xd": cp.asarray(x),
                "ref": pen.prox(x, step, engine="numba")}

    return Case(op, setup)


def main(argv=None):
    """Run the GPU benchmark; return the process exit code."""
    args = parse_args(__doc__.splitlines()[0], argv)
    if not cupy_available():
        reason = backend_info()["cupy"].get("reason", "unknown reason")
        print(f"CuPy backend not available ({reason}): nothing to benchmark on a GPU.")
        return 0
    import cupy as cp

    ops = list_kernels("cupy")
    info = backend_info()["cupy"]
    print(f"sparsopt {sparsopt.__version__}, cupy {info.get('version')}, "
          f"device {info.get('device0', '?')}")
    if not ops:
        print("No CuPy kernels are registered in this sparsopt version (they are written only "
              "when they can be tested on a device): nothing to time.")
        return 0
    unknown = [op for op in ops if op not in PROX_OPS]
    todo = [op for op in ops if op in PROX_OPS]
    print(f"ops with CuPy kernels: {', '.join(ops)}")
    for op in unknown:
        print(f"  (no benchmark defined in gpu/bench_gpu.py for {op!r}: skipped)")

    def on_gpu(d):
        out = d["pen"].prox(d["xd"], d["step"], engine="cupy")
        cp.cuda.get_current_stream().synchronize()
        return out

    def gpu_quality(out, d):
        if not isinstance(out, cp.ndarray):
            raise TypeError(f"CuPy kernel returned {type(out).__name__}, not a cupy.ndarray")
        return float(np.max(np.abs(cp.asnumpy(out) - d["ref"])))

    impls = [
        Impl(CUPY, on_gpu, gpu_quality),
        Impl(NUMBA, lambda d: d["pen"].prox(d["x"], d["step"], engine="numba"),
             lambda out, d: float(np.max(np.abs(out - d["ref"])))),
    ]
    n = 10**5 if args.quick else 10**7
    rows, failures = [], []
    for op in todo:  # one op at a time, so that one failing kernel does not hide the others
        try:
            rows += run_cases([make_case(op, n, cp)], impls, repeat=args.repeat,
                              threads=args.threads, peer=NUMBA)
        except Exception as exc:  # report and go on
            failures.append(f"{op}: {type(exc).__name__}: {exc}")
    failures += [f"{r.case}: max |cupy - numba| = {r.quality:.3g} > {TOL}"
                 for r in rows if r.impl == CUPY and r.quality is not None and r.quality > TOL]
    notes = [f"n = {n:.0e} float64 entries per op; CuPy timings include a stream synchronize.",
             "quality = max |output - Numba output|, computed on the host after timing."]
    if rows:
        print()
        print_table(rows, peer=NUMBA, markdown=args.markdown, notes=notes)
    if args.json:
        write_json(args.json, rows, args, notes + failures)
    for f in failures:
        print(f"FAILED {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
