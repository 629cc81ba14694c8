"""The dense FWHT's lower bound from this core's peak addition rate, against ``np.copyto``.

The fast Walsh-Hadamard transform of a row of ``n = 2**k`` values makes ``k`` passes of
``n / 2`` butterflies, ``n * k`` additions and subtractions in all, whatever the order
of the stages or the layout in memory. This script measures, on one thread:

* the core's peak rate of 512-bit floating-point additions: a loop of 16 independent
  accumulators (14 on AVX2, whose 16 registers must also hold two constants), half of
  them ``vaddpd``-style additions and half exact FMAs with a multiplier of 1 (the mix
  ``fwht``'s passes use on AVX-512, which keeps both the adder and the FMA pipes busy:
  on Zen 4 and Zen 5 more than additions alone); the same loop on 256-bit vectors,
  whichever is faster counts (only the 256-bit one without AVX-512);
* the rate of 64-byte line stores into L1 (every pass over the data stores each value
  once; one 512-bit store, or two 256-bit ones on a core without AVX-512);
* ``np.copyto`` of each batch of the dense table of ``bench_wht.py`` (``2**20`` values
  a batch, ``2**20 / n`` rows of ``n``; one row from ``2**20`` on) and sparsopt's ``fwht``
  of it, in place, on one thread, both 16 bytes past a cache line as there.

It prints, per dtype and n, ``bound = n * log2(n) * rows / peak``: the time of the
additions alone at the peak rate (no loads, stores, shuffles, loop overhead or cache
misses), ``bound / copy`` and ``sparsopt / copy``. Where ``bound / copy > 2`` no
implementation of the FWHT can come within 2x of the copy on this machine, one thread.

It also measures what the additions share their pipes with (:func:`pipe_costs`): loops
of additions with lane permutations (``x[i ^ 1]``, as a stage inside a vector takes)
and with stores of whole vectors, each mix with its best share of FMAs. Where a
permutation or a store takes issue slots the additions could have used (on Zen 4 both
do: a permutation one slot, a 512-bit store about one more), their times add up, and
the **pipe bound** counts, besides the additions:

* the permutations: a stage inside a vector of ``L`` lanes needs one per vector, except
  one of the ``log2(L)`` stages, which can be had without (as additions between the two
  256-bit halves of a vector, or from broadcast loads): at least ``log2(L) - 1`` a
  vector;
* the stores: every pass over the data stores each vector once, and a pass keeps at
  most the ``R`` vector registers of values in flight (32 with AVX-512, 16 without),
  so it does at most ``log2(R * L)`` stages: at least ``ceil(k / log2(R * L))`` passes
  (and never less than the stores alone take, at the rate of the line stores).

That bound assumes the radix-2 butterflies (``n * log2(n)`` additions, as every FFT-like
FWHT) in vector registers; within it, it is the measured cost of this core. Where it
exceeds two copies, the verdict says so.

Run ``python benchmarks/bench_wht_bound.py [--repeat R] [--markdown]``; about a minute.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import fmt_time, parse_args  # noqa: I001

import time

import llvmlite.binding as ll
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from threadpoolctl import threadpool_limits

from sparsopt.transforms import fwht

#: whether this core has 512-bit vector registers (AVX-512); without them (AVX2: 16
#: registers of 256 bits) the 512-bit loop is skipped and a line is stored as two halves
AVX512 = bool(ll.get_host_cpu_features().get("avx512f", False))
#: independent accumulators of the additions loop: as many as the registers hold beside
#: its two constants (on AVX2 16 accumulators spill: 13.7 G float64/s against 35.8
#: with 14 on Zen 3)
ACCUMULATORS = 16 if AVX512 else 14


def _barrier(vt):
    """An empty inline-asm barrier on a vector of type ``vt`` (``v``: any AVX-512
    register; ``x``: the 16 of AVX2)."""
    return ir.InlineAsm(ir.FunctionType(vt, [vt]), "", "=v,0" if AVX512 else "=x,0")


def _constants(builder, lanes):
    """``(vector type, barrier, one, step, fma)`` of the loops: float64 vectors of
    ``lanes`` lanes, the empty inline-asm barrier, the splats 1 and 1e-12 behind it (so
    that LLVM cannot fold ``fma(step, 1, acc)`` back into an addition) and
    ``llvm.fma``."""
    vt = ir.VectorType(ir.DoubleType(), lanes)
    barrier = _barrier(vt)
    one = builder.call(barrier, [ir.Constant(vt, [1.0] * lanes)])
    step = builder.call(barrier, [ir.Constant(vt, [1e-12] * lanes)])
    fma = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vt, [vt, vt, vt]), f"llvm.fma.v{lanes}f64")
    return vt, barrier, one, step, fma


def _adds_loop(bits):
    """An intrinsic ``adds(iters, x)``: ``iters`` turns of ``ACCUMULATORS`` independent
    ``bits``-bit float64 additions (every other one an FMA ``1 * c + acc``, its ``1``
    behind an empty inline-asm barrier so that LLVM cannot fold it back into an
    addition); returns the sum of the lanes (so that nothing is dead code)."""
    lanes = bits // 64

    @intrinsic
    def adds(typingctx, iters, x):
        def codegen(context, builder, signature, args):
            vt, _, one, step, fma = _constants(builder, lanes)
            n = context.cast(builder, args[0], signature.args[0], types.int64)
            one_lane = builder.insert_element(ir.Constant(vt, None), args[1], ir.Constant(
                ir.IntType(32), 0))
            seed = builder.shuffle_vector(one_lane, ir.Constant(vt, None), ir.Constant(
                ir.VectorType(ir.IntType(32), lanes), [0] * lanes))  # x in every lane
            # the accumulators live in stack slots that LLVM promotes to registers
            slots = [cgutils.alloca_once_value(builder, seed) for _ in range(ACCUMULATORS)]
            with cgutils.for_range(builder, n):
                for k, slot in enumerate(slots):
                    a = builder.load(slot)
                    builder.store(builder.call(fma, [step, one, a]) if k % 2
                                  else builder.fadd(a, step), slot)
            new = [builder.load(slot) for slot in slots]
            total = new[0]
            for b in new[1:]:
                total = builder.fadd(total, b)
            out = builder.extract_element(total, ir.Constant(ir.IntType(32), 0))
            for k in range(1, lanes):
                out = builder.fadd(out, builder.extract_element(
                    total, ir.Constant(ir.IntType(32), k)))
            return out

        return types.float64(iters, x), codegen

    return adds


@intrinsic
def _store_line(typingctx, arr, k):
    """Store a 64-byte line of ones (one 512-bit vector, or two 256-bit halves without
    AVX-512; behind an empty inline-asm barrier, so that the loop around it is not
    turned into a ``memset``) at ``arr[k:k + 8]`` (float64)."""
    def codegen(context, builder, signature, args):
        lanes = 8 if AVX512 else 4
        vt = ir.VectorType(ir.DoubleType(), lanes)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        k = context.cast(builder, args[1], signature.args[1], types.int64)
        value = builder.call(_barrier(vt), [ir.Constant(vt, [1.0] * lanes)])
        for half in range(0, 8, lanes):
            at = builder.add(k, ir.Constant(ir.IntType(64), half))
            ptr = builder.bitcast(builder.gep(data, [at]), vt.as_pointer())
            builder.store(value, ptr, align=8)  # vmovupd: any address
        return context.get_dummy_value()

    return types.void(arr, k), codegen


_adds512 = _adds_loop(512)
_adds256 = _adds_loop(256)

#: the vector width of the mixed loops of :func:`pipe_costs` (the one ``fwht`` uses)
MIX_BITS = 512 if AVX512 else 256
#: their independent accumulators and permuted registers (beside three constants: what
#: the 32 or 16 registers hold)
MIX_ACC, MIX_PERM = (16, 8) if AVX512 else (8, 4)
#: vector registers: a pass keeps at most this many vectors of values in flight
REGISTERS = 32 if AVX512 else 16


def _mix_loop(n_adds, n_perms, n_stores, pattern):
    """An intrinsic ``mix(arr, iters)``: ``iters`` turns of ``n_adds`` float64 vector
    additions over ``MIX_ACC`` accumulators (the ``k``-th an FMA ``1 * c + acc`` where
    ``pattern[k % len(pattern)]`` is ``"1"``), ``n_perms`` lane permutations
    (``x[i ^ 1]``) over ``MIX_PERM`` registers and ``n_stores`` stores of accumulators
    as whole vectors into ``arr`` (64-byte aligned, 16 KiB: L1), each result behind an
    empty inline-asm barrier so that nothing folds; returns a sum of lanes."""
    lanes = MIX_BITS // 64

    @intrinsic
    def mix(typingctx, arr, iters):
        def codegen(context, builder, signature, args):
            vt, barrier, one, step, fma = _constants(builder, lanes)
            i32, i64 = ir.IntType(32), ir.IntType(64)
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            n = context.cast(builder, args[1], signature.args[1], types.int64)
            swap = ir.Constant(ir.VectorType(i32, lanes), [i ^ 1 for i in range(lanes)])
            accs = [cgutils.alloca_once_value(builder, step) for _ in range(MIX_ACC)]
            perms = [cgutils.alloca_once_value(builder, one) for _ in range(MIX_PERM)]
            pos = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))
            with cgutils.for_range(builder, n):
                acc = [builder.load(a) for a in accs]
                per = [builder.load(p) for p in perms]
                for k in range(max(n_adds, n_perms)):
                    if k < n_adds:
                        a = acc[k % MIX_ACC]
                        acc[k % MIX_ACC] = (builder.call(fma, [step, one, a])
                                            if pattern[k % len(pattern)] == "1"
                                            else builder.fadd(a, step))
                    if k < n_perms:
                        x = per[k % MIX_PERM]
                        per[k % MIX_PERM] = builder.call(barrier, [
                            builder.shuffle_vector(x, x, swap)])
                at = builder.load(pos)
                for j in range(n_stores):
                    ptr = builder.bitcast(builder.gep(data, [builder.add(
                        at, ir.Constant(i64, lanes * j))]), vt.as_pointer())
                    builder.store(builder.call(barrier, [acc[j % MIX_ACC]]), ptr,
                                  align=MIX_BITS // 8)
                builder.store(builder.and_(builder.add(
                    at, ir.Constant(i64, lanes * max(n_stores, 1))),
                    ir.Constant(i64, 2047)), pos)  # 2048 float64 values: 16 KiB
                for slot, x in zip(accs + perms, acc + per):
                    builder.store(x, slot)
            total = builder.load(accs[0])
            for slot in accs[1:] + perms:
                total = builder.fadd(total, builder.load(slot))
            return builder.extract_element(total, ir.Constant(i32, 0))

        return types.float64(arr, iters), codegen

    @njit(cache=False)
    def run(arr, iters):
        return mix(arr, iters)

    return run


#: the additions, permutations and stores of one turn of the mixed loops (the ratio of
#: a pass of register stages: a permutation per vector and stage inside the vectors)
MIX_ADDS, MIX_PERMS, MIX_STORES = 2 * MIX_ACC, MIX_PERM, MIX_PERM // 2
#: the shares of FMAs among the additions tried for each mix (the best one counts)
MIX_PATTERNS = ("0", "01", "001")
_MIXES = {}


def _mix(n_adds, n_perms, n_stores, pattern):
    key = (n_adds, n_perms, n_stores, pattern)
    if key not in _MIXES:
        _MIXES[key] = _mix_loop(*key)
    return _MIXES[key]


def _mix_buffer():
    raw = np.zeros(2048 + 64)
    return raw[(-raw.ctypes.data // 8) % 8:][:2048 + 8 * MIX_STORES]


def pipe_costs(repeat, iters=400_000):
    """``(op seconds, permutation slots, store slots)``: the time of one vector addition
    in the best mix of additions and FMAs, and what a lane permutation and a store of a
    vector add to a loop of additions, in units of that time (0 where they overlap with
    the additions; never below 0). Each mix is timed with every pattern of
    ``MIX_PATTERNS``, best of ``repeat`` runs, the fastest pattern counting."""
    buf = _mix_buffer()

    def best(n_adds, n_perms, n_stores):
        times = []
        for pattern in MIX_PATTERNS:
            run = _mix(n_adds, n_perms, n_stores, pattern)
            times.append(_best(lambda run=run: run(buf, iters), repeat))
        return min(times) / iters

    adds = best(MIX_ADDS, 0, 0)
    perms = best(MIX_ADDS, MIX_PERMS, 0)
    stores = best(MIX_ADDS, MIX_PERMS, MIX_STORES)
    op = adds / MIX_ADDS
    return (op, max(0.0, (perms - adds) / (MIX_PERMS * op)),
            max(0.0, (stores - perms) / (MIX_STORES * op)))


def pipe_bound(n, rows, itemsize, op, perm_slots, store_slots, line_rate):
    """The pipe bound of one thread's FWHT of ``rows`` rows of ``n`` values of
    ``itemsize`` bytes (see the module's docstring), in seconds."""
    lanes = MIX_BITS // (8 * itemsize)
    k = n.bit_length() - 1
    vectors = n * rows // lanes
    per_pass = (REGISTERS * lanes).bit_length() - 1  # stages a pass can do at most
    passes = -(-k // per_pass)
    perms = max(0, min(k, lanes.bit_length() - 1) - 1) * vectors
    slots = k * vectors + perm_slots * perms + store_slots * passes * vectors
    lines = passes * n * rows * itemsize / 64
    return max(slots * op, lines / line_rate)


@njit(cache=False)
def _run_adds512(iters, x):
    return _adds512(iters, x)


@njit(cache=False)
def _run_adds256(iters, x):
    return _adds256(iters, x)


@njit(cache=False)
def _run_stores(arr, reps):
    for _ in range(reps):
        for k in range(0, arr.size, 8):
            _store_line(arr, k)


def _best(fn, repeat):
    fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def peak_rates(repeat):
    """``(float64 additions per second, [512-bit rate or nan, 256-bit rate], 64-byte
    line stores per second)``, best of ``repeat`` runs of each loop."""
    iters = 2_000_000
    rates = []
    for run, lanes in ((_run_adds512, 8), (_run_adds256, 4)):
        if lanes == 8 and not AVX512:
            rates.append(float("nan"))
            continue
        t = _best(lambda run=run: run(iters, 1.0), repeat)
        rates.append(iters * ACCUMULATORS * lanes / t)
    line = np.zeros(2048 + 8)[:2048]  # 16 KiB: in L1
    line = line[(-line.ctypes.data // 8) % 8:][:2040]  # on a cache line
    reps = 2000
    t = _best(lambda: _run_stores(line, reps), repeat)
    return np.nanmax(rates), rates, line.size // 8 * reps / t


def _buffer(shape, dtype, offset=16):
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.empty(nbytes + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    repeat = max(args.repeat, 15)
    with threadpool_limits(1):
        peak, rates, store_rate = peak_rates(repeat)
        op, perm_slots, store_slots = pipe_costs(repeat)
        sizes = range(10, 21, 2) if args.quick else range(10, 25, 2)
        rows_out = []
        rng = np.random.default_rng(0)
        for dtype in ("float64", "float32"):
            lanes_factor = 2 if dtype == "float32" else 1  # twice the values a vector
            for k in sizes:
                n = 1 << k
                rows = max(1, (1 << 20) // n)
                src = _buffer((rows, n), dtype)
                src[...] = rng.standard_normal((rows, n))
                buf = _buffer((rows, n), dtype)
                fwht(buf, out=buf)  # JIT warm-up
                copy, ours = float("inf"), float("inf")
                for _ in range(repeat if n < (1 << 22) else max(5, repeat // 2)):
                    np.copyto(buf, src)  # as bench_wht.py: the copy timed with both warm
                    t = time.perf_counter()
                    np.copyto(buf, src)
                    copy = min(copy, time.perf_counter() - t)
                    t = time.perf_counter()
                    fwht(buf, out=buf)
                    ours = min(ours, time.perf_counter() - t)
                bound = n * k * rows / (peak * lanes_factor)
                pipes = pipe_bound(n, rows, np.dtype(dtype).itemsize, op, perm_slots,
                                   store_slots, store_rate)
                rows_out.append((dtype, k, rows, bound, pipes, copy, ours))
    head = ["dtype", "n", "rows", "additions at peak (bound)", "pipe bound", "np.copyto",
            "sparsopt", "bound / copy", "pipe bound / copy", "sparsopt / copy",
            "2x copy reachable?"]
    body = [[d, f"2^{k}", str(r), fmt_time(b), fmt_time(p), fmt_time(c), fmt_time(o),
             f"{b / c:.2f}", f"{p / c:.2f}", f"{o / c:.2f}", _verdict(b / c, p / c)]
            for d, k, r, b, p, c, o in rows_out]
    print(f"peak float64 additions, one thread: {peak / 1e9:.1f} G/s (512-bit "
          f"{rates[0] / 1e9:.1f}, 256-bit {rates[1] / 1e9:.1f}; float32: twice); "
          f"64-byte line stores into L1: {store_rate / 1e9:.2f} G/s "
          f"({store_rate * 64 / 1e9:.0f} GB/s)")
    print(f"{MIX_BITS}-bit vector addition in the best mix with FMAs: {op * 1e9:.3f} ns; "
          f"a lane permutation adds {perm_slots:.2f} of that, a vector store "
          f"{store_slots:.2f} (loops of {MIX_ADDS} additions, {MIX_PERMS} permutations, "
          f"{MIX_STORES} stores a turn)")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in body:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for line in body:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    print("Buffers 16 bytes past a cache line; minimum of the runs; one thread. The bound "
          "counts only the n*log2(n) additions of the FWHT at the measured peak rate; the "
          "pipe bound adds the fewest lane permutations and stores a vector FWHT needs, at "
          "their measured cost beside the additions.")


def _verdict(bound, pipes):
    if bound > 2:
        return "no (bound > 2)"
    return "no (pipe bound > 2)" if pipes > 2 else "not excluded"


if __name__ == "__main__":
    main()
