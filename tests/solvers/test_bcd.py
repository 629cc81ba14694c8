"""Tests of the block coordinate descent engine ``sparsopt.solvers.bcd``.

Reproduction targets of ``specs/bcd.md`` at CI size (dataset A re-generated with
``make_bcd_problem``):

* R1-a: greedy Lipschitz-aware rules >> cyclic; variable blocks + matrix updates +
  GSQ (IHT) >> fixed-block GS.
* R1-b: L1-NNLS with the GS-q rule on variable blocks of 50 and projected Newton
  identifies the support and reaches F - F* < 1e-8 within 10 iterations.

``bcd`` minimises scikit-learn's mean objective ``1/(2n) ||Ax - y||^2 + pen(x)``; the
paper's sum objective is ``n`` times it with ``alpha = lambda / n``: the same iterates,
so the paper's targets on ``F - F*`` are divided by ``n`` here (``tol=1e-8 / n``).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.datasets._bcd_problems import make_bcd_problem
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.penalties import L1, MCP, SCAD, ElasticNet, KSupport, Positive, get_penalty
from sparsopt.solvers.blockcd.engine import LOSSES, UPDATES, bcd
from sparsopt.solvers.blockcd.rules import PARTITIONS, SELECTIONS
from tests._sklearn_compat import sk_l1_logistic

# --------------------------------------------------------------------------- helpers


def _quiet(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return bcd(**kw)


def _objectives(res):
    return np.array([h["objective"] for h in res.history])


@pytest.fixture(scope="module")
def data_a():
    """Dataset A at CI size: 200 x 2000 (the paper: 1000 x 10000)."""
    return make_bcd_problem("squared", 200, 2000, random_state=0)


def _l1_pos(lam, A):
    """The paper's ``lambda ||x||_1, x >= 0`` on the mean objective."""
    return L1(lam / A.shape[0]) + Positive()


# --------------------------------------------------------------------------- R1-a

#: dataset A at half the paper's size in each dimension (500 x 5000, CSC) and half its
#: budget: 250 iterations of blocks of 5 = 0.25 effective passes, as in the paper
R1A_ITERS = 250


@pytest.fixture(scope="module")
def data_a_half():
    """Dataset A at half the paper's size in each dimension: 500 x 5000, CSC."""
    A, y, _ = make_bcd_problem("squared", 500, 5000, random_state=0, sparse=True)
    return A, y


@pytest.fixture(scope="module")
def r1a(data_a_half):
    A, y = data_a_half
    runs = {
        "cyclic-FB": dict(selection="cyclic", update="lipschitz"),
        "GS-FB": dict(selection="gs", update="lipschitz"),
        "GSL-FB": dict(selection="gsl", update="lipschitz"),
        "GSQ-VB-Hb": dict(selection="gsq", partition="variable", update="matrix"),
    }
    out = {}
    for name, kw in runs.items():
        kw.setdefault("partition", "sort")
        res = _quiet(X=A, y=y, block_size=5, max_iter=R1A_ITERS, tol=0.0, random_state=0,
                     **kw)
        out[name] = _objectives(res)
    return out


def test_r1a_greedy_lipschitz_rules_beat_cyclic(r1a):
    # f* = 0: the system is underdetermined and consistent
    ratio = r1a["cyclic-FB"][-1] / r1a["GSL-FB"][-1]
    assert ratio >= 30, ratio


def test_r1a_variable_gsq_matrix_beats_fixed_gs(r1a):
    ratio = r1a["GS-FB"][-1] / max(r1a["GSQ-VB-Hb"][-1], 1e-300)
    assert ratio >= 1e5, ratio


def test_r1a_runs_are_monotone(r1a):
    for name, f in r1a.items():
        assert np.all(np.diff(f) <= 1e-9 * f[0]), name


# --------------------------------------------------------------------------- R1-b


