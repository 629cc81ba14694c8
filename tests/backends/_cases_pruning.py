"""Conformance cases of the ``pruning`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

The NumPy references use different algorithms (a stable argsort per group for
``nm_mask``), so agreement here means the Numba loops are right. Weights are drawn from
a small set of values so that ties (the deterministic tie-break) are exercised.
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


CASES = {
    "nm_mask": (
        _case_nm_mask(),
        lambda: (np.array([[1.0], [-3.0], [3.0], [0.5], [0.0], [0.0], [0.0], [0.0]]), 2, 4),
        _check_nm_mask),
}
