"""The group lasso (GroupL21, optionally + Positive()) in working_set_cd and SparseRegression:
objectives against a long proximal-gradient run and skglm, exact zero groups, dtypes, the
loop protocol, alpha_max, the path, scikit-learn's estimator checks."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsopt.linear_model import SparseRegression
from sparsopt.penalties import GroupL21, Positive
from sparsopt.solvers import proximal_gradient, working_set_cd, working_set_cd_path
from sparsopt.solvers.glm.working_set_cd import alpha_max


def grouped(n=60, p=48, size=4, k=3, seed=0, sparse=False):
    """Gaussian design, ``k`` active groups of ``size`` contiguous features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
    w = np.zeros(p)
    for g in rng.choice(p // size, k, replace=False):
        w[g * size:(g + 1) * size] = rng.standard_normal(size)
    y = X @ w + 0.1 * rng.standard_normal(n) + 0.7
    return (sp.csc_matrix(X) if sparse else X), y, w


def objective(X, y, w, pen, b=0.0, sample_weight=None):
    X = X.toarray() if sp.issparse(X) else X
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight * (n / sample_weight.sum())
    r = y - X @ np.asarray(w, dtype=np.float64) - b
    return 0.5 * float(s @ (r * r)) / n + pen.value(np.asarray(w, dtype=np.float64))


def reference(X, y, pen, *, fit_intercept=False, sample_weight=None):
    """A long proximal-gradient run (centred data for the intercept); ``(w, b)``."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    if fit_intercept:
        xm = np.average(X, axis=0, weights=sample_weight)
        ym = float(np.average(y, weights=sample_weight))
        Xc, yc = X - xm, y - ym
    else:
        Xc, yc = X, y
    res = proximal_gradient(Xc, yc, penalty=pen, sample_weight=sample_weight, max_iter=100_000,
                            tol=1e-13)
    b = ym - float(xm @ res.x) if fit_intercept else 0.0
    return res.x, b


CASES = {
    "dense": dict(),
    "sparse": dict(sparse=True),
    "intercept": dict(fit_intercept=True),
    "sparse-intercept": dict(sparse=True, fit_intercept=True),
    "weights": dict(weights=True, fit_intercept=True),
    "sparse-weights": dict(sparse=True, weights=True, fit_intercept=True),
    "positive": dict(positive=True),
    "positive-intercept-sparse": dict(positive=True, fit_intercept=True, sparse=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_objective_equals_long_proximal_gradient(case):
    opts = CASES[case]
    X, y, _ = grouped(seed=1, sparse=opts.get("sparse", False))
    sw = np.random.default_rng(2).uniform(0.2, 2.0, X.shape[0]) if opts.get("weights") else None
    pen = GroupL21(alpha=0.05, groups=4)
    if opts.get("positive"):
        pen = pen + Positive()
    fi = opts.get("fit_intercept", False)
    res = working_set_cd(X, y, penalty=pen, fit_intercept=fi, sample_weight=sw, tol=1e-12)
    assert res.converged and res.info["stopped_by"] == "tol"
    assert np.isfinite(res.info["dual_gap"])  # every group penalised: the duality gap
    w_ref, b_ref = reference(X, y, pen, fit_intercept=fi, sample_weight=sw)
    f = objective(X, y, res.x, pen, res.info["intercept"], sw)
    f_ref = objective(X, y, w_ref, pen, b_ref, sw)
    assert f == pytest.approx(f_ref, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(res.x, w_ref, atol=1e-5)
    if opts.get("positive"):
        assert res.x.min() >= 0.0


def test_engines_agree():
    X, y, _ = grouped(seed=3)
    pen = GroupL21(alpha=0.05, groups=[[0, 5, 9], [1, 2], [3, 4, 6, 7, 8]] +
                   [list(range(j, j + 3)) for j in range(10, 46, 3)])
    a = working_set_cd(X, y, penalty=pen, tol=1e-10, fit_intercept=True, engine="numba")
    b = working_set_cd(X, y, penalty=pen, tol=1e-10, fit_intercept=True, engine="numpy")
    np.testing.assert_allclose(a.x, b.x, atol=1e-9)
    assert a.info["n_outer"] == b.info["n_outer"]


def test_unpenalised_features_and_explicit_groups():
    # features in no group (here 46, 47) are free: the criterion is the subdifferential
    # distance (no dual point rescaling reaches X_j^T theta = 0)
    X, y, _ = grouped(seed=4)
    groups = [[0, 7, 3], [1, 2], [4, 5, 6]] + [list(range(j, j + 4)) for j in range(8, 44, 4)]
    groups[-1] = groups[-1] + [44, 45]
    pen = GroupL21(alpha=0.08, groups=groups)
    res = working_set_cd(X, y, penalty=pen, tol=1e-10)
    assert res.converged and np.isnan(res.info["dual_gap"])
    assert "subdifferential" in res.info["criterion"]
    w_ref, _ = reference(X, y, pen)
    assert objective(X, y, res.x, pen) == pytest.approx(objective(X, y, w_ref, pen), rel=1e-9)
    assert res.x[46] != 0.0 and res.x[47] != 0.0


# ----------------------------------------------------------------------------- against skglm


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_same_solution_as_skglm(fit_intercept, positive):
    skglm = pytest.importorskip("skglm")
    X, y, _ = grouped(n=80, p=60, size=5, seed=5)
    weights = np.random.default_rng(6).uniform(0.5, 2.0, 12)
    alpha = 0.04
    est = skglm.GroupLasso(groups=5, alpha=alpha, weights=weights, tol=1e-12, max_iter=500,
                           fit_intercept=fit_intercept, positive=positive)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    pen = GroupL21(alpha=alpha, groups=5, weights=weights)
    if positive:
        pen = pen + Positive()
    res = working_set_cd(X, y, penalty=pen, fit_intercept=fit_intercept, tol=1e-12)
    f = objective(X, y, res.x, pen, res.info["intercept"])
    f_sk = objective(X, y, est.coef_, pen, float(np.ravel(est.intercept_)[0])
                     if fit_intercept else 0.0)
    assert f <= f_sk + 1e-10
    assert f == pytest.approx(f_sk, rel=1e-8)
    np.testing.assert_allclose(res.x, est.coef_, atol=1e-5)


def test_same_solution_as_skglm_generalized_estimator():
    pytest.importorskip("skglm")
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import QuadraticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupBCD

    X, y, _ = grouped(n=70, p=40, size=4, seed=7)
    grp_ptr = np.arange(0, 41, 4, dtype=np.int32)  # skglm's kernels take int32
    grp_idx = np.arange(40, dtype=np.int32)
    weights = np.full(10, 2.0)
    est = GeneralizedLinearEstimator(QuadraticGroup(grp_ptr, grp_idx),
                                     WeightedGroupL2(0.05, weights, grp_ptr, grp_idx),
                                     GroupBCD(tol=1e-12, max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    pen = GroupL21(alpha=0.05, groups=4)  # default weights sqrt(4) = 2
    res = working_set_cd(X, y, penalty=pen, tol=1e-12)
    assert objective(X, y, res.x, pen) == pytest.approx(objective(X, y, est.coef_, pen),
                                                        rel=1e-8)
    np.testing.assert_allclose(res.x, est.coef_, atol=1e-5)


# ----------------------------------------------------------------------------- structure


@pytest.mark.parametrize("sparse", [False, True])
def test_zero_groups_are_exactly_zero(sparse):
    X, y, w_true = grouped(seed=8, sparse=sparse)
    pen = GroupL21(alpha=0.1, groups=4)
    res = working_set_cd(X, y, penalty=pen, tol=1e-10, fit_intercept=True)
    blocks = res.x.reshape(-1, 4)
    nz = np.any(blocks != 0.0, axis=1)
    assert 0 < nz.sum() < blocks.shape[0]
    assert np.all(blocks[~nz] == 0.0)  # exact zeros, not tiny values
    assert np.all(blocks[nz] != 0.0)  # a group is in or out as a whole


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_kept(sparse):
    X, y, _ = grouped(seed=9, sparse=sparse)
    X32 = X.astype(np.float32)
    pen = GroupL21(alpha=0.05, groups=4)
    res = working_set_cd(X32, y.astype(np.float32), penalty=pen, tol=1e-6,
                         fit_intercept=True)
    assert res.x.dtype == np.float32 and res.converged
    ref = working_set_cd(X, y, penalty=pen, tol=1e-10, fit_intercept=True)
    f32 = objective(X, y, res.x, pen, res.info["intercept"])
    f64 = objective(X, y, ref.x, pen, ref.info["intercept"])
    assert f32 == pytest.approx(f64, rel=1e-5)
    est = SparseRegression(penalty=pen).fit(X32, y.astype(np.float32))
    assert est.coef_.dtype == np.float32


def test_alpha_max_and_path():
    X, y, _ = grouped(seed=10)
    for pen in (GroupL21(groups=4), GroupL21(groups=4) + Positive()):
        for fi in (False, True):
            am = alpha_max(X, y, penalty=pen, fit_intercept=fi)
            from sparsopt.solvers.glm.working_set_cd import _with_alpha

            at = working_set_cd(X, y, penalty=_with_alpha(pen, am), fit_intercept=fi,
                                tol=1e-10)
            below = working_set_cd(X, y, penalty=_with_alpha(pen, 0.95 * am),
                                   fit_intercept=fi, tol=1e-10)
            assert np.all(at.x == 0.0) and np.any(below.x != 0.0)
    Xc = X - X.mean(axis=0)
    gn = np.linalg.norm((Xc.T @ (y - y.mean())).reshape(-1, 4), axis=1) / (X.shape[0] * 2.0)
    assert alpha_max(X, y, penalty=GroupL21(groups=4), fit_intercept=True) == \
        pytest.approx(gn.max())
    am = alpha_max(X, y, penalty=GroupL21(groups=4))
    alphas, coefs, intercepts, crits, n_iters = working_set_cd_path(
        X, y, alphas=am * np.array([1.0, 0.3, 0.1]), penalty=GroupL21(groups=4), tol=1e-10)
    assert np.all(coefs[:, 0] == 0.0)
    nnz = [int(np.count_nonzero(c)) for c in coefs.T]
    assert nnz[0] <= nnz[1] <= nnz[2] and nnz[2] > 0
    last = working_set_cd(X, y, penalty=GroupL21(alpha=alphas[-1], groups=4), tol=1e-10)
    np.testing.assert_allclose(coefs[:, -1], last.x, atol=1e-6)


def test_init_and_gs_s():
    X, y, _ = grouped(seed=11)
    pen = GroupL21(alpha=0.05, groups=4)
    ref = working_set_cd(X, y, penalty=pen, tol=1e-12)
    warm = working_set_cd(X, y, penalty=pen, tol=1e-12, init=ref.x)
    assert warm.info["n_outer"] <= 1
    gss = working_set_cd(X, y, penalty=pen, tol=1e-12, ws_strategy="gs-s", anderson=False)
    np.testing.assert_allclose(gss.x, ref.x, atol=1e-6)
    with pytest.raises(ValueError, match="gap"):
        working_set_cd(X, y, penalty=pen, ws_strategy="gap")


# ----------------------------------------------------------------------------- protocol


def test_callback_true_stops_after_one_check():
    X, y, _ = grouped(seed=12)
    calls = []

    def cb(state):
        calls.append(state)
        return True

    res = working_set_cd(X, y, penalty=GroupL21(alpha=0.05, groups=4), callback=cb)
    assert len(calls) == 1 and not res.converged
    assert res.info["stopped_by"] == "callback"


def test_one_convergence_warning():
    from sparsopt.exceptions import ConvergenceWarning

    X, y, _ = grouped(seed=13)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = working_set_cd(X, y, penalty=GroupL21(alpha=0.01, groups=4), tol=1e-14,
                             max_epochs=3)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and not res.converged
    assert conv[0].filename == __file__


def test_sparse_regression_group_lasso():
    X, y, _ = grouped(seed=14)
    pen = GroupL21(alpha=0.05, groups=4)
    est = SparseRegression(penalty=pen, tol=1e-10).fit(X, y)
    res = working_set_cd(X, y, penalty=pen, tol=1e-10, fit_intercept=True)
    np.testing.assert_allclose(est.coef_, res.x, atol=1e-10)
    pos = SparseRegression(penalty=pen, positive=True, tol=1e-10).fit(X, y)
    assert pos.coef_.min() >= 0.0
    ref = working_set_cd(X, y, penalty=pen + Positive(), tol=1e-10, fit_intercept=True)
    np.testing.assert_allclose(pos.coef_, ref.x, atol=1e-10)


@parametrize_with_checks([SparseRegression(penalty=GroupL21(alpha=0.01, groups=2), tol=1e-8,
                                           max_iter=20_000)])
def test_sklearn_checks_with_the_group_lasso(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float32 tolerances
        check(estimator)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_block_lipschitz_constants(sparse, fit_intercept):
    """L_G = ||X_G||_2^2 / n of the centred, weighted columns, for groups of mixed sizes
    (batched by size; the sparse path of groups above 16 features too)."""
    from sparsopt.solvers.glm.working_set_cd import _Groups, _Problem

    rng = np.random.default_rng(15)
    n, p = 40, 60
    X = rng.standard_normal((n, p))
    X[rng.random(X.shape) < 0.7] = 0.0
    y, sw = rng.standard_normal(n), rng.uniform(0.5, 2.0, n)
    groups = [[0, 2, 1], [5, 4], list(range(10, 30)), [31], list(range(32, 37)),
              list(range(37, 42))]
    prob = _Problem(sp.csc_matrix(X) if sparse else X, y, sw, fit_intercept, "test")
    grp = _Groups(prob, GroupL21(alpha=1.0, groups=groups).group_spec(p))
    s = sw * n / sw.sum()
    Xc = X - np.average(X, axis=0, weights=s) if fit_intercept else X
    Xc = Xc * np.sqrt(s)[:, None]
    for G in range(grp.n_groups):
        idx = grp.gidx[grp.gptr[G]:grp.gptr[G + 1]]
        assert grp.lg[G] == pytest.approx(np.linalg.norm(Xc[:, idx], 2) ** 2 / n, rel=1e-12)
    assert np.all(grp.thresh[len(groups):] == 0.0)  # features in no group: unpenalised
