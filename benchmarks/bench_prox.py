"""Proximal operators: sparsopt (Numba, NumPy reference) against skglm, on one large vector.

Run ``python benchmarks/bench_prox.py`` (10^7 float64 entries; ``--quick``: 10^5).

skglm's proxes are scalar ``@njit`` functions (``skglm.utils.prox_funcs``). To apply them to a
vector, this script wraps each one in a trivial ``@njit`` loop (harness code, written here; the
prox formulas are skglm's). Parameters are mapped so that both libraries compute the same
prox of ``step * penalty`` and the outputs are asserted equal (rtol = atol = 1e-12) before any
timing. Quality = max |output - sparsopt's NumPy reference output|, computed here.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import Case, Impl, parse_args, print_table, run_cases, write_json  # noqa: I001

import numpy as np
from numba import njit
from skglm.utils.prox_funcs import ST, prox_05, prox_2_3, prox_MCP, prox_SCAD

import sparsopt
from sparsopt.penalties import L0, L1, MCP, SCAD, Lq

STEP = 1.0
SCALE = 2.0  # x ~ N(0, SCALE^2): every branch of every prox is exercised with alpha = 1


# --- harness loops around skglm's scalar functions (not library code) -----------------------
@njit
def _loop_st(x, u):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = ST(x[i], u)
    return out


@njit
def _loop_05(x, u):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = prox_05(x[i], u)
    return out


@njit
def _loop_2_3(x, u):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = prox_2_3(x[i], u)
    return out


@njit
def _loop_mcp(x, stepsize, alpha, gamma):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = prox_MCP(x[i], stepsize, alpha, gamma)
    return out


@njit
def _loop_scad(x, stepsize, alpha, gamma):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = prox_SCAD(x[i], stepsize, alpha, gamma)
    return out


# (case name, sparsopt penalty, skglm call computing prox_{STEP * penalty}(x), mapping note)
PROBLEMS = [
    ("L1 a=1", L1(1.0), lambda x: _loop_st(x, STEP * 1.0),
     "L1(alpha) <-> ST(x, step*alpha)  [skglm L1.prox_1d]"),
    ("Lq q=1/2 a=1", Lq(1.0, q=0.5), lambda x: _loop_05(x, STEP * 1.0),
     "Lq(alpha, q=1/2) <-> prox_05(x, step*alpha)  [skglm L0_5.prox_1d]"),
    ("Lq q=2/3 a=1", Lq(1.0, q=2.0 / 3.0), lambda x: _loop_2_3(x, STEP * 1.0),
     "Lq(alpha, q=2/3) <-> prox_2_3(x, step*alpha)  [skglm L2_3.prox_1d]"),
    ("MCP a=1 g=3", MCP(1.0, gamma=3.0), lambda x: _loop_mcp(x, STEP, 1.0, 3.0),
     "MCP(alpha, gamma) <-> prox_MCP(x, step, alpha, gamma)  [skglm MCPenalty.prox_1d]"),
    ("SCAD a=1 g=3.7", SCAD(1.0, gamma=3.7), lambda x: _loop_scad(x, STEP, 1.0, 3.7),
     "SCAD(alpha, gamma) <-> prox_SCAD(x, step, alpha, gamma)  [skglm SCAD.prox_1d]"),
    ("L0 a=0.5", L0(0.5), lambda x: _loop_mcp(x, 1.0, float(np.sqrt(2 * STEP * 0.5)), 1.0),
     "L0(alpha) <-> prox_MCP(x, 1, sqrt(2*step*alpha), gamma=1) = hard thresholding "
     "(skglm has no L0 penalty; its MCP docs state gamma=1 gives hard thresholding)"),
]

NUMBA, NUMPY, PEER = "sparsopt numba", "sparsopt numpy", "skglm"


def make_cases(n, seed=0):
    """One case per penalty, all on the same vector of ``n`` float64 entries."""
    x = np.random.default_rng(seed).standard_normal(n) * SCALE

    def case(name, pen, peer_fn):
        def setup():
            ref = pen.prox(x, STEP, engine="numpy")  # quality oracle, computed untimed
            return {"x": x, "pen": pen, "peer": peer_fn, "ref": ref}

        def check(outputs, data):
            for impl, out in outputs.items():
                assert out.dtype == np.float64 and out.shape == x.shape, impl
                np.testing.assert_allclose(out, data["ref"], rtol=1e-12, atol=1e-12,
                                           err_msg=f"{name}: {impl} differs from the reference")

        return Case(name, setup, check)

    return [case(name, pen, fn) for name, pen, fn, _ in PROBLEMS]


def max_abs_diff(out, data):
    """Quality metric, measured here on the returned array: max |out - NumPy reference|."""
    return float(np.max(np.abs(out - data["ref"])))


IMPLS = [
    Impl(NUMBA, lambda d: d["pen"].prox(d["x"], STEP, engine="numba"), max_abs_diff),
    Impl(NUMPY, lambda d: d["pen"].prox(d["x"], STEP, engine="numpy"), max_abs_diff),
    Impl(PEER, lambda d: d["peer"](d["x"]), max_abs_diff),
]


def main(argv=None):
    """Parse arguments, run the benchmark, print the table (and JSON)."""
    args = parse_args(__doc__.splitlines()[0], argv)
    n = 10**5 if args.quick else 10**7
    import numba
    import skglm

    print(f"prox benchmark: n = {n:.0e} float64, x ~ N(0, {SCALE}^2), step = {STEP}, "
          f"threads = {args.threads}, repeat = {args.repeat}")
    print(f"sparsopt {sparsopt.__version__}, skglm {skglm.__version__}, numpy {np.__version__}, "
          f"numba {numba.__version__}\n", flush=True)
    rows = run_cases(make_cases(n), IMPLS, repeat=args.repeat, threads=args.threads, peer=PEER)
    notes = [
        "skglm = skglm's scalar prox functions applied through a trivial @njit loop written in "
        "this script (harness code, not library code); the prox formulas are skglm's.",
        "outputs of all three implementations were asserted equal (rtol=atol=1e-12) before timing.",
        "quality = max |output - sparsopt NumPy reference|, computed by the script.",
        "warm-up = first call on the full data (JIT compile, or numba disk-cache load for "
        "sparsopt's cache=True kernels, + one run); it is excluded from median/min/max.",
        *("mapping: " + m for *_, m in PROBLEMS),
    ]
    print()
    print_table(rows, peer=PEER, markdown=args.markdown, notes=notes)
    print("\nJIT warm-up overhead per case (warm-up minus median):")
    for impl in (NUMBA, PEER):
        for r in rows:
            if r.impl == impl:
                print(f"  {impl:<22}{r.case:<18}{max(r.warmup - r.median, 0.0):8.3f} s")
    if args.json:
        write_json(args.json, rows, args, notes)
    return rows


if __name__ == "__main__":
    main()
