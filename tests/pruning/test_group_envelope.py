"""GroupEnvelope: WGSEF on the groups of a layer (spec 4.5).

The WGSEF prox and value themselves are checked in ``tests/penalties`` (duality gap,
brute-force prox, biconjugate, k = 1 and k-sparse identities, on plain vectors). Here:
that a layer's groups (neurons or weights) reach the penalty correctly, the spec 4.5
targets on layers, and the hard top-k selection.
"""

import numpy as np
import pytest
from scipy.optimize import minimize

from sparsopt.penalties import WGSEF
from sparsopt.pruning import GroupEnvelope


def _layer(shape=(3, 4), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_value_of_k_group_sparse_layers_is_weighted_ridge():
    # spec 4.5: WGSEF_k(x) = 1/2 sum_g w_g ||x_g||^2 when at most k groups are non-zero
    w = _layer((5, 6))
    w[:, [1, 3, 4, 5]] = 0.0  # 2 non-zero output neurons
    for weights, wg in (("size", 5.0), ("sqrt", np.sqrt(5.0)), ("none", 1.0)):
        env = GroupEnvelope(k=2, alpha=0.3, weights=weights)
        assert env.value([w]) == pytest.approx(0.15 * wg * (w**2).sum(), rel=1e-12)
    rows = _layer((4, 3))
    rows[[0, 2]] = 0.0
    env = GroupEnvelope(k=2, group_by="neuron_in", alpha=1.0, weights="none")
    assert env.value([rows]) == pytest.approx(0.5 * (rows**2).sum(), rel=1e-12)


def test_value_k1_on_single_weights_is_half_squared_l1():
    # spec 4.5: WGSEF_1(x) = 1/2 ||x||_1^2 (groups of one weight, unit weights)
    coefs = [_layer((3, 4)), _layer((4, 2), seed=1)]
    env = GroupEnvelope(k=1, group_by="weight", alpha=2.0)  # weights="size" = 1 here
    expect = sum(np.abs(w).sum() ** 2 for w in coefs)
    assert env.value(coefs) == pytest.approx(expect, rel=1e-12)
    assert env.value(coefs, prunable=[False, True]) == pytest.approx(np.abs(coefs[1]).sum() ** 2)


@pytest.mark.parametrize("group_by", ["neuron_out", "neuron_in", "weight"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prox_is_wgsef_on_the_layer_groups(group_by, dtype):
    w = _layer((4, 5), dtype=dtype)
    before = w.copy()
    env = GroupEnvelope(k=2, group_by=group_by, alpha=0.4, weights="sqrt")
    z = env.prox([w], 0.7)[0]
    np.testing.assert_array_equal(w, before)  # input untouched
    assert z.dtype == dtype and z.shape == w.shape
    if group_by == "neuron_out":
        groups = [list(range(c * 4, c * 4 + 4)) for c in range(5)]
        x = w.T.ravel()
    elif group_by == "neuron_in":
        groups = [list(range(r * 5, r * 5 + 5)) for r in range(4)]
        x = w.ravel()
    else:
        groups = [[i] for i in range(20)]
        x = w.ravel()
    sizes = np.array([len(g) for g in groups], dtype=float)
    pen = WGSEF(alpha=0.4, k=2, groups=groups, weights=np.sqrt(sizes))
    ref = pen.prox(x.astype(np.float64), 0.7)
    ref = ref.reshape(5, 4).T if group_by == "neuron_out" else ref.reshape(4, 5)
    np.testing.assert_allclose(z, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_prox_matches_brute_force_on_a_layer():
    w = 2.0 * _layer((3, 2), seed=3)
    env = GroupEnvelope(k=1, group_by="neuron_out", alpha=0.5)
    step = 0.8

    def f(z):
        z = z.reshape(w.shape)
        return 0.5 * np.sum((z - w) ** 2) + step * env.value([z])

    z = env.prox([w], step)[0]
    best = None
    for x0 in (w.ravel(), np.zeros(w.size), z.ravel() + 0.1):
        for _ in range(3):
            res = minimize(f, x0, method="Powell",
                           options={"xtol": 1e-10, "ftol": 1e-15, "maxfev": 100_000})
            x0 = res.x
        if best is None or res.fun < best.fun:
            best = res
    assert f(z.ravel()) <= best.fun + 1e-10
    np.testing.assert_allclose(z.ravel(), best.x, atol=1e-5)


def test_prox_shrinks_and_can_zero_whole_groups_but_is_not_a_selector():
    w = _layer((6, 8), seed=4)
    w[:, :4] *= 0.05  # four weak output neurons
    env = GroupEnvelope(k=2, alpha=0.5)
    z = env.prox([w], 1.0)[0]
    alive = np.abs(z).sum(axis=0) > 0
    assert (np.linalg.norm(z, axis=0) <= np.linalg.norm(w, axis=0) + 1e-12).all()
    assert not alive[:4].any()  # the weak neurons are zeroed as whole groups
    assert alive.sum() >= 2  # a shrinkage: not necessarily exactly k groups (pitfall 13)
    hard = env.select([z], None)[0]
    assert hard.all(axis=0).sum() == 2 and (hard == hard.all(axis=0)).all()


def test_prox_leaves_non_prunable_layers_and_alpha_zero():
    coefs = [_layer((3, 4)), _layer((4, 2), seed=1)]
    z = GroupEnvelope(k=1, alpha=1.0).prox(coefs, 0.5, prunable=[False, True])
    np.testing.assert_array_equal(z[0], coefs[0])
    assert z[0] is not coefs[0]
    assert not np.array_equal(z[1], coefs[1])
    z = GroupEnvelope(k=1, alpha=0.0).prox(coefs, 0.5)
    np.testing.assert_array_equal(z[1], coefs[1])


def test_k_fraction_and_density_driven_selection():
    w = _layer((4, 10))
    assert GroupEnvelope(k=0.3).select([w], None)[0].all(axis=0).sum() == 3
    assert GroupEnvelope(k=25).select([w], None)[0].all()  # k above the number of groups
    assert GroupEnvelope(k=None).select([w], 0.5)[0].all(axis=0).sum() == 5
    with pytest.raises(TypeError, match="density"):
        GroupEnvelope(k=None).select([w], None)


def test_bad_arguments_are_named():
    env = GroupEnvelope(k=None)
    with pytest.raises(ValueError, match="k must be set"):
        env.prox([_layer()], 1.0)
    with pytest.raises(ValueError, match="k must be set"):
        env.value([_layer()])
    with pytest.raises(ValueError, match="step"):
        GroupEnvelope().prox([_layer()], 0.0)
    with pytest.raises(ValueError, match="NaN"):
        GroupEnvelope().prox([np.full((2, 2), np.inf)], 1.0)
