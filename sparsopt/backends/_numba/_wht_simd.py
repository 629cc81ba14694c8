"""The fast Walsh-Hadamard transform's butterflies as explicit 512-bit vector code.

:func:`bfly_1_6` is a Numba intrinsic: it emits the LLVM vector code for stages
``h = 1, 2, ..., 32`` of one 64-element group directly. Numba runs only LLVM's loop
vectoriser, which turns the scalar butterflies of the stages ``h < 8`` into interleaved
loads with about 25 shuffles per 32 values (float64); here each 512-bit vector of ``L``
consecutive values (``L = 8`` for float64 and int64, 16 for float32) does its stages
``h < L`` with one lane permutation and one FMA per stage (``x * ±1 + swap(x)``; integers
and targets without FMA: an addition, a subtraction and a blend), and the stages
``h >= L`` are plain vector additions between the ``64 / L`` vectors, all in registers:
one load and one store per value for six stages (:func:`bfly_2` to :func:`bfly_32`: the
same code for rows shorter than 64 values). Measured per 2**20
values for stages 1-6, data in L1:

* Intel Xeon (AVX-512), float64, with the blend: 0.33 ms, against 0.37 ms with 256-bit
  vectors and 0.47 ms for the loop-vectorised stages 1-3 followed by a radix-8 pass
  (float32: 0.22 and 0.25 ms);
* AMD EPYC (Zen 5): blend 0.159 ms, FMA 0.101 ms (float32: 0.092 and 0.058 ms); a whole
  float64 transform of 2**20 values 10-25 % faster at every length. Software-pipelined
  over the groups (:func:`bfly_1_6_run`, from three groups on): 0.075 ms (float32
  0.047 ms).
* AMD EPYC (Zen 4, 512-bit operations on 256-bit units): :func:`bfly_1_6_run` 0.196 ms
  (float32 0.102); float32's 128-groups (:func:`bfly_1_7_run`, eight vectors like
  float64's 64-groups, seven stages) 0.107 ms.

The additions are those of the radix-2 butterflies in the order of the stages (an FMA
with a ±1 multiplier rounds once, like the addition it replaces), so the results are
bit-identical to the scalar code. On x86-64 with AVX2 but without AVX-512 the same
butterflies are emitted in 256-bit halves, depth first (:mod:`._wht_avx2`, chosen by
:func:`_narrow` from the target's features): LLVM's own split of the 512-bit code kept
twice as many vectors in flight as the 16 registers hold and spilled.

:func:`bfly_cross16`, :func:`bfly_cross8`, :func:`bfly_cross4` and :func:`bfly_cross2` do
the stages between 16, 8, 4 or 2 streams, one whole vector from each
(``arr[start + q * stride]``): the passes above the register stages, in L1, in L2 and
down the column panels. On x86-64 with
AVX-512 and FMA every other butterfly is ``fma(b, ±1, a)`` (exact, bit-identical to the
addition or subtraction), so the additions use the two FMA pipes as well as the two
adder pipes; the ``±1`` vectors pass through an empty inline-asm barrier, without which
LLVM folds ``fma(b, 1, a)`` back into ``a + b``. Measured on Zen 5 per 2**20 float64
values in L1: 46 -> 44 us (``h = 64``) and 46 -> 39 us (``h = 512``); in C, with all
the additions on the adder: 47 us, mixed 43 us. On AVX-512 cores whose pipes are 256
bits wide (``HALF_WIDTH_CPUS``: Zen 4) fewer of them measured faster: every third
butterfly of a radix-16 and every fourth of a radix-8 (``FMA_PATTERNS``; per 2**20 values
hot in L1, aligned, both versions compiled in one process and timed in turn: float64
radix-16 120 -> 99 us, radix-8 89 -> 80, radix-4 71 either way; float32 61 -> 50 and
45 -> 40; all additions on the adders: 142 and 107; every butterfly as FMAs, timed in
separate processes: 190 and 153). They take a ``scale``: ``None``, or a
number the results are multiplied by before they are stored (the last pass of a
normalised transform; a plain multiplication, so the bits of scaling afterwards).

On those cores the register stages of the groups of sixteen vectors (:func:`bfly_1_7`
for float64, :func:`bfly_1_8` for float32) and float32's software-pipelined 64-groups
(:func:`bfly_1_6_run`) run in 256-bit halves (``HALVES_GROUPS``, :func:`_halves`): the
stage between the two halves of a vector is then additions between registers instead
of a lane permutation and an FMA (there, a permutation takes an issue slot of the same
pipes as an addition: ``benchmarks/bench_wht_bound.py``), with the stages between the
registers mixing FMAs in every other butterfly. Per 2**20 values hot in L1, both
versions compiled in one process: float64 128-groups 262 -> 225-230 us, float32
256-groups 153-157 -> 131-146, float32 64-groups pipelined 101 -> 91. Not for float64's
pipelined 64-groups: three groups of sixteen halves in flight spill (180 -> 251 us), and
joining the halves into 512-bit vectors before the stages between them costs what the
permutation did (180 -> 214).

:func:`bfly_edge16`, :func:`bfly_edge8`, :func:`bfly_edge4` and :func:`bfly_edge2` serve
buffers that do not start on a 64-byte line: the stages between streams treat every
lane alike, so the callers take the whole aligned lines of each stream's range with
the ``bfly_cross`` kernels and hand the two partial lines at its ends to these, as one
vector assembled by two masked loads and written back by two masked stores (see
:func:`_edge`).
"""