@pytest.fixture(scope="module")
def nnls_problem(data_a_half):
    """A-lsl1nn at half size; lambda = 3.3e4 gives |supp x*| = 50 (paper: 5e4, 51).

    On the mean objective: ``alpha = lambda / n``, ``F* / n`` and ``tol = 1e-8 / n``."""
    A, y = data_a_half
    lam = 3.3e4
    ref = _quiet(X=A, y=y, penalty=_l1_pos(lam, A), partition="variable",
                 selection="gs-q", update="projected_newton", block_size=100, max_iter=200,
                 tol=1e-14)
    assert ref.converged
    return A, y, lam, ref


def test_r1b_projected_newton_identifies_support_fast(nnls_problem):
    A, y, lam, ref = nnls_problem
    f_star = ref.objective
    x_star = ref.x
    assert 40 <= np.count_nonzero(x_star) <= 50
    res = bcd(A, y, penalty=_l1_pos(lam, A), partition="variable", selection="gs-q",
              update="projected_newton", block_size=50, max_iter=10, tol=1e-8 / A.shape[0],
              f_star=f_star)
    assert res.converged
    assert res.n_iter <= 10
    np.testing.assert_array_equal(res.x != 0, x_star != 0)
    assert res.info["support_stable_iter"] <= res.n_iter
    # KKT of the L1-NNLS optimum: g + lam >= 0 everywhere, = 0 on the support
    g = A.T @ (A @ x_star - y) + lam
    assert np.all(x_star >= 0)
    assert np.all(g >= -1e-6 * lam)
    assert np.all(np.abs(g[x_star > 0]) <= 1e-6 * lam)


def test_r1b_ordering_small_blocks(nnls_problem):
    """|b| = 5: PN needs far fewer iterations than PG (paper fig 7: ~60 vs ~160)."""
    A, y, lam, ref = nnls_problem
    iters = {}
    for update in ("projected_newton", "lipschitz", "tmp"):
        res = _quiet(X=A, y=y, penalty=_l1_pos(lam, A), partition="variable",
                     selection="gs-q", update=update, block_size=5, max_iter=400,
                     tol=1e-8 / A.shape[0], f_star=ref.objective)
        assert res.converged, update
        iters[update] = res.n_iter
    assert iters["projected_newton"] < 0.75 * iters["lipschitz"], iters
    assert iters["tmp"] < 0.75 * iters["lipschitz"], iters
    # PG with blocks of 50 is still far away after 10 iterations
    res = _quiet(X=A, y=y, penalty=_l1_pos(lam, A), partition="variable",
                 selection="gs-q", update="lipschitz", block_size=50, max_iter=10,
                 tol=1e-8 / A.shape[0], f_star=ref.objective)
    assert not res.converged


# --------------------------------------------------------------------------- GLMs


@pytest.mark.parametrize("update", ["lipschitz", "line_search"])
@pytest.mark.parametrize("selection, partition", [("gsl", "sort"), ("gs", "variable"),
                                                  ("random", "variable")])
def test_logistic_decreases_monotonically(update, selection, partition):
    A, y, _ = make_bcd_problem("logistic", 80, 200, random_state=2)
    res = _quiet(X=A, y=y, loss="logistic", penalty="l1", alpha=1.0 / 80, selection=selection,
                 partition=partition, update=update, block_size=5, max_iter=60,
                 random_state=0)
    f = _objectives(res)
    assert np.all(np.diff(f) <= 1e-10 * f[0])
    assert f[-1] < 0.9 * res.info["initial_objective"]


@pytest.mark.parametrize("update", ["lipschitz", "line_search", "newton"])
def test_softmax_decreases_monotonically(update):
    A, y, _ = make_bcd_problem("multinomial", 60, 20, n_classes=4, random_state=3)
    sel = "gsq" if update == "newton" else "gsl"
    res = _quiet(X=A, y=y, loss="multinomial", selection=sel, partition="variable",
                 update=update, block_size=4, max_iter=40, random_state=0)
    f = _objectives(res)
    assert res.x.shape == (20, 4)
    assert np.all(np.diff(f) <= 1e-10 * f[0])
    assert f[-1] < 0.9 * res.info["initial_objective"]


