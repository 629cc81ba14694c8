"""Conformance of the sparse-coding kernels (cd_gram, topk_threshold) with the NumPy reference."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.backends import get_kernel
from sparsopt.penalties import (
    CEL0,
    L0,
    L1,
    MCP,
    SCAD,
    Box,
    Constrained,
    ElasticNet,
    Log,
    Lq,
    Positive,
)

PENALTIES = [
    lambda a: L1(a), lambda a: L0(a / 10), lambda a: Lq(a, q=0.5), lambda a: Lq(a, q=2 / 3),
    lambda a: Lq(a, q=0.3), lambda a: CEL0(a / 10, a=0.9), lambda a: MCP(a, gamma=3.0),
    lambda a: SCAD(a), lambda a: Log(a, eps=0.5), lambda a: ElasticNet(a, l1_ratio=0.5),
    lambda a: Box(-a, a), lambda a: ElasticNet(a, l1_ratio=0.5) + Box(-a / 2, a),
]


@st.composite
def coding_case(draw):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(1, 12))
    m = draw(st.integers(k, k + 8))
    seed = draw(st.integers(0, 2**31 - 1))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    pen = draw(st.sampled_from(PENALTIES))(draw(st.floats(0.01, 1.0)))
    positive = draw(st.booleans())
    if positive and not isinstance(pen, (Box, Constrained)):
        pen = pen + Positive()  # positivity is a constraint composed with the penalty
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((k, m))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.standard_normal((n, m))
    return X.astype(dtype), D.astype(dtype), pen, positive


@given(coding_case())
@settings(max_examples=40, deadline=None)
def test_cd_gram_numba_matches_numpy(case):
    X, D, pen, positive = case
    G = np.ascontiguousarray(D @ D.T)
    B = np.ascontiguousarray(X @ D.T)
    spec = pen.spec()
    inner = getattr(pen, "penalty", pen)
    a = np.atleast_1d(np.asarray(inner.a, dtype=np.float64)) if isinstance(inner, CEL0) \
        else np.ones(1)
    scale = 0.99 if isinstance(inner, CEL0) else 1.0
    out = {}
    for backend in ("numpy", "numba"):
        C = np.zeros_like(B)
        it = np.zeros(B.shape[0], dtype=np.int64)
        get_kernel("cd_gram", backend)(G, B, C, spec.kind, spec.params, a, scale, spec.lower,
                                       spec.upper, 60, 1e-9, it)
        out[backend] = (C, it)
    tol = 1e-4 if X.dtype == np.float32 else 1e-9
    assert out["numba"][0].dtype == X.dtype
    np.testing.assert_allclose(out["numba"][0], out["numpy"][0], rtol=tol, atol=tol)
    # the codes stay in the spec's box
    assert np.all(out["numba"][0] >= spec.lower) and np.all(out["numba"][0] <= spec.upper)


@given(st.integers(1, 5), st.integers(1, 15), st.integers(0, 20), st.integers(0, 2**31 - 1),
       st.sampled_from([np.float32, np.float64]), st.booleans())
@settings(max_examples=60, deadline=None)
def test_topk_numba_matches_numpy(n, m, k, seed, dtype, ties):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((n, m)).astype(dtype)
    if ties:
        V = np.round(V)  # many equal magnitudes: the lower index must win
    outs = [get_kernel("topk_threshold", b)(V, k, np.empty_like(V)) for b in ("numpy", "numba")]
    np.testing.assert_array_equal(outs[0], outs[1])
    assert np.all(np.count_nonzero(outs[1], axis=1) <= min(k, m))


def test_topk_tie_break_is_lowest_index():
    V = np.array([[1.0, -1.0, 1.0, 0.5]])
    out = get_kernel("topk_threshold", "numba")(V, 2, np.empty_like(V))
    np.testing.assert_array_equal(out, [[1.0, -1.0, 0.0, 0.0]])


@given(st.integers(0, 2**31 - 1), st.sampled_from([np.float32, np.float64]), st.booleans(),
       st.floats(0.0, 2.0))
@settings(max_examples=40, deadline=None)
def test_l1_specialised_kernel_equals_generic_kernel(seed, dtype, positive, alpha):
    from sparsopt.backends import _kinds

    rng = np.random.default_rng(seed)
    D = rng.standard_normal((10, 8))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.standard_normal((4, 8))
    G, B = (D @ D.T).astype(dtype), (X @ D.T).astype(dtype)
    C1, C2 = np.zeros_like(B), np.zeros_like(B)
    it1, it2 = np.zeros(4, np.int64), np.zeros(4, np.int64)
    get_kernel("cd_gram", "numba")(G, B, C1, _kinds.KIND_L1, np.array([alpha]), np.ones(1),
                                   1.0, 0.0 if positive else -np.inf, np.inf, 50, 1e-10, it1)
    get_kernel("cd_gram_l1", "numba")(G, B, C2, alpha, positive, 50, 1e-10, it2)
    np.testing.assert_array_equal(C1, C2)
    np.testing.assert_array_equal(it1, it2)
