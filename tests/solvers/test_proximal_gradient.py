import warnings

import numpy as np
import pytest
from sklearn.linear_model import Lasso

from sparsopt.datasets import make_sparse_signal
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.penalties import CEL0, L0, L1, MCP, ElasticNet, GroupL21
from sparsopt.solvers import proximal_gradient
from tests._sklearn_compat import sk_l1_logistic


@pytest.fixture
def problem():
    return make_sparse_signal(60, 40, 5, noise=0.01, random_state=0)


@pytest.mark.parametrize("accelerated", [True, False])
def test_l1_matches_sklearn_lasso_objective(problem, accelerated):
    A, y, _ = problem
    n = A.shape[0]
    alpha = 0.01
    res = proximal_gradient(A, y, penalty=L1(alpha), tol=1e-10, max_iter=50000,
                            accelerated=accelerated)
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=10**6).fit(A, y)

    def obj(x):
        return 0.5 / n * np.sum((y - A @ x) ** 2) + alpha * np.abs(x).sum()

    assert res.converged
    assert abs(obj(res.x) - obj(ref.coef_)) <= 1e-8 * obj(ref.coef_)
    np.testing.assert_allclose(res.x, ref.coef_, atol=1e-6)


def test_elastic_net_matches_sklearn(problem):
    from sklearn.linear_model import ElasticNet as SkEN

    A, y, _ = problem
    res = proximal_gradient(A, y, penalty=ElasticNet(0.02, l1_ratio=0.7), tol=1e-11,
                            max_iter=50000)
    ref = SkEN(alpha=0.02, l1_ratio=0.7, fit_intercept=False, tol=1e-14,
               max_iter=10**6).fit(A, y)
    np.testing.assert_allclose(res.x, ref.coef_, atol=1e-6)


def test_logistic_l1_matches_sklearn():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((80, 10))
    y = np.sign(A[:, 0] - 0.5 * A[:, 1] + 0.3 * rng.standard_normal(80))
    C = 0.5
    res = proximal_gradient(A, y, loss="logistic", penalty=L1(1.0 / (C * len(y))), tol=1e-10,
                            max_iter=100000)
    ref = sk_l1_logistic(C, solver="saga", fit_intercept=False, tol=1e-12,
                         max_iter=100000).fit(A, y)
    np.testing.assert_allclose(res.x, ref.coef_.ravel(), atol=1e-4)


def test_multinomial_group_lasso_shapes_and_sparsity():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((90, 12))
    y = np.argmax(A[:, :3] + 0.1 * rng.standard_normal((90, 3)), axis=1)
    res = proximal_gradient(A, y, loss="multinomial",
                            penalty=GroupL21(8.0 / 90, groups=3, weights=[1.0]),  # rows = features
                            tol=1e-8, max_iter=20000)
    assert res.x.shape == (12, 3)
    row_norms = np.linalg.norm(res.x, axis=1)
    assert np.all(row_norms[3:] < 1e-8) and np.all(row_norms[:3] > 1e-3)


def test_float32_preserved(problem):
    A, y, _ = problem
    res = proximal_gradient(A.astype(np.float32), y.astype(np.float32), penalty=L1(0.1 / 60),
                            tol=1e-5)
    assert res.x.dtype == np.float32


@pytest.mark.parametrize("pen", [MCP(0.05, gamma=3.0), L0(0.002)])
def test_nonconvex_uses_monotone_ista_and_decreases(problem, pen):
    A, y, _ = problem
    A = A * np.sqrt(A.shape[0])  # standardised columns (||x_j||^2 = n): MCP's gamma > step holds
    res = proximal_gradient(A, y, penalty=pen, tol=1e-9, max_iter=20000, check_every=1)
    assert res.info["accelerated"] is False
    objs = np.array([h["objective"] for h in res.history])
    assert np.all(np.diff(objs) <= 1e-12 * np.abs(objs[:-1]))


def test_cel0_step_condition_error(problem):
    A, y, _ = problem
    with pytest.raises(ValueError, match=r"a\*\*2 \* step < 1"):
        proximal_gradient(A, y, penalty=CEL0(0.1, a=1.0), step=1.5 * 60)


