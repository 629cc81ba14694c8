import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from sparsopt.datasets import make_sparse_coding_problem
from sparsopt.decomposition import sparse_encode
from sparsopt.exceptions import NonFiniteIterateWarning
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


# ----------------------------------------------------------------------------- one road


ITERATIVE = [
    (cd, {}), (ista, {}), (fista, {}), (lca, {"eta": 0.5}),
    (iht, {"n_nonzero_coefs": 3}), (iht, {"alpha": 0.01}),
]


@pytest.mark.parametrize("solver, kw", ITERATIVE)
def test_callback_true_stops_after_one_check(data, solver, kw):
    X, D, _ = data
    calls = []

    def stop(state):
        calls.append(state)
        return True

    res = solver(X, D / 1.5, callback=stop, tol=0.0, max_iter=500, **kw)
    assert len(calls) == 1 and res.converged is False and res.stopped_by == "callback"
    assert res.x.shape == (X.shape[0], D.shape[0]) and np.all(np.isfinite(res.x))
    state = calls[0]
    assert state.iteration == res.n_iter and state.x.shape == res.x.shape


@pytest.mark.parametrize("solver, kw", ITERATIVE)
def test_verbose_prints_one_line_per_check(data, solver, kw, capsys):
    X, D, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        solver(X, D / 1.5, verbose=1, tol=0.0, max_iter=20, check_every=10, **kw)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(solver.__name__) and len(lines) == 3  # header + 2 checks


