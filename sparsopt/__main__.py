"""Command line: ``python -m sparsopt demo|warmup|versions|bench``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sparsopt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="tour of sparsopt on built-in data (table + plots)")
    p.add_argument("--out", default="sparsopt_demo_output", help="folder for the plots")
    p.add_argument("--quick", action="store_true", help="smaller sizes (seconds)")
    p = sub.add_parser("warmup", help="compile and cache the Numba kernels")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    sub.add_parser("versions", help="versions, backends and devices")
    p = sub.add_parser("bench", help="run benchmarks/bench_<NAME>.py from a source checkout")
    p.add_argument("name")
    p.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)

    if ns.command == "demo":
        from ._demo import run_demo

        run_demo(out=ns.out, quick=ns.quick)
    elif ns.command == "warmup":
        from ._warmup import warmup

        timings = warmup(dtypes=tuple(ns.dtypes), verbose=True)
        print(f"warmup: {len(timings)} kernel signatures ready "
              f"({sum(timings.values()):.2f}s).")
    elif ns.command == "versions":
        from ._show_versions import show_versions

        show_versions()
    elif ns.command == "bench":
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        script = os.path.join(root, "benchmarks", f"bench_{ns.name}.py")
        if not os.path.exists(script):
            sys.exit(f"No benchmark {script!r}: benchmarks live in the source checkout "
                     "(benchmarks/bench_*.py).")
        return subprocess.call([sys.executable, script, *ns.args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
