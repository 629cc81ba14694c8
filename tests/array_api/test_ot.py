"""sparsopt.ot on array-API arrays: the same transport as the NumPy run, in the namespace.

On ``array_api_strict``'s ``device1`` any hidden conversion to NumPy raises, so these
runs prove that the solver loops (Sinkhorn in the log and scaling domains, eps-scaling,
the unbalanced and matrix-scaling variants, Sinkhorn-Newton-Sparse with its masked
Hessian and CG) stay in the input's namespace.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sparsopt.exceptions import ConvergenceWarning, NonFiniteIterateWarning
from sparsopt.ot import (
    OTResult,
    SinkhornTransport,
    cost_matrix,
    sinkhorn,
    sinkhorn_knopp_scaling,
    sinkhorn_newton_sparse,
    sinkhorn_unbalanced,
    wasserstein_distance,
)
from tests._array_api import (
    NAMESPACES,
    array_api_dispatch,
    assert_in_namespace,
    namespace,
    to_np,
    to_xp,
)

pytestmark = pytest.mark.parametrize("xp_name", NAMESPACES)


def _problem(n=10, m=8, seed=0, zeros=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(m, 2)) + 0.5
    M = cost_matrix(x, y, normalize="max")
    a = rng.random(n) + 0.1
    b = rng.random(m) + 0.1
    if zeros:
        a[1] = 0.0
        b[-1] = 0.0
    return a / a.sum(), b / b.sum(), M


def _close(res_ns, res_np, xp, *, rtol=1e-9, atol=1e-12, n_iter=True, gauge=False):
    """The namespace result matches the NumPy one and lives in the namespace.

    ``gauge``: the potentials are compared up to the constant ``(f + t, g - t)`` that
    leaves the plan unchanged (Newton steps move along it with their CG rounding).
    """
    assert isinstance(res_ns, OTResult)
    shift = 0.0
    if gauge:
        with np.errstate(invalid="ignore"):  # -inf - -inf on zero masses
            df = to_np(res_ns.f) - res_np.f
        df = np.where(np.isfinite(df), df, np.nan)
        shift = np.nanmean(df, axis=-1, keepdims=True)
    for name in ("plan", "f", "g"):
        arr = getattr(res_ns, name)
        assert_in_namespace(arr, xp)
        ref = getattr(res_np, name)
        got = to_np(arr)
        if name != "plan" and gauge:
            got = got - shift if name == "f" else got + shift
        assert got.dtype == ref.dtype and got.shape == ref.shape, name
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=name)
    assert res_ns.x is res_ns.plan
    np.testing.assert_allclose(res_ns.cost, res_np.cost, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(res_ns.objective, res_np.objective, rtol=1e-7, atol=1e-12)
    assert np.all(np.asarray(res_ns.converged) == np.asarray(res_np.converged))
    if n_iter:
        assert np.all(np.asarray(res_ns.n_iter) == np.asarray(res_np.n_iter))
    assert res_ns.stopped_by == res_np.stopped_by


@pytest.mark.parametrize("kw", [
    dict(reg=0.05),
    dict(reg=0.05, solver="scaling"),
    dict(reg=0.01, eps_scaling=3.0, max_iter=3000),
], ids=["log", "scaling", "eps_scaling"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sinkhorn_matches_numpy(xp_name, kw, dtype):
    xp, dev = namespace(xp_name)
    a, b, M = _problem()
    M = M.astype(dtype)
    kw = dict(kw)
    reg = kw.pop("reg")
    ref = sinkhorn(a, b, M, reg, engine="numpy", **kw)
    res = sinkhorn(to_xp(a, xp, dev), to_xp(b, xp, dev), to_xp(M, xp, dev), reg, **kw)
    assert res.plan.dtype == (xp.float32 if dtype == np.float32 else xp.float64)
    assert bool(res.converged)
    _close(res, ref, xp, rtol=1e-6 if dtype == np.float32 else 1e-9)
    # the default NumPy run (Numba kernels) agrees too
    _close(res, sinkhorn(a, b, M, reg, **kw), xp,
           rtol=1e-6 if dtype == np.float32 else 1e-8, atol=1e-10)


def test_sinkhorn_batch_zero_mass_warm_start_callback(xp_name):
    xp, dev = namespace(xp_name)
    a1, b1, M1 = _problem(seed=1, zeros=True)
    a2, b2, M2 = _problem(seed=2)
    A, B, M = np.stack([a1, a2]), np.stack([b1, b2]), np.stack([M1, M2])
    X = lambda z: to_xp(z, xp, dev)  # noqa: E731
    ref = sinkhorn(A, B, M, 0.05, engine="numpy")
    res = sinkhorn(X(A), X(B), X(M), 0.05)
    _close(res, ref, xp)
    f = to_np(res.f)
    assert f[0, 1] == -np.inf and np.all(to_np(res.plan)[0, 1] == 0.0)
    # a warm start from the namespace result (-inf potentials on the zero masses)
    ref2 = sinkhorn(A, B, M, 0.05, init=ref, engine="numpy")
    res2 = sinkhorn(X(A), X(B), X(M), 0.05, init=res)
    _close(res2, ref2, xp)
    assert int(res2.n_iter[0]) < int(res.n_iter[0])
    # the callback sees namespace potentials and stops the run
    seen = []

    def stop(state):
        f, g = state.x
        assert_in_namespace(f, xp)
        seen.append(state.iteration)
        return True

    out = sinkhorn(X(a2), X(b2), X(M2), 0.05, callback=stop)
    assert seen == [10] and out.stopped_by == "callback" and not out.converged
    assert_in_namespace(out.plan, xp)


def test_scaling_overflow_rolls_back_in_namespace(xp_name):
    # the scalings overflow: the potentials of the last finite check, as with NumPy
    xp, dev = namespace(xp_name)
    M = np.array([[0.0, 0.55], [0.6, 0.7]])
    with pytest.warns(NonFiniteIterateWarning):
        ref = sinkhorn(None, None, M, 1 / 1200, solver="scaling")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy-backed array_api_strict
        with pytest.warns(NonFiniteIterateWarning):
            res = sinkhorn(None, None, to_xp(M, xp, dev), 1 / 1200, solver="scaling")
    assert res.stopped_by == "nonfinite" and not res.converged
    _close(res, ref, xp)


def test_sinkhorn_unbalanced_and_knopp(xp_name):
    xp, dev = namespace(xp_name)
    a, b, M = _problem()
    X = lambda z: to_xp(z, xp, dev)  # noqa: E731
    ref = sinkhorn_unbalanced(a, 2 * b, M, 0.05, 1.0, engine="numpy")
    res = sinkhorn_unbalanced(X(a), X(2 * b), X(M), 0.05, 1.0)
    _close(res, ref, xp)
    K = np.exp(-M / 0.2)
    ref = sinkhorn_knopp_scaling(K, engine="numpy")
    res = sinkhorn_knopp_scaling(X(K))
    assert_in_namespace(res.x, xp)
    assert_in_namespace(res.info["col_scaling"], xp)
    np.testing.assert_allclose(to_np(res.x), ref.x, rtol=1e-12)
    assert res.n_iter == ref.n_iter and res.converged and res.stop_crit <= 1e-12


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sinkhorn_newton_sparse_matches_numpy(xp_name, dtype):
    xp, dev = namespace(xp_name)
    a, b, M = _problem(n=14, m=11, seed=3)
    M = M.astype(dtype)
    X = lambda z: to_xp(z, xp, dev)  # noqa: E731
    ref = sinkhorn_newton_sparse(a, b, M, 0.02, engine="numpy")
    res = sinkhorn_newton_sparse(X(a), X(b), X(M), 0.02)
    assert ref.converged and res.converged and res.marginal_error <= 1e-6
    # the NumPy run solves the Newton systems with a CSR CG kernel, the namespace run
    # with a dense masked one: the same steps up to the rounding of the CG products,
    # hence the same plan but possibly one more or less Newton step near the end
    _close(res, ref, xp, rtol=1e-6 if dtype == np.float32 else 1e-8, atol=1e-10,
           n_iter=False, gauge=True)
    assert abs(res.n_iter - ref.n_iter) <= 2
    assert res.info["n_sinkhorn"] == ref.info["n_sinkhorn"]
    assert res.info["n_newton"] >= 1


def test_sns_eps_scaling_batch_and_distance(xp_name):
    xp, dev = namespace(xp_name)
    a1, b1, M1 = _problem(n=9, m=7, seed=4, zeros=True)
    a2, b2, M2 = _problem(n=9, m=7, seed=5)
    A, B, M = np.stack([a1, a2]), np.stack([b1, b2]), np.stack([M1, M2])
    X = lambda z: to_xp(z, xp, dev)  # noqa: E731
    ref = sinkhorn_newton_sparse(A, B, M, 2e-4, engine="numpy")  # eps-scaling ("auto")
    res = sinkhorn_newton_sparse(X(A), X(B), X(M), 2e-4)
    _close(res, ref, xp, rtol=1e-6, atol=1e-9, n_iter=False, gauge=True)
    assert all(res.converged)
    d_ref = wasserstein_distance(a2, b2, M2, 0.05, solver="sinkhorn")
    d = wasserstein_distance(X(a2), X(b2), X(M2), 0.05, solver="sinkhorn")
    assert isinstance(d, float) and d == pytest.approx(d_ref, rel=1e-10)
    d_ref = wasserstein_distance(a2, b2, M2, 0.05)
    assert wasserstein_distance(X(a2), X(b2), X(M2), 0.05) == pytest.approx(d_ref, rel=1e-8)


def test_cost_matrix_in_namespace(xp_name):
    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    for metric in ("sqeuclidean", "euclidean"):
        M = cost_matrix(to_xp(x, xp, dev), to_xp(y, xp, dev), metric, normalize="max")
        assert_in_namespace(M, xp)
        np.testing.assert_allclose(to_np(M), cost_matrix(x, y, metric, normalize="max"),
                                   rtol=1e-12, atol=1e-14)
    with pytest.raises(TypeError, match="metric='cityblock' runs on NumPy arrays only"):
        cost_matrix(to_xp(x, xp, dev), to_xp(y, xp, dev), "cityblock")


def test_clear_errors(xp_name):
    xp, dev = namespace(xp_name)
    a, b, M = _problem()
    with pytest.raises(TypeError, match="different libraries"):
        sinkhorn(a, b, to_xp(M, xp, dev), 0.1)
    bad = M.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="M contains NaN"):
        sinkhorn(None, None, to_xp(bad, xp, dev), 0.1)
    with pytest.raises(ValueError, match="different total masses"):
        sinkhorn(to_xp(a, xp, dev), to_xp(2 * b, xp, dev), to_xp(M, xp, dev), 0.1)
    res = sinkhorn(None, None, to_xp(M, xp, dev), 0.1)
    with pytest.raises(TypeError, match="same library as init"):
        sinkhorn(None, None, M, 0.1, init=res)
    with pytest.raises(ValueError, match="negative mass"):
        sinkhorn(to_xp(-a, xp, dev), None, to_xp(M, xp, dev), 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            sinkhorn(None, None, to_xp(M, xp, dev), 0.01, max_iter=3)


_FITTED = ("coupling_", "cost_", "xs_", "xt_", "mu_s_", "mu_t_", "f_", "g_")


@pytest.mark.parametrize("params", [
    dict(reg_e=0.1),
    dict(reg_e=0.05, solver="sinkhorn", norm="max", metric="euclidean"),
    dict(reg_e=0.1, norm="log", out_of_sample_map="ferradans"),
], ids=["sns", "sinkhorn-max", "ferradans-log"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sinkhorn_transport_in_namespace(xp_name, params, dtype):
    ctx = array_api_dispatch()
    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(20, 3)).astype(dtype)
    Xt = (rng.normal(size=(16, 3)) + 1.0).astype(dtype)
    ys, yt = rng.integers(0, 3, 20), rng.integers(-1, 3, 16)
    w = rng.random(20) + 0.1
    X = lambda z: to_xp(z, xp, dev)  # noqa: E731
    ref = SinkhornTransport(**params).fit(Xs, Xt=Xt, ys=ys, yt=yt, sample_weight=w)
    Xnew = Xs[:6] + dtype(0.1)
    with ctx:
        est = SinkhornTransport(**params).fit(X(Xs), Xt=X(Xt), ys=X(ys), yt=X(yt),
                                              sample_weight=X(w))
        out = {"transform": est.transform(X(Xnew)),
               "inverse_transform": est.inverse_transform(X(Xt[:5])),
               "transform_labels": est.transform_labels(X(ys)),
               "inverse_transform_labels": est.inverse_transform_labels(yt)}  # host labels
    sns = params.get("solver", "sns") == "sns"
    rtol = 1e-6 if (sns or dtype == np.float32) else 1e-9
    # SNS potentials agree up to the constant (f + t, g - t) of the plan (see _close)
    shift = float(np.mean(to_np(est.f_) - ref.f_)) if sns else 0.0
    for name in _FITTED:
        got = getattr(est, name)
        assert_in_namespace(got, xp)
        got = to_np(got) - {"f_": shift, "g_": -shift}.get(name, 0.0)
        np.testing.assert_allclose(got, getattr(ref, name), rtol=rtol, atol=1e-8,
                                   err_msg=name)
    assert est.converged_ and (est.n_iter_ == ref.n_iter_ or sns)
    refs = {"transform": ref.transform(Xnew), "inverse_transform": ref.inverse_transform(Xt[:5]),
            "transform_labels": ref.transform_labels(ys),
            "inverse_transform_labels": ref.inverse_transform_labels(yt)}
    for name, got in out.items():
        assert_in_namespace(got, xp)
        got = to_np(got)
        assert got.dtype == refs[name].dtype, name
        np.testing.assert_allclose(got, refs[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_sinkhorn_transport_clear_errors(xp_name):
    ctx = array_api_dispatch()
    xp, dev = namespace(xp_name)
    X_np = np.random.default_rng(0).normal(size=(12, 2))
    X = to_xp(X_np, xp, dev)
    with ctx:
        with pytest.raises(TypeError, match="metric='cityblock' runs on NumPy arrays only"):
            SinkhornTransport(metric="cityblock").fit(X)
        with pytest.raises(TypeError, match="norm='median' runs on NumPy arrays only"):
            SinkhornTransport(norm="median").fit(X)
        est = SinkhornTransport(reg_e=0.5).fit(X)
        with pytest.raises(ValueError, match="same namespace"):
            est.transform(X_np)