def test_cd_checked_run_matches_fast_path(data):
    # with a callback, cd runs its kernel in chunks of check_every epochs, resuming from
    # the codes: same codes (to the tolerance), same epochs up to one per chunk boundary
    X, D, _ = data
    fast = cd(X, D, penalty="mcp", alpha=0.1, tol=1e-10)
    seen = []
    checked = cd(X, D, penalty="mcp", alpha=0.1, tol=1e-10, check_every=7,
                 callback=lambda s: seen.append((s.iteration, s.stop_crit, s.objective)))
    assert checked.converged and checked.stopped_by == "tol"
    np.testing.assert_allclose(checked.x, fast.x, atol=1e-7)
    assert [it for it, _, _ in seen] == list(range(7, 7 * len(seen) + 1, 7))
    crits = [c for _, c, _ in seen]
    assert crits == sorted(crits, reverse=True)  # unconverged samples only decrease
    per = checked.info["n_iter_per_sample"]
    assert np.all(np.abs(per - fast.info["n_iter_per_sample"]) <= per // 7 + 1)
    np.testing.assert_allclose(checked.objective, fast.objective, rtol=1e-9)


def test_cd_max_iter_warns_once_in_both_paths(data):
    X, D, _ = data
    for kw in ({}, {"callback": lambda s: False, "check_every": 2}):
        with pytest.warns(ConvergenceWarning) as rec:
            res = cd(X, D, alpha=0.05, tol=0.0, max_iter=5, **kw)
        assert len([w for w in rec if issubclass(w.category, ConvergenceWarning)]) == 1
        assert not res.converged and res.stopped_by == "max_iter" and res.n_iter == 5


@pytest.mark.parametrize("solver, kw", [
    (cd, {"penalty": "mcp", "alpha": 0.1}), (ista, {"alpha": 0.1}), (fista, {"alpha": 0.1}),
    (lca, {"alpha": 0.1, "eta": 0.5}), (iht, {"n_nonzero_coefs": 3}),
])
def test_n_jobs_row_blocks_give_the_same_codes(data, solver, kw):
    X, D, _ = data
    one = solver(X, D / 1.5, tol=1e-10, max_iter=20000, **kw)
    two = solver(X, D / 1.5, tol=1e-10, max_iter=20000, n_jobs=2, **kw)
    np.testing.assert_allclose(two.x, one.x, atol=1e-6)
    assert two.converged
    assert two.info["objective_per_sample"].shape == (X.shape[0],)


def test_positivity_is_a_constraint_of_the_penalty(data):
    X, D, _ = data
    pen = MCP(0.1, gamma=3.0) + Positive()
    for solver in (cd, fista):
        res = solver(X, D, penalty=pen, tol=1e-10, max_iter=20000)
        assert np.all(res.x >= 0) and np.any(res.x > 0)
    with pytest.raises(TypeError):
        cd(X, D, alpha=0.1, positive=True)  # the flag is gone from solver functions


def test_cd_rejects_group_penalty_with_one_error(data):
    X, D, _ = data
    with pytest.raises(TypeError, match="cd needs a separable penalty.*GroupL21.*fista"):
        cd(X, D, penalty=GroupL21(0.1, groups=4))


def test_cd_nonfinite_rolls_back_to_init(data, monkeypatch):
    import sparsopt.solvers.coding.cd as cd_module

    def nan_kernel(op, G, B, C, *args, engine=None):
        C[...] = np.nan

    X, D, _ = data
    monkeypatch.setattr(cd_module, "dispatch", nan_kernel)
    init = np.full((X.shape[0], D.shape[0]), 0.01)
    for kw in ({}, {"callback": lambda s: False}):
        with pytest.warns(NonFiniteIterateWarning):
            res = cd(X, D, alpha=0.1, init=init, **kw)
        assert res.stopped_by == "nonfinite" and not res.converged
        np.testing.assert_array_equal(res.x, init)


def test_encode_auto_decides_from_the_spec(data):
    X, D, _ = data
    cases = [({}, "lars"), ({"penalty": L1(0.1) + Positive()}, "lars"),
             ({"penalty": "mcp"}, "cd"), ({"penalty": "elasticnet"}, "cd"),
             ({"penalty": GroupL21(0.05, groups=4)}, "fista"), ({"penalty": "cel0"}, "fista"),
             ({"n_nonzero_coefs": 3}, "omp")]
    for kw, solver in cases:
        res = encode(X, D, **{"alpha": 0.05, "max_iter": 5000, **kw})
        assert res.info["solver"] == solver, kw
        np.testing.assert_array_equal(
            res.x, sparse_encode(X, D, **{"alpha": 0.05, "max_iter": 5000, **kw}))


def test_sparse_encode_positive_maps_to_the_constraint(data):
    X, D, _ = data
    for solver in ("lars", "cd", "fista"):
        a = sparse_encode(X, D, alpha=0.1, solver=solver, positive=True, tol=1e-10,
                          max_iter=20000)
        b = encode(X, D, penalty=L1(0.1) + Positive(), solver=solver, tol=1e-10,
                   max_iter=20000).x
        np.testing.assert_array_equal(a, b)
        assert np.all(a >= 0)
    for solver in ("omp", "iht"):
        with pytest.raises(ValueError, match="not supported"):
            sparse_encode(X, D, n_nonzero_coefs=3, solver=solver, positive=True)


def test_encode_callback_reaches_the_solver_and_direct_solvers_refuse_it(data):
    X, D, _ = data
    res = encode(X, D, penalty="mcp", alpha=0.1, callback=lambda s: True)
    assert res.stopped_by == "callback" and res.info["solver"] == "cd"
    for solver in ("lars", "omp"):
        with pytest.raises(ValueError, match="direct"):
            encode(X, D, alpha=0.1, solver=solver, n_nonzero_coefs=3,
                   callback=lambda s: True)


@pytest.mark.parametrize("solver", [ista, fista])
def test_float32_zero_codes_are_not_a_nonfinite_stop(solver):
    """A row whose codes stay 0 gives a 0/0 relative change unless the stopping value is
    computed in float64 (NumPy 1.x rounded ``tiny`` to 0 in a float32 maximum: the solver
    stopped at iteration 0 with a false NonFiniteIterateWarning)."""
    rng = np.random.default_rng(0)
    D = rng.standard_normal((6, 10)).astype(np.float32)
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = np.vstack([rng.standard_normal((3, 10)), np.zeros((1, 10))]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteIterateWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solver(X, D, alpha=0.1, max_iter=20, tol=0.0, check_every=1)
    assert res.n_iter == 20 and res.info["stopped_by"] == "max_iter"
    assert res.x.dtype == np.float32 and not res.x[3].any() and res.x[:3].any()
