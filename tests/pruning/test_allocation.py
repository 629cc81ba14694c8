"""Per-layer density allocation: uniform, ER, ERK (spec 4.2) and exact integer counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.pruning import layer_counts, layer_densities

MLP = [(64, 256), (256, 128), (128, 10)]


def test_erk_reproduces_the_spec_allocation():
    # spec 4.2 [measured]: the 64-256-128-10 MLP at density 0.10
    d = layer_densities(MLP, 0.10, allocation="erk")
    np.testing.assert_allclose(d, [0.117, 0.070, 0.646], atol=5e-4)
    sizes = np.array([a * b for a, b in MLP])
    assert np.dot(d, sizes) == pytest.approx(0.10 * sizes.sum())


def test_er_equals_erk_for_dense_layers_and_power_zero_is_uniform():
    assert layer_densities(MLP, 0.2, allocation="er") == layer_densities(MLP, 0.2,
                                                                         allocation="erk")
    np.testing.assert_allclose(layer_densities(MLP, 0.2, allocation="erk", power=0.0), 0.2)
    assert layer_densities(MLP, 0.3) == [0.3, 0.3, 0.3]


def test_erk_densifies_overflowing_layers_iteratively():
    # at 0.5 the output layer would exceed 1: it is made dense and the rest re-solved
    d = layer_densities(MLP, 0.5, allocation="erk")
    assert d[2] == 1.0 and max(d) <= 1.0
    sizes = np.array([a * b for a, b in MLP])
    assert np.dot(d, sizes) == pytest.approx(0.5 * sizes.sum())
    assert layer_densities(MLP, 1.0, allocation="erk") == [1.0, 1.0, 1.0]


def test_forced_dense_layers_share_the_budget():
    d = layer_densities(MLP, 0.2, allocation="uniform", dense=[False, False, True])
    sizes = np.array([a * b for a, b in MLP])
    assert d[2] == 1.0 and d[0] == pytest.approx(d[1])
    assert np.dot(d, sizes) == pytest.approx(0.2 * sizes.sum())
    with pytest.raises(ValueError, match="dense"):
        layer_densities(MLP, 0.01, dense=[True, True, False])
    with pytest.raises(ValueError, match="dense"):
        layer_densities(MLP, 0.1, dense=[True])


@settings(max_examples=60, deadline=None)
@given(shapes=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 40)), min_size=1,
                       max_size=4),
       density=st.floats(0.001, 1.0),
       allocation=st.sampled_from(["uniform", "er", "erk"]))
def test_counts_are_exact(shapes, density, allocation):
    d = layer_densities(shapes, density, allocation=allocation)
    c = layer_counts(shapes, density, allocation=allocation)
    sizes = [a * b for a, b in shapes]
    assert all(0.0 < v <= 1.0 for v in d)
    for ci, di, si in zip(c, d, sizes):
        assert 1 <= ci <= si
        assert abs(ci - di * si) < 1.0 + 1e-9
    target = round(density * sum(sizes))
    # the total is exact unless a layer had to keep its one weight
    if all(di * si >= 1.0 for di, si in zip(d, sizes)):
        assert sum(c) == target
    else:
        assert target <= sum(c) <= target + len(shapes)


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5, np.nan])
def test_density_outside_unit_interval_is_refused(density):
    with pytest.raises(ValueError, match="density"):
        layer_densities(MLP, density)
    with pytest.raises(ValueError, match="density"):
        layer_counts(MLP, density)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="allocation"):
        layer_densities(MLP, 0.1, allocation="erdos")
    with pytest.raises(ValueError, match="shapes"):
        layer_densities([(3, 4, 5)], 0.1)
    with pytest.raises(ValueError, match="shapes"):
        layer_densities([], 0.1)
    with pytest.raises(ValueError, match="power"):
        layer_densities(MLP, 0.1, allocation="erk", power=-1.0)
    with pytest.raises(TypeError, match="density"):
        layer_densities(MLP, "0.1")
