"""Sparse model soups: averages of pruned networks sharing one mask (spec 4.6, 4.9)."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_limits

from sparsopt.pruning import MagnitudeCriterion, MLPPruner, sparse_soup
from tests.pruning._meta_helpers import dense_digits_mlp, digits_split, exact_density

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    return digits_split()


def _ingredients(start, X, y, density, lrs, epochs, criterion="erk"):
    """Retrain copies of one network pruned to ``density``: one per learning rate, each with
    its own batch order (random_state) and a fresh Adam state (MLPPruner's fine-tuning)."""
    out = []
    for seed, lr in enumerate(lrs):
        est = start if lr is None else _with_lr(start, lr)
        out.append(MLPPruner(est, density=density, criterion=criterion,
                             finetune_epochs=epochs, refit_estimator=False,
                             random_state=seed).fit(X, y))
    return out


def _with_lr(est, lr):
    import copy

    est = copy.deepcopy(est)
    est.set_params(learning_rate_init=lr)
    return est


def test_sms_reproduction_imp_erk_003_three_phases(digits):
    """Spec 4.9 soup target (seed 0): ERK-magnitude IMP to density 0.03 in 3 phases, 4
    ingredients (lr 1e-3, 2e-3, 5e-4, 1e-3; own batch orders; Adam reset), 8 fine-tuning
    epochs each, uniform soup. In every phase the soup keeps the shared mask and its exact
    density, and acc(soup) >= mean(acc(ingredients)) - 0.01. No gain is asserted."""
    X_tr, X_te, y_tr, y_te = digits
    current = dense_digits_mlp()
    final = 0.03
    with threadpool_limits(1):
        for phase in (1, 2, 3):
            density = final ** (phase / 3)
            ings = _ingredients(current, X_tr, y_tr, density, [1e-3, 2e-3, 5e-4, 1e-3], 8)
            for ing in ings[1:]:  # one shared mask: every copy pruned the same soup
                for a, b in zip(ing.masks_, ings[0].masks_):
                    np.testing.assert_array_equal(a, b)
            soup = sparse_soup(ings)
            total = sum(m.size for m in soup.masks_)
            assert abs(soup.density_ - density) <= 1 / total + 1e-12
            nonzero = [c != 0 for c in soup.estimator_.coefs_]
            for nz, mask in zip(nonzero, ings[0].masks_):
                assert not np.any(nz & ~mask)  # zeros exactly off the shared mask
            assert exact_density(nonzero) <= soup.density_ + 1e-12
            acc_soup = soup.score(X_te, y_te)
            acc_mean = np.mean([ing.score(X_te, y_te) for ing in ings])
            assert acc_soup >= acc_mean - 0.01, (phase, acc_soup, acc_mean)
            current = soup.estimator_
    assert soup.density_ == pytest.approx(0.03, abs=1e-4)


@pytest.fixture(scope="module")
def ingredients(digits):
    X_tr, _, y_tr, _ = digits
    X_tr, y_tr = X_tr[:600], y_tr[:600]
    dense = MLPClassifier(hidden_layer_sizes=(48,), max_iter=40, random_state=0).fit(X_tr, y_tr)
    base = MLPPruner(dense, density=0.2, criterion="layer", finetune_epochs=0,
                     refit_estimator=False, random_state=0).fit(X_tr, y_tr)
    return _ingredients(base.estimator_, X_tr, y_tr, 0.2, [1e-3, 3e-3, 1e-2, 3e-2], 2,
                        criterion="layer")


def test_uniform_soup_is_the_average_and_leaves_ingredients_alone(ingredients):
    before = [[c.copy() for c in ing.estimator_.coefs_] for ing in ingredients]
    soup = sparse_soup(ingredients)
    assert type(soup) is MLPPruner and soup is not ingredients[0]
    for layer in range(2):
        np.testing.assert_allclose(
            soup.estimator_.coefs_[layer],
            np.mean([ing.estimator_.coefs_[layer] for ing in ingredients], axis=0))
        np.testing.assert_allclose(
            soup.estimator_.intercepts_[layer],
            np.mean([ing.estimator_.intercepts_[layer] for ing in ingredients], axis=0))
    for b, ing in zip(before, ingredients):
        for x, c in zip(b, ing.estimator_.coefs_):
            np.testing.assert_array_equal(x, c)
    assert not hasattr(soup.estimator_, "_optimizer")  # a later partial_fit starts afresh
    one = sparse_soup(ingredients[:1])
    np.testing.assert_array_equal(one.estimator_.coefs_[0], ingredients[0].estimator_.coefs_[0])


def test_greedy_soup_never_worse_than_best_ingredient_on_validation(digits, ingredients):
    _, X_te, _, y_te = digits
    X_val, y_val = X_te[:200], y_te[:200]
    soup, chosen = sparse_soup(ingredients, method="greedy", X_val=X_val, y_val=y_val,
                               return_ingredients=True)
    scores = [ing.score(X_val, y_val) for ing in ingredients]
    assert int(np.argmax(scores)) in chosen
    assert soup.score(X_val, y_val) >= max(scores)
    assert chosen == sorted(chosen) and 1 <= len(chosen) <= len(ingredients)
    assert soup.density_ == pytest.approx(0.2, abs=1e-3)


def test_soup_of_plain_sklearn_mlps(digits, ingredients):
    _, X_te, _, y_te = digits
    mlps = [ing.estimator_ for ing in ingredients]
    soup = sparse_soup(mlps)
    assert type(soup) is MLPClassifier
    for c, mask in zip(soup.coefs_, ingredients[0].masks_):
        assert np.all(c[~mask] == 0)
    assert soup.score(X_te, y_te) > 0.5


def test_soup_errors(digits, ingredients):
    X_tr, _, y_tr, _ = digits
    other = MLPPruner(ingredients[0].estimator_, density=0.1, criterion="layer",
                      finetune_epochs=0, refit_estimator=False).fit(X_tr[:600], y_tr[:600])
    with pytest.raises(ValueError, match="mask"):
        sparse_soup([ingredients[0], other])
    wider = MLPPruner(MLPClassifier(hidden_layer_sizes=(20,), max_iter=5, random_state=0),
                      density=0.2, finetune_epochs=0).fit(X_tr[:100], y_tr[:100])
    with pytest.raises(ValueError, match="architecture"):
        sparse_soup([ingredients[0], wider])
    with pytest.raises(ValueError, match="one type"):
        sparse_soup([ingredients[0], ingredients[1].estimator_])
    with pytest.raises(ValueError, match="method"):
        sparse_soup(ingredients, method="average")
    with pytest.raises(ValueError, match="X_val"):
        sparse_soup(ingredients, method="greedy")
    with pytest.raises(ValueError, match="at least one"):
        sparse_soup([])
    with pytest.raises(TypeError, match="estimators"):
        sparse_soup([MagnitudeCriterion()])


def test_regressor_soup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 8))
    y = X @ rng.standard_normal(8)
    dense = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0).fit(X, y)
    ings = [MLPPruner(dense, density=0.5, criterion="layer", finetune_epochs=2,
                      refit_estimator=False, random_state=s).fit(X, y) for s in range(3)]
    soup = sparse_soup(ings)
    assert soup.predict(X).shape == (150,)
    assert soup.density_ == pytest.approx(0.5, abs=1e-2)


