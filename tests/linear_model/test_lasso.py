"""Lasso, ElasticNet (single and multi-target) and the working-set solver
``solvers.working_set_cd``; the CV models are tested in ``test_lasso_cv.py``."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sklm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sparsopt.linear_model._lasso import ElasticNet, Lasso, enet_path, lasso_path
from sparsopt.penalties import ElasticNet as ENPenalty
from sparsopt.solvers.glm.working_set_cd import (
    alpha_max,
    duality_gap,
    working_set_cd,
    working_set_cd_path,
)
from tests._sklearn_compat import sk_n_alphas


def correlated(n=100, p=300, rho=0.6, k=10, snr=3.0, seed=0):
    """Gaussian design with Toeplitz correlation rho^|i-j| and a k-sparse truth."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):  # AR(1) columns: corr(X_i, X_j) = rho^|i-j|
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    w = np.zeros(p)
    k = min(k, p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    y = X @ w
    y += rng.standard_normal(n) * np.linalg.norm(y) / (snr * np.sqrt(n))
    return X, y


def enet_objective(X, y, w, b, alpha, l1_ratio, sw=None):
    r = y - X @ w - b
    n = X.shape[0]
    sw = np.ones(n) if sw is None else sw * n / sw.sum()
    return (0.5 / n * np.sum(sw * r ** 2) + alpha * l1_ratio * np.abs(w).sum()
            + 0.5 * alpha * (1 - l1_ratio) * w @ w)


# ----------------------------------------------------------------------------- scikit-learn


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_objective_matches_sklearn_dense(l1_ratio, fit_intercept, positive):
    X, y = correlated(80, 200, seed=1)
    y = y + 2.0
    a_max = alpha_max(X, y, fit_intercept=fit_intercept)
    alpha = a_max / 20
    ours = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                      positive=positive, tol=1e-12, max_iter=100_000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = sklm.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              positive=positive, tol=1e-12, max_iter=100_000).fit(X, y)
    f_ours = enet_objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio)
    f_ref = enet_objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio)
    assert ours.converged_
    assert f_ours <= f_ref + 1e-10 * abs(f_ref)
    assert abs(f_ours - f_ref) <= 1e-9 * abs(f_ref)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-5, atol=1e-6)
    if positive:
        assert np.all(ours.coef_ >= 0)


def test_lasso_matches_sklearn_with_sample_weight_and_intercept():
    X, y = correlated(60, 40, seed=2)
    sw = np.random.default_rng(0).uniform(0.1, 3.0, X.shape[0])
    alpha = alpha_max(X, y, fit_intercept=True, sample_weight=sw) / 10
    ours = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
    ref = sklm.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-7)
    f_ours = enet_objective(X, y, ours.coef_, ours.intercept_, alpha, 1.0, sw)
    f_ref = enet_objective(X, y, ref.coef_, ref.intercept_, alpha, 1.0, sw)
    assert f_ours == pytest.approx(f_ref, rel=1e-10)


def test_peer_check_same_support_and_objective_as_skglm_and_sklearn():
    """Spec bcd.md §1(e) "measured peer check" at CI size: correlated data (rho 0.5, SNR 3),
    alpha = alpha_max / 20, fit_intercept=False; the three solvers agree on the support and
    our objective at tol=1e-10 is within 1e-10 (relative to F(0)) of the best tight run."""
    skglm = pytest.importorskip("skglm")
    from skglm.utils.data import make_correlated_data

    X, y, _ = make_correlated_data(n_samples=200, n_features=1000, rho=0.5, snr=3,
                                   random_state=0)
    alpha = np.max(np.abs(X.T @ y)) / len(y) / 20
    ours = Lasso(alpha=alpha, fit_intercept=False, tol=1e-10, max_iter=10**6).fit(X, y)
    sk = sklm.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=10**6).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gl = skglm.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12).fit(X, y)
    f = {name: enet_objective(X, y, m.coef_, 0.0, alpha, 1.0)
         for name, m in (("ours", ours), ("sklearn", sk), ("skglm", gl))}
    f0 = 0.5 * y @ y / len(y)
    assert (f["ours"] - min(f.values())) / f0 <= 1e-10
    supp = np.flatnonzero(ours.coef_)
    np.testing.assert_array_equal(supp, np.flatnonzero(np.abs(gl.coef_) > 1e-10))
    np.testing.assert_array_equal(supp, np.flatnonzero(np.abs(sk.coef_) > 1e-10))
    # the working sets never come close to the 1000 features
    assert ours.n_iter_ < 2000


