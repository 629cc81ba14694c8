"""Array-API cases of the ``unfolding`` kernels (collected by ``test_kernels.py``).

Each case runs the op on seeded NumPy inputs (``engine="numpy"``, the reference) and on
the same inputs in the namespace, in float32 and float64; outputs are written in place,
so the in-place buffers are checked to be arrays of the namespace with the same values.
"""

import numpy as np

from sparsopt.backends import dispatch
from tests._array_api import assert_in_namespace, to_np

DTYPES = (np.float32, np.float64)


def _inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((5, 9)).astype(dtype)
    R[0, :4] = [0.5, -0.5, 1.0, -1.0]  # ties with the thresholds
    theta = np.abs(rng.standard_normal(9)).astype(dtype) * 0.5
    theta[:4] = [0.5, 0.5, 1.0, 1.0]
    return R, theta


def _shrink_check(op, n_masks, k=None):
    def check(to_ns, xp):
        for dtype in DTYPES:
            R, theta = _inputs(dtype)
            ks = (k,) if k is None else (0, k, R.shape[1])
            for kk in ks:
                extra = () if kk is None else (kk,)
                ref = [np.empty_like(R)] + [np.empty(R.shape, bool) for _ in range(n_masks)]
                dispatch(op, R, theta, *extra, *ref, engine="numpy")
                bufs = [to_ns(np.zeros_like(R))] + [to_ns(np.zeros(R.shape, bool))
                                                    for _ in range(n_masks)]
                res = dispatch(op, to_ns(R), to_ns(theta), *extra, *bufs)
                for r, b, e in zip(res, bufs, ref):
                    assert r is b  # written in place
                    assert_in_namespace(b, xp)
                    assert b.dtype == (xp.bool if e.dtype == bool else to_ns(R).dtype)
                    np.testing.assert_allclose(to_np(b), e, rtol=2 * np.finfo(dtype).eps)
    return check


def _check_adam(to_ns, xp):
    for dtype in DTYPES:
        rng = np.random.default_rng(1)
        P, G, M = (rng.standard_normal((3, 4)).astype(dtype) for _ in range(3))
        V = np.abs(rng.standard_normal((3, 4))).astype(dtype)
        mult = np.array([1.0, 0.3, 0.0], dtype=dtype)
        t = 3
        coef = np.array([0.5, 0.01, 0.9, 0.1, 0.999, 0.001, 1 - 0.9 ** t, 1 - 0.999 ** t, 1e-8],
                        dtype=dtype)
        ref = [P.copy(), M.copy(), V.copy()]
        dispatch("unfold_adam", ref[0], G, ref[1], ref[2], mult, coef, engine="numpy")
        for c in (to_ns(coef), tuple(float(v) for v in coef)):  # an array or host floats
            bufs = [to_ns(P.copy()), to_ns(M.copy()), to_ns(V.copy())]
            res = dispatch("unfold_adam", bufs[0], to_ns(G), bufs[1], bufs[2], to_ns(mult), c)
            eps = np.finfo(dtype).eps
            for r, b, e in zip(res, bufs, ref):
                assert r is b
                assert_in_namespace(b, xp)
                assert b.dtype == to_ns(P).dtype
                np.testing.assert_allclose(to_np(b), e, rtol=8 * eps, atol=8 * eps)


CASES = {
    "unfold_soft_shrink": _shrink_check("unfold_soft_shrink", 1),
    "unfold_hard_shrink": _shrink_check("unfold_hard_shrink", 1),
    "unfold_support_select": _shrink_check("unfold_support_select", 2, k=3),
    "unfold_adam": _check_adam,
}
