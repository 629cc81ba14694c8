"""Tests of SparseLogisticRegression, MultinomialLogisticRegression and the prox_newton solver."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, log_softmax, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsopt.linear_model._logistic import (
    MultinomialLogisticRegression,
    SparseLogisticRegression,
)
from sparsopt.penalties import GroupL21, Positive, get_penalty
from sparsopt.solvers.glm.prox_newton import logistic_alpha_max, prox_newton
from tests._sklearn_compat import expected_failed_checks, sk_l1_logistic

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


def _pn(X, y, *, alpha=1.0, penalty="l1", positive=False, loss="logistic", **kw):
    """``prox_newton`` with ``positive`` as the constraint ``penalty + Positive()``."""
    if positive:
        if penalty == "group":
            penalty = GroupL21(alpha, groups=int(np.max(y)) + 1, weights=[1.0])
        penalty = get_penalty(penalty, alpha) + Positive()
    return prox_newton(X, y, alpha=alpha, penalty=penalty, loss=loss, **kw)


def _sk_l1(C, **kw):
    """scikit-learn's l1 logistic regression (its spelling depends on the release)."""
    return sk_l1_logistic(C, **kw)


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
    with pytest.raises(ValueError, match="init"):
        prox_newton(X, y, alpha=0.1, init=np.zeros(3))
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
    assert clf.n_iter_.tolist() == [1]
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
    with pytest.raises(ValueError, match="class_weight"):
        SparseLogisticRegression(class_weight="auto").fit(X, y)
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


