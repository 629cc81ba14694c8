"""Conformance cases of the ``spright`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

Bin observations are built from the SPRIGHT model itself: a random sparse spectrum on
``n <= 10`` bits hashed by random masks into ``2^b`` bins per group, observed through
``R (n + 1)`` delays, plus optional noise, in float32 or float64. The NumPy references
unpack bits and vectorise; the Numba kernels xor-fold. A bin whose decision sits
on a threshold (energy or residual within rounding of it, or a soft bit decision within
rounding of zero) may be classified differently; every other bin must agree exactly.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch

_DTYPES = (np.float32, np.float64)


def _parity(a):
    return np.array([bin(int(v)).count("1") & 1 for v in np.ravel(a)]).reshape(np.shape(a))


@st.composite
def _model(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    n = draw(st.integers(2, 10))
    C = draw(st.integers(1, 3))
    b = draw(st.integers(1, min(n, 4)))
    R = draw(st.integers(1, 2))
    masks = draw(hnp.arrays(np.int64, (C, b), elements=st.integers(0, 2**n - 1)))
    offsets = draw(hnp.arrays(np.int64, R, elements=st.integers(0, 2**n - 1)))
    if draw(st.booleans()):
        offsets[0] = 0
    unit = np.concatenate([[0], 1 << np.arange(n, dtype=np.int64)])
    delays = np.ascontiguousarray((offsets[:, None] ^ unit[None, :]).ravel())
    K = draw(st.integers(0, min(2**n, 3 * 2**b)))
    ks = np.array(draw(st.lists(st.integers(0, 2**n - 1), min_size=K, max_size=K,
                                unique=True)), dtype=np.int64)
    mags = draw(hnp.arrays(np.float64, K, elements=st.floats(0.5, 2.0)))
    signs = draw(hnp.arrays(np.float64, K, elements=st.sampled_from([-1.0, 1.0])))
    amps = mags * signs
    P = delays.size
    U = np.zeros((C, 2**b, P))
    for k, a in zip(ks, amps):
        s = 1.0 - 2.0 * _parity(delays & k)
        for c in range(C):
            j = sum(int(_parity(k & masks[c, t])) << t for t in range(b))
            U[c, j] += a * s
    sigma = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3]))
    if sigma:
        seed = draw(st.integers(0, 2**31 - 1))
        U += sigma * np.random.default_rng(seed).standard_normal(U.shape)
    return dtype, n, masks, delays, U.astype(dtype), ks, amps.astype(dtype), sigma


@st.composite
def _case_classify(draw):
    dtype, n, masks, delays, U, _, _, sigma = draw(_model())
    C, B, _ = U.shape
    thresh = max(1.5 * sigma**2, 1e-10) * draw(st.sampled_from([1.0, 2.0, 10.0]))
    groups, bins = np.nonzero(np.ones((C, B), dtype=bool))
    keep = draw(hnp.arrays(bool, groups.size, elements=st.booleans()))
    return (U, np.ascontiguousarray(groups[keep], dtype=np.int64),
            np.ascontiguousarray(bins[keep], dtype=np.int64), masks, delays, n, thresh)


def _borderline(u, n, delays, thresh, k):
    """Whether a decision about bin ``u`` sits within rounding of a threshold."""
    u = u.astype(np.float64)
    P = u.size
    R = P // (n + 1)
    scale = float(u @ u) / P + thresh
    tol = 1e-4 * scale
    if abs(float(u @ u) / P - thresh) <= tol:
        return True
    ur = u.reshape(R, n + 1)
    v = ur[:, :1] * ur[:, 1:]
    if np.min(np.abs(v.sum(axis=0))) <= tol:
        return True
    s = 1.0 - 2.0 * _parity(delays & k)
    a = float(s @ u) / P
    return abs(float(((u - a * s) ** 2).sum()) / P - thresh) <= tol


def _check_classify(op, case):
    U, groups, bins, masks, delays, n, thresh = case
    m = groups.size
    out = {}
    for engine in ("numpy", "numba"):
        k = np.full(m, -1, dtype=np.int64)
        a = np.full(m, np.nan)
        kind = np.full(m, -1, dtype=np.int8)
        dispatch(op, U, groups, bins, masks, delays, n, thresh, k, a, kind, engine=engine)
        out[engine] = (k, a, kind)
    (k_np, a_np, kind_np), (k_nb, a_nb, kind_nb) = out["numpy"], out["numba"]
    assert set(np.unique(kind_nb)) <= {0, 1, 2}
    for t in range(m):
        if kind_np[t] != kind_nb[t] or k_np[t] != k_nb[t]:
            u = U[groups[t], bins[t]]
            assert _borderline(u, n, delays, thresh, max(k_np[t], k_nb[t])), (
                t, kind_np[t], kind_nb[t], k_np[t], k_nb[t])
            continue
        if kind_nb[t] == 1:
            tol = 1e-5 if U.dtype == np.float32 else 1e-12
            scale = 1.0 + np.abs(U[groups[t], bins[t]]).max()
            assert abs(a_nb[t] - a_np[t]) <= tol * scale, (a_nb[t], a_np[t])
        else:
            assert a_nb[t] == 0.0 and k_nb[t] == 0


@st.composite
def _case_peel(draw):
    dtype, n, masks, delays, U, ks, amps, _ = draw(_model())
    m = draw(st.integers(0, ks.size))
    return U, masks, delays, np.ascontiguousarray(ks[:m]), np.ascontiguousarray(amps[:m])


def _check_peel(op, case):
    U, masks, delays, ks, amps = case
    res = {}
    for engine in ("numpy", "numba"):
        Ue = U.copy()
        ret = dispatch(op, Ue, masks, delays, ks, amps, engine=engine)
        assert ret is Ue or np.shares_memory(ret, Ue)
        res[engine] = Ue
    assert res["numba"].dtype == U.dtype
    tol = 1e-5 if U.dtype == np.float32 else 1e-12
    scale = 1.0 + np.abs(U).max() + np.abs(amps).sum()
    np.testing.assert_allclose(res["numba"], res["numpy"], rtol=0, atol=tol * scale)


@st.composite
def _case_walsh_eval(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    n = draw(st.integers(1, 62))
    pts = draw(hnp.arrays(np.int64, draw(st.integers(0, 20)),
                          elements=st.integers(0, 2**n - 1)))
    K = draw(st.integers(0, 12))
    idx = draw(hnp.arrays(np.int64, K, elements=st.integers(0, 2**n - 1)))
    vals = draw(hnp.arrays(dtype, K, elements=st.floats(-10, 10, width=32)))
    return pts, idx, vals


def _check_walsh_eval(op, case):
    pts, idx, vals = case
    res = {}
    for engine in ("numpy", "numba"):
        out = np.full(pts.size, np.nan, dtype=vals.dtype)
        dispatch(op, pts, idx, vals, out, engine=engine)
        res[engine] = out
    tol = 1e-5 if vals.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(res["numba"], res["numpy"], rtol=0,
                               atol=tol * (1.0 + np.abs(vals).sum()))
    # the reference itself against the definition, on a few points
    for q in range(min(3, pts.size)):
        ref = sum(float(v) * (-1) ** bin(int(pts[q]) & int(k)).count("1")
                  for k, v in zip(idx, vals))
        assert abs(res["numpy"][q] - ref) <= tol * (1.0 + np.abs(vals).sum())


def _example_model():
    # 6 bits, 2 groups of 4 bins, identity delays, three frequencies
    masks = np.array([[1, 2], [12, 48]], dtype=np.int64)
    delays = np.concatenate([[0], 1 << np.arange(6)]).astype(np.int64)
    ks = np.array([5, 18, 40], dtype=np.int64)
    amps = np.array([1.0, -2.0, 0.5])
    U = np.zeros((2, 4, 7))
    for k, a in zip(ks, amps):
        s = 1.0 - 2.0 * _parity(delays & k)
        for c in range(2):
            j = sum(int(_parity(k & masks[c, t])) << t for t in range(2))
            U[c, j] += a * s
    return U, masks, delays, ks, amps


def _example_classify():
    U, masks, delays, _, _ = _example_model()
    groups = np.repeat(np.arange(2), 4).astype(np.int64)
    bins = np.tile(np.arange(4), 2).astype(np.int64)
    return U, groups, bins, masks, delays, 6, 1e-10


def _example_peel():
    U, masks, delays, ks, amps = _example_model()
    return U, masks, delays, ks, amps


CASES = {
    "spright_classify": (_case_classify(), _example_classify, _check_classify),
    "spright_peel": (_case_peel(), _example_peel, _check_peel),
    "walsh_eval": (_case_walsh_eval(),
                   lambda: (np.arange(8, dtype=np.int64), np.array([0, 3, 5], dtype=np.int64),
                            np.array([1.0, -0.5, 2.0])),
                   _check_walsh_eval),
}