def test_logistic_l1_matches_sklearn():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 12))
    y = np.where(A[:, 0] - A[:, 1] + 0.5 * rng.standard_normal(60) > 0, 1.0, -1.0)
    C = 0.5
    res = bcd(A, y, loss="logistic", penalty="l1", alpha=1.0 / (C * 60), selection="gs-q",
              partition="variable",
              block_size=4, update="projected_newton", max_iter=300, tol=1e-10)
    clf = sk_l1_logistic(C, solver="liblinear", fit_intercept=False, tol=1e-12,
                         max_iter=10000).fit(A, y)
    w = clf.coef_.ravel()

    def F(x):
        return np.logaddexp(0, -y * (A @ x)).mean() + np.abs(x).sum() / (C * 60)

    assert res.converged
    assert F(res.x) <= F(w) + 1e-7 * F(w)


# --------------------------------------------------------------------------- correctness


@pytest.mark.parametrize("selection, partition, update", [
    ("cyclic", "order", "lipschitz"),
    ("gsd", "avg", "lipschitz"),
    ("gs-s", "variable", "lipschitz"),
    ("gs-r", "sort", "line_search"),
    ("gsq", "sort", "matrix"),
    ("gsl", "variable", "matrix"),
])
def test_lasso_matches_sklearn(selection, partition, update):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(1)
    A = rng.standard_normal((40, 20))
    y = A @ np.r_[2.0, -1.0, 0.5, np.zeros(17)] + 0.1 * rng.standard_normal(40)
    alpha = 2.0 / 40
    res = _quiet(X=A, y=y, penalty="l1", alpha=alpha, selection=selection,
                 partition=partition, update=update, block_size=4, max_iter=3000, tol=1e-10,
                 random_state=0)
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100000).fit(A, y)

    def F(x):
        return 0.5 * np.mean((A @ x - y) ** 2) + alpha * np.abs(x).sum()

    assert res.converged
    assert abs(F(res.x) - F(ref.coef_)) <= 1e-8 * F(ref.coef_)


def test_elasticnet_and_tmp():
    from sklearn.linear_model import ElasticNet as SkElasticNet

    rng = np.random.default_rng(4)
    A = rng.standard_normal((30, 10))
    y = A @ rng.standard_normal(10)
    res = bcd(A, y, penalty=ElasticNet(alpha=3.0 / 30, l1_ratio=0.7), selection="gsq",
              partition="sort", update="matrix", block_size=5, max_iter=500, tol=1e-10)
    ref = SkElasticNet(alpha=3.0 / 30, l1_ratio=0.7, fit_intercept=False, tol=1e-14,
                     max_iter=100000).fit(A, y)
    np.testing.assert_allclose(res.x, ref.coef_, atol=1e-6)
    # two-metric projection on NNLS converges to the x >= 0 optimum
    res_tmp = bcd(A, y, penalty="positive", selection="gs-q", partition="variable",
                  update="tmp", block_size=5, max_iter=300, tol=1e-8)
    from scipy.optimize import nnls

    np.testing.assert_allclose(res_tmp.x, nnls(A, y)[0], atol=1e-5)


def test_quadratic_exact_and_sparse():
    n = 30
    main = np.full(n, 2.5)
    off = -np.ones(n - 1)
    Asp = sp.diags([off, main, off], [-1, 0, 1], format="csc")
    b = np.linspace(-1, 1, n)
    x_ref = np.linalg.solve(Asp.toarray(), b)
    for X in (Asp, Asp.toarray()):
        res = bcd(X, b, loss="quadratic", selection="gsl", partition="variable", update="exact",
                  block_size=6, max_iter=500, tol=1e-12)
        assert res.converged
        np.testing.assert_allclose(res.x, x_ref, atol=1e-9)


