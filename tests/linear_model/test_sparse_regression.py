"""SparseRegression and working_set_cd with non-l1 penalties: objectives against skglm and
proximal gradient, constraints, dtypes, the loop protocol, errors."""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsopt.linear_model import Lasso, SparseRegression
from sparsopt.penalties import CEL0, L0, L1, MCP, SCAD, KSupport, Log, Lq, Positive
from sparsopt.solvers import proximal_gradient, working_set_cd, working_set_cd_path
from sparsopt.solvers.glm.working_set_cd import alpha_max
from tests._designs import ar1_design


def correlated(n=100, p=300, rho=0.5, k=10, snr=5.0, seed=0, standardize=True):
    """AR(1)-correlated Gaussian design, k-sparse truth, SNR ``snr``."""
    rng = np.random.default_rng(seed)
    X = ar1_design(rng, n, p, rho)
    if standardize:  # ||x_j||^2 / n = 1: every gamma > 1 (MCP), > 2 (SCAD) is admissible
        X /= np.sqrt((X ** 2).mean(axis=0))
    w = np.zeros(p)
    w[rng.choice(p, min(k, p), replace=False)] = rng.choice([-1, 1], min(k, p)) * (
        1 + rng.random(min(k, p)))
    y = X @ w
    y += rng.standard_normal(n) * np.linalg.norm(y) / (snr * np.sqrt(n))
    return X, y, w


def objective(X, y, w, pen, b=0.0):
    X = X.toarray() if sp.issparse(X) else X
    r = y - X @ w - b
    return 0.5 * float(r @ r) / X.shape[0] + pen.value(w)


# ----------------------------------------------------------------------------- against skglm


