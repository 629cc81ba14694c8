"""Tests of SparseLogisticRegression, MultinomialLogisticRegression and the prox_newton solver."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, log_softmax, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsopt.linear_model._logistic import (
    MultinomialLogisticRegression,
    SparseLogisticRegression,
)
from sparsopt.solvers.glm.prox_newton import logistic_alpha_max, prox_newton

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
                          SparseLogisticRegression(alpha=1e-3, tol=1e-8, positive=True),
                          MultinomialLogisticRegression(alpha=1e-3, tol=1e-8),
                          MultinomialLogisticRegression(alpha=1e-3, penalty="group", tol=1e-8)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


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
    res = prox_newton(X, y, alpha=alpha, positive=True, fit_intercept=fit_intercept,
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
    res = prox_newton(X, y, alpha=alpha, loss="multinomial", positive=True, tol=1e-10)
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
    res = prox_newton(X, y, alpha=alpha, loss="multinomial", penalty="group", positive=True,
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
    ref = prox_newton(X, y, **kw)
    for other in (prox_newton(sp.csc_matrix(X), y, **kw),
                  prox_newton(X, y, ws_strategy="fixpoint", **kw),
                  prox_newton(X, y, engine="numpy", **kw)):
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
        prox_newton(X, y, alpha=0.1, positive=1)


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
        res = prox_newton(X, y, alpha=alpha, loss=loss, penalty=penalty, positive=positive,
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
        res = prox_newton(X, y, alpha=alpha, positive=positive, max_iter=1, max_pn_iter=1,
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