def test_dense_equals_csc(data_a):
    A, y, _ = data_a
    A = A[:100, :400]
    y = y[:100]
    kw = dict(penalty="l1", alpha=0.5, selection="gsl", partition="variable", update="matrix",
              block_size=5, max_iter=30, tol=0.0)
    r_dense = _quiet(X=A, y=y, **kw)
    r_csc = _quiet(X=sp.csc_matrix(A), y=y, **kw)
    r_csr = _quiet(X=sp.csr_matrix(A), y=y, **kw)
    np.testing.assert_allclose(r_csc.x, r_dense.x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(r_csr.x, r_dense.x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_objectives(r_csc), _objectives(r_dense), rtol=1e-10)


def test_engines_agree():
    A, y, _ = make_bcd_problem("squared", 40, 100, random_state=5, sparse=True)
    kw = dict(penalty=L1(2.5) + Positive(), selection="gs-q", partition="variable",
              update="projected_newton", block_size=10, max_iter=20, tol=0.0)
    a = _quiet(X=A, y=y, engine="numpy", **kw)
    b = _quiet(X=A, y=y, engine="numba", **kw)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-9, atol=1e-9)


def test_generic_penalty_mcp():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((40, 20))
    y = A @ np.r_[3.0, -3.0, np.zeros(18)]
    res = _quiet(X=A, y=y, penalty=MCP(alpha=0.05, gamma=3.0), selection="gsl",
                 partition="sort", update="lipschitz", block_size=5, max_iter=300)
    f = _objectives(res)
    assert np.all(np.diff(f) <= 1e-10 * f[0])
    assert set(np.flatnonzero(np.abs(res.x) > 1e-3)) == {0, 1}


def test_float32_in_float32_out():
    A, y, _ = make_bcd_problem("squared", 30, 60, random_state=7)
    res = _quiet(X=A.astype(np.float32), y=y.astype(np.float32), penalty="l1", alpha=0.3,
                 max_iter=20)
    assert res.x.dtype == np.float32
    ref = _quiet(X=A.astype(np.float32).astype(np.float64), y=y.astype(np.float32),
                 penalty="l1", alpha=0.3, max_iter=20)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-5, atol=1e-5)


def test_info_fields(data_a):
    A, y, _ = data_a
    res = _quiet(X=A[:50, :100], y=y[:50], penalty="l1", alpha=0.02, block_size=5, max_iter=12,
                 selection="cyclic", partition="order")
    assert res.info["coordinate_updates"] == 60
    assert res.info["effective_passes"] == pytest.approx(0.6)
    assert res.info["n_selected"].sum() == 60
    assert res.info["n_selected"][:60].tolist() == [1] * 60
    assert len(res.history) == 12
    assert res.info["blocks"].shape == (20, 5)
    assert res.info["block_counts"].tolist() == [1] * 12 + [0] * 8


def test_warm_start_from_solution():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((40, 30))
    y = A @ np.r_[1.0, -1.0, 2.0, np.zeros(27)] + 0.1 * rng.standard_normal(40)
    kw = dict(penalty="l1", alpha=0.05, selection="gs-q", partition="variable",
              update="projected_newton", block_size=10, tol=1e-9)
    res = bcd(A, y, max_iter=300, **kw)
    assert res.converged
    again = bcd(A, y, max_iter=300, init=res.x, **kw)
    assert again.n_iter == 1
    np.testing.assert_allclose(again.x, res.x, atol=1e-12)


_TINY = {}


def _tiny(loss):
    if not _TINY:
        rng = np.random.default_rng(0)
        A = rng.standard_normal((12, 8))
        _TINY.update(squared=(A, rng.standard_normal(12)),
                     logistic=(A, np.sign(rng.standard_normal(12))),
                     multinomial=(A, rng.integers(0, 3, 12)),
                     quadratic=(A.T @ A + np.eye(8), rng.standard_normal(8)))
    return _TINY[loss]


