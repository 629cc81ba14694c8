"""Tests of SparseLogisticRegression, MultinomialLogisticRegression and the prox_newton solver."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsopt.linear_model._logistic import (
    MultinomialLogisticRegression,
    SparseLogisticRegression,
)
from sparsopt.solvers.prox_newton import logistic_alpha_max, prox_newton

# ----------------------------------------------------------------------------- helpers


def _binary_data(n=120, p=40, seed=0, rho=0.5):
    rng = np.random.default_rng(seed)
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(cov).T
    w = np.zeros(p)
    k = min(5, p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k) * 2
    y = np.where(X @ w + 0.5 + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


def _multi_data(n=150, p=20, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((p, K))
    W[:4] = rng.standard_normal((4, K)) * 2
    y = np.argmax(X @ W + rng.gumbel(size=(n, K)), axis=1)
    return X, y


def _obj_binary(X, y, w, b, alpha):
    z = X @ w + b
    return np.mean(np.logaddexp(0, -y * z)) + alpha * np.abs(w).sum()


def _obj_multi(X, y, W, b, alpha, group=False):
    Z = X @ W + b
    loss = np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y])
    pen = np.linalg.norm(W, axis=1).sum() if group else np.abs(W).sum()
    return loss + alpha * pen


def _sk_l1(C, **kw):
    """scikit-learn's l1 logistic regression (``penalty`` is deprecated since 1.8)."""
    return LogisticRegression(l1_ratio=1.0, C=C, **kw)