import llvmlite.binding as ll
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _wht_avx2

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _mask(values):
    return ir.Constant(ir.VectorType(_I32, len(values)), [ir.Constant(_I32, v) for v in values])


def _supported(arr, *ints):
    return (isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"
            and arr.dtype in (types.float64, types.float32, types.int64)
            and all(isinstance(t, types.Integer) for t in ints))


def _scale_ok(arr, scale):
    """``scale`` is ``None`` (no scaling) or a number (cast to the array's dtype)."""
    return isinstance(scale, (types.NoneType, types.Float, types.Integer))


def _scaled(context, builder, signature, args, k, vt, lanes):
    """The multiplier splat over a vector from argument ``k`` (``None`` when the call
    passed ``None``): the outputs are multiplied by it before they are stored, a plain
    multiplication after the last addition (no FMA), so the bits are those of the
    transform multiplied afterwards (see :func:`_times`)."""
    if isinstance(signature.args[k], types.NoneType):
        return None
    return _splat(builder, context.cast(builder, args[k], signature.args[k],
                                        signature.args[0].dtype), vt, lanes)


def _splat(builder, value, vt, lanes):
    """``value`` in every lane of a vector of type ``vt``."""
    one = builder.insert_element(ir.Constant(vt, None), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(one, ir.Constant(vt, None), _mask([0] * lanes))


def _times(builder, vec, scale):
    """The vectors of ``vec`` times the splat ``scale`` (unchanged if it is ``None``)."""
    if scale is None:
        return vec
    mul = builder.fmul if isinstance(scale.type.element, (ir.FloatType, ir.DoubleType)) \
        else builder.mul
    return [mul(x, scale) for x in vec]


def _features(context):
    return (getattr(context.codegen(), "_tm_features", "") or "").split(",")


def _has_fma(context):
    """Whether the target has FMA instructions (else ``llvm.fma`` is a libm call)."""
    return "+fma" in _features(context)


def _fma_adds(context):
    """Whether the stages between vectors spread their additions over the FMA pipes too:
    x86-64 with AVX-512 and FMA (the ``±1`` multipliers pass through an empty inline-asm
    barrier in a vector register, or LLVM folds ``fma(b, 1, a)`` back into ``a + b``)."""
    return (ll.get_process_triple().startswith("x86_64") and _has_fma(context)
            and "+avx512f" in _features(context))


def _narrow(context):
    """Whether the kernels are emitted in 256-bit vectors, depth first
    (:mod:`._wht_avx2`): x86-64 with AVX2 but without AVX-512, whose sixteen registers
    hold half of what the 512-bit code keeps in flight."""
    features = _features(context)
    return (ll.get_process_triple().startswith("x86_64") and "+avx2" in features
            and "+avx512f" not in features)


def narrow_target():
    """Whether this process's Numba CPU target gets the 256-bit code (:func:`_narrow`;
    ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` change the target)."""
    from numba.core.registry import cpu_target

    return _narrow(cpu_target.target_context)


#: AVX-512 cores whose vector pipes are 256 bits wide (a 512-bit operation takes two
#: passes through them), by LLVM's name for the CPU
HALF_WIDTH_CPUS = ("znver4",)
#: on those cores, which butterflies between vectors are two FMAs by ``±1`` (``"1"``)
#: rather than an addition and a subtraction, repeating in the order they are emitted,
#: by the number of vectors; other radices and other cores take every other one
FMA_PATTERNS = {16: "001", 8: "0001"}


def _target_cpu(context):
    """LLVM's name for the CPU the code is compiled for (``NUMBA_CPU_NAME`` or the host)."""
    codegen = context.codegen()
    name = getattr(codegen, "_get_host_cpu_name", None)
    return name() if name is not None else ll.get_host_cpu_name()


def target_cpu_name():
    """LLVM's name for the CPU this process's Numba CPU target compiles for (the name the
    kernels' FMA patterns follow; :func:`narrow_target` for their width)."""
    from numba.core.registry import cpu_target

    return _target_cpu(cpu_target.target_context)


#: on those cores, the register stages of this many vectors at a time (float64
#: 128-groups, float32 256-groups; two groups of eight vectors in :func:`bfly_1_6x2` and
#: :func:`bfly_1_7x2`) run in 256-bit halves: the stage between the halves of each
#: vector is then additions between registers rather than a lane permutation and an
#: FMA, and their butterflies between registers take FMAs in this pattern
HALVES_GROUPS = (16,)
HALVES_PATTERN = "01"


def _halves(context, arrty):
    """Whether the register stages of :data:`HALVES_GROUPS` run in 256-bit halves here:
    floating point, FMA between vectors (:func:`_fma_adds`), a ``HALF_WIDTH_CPUS`` core."""
    return (arrty.dtype in (types.float64, types.float32) and _fma_adds(context)
            and _target_cpu(context) in HALF_WIDTH_CPUS)


def _halves_run(context, arrty, group):
    """Whether :func:`_pipelined` runs the ``group``-groups in 256-bit halves: as
    :func:`_halves`, where the three groups in flight hold at most 24 halves (float32
    64-groups; more spill: float64 64-groups 180 -> 251 us per 2**20 values in L1)."""
    return _halves(context, arrty) and group * arrty.dtype.bitwidth <= 8 * 256


def _fma_pattern(context, n_vec):
    """Which of the butterflies between ``n_vec`` vectors are FMAs (:func:`_between_gen`)."""
    if _target_cpu(context) in HALF_WIDTH_CPUS:
        return FMA_PATTERNS.get(n_vec, "01")
    return "01"


def _fma_function(builder, vt, lanes, bits):
    return cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vt, [vt, vt, vt]), f"llvm.fma.v{lanes}f{bits}")