@settings(max_examples=80, deadline=None)
@given(loss=st.sampled_from(LOSSES), partition=st.sampled_from(PARTITIONS),
       selection=st.sampled_from(SELECTIONS), update=st.sampled_from(UPDATES),
       pen=st.sampled_from([{}, {"penalty": "l1", "alpha": 0.05}, {"penalty": "positive"},
                            {"penalty": L1(0.05) + Positive()},
                            {"penalty": ElasticNet(0.05, 0.5)},
                            {"penalty": MCP(0.05, gamma=3.0)},
                            {"penalty": SCAD(0.05) + Positive()},
                            {"penalty": "l0", "alpha": 0.01}, {"penalty": "log", "alpha": 0.05}]),
       sparse=st.booleans())
def test_every_combination_is_monotone_or_refused(loss, partition, selection, update, pen,
                                                  sparse):
    """Each valid (loss, partition, rule, update, penalty) decreases F monotonically;
    an invalid one raises a ValueError naming the parameters."""
    X, y = _tiny(loss)
    if sparse:
        X = sp.csc_matrix(X)
    try:
        res = _quiet(X=X, y=y, loss=loss, partition=partition, selection=selection,
                     update=update, block_size=4, max_iter=15, random_state=0, **pen)
    except ValueError as exc:
        assert "bcd:" in str(exc)
        return
    f = np.r_[res.info["initial_objective"], _objectives(res)]
    assert np.all(np.isfinite(f))
    assert np.all(np.diff(f) <= 1e-9 * max(1.0, abs(f[0])))


# --------------------------------------------------------------------------- control flow


def test_callback_stops():
    A, y, _ = make_bcd_problem("squared", 30, 60, random_state=8)
    seen = []

    def cb(state):
        seen.append(state.iteration)
        return state.iteration >= 3

    res = bcd(A, y, max_iter=100, callback=cb)
    assert res.n_iter == 3 and seen == [1, 2, 3]
    assert res.info["stopped_by"] == "callback"


def test_exactly_one_convergence_warning():
    A, y, _ = make_bcd_problem("squared", 30, 60, random_state=9)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = bcd(A, y, max_iter=5, tol=1e-12)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and not res.converged
    msg = str(conv[0].message)
    assert "max_iter" in msg and "tol" in msg and "fixed-point residual" in msg


def test_f_star_stopping():
    A, y, _ = make_bcd_problem("squared", 20, 60, random_state=10)
    res = bcd(A, y, selection="gsq", partition="variable", update="matrix", block_size=20,
              max_iter=500, tol=1e-6 / 20, f_star=0.0)
    assert res.converged and res.objective <= 1e-6 / 20
    assert res.info["criterion"] == "F(x) - f_star"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kw, words", [
    (dict(selection="gsq", update="lipschitz"), ["gsq", "lipschitz"]),
    (dict(selection="gsq", update="line_search"), ["gsq", "line_search"]),
    (dict(selection="gsd", partition="variable", update="lipschitz"), ["gsd", "lipschitz"]),
    (dict(update="projected_newton"), ["projected_newton", "None", "'newton'"]),
    (dict(update="tmp", penalty="l1"), ["tmp", "L1", "x >= 0"]),
    (dict(update="newton", penalty="l1"), ["newton", "L1", "'projected_newton'"]),
    (dict(update="exact", loss="logistic"), ["exact", "logistic"]),
    (dict(update="matrix", penalty=MCP(1.0, 3.0)), ["matrix", "MCP", "'lipschitz'"]),
    (dict(penalty="l1_positive"), ["bcd", "l1_positive", "Unknown penalty"]),
    (dict(selection="gsx"), ["selection"]),
    (dict(update="steepest"), ["update"]),
    (dict(partition="rows"), ["partition"]),
    (dict(block_size=7), ["multiple", "block_size"]),
    (dict(block_size=100), ["block_size"]),
    (dict(block_norm="linf"), ["block_norm"]),
])
def test_invalid_combinations_raise(kw, words):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((10, 20))
    y = np.sign(rng.standard_normal(10))
    with pytest.raises(ValueError) as exc:
        bcd(A, y, **kw)
    for w in words:
        assert w in str(exc.value)


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False))
def test_negative_alpha_raises(alpha):
    A = np.eye(4)
    with pytest.raises(ValueError, match="alpha"):
        bcd(A, np.ones(4), penalty="l1", alpha=alpha, block_size=2)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_inputs_raise(bad):
    A = np.eye(4)
    y = np.ones(4)
    y[1] = bad
    with pytest.raises(ValueError, match="y contains NaN"):
        bcd(A, y, block_size=2)
    A2 = A.copy()
    A2[0, 0] = bad
    with pytest.raises(ValueError, match="X contains NaN"):
        bcd(A2, np.ones(4), block_size=2)


