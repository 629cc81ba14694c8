"""SparseMLPClassifier / SparseMLPRegressor: scikit-learn behaviour, errors, attributes."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sparsopt.pruning import (
    NMCriterion,
    OneShot,
    SparseMLPClassifier,
    SparseMLPRegressor,
)


@pytest.fixture(scope="module")
def clf_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    y = np.where(X[:, 0] + X[:, 1] > 0, "a", "b")
    y[X[:, 2] > 1] = "c"
    return X, y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kw)


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5, np.nan, "half"])
def test_density_outside_unit_interval(clf_data, density):
    X, y = clf_data
    with pytest.raises((ValueError, TypeError), match="density"):
        SparseMLPClassifier(density=density, max_iter=1).fit(X, y)


def test_n_greater_than_m_is_refused(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="n must be <= m"):
        SparseMLPClassifier(criterion=NMCriterion(n=5, m=4), max_iter=1).fit(X, y)


def test_unknown_names_are_refused(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="criterion"):
        SparseMLPClassifier(criterion="biggest", max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="schedule"):
        SparseMLPClassifier(schedule="sometimes", max_iter=1).fit(X, y)
    with pytest.raises((TypeError, ValueError), match="criterion"):
        SparseMLPClassifier(criterion=3, max_iter=1).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(clf_data, bad):
    X, y = clf_data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="(?i)nan|inf"):
        SparseMLPClassifier(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="(?i)nan|inf"):
        SparseMLPRegressor(max_iter=1).fit(X, X[:, 0] * 0 + 1)


def test_nothing_to_prune(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="prune_output_layer"):
        SparseMLPClassifier((), prune_output_layer=False, max_iter=1).fit(X, y)


def test_one_convergence_warning_when_max_iter_is_hit(clf_data):
    X, y = clf_data
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        SparseMLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and "max_iter" in str(conv[0].message)
    assert conv[0].filename == __file__  # points at the caller
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = SparseMLPClassifier((8,), max_iter=50, tol=1.0, n_iter_no_change=1,
                                  schedule=OneShot("init"), random_state=0).fit(X, y)
    assert est.n_iter_ < 50
    assert not [w for w in rec if issubclass(w.category, ConvergenceWarning)]


def test_fitted_attributes(clf_data):
    X, y = clf_data
    est = _fit(SparseMLPClassifier((12, 6), density=0.2, max_iter=5, random_state=0), X, y)
    assert list(est.classes_) == ["a", "b", "c"]
    assert est.n_layers_ == 4 and est.n_outputs_ == 3 and est.out_activation_ == "softmax"
    assert [W.shape for W in est.coefs_] == [(10, 12), (12, 6), (6, 3)]
    assert [M.dtype for M in est.masks_] == [bool] * 3
    assert len(est.loss_curve_) == est.n_iter_ == 5 and est.t_ == 5 * 200
    assert est.best_loss_ is not None and est.validation_scores_ is None
    assert abs(est.density_ - 0.2) <= 1 / sum(W.size for W in est.coefs_)
    assert est.density_history_[-1][1] == est.density_
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(X))
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), proba)


def test_binary_and_multilabel(clf_data):
    X, y = clf_data
    yb = (y == "a").astype(int)
    est = _fit(SparseMLPClassifier((8,), max_iter=5, random_state=0), X, yb)
    assert est.out_activation_ == "logistic" and est.predict_proba(X).shape == (200, 2)
    Y = np.c_[yb, X[:, 3] > 0]
    est = _fit(SparseMLPClassifier((8,), max_iter=5, random_state=0), X, Y)
    assert est.predict(X).shape == (200, 2)


def test_prune_output_layer_false(clf_data):
    X, y = clf_data
    est = _fit(SparseMLPClassifier((12,), density=0.1, prune_output_layer=False,
                                   max_iter=4, random_state=0), X, y)
    assert est.masks_[-1].all() and est.layer_densities_[-1] == 1.0
    assert est.density_ == pytest.approx(0.1, abs=1 / 120)


def test_regressor_multi_output_and_float32():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 6)).astype(np.float32)
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2]].astype(np.float32)
    est = _fit(SparseMLPRegressor((16,), density=0.3, max_iter=30, learning_rate_init=0.01,
                                  batch_size=16, random_state=0), X, Y)
    pred = est.predict(X)
    assert pred.shape == (150, 2) and pred.dtype == np.float32
    assert all(W.dtype == np.float32 for W in est.coefs_)
    assert est.score(X, Y) > 0.5
    est1 = _fit(clone(est), X, Y[:, 0])
    assert est1.predict(X).shape == (150,)


def test_early_stopping_restores_the_best_weights(clf_data):
    X, y = clf_data
    est = _fit(SparseMLPClassifier((16,), density=0.3, early_stopping=True,
                                   n_iter_no_change=2, max_iter=40, random_state=0,
                                   schedule=OneShot(at=0.1)), X, y)
    assert est.best_loss_ is None and len(est.validation_scores_) == est.n_iter_
    assert est.density_ == pytest.approx(0.3, abs=1 / 150)
    for W, M in zip(est.coefs_, est.masks_):
        assert not W[~M].any()
    with pytest.raises(ValueError, match="early_stopping"):
        est.partial_fit(X, y)


def test_partial_fit_needs_classes_first(clf_data):
    X, y = clf_data
    est = SparseMLPClassifier((8,), max_iter=3)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    est.partial_fit(X, y, classes=["a", "b", "c"])
    assert est.n_iter_ == 1 and est._engine.step == 1
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, np.where(y == "a", "z", y))


def test_partial_fit_past_the_plan_keeps_training(clf_data):
    X, y = clf_data
    est = SparseMLPClassifier((8,), density=0.25, max_iter=2, schedule=OneShot(at=0.5),
                              random_state=0)
    for _ in range(4):
        est.partial_fit(X, y, classes=["a", "b", "c"])
    assert est._engine.step == 4 and est.density_ == pytest.approx(0.25, abs=0.01)


def test_verbose_prints_progress_and_loss(clf_data, capsys):
    X, y = clf_data
    _fit(SparseMLPClassifier((8,), max_iter=2, verbose=0, random_state=0), X, y)
    assert capsys.readouterr().out == ""
    _fit(SparseMLPClassifier((8,), max_iter=2, verbose=2, random_state=0), X, y)
    out = capsys.readouterr()
    assert "Iteration 2, loss" in out.out and "SparseMLPClassifier" in out.out + out.err


def test_pipeline_and_cross_validation(clf_data):
    X, y = clf_data
    pipe = make_pipeline(StandardScaler(), SparseMLPClassifier((16,), density=0.3,
                                                                max_iter=30, batch_size=16,
                                                                random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(pipe, X, y, cv=3)
    majority = max(np.mean(y == c) for c in np.unique(y))
    assert scores.mean() > majority + 0.1


def test_params_are_not_mutated(clf_data):
    X, y = clf_data
    crit = NMCriterion(n=2, m=4)
    sched = OneShot(at=0.5)
    est = SparseMLPClassifier((8,), criterion=crit, schedule=sched, max_iter=2)
    _fit(est, X, y)
    assert est.criterion is crit and est.schedule is sched
    assert crit.get_params() == {"m": 4, "n": 2, "skip_incompatible": True}