# ----------------------------------------------------------------------------- solver


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_binary_objective_matches_sklearn(fit_intercept):
    X, y = _binary_data()
    n = X.shape[0]
    alpha = logistic_alpha_max(X, y, fit_intercept=fit_intercept) / 10
    res = prox_newton(X, y, alpha=alpha, fit_intercept=fit_intercept, tol=1e-10)
    assert res.converged
    ours = _obj_binary(X, y, res.x, res.info["intercept"], alpha)
    assert ours == pytest.approx(res.info["objective"], rel=1e-12)
    if fit_intercept:  # liblinear penalises the intercept: saga for this one
        clf = _sk_l1(1 / (n * alpha), solver="saga", tol=1e-12, max_iter=100_000)
    else:
        clf = _sk_l1(1 / (n * alpha), solver="liblinear", tol=1e-12, max_iter=10_000,
                     fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    theirs = _obj_binary(X, y, clf.coef_[0], clf.intercept_[0] if fit_intercept else 0.0, alpha)
    assert ours <= theirs + 1e-10
    assert ours == pytest.approx(theirs, rel=1e-7)
    np.testing.assert_allclose(res.x, clf.coef_[0], atol=2e-4)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_binary_objective_matches_skglm(fit_intercept):
    skglm = pytest.importorskip("skglm")
    X, y = _binary_data(seed=1)
    alpha = logistic_alpha_max(X, y, fit_intercept=fit_intercept) / 20
    clf = skglm.SparseLogisticRegression(alpha=alpha, tol=1e-12, max_iter=100,
                                         fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skglm: ConvergenceWarning, NumbaPerformanceWarning
        clf.fit(X, y)
    est = SparseLogisticRegression(alpha=alpha, tol=1e-12,
                                   fit_intercept=fit_intercept).fit(X, y)
    b_sk = np.atleast_1d(clf.intercept_)[0] if fit_intercept else 0.0
    theirs = _obj_binary(X, y, clf.coef_[0], b_sk, alpha)
    ours = _obj_binary(X, y, est.coef_[0], est.intercept_[0], alpha)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(est.coef_, clf.coef_, atol=1e-7)


def test_multinomial_l1_matches_sklearn_saga():
    X, y = _multi_data(n=100, p=10)
    n = X.shape[0]
    alpha = 0.02
    res = prox_newton(X, y, alpha=alpha, loss="multinomial", tol=1e-10)
    assert res.converged and res.x.shape == (10, 3)
    ours = _obj_multi(X, y, res.x, res.info["intercept"], alpha)
    clf = _sk_l1(1 / (n * alpha), solver="saga", tol=1e-12, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    theirs = _obj_multi(X, y, clf.coef_.T, clf.intercept_, alpha)
    assert ours <= theirs + 1e-10
    assert ours == pytest.approx(theirs, rel=1e-7)


def _prox_grad_group(X, y, K, alpha, n_iter=20000):
    """Plain accelerated proximal gradient for the group multinomial model (test oracle)."""
    n, p = X.shape
    Y = np.eye(K)[y]
    L = 0.5 * np.linalg.norm(np.column_stack([X, np.ones(n)]), 2) ** 2 / n
    V = np.zeros((p + 1, K))
    Wc = V.copy()
    t = 1.0
    for _ in range(n_iter):
        Z = X @ V[:p] + V[p]
        R = (np.exp(log_softmax(Z, axis=1)) - Y) / n
        U = V - np.vstack([X.T @ R, R.sum(0)]) / L
        nrm = np.linalg.norm(U[:p], axis=1, keepdims=True)
        U[:p] *= np.maximum(0, 1 - (alpha / L) / np.maximum(nrm, 1e-300))
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        V = U + (t - 1) / t_new * (U - Wc)
        Wc, t = U, t_new
    return Wc[:p], Wc[p]


def test_multinomial_group_matches_proximal_gradient_and_kkt():
    X, y = _multi_data(n=80, p=8, seed=3)
    alpha = 0.03
    res = prox_newton(X, y, alpha=alpha, loss="multinomial", penalty="group", tol=1e-10)
    assert res.converged
    W, b = res.x, res.info["intercept"]
    W_ref, b_ref = _prox_grad_group(X, y, 3, alpha)
    ours = _obj_multi(X, y, W, b, alpha, group=True)
    ref = _obj_multi(X, y, W_ref, b_ref, alpha, group=True)
    assert ours <= ref + 1e-10
    assert ours == pytest.approx(ref, rel=1e-8)
    rows = np.linalg.norm(W, axis=1) > 0
    assert np.array_equal(rows, np.linalg.norm(W_ref, axis=1) > 1e-8)
    assert 0 < rows.sum() < 8  # a genuinely sparse group solution
    # KKT on the rows: zero rows have ||G_j|| <= alpha, active rows G_j = -alpha W_j/||W_j||
    Z = X @ W + b
    G = X.T @ ((np.exp(log_softmax(Z, axis=1)) - np.eye(3)[y]) / len(y))
    nw = np.linalg.norm(W, axis=1)
    assert np.all(np.linalg.norm(G[~rows], axis=1) <= alpha + 1e-9)
    np.testing.assert_allclose(G[rows], -alpha * W[rows] / nw[rows, None], atol=1e-9)


@pytest.mark.parametrize("loss", ["logistic", "multinomial"])
def test_sparse_csc_equals_dense(loss):
    if loss == "logistic":
        X, y = _binary_data(n=80, p=30, seed=2)
    else:
        X, y = _multi_data(n=80, p=30, seed=2)
    X[np.abs(X) < 0.8] = 0.0
    kw = dict(alpha=0.01, loss=loss, tol=1e-10)
    dense = prox_newton(X, y, **kw)
    sparse = prox_newton(sp.csc_matrix(X), y, **kw)
    csr = prox_newton(sp.csr_matrix(X), y, **kw)
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-8)
    np.testing.assert_allclose(csr.x, dense.x, atol=1e-8)
    assert sparse.info["objective"] == pytest.approx(dense.info["objective"], rel=1e-12)


@pytest.mark.parametrize("loss, penalty", [("logistic", "l1"), ("multinomial", "l1"),
                                           ("multinomial", "group")])
def test_numpy_engine_gives_the_same_solution(loss, penalty):
    X, y = (_binary_data(n=40, p=12) if loss == "logistic" else _multi_data(n=40, p=8))
    kw = dict(alpha=0.02, loss=loss, penalty=penalty, tol=1e-9)
    a = prox_newton(X, y, engine="numpy", **kw)
    b = prox_newton(X, y, engine="numba", **kw)
    np.testing.assert_allclose(a.x, b.x, atol=1e-8)


def test_newton_identifies_support_and_converges_fast():
    """Proximal Newton: few outer iterations and Newton steps to a 1e-10 KKT violation,
    with a working set that stays close to twice the support (no full passes)."""
    X, y = _binary_data(n=200, p=500, seed=4)
    alpha = logistic_alpha_max(X, y) / 10
    res = prox_newton(X, y, alpha=alpha, tol=1e-10)
    assert res.converged
    assert res.n_iter <= 10
    assert res.info["n_pn_iter"] <= 60
    supp = np.count_nonzero(res.x)
    assert 0 < supp < 100
    assert max(res.info["ws_sizes"]) <= max(10, 2 * supp + 10)
    # the KKT violation falls superlinearly in the last outer iterations
    crits = [h["stop_crit"] for h in res.history]
    assert crits[-1] <= 1e-10 and crits[0] > 1e-6


@pytest.mark.parametrize("loss, penalty", [("logistic", "l1"), ("multinomial", "l1"),
                                           ("multinomial", "group")])
def test_fixpoint_working_sets_reach_the_same_solution(loss, penalty):
    X, y = (_binary_data(n=60, p=50) if loss == "logistic" else _multi_data(n=60, p=30))
    kw = dict(alpha=0.02, loss=loss, penalty=penalty, tol=1e-10)
    a = prox_newton(X, y, ws_strategy="subdiff", **kw)
    b = prox_newton(sp.csc_matrix(X), y, ws_strategy="fixpoint", **kw)
    assert a.converged and b.converged
    np.testing.assert_allclose(b.x, a.x, atol=1e-7)
    with pytest.raises(ValueError, match="ws_strategy"):
        prox_newton(X, y, ws_strategy="gs", **kw)


def test_alpha_max_gives_zero_coefficients():
    X, y = _binary_data()
    a_max = logistic_alpha_max(X, y)
    res = prox_newton(X, y, alpha=a_max * 1.001, tol=1e-10)
    assert not np.any(res.x)
    assert res.info["intercept"] == pytest.approx(np.log(np.mean(y > 0) / np.mean(y < 0)))
    res = prox_newton(X, y, alpha=a_max * 0.9, tol=1e-10)
    assert np.any(res.x)


def test_convergence_warning_once():
    X, y = _binary_data()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = prox_newton(X, y, alpha=1e-3, tol=1e-14, max_iter=1, max_pn_iter=1)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1
    assert "KKT" in str(conv[0].message) and "max_iter" in str(conv[0].message)
    assert not res.converged and np.all(np.isfinite(res.x))


def test_solver_errors():
    X, y = _binary_data(n=20, p=5)
    with pytest.raises(ValueError, match="alpha"):
        prox_newton(X, y, alpha=-1.0)
    with pytest.raises(ValueError, match="group"):
        prox_newton(X, y, alpha=0.1, penalty="group")
    with pytest.raises(ValueError, match="-1 and \\+1"):
        prox_newton(X, (y > 0).astype(float) * 2, alpha=0.1)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        prox_newton(Xn, y, alpha=0.1)
    yn = y.copy()
    yn[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        prox_newton(X, yn, alpha=0.1)
    with pytest.raises(ValueError, match="sample_weight"):
        prox_newton(X, y, alpha=0.1, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="coef_init"):
        prox_newton(X, y, alpha=0.1, coef_init=np.zeros(3))
    with pytest.raises(ValueError, match="loss"):
        prox_newton(X, y, alpha=0.1, loss="hinge")


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False)
       | st.just(float("nan")) | st.just(float("inf")))
def test_bad_alpha_is_refused_with_its_name(alpha):
    X, y = _binary_data(n=10, p=3)
    with pytest.raises(ValueError, match="alpha"):
        SparseLogisticRegression(alpha=alpha).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        prox_newton(X, y, alpha=alpha)


# ----------------------------------------------------------------------------- estimators


def test_estimator_labels_of_any_type_and_predictions():
    X, y = _binary_data()
    labels = np.where(y > 0, "spam", "ham")
    clf = SparseLogisticRegression(alpha=0.01).fit(X, labels)
    assert list(clf.classes_) == ["ham", "spam"]
    assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, clf.classes_[(proba[:, 1] > 0.5).astype(int)])
    assert clf.score(X, labels) > 0.85
    assert clf.converged_ and clf.kkt_violation_ <= clf.tol
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    # the +1 class of the solver is classes_[1]
    res = prox_newton(X, y, alpha=0.01)
    np.testing.assert_allclose(clf.coef_[0], res.x, atol=1e-10)