def test_dual_gap_has_sklearn_scale():
    """``dual_gap_`` is the gap of the 1/n-scaled objective, like scikit-learn's."""
    X, y = correlated(50, 80, seed=3)
    alpha = alpha_max(X, y) / 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = sklm.Lasso(alpha=alpha, fit_intercept=False, tol=0.0, max_iter=3).fit(X, y)
    R = y - X @ ref.coef_
    G = X.T @ R / X.shape[0]
    gap, _, _ = duality_gap(R, G, ref.coef_, y, alpha, 0.0, False, X.shape[0])
    assert gap == pytest.approx(ref.dual_gap_, rel=1e-6)


def test_tol_is_the_sklearn_gap_criterion():
    X, y = correlated(60, 100, seed=4)
    alpha = alpha_max(X, y) / 10
    for tol in (1e-2, 1e-4, 1e-8):
        res = working_set_cd(X, y, alpha=alpha, tol=tol)
        assert res.converged
        assert res.info["dual_gap"] <= tol * (y @ y) / X.shape[0]
        assert res.info["tol_scaled"] == pytest.approx(tol * (y @ y) / X.shape[0])


# ----------------------------------------------------------------------------- sparse input


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_input_matches_dense(fit_intercept, weighted):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((70, 120)) * (rng.random((70, 120)) < 0.1)
    X[:, 3] += 1.0  # a column with a large mean: implicit centring matters
    y = X[:, :5] @ rng.standard_normal(5) + 0.1 * rng.standard_normal(70) + 1.5
    sw = rng.uniform(0.2, 2.0, 70) if weighted else None
    alpha = alpha_max(X, y, fit_intercept=fit_intercept, sample_weight=sw) / 10
    dense = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=50_000)
    dense.fit(X, y, sample_weight=sw)
    spr = clone(dense).fit(sp.csc_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(spr.coef_, dense.coef_, atol=1e-8)
    assert spr.intercept_ == pytest.approx(dense.intercept_, abs=1e-8)
    ref = sklm.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=50_000)
    ref.fit(sp.csc_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(spr.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(spr.predict(sp.csr_matrix(X)), dense.predict(X), atol=1e-7)


def test_sparse_input_is_not_modified_or_densified():
    rng = np.random.default_rng(6)
    X = sp.random(50, 400, density=0.02, format="csc", random_state=6)
    y = rng.standard_normal(50)
    before = X.copy()
    Lasso(alpha=0.01).fit(X, y)
    assert (X != before).nnz == 0


# ----------------------------------------------------------------------------- dtypes, warm start


def test_float32_kept_and_close_to_float64():
    X, y = correlated(60, 100, seed=7)
    r64 = Lasso(alpha=0.05, tol=1e-8).fit(X, y)
    r32 = Lasso(alpha=0.05, tol=1e-6).fit(X.astype(np.float32), y.astype(np.float32))
    assert r32.coef_.dtype == np.float32
    assert r32.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(r32.coef_, r64.coef_, atol=2e-3)
    Xs = sp.csc_matrix(X.astype(np.float32))
    r32s = Lasso(alpha=0.05, tol=1e-6).fit(Xs, y.astype(np.float32))
    assert r32s.coef_.dtype == np.float32
    np.testing.assert_allclose(r32s.coef_, r64.coef_, atol=2e-3)


def test_warm_start_reuses_coef():
    X, y = correlated(80, 200, seed=8)
    est = Lasso(alpha=0.02, tol=1e-10, warm_start=True).fit(X, y)
    first = est.n_iter_
    coef = est.coef_.copy()
    est.fit(X, y)
    assert est.n_iter_ < first
    np.testing.assert_allclose(est.coef_, coef, atol=1e-8)
    cold = Lasso(alpha=0.02, tol=1e-10).fit(X, y)
    assert cold.n_iter_ == first


# ----------------------------------------------------------------------------- solver options


@pytest.mark.parametrize("ws_strategy", ["gs-r", "gs-s", "gap"])
@pytest.mark.parametrize("anderson", [True, False])
@pytest.mark.parametrize("screening", [True, False])
def test_solver_options_reach_the_same_optimum(ws_strategy, anderson, screening):
    X, y = correlated(80, 250, seed=9)
    alpha = alpha_max(X, y) / 20
    ref = working_set_cd(X, y, alpha=alpha, tol=1e-13)
    res = working_set_cd(X, y, alpha=alpha, tol=1e-12, ws_strategy=ws_strategy, anderson=anderson,
                   screening=screening)
    assert res.converged
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)


def test_screening_discards_features_and_keeps_solution():
    X, y = correlated(80, 400, seed=10)
    alpha = alpha_max(X, y) / 3
    on = working_set_cd(X, y, alpha=alpha, tol=1e-12, screening=True)
    off = working_set_cd(X, y, alpha=alpha, tol=1e-12, screening=False)
    assert on.info["n_screened"] > 300
    assert off.info["n_screened"] == 0
    np.testing.assert_allclose(on.x, off.x, atol=1e-9)


def test_numpy_engine_matches_numba():
    X, y = correlated(20, 30, seed=11)
    alpha = alpha_max(X, y) / 5
    a = working_set_cd(X, y, alpha=alpha, tol=1e-10, engine="numpy")
    b = working_set_cd(X, y, alpha=alpha, tol=1e-10, engine="numba")
    np.testing.assert_allclose(a.x, b.x, atol=1e-8)


def test_working_sets_stay_small_on_sparse_solutions():
    """Reproduction of the peers' behaviour: with a sparse solution the working set is a
    small multiple of the support, and far fewer coordinates are updated than by plain CD."""
    X, y = correlated(100, 1000, seed=12)
    alpha = alpha_max(X, y) / 10
    res = working_set_cd(X, y, alpha=alpha, tol=1e-8)
    support = np.count_nonzero(res.x)
    sizes = [h["ws_size"] for h in res.history if "ws_size" in h]
    assert max(sizes) <= max(10, 2 * support) * 2
    # coordinate updates in units of full passes over the 1000 features
    assert res.n_iter * max(sizes) / X.shape[1] < 200


def test_path_is_warm_started_and_matches_single_fits():
    X, y = correlated(60, 80, seed=13)
    a_max = alpha_max(X, y, fit_intercept=True)
    alphas = a_max * np.array([0.5, 0.1, 0.02])
    out_alphas, coefs, icpt, gaps, n_iters = working_set_cd_path(X, y, alphas=alphas[::-1],
                                                                 fit_intercept=True, tol=1e-12)
    np.testing.assert_array_equal(out_alphas, alphas)
    for k, a in enumerate(alphas):
        single = Lasso(alpha=a, tol=1e-12, max_iter=50_000).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], single.coef_, atol=1e-8)
        assert icpt[k] == pytest.approx(single.intercept_, abs=1e-8)
    assert np.all(gaps >= 0)


