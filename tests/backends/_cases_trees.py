"""Conformance cases of the ``trees`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

The kernels are float64 only (see ``sparsopt/backends/_numba/trees.py``). Graphs are
random symmetric sparsity patterns on up to 12 nodes (negative off-diagonal weights,
as in a Laplacian). The NumPy references use different algorithms (a dense block solve
with a Cholesky test; forests recognised by counting edges against components), so
equality here means the message-passing and union-find kernels are right.
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch


def _floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def _csr(S):
    M = sp.csr_matrix(S)
    M.sort_indices()
    return (M.indptr.astype(np.int64), M.indices.astype(np.int64),
            M.data.astype(np.float64))


@st.composite
def _graph(draw, n_max=12):
    """A symmetric matrix with a strictly dominant positive diagonal (or one negative
    diagonal entry: not positive definite)."""
    n = draw(st.integers(1, n_max))
    p = draw(_floats(0.0, 0.8))
    mask = draw(hnp.arrays(np.float64, (n, n), elements=_floats(0.0, 1.0))) < p
    mask = np.triu(mask, 1)
    w = draw(hnp.arrays(np.float64, (n, n), elements=_floats(0.1, 2.0)))
    S = -np.where(mask, w, 0.0)
    S = S + S.T
    margin = draw(hnp.arrays(np.float64, n, elements=_floats(0.1, 2.0)))
    S[np.diag_indices(n)] = np.abs(S).sum(axis=1) + margin
    return S


def _order(draw, n, full):
    perm = draw(st.permutations(list(range(n))))
    if not full:
        perm = perm[:draw(st.integers(0, n))]
    return np.array(perm, dtype=np.int64)


@st.composite
def _case_tree_block_solve(draw):
    S = draw(_graph())
    n = S.shape[0]
    block = np.sort(_order(draw, n, full=False))
    if block.size and draw(st.booleans()):  # not positive definite on the block
        i = block[draw(st.integers(0, block.size - 1))]
        S[i, i] = -S[i, i]
    k = draw(st.integers(1, 3))
    x = draw(hnp.arrays(np.float64, (n, k), elements=_floats(-10, 10)))
    g = draw(hnp.arrays(np.float64, (n, k), elements=_floats(-10, 10)))
    return S, block, x, g


def _check_tree_block_solve(op, case):
    S, block, x, g = case
    indptr, indices, data = _csr(S)
    diag = np.ascontiguousarray(S.diagonal())
    out = {}
    for engine in ("numpy", "numba"):
        xe, ge = x.copy(), g.copy()
        pos = np.full(S.shape[0], -1, dtype=np.int64)
        status = int(dispatch(op, indptr, indices, data, diag, block, xe, ge, pos,
                              engine=engine))
        np.testing.assert_array_equal(pos, -1)  # workspace restored
        out[engine] = (status, xe, ge)
    (s_np, x_np, g_np), (s_nb, x_nb, g_nb) = out["numpy"], out["numba"]
    assert s_np == s_nb, (s_np, s_nb)
    if s_nb != 0:
        np.testing.assert_array_equal(x_nb, x)  # untouched on failure
        np.testing.assert_array_equal(g_nb, g)
        return
    scale = 1.0 + np.abs(x).max() + np.abs(g).max()
    np.testing.assert_allclose(x_nb, x_np, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(g_nb, g_np, rtol=1e-9, atol=1e-9 * scale)
    # g kept consistent: g_new - g_old = A (x_new - x_old)
    np.testing.assert_allclose(g_nb - g, S @ (x_nb - x), rtol=1e-9, atol=1e-9 * scale)
    if block.size:  # the block gradient vanishes after an exact block minimisation
        np.testing.assert_allclose(g_nb[block], 0.0, atol=1e-8 * scale)


@st.composite
def _case_order(draw, full=False):
    S = draw(_graph())
    return S, _order(draw, S.shape[0], full)


def _check_greedy_forest(op, case):
    S, order = case
    args = _csr(S)
    b_np = dispatch(op, *args, order, engine="numpy")
    b_nb = dispatch(op, *args, order, engine="numba")
    np.testing.assert_array_equal(b_nb, b_np)
    assert set(b_nb.tolist()) <= set(order.tolist())


def _check_partition(op, case):
    S, order = case
    args = _csr(S)
    lab_np, k_np = dispatch(op, *args, order, engine="numpy")
    lab_nb, k_nb = dispatch(op, *args, order, engine="numba")
    assert int(k_np) == int(k_nb)
    np.testing.assert_array_equal(lab_nb, lab_np)
    seen = np.zeros(S.shape[0], dtype=bool)
    seen[order] = True
    assert np.all((lab_nb >= 0) == seen)
    if op == "greedy_coloring":  # colour classes are independent sets
        off = (S != 0) & ~np.eye(S.shape[0], dtype=bool)
        i, j = np.nonzero(off)
        keep = (lab_nb[i] >= 0) & (lab_nb[j] >= 0)
        assert np.all(lab_nb[i][keep] != lab_nb[j][keep])


def _ring(n=5):
    S = 3.0 * np.eye(n) - np.roll(np.eye(n), 1, axis=1) - np.roll(np.eye(n), -1, axis=1)
    return S


CASES = {
    "tree_block_solve": (
        _case_tree_block_solve(),
        lambda: (_ring(), np.array([0, 1, 2, 3], dtype=np.int64), np.zeros((5, 1)),
                 -np.ones((5, 1))),
        _check_tree_block_solve),
    "greedy_forest": (
        _case_order(),
        lambda: (_ring(), np.array([4, 3, 2, 1, 0], dtype=np.int64)),
        _check_greedy_forest),
    "forest_partition": (
        _case_order(full=True),
        lambda: (_ring(), np.arange(5, dtype=np.int64)),
        _check_partition),
    "greedy_coloring": (
        _case_order(full=True),
        lambda: (_ring(), np.arange(5, dtype=np.int64)),
        _check_partition),
}
