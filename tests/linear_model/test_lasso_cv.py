"""LassoCV and ElasticNetCV against scikit-learn (same folds, same grids)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sklm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GroupKFold, KFold

from sparsopt.linear_model._lasso import enet_path, lasso_path
from sparsopt.linear_model._lasso_cv import ElasticNetCV, LassoCV
from sparsopt.solvers.glm.working_set_cd import alpha_max
from tests._designs import ar1_design
from tests._sklearn_compat import sk_n_alphas

TIGHT = dict(tol=1e-12, max_iter=100_000)


def data(n=90, p=60, rho=0.6, k=6, seed=0):
    rng = np.random.default_rng(seed)
    X = ar1_design(rng, n, p, rho)
    w = np.zeros(p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    y = X @ w + 0.5 * rng.standard_normal(n) + 1.0
    return X, y


def weights(n, seed=1):
    return np.random.default_rng(seed).uniform(0.1, 3.0, n)


def assert_same_cv(ours, ref, coef_atol=1e-7):
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    assert ours.mse_path_.shape == ref.mse_path_.shape
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-8)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=coef_atol)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=coef_atol)


# ----------------------------------------------------------------------------- LassoCV


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_lassocv_matches_sklearn(weighted, fit_intercept):
    X, y = data(seed=21)
    sw = weights(X.shape[0]) if weighted else None
    cv = KFold(3, shuffle=True, random_state=0)
    ours = LassoCV(n_alphas=15, cv=cv, fit_intercept=fit_intercept, **TIGHT)
    ours.fit(X, y, sample_weight=sw)
    ref = sklm.LassoCV(**sk_n_alphas(15), cv=cv, fit_intercept=fit_intercept, **TIGHT)
    ref.fit(X, y, sample_weight=sw)
    assert_same_cv(ours, ref)
    assert not hasattr(ours, "l1_ratio_")


def test_lassocv_weights_change_the_selection_like_sklearn():
    """With weights concentrated on half the samples, alpha_max, the grid and the
    weighted held-out MSE all move, identically in both libraries."""
    X, y = data(seed=22)
    sw = np.where(np.arange(X.shape[0]) % 2 == 0, 5.0, 0.2)
    cv = KFold(4)
    plain = LassoCV(n_alphas=12, cv=cv, **TIGHT).fit(X, y)
    ours = LassoCV(n_alphas=12, cv=cv, **TIGHT).fit(X, y, sample_weight=sw)
    ref = sklm.LassoCV(**sk_n_alphas(12), cv=cv, **TIGHT).fit(X, y, sample_weight=sw)
    assert ours.alphas_[0] == pytest.approx(alpha_max(X, y, sample_weight=sw,
                                                      fit_intercept=True), rel=1e-12)
    assert not np.allclose(plain.alphas_, ours.alphas_)
    assert_same_cv(ours, ref)


def test_lassocv_sparse_weighted_and_explicit_alphas():
    X, y = data(seed=23)
    X = X * (np.random.default_rng(23).random(X.shape) < 0.3)
    sw = weights(X.shape[0], seed=2)
    cv = KFold(3)
    grid = alpha_max(X, y, fit_intercept=True) * np.array([0.3, 0.1, 0.5, 0.03])
    ours = LassoCV(alphas=grid, cv=cv, **TIGHT).fit(sp.csc_matrix(X), y, sample_weight=sw)
    ref = sklm.LassoCV(alphas=grid, cv=cv, **TIGHT).fit(sp.csc_matrix(X), y,
                                                        sample_weight=sw)
    assert_same_cv(ours, ref, coef_atol=1e-6)
    dense = LassoCV(alphas=grid, cv=cv, **TIGHT).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(dense.mse_path_, ours.mse_path_, rtol=1e-8)


def test_lassocv_threads_give_same_result():
    X, y = data(60, 40, seed=24)
    a = LassoCV(n_alphas=8, cv=3, n_jobs=1, **TIGHT).fit(X, y)
    b = LassoCV(n_alphas=8, cv=3, n_jobs=2, **TIGHT).fit(X, y)
    np.testing.assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-12)
    assert a.alpha_ == b.alpha_


def test_lassocv_one_convergence_warning():
    X, y = data(60, 40, seed=25)
    with pytest.warns(ConvergenceWarning, match="LassoCV.*max_iter") as rec:
        LassoCV(n_alphas=8, cv=3, tol=1e-12, max_iter=20).fit(X, y)
    assert sum(issubclass(w.category, ConvergenceWarning) and "path fits did not"
               in str(w.message) for w in rec) == 1


def test_lassocv_float32():
    X, y = data(60, 40, seed=26)
    est = LassoCV(n_alphas=8, cv=3, tol=1e-5, max_iter=20_000)
    r32 = est.fit(X.astype(np.float32), y.astype(np.float32))
    r64 = LassoCV(n_alphas=8, cv=3, tol=1e-10, max_iter=20_000).fit(X, y)
    assert r32.coef_.dtype == np.float32
    assert r32.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(r32.mse_path_, r64.mse_path_, rtol=5e-3)
    assert r32.alpha_ == pytest.approx(r64.alpha_, rel=1e-5)


# ----------------------------------------------------------------------------- ElasticNetCV


@pytest.mark.parametrize("l1_ratio", [0.5, [0.1, 0.5, 0.9], [0.7]])
@pytest.mark.parametrize("weighted", [False, True])
def test_enetcv_matches_sklearn(l1_ratio, weighted):
    X, y = data(seed=31)
    sw = weights(X.shape[0], seed=3) if weighted else None
    cv = KFold(3, shuffle=True, random_state=1)
    ours = ElasticNetCV(l1_ratio=l1_ratio, n_alphas=12, cv=cv, **TIGHT)
    ours.fit(X, y, sample_weight=sw)
    ref = sklm.ElasticNetCV(l1_ratio=l1_ratio, **sk_n_alphas(12), cv=cv, **TIGHT)
    ref.fit(X, y, sample_weight=sw)
    assert_same_cv(ours, ref)
    assert ours.l1_ratio_ == ref.l1_ratio_
    n_r = np.size(l1_ratio)
    assert ours.alphas_.shape == ((n_r, 12) if isinstance(l1_ratio, list) and n_r > 1
                                  else (12,))


def test_enetcv_explicit_alphas_with_ridge_l1_ratio():
    """l1_ratio=0 (ridge) is allowed with an explicit grid, shared by every l1_ratio; its
    held-out MSE is the closed-form ridge one."""
    X, y = data(seed=32)
    cv = KFold(3)
    grid = [1.0, 0.3, 0.1, 0.01]
    ours = ElasticNetCV(l1_ratio=[0.0, 0.5, 1.0], alphas=grid, cv=cv, **TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns about l1_ratio=0
        ref = sklm.ElasticNetCV(l1_ratio=[0.0, 0.5, 1.0], alphas=grid, cv=cv,
                                **TIGHT).fit(X, y)
    assert ours.alphas_.shape == ref.alphas_.shape == (4,)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (3, 4, 3)
    np.testing.assert_allclose(ours.mse_path_[1:], ref.mse_path_[1:], rtol=1e-8)
    # ridge: closed form. The gap criterion certifies ||w - w*||^2 <= 2 gap / alpha, i.e.
    # about 2e-5 at alpha = 0.01 with tol = 1e-12 (60 x 60 training folds): hence rel 1e-4
    for f, (train, test) in enumerate(cv.split(X)):
        Xm, ym = X[train].mean(axis=0), y[train].mean()
        Xc, yc = X[train] - Xm, y[train] - ym
        for k, a in enumerate(grid):
            w = np.linalg.solve(Xc.T @ Xc + len(train) * a * np.eye(X.shape[1]), Xc.T @ yc)
            mse = np.mean((y[test] - (X[test] - Xm) @ w - ym) ** 2)
            assert ours.mse_path_[0, k, f] == pytest.approx(mse, rel=1e-4)
    np.testing.assert_allclose(ours.mse_path_[0], ref.mse_path_[0], rtol=1e-4)
    assert (ours.alpha_, ours.l1_ratio_) == (ref.alpha_, ref.l1_ratio_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_enetcv_sparse_positive_and_threads():
    X, y = data(seed=33)
    X = np.abs(X) * (np.random.default_rng(33).random(X.shape) < 0.3)
    Xs = sp.csc_matrix(X)
    cv = KFold(3)
    kw = dict(l1_ratio=[0.3, 0.8], cv=cv, positive=True, **TIGHT)
    ours = ElasticNetCV(n_alphas=8, **kw).fit(Xs, y)
    ref = sklm.ElasticNetCV(**sk_n_alphas(8), **kw).fit(Xs, y)
    assert_same_cv(ours, ref, coef_atol=1e-6)
    assert np.all(ours.coef_ >= 0)
    dense = ElasticNetCV(n_alphas=8, **kw).fit(X, y)
    np.testing.assert_allclose(dense.mse_path_, ours.mse_path_, rtol=1e-8)
    threaded = ElasticNetCV(n_alphas=8, n_jobs=2, **kw).fit(Xs, y)
    np.testing.assert_allclose(threaded.mse_path_, ours.mse_path_, rtol=1e-12)


def test_enetcv_float32():
    X, y = data(60, 30, seed=34)
    est = ElasticNetCV(l1_ratio=[0.5, 0.9], n_alphas=6, cv=3, tol=1e-6)
    est.fit(X.astype(np.float32), y.astype(np.float32))
    assert est.coef_.dtype == np.float32
    assert est.predict(X.astype(np.float32)).dtype == np.float32


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("l1_ratio", [1.5, -0.1, [0.5, 1.2], [], [np.nan]])
def test_enetcv_bad_l1_ratio(l1_ratio):
    X, y = data(30, 10, seed=40)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetCV(l1_ratio=l1_ratio, n_alphas=3, cv=3).fit(X, y)


def test_enetcv_ridge_needs_explicit_alphas():
    X, y = data(30, 10, seed=41)
    with pytest.raises(ValueError, match="l1_ratio=0.*alphas"):
        ElasticNetCV(l1_ratio=[0.0, 0.5], n_alphas=3, cv=3).fit(X, y)


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
@pytest.mark.parametrize("params, match", [
    ({"alphas": [0.1, -1.0]}, "alphas"),
    ({"eps": 0.0}, "eps"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"max_iter": 0}, "max_iter"),
])
def test_cv_bad_parameters(Est, params, match):
    X, y = data(30, 10, seed=42)
    with pytest.raises(ValueError, match=match):
        Est(cv=3, **params).fit(X, y)


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
def test_cv_bad_data(Est):
    X, y = data(30, 10, seed=43)
    y[2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est(cv=3, n_alphas=3).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight|non-negative"):
        Est(cv=3, n_alphas=3).fit(X, np.nan_to_num(y), sample_weight=-np.ones(30))


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
def test_cv_is_single_target_like_sklearn(Est):
    X, y = data(30, 10, seed=45)
    with pytest.raises(ValueError, match="1d array"):
        Est(cv=3, n_alphas=3).fit(X, np.c_[y, y])
    with pytest.warns(DataConversionWarning):
        col = Est(cv=3, n_alphas=3, tol=1e-10).fit(X, y[:, None])
    flat = Est(cv=3, n_alphas=3, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(col.coef_, flat.coef_)
    assert col.coef_.shape == (10,) and isinstance(col.intercept_, float)


_VALID_RATIO = st.floats(min_value=1e-3, max_value=1.0)
_INVALID_RATIO = st.one_of(st.just(np.nan), st.just(np.inf), st.floats(max_value=-1e-12),
                           st.floats(min_value=1.0 + 1e-9, allow_infinity=True))


# hypothesis 6.90 (the floor) sometimes flags these small lists as "too large" to generate
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(st.lists(st.one_of(_VALID_RATIO, _INVALID_RATIO), min_size=1, max_size=3))
def test_enetcv_validates_every_l1_ratio(ratios):
    X, y = data(24, 6, seed=44)
    valid = all(np.isfinite(r) and 0 < r <= 1 for r in ratios)
    est = ElasticNetCV(l1_ratio=ratios, n_alphas=3, cv=2, tol=1e-6)
    if valid:
        est.fit(X, y)
        assert est.l1_ratio_ in ratios and np.all(np.isfinite(est.coef_))
    else:
        with pytest.raises(ValueError, match="l1_ratio"):
            est.fit(X, y)


# ----------------------------------------------------------------------------- sklearn spellings


@pytest.mark.parametrize("Est", [LassoCV, ElasticNetCV])
@pytest.mark.parametrize("routing", [False, True])
def test_groups_reach_the_splitter(Est, routing):
    X, y = data(n=60, p=20)
    groups = np.arange(60) % 6
    with config_context(enable_metadata_routing=routing):
        ours = Est(cv=GroupKFold(3), alphas=8, **TIGHT).fit(X, y, groups=groups)
        ref = getattr(sklm, Est.__name__)(cv=GroupKFold(3), **sk_n_alphas(8), **TIGHT)
        if routing:
            ref.fit(X, y, groups=groups)
        else:  # scikit-learn refuses groups without routing: the same folds by hand
            ref.set_params(cv=list(GroupKFold(3).split(X, y, groups))).fit(X, y)
    assert_same_cv(ours, ref, coef_atol=1e-6)
    with pytest.raises(ValueError):
        Est(cv=GroupKFold(3), alphas=3).fit(X, y)  # GroupKFold needs groups


def test_unknown_metadata_is_refused_without_routing():
    X, y = data(n=30, p=8)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        LassoCV(cv=3, alphas=3).fit(X, y, foo=np.ones(30))


def test_metadata_routing_object():
    router = LassoCV(cv=GroupKFold(2)).get_metadata_routing()
    assert "groups" in str(router) and "sample_weight" in str(router)


def test_verbose_shows_progress_over_the_path_fits(capsys):
    X, y = data(n=40, p=8)
    ElasticNetCV(l1_ratio=[0.5, 0.9], cv=3, alphas=4, verbose=1).fit(X, y)
    err = capsys.readouterr()
    out = err.out + err.err
    assert "ElasticNetCV" in out and "6/6" in out


def test_precompute_and_path_spellings():
    X, y = data(n=40, p=8)
    assert LassoCV.path is lasso_path and ElasticNetCV.path is enet_path
    a = LassoCV(cv=3, alphas=5, precompute=True).fit(X, y)
    b = LassoCV(cv=3, alphas=5, precompute=False).fit(X, y)
    assert a.alpha_ == b.alpha_
    with pytest.raises(ValueError, match="shape"):
        LassoCV(cv=3, precompute=np.eye(2)).fit(X, y)
    assert isinstance(a.n_iter_, int) and isinstance(a.dual_gap_, float)