def test_alpha_above_alpha_max_gives_zero_in_no_epoch():
    X, y = correlated(30, 50, seed=14)
    res = working_set_cd(X, y, alpha=1.01 * alpha_max(X, y), tol=1e-12)
    assert res.converged and res.n_iter == 0 and not np.any(res.x)


def test_callback_can_stop():
    X, y = correlated(60, 100, seed=15)
    calls = []
    res = working_set_cd(X, y, alpha=0.01, tol=1e-14,
                   callback=lambda s: calls.append(s.iteration) or len(calls) >= 2)
    assert len(calls) == 2 and res.info["stopped_by"] == "callback" and not res.converged


# ----------------------------------------------------------------------------- errors, warnings


def test_one_convergence_warning_naming_the_parameter():
    X, y = correlated(60, 200, seed=16)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = Lasso(alpha=1e-4, tol=1e-14, max_iter=3).fit(X, y)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1
    msg = str(conv[0].message)
    assert "max_iter" in msg and "duality gap" in msg
    assert not est.converged_ and np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("params, match", [
    ({"alpha": -1.0}, "alpha"),
    ({"l1_ratio": 1.5}, "l1_ratio"),
    ({"l1_ratio": -0.1}, "l1_ratio"),
    ({"max_iter": 0}, "max_iter"),
    ({"ws_strategy": "nope"}, "ws_strategy"),
])
def test_bad_parameters_raise(params, match):
    X, y = correlated(20, 10, seed=17)
    with pytest.raises(ValueError, match=match):
        ElasticNet(**params).fit(X, y)


