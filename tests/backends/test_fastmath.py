"""The shared vectorisable ``exp`` of the Numba kernels (``_numba._fastmath.exp_poly``)."""

import math

import numpy as np
import pytest

fastmath = pytest.importorskip("sparsopt.backends._numba._fastmath")
from sparsopt.backends._numba.prosper import _exp_row_terms  # noqa: E402
from sparsopt.backends._numba.sinkhorn import _exp_inplace  # noqa: E402


def _ulps(y, x):
    """Distance of ``y`` from ``exp(x)`` in units of the last place (extended reference)."""
    ref = np.exp(x.astype(np.longdouble))
    return np.abs((y - ref) / np.spacing(ref.astype(np.float64))).astype(np.float64)


def test_exp_poly_is_within_two_ulp_on_its_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708.0, 709.0, 100_000), rng.uniform(-1.0, 1.0, 20_000),
                        np.arange(-708.0, 709.5, 0.5), [-0.0, 1e-300, -1e-300, 709.0]])
    y = x.copy()
    _exp_inplace(y, y.size)  # the clip to [-708, 709] is inactive on this range
    assert _ulps(y, x).max() <= 2.0
    assert y[x == 0.0].tolist() == [1.0] * int(np.sum(x == 0.0))
    # the scalar function itself, called from Python
    for v in (-708.0, -3.5, 0.0, 1e-10, 12.25, 709.0):
        assert abs(fastmath.exp_poly(v) / math.exp(v) - 1.0) <= 4.5e-16


def test_kernels_share_one_exp():
    """The Sinkhorn and ProSper wrappers compute the same bits in their common range."""
    x = np.random.default_rng(1).uniform(-700.0, 0.0, 50_000)
    y_sinkhorn = x.copy()
    _exp_inplace(y_sinkhorn, x.size)
    y_prosper = np.empty_like(x)
    _exp_row_terms(x, 0.0, -708.0, y_prosper)
    np.testing.assert_array_equal(y_sinkhorn, y_prosper)