def test_shape_errors():
    with pytest.raises(ValueError, match="rows"):
        bcd(np.eye(4), np.ones(3), block_size=2)
    with pytest.raises(ValueError, match="square"):
        bcd(np.ones((4, 2)), np.ones(4), loss="quadratic", block_size=2)
    with pytest.raises(ValueError, match="2 distinct"):
        bcd(np.eye(4), np.arange(4.0), loss="logistic", block_size=2)
    with pytest.raises(ValueError, match="init"):
        bcd(np.eye(4), np.ones(4), block_size=2, init=np.ones(3))


# --------------------------------------------------------------------------- incremental state
@pytest.mark.parametrize("loss,k", [("squared", 1), ("logistic", 1), ("multinomial", 3)])
@pytest.mark.parametrize("sparse", [False, True])
def test_incremental_gradient_matches_recomputed(loss, k, sparse):
    """The maintained gradient / loss equal a from-scratch evaluation after many updates,
    and the batched block bounds equal the per-block ones."""
    from sparsopt.solvers.blockcd.updates import Oracle

    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 12)) * (rng.random((40, 12)) < 0.15)
    y = rng.integers(0, k, 40) if k > 1 else (np.sign(rng.standard_normal(40))
                                               if loss == "logistic" else rng.standard_normal(40))
    XX = sp.csc_matrix(X) if sparse else X
    o = Oracle(loss, XX, y, k, None)
    o.init(np.zeros(o.m))
    for _ in range(300):
        b = rng.choice(o.m, size=3, replace=False)
        o.apply(b, 0.3 * rng.standard_normal(3))
    ref = Oracle(loss, XX, y, k, None)
    ref.init(o.x.copy())
    np.testing.assert_allclose(o.grad(), ref.grad(), rtol=1e-10, atol=1e-10)
    assert o.value() == pytest.approx(ref.value(), rel=1e-12)
    blocks = rng.permutation(o.m).reshape(-1, 4).astype(np.int64)
    np.testing.assert_allclose(o.hess_bound_blocks(blocks),
                               np.stack([o.hess_bound(b) for b in blocks]), atol=1e-12)


def test_h_partitions_key_on_hessian_row_sums():
    """hsort cuts the coordinates sorted by sum_j |H_ij| (a valid bound), havg balances it."""
    from sparsopt.solvers.blockcd.rules import make_partition

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 12)) * rng.uniform(0.1, 5.0, 12)
    y = rng.standard_normal(30)
    H_rows = np.abs(A).T @ np.abs(A).sum(axis=1)
    assert np.all(H_rows >= np.abs(A.T @ A).sum(axis=1) - 1e-12)
    blocks = make_partition("hsort", np.ones(12), 4, H_rows)
    np.testing.assert_array_equal(blocks.ravel(), np.argsort(-H_rows, kind="stable"))
    avg = make_partition("havg", np.ones(12), 4, H_rows)
    means = H_rows[avg].mean(axis=1)
    assert means.max() - means.min() < np.ptp(H_rows[blocks].mean(axis=1))
    res = _quiet(X=A, y=y, alpha=1.0, partition="hsort", selection="gsl", block_size=4,
                 max_iter=50, random_state=0)
    np.testing.assert_array_equal(res.info["blocks"], blocks)