@pytest.mark.parametrize("where", ["X", "y"])
def test_nan_input_raises(where):
    X, y = correlated(20, 10, seed=18)
    if where == "X":
        X[3, 2] = np.nan
    else:
        y[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Lasso().fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        working_set_cd(X, y, alpha=0.1)


def test_solver_errors_name_the_parameter():
    X, y = correlated(20, 10, seed=19)
    with pytest.raises(ValueError, match="alpha"):
        working_set_cd(X, y, alpha=-0.5)
    with pytest.raises(ValueError, match="l1_ratio"):
        working_set_cd(X, y, penalty=ENPenalty(alpha=0.1, l1_ratio=2.0))
    with pytest.raises(ValueError, match="y has"):
        working_set_cd(X, y[:-1], alpha=0.1)
    with pytest.raises(ValueError, match="sample_weight"):
        working_set_cd(X, y, alpha=0.1, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="init"):
        working_set_cd(X, y, alpha=0.1, init=np.ones(3))


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(allow_nan=True, allow_infinity=True),
       l1_ratio=st.floats(allow_nan=True, allow_infinity=True))
def test_solver_validates_scalars(alpha, l1_ratio):
    X, y = correlated(15, 6, seed=20)
    valid = np.isfinite(alpha) and alpha >= 0 and np.isfinite(l1_ratio) and 0 <= l1_ratio <= 1
    if valid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = working_set_cd(X, y, penalty=ENPenalty(alpha=alpha, l1_ratio=l1_ratio),
                                 max_epochs=50)
        assert np.all(np.isfinite(res.x))
    else:
        with pytest.raises(ValueError, match="alpha|l1_ratio"):
            working_set_cd(X, y, penalty=ENPenalty(alpha=alpha, l1_ratio=l1_ratio))


# ----------------------------------------------------------------------------- multi-target


def multi_target(n=60, p=50, n_targets=3, seed=30):
    X, _ = correlated(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((p, n_targets)) * (rng.random((p, n_targets)) < 0.1)
    Y = X @ W + 0.3 * rng.standard_normal((n, n_targets)) + np.arange(n_targets)
    return X, Y


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_multitarget_matches_sklearn(l1_ratio, fit_intercept, weighted, sparse):
    X, Y = multi_target()
    if sparse:
        X = X * (np.random.default_rng(31).random(X.shape) < 0.3)
    sw = np.random.default_rng(32).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    alpha = 0.05
    Xin = sp.csc_matrix(X) if sparse else X
    ours = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                      tol=1e-12, max_iter=100_000).fit(Xin, Y, sample_weight=sw)
    ref = sklm.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                          tol=1e-12, max_iter=100_000).fit(Xin, Y, sample_weight=sw)
    T, p = Y.shape[1], X.shape[1]
    assert ours.coef_.shape == ref.coef_.shape == (T, p)
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_) == ((T,) if fit_intercept
                                                                     else ())
    assert ours.dual_gap_.shape == (T,) and isinstance(ours.n_iter_, list)
    assert len(ours.n_iter_) == T and ours.converged_
    assert len(ours.objective_history_) == T
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-7)
    b_ours = np.broadcast_to(ours.intercept_, T)
    b_ref = np.broadcast_to(ref.intercept_, T)
    for k in range(T):
        f_ours = enet_objective(X, Y[:, k], ours.coef_[k], b_ours[k], alpha, l1_ratio, sw)
        f_ref = enet_objective(X, Y[:, k], ref.coef_[k], b_ref[k], alpha, l1_ratio, sw)
        assert f_ours <= f_ref + 1e-10 * abs(f_ref)
        # each column is exactly the single-target fit
        single = clone(ours).fit(Xin, Y[:, k], sample_weight=sw)
        np.testing.assert_allclose(ours.coef_[k], single.coef_, atol=1e-10)
    pred = ours.predict(Xin)
    assert pred.shape == (X.shape[0], T)
    np.testing.assert_allclose(pred, ref.predict(Xin), atol=1e-6)
    assert ours.sparse_coef_.shape == (T, p)