def test_estimator_sample_weight_equals_repetition():
    X, y = _binary_data(n=60, p=10)
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 3, size=60)
    a = SparseLogisticRegression(alpha=0.01, tol=1e-10).fit(X, y, sample_weight=sw)
    b = SparseLogisticRegression(alpha=0.01, tol=1e-10).fit(np.repeat(X, sw, axis=0),
                                                             np.repeat(y, sw))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-8)


def test_warm_start_reuses_the_solution():
    X, y = _binary_data()
    clf = SparseLogisticRegression(alpha=0.01, tol=1e-8, warm_start=True).fit(X, y)
    coef = clf.coef_.copy()
    clf.fit(X, y)
    assert clf.n_iter_ == 1
    np.testing.assert_allclose(clf.coef_, coef, atol=1e-8)


@pytest.mark.parametrize("Est", [SparseLogisticRegression, MultinomialLogisticRegression])
def test_float32_in_float32_out(Est):
    X, y = _binary_data(n=60, p=10) if Est is SparseLogisticRegression else _multi_data(60, 10)
    X32 = X.astype(np.float32)
    est = Est(alpha=0.01, tol=1e-8).fit(X32, y)
    est64 = Est(alpha=0.01, tol=1e-8).fit(X, y)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    assert est.decision_function(X32).dtype == np.float32
    np.testing.assert_allclose(est.coef_, est64.coef_, atol=1e-4)


