"""Penalty objects: parameters, validation, dtypes and shapes, value(), get_penalty."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from sparsopt.penalties import (
    CEL0,
    L0,
    L1,
    MCP,
    SCAD,
    WGSEF,
    Box,
    ElasticNet,
    GroupL21,
    KSupport,
    Log,
    Lq,
    Penalty,
    Positive,
    get_penalty,
)

ENGINES = ("numpy", "numba")
N_FEATURES = 6


def _all_penalties():
    """One instance of every penalty (and every kernel path), for 6 features."""
    return [
        L1(alpha=0.4),
        L0(alpha=0.3),
        Lq(alpha=0.3, q=0.5),
        Lq(alpha=0.3, q=2.0 / 3.0),
        Lq(alpha=0.3, q=0.3),
        CEL0(alpha=0.3, a=1.2),
        CEL0(alpha=0.3, a=np.linspace(0.5, 1.3, N_FEATURES)),
        MCP(alpha=0.5, gamma=3.0),
        SCAD(alpha=0.5, gamma=3.7),
        Log(alpha=0.5, eps=0.7),
        ElasticNet(alpha=0.6, l1_ratio=0.4),
        Box(lower=-0.5, upper=1.0),
        Positive(),
        GroupL21(alpha=0.5, groups=2),
        GroupL21(alpha=0.5, groups=[[0, 4], [1, 2, 3]], weights=[1.0, 0.5]),
        KSupport(alpha=0.5, k=2),
        KSupport(alpha=0.5, k=1, groups=3, weights=np.array([1.0, 2.0])),
        WGSEF(alpha=0.5, k=1, groups=[[0, 1], [2, 3], [4, 5]]),
    ]


ALL = _all_penalties()
IDS = [repr(p).replace(" ", "") for p in ALL]
SCALAR_SEPARABLE = [p for p in ALL if p.is_separable and np.ndim(getattr(p, "a", 1)) == 0]
STEP = 0.5  # valid for every penalty above (CEL0: max(a)^2 step = 0.845 < 1)


def _params_equal(a, b):
    pa, pb = a.get_params(), b.get_params()
    assert pa.keys() == pb.keys()
    for k in pa:
        va, vb = pa[k], pb[k]
        if isinstance(va, np.ndarray) or isinstance(vb, np.ndarray):
            np.testing.assert_array_equal(va, vb)
        else:
            assert va == vb, k


# ----------------------------------------------------------------------------- clone / pickle


@pytest.mark.parametrize("pen", ALL, ids=IDS)
def test_clone_and_pickle_round_trip(pen):
    x = np.random.default_rng(0).standard_normal((3, N_FEATURES))
    expected = pen.prox(x, STEP, engine="numpy")
    pen.value(x)  # fills the group structure cache of group penalties
    for other in (clone(pen), pickle.loads(pickle.dumps(pen))):
        assert type(other) is type(pen)
        assert other is not pen
        _params_equal(other, pen)
        assert other == pen
        np.testing.assert_array_equal(other.prox(x, STEP, engine="numpy"), expected)
        assert other.value(x) == pen.value(x)
    # a modified clone is no longer equal
    if "alpha" in pen.get_params():
        assert clone(pen).set_params(alpha=0.123) != pen


def test_clone_of_default_constructed_penalties():
    for cls in (L1, L0, Lq, CEL0, MCP, SCAD, Log, ElasticNet, Box, Positive, GroupL21, KSupport,
                WGSEF):
        pen = cls()
        assert clone(pen) == pen
        assert pickle.loads(pickle.dumps(pen)) == pen
        assert repr(pen).startswith(cls.__name__ + "(")


# ----------------------------------------------------------------------------- dtype and shape


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pen", ALL, ids=IDS)
@pytest.mark.parametrize("shape", [(N_FEATURES,), (4, N_FEATURES), (2, 3, N_FEATURES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prox_preserves_dtype_and_shape(pen, engine, shape, dtype):
    rng = np.random.default_rng(1)
    x = (2 * rng.standard_normal(shape)).astype(dtype)
    z = pen.prox(x, STEP, engine=engine)
    assert z.dtype == dtype
    assert z.shape == shape
    assert np.all(np.isfinite(z))
    # rows of a batch are independent: same as the prox of each vector
    rows = x.reshape(-1, N_FEATURES)
    expected = np.stack([pen.prox(r, STEP, engine=engine) for r in rows]).reshape(shape)
    np.testing.assert_array_equal(z, expected)
    # float32 computes the same thing as float64 up to float32 rounding
    z64 = pen.prox(x.astype(np.float64), STEP, engine=engine)
    np.testing.assert_allclose(z, z64, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pen", ALL, ids=IDS)
def test_prox_out_buffer_and_in_place(pen, engine):
    rng = np.random.default_rng(2)
    x = 2 * rng.standard_normal((3, N_FEATURES))
    expected = pen.prox(x, STEP, engine=engine)
    buf = np.empty_like(x)
    res = pen.prox(x, STEP, engine=engine, out=buf)
    assert res is buf
    np.testing.assert_array_equal(buf, expected)
    y = x.copy()
    res = pen.prox(y, STEP, engine=engine, out=y)  # aliasing input and output
    assert res is y
    np.testing.assert_array_equal(y, expected)
    with pytest.raises(ValueError, match="out"):
        pen.prox(x, STEP, engine=engine, out=np.empty((3, N_FEATURES), dtype=np.float32))


@pytest.mark.parametrize("pen", ALL, ids=IDS)
def test_prox_rejects_non_finite_input(pen):
    x = np.ones(N_FEATURES)
    x[2] = np.nan
    with pytest.raises(ValueError):
        pen.prox(x, STEP, engine="numpy")


@pytest.mark.parametrize("pen", SCALAR_SEPARABLE, ids=str)
def test_separable_prox_accepts_scalars_and_lists(pen):
    z = pen.prox(1.5, STEP)
    assert np.shape(z) == () and np.asarray(z).dtype == np.float64
    np.testing.assert_array_equal(pen.prox([1.5, -0.2], STEP),
                                  pen.prox(np.array([1.5, -0.2]), STEP))
    np.testing.assert_array_equal(pen.prox(np.array([1, -2, 3]), STEP),  # int input
                                  pen.prox(np.array([1.0, -2.0, 3.0]), STEP))


@pytest.mark.parametrize("pen", [p for p in ALL if not p.is_separable], ids=str)
def test_group_prox_needs_an_axis(pen):
    with pytest.raises(ValueError, match="dimension"):
        pen.prox(np.float64(1.0), STEP)


# ----------------------------------------------------------------------------- CEL0 a broadcasting


@pytest.mark.parametrize("engine", ENGINES)
def test_cel0_per_column_a_broadcasts_over_last_axis(engine):
    a = np.array([0.5, 1.0, 2.0])
    rng = np.random.default_rng(3)
    x = 2 * rng.standard_normal((2, 4, 3))
    step = 0.2
    out = CEL0(alpha=0.4, a=a).prox(x, step, engine=engine)
    for j, aj in enumerate(a):
        np.testing.assert_array_equal(out[..., j],
                                      CEL0(alpha=0.4, a=aj).prox(x[..., j], step, engine=engine))
    # value uses the same column norms
    np.testing.assert_allclose(
        CEL0(alpha=0.4, a=a).value(x, per_row=True),
        sum(CEL0(alpha=0.4, a=aj).value(x[..., j:j + 1], per_row=True)
            for j, aj in enumerate(a)))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", [(4, 5), (5,), (3, 2, 4), (3, 1)])
def test_cel0_a_length_mismatch_raises(shape, engine):
    pen = CEL0(alpha=0.4, a=[0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"\ba\b"):
        pen.prox(np.ones(shape), 0.2, engine=engine)


def test_cel0_a_validation():
    for bad in (0.0, -1.0, np.inf, np.nan, [1.0, 0.0], [[1.0, 2.0]]):
        with pytest.raises(ValueError, match=r"\ba\b"):
            CEL0(alpha=1.0, a=bad)


# ----------------------------------------------------------------------------- validation

BAD_PARAMS = [
    (L1, {"alpha": -0.1}, ValueError, "alpha"),
    (L1, {"alpha": np.nan}, ValueError, "alpha"),
    (L1, {"alpha": np.inf}, ValueError, "alpha"),
    (L1, {"alpha": True}, TypeError, "alpha"),
    (L1, {"alpha": "1"}, TypeError, "alpha"),
    (L1, {"alpha": None}, TypeError, "alpha"),
    (L0, {"alpha": -1.0}, ValueError, "alpha"),
    (L0, {"alpha": False}, TypeError, "alpha"),
    (Lq, {"q": 0.0}, ValueError, "q"),
    (Lq, {"q": 1.0}, ValueError, "q"),
    (Lq, {"q": 1.5}, ValueError, "q"),
    (Lq, {"q": -0.5}, ValueError, "q"),
    (Lq, {"q": np.nan}, ValueError, "q"),
    (Lq, {"alpha": -1.0}, ValueError, "alpha"),
    (CEL0, {"alpha": -1.0}, ValueError, "alpha"),
    (MCP, {"gamma": 1.0}, ValueError, "gamma"),
    (MCP, {"gamma": 0.5}, ValueError, "gamma"),
    (MCP, {"alpha": np.inf}, ValueError, "alpha"),
    (SCAD, {"gamma": 2.0}, ValueError, "gamma"),
    (SCAD, {"gamma": 1.5}, ValueError, "gamma"),
    (Log, {"eps": 0.0}, ValueError, "eps"),
    (Log, {"eps": -1.0}, ValueError, "eps"),
    (Log, {"alpha": -1.0}, ValueError, "alpha"),
    (ElasticNet, {"l1_ratio": 1.1}, ValueError, "l1_ratio"),
    (ElasticNet, {"l1_ratio": -0.1}, ValueError, "l1_ratio"),
    (ElasticNet, {"alpha": np.nan}, ValueError, "alpha"),
    (KSupport, {"k": 0}, ValueError, "k"),
    (KSupport, {"k": -2}, ValueError, "k"),
    (KSupport, {"k": 1.5}, (ValueError, TypeError), "k"),
    (KSupport, {"k": True}, (ValueError, TypeError), "k"),
    (KSupport, {"alpha": -1.0}, ValueError, "alpha"),
    (WGSEF, {"k": 0}, ValueError, "k"),
    (GroupL21, {"alpha": -1.0}, ValueError, "alpha"),
    (GroupL21, {"alpha": True}, TypeError, "alpha"),
    (GroupL21, {"groups": 0}, ValueError, "groups"),
    (GroupL21, {"groups": "abc"}, TypeError, "groups"),
    (Box, {"lower": 1.0, "upper": 0.0}, ValueError, "lower"),
    (Box, {"lower": np.nan}, ValueError, "lower"),
    (Box, {"upper": "x"}, TypeError, "upper"),
    (Box, {"lower": True}, TypeError, "lower"),
]


@pytest.mark.parametrize("cls, params, exc, name", BAD_PARAMS,
                         ids=[f"{c.__name__}-{p}" for c, p, _, _ in BAD_PARAMS])
def test_bad_parameters_raise_naming_the_parameter(cls, params, exc, name):
    with pytest.raises(exc, match=rf"\b{name}\b"):
        cls(**params)
    # set_params re-validates
    pen = cls()
    with pytest.raises(exc, match=rf"\b{name}\b"):
        pen.set_params(**params)


@pytest.mark.parametrize("cls, params, name", [
    (GroupL21, {"groups": [[0, 1], [1, 2]]}, "disjoint"),
    (GroupL21, {"groups": [[0, 1], [2, 9]]}, "group indices"),
    (GroupL21, {"groups": [[0, 1], [-1]]}, "group indices"),
    (GroupL21, {"groups": [[0, 1], []]}, "group"),
    (GroupL21, {"groups": 2, "weights": [1.0, 1.0]}, "weights"),
    (GroupL21, {"groups": 2, "weights": [1.0, -1.0, 1.0]}, "weights"),
    (KSupport, {"groups": [[0, 1], [1, 2]]}, "disjoint"),
    (KSupport, {"groups": [[0, 6]]}, "group indices"),
    (KSupport, {"weights": [1.0, 2.0]}, "weights"),
    (WGSEF, {"groups": 2, "weights": [1.0, np.nan, 1.0]}, "weights"),
])
@pytest.mark.parametrize("method", ["prox", "value"])
def test_bad_group_structure_raises(cls, params, name, method):
    """Group structures depend on n_features: they are checked on first use."""
    pen = cls(**params)
    x = np.ones((2, N_FEATURES))
    with pytest.raises(ValueError, match=name):
        getattr(pen, method)(x) if method == "value" else pen.prox(x, STEP)


def test_ksupport_zero_weights():
    """Zero weights give a valid value (0 on those groups) but no prox."""
    pen = KSupport(alpha=1.0, k=1, weights=np.zeros(N_FEATURES))
    assert pen.value(np.ones((2, N_FEATURES))) == 0.0
    with pytest.raises(ValueError, match="weights"):
        pen.prox(np.ones((2, N_FEATURES)), STEP)
    # GroupL21 accepts zero weights: those groups are not penalized
    x = np.array([3.0, 4.0, 0.3, 0.4])
    np.testing.assert_allclose(GroupL21(alpha=1.0, groups=2, weights=[0.0, 1.0]).prox(x, 1.0),
                               [3.0, 4.0, 0.0, 0.0])


def test_set_params_unknown_name_and_revalidation():
    pen = MCP(alpha=1.0, gamma=3.0)
    with pytest.raises(ValueError, match="gama"):
        pen.set_params(gama=2.0)
    assert pen.set_params(alpha=2.0, gamma=5.0) is pen
    assert pen.get_params() == {"alpha": 2.0, "gamma": 5.0}
    # the prox follows the new parameters
    np.testing.assert_array_equal(pen.prox(np.array([1.0, 3.0]), 1.0), [0.0, 1.25])


@pytest.mark.parametrize("engine", ENGINES)
def test_set_params_resets_group_structure(engine):
    x = np.array([[3.0, 4.0, 0.3, 0.4]])
    pen = GroupL21(alpha=1.0, groups=2, weights=[1.0, 1.0])
    np.testing.assert_allclose(pen.prox(x, 1.0, engine=engine), [[2.4, 3.2, 0.0, 0.0]])
    pen.set_params(groups=4, weights=[1.0])
    norm = np.linalg.norm(x)
    np.testing.assert_allclose(pen.prox(x, 1.0, engine=engine), x * (1 - 1 / norm))
    assert pen.value(x) == pytest.approx(norm)
    ks = KSupport(alpha=1.0, k=1)
    ks.value(x)
    ks.set_params(groups=2)
    assert ks.value(x) == pytest.approx(0.5 * (5.0 + 0.5) ** 2)


def test_check_step_errors():
    with pytest.raises(ValueError, match="gamma > step"):
        MCP(alpha=1.0, gamma=2.0).prox(np.ones(3), 2.0)
    with pytest.raises(ValueError, match="gamma > step"):
        MCP(alpha=1.0, gamma=2.0).check_step(3.0)
    MCP(alpha=1.0, gamma=2.0).check_step(1.99)
    with pytest.raises(ValueError, match=r"gamma > 1 \+ step"):
        SCAD(alpha=1.0, gamma=3.0).prox(np.ones(3), 2.0)
    SCAD(alpha=1.0, gamma=3.0).check_step(1.99)
    with pytest.raises(ValueError, match=r"a\*\*2 \* step < 1"):
        CEL0(alpha=1.0, a=2.0).check_step(0.25)
    CEL0(alpha=1.0, a=2.0).check_step(0.2499)
    for pen in (L1(), L0(), Lq(), Log(), ElasticNet(), Box(), GroupL21(), KSupport()):
        pen.check_step(1e6)  # no constraint on the step


@pytest.mark.parametrize("pen", ALL, ids=IDS)
@pytest.mark.parametrize("step", [0.0, -1.0, np.nan, np.inf, True, "1"])
def test_bad_step_raises(pen, step):
    with pytest.raises((ValueError, TypeError), match="step"):
        pen.prox(np.ones(N_FEATURES), step)


# ----------------------------------------------------------------------------- spec


@pytest.mark.parametrize("pen", SCALAR_SEPARABLE, ids=str)
def test_spec_scalar_prox_matches_prox(pen):
    # the one channel to the coordinate-wise kernels: prox_consts/prox_apply on the spec
    # reproduce the penalty's own prox
    from sparsopt.backends._numba.prox import N_CONSTS, prox_apply_clip, prox_consts

    spec = pen.spec()
    ts = np.array([-3.0, -1.0, -0.31, 0.0, 0.2, 0.77, 1.5, 4.0])
    c = np.empty(N_CONSTS)
    a = float(np.atleast_1d(getattr(pen, "a", 1.0))[0])
    prox_consts(spec.kind, spec.params, STEP, a, c)
    got = [prox_apply_clip(spec.kind, t, c, spec.lower, spec.upper) for t in ts]
    np.testing.assert_allclose(got, pen.prox(ts, STEP), rtol=1e-12, atol=1e-14)
    assert "spec" in pen.capabilities


@pytest.mark.parametrize("pen", [p for p in ALL if not p.is_separable], ids=str)
def test_spec_refused_by_group_penalties(pen):
    with pytest.raises(TypeError, match="not separable"):
        pen.spec(solver="some_cd")
    assert "spec" not in pen.capabilities


@pytest.mark.parametrize("pen", [p for p in SCALAR_SEPARABLE if p.spec().kind != 10], ids=str)
def test_positive_composition_prox_and_spec(pen):
    from sparsopt.penalties import Positive

    con = pen + Positive()
    ts = np.array([-3.0, -0.2, 0.0, 0.4, 2.5])
    np.testing.assert_allclose(con.prox(ts, STEP), np.maximum(pen.prox(ts, STEP), 0.0))
    assert con.spec().lower == 0.0 and con.spec().kind == pen.spec().kind
    assert con.value(np.array([-1.0])) == np.inf


# ----------------------------------------------------------------------------- value


@pytest.mark.parametrize("pen", ALL, ids=IDS)
def test_value_shapes_and_per_row(pen):
    rng = np.random.default_rng(4)
    x3 = 0.4 * rng.standard_normal((2, 3, N_FEATURES))
    rows = pen.value(x3, per_row=True)
    assert isinstance(rows, np.ndarray) and rows.shape == (2, 3)
    assert isinstance(pen.value(x3), float)
    np.testing.assert_allclose(pen.value(x3), rows.sum(), rtol=1e-12)
    np.testing.assert_allclose(pen.value(x3.reshape(6, N_FEATURES), per_row=True),
                               rows.ravel(), rtol=1e-12)
    np.testing.assert_allclose(pen.value(x3[1, 2]), rows[1, 2], rtol=1e-12)
    assert np.shape(pen.value(x3[0, 0], per_row=True)) == ()
    # CEL0 evaluates lam - a^2/2 (0 - b)^2 at 0: zero up to rounding (reported)
    assert pen.value(np.zeros(N_FEATURES)) == pytest.approx(0.0, abs=1e-12)
    # float32 input is accepted and gives a float64 value
    np.testing.assert_allclose(pen.value(x3.astype(np.float32)), pen.value(x3), rtol=1e-5)


@pytest.mark.parametrize("pen", SCALAR_SEPARABLE, ids=str)
def test_separable_value_is_a_sum_of_entries(pen):
    rng = np.random.default_rng(5)
    x = 0.4 * rng.standard_normal((3, 4))
    per_entry = pen.value(x.reshape(-1, 1), per_row=True).reshape(3, 4)
    np.testing.assert_allclose(pen.value(x, per_row=True), per_entry.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(pen.value(-x), pen.value(x), rtol=1e-12)  # all are even
    assert pen.value(np.float64(0.3)) == pen.value(np.array([[0.3]]))


def test_value_closed_forms():
    x = np.array([[3.0, -1.0, 0.0, 0.5]])
    assert L1(alpha=2.0).value(x) == pytest.approx(9.0)
    assert L0(alpha=2.0).value(x) == pytest.approx(6.0)
    assert Lq(alpha=2.0, q=0.5).value(x) == pytest.approx(2 * (np.sqrt(3) + 1 + np.sqrt(0.5)))
    assert ElasticNet(alpha=2.0, l1_ratio=0.25).value(x) == pytest.approx(
        2 * (0.25 * 4.5 + 0.375 * 10.25))
    assert Log(alpha=2.0, eps=0.5).value(x) == pytest.approx(2 * np.log1p(np.abs(x) / 0.5).sum())
    # MCP: alpha |x| - x^2/(2 gamma) up to gamma alpha, then gamma alpha^2 / 2
    assert MCP(alpha=1.0, gamma=2.0).value(np.array([1.0, 3.0])) == pytest.approx(0.75 + 1.0)
    # SCAD: alpha |x|, then (2 g a |x| - x^2 - a^2) / (2 (g - 1)), then a^2 (g + 1) / 2
    assert SCAD(alpha=1.0, gamma=3.0).value(np.array([0.5, 2.0, 5.0])) == pytest.approx(
        0.5 + (12 - 4 - 1) / 4 + 2.0)
    assert GroupL21(alpha=2.0, groups=2).value(np.array([3.0, 4.0, 0.0, 1.0])) == pytest.approx(
        2 * np.sqrt(2) * (5 + 1))


@pytest.mark.parametrize("pen, inside, outside", [
    (Box(lower=-1.0, upper=2.0), [[-1.0, 0.0, 2.0]], [[-1.0, 2.0 + 1e-12, 0.0], [-3.0, 0, 0]]),
    (Box(lower=0.5, upper=0.5), [[0.5, 0.5]], [[0.5, 0.0]]),
    (Box(upper=0.0), [[-1e300, 0.0]], [[1e-300, -1.0]]),
    (Positive(), [[0.0, 1.0, 1e300]], [[-1e-300, 1.0, 0.0], [-5.0, -5.0, 1.0]]),
])
def test_constraint_values_are_inf_outside(pen, inside, outside):
    inside, outside = np.array(inside), np.array(outside)
    assert pen.value(inside) == 0.0
    assert np.all(pen.value(inside, per_row=True) == 0.0)
    assert pen.value(outside) == np.inf
    assert np.all(pen.value(outside, per_row=True) == np.inf)
    both = np.vstack([inside[:1], outside[:1]])
    np.testing.assert_array_equal(pen.value(both, per_row=True), [0.0, np.inf])
    # the prox (a projection) lands inside
    assert pen.value(pen.prox(outside, 1.0)) == 0.0


def test_capabilities_and_flags():
    for pen in ALL:
        assert isinstance(pen, Penalty)
        assert {"value", "prox"} <= set(pen.capabilities)
        assert isinstance(pen.is_convex, bool) and isinstance(pen.is_separable, bool)
    assert L1().is_convex and ElasticNet().is_convex and Box().is_convex
    assert GroupL21().is_convex and KSupport().is_convex
    for cls in (L0, Lq, CEL0, MCP, SCAD, Log):
        assert not cls().is_convex
    for cls in (GroupL21, KSupport, WGSEF):
        assert not cls().is_separable


# ----------------------------------------------------------------------------- get_penalty

NAMES = {
    "l1": (L1, {}), "lasso": (L1, {}), "l0": (L0, {}), "lq": (Lq, {}),
    "l1/2": (Lq, {"q": 0.5}), "lhalf": (Lq, {"q": 0.5}), "l2/3": (Lq, {"q": 2.0 / 3.0}),
    "cel0": (CEL0, {}), "mcp": (MCP, {}), "scad": (SCAD, {}), "log": (Log, {}),
    "elasticnet": (ElasticNet, {}), "group_l21": (GroupL21, {}), "ksupport": (KSupport, {}),
    "wgsef": (WGSEF, {}),
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_penalty_names(name):
    cls, fixed = NAMES[name]
    pen = get_penalty(name, alpha=0.25)
    assert type(pen) is cls
    assert pen.alpha == 0.25
    for k, v in fixed.items():
        assert getattr(pen, k) == pytest.approx(v)
    assert type(get_penalty(f"  {name.upper()} ", alpha=0.25)) is cls


def test_get_penalty_params_constraints_and_instances():
    pen = get_penalty("mcp", alpha=0.1, gamma=4.0)
    assert pen == MCP(alpha=0.1, gamma=4.0)
    assert get_penalty("lq", alpha=0.2, q=0.3) == Lq(alpha=0.2, q=0.3)
    assert get_penalty("l1/2", alpha=0.2) == Lq(alpha=0.2, q=0.5)
    assert get_penalty("ksupport", alpha=0.5, k=3, groups=2) == KSupport(alpha=0.5, k=3, groups=2)
    assert type(get_penalty("positive")) is Positive
    assert type(get_penalty("positive", alpha=3.0)) is Positive  # alpha is ignored
    assert get_penalty("box", lower=-1.0, upper=1.0) == Box(lower=-1.0, upper=1.0)
    inst = SCAD(alpha=0.3)
    assert get_penalty(inst) is inst
    assert get_penalty(inst, alpha=5.0) is inst
    with pytest.raises(ValueError, match="gamma"):
        get_penalty("scad", gamma=1.0)


@pytest.mark.parametrize("bad", ["l3", "", "lasso2", 3, None, L1])
def test_get_penalty_unknown_lists_valid_names(bad):
    with pytest.raises(ValueError) as info:
        get_penalty(bad)
    msg = str(info.value)
    for name in [*NAMES, "positive", "box"]:
        assert repr(name) in msg


def test_group_spec_is_the_group_channel():
    from sparsopt.penalties import L1, GroupL21, KSupport, Positive

    pen = GroupL21(alpha=0.5, groups=[[0, 2], [1]], weights=[1.0, 2.0])
    g = pen.group_spec(4)
    assert g.indptr.tolist() == [0, 2, 3] and g.indices.tolist() == [0, 2, 1]
    assert g.thresholds.tolist() == [0.5, 1.0] and g.lower == -np.inf
    # the block soft threshold the spec describes is the penalty's prox
    v = np.array([3.0, -1.0, 4.0, 7.0])
    z = v.copy()
    for k in range(2):
        idx = g.indices[g.indptr[k]:g.indptr[k + 1]]
        nv = np.linalg.norm(v[idx])
        z[idx] = max(1 - 0.3 * g.thresholds[k] / nv, 0.0) * v[idx]
    np.testing.assert_allclose(pen.prox(v, 0.3), z)
    assert (pen + Positive()).group_spec(4).lower == 0.0
    for bad in (L1(1.0), KSupport(1.0, k=2)):
        with pytest.raises(TypeError, match="group norms"):
            bad.group_spec(4, solver="some_bcd")