# the default configurations (``_test_params``) are checked by tests/test_common.py
@parametrize_with_checks([SparseLogisticRegression(alpha=1e-3, tol=1e-8, positive=True),
                          SparseLogisticRegression(alpha=1e-3, tol=1e-8,
                                                   class_weight="balanced"),
                          MultinomialLogisticRegression(alpha=1e-3, penalty="group", tol=1e-8)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_sparse_logistic_multiclass_is_the_multinomial_model():
    """More than two classes: SparseLogisticRegression fits the softmax model of
    MultinomialLogisticRegression (scikit-learn >= 1.5 is multinomial), not one-vs-rest."""
    X, y = _multi_data(n=120, p=12)
    a = SparseLogisticRegression(alpha=0.01, tol=1e-10).fit(X, y)
    b = MultinomialLogisticRegression(alpha=0.01, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-8)
    assert a.coef_.shape == (3, 12) and a.intercept_.shape == (3,)
    assert a.decision_function(X).shape == (120, 3)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-8)
    np.testing.assert_allclose(a.predict_log_proba(X), np.log(a.predict_proba(X)))
    np.testing.assert_array_equal(a.predict(X), a.classes_[a.predict_proba(X).argmax(1)])
    assert a.n_iter_.shape == (1,) and a.n_iter_.dtype == np.int32
    # warm start across the multiclass shapes
    w = SparseLogisticRegression(alpha=0.01, tol=1e-10, warm_start=True).fit(X, y)
    assert w.fit(X, y).n_iter_.tolist() == [1]


def test_binary_log_proba_is_stable_and_matches_proba():
    X, y = _binary_data(n=50, p=6)
    clf = SparseLogisticRegression(alpha=1e-4, tol=1e-10).fit(X * 100, y)
    lp = clf.predict_log_proba(X * 100)
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(np.exp(lp), clf.predict_proba(X * 100))
    assert clf.n_iter_.shape == (1,) and clf.n_iter_.dtype == np.int32


@pytest.mark.parametrize("Est", [SparseLogisticRegression, MultinomialLogisticRegression])
def test_class_weight_is_folded_into_sample_weight(Est):
    X, y = (_binary_data(n=80, p=8) if Est is SparseLogisticRegression
            else _multi_data(n=90, p=8))
    classes = np.unique(y)
    cw = {c: float(k + 1) for k, c in enumerate(classes)}
    sw = np.array([cw[c] for c in y])
    a = Est(alpha=0.01, tol=1e-10, class_weight=cw).fit(X, y)
    b = Est(alpha=0.01, tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
    # "balanced": n / (n_classes * count), the counts weighted by sample_weight
    s0 = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    counts = np.array([s0[y == c].sum() for c in classes])
    bal = (s0.sum() / (classes.size * counts))[np.searchsorted(classes, y)]
    a = Est(alpha=0.01, tol=1e-10, class_weight="balanced").fit(X, y, sample_weight=s0)
    b = Est(alpha=0.01, tol=1e-10).fit(X, y, sample_weight=s0 * bal)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)


def test_class_weight_balanced_matches_sklearn_with_alpha_one_over_c_n():
    X, y = _binary_data(n=80, p=8, seed=3)
    y = np.where(np.arange(80) < 60, 1.0, y)  # unbalanced
    C = 0.5
    ours = SparseLogisticRegression(alpha=1 / (C * 80), tol=1e-12,
                                    class_weight="balanced").fit(X, y)
    ref = sk_l1_logistic(C, solver="saga", tol=1e-12, max_iter=100_000,
                         class_weight="balanced").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


# ----------------------------------------------------------------------------- positive


def _lbfgsb_reference(X, y, alpha, *, loss="logistic", K=1, positive=True, fit_intercept=True,
                      intercept=None):
    """Smooth bound-constrained reformulation solved by L-BFGS-B (the l1 penalty is linear on
    the orthant): ``w = u`` with ``u >= 0`` (positive) or ``w = u - v`` with ``u, v >= 0``.
    ``intercept`` fixes the intercept (then ``fit_intercept`` is ignored). Returns the
    optimal objective."""
    from scipy.optimize import minimize

    n, p = X.shape
    nw = p * K
    nvar = nw if positive else 2 * nw
    nb = K if loss == "multinomial" else 1
    free_b = intercept is None and fit_intercept
    Y = np.eye(K)[y] if loss == "multinomial" else None

    def unpack(v):
        w = v[:nw] if positive else v[:nw] - v[nw:nvar]
        if intercept is not None:
            b = np.atleast_1d(intercept)
        else:
            b = v[nvar:] if free_b else np.zeros(nb)
        return w, b

    def fun(v):
        w, b = unpack(v)
        pen = alpha * v[:nvar].sum()
        if loss == "multinomial":
            W = w.reshape(p, K)
            Z = X @ W + b
            lse = logsumexp(Z, axis=1)
            f = np.mean(lse - Z[np.arange(n), y]) + pen
            R = (np.exp(Z - lse[:, None]) - Y) / n
            gw, gb = (X.T @ R).ravel(), R.sum(axis=0)
        else:
            z = X @ w + b[0]
            f = np.mean(np.logaddexp(0, -y * z)) + pen
            r = -y * expit(-y * z) / n
            gw, gb = X.T @ r, np.array([r.sum()])
        g = gw if positive else np.concatenate([gw, -gw])
        g = g + alpha
        return f, np.concatenate([g, gb]) if free_b else g

    x0 = np.zeros(nvar + (nb if free_b else 0))
    bounds = [(0, None)] * nvar + [(None, None)] * (nb if free_b else 0)
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options=dict(maxiter=20000, maxfun=40000, ftol=1e-16, gtol=1e-12))
    return float(res.fun)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_positive_binary_matches_lbfgsb(fit_intercept):
    X, y = _binary_data(n=100, p=20, seed=3)
    alpha = logistic_alpha_max(X, y, fit_intercept=fit_intercept) / 20
    res = _pn(X, y, alpha=alpha, positive=True, fit_intercept=fit_intercept,
                      tol=1e-10)
    assert res.converged and res.x.min() >= 0.0
    b = res.info["intercept"]
    ours = _obj_binary(X, y, res.x, b, alpha)
    assert ours == pytest.approx(res.info["objective"], rel=1e-12)
    ref = _lbfgsb_reference(X, y, alpha, fit_intercept=fit_intercept)
    assert ours <= ref + 1e-12  # L-BFGS-B stops a hair above the optimum
    assert ours == pytest.approx(ref, rel=1e-8)
    # the constraint is active: the unconstrained solution has negative entries
    free = prox_newton(X, y, alpha=alpha, fit_intercept=fit_intercept, tol=1e-10)
    assert free.x.min() < 0 and free.info["objective"] < ours - 1e-6
    # the constrained KKT conditions hold
    z = X @ res.x + b
    g = X.T @ (-y * expit(-y * z)) / len(y)
    on = res.x > 0
    np.testing.assert_allclose(g[on], -alpha, atol=1e-9)
    assert np.all(g[~on] >= -alpha - 1e-9)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_positive_binary_matches_skglm(fit_intercept):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Logistic
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    X, y = _binary_data(n=100, p=20, seed=4)
    alpha = logistic_alpha_max(X, y, fit_intercept=fit_intercept) / 20
    clf = skglm.GeneralizedLinearEstimator(
        Logistic(), L1(alpha, positive=True),
        ProxNewton(tol=1e-12, max_iter=100, fit_intercept=fit_intercept))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    est = SparseLogisticRegression(alpha=alpha, positive=True, tol=1e-12,
                                   fit_intercept=fit_intercept).fit(X, y)
    b_sk = float(np.atleast_1d(clf.intercept_)[0]) if fit_intercept else 0.0
    theirs = _obj_binary(X, y, np.ravel(clf.coef_), b_sk, alpha)
    ours = _obj_binary(X, y, est.coef_[0], est.intercept_[0], alpha)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(est.coef_[0], np.ravel(clf.coef_), atol=1e-7)


