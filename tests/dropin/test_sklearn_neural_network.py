"""scikit-learn's own usage of its MLPs, run with the scikit-learn import and the sparsopt one.

The snippets follow scikit-learn's docstring examples and user guide for
``MLPClassifier``/``MLPRegressor`` (written anew, small sizes). Each snippet is a function of
``nn``, the namespace the two names come from:

* ``SK``: ``sklearn.neural_network``;
* ``DENSE``: ``sparsopt.pruning.SparseMLP*`` at ``density=1.0``, which promises scikit-learn's
  fit (same initial weights, minibatches, optimizer steps): the tests assert equal weights
  (to ~1e-12), loss curves, iteration counts and identical predictions;
* ``SPARSE``: the same names at their default ``density`` (0.1): the same code must run
  unchanged and give a sparse network of the same shapes.

The intended differences are listed in ``docs/user_guide/_dropin_neural_network.rst``.
"""

from __future__ import annotations

import functools
import pickle
import types
import warnings

import numpy as np
import pytest
import sklearn.neural_network as sknn
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sparsopt.pruning import MLPPruner, SparseMLPClassifier, SparseMLPRegressor


def _with(cls, **fixed):
    """``cls`` with some parameters fixed, callable as the scikit-learn class is."""
    @functools.wraps(cls, updated=())
    def make(*args, **kwargs):
        return cls(*args, **{**fixed, **kwargs})
    return make


SK = types.SimpleNamespace(MLPClassifier=sknn.MLPClassifier, MLPRegressor=sknn.MLPRegressor)
DENSE = types.SimpleNamespace(MLPClassifier=_with(SparseMLPClassifier, density=1.0),
                              MLPRegressor=_with(SparseMLPRegressor, density=1.0))
SPARSE = types.SimpleNamespace(MLPClassifier=SparseMLPClassifier,
                               MLPRegressor=SparseMLPRegressor)


def run(snippet, nn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return snippet(nn, *args)


def both(snippet, *args):
    """``snippet`` with scikit-learn's names, then with sparsopt's at density 1."""
    return run(snippet, SK, *args), run(snippet, DENSE, *args)


def assert_same_network(a, b, rtol=1e-10, atol=1e-12):
    assert len(a.coefs_) == len(b.coefs_) and len(a.intercepts_) == len(b.intercepts_)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert p.shape == q.shape and p.dtype == q.dtype
        np.testing.assert_allclose(q, p, rtol=rtol, atol=atol)
    np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=max(rtol, 1e-10))
    assert b.n_iter_ == a.n_iter_ and b.t_ == a.t_
    assert b.n_layers_ == a.n_layers_ and b.n_outputs_ == a.n_outputs_
    assert b.out_activation_ == a.out_activation_


def assert_sparse_network_like(ref, est, density=0.1):
    """A default-density fit: the same shapes and attributes, exact zeros outside masks."""
    assert [W.shape for W in est.coefs_] == [W.shape for W in ref.coefs_]
    assert [b.shape for b in est.intercepts_] == [b.shape for b in ref.intercepts_]
    n_weights = sum(W.size for W in est.coefs_)
    assert abs(est.density_ - density) <= 1 / n_weights + 1e-12  # whole weights kept
    for W, M in zip(est.coefs_, est.masks_):
        assert not W[~M].any()
    assert len(est.loss_curve_) == est.n_iter_
    assert all(np.isfinite(est.loss_curve_))


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------------- classifier


def _classifier_docstring(nn):
    # MLPClassifier's docstring example
    X, y = make_classification(n_samples=100, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=1)
    clf = nn.MLPClassifier(random_state=1, max_iter=300).fit(X_train, y_train)
    return (clf, clf.predict_proba(X_test[:1]), clf.predict(X_test[:5, :]),
            clf.score(X_test, y_test), clf.predict_log_proba(X_test))


