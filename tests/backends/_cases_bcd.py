"""Conformance cases of the ``bcd`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

``bcd_nnqp`` works in float64 only (the solver's block solves are float64): random
positive definite ``Q = M^T M + delta I`` (smallest eigenvalue >= delta >= 0.05), so the
non-negative QP has a unique solution; both backends must return it to 1e-8 relative.
``bcd_csc_cols_axpy`` and ``bcd_csc_gather`` take CSC data of both float dtypes, column
lists with repeats and a float64 output.

The penalty kernels (``bcd_prox_steps``, ``bcd_subdiff_scores``, ``bcd_value_delta``) take
the kernel spec of a penalty drawn from every separable kind, alone and under
``Positive()``: the prox is checked against the penalty's own ``prox`` by the value of the
prox objective (ties at a jump of a non-convex prox are equally good), the value
differences against ``value``, and the two backends against each other.
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch
from sparsopt.penalties import CEL0, L0, L1, MCP, SCAD, ElasticNet, Log, Lq, Positive


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


_PENS = [L1(0.7), ElasticNet(0.5, 0.3), MCP(0.6, 3.0), SCAD(0.5, 3.7), Log(0.4, 1.0),
         L0(0.3), Lq(0.3, 0.5), Lq(0.3, 2.0 / 3.0), Lq(0.3, 0.4), CEL0(0.5, a=1.0), Positive(),
         L1(0.7) + Positive(), MCP(0.6, 3.0) + Positive(), ElasticNet(0.5, 0.3) + Positive()]


def _spec_args(pen):
    s = pen.spec()
    a = np.atleast_1d(np.asarray(getattr(getattr(pen, "penalty", pen), "a", 1.0), dtype=float))
    return s.kind, s.params, s.lower, s.upper, np.ascontiguousarray(a)


@st.composite
def _case_pen(draw):
    pen = draw(st.sampled_from(_PENS))
    n = draw(st.integers(1, 8))
    v = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0]) | _floats(-4, 4)))
    w = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0]) | _floats(-4, 4)))
    steps = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.5]) | _floats(0.01, 0.9)))
    lo, hi = pen.spec().lower, pen.spec().upper
    return pen, np.clip(v, lo, hi), np.clip(w, lo, hi), steps


def _prox_obj(pen, z, v, s):
    return 0.5 * (z - v) ** 2 + s * pen.value(np.reshape(z, (-1, 1)), per_row=True)


def _check_prox_steps(op, case):
    pen, v, _, steps = case
    lo, hi = pen.spec().lower, pen.spec().upper
    for e in ("numpy", "numba"):
        z = dispatch(op, *_spec_args(pen), v, steps, np.full(v.size, np.nan), engine=e)
        assert np.all(np.isfinite(z)) and np.all((z >= lo) & (z <= hi)), e
        got = _prox_obj(pen, z, v, steps)
        for i in range(v.size):  # no point of a fine grid (plus 0 and v) does better
            grid = np.clip(np.r_[np.linspace(v[i] - 5.0, v[i] + 5.0, 4001), 0.0, v[i]], lo, hi)
            best = _prox_obj(pen, grid, np.full(grid.size, v[i]), steps[i]).min()
            assert got[i] <= best + 1e-9 * (1.0 + abs(best)), (e, i, z[i], v[i])


def _check_subdiff_scores(op, case):
    from sparsopt.backends._numpy.bcd import bcd_prox_steps as prox_ref

    pen, w, g, L = case
    L = 1.0 / L  # curvatures in [1.1, 100]: steps within the prox's domain
    out = {}
    for e in ("numpy", "numba"):
        for signed in (False, True):
            out[e, signed] = dispatch(op, *_spec_args(pen), w, g, L, signed,
                                      np.full(w.size, np.nan), engine=e)
    np.testing.assert_allclose(out["numba", False], out["numpy", False], rtol=1e-9, atol=1e-9)
    assert np.all(out["numpy", False] >= 0.0)
    for e in ("numpy", "numba"):
        np.testing.assert_allclose(np.abs(out[e, True]), out[e, False], rtol=1e-12, atol=0)
    if not pen.is_convex:  # a non-convex prox jumps: the sign of a tie is arbitrary
        return
    nz = (out["numpy", True] != 0) & (out["numba", True] != 0)
    np.testing.assert_array_equal(np.sign(out["numba", True][nz]), np.sign(out["numpy", True][nz]))
    # zero at a stationary coordinate: x = prox(x - g / L)
    zz = prox_ref(*_spec_args(pen), w - g / L, 1.0 / L, np.empty(w.size))
    gs = L * (zz - (w - g / L))  # the gradient for which zz is stationary
    d0 = dispatch(op, *_spec_args(pen), zz, gs, L, False, np.empty(w.size), engine="numba")
    np.testing.assert_allclose(d0, 0.0, atol=1e-9 * (1.0 + np.abs(gs).max()))
    d1 = dispatch(op, *_spec_args(pen), zz, gs, L, False, np.empty(w.size), engine="numpy")
    np.testing.assert_allclose(d1, 0.0, atol=1e-9 * (1.0 + np.abs(gs).max()))


def _check_value_delta(op, case):
    pen, x, z, _ = case
    kind, params, _, _, a = _spec_args(pen)
    expected = (pen.value(np.reshape(z, (-1, 1)), per_row=True)
                - pen.value(np.reshape(x, (-1, 1)), per_row=True))
    scale = 1.0 + np.abs(pen.value(np.reshape(x, (-1, 1)), per_row=True))
    for e in ("numpy", "numba"):
        out = dispatch(op, kind, params, a, x, z, np.full(x.size, np.nan), engine=e)
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12 * scale.max(),
                                   err_msg=e)
        assert np.all(out[x == z] == 0.0)


CASES = {
    "bcd_prox_steps": (_case_pen(),
                       lambda: (MCP(0.6, 3.0) + Positive(), np.array([-1.0, 0.3, 2.5]),
                                np.zeros(3), np.array([0.5, 0.5, 0.2])),
                       _check_prox_steps),
    "bcd_subdiff_scores": (_case_pen(),
                           lambda: (L1(0.7), np.array([0.0, 1.0, -2.0]),
                                    np.array([0.3, -1.0, 2.0]), np.array([0.5, 0.5, 0.2])),
                           _check_subdiff_scores),
    "bcd_value_delta": (_case_pen(),
                        lambda: (SCAD(0.5, 3.7), np.array([0.0, 0.3, 2.5]),
                                 np.array([0.1, 0.3, 0.4]), np.ones(3)),
                        _check_value_delta),
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
