"""The masked MLP engine: scikit-learn equivalence at density 1, the training invariants of
spec 4.8 (i), the contract's PruneEvent semantics and the sparse inference path."""

import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sparsopt.pruning import (
    Constant,
    Iterative,
    MagnitudeCriterion,
    OneShot,
    PolynomialDecay,
    RandomCriterion,
    SparseMLPClassifier,
    SparseMLPRegressor,
    _mlp,
)
from sparsopt.pruning._mlp import MLPEngine, forward_dense


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 12))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("solver, extra", [
    ("adam", {}),
    ("sgd", {"momentum": 0.9, "nesterovs_momentum": True}),
    ("sgd", {"momentum": 0.5, "nesterovs_momentum": False, "learning_rate": "invscaling"}),
])
def test_density_one_equals_sklearn_classifier(data, shuffle, solver, extra):
    X, y = data
    kw = dict(hidden_layer_sizes=(7, 5), max_iter=4, batch_size=32, random_state=0,
              shuffle=shuffle, solver=solver, learning_rate_init=0.01, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MLPClassifier(**kw).fit(X, y)
        ours = SparseMLPClassifier(density=1.0, schedule="constant", **kw).fit(X, y)
    for a, b in zip(ref.coefs_ + ref.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert ours.n_iter_ == ref.n_iter_ and ours.t_ == ref.t_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "identity"])
def test_density_one_equals_sklearn_regressor(data, activation):
    X, _ = data
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2]
    kw = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=40, random_state=1,
              activation=activation, alpha=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MLPRegressor(**kw).fit(X, Y)
        ours = SparseMLPRegressor(density=1.0, schedule="constant", **kw).fit(X, Y)
    for a, b in zip(ref.coefs_, ours.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-10)


