"""scikit-learn's own usage of its linear models, run twice: with the scikit-learn import
and with the sparsopt import (only the import changes).

The snippets follow scikit-learn 1.9's docstring examples, user guide and gallery (written
anew, small sizes). Each snippet is a function of ``lm``, the namespace the names come
from; the tests compare what the two runs return: same shapes and types, coefficients
close, objectives no worse (``<= sklearn's * (1 + 1e-6)`` at a tight tolerance), the same
alpha chosen by cross-validation.
"""

import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import sklearn.linear_model as sklm
from sklearn.datasets import load_diabetes, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sparsopt.linear_model as solm
from tests._sklearn_compat import requires_sklearn_19

pytestmark = requires_sklearn_19

SK = types.SimpleNamespace(**{k: getattr(sklm, k) for k in (
    "Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "lasso_path", "enet_path")})
SO = types.SimpleNamespace(**{k: getattr(solm, k) for k in (
    "Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "lasso_path", "enet_path")})
TIGHT = dict(tol=1e-12, max_iter=100_000)


def both(snippet, *args, **kwargs):
    """Run ``snippet(lm, ...)`` with scikit-learn's then sparsopt's names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return snippet(SK, *args, **kwargs), snippet(SO, *args, **kwargs)


def enet_obj(X, y, coef, intercept, alpha, l1_ratio=1.0):
    r = y - X @ coef - intercept
    return (0.5 * np.mean(r ** 2) + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


# ----------------------------------------------------------------------------- Lasso


def test_lasso_docstring_example():
    def snippet(lm):
        clf = lm.Lasso(alpha=0.1)
        clf.fit([[0, 0], [1, 1], [2, 2]], [0, 1, 2])
        return clf.coef_, clf.intercept_, clf.predict([[1, 1]])

    (c1, b1, p1), (c2, b2, p2) = both(snippet)
    np.testing.assert_allclose(c2, c1, atol=1e-6)
    assert isinstance(b2, float) and b2 == pytest.approx(b1, abs=1e-6)
    np.testing.assert_allclose(p2, p1, atol=1e-6)


def test_elasticnet_docstring_example():
    def snippet(lm):
        X, y = make_regression(n_features=2, random_state=0)
        regr = lm.ElasticNet(random_state=0, tol=1e-12)
        regr.fit(X, y)
        return X, y, regr, regr.predict([[0, 0]])

    (X, y, r1, p1), (_, _, r2, p2) = both(snippet)
    np.testing.assert_allclose(r2.coef_, r1.coef_, rtol=1e-6)
    np.testing.assert_allclose(p2, p1, rtol=1e-6)
    assert (enet_obj(X, y, r2.coef_, r2.intercept_, 1.0, 0.5)
            <= enet_obj(X, y, r1.coef_, r1.intercept_, 1.0, 0.5) * (1 + 1e-6))


@pytest.mark.parametrize("Name", ["Lasso", "ElasticNet"])
def test_all_sklearn_parameters_and_attributes(Name):
    """Every constructor and fit argument of scikit-learn 1.9 is accepted, and the fitted
    attributes have scikit-learn's types and shapes."""
    X, y = make_regression(n_samples=40, n_features=12, n_informative=4, noise=1.0,
                           random_state=1)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 40)

    def snippet(lm):
        Est = getattr(lm, Name)
        est = Est(alpha=0.5, fit_intercept=True, precompute=False, copy_X=True,
                  warm_start=True, positive=True, random_state=0, selection="random",
                  **TIGHT)
        est.fit(X, y, sample_weight=sw, check_input=True)
        est.fit(X, y, sample_weight=sw)  # warm start
        return est

    ref, ours = both(snippet)
    assert set(ref.get_params()) <= set(ours.get_params())
    assert ours.coef_.shape == ref.coef_.shape and ours.coef_.min() >= 0
    assert type(ours.intercept_) is type(float(ref.intercept_))
    assert np.ndim(ours.dual_gap_) == np.ndim(ref.dual_gap_) == 0
    assert isinstance(ours.n_iter_, int)
    assert ours.sparse_coef_.shape == ref.sparse_coef_.shape
    assert sp.issparse(ours.sparse_coef_)
    l1 = 1.0 if Name == "Lasso" else 0.5
    s = sw * 40 / sw.sum()

    def obj(e):
        r = y - X @ e.coef_ - e.intercept_
        return (0.5 * np.mean(s * r ** 2) + 0.5 * l1 * np.abs(e.coef_).sum()
                + 0.25 * (1 - l1) * e.coef_ @ e.coef_)

    assert obj(ours) <= obj(ref) * (1 + 1e-6)


def test_precompute_gram_user_guide():
    """Passing a Gram matrix (no intercept, so X^T X is the right one)."""
    X, y = make_regression(n_samples=50, n_features=10, random_state=2)

    def snippet(lm):
        G = X.T @ X
        return lm.Lasso(alpha=1.0, fit_intercept=False, precompute=G, **TIGHT).fit(X, y)

    ref, ours = both(snippet)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)

    def bad(lm):
        with pytest.raises(ValueError):
            lm.Lasso(fit_intercept=False, precompute=X.T @ X + 1.0).fit(X, y)

    both(bad)


def test_multi_target_lasso():
    X, Y = make_regression(n_samples=30, n_features=8, n_targets=3, random_state=0)

    def snippet(lm):
        return lm.Lasso(alpha=0.5, **TIGHT).fit(X, Y)

    ref, ours = both(snippet)
    assert ours.coef_.shape == ref.coef_.shape == (3, 8)
    assert ours.intercept_.shape == ref.intercept_.shape == (3,)
    assert np.shape(ours.dual_gap_) == np.shape(ref.dual_gap_) == (3,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_pipeline_and_grid_search():
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:150], y[:150]

    def snippet(lm):
        pipe = make_pipeline(StandardScaler(), lm.Lasso(**TIGHT))
        gs = GridSearchCV(pipe, {"lasso__alpha": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
        return gs.best_params_, gs.best_score_

    (p1, s1), (p2, s2) = both(snippet)
    assert p1 == p2 and s2 == pytest.approx(s1, rel=1e-6)


# ----------------------------------------------------------------------------- paths


def test_lasso_path_docstring_example():
    def snippet(lm):
        X = np.array([[1, 2, 3.1], [2.3, 5.4, 4.3]]).T
        y = np.array([1, 2, 3.1])
        alphas, coef_path, gaps = lm.lasso_path(X, y, alphas=[5.0, 1.0, 0.5], **TIGHT)
        return alphas, coef_path, gaps

    (a1, c1, g1), (a2, c2, g2) = both(snippet)
    np.testing.assert_allclose(a2, a1)
    assert c2.shape == c1.shape == (2, 3) and g2.shape == g1.shape == (3,)
    np.testing.assert_allclose(c2, c1, atol=1e-6)


@pytest.mark.parametrize("name", ["lasso_path", "enet_path", "Lasso.path", "ElasticNet.path",
                                  "LassoCV.path", "ElasticNetCV.path"])
def test_path_shapes_and_objectives(name):
    X, y = make_regression(n_samples=40, n_features=15, n_informative=5, noise=2.0,
                           random_state=3)
    X = StandardScaler().fit_transform(X)
    y = y - y.mean()

    def snippet(lm):
        owner, _, attr = name.partition(".")
        path = getattr(getattr(lm, owner), attr) if attr else getattr(lm, owner)
        return path(X, y, eps=1e-2, alphas=7, return_n_iter=True, **TIGHT)

    (a1, c1, g1, n1), (a2, c2, g2, n2) = both(snippet)
    np.testing.assert_allclose(a2, a1, rtol=1e-10)
    assert c2.shape == c1.shape == (15, 7) and g2.shape == g1.shape == (7,)
    assert len(n2) == len(n1) == 7
    # Lasso.path is enet_path (l1_ratio=0.5) in scikit-learn: the same here
    l1 = 1.0 if name in ("lasso_path", "LassoCV.path") else 0.5
    for k in range(7):
        assert (enet_obj(X, y, c2[:, k], 0.0, a2[k], l1)
                <= enet_obj(X, y, c1[:, k], 0.0, a1[k], l1) * (1 + 1e-6))


# ----------------------------------------------------------------------------- CV


def test_lassocv_docstring_example():
    def snippet(lm):
        X, y = make_regression(n_samples=60, n_features=30, noise=4, random_state=0)
        reg = lm.LassoCV(cv=5, random_state=0, **TIGHT).fit(X, y)
        return reg, reg.score(X, y), reg.predict(X[:1,])

    (r1, s1, p1), (r2, s2, p2) = both(snippet)
    assert r2.alpha_ == pytest.approx(r1.alpha_, rel=1e-10)
    np.testing.assert_allclose(r2.alphas_, r1.alphas_, rtol=1e-10)
    assert r2.mse_path_.shape == r1.mse_path_.shape == (100, 5)
    np.testing.assert_allclose(r2.mse_path_, r1.mse_path_, rtol=1e-6)
    assert s2 == pytest.approx(s1, rel=1e-8) and p2 == pytest.approx(p1, rel=1e-6)
    assert np.ndim(r2.dual_gap_) == np.ndim(r1.dual_gap_) == 0
    assert isinstance(r2.n_iter_, int) and isinstance(r1.n_iter_, (int, np.integer))


def test_elasticnetcv_docstring_example():
    def snippet(lm):
        X, y = make_regression(n_features=2, random_state=0)
        regr = lm.ElasticNetCV(cv=5, random_state=0, **TIGHT)
        regr.fit(X, y)
        return regr, regr.predict([[0, 0]])

    (r1, p1), (r2, p2) = both(snippet)
    assert r2.alpha_ == pytest.approx(r1.alpha_, rel=1e-10)
    assert r2.l1_ratio_ == r1.l1_ratio_ == 0.5
    assert r2.intercept_ == pytest.approx(r1.intercept_, rel=1e-6)
    np.testing.assert_allclose(p2, p1, rtol=1e-6)


def test_elasticnetcv_several_l1_ratios_shapes():
    X, y = make_regression(n_samples=50, n_features=10, noise=5.0, random_state=4)

    def snippet(lm):
        return lm.ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9, 1.0], alphas=20, cv=3,
                               **TIGHT).fit(X, y)

    ref, ours = both(snippet)
    assert ours.alphas_.shape == ref.alphas_.shape == (4, 20)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (4, 20, 3)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)


def test_gallery_lasso_model_selection_cross_validation():
    """'Lasso model selection: AIC-BIC / cross-validation', the cross-validation part."""
    X, y = load_diabetes(return_X_y=True)

    def snippet(lm):
        model = make_pipeline(StandardScaler(), lm.LassoCV(cv=10, **TIGHT)).fit(X, y)
        lasso = model[-1]
        return lasso.alpha_, lasso.alphas_, lasso.mse_path_.mean(axis=-1)

    (a1, g1, m1), (a2, g2, m2) = both(snippet)
    assert a2 == pytest.approx(a1, rel=1e-10)
    np.testing.assert_allclose(g2, g1, rtol=1e-10)
    np.testing.assert_allclose(m2, m1, rtol=1e-6)


@pytest.mark.parametrize("Name", ["LassoCV", "ElasticNetCV"])
def test_group_kfold_with_metadata_routing(Name):
    """The metadata routing user guide: groups routed to the splitter."""
    X, y = make_regression(n_samples=60, n_features=10, noise=3.0, random_state=5)
    groups = np.repeat(np.arange(6), 10)

    def snippet(lm):
        with sklearn.config_context(enable_metadata_routing=True):
            est = getattr(lm, Name)(cv=GroupKFold(3), alphas=10, **TIGHT)
            return est.fit(X, y, groups=groups)

    ref, ours = both(snippet)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    # sparsopt also takes groups without routing (scikit-learn requires routing)
    plain = getattr(solm, Name)(cv=GroupKFold(3), alphas=10, **TIGHT).fit(X, y, groups=groups)
    assert plain.alpha_ == ours.alpha_


# ----------------------------------------------------------------------------- logistic


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _sk_logreg(C, **kw):
    return sklm.LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-12,
                                   max_iter=100_000, **kw)


def _so_logreg(C, n, **kw):
    # the intended difference: alpha = 1 / (C n_samples) (mean datafit)
    return solm.SparseLogisticRegression(alpha=1.0 / (C * n), tol=1e-12, max_iter=200, **kw)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_logistic_regression_docstring_example(binary, class_weight):
    """LogisticRegression's docstring example (iris), with the l1 penalty."""
    X, y = _iris()
    if binary:
        y = (y == 2).astype(int)  # unbalanced: 50 against 100
    C = 1.0
    ref = _sk_logreg(C, class_weight=class_weight).fit(X, y)
    ours = _so_logreg(C, X.shape[0], class_weight=class_weight).fit(X, y)
    for meth in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        a, b = getattr(ref, meth)(X[:2, :]), getattr(ours, meth)(X[:2, :])
        assert a.shape == b.shape, meth
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    assert ours.n_iter_.shape == ref.n_iter_.shape == (1,)
    assert ours.n_iter_.dtype == ref.n_iter_.dtype
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert ours.score(X, y) == ref.score(X, y)


def test_logistic_alpha_is_one_over_c_n_samples():
    """alpha = 1 / (C n_samples): the same objective, so the same minimiser."""
    X, y = _iris()
    n = X.shape[0]
    yi = np.searchsorted(np.unique(y), y)

    def sk_obj(est, C):
        lp = est.predict_log_proba(X)[np.arange(n), yi]
        return -C * lp.sum() + np.abs(est.coef_).sum()

    for C in (0.1, 10.0):
        ref = _sk_logreg(C).fit(X, y)
        ours = _so_logreg(C, n).fit(X, y)
        assert sk_obj(ours, C) <= sk_obj(ref, C) * (1 + 1e-6)