def test_classifier_docstring_example():
    (a, pa, ya, sa, la), (b, pb, yb, sb, lb) = both(_classifier_docstring)
    assert_same_network(a, b)
    np.testing.assert_allclose(pb, pa, rtol=1e-9)
    np.testing.assert_array_equal(yb, ya)
    assert sb == sa
    np.testing.assert_allclose(lb, la, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(b.classes_, a.classes_)


def test_classifier_docstring_example_runs_sparse():
    a, _, ya, _, _ = run(_classifier_docstring, SK)
    c, pc, yc, sc, _ = run(_classifier_docstring, SPARSE)
    assert_sparse_network_like(a, c)
    assert pc.shape == (1, 2) and yc.shape == ya.shape and 0.5 <= sc <= 1


def _classifier_attributes(nn, X, y):
    # the user guide's tour: two hidden layers, multiclass, fitted attributes
    clf = nn.MLPClassifier(hidden_layer_sizes=(5, 2), solver="adam", alpha=1e-5,
                           random_state=1, max_iter=40, learning_rate_init=0.01)
    clf.fit(X, y)
    return clf, clf.predict(X), clf.predict_proba(X)


def test_classifier_attributes(iris):
    (a, ya, pa), (b, yb, pb) = both(_classifier_attributes, *iris)
    assert_same_network(a, b)
    assert [c.shape for c in b.coefs_] == [(4, 5), (5, 2), (2, 3)]
    assert [c.shape for c in b.intercepts_] == [(5,), (2,), (3,)]
    assert b.out_activation_ == "softmax" and b.n_iter_ == 40
    assert b.loss_ == pytest.approx(a.loss_, rel=1e-10)
    assert b.best_loss_ == pytest.approx(a.best_loss_, rel=1e-10)
    assert b.validation_scores_ is None and b.best_validation_score_ is None
    assert b.n_features_in_ == a.n_features_in_ == 4
    np.testing.assert_array_equal(yb, ya)
    np.testing.assert_allclose(pb, pa, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pb.sum(axis=1), 1.0)


def test_classifier_attributes_run_sparse(iris):
    a, ya, pa = run(_classifier_attributes, SK, *iris)
    c, yc, pc = run(_classifier_attributes, SPARSE, *iris)
    assert_sparse_network_like(a, c)
    assert yc.shape == ya.shape and pc.shape == pa.shape
    assert set(yc) <= set(a.classes_)


def _partial_fit(nn, X, y):
    # online learning: the classes are given at the first call
    clf = nn.MLPClassifier(hidden_layer_sizes=(8,), batch_size=20, random_state=0,
                           learning_rate_init=0.01, shuffle=False)
    classes = np.unique(y)
    order = np.random.RandomState(0).permutation(len(y))
    for start in range(0, len(y), 50):
        rows = order[start:start + 50]
        clf.partial_fit(X[rows], y[rows], classes=classes)
    return clf, clf.predict(X), clf.score(X, y)


def test_classifier_partial_fit(iris):
    (a, ya, sa), (b, yb, sb) = both(_partial_fit, *iris)
    assert_same_network(a, b)
    assert b.n_iter_ == 1 and b.t_ == len(iris[1])
    np.testing.assert_array_equal(yb, ya)
    assert sb == sa


def test_classifier_partial_fit_runs_sparse(iris):
    a, ya, _ = run(_partial_fit, SK, *iris)
    c, yc, _ = run(_partial_fit, SPARSE, *iris)
    # three calls of a plan made for max_iter epochs: the schedule has barely begun
    assert [W.shape for W in c.coefs_] == [W.shape for W in a.coefs_]
    assert yc.shape == ya.shape and c.t_ == a.t_


def _partial_fit_without_classes(nn, X, y):
    clf = nn.MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)


@pytest.mark.parametrize("nn", [SK, DENSE], ids=["sklearn", "sparsopt"])
def test_classifier_partial_fit_needs_classes_first(iris, nn):
    run(_partial_fit_without_classes, nn, *iris)


def _early_stopping(nn, X, y):
    clf = nn.MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True,
                           validation_fraction=0.2, n_iter_no_change=4,
                           learning_rate_init=0.02, random_state=3, max_iter=60)
    clf.fit(X, y)
    return clf, clf.predict(X)


def test_classifier_early_stopping(iris):
    (a, ya), (b, yb) = both(_early_stopping, *iris)
    assert_same_network(a, b)
    np.testing.assert_allclose(b.validation_scores_, a.validation_scores_)
    assert b.best_validation_score_ == pytest.approx(a.best_validation_score_, rel=1e-12)
    assert b.best_loss_ is None and a.best_loss_ is None
    assert b.n_iter_ < 60  # it did stop early
    np.testing.assert_array_equal(yb, ya)


def test_classifier_early_stopping_runs_sparse(iris):
    c, yc = run(_early_stopping, SPARSE, *iris)
    assert len(c.validation_scores_) == c.n_iter_
    assert c.best_validation_score_ in c.validation_scores_
    assert yc.shape == iris[1].shape


