"""Numba kernels: the dense fast Walsh-Hadamard transform (``fwht_rows``).

``fwht_rows(x, scale=1, n_threads=1)`` transforms every row of a C-contiguous 2-D
array in place, unnormalised (then multiplied by ``scale``) and in natural (Hadamard)
order, exactly as the NumPy reference in ``backends/_numpy/wht.py``. Supported
dtypes: float32, float64 and int64 (exact integer arithmetic; the caller checks that
nothing overflows). ``scale`` has the dtype of ``x``; the last pass multiplies by it as
it stores, with the bits of multiplying afterwards (rows of 2-64 values in their one
register pass; a pass of its own only where the last pass runs on slices: column panels
that are not whole vectors wide, the tails of rows of 2-32 values).

How it is fast (the NumPy reference makes one pass over memory per stage):

* **Fused stages.** The first six stages (``h = 1 .. 32``) are done on every
  64-element group in vector registers by an intrinsic that emits the LLVM vector code
  (:mod:`._wht_simd`: a lane permutation and an FMA with a ±1 multiplier per stage for
  ``h`` below the vector width, vector additions above it; on the Intel Xeon, still with
  a blend instead of the FMA, 0.33 ms per 2**20 float64 values where the loop-vectorised
  stages 1-3, whose stride-8 loads LLVM turns into ~25 shuffles per 32 values, and a
  radix-8 pass took 0.47 ms). On Zen 5 one group's stages are a chain of dependent
  instructions (~30 cycles from its loads to its stores) that left the FP pipes
  waiting, one or two groups at a time (``bfly_1_6x2``: 96 us per 2**20 float64 in
  L1); from three groups on they are software-pipelined (``bfly_1_6_run``: each turn
  of its loop loads a group, finishes the stages inside the vectors of the one before
  and the stages between the vectors of the one before that): 75 us (float32 56 -> 47),
  bit-identical, whole float64 transforms of 2**12-2**20 values per row 16-19 us
  faster (1.47-2.93 copies from 1.60-3.06, aligned, same run). In float32 a 64-group
  is four vectors; rows of 1024, 2048 and 8192 values take 128-groups instead
  (``bfly_1_7_run``: eight vectors, seven stages, as float64's 64-group), so that an
  L1 sub-block of 2**13 float32 (32 KiB) takes three passes, not four (see
  :func:`_group_for`; Zen 4, one thread: rows of 1024 230 -> 175 us per 2**20 values,
  2048 237 -> 218, 2**13 264 -> 228, 2**16 as sub-blocks of 2**13 330 -> 278).
  Groups shorter than 64 take the loop-vectorised stages 1-3. The next stages go three
  at a time
  (radix-8 butterflies, ``h, 2h, 4h``), then a radix-4 or radix-2 stage for what is
  left; but in 16 register groups (float64 1024 values, float32 2048, and with groups of
  sixteen vectors, float64 2048 and float32 4096: :func:`_group_for`) the four stages
  above the register stages are one radix-16 pass (:func:`_stages_16`: 16 streams 512
  bytes or 1 KiB apart fall in few sets of L1): those transforms take two passes, not
  three (Zen 5, one thread, 16 bytes past a line, batches of 2**20 values: float64 rows
  of 1024 229-252 -> 191-211 us, float32 rows of 2048 135-145 -> 101-108), and so do L1
  sub-blocks of that size, which :func:`_geometry` takes where they save a pass in all.
  Wherever the stride ``h`` (or a column panel's width) is a whole number of 512-bit
  vectors -- every pass at the default geometry -- a butterfly takes one vector per
  stream (``bfly_cross16/8/4/2`` of :mod:`._wht_simd`: no slices, no runtime overlap
  tests, unaligned loads), and on AVX-512 every other one is two FMAs with a
  ``±1`` multiplier (bit-identical), so that the additions use the FMA pipes as well as
  the adder's. Measured on Zen 5 per 2**20 float64 values: the passes ``h = 64`` and
  ``512`` in L1 46 -> 44 and 39 us, the column pass of 2**22 and 2**24 8-11 % faster;
  two 64-groups of the register stages at a time (``bfly_1_6x2``) 104 -> 102 us.
  Elsewhere (short tails, panels of other widths) the loops run over slices (the
  literal strides of ``_bfly4`` / ``_bfly2`` in the tails).
* **Whole cache lines.** On a buffer off the 64-byte lines (``np.empty`` puts large
  arrays 16 bytes past one; the kernel works in place on what it is given) every vector
  would straddle two lines. The passes between vectors do not care which values share a
  vector, only that the streams' vectors match lane for lane, so they take the whole
  aligned lines of each range and the two partial lines at its ends as one masked
  vector (``bfly_edge8/4/2``; stages inside a vector still load where the groups
  start). Measured on Zen 5, one thread, 16 bytes past a line: float64 2**12 batch
  255 -> 215 us, 2**16 386 -> 318, 2**20 490 -> 405, float32 2**20 253 -> 210, 2**22
  1.36 -> 1.09 ms: within a few % of an aligned buffer. The aligned path is separate
  code (``_in_l1`` / ``_in_l1_lines``, ``_stages_vec`` / ``_stages_lines``, ``_panel_vec``
  / ``_panel_lines``): a test of the alignment inside the aligned loops, never true
  there, measured 15-30 % slower on float64 rows of 2**22 and 2**24.
* **Cache blocking.** A row is cut into blocks of ``block`` elements (<= 1 MiB, in L2);
  each block is transformed completely (itself in sub-blocks of ``l1`` elements,
  32 KiB, in L1 -- at most 16 KiB for a row as large as the last-level cache, which
  streams from memory: ``STREAM_L1_BYTES`` -- all stages that fit in L1 first, then the
  rest inside the block). Sub-blocks of 16 register groups (8-16 KiB, two passes for
  10-12 stages) replace those of 2**12 (three passes for 12) where that makes fewer
  passes in all (:func:`_geometry`: float64 rows of 2**13, 2**16, 2**19 in sub-blocks
  of 2**10, 2**14, 2**17, 2**20 and up in 2**11; float32 2**14, 2**17, 2**20 in 2**11,
  2**15, 2**18, 2**21 and up in 2**12). First measured with the groups of eight
  vectors, same code, same runs, Zen 5, one thread, 16 bytes past a line: float64
  2**13 280 -> 262 us, 2**16 330 -> 328, 2**19 407 -> 388; float32 2**14 149 -> 128,
  2**17 182 -> 168, 2**20 218 -> 205 (aligned: 255 -> 226, 311 -> 304, 385 -> 373;
  137 -> 116, 169 -> 147, 209 -> 186); where the passes tie, the sub-blocks of 2**12
  measured faster than those of 2**10 (float64 2**14 278 against 327 us, 2**20 432
  against 468; float32 2**16 in sub-blocks of 2**13 144 against 159). On Zen 4, whose
  pipes are 256 bits wide, the groups of sixteen vectors (float64 2**11, float32
  2**12 sub-blocks) lose even where they save a pass, so there they come last
  (``HALF_WIDTH_CPUS``; one thread, same runs: float64 2**20 in sub-blocks of 2**12
  766-774 against 795-914 us, 2**24 in 2**9 22.2-23.6 against 28.2-29.0 ms). A
  one-pass radix-16 for a block of 16 sub-blocks, with whole cache lines of the 16
  streams in vector registers, was used for a while and removed: 0.92 against 0.96 ms
  on the Intel Xeon, but on an AMD EPYC (Zen 5) 552 against 414 us per float64 2**16
  batch (474 against 337 on a 64-byte aligned buffer): its 16 streams 32 KiB apart
  fall in one set of the 12-way L1.
  The remaining stages couple the blocks: seen as a matrix of ``R = n / block`` rows
  of ``block`` columns, they are a length-``R`` transform down every column; they are
  done on panels of ``width`` columns (an ``R x width`` panel stays in L2) with
  radix-8 butterflies vectorised along the panel's rows. So a row of 2**24 floats is
  read from and written to memory twice. Every pass costs about the same whatever its
  radix (8, 4 or 2), so ``block`` is chosen per length for the fewest passes
  (``_geometry``: float32 2**16 in L1 sub-blocks of 2**13, a measured tie-break; and
  at most ``MAX_BLOCKS`` = 16 blocks where the size allows, since the rows of a column
  panel, a power of two apart, share the sets of the 16-way L2 in 2 MiB pages).
* **Where the time goes** (one thread, per 2**20 float64 values, hot in L1, measured on
  the shared 2-core development machine, before the vector-register stages 1-6): stages
  1-3 0.34 ms (the assembly shows ~25 shuffles per 32 values for the interleaved loads),
  each later radix-8 pass in L1 ~0.12 ms (256-bit vectors: LLVM prefers them on this CPU
  and Numba has no per-function override for 512-bit ones), a pass over a block in L2
  ~0.18 ms; ``np.copyto`` of 2**20 float64 from L3 ~0.59 ms. So even a row that fits in
  L1 (one read and one write of memory) costs ~1.4x a copy, and each pass in L2 adds
  ~0.3x. Non-temporal stores, which would save the read-for-ownership of the last pass,
  need an intrinsic like those of :mod:`._wht_simd` (not tried). Tried and dropped
  (slower): radix-16 passes as loops (not vectorised over 16 slices; 16 streams 32 KiB
  apart also overfill the 12-way L1), FMA with +-1 multipliers in the loop-vectorised
  stages 1-3 and to spread the adds of a radix-8 pass over more ports (Intel; the
  radix-8 passes of the vector kernels now do use FMAs on AVX-512: written as
  ``fma(b, 1, a)`` LLVM had folded them back into additions, which is why they first
  measured no faster, see :mod:`._wht_simd`), straight-line code for SLP (Numba
  runs no SLP vectoriser by default), copying column panels to a contiguous scratch,
  two-level column passes.
* **Where the time goes on Zen 5** (one thread, float64 2**20 in 8 blocks of 2**17,
  496-520 us in all, ``np.copyto`` 130 us, an in-place pass over the L3-resident array
  83 us): L1 stages 1-12 ~190 us (register stages 102, two radix-8 passes 44 + 39), the
  two passes inside each 1 MiB block ~145 us (L2 bandwidth, ~55 bytes a cycle), the
  column pass ~81 us (one in-place pass over L3). With the pipelined register stages
  (79 us hot in L1) and the prefetch of the next L1 sub-block (:func:`_in_l1`), on an
  aligned buffer: 392-394 us in all (``np.copyto`` 134), the L1 stages from L3 ~197,
  the passes in L2 ~120, the column pass ~75. Measured in C on the same machine:
  512-bit stores ~0.8 a cycle, so any pass costs >= 39 us per 2**20 float64 even in L1;
  the FP pipes do 4 additions (2 adds + 2 FMAs) a cycle at 4.19 GHz, so the
  ``20 * 2**20`` additions alone take >= 157 us. Tried on Zen 5 and dropped (measured
  slower or equal): software prefetch of the next column panel or L1 sub-block (the
  latter as a burst before the sub-block's passes; spread over its radix-8 passes it
  now pays, see :func:`_in_l1`),
  contiguous scratch copies of column panels (0.4-0.8x), radix-16 or -32 across the
  sub-blocks of a block (16 or 32 streams 32 KiB apart: 470 and 1600 us against 145),
  32 KiB sub-blocks for rows streamed from memory (2**24 block pass 10.3 against 8.3 ms);
  for an out-of-place call, the copy fused into the first pass over each L1 sub-block
  (vector copies, or ``memcpy`` per sub-block) instead of ``np.copyto`` and then the
  in-place transform: equal or slower (float64 1024 x 1024 343-410 against 332-463 us,
  16 x 2**16 463-896 against 448-763, float32 within 3 %; the stores of the fused copy
  read their lines for ownership, which ``np.copyto``'s string copy avoids); the column
  stages of 2**22 and 2**24 on a contiguous scratch panel, radix-16 fused with the copy
  in and radix-8 with the copy out, with or without a software prefetch of the next
  panel (1.23-1.99 against 1.10 ms, 8.8-12.5 against 7.3-7.7 ms), and float64 2**20 as
  L1 sub-blocks of 2**12 then those scratch passes down 256-row columns (676-1089
  against 404-416 us: rows 32 KiB apart share two sets of the 16-way L2). Also
  dropped: the stage ``h = 4`` (and ``h = 2``) of the register stages from 256-bit
  (128-bit) broadcast loads instead of a lane permutation (Zen 5 counts the broadcast
  as a shuffle too: 114 and 124 against 101 us in C), and the radix-4 pass of a
  float64 row of 2**14 (in L2) interleaved with the register stages of the next row
  (264-270 against 268-275 us per batch of 2**20 values: within the noise).
* **On Zen 4** (AMD EPYC 9004, 2026-12-07: 512-bit operations on 256-bit units, L1d
  32 KiB 8-way): per 2**20 float64 values hot in L1 the register stages take 196 us
  (75 on Zen 5), a radix-8 pass 87-89 and a radix-4 pass 79 (a later machine: radix-2
  and -4 71, radix-8 80 and radix-16 99 with the FMA mix of :mod:`._wht_simd`'s
  ``FMA_PATTERNS``, 89 and 120 with every other butterfly): 512-bit stores into L1
  at 118 GB/s (``benchmarks/bench_wht_bound.py``) make any pass >= 71 us, and the
  additions run at 59 G float64 a second at best (so ``20 * 2**20`` take >= 356 us).
  The same geometry measured best (L1 sub-blocks of 2**9-2**12, blocks of 2**13-2**17
  swept). Tried and dropped: register stages over two 32-value groups from each of four
  L1 sub-blocks (stages 1-5 and the two above the sub-block, pipelined, then a radix-16
  and a radix-8 pass in L1: the radix-4 pass over the block in L2 of a row of 2**14
  saved), 473 -> 439 us per float64 batch of 2**14 rows in a kernel with only the
  aligned path, but 508 once the unaligned one was compiled beside it, and 503 -> 501
  at 16 bytes past a line; the additions of the register stages between vectors as
  half FMAs (205 against 196 us).
* **On AVX2 cores** (x86-64 without AVX-512: AMD EPYC Zen 3, 2026-12-07, L1d 32 KiB
  8-way, L2 512 KiB): the vector kernels are emitted in 256-bit halves, depth first
  (:mod:`._wht_avx2`); as LLVM split the 512-bit code, a radix-16 butterfly had 150
  spill and reload instructions and the pipelined register stages 276 (6 and 14
  now). Per 2**20 float64 values hot in L1: a radix-4 pass 90 us, radix-8 134,
  radix-16 180, the register stages of 64-groups 360 (589 before): ~45 us a stage
  between vectors whatever the radix, two 256-bit additions a cycle (FMAs by ``±1``
  for half of them measured slower there: radix-8 148 -> 155-178 us), so the passes
  are bound by the adders more than by the stores. Whole transforms, one thread, 16
  bytes past a line, same runs: 13-49 % faster (float64 rows of 2**14 2.63 -> 1.52
  ms a batch of 2**20, float32 2**12 1.00 -> 0.51). There the groups of sixteen vectors
  cost no more than those of eight (no software pipelining), and a sub-block of 32 KiB
  fills the L1, so float32 rows from 2**12 on all take sub-blocks of 2**12
  (:func:`_geometry`; against 2**11: rows of 2**14 557 against 611 us, 2**17 664
  against 716, 2**20 1026 against 1134; against 2**13: rows of 2**13 718 against 782,
  2**16 687 against 772).
* **Threads** (``n_threads > 1``): over rows when there are at least as many rows as
  threads; for fewer, longer rows, the blocks of a row are shared among the threads,
  then (after a barrier) its column panels. They run as Numba ``prange`` kernels: a
  parallel region starts in ~1.4 us on the 2-core Zen 5 machine, where waking the
  threads of a Python pool cost 44-141 us (more than a transform of 256 KiB), so two
  threads now pay from 512 KiB on (``MIN_PARALLEL_BYTES``; float64 2**20, one row: 429
  -> 222 us, was 584 us through the pool). Where a ``prange`` kernel must not run (see
  :func:`_prange_ok`: Numba's ``workqueue`` layer, not thread-safe, or GNU OpenMP
  started before this process was forked) the same split runs on
  :func:`~sparsopt.utils.parallel.thread_map`, from ``POOL_MIN_BYTES`` on.

The fused butterflies add in a different order than the radix-2 reference, but each
output is the same sum of ``n`` signed inputs: in integers the results are identical,
in floating point they agree to rounding (about ``log2(n) * eps * sqrt(sum x**2)``).
"""

