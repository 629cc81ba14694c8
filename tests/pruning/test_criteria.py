"""Pruning criteria: exact counts, structure, determinism, invariants and bad input."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone

from sparsopt.pruning import (
    GroupEnvelope,
    MagnitudeCriterion,
    NMCriterion,
    PruningCriterion,
    RandomCriterion,
    get_criterion,
    layer_counts,
)

MLP = [(64, 256), (256, 128), (128, 10)]


def _coefs(shapes=MLP, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


CRITERIA = [
    MagnitudeCriterion("global"),
    MagnitudeCriterion("layer"),
    MagnitudeCriterion("erk"),
    MagnitudeCriterion("global", min_layer_density=0.05),
    RandomCriterion("uniform"),
    RandomCriterion("erk"),
    RandomCriterion("uniform", exact=False),
    NMCriterion(2, 4),
    GroupEnvelope(k=0.2),
    GroupEnvelope(k=None, group_by="neuron_in"),
    GroupEnvelope(k=3, group_by="weight"),
]


# ----------------------------------------------------------------------------- counts
@pytest.mark.parametrize("scope", ["global", "layer", "erk"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_magnitude_counts_are_exact(scope, dtype):
    coefs = _coefs(dtype=dtype)
    masks = MagnitudeCriterion(scope).select(coefs, 0.1)
    total = sum(w.size for w in coefs)
    kept = [int(m.sum()) for m in masks]
    assert sum(kept) == round(0.1 * total)
    if scope != "global":
        expect = layer_counts(MLP, 0.1, allocation="uniform" if scope == "layer" else "erk")
        assert kept == expect
    for w, m in zip(coefs, masks):
        assert m.dtype == bool and m.shape == w.shape
    if scope == "layer":  # the kept weights are the largest of their layer
        for w, m in zip(coefs, masks):
            assert np.abs(w[m]).min() >= np.abs(w[~m]).max()


def test_global_magnitude_uses_one_threshold_and_can_starve_a_layer():
    coefs = _coefs()
    coefs[2] *= 1e-3  # a small-magnitude layer: global pruning empties it (pitfall 7)
    masks = MagnitudeCriterion("global").select(coefs, 0.05)
    kept = np.concatenate([np.abs(w[m]) for w, m in zip(coefs, masks)])
    dropped = np.concatenate([np.abs(w[~m]) for w, m in zip(coefs, masks)])
    assert kept.min() >= dropped.max()
    assert masks[2].sum() == 0
    masks = MagnitudeCriterion("global", min_layer_density=0.02).select(coefs, 0.05)
    assert masks[2].sum() == int(np.ceil(0.02 * 1280))
    assert sum(int(m.sum()) for m in masks) == round(0.05 * sum(w.size for w in coefs))


def test_ties_are_broken_deterministically_by_index():
    w = np.ones((4, 3))
    m = MagnitudeCriterion("layer").select([w], 0.5)[0]
    assert m.sum() == 6
    np.testing.assert_array_equal(m.ravel(), np.arange(12) < 6)
    m2 = MagnitudeCriterion("global").select([w, w], 0.25)
    assert [int(x.sum()) for x in m2] == [6, 0]


@pytest.mark.parametrize("allocation", ["uniform", "er", "erk"])
def test_random_exact_counts_and_seed(allocation):
    coefs = _coefs()
    crit = RandomCriterion(allocation)
    a = crit.select(coefs, 0.1, random_state=3)
    b = crit.select(coefs, 0.1, random_state=3)
    c = crit.select(coefs, 0.1, random_state=4)
    assert [int(m.sum()) for m in a] == layer_counts(MLP, 0.1, allocation=allocation)
    assert all((x == y).all() for x, y in zip(a, b))
    assert any((x != y).any() for x, y in zip(a, c))


def test_random_accepts_a_numpy_generator():
    coefs = _coefs()
    for exact in (True, False):
        crit = RandomCriterion("erk", exact=exact)
        a = crit.select(coefs, 0.1, random_state=np.random.default_rng(5))
        b = crit.select(coefs, 0.1, random_state=np.random.default_rng(5))
        assert all((x == y).all() for x, y in zip(a, b))


def test_random_bernoulli_is_close_not_exact():
    coefs = _coefs()
    masks = RandomCriterion("erk", exact=False).select(coefs, 0.1, random_state=0)
    total = sum(w.size for w in coefs)
    realised = sum(int(m.sum()) for m in masks) / total
    assert abs(realised - 0.1) < 0.01


@pytest.mark.parametrize("n, m", [(2, 4), (1, 4), (4, 8), (3, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nm_keeps_n_largest_per_group_along_the_input_axis(n, m, dtype):
    coefs = _coefs([(24, 7), (48, 5)], dtype=dtype)
    masks = NMCriterion(n, m).select(coefs, None)
    for w, mk in zip(coefs, masks):
        g = mk.reshape(w.shape[0] // m, m, w.shape[1])
        assert (g.sum(axis=1) == n).all()
        a = np.abs(w).reshape(g.shape)
        kept_min = np.where(g, a, np.inf).min(axis=1)
        drop_max = np.where(~g, a, -np.inf).max(axis=1)
        assert (kept_min >= drop_max).all()


def test_nm_incompatible_layers():
    coefs = _coefs([(8, 6), (6, 10)])
    masks = NMCriterion(2, 4).select(coefs, 0.1)  # density ignored
    assert masks[0].mean() == 0.5 and masks[1].all()
    with pytest.raises(ValueError, match="skip_incompatible"):
        NMCriterion(2, 4, skip_incompatible=False).select(coefs, None)


def test_group_envelope_keeps_whole_groups():
    coefs = _coefs([(12, 20), (20, 10)])
    masks = GroupEnvelope(k=0.25).select(coefs, None)
    for w, m in zip(coefs, masks):
        cols = m.all(axis=0)
        assert (m == cols[None, :]).all()  # output neurons kept or dropped whole
        assert cols.sum() == int(np.ceil(0.25 * w.shape[1]))
        norms = np.linalg.norm(w, axis=0)
        assert norms[cols].min() >= norms[~cols].max()
    rows = GroupEnvelope(k=2, group_by="neuron_in").select(coefs, None)
    for m in rows:
        assert (m == m.all(axis=1)[:, None]).all() and m.all(axis=1).sum() == 2
    one = GroupEnvelope(k=None, group_by="weight").select(coefs, 0.1)
    assert [int(m.sum()) for m in one] == [24, 20]


# ----------------------------------------------------------------------------- invariants
@st.composite
def _network(draw):
    n_layers = draw(st.integers(1, 3))
    dims = draw(st.lists(st.integers(1, 12), min_size=n_layers + 1, max_size=n_layers + 1))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    elems = st.floats(-4, 4, allow_nan=False, width=32)  # repeated values make ties
    coefs = [draw(hnp.arrays(dtype, (dims[i], dims[i + 1]), elements=elems))
             for i in range(n_layers)]
    prunable = draw(st.lists(st.booleans(), min_size=n_layers, max_size=n_layers))
    return coefs, prunable


@settings(max_examples=80, deadline=None)
@given(net=_network(), density=st.floats(0.01, 1.0),
       crit=st.sampled_from(CRITERIA), seed=st.integers(0, 5))
def test_invariants(net, density, crit, seed):
    coefs, prunable = net
    before = [w.copy() for w in coefs]
    masks = crit.select(coefs, density, prunable=prunable, random_state=seed)
    for w, b in zip(coefs, before):  # inputs never modified
        np.testing.assert_array_equal(w, b)
    assert len(masks) == len(coefs)
    for w, m, p in zip(coefs, masks, prunable):
        assert m.dtype == bool and m.shape == w.shape
        if not p:
            assert m.all()  # non-prunable layers untouched
    pr = [i for i, p in enumerate(prunable) if p]
    if not pr or isinstance(crit, (NMCriterion, GroupEnvelope)):
        return
    if isinstance(crit, RandomCriterion) and not crit.exact:
        return
    sizes = [coefs[i].size for i in pr]
    kept = [int(masks[i].sum()) for i in pr]
    target = density * sum(sizes)
    if isinstance(crit, MagnitudeCriterion) and crit.scope == "global":
        if crit.min_layer_density == 0:
            assert abs(sum(kept) - target) <= 0.5 + 1e-9
    else:
        dens = layer_counts([coefs[i].shape for i in pr], density,
                            allocation=getattr(crit, "allocation", None) or
                            ("uniform" if crit.scope == "layer" else "erk"))
        for k, c in zip(kept, dens):
            assert k == c
        d_l = np.array(kept) / np.array(sizes)
        assert np.all(d_l > 0)


@settings(max_examples=60, deadline=None)
@given(net=_network(), d1=st.floats(0.05, 1.0), frac=st.floats(0.1, 1.0),
       scope=st.sampled_from(["global", "layer", "erk"]))
def test_magnitude_masks_are_monotone(net, d1, frac, scope):
    """Pruning again to a lower density keeps a subset of the old mask when the weights
    outside the old mask are zero (what a masked training loop produces)."""
    coefs, prunable = net
    crit = MagnitudeCriterion(scope)
    old = crit.select(coefs, d1, prunable=prunable)
    pruned = [w * m for w, m in zip(coefs, old)]
    d2 = d1 * frac
    new = crit.select(pruned, d2, prunable=prunable, masks=old)
    for o, n in zip(old, new):
        assert not (n & ~o).any()


def test_nm_exact_on_the_spec_mlp():
    masks = NMCriterion().select(_coefs(), None)
    for m in masks:
        assert (m.reshape(m.shape[0] // 4, 4, -1).sum(axis=1) == 2).all()


# ----------------------------------------------------------------------------- protocol
@pytest.mark.parametrize("crit", CRITERIA, ids=repr)
def test_params_clone_pickle(crit):
    assert isinstance(crit, PruningCriterion)
    c2 = clone(crit)
    assert c2.get_params() == crit.get_params() and c2 is not crit
    c3 = pickle.loads(pickle.dumps(crit))
    assert repr(c3) == repr(crit)
    assert eval(repr(crit)).get_params() == crit.get_params()  # repr round-trips


def test_init_stores_params_unchanged_and_select_validates():
    crit = MagnitudeCriterion(scope="nope")  # no error before use (scikit-learn style)
    assert crit.scope == "nope"
    with pytest.raises(ValueError, match="scope"):
        crit.select(_coefs(), 0.1)
    with pytest.raises(ValueError, match="scope"):
        MagnitudeCriterion().set_params(scope="bad")


def test_get_criterion():
    assert get_criterion("magnitude") == MagnitudeCriterion()
    assert get_criterion("global") == MagnitudeCriterion("global")
    assert get_criterion("layer") == MagnitudeCriterion("layer")
    assert get_criterion("erk") == MagnitudeCriterion("erk")
    assert get_criterion("random") == RandomCriterion()
    assert get_criterion("random_erk") == RandomCriterion("erk")
    assert get_criterion("nm") == NMCriterion(2, 4)
    assert get_criterion("2:4") == NMCriterion(2, 4)
    assert get_criterion("4:8") == NMCriterion(4, 8)
    assert get_criterion("group") == GroupEnvelope()
    inst = RandomCriterion("er")
    assert get_criterion(inst) is inst
    with pytest.raises(ValueError, match="criterion"):
        get_criterion("magnitudes")
    with pytest.raises(ValueError, match="n must be <= m"):
        get_criterion("5:4")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("density", [0.0, -0.5, 1.01, np.inf, np.nan])
@pytest.mark.parametrize("crit", [MagnitudeCriterion(), RandomCriterion(),
                                  GroupEnvelope(k=None)], ids=repr)
def test_density_outside_unit_interval(crit, density):
    with pytest.raises(ValueError, match="density"):
        crit.select(_coefs(), density)


@pytest.mark.parametrize("crit, match", [
    (NMCriterion(n=5, m=4), "n must be <= m"),
    (NMCriterion(n=1, m=0), "m must be >= 1"),
    (NMCriterion(n=0, m=4), "n must be >= 1"),
    (NMCriterion(n=2.0, m=4), "n must be an integer"),
    (MagnitudeCriterion(scope="local"), "scope"),
    (MagnitudeCriterion(min_layer_density=1.5), "min_layer_density"),
    (RandomCriterion(allocation="er+"), "allocation"),
    (RandomCriterion(power=-1), "power"),
    (RandomCriterion(exact="yes"), "exact"),
    (GroupEnvelope(k=0), "k"),
    (GroupEnvelope(k=1.5), "k"),
    (GroupEnvelope(group_by="filter"), "group_by"),
    (GroupEnvelope(alpha=-1.0), "alpha"),
    (GroupEnvelope(weights="log"), "weights"),
])
def test_bad_parameters_are_named(crit, match):
    with pytest.raises((ValueError, TypeError), match=match):
        crit.select(_coefs([(8, 4), (4, 2)]), 0.1)


def test_bad_inputs_are_named():
    crit = MagnitudeCriterion()
    with pytest.raises(ValueError, match="2-D"):
        crit.select([np.ones(5)], 0.5)
    with pytest.raises(ValueError, match="2-D"):
        crit.select([np.ones((2, 2, 2))], 0.5)
    with pytest.raises(TypeError, match="coefs"):
        crit.select(np.ones((3, 3)), 0.5)
    for bad in (np.nan, np.inf):
        w = np.ones((3, 3))
        w[1, 1] = bad
        with pytest.raises(ValueError, match="NaN or infinity"):
            crit.select([w], 0.5)
    with pytest.raises(ValueError, match="prunable"):
        crit.select(_coefs(), 0.5, prunable=[True])
    with pytest.raises(ValueError, match="masks"):
        crit.select(_coefs(), 0.5, masks=[np.ones((2, 2), bool)] * 3)
    with pytest.raises(ValueError, match="grads"):
        crit.select(_coefs(), 0.5, grads=[np.ones((2, 2))] * 3)
    with pytest.raises(ValueError, match="coefs"):
        NMCriterion().select([np.ones((4, 2)), np.full((2, 2), np.nan)], None)


def test_min_layer_density_above_the_target_acts_as_the_target():
    coefs = _coefs()
    masks = MagnitudeCriterion("global", min_layer_density=0.5).select(coefs, 0.1)
    for w, m in zip(coefs, masks):
        assert m.sum() >= np.ceil(0.1 * w.size)