def _skglm_fit(X, y, kind, alpha, param, tol):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Quadratic
    from skglm.penalties import L0_5, MCPenalty
    from skglm.penalties import SCAD as SkSCAD
    from skglm.solvers import AndersonCD

    pen = {"mcp": lambda: MCPenalty(alpha, param), "scad": lambda: SkSCAD(alpha, param),
           "l0.5": lambda: L0_5(alpha)}[kind]()
    strategy = "fixpoint" if kind == "l0.5" else "subdiff"
    est = skglm.GeneralizedLinearEstimator(
        Quadratic(), pen, AndersonCD(tol=tol, fit_intercept=False, ws_strategy=strategy,
                                     max_iter=200, max_epochs=100_000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est.coef_


PENALTIES = {"mcp": (lambda a: MCP(alpha=a, gamma=3.0), 3.0),
             "scad": (lambda a: SCAD(alpha=a, gamma=3.7), 3.7),
             "l0.5": (lambda a: Lq(alpha=a, q=0.5), None)}


def _data(sparse, seed, n=80, p=200):
    X, y, _ = correlated(n, p, seed=seed)
    if sparse:
        X = X * (np.random.default_rng(2).random(X.shape) < 0.3)
        X /= np.maximum(np.sqrt((X ** 2).mean(axis=0)), 1e-12)
        X = sp.csc_matrix(X)
    return X, y


#: skglm picks its working set with ``np.argpartition``: NumPy < 2 breaks ties among equal
#: scores differently, and on these problems skglm then ends at another stationary point (a
#: better one for the MCP estimator below, a worse one for l0.5); ours is the same on both.
#: That case is what test_skglm_stationary_points_are_ours covers.
_SKGLM_TIES = pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0",
                                 reason="skglm's working-set ties depend on NumPy < 2")


@pytest.mark.parametrize("kind, sparse, seed, n, p", [
    ("mcp", False, 1, 80, 200), ("scad", False, 2, 80, 200), ("l0.5", False, 3, 80, 200),
    ("mcp", True, 1, 300, 100), ("scad", True, 2, 300, 100),
    pytest.param("l0.5", True, 4, 300, 100, marks=_SKGLM_TIES),
])
def test_objective_matches_skglm(kind, sparse, seed, n, p):
    """Same objective, same start (zeros), same tol: skglm's AndersonCD (``subdiff`` working
    sets, ``fixpoint`` for l0.5) and ours reach the same stationary point (alpha_max / 10;
    l0.5: / 100 dense, / 30 sparse)."""
    X, y = _data(sparse, seed, n, p)
    a = alpha_max(X, y) / (10 if kind != "l0.5" else 30 if sparse else 100)
    pen_fn, param = PENALTIES[kind]
    pen = pen_fn(a)
    strategy = "gs-r" if kind == "l0.5" else "gs-s"  # skglm: fixpoint, subdiff
    ours = working_set_cd(X, y, penalty=pen, tol=1e-10, ws_strategy=strategy)
    ref = _skglm_fit(X, y, kind, a, param, 1e-10)
    assert ours.converged
    f_ours, f_ref = objective(X, y, ours.x, pen), objective(X, y, ref, pen)
    scale = objective(X, y, np.zeros(X.shape[1]), pen)
    np.testing.assert_array_equal(ours.x != 0, ref != 0)
    np.testing.assert_allclose(ours.x, ref, atol=1e-6)
    assert f_ours <= f_ref + 1e-9 * scale


@pytest.mark.parametrize("kind", ["mcp", "scad", "l0.5"])
@pytest.mark.parametrize("sparse", [False, True])
def test_skglm_stationary_points_are_ours(kind, sparse):
    """Far from convexity (p > n, alpha_max / 50) the two working-set orders can end at
    different stationary points (either library is better on some problems; see the
    benchmark notes). Started at skglm's point, ours recognises it as stationary and stays."""
    X, y = _data(sparse, 1)
    a = alpha_max(X, y) / (50 if kind != "l0.5" else 500)
    pen_fn, param = PENALTIES[kind]
    pen = pen_fn(a)
    ref = _skglm_fit(X, y, kind, a, param, 1e-10)
    warm = working_set_cd(X, y, penalty=pen, tol=1e-10, init=ref,
                          ws_strategy="gs-r" if kind == "l0.5" else "gs-s")
    assert warm.converged
    np.testing.assert_allclose(warm.x, ref, atol=1e-6)
    scale = objective(X, y, np.zeros(X.shape[1]), pen)
    assert objective(X, y, warm.x, pen) <= objective(X, y, ref, pen) + 1e-9 * scale


@_SKGLM_TIES
def test_mcp_estimator_matches_skglm_mcpregression():
    skglm = pytest.importorskip("skglm")
    X, y, _ = correlated(200, 80, seed=3)
    y = y + 2.0
    ours = SparseRegression(penalty=MCP(alpha=0.05, gamma=3.0), tol=1e-10,
                            ws_strategy="gs-s").fit(X, y)
    ref = skglm.MCPRegression(alpha=0.05, gamma=3.0, tol=1e-10, max_iter=200).fit(X, y)
    pen = MCP(alpha=0.05, gamma=3.0)
    f_ours = objective(X, y, ours.coef_, pen, ours.intercept_)
    f_ref = objective(X, y, ref.coef_, pen, ref.intercept_)
    assert f_ours <= f_ref + 1e-9 * max(1.0, abs(f_ref))
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    assert ours.converged_ and ours.coef_.dtype == np.float64


# ----------------------------------------------------------------------------- against PGD


@pytest.mark.parametrize("pen", [MCP(alpha=0.1, gamma=4.0), SCAD(alpha=0.1, gamma=4.0),
                                 Log(alpha=0.05, eps=2.0), L1(alpha=0.1) + Positive(),
                                 MCP(alpha=0.1, gamma=4.0) + Positive()])
def test_matches_proximal_gradient_on_a_convex_instance(pen):
    """n >> p and gamma > 1 / lambda_min(X^T X / n): the objective is strictly convex, both
    solvers reach the same unique minimiser."""
    X, y, _ = correlated(400, 8, rho=0.2, k=4, seed=4)
    ours = working_set_cd(X, y, penalty=pen, tol=1e-12)
    # proximal_gradient uses the same mean datafit (1/(2n)) ||y - X w||^2
    ref = proximal_gradient(X, y, penalty=pen, tol=1e-12, max_iter=50_000)
    np.testing.assert_allclose(ours.x, ref.x, atol=1e-6)
    assert objective(X, y, ours.x, pen) <= objective(X, y, ref.x, pen) + 1e-12


@pytest.mark.parametrize("pen", [MCP(alpha=0.05, gamma=3.0), SCAD(alpha=0.05, gamma=3.7),
                                 L0(alpha=0.005), Lq(alpha=0.02, q=0.5), Lq(alpha=0.02, q=0.7),
                                 CEL0(alpha=0.005), Log(alpha=0.02, eps=0.5)])
@pytest.mark.parametrize("ws_strategy", ["gs-r", "gs-s"])
def test_every_kind_reaches_a_stationary_point(pen, ws_strategy):
    """Every kind runs (CEL0 and generic lq included) and stops at a point where no
    coordinate step moves (fixed point of coordinate descent)."""
    X, y, w_true = correlated(60, 120, seed=5)
    res = working_set_cd(X, y, penalty=pen, tol=1e-9, ws_strategy=ws_strategy)
    assert res.converged, res.info
    f0 = objective(X, y, np.zeros(X.shape[1]), pen)
    assert objective(X, y, res.x, pen) < f0
    # the prox step of every coordinate leaves it (almost) in place
    n = X.shape[0]
    g = X.T @ (y - X @ res.x) / n
    L = (X ** 2).sum(axis=0) / n
    if isinstance(pen, CEL0):  # the solver's CEL0 weights are the column norms
        pen = CEL0(alpha=pen.alpha, a=np.sqrt(L) * (1 - 1e-9))
    step = pen.prox(res.x + g / L, step=1 / L[0]) if np.allclose(L, L[0]) else None
    if step is not None:
        assert np.max(np.abs(step - res.x) * L) <= 1e-6


def test_mcp_is_unbiased_where_the_lasso_shrinks():
    X, y, w_true = correlated(200, 50, seed=6, snr=50.0)
    a = 0.1
    mcp = SparseRegression(penalty="mcp", alpha=a, fit_intercept=False, tol=1e-10).fit(X, y)
    lasso = Lasso(alpha=a, fit_intercept=False, tol=1e-10).fit(X, y)
    big = np.abs(w_true) > 1.0
    assert np.abs(mcp.coef_ - w_true)[big].max() < 0.5 * np.abs(lasso.coef_ - w_true)[big].max()
    np.testing.assert_array_equal(mcp.coef_ != 0, w_true != 0)


# ----------------------------------------------------------------------------- estimator


def test_estimator_name_and_object_give_the_same_fit():
    X, y, _ = correlated(80, 40, seed=7)
    a = SparseRegression(penalty="scad", alpha=0.05, tol=1e-10).fit(X, y)
    b = SparseRegression(penalty=SCAD(alpha=0.05), alpha=123.0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-12)
    assert a.intercept_ == pytest.approx(b.intercept_)


def test_l1_is_the_lasso():
    X, y, _ = correlated(60, 90, seed=8)
    a = SparseRegression(penalty="l1", alpha=0.05, tol=1e-10).fit(X, y)
    b = Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)
    assert a.intercept_ == pytest.approx(b.intercept_, abs=1e-10)


