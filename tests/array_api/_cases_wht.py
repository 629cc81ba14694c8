"""Array-API cases of the dense fast Walsh-Hadamard transform kernels.

``fwht_rows`` (rows of a 2-D array) and ``fwht_axis`` (axis 1 of a ``(pre, n, post)``
array) transform in place: the namespace run must write into the array it was given
(which stays an array of the namespace) and match the NumPy reference, exactly for
int64 and to rounding for float32/float64 (the stages add in the same order).
"""

from __future__ import annotations

import numpy as np

from sparsopt.backends import dispatch
from tests._array_api import assert_in_namespace, to_np


def _data(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == np.int64:
        return rng.integers(-1000, 1000, size=shape).astype(np.int64)
    return (rng.standard_normal(shape) * 10).astype(dtype)


def _check(op, shapes, to_ns, xp):
    for dtype in (np.float32, np.float64, np.int64):
        for k, shape in enumerate(shapes):
            for scale in ((1,) if dtype == np.int64 else (1, 0.125)):
                x = _data(shape, dtype, k)
                ref = dispatch(op, x.copy(), scale, 1, engine="numpy")
                xs = to_ns(x)
                got = dispatch(op, xs, scale, 2)
                assert got is xs  # in place, the same array object
                assert_in_namespace(got, xp)
                out = to_np(got)
                assert out.dtype == dtype
                if dtype == np.int64:
                    np.testing.assert_array_equal(out, ref)
                else:
                    tol = 1e-5 if dtype == np.float32 else 1e-12
                    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * 100)


def _check_rows(to_ns, xp):
    _check("fwht_rows", [(3, 8), (1, 1), (2, 64), (0, 4)], to_ns, xp)


def _check_axis(to_ns, xp):
    _check("fwht_axis", [(2, 8, 5), (1, 1, 3), (3, 32, 1), (0, 4, 2)], to_ns, xp)


CASES = {"fwht_rows": _check_rows, "fwht_axis": _check_axis}