def test_multinomial_estimator():
    X, y = _multi_data(n=150, p=20)
    labels = np.array(["a", "b", "c"])[y]
    for penalty in ("l1", "group"):
        clf = MultinomialLogisticRegression(alpha=0.01, penalty=penalty).fit(X, labels)
        assert clf.coef_.shape == (3, 20) and clf.intercept_.shape == (3,)
        proba = clf.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
        assert clf.score(X, labels) > 0.8
        used = np.abs(clf.coef_).sum(axis=0) > 0
        assert used[:4].all()  # the informative features
    # group: whole columns of coef_ vanish together
    g = MultinomialLogisticRegression(alpha=0.05, penalty="group").fit(X, y)
    nz = g.coef_ != 0
    assert np.all(nz.all(axis=0) | ~nz.any(axis=0))


def test_multinomial_two_classes_decision_function_is_1d():
    X, y = _binary_data(n=60, p=8)
    clf = MultinomialLogisticRegression(alpha=0.01).fit(X, y)
    assert clf.coef_.shape == (2, 8)
    d = clf.decision_function(X)
    assert d.shape == (60,)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(d > 0).astype(int)])


def test_estimator_errors():
    X, y = _binary_data(n=30, p=4)
    with pytest.raises(ValueError, match="alpha"):
        SparseLogisticRegression(alpha=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="2 classes"):
        SparseLogisticRegression().fit(X, np.ones(30))
    with pytest.raises(ValueError, match="MultinomialLogisticRegression"):
        SparseLogisticRegression().fit(X, np.arange(30) % 3)
    with pytest.raises(ValueError, match="penalty"):
        MultinomialLogisticRegression(penalty="l2").fit(X, y)
    Xn = X.copy()
    Xn[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SparseLogisticRegression().fit(Xn, y)
    yn = y.copy()
    yn[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SparseLogisticRegression().fit(X, yn)
    with pytest.raises(ValueError, match="Unknown label type"):
        SparseLogisticRegression().fit(X, np.linspace(0, 1, 30))


@parametrize_with_checks([SparseLogisticRegression(alpha=1e-3, tol=1e-8),
                          MultinomialLogisticRegression(alpha=1e-3, tol=1e-8),
                          MultinomialLogisticRegression(alpha=1e-3, penalty="group", tol=1e-8)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
