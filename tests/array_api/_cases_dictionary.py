"""Array-API cases of the dictionary-learning kernels (``dict_bcd_sweep``,
``dict_stats_update``): the generic NumPy reference on NumPy arrays against the same
kernel on namespace arrays (float32 and float64), see ``test_kernels.py``."""

from __future__ import annotations

import numpy as np

from sparsopt.backends import dispatch
from tests._array_api import assert_in_namespace, to_np


def _problem(dtype, seed=0, n=9, k=5, f=4):
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(n, k)) * (rng.random((n, k)) < 0.6)
    X = rng.normal(size=(n, f))
    D = rng.normal(size=(k, f))
    A = C.T @ C + 0.05 * np.eye(k)
    A[1, 1] = 0.0  # a dead atom (skipped): no 0/0 may reach the others
    return (D.astype(dtype), A.astype(dtype), (C.T @ X).astype(dtype), C.astype(dtype),
            X.astype(dtype))


def _check_dict_bcd_sweep(to_ns, xp):
    for dtype in (np.float64, np.float32):
        for positive, unit in ((False, False), (True, False), (False, True), (True, True)):
            D, A, Bt, _, _ = _problem(dtype, seed=int(positive) + 2 * int(unit))
            skip = np.zeros(D.shape[0], dtype=bool)
            skip[1] = skip[3] = True
            ref = D.copy()
            dispatch("dict_bcd_sweep", ref, A, Bt, skip, positive, unit,
                     np.empty(D.shape[1]), engine="numpy")
            Dx = to_ns(D.copy())
            dispatch("dict_bcd_sweep", Dx, to_ns(A), to_ns(Bt), to_ns(skip), positive, unit,
                     None)
            assert_in_namespace(Dx, xp)
            got = to_np(Dx)
            assert got.dtype == dtype
            rtol = 1e-12 if dtype == np.float64 else 1e-5
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol)
            np.testing.assert_array_equal(got[skip], D[skip])  # skipped atoms untouched
            assert not np.allclose(got[~skip], D[~skip])


def _check_dict_stats_update(to_ns, xp):
    for dtype in (np.float64, np.float32):
        D, A, Bt, C, X = _problem(dtype, seed=3)
        Ar, Br = A.copy(), Bt.copy()
        dispatch("dict_stats_update", Ar, Br, C, X, 0.7, 0.25, None, engine="numpy")
        Ax, Bx = to_ns(A.copy()), to_ns(Bt.copy())
        dispatch("dict_stats_update", Ax, Bx, to_ns(C), to_ns(X), 0.7, 0.25, None)
        for got, ref in ((Ax, Ar), (Bx, Br)):
            assert_in_namespace(got, xp)
            assert to_np(got).dtype == dtype
            rtol = 1e-12 if dtype == np.float64 else 1e-5
            np.testing.assert_allclose(to_np(got), ref, rtol=rtol, atol=rtol)


CASES = {
    "dict_bcd_sweep": _check_dict_bcd_sweep,
    "dict_stats_update": _check_dict_stats_update,
}
