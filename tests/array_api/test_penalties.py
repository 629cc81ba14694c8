"""Penalties on array-API arrays: ``prox`` and ``value`` in the input's namespace.

Every penalty (separable, group, constraints and constrained combinations) on
``array_api_strict`` arrays on its ``device1`` (where any hidden conversion to NumPy
raises) must give the NumPy result: ``prox`` returns an array of the namespace with the
input's dtype (with and without ``out=``, on 1-D, 2-D and 3-D inputs), ``value`` a host
float and ``value(per_row=True)`` an array of the namespace.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

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
    Positive,
)
from tests._array_api import NAMESPACES, assert_in_namespace, namespace, to_np, to_xp

PENALTIES = [
    L1(0.5), L0(0.5), Lq(0.5, q=0.5), Lq(0.5, q=2 / 3), Lq(0.5, q=0.3),
    CEL0(0.5, a=np.linspace(0.5, 1.5, 6)), CEL0(0.5, a=1.0), MCP(1.0, 3.0), SCAD(1.0, 3.7),
    Log(1.0, 0.5), ElasticNet(1.0, 0.5), Box(-1.0, 0.5), Positive(),
    GroupL21(0.5, groups=2), GroupL21(0.5, groups=[[0, 3], [5]]), KSupport(0.3, k=2),
    WGSEF(0.3, k=1, groups=[[0, 1], [2, 3, 4]], weights=[1.0, 2.0]),
    L1(0.5) + Positive(), MCP(1.0, 3.0) + Positive(), L1(0.3) + Box(-0.5, 1.0),
    GroupL21(0.5, groups=3) + Positive(),
]


def _inputs(dtype):
    rng = np.random.default_rng(0)
    x = (2.0 * rng.normal(size=(4, 6))).astype(dtype)
    x[0, :2] = 0.0
    return x, x[1], x.reshape(2, 2, 6)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pen", PENALTIES, ids=repr)
def test_prox_and_value_in_namespace(pen, dtype, xp_name):
    xp, dev = namespace(xp_name)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for x in _inputs(dtype):
        xn = to_xp(x, xp, dev)
        with np.errstate(all="ignore"):  # array_api_strict computes with NumPy underneath
            ref = pen.prox(x, 0.4)
            got = pen.prox(xn, 0.4)
            assert_in_namespace(got, xp)
            assert got.dtype == xn.dtype and got.shape == xn.shape
            np.testing.assert_allclose(to_np(got), ref, rtol=tol, atol=tol)
            out = xp.empty_like(xn)
            assert pen.prox(xn, 0.4, out=out) is out
            np.testing.assert_allclose(to_np(out), ref, rtol=tol, atol=tol)
            value = pen.value(xn)
            assert isinstance(value, float)
            np.testing.assert_allclose(value, pen.value(x), rtol=tol)
            rows = pen.value(xn, per_row=True)
        if x.ndim > 1:
            assert_in_namespace(rows, xp)
        np.testing.assert_allclose(to_np(rows), pen.value(x, per_row=True), rtol=tol)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_prox_in_place_and_errors(xp_name):
    xp, dev = namespace(xp_name)
    x = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    ref = L1(0.5).prox(x, 1.0)
    xn = to_xp(x.copy(), xp, dev)
    assert L1(0.5).prox(xn, 1.0, out=xn) is xn  # out may be x itself
    np.testing.assert_allclose(to_np(xn), ref)
    with pytest.raises(ValueError, match="out must have shape"):
        L1(0.5).prox(xn, 1.0, out=xp.empty((2,), dtype=xn.dtype, device=dev))
    bad = to_xp(np.array([1.0, np.nan]), xp, dev)
    with pytest.raises(ValueError, match="NaN or infinity"):
        L1(0.5).prox(bad)
    with pytest.raises(ValueError, match="NaN or infinity"):
        GroupL21(0.5).value(bad)
    ints = to_xp(np.array([-2, 0, 3]), xp, dev)  # integers become float64 in the namespace
    got = L1(1.0).prox(ints)
    assert got.dtype == xp.float64
    np.testing.assert_allclose(to_np(got), [-1.0, 0.0, 2.0])


def test_device_parameters_are_cached_and_not_pickled():
    xp, dev = namespace("array_api_strict")
    pen = GroupL21(0.5, groups=2)
    xn = to_xp(np.ones((2, 4)), xp, dev)
    pen.prox(xn)
    cache = dict(pen.__dict__["_device_cache"])
    pen.prox(xn)
    assert all(pen.__dict__["_device_cache"][k][1] is v[1] for k, v in cache.items())
    clone = pickle.loads(pickle.dumps(pen))
    assert "_device_cache" not in clone.__dict__
    np.testing.assert_allclose(to_np(clone.prox(xn)), to_np(pen.prox(xn)))


GROUP_PENALTIES = {
    "GroupL21": lambda: GroupL21(0.5, groups=2),
    "GroupL21-lists": lambda: GroupL21(0.5, groups=[[0, 3], [5]]),
    "KSupport": lambda: KSupport(0.3, k=2),
    "WGSEF": lambda: WGSEF(0.3, k=1, groups=[[0, 1], [2, 3, 4]], weights=[1.0, 2.0]),
    "GroupL21+Positive": lambda: GroupL21(0.5, groups=3) + Positive(),
}


@pytest.mark.parametrize("make", GROUP_PENALTIES.values(), ids=GROUP_PENALTIES)
def test_group_structure_moved_once_and_layout_built_once(make, monkeypatch):
    """Repeated ``prox`` and ``value`` calls on device arrays (float32 and float64) move
    the group structure (indptr, indices, weights) to the device once and build the
    padded group layout of the generic kernels there once."""
    import sparsopt.backends._numpy.prox as kernels
    import sparsopt.penalties._base as base

    xp, dev = namespace("array_api_strict")
    moves, builds = [], []
    asarray_on, group_layout = base.asarray_on, kernels._group_layout
    monkeypatch.setattr(base, "asarray_on",
                        lambda *a, **k: moves.append(a[0].dtype) or asarray_on(*a, **k))
    monkeypatch.setattr(kernels, "_group_layout",
                        lambda *a, **k: builds.append(1) or group_layout(*a, **k))
    pen = make()
    x = 2.0 * np.random.default_rng(0).normal(size=(3, 6))
    with np.errstate(all="ignore"):  # array_api_strict computes with NumPy underneath
        for dtype in (np.float64, np.float32, np.float64):
            xn = to_xp(x.astype(dtype), xp, dev)
            for _ in range(3):
                np.testing.assert_allclose(to_np(pen.prox(xn, 0.4)), pen.prox(x, 0.4),
                                           rtol=1e-5, atol=1e-6)
                np.testing.assert_allclose(pen.value(xn), pen.value(x), rtol=1e-5)
    assert sorted(str(d) for d in moves) == ["float64", "int64", "int64"]
    assert len(builds) == 1
