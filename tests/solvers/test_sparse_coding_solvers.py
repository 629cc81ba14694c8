import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from sparsopt.datasets import make_sparse_coding_problem
from sparsopt.penalties import (
    CEL0,
    L0,
    L1,
    MCP,
    SCAD,
    ElasticNet,
    GroupL21,
    Log,
    Lq,
    Positive,
)
from sparsopt.solvers import cd, encode, fista, iht, ista, lca


@pytest.fixture(scope="module")
def data():
    X, D, C = make_sparse_coding_problem(40, 24, 48, 4, noise=0.05, random_state=3)
    return X, D, C


def objective(X, D, C, pen):
    return 0.5 * np.sum((X - C @ D) ** 2, axis=1) + pen.value(C, per_row=True)


def sklearn_lasso_codes(X, D, alpha, positive=False):
    n_features = X.shape[1]
    las = Lasso(alpha=alpha / n_features, fit_intercept=False, tol=1e-14, max_iter=10**6,
                positive=positive)
    return las.fit(D.T, X.T).coef_


@pytest.mark.parametrize("solver, kw", [
    (cd, {"tol": 1e-12}),
    (fista, {"tol": 1e-12, "max_iter": 50000}),
    (ista, {"tol": 1e-12, "max_iter": 200000, "check_every": 50}),
    (lca, {"tol": 1e-12, "max_iter": 200000, "eta": 0.5, "check_every": 50}),
])
def test_l1_objective_matches_sklearn_lasso(data, solver, kw):
    X, D, _ = data
    alpha = 0.2
    Dl = D / 1.2 if solver is lca else D  # LCA needs step 1 below 1/||D||^2
    ref = sklearn_lasso_codes(X, Dl, alpha)
    res = solver(X, Dl, penalty="l1", alpha=alpha, **kw)
    f_ours = objective(X, Dl, res.x, L1(alpha))
    f_ref = objective(X, Dl, ref, L1(alpha))
    np.testing.assert_allclose(f_ours, f_ref, rtol=1e-8)
    assert res.converged


def test_positive_matches_sklearn(data):
    X, D, _ = data
    ref = sklearn_lasso_codes(X, D, 0.1, positive=True)
    for solver in (cd, fista):
        res = solver(X, D, penalty=L1(0.1) + Positive(), tol=1e-12, max_iter=50000)
        assert np.all(res.x >= 0)
        np.testing.assert_allclose(objective(X, D, res.x, L1(0.1)),
                                   objective(X, D, ref, L1(0.1)), rtol=1e-8)


def test_elastic_net_cd_matches_fista(data):
    X, D, _ = data
    pen = ElasticNet(0.3, l1_ratio=0.6)
    a = cd(X, D, penalty=pen, tol=1e-13).x
    b = fista(X, D, penalty=pen, tol=1e-13, max_iter=50000).x
    np.testing.assert_allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("pen", [MCP(0.2, gamma=3.0), SCAD(0.2), Lq(0.05, q=0.5),
                                 Lq(0.05, q=2 / 3), Log(0.05, eps=0.1), L0(0.02)],
                         ids=repr)
def test_nonconvex_cd_reaches_coordinatewise_fixed_points(data, pen):
    # CD stops at points where every coordinate is its own exact 1-D minimizer.
    X, D, _ = data
    res = cd(X, D, penalty=pen, tol=1e-12, max_iter=5000)
    C = res.x
    G, B = D @ D.T, X @ D.T
    q = B - C @ G
    diag = np.diag(G)
    for j in range(D.shape[0]):
        z = C[:, j] + q[:, j] / diag[j]
        np.testing.assert_allclose(pen.prox(z, 1.0 / diag[j]), C[:, j], atol=1e-7)


def test_cel0_auto_uses_gradient_steps_which_beat_exact_coordinate_steps():
    # Documented design choice of sparse_encode(solver="auto") for CEL0.
    from sparsopt.decomposition import sparse_encode

    X, D, _ = make_sparse_coding_problem(100, 64, 256, 8, noise=0.1, random_state=0)
    pen = CEL0(0.0105, a=np.linalg.norm(D, axis=1))
    res = encode(X, D, penalty=pen, max_iter=3000, tol=1e-8)
    assert "restarts" in res.info and res.info["solver"] == "fista"
    np.testing.assert_array_equal(
        res.x, sparse_encode(X, D, penalty=pen, max_iter=3000, tol=1e-8))
    r_cd = cd(X, D, penalty=pen, tol=1e-8, max_iter=3000)
    assert objective(X, D, res.x, pen).sum() < 0.7 * objective(X, D, r_cd.x, pen).sum()


