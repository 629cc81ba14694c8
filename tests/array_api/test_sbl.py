"""Sparse Bayesian learning on array-API arrays.

``sbl`` and ``sbl_posterior`` on ``array_api_strict``'s ``device1`` (any hidden conversion
to NumPy raises there) must give the NumPy run's results: the same iterations, pruning and
stopping, arrays of the namespace out, float32 kept. The Kronecker solver and operator are
follow the namespace too (but for the pattern-coupled prior); the Kronecker operator is a
SciPy LinearOperator and refuses such arrays with a clear TypeError.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparsopt.linalg import KroneckerOperator, kron_apply
from sparsopt.solvers import kronecker_posterior, kronecker_sbl, sbl, sbl_posterior
from tests._array_api import (
    NAMESPACES,
    array_api_dispatch,
    assert_in_namespace,
    namespace,
    to_np,
    to_xp,
)


def _problem(M, N, L=None, complex_=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M, N))
    if complex_:
        X = X + 1j * rng.standard_normal((M, N))
    shape = (N,) if L is None else (N, L)
    b = np.zeros(shape, dtype=X.dtype)
    b[[3, N // 2]] = rng.standard_normal((2,) + shape[1:]) + 1.0
    y = X @ b + 0.01 * rng.standard_normal((M,) if L is None else (M, L))
    return X, y


def _compare(r0, r1, xp, dtype):
    assert r1.n_iter == r0.n_iter
    assert r1.info["stopped_by"] == r0.info["stopped_by"]
    assert r1.converged == r0.converged
    for key in ("gamma", "sigma_diag", "active"):
        assert_in_namespace(r1.info[key], xp)
    assert_in_namespace(r1.x, xp)
    x1 = to_np(r1.x)
    assert x1.dtype == r0.x.dtype == dtype
    tol = 1e-5 if dtype in (np.float32, np.complex64) else 1e-9
    scale = max(1.0, float(np.abs(r0.x).max()))
    np.testing.assert_allclose(x1, r0.x, rtol=tol, atol=tol * scale)
    np.testing.assert_array_equal(to_np(r1.info["active"]), r0.info["active"])
    np.testing.assert_allclose(to_np(r1.info["gamma"]), r0.info["gamma"], rtol=1e-8,
                               atol=1e-12)
    np.testing.assert_allclose(to_np(r1.info["sigma_diag"]), r0.info["sigma_diag"],
                               rtol=1e-8, atol=1e-12)
    assert r1.info["n_active"] == r0.info["n_active"]
    assert r1.info["noise_variance"] == pytest.approx(r0.info["noise_variance"], rel=1e-8)
    h0 = [h["objective"] for h in r0.history]
    h1 = [h["objective"] for h in r1.history]
    np.testing.assert_allclose(h1, h0, rtol=1e-8)
    assert all(isinstance(h["noise_variance"], float) for h in r1.history)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(30, 60), (60, 20)], ids=["woodbury", "precision"])
@pytest.mark.parametrize("solver", ["em", "mackay"])
@pytest.mark.parametrize("stop", ["gamma", "coef"])
def test_sbl_matches_numpy(xp_name, dtype, shape, solver, stop):
    xp, dev = namespace(xp_name)
    X, y = _problem(*shape)
    X, y = X.astype(dtype), y.astype(dtype)
    kw = dict(solver=solver, stop=stop, lambda_1=1e-6, lambda_2=1e-6, alpha_1=1e-6,
              alpha_2=1e-6)
    r0 = sbl(X, y, **kw)
    r1 = sbl(to_xp(X, xp, dev), to_xp(y, xp, dev), **kw)
    _compare(r0, r1, xp, dtype)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_sbl_complex_snapshots_init_callback(xp_name):
    xp, dev = namespace(xp_name)
    X, Y = _problem(20, 40, L=3, complex_=True, seed=1)
    seen0, seen1 = [], []
    r0 = sbl(X, Y, init=np.full(40, 2.0), callback=lambda s: seen0.append(s.info["n_active"]))

    def cb(state):
        assert_in_namespace(state.x, xp)
        assert_in_namespace(state.info["gamma"], xp)
        assert_in_namespace(state.info["gamma_unpruned"], xp)
        seen1.append(state.info["n_active"])

    r1 = sbl(to_xp(X, xp, dev), to_xp(Y, xp, dev), init=np.full(40, 2.0), callback=cb)
    _compare(r0, r1, xp, np.complex128)
    assert seen0 == seen1
    # init given as an array of the namespace, known noise, early stop by max_iter
    kw = dict(learn_noise=False, noise_variance=0.1, max_iter=3)
    with pytest.warns(Warning, match="did not converge"):
        r0 = sbl(X, Y, **kw)
    with pytest.warns(Warning, match="did not converge"):
        r1 = sbl(to_xp(X, xp, dev), to_xp(Y, xp, dev), init=to_xp(np.ones(40), xp, dev), **kw)
    _compare(r0, r1, xp, np.complex128)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_sbl_edge_cases(xp_name):
    xp, dev = namespace(xp_name)
    X, _ = _problem(10, 8)
    r = sbl(to_xp(X, xp, dev), to_xp(np.zeros(10), xp, dev))
    assert r.info["stopped_by"] == "zero_targets" and r.n_iter == 0
    assert_in_namespace(r.x, xp)
    assert not np.any(to_np(r.x))
    with pytest.raises(ValueError, match="NaN"):
        sbl(to_xp(X, xp, dev), to_xp(np.full(10, np.nan), xp, dev))
    with pytest.raises(ValueError, match="rows"):
        sbl(to_xp(X, xp, dev), to_xp(np.ones(9), xp, dev))
    with pytest.raises(ValueError, match="init"):
        sbl(to_xp(X, xp, dev), to_xp(np.ones(10), xp, dev), init=-np.ones(8))
    with pytest.raises(TypeError, match="different libraries"):
        sbl(to_xp(X, xp, dev), np.ones(10))


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("shape", [(12, 20), (20, 12)], ids=["woodbury", "precision"])
def test_sbl_posterior_matches_numpy(xp_name, shape):
    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(3)
    X = rng.standard_normal(shape)
    y = rng.standard_normal((shape[0], 2))
    g = rng.random(shape[1]) + 0.1
    p0 = sbl_posterior(X, y, g, 0.3, full=True)
    gram = to_xp(X.T @ X, xp, dev)
    p1 = sbl_posterior(to_xp(X, xp, dev), to_xp(y, xp, dev), to_xp(g, xp, dev), 0.3,
                       gram=gram, full=True)
    for a, b in ((p1.mean, p0.mean), (p1.sdiag, p0.sdiag), (p1.cov, p0.cov)):
        assert_in_namespace(a, xp)
        np.testing.assert_allclose(to_np(a), b, rtol=1e-9, atol=1e-12)
    assert isinstance(p1.logdet, float) and isinstance(p1.rss, float)
    assert p1.logdet == pytest.approx(p0.logdet, rel=1e-10)
    assert p1.rss == pytest.approx(p0.rss, rel=1e-9)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_sbl_posterior_singular_falls_back(xp_name):
    """A singular system (Cholesky fails): the eigh pseudo-inverse, as SciPy's pinvh."""
    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(4)
    X = np.repeat(rng.standard_normal((10, 2)), 3, axis=1)
    y = np.ones((10, 1))
    g = np.full(6, 1e20)
    p0 = sbl_posterior(X, y, g, 1e-30)
    p1 = sbl_posterior(to_xp(X, xp, dev), to_xp(y, xp, dev), to_xp(g, xp, dev), 1e-30)
    np.testing.assert_allclose(to_np(p1.mean), p0.mean, rtol=1e-6, atol=1e-8)
    assert p1.logdet == pytest.approx(p0.logdet, rel=1e-10)