def test_one_column_y_has_sklearn_shapes():
    X, Y = multi_target(n_targets=1)
    ours = Lasso(alpha=0.05, tol=1e-12).fit(X, Y)
    ref = sklm.Lasso(alpha=0.05, tol=1e-12).fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape == (X.shape[1],)
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_) == (1,)
    assert np.ndim(ours.dual_gap_) == np.ndim(ref.dual_gap_) == 0
    assert isinstance(ours.n_iter_, int)
    assert ours.predict(X).shape == ref.predict(X).shape == (X.shape[0],)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    one_d = Lasso(alpha=0.05, tol=1e-12).fit(X, Y[:, 0])
    assert isinstance(one_d.intercept_, float)
    np.testing.assert_allclose(one_d.coef_, ours.coef_, atol=1e-12)


def test_multitarget_positive_float32_and_warm_start():
    X, Y = multi_target(seed=33)
    pos = Lasso(alpha=0.02, positive=True, tol=1e-10).fit(X, Y)
    ref = sklm.Lasso(alpha=0.02, positive=True, tol=1e-10, max_iter=100_000).fit(X, Y)
    assert np.all(pos.coef_ >= 0)
    np.testing.assert_allclose(pos.coef_, ref.coef_, atol=1e-6)

    r32 = Lasso(alpha=0.02, tol=1e-6).fit(X.astype(np.float32), Y.astype(np.float32))
    r64 = Lasso(alpha=0.02, tol=1e-10).fit(X, Y)
    assert r32.coef_.dtype == np.float32 and r32.intercept_.dtype == np.float32
    assert r32.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(r32.coef_, r64.coef_, atol=2e-3)

    est = Lasso(alpha=0.02, tol=1e-10, warm_start=True).fit(X, Y)
    first = list(est.n_iter_)
    est.fit(X, Y)
    assert all(b < a for a, b in zip(first, est.n_iter_))
    np.testing.assert_allclose(est.coef_, r64.coef_, atol=1e-8)
    # a different number of targets restarts from zero instead of failing
    est.fit(X, Y[:, :2])
    assert est.coef_.shape == (2, X.shape[1])


def test_multitarget_one_convergence_warning():
    X, Y = multi_target(seed=34)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = Lasso(alpha=1e-4, tol=1e-14, max_iter=2).fit(X, Y)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1
    msg = str(conv[0].message)
    assert "Lasso" in msg and "targets" in msg and "max_iter" in msg
    assert not est.converged_ and np.all(np.isfinite(est.coef_))