import os

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ...utils.parallel import prange_ok, thread_map
from .._registry import register_kernel
from ._wht_simd import (
    HALF_WIDTH_CPUS,
    bfly_1_6,
    bfly_1_6_run,
    bfly_1_6x2,
    bfly_1_7,
    bfly_1_7_run,
    bfly_1_7x2,
    bfly_1_8,
    bfly_2,
    bfly_4,
    bfly_8,
    bfly_16,
    bfly_32,
    bfly_cross2,
    bfly_cross4,
    bfly_cross8,
    bfly_cross16,
    bfly_edge2,
    bfly_edge4,
    bfly_edge8,
    bfly_edge16,
    narrow_target,
    prefetch_l2,
    target_cpu_name,
)

_opts = dict(cache=True, nogil=True)

#: largest block transformed at once (in L2), an L1 sub-block, a panel row (at most),
#: a whole panel (at most)
BLOCK_BYTES = 1 << 20
L1_BYTES = 1 << 15
PANEL_BYTES = 1 << 12
PANEL_MAX_BYTES = 1 << 20
#: at most this many blocks when the size allows. The column pass pairs rows ``block``
#: elements apart, a power of two: in 2 MiB pages (Linux gives them to NumPy's large
#: arrays) every row of a panel falls in the same sets of the 16-way L2, so a panel of
#: more than 16 rows does not stay there between its passes. Measured on Zen 5, one
#: thread: float64 2**20 512 us in 8 blocks of 2**17 against 540 in 32 of 2**15, 2**21
#: 1256 against 1360; float32 2**20 268 against 280; no size slower. Rows of more than
#: 16 MiB still take blocks of at most BLOCK_BYTES (earlier, on an Intel Xeon: 2**24
#: float64 in 512 blocks ~10-20 % slower than in 256), or STREAM_BLOCK_BYTES where
#: that saves a pass
MAX_BLOCKS = 16
#: rows streamed from memory (at least the L3's size) may take blocks this large (past
#: L2, in L3) where that saves a pass over the row: float64 2**24 from sub-blocks of
#: 2**9 as 64 blocks of 2**18 (3 passes in each block, 2 down the columns) rather than
#: 128 of 2**17 (3 and 3). Zen 4, one thread, three runs: 18.9 ms against 20.3-20.5;
#: float64 2**22, float32 2**24 (as many passes either way) 4.36 against 4.28 and 9.35
#: against 9.18: ties keep BLOCK_BYTES
STREAM_BLOCK_BYTES = 2 << 20
#: below this many bytes a call runs in one thread. Measured on Zen 5 (2 cores), two
#: threads against one, ``prange`` kernels: float64 rows of 2**10, 256 KiB 0.85x, 512 KiB
#: 1.11x, 1 MiB 1.54x, 8 MiB 1.87x; float32 256 KiB 0.90x, 512 KiB 1.20x
MIN_PARALLEL_BYTES = 1 << 19
#: below this many bytes the thread pool (where a ``prange`` kernel may not run) leaves a
#: call on one thread: waking its threads costs 44-141 us here. Measured through the
#: pool: float64 2**20 one row 429 us on one thread, 584 on two; 2**22 3.99 against
#: 2.67 ms, 2**24 20.5 against 15.0 ms
POOL_MIN_BYTES = 32 << 20
#: L1 sub-blocks of rows at least as large as the last-level cache (read from memory) are
#: at most this many bytes. Measured on an AMD EPYC (Zen 5: L1d 48 KiB, L3 32 MiB), five
#: runs each: float64 rows of 2**22 3.56-3.81 ms with 4 KiB sub-blocks against 3.76-4.27 ms
#: with 32 KiB ones, 2**24 18.0-18.6 against 20.1-20.6 ms; rows that fit in L3 (2**21:
#: 1.32 against 1.26 ms) and float32 (16 KiB sub-blocks; 2 KiB ones slower) keep theirs
STREAM_L1_BYTES = 1 << 14
#: column-panel rows of rows streamed from memory on the AVX-512 cores with 256-bit pipes
#: (``HALF_WIDTH_CPUS``), whatever the number of blocks: there a panel of 32 rows or
#: more, a power of two apart, does not stay in the 8-way L2 anyway, and the longer runs
#: of each row measured faster (Zen 4, one thread, 16 bytes past a line, same runs:
#: float64 2**24 20.3-21.0 ms against 21.6-22.1 with rows of 4 KiB, 2**22 4.47-4.70
#: against 4.68-4.88; float32 2**24 10.1-10.3 against 10.6-10.7 with 4 KiB, 2**23
#: 4.63-4.66 against 4.74-4.83); elsewhere unmeasured, so unchanged
STREAM_PANEL_BYTES = 1 << 14
#: float32 arrays prefetch the next L1 sub-block (see :func:`_in_l1`) from this many bytes
#: on; 8-byte items always do. Zen 5, one thread, 16 bytes past a line, same runs without
#: and with: float64 2**14-2**24 per row 1-7 % faster (295.7 -> 289.7 us at 2**14, 337.6
#: -> 314.6 at 2**16, 448.3 -> 428.5 at 2**20, 18.4 -> 17.5 ms at 2**24); float32 batches
#: of 4 MiB 0-6 % slower (143.6 -> 151.2 us at 2**14, 220.9 -> 228.3 at 2**20), rows of
#: 16 MiB and 64 MiB 7-14 % faster (1.69 -> 1.45 ms at 2**22, 8.28 -> 7.70 at 2**24)
PREFETCH_MIN_BYTES = 16 << 20


