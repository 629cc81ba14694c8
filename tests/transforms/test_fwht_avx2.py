"""The 256-bit, depth-first emission of the FWHT's vector butterflies (``_wht_avx2``).

On x86-64 with AVX2 but without AVX-512 the intrinsics of ``_wht_simd`` emit their
butterflies in 256-bit halves, depth first. Its index bookkeeping is checked here in
plain Python (NumPy vectors standing in for the registers), on any machine; the compiled
code runs in the rest of the suite on such a machine, and on an AVX-512 machine in a
subprocess compiled for an AVX2 target (``NUMBA_CPU_NAME=haswell``).
"""

import os
import subprocess
import sys
import textwrap

import llvmlite.binding as ll
import numpy as np
import pytest
from scipy.linalg import hadamard

from sparsopt.backends._numba import _wht_avx2
from sparsopt.backends._numba._wht_simd import _narrow_steps


def _simulate(values, wide, n_vec, stride, in_lanes, group, below):
    """Run :func:`_wht_avx2.network` on NumPy half vectors of ``values`` as
    ``_butterflies_narrow`` lays them out (half ``p`` of 512-bit vector ``q`` at
    ``q * stride + p * wide / 2``); returns the result and the most vectors loaded and
    not yet stored at any time."""
    lanes = wide // 2
    in_lane, steps = _narrow_steps(lanes, in_lanes, n_vec, group, below)
    out = values.copy()
    live, peak = set(), [0]

    def at(i):
        return (i >> 1) * stride + (i & 1) * lanes

    def leaf(idx):
        vals = {}
        for i in idx:
            x = values[at(i):at(i) + lanes].copy()
            for h in in_lane:  # lane j takes x_j + x_{j^h} (bit h clear) or x_{j^h} - x_j
                xs = x[np.arange(lanes) ^ h]
                x = np.where(np.arange(lanes) & h, xs - x, x + xs)
            vals[i] = x
            live.add(i)
            peak[0] = max(peak[0], len(live))
        return vals

    def store(i, x):
        out[at(i):at(i) + lanes] = x
        live.discard(i)

    _wht_avx2.network(2 * n_vec, steps, leaf, lambda a, b: (a + b, a - b), store)
    assert not live
    return out, peak[0]


@pytest.mark.parametrize("itemsize", [8, 4])
@pytest.mark.parametrize("n, values", [(2, 64), (4, 64), (8, 64), (16, 64), (32, 64),
                                       (64, 64), (64, 128), (128, 128), (128, 256),
                                       (256, 256)])
def test_register_groups_transform_every_group(itemsize, n, values):
    """The register-stage kernels (``_groups(n, values)``): every ``n``-group of the
    ``values`` transformed, with ``2 * values / lanes`` half vectors."""
    wide = 64 // itemsize
    if values // wide > 16 and itemsize == 8:
        pytest.skip("float64 kernels hold at most sixteen 512-bit vectors")
    x = np.random.default_rng(n).integers(-50, 50, values).astype(np.int64)
    got, peak = _simulate(x, wide, values // wide, wide, True, max(1, n // wide), n)
    want = (x.reshape(-1, n) @ hadamard(n).T).ravel()
    np.testing.assert_array_equal(got, want)
    # the groups are finished one after the other (a group of 2k > 8 halves keeps one
    # part's k results while the other part is computed)
    assert peak <= max(_wht_avx2.LEAF, n // (wide // 2))


@pytest.mark.parametrize("itemsize", [8, 4])
@pytest.mark.parametrize("radix", [2, 4, 8, 16])
def test_cross_butterflies_between_streams(itemsize, radix):
    """The ``bfly_cross`` kernels: element ``k`` of stream ``q`` takes
    ``sum_p H[q, p] v_p[k]``; the two halves of the lines never meet, so at most
    ``max(8, radix)`` halves are in flight."""
    wide = 64 // itemsize
    stride = 3 * wide
    x = np.random.default_rng(radix).integers(-50, 50, radix * stride).astype(np.int64)
    got, peak = _simulate(x, wide, radix, stride, False, None, None)
    streams = x.reshape(radix, stride)[:, :wide]
    want = x.copy().reshape(radix, stride)
    want[:, :wide] = hadamard(radix) @ streams
    np.testing.assert_array_equal(got, want.ravel())
    assert peak <= max(_wht_avx2.LEAF, radix)


_CHECK = textwrap.dedent("""
    import numpy as np
    from numba.core.registry import cpu_target
    from sparsopt.backends._numba import _wht_simd
    from sparsopt.backends._numpy.wht import fwht_rows as reference
    from sparsopt.transforms import fwht

    assert _wht_simd._narrow(cpu_target.target_context), "not the 256-bit code"
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32, np.int64):
        for log_n in (1, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 17):
            n = 2**log_n
            rows = max(1, 2**13 // n)
            for offset in (0, 16):
                raw = np.empty(rows * n * np.dtype(dtype).itemsize + 128, np.uint8)
                start = (-raw.ctypes.data) % 64 + offset
                x = raw[start:start + rows * n * np.dtype(dtype).itemsize]
                x = x.view(dtype).reshape(rows, n)
                x[...] = rng.integers(-9, 9, (rows, n))
                want = reference(x.astype(np.float64))
                for normalize in (None, "ortho"):
                    if normalize and dtype == np.int64:
                        continue
                    got = fwht(x, normalize=normalize)
                    scale = n**-0.5 if normalize else 1.0
                    tol = {np.float32: 1e-4 * np.sqrt(n), np.float64: 1e-12}.get(dtype, 0)
                    np.testing.assert_allclose(got, want * scale, rtol=tol, atol=tol)
    print("ok")
""")


@pytest.mark.skipif(not ll.get_process_triple().startswith("x86_64"),
                    reason="the 256-bit code is for x86-64 cores with AVX2")
@pytest.mark.skipif(not ll.get_host_cpu_features().get("avx512f", False),
                    reason="this core has no AVX-512: the rest of the suite runs the "
                           "256-bit code")
def test_the_avx2_code_on_an_avx512_core(tmp_path):
    """Compiled for an AVX2 target (Haswell: no AVX-512), ``fwht`` emits its butterflies
    in 256-bit halves and matches the NumPy reference: every path (register groups,
    radix-16 sub-blocks, blocks and columns, masked edges off the lines, the scaled
    last pass) on every dtype."""
    env = dict(os.environ, NUMBA_CPU_NAME="haswell",
               NUMBA_CPU_FEATURES="+avx,+avx2,+fma,+bmi,+bmi2,+f16c,+popcnt,+sse4.2",
               NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", _CHECK], env=env, capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
