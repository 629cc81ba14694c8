"""Array-API cases of the prox kernels (``sparsopt/backends/_numpy/prox.py``).

Each case runs ``dispatch(op, ...)`` on seeded NumPy inputs with ``engine="numpy"`` (the
reference) and on the same inputs converted by ``to_ns``, for float32 and float64, with
``out`` a separate buffer and ``out`` aliasing ``x``; the outputs must be arrays of ``xp``
(the in-place one too) of the input dtype, equal to the NumPy run up to rounding. The
inputs include exact zeros, values at the thresholds' scale and a NaN (which must stay
NaN, except for the group ops where NaN spreads over the group as on NumPy).
"""

from __future__ import annotations

import numpy as np

from sparsopt.backends import dispatch
from sparsopt.penalties import make_groups
from tests._array_api import assert_in_namespace, to_np

DTYPES = (np.float32, np.float64)
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def _vector(dtype, n=40, seed=0, nan=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=n)
    x[:3] = [0.0, -1e-3, 5.0]
    if nan:
        x[7] = np.nan
    return x.astype(dtype)


def _matrix(dtype, shape=(5, 9), seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=shape)
    x[0, :] = 0.0
    x[1, :3] = 0.0
    x[2, 5] = np.nan
    return x.astype(dtype)


def _compare(op, make_x, args, to_ns, xp, array_args=()):
    """Run ``op(x, *args, out)`` on NumPy and on ``xp``, separate and aliased ``out``."""
    with np.errstate(all="ignore"):  # array_api_strict computes with NumPy underneath
        _compare_dtypes(op, make_x, args, to_ns, xp, array_args)


def _compare_dtypes(op, make_x, args, to_ns, xp, array_args):
    for dtype in DTYPES:
        x = make_x(dtype)
        ref = dispatch(op, x, *args, np.empty_like(x), engine="numpy")
        ns_args = tuple(to_ns(a) if i in array_args else a for i, a in enumerate(args))
        xn = to_ns(x)
        out = to_ns(np.empty_like(x))
        got = dispatch(op, xn, *ns_args, out)
        assert got is out
        assert_in_namespace(got, xp)
        assert got.dtype == xn.dtype
        np.testing.assert_allclose(to_np(got), ref, rtol=TOL[dtype], atol=TOL[dtype])
        xn = to_ns(x)  # aliased: out is x itself
        got = dispatch(op, xn, *ns_args, xn)
        assert_in_namespace(xn, xp)
        np.testing.assert_allclose(to_np(xn), ref, rtol=TOL[dtype], atol=TOL[dtype])


def _sep(op, *args):
    def check(to_ns, xp):
        _compare(op, _vector, args, to_ns, xp)

    return check


def _check_cel0(to_ns, xp):
    _compare("prox_cel0", _vector, (np.array([0.8]), 0.5, 0.9), to_ns, xp, array_args=(0,))
    a = np.linspace(0.5, 1.5, 9)
    _compare("prox_cel0", lambda d: _matrix(d), (a, 0.5, 0.4), to_ns, xp, array_args=(0,))


def _group_args(groups, n, thresh_scale=1.0, weights=None):
    indptr, indices = make_groups(groups, n)
    n_groups = indptr.size - 1
    w = np.linspace(0.5, 2.0, n_groups) if weights is None else weights
    return indptr, indices, thresh_scale * w


def _check_layout_hint(op, args, to_ns, xp, array_args):
    """``max_group_size`` given (as the penalties do off NumPy) changes nothing."""
    x = _matrix(np.float64)
    ref = dispatch(op, x, *args, np.empty_like(x), engine="numpy")
    ns_args = tuple(to_ns(a) if i in array_args else a for i, a in enumerate(args))
    size = int(np.max(np.diff(args[0])))
    got = dispatch(op, to_ns(x), *ns_args, to_ns(np.empty_like(x)), max_group_size=size)
    assert_in_namespace(got, xp)
    np.testing.assert_allclose(to_np(got), ref, rtol=1e-12, atol=1e-12)


def _check_group_l2(to_ns, xp):
    for groups in (3, [[0, 4, 2], [8], [5, 6]], None):  # the list leaves features ungrouped
        indptr, indices, thresh = _group_args(groups, 9, thresh_scale=1.5)
        _compare("prox_group_l2", _matrix, (indptr, indices, thresh), to_ns, xp,
                 array_args=(0, 1, 2))
        with np.errstate(all="ignore"):
            _check_layout_hint("prox_group_l2", (indptr, indices, thresh), to_ns, xp, (0, 1, 2))


def _check_ksupport(to_ns, xp):
    for groups, k in ((3, 1), ([[0, 4, 2], [8], [5, 6]], 2), (None, 3), (None, 20)):
        indptr, indices, w = _group_args(groups, 9)
        _compare("prox_ksupport", _matrix, (indptr, indices, w, k, 0.7), to_ns, xp,
                 array_args=(0, 1, 2))
        with np.errstate(all="ignore"):
            _check_layout_hint("prox_ksupport", (indptr, indices, w, k, 0.7), to_ns, xp,
                               (0, 1, 2))


CASES = {
    "prox_l1": _sep("prox_l1", 0.8),
    "prox_l0": _sep("prox_l0", 1.1),
    "prox_elasticnet": _sep("prox_elasticnet", 0.5, 1.3),
    "prox_lhalf": _sep("prox_lhalf", 0.9),
    "prox_ltwothirds": _sep("prox_ltwothirds", 0.9),
    "prox_lq": _sep("prox_lq", 0.9, 0.3),
    "prox_cel0": _check_cel0,
    "prox_mcp": _sep("prox_mcp", 1.0, 3.0, 0.8),
    "prox_scad": _sep("prox_scad", 1.0, 3.7, 0.8),
    "prox_log": _sep("prox_log", 0.9, 0.5),
    "prox_box": _sep("prox_box", -1.0, 0.5),
    "prox_group_l2": _check_group_l2,
    "prox_ksupport": _check_ksupport,
}
