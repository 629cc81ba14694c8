"""The vector butterflies of :mod:`._wht_simd` on cores with sixteen 256-bit registers.

The kernels of :mod:`._wht_simd` are written in 512-bit vectors: one per 64-byte cache
line, the unit every pass of ``wht.py`` counts in. On x86-64 with AVX2 but without
AVX-512 (AMD Zen 2 and Zen 3, Intel cores before AVX-512) LLVM splits each of them into
two 256-bit halves and schedules the halves together, so a butterfly over sixteen lines
(a radix-16 pass, float64's 64-groups of the register stages) wants 32 registers of the
16 there are, and the code spills (150 spill and reload instructions in a radix-16
butterfly, 276 in the software-pipelined register stages, whose three groups in flight
only pay with 32 registers).

Here the same butterflies are emitted in 256-bit vectors, **depth first**
(:func:`network`): halves that never meet (the two halves of each line in the passes
between streams, the groups of a short-row kernel) one after the other, and a network
of more than :data:`LEAF` vectors as its two halves below its last stage, then that
stage, so that at most eight vectors are in flight beside the other half's results. The
stages of every value still run in the order of ``h`` and each output is the same sum
in the same order as in the 512-bit code: the results are bit-identical. The register
stages are emitted one group at a time (no software pipelining) and the passes between
streams keep plain additions (every other one as an FMA with a ``±1`` multiplier, which
spreads them over more pipes on AVX-512, measured slower here).

Measured on an AMD EPYC (Zen 3, 2026-12-07, one thread), per 2**20 values hot in L1,
same runs, the 512-bit code as LLVM splits it against this:

* float64: radix-16 pass 499 -> 180 us, radix-8 134-136 -> 134, radix-4 90-91 ->
  90-91; register stages of 64-groups 424-428 one group at a time and 589-600
  software-pipelined -> 356-364, of 128-groups (sixteen 512-bit vectors) 429-434;
* float32: radix-16 277-336 -> 92-102, radix-8 70-86 -> 69-76, radix-4 46-64 -> 47-61;
  64-groups 193-221 -> 205-208, 128-groups software-pipelined 327-353 -> 243-245,
  256-groups -> 285-307.
"""

from llvmlite import ir

#: 256-bit vectors a leaf of :func:`network` loads and transforms at once (half of the
#: sixteen registers; the rest hold the other half's results and temporaries)
LEAF = 8


def network(n_idx, steps, leaf, butterfly, store, leaf_size=LEAF):
    """Emit the butterflies over the 256-bit vectors ``0 .. n_idx - 1`` depth first.

    ``steps`` lists, in increasing order, the index bits ``s`` (powers of two) whose
    stage pairs vector ``i`` with ``i + s`` (``i & s == 0``); the other bits of the
    index are independent (vectors that differ only there never meet). ``leaf(idx)``
    emits the loads (and the stages inside the vectors) of the vectors ``idx`` and
    returns ``{i: value}``; ``butterfly(a, b)`` returns ``(a + b, a - b)``;
    ``store(i, value)`` emits the store of a finished vector. A set of more than
    ``leaf_size`` vectors (:data:`LEAF` for sixteen registers) is split on an independent
    bit if one is left (each part finished and stored before the next is loaded), else
    on its last stage's bit (the two parts' results then meet in that stage, stored as
    they come out)."""

    def rec(idx, steps, final):
        if len(idx) <= leaf_size:
            vals = leaf(idx)
            for s in steps:
                for i in idx:
                    if not i & s:
                        vals[i], vals[i + s] = butterfly(vals[i], vals[i + s])
            if final:
                for i in idx:
                    store(i, vals[i])
            return vals
        free = [b for b in _bits(n_idx) if b not in steps
                and any(i & b for i in idx) and not all(i & b for i in idx)]
        if free:
            b = free[-1]
            out = {}
            for part in (0, b):
                out.update(rec([i for i in idx if i & b == part], steps, final))
            return out
        b = steps[-1]
        low = rec([i for i in idx if not i & b], steps[:-1], False)
        high = rec([i for i in idx if i & b], steps[:-1], False)
        out = {}
        for i in sorted(low):
            out[i], out[i + b] = butterfly(low[i], high[i + b])
            if final:
                store(i, out[i])
                store(i + b, out[i + b])
        return out

    rec(list(range(n_idx)), list(steps), True)


def _bits(n_idx):
    return [1 << k for k in range(max(n_idx - 1, 0).bit_length())]


def half_of(builder, vec, lanes):
    """The low ``lanes`` lanes of the vector ``vec`` (a splat's 256-bit half)."""
    if vec is None:
        return None
    mask = ir.Constant(ir.VectorType(ir.IntType(32), lanes), list(range(lanes)))
    return builder.shuffle_vector(vec, vec, mask)
