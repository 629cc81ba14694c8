"""Reproduction of the spec's digits targets (spec 4.9) at density 0.02, seed 0.

Set-up of the spec: ``load_digits``, stratified 75/25 split (random_state=0),
StandardScaler, MLP 64-256-128-10, ReLU, Adam lr 1e-3, alpha 1e-4, batch 64, BLAS pinned to
one thread. Targets (spec 4.9, "suggested CI assertions"):

1. gradual magnitude pruning (cubic, global, epochs 5-40 every 20 steps, 60 epochs)
   reaches accuracy >= 0.94;
2. random ERK beats random uniform (masks fixed at initialisation) by >= 0.15;
3. ERK-allocated magnitude one-shot + fine-tuning beats global one-shot + fine-tuning
   (60 dense epochs, prune, 20 epochs of fine-tuning);
4. every run lands on its density within one weight; 2:4 masks have exactly 2 of every 4
   consecutive input weights (one-shot + FT and SR-STE); GraNet keeps its density.
"""

import functools
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from sparsopt.pruning import (
    SRSTE,
    NeuroRegeneration,
    OneShot,
    PolynomialDecay,
    RandomCriterion,
    SparseMLPClassifier,
)

DENSITY = 0.02
SIZES = [64 * 256, 256 * 128, 128 * 10]


@functools.lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def _steps_per_epoch():
    return -(-_digits()[0].shape[0] // 64)


def _gmp_schedule():
    s = _steps_per_epoch()
    return PolynomialDecay(begin=5 * s, end=40 * s, frequency=20)


_RUNS = {
    "gmp": lambda: dict(criterion="magnitude", schedule=_gmp_schedule()),
    "random_uniform": lambda: dict(criterion=RandomCriterion("uniform"),
                                   schedule=OneShot("init")),
    "random_erk": lambda: dict(criterion=RandomCriterion("erk"), schedule=OneShot("init")),
    "oneshot_global": lambda: dict(criterion="magnitude", schedule=OneShot(at=60 / 80),
                                   max_iter=80),
    "oneshot_erk": lambda: dict(criterion="erk", schedule=OneShot(at=60 / 80), max_iter=80),
    "nm_oneshot": lambda: dict(criterion="2:4", schedule=OneShot(at=20 / 30), max_iter=30),
    "srste": lambda: dict(criterion="2:4", schedule=OneShot("init"), mask_updater=SRSTE(),
                          max_iter=20),
    "granet": lambda: dict(criterion="magnitude", schedule=_gmp_schedule(),
                           mask_updater=NeuroRegeneration(rate=0.5)),
}


@functools.cache
def _run(name):
    Xtr, Xte, ytr, yte = _digits()
    params = dict(hidden_layer_sizes=(256, 128), density=DENSITY, activation="relu",
                  solver="adam", learning_rate_init=1e-3, alpha=1e-4, batch_size=64,
                  max_iter=60, tol=0.0, n_iter_no_change=10 ** 6, random_state=0)
    params.update(_RUNS[name]())
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SparseMLPClassifier(**params).fit(Xtr, ytr)
    return est, est.score(Xte, yte)


def _check_density(est, density=DENSITY):
    total = sum(SIZES)
    kept = sum(int(M.sum()) for M in est.masks_)
    assert abs(kept - density * total) <= 1, (kept, density * total)
    assert est.density_ == kept / total
    for W, M in zip(est.coefs_, est.masks_):
        assert not W[~M].any()


def _check_nm(est):
    for M in est.masks_:
        groups = M.reshape(M.shape[0] // 4, 4, M.shape[1]).sum(axis=1)
        assert (groups == 2).all()
    assert est.density_ == 0.5


def test_gradual_magnitude_pruning_reaches_094():
    est, acc = _run("gmp")
    _check_density(est)
    assert acc >= 0.94, acc  # spec: 0.967 +- 0.004 over 3 seeds


def test_random_erk_beats_random_uniform():
    uni, acc_uni = _run("random_uniform")
    erk, acc_erk = _run("random_erk")
    _check_density(uni)
    _check_density(erk)
    np.testing.assert_allclose(erk.layer_densities_, [0.023, 0.014, 0.129], atol=1e-3)
    assert acc_erk - acc_uni >= 0.15, (acc_erk, acc_uni)  # spec: .877 vs .569


def test_erk_magnitude_beats_global_after_fine_tuning():
    glob, acc_glob = _run("oneshot_global")
    erk, acc_erk = _run("oneshot_erk")
    _check_density(glob)
    _check_density(erk)
    assert acc_erk > acc_glob, (acc_erk, acc_glob)  # spec: .907 vs .262


def test_two_four_masks_are_exact():
    est, acc = _run("nm_oneshot")
    _check_nm(est)
    sr, acc_sr = _run("srste")
    _check_nm(sr)
    assert min(acc, acc_sr) > 0.9, (acc, acc_sr)  # spec: .973 and .976 (density 0.5)


def test_granet_keeps_its_density():
    est, acc = _run("granet")
    _check_density(est)
    assert all(abs(d - DENSITY) * sum(SIZES) <= 1 for _, d in est.density_history_[-1:])
    assert acc >= 0.9, acc