@pytest.mark.parametrize("penalty", ["mcp", "l0", "l1"])
def test_positive_is_respected(penalty):
    X, y, _ = correlated(60, 80, seed=9)
    est = SparseRegression(penalty=penalty, alpha=0.02, positive=True, tol=1e-8).fit(X, y)
    assert np.all(est.coef_ >= 0) and np.any(est.coef_ > 0)
    free = SparseRegression(penalty=penalty, alpha=0.02, tol=1e-8).fit(X, y)
    assert np.any(free.coef_ < 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_is_preserved(sparse):
    X, y, _ = correlated(60, 80, seed=10)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    if sparse:
        X32 = sp.csc_matrix(X32)
    est = SparseRegression(penalty="mcp", alpha=0.05, tol=1e-5).fit(X32, y32)
    assert est.coef_.dtype == np.float32
    assert est.predict(X32).dtype == np.float32
    ref = SparseRegression(penalty="mcp", alpha=0.05, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-3)


def test_sparse_matches_dense_with_intercept_and_weights():
    X, y, _ = correlated(70, 60, seed=11)
    X = X * (np.random.default_rng(0).random(X.shape) < 0.5)
    sw = np.random.default_rng(1).random(70) + 0.5
    kw = dict(penalty=MCP(alpha=0.05, gamma=6.0), tol=1e-10)
    d = SparseRegression(**kw).fit(X, y + 1.0, sample_weight=sw)
    s = SparseRegression(**kw).fit(sp.csc_matrix(X), y + 1.0, sample_weight=sw)
    np.testing.assert_allclose(s.coef_, d.coef_, atol=1e-8)
    assert s.intercept_ == pytest.approx(d.intercept_, abs=1e-8)


def test_integer_sample_weights_are_repeated_rows():
    X, y, _ = correlated(40, 30, seed=12)
    sw = np.random.default_rng(3).integers(1, 4, size=40)
    kw = dict(penalty=SCAD(alpha=0.05), tol=1e-11)
    a = SparseRegression(**kw).fit(X, y, sample_weight=sw)
    b = SparseRegression(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)


def test_warm_start_starts_from_the_previous_coef():
    X, y, _ = correlated(60, 100, seed=13)
    est = SparseRegression(penalty="mcp", alpha=0.05, tol=1e-10, warm_start=True).fit(X, y)
    first = est.n_iter_
    est.fit(X, y)
    assert est.n_iter_ < max(first, 2) and est.converged_


@parametrize_with_checks([SparseRegression(penalty=MCP(alpha=0.01, gamma=50.0), tol=1e-8,
                                           max_iter=20_000)])
def test_sklearn_checks_with_a_nonconvex_penalty(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float32 tolerances, tiny columns
        check(estimator)


# ----------------------------------------------------------------------------- protocol


def test_callback_true_stops_after_one_check():
    X, y, _ = correlated(50, 80, seed=14)
    seen = []
    res = working_set_cd(X, y, penalty="mcp", alpha=0.01, tol=1e-14,
                         callback=lambda s: seen.append(s) or True)
    assert len(seen) == 1 and not res.converged
    assert res.stopped_by == "callback" and len(res.history) == 1
    assert seen[0].objective is not None and seen[0].stop_crit > 0


def test_verbose_prints_one_line_per_check():
    X, y, _ = correlated(50, 80, seed=15)
    out = io.StringIO()
    with redirect_stdout(out):
        res = working_set_cd(X, y, penalty="scad", alpha=0.05, tol=1e-8, verbose=1)
    lines = [ln for ln in out.getvalue().splitlines() if ln.startswith("working_set_cd")]
    assert len(lines) == len(res.history) + 1  # header + one per check


def test_one_convergence_warning():
    X, y, _ = correlated(50, 200, seed=16)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = SparseRegression(penalty="mcp", alpha=1e-3, tol=1e-14, max_iter=3).fit(X, y)
    conv = [w for w in rec if "converge" in str(w.message)]
    assert len(conv) == 1 and "max_iter" in str(conv[0].message)
    assert not est.converged_


def test_path_warm_starts_every_penalty():
    X, y, _ = correlated(60, 100, seed=17)
    a_max = alpha_max(X, y, penalty="mcp")
    alphas, coefs, _, crits, _ = working_set_cd_path(
        X, y, alphas=a_max * np.array([1.01, 0.3, 0.1]), penalty=MCP(gamma=3.0), tol=1e-10)
    assert not np.any(coefs[:, 0])  # above alpha_max: zero is stationary
    assert np.count_nonzero(coefs[:, 2]) >= np.count_nonzero(coefs[:, 1]) > 0
    assert np.all(crits <= 1e-10)


# ----------------------------------------------------------------------------- errors


def test_mcp_gamma_too_small_for_the_column_norms():
    X, y, _ = correlated(50, 20, seed=18)
    X[:, 3] *= 0.1  # ||x_3||^2 / n = 0.01: the step is 100
    with pytest.raises(ValueError, match=r"gamma.*\n?.*|column 3"):
        working_set_cd(X, y, penalty=MCP(alpha=0.1, gamma=3.0))
    with pytest.raises(ValueError, match="column 3"):
        SparseRegression(penalty="mcp", alpha=0.1).fit(X, y)


def test_penalty_without_a_kernel_raises_one_type_error():
    # GroupL21 has the group channel (tests/linear_model/test_group_lasso.py); KSupport has
    # neither a coordinate nor a group kernel
    X, y, _ = correlated(30, 10, seed=19)
    with pytest.raises(TypeError, match="working_set_cd.*proximal_gradient"):
        working_set_cd(X, y, penalty=KSupport(alpha=0.1, k=2))


def test_gap_strategy_needs_l1():
    X, y, _ = correlated(30, 10, seed=20)
    with pytest.raises(ValueError, match="gap"):
        working_set_cd(X, y, penalty="mcp", alpha=0.1, ws_strategy="gap")


def test_alpha_max_is_not_defined_for_l0():
    X, y, _ = correlated(30, 10, seed=21)
    with pytest.raises(ValueError, match="alpha_max"):
        alpha_max(X, y, penalty="l0")


@pytest.mark.parametrize("make_pen", [lambda a: MCP(alpha=a, gamma=3.0),
                                      lambda a: SCAD(alpha=a, gamma=3.7)])
def test_init_l1_starts_at_the_lasso_and_reaches_a_lower_point(make_pen):
    # the Lasso with the same alpha is the convex relaxation of MCP / SCAD; on correlated
    # data its solution is a better start than 0 (a lower stationary point)
    from sparsopt.solvers import working_set_cd

    rng = np.random.default_rng(3)
    n, p = 60, 150
    X = rng.standard_normal((n, p)) + 0.8 * rng.standard_normal((n, 1))
    X /= np.sqrt((X ** 2).mean(axis=0))
    w = np.zeros(p)
    w[:10] = rng.standard_normal(10) * 2
    y = X @ w + 0.5 * rng.standard_normal(n)
    alpha = np.abs(X.T @ y).max() / n / 20
    pen = make_pen(alpha)
    r0 = working_set_cd(X, y, penalty=pen, tol=1e-10, ws_strategy="gs-s", max_iter=1000)
    r1 = working_set_cd(X, y, penalty=pen, tol=1e-10, ws_strategy="gs-s", max_iter=1000,
                        init="l1")
    assert r1.converged and r1.info["init"] == "l1" and r1.info["init_n_epochs"] > 0

    def F(c):
        return 0.5 / n * np.sum((y - X @ c) ** 2) + pen.value(c)

    assert F(r1.x) <= F(r0.x) + 1e-12
    est = SparseRegression(penalty=pen, init="l1", fit_intercept=False, tol=1e-10,
                           ws_strategy="gs-s").fit(X, y)
    np.testing.assert_allclose(est.coef_, r1.x, atol=1e-8)


def test_init_l1_refuses_what_has_no_lasso_relaxation():
    from sparsopt.penalties import Lq
    from sparsopt.solvers import working_set_cd

    X = np.eye(4)
    with pytest.raises(ValueError, match="init='l1'"):
        working_set_cd(X, np.ones(4), penalty=Lq(alpha=0.1, q=0.5), init="l1")
    with pytest.raises(ValueError, match="init must be"):
        working_set_cd(X, np.ones(4), penalty=MCP(alpha=0.1, gamma=3.0), init="lasso")
