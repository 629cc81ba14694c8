"""Conformance cases of the ``unfolding`` shrinkage kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

Batches are small 2-D arrays in float32 and float64 with per-coordinate thresholds
(``>= 0``, as the callers clamp them). Half of the draws take their entries from a small
grid of values so that ties (``|r| == θ``, equal magnitudes at the support-selection cut)
are exercised: masks must agree exactly, values to rounding.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch

DTYPES = (np.float32, np.float64)


@st.composite
def _batch(draw, with_k=False):
    dtype = draw(st.sampled_from(DTYPES))
    nb = draw(st.integers(1, 6))
    n = draw(st.integers(1, 12))
    if draw(st.booleans()):  # a grid: ties with the thresholds and between entries
        grid = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
        R = draw(hnp.arrays(dtype, (nb, n), elements=grid))
        theta = draw(hnp.arrays(dtype, (n,), elements=st.sampled_from([0.0, 0.5, 1.0])))
    else:
        el = st.floats(-10, 10, width=np.finfo(dtype).bits, allow_nan=False)
        R = draw(hnp.arrays(dtype, (nb, n), elements=el))
        th = st.floats(0, 5, width=np.finfo(dtype).bits)
        if draw(st.booleans()):
            theta = np.full(n, draw(th), dtype=dtype)
        else:
            theta = draw(hnp.arrays(dtype, (n,), elements=th))
    if with_k:
        return R, theta, draw(st.integers(0, n))
    return R, theta


def _run(op, args, engine, n_masks):
    R = args[0]
    bufs = [np.full(R.shape, 7, dtype=R.dtype)] + [np.ones(R.shape, dtype=bool)
                                                   for _ in range(n_masks)]
    res = dispatch(op, *args, *bufs, engine=engine)
    for r, b in zip(res, bufs):
        assert r is b  # written in place
    return bufs


def _check(op, case):
    n_masks = 2 if op == "unfold_support_select" else 1
    ref = _run(op, case, "numpy", n_masks)
    got = _run(op, case, "numba", n_masks)
    for m_ref, m_got in zip(ref[1:], got[1:]):
        np.testing.assert_array_equal(m_got, m_ref)
    R, theta = case[0], case[1]
    eps = np.finfo(R.dtype).eps
    np.testing.assert_allclose(got[0], ref[0], rtol=2 * eps, atol=0)
    assert got[0].dtype == R.dtype
    # defining properties on the reference (independent of the kernels)
    mask = ref[1]
    np.testing.assert_array_equal(mask, np.abs(R) > theta)
    assert np.all(ref[0][~mask] == 0)
    if op == "unfold_support_select":
        k = case[2]
        bypass = ref[2]
        assert not np.any(bypass & ~mask)
        np.testing.assert_array_equal(got[0][bypass], R[bypass])
        if k == 0:
            assert not bypass.any()
        else:  # every bypassed entry is at least the row's k-th largest magnitude
            kth = -np.sort(-np.abs(R), axis=1)[:, k - 1]
            assert np.all(np.abs(R) >= kth[:, None], where=bypass)


def _example(with_k=False):
    R = np.array([[1.5, -0.2, 0.7, -3.0], [0.0, 2.0, -2.0, 0.5]])
    theta = np.array([0.5, 0.5, 1.0, 0.5])
    return (R, theta, 1) if with_k else (R, theta)


CASES = {
    "unfold_soft_shrink": (_batch(), _example, _check),
    "unfold_hard_shrink": (_batch(), _example, _check),
    "unfold_support_select": (_batch(with_k=True), lambda: _example(True), _check),
}


# -- unfold_adam: one fused Adam update ------------------------------------------------------

@st.composite
def _adam_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    nr, nc = draw(st.integers(1, 5)), draw(st.integers(1, 9))
    el = st.floats(-10, 10, width=np.finfo(dtype).bits, allow_nan=False)
    P = draw(hnp.arrays(dtype, (nr, nc), elements=el))
    G = draw(hnp.arrays(dtype, (nr, nc), elements=el))
    M = draw(hnp.arrays(dtype, (nr, nc), elements=st.floats(-1, 1, width=np.finfo(dtype).bits)))
    V = draw(hnp.arrays(dtype, (nr, nc), elements=st.floats(0, 4, width=np.finfo(dtype).bits)))
    mult = draw(hnp.arrays(dtype, (nr,), elements=st.sampled_from([0.0, 0.25, 1.0])))
    t = draw(st.integers(1, 50))
    gscale = draw(st.sampled_from([1.0, 0.25]))
    lr = draw(st.floats(1e-4, 0.1))
    coef = np.array([gscale, lr, 0.9, 1 - 0.9, 0.999, 1 - 0.999, 1 - 0.9 ** t, 1 - 0.999 ** t,
                     1e-8], dtype=dtype)
    return P, G, M, V, mult, coef


def _adam_example():
    P = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    G = np.array([[0.5, -1.0, 0.0], [2.0, 0.1, -0.3]])
    coef = np.array([1.0, 0.01, 0.9, 0.1, 0.999, 0.001, 0.1, 0.001, 1e-8])
    return P, G, np.zeros_like(P), np.zeros_like(P), np.array([1.0, 0.3]), coef


def _check_adam(op, case):
    P, G, M, V, mult = case[:5]
    outs = {}
    for engine in ("numpy", "numba"):
        bufs = [P.copy(), G, M.copy(), V.copy()]
        res = dispatch("unfold_adam", *bufs, *case[4:], engine=engine)
        assert res[0] is bufs[0] and res[1] is bufs[2] and res[2] is bufs[3]  # in place
        outs[engine] = (bufs[0], bufs[2], bufs[3])
    eps = np.finfo(P.dtype).eps
    for ref, got in zip(outs["numpy"], outs["numba"]):
        assert got.dtype == P.dtype
        np.testing.assert_allclose(got, ref, rtol=8 * eps, atol=8 * eps * (1 + np.abs(P).max()))
    # defining properties on the reference: V >= 0, rows with a zero multiplier do not move
    Pn, Mn, Vn = outs["numpy"]
    assert np.all(Vn >= 0)
    np.testing.assert_array_equal(Pn[mult == 0], P[mult == 0])


CASES["unfold_adam"] = (_adam_case(), _adam_example, _check_adam)