def _between_gen(context, builder, arrty, vec, group, mixed=None):
    """Generator: the stages between the vectors of the list ``vec``, in place (vector
    ``k`` with ``k + step`` for ``step < group``: independent groups of ``group``
    consecutive vectors), in the order of ``step``; it yields after each butterfly so
    that :func:`_interleave` can mix its instructions with another group's."""
    floating = arrty.dtype in (types.float64, types.float32)
    vt = vec[0].type  # 512-bit, or 256-bit halves (see _halves)
    add = builder.fadd if floating else builder.add
    sub = builder.fsub if floating else builder.sub
    # every other butterfly between vectors as two FMAs (b * +-1 + a: exact, one
    # rounding, so bit-identical): the additions then use the FMA pipes as well as the
    # adder's (on Zen 5 a radix-8 pass in L1 went from 46 to 39-43 us per 2**20 float64);
    # on Zen 4 fewer of them (FMA_PATTERNS: radix-8 89 -> 80 us, radix-16 120 -> 99)
    if mixed is None:
        mixed = floating and _fma_adds(context)
    butterfly = _fma_pairs(builder, vt, arrty.dtype.bitwidth,
                           _fma_pattern(context, len(vec)) if mixed else None, add, sub)
    step = 1
    while step < group:
        for k in range(len(vec)):
            if (k // step) % 2 == 0:
                vec[k], vec[k + step] = butterfly(vec[k], vec[k + step])
                yield
        step *= 2


def _fma_pairs(builder, vt, bits, pattern, add, sub):
    """``butterfly(a, b) -> (a + b, a - b)`` on vectors of type ``vt``: the ``c``-th call
    (in the order they are emitted) as two FMAs ``b * ±1 + a`` where
    ``pattern[c % len(pattern)]`` is ``"1"`` (the ``±1`` behind an empty inline-asm
    barrier, so that LLVM keeps the FMAs), else ``add`` and ``sub``; ``pattern`` ``None``:
    always ``add`` and ``sub``."""
    if pattern is None:
        return lambda a, b: (add(a, b), sub(a, b))
    lanes = vt.count
    fma = _fma_function(builder, vt, lanes, bits)
    barrier = ir.InlineAsm(ir.FunctionType(vt, [vt]), "", "=v,0")
    one = builder.call(barrier, [ir.Constant(vt, [1.0] * lanes)])
    minus = builder.call(barrier, [ir.Constant(vt, [-1.0] * lanes)])
    count = [0]

    def butterfly(a, b):
        count[0] += 1
        if pattern[(count[0] - 1) % len(pattern)] == "1":
            return builder.call(fma, [b, one, a]), builder.call(fma, [b, minus, a])
        return add(a, b), sub(a, b)

    return butterfly


def _between(context, builder, arrty, vec, group, mixed=None):
    """The stages between the vectors of ``vec`` (:func:`_between_gen`, run to its end);
    returns the new list."""
    vec = list(vec)
    for _ in _between_gen(context, builder, arrty, vec, group, mixed):
        pass
    return vec


def _butterflies(context, builder, signature, args, n_vec, in_lanes, group=None,
                 scale=None, below=None):
    """Load the ``n_vec`` 512-bit vectors at ``arr[start + q * stride]`` (``args`` =
    ``arr, start, stride``), do the stages inside each vector if ``in_lanes`` (partner
    lane ``i ^ h``) and then the stages between the vectors (vector ``k`` with
    ``k + step``, for ``step`` below ``group``: independent groups of ``group`` vectors,
    all of them by default), in the order of ``h``, and store them back, multiplied by
    the vector ``scale`` if one is given (:func:`_scaled`). ``below``: only the stages
    inside the vectors with ``h`` below it (groups shorter than a vector)."""
    if _narrow(context):
        return _butterflies_narrow(context, builder, signature, args, n_vec, in_lanes,
                                   group, scale, below)
    if in_lanes and n_vec in HALVES_GROUPS and _halves(context, signature.args[0]):
        return _butterflies_narrow(context, builder, signature, args, n_vec, in_lanes,
                                   group, scale, below, pattern=HALVES_PATTERN,
                                   leaf_size=2 * n_vec)
    arrty = signature.args[0]
    lanes = 512 // arrty.dtype.bitwidth
    align = arrty.dtype.bitwidth // 8
    vt = ir.VectorType(context.get_value_type(arrty.dtype), lanes)
    data = context.make_array(arrty)(context, builder, args[0]).data
    start = context.cast(builder, args[1], signature.args[1], types.int64)
    stride = context.cast(builder, args[2], signature.args[2], types.int64)
    ptrs = [builder.bitcast(builder.gep(data, [builder.add(start, builder.mul(
        stride, ir.Constant(_I64, q)))]), vt.as_pointer()) for q in range(n_vec)]
    vec = [builder.load(ptr, align=align) for ptr in ptrs]
    h = 1
    while in_lanes and h < min(lanes, below or lanes):
        vec = [_lane_stage(context, builder, arrty, x, h) for x in vec]
        h *= 2
    # the register stages keep plain additions between vectors: their FMA pipes are busy
    # with the stages inside the vectors (mixing measured no faster in C)
    vec = _between(context, builder, arrty, vec, n_vec if group is None else group,
                   mixed=False if in_lanes else None)
    for ptr, x in zip(ptrs, _times(builder, vec, scale)):
        builder.store(x, ptr, align=align)
    return context.get_dummy_value()


def _narrow_net(context, builder, arrty, n_vec, offset, in_lane, steps, scale, io=None,
                pattern=None, leaf_size=_wht_avx2.LEAF):
    """The butterflies of :func:`_butterflies` in 256-bit vectors, depth first
    (:func:`._wht_avx2.network`): ``2 * n_vec`` half vectors, ``offset(q, p)`` the element
    offset (an ``i64`` value) of half ``p`` of 512-bit vector ``q``; ``in_lane``: the
    stages inside the halves; ``steps``: the index bits of the stages between them (bit
    1: the two halves of a 512-bit vector, bit ``2s``: 512-bit vectors ``s`` apart);
    ``scale``: a 256-bit splat or ``None``. ``io``: ``(load, store)`` callables of
    ``(q, p)`` (and the value) in place of plain loads and stores. ``pattern``: which
    butterflies between the halves are two FMAs by ``±1`` (as :func:`_between_gen`;
    ``None``: none); ``leaf_size``: the halves in flight at most."""
    data = None
    align = arrty.dtype.bitwidth // 8
    lanes = 256 // arrty.dtype.bitwidth
    vt = ir.VectorType(context.get_value_type(arrty.dtype), lanes)
    floating = arrty.dtype in (types.float64, types.float32)
    add = builder.fadd if floating else builder.add
    sub = builder.fsub if floating else builder.sub
    ptrs = {}

    def ptr(i):
        if i not in ptrs:
            ptrs[i] = builder.bitcast(builder.gep(data, [offset(i >> 1, i & 1)]),
                                      vt.as_pointer())
        return ptrs[i]

    if io is None:
        data = offset.data

        def load(i):
            return builder.load(ptr(i), align=align)

        def store(i, x):
            builder.store(x, ptr(i), align=align)
    else:
        def load(i):
            return io[0](i >> 1, i & 1)

        def store(i, x):
            io[1](i >> 1, i & 1, x)

    def leaf(idx):
        vals = {}
        for i in idx:
            x = load(i)
            for h in in_lane:
                x = _lane_stage(context, builder, arrty, x, h)
            vals[i] = x
        return vals

    def put(i, x):
        store(i, _times(builder, [x], scale)[0])

    butterfly = _fma_pairs(builder, vt, arrty.dtype.bitwidth, pattern, add, sub)
    _wht_avx2.network(2 * n_vec, steps, leaf, butterfly, put, leaf_size)


class _Offsets:
    """``(q, p) ->`` the element offset ``start + q * stride + p * lanes`` (``i64``), with
    the array's data pointer as ``.data``."""

    def __init__(self, builder, data, start, stride, lanes):
        self.builder, self.data = builder, data
        self.start, self.stride, self.lanes = start, stride, lanes

    def __call__(self, q, p):
        b = self.builder
        at = b.add(self.start, b.mul(self.stride, ir.Constant(_I64, q))) if q else self.start
        return b.add(at, ir.Constant(_I64, p * self.lanes)) if p else at


def _narrow_steps(lanes, in_lanes, n_vec, group, below):
    """The stages of :func:`_butterflies` in the terms of :func:`_narrow_net`: the
    stages inside the 256-bit halves and the index bits of those between them."""
    in_lane, steps = [], []
    if in_lanes:
        h = 1
        while h < min(lanes, below or lanes):
            in_lane.append(h)
            h *= 2
        if below is None or below > lanes:
            steps.append(1)
    step = 1
    while step < (n_vec if group is None else group):
        steps.append(2 * step)
        step *= 2
    return in_lane, steps


def _butterflies_narrow(context, builder, signature, args, n_vec, in_lanes, group, scale,
                        below, pattern=None, leaf_size=_wht_avx2.LEAF):
    """:func:`_butterflies` in 256-bit vectors, depth first (:func:`_narrow_net`)."""
    arrty = signature.args[0]
    lanes = 256 // arrty.dtype.bitwidth
    data = context.make_array(arrty)(context, builder, args[0]).data
    start = context.cast(builder, args[1], signature.args[1], types.int64)
    stride = context.cast(builder, args[2], signature.args[2], types.int64)
    in_lane, steps = _narrow_steps(lanes, in_lanes, n_vec, group, below)
    _narrow_net(context, builder, arrty, n_vec, _Offsets(builder, data, start, stride, lanes),
                in_lane, steps, _wht_avx2.half_of(builder, scale, lanes), pattern=pattern,
                leaf_size=leaf_size)
    return context.get_dummy_value()


def _groups(n, values):
    """An intrinsic ``bfly(arr, j, scale)``: the whole transform of every ``n``-group of
    ``arr[j:j + values]`` (``n <= 64``) in vector registers, times ``scale`` unless it is
    ``None``."""
    @intrinsic
    def bfly(typingctx, arr, j, scale):
        if not (_supported(arr, j) and _scale_ok(arr, scale)):
            return None
        lanes = 512 // arr.dtype.bitwidth

        def codegen(context, builder, signature, args):
            vt = ir.VectorType(context.get_value_type(arr.dtype), lanes)
            sig3 = types.void(signature.args[0], signature.args[1], types.int64)
            return _butterflies(context, builder, sig3,
                                (args[0], args[1], ir.Constant(_I64, lanes)), values // lanes,
                                True, group=max(1, n // lanes), below=n,
                                scale=_scaled(context, builder, signature, args, 2, vt,
                                              lanes))

        return types.void(arr, j, scale), codegen

    return bfly


#: stages ``h = 1 .. 32`` of the 64-group ``arr[j:j + 64]`` in place (``arr``
#: C-contiguous 1-D float64, float32 or int64; ``j`` an integer; not bounds-checked)
bfly_1_6 = _groups(64, 64)
#: :func:`bfly_1_6` on the two 64-groups ``arr[j:j + 128]`` at once: their instructions
#: interleave (measured in C on Zen 5: 92 against 101 us per 2**20 float64, one group's
#: chain of dependent stages no longer waits alone)
bfly_1_6x2 = _groups(64, 128)
#: stages ``h = 1 .. 64`` of the 128-group ``arr[j:j + 128]`` (float32: eight vectors, see
#: :func:`bfly_1_7_run`), one group and two groups at a time
bfly_1_7 = _groups(128, 128)
bfly_1_7x2 = _groups(128, 256)
#: stages ``h = 1 .. 128`` of the 256-group ``arr[j:j + 256]`` (float32: sixteen vectors,
#: four stages inside them and four between them), one group at a time: with a radix-16
#: pass after it, a float32 L1 sub-block of 2**12 takes two passes (8 + 4 stages), not
#: three. Measured on Zen 5, float32 in L1, per 2**20 values: 75 us (two groups at a
#: time 82, software-pipelined as :func:`bfly_1_7_run` 78: 48 vectors in flight do not
#: fit in the 32 registers; :func:`bfly_1_7_run` itself 52)
bfly_1_8 = _groups(256, 256)
#: the transforms of the 2-, 4-, 8-, 16- and 32-groups of ``arr[j:j + 64]``: rows
#: shorter than the register stages (float64 rows of 2-32 values: 0.65-0.93 ms per
#: 2**20 values with scalar butterflies, against 0.13 ms for rows of 64)
bfly_2 = _groups(2, 64)
bfly_4 = _groups(4, 64)
bfly_8 = _groups(8, 64)
bfly_16 = _groups(16, 64)
bfly_32 = _groups(32, 64)


def _lane_stage(context, builder, arrty, x, h):
    """Stage ``h`` (below the vector's lanes) of the vector ``x``: lane ``i`` takes
    ``x_i + x_{i^h}`` if bit ``h`` of ``i`` is clear, else ``x_{i^h} - x_i``: one FMA
    with a ``±1`` multiplier (exact product, one rounding: bit-identical to the addition
    or subtraction), or both and a blend (integers, a target without FMA)."""
    floating = arrty.dtype in (types.float64, types.float32)
    vt = x.type  # 512-bit, or 256-bit in the code of :mod:`._wht_avx2`
    lanes = vt.count
    xs = builder.shuffle_vector(x, x, _mask([i ^ h for i in range(lanes)]))
    if floating and _has_fma(context):
        sign = ir.Constant(vt, [1.0 if i & h == 0 else -1.0 for i in range(lanes)])
        fma = _fma_function(builder, vt, lanes, arrty.dtype.bitwidth)
        return builder.call(fma, [x, sign, xs])
    add = builder.fadd if floating else builder.add
    sub = builder.fsub if floating else builder.sub
    pick = _mask([i if i & h == 0 else lanes + i for i in range(lanes)])
    return builder.shuffle_vector(add(x, xs), sub(xs, x), pick)


def _interleave(*steps):
    """Run the generators ``steps`` (each emits instructions and yields between them)
    round-robin to their ends: their instructions interleave in the emitted code."""
    alive = list(steps)
    while alive:
        for g in list(alive):
            try:
                next(g)
            except StopIteration:
                alive.remove(g)


def _lanes_gen(context, builder, arrty, vec, stages):
    """Generator: the lane stages ``stages`` on every vector of ``vec`` (in place)."""
    for h in stages:
        for k in range(len(vec)):
            vec[k] = _lane_stage(context, builder, arrty, vec[k], h)
            yield


def _cross_store_gen(context, builder, arrty, vec, ptrs, scale, mixed=False):
    """Generator: the stages between the vectors of ``vec`` (plain additions, as the
    register stages of :func:`_butterflies`, unless ``mixed``), then the stores (times
    ``scale`` unless it is ``None``) to ``ptrs``."""
    yield from _between_gen(context, builder, arrty, vec, len(vec), mixed=mixed)
    align = arrty.dtype.bitwidth // 8
    for ptr, x in zip(ptrs, _times(builder, vec, scale)):
        builder.store(x, ptr, align=align)
        yield


def _pipelined(context, builder, signature, args, group=64):
    """All the stages of the ``group``-groups of ``arr[start:stop]`` (at least three;
    ``group`` = 64: ``h = 1 .. 32``, 128: ``h = 1 .. 64``), software-pipelined: each
    turn of the loop loads group ``g`` and does its first stage inside the vectors, does
    the other stages inside the vectors of group ``g - 1`` and the stages between the
    vectors of group ``g - 2`` and stores it, the three interleaved. A group's stages
    form one chain of dependent instructions (about 30 cycles from its load to its
    stores); one or two groups at a time left the FP pipes waiting on it (see
    :data:`bfly_1_6x2`). On the cores of :mod:`._wht_avx2` one group at a time instead
    (:func:`_group_loop`)."""
    if _narrow(context):
        return _group_loop(context, builder, signature, args, group)
    arrty = signature.args[0]
    halves = _halves_run(context, arrty, group)
    lanes = (256 if halves else 512) // arrty.dtype.bitwidth
    n_vec = group // lanes
    align = arrty.dtype.bitwidth // 8
    vt = ir.VectorType(context.get_value_type(arrty.dtype), lanes)
    scale = _scaled(context, builder, signature, args, 3, vt, lanes)
    data = context.make_array(arrty)(context, builder, args[0]).data
    start = context.cast(builder, args[1], signature.args[1], types.int64)
    stop = context.cast(builder, args[2], signature.args[2], types.int64)
    hs = [1 << k for k in range(lanes.bit_length() - 1)]

    def ptrs(at):
        return [builder.bitcast(builder.gep(data, [builder.add(
            at, ir.Constant(_I64, q * lanes))]), vt.as_pointer()) for q in range(n_vec)]

    def load(at):
        return [builder.load(p, align=align) for p in ptrs(at)]

    def run(gen):
        for _ in gen:
            pass

    # prologue: group 0 through all its stages inside the vectors, group 1 through one
    a = load(start)
    run(_lanes_gen(context, builder, arrty, a, hs))
    e = load(builder.add(start, ir.Constant(_I64, group)))
    run(_lanes_gen(context, builder, arrty, e, hs[:1]))
    first = builder.add(start, ir.Constant(_I64, 2 * group))
    entry = builder.block
    body = builder.append_basic_block("wht_pipe_body")
    done = builder.append_basic_block("wht_pipe_done")
    builder.branch(body)
    builder.position_at_end(body)
    at = builder.phi(_I64)
    at.add_incoming(first, entry)
    pa = [builder.phi(vt) for _ in range(n_vec)]
    pe = [builder.phi(vt) for _ in range(n_vec)]
    for phi, x in zip(pa + pe, a + e):
        phi.add_incoming(x, entry)
    va, ve = list(pa), list(pe)
    f = load(at)
    _interleave(_lanes_gen(context, builder, arrty, f, hs[:1]),
                _lanes_gen(context, builder, arrty, ve, hs[1:]),
                _cross_store_gen(context, builder, arrty, va,
                                 ptrs(builder.sub(at, ir.Constant(_I64, 2 * group))), scale,
                                 halves))
    nxt = builder.add(at, ir.Constant(_I64, group))
    at.add_incoming(nxt, body)
    for phi, x in zip(pa + pe, ve + f):
        phi.add_incoming(x, body)
    builder.cbranch(builder.icmp_signed("<", nxt, stop), body, done)
    builder.position_at_end(done)
    # epilogue: the last two groups
    last = builder.sub(stop, ir.Constant(_I64, group))
    _interleave(_cross_store_gen(context, builder, arrty, ve,
                                 ptrs(builder.sub(stop, ir.Constant(_I64, 2 * group))), scale,
                                 halves),
                _lanes_gen(context, builder, arrty, f, hs[1:]))
    run(_cross_store_gen(context, builder, arrty, f, ptrs(last), scale, halves))
    return context.get_dummy_value()


def _group_loop(context, builder, signature, args, group):
    """:func:`_pipelined` on the cores of :mod:`._wht_avx2`: a loop over the groups, each
    in 256-bit vectors, depth first (three groups in flight need 48 of the 16 registers:
    float64 64-groups 589-600 us per 2**20 values in L1 software-pipelined as LLVM
    splits the 512-bit code, 356-364 this way)."""
    arrty = signature.args[0]
    lanes = 256 // arrty.dtype.bitwidth
    vt = ir.VectorType(context.get_value_type(arrty.dtype), lanes)
    scale = _scaled(context, builder, signature, args, 3, vt, lanes)
    data = context.make_array(arrty)(context, builder, args[0]).data
    start = context.cast(builder, args[1], signature.args[1], types.int64)
    stop = context.cast(builder, args[2], signature.args[2], types.int64)
    n_vec = group // (2 * lanes)
    in_lane, steps = _narrow_steps(lanes, True, n_vec, None, None)
    with cgutils.for_range_slice(builder, start, stop, ir.Constant(_I64, group),
                                 intp=_I64) as (at, _):
        _narrow_net(context, builder, arrty, n_vec,
                    _Offsets(builder, data, at, ir.Constant(_I64, 2 * lanes), lanes),
                    in_lane, steps, scale)
    return context.get_dummy_value()


@intrinsic
def bfly_1_6_run(typingctx, arr, start, stop, scale):
    """Stages ``h = 1 .. 32`` of every 64-group of ``arr[start:stop]`` in place, times
    ``scale`` unless it is ``None`` (``stop - start`` a multiple of 64, at least 192; not
    bounds-checked): :func:`bfly_1_6` on each group, software-pipelined
    (:func:`_pipelined`). Measured in C on Zen 5, float64 in L1: 81 against 101 us per
    2**20 values one group at a time (86 with two stages of the pipeline)."""
    if not (_supported(arr, start, stop) and _scale_ok(arr, scale)):
        return None
    return types.void(arr, start, stop, scale), _pipelined


@intrinsic
def bfly_1_7_run(typingctx, arr, start, stop, scale):
    """Stages ``h = 1 .. 64`` of every 128-group of ``arr[start:stop]`` in place, times
    ``scale`` unless it is ``None`` (``stop - start`` a multiple of 128, at least 384; not
    bounds-checked), software-pipelined as :func:`bfly_1_6_run`; for float32, whose
    128-group fills eight vectors like float64's 64-group (four stages inside the
    vectors, three between them): one pass does seven stages, so that an L1 sub-block of
    ``2**13`` values takes three passes (7 + 3 + 3 stages) instead of four. Measured on an
    AMD EPYC (Zen 4), float32 rows of 1024 in batches of 2**20: 189 -> 155 us."""
    if not (_supported(arr, start, stop) and _scale_ok(arr, scale)):
        return None

    def codegen(context, builder, signature, args):
        return _pipelined(context, builder, signature, args, group=128)

    return types.void(arr, start, stop, scale), codegen


@intrinsic
def prefetch_l2(typingctx, arr, j):
    """A hint to bring the cache line of ``arr[j]`` into L2 (``llvm.prefetch``: read,
    locality 2, data; ``prefetcht1`` on x86-64). ``j`` may lie past the end of ``arr``
    (a slice of a larger array): nothing is read and nothing faults."""
    if not _supported(arr, j):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        j = context.cast(builder, args[1], signature.args[1], types.int64)
        i8p = ir.IntType(8).as_pointer()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, _I32, _I32, _I32]),
            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(builder.gep(data, [j]), i8p),
                          ir.Constant(_I32, 0), ir.Constant(_I32, 2), ir.Constant(_I32, 1)])
        return context.get_dummy_value()

    return types.void(arr, j), codegen


