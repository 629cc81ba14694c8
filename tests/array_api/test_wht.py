"""The dense fast Walsh-Hadamard transform on array-API arrays; SPRIGHT refuses them.

``fwht``/``ifwht`` on ``array_api_strict``'s ``device1`` (any hidden conversion to NumPy
raises there) must give the NumPy results, keep float32, transform integers exactly in
int64, write ``out`` in the namespace, and refuse the host-only ``n_jobs``; the sparse
transform (SPRIGHT, the bit-packed Walsh helpers, ``SparseWHT``) raises a clear TypeError.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparsopt.transforms import (
    SparseWHT,
    fwht,
    ifwht,
    pack_bits,
    spright,
    unpack_bits,
    walsh_expansion,
    walsh_features,
)
from tests._array_api import (
    NAMESPACES,
    array_api_dispatch,
    assert_in_namespace,
    namespace,
    to_np,
    to_xp,
)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalize", [None, "ortho"])
@pytest.mark.parametrize("inverse", [False, True])
def test_fwht_matches_numpy(xp_name, dtype, normalize, inverse):
    xp, dev = namespace(xp_name)
    f = ifwht if inverse else fwht
    x = np.random.default_rng(0).standard_normal((2, 8, 16, 4)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for axis in (0, 1, 2, -1, -2):
        if x.shape[axis] & (x.shape[axis] - 1):
            continue
        ref = f(x, axis=axis, normalize=normalize)
        got = f(to_xp(x, xp, dev), axis=axis, normalize=normalize)
        assert_in_namespace(got, xp)
        g = to_np(got)
        assert g.dtype == dtype and g.shape == x.shape
        np.testing.assert_allclose(g, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_fwht_integers_exact(xp_name):
    xp, dev = namespace(xp_name)
    x = np.random.default_rng(1).integers(-(2**40), 2**40, size=(3, 32))
    got = fwht(to_xp(x, xp, dev))
    assert_in_namespace(got, xp)
    np.testing.assert_array_equal(to_np(got), fwht(x))
    assert to_np(got).dtype == np.int64
    for dt in (np.int32, np.int8, bool):  # small integers and booleans: exact int64 too
        xi = (x % 7).astype(dt)
        got = fwht(to_xp(xi, xp, dev))
        np.testing.assert_array_equal(to_np(got), fwht(xi))
    # integers with scaling are float64, as on NumPy
    got = ifwht(to_xp(x, xp, dev))
    assert to_np(got).dtype == np.float64
    np.testing.assert_allclose(to_np(got), ifwht(x), rtol=1e-12)
    big = np.full((1, 4), 2**62, dtype=np.int64)
    with pytest.raises(ValueError, match="overflow int64"):
        fwht(to_xp(big, xp, dev))


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_fwht_out_and_in_place(xp_name):
    xp, dev = namespace(xp_name)
    x = np.arange(16.0).reshape(2, 8)
    xs = to_xp(x.copy(), xp, dev)  # a copy: array_api_strict may share x's memory
    out = to_xp(np.zeros_like(x), xp, dev)
    assert fwht(xs, out=out) is out
    np.testing.assert_array_equal(to_np(out), fwht(x))
    np.testing.assert_array_equal(to_np(xs), x)  # x untouched
    assert fwht(xs, normalize="ortho", out=xs) is xs  # in place
    np.testing.assert_allclose(to_np(xs), fwht(x, normalize="ortho"))
    with pytest.raises(TypeError, match="dtype"):
        fwht(xs, out=to_xp(np.zeros((2, 8), np.float32), xp, dev))
    with pytest.raises(ValueError, match="shape"):
        fwht(xs, out=to_xp(np.zeros((2, 4)), xp, dev))
    with pytest.raises(TypeError, match="namespace"):
        fwht(xs, out=np.zeros((2, 8)))


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_fwht_errors(xp_name):
    xp, dev = namespace(xp_name)
    xs = to_xp(np.ones((2, 8)), xp, dev)
    with pytest.raises(ValueError, match="n_jobs"):
        fwht(xs, n_jobs=2)
    with pytest.raises(ValueError, match="power of two"):
        fwht(to_xp(np.ones(6), xp, dev))
    with pytest.raises(ValueError, match="out of bounds"):
        fwht(xs, axis=2)
    with pytest.raises(TypeError, match="engine='numba'"):
        fwht(xs, engine="numba")
    assert to_np(fwht(xs, n_jobs=1)).shape == (2, 8)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_sparse_transform_is_host_only(xp_name):
    xp, dev = namespace(xp_name)
    bits = to_xp(np.array([[1, 0, 1], [0, 1, 1]]), xp, dev)
    idx = to_xp(np.array([0, 5]), xp, dev)
    for call in (lambda: pack_bits(bits), lambda: unpack_bits(idx, 3),
                 lambda: walsh_features(bits, np.array([0, 5])),
                 lambda: walsh_expansion(bits, np.array([0, 5]), np.ones(2)),
                 lambda: walsh_expansion(np.array([[1, 0, 1]]), idx, np.ones(2))):
        with pytest.raises(TypeError, match="NumPy arrays only"):
            call()
    with pytest.raises(TypeError, match="NumPy arrays only"):
        spright(lambda X: to_xp(X[:, 0].astype(np.float64), xp, dev), 6, 2, random_state=0)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_sparse_wht_estimator_refuses_under_dispatch(xp_name):
    xp, dev = namespace(xp_name)
    X = to_xp(np.random.default_rng(0).integers(0, 2, size=(20, 4)).astype(np.float64), xp, dev)
    y = to_xp(np.ones(20), xp, dev)
    with array_api_dispatch(), pytest.raises(TypeError, match="SparseWHT does not support"):
        SparseWHT(n_bits=4).fit(X, y)
