"""Conformance cases of the ``wht`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

``fwht_rows`` (in place, every row of a C-contiguous 2-D array) on float32, float64
and int64 rows of length ``2**0 .. 2**12`` (hypothesis-drawn entries), or, one draw in
eight, ``2**16 .. 2**18`` (seeded Gaussian entries): long enough that the Numba kernel
cuts rows into cache blocks and does the cross-block stages on column panels, with
the radix-8, radix-4 and radix-2 remainders. A scale (1, ``1/n`` or ``1/sqrt(n)``)
and 1-3 threads are drawn too. int64 results must be identical; floating-point ones
agree to ``8 * log2(n) * eps * max_row sum|x|`` (the fused butterflies add in
another order than the radix-2 reference).

``fwht_axis`` (in place along axis 1 of a C-contiguous ``(pre, n, post)`` array) on
seeded Gaussian arrays with ``n`` up to ``2**10`` and 1 to 40 values after the axis,
the same three dtypes, scales 1 or ``1/n`` and 1-3 threads.
"""

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch

_DTYPES = (np.float32, np.float64, np.int64)


@st.composite
def _case_fwht_rows(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    big = draw(st.integers(0, 7)) == 0
    if big:
        log_n = draw(st.integers(16, 18))
        rows = draw(st.integers(1, 2))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        x = rng.standard_normal((rows, 2**log_n)) * 100
        x = x.astype(dtype)
    else:
        log_n = draw(st.integers(0, 12))
        rows = draw(st.integers(0, 4))
        if dtype is np.int64:
            elements = st.integers(-(2**40), 2**40)
        else:
            elements = st.floats(-1e3, 1e3, allow_nan=False, width=32)
        x = draw(hnp.arrays(dtype, (rows, 2**log_n), elements=elements))
    n = x.shape[1]
    if dtype is np.int64:
        scale = 1
    else:
        scale = draw(st.sampled_from([1, 1.0 / n, 1.0 / math.sqrt(n)]))
    n_threads = draw(st.integers(1, 3))
    return x, scale, n_threads


def _check_fwht_rows(op, case):
    x, scale, n_threads = case
    a = x.copy()
    b = x.copy()
    ra = dispatch(op, a, scale, 1, engine="numpy")
    rb = dispatch(op, b, scale, n_threads, engine="numba")
    assert ra is a and rb is b  # in place
    assert b.dtype == x.dtype
    if x.dtype == np.int64:
        np.testing.assert_array_equal(b, a)
        return
    n = x.shape[1]
    eps = float(np.finfo(x.dtype).eps)
    mass = float(np.abs(x.astype(np.float64)).sum(axis=1).max()) if x.size else 0.0
    tol = 8 * max(1, math.log2(n)) * eps * mass * abs(scale) + np.finfo(x.dtype).tiny
    np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=0, atol=tol)


@st.composite
def _case_fwht_axis(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    pre = draw(st.integers(0, 3))
    n = 2 ** draw(st.integers(0, 10))
    post = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal((pre, n, post)) * 100).astype(dtype)
    scale = 1 if dtype is np.int64 else draw(st.sampled_from([1, 1.0 / n]))
    return x, scale, draw(st.integers(1, 3))


def _check_fwht_axis(op, case):
    x, scale, n_threads = case
    a = x.copy()
    b = x.copy()
    assert dispatch(op, a, scale, 1, engine="numpy") is a
    assert dispatch(op, b, scale, n_threads, engine="numba") is b
    if x.dtype == np.int64:
        np.testing.assert_array_equal(b, a)
        return
    n = x.shape[1]
    eps = float(np.finfo(x.dtype).eps)
    mass = float(np.abs(x.astype(np.float64)).sum(axis=1).max()) if x.size else 0.0
    tol = 8 * max(1, math.log2(n)) * eps * mass * abs(scale) + np.finfo(x.dtype).tiny
    np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=0, atol=tol)


CASES = {
    "fwht_rows": (
        _case_fwht_rows(),
        lambda: (np.arange(24.0).reshape(3, 8), 0.5, 2),
        _check_fwht_rows),
    "fwht_axis": (
        _case_fwht_axis(),
        lambda: (np.arange(48.0).reshape(2, 4, 6), 0.25, 2),
        _check_fwht_axis),
}