@pytest.mark.parametrize("sgd", [
    dict(momentum=0.9, nesterovs_momentum=True),
    dict(momentum=0.5, nesterovs_momentum=False, learning_rate="invscaling", power_t=0.3),
    dict(momentum=0.9, learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
    dict(momentum=0.0),
], ids=["nesterov", "invscaling", "adaptive", "plain"])
def test_classifier_sgd(iris, sgd):
    def snippet(nn, X, y):
        clf = nn.MLPClassifier(hidden_layer_sizes=(6,), solver="sgd", batch_size=30,
                               learning_rate_init=0.1, max_iter=30, random_state=0, **sgd)
        return clf.fit(X, y), clf.predict_proba(X)

    (a, pa), (b, pb) = both(snippet, *iris)
    assert_same_network(a, b)
    np.testing.assert_allclose(pb, pa, rtol=1e-9, atol=1e-12)
    if sgd.get("learning_rate") == "adaptive":
        # the adaptive rate was divided at least once, and the same number of times
        assert b._engine.optimizer.learning_rate == pytest.approx(
            a._optimizer.learning_rate, rel=1e-12)
        assert a._optimizer.learning_rate < 0.1
    c, pc = run(snippet, SPARSE, *iris)
    assert_sparse_network_like(a, c)


def test_classifier_binary_and_string_labels():
    def snippet(nn):
        X, y = make_classification(n_samples=80, n_features=6, random_state=2)
        labels = np.array(["no", "yes"])[y]
        clf = nn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=2,
                               learning_rate_init=0.01).fit(X, labels)
        return clf, clf.predict(X), clf.predict_proba(X)

    (a, ya, pa), (b, yb, pb) = both(snippet)
    assert_same_network(a, b)
    assert b.out_activation_ == "logistic" and pb.shape == (80, 2)
    np.testing.assert_array_equal(yb, ya)
    np.testing.assert_allclose(pb, pa, rtol=1e-9, atol=1e-12)


def test_classifier_multilabel():
    def snippet(nn):
        rng = np.random.RandomState(0)
        X = rng.randn(60, 5)
        Y = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5].astype(int)
        clf = nn.MLPClassifier(hidden_layer_sizes=(6,), max_iter=15, random_state=0,
                               learning_rate_init=0.01).fit(X, Y)
        return clf, clf.predict(X), clf.predict_proba(X)

    (a, ya, pa), (b, yb, pb) = both(snippet)
    assert_same_network(a, b)
    np.testing.assert_array_equal(yb, ya)
    np.testing.assert_allclose(pb, pa, rtol=1e-9, atol=1e-12)


def test_float32_stays_float32(iris):
    X, y = iris

    def snippet(nn):
        return nn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(
            X.astype(np.float32), y)

    a, b = both(snippet)
    assert all(W.dtype == np.float32 for W in a.coefs_ + b.coefs_)
    assert_same_network(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- regressor


def _regressor_docstring(nn):
    # MLPRegressor's docstring example
    X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    regr = nn.MLPRegressor(random_state=1, max_iter=200, tol=0.1).fit(X_train, y_train)
    return regr, regr.predict(X_test[:2]), regr.score(X_test, y_test)


def test_regressor_docstring_example():
    (a, pa, sa), (b, pb, sb) = both(_regressor_docstring)
    assert_same_network(a, b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(pb, pa, rtol=1e-9)
    assert sb == pytest.approx(sa, rel=1e-9)
    assert b.out_activation_ == "identity"


def test_regressor_docstring_example_runs_sparse():
    a, pa, _ = run(_regressor_docstring, SK)
    c, pc, sc = run(_regressor_docstring, SPARSE)
    assert_sparse_network_like(a, c)
    assert pc.shape == pa.shape and np.isfinite(sc)


def _regressor_variants(nn, X, Y):
    out = {}
    out["multi"] = nn.MLPRegressor(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=20,
                                   random_state=0, learning_rate_init=0.01).fit(X, Y)
    out["early"] = nn.MLPRegressor(hidden_layer_sizes=(6,), early_stopping=True,
                                   n_iter_no_change=3, max_iter=50, random_state=0,
                                   learning_rate_init=0.01).fit(X, Y[:, 0])
    sgd = nn.MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", learning_rate="adaptive",
                          learning_rate_init=0.01, random_state=0, shuffle=False)
    for _ in range(5):
        sgd.partial_fit(X, Y[:, 1])
    out["partial"] = sgd
    return out, {k: m.predict(X) for k, m in out.items()}


def test_regressor_multioutput_early_stopping_partial_fit():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 6)
    Y = np.c_[X[:, 0] - X[:, 1], np.sin(X[:, 2])]
    (ma, pa), (mb, pb) = both(_regressor_variants, X, Y)
    for k in ma:
        assert_same_network(ma[k], mb[k])
        np.testing.assert_allclose(pb[k], pa[k], rtol=1e-9, atol=1e-12)
    assert pb["multi"].shape == (120, 2) and pb["early"].shape == (120,)
    np.testing.assert_allclose(mb["early"].validation_scores_, ma["early"].validation_scores_)
    assert mb["early"].best_validation_score_ == pytest.approx(
        ma["early"].best_validation_score_, rel=1e-12)
    mc, pc = run(_regressor_variants, SPARSE, X, Y)
    for k in ma:
        assert pc[k].shape == pa[k].shape


