"""Mask updaters: SR-STE, GraNet's neuroregeneration, soft shrinkage."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone

from sparsopt.penalties import L1
from sparsopt.pruning import (
    SRSTE,
    NeuroRegeneration,
    NMCriterion,
    OneShot,
    PolynomialDecay,
    SoftShrinkage,
    SparseMLPClassifier,
)
from sparsopt.pruning._mlp import MLPEngine
from sparsopt.pruning._updaters import check_mask_updater, regenerate


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((160, 16))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


def _fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SparseMLPClassifier(**kw).fit(X, y)


# ------------------------------------------------------------------------- SR-STE
def _is_nm(W, n, m):
    groups = (W != 0).reshape(W.shape[0] // m, m, W.shape[1]).sum(axis=1)
    return (groups <= n).all()


def test_srste_gives_exact_2_4_masks(data):
    X, y = data
    est = _fit(X, y, hidden_layer_sizes=(12, 8), criterion="2:4", schedule=OneShot("init"),
               mask_updater=SRSTE(), max_iter=5, random_state=0)
    for W, M in zip(est.coefs_[:2], est.masks_[:2]):
        groups = M.reshape(W.shape[0] // 4, 4, W.shape[1]).sum(axis=1)
        assert (groups == 2).all()
        assert not W[~M].any()
    # 8 inputs to the 3-class output layer: compatible, 2:4 as well
    assert est.masks_[2].mean() == 0.5 and est.density_ == 0.5
    eng = est._engine
    # the engine keeps dense shadow weights: the masked entries are trained, not 0
    assert eng.srste_density is not None and (eng.coefs[0][~est.masks_[0]] != 0).all()
    np.testing.assert_array_equal(
        est.masks_[0], NMCriterion().select(eng.coefs, None)[0])


def test_srste_decay_shrinks_the_pruned_shadow_weights(data):
    X, y = data
    kw = dict(hidden_layer_sizes=(12,), criterion="2:4", schedule=OneShot("init"),
              max_iter=10, random_state=0, solver="sgd", learning_rate_init=0.05)
    weak = _fit(X, y, mask_updater=SRSTE(decay=0.0), **kw)._engine
    strong = _fit(X, y, mask_updater=SRSTE(decay=2.0), **kw)._engine
    off = [np.abs(e.coefs[0][~e.full_masks()[0]]).mean() for e in (weak, strong)]
    assert off[1] < 0.5 * off[0]


def test_srste_parameter_checked():
    with pytest.raises(ValueError, match="decay"):
        check_mask_updater(SRSTE(decay=-1.0))


# ------------------------------------------------------------------ regeneration
def test_regenerate_drops_smallest_and_grows_largest_gradient():
    W = np.array([[0.0, 3.0, -0.1], [2.0, 0.0, 0.0]])
    M = W != 0
    G = np.array([[5.0, 0.0, 0.0], [0.0, -7.0, 1.0]])
    new = regenerate(W, G, M, rate=0.5)  # nnz 3 -> k = 2: drop -0.1 and 2.0
    expected = np.array([[True, True, False], [False, True, False]])
    np.testing.assert_array_equal(new, expected)
    assert new.sum() == M.sum()
    np.testing.assert_array_equal(M, W != 0)  # input untouched


def test_regenerate_random_keeps_count():
    rng = np.random.RandomState(0)
    W = rng.standard_normal((10, 10))
    M = rng.random_sample((10, 10)) < 0.3
    W *= M
    new = regenerate(W, np.zeros_like(W), M, 0.4, "random", rng)
    assert new.sum() == M.sum() and (new != M).any()


def test_rate_decays_by_cosine_over_all_steps():
    upd = NeuroRegeneration(rate=0.5, eta_min=0.005)
    assert upd.rate_at(0, 100) == pytest.approx(0.5)
    assert upd.rate_at(50, 100) == pytest.approx(0.005 + 0.5 * 0.495)
    assert upd.rate_at(100, 100) == pytest.approx(0.005)
    assert NeuroRegeneration(decay="constant").rate_at(70, 100) == 0.5


def test_granet_keeps_density_and_zeroes_state_at_regrown(data, monkeypatch):
    X, y = data
    seen = {"changes": 0}
    orig = NeuroRegeneration.before_update

    def spy(self, eng, events):
        before = [None if M is None else M.copy() for M in eng.masks]
        orig(self, eng, events)
        for i, (M0, M1) in enumerate(zip(before, eng.masks)):
            if M0 is None:
                continue
            assert M0.sum() == M1.sum()
            grown = M1 & ~M0
            if grown.any():
                seen["changes"] += 1
                assert not eng.coefs[i][grown].any()  # regrown weights start at 0
                assert not eng.optimizer.ms[i][grown].any()
                assert not eng.optimizer.vs[i][grown].any()

    monkeypatch.setattr(NeuroRegeneration, "before_update", spy)
    est = _fit(X, y, hidden_layer_sizes=(16, 8), density=0.1, criterion="magnitude",
               schedule=PolynomialDecay(begin=0.1, end=0.7, frequency=5),
               mask_updater=NeuroRegeneration(rate=0.5), max_iter=8, random_state=0)
    assert seen["changes"] > 0
    total = sum(W.size for W in est.coefs_)
    assert abs(est.density_ - 0.1) <= 1 / total
    for W, M in zip(est.coefs_, est.masks_):
        assert not W[~M].any()


def test_granet_masks_move_between_events(data):
    X, y = data
    kw = dict(hidden_layer_sizes=(16,), density=0.2, criterion="layer",
              schedule=PolynomialDecay(initial_density=0.2, begin=0.0, end=1.0, frequency=4),
              max_iter=6, random_state=0)
    plain = _fit(X, y, **kw)
    regen = _fit(X, y, mask_updater=NeuroRegeneration(rate=0.5), **kw)
    assert not all((a == b).all() for a, b in zip(plain.masks_, regen.masks_))
    assert regen.density_ == pytest.approx(0.2, abs=1 / 300)


@pytest.mark.parametrize("params, name", [({"rate": 1.5}, "rate"), ({"decay": "lin"}, "decay"),
                                          ({"growth": "grad"}, "growth"),
                                          ({"eta_min": -1}, "eta_min")])
def test_regeneration_parameters_checked(params, name):
    with pytest.raises(ValueError, match=name):
        check_mask_updater(NeuroRegeneration(**params))


# ------------------------------------------------------------------ soft shrinkage
def test_soft_shrinkage_shrinks_until_the_last_event(data, monkeypatch):
    X, y = data
    shrunk = []
    orig = SoftShrinkage.after_update

    def spy(self, eng):
        before = eng.coefs[0].copy()
        orig(self, eng)
        shrunk.append(bool((eng.coefs[0] != before).any()))

    monkeypatch.setattr(SoftShrinkage, "after_update", spy)
    kw = dict(hidden_layer_sizes=(16,), density=0.2, criterion="layer", batch_size=80,
              schedule=OneShot(at=0.5), max_iter=6, random_state=0)
    plain = _fit(X, y, **kw)
    soft = _fit(X, y, mask_updater=SoftShrinkage(L1(alpha=0.5)), **kw)
    # 12 steps, the prune event before step 6: shrinkage at steps 0-5, not after
    assert shrunk == [True] * 6 + [False] * 6
    assert soft.density_ == plain.density_ == pytest.approx(0.2, abs=0.01)
    for W, M in zip(soft.coefs_, soft.masks_):
        assert not W[~M].any()


def test_soft_shrinkage_l1_moves_weights_to_zero(data):
    X, y = data
    kw = dict(hidden_layer_sizes=(16,), density=0.5, criterion="layer",
              schedule=OneShot("end"), max_iter=5, random_state=0, shuffle=False)
    plain = _fit(X, y, **kw)
    soft = _fit(X, y, mask_updater=SoftShrinkage(L1(alpha=1.0)), **kw)
    # shrinkage every step: the surviving weights are smaller and many are exactly 0
    assert np.abs(soft.coefs_[0]).sum() < np.abs(plain.coefs_[0]).sum()


def test_soft_shrinkage_with_a_group_prox(data):
    from sparsopt.pruning import GroupEnvelope

    X, y = data
    env = GroupEnvelope(k=0.5, group_by="neuron_out", alpha=1.0)
    est = _fit(X, y, hidden_layer_sizes=(16,), density=0.5, criterion="layer",
               schedule=OneShot(at=0.5), mask_updater=SoftShrinkage(env), max_iter=4,
               random_state=0)
    assert est.density_ == pytest.approx(0.5, abs=0.01)


def test_soft_shrinkage_parameter_checked():
    with pytest.raises(TypeError, match="penalty"):
        check_mask_updater(SoftShrinkage(penalty="l1"))


def test_updaters_are_not_modified_by_fit(data):
    X, y = data
    upd = NeuroRegeneration(rate=0.3)
    before = upd.get_params()
    est = _fit(X, y, hidden_layer_sizes=(8,), mask_updater=upd, max_iter=2, random_state=0)
    assert upd.get_params() == before and est._engine.updater is not upd
    assert clone(est).mask_updater == upd


def test_mask_updater_type_checked(data):
    X, y = data
    with pytest.raises((TypeError, ValueError), match="mask_updater"):
        _fit(X, y, mask_updater="srste")


def test_engine_hooks_order(data, monkeypatch):
    X, y = data
    order = []

    class Spy(SRSTE.__mro__[1]):  # a bare MaskUpdater
        def before_update(self, eng, events):
            order.append(("before", eng.step))

        def after_update(self, eng):
            order.append(("after", eng.step))

    _fit(X, y, hidden_layer_sizes=(8,), mask_updater=Spy(), max_iter=1, batch_size=80,
         random_state=0)
    # the step counter advances after the optimizer step
    assert order == [("before", 0), ("after", 0), ("before", 1), ("after", 1)]
    assert MLPEngine  # the engine whose hooks these are