def test_positive_multinomial_l1_matches_lbfgsb():
    X, y = _multi_data(n=90, p=8, K=3, seed=5)
    alpha = 0.02
    res = _pn(X, y, alpha=alpha, loss="multinomial", positive=True, tol=1e-10)
    assert res.converged and res.x.min() >= 0.0
    ours = _obj_multi(X, y, res.x, res.info["intercept"], alpha)
    ref = _lbfgsb_reference(X, y, alpha, loss="multinomial", K=3)
    assert ours <= ref + 1e-12
    assert ours == pytest.approx(ref, rel=1e-8)


def test_positive_group_matches_projected_proximal_gradient():
    """Group penalty with positive=True: the row step shrinks the projection onto the
    orthant (the exact prox of alpha ||.||_2 + indicator(>= 0)); a long FISTA run with the
    same prox is the reference, and the constrained KKT conditions hold."""
    X, y = _multi_data(n=90, p=8, K=3, seed=6)
    n, p = X.shape
    alpha = 0.02
    res = _pn(X, y, alpha=alpha, loss="multinomial", penalty="group", positive=True,
                      fit_intercept=False, tol=1e-10)
    assert res.converged and res.x.min() >= 0.0
    W = res.x
    Y = np.eye(3)[y]

    def grad(V):
        Z = X @ V
        return X.T @ (np.exp(log_softmax(Z, axis=1)) - Y) / n

    def prox(U, t):
        U = np.maximum(U, 0.0)
        nu = np.linalg.norm(U, axis=1, keepdims=True)
        return U * np.maximum(1 - t * alpha / np.where(nu > 0, nu, 1.0), 0.0)

    step = 1.0 / (0.5 * np.linalg.norm(X, 2) ** 2 / n)
    V = Wf = np.zeros((p, 3))
    tk = 1.0
    for _ in range(3000):
        Wn = prox(V - step * grad(V), step)
        tn = (1 + np.sqrt(1 + 4 * tk * tk)) / 2
        V = Wn + (tk - 1) / tn * (Wn - Wf)
        Wf, tk = Wn, tn
    ours = _obj_multi(X, y, W, 0.0, alpha, group=True)
    ref = _obj_multi(X, y, Wf, 0.0, alpha, group=True)
    assert ours <= ref + 1e-12
    assert ours == pytest.approx(ref, rel=1e-8)
    # constrained KKT: zero rows ||max(-G, 0)|| <= alpha; active entries G = -alpha W/||W||
    G = grad(W)
    nw = np.linalg.norm(W, axis=1)
    rows = nw > 0
    assert rows.any() and not rows.all()
    assert np.all(np.linalg.norm(np.maximum(-G[~rows], 0), axis=1) <= alpha + 1e-9)
    on = W > 0
    U = -alpha * W / np.where(nw > 0, nw, 1.0)[:, None]
    np.testing.assert_allclose(G[on], U[on], atol=1e-9)
    assert np.all(G[rows[:, None] & ~on] >= -1e-9)