def _cross(n_vec):
    @intrinsic
    def bfly(typingctx, arr, start, stride, scale):
        if not (_supported(arr, start, stride) and _scale_ok(arr, scale)):
            return None

        def codegen(context, builder, signature, args):
            lanes = 512 // arr.dtype.bitwidth
            vt = ir.VectorType(context.get_value_type(arr.dtype), lanes)
            return _butterflies(context, builder, signature, args, n_vec, False,
                                scale=_scaled(context, builder, signature, args, 3, vt,
                                              lanes))

        return types.void(arr, start, stride, scale), codegen

    bfly.__doc__ = (
        f"The {n_vec.bit_length() - 1} stages between the {n_vec} vectors of "
        f"64 bytes at ``arr[start + q * stride]``, ``q < {n_vec}``, in place: element "
        f"``k`` of the ``q``-th vector takes ``sum_p H{n_vec}[q, p] v_p[k]``, times "
        f"``scale`` unless it is ``None`` (not bounds-checked; the vectors must not "
        f"overlap).")
    return bfly


#: radix-16, -8, -4 and -2 butterflies between whole 512-bit vectors (one per stream;
#: radix 16 only where the 16 streams fall in different sets of L1: see
#: ``wht._stages_16``)
bfly_cross16 = _cross(16)
bfly_cross8 = _cross(8)
bfly_cross4 = _cross(4)
bfly_cross2 = _cross(2)