@njit(**_opts)
def _stages_123(v):
    """Stages ``h = 1, 2, 4`` on every 8-group of ``v`` (``v.size % 8 == 0``)."""
    for i in range(v.size // 8):
        j = 8 * i
        a0 = v[j]
        a1 = v[j + 1]
        a2 = v[j + 2]
        a3 = v[j + 3]
        a4 = v[j + 4]
        a5 = v[j + 5]
        a6 = v[j + 6]
        a7 = v[j + 7]
        b0 = a0 + a1
        b1 = a0 - a1
        b2 = a2 + a3
        b3 = a2 - a3
        b4 = a4 + a5
        b5 = a4 - a5
        b6 = a6 + a7
        b7 = a6 - a7
        c0 = b0 + b2
        c2 = b0 - b2
        c1 = b1 + b3
        c3 = b1 - b3
        c4 = b4 + b6
        c6 = b4 - b6
        c5 = b5 + b7
        c7 = b5 - b7
        v[j] = c0 + c4
        v[j + 4] = c0 - c4
        v[j + 1] = c1 + c5
        v[j + 5] = c1 - c5
        v[j + 2] = c2 + c6
        v[j + 6] = c2 - c6
        v[j + 3] = c3 + c7
        v[j + 7] = c3 - c7


@njit(inline="always", **_opts)
def _bfly4(w, k, h):
    """Two fused stages on ``w[k], w[k + h], w[k + 2h], w[k + 3h]`` (literal ``h``)."""
    a0 = w[k]
    a1 = w[k + h]
    a2 = w[k + 2 * h]
    a3 = w[k + 3 * h]
    b0 = a0 + a1
    b1 = a0 - a1
    b2 = a2 + a3
    b3 = a2 - a3
    w[k] = b0 + b2
    w[k + 2 * h] = b0 - b2
    w[k + h] = b1 + b3
    w[k + 3 * h] = b1 - b3


@njit(inline="always", **_opts)
def _bfly2(w, k, h):
    """One stage on ``w[k], w[k + h]`` (literal ``h``)."""
    a0 = w[k]
    a1 = w[k + h]
    w[k] = a0 + a1
    w[k + h] = a0 - a1


def _register_pass(run, pair, one, group, doc):
    """A kernel ``(v, scale)``: the register stages of every ``group``-group of ``v``
    (``v.size % group == 0``), in vector registers (one load and one store per value),
    the results times ``scale`` unless it is ``None``: from three groups on
    software-pipelined (``run``), else two groups (``pair``) and one (``one``) at a time."""
    @njit(**_opts)
    def stages(v, scale):
        if v.size >= 3 * group:
            run(v, 0, v.size, scale)
            return
        end = v.size - v.size % (2 * group)
        for i in range(0, end, 2 * group):
            pair(v, i, scale)
        if end < v.size:
            one(v, end, scale)

    stages.__doc__ = doc
    return stages


_stages_1_6 = _register_pass(
    bfly_1_6_run, bfly_1_6x2, bfly_1_6, 64,
    """Stages ``h = 1 .. 32`` on every 64-group of ``v`` (:func:`._wht_simd.bfly_1_6`,
    software-pipelined by :func:`._wht_simd.bfly_1_6_run`).""")
_stages_1_7 = _register_pass(
    bfly_1_7_run, bfly_1_7x2, bfly_1_7, 128,
    """Stages ``h = 1 .. 64`` on every 128-group of ``v`` (float32: eight vectors a group,
    as float64's 64-groups; :func:`._wht_simd.bfly_1_7_run`).""")


def _one_at_a_time(bfly, group, doc):
    """A kernel ``(v, scale)``: ``bfly`` on every ``group``-group of ``v``, one group at a
    time (groups of sixteen vectors: two or three in flight spill registers)."""
    @njit(**_opts)
    def stages(v, scale):
        for i in range(0, v.size, group):
            bfly(v, i, scale)

    stages.__doc__ = doc
    return stages


_stages_1_8 = _one_at_a_time(
    bfly_1_8, 256, """Stages ``h = 1 .. 128`` on every 256-group of ``v`` (float32: sixteen
    vectors a group, :func:`._wht_simd.bfly_1_8`).""")
_stages_1_7_one = _one_at_a_time(
    bfly_1_7, 128, """Stages ``h = 1 .. 64`` on every 128-group of ``v`` (float64: sixteen
    vectors a group; 112 us per 2**20 values in L1 against 102 software-pipelined, but
    the sub-blocks of 2**11 they serve measured 4-10 % faster this way).""")


def _group_for(v, m):
    """Values a group of the register stages in the transforms of the ``m``-groups of
    ``v``: 64 (``h = 1 .. 32``), or 128 for float32 (``h = 1 .. 64``: eight 512-bit
    vectors a group, as float64's 64) where that saves a pass or measured faster:
    ``m`` = 1024 (two passes, not three), 8192 (three, not four) and 2048 (three both:
    radix-8 and radix-2 after it against radix-8 and radix-4). Measured on Zen 4, 16
    bytes past a line, one thread, float32 batches of 2**20: rows of 1024 230 -> 175 us,
    2048 238 -> 225, 8192 264 -> 232; with groups of 128 rows of 256 and 512 took 184 ->
    190 and 174 -> 180 (aligned 152 -> 183) and 4096 220 -> 231: those keep 64. Groups of
    sixteen vectors for float32 ``m`` = 4096 (256, ``h = 1 .. 128``) and float64 ``m`` =
    2048 (128): with one radix-16 pass after them, two passes instead of three
    (:func:`_sub16`; float64 sub-blocks of 2**11 against 2**12, same runs: rows of 2**14
    257 against 273 us, 2**17 327 against 351, 2**20 413 against 440; rows streamed from
    memory, against sub-blocks of 2**9: 2**22 3.30 against 4.41 ms, 2**24 15.8 against
    19.4)."""


@overload(_group_for, inline="always")
def _group_for_impl(v, m):
    # a constant 64 for the other dtypes: their kernels compile as before the groups of
    # 128 (code for them, never run, slowed float64 rows of 2**9-2**12 by 2-3 %)
    if v.dtype == types.float32:
        # 64, 128 or 256 without a branch (branches in an inlined overload upset
        # Numba's IR checks): m is a power of two, and 1024 | 2048 | 8192 = 11264
        return lambda v, m: 64 * (1 + ((m & 11264) != 0) + 3 * (m == 4096))
    if v.dtype == types.float64:  # sixteen vectors for m = 2048 (see _sub16)
        return lambda v, m: 64 * (1 + (m == 2048))
    return lambda v, m: 64


def _register_stages(v, g, scale):
    """The register stages of every ``g``-group of ``v`` (:func:`_group_for`):
    ``h = 1 .. 32`` (:func:`_stages_1_6`), ``h = 1 .. 64`` (:func:`_stages_1_7`) or
    ``h = 1 .. 128`` (:func:`_stages_1_8`)."""


@overload(_register_stages, inline="always")
def _register_stages_impl(v, g, scale):
    # float32 only compiles the groups of 128 and 256 (see _group_for)
    if v.dtype == types.float32:
        def impl(v, g, scale):
            if g == 128:
                _stages_1_7(v, scale)
            elif g == 256:
                _stages_1_8(v, scale)
            else:
                _stages_1_6(v, scale)
    elif v.dtype == types.float64:
        def impl(v, g, scale):
            if g == 128:
                _stages_1_7_one(v, scale)
            else:
                _stages_1_6(v, scale)
    else:
        def impl(v, g, scale):
            _stages_1_6(v, scale)
    return impl


@njit(**_opts)
def _short_groups(v, n, scale):
    """The whole transform of every ``n``-group of ``v`` (``n`` = 2, 4, ..., 64) in
    vector registers, 64 values at a time, times ``scale`` unless it is ``None``; the
    values after the last whole 64 (rows of fewer than 64 values) by the scalar
    butterflies."""
    end = v.size - v.size % 64
    if n == 64:
        _stages_1_6(v[:end], scale)
    elif n == 32:
        for i in range(0, end, 64):
            bfly_32(v, i, scale)
    elif n == 16:
        for i in range(0, end, 64):
            bfly_16(v, i, scale)
    elif n == 8:
        for i in range(0, end, 64):
            bfly_8(v, i, scale)
    elif n == 4:
        for i in range(0, end, 64):
            bfly_4(v, i, scale)
    else:
        for i in range(0, end, 64):
            bfly_2(v, i, scale)
    if end < v.size:
        w = v[end:]
        _in_l1(w, n, 0, n)
        if scale is not None:
            _scale(w, scale)


@njit(inline="always", **_opts)
def _line_shift(v, lanes):
    """Values from ``v[0]`` (and from every ``v[k]``, ``k`` a multiple of ``lanes``) to the
    next 64-byte boundary: 0 on an aligned buffer, 2 for float64 16 bytes past a line;
    0 too if the items are not aligned on their size (then every vector is taken where
    its range starts)."""
    addr = v.ctypes.data
    if addr % v.itemsize:
        return 0
    return (-(addr // v.itemsize)) & (lanes - 1)


@njit(inline="always", **_opts)
def _cross_range(v, a, h, count, lanes, radix, scale):
    """Radix-``radix`` butterflies between the ranges ``v[a + q * h:][:count]`` (all
    multiples of ``lanes``), a whole vector per stream, on an aligned buffer; the
    results times ``scale`` unless it is ``None`` (a compile-time choice: Numba compiles
    a version for each type)."""
    if radix == 8:
        for k in range(a, a + count, lanes):
            bfly_cross8(v, k, h, scale)
    elif radix == 4:
        for k in range(a, a + count, lanes):
            bfly_cross4(v, k, h, scale)
    else:
        for k in range(a, a + count, lanes):
            bfly_cross2(v, k, h, scale)


@njit(inline="always", **_opts)
def _lines_range(v, a, h, count, shift, lanes, radix, scale):
    """:func:`_cross_range` on a buffer off the cache lines (``0 < shift < lanes`` from
    :func:`_line_shift`; ``a``, ``h`` and ``count`` multiples of ``lanes``): the whole
    aligned lines of every range, then its two partial lines as one masked vector
    (:func:`._wht_simd._edge`). A vector that straddles two lines costs two accesses:
    float64 2**20, radix-8 passes in L1, 73 against 45 us per pass on a buffer 16 bytes
    past a line on Zen 5, 55 and 48 us this way. Callers test ``shift`` once, outside,
    and keep separate plain loops for an aligned buffer (see :func:`_in_l1_lines`)."""
    if radix == 8:
        for k in range(a + shift, a + count - lanes, lanes):
            bfly_cross8(v, k, h, scale)
        bfly_edge8(v, a, h, count, shift, scale)
    elif radix == 4:
        for k in range(a + shift, a + count - lanes, lanes):
            bfly_cross4(v, k, h, scale)
        bfly_edge4(v, a, h, count, shift, scale)
    else:
        for k in range(a + shift, a + count - lanes, lanes):
            bfly_cross2(v, k, h, scale)
        bfly_edge2(v, a, h, count, shift, scale)


@njit(inline="always", **_opts)
def _radix(n, h):
    """The radix of the pass at stride ``h`` of a length-``n`` transform: 8 while three
    stages remain, then 4 or 2."""
    return 8 if 8 * h <= n else (4 if 4 * h <= n else 2)


@njit(inline="always", **_opts)
def _prefetch(v, c, end, lanes, per):
    """Prefetch into L2 the ``per`` cache lines from ``v[c]`` on, none at or past
    ``end`` (both may lie past the end of the slice ``v``: the next L1 sub-block of its
    array); returns where the next call starts."""
    for _ in range(per):
        if c < end:
            prefetch_l2(v, c)
            c += lanes
    return c


@njit(inline="always", **_opts)
def _prefetching(x):
    """Whether the L1 sub-blocks of ``x`` prefetch the next one: 2 from
    ``PREFETCH_MIN_BYTES`` on (all of them), 1 for the other arrays of 8-byte items (the
    sub-blocks of :func:`_in_l1`, not those of :func:`_sub16`), else 0."""
    if x.nbytes >= PREFETCH_MIN_BYTES:
        return 2
    return 1 if x.itemsize == 8 else 0


@njit(inline="always", **_opts)
def _groups_lines(v, m, h, shift):
    """Radix-8 butterflies at stride ``h`` (``m = 8h``) in every ``m``-group of ``v``, a
    buffer ``shift`` values off the cache lines (:func:`_lines_range`): stages ``h, 2h,
    4h``. Inlined, so that the strides of :func:`_in_l1_lines` are constants in its code:
    on Zen 4, float64 in L1 16 bytes past a line, a pass at ``h`` = 512 took 93.7 us per
    2**20 values with ``h`` a variable and 83.2 with it a constant (aligned, literal:
    81); float64 rows of 2**12 402 -> 390 us a batch of 2**20, 2**20 723 -> 711."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, m):
        _lines_range(v, i, h, h, shift, lanes, 8, None)


@njit(inline="always", **_opts)
def _groups_lines_pf(v, m, h, shift, c, end, per):
    """:func:`_groups_lines`, prefetching ``per`` lines a butterfly from ``c`` up to
    ``end`` (:func:`_prefetch`); returns the next line to prefetch."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, m):  # _lines_range, with the prefetches
        for k in range(i + shift, i + h - lanes, lanes):
            bfly_cross8(v, k, h, None)
            c = _prefetch(v, c, end, lanes, per)
        bfly_edge8(v, i, h, h, shift, None)
        c = _prefetch(v, c, end, lanes, per)
    return c


@njit(**_opts)
def _stages_789(v):
    """Stages ``h = 64, 128, 256`` on every 512-group of ``v`` (a literal stride:
    float32 batches measured 2-3 % slower with it a variable, :func:`_stages_r8`)."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 512):
        for k in range(i, i + 64, lanes):
            bfly_cross8(v, k, 64, None)


@njit(**_opts)
def _stages_10_12(v):
    """Stages ``h = 512, 1024, 2048`` on every 4096-group of ``v``."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 4096):
        for k in range(i, i + 512, lanes):
            bfly_cross8(v, k, 512, None)


@njit(**_opts)
def _stages_r8(v, h):
    """Stages ``h, 2h, 4h`` on every ``8h``-group of ``v`` (``h`` a multiple of the
    vector's lanes: the passes of :func:`_in_l1` after float32's 128-groups)."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 8 * h):
        for k in range(i, i + h, lanes):
            bfly_cross8(v, k, h, None)


@njit(**_opts)
def _stages_pf(v, h, c, end, per):
    """Stages ``h, 2h, 4h`` (``h`` = 64: :func:`_stages_789`, 512: :func:`_stages_10_12`)
    on every ``8h``-group of ``v``, prefetching ``per`` lines a butterfly from ``c`` up to
    ``end`` (:func:`_prefetch`); returns the next line to prefetch. Separate from the
    plain passes: the prefetch loop, even empty, cost float32 batches 5 %."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 8 * h):
        for k in range(i, i + h, lanes):
            bfly_cross8(v, k, h, None)
            c = _prefetch(v, c, end, lanes, per)
    return c


@njit(inline="always", **_opts)
def _stages_16(v, h):
    """Stages ``h, 2h, 4h, 8h`` on every ``16h``-group of ``v`` in one radix-16 pass
    (``h`` = the register group ``g``, a constant where :func:`_sub16` inlines it: 512
    bytes in float64 and in float32's 128-groups, 1 KiB in its 256-groups). Sixteen
    streams that close fall in eight (four) sets of L1, two (four) in each; streams
    4 KiB apart or more would all share one set of the 12-way L1 (float64 in L2, a
    radix-16 pass at a stride of 8 KiB: 276 us per 2**20 values, against 113 for a
    radix-8 and a radix-2 pass), which is why the radix-16 passes stop at 16 groups and
    the passes above stay radix-8. A butterfly's sixteen vectors and the ``±1``
    constants fit in the 32 vector registers of AVX-512 (a radix-32 pass does not: 91
    us per 2**20 float64 in L1, against 53 for radix 16 and 45 for radix 8). Whole
    transforms of ``16g`` values (float64 1024, float32 2048 and 4096) then take two
    passes, not three, and an L1 sub-block of ``16g`` values gives the rows whose
    stages above it come to ``3k`` one pass fewer (see :func:`_geometry`)."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 16 * h):
        for k in range(i, i + h, lanes):
            bfly_cross16(v, k, h, None)


@njit(inline="always", **_opts)
def _lines_16(v, h, shift):
    """:func:`_stages_16` on a buffer ``shift`` values off the cache lines (whole lines,
    and the two partial ones of each range as one masked vector: :func:`_lines_range`)."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 16 * h):
        for k in range(i + shift, i + h - lanes, lanes):
            bfly_cross16(v, k, h, None)
        bfly_edge16(v, i, h, h, shift, None)


@njit(inline="always", **_opts)
def _stages_16_pf(v, h, c, end, per):
    """:func:`_stages_16`, prefetching ``per`` lines a butterfly from ``c`` up to ``end``
    (:func:`_prefetch`)."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 16 * h):
        for k in range(i, i + h, lanes):
            bfly_cross16(v, k, h, None)
            c = _prefetch(v, c, end, lanes, per)


@njit(inline="always", **_opts)
def _lines_16_pf(v, h, shift, c, end, per):
    """:func:`_lines_16`, prefetching as :func:`_stages_16_pf`."""
    lanes = 64 // v.itemsize
    for i in range(0, v.size, 16 * h):
        for k in range(i + shift, i + h - lanes, lanes):
            bfly_cross16(v, k, h, None)
            c = _prefetch(v, c, end, lanes, per)
        bfly_edge16(v, i, h, h, shift, None)
        c = _prefetch(v, c, end, lanes, per)


@njit(**_opts)
def _tail(v, h, m):
    """The last one or two stages (``h`` and ``2h`` up to ``m / 2``, ``m`` = ``2h`` or
    ``4h``) on every ``m``-group of ``v``, with literal strides for ``h`` = 8, 64, 512."""
    if h == 8:
        if m == 16:
            for i in range(0, v.size, 16):
                w = v[i:i + 16]
                for k in range(8):
                    _bfly2(w, k, 8)
        else:
            for i in range(0, v.size, 32):
                w = v[i:i + 32]
                for k in range(8):
                    _bfly4(w, k, 8)
    elif h == 64:
        if m == 128:
            for i in range(0, v.size, 128):
                w = v[i:i + 128]
                for k in range(64):
                    _bfly2(w, k, 64)
        else:
            for i in range(0, v.size, 256):
                w = v[i:i + 256]
                for k in range(64):
                    _bfly4(w, k, 64)
    elif h == 512:
        if m == 1024:
            for i in range(0, v.size, 1024):
                w = v[i:i + 1024]
                for k in range(512):
                    _bfly2(w, k, 512)
        else:
            for i in range(0, v.size, 2048):
                w = v[i:i + 2048]
                for k in range(512):
                    _bfly4(w, k, 512)
    else:
        _stages_slices(v, h, m)


@njit(**_opts)
def _vector_tail_f32(v, h, m, shift):
    """:func:`_tail` between whole vectors, for the strides of float32's groups of 128
    (``h`` = 128, 1024, 8192): whole lines and a masked edge vector a range on a buffer
    ``shift`` values off the lines (:func:`_stages_lines`), else plain vectors
    (:func:`_stages_vec`)."""
    lanes = 64 // v.itemsize
    if shift:
        _stages_lines(v, h, m, lanes, shift, None)
    else:
        _stages_vec(v, h, m, lanes, None)


def _vector_tail(v, h, m, shift):
    """The tail of :func:`_in_l1` / :func:`_in_l1_lines` (``shift``: 0 there) at a
    stride ``h`` that :func:`_tail` has no literal code for."""


@overload(_vector_tail, inline="always")
def _vector_tail_impl(v, h, m, shift):
    # the other dtypes keep _tail (their code as before the float32 groups of 128)
    if v.dtype == types.float32:
        return lambda v, h, m, shift: _vector_tail_f32(v, h, m, shift)
    return lambda v, h, m, shift: _tail(v, h, m)


@njit(inline="always", **_opts)
def _radix8(v0, v1, v2, v3, v4, v5, v6, v7):
    """Three fused stages on eight equal slices: ``v_j <- sum_i H8[j, i] v_i``."""
    for k in range(v0.size):
        a0 = v0[k]
        a1 = v1[k]
        a2 = v2[k]
        a3 = v3[k]
        a4 = v4[k]
        a5 = v5[k]
        a6 = v6[k]
        a7 = v7[k]
        b0 = a0 + a1
        b1 = a0 - a1
        b2 = a2 + a3
        b3 = a2 - a3
        b4 = a4 + a5
        b5 = a4 - a5
        b6 = a6 + a7
        b7 = a6 - a7
        c0 = b0 + b2
        c2 = b0 - b2
        c1 = b1 + b3
        c3 = b1 - b3
        c4 = b4 + b6
        c6 = b4 - b6
        c5 = b5 + b7
        c7 = b5 - b7
        v0[k] = c0 + c4
        v4[k] = c0 - c4
        v1[k] = c1 + c5
        v5[k] = c1 - c5
        v2[k] = c2 + c6
        v6[k] = c2 - c6
        v3[k] = c3 + c7
        v7[k] = c3 - c7


@njit(inline="always", **_opts)
def _radix4(v0, v1, v2, v3):
    """Two fused stages on four equal slices."""
    for k in range(v0.size):
        a0 = v0[k]
        a1 = v1[k]
        a2 = v2[k]
        a3 = v3[k]
        b0 = a0 + a1
        b1 = a0 - a1
        b2 = a2 + a3
        b3 = a2 - a3
        v0[k] = b0 + b2
        v2[k] = b0 - b2
        v1[k] = b1 + b3
        v3[k] = b1 - b3


@njit(inline="always", **_opts)
def _radix2(v0, v1):
    """One stage on two equal slices."""
    for k in range(v0.size):
        a0 = v0[k]
        a1 = v1[k]
        v0[k] = a0 + a1
        v1[k] = a0 - a1


@njit(**_opts)
def _stages_vec(v, h, m, lanes, scale):
    """:func:`_stages` for ``h`` a multiple of the vector's ``lanes`` on an aligned
    buffer: the butterflies between whole 512-bit vectors (:mod:`._wht_simd`), no
    slices; the last pass multiplies by ``scale`` unless it is ``None``."""
    while h < m:
        radix = _radix(m, h)
        if radix * h < m:
            for i in range(0, v.size, radix * h):
                _cross_range(v, i, h, h, lanes, radix, None)
        else:
            for i in range(0, v.size, radix * h):
                _cross_range(v, i, h, h, lanes, radix, scale)
        h *= radix


@njit(**_opts)
def _stages_lines(v, h, m, lanes, shift, scale):
    """:func:`_stages_vec` on a buffer ``shift`` values off the cache lines."""
    while h < m:
        radix = _radix(m, h)
        if radix * h < m:
            for i in range(0, v.size, radix * h):
                _lines_range(v, i, h, h, shift, lanes, radix, None)
        else:
            for i in range(0, v.size, radix * h):
                _lines_range(v, i, h, h, shift, lanes, radix, scale)
        h *= radix


@njit(**_opts)
def _stages(v, h, m, scale):
    """Stages ``h, 2h, ..., m/2`` on every ``m``-group of the contiguous ``v``, then
    times ``scale`` unless it is ``None`` (in the last pass where the vector kernels
    serve)."""
    lanes = 64 // v.itemsize
    if h % lanes:
        _stages_slices(v, h, m)
        if scale is not None:
            _scale(v, scale)
        return
    shift = _line_shift(v, lanes)
    if shift:
        _stages_lines(v, h, m, lanes, shift, scale)
    else:
        _stages_vec(v, h, m, lanes, scale)


@njit(**_opts)
def _stages_slices(v, h, m):
    """:func:`_stages` over slices, any ``h``. The kernels inside L1 call it (short
    groups, tails) rather than :func:`_stages`, which would inline the vector and
    masked code into them for lengths that never use it (see :func:`_in_l1_lines` for
    what unused code cost there)."""
    while 8 * h <= m:
        for i in range(0, v.size, 8 * h):
            _radix8(v[i:i + h], v[i + h:i + 2 * h], v[i + 2 * h:i + 3 * h],
                    v[i + 3 * h:i + 4 * h], v[i + 4 * h:i + 5 * h], v[i + 5 * h:i + 6 * h],
                    v[i + 6 * h:i + 7 * h], v[i + 7 * h:i + 8 * h])
        h *= 8
    if 4 * h <= m:
        for i in range(0, v.size, 4 * h):
            _radix4(v[i:i + h], v[i + h:i + 2 * h], v[i + 2 * h:i + 3 * h],
                    v[i + 3 * h:i + 4 * h])
        h *= 4
    if 2 * h <= m:
        for i in range(0, v.size, 2 * h):
            _radix2(v[i:i + h], v[i + h:i + 2 * h])


@njit(inline="always", **_opts)
def _per_call(v, m, ahead, g):
    """Lines to prefetch a radix-8 butterfly of :func:`_in_l1` (its passes ``h = g``
    and ``h = 8g`` after the register stages of ``g``-groups, one vector a stream) for
    the ``ahead`` values after ``v`` to arrive in L2 by the end of the passes."""
    lanes = 64 // v.itemsize
    calls = 0
    if m >= 8 * g:
        calls += v.size // (8 * lanes)
    if m >= 64 * g:
        calls += v.size // (8 * lanes)
    if calls == 0 or ahead <= 0:
        return 0
    return (ahead // lanes + calls - 1) // calls


def _make_in_l1(g):
    """The kernels ``(in_l1, in_l1_lines)`` of :func:`_in_l1` and :func:`_in_l1_lines` for
    register groups of ``g`` values, a constant in their code: float32's kernels for
    groups of 64 are then those from before the groups of 128 (a variable ``g`` cost
    float32 rows of 2**12-2**20 1-3 %)."""

    @njit(**_opts)
    def in_l1(v, m, ahead):
        if m < 8:
            _stages_slices(v, 1, m)
            return
        per = _per_call(v, m, ahead, g)
        if m >= g:
            _register_stages(v, g, None)
            h = g
        else:
            _stages_123(v)
            h = 8
        if h == g:
            if per:
                c = v.size
                if m >= 8 * g:
                    c = _stages_pf(v, g, c, v.size + ahead, per)
                    h = 8 * g
                if m >= 64 * g:
                    _stages_pf(v, 8 * g, c, v.size + ahead, per)
                    h = 64 * g
            elif g == 64:
                if m >= 512:
                    _stages_789(v)
                    h = 512
                if m >= 4096:
                    _stages_10_12(v)
                    h = 4096
            else:
                if m >= 8 * g:
                    _stages_r8(v, g)
                    h = 8 * g
                if m >= 64 * g:
                    _stages_r8(v, 8 * g)
                    h = 64 * g
        if h < m:
            if 4 * h < m:  # larger than an L1 sub-block: the generic slices
                _stages_slices(v, h, m)
            elif h == 8 or h == 64 or h == 512:
                _tail(v, h, m)
            else:
                _vector_tail(v, h, m, 0)

    @njit(**_opts)
    def in_l1_lines(v, m, shift, ahead):
        if m < 8 * g:
            in_l1(v, m, ahead)
            return
        per = _per_call(v, m, ahead, g)
        _register_stages(v, g, None)
        if per:
            c = _groups_lines_pf(v, 8 * g, g, shift, v.size, v.size + ahead, per)
        else:
            _groups_lines(v, 8 * g, g, shift)
        h = 8 * g
        if m >= 64 * g:
            if per:
                _groups_lines_pf(v, 64 * g, 8 * g, shift, c, v.size + ahead, per)
            else:
                _groups_lines(v, 64 * g, 8 * g, shift)
            h = 64 * g
        if h < m:
            if 4 * h < m:
                _stages_slices(v, h, m)
            elif h == 512:
                _tail(v, h, m)
            else:
                _vector_tail(v, h, m, shift)

    return in_l1, in_l1_lines


_in_l1_64, _in_l1_lines_64 = _make_in_l1(64)
_in_l1_128, _in_l1_lines_128 = _make_in_l1(128)
_in_l1_256, _in_l1_lines_256 = _make_in_l1(256)


def _make_sub16(g):
    """The kernel of :func:`_sub16` for register groups of ``g`` values (a constant in
    its code, as in :func:`_make_in_l1`)."""

    @njit(**_opts)
    def sub16(v, shift, pf):
        m = 16 * g
        lanes = 64 // v.itemsize
        calls = g // lanes  # radix-16 butterflies a sub-block
        for s in range(0, v.size, m):
            w = v[s:s + m]
            ahead = min(m, v.size - s - m) if pf else 0
            _register_stages(w, g, None)
            if ahead > 0:  # the next sub-block into L2 (see _in_l1)
                per = (ahead // lanes + calls - 1) // calls
                if shift:
                    _lines_16_pf(w, g, shift, m, m + ahead, per)
                else:
                    _stages_16_pf(w, g, m, m + ahead, per)
            elif shift:
                _lines_16(w, g, shift)
            else:
                _stages_16(w, g)

    return sub16


def _by_group(k64, k128, k256):
    """``call(g, a, b, c)``: ``k64``, ``k128`` or ``k256`` on ``(a, b, c)``, by the
    register group ``g`` (inlined: for float64 and int64 ``g`` is the constant 64)."""

    @njit(inline="always", **_opts)
    def call(g, a, b, c):
        if g == 128:
            k128(a, b, c)
        elif g == 256:
            k256(a, b, c)
        else:
            k64(a, b, c)

    return call


_in_l1_by_group = _by_group(_in_l1_64, _in_l1_128, _in_l1_256)
_sub16_by_group = _by_group(*(_make_sub16(g) for g in (64, 128, 256)))


@njit(inline="always", **_opts)
def _sub16(v, g, shift, pf):
    """The whole transforms of the ``16g``-sub-blocks of ``v`` (``g`` from
    :func:`_group_for`, ``shift`` from :func:`_line_shift`): register stages and one
    radix-16 pass each (:func:`_stages_16`), prefetching the next one if ``pf``.
    :func:`_in_l1` could do the same, but its length is a variable there: float32
    batches of rows of 2**14 in sub-blocks of 2**11 took 134-138 us against 129-131
    with the length a constant (Zen 5, one thread, 16 bytes past a line). The
    prefetch of the next sub-block (callers: only for arrays from
    ``PREFETCH_MIN_BYTES`` on) did not pay for smaller ones, which :func:`_in_l1`
    prefetches in float64 (Zen 5, float64, same runs, without and with: rows of 1024
    181 and 199 us, sub-blocks of rows of 2**13 246 and 250, 2**16 323 and 324; float32
    rows of 2**14 123 and 129)."""
    _sub16_by_group(g, v, shift, pf)


@njit(inline="always", **_opts)
def _in_l1(v, m, ahead, n):
    """All the stages of every ``m``-group of ``v`` (``m`` a power of two, a group fits
    in L1): the register stages of its ``g``-groups (``g = _group_for(v, n)``, ``n`` the
    length of the whole transform: ``m``, or a row whose last pass is done apart), fixed-
    stride radix-8 passes, then a radix-4 or radix-2 tail. The ``ahead``
    values after ``v`` in its array (the next L1 sub-block; 0: none) are prefetched into
    L2 during the radix-8 passes, a few lines a butterfly: that sub-block's register
    stages then read L2, not L3. Those are bound by L3 reads otherwise, while the
    radix-8 passes in L1 leave the memory idle (Zen 5, float64, 2**20 values in
    sub-blocks of 2**12 from L3: 206-224 -> 182-185 us with 4 lines a butterfly, the
    same sub-blocks hot in L1 174; a burst of prefetches before the passes, into L1 or
    L2: 205-228)."""
    _in_l1_by_group(_group_for(v, n), v, m, ahead)


@njit(inline="always", **_opts)
def _in_l1_lines(v, m, shift, ahead, n):
    """:func:`_in_l1` on a buffer ``shift`` values off the cache lines: the radix-8
    passes take whole lines (:func:`_groups_lines`). A copy of its own rather than a
    test inside :func:`_in_l1`: any test of the alignment in there, never true on an
    aligned buffer, slowed float64 rows of 2**22 and 2**24 streamed from memory by
    15-30 % (their L1 sub-blocks 5.6 against 6.3-7.2 ms), the same code otherwise."""
    g = _group_for(v, n)
    if g == 128:
        _in_l1_lines_128(v, m, shift, ahead)
    elif g == 256:
        _in_l1_lines_256(v, m, shift, ahead)
    else:
        _in_l1_lines_64(v, m, shift, ahead)


@njit(**_opts)
def _small(v, ahead):
    """The whole transform of a contiguous ``v`` that fits in L1 (``ahead``: see
    :func:`_in_l1`)."""
    _in_l1(v, v.size, ahead, v.size)


@njit(**_opts)
def _short_rows(flat, n, l1, scale, do_scale, pf):
    """Every ``n``-group of the contiguous ``flat`` (rows of ``n <= l1`` values, back to
    back), transformed ``l1`` values at a time: short rows cost no per-row overhead.
    Rows of 2-64 values take one pass in vector registers (:func:`_short_groups`);
    scaled rows of at least 128 values take their last pass apart, multiplied as it
    stores (:func:`_last_pass`): no pass of its own for the scaling."""
    if 2 <= n <= 64:  # one group of registers: the stages and the scaling in one pass
        for s in range(0, flat.size, l1):
            if do_scale:
                _short_groups(flat[s:s + l1], n, scale)
            else:
                _short_groups(flat[s:s + l1], n, None)
        return
    g = _group_for(flat, n)
    lanes = 64 // flat.itemsize
    shift = _line_shift(flat, lanes)
    if n == 16 * g and not do_scale:  # rows of 16 groups: their lengths as constants
        _sub16(flat, g, shift, pf == 2)
        return
    last = do_scale and n > g
    # the passes above the register stages (h = g on), radix 8 and then 4 or 2 as in
    # _in_l1: every m-group first, then the last pass (stride m) on its own
    m = g
    while last and m * _radix(n, m) < n and n != 16 * g:  # 16g: reg. + radix 16
        m *= _radix(n, m)
    radix = n // m if last else 1
    m = n // radix
    for s in range(0, flat.size, l1):
        v = flat[s:s + l1]
        ahead = max(0, min(l1, flat.size - s - l1)) if pf else 0  # prefetched (_in_l1)
        if last:
            if shift:
                _in_l1_lines(v, m, shift, ahead, n)
            else:
                _in_l1(v, m, ahead, n)
            _last_pass(v, m, radix, shift, lanes, scale)
            continue
        if shift:
            _in_l1_lines(v, n, shift, ahead, n)
        else:
            _in_l1(v, n, ahead, n)
        if do_scale:
            _scale(v, scale)


@njit(**_opts)
def _last_pass(v, h, radix, shift, lanes, scale):
    """The last ``radix``-pass (stride ``h``, a multiple of ``lanes``) of every
    ``radix * h``-group of ``v``, its results times ``scale``; ``shift`` from
    :func:`_line_shift`. Off the cache lines, streams shorter than 512 values take
    plain (straddling) vectors: one masked edge vector per 64-value stream cost more
    (float32 rows of 128, 16 bytes past a line: 194 against 129 us per 2**20 values)."""
    m = radix * h
    if radix == 16:  # rows of 16 register groups (h = g: plain vectors)
        for i in range(0, v.size, m):
            for k in range(i, i + h, lanes):
                bfly_cross16(v, k, h, scale)
        return
    if shift and h >= 512:
        for i in range(0, v.size, m):
            _lines_range(v, i, h, h, shift, lanes, radix, scale)
    else:
        for i in range(0, v.size, m):
            _cross_range(v, i, h, h, lanes, radix, scale)


@njit(**_opts)
def _scale(v, scale):
    for k in range(v.size):
        v[k] *= scale


@njit(**_opts)
def _block(v, l1, scale, do_scale, pf):
    """The whole transform of a contiguous ``v`` that fits in L2 (L1 sub-blocks first)."""
    m = v.size
    shift = _line_shift(v, 64 // v.itemsize)
    g = _group_for(v, l1)
    if m >= l1 and l1 == 16 * g:  # (_in_l1 has no radix-16 pass)
        _sub16(v, g, shift, pf == 2)
    elif shift:
        for s in range(0, m, l1):
            w = v[s:s + min(l1, m)]
            _in_l1_lines(w, w.size, shift, max(0, min(l1, m - s - l1)) if pf else 0,
                         w.size)
    else:
        for s in range(0, m, l1):
            _small(v[s:s + min(l1, m)], max(0, min(l1, m - s - l1)) if pf else 0)
    if m <= l1:
        if do_scale:
            _scale(v, scale)
    elif do_scale:  # multiplied in the last pass
        _stages(v, l1, m, scale)
    else:
        _stages(v, l1, m, None)


@njit(**_opts)
def _blocks(row, block, l1, b0, b1, pf):
    """Transform blocks ``b0 .. b1 - 1`` (each of ``block`` elements) of ``row``."""
    for b in range(b0, b1):
        _block(row[b * block:(b + 1) * block], l1, row[0], False, pf)


@njit(**_opts)
def _panel_vec(row, block, n_blk, cs, ce, lanes, scale):
    """The cross-block stages of the columns ``cs .. ce - 1`` (a multiple of ``lanes``
    wide, ``n_blk >= 2`` blocks) with the butterflies between whole 512-bit vectors; the
    last pass multiplies by ``scale`` unless it is ``None``."""
    # one shift for all the rows when they are whole vectors apart (else plain vectors)
    shift = (_line_shift(row, lanes) - cs) & (lanes - 1) if block % lanes == 0 else 0
    if shift:
        _panel_lines(row, block, n_blk, cs, ce, lanes, shift, scale)
        return
    h = 1
    while h < n_blk:
        radix = _radix(n_blk, h)
        for i in range(0, n_blk, radix * h):
            for r in range(i, i + h):
                if radix * h < n_blk:
                    _cross_range(row, r * block + cs, h * block, ce - cs, lanes, radix,
                                 None)
                else:
                    _cross_range(row, r * block + cs, h * block, ce - cs, lanes, radix,
                                 scale)
        h *= radix


@njit(**_opts)
def _panel_lines(row, block, n_blk, cs, ce, lanes, shift, scale):
    """:func:`_panel_vec` on rows ``shift`` values off the cache lines."""
    h = 1
    while h < n_blk:
        radix = _radix(n_blk, h)
        for i in range(0, n_blk, radix * h):
            for r in range(i, i + h):
                if radix * h < n_blk:
                    _lines_range(row, r * block + cs, h * block, ce - cs, shift, lanes,
                                 radix, None)
                else:
                    _lines_range(row, r * block + cs, h * block, ce - cs, shift, lanes,
                                 radix, scale)
        h *= radix


@njit(**_opts)
def _columns(row, block, width, c0, c1, scale, do_scale):
    """The cross-block stages of ``row`` (``R`` blocks of ``block`` columns), for the
    columns ``c0 .. c1 - 1``, on panels of ``width`` columns; then the scaling."""
    n_blk = row.size // block
    lanes = 64 // row.itemsize
    for cs in range(c0, c1, width):
        ce = min(cs + width, c1)
        if (ce - cs) % lanes == 0 and n_blk > 1:
            if do_scale:  # multiplied in the last pass
                _panel_vec(row, block, n_blk, cs, ce, lanes, scale)
            else:
                _panel_vec(row, block, n_blk, cs, ce, lanes, None)
            continue
        h = 1
        while 8 * h <= n_blk:
            for i in range(0, n_blk, 8 * h):
                for r in range(i, i + h):
                    p = r * block
                    s = h * block
                    _radix8(row[p + cs:p + ce], row[p + s + cs:p + s + ce],
                            row[p + 2 * s + cs:p + 2 * s + ce],
                            row[p + 3 * s + cs:p + 3 * s + ce],
                            row[p + 4 * s + cs:p + 4 * s + ce],
                            row[p + 5 * s + cs:p + 5 * s + ce],
                            row[p + 6 * s + cs:p + 6 * s + ce],
                            row[p + 7 * s + cs:p + 7 * s + ce])
            h *= 8
        if 4 * h <= n_blk:
            for i in range(0, n_blk, 4 * h):
                for r in range(i, i + h):
                    p = r * block
                    s = h * block
                    _radix4(row[p + cs:p + ce], row[p + s + cs:p + s + ce],
                            row[p + 2 * s + cs:p + 2 * s + ce],
                            row[p + 3 * s + cs:p + 3 * s + ce])
            h *= 4
        if 2 * h <= n_blk:
            for i in range(0, n_blk, 2 * h):
                for r in range(i, i + h):
                    p = r * block
                    s = h * block
                    _radix2(row[p + cs:p + ce], row[p + s + cs:p + s + ce])
        if do_scale:
            for r in range(n_blk):
                _scale(row[r * block + cs:r * block + ce], scale)


@njit(**_opts)
def fwht_rows_serial(x, scale, do_scale, block, l1, width):
    """Transform every row of the C-contiguous 2-D ``x`` in place, in this thread."""
    n = x.shape[1]
    pf = _prefetching(x)
    if n <= l1:
        _short_rows(x.reshape(x.size), n, l1, scale, do_scale, pf)
        return x
    for i in range(x.shape[0]):
        row = x[i]
        if n <= block:
            _block(row, l1, scale, do_scale, pf)
        else:
            _blocks(row, block, l1, 0, n // block, pf)
            _columns(row, block, width, 0, block, scale, do_scale)
    return x


_L3 = []


def _l3_bytes():
    """The last-level cache of this machine in bytes (Linux sysfs), or 0 where unknown."""
    if not _L3:
        size = 0
        try:
            base = "/sys/devices/system/cpu/cpu0/cache"
            for entry in sorted(os.listdir(base)):
                if not entry.startswith("index"):
                    continue
                with open(os.path.join(base, entry, "level")) as f:
                    level = int(f.read())
                with open(os.path.join(base, entry, "size")) as f:
                    text = f.read().strip().upper()
                scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
                value = int(text.rstrip("KMG")) * scale
                if level >= 3:
                    size = max(size, value)
        except (OSError, ValueError):
            size = 0
        _L3.append(size)
    return _L3[0]


def _passes(n_stages):
    return -(-n_stages // 3)  # radix-8 passes, the last one radix-4 or radix-2


def _group_py(dtype, m):
    """:func:`_group_for` in Python, for :func:`_geometry`'s pass model (the overload
    encodes the same rule without branches; a test keeps the two equal)."""
    if dtype == np.float32 and m in (1024, 2048, 8192, 4096):
        return 256 if m == 4096 else 128
    if dtype == np.float64 and m == 2048:
        return 128
    return 64


def _l1_passes(m, dtype):
    """Passes over an L1 sub-block of ``m >= 64`` values of ``size`` bytes: the register
    stages of its groups (:func:`_group_for`), then one radix-16 pass where 16 groups
    make it (:func:`_sub16`), else radix-8 passes and a radix-4 or -2 (:func:`_in_l1`)."""
    g = _group_py(dtype, m)
    above = (m.bit_length() - 1) - (g.bit_length() - 1)
    return 1 + (1 if above == 4 else _passes(above))


def _block_split(n, l1, max_block):
    """``(passes, s_b)``: the fewest passes above L1 sub-blocks of ``l1`` for a row of
    ``n > max_block``, with blocks of ``l1 << s_b`` (the largest among equal splits)."""
    rest = n.bit_length() - 1 - (l1.bit_length() - 1)  # stages above the sub-blocks
    max_sb = (max_block.bit_length() - 1) - (l1.bit_length() - 1)
    min_sb = min(max(1, rest - (MAX_BLOCKS.bit_length() - 1)), max_sb)
    best = None
    for s_b in range(min_sb, max_sb + 1):
        cost = _passes(s_b) + _passes(rest - s_b)
        if best is None or cost <= best[0]:
            best = (cost, s_b)
    return best


def _geometry(x):
    """``(block, l1, width)`` in elements for rows of ``x``.

    Each pass over the data costs about the same (radix 16, 8, 4 or 2: memory bound), so
    the L1 sub-blocks and the split of the stages above them between the blocks and the
    columns are chosen for the fewest passes in all (:func:`_l1_passes` inside a
    sub-block): e.g. float64 2**20 = L1 (2**12) x 2**5 in L2 x 2**3 across blocks
    (3 + 2 + 1 passes), not 2**4 x 2**4 (4 passes above L1), with at most
    ``MAX_BLOCKS`` blocks where the size allows (a column panel then stays in L2). The
    sub-blocks: 2**12 values (2**9 for float64 rows streamed from memory), twice that
    where it fits in L1 (float32), or 16 register groups (float64 2**10, float32 2**11:
    register stages and one radix-16 pass). Among as many passes, the fewer above L1
    win (those run in L2: float64 2**14 as sub-blocks of 2**12 and one radix-4 pass in
    L2, 278 us a batch of 2**20, against 327 as sub-blocks of 2**10 and two passes in
    L2), then the cheaper register stages (the 512-bit code's float32 groups of 256 cost
    more than its pipelined groups of 128: rows of 2**14 in sub-blocks of 2**11 124 us
    against 138 in sub-blocks of 2**12, 2**17 155 against 167, 2**20 190 against 210),
    then the larger block; in the 256-bit code (AVX2 cores) the groups of 256 cost no
    more and float32 takes no sub-blocks of 2**13 (32 KiB: a whole L1 of Zen 3).
    Rows streamed from memory may take blocks of up to ``STREAM_BLOCK_BYTES`` where that
    saves a pass. Panels are at most ``PANEL_MAX_BYTES`` (in L2) and ``PANEL_BYTES`` wide.
    """
    size = x.dtype.itemsize
    n = x.shape[1]
    l1_bytes = L1_BYTES
    l3 = _l3_bytes()
    streamed = bool(l3) and n * size >= l3
    if streamed:
        # a row streamed from memory: sub-blocks of at most 16 KiB (see STREAM_L1_BYTES)
        l1_bytes = min(l1_bytes, STREAM_L1_BYTES)
    l1 = 1 << (3 * (((l1_bytes // size).bit_length() - 1) // 3))
    if n <= l1:  # short rows, l1 values at a time
        return max(n, 1), l1, PANEL_BYTES // size
    max_block = BLOCK_BYTES // size
    # candidate sub-blocks: 2**(3k), twice that (float32: 2**13 = 7 + 3 + 3 stages with
    # groups of 128, e.g. float32 2**16 as 8 x 2**13 with one radix-8 pass in L2 rather
    # than 16 x 2**12 with two: Zen 4 331 -> 283 us a batch of 2**20; 2**13 as one
    # sub-block 264 -> 232), 16 register groups
    cands = [l1, 2 * l1, 16 * (128 if size == 4 else 64)] + [2048] * (x.dtype == np.float64)
    best = None
    for rank, c in enumerate(cands):
        if c * size > l1_bytes or c > n:
            continue
        if c == 2 * l1 and _narrow():
            # float32 2**13 (32 KiB, a whole L1 of Zen 3): in the 256-bit code 2**12 and
            # the groups of 256 measured faster (Zen 3, one thread, same runs: rows of
            # 2**13 718 against 782 us a batch of 2**20, 2**16 687 against 772)
            continue
        if n <= max_block:
            above, s_b = _passes((n.bit_length() - 1) - (c.bit_length() - 1)), 0
        else:
            above, s_b = _block_split(n, c, max_block)
            if streamed:  # larger blocks where they save a pass (STREAM_BLOCK_BYTES)
                wide = _block_split(n, c, STREAM_BLOCK_BYTES // size)
                if wide[0] < above:
                    above, s_b = wide
        # groups of sixteen vectors (float32 256, float64 128): costlier register stages
        # than the software-pipelined groups of eight, which the 256-bit code does not
        # have (there, one group at a time either way: float32 rows of 2**14 in
        # sub-blocks of 2**12 557 us against 611 in 2**11, 2**17 664 against 716, 2**20
        # 1026 against 1134; Zen 3, one thread, same runs)
        costly = (c == (4096 if size == 4 else 2048) and x.dtype.kind == "f"
                  and not _narrow())
        # on AVX-512 cores with 256-bit pipes (Zen 4) those groups lose even where they
        # save a pass: they come last (one thread, 16 bytes past a line, same runs:
        # float64 rows of 2**14 in sub-blocks of 2**12 521-537 us a batch of 2**20
        # against 564-572 in 2**11, 2**17 641-658 against 694-779, 2**20 766-1071
        # against 795-1130, 2**24 in 2**9 22.2-23.6 ms against 28.2-29.0; float32 2**15
        # in 2**13 266 against 282, 2**18 318 against 339, 2**24 in 2**11 10.9-11.0 ms
        # against 12.3-12.4); still so with those groups' register stages in 256-bit
        # halves (_wht_simd.HALVES_GROUPS; same runs: float64 2**14 498 against 501 us,
        # 2**18 634 against 707, 2**20 730 either way; float32 2**14 240 against 263,
        # 2**16 261 against 300)
        cost = (costly and _half_width(), _l1_passes(c, x.dtype) + above, above, costly,
                rank)
        if best is None or cost < best[0]:
            best = (cost, c, s_b)
    _, l1, s_b = best
    if n <= max_block:
        return n, l1, PANEL_BYTES // size
    block = l1 << s_b
    n_blk = n // block
    # panel rows of 8 KiB rather than 4 for at most 16 blocks: float32 2**22 (16 blocks
    # of 1 MiB) measured 4.1-4.8 ms against 7.8-8.5 ms while other processes loaded the
    # memory, level (3.5 ms) when they did not; float64 2**18 and float32 2**21 level
    row_bytes = 2 * PANEL_BYTES if n_blk <= 16 else PANEL_BYTES
    width = max(1, min(row_bytes, PANEL_MAX_BYTES // n_blk) // size)
    if streamed and _half_width():
        width = STREAM_PANEL_BYTES // size
    return block, l1, min(width, block)


_NARROW = []
_HOST_CPU = []
# HALF_WIDTH_CPUS (from ._wht_simd, whose kernels take fewer FMAs there): the AVX-512
# cores whose vector pipes are 256 bits wide, by LLVM's name for the host CPU


def _narrow():
    """Whether the kernels are the 256-bit ones (:func:`._wht_simd.narrow_target`)."""
    if not _NARROW:
        _NARROW.append(narrow_target())
    return _NARROW[0]


def _half_width():
    """Whether the kernels are the 512-bit ones on a core that runs them on 256-bit
    pipes (``HALF_WIDTH_CPUS``: Zen 4), where :func:`_geometry` takes the groups of
    sixteen vectors last."""
    if not _HOST_CPU:  # the kernels' target (NUMBA_CPU_NAME, else the host)
        _HOST_CPU.append(target_cpu_name())
    return not _narrow() and _HOST_CPU[0] in HALF_WIDTH_CPUS


def _split(n_items, n_parts):
    bounds = [round(i * n_items / n_parts) for i in range(n_parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n_parts) if bounds[i] < bounds[i + 1]]


def _prange_ok():
    """Whether the ``prange`` kernels may run here (:func:`~sparsopt.utils.parallel.
    prange_ok` with ``thread_safe``: the pool takes over on Numba's ``workqueue`` layer,
    and in a process forked after Numba's OpenMP threads started)."""
    return prange_ok(thread_safe=True)


def _chunks(x, n_threads):
    """Threads for ``x``: at most ``n_threads`` and Numba's, each with at least half of
    ``MIN_PARALLEL_BYTES`` (break-even on the development machine: two threads measured
    1.1x one at 512 KiB), so that many cores do not split a small array thinly."""
    per_thread = max(1, MIN_PARALLEL_BYTES // 2)
    return max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS, x.nbytes // per_thread))


def _with_numba_threads(chunks, kernel, *args):
    """``kernel(*args, chunks)`` on ``chunks`` Numba threads (from :func:`_chunks`; this
    thread's count restored afterwards)."""
    before = numba.get_num_threads()
    numba.set_num_threads(chunks)
    try:
        kernel(*args, chunks)
    finally:
        numba.set_num_threads(before)


_par = dict(cache=True, nogil=True, parallel=True)


@njit(**_par)
def _rows_par(x, scale, do_scale, block, l1, width, chunks):
    """:func:`fwht_rows_serial` on ``chunks`` contiguous runs of rows, one a thread."""
    n_rows = x.shape[0]
    for t in prange(chunks):
        fwht_rows_serial(x[t * n_rows // chunks:(t + 1) * n_rows // chunks], scale,
                         do_scale, block, l1, width)


@njit(**_par)
def _shared_rows_par(x, scale, do_scale, block, l1, width, chunks):
    """Each row of ``x`` (longer than a block) by all ``chunks`` threads: its blocks,
    then (the end of a ``prange`` is a barrier) its column panels."""
    n_blk = x.shape[1] // block
    n_pan = block // width
    pf = _prefetching(x)
    for i in range(x.shape[0]):
        row = x[i]
        for t in prange(chunks):
            _blocks(row, block, l1, t * n_blk // chunks, (t + 1) * n_blk // chunks, pf)
        for t in prange(chunks):
            _columns(row, block, width, (t * n_pan // chunks) * width,
                     ((t + 1) * n_pan // chunks) * width, scale, do_scale)


def _rows_pool(x, scale, do_scale, block, l1, width, n_threads):
    """The split of :func:`_rows_par` and :func:`_shared_rows_par` on the thread pool."""
    n_rows, n = x.shape
    if n_rows >= n_threads or n <= block:
        parts = _split(n_rows, n_threads)
        if len(parts) == 1:
            fwht_rows_serial(x, scale, do_scale, block, l1, width)
            return
        thread_map(lambda ab: fwht_rows_serial(x[ab[0]:ab[1]], scale, do_scale, block, l1,
                                               width), parts, len(parts))
        return
    blk_parts = _split(n // block, n_threads)
    col_parts = _split(block // width, n_threads)
    pf = _prefetching(x)
    for i in range(n_rows):
        row = x[i]
        thread_map(lambda ab, row=row: _blocks(row, block, l1, ab[0], ab[1], pf), blk_parts,
                   n_threads)
        thread_map(lambda ab, row=row: _columns(row, block, width, ab[0] * width,
                                                ab[1] * width, scale, do_scale), col_parts,
                   n_threads)


def _shared_geometry(n, block, l1, width, itemsize):
    """``(block, width)`` for a row shared among threads. A row longer than a block keeps
    its geometry; one that fits in a block is cut in 8 blocks (at least ``l1`` long), so
    that the threads share its blocks, then its column panels: as many passes as one
    block in one thread (float64 2**17: 2**12 L1 sub-blocks, then a radix-4 pass in each
    block and a radix-8 column pass, against a radix-8 and a radix-4 pass in one block)."""
    if n > block:
        return block, width
    block = max(l1, n >> 3)
    return block, max(1, min(2 * PANEL_BYTES // itemsize, block))


@register_kernel("fwht_rows", "numba")
def fwht_rows(x, scale=1, n_threads=1):
    """Transform every row of the C-contiguous 2-D ``x`` in place (see the module doc).

    ``x`` is float32, float64 or int64; ``scale`` (cast to ``x.dtype``) multiplies the
    result; ``n_threads`` threads share the work (one below ``MIN_PARALLEL_BYTES``).
    Returns ``x``.
    """
    n_rows, n = x.shape
    block, l1, width = _geometry(x)
    do_scale = scale != 1
    scale = x.dtype.type(scale)
    n_threads = max(1, int(n_threads))
    if n_threads == 1 or x.nbytes < MIN_PARALLEL_BYTES or n_rows == 0:
        return fwht_rows_serial(x, scale, do_scale, block, l1, width)
    if not _prange_ok():
        if x.nbytes < POOL_MIN_BYTES:
            return fwht_rows_serial(x, scale, do_scale, block, l1, width)
        _rows_pool(x, scale, do_scale, block, l1, width, n_threads)
        return x
    chunks = _chunks(x, n_threads)
    if chunks == 1 or n <= l1 and n_rows < chunks:
        return fwht_rows_serial(x, scale, do_scale, block, l1, width)
    # whole rows a thread; rows beyond an L1 sub-block that do not split evenly among
    # the threads are shared by all of them (3 rows on 2 threads: 1.5 rows' time, not 2)
    whole = n_rows if n <= l1 else n_rows - n_rows % chunks
    if whole:
        _with_numba_threads(chunks, _rows_par, x[:whole], scale, do_scale, block, l1,
                            width)
    if whole < n_rows:
        s_block, s_width = _shared_geometry(n, block, l1, width, x.itemsize)
        _with_numba_threads(chunks, _shared_rows_par, x[whole:], scale, do_scale, s_block,
                            l1, s_width)
    return x


@njit(**_opts)
def fwht_axis_serial(x, scale, do_scale, width, c0, c1):
    """Transform along the middle axis of the C-contiguous 3-D ``x``, columns ``c0 .. c1``
    of every slab ``x[p]`` (an ``(n, post)`` matrix: the column kernel, ``n`` blocks of
    ``post`` values)."""
    for p in range(x.shape[0]):
        slab = x[p]
        _columns(slab.reshape(slab.size), x.shape[2], width, c0, c1, scale, do_scale)
    return x


@njit(**_par)
def _axis_par(x, scale, do_scale, width, by_slab, chunks):
    """:func:`fwht_axis_serial` on ``chunks`` threads: runs of slabs if ``by_slab``, else
    runs of the column panels of every slab."""
    pre, post = x.shape[0], x.shape[2]
    if by_slab:
        for t in prange(chunks):
            fwht_axis_serial(x[t * pre // chunks:(t + 1) * pre // chunks], scale, do_scale,
                             width, 0, post)
    else:
        n_pan = -(-post // width)
        for t in prange(chunks):
            fwht_axis_serial(x, scale, do_scale, width, (t * n_pan // chunks) * width,
                             min(((t + 1) * n_pan // chunks) * width, post))


@register_kernel("fwht_axis", "numba")
def fwht_axis(x, scale=1, n_threads=1):
    """Transform along axis 1 of the C-contiguous 3-D ``x`` of shape ``(pre, n, post)`` in
    place, in natural order, times ``scale``; threads share the slabs, or the columns of
    each slab when there are fewer slabs than threads. Returns ``x``.

    Efficient when an ``n x width`` panel fits in L2 with ``width >= 8`` (the caller
    moves the axis last otherwise).
    """
    pre, n, post = x.shape
    size = x.dtype.itemsize
    width = max(1, min(PANEL_BYTES, PANEL_MAX_BYTES // max(n, 1)) // size)
    do_scale = scale != 1
    scale = x.dtype.type(scale)
    n_threads = max(1, int(n_threads))
    if n_threads == 1 or x.nbytes < MIN_PARALLEL_BYTES or x.size == 0:
        return fwht_axis_serial(x, scale, do_scale, width, 0, post)
    if _prange_ok():
        chunks = _chunks(x, n_threads)
        if chunks == 1:
            return fwht_axis_serial(x, scale, do_scale, width, 0, post)
        _with_numba_threads(chunks, _axis_par, x, scale, do_scale, width, pre >= chunks)
        return x
    if x.nbytes < POOL_MIN_BYTES:
        return fwht_axis_serial(x, scale, do_scale, width, 0, post)
    if pre >= n_threads:
        parts = _split(pre, n_threads)
        thread_map(lambda ab: fwht_axis_serial(x[ab[0]:ab[1]], scale, do_scale, width, 0,
                                               post), parts, len(parts))
        return x
    n_pan = -(-post // width)
    parts = _split(n_pan, n_threads)
    thread_map(lambda ab: fwht_axis_serial(x, scale, do_scale, width, ab[0] * width,
                                           min(ab[1] * width, post)), parts, len(parts))
    return x