@pytest.mark.parametrize("loss, penalty", [("logistic", "l1"), ("multinomial", "l1"),
                                           ("multinomial", "group")])
def test_positive_sparse_fixpoint_and_numpy_engine_agree(loss, penalty):
    X, y = (_binary_data(n=60, p=15, seed=7) if loss == "logistic"
            else _multi_data(n=60, p=10, seed=7))
    X[np.abs(X) < 0.5] = 0.0
    kw = dict(alpha=0.02, loss=loss, penalty=penalty, positive=True, tol=1e-10)
    ref = _pn(X, y, **kw)
    for other in (_pn(sp.csc_matrix(X), y, **kw),
                  _pn(X, y, ws_strategy="fixpoint", **kw),
                  _pn(X, y, engine="numpy", **kw)):
        assert other.converged
        np.testing.assert_allclose(other.x, ref.x, atol=1e-7)
        assert other.info["objective"] == pytest.approx(ref.info["objective"], rel=1e-11)


def test_positive_estimators_float32_warm_start_and_errors():
    X, y = _binary_data(n=80, p=12, seed=8)
    clf = SparseLogisticRegression(alpha=0.01, positive=True, tol=1e-8).fit(
        X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32 and clf.coef_.min() >= 0
    assert clf.intercept_.dtype == np.float32
    # warm start from an unconstrained fit: the negative entries are projected away
    ws = SparseLogisticRegression(alpha=0.01, tol=1e-8, warm_start=True).fit(X, y)
    assert ws.coef_.min() < 0
    ws.set_params(positive=True).fit(X, y)
    assert ws.coef_.min() >= 0
    np.testing.assert_allclose(ws.coef_, clf.coef_, atol=1e-4)
    Xm, ym = _multi_data(n=90, p=8)
    m = MultinomialLogisticRegression(alpha=0.01, positive=True, penalty="group").fit(Xm, ym)
    assert m.coef_.min() >= 0 and m.dual_gap_ >= -1e-12
    with pytest.raises(ValueError, match="positive"):
        SparseLogisticRegression(positive="yes").fit(X, y)
    with pytest.raises(TypeError, match="positive"):
        prox_newton(X, y, alpha=0.1, positive=True)  # the constraint is a penalty now


# ----------------------------------------------------------------------------- dual gap


def _gap_problem(seed, loss, penalty, positive, fit_intercept, frac, sparse_X, weighted):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(5, 40)), int(rng.integers(1, 15))
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 3.0)
    if sparse_X:
        X = sp.csc_matrix(X * (rng.random((n, p)) < 0.4))
    if loss == "logistic":
        y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    else:
        y = rng.integers(0, 3, n)
    sw = rng.random(n) + 0.05 if weighted else None
    amax = logistic_alpha_max(X, y, loss=loss, penalty=penalty, fit_intercept=fit_intercept,
                              sample_weight=sw)
    return X, y, sw, frac * amax


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from([("logistic", "l1"), ("multinomial", "l1"),
                             ("multinomial", "group")]),
       positive=st.booleans(), fit_intercept=st.booleans(),
       frac=st.sampled_from([0.0, 0.01, 0.3, 1.5]), max_iter=st.integers(1, 3),
       sparse_X=st.booleans(), weighted=st.booleans())
