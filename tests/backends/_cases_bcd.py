"""Conformance cases of the ``bcd`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``@st.composite
def _case_gather(draw):
    A, cols, _, out = draw(_case_axpy())
    return A, cols


def _check_gather(op, case):
    A, cols = case
    res = {}
    for e in ("numpy", "numba"):
        out = np.full((A.shape[0], cols.size), np.nan)
        dispatch(op, A.indptr, A.indices, A.data, cols, out, engine=e)
        res[e] = out
    expected = A.toarray().astype(np.float64)[:, cols]
    np.testing.assert_array_equal(res["numpy"], expected)
    np.testing.assert_array_equal(res["numba"], expected)


CASES = {op: (strategy, example, check)}``.

``bcd_nnqp`` works in float64 only (the solver's block solves are float64): random
positive definite ``Q = M^T M + delta I`` (smallest eigenvalue >= delta >= 0.05), so the
non-negative QP has a unique solution; both backends must return it to 1e-8 relative.
``bcd_csc_cols_axpy`` and ``bcd_csc_gather`` take CSC data of both float dtypes, column
lists with repeats and a float64 output.
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch


def _floats(lo, hi, **kw):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, **kw)


@st.composite
def _case_nnqp(draw):
    m = draw(st.integers(1, 8))
    M = draw(hnp.arrays(np.float64, (m + 2, m), elements=_floats(-3, 3)))
    Q = M.T @ M + draw(_floats(0.05, 2.0)) * np.eye(m)
    c = draw(hnp.arrays(np.float64, m, elements=_floats(-5, 5)))
    return np.ascontiguousarray(Q), c


def _check_nnqp(op, case):
    Q, c = case
    out = {}
    for e in ("numpy", "numba"):
        z = np.empty(c.size)
        n_it = dispatch(op, Q, c, z, 10 * c.size + 50, 1e-13 * (1 + np.abs(c).max()),
                        engine=e)
        out[e] = (z, n_it)
    z_np, z_nb = out["numpy"][0], out["numba"][0]
    scale = 1.0 + np.abs(z_np).max()
    np.testing.assert_allclose(z_nb, z_np, rtol=1e-8, atol=1e-8 * scale)
    # KKT of the reference: z >= 0, gradient >= 0, complementarity
    grad = Q @ z_np + c
    gs = 1.0 + np.abs(c).max() + np.abs(Q).max() * scale
    assert np.all(z_np >= 0)
    assert np.all(grad >= -1e-8 * gs)
    assert np.all(np.abs(grad[z_np > 0]) <= 1e-8 * gs)


@st.composite
def _case_axpy(draw):
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    n = draw(st.integers(1, 8))
    p = draw(st.integers(1, 8))
    dense = draw(hnp.arrays(np.float64, (n, p), elements=st.sampled_from([0.0]) | _floats(-5, 5)))
    A = sp.csc_matrix(dense.astype(dtype))
    cols = np.asarray(draw(st.lists(st.integers(0, p - 1), min_size=0, max_size=6)),
                      dtype=np.int64)
    d = draw(hnp.arrays(np.float64, cols.size, elements=_floats(-5, 5)))
    out = draw(hnp.arrays(np.float64, n, elements=_floats(-5, 5)))
    return A, cols, d, out


def _check_axpy(op, case):
    A, cols, d, out0 = case
    res = {}
    for e in ("numpy", "numba"):
        out = out0.copy()
        dispatch(op, A.indptr, A.indices, A.data, cols, d, out, engine=e)
        res[e] = out
    expected = out0 + A.toarray().astype(np.float64)[:, cols] @ d
    np.testing.assert_allclose(res["numpy"], expected, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(res["numba"], res["numpy"], rtol=1e-12, atol=1e-10)


@st.composite
def _case_gather(draw):
    A, cols, _, out = draw(_case_axpy())
    return A, cols


def _check_gather(op, case):
    A, cols = case
    res = {}
    for e in ("numpy", "numba"):
        out = np.full((A.shape[0], cols.size), np.nan)
        dispatch(op, A.indptr, A.indices, A.data, cols, out, engine=e)
        res[e] = out
    expected = A.toarray().astype(np.float64)[:, cols]
    np.testing.assert_array_equal(res["numpy"], expected)
    np.testing.assert_array_equal(res["numba"], expected)


@st.composite
def _case_cols_rows(draw):
    A, cols, _, _ = draw(_case_axpy())
    k = draw(st.integers(1, 3))
    D = draw(hnp.arrays(np.float64, (cols.size, k), elements=_floats(-5, 5)))
    return A, cols, D


def _check_cols_rows(op, case):
    A, cols, D = case
    n, k = A.shape[0], D.shape[1]
    dense = A.toarray().astype(np.float64)
    expected = dense[:, cols] @ D
    touched = np.flatnonzero(np.abs(dense[:, cols]).sum(axis=1)).tolist() if cols.size else []
    res = {}
    for e in ("numpy", "numba"):
        mark = np.full(n, -1, dtype=np.int64)
        rows = np.full(n, -7, dtype=np.int64)
        vals = np.full((n, k), np.nan)
        cnt = dispatch(op, A.indptr, A.indices, A.data, cols, D, mark, rows, vals, engine=e)
        assert np.all(mark == -1)
        assert sorted(rows[:cnt].tolist()) == touched
        np.testing.assert_allclose(vals[:cnt], expected[rows[:cnt]], rtol=1e-12, atol=1e-10)
        res[e] = (rows[:cnt].copy(), vals[:cnt].copy())
    np.testing.assert_array_equal(res["numba"][0], res["numpy"][0])
    np.testing.assert_allclose(res["numba"][1], res["numpy"][1], rtol=1e-12, atol=1e-10)


@st.composite
def _case_tmatvec(draw):
    A, _, _, _ = draw(_case_axpy())
    A = sp.csr_matrix(A)
    A.sort_indices()
    k = draw(st.integers(1, 3))
    rows = np.asarray(draw(st.lists(st.integers(0, A.shape[0] - 1), max_size=6, unique=True)),
                      dtype=np.int64)
    vals = draw(hnp.arrays(np.float64, (rows.size, k), elements=_floats(-5, 5)))
    out = draw(hnp.arrays(np.float64, (A.shape[1], k), elements=_floats(-5, 5)))
    return A, rows, vals, out


def _check_tmatvec(op, case):
    A, rows, vals, out0 = case
    dense = A.toarray().astype(np.float64)
    expected = out0 + dense[rows].T @ vals
    work = int(np.diff(A.indptr)[rows].sum())
    res = {}
    for e in ("numpy", "numba"):
        out = out0.copy()
        assert dispatch(op, A.indptr, A.indices, A.data, rows, vals, out, engine=e) == work
        res[e] = out
    np.testing.assert_allclose(res["numpy"], expected, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(res["numba"], res["numpy"], rtol=1e-12, atol=1e-10)


@st.composite
def _case_block_grams(draw):
    A, _, _, _ = draw(_case_axpy())
    p = A.shape[1]
    bs = draw(st.integers(1, 3))
    nb = draw(st.integers(1, 4))
    blocks = np.asarray(draw(hnp.arrays(np.int64, (nb, bs), elements=st.integers(0, p - 1))))
    return A, blocks


def _check_block_grams(op, case):
    A, blocks = case
    dense = A.toarray().astype(np.float64)
    expected = np.stack([dense[:, b].T @ dense[:, b] for b in blocks])
    res = {}
    for e in ("numpy", "numba"):
        w = np.zeros(A.shape[0])
        out = np.full(expected.shape, np.nan)
        dispatch(op, A.indptr, A.indices, A.data, blocks, w, out, engine=e)
        assert np.all(w == 0.0)
        res[e] = out
    np.testing.assert_allclose(res["numpy"], expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res["numba"], res["numpy"], rtol=1e-12, atol=1e-9)


CASES = {
    "bcd_nnqp": (_case_nnqp(),
                 lambda: (np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([-1.0, 1.0])),
                 _check_nnqp),
    "bcd_csc_cols_axpy": (_case_axpy(),
                          lambda: (sp.csc_matrix(np.array([[1.0, 0.0], [2.0, 3.0]])),
                                   np.array([1, 0, 1]), np.array([0.5, -1.0, 2.0]),
                                   np.zeros(2)),
                          _check_axpy),
    "bcd_csc_gather": (_case_gather(),
                       lambda: (sp.csc_matrix(np.array([[1.0, 0.0], [2.0, 3.0]])),
                                np.array([1, 0, 1])),
                       _check_gather),
    "bcd_csc_cols_rows": (_case_cols_rows(),
                          lambda: (sp.csc_matrix(np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 0.0]])),
                                   np.array([1, 0, 1]), np.ones((3, 2))),
                          _check_cols_rows),
    "bcd_csr_rows_tmatvec": (_case_tmatvec(),
                             lambda: (sp.csr_matrix(np.array([[1.0, 0.0], [2.0, 3.0]])),
                                      np.array([1]), np.ones((1, 2)), np.zeros((2, 2))),
                             _check_tmatvec),
    "bcd_csc_block_grams": (_case_block_grams(),
                            lambda: (sp.csc_matrix(np.array([[1.0, 0.0], [2.0, 3.0]])),
                                     np.array([[0, 1], [1, 1]])),
                            _check_block_grams),
}
