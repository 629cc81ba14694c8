"""The scalar subdifferential distance shared by the working-set solvers, against its NumPy
reference and against its definition (zero at coordinate-wise stationary points)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.backends import _kinds as K
from sparsopt.backends._numba import prox as nb
from sparsopt.backends._numpy import prox as ref
from sparsopt.penalties import L0, L1, MCP, SCAD, ElasticNet, Log, Lq, Positive

PENALTIES = [L1(0.7), ElasticNet(0.7, 0.4), MCP(0.7, 3.0), SCAD(0.7, 3.7), Log(0.7, 0.5),
             L0(0.7), Lq(0.7, 0.5), Lq(0.7, 2 / 3)]


@pytest.mark.parametrize("pen", PENALTIES + [p + Positive() for p in PENALTIES[:5]], ids=repr)
@given(w=st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=30),
       seed=st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_numba_scalar_equals_numpy_reference(pen, w, seed):
    s = pen.spec()
    w = np.array(w)
    w[np.random.default_rng(seed).random(w.size) < 0.3] = 0.0  # exercise w = 0
    if s.lower == 0.0:
        w = np.abs(w)
    g = np.random.default_rng(seed).normal(scale=2.0, size=w.size)
    got = np.array([nb.subdiff_distance(s.kind, wi, gi, s.params, s.lower, s.upper)
                    for wi, gi in zip(w, g)])
    np.testing.assert_allclose(got, ref.subdiff_distance(s.kind, w, g, s.params, s.lower,
                                                         s.upper), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pen", [L1(0.7), ElasticNet(0.7, 0.4), MCP(0.7, 3.0), SCAD(0.7, 3.7),
                                 Log(0.7, 0.5)], ids=repr)
@pytest.mark.parametrize("positive", [False, True])
def test_zero_at_the_prox_fixed_point(pen, positive):
    # w = prox_{pen/L}(w + g/L) <=> 0 in -g + d pen(w) (+ normal cone) for these penalties
    # whenever the prox is single-valued; build w from random t and read off g.
    if positive:
        pen = pen + Positive()
    s = pen.spec()
    rng = np.random.default_rng(0)
    L = 4.0
    for t in rng.normal(scale=3.0, size=200):
        w = pen.prox(np.array([t]), step=1.0 / L)[0]
        g = L * (t - w)  # so that w + g / L = t
        assert nb.subdiff_distance(s.kind, w, g, s.params, s.lower, s.upper) <= 1e-9


def test_kinds_without_closed_form_return_minus_one():
    assert nb.subdiff_distance(K.KIND_CEL0, 0.5, 0.1, np.array([1.0]), -np.inf, np.inf) == -1.0
    assert nb.subdiff_distance(K.KIND_LQ, 0.5, 0.1, np.array([1.0, 0.3]), -np.inf,
                               np.inf) == -1.0