def test_soup_of_sparse_mlps_continues_from_the_soup(digits):
    """SparseMLPClassifier ingredients: one mask (a static random mask drawn with one seed),
    different batch orders; the soup keeps the mask and a later partial_fit trains the
    averaged weights (its engine holds them), from a fresh optimizer state."""
    from sparsopt.pruning import OneShot, RandomCriterion, SparseMLPClassifier

    X_tr, X_te, y_tr, y_te = digits
    X_tr, y_tr = X_tr[:500], y_tr[:500]
    ings = []
    for shuffle_seed in range(3):
        est = SparseMLPClassifier(hidden_layer_sizes=(32,), density=0.3, max_iter=20,
                                  learning_rate_init=1e-2,
                                  criterion=RandomCriterion("erk"), schedule=OneShot("init"),
                                  random_state=0, shuffle=True)
        order = np.random.default_rng(shuffle_seed).permutation(500)
        est.fit(X_tr[order], y_tr[order])
        ings.append(est)
    for ing in ings[1:]:
        for a, b in zip(ing.masks_, ings[0].masks_):
            np.testing.assert_array_equal(a, b)
    soup = sparse_soup(ings)
    assert type(soup) is SparseMLPClassifier
    np.testing.assert_allclose(soup.coefs_[0], np.mean([i.coefs_[0] for i in ings], axis=0))
    assert soup.density_ == pytest.approx(ings[0].density_)
    acc = [i.score(X_te, y_te) for i in ings]
    assert soup.score(X_te, y_te) >= np.mean(acc) - 0.05
    soup.partial_fit(X_tr, y_tr)
    for c, m in zip(soup.coefs_, ings[0].masks_):
        assert np.all(c[~m] == 0)