def test_multitarget_bad_input():
    X, Y = multi_target(seed=35)
    Y[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Lasso().fit(X, Y)
    Y[4, 1] = 0.0
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Lasso().fit(X, Y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        Lasso().fit(X, Y, sample_weight=np.ones(3))


# ----------------------------------------------------------------------------- sklearn spellings


def test_precompute_gram_is_validated_and_gives_the_same_fit():
    X, y = correlated(n=40, p=12, seed=3)
    ref = Lasso(alpha=0.05, fit_intercept=False, tol=1e-10).fit(X, y)
    for pre in (True, "auto", X.T @ X):
        est = Lasso(alpha=0.05, fit_intercept=False, tol=1e-10, precompute=pre).fit(X, y)
        np.testing.assert_array_equal(est.coef_, ref.coef_)
    with pytest.raises(ValueError, match="shape"):
        Lasso(precompute=np.eye(3)).fit(X, y)
    with pytest.raises(ValueError, match="not X\\^T X"):
        Lasso(fit_intercept=False, precompute=X.T @ X + 1.0).fit(X, y)
    # check_input=False skips the comparison (as scikit-learn's check_gram)
    Lasso(fit_intercept=False, precompute=X.T @ X + 1.0).fit(X, y, check_input=False)
    # the weighted Gram X^T diag(s) X (s rescaled to sum to n) is the right one
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 40)
    s = sw * 40 / sw.sum()
    ElasticNet(fit_intercept=False, precompute=(X * s[:, None]).T @ X).fit(
        X, y, sample_weight=sw)
    # a Gram of non-centred X with fit_intercept: ignored with scikit-learn's warning
    with pytest.warns(UserWarning, match="centred"):
        Lasso(alpha=0.05, precompute=(X + 1).T @ (X + 1)).fit(X + 1, y)


def test_estimator_path_is_sklearns_choice():
    assert Lasso.path is enet_path and ElasticNet.path is enet_path
    X, y = correlated(n=30, p=8, seed=1)
    a, c, g = Lasso.path(X, y, l1_ratio=1.0, alphas=5)
    a2, c2, g2 = lasso_path(X, y, alphas=5)
    np.testing.assert_array_equal(c, c2)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("positive", [False, True])
def test_enet_path_matches_sklearn(l1_ratio, positive):
    X, y = correlated(n=40, p=15, seed=2)
    kw = dict(l1_ratio=l1_ratio, eps=1e-2, positive=positive, tol=1e-12, max_iter=100_000)
    a, c, g, it = enet_path(X, y, return_n_iter=True, alphas=6, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ra, rc, rg = sklm.enet_path(X, y, **kw, **sk_n_alphas(6))
    np.testing.assert_allclose(a, ra, rtol=1e-12)
    assert c.shape == rc.shape == (15, 6) and g.shape == rg.shape == (6,)
    assert len(it) == 6 and all(isinstance(k, int) for k in it)
    for k in range(6):
        ours = enet_objective(X, y, c[:, k], 0.0, a[k], l1_ratio)
        ref = enet_objective(X, y, rc[:, k], 0.0, a[k], l1_ratio)
        assert ours <= ref * (1 + 1e-8) + 1e-14


def test_path_options_and_errors():
    X, y = correlated(n=30, p=8, seed=4)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, 30)
    a, c, _ = lasso_path(X, y, alphas=[0.3, 0.1], sample_weight=sw, tol=1e-10,
                         coef_init=np.ones(8), Xy=X.T @ (sw * 30 / sw.sum() * y),
                         precompute=(X * (sw * 30 / sw.sum())[:, None]).T @ X,
                         selection="random", random_state=0, do_screening=False)
    for k, alpha in enumerate(a):
        est = Lasso(alpha=alpha, fit_intercept=False, tol=1e-10).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(c[:, k], est.coef_, atol=1e-8)
    assert lasso_path(X.astype(np.float32), y, alphas=3)[1].dtype == np.float32
    assert lasso_path(sp.csc_matrix(X), y, alphas=3)[1].shape == (8, 3)
    with pytest.raises(ValueError, match="unexpected"):
        lasso_path(X, y, X_offset=np.zeros(8))
    with pytest.raises(ValueError, match="1-D"):
        lasso_path(X, np.c_[y, y])
    with pytest.raises(ValueError, match="Xy"):
        lasso_path(X, y, Xy=np.zeros(8))
    with pytest.raises(ValueError, match="l1_ratio=0"):
        enet_path(X, y, l1_ratio=0.0)
    with pytest.warns(ConvergenceWarning, match="lasso_path|enet_path"):
        lasso_path(X, y, alphas=[1e-4], tol=1e-14, max_iter=1)
