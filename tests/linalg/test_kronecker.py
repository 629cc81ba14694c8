"""``KroneckerOperator`` and ``kron_apply`` against the explicitly formed ``np.kron`` matrix."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from sparsopt.linalg import KroneckerOperator, kron_apply

FACTOR_SHAPES = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3)


def _factors(shapes, is_complex, seed):
    rng = np.random.default_rng(seed)
    out = []
    for m, n in shapes:
        f = rng.standard_normal((m, n))
        if is_complex:
            f = f + 1j * rng.standard_normal((m, n))
        out.append(f)
    return out


def _vec(rng, shape, is_complex):
    v = rng.standard_normal(shape)
    return v + 1j * rng.standard_normal(shape) if is_complex else v


def _dense(factors):
    return reduce(np.kron, factors)


@settings(max_examples=60, deadline=None)
@given(shapes=FACTOR_SHAPES, is_complex=st.booleans(), seed=st.integers(0, 2**32 - 1),
       n_cols=st.integers(1, 3))
def test_operator_matches_dense_kron(shapes, is_complex, seed, n_cols):
    factors = _factors(shapes, is_complex, seed)
    D = _dense(factors)
    op = KroneckerOperator(factors)
    M, N = D.shape
    assert op.shape == (M, N)
    assert op.factor_shapes == tuple(shapes)
    assert op.n_factors == len(shapes)
    rng = np.random.default_rng(seed + 1)
    x = _vec(rng, N, is_complex)
    y = _vec(rng, M, is_complex)
    X = _vec(rng, (N, n_cols), is_complex)
    Y = _vec(rng, (M, n_cols), is_complex)
    tol = dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.todense(), D, **tol)
    np.testing.assert_allclose(op.toarray(), D, **tol)
    np.testing.assert_allclose(op.matvec(x), D @ x, **tol)
    np.testing.assert_allclose(op @ x, D @ x, **tol)
    np.testing.assert_allclose(op.rmatvec(y), D.conj().T @ y, **tol)
    np.testing.assert_allclose(op.matmat(X), D @ X, **tol)
    np.testing.assert_allclose(op @ X, D @ X, **tol)
    np.testing.assert_allclose(op.rmatmat(Y), D.conj().T @ Y, **tol)
    np.testing.assert_allclose(op.H @ y, D.conj().T @ y, **tol)
    np.testing.assert_allclose(op.adjoint().todense(), D.conj().T, **tol)
    np.testing.assert_allclose(op.T @ y, D.T @ y, **tol)
    np.testing.assert_allclose(op.transpose().todense(), D.T, **tol)
    assert isinstance(op.H, KroneckerOperator) and isinstance(op.T, KroneckerOperator)
    assert op.H.shape == op.T.shape == (N, M)
    np.testing.assert_allclose(kron_apply(factors, x), D @ x, **tol)
    np.testing.assert_allclose(kron_apply(factors, X), D @ X, **tol)


@pytest.mark.parametrize("n_factors", [1, 2, 3])
@pytest.mark.parametrize("is_complex", [False, True])
def test_fixed_shapes_all_products(n_factors, is_complex):
    shapes = [(3, 5), (4, 2), (2, 3)][:n_factors]
    factors = _factors(shapes, is_complex, 7)
    D = _dense(factors)
    op = KroneckerOperator(factors)
    rng = np.random.default_rng(0)
    x = _vec(rng, D.shape[1], is_complex)
    y = _vec(rng, D.shape[0], is_complex)
    np.testing.assert_allclose(op @ x, D @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.H @ y, D.conj().T @ y, rtol=1e-12, atol=1e-12)
    # the operator algebra of SciPy composes with it (H H = identity on the map)
    np.testing.assert_allclose((op.H @ op) @ x, D.conj().T @ (D @ x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(aslinearoperator(op).matvec(x), D @ x, rtol=1e-12, atol=1e-12)
    assert isinstance(op, LinearOperator)
    assert op.dtype == (np.complex128 if is_complex else np.float64)
    assert (op @ x).dtype == op.dtype


def test_kron_index_convention_is_c_order_tensor():
    # x.reshape(n1, n2, n3) (C order) is the tensor whose mode i is multiplied by A_i
    rng = np.random.default_rng(3)
    A1, A2, A3 = (rng.standard_normal(s) for s in [(2, 3), (4, 2), (3, 5)])
    x = rng.standard_normal(3 * 2 * 5)
    T = x.reshape(3, 2, 5)
    expected = np.einsum("ai,bj,ck,ijk->abc", A1, A2, A3, T).reshape(-1)
    np.testing.assert_allclose(kron_apply([A1, A2, A3], x), expected, rtol=1e-12, atol=1e-12)


def test_kron_apply_shapes():
    rng = np.random.default_rng(1)
    factors = [rng.standard_normal((2, 3)), rng.standard_normal((4, 5))]
    D = _dense(factors)
    x = rng.standard_normal(15)
    X = rng.standard_normal((15, 4))
    assert kron_apply(factors, x).shape == (8,)
    assert kron_apply(factors, X).shape == (8, 4)
    np.testing.assert_allclose(kron_apply(factors, x), D @ x, rtol=1e-12)
    np.testing.assert_allclose(kron_apply(factors, X), D @ X, rtol=1e-12)
    # list input for the vector works too
    np.testing.assert_allclose(kron_apply(factors, x.tolist()), D @ x, rtol=1e-12)
    # one column of the batch equals the single-vector result
    np.testing.assert_allclose(kron_apply(factors, X)[:, 2], kron_apply(factors, X[:, 2]))


@pytest.mark.parametrize(
    "dtypes, expected",
    [
        ((np.float32, np.float32), np.float32),
        ((np.float32, np.float64), np.float64),
        ((np.int64, np.int32), np.float64),
        ((np.float32, np.complex64), np.complex64),
        ((np.float64, np.complex64), np.complex128),
        ((np.complex128,), np.complex128),
    ],
)
def test_dtype_is_result_type_of_factors(dtypes, expected):
    factors = [np.ones((2, 3), dtype=t) for t in dtypes]
    op = KroneckerOperator(factors)
    assert op.dtype == expected
    assert all(f.dtype == expected for f in op.factors)
    assert op.todense().dtype == expected
    if np.dtype(expected) in (np.float32, np.complex64):
        x = np.ones(op.shape[1], dtype=expected)
        assert (op @ x).dtype == expected


def test_single_2d_array_is_one_factor():
    A = np.arange(6.0).reshape(2, 3)
    op = KroneckerOperator(A)
    assert op.n_factors == 1 and op.shape == (2, 3)
    np.testing.assert_array_equal(op.todense(), A)


def test_repr_mentions_shapes():
    op = KroneckerOperator([np.ones((2, 3)), np.ones((4, 5))])
    r = repr(op)
    assert "8x15" in r and "2x3" in r and "4x5" in r


def test_errors():
    with pytest.raises(ValueError, match="at least one"):
        KroneckerOperator([])
    with pytest.raises(ValueError, match="factor 1 must be a non-empty 2-D"):
        KroneckerOperator([np.ones((2, 2)), np.ones(3)])
    with pytest.raises(ValueError, match="factor 0 must be a non-empty 2-D"):
        KroneckerOperator([np.ones((0, 2))])
    with pytest.raises(TypeError, match="not numeric"):
        KroneckerOperator([np.array([["a", "b"]])])
    with pytest.raises(TypeError, match="not numeric"):
        KroneckerOperator([np.ones((2, 2), dtype=bool)])
    with pytest.raises(TypeError, match="sequence of 2-D arrays"):
        KroneckerOperator(3.0)
