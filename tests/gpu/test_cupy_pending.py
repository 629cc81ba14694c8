"""The pending CuPy kernels on a device, against the NumPy references (``-m gpu``).

``sparsopt/backends/_cupy/pending.py`` holds kernels that have not run on a device; this module
is what a GPU run executes to verify them (``gpu/run_gpu_tests.sh``): each kernel is registered
for the test only (``register_pending([op])``, undone afterwards), then

* the array-API case of its op (``tests/array_api/_cases_*.py``, written by the families) runs
  with CuPy arrays, so that ``dispatch`` reaches the pending kernel and the case compares it
  with the NumPy reference run;
* direct comparisons on the inputs of ``tests/gpu/test_pending_sources.py`` (NaN, infinities,
  float32 and float64, int64 for the FWHT, sizes that use every launch kind).

A kernel whose tests pass here may move into the dispatch (``gpu/README.md``).
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import numpy as np
import pytest

from sparsopt.backends import dispatch, resolve_backend
from sparsopt.backends._cupy import pending
from tests.gpu.test_pending_sources import PROX_PARAMS, _lse_matrix, _prox_input

pytestmark = pytest.mark.gpu


@pytest.fixture
def cp():
    cupy = pytest.importorskip("cupy")
    from sparsopt.backends import cupy_available

    if not cupy_available():
        pytest.skip("CuPy has no usable device")
    return cupy


def _array_api_cases():
    import tests.array_api as pkg

    cases = {}
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("_cases_"):
            cases.update(importlib.import_module(f"tests.array_api.{mod.name}").CASES)
    return cases


class _registered:
    def __init__(self, op):
        self.op = op

    def __enter__(self):
        return pending.register_pending([self.op])

    def __exit__(self, *exc):
        pending.unregister_pending([self.op])


@pytest.mark.parametrize("op", sorted(pending.PENDING))
def test_pending_kernel_is_dispatched_only_while_registered(cp, op):
    from sparsopt.backends import has_kernel

    assert not has_kernel(op, "cupy")  # the package registers no CuPy kernel by itself
    with _registered(op):
        assert resolve_backend(op, cp.zeros((2, 4))) == "cupy"
    assert not has_kernel(op, "cupy")


@pytest.mark.parametrize("op", sorted(pending.PENDING))
def test_pending_kernel_passes_the_array_api_case(cp, op):
    cases = _array_api_cases()
    if op not in cases:
        pytest.skip(f"no tests/array_api case for {op!r} in this version")
    from tests._array_api import to_xp

    dev = cp.cuda.Device(0)
    with _registered(op):
        cases[op](lambda a: to_xp(a, cp, dev), cp)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(PROX_PARAMS))
def test_pending_prox_on_device(cp, op, dtype):
    x = _prox_input(dtype)
    params = PROX_PARAMS[op]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = dispatch(op, x, *params, np.empty_like(x), engine="numpy")
    xd = cp.asarray(x)
    params = tuple(cp.asarray(p) if isinstance(p, np.ndarray) else p for p in params)
    with _registered(op):
        out = cp.empty_like(xd)
        got = dispatch(op, xd, *params, out)
        assert got is out
        alias = xd.copy()
        dispatch(op, alias, *params, alias)  # out may be x itself
    rtol = 1e-6 if dtype == np.float32 else 1e-11
    for res in (got, alias):
        assert isinstance(res, cp.ndarray) and res.dtype == x.dtype
        np.testing.assert_allclose(cp.asnumpy(res), ref, rtol=rtol, atol=0, equal_nan=True,
                                   err_msg=op)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pending_lse_reductions_on_device(cp, dtype):
    from scipy.special import logsumexp

    for n, m in ((37, 29), (700, 3), (5, 3000)):
        K = _lse_matrix(dtype, n, m, special=(n, m) == (37, 29))
        rng = np.random.default_rng(2)
        v, u = rng.standard_normal(m), rng.standard_normal(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref_r = logsumexp(v[None, :] + K.astype(np.float64), axis=1)
            ref_c = logsumexp(u[:, None] + K.astype(np.float64), axis=0)
        Kd = cp.asarray(K)
        got_r = pending.lse_rows(Kd, cp.asarray(v))
        got_c = pending.lse_cols(Kd, cp.asarray(u))
        np.testing.assert_allclose(cp.asnumpy(got_r), ref_r, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(cp.asnumpy(got_c), ref_c, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tol", [-1.0, 2e-2])
def test_pending_sinkhorn_sweeps_on_device(cp, dtype, tol):
    rng = np.random.default_rng(4)
    n, m, reg = 230, 170, 0.05
    K = (-rng.random((n, m)) / reg).astype(dtype)
    a, b = rng.random(n) + 0.5, rng.random(m) + 0.5
    a /= a.sum()
    b /= b.sum()
    u0, v0 = np.zeros(n), np.zeros(m)
    it0, e0 = dispatch("sinkhorn_log_iterations", K, u0, v0, np.log(a), np.log(b), a, 1.0,
                       1.0, 30, tol, engine="numpy")
    ud, vd = cp.zeros(n), cp.zeros(m)
    Kd = cp.asarray(K)
    with _registered("sinkhorn_log_iterations"):
        it1, e1 = dispatch("sinkhorn_log_iterations", Kd, ud, vd, cp.log(cp.asarray(a)),
                           cp.log(cp.asarray(b)), cp.asarray(a), 1.0, 1.0, 30, tol)
    assert it1 == it0
    assert e1 == pytest.approx(e0, rel=1e-8, abs=1e-13)
    np.testing.assert_allclose(cp.asnumpy(ud), u0, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(cp.asnumpy(vd), v0, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape", [(3, 64), (2, 2**12), (2, 2**13), (1, 2**15), (4, 8),
                                   (5, 1), (0, 8), (1, 2**22)])
def test_pending_fwht_on_device(cp, dtype, shape):
    rng = np.random.default_rng(5)
    if dtype == np.int64:
        x = rng.integers(-1000, 1000, shape).astype(np.int64)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    ref = dispatch("fwht_rows", x.copy(), engine="numpy")
    xd = cp.asarray(x)
    with _registered("fwht_rows"):
        got = dispatch("fwht_rows", xd)
    assert got is xd  # in place
    if dtype == np.int64:
        np.testing.assert_array_equal(cp.asnumpy(got), ref)
    else:
        tol = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(cp.asnumpy(got), ref, rtol=tol,
                                   atol=tol * np.sqrt(max(shape[1], 1)))