# ----------------------------------------------------------- meta-estimators


def _pipeline_grid_search(nn, X, y):
    pipe = Pipeline([("scaler", StandardScaler()),
                     ("mlp", nn.MLPClassifier(hidden_layer_sizes=(6,), max_iter=15,
                                              learning_rate_init=0.02, random_state=0))])
    grid = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1e-1, 3.0]}, cv=3)
    grid.fit(X, y)
    return grid, grid.predict(X)


def test_pipeline_and_grid_search(iris):
    X = iris[0] * 3 + 1  # let the scaler do something
    (ga, ya), (gb, yb) = both(_pipeline_grid_search, X, iris[1])
    assert gb.best_params_ == ga.best_params_
    np.testing.assert_allclose(gb.cv_results_["mean_test_score"],
                               ga.cv_results_["mean_test_score"])
    assert_same_network(ga.best_estimator_[-1], gb.best_estimator_[-1])
    np.testing.assert_array_equal(yb, ya)
    gc, yc = run(_pipeline_grid_search, SPARSE, X, iris[1])
    assert gc.best_params_["mlp__alpha"] in (1e-4, 1e-1, 3.0)
    assert yc.shape == ya.shape


def _clone_and_pickle(nn, X, y):
    clf = nn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=10, random_state=0,
                           learning_rate_init=0.01).fit(X, y)
    fresh = clone(clf)
    assert not hasattr(fresh, "coefs_")
    refit = fresh.fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    return clf, refit, loaded, fresh.get_params()


@pytest.mark.parametrize("nn", [DENSE, SPARSE], ids=["density1", "default"])
def test_clone_and_pickle(iris, nn):
    a, _, _, pa = run(_clone_and_pickle, SK, *iris)
    b, refit, loaded, pb = run(_clone_and_pickle, nn, *iris)
    # every scikit-learn parameter but warm_start and max_fun (lbfgs only) is spelled alike,
    # with the same defaults but verbose (None: sparsopt's global configuration)
    assert set(pa) - set(pb) == {"warm_start", "max_fun"}
    shared = set(pa) & set(pb) - {"verbose"}
    assert {k: pb[k] for k in shared} == {k: pa[k] for k in shared}
    assert pa["verbose"] is False and pb["verbose"] is None
    for clf in (refit, loaded):
        np.testing.assert_array_equal(clf.predict_proba(iris[0]), b.predict_proba(iris[0]))
        for W, W0 in zip(clf.coefs_, b.coefs_):
            np.testing.assert_array_equal(W, W0)
    if nn is DENSE:
        assert_same_network(a, b)


# --------------------------------------------------------- intended differences


@pytest.mark.parametrize("Est", [SparseMLPClassifier, SparseMLPRegressor])
def test_lbfgs_is_refused_naming_solver(iris, Est):
    with pytest.raises(ValueError, match="'solver' parameter"):
        Est(solver="lbfgs").fit(*iris)


@pytest.mark.parametrize("kwarg", ["warm_start", "max_fun"])
def test_lbfgs_and_warm_start_parameters_absent(kwarg):
    with pytest.raises(TypeError, match=kwarg):
        SparseMLPClassifier(**{kwarg: True})


def test_regressor_has_no_loss_parameter():
    with pytest.raises(TypeError, match="loss"):
        SparseMLPRegressor(loss="poisson")


def test_sample_weight_not_accepted(iris):
    X, y = iris
    with pytest.raises(TypeError, match="sample_weight"):
        SparseMLPClassifier(max_iter=1).fit(X, y, sample_weight=np.ones(len(y)))


def test_mlppruner_keeps_the_sklearn_model(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = sknn.MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=0,
                                   learning_rate_init=0.01).fit(X, y)
        pruner = MLPPruner(dense, density=0.3, random_state=0).fit(X, y)
    est = pruner.estimator_
    assert type(est) is sknn.MLPClassifier
    kept = sum(int(np.count_nonzero(W)) for W in est.coefs_)
    assert kept <= 0.3 * sum(W.size for W in est.coefs_) + 1
    np.testing.assert_array_equal(pruner.predict(X), est.predict(X))


def test_make_pipeline_step_name_follows_the_class_name():
    pipe = make_pipeline(StandardScaler(), SparseMLPClassifier())
    assert "sparsemlpclassifier__alpha" in pipe.get_params()


def test_sparse_input_refused_with_a_type_error(iris):
    import scipy.sparse as sp

    X, y = iris
    with pytest.raises(TypeError, match="[Ss]parse"):
        SparseMLPClassifier(max_iter=1).fit(sp.csr_matrix(X), y)