def test_line_search_interpolation_is_exact_on_quadratics_and_cubics():
    from sparsopt.solvers.blockcd.updates import _interpolate_step

    q = lambda s: 2.0 * (s - 0.3) ** 2  # noqa: E731
    assert _interpolate_step(q(0), -1.2, 1.0, q(1.0), None, None) == pytest.approx(0.3)
    c = lambda s: s ** 3 - 2.0 * s + 1.0  # noqa: E731
    assert _interpolate_step(c(0), -2.0, 0.5, c(0.5), 1.0, c(1.0)) == pytest.approx(
        np.sqrt(2.0 / 3.0))
    assert _interpolate_step(0.0, -1.0, 1.0, np.inf, 2.0, np.inf) == 0.5


# --------------------------------------------------------------------------- one penalty channel


def _mean_objective(A, y, pen, x):
    return 0.5 * np.mean((A @ x - y) ** 2) + pen.value(x)


@pytest.mark.parametrize("pen", [MCP(alpha=0.1, gamma=3.0), SCAD(alpha=0.1, gamma=3.7),
                                 MCP(alpha=0.1, gamma=3.0) + Positive()])
def test_nonconvex_lipschitz_matches_proximal_gradient(pen):
    """MCP / SCAD through the spec: the proximal block update reaches the stationary point
    that proximal gradient reaches on the same (mean) objective."""
    from sparsopt.solvers import proximal_gradient

    rng = np.random.default_rng(12)
    A = rng.standard_normal((60, 15))
    y = A @ np.r_[2.0, -1.5, 1.0, np.zeros(12)] + 0.05 * rng.standard_normal(60)
    res = bcd(A, y, penalty=pen, partition="order", selection="cyclic", update="lipschitz",
              block_size=5, max_iter=5000, tol=1e-12)
    ref = proximal_gradient(A, y, loss="squared", penalty=pen, max_iter=20000, tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    assert _mean_objective(A, y, pen, res.x) == pytest.approx(
        _mean_objective(A, y, pen, ref.x), rel=1e-10)
    f = _objectives(res)
    assert np.all(np.diff(f) <= 1e-12 * f[0])


def test_l1_plus_positive_is_the_old_l1_positive():
    """``L1(a) + Positive()`` (and get_penalty(positive=True)) is the old "l1_positive":
    scikit-learn's Lasso(positive=True)."""
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(13)
    A = rng.standard_normal((50, 20))
    y = A @ np.r_[1.0, -1.0, 2.0, np.zeros(17)] + 0.1 * rng.standard_normal(50)
    alpha = 0.05
    ref = Lasso(alpha=alpha, positive=True, fit_intercept=False, tol=1e-14,
                max_iter=100000).fit(A, y).coef_
    for pen in (L1(alpha) + Positive(), get_penalty("l1", alpha, positive=True)):
        for update in ("lipschitz", "projected_newton", "tmp", "matrix"):
            res = bcd(A, y, penalty=pen, selection="gs-q", partition="variable",
                      update=update, block_size=5, max_iter=3000, tol=1e-11)
            assert res.converged, update
            assert res.x.min() >= 0.0
            np.testing.assert_allclose(res.x, ref, atol=1e-6, err_msg=update)
    # the box alone: non-negative least squares
    from scipy.optimize import nnls

    res = bcd(A, y, penalty=Positive(), selection="gs-s", partition="variable",
              update="lipschitz", block_size=5, max_iter=3000, tol=1e-11)
    np.testing.assert_allclose(res.x, nnls(A, y)[0], atol=1e-6)


@pytest.mark.parametrize("pen", [MCP(0.1, 3.0), SCAD(0.1), get_penalty("l0", 0.01),
                                 get_penalty("log", 0.1), L1(0.1) + Positive()])
@pytest.mark.parametrize("selection", ["gs-q", "gs-s", "gs-r", "gsl"])
def test_proximal_rules_take_any_separable_penalty(pen, selection):
    rng = np.random.default_rng(14)
    A = rng.standard_normal((40, 20))
    y = A @ np.r_[2.0, 1.5, np.zeros(18)]  # non-negative: L1 + Positive() fits it too
    res = _quiet(X=A, y=y, penalty=pen, selection=selection, partition="variable",
                 update="lipschitz", block_size=4, max_iter=400, tol=1e-10)
    f = _objectives(res)
    assert np.all(np.diff(f) <= 1e-12 * f[0])
    assert res.converged  # a stationary point: fixed-point residual <= 1e-10
    assert f[-1] < 0.2 * res.info["initial_objective"]


@pytest.mark.parametrize("update", ["matrix", "exact", "newton", "projected_newton", "tmp"])
@pytest.mark.parametrize("pen", [MCP(0.1, 3.0), SCAD(0.1) + Positive(), get_penalty("l0", 1.0)])
def test_update_penalty_mismatch_one_clear_error(update, pen):
    """A block solve that cannot take the penalty: one ValueError naming the update, the
    penalty and an update that works."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((10, 20))
    y = rng.standard_normal(10)
    with pytest.raises(ValueError) as exc:
        bcd(A, y, penalty=pen, update=update, selection="gsq" if update != "tmp" else "gsl")
    msg = str(exc.value)
    assert msg.startswith("bcd: ")
    assert f"update={update!r}" in msg and type(getattr(pen, "penalty", pen)).__name__ in msg
    assert "use update='lipschitz'" in msg


def test_non_separable_penalty_raises_type_error():
    # GroupL21 has a group channel (tests/solvers/test_bcd_group.py); KSupport has neither
    A = np.eye(4)
    with pytest.raises(TypeError, match="bcd.*group norms.*separable.*proximal_gradient"):
        bcd(A, np.ones(4), penalty=KSupport(1.0, k=2), block_size=2)


def test_callback_true_first_call_stops_after_one_check():
    A, y, _ = make_bcd_problem("squared", 30, 60, random_state=8)
    calls = []

    def cb(state):
        calls.append(state.iteration)
        return True

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning when the callback stops
        res = bcd(A, y, max_iter=100, callback=cb)
    assert calls == [1] and res.n_iter == 1 and not res.converged
    assert res.info["stopped_by"] == "callback"


def test_penalty_none_ignores_alpha_and_init_is_projected():
    A, y, _ = make_bcd_problem("squared", 20, 40, random_state=1)
    a = _quiet(X=A, y=y, max_iter=5)
    b = _quiet(X=A, y=y, alpha=123.0, max_iter=5)
    np.testing.assert_array_equal(a.x, b.x)
    res = _quiet(X=A, y=y, penalty=Positive(), init=-np.ones(40), max_iter=1)
    assert res.x.min() >= 0.0
    assert res.info["initial_objective"] == pytest.approx(0.5 * np.mean(y ** 2))


@pytest.mark.parametrize("selection", ["gs", "gsl", "gsd", "gsq", "cyclic"])
def test_greedy_rules_reach_the_optimum_with_a_ridge_penalty(selection):
    # a smooth penalty's gradient is part of what the greedy rules score (they stalled at
    # F = 0.2417 against 0.2124 when they looked at the loss's gradient only)
    from sparsopt.penalties import ElasticNet

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 20)), rng.standard_normal(50)
    lam = 0.5
    w = np.linalg.solve(X.T @ X / 50 + lam * np.eye(20), X.T @ y / 50)
    update = "matrix" if selection == "gsq" else "lipschitz"
    res = bcd(X, y, penalty=ElasticNet(lam, 0.0), selection=selection, update=update,
              tol=1e-10, max_iter=20_000)
    np.testing.assert_allclose(res.x, w, atol=1e-6)
