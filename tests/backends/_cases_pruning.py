"""Conformance cases of the ``pruning`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

The NumPy references use different algorithms (a stable argsort per group for
``nm_mask``; dense BLAS products of the CSR layers rebuilt with ``np.add.at`` for the
sparse forward passes; a vectorised update for ``masked_adam``), so agreement here
means the Numba loops are right. ``nm_mask`` weights are drawn from a small set of
values so that ties (the deterministic tie-break) are exercised; the forward cases
cover sample counts around the kernels' block of 64 samples, empty rows and layers.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch

_DTYPES = st.sampled_from([np.float32, np.float64])


@st.composite
def _case_nm_mask(draw):
    dtype = draw(_DTYPES)
    m = draw(st.integers(1, 8))
    n = draw(st.integers(1, m))
    n_groups = draw(st.integers(1, 4))
    n_out = draw(st.integers(1, 6))
    ties = draw(st.booleans())
    elems = (st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0]) if ties
             else st.floats(-10, 10, allow_nan=False, width=32))
    W = draw(hnp.arrays(dtype, (n_groups * m, n_out), elements=elems))
    return W, n, m


def _check_nm_mask(op, case):
    W, n, m = case
    before = W.copy()
    ref = dispatch(op, W, n, m, engine="numpy")
    got = dispatch(op, W, n, m, engine="numba")
    np.testing.assert_array_equal(W, before)
    assert got.dtype == np.bool_ and got.shape == W.shape
    np.testing.assert_array_equal(got, ref)
    assert (got.reshape(-1, m, W.shape[1]).sum(axis=1) == n).all()


def _tol(dtype):
    return (2e-5, 2e-5) if dtype == np.float32 else (1e-12, 1e-12)


@st.composite
def _sparse_layer(draw, dtype, n_in, n_out):
    dens = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    W = draw(hnp.arrays(dtype, (n_in, n_out), elements=st.floats(-2, 2, width=32)))
    keep = draw(hnp.arrays(np.float64, (n_in, n_out), elements=st.floats(0, 1))) < dens
    W = np.where(keep, W, 0).astype(dtype)
    rows, cols = np.nonzero(W)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_in))]).astype(np.int64)
    return W, indptr, cols.astype(np.int64), W[rows, cols]


@st.composite
def _case_sparse_layer_forward(draw):
    dtype = draw(_DTYPES)
    n = draw(st.sampled_from([0, 1, 5, 63, 64, 65, 130]))
    n_in, n_out = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    W, indptr, indices, data = draw(_sparse_layer(dtype, n_in, n_out))
    bias = draw(hnp.arrays(dtype, n_out, elements=st.floats(-1, 1, width=32)))
    X = draw(hnp.arrays(dtype, (n, n_in), elements=st.floats(-3, 3, width=32)))
    return X, indptr, indices, data, bias, draw(st.booleans()), W


def _check_sparse_layer_forward(op, case):
    X, indptr, indices, data, bias, relu, W = case
    ref = dispatch(op, X, indptr, indices, data, bias, relu, engine="numpy")
    got = dispatch(op, X, indptr, indices, data, bias, relu, engine="numba")
    assert got.dtype == X.dtype and got.shape == (X.shape[0], bias.shape[0])
    rtol, atol = _tol(X.dtype)
    scale = 1.0 + np.abs(ref).max(initial=0.0)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol * scale)
    dense = X.astype(np.float64) @ W + bias
    np.testing.assert_allclose(got, np.maximum(dense, 0) if relu else dense, rtol=rtol,
                               atol=atol * scale)


@st.composite
def _case_sparse_mlp_forward(draw):
    dtype = draw(_DTYPES)
    n_layers = draw(st.integers(1, 3))
    dims = draw(st.lists(st.integers(1, 8), min_size=n_layers + 1, max_size=n_layers + 1))
    ptrs, idx, vals, biases = [], [], [], []
    off = 0
    for a, b in zip(dims, dims[1:]):
        _, indptr, indices, data = draw(_sparse_layer(dtype, a, b))
        ptrs.append(indptr + off)
        idx.append(indices)
        vals.append(data)
        off += data.size
        biases.append(draw(hnp.arrays(dtype, b, elements=st.floats(-1, 1, width=32))))
    n = draw(st.sampled_from([0, 1, 7, 64, 100]))
    X = draw(hnp.arrays(dtype, (n, dims[0]), elements=st.floats(-3, 3, width=32)))
    act = draw(st.integers(0, 3))
    return (X, np.array(dims, dtype=np.int64), np.concatenate(ptrs),
            np.concatenate(idx).astype(np.int64), np.concatenate(vals).astype(dtype),
            np.concatenate(biases).astype(dtype), act)


def _check_sparse_mlp_forward(op, case):
    ref = dispatch(op, *case, engine="numpy")
    got = dispatch(op, *case, engine="numba")
    X, dims = case[0], case[1]
    assert got.dtype == X.dtype and got.shape == (X.shape[0], int(dims[-1]))
    rtol, atol = _tol(X.dtype)
    np.testing.assert_allclose(got, ref, rtol=rtol,
                               atol=atol * (1.0 + np.abs(ref).max(initial=0.0)))


@st.composite
def _case_masked_adam(draw):
    dtype = draw(_DTYPES)
    shape = draw(st.sampled_from([(7,), (3, 5), (1, 1)]))
    el = st.floats(-2, 2, width=32)
    param = draw(hnp.arrays(dtype, shape, elements=el))
    grad = draw(hnp.arrays(dtype, shape, elements=el))
    m = draw(hnp.arrays(dtype, shape, elements=el))
    v = draw(hnp.arrays(dtype, shape, elements=st.floats(0, 4, width=32)))
    mask = None if draw(st.booleans()) else draw(hnp.arrays(np.bool_, shape))
    lr = draw(st.sampled_from([1e-3, 0.1]))
    b1 = draw(st.sampled_from([0.0, 0.9]))
    b2 = draw(st.sampled_from([0.5, 0.999]))
    t = draw(st.integers(1, 50))
    return param, grad, mask, m, v, lr, b1, b2, 1e-8, t


def _check_masked_adam(op, case):
    param, grad, mask, m, v, lr, b1, b2, eps, t = case
    out = {}
    for engine in ("numpy", "numba"):
        p, mm, vv = param.copy(), m.copy(), v.copy()
        res = dispatch(op, p, grad, mask, mm, vv, lr, b1, b2, eps, t, engine=engine)
        assert res is None  # in place
        assert p.dtype == param.dtype and mm.dtype == m.dtype
        out[engine] = (p, mm, vv)
    rtol, atol = (1e-5, 1e-6) if param.dtype == np.float32 else (1e-12, 1e-13)
    for a, b in zip(out["numba"], out["numpy"]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    if mask is not None:  # masked entries exactly 0, with their moments
        for a in out["numba"]:
            assert (a[~mask] == 0).all()


CASES = {
    "nm_mask": (
        _case_nm_mask(),
        lambda: (np.array([[1.0], [-3.0], [3.0], [0.5], [0.0], [0.0], [0.0], [0.0]]), 2, 4),
        _check_nm_mask),
    "sparse_layer_forward": (
        _case_sparse_layer_forward(),
        lambda: (np.ones((3, 2)), np.array([0, 1, 2], dtype=np.int64),
                 np.array([0, 0], dtype=np.int64), np.array([1.0, -2.0]), np.zeros(2), True,
                 np.array([[1.0, 0.0], [-2.0, 0.0]])),
        _check_sparse_layer_forward),
    "sparse_mlp_forward": (
        _case_sparse_mlp_forward(),
        lambda: (np.ones((3, 2)), np.array([2, 2, 1], dtype=np.int64),
                 np.array([0, 1, 2, 2, 3, 4], dtype=np.int64),
                 np.array([0, 1, 0, 0], dtype=np.int64), np.array([1.0, -2.0, 1.0, 1.0]),
                 np.zeros(3), 1),
        _check_sparse_mlp_forward),
    "masked_adam": (
        _case_masked_adam(),
        lambda: (np.ones((2, 2)), np.ones((2, 2)), np.array([[True, False], [False, True]]),
                 np.zeros((2, 2)), np.zeros((2, 2)), 1e-3, 0.9, 0.999, 1e-8, 1),
        _check_masked_adam),
}
