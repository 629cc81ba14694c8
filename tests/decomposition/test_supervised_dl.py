"""Supervised dictionary learning (SMF-W / SMF-H, solvers BCD and LPGD)."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from sparsopt.decomposition._supervised import (
    SupervisedDictionaryLearning,
    supervised_dictionary_learning,
)
from sparsopt.exceptions import NonFiniteIterateWarning

SDL = SupervisedDictionaryLearning


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # small matmul/SVD loops are much slower with oversubscribed BLAS threads
    with threadpool_limits(1):
        yield


def _synthetic(seed=0, noise=0.5):
    """Spec 2.5: p=100, n=1000 (700 train); three strong reconstructive directions
    (std 5, 4, 3), one weak direction (std 0.6) that drives the label, one auxiliary
    covariate z (last column)."""
    rng = np.random.default_rng(seed)
    p, n = 100, 1000
    Q, _ = np.linalg.qr(rng.standard_normal((p, 4)))
    g = rng.standard_normal((n, 4))
    X = g @ np.diag([5.0, 4.0, 3.0, 0.6]) @ Q.T + noise * rng.standard_normal((n, p))
    z = rng.standard_normal(n)
    logit = 3.0 * g[:, 3] + 1.0 * z
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    Xf = np.column_stack([X, z])
    return Xf[:700], y[:700], Xf[700:], y[700:], Q


@pytest.fixture(scope="module")
def synthetic():
    return _synthetic()


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 8))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.standard_normal(90) > 0).astype(int)
    return X, y


def _objectives(res):
    return np.array([h["objective"] for h in res.history])


def _is_monotone(F, rtol=1e-12):
    return bool(np.all(np.diff(F) <= rtol * np.abs(F[:-1])))


# --------------------------------------------------------------------------------------
# reproduction target (spec 2.5), small
# --------------------------------------------------------------------------------------


def test_reproduction_lpgd_monotone_with_one_over_L_step(synthetic):
    Xtr, ytr, *_ = synthetic
    # single step tau = 1/max(2 xi, ||[X, 1, z]||^2 / 4) on the unscaled lifted problem
    for block_scale in (1.0, "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            D, res = supervised_dictionary_learning(
                Xtr, ytr, n_components=2, xi=1e-3, solver="lpgd", aux_features=[100],
                block_scale=block_scale, max_iter=40, tol=0.0, init="svd")
        F = _objectives(res)
        assert F.size == 41 and _is_monotone(F), np.max(np.diff(F))
        assert res.info["objective_kind"] == "lifted"
        assert np.isfinite(res.info["stationarity"])
        if block_scale == 1.0:
            # the spec's single step tau = 1/max(2 xi, ||[X, 1, z]||^2 / 4) for A and B
            L = max(2e-3, 0.25 * np.linalg.norm(np.column_stack([Xtr, np.ones(700)]), 2) ** 2)
            np.testing.assert_allclose(res.info["step_sizes"][:2], [1 / L, 1 / L], rtol=1e-10)
            assert res.info["block_scale"] == 1.0


@pytest.mark.parametrize("solver", ["bcd", "lpgd"])
def test_reproduction_accuracy_beats_pca_and_rank_is_r(synthetic, solver):
    Xtr, ytr, Xte, yte, Q = synthetic
    pca = PCA(2).fit(Xtr[:, :100])

    def feats(X):
        return np.column_stack([pca.transform(X[:, :100]), X[:, 100]])

    acc_pca = LogisticRegression().fit(feats(Xtr), ytr).score(feats(Xte), yte)
    sdl = SDL(2, xi=1e-3, solver=solver, aux_features=[100], random_state=0).fit(Xtr, ytr)
    acc = sdl.score(Xte, yte)
    # measured: 0.710 (bcd and lpgd) vs PCA(2)+z+LR 0.617 (spec: 0.823 vs 0.573)
    assert acc >= acc_pca + 0.05, (acc, acc_pca)
    assert np.linalg.matrix_rank(sdl.components_) == 2
    assert sdl.components_.shape == (2, 100) and sdl.coef_.shape == (1, 2)
    assert sdl.aux_coef_.shape == (1, 1) and sdl.aux_coef_[0, 0] > 0  # z raises P(y=1)
    # one atom carries the weak label direction, the other the strongest direction
    overlap = np.abs(sdl.components_ @ Q)
    assert overlap[:, 3].max() > 0.6 and overlap[:, 0].max() > 0.95


def test_pca_fixed_point_pitfall_and_block_scale(synthetic):
    """Spec 2.5: from the PCA dictionary, the unscaled rank projection keeps B's large
    singular values and the iterates stay at the PCA point; the block scaling escapes."""
    Xtr, ytr, _, _, Q = synthetic
    out = {}
    for bs in (1.0, "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            D, res = supervised_dictionary_learning(
                Xtr, ytr, n_components=2, xi=1e-3, solver="lpgd", aux_features=[100],
                block_scale=bs, warm_start_iter=0, init="svd", max_iter=120, tol=0.0)
        F = _objectives(res)
        assert _is_monotone(F)
        out[bs] = (F[0], F[-1], np.abs(D @ Q)[:, 3].max())
    F0, F1, weak = out[1.0]
    assert F1 > F0 - 1e-3 * abs(F0) and weak < 0.1          # stuck at PCA
    F0, F1, weak = out["auto"]
    assert F1 < F0 - 50.0 and weak > 0.6                      # found the label direction


def test_bcd_objective_monotone_with_all_options(small):
    X, y = small
    for mode in ("filter", "feature"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            D, res = supervised_dictionary_learning(
                X, y, n_components=3, xi=0.5, mode=mode, alpha_code=0.1, alpha_dict=0.05,
                l2_reg=0.1, positive_code=True, positive_dict=True, max_iter=30, tol=0.0,
                random_state=0)
        F = _objectives(res)
        assert F.size == 31 and _is_monotone(F, rtol=1e-10)
        assert np.all(D >= 0) and np.all(np.linalg.norm(D, axis=1) <= 1 + 1e-12)
        assert np.all(res.info["codes"] >= 0)
        assert res.info["objective_kind"] == "factorized"


@pytest.mark.parametrize("mode", ["filter", "feature"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_lpgd_monotone_all_modes_and_classes(mode, n_classes):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 7))
    y = np.digitize(X[:, 0] + 0.5 * rng.standard_normal(80),
                    np.quantile(X[:, 0], np.linspace(0, 1, n_classes + 1)[1:-1]))
    for bs in (1.0, "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            D, res = supervised_dictionary_learning(
                X, y, n_components=3, xi=0.05, mode=mode, solver="lpgd", l2_reg=0.1,
                aux_features=[6], block_scale=bs, warm_start_iter=2, max_iter=25, tol=0.0)
        assert _is_monotone(_objectives(res)), (bs, np.max(np.diff(_objectives(res))))
        assert np.linalg.matrix_rank(D) == 3 and D.shape == (3, 6)
        assert res.info["coef"].shape == (n_classes - 1, 3)
        np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0, rtol=1e-10)


def test_objective_value_matches_definition(small):
    X, y = small
    xi, nu = 0.3, 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        D, res = supervised_dictionary_learning(X, y, n_components=2, xi=xi, l2_reg=nu,
                                                aux_features=[7], max_iter=5, tol=0.0)
    C, beta = res.info["codes"], res.info["coef"]
    b0, gam = res.info["intercept"], res.info["aux_coef"]
    s = X[:, :7] @ D.T @ beta[0] + b0[0] + X[:, 7] * gam[0, 0]
    loss = np.sum(np.logaddexp(0, s) - y * s)
    F = (loss + xi * np.sum((X[:, :7] - C @ D) ** 2)
         + nu / 2 * (np.sum(beta ** 2) + np.sum(gam ** 2)))
    np.testing.assert_allclose(res.history[-1]["objective"], F, rtol=1e-10)


def test_step_decay_is_not_compounded(small):
    X, y = small
    beta = 0.3
    for solver in ("bcd", "lpgd"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _, res = supervised_dictionary_learning(
                X, y, n_components=2, xi=0.5, solver=solver, step_size=0.8,
                step_decay=beta, max_iter=12, tol=0.0)
        steps = np.array([h["step_scale"] for h in res.history[1:]])
        t = np.arange(steps.size)
        np.testing.assert_allclose(steps, 0.8 * (t + 10.0) ** (-beta), rtol=1e-12)


# --------------------------------------------------------------------------------------
# estimator behaviour
# --------------------------------------------------------------------------------------


def test_multiclass_string_labels():
    rng = np.random.default_rng(2)
    centers = rng.normal(scale=3.0, size=(3, 6))
    lab = rng.integers(0, 3, size=150)
    X = centers[lab] + rng.standard_normal((150, 6))
    y = np.array(["ant", "bee", "cat"])[lab]
    for solver in ("bcd", "lpgd"):
        sdl = SDL(2, xi=0.1, l2_reg=0.1, solver=solver, max_iter=50).fit(X, y)
        assert sdl.classes_.tolist() == ["ant", "bee", "cat"]
        assert sdl.coef_.shape == (2, 2) and sdl.intercept_.shape == (2,)
        assert sdl.aux_coef_.shape == (2, 0)
        dec, proba = sdl.decision_function(X), sdl.predict_proba(X)
        assert dec.shape == proba.shape == (150, 3) and np.all(dec[:, 0] == 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_allclose(np.exp(sdl.predict_log_proba(X)), proba, rtol=1e-10)
        assert np.array_equal(sdl.predict(X), sdl.classes_[np.argmax(proba, axis=1)])
        assert sdl.score(X, y) > 0.9


def test_binary_matches_logistic_model(small):
    X, y = small
    sdl = SDL(2, xi=0.1, l2_reg=0.1).fit(X, y == 1)
    s = sdl.transform(X) @ sdl.coef_[0] + sdl.intercept_[0]
    np.testing.assert_allclose(sdl.decision_function(X), s, rtol=1e-10)
    np.testing.assert_allclose(sdl.predict_proba(X)[:, 1], 1 / (1 + np.exp(-s)), rtol=1e-10)
    assert sdl.predict(X).dtype == bool and sdl.score(X, y == 1) > 0.85


@pytest.mark.parametrize("mode", ["filter", "feature"])
def test_aux_features_enter_classifier_only(small, mode):
    X, y = small
    rng = np.random.default_rng(3)
    X = np.column_stack([X, rng.standard_normal((90, 2))])
    y = (y + (X[:, 9] > 1)).clip(0, 1)
    sdl = SDL(2, xi=0.2, mode=mode, l2_reg=0.1, aux_features=[8, -1]).fit(X, y)
    assert sdl.components_.shape == (2, 8) and sdl.aux_coef_.shape == (1, 2)
    np.testing.assert_array_equal(sdl.aux_features_, [8, 9])
    X2 = X.copy()
    X2[:, 8:] = rng.standard_normal((90, 2)) * 3
    np.testing.assert_array_equal(sdl.transform(X2), sdl.transform(X))
    np.testing.assert_allclose(sdl.decision_function(X2) - sdl.decision_function(X),
                               (X2[:, 8:] - X[:, 8:]) @ sdl.aux_coef_[0], atol=1e-10)
    assert not np.array_equal(sdl.predict_proba(X2), sdl.predict_proba(X))
    # a boolean mask is the same routing
    mask = np.zeros(10, dtype=bool)
    mask[8:] = True
    other = SDL(2, xi=0.2, mode=mode, l2_reg=0.1, aux_features=mask).fit(X, y)
    np.testing.assert_allclose(other.components_, sdl.components_)
    np.testing.assert_allclose(other.aux_coef_, sdl.aux_coef_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_feature_mode_transform_codes(small):
    X, y = small
    sdl = SDL(3, xi=0.5, mode="feature", l2_reg=0.1).fit(X, y)
    D = sdl.components_
    H = sdl.transform(X)
    np.testing.assert_allclose(H, np.linalg.lstsq(D.T, X.T, rcond=None)[0].T, atol=1e-10)
    assert sdl.score(X, y) > 0.8
    sparse = SDL(3, xi=0.5, mode="feature", alpha_code=2.0, positive_code=True,
                 max_iter=40).fit(X, y)
    Hs = sparse.transform(X)
    assert np.all(Hs >= 0) and np.mean(Hs == 0) > 0.2
    # the codes minimize xi ||x - h D||^2 + alpha ||h||_1 over h >= 0: KKT conditions
    Ds = sparse.components_
    G = 2 * 0.5 * (Hs @ Ds - X) @ Ds.T + 2.0
    assert np.all(np.abs(G[Hs > 0]) < 1e-4) and np.all(G[Hs == 0] > -1e-4)


def test_float32_in_float32_out(small):
    X, y = small
    X32 = X.astype(np.float32)
    for mode in ("filter", "feature"):
        a = SDL(2, xi=0.2, mode=mode, l2_reg=0.1).fit(X32, y)
        b = SDL(2, xi=0.2, mode=mode, l2_reg=0.1).fit(X, y)
        for attr in ("components_", "coef_", "intercept_", "aux_coef_"):
            assert getattr(a, attr).dtype == np.float32, attr
        assert a.transform(X32).dtype == np.float32
        assert a.decision_function(X32).dtype == np.float32
        np.testing.assert_allclose(a.components_, b.components_, atol=1e-4)
        np.testing.assert_allclose(a.transform(X32), b.transform(X), atol=1e-3)
        assert np.mean(a.predict(X32) == b.predict(X)) > 0.97


def test_pipeline_gridsearch_clone_pickle(small):
    X, y = small
    pipe = make_pipeline(StandardScaler(), SDL(2, l2_reg=0.1, max_iter=30))
    search = GridSearchCV(pipe, {"superviseddictionarylearning__xi": [0.01, 1.0]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.8
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    c = clone(SDL(3, aux_features=[1, 2]))
    assert c.get_params()["aux_features"] == [1, 2] and not hasattr(c, "components_")
    names = SDL(2, l2_reg=0.1).fit(X, y).get_feature_names_out()
    assert names.tolist() == ["superviseddictionarylearning0", "superviseddictionarylearning1"]


def test_one_convergence_warning(small):
    X, y = small
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        sdl = SDL(2, xi=0.5, max_iter=2, tol=0.0).fit(X, y)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and "tol = 0.0e+00" in str(conv[0].message)
    assert "max_iter" in str(conv[0].message)
    assert not sdl.converged_ and sdl.n_iter_ == 2 and sdl.objective_history_.shape == (3,)


def test_divergent_step_rolls_back_to_finite_iterate(small):
    X, y = small
    with pytest.warns(NonFiniteIterateWarning, match="step size"):
        D, res = supervised_dictionary_learning(X, y, n_components=2, xi=1.0, solver="lpgd",
                                                step_size=1e3, max_iter=400, tol=0.0)
    assert np.all(np.isfinite(D)) and np.all(np.isfinite(res.info["coef"]))
    assert np.all(np.isfinite(_objectives(res)))


# --------------------------------------------------------------------------------------
# clear errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, X_mod, match", [
    ({"n_components": 0}, None, "n_components"),
    ({"n_components": -2}, None, "n_components"),
    ({"xi": -0.1}, None, "xi"),
    ({"mode": "wrapper"}, None, "mode"),
    ({"solver": "adam"}, None, "solver"),
    ({"aux_features": [8]}, None, "out of range"),
    ({"aux_features": [-9]}, None, "out of range"),
    ({"aux_features": [1, 1]}, None, "repeated"),
    ({"aux_features": np.ones(3, dtype=bool)}, None, "boolean mask"),
    ({"aux_features": list(range(8))}, None, "at least one column"),
    ({"aux_features": [0.5]}, None, "aux_features"),
    ({"solver": "lpgd", "alpha_code": 0.1}, None, "alpha_code"),
    ({"solver": "lpgd", "positive_dict": True}, None, "positive_dict"),
    ({"mode": "feature", "xi": 0.0}, None, "xi > 0"),
    ({"mode": "feature", "n_components": 9}, None, "n_components <= the number"),
    ({"step_size": 0.0}, None, "step_size"),
    ({"block_scale": -1.0}, None, "block_scale"),
    ({}, "nan", "NaN"),
    ({}, "one_class", "class"),
])
def test_bad_input_is_named(small, kwargs, X_mod, match):
    X, y = small
    params = {"n_components": 2}
    params.update(kwargs)
    if X_mod == "nan":
        X = X.copy()
        X[3, 2] = np.nan
    elif X_mod == "one_class":
        y = np.zeros_like(y)
    with pytest.raises((ValueError, TypeError), match=match):
        SDL(**params).fit(X, y)


def test_function_errors(small):
    X, y = small
    with pytest.raises(ValueError, match="n_components"):
        supervised_dictionary_learning(X, y, n_components=0)
    with pytest.raises(ValueError, match="xi"):
        supervised_dictionary_learning(X, y, n_components=2, xi=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        supervised_dictionary_learning(np.full_like(X, np.nan), y, n_components=2)
    with pytest.raises(ValueError, match="init"):
        supervised_dictionary_learning(X, y, n_components=2, init="random")
    with pytest.raises(ValueError, match="one label per row"):
        supervised_dictionary_learning(X, y[:-1], n_components=2)
    with pytest.raises(TypeError, match="aux_features"):
        supervised_dictionary_learning(X, y, n_components=2, aux_features="z")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-30, 30), min_size=1, max_size=4))
def test_aux_feature_indices_validated(idx):
    from sparsopt.decomposition._supervised import _split_features

    n = 8
    norm = [i + n if i < 0 else i for i in idx]
    bad_range = any(i >= n or i < -n for i in idx)
    if bad_range or len(set(norm)) != len(norm) or len(set(norm)) == n:
        with pytest.raises(ValueError, match="aux_features"):
            _split_features(idx, n)
    else:
        d, a = _split_features(idx, n)
        assert sorted(a.tolist()) == sorted(norm)
        assert sorted(d.tolist() + a.tolist()) == list(range(n))


@settings(max_examples=25, deadline=None)
@given(st.floats(max_value=-1e-12, allow_nan=False, allow_infinity=False))
def test_negative_xi_always_refused(xi):
    with pytest.raises(ValueError, match="xi"):
        SDL(2, xi=xi).fit(np.eye(4), [0, 1, 0, 1])


def test_unfitted_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SDL(2).predict(np.eye(3))


# --------------------------------------------------------------------------------------
# scikit-learn estimator checks
# --------------------------------------------------------------------------------------

_P = SDL._test_params("")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
# SDL(**_P) itself is checked by tests/test_common.py: only the other mode and solver here
@parametrize_with_checks([SDL(**_P, mode="feature"), SDL(**_P, solver="lpgd")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ----------------------------------------------------------------------------- one road
@pytest.mark.parametrize("solver", ["bcd", "lpgd"])
def test_callback_true_stops_after_one_check(small, solver):
    X, y = small
    seen = []

    def cb(state):
        seen.append((state.iteration, state.objective, state.info["step_scale"]))
        return True

    res = supervised_dictionary_learning(X, y, n_components=2, xi=0.5, solver=solver,
                                         max_iter=50, tol=0.0, callback=cb)
    assert len(seen) == 1 and seen[0][0] == 1
    assert res.n_iter == 1 and not res.converged and res.stopped_by == "callback"
    assert res.x.shape == (2, X.shape[1])  # the dictionary, also for the lifted solver


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol=0
def test_verbose_prints_one_line_per_iteration(small, capsys):
    X, y = small
    supervised_dictionary_learning(X, y, n_components=2, xi=0.5, max_iter=3, tol=0.0,
                                   verbose=1)
    out = [ln for ln in capsys.readouterr().out.splitlines() if "supervised" in ln]
    assert len(out) == 4  # header + 3 iterations