def _kron_problem(complex_=False, L=None, seed=2):
    rng = np.random.default_rng(seed)
    F = [rng.standard_normal((4, 6)), rng.standard_normal((5, 7))]
    if complex_:
        F[0] = F[0] + 1j * rng.standard_normal((4, 6))
    W = np.zeros((42,) if L is None else (42, L), dtype=F[0].dtype)
    W[[5, 20]] = rng.standard_normal((2,) + W.shape[1:]) + 1.0
    A = np.kron(F[0], F[1])
    return F, A @ W + 0.01 * rng.standard_normal((20,) + W.shape[1:])


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("solver", ["svd", "am"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kronecker_sbl_matches_numpy(xp_name, solver, dtype):
    xp, dev = namespace(xp_name)
    F, y = _kron_problem()
    F = [f.astype(dtype) for f in F]
    y = y.astype(dtype)
    r0 = kronecker_sbl(F, y, solver=solver)
    seen = []
    r1 = kronecker_sbl([to_xp(f, xp, dev) for f in F], to_xp(y, xp, dev), solver=solver,
                       callback=lambda s: seen.append(s.x))
    assert r1.n_iter == r0.n_iter and r1.info["stopped_by"] == r0.info["stopped_by"]
    assert r1.info["am_sweeps"] == r0.info["am_sweeps"]
    assert r1.info["n_active"] == r0.info["n_active"]
    assert_in_namespace(r1.x, xp)
    assert to_np(r1.x).dtype == dtype
    assert len(seen) == r1.n_iter - (r1.info["stopped_by"] == "tol") or len(seen) == r1.n_iter
    assert_in_namespace(seen[-1], xp)
    tol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(to_np(r1.x), r0.x, rtol=tol, atol=tol)
    for key in ("gamma", "sigma_diag"):
        assert_in_namespace(r1.info[key], xp)
        np.testing.assert_allclose(to_np(r1.info[key]), r0.info[key], rtol=1e-8, atol=1e-12)
    for a, b in zip(r1.info["active_factors"], r0.info["active_factors"]):
        np.testing.assert_array_equal(to_np(a), b)
    for a, b in zip(r1.info["gamma_factors"], r0.info["gamma_factors"]):
        np.testing.assert_allclose(to_np(a), b, rtol=1e-8, atol=1e-12)


@pytest.mark.filterwarnings("ignore:kronecker_sbl did not converge")  # max_iter=30, both runs
@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_kronecker_sbl_complex_init_and_edges(xp_name):
    xp, dev = namespace(xp_name)
    F, Y = _kron_problem(complex_=True, L=3)
    init = [np.linspace(0.5, 1.5, 6), np.linspace(1.0, 2.0, 7)]
    Fx = [to_xp(f, xp, dev) for f in F]
    for solver in ("svd", "am"):
        r0 = kronecker_sbl(F, Y, solver=solver, init=init, max_iter=30)
        r1 = kronecker_sbl(Fx, to_xp(Y, xp, dev), solver=solver, init=init, max_iter=30)
        assert r1.n_iter == r0.n_iter
        np.testing.assert_allclose(to_np(r1.x), r0.x, rtol=1e-8, atol=1e-10)
    r = kronecker_sbl(Fx, to_xp(np.zeros(20), xp, dev))
    assert r.info["stopped_by"] == "zero_targets" and to_np(r.x).shape == (42,)
    with pytest.raises(TypeError, match="coupling .* NumPy arrays only"):
        kronecker_sbl(Fx, to_xp(Y, xp, dev), solver="am", coupling=(0.5, 0.0))
    with pytest.raises(ValueError, match="shape"):
        kronecker_sbl(Fx, to_xp(np.ones(19), xp, dev))
    # one plain 2-D array: classical EM SBL on the namespace
    A, y = np.kron(F[0].real, F[1]), Y[:, 0].real
    r0 = kronecker_sbl(A, y, max_iter=100)
    r1 = kronecker_sbl(to_xp(A, xp, dev), to_xp(y, xp, dev), max_iter=100)
    assert r1.n_iter == r0.n_iter
    np.testing.assert_allclose(to_np(r1.x), r0.x, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_kronecker_posterior_and_apply(xp_name):
    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(0)
    F = [rng.standard_normal((3, 5)), rng.standard_normal((4, 6))]
    g = [rng.random(5) + 0.1, rng.random(6) + 0.1]
    y = rng.standard_normal((12, 2))
    Fx = [to_xp(f, xp, dev) for f in F]
    p0 = kronecker_posterior(F, g, y, 0.3)
    p1 = kronecker_posterior(Fx, [to_xp(a, xp, dev) for a in g], to_xp(y, xp, dev), 0.3)
    for a, b in ((p1.mean, p0.mean), (p1.sdiag, p0.sdiag)):
        assert_in_namespace(a, xp)
        np.testing.assert_allclose(to_np(a), b, rtol=1e-10, atol=1e-12)
    assert p1.logdet == pytest.approx(p0.logdet) and p1.rss == pytest.approx(p0.rss)
    for x in (np.arange(30.0), rng.standard_normal((30, 3))):
        out = kron_apply(Fx, to_xp(x, xp, dev))
        assert_in_namespace(out, xp)
        np.testing.assert_allclose(to_np(out), kron_apply(F, x), rtol=1e-12, atol=1e-12)
    with pytest.raises(TypeError, match="KroneckerOperator runs on NumPy arrays only"):
        KroneckerOperator(Fx)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("params", [
    {},
    dict(solver="mackay", compute_score=True, lambda_1=1e-6, lambda_2=1e-6, alpha_1=1e-6,
         alpha_2=1e-6),
    dict(fit_intercept=False, compute_score=True, threshold_lambda=1e4, prune_rtol=0.0),
], ids=["default", "mackay-score", "ard-rule"])
def test_sbl_regressor_under_dispatch(xp_name, dtype, params):
    from sparsopt.linear_model import SBLRegressor

    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20)).astype(dtype)
    y = (X[:, 2] - 2 * X[:, 7] + 0.01 * rng.standard_normal(50)).astype(dtype)
    e0 = SBLRegressor(**params).fit(X, y)
    m0, s0 = e0.predict(X[:5], return_std=True)
    with array_api_dispatch():
        e1 = SBLRegressor(**params).fit(to_xp(X, xp, dev), to_xp(y, xp, dev))
        m1, s1 = e1.predict(to_xp(X[:5], xp, dev), return_std=True)
        with pytest.raises(ValueError, match="same namespace"):
            e1.predict(X[:5])
    assert e1.n_iter_ == e0.n_iter_ and e1.converged_ == e0.converged_
    tol = 1e-5 if dtype == np.float32 else 1e-9
    for name in ("coef_", "gamma_", "sigma_", "lambda_", "active_", "X_offset_", "scores_",
                 "objective_history_"):
        got = getattr(e1, name)
        assert_in_namespace(got, xp)
        np.testing.assert_allclose(to_np(got), getattr(e0, name), rtol=tol, atol=1e-9,
                                   err_msg=name)
    assert to_np(e1.coef_).dtype == dtype
    for a, b in ((m1, m0), (s1, s0)):
        assert_in_namespace(a, xp)
        assert to_np(a).dtype == dtype
        np.testing.assert_allclose(to_np(a), b, rtol=tol, atol=tol)
    assert e1.intercept_ == pytest.approx(float(e0.intercept_), rel=tol, abs=1e-9)
    assert e1.noise_variance_ == pytest.approx(e0.noise_variance_, rel=1e-8)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kronecker_sbl_estimator(xp_name, dtype):
    from sparsopt.linear_model import KroneckerSBL

    xp, dev = namespace(xp_name)
    F, y = _kron_problem(L=2)
    F = [f.astype(dtype) for f in F]
    y = y.astype(dtype)
    Fx = [to_xp(f, xp, dev) for f in F]
    tol = 1e-5 if dtype == np.float32 else 1e-9

    def same(e1, e0):
        assert e1.n_iter_ == e0.n_iter_ and e1.n_features_in_ == e0.n_features_in_
        for name in ("coef_", "gamma_", "sigma_", "objective_history_"):
            got = getattr(e1, name)
            assert_in_namespace(got, xp)
            np.testing.assert_allclose(to_np(got), getattr(e0, name), rtol=tol, atol=1e-9,
                                       err_msg=name)
        assert to_np(e1.coef_).dtype == dtype
        for a, b in zip(e1.gamma_factors_, e0.gamma_factors_):
            assert_in_namespace(a, xp)
            np.testing.assert_allclose(to_np(a), b, rtol=tol, atol=1e-9)
        assert e1.factor_shapes_ == e0.factor_shapes_

    # a list of factors: no dispatch needed (the factors are not validated by scikit-learn)
    e0 = KroneckerSBL().fit(F, y)
    e1 = KroneckerSBL().fit(Fx, to_xp(y, xp, dev))
    same(e1, e0)
    pred = e1.predict(Fx)
    assert_in_namespace(pred, xp)
    np.testing.assert_allclose(to_np(pred), e0.predict(F), rtol=tol, atol=tol)
    # one plain 2-D array under array API dispatch
    A = np.kron(F[0], F[1])
    e0 = KroneckerSBL(max_iter=100).fit(A, y[:, 0])
    with array_api_dispatch():
        e1 = KroneckerSBL(max_iter=100).fit(to_xp(A, xp, dev), to_xp(y[:, 0], xp, dev))
        pred = e1.predict(to_xp(A[:5], xp, dev))
        with pytest.raises(ValueError, match="same namespace"):
            e1.predict(A[:5])
    same(e1, e0)
    assert_in_namespace(pred, xp)
    np.testing.assert_allclose(to_np(pred), e0.predict(A[:5]), rtol=tol, atol=tol)