def test_binary_early_stopping_equals_sklearn(data):
    X, y = data
    yb = (y > 0).astype(int)
    kw = dict(hidden_layer_sizes=(8,), max_iter=15, batch_size=25, random_state=0,
              early_stopping=True, n_iter_no_change=3, learning_rate_init=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MLPClassifier(**kw).fit(X, yb)
        ours = SparseMLPClassifier(density=1.0, schedule="constant", **kw).fit(X, yb)
    np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)
    for a, b in zip(ref.coefs_, ours.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------- invariants
class _Recorder:
    """Wraps MLPEngine.one_step/_apply_event to check the invariants at every step."""

    def __init__(self, monkeypatch):
        self.steps = 0
        self.events = []
        one_step, apply_event = MLPEngine.one_step, MLPEngine._apply_event
        rec = self

        def checked_step(eng, Xb, Yb, lb):
            loss = one_step(eng, Xb, Yb, lb)
            rec.steps += 1
            rec.check(eng)
            return loss

        def checked_event(eng, event, grads=None):
            apply_event(eng, event, grads)
            rec.events.append((event, [None if M is None else M.copy() for M in eng.masks]))
            rec.check(eng)
            rec.check_counts(eng, event)

        monkeypatch.setattr(MLPEngine, "one_step", checked_step)
        monkeypatch.setattr(MLPEngine, "_apply_event", checked_event)

    @staticmethod
    def check(eng):
        opt = eng.optimizer
        states = ([opt.ms, opt.vs] if hasattr(opt, "ms") else [opt.velocities])
        for i, (W, M) in enumerate(zip(eng.coefs, eng.masks)):
            if M is None:
                continue
            assert not W[~M].any(), "a masked weight is not exactly 0"
            for st in states:
                assert not st[i][~M].any(), "optimizer state is not masked"

    @staticmethod
    def check_counts(eng, event):
        sizes = [W.size for W, p in zip(eng.coefs, eng.prunable) if p]
        kept = [W.size if M is None else int(M.sum())
                for W, M, p in zip(eng.coefs, eng.masks, eng.prunable) if p]
        assert abs(sum(kept) - event.density * sum(sizes)) <= 1.0 + 1e-9


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("criterion", ["magnitude", "layer", "erk",
                                       RandomCriterion("erk")])
def test_masked_weights_and_state_stay_zero_after_every_step(data, monkeypatch, solver,
                                                             criterion):
    X, y = data
    rec = _Recorder(monkeypatch)
    est = SparseMLPClassifier((10, 8), density=0.2, criterion=criterion,
                              schedule=PolynomialDecay(begin=0.1, end=0.7, frequency=4),
                              solver=solver, max_iter=6, batch_size=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert rec.steps == 6 * 5 and len(rec.events) >= 5
    assert abs(est.density_ - 0.2) <= 1 / sum(W.size for W in est.coefs_)
    for W, M in zip(est.coefs_, est.masks_):
        assert not W[~M].any()
    assert [s for s, _ in est.density_history_] == [e.step for e, _ in rec.events]


@pytest.mark.parametrize("updater", [None, "srste"])
def test_forward_pass_uses_masked_weights(data, monkeypatch, updater):
    # invariant 1 (the forward pass sees W * M) and 2 (no update reaches a pruned weight
    # except through SR-STE's dense shadow)
    from sparsopt.pruning import SRSTE

    X, y = data
    seen = []
    orig = MLPEngine.forward_backward

    def spy(eng, Xb, Yb, lb, weights):
        for W, M in zip(weights, eng.masks):
            if M is not None:
                assert not W[~M].any()
                seen.append(True)
        return orig(eng, Xb, Yb, lb, weights)

    monkeypatch.setattr(MLPEngine, "forward_backward", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((12,), density=0.3, criterion="layer",
                                  schedule=OneShot(at=0.3), max_iter=4, batch_size=50,
                                  mask_updater=SRSTE() if updater else None,
                                  random_state=0).fit(X, y)
    assert seen
    eng = est._engine
    if updater:  # the shadow weights are dense, the published ones masked
        assert (eng.coefs[0] != 0).all()
    for W, M in zip(est.coefs_, est.masks_):
        assert not W[~M].any()


def test_per_layer_exact_counts(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((10, 8), density=0.3, criterion="layer",
                                  schedule=OneShot(at=0.5), max_iter=4,
                                  random_state=0).fit(X, y)
    for M in est.masks_:
        assert abs(M.sum() - 0.3 * M.size) <= 1
    assert est.layer_densities_ == [M.mean() for M in est.masks_]


def test_events_before_steps_and_after_the_end(data, monkeypatch):
    X, y = data
    steps_seen = []
    orig = MLPEngine._apply_event

    def spy(eng, event, grads=None):
        steps_seen.append((event.step, eng.step))
        orig(eng, event, grads)

    monkeypatch.setattr(MLPEngine, "_apply_event", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 150 rows in batches of 50: 3 steps per epoch, 9 in all
        SparseMLPClassifier((6,), density=0.5, schedule=Constant(begin=3, frequency=4),
                            max_iter=3, batch_size=50, random_state=0).fit(X, y)
        assert steps_seen == [(3, 3), (7, 7)]  # pruned before optimizer steps 3 and 7
        steps_seen.clear()
        # "end": after the last optimizer step, the model is pruned without fine-tuning
        est = SparseMLPClassifier((6,), density=0.5, schedule=OneShot("end"), max_iter=3,
                                  batch_size=50, random_state=0).fit(X, y)
    assert steps_seen == [(9, 9)]
    assert est.density_history_ == [(9, est.density_)] and est.density_ == 0.5


def test_rewind_to_init_restores_surviving_weights(data, monkeypatch):
    X, y = data
    snap = {}
    orig = MLPEngine._apply_event

    def spy(eng, event, grads=None):
        if "init" not in snap:
            snap["init"] = [W.copy() for W in eng._snapshots["init"][0]]
        orig(eng, event, grads)
        if event.rewind == "init":
            for W, W0, M in zip(eng.coefs, snap["init"], eng.full_masks()):
                np.testing.assert_array_equal(W, W0 * M)
            snap.setdefault("n", 0)
            snap["n"] += 1
            assert eng.optimizer.t == 0

    monkeypatch.setattr(MLPEngine, "_apply_event", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((8,), density=0.25,
                                  schedule=Iterative(n_rounds=2, rewind="init"),
                                  max_iter=6, batch_size=50, random_state=0).fit(X, y)
    assert snap["n"] == 2 and est.density_ == pytest.approx(0.25, abs=1 / 120)


def test_rewind_to_a_step(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((8,), density=0.5, schedule=Iterative(n_rounds=1, rewind=2),
                                  max_iter=4, batch_size=50, random_state=0).fit(X, y)
    assert 2 in est._engine._snapshots and est.density_ == pytest.approx(0.5, abs=0.01)


def test_rewind_to_a_later_step_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="rewind"):
        SparseMLPClassifier((8,), schedule=Iterative(n_rounds=1, rewind=100), max_iter=2,
                            batch_size=50).fit(X, y)


def test_partial_fit_equals_fit(data):
    X, y = data
    kw = dict(hidden_layer_sizes=(9, 7), density=0.15, criterion="erk", shuffle=False,
              schedule=PolynomialDecay(begin=0.1, end=0.8, frequency=3), max_iter=5,
              batch_size=40, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = SparseMLPClassifier(**kw).fit(X, y)
        inc = SparseMLPClassifier(**kw)
        for _ in range(5):
            inc.partial_fit(X, y, classes=np.unique(y))
    for a, b in zip(full.coefs_ + full.intercepts_, inc.coefs_ + inc.intercepts_):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(full.masks_, inc.masks_):
        np.testing.assert_array_equal(a, b)
    assert full.loss_curve_ == inc.loss_curve_
    assert full.density_history_ == inc.density_history_
    assert inc._engine.step == full._engine.step == 5 * 4


def test_tol_stop_waits_for_the_schedule(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((8,), density=0.2, tol=10.0, n_iter_no_change=1,
                                  schedule=PolynomialDecay(begin=0.0, end=0.5, frequency=3),
                                  max_iter=10, batch_size=50, random_state=0).fit(X, y)
    # the last event is before step 15, in epoch 6: no stop before it; the event resets
    # the best loss (epoch 6 sets it), epochs 7 and 8 do not improve by tol: stop
    assert est.density_history_[-1][0] == 15
    assert est.n_iter_ == 8 and est.density_ == pytest.approx(0.2, abs=0.01)


def test_float32_training_stays_float32(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((8,), density=0.3, max_iter=3,
                                  random_state=0).fit(X.astype(np.float32), y)
    assert all(W.dtype == np.float32 for W in est.coefs_ + est.intercepts_)
    assert est.predict_proba(X.astype(np.float32)).dtype == np.float32
    opt = est._engine.optimizer
    assert all(m.dtype == np.float32 for m in opt.ms)


# --------------------------------------------------------------------- inference
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_sparse_forward_equals_dense(dtype, activation):
    rng = np.random.default_rng(1)
    coefs = [rng.standard_normal((20, 30)), rng.standard_normal((30, 4))]
    for W in coefs:
        W[rng.random(W.shape) > 0.1] = 0
    coefs = [W.astype(dtype) for W in coefs]
    intercepts = [rng.standard_normal(30).astype(dtype), rng.standard_normal(4).astype(dtype)]
    X = rng.standard_normal((100, 20)).astype(dtype)
    dense = forward_dense(X, coefs, intercepts, activation, "softmax", sparse=False)
    cache = {}
    auto = forward_dense(X, coefs, intercepts, activation, "softmax", cache=cache)
    assert cache["net"] is not None  # density 0.1: the fused sparse pass ran
    forced = forward_dense(X, coefs, intercepts, activation, "softmax", sparse=True)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for out in (auto, forced):
        assert out.dtype == dtype
        np.testing.assert_allclose(out, dense, rtol=rtol, atol=rtol)


def test_sparse_network_cache_follows_the_weights():
    rng = np.random.default_rng(2)
    coefs = [rng.standard_normal((8, 40)) * (rng.random((8, 40)) < 0.05),
             rng.standard_normal((40, 3)) * (rng.random((40, 3)) < 0.05)]
    intercepts = [np.zeros(40), np.zeros(3)]
    X = rng.standard_normal((50, 8))
    cache = {}
    out1 = forward_dense(X, coefs, intercepts, "relu", "identity", cache=cache)
    net = cache["net"]
    forward_dense(X, coefs, intercepts, "relu", "identity", cache=cache)
    assert cache["net"] is net  # reused
    coefs[1] *= 2  # modified in place: rebuilt
    out2 = forward_dense(X, coefs, intercepts, "relu", "identity", cache=cache)
    assert cache["net"] is not net
    np.testing.assert_allclose(out2 - intercepts[1], 2 * (out1 - intercepts[1]))
    # too dense, or too few rows: dense BLAS
    dense_coefs = [rng.standard_normal((8, 40)), rng.standard_normal((40, 3))]
    forward_dense(X, dense_coefs, intercepts, "relu", "identity", cache=cache)
    assert cache["net"] is None


def test_predict_through_sparse_layers_equals_dense(data, monkeypatch):
    X, y = data
    Xb = np.repeat(X, 2, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((32,), density=0.05, criterion="layer", max_iter=3,
                                  random_state=0).fit(X, y)
    proba = est.predict_proba(Xb)
    assert est._sparse_cache["net"] is not None  # the sparse path ran
    monkeypatch.setattr(_mlp, "SPARSE_DENSITY_MAX", -1.0)  # force dense BLAS
    est._sparse_cache.clear()
    dense = est.predict_proba(Xb)
    assert est._sparse_cache["net"] is None
    np.testing.assert_allclose(dense, proba, rtol=1e-12, atol=1e-14)


def test_engine_pickles_without_buffers(data):
    import pickle

    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((8,), density=0.5, max_iter=2, random_state=0,
                                  shuffle=False).fit(X, y)
        est2 = pickle.loads(pickle.dumps(est))
        assert not hasattr(est2._engine, "_acts")
        est.partial_fit(X, y)
        est2.partial_fit(X, y)
    for a, b in zip(est.coefs_, est2.coefs_):
        np.testing.assert_array_equal(a, b)


def test_magnitude_criterion_instance_is_used(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier((10,), density=0.1, max_iter=2, random_state=0,
                                  criterion=MagnitudeCriterion(scope="layer")).fit(X, y)
    assert [round(d, 2) for d in est.layer_densities_] == [0.1, 0.1]


@pytest.mark.parametrize("criterion", ["magnitude", "random", "random_erk", "layer"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_density_one_with_default_schedule_stops_as_sklearn(data, early_stopping, criterion):
    # the default gradual plan at density 1 is only no-op events: they must neither hold
    # the tol stopping back nor restart its tracking (dense fit promised), whatever the
    # density-following criterion (the engine tells events that change no mask apart)
    X, y = data
    kw = dict(hidden_layer_sizes=(8,), max_iter=80, batch_size=30, random_state=0,
              learning_rate_init=0.02, n_iter_no_change=3, tol=2e-2,
              early_stopping=early_stopping)
    ref = MLPClassifier(**kw).fit(X, y)
    ours = SparseMLPClassifier(density=1.0, criterion=criterion, **kw).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ < 80
    for a, b in zip(ref.coefs_, ours.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_nm_events_at_density_one_still_prune_and_hold_stopping(data):
    # an N:M criterion ignores the density: its events at density 1 do change the masks,
    # so they count as changes and the stopping rule waits for the schedule
    X, y = data
    kw = dict(hidden_layer_sizes=(8,), max_iter=60, batch_size=30, random_state=0,
              learning_rate_init=0.02, n_iter_no_change=2, tol=0.5)
    est = SparseMLPClassifier(density=1.0, criterion="2:4", **kw).fit(X, y)
    assert est.layer_densities_[0] == pytest.approx(0.5)
    assert est._engine.events_applied >= 1
