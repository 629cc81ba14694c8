"""Array-API cases of the optimal-transport kernels (``array_api=True`` NumPy references).

Each check runs the NumPy reference on NumPy inputs (``engine="numpy"``) and the same
kernel on the inputs converted by ``to_ns``, in float64 and float32, and compares.
"""

from __future__ import annotations

import numpy as np

from sparsopt.backends import dispatch
from tests._array_api import assert_in_namespace, to_np

DTYPES = (np.float64, np.float32)


def _rtol(dtype):
    return 1e-12 if dtype == np.float64 else 2e-5


def _problem(dtype, n=7, m=5, reg=0.1, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.random((n, m))
    a = rng.random(n) + 0.1
    b = rng.random(m) + 0.1
    a, b = a / a.sum(), b / b.sum()
    K = (M * (-1.0 / reg)).astype(dtype)
    u = np.log(a).astype(dtype)
    v = np.log(b).astype(dtype)
    return K, u, v, a.astype(dtype), b.astype(dtype)


def _sinkhorn_log_iterations(to_ns, xp):
    for dtype in DTYPES:
        for tau, n_iter, tol in ((1.0, 6, -1.0), (0.8, 4, -1.0), (1.0, 50, 1e-3)):
            K, u, v, a, b = _problem(dtype)
            out = {}
            for name, conv in (("np", lambda z: z), ("ns", to_ns)):
                uu, vv = conv(u.copy()), conv(v.copy())
                done, err = dispatch("sinkhorn_log_iterations", conv(K), uu, vv,
                                     conv(np.log(a)), conv(np.log(b)), conv(a), tau, tau,
                                     n_iter, tol, engine="numpy" if name == "np" else None)
                if name == "ns":
                    assert_in_namespace(uu, xp)  # updated in place, in the namespace
                    assert_in_namespace(vv, xp)
                out[name] = (to_np(uu), to_np(vv), int(done), float(err))
            (u0, v0, k0, e0), (u1, v1, k1, e1) = out["np"], out["ns"]
            assert k0 == k1
            assert u1.dtype == dtype and v1.dtype == dtype
            np.testing.assert_allclose(u1, u0, rtol=_rtol(dtype), atol=_rtol(dtype) * 10)
            np.testing.assert_allclose(v1, v0, rtol=_rtol(dtype), atol=_rtol(dtype) * 10)
            np.testing.assert_allclose(e1, e0, rtol=1e-6, atol=1e-12)


def _ot_plan(to_ns, xp):
    for dtype in DTYPES:
        K, u, v, _, _ = _problem(dtype)
        P0 = np.empty(K.shape, dtype=dtype)
        r0, c0 = dispatch("ot_plan", K, u, v, P0, engine="numpy")
        P1 = to_ns(np.full(K.shape, np.nan, dtype=dtype))
        r1, c1 = dispatch("ot_plan", to_ns(K), to_ns(u), to_ns(v), P1)
        for x in (P1, r1, c1):
            assert_in_namespace(x, xp)
        for x1, x0 in ((P1, P0), (r1, r0), (c1, c0)):
            np.testing.assert_allclose(to_np(x1), x0, rtol=_rtol(dtype))
            assert to_np(x1).dtype == dtype


def _ot_scale_plan(to_ns, xp):
    rng = np.random.default_rng(1)
    for dtype in DTYPES:
        Kt = rng.random((6, 4)).astype(dtype)
        alpha = (rng.random(6) + 0.5).astype(dtype)
        beta = (rng.random(4) + 0.5).astype(dtype)
        P0 = Kt.copy()
        r0, c0 = dispatch("ot_scale_plan", P0, alpha, beta, engine="numpy")
        P1 = to_ns(Kt)
        r1, c1 = dispatch("ot_scale_plan", P1, to_ns(alpha), to_ns(beta))
        for x in (P1, r1, c1):
            assert_in_namespace(x, xp)
        for x1, x0 in ((P1, P0), (r1, r0), (c1, c0)):
            np.testing.assert_allclose(to_np(x1), x0, rtol=_rtol(dtype))


def _ot_newton_cg_masked(to_ns, xp):
    rng = np.random.default_rng(2)
    n, m = 6, 5
    P = rng.random((n, m))
    S = np.where(rng.random((n, m)) < 0.5, P, 0.0)
    r = P.sum(axis=1) + 0.2
    c = P.sum(axis=0) + 0.2
    ga, gb = rng.uniform(-1, 1, n), rng.uniform(-1, 1, m)
    H = np.block([[np.diag(r), S], [S.T, np.diag(c)]])
    x_ref = np.linalg.solve(H, np.concatenate([ga, gb]))
    for dtype in DTYPES:
        args = [z.astype(dtype) for z in (S, r, c, ga, gb)]
        rtol = 1e-10 if dtype == np.float64 else 1e-5
        da0, db0, k0 = dispatch("ot_newton_cg_masked", *args, rtol, 50, engine="numpy")
        da1, db1, k1 = dispatch("ot_newton_cg_masked", *map(to_ns, args), rtol, 50)
        assert_in_namespace(da1, xp)
        assert_in_namespace(db1, xp)
        assert int(k1) == int(k0) and 0 < int(k0) < 50
        x0 = np.concatenate([da0, db0])
        x1 = np.concatenate([to_np(da1), to_np(db1)])
        assert x1.dtype == dtype
        np.testing.assert_allclose(x1, x0, rtol=_rtol(dtype), atol=_rtol(dtype))
        np.testing.assert_allclose(x1, x_ref, rtol=1e-3 if dtype == np.float32 else 1e-8,
                                   atol=1e-4 if dtype == np.float32 else 1e-9)
        if dtype == np.float64:
            # the CSR kernel of the NumPy path solves the same system
            rows, cols = np.nonzero(S)
            indptr = np.concatenate([[0], np.cumsum(np.count_nonzero(S, axis=1))])
            da2, db2, _ = dispatch("ot_newton_cg", indptr.astype(np.int64),
                                   cols.astype(np.int64), S[rows, cols], r, c, ga, gb,
                                   1e-10, 50, engine="numpy")
            np.testing.assert_allclose(np.concatenate([da2, db2]), x0, rtol=1e-8,
                                       atol=1e-10)


CASES = {
    "sinkhorn_log_iterations": _sinkhorn_log_iterations,
    "ot_plan": _ot_plan,
    "ot_scale_plan": _ot_scale_plan,
    "ot_newton_cg_masked": _ot_newton_cg_masked,
}
