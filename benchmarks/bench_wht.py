"""Walsh-Hadamard transforms: the dense ``sparsopt.transforms.fwht`` against the NumPy
reference, the CPU peers that install, and a memory copy (the bandwidth bound).

Run ``python benchmarks/bench_wht.py`` (n = 2**10 .. 2**24, float64 and float32;
``--quick``: up to 2**20; ``--short``: short rows instead, n = 2**2 .. 2**8, batches of
2**20 values; ``--part spright`` / ``all`` adds the sparse-WHT benchmark of
``benchmarks/_bench_spright.py`` when that file exists).

Dense part. For each n the batch has ``max(1, 2**20 // n)`` rows, so the small sizes do
comparable work. Every implementation transforms the same input (copied into its buffer
before each run, untimed), in the same buffer: it starts ``--offset`` bytes past a 64-byte
boundary (default 16, where ``np.empty`` puts most large arrays; 0 is the aligned best
case; ``np.empty_like`` itself gave 0, 16, 32 or 48 from run to run, and sparsopt's
float64 2**16 batch moved by a third with it on Zen 5); the time is the minimum (and
median) of ``--repeat`` runs after one warm-up run (JIT compilation excluded and reported
separately). The runs of sparsopt, ffht and the copy are interleaved: each round runs each
of them once, in an order rotated from round to round, so that the load of a shared
machine falls on all of them alike (running one implementation's repeats back to back
measured ratios that moved by 15 % between runs under load); the slow ones (the NumPy
reference, pyfwht, hadamard-transform) run their repeats back to back first. Rows:

* ``numpy reference``: sparsopt's NumPy kernel (radix-2, one vectorised pass per stage);
* ``sparsopt``: ``fwht(buf, out=buf)`` in place, 1 thread, and ``n_jobs=2``;
* ``ffht`` (``pip install pybind11`` then ``pip install --no-build-isolation
  ffht-unofficial``: its ``setup.py`` imports NumPy and pybind11; FALCONN's AVX FFHT,
  ``fht_`` in place, 1-D only: a Python loop over the rows, whose cost -- a call on a
  row of 8 values, timed -- is also taken off in the column ``ffht kernel/ours``; its
  ``nthreads=2`` runs on one core in ffht-unofficial 0.3, CPU time equal to wall time at
  2**20-2**24, so FFHT is a one-thread peer), ``pyfwht``
  (``backend="cpu"``; returns a new array),
  ``hadamard-transform`` (PyTorch on the CPU, 1 torch thread; normalised, compared with
  ``normalize="ortho"``): whichever import; the others are listed with the error;
* ``np.copyto``: a copy of the same array, the memory-bandwidth bound of one pass;
  ``copy (2 threads)``: the same copy split in two halves, one a thread (a Numba
  ``prange`` kernel, as sparsopt's threads): the bound that two threads face. On the
  2-core Zen 5 machine it took 0.6-1.1x the time of ``np.copyto``.

Ratios: numpy reference / sparsopt (goal >= 3), fastest peer / sparsopt 1 thread (goal
>= 1; every peer runs on one thread), sparsopt / copy (goal <= 2)
for 1 thread against ``np.copyto`` and for 2 threads against both copies. Outputs are
checked against the NumPy reference before any timing. Threads are pinned with
threadpoolctl (``--threads``).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import fmt_time, parse_args  # noqa: I001

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sparsopt.transforms import fwht

NOT_INSTALLED = {}
#: the --offset of the run (for the table's footer)
OFFSET = [16]
#: the implementations timed in interleaved rounds (the others, 10-100x slower, run
#: their repeats back to back first: between two fast runs they would evict the buffers)
INTERLEAVED = ("sparsopt (1 thread)", "sparsopt (n_jobs=2)", "ffht", "np.copyto",
               "copy (2 threads)")
#: seconds of the Python loop over the rows that ffht (1-D only) needs, per (dtype, n)
FFHT_CALLS = {}
COPY2 = []


def _copy2(dst, src):
    """``np.copyto(dst, src)`` on two threads (halves of the flat arrays, ``prange``)."""
    if not COPY2:
        import numba
        from numba import njit, prange

        @njit(parallel=True, nogil=True)
        def halves(d, s):
            n = s.size
            for t in prange(2):
                d[t * n // 2:(t + 1) * n // 2] = s[t * n // 2:(t + 1) * n // 2]

        COPY2.append((numba, halves))
    numba, halves = COPY2[0]
    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        halves(dst.reshape(-1), src.reshape(-1))
    finally:
        numba.set_num_threads(before)
    return dst


def _peers():
    """``{name: (fn(buf) -> result, normalised)}`` for the peers that import."""
    peers = {}
    try:
        import ffht

        def run_ffht(buf):
            for row in buf:
                ffht.fht_(row)
            return buf

        peers["ffht"] = (run_ffht, False)
    except Exception as exc:  # ImportError, or a build without this CPU's instructions
        NOT_INSTALLED["ffht-unofficial"] = f"{type(exc).__name__}: {exc}"
    try:
        import pyfwht

        peers["pyfwht"] = (lambda buf: pyfwht.fwht(buf, backend="cpu"), False)
    except Exception as exc:
        NOT_INSTALLED["pyfwht"] = f"{type(exc).__name__}: {exc}"
    try:
        import torch
        from hadamard_transform import hadamard_transform

        torch.set_num_threads(1)
        peers["hadamard-transform"] = (
            lambda buf: hadamard_transform(torch.from_numpy(buf)).numpy(), True)
    except Exception as exc:
        NOT_INSTALLED["hadamard-transform"] = f"{type(exc).__name__}: {exc}"
    return peers


def _run_once(fn, x, buf):
    """One timed run of ``fn`` on a fresh copy of ``x``: (seconds, output)."""
    np.copyto(buf, x)
    t0 = time.perf_counter()
    out = fn(buf)
    return time.perf_counter() - t0, out


def bench_dense(args):
    peers = _peers()
    max_log = 20 if args.quick else 24
    log_ns = range(2, 9, 2) if args.short else range(10, max_log + 1, 2)
    dtypes = {"float64": [np.float64], "float32": [np.float32],
              "both": [np.float64, np.float32]}[args.dtype]
    results = []
    for dtype in dtypes:
        for log_n in log_ns:
            n = 2**log_n
            rows = max(1, 2**20 // n)
            rng = np.random.default_rng(log_n)
            x = rng.standard_normal((rows, n)).astype(dtype)
            raw = np.empty(x.nbytes + 128, dtype=np.uint8)
            start = -raw.ctypes.data % 64 + args.offset
            buf = raw[start:start + x.nbytes].view(dtype).reshape(x.shape)
            repeat = args.repeat if log_n <= 20 else max(2, args.repeat // 2)
            impls = {
                "numpy reference": (lambda b: fwht(b, out=b, engine="numpy"), False),
                "sparsopt (1 thread)": (lambda b: fwht(b, out=b), False),
                "sparsopt (n_jobs=2)": (lambda b: fwht(b, out=b, n_jobs=2), False),
                **peers,
                "np.copyto": (lambda b, x=x: np.copyto(b, x), None),
                "copy (2 threads)": (lambda b, x=x: _copy2(b, x), None),
            }
            ref = ref_ortho = None
            row = {"dtype": np.dtype(dtype).name, "n": n, "rows": rows}
            warm = {}
            for name, (fn, normalised) in impls.items():  # warm-up run and output check
                try:
                    warm[name], out = _run_once(fn, x, buf)
                    out = np.array(out, copy=True)
                except Exception as exc:  # a peer without this dtype
                    if name not in peers:
                        raise
                    NOT_INSTALLED[f"{name} ({row['dtype']})"] = f"{type(exc).__name__}: {exc}"
                    row[name] = None
                    continue
                if normalised is not None:  # check against the NumPy reference output
                    if ref is None:
                        ref = fwht(x, engine="numpy").astype(np.float64)
                        ref_ortho = ref / np.sqrt(n)
                    want = ref_ortho if normalised else ref
                    scale = np.abs(want).max() + 1.0
                    err = np.abs(out.astype(np.float64) - want).max() / scale
                    tol = 1e-4 if dtype == np.float32 else 1e-10
                    if not err < tol:
                        raise AssertionError(f"{name} at n={n}: relative error {err:.2e}")
            times = {name: [] for name in warm}
            slow = [name for name in warm if name not in INTERLEAVED]
            for name in slow:  # each slow one's runs back to back (they flush the caches)
                for _ in range(repeat):
                    times[name].append(_run_once(impls[name][0], x, buf)[0])
            fast = [name for name in warm if name in INTERLEAVED]
            for r in range(repeat):  # then rounds of the fast ones, interleaved, each
                # round starting one further (the first of a round measured ~10 % slower)
                for name in fast[r % len(fast):] + fast[:r % len(fast)]:
                    times[name].append(_run_once(impls[name][0], x, buf)[0])
            if "ffht" in times:  # the loop's own cost: calls on 8-value rows
                import ffht

                def calls(b):
                    for r8 in b[:, :8]:
                        ffht.fht_(r8)
                calls(buf)
                FFHT_CALLS[(row["dtype"], n)] = min(
                    _run_once(calls, x, buf)[0] for _ in range(repeat))
            for name, ts in times.items():
                tmin, tmed = min(ts), statistics.median(ts)
                row[name] = tmin
                print(f"  {row['dtype']} n=2**{log_n} x{rows:<5} {name:<22} min {fmt_time(tmin):>9}"
                      f"  median {fmt_time(tmed):>9}  warm-up {fmt_time(warm[name])}",
                      file=sys.stderr, flush=True)
            results.append(row)
    return results, list(peers)


def print_dense(results, peer_names, markdown=True):
    cols = ["numpy reference", "sparsopt (1 thread)", "sparsopt (n_jobs=2)", *peer_names,
            "np.copyto", "copy (2 threads)"]
    head = ["dtype", "n", "rows", *cols, "numpy/ours", "best peer/ours", "ffht kernel/ours",
            "ours/copy", "ours(2)/copy", "ours(2)/copy(2)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in results:
        one, two, copy = r["sparsopt (1 thread)"], r["sparsopt (n_jobs=2)"], r["np.copyto"]
        copy2 = r["copy (2 threads)"]
        best_peer = min((r[p] for p in peer_names if r[p] is not None), default=None)
        ffht, calls = r.get("ffht"), FFHT_CALLS.get((r["dtype"], r["n"]))
        # (rows of 8 values or fewer: the calls are the whole transform)
        kernel = None if ffht is None or calls is None or r["n"] <= 8 else ffht - calls
        cells = [r["dtype"], f"2^{int(np.log2(r['n']))}", str(r["rows"])]
        cells += ["-" if r[c] is None else fmt_time(r[c]) for c in cols]
        cells += [f"{r['numpy reference'] / one:.1f}",
                  "-" if best_peer is None else f"{best_peer / one:.2f}",
                  "-" if kernel is None else f"{kernel / one:.2f}",
                  f"{one / copy:.2f}", f"{two / copy:.2f}", f"{two / copy2:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    print("\nTimes: minimum of the runs. numpy/ours and best peer/ours > 1: sparsopt (1 thread) "
          "is faster; ffht kernel/ours: ffht's time less its Python loop over the rows "
          "(calls on rows of 8 values, timed); ours/copy: sparsopt time over one np.copyto "
          "of the same array; "
          "ours(2)/copy(2): sparsopt n_jobs=2 over the copy on two threads.")
    print(f"Buffers start {OFFSET[0]} bytes past a 64-byte boundary (--offset).")
    for name, err in NOT_INSTALLED.items():
        print(f"note: peer {name} not available: {err}")
    print("note: peer hadamard-transform is normalised (1/sqrt(n)); its output is checked "
          "against the orthonormal transform, and sparsopt is timed unnormalised.")


def main(argv=None):
    def extra(p):
        p.add_argument("--part", choices=("dense", "spright", "all"), default="dense",
                       help="dense FWHT, sparse WHT (SPRIGHT) or both (default: dense)")
        p.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
        p.add_argument("--short", action="store_true",
                       help="short rows (n = 2**2 .. 2**8, batches of 2**20 values) instead")
        p.add_argument("--offset", type=int, choices=range(0, 64, 4), default=16,
                       metavar="BYTES", help="bytes from a 64-byte boundary to the start of "
                       "every timed buffer (default 16: np.empty's usual; 0: aligned)")
        try:  # the options of --part spright
            from _bench_spright import add_arguments
        except ImportError:
            pass
        else:
            add_arguments(p)

    args = parse_args(__doc__.splitlines()[0], argv, add_arguments=extra)
    OFFSET[0] = args.offset
    with threadpool_limits(limits=args.threads):
        if args.part in ("dense", "all"):
            results, peer_names = bench_dense(args)
            print_dense(results, peer_names)
        if args.part in ("spright", "all"):
            try:
                from _bench_spright import bench_spright
            except ImportError as exc:
                print(f"note: the SPRIGHT benchmark is not available ({exc}).")
            else:
                bench_spright(args)


if __name__ == "__main__":
    main()