def test_warns_once_and_returns_best_effort(problem):
    A, y, _ = problem
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = proximal_gradient(A, y, penalty=L1(0.01 / 60), max_iter=3, tol=1e-14)
    assert sum(issubclass(w.category, ConvergenceWarning) for w in rec) == 1
    assert not res.converged and res.n_iter == 3


def test_callback_can_stop(problem):
    A, y, _ = problem
    res = proximal_gradient(A, y, penalty=L1(0.01 / 60), tol=0.0, max_iter=1000, check_every=2,
                            callback=lambda st: st.iteration >= 10)
    assert res.n_iter == 10 and res.info["stopped_by"] == "callback"


def test_divergent_step_is_rolled_back(problem):
    from sparsopt.exceptions import NonFiniteIterateWarning

    A, y, _ = problem
    with pytest.warns(NonFiniteIterateWarning):
        res = proximal_gradient(A, y * 1e10, penalty=L1(0.0), step=1e3, accelerated=False,
                                max_iter=5000, tol=0.0, check_every=1)
    assert np.all(np.isfinite(res.x))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": np.full((3, 2), np.nan)}, "X contains NaN"),
        ({"y": np.ones(4)}, "y has 4 samples"),
        ({"init": np.ones(5)}, "init must have shape"),
        ({"step": -1.0}, "step must be"),
        ({"tol": -1.0}, "tol must be"),
        ({"max_iter": 0}, "max_iter must be"),
        ({"penalty": "nope"}, "Unknown penalty"),
        ({"loss": "hinge"}, "Unknown loss"),
        ({"accelerated": "yes"}, "accelerated must be"),
        ({"sample_weight": -np.ones(3)}, "sample_weight"),
    ],
)
def test_bad_input_names_parameter(kwargs, match):
    args = {"X": np.eye(3)[:, :2] + 0.1, "y": np.ones(3)}
    args.update(kwargs)
    A, y = args.pop("X"), args.pop("y")
    with pytest.raises((ValueError, TypeError), match=match):
        proximal_gradient(A, y, **args)


def test_sparse_design_matches_dense(problem):
    import scipy.sparse as sp

    A, y, _ = problem
    d = proximal_gradient(A, y, penalty=L1(0.05 / 60), tol=1e-10, max_iter=20000)
    s = proximal_gradient(sp.csr_matrix(A), y, penalty=L1(0.05 / 60), tol=1e-10, max_iter=20000)
    np.testing.assert_allclose(d.x, s.x, atol=1e-8)


def test_sample_weight_equals_repetition(problem):
    A, y, _ = problem
    w = np.ones(A.shape[0])
    w[:10] = 2.0
    Ar = np.vstack([A, A[:10]])
    yr = np.concatenate([y, y[:10]])
    a = proximal_gradient(A, y, penalty=L1(0.05 / 60), sample_weight=w, tol=1e-11, max_iter=50000)
    b = proximal_gradient(Ar, yr, penalty=L1(0.05 / 60), tol=1e-11, max_iter=50000)
    np.testing.assert_allclose(a.x, b.x, atol=1e-7)


def test_prox_out_buffer_is_reused_for_every_penalty():
    from sparsopt.penalties import CEL0, L1, MCP, GroupL21, KSupport

    x = np.linspace(-2, 2, 12).reshape(3, 4)
    for pen in [L1(0.3), CEL0(0.2, a=np.ones(4)), MCP(0.3), GroupL21(0.3, groups=2),
                KSupport(0.3, k=2)]:
        buf = np.empty_like(x)
        got = pen.prox(x, 0.5, out=buf)
        assert got is buf
        np.testing.assert_array_equal(buf, pen.prox(x, 0.5))
        inplace = x.copy()
        pen.prox(inplace, 0.5, out=inplace)
        np.testing.assert_array_equal(inplace, buf)
    with pytest.raises(ValueError, match="out must be"):
        L1(0.1).prox(x, 0.5, out=np.empty(3))