def test_dual_gap_is_nonnegative(seed, kind, positive, fit_intercept, frac, max_iter,
                                 sparse_X, weighted):
    loss, penalty = kind
    X, y, sw, alpha = _gap_problem(seed, loss, penalty, positive, fit_intercept, frac,
                                   sparse_X, weighted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = _pn(X, y, alpha=alpha, loss=loss, penalty=penalty, positive=positive,
                          fit_intercept=fit_intercept, sample_weight=sw, max_iter=max_iter,
                          tol=1e-12)
    gap = res.info["dual_gap"]
    assert np.isfinite(gap) and gap >= -1e-12


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("loss, penalty", [("logistic", "l1"), ("multinomial", "l1"),
                                           ("multinomial", "group")])
def test_dual_gap_vanishes_at_convergence_and_is_large_early(loss, penalty, positive):
    X, y = (_binary_data(n=100, p=30, seed=9) if loss == "logistic"
            else _multi_data(n=100, p=15, seed=9))
    Est = SparseLogisticRegression if loss == "logistic" else MultinomialLogisticRegression
    kw = {} if loss == "logistic" else {"penalty": penalty}
    alpha = logistic_alpha_max(X, y, loss=loss, penalty=penalty) / 20
    est = Est(alpha=alpha, positive=positive, tol=1e-10, **kw).fit(X, y)
    assert est.converged_
    assert -1e-12 <= est.dual_gap_ <= 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        early = Est(alpha=alpha, positive=positive, max_iter=1, max_pn_iter=1, tol=1e-10,
                    **kw).fit(X, y)
    assert early.dual_gap_ > 1e-4 and early.dual_gap_ > 1e4 * max(est.dual_gap_, 1e-12)
    # a valid bound on the suboptimality (here the intercept is re-optimised by the
    # converged fit, so its objective is at most the optimum with the early intercept)
    assert early.objective_ - est.objective_ <= early.dual_gap_ + 1e-10


@pytest.mark.parametrize("positive", [False, True])
def test_dual_gap_bounds_suboptimality_with_fixed_intercept(positive):
    """With fit_intercept=True the gap is that of the problem in w with the intercept held
    at its fitted value: check it against that problem solved by L-BFGS-B."""
    X, y = _binary_data(n=80, p=15, seed=10)
    alpha = logistic_alpha_max(X, y) / 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = _pn(X, y, alpha=alpha, positive=positive, max_iter=1, max_pn_iter=1,
                          tol=1e-12)
    b = res.info["intercept"]
    fstar = _lbfgsb_reference(X, y, alpha, positive=positive, intercept=b)
    subopt = res.info["objective"] - fstar
    gap = res.info["dual_gap"]
    assert subopt > 0 and gap >= subopt - 1e-10
    # and the gap is exactly P - D computed here from its definition
    z = X @ res.x + b
    r = -y * expit(-y * z) / len(y)
    G = X.T @ r
    nrm = np.maximum(-G, 0).max() if positive else np.abs(G).max()
    c = min(1.0, alpha / nrm)
    q = c * expit(-y * z)
    conj = np.mean(q * np.log(q) + (1 - q) * np.log1p(-q))
    assert gap == pytest.approx(res.info["objective"] - (c * r.sum() * b - conj), rel=1e-10)


# ----------------------------------------------------------------------------- one road


def _noisy(X, y, seed=0, frac=0.2):
    """Flip a fraction of the labels: non-separable data, so that the non-convex penalties
    (no shrinkage of large coefficients) have a finite minimiser."""
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < frac
    y = y.copy()
    if set(np.unique(y)) <= {-1.0, 1.0}:
        y[flip] = -y[flip]
    else:
        y[flip] = rng.integers(0, int(y.max()) + 1, flip.sum())
    return X, y


def _kkt_mcp(X, y, w, b, lam, gamma, positive=False):
    """Largest distance of -grad to the (limiting) MCP subdifferential, computed here."""
    z = X @ w + b
    g = -(X.T @ (y * expit(-y * z))) / len(y)
    aw = np.abs(w)
    d = np.where(w == 0, np.maximum(np.abs(g) - lam, 0.0),
                 np.abs(g + np.where(aw < gamma * lam, np.sign(w) * lam - w / gamma, 0.0)))
    if positive:
        d = np.where(w == 0, np.maximum(-g - lam, 0.0), d)
    return float(d.max())


@pytest.mark.parametrize("name", ["mcp", "scad"])
def test_nonconvex_binary_matches_skglm(name):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Logistic
    from skglm.penalties import SCAD as SkSCAD
    from skglm.penalties import MCPenalty
    from skglm.solvers import AndersonCD

    X, y = _noisy(*_binary_data(n=150, p=30, seed=3))
    alpha, gamma = logistic_alpha_max(X, y, fit_intercept=False) / 10, 6.0
    sk_pen = MCPenalty(alpha, gamma) if name == "mcp" else SkSCAD(alpha, gamma)
    clf = skglm.GeneralizedLinearEstimator(
        Logistic(), sk_pen, AndersonCD(tol=1e-12, max_iter=200, fit_intercept=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    res = prox_newton(X, y, penalty=get_penalty(name, alpha, gamma=gamma), fit_intercept=False,
                      tol=1e-10)
    assert res.converged and res.info["dual_gap"] is None
    pen = get_penalty(name, alpha, gamma=gamma)
    ours = np.mean(np.logaddexp(0, -y * (X @ res.x))) + pen.value(res.x)
    theirs = np.mean(np.logaddexp(0, -y * (X @ clf.coef_.ravel()))) + pen.value(clf.coef_.ravel())
    assert res.info["objective"] == pytest.approx(ours, rel=1e-12)
    if name == "mcp":
        assert _kkt_mcp(X, y, res.x, 0.0, alpha, gamma) <= 1e-9
    # both are stationary points of the same objective (a non-convex one: they may be two
    # of them): skglm's is a fixed point of ours, and its objective is within 1e-2 of ours
    again = prox_newton(X, y, penalty=pen, fit_intercept=False, tol=1e-7,
                        init=clf.coef_.ravel().copy())
    assert again.n_iter == 1 and again.converged
    np.testing.assert_allclose(again.x, clf.coef_.ravel(), atol=1e-6)
    assert ours == pytest.approx(theirs, rel=1e-2)


def test_nonconvex_matches_fine_proximal_gradient_with_intercept_free():
    """MCP with a small gamma (the curvature floor is active) vs. a long proximal gradient
    run from our solution's support, without intercept (proximal_gradient has none)."""
    from sparsopt.penalties import MCP
    from sparsopt.solvers import proximal_gradient

    X, y = _noisy(*_binary_data(n=120, p=20, seed=5))
    pen = MCP(0.02, gamma=2.0)
    res = prox_newton(X, y, penalty=pen, fit_intercept=False, tol=1e-10)
    assert res.converged
    # proximal_gradient uses the same mean datafit (the regression convention)
    ref = proximal_gradient(X, y, loss="logistic", penalty=pen, init=res.x, tol=1e-12,
                            max_iter=20000)
    np.testing.assert_allclose(ref.x, res.x, atol=1e-6)  # a fixed point of prox-gradient too
    assert _kkt_mcp(X, y, res.x, 0.0, 0.02, 2.0) <= 1e-9


@pytest.mark.parametrize("name", ["mcp", "scad", "l0", "l1/2", "log", "elasticnet", "cel0"])
@pytest.mark.parametrize("loss", ["logistic", "multinomial"])
def test_every_separable_penalty_runs_positive_and_sparse(name, loss):
    X, y = _noisy(*(_binary_data(n=100, p=15, seed=2) if loss == "logistic"
                    else _multi_data(n=100, p=10, seed=2)))
    kw = {"gamma": 4.0} if name in ("mcp", "scad") else {}
    if name == "cel0":
        kw = {"a": 0.5}
    pen = get_penalty(name, 0.02, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges, no warning
        res = prox_newton(X, y, penalty=pen, loss=loss, tol=1e-8)
        pos = prox_newton(X, y, penalty=pen + Positive(), loss=loss, tol=1e-8)
        sparse = prox_newton(sp.csc_matrix(X), y, penalty=pen, loss=loss, tol=1e-8)
    assert res.converged and pos.converged and sparse.converged
    assert pos.x.min() >= 0 and res.x.min() < 0
    assert np.isfinite(res.info["objective"])
    if pen.is_convex:
        assert 0 <= res.info["dual_gap"] <= 1e-6 and 0 <= pos.info["dual_gap"] <= 1e-6
    else:
        assert res.info["dual_gap"] is None
    # the objective is the penalty's own value plus the mean loss
    Z = X @ res.x + res.info["intercept"]
    loss_v = (np.mean(np.logaddexp(0, -y * Z)) if loss == "logistic"
              else np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))
    assert res.info["objective"] == pytest.approx(loss_v + pen.value(res.x.T), rel=1e-10)
    if pen.is_convex:  # non-convex: dense (centred) and sparse runs may reach other stationary
        assert sparse.info["objective"] == pytest.approx(res.info["objective"], rel=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_elasticnet_gap_and_l1_ratio_one_is_l1():
    from sparsopt.penalties import ElasticNet

    X, y = _binary_data(seed=4)
    a = prox_newton(X, y, penalty=ElasticNet(0.02, l1_ratio=1.0), tol=1e-10)
    b = prox_newton(X, y, penalty="l1", alpha=0.02, tol=1e-10)
    np.testing.assert_allclose(a.x, b.x, atol=1e-10)
    early = prox_newton(X, y, penalty=ElasticNet(0.02, l1_ratio=0.5), tol=1e-10, max_iter=1,
                        max_pn_iter=1)
    full = prox_newton(X, y, penalty=ElasticNet(0.02, l1_ratio=0.5), tol=1e-10)
    assert full.info["dual_gap"] <= 1e-9
    # the gap of the early iterate bounds its suboptimality (intercept held fixed: the
    # early intercept is not optimal, so compare with the full run only loosely)
    assert early.info["dual_gap"] >= early.info["objective"] - full.info["objective"] - 1e-3


def test_unsupported_penalties_get_one_clear_error():
    from sparsopt.penalties import KSupport

    X, y = _binary_data(n=20, p=6)
    for pen in (KSupport(alpha=0.1, k=2), GroupL21(0.1, groups=2)):
        with pytest.raises(TypeError, match="prox_newton.*proximal_gradient"):
            prox_newton(X, y, penalty=pen)
    Xm, ym = _multi_data(n=30, p=6)
    with pytest.raises(TypeError, match="proximal_gradient"):
        prox_newton(Xm, ym, penalty=GroupL21(0.1, groups=1), loss="multinomial")
    with pytest.raises(ValueError, match="Unknown penalty"):
        prox_newton(X, y, penalty="nope")


def test_group_l21_object_equals_group_name():
    X, y = _multi_data(n=90, p=8)
    a = prox_newton(X, y, penalty="group", alpha=0.03, loss="multinomial", tol=1e-10)
    b = prox_newton(X, y, penalty=GroupL21(0.015, groups=3, weights=[2.0]),
                    loss="multinomial", tol=1e-10)
    np.testing.assert_allclose(a.x, b.x, atol=1e-10)
    assert a.info["objective"] == pytest.approx(b.info["objective"], rel=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_init_array_and_tuple():
    X, y = _binary_data()
    ref = prox_newton(X, y, alpha=0.02, tol=1e-10)
    again = prox_newton(X, y, alpha=0.02, tol=1e-10, init=(ref.x, ref.info["intercept"]))
    assert again.n_iter == 1 and again.info["n_pn_iter"] == 0
    coef_only = prox_newton(X, y, alpha=0.02, tol=1e-10, init=ref.x)
    np.testing.assert_allclose(coef_only.x, ref.x, atol=1e-7)
    # a coefficient init outside the constraint is projected onto it
    pos = prox_newton(X, y, penalty=get_penalty("l1", 0.02) + Positive(), init=ref.x,
                      max_iter=1, max_pn_iter=1)
    assert pos.x.min() >= 0
    Xm, ym = _multi_data()
    m = prox_newton(Xm, ym, alpha=0.02, loss="multinomial", tol=1e-10)
    m2 = prox_newton(Xm, ym, alpha=0.02, loss="multinomial", tol=1e-10,
                     init=(m.x, m.info["intercept"]))
    assert m2.n_iter == 1
    with pytest.raises(ValueError, match="tuple"):
        prox_newton(X, y, init=(ref.x, 0.0, 1.0))
    with pytest.raises(ValueError, match="init"):
        prox_newton(X, y, init=(ref.x, np.nan))


@pytest.mark.parametrize("loss", ["logistic", "multinomial"])
def test_callback_stops_after_one_check(loss):
    X, y = _binary_data() if loss == "logistic" else _multi_data()
    states = []

    def cb(state):
        states.append(state)
        return True

    res = prox_newton(X, y, alpha=0.01, loss=loss, tol=1e-12, callback=cb)
    assert len(states) == 1 and res.n_iter == 1
    assert not res.converged and res.stopped_by == "callback"
    s = states[0]
    assert s.iteration == 1 and s.x.shape == res.x.shape and s.objective is not None
    assert "intercept" in s.info
    # a callback returning None lets the run converge
    res = prox_newton(X, y, alpha=0.01, loss=loss, tol=1e-8, callback=lambda s: None)
    assert res.converged and res.stopped_by == "tol"


def test_verbose_prints_one_line_per_check(capsys):
    import sparsopt

    X, y = _binary_data()
    res = prox_newton(X, y, alpha=0.02, tol=1e-8, verbose=1)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == res.n_iter + 1 and all(line.startswith("prox_newton") for line in out)
    with sparsopt.config_context(verbose=1):
        prox_newton(X, y, alpha=0.02, tol=1e-8)
    assert capsys.readouterr().out
    prox_newton(X, y, alpha=0.02, tol=1e-8)
    assert not capsys.readouterr().out


def test_nonfinite_direction_rolls_back_coefficients_intercept_and_margins(monkeypatch):
    from sparsopt.exceptions import NonFiniteIterateWarning
    from sparsopt.solvers.glm import prox_newton as mod

    X, y = _binary_data()
    real = mod.get_kernel
    calls = {"n": 0}

    def poisoned(name, backend):
        kernel = real(name, backend)
        if not name.startswith("pn_cd_"):
            return kernel

        def run(*args):
            out = kernel(*args)
            calls["n"] += 1
            if calls["n"] >= 3:  # a NaN direction on the coefficients, finite margins X D:
                args[-2][:-1] = np.nan  # the line search cannot judge it, takes a tiny step
            return out
        return run

    monkeypatch.setattr(mod, "get_kernel", poisoned)
    with pytest.warns(NonFiniteIterateWarning):
        res = prox_newton(X, y, alpha=0.005, tol=1e-12, max_pn_iter=1)
    assert res.stopped_by == "nonfinite" and not res.converged
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.info["intercept"])
    # the objective was recomputed from the restored margins: it matches x and intercept
    assert res.info["objective"] == pytest.approx(
        _obj_binary(X, y, res.x, res.info["intercept"], 0.005), rel=1e-10)
    assert res.stop_crit >= 0 and np.isfinite(res.info["dual_gap"])


def test_estimator_penalty_parameter():
    from sparsopt.penalties import MCP

    X, y = _noisy(*_binary_data(n=120, p=20, seed=6))
    a = SparseLogisticRegression(alpha=0.02, penalty="mcp", tol=1e-8).fit(X, y)
    b = SparseLogisticRegression(penalty=MCP(0.02, gamma=3.0), tol=1e-8).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-10)
    assert a.dual_gap_ is None and a.converged_
    p = SparseLogisticRegression(alpha=0.02, penalty="scad", positive=True, tol=1e-8).fit(X, y)
    assert p.coef_.min() >= 0
    Xm, ym = _noisy(*_multi_data())
    m = MultinomialLogisticRegression(alpha=0.02, penalty=MCP(0.02, 3.0), tol=1e-8).fit(Xm, ym)
    assert m.converged_ and m.dual_gap_ is None
    with pytest.raises(ValueError, match="penalty"):
        SparseLogisticRegression(penalty="group").fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["logistic", "multinomial"])
def test_float32_input_is_solved_in_float64(loss):
    X, y = _binary_data(n=60, p=10) if loss == "logistic" else _multi_data(n=60, p=10)
    X32 = X.astype(np.float32)
    a = prox_newton(X32, y, penalty="mcp", alpha=0.02, loss=loss, tol=1e-8, max_iter=5)
    b = prox_newton(X32.astype(np.float64), y, penalty="mcp", alpha=0.02, loss=loss, tol=1e-8,
                    max_iter=5)
    assert a.x.dtype == np.float64
    np.testing.assert_array_equal(a.x, b.x)