def _edge(context, builder, signature, args, n_vec):
    """The two partial cache lines of each stream's range, as one vector: stream ``q``
    covers ``arr[a + q * stride : a + q * stride + count]`` (``count`` a multiple of the
    vector's ``L`` lanes) and its first aligned line starts ``s`` (``0 < s < L``) values
    in. Its head, the ``s`` values before that line, sits in the high lanes of the line
    that ends there; its tail, the last ``L - s`` values, in the low lanes of the line
    that starts there. Lane ``i`` of the vector takes the tail's value if ``i < L - s``,
    else the head's: the lanes of the whole range are all there once, and the stages
    between streams, lane by lane, do not care which position a lane holds. Masked
    loads and stores (``llvm.masked.*``) touch nothing outside the ranges."""
    arrty = signature.args[0]
    narrow = _narrow(context)
    lanes = 512 // arrty.dtype.bitwidth
    part = lanes // 2 if narrow else lanes  # lanes a vector of the code holds
    align = ir.Constant(_I32, arrty.dtype.bitwidth // 8)
    vt = ir.VectorType(context.get_value_type(arrty.dtype), part)
    mt = ir.VectorType(ir.IntType(1), part)
    a, stride, count, shift = (context.cast(builder, v, t, types.int64)
                               for v, t in zip(args[1:5], signature.args[1:5]))
    scale = _scaled(context, builder, signature, args, 5, vt, part)
    data = context.make_array(arrty)(context, builder, args[0]).data
    # mask of the tail lanes: lane index < L - s (lanes p * part .. of the 512-bit lane
    # numbering for half p of the narrow code)
    limit = builder.sub(ir.Constant(_I64, lanes), shift)
    it = ir.VectorType(_I64, part)
    tail_masks = [builder.icmp_unsigned("<", ir.Constant(it, list(range(p, p + part))),
                                        _splat(builder, limit, it, part))
                  for p in range(0, lanes, part)]
    head_masks = [builder.xor(m, ir.Constant(mt, [1] * part)) for m in tail_masks]
    ptr_t = vt.as_pointer()
    suffix = f"v{part}{'f' if arrty.dtype in (types.float64, types.float32) else 'i'}" \
             f"{arrty.dtype.bitwidth}.p0"
    load = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vt, [ptr_t, _I32, mt, vt]),
        f"llvm.masked.load.{suffix}")
    store = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [vt, ptr_t, _I32, mt]),
        f"llvm.masked.store.{suffix}")

    def ends(q, p):
        """Pointers to the head's and the tail's line of stream ``q`` (half ``p``)."""
        base = builder.add(a, builder.mul(stride, ir.Constant(_I64, q)))
        head = builder.add(builder.sub(builder.add(base, shift), ir.Constant(_I64, lanes)),
                           ir.Constant(_I64, p * part))
        tail = builder.add(head, count)
        return (builder.bitcast(builder.gep(data, [head]), ptr_t),
                builder.bitcast(builder.gep(data, [tail]), ptr_t))

    if narrow:  # 256-bit halves, depth first (see _narrow_net)
        def load_half(q, p):
            hp, tp = ends(q, p)
            x = builder.call(load, [hp, align, head_masks[p], ir.Constant(vt, None)])
            return builder.call(load, [tp, align, tail_masks[p], x])

        def store_half(q, p, x):
            hp, tp = ends(q, p)
            builder.call(store, [x, hp, align, head_masks[p]])
            builder.call(store, [x, tp, align, tail_masks[p]])

        _narrow_net(context, builder, arrty, n_vec, None, [],
                    _narrow_steps(part, False, n_vec, None, None)[1], scale,
                    io=(load_half, store_half))
        return context.get_dummy_value()
    head_mask, tail_mask = head_masks[0], tail_masks[0]
    heads, tails, vec = [], [], []
    for q in range(n_vec):
        hp, tp = ends(q, 0)
        x = builder.call(load, [hp, align, head_mask, ir.Constant(vt, None)])
        vec.append(builder.call(load, [tp, align, tail_mask, x]))
        heads.append(hp)
        tails.append(tp)
    vec = _between(context, builder, arrty, vec, n_vec)
    for hp, tp, x in zip(heads, tails, _times(builder, vec, scale)):
        builder.call(store, [x, hp, align, head_mask])
        builder.call(store, [x, tp, align, tail_mask])
    return context.get_dummy_value()


def _edge_kernel(n_vec):
    @intrinsic
    def bfly_edge(typingctx, arr, a, stride, count, shift, scale):
        if not (_supported(arr, a, stride, count, shift) and _scale_ok(arr, scale)):
            return None

        def codegen(context, builder, signature, args):
            return _edge(context, builder, signature, args, n_vec)

        return types.void(arr, a, stride, count, shift, scale), codegen

    bfly_edge.__doc__ = (
        f"The stages between the {n_vec} ranges ``arr[a + q * stride:][:count]`` for the "
        f"values outside their whole aligned lines (``shift`` values to the first), as "
        f"one masked vector per range, times ``scale`` unless it is ``None``: see "
        f":func:`_edge`.")
    return bfly_edge


bfly_edge16 = _edge_kernel(16)
bfly_edge8 = _edge_kernel(8)
bfly_edge4 = _edge_kernel(4)
bfly_edge2 = _edge_kernel(2)