def test_group_penalty_runs_with_fista(data):
    X, D, _ = data
    res = fista(X, D, penalty=GroupL21(0.5, groups=4), tol=1e-10, max_iter=20000)
    blocks = np.linalg.norm(res.x.reshape(res.x.shape[0], -1, 4), axis=2)
    assert res.converged and np.mean(blocks == 0) > 0.3
    with pytest.raises(TypeError, match="separable"):
        cd(X, D, penalty=GroupL21(0.5, groups=4))


def test_iht_fixed_k_recovers_noiseless_support():
    X, D, C = make_sparse_coding_problem(60, 64, 128, 4, noise=0.0, random_state=1)
    res = iht(X, D, n_nonzero_coefs=4, max_iter=1000, tol=1e-10)
    assert np.all(np.count_nonzero(res.x, axis=1) <= 4)
    assert np.mean(np.all((res.x != 0) == (C != 0), axis=1)) >= 0.95
    res_c = iht(X, D, n_nonzero_coefs=4, step=0.5 / np.linalg.norm(D, 2) ** 2, max_iter=3000)
    assert np.all(np.count_nonzero(res_c.x, axis=1) <= 4)


def test_iht_penalized_is_ista_with_l0(data):
    X, D, _ = data
    mu = 0.9 / np.linalg.norm(D, 2) ** 2
    a = iht(X, D, alpha=0.02, step=mu, max_iter=300, tol=1e-9).x
    b = ista(X, D, penalty=L0(0.02), step=mu, max_iter=300, tol=1e-9).x
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver", [cd, fista, ista, lca, iht])
def test_float32_in_float32_out(data, solver):
    X, D, _ = data
    kw = {"n_nonzero_coefs": 3} if solver is iht else {"alpha": 0.2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solver(X.astype(np.float32), (D / 1.2).astype(np.float32), max_iter=200, **kw)
    assert res.x.dtype == np.float32


def test_nonconvergence_warns_once(data):
    X, D, _ = data
    for solver in (cd, fista):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            res = solver(X, D, alpha=0.01, max_iter=2, tol=1e-15)
        assert sum(issubclass(w.category, ConvergenceWarning) for w in rec) == 1
        assert not res.converged


@pytest.mark.parametrize("call, match", [
    (lambda X, D: cd(np.full_like(X, np.nan), D), "X contains NaN"),
    (lambda X, D: cd(X, D[:, :-1]), "features"),
    (lambda X, D: fista(X, D, alpha=-1.0), "alpha must be >= 0"),
    (lambda X, D: ista(X, D, penalty="l7"), "Unknown penalty"),
    (lambda X, D: ista(X, D, penalty=CEL0(0.1), step=2.0), r"a\*\*2 \* step < 1"),
    (lambda X, D: lca(X, D, penalty=CEL0(0.1)), r"a\*\*2 \* step < 1"),
    (lambda X, D: lca(X, D, eta=1.5), "eta must be"),
    (lambda X, D: iht(X, D, n_nonzero_coefs=3, alpha=0.1), "not both"),
    (lambda X, D: iht(X, D, n_nonzero_coefs=10**6), "exceeds n_components"),
    (lambda X, D: iht(X, D, step="fast"), "step must be"),
    (lambda X, D: cd(X, D, init=np.zeros((2, 2))), "init must have shape"),
    (lambda X, D: cd(X, D, gram=np.eye(3)), "gram must have shape"),
    (lambda X, D: cd(X, D, penalty=CEL0(0.1, a=3.0)), "atoms"),
    (lambda X, D: fista(X[0], D), "X must have 2"),
])
def test_bad_input_names_the_parameter(data, call, match):
    X, D, _ = data
    with pytest.raises((ValueError, TypeError), match=match):
        call(X, D)


def test_warm_start_converges_immediately(data):
    X, D, _ = data
    first = cd(X, D, alpha=0.2, tol=1e-12)
    again = cd(X, D, alpha=0.2, tol=1e-12, init=first.x)
    assert again.n_iter <= 2
