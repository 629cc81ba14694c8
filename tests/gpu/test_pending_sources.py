"""The pending CuPy kernels' CUDA sources, checked without a GPU (see ``tests/gpu/_emulate.py``).

``nvcc --ptx`` compiles them (skipped without nvcc); a CPU emulation (host C++ compiler, one
thread per CUDA thread, barriers for ``__syncthreads``) runs them against the NumPy references
of the same ops. The device run itself is ``tests/gpu/test_cupy_pending.py`` (marked gpu).
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from sparsopt.backends import dispatch
from sparsopt.backends._cupy import pending
from tests.gpu import _emulate


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    if shutil.which("g++") is None and shutil.which("c++") is None:
        pytest.skip("no host C++ compiler to emulate the CUDA kernels")
    return _emulate.emulator(str(tmp_path_factory.mktemp("pending_emu")))


def test_pending_module_is_not_imported_by_the_package():
    import subprocess
    import sys

    code = ("import sys, sparsopt, sparsopt.backends; from sparsopt.backends import dispatch, "
            "list_kernels; list_kernels(); import numpy as np; "
            "dispatch('prox_l1', np.ones(3), 0.5, np.empty(3)); "
            "print('sparsopt.backends._cupy.pending' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_nvcc_compiles_every_kernel():
    if shutil.which("nvcc") is None:
        pytest.skip("nvcc is not installed")
    ptx = _emulate.nvcc_ptx()
    n_prox = 2 * len(pending.PROX_KERNELS)
    n_lse = 2 + 2 + 1
    n_fwht = 3 * len(pending.FWHT_TYPES)
    assert ptx.count(".entry") == n_prox + n_lse + n_fwht


# op -> parameters after x (scalars already multiplied by the step, as the penalties pass them)
PROX_PARAMS = {
    "prox_l1": (0.7,),
    "prox_l0": (0.9,),
    "prox_elasticnet": (0.5, 1.3),
    "prox_lhalf": (0.6,),
    "prox_ltwothirds": (0.6,),
    "prox_lq": (0.5, 0.3),
    "prox_cel0": (np.array([0.5, 0.8, 1.0, 1.2, 0.9]), 0.4, 0.5),
    "prox_mcp": (0.8, 3.0, 1.0),
    "prox_scad": (0.8, 3.7, 1.0),
    "prox_log": (0.5, 0.3),
    "prox_box": (-0.5, 0.8),
}


def _prox_input(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(180) * 2.0, rng.standard_normal(10) * 1e3,
                        [0.0, -0.0, 1e-300, -1e-12, np.nan, np.inf, -np.inf, 1e200, -1e155, 5.0]])
    with np.errstate(over="ignore"):  # 1e200 and -1e155 become +-inf in float32
        return x.reshape(-1, 5).astype(dtype)


def test_every_separable_prox_op_has_a_kernel_and_a_case():
    assert set(PROX_PARAMS) == set(pending.PROX_KERNELS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(PROX_PARAMS))
def test_prox_kernel_matches_reference(emu, op, dtype):
    x = _prox_input(dtype)
    variants = [PROX_PARAMS[op]]
    if op == "prox_cel0":
        variants.append((np.array([0.9]), 0.4, 0.5))  # one norm for every column
    if op in ("prox_lhalf", "prox_ltwothirds", "prox_lq"):
        variants.append((0.0,) + PROX_PARAMS[op][1:])  # c = 0: the identity
    for params in variants:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = dispatch(op, x, *params, np.empty_like(x), engine="numpy")
        got = emu.prox(op, x, *params)
        assert got.dtype == x.dtype
        same = emu.prox(op, x.copy(), *params, in_place=True)  # out is x
        np.testing.assert_array_equal(same, got)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        rtol = 1e-6 if dtype == np.float32 else 1e-11
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=0, equal_nan=True,
                                   err_msg=f"{op} {params}")


def _lse_matrix(dtype, n=37, m=29, special=True):
    rng = np.random.default_rng(1)
    K = (-rng.random((n, m)) * 50.0).astype(dtype)
    if special:
        K[3, :] = -np.inf           # a row of zeros in the plan
        K[5, 7] = -np.inf
        K[:, 11] = -np.inf          # a column of zeros
        K[8, 2] = np.inf
        K[9, 4] = np.nan
    return K


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lse_row_and_column_reductions(emu, dtype):
    K = _lse_matrix(dtype)
    rng = np.random.default_rng(2)
    v, u = rng.standard_normal(K.shape[1]), rng.standard_normal(K.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_r = logsumexp(v[None, :] + K.astype(np.float64), axis=1)
        ref_c = logsumexp(u[:, None] + K.astype(np.float64), axis=0)
    for grid in (1, 4, K.shape[0]):  # the block-stride loop over rows
        got = emu.lse_rows(K, v, grid=grid)
        np.testing.assert_allclose(got, ref_r, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(emu.lse_cols(K, u), ref_c, rtol=1e-13, equal_nan=True)


def test_lse_columns_over_many_row_chunks(emu):
    K = _lse_matrix(np.float64, n=700, m=3, special=False)
    assert pending.lse_col_chunks(*K.shape)[0] > 1
    u = np.random.default_rng(3).standard_normal(700)
    np.testing.assert_allclose(emu.lse_cols(K, u), logsumexp(u[:, None] + K, axis=0),
                               rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tol", [-1.0, 2e-2])
def test_sinkhorn_sweeps_match_reference(emu, dtype, tol):
    rng = np.random.default_rng(4)
    n, m, reg = 23, 17, 0.05
    M = rng.random((n, m))
    K = (-M / reg).astype(dtype)
    a = rng.random(n) + 0.5
    b = rng.random(m) + 0.5
    a /= a.sum()
    b /= b.sum()
    out = []
    for kern in (lambda *args: dispatch("sinkhorn_log_iterations", *args, engine="numpy"),
                 emu.sinkhorn_log_iterations):
        u, v = np.zeros(n), np.zeros(m)
        it, err = kern(K, u, v, np.log(a), np.log(b), a, 1.0, 1.0, 10, tol)
        out.append((it, err, u, v))
    (it0, e0, u0, v0), (it1, e1, u1, v1) = out
    assert it1 == it0
    assert (it0 < 10) == (tol > 0)  # the tolerance case stops early
    assert e1 == pytest.approx(e0, rel=1e-9, abs=1e-14)
    np.testing.assert_allclose(u1, u0, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(v1, v0, rtol=1e-11, atol=1e-11)


def test_fwht_plan():
    assert pending.fwht_plan(1) == []
    assert pending.fwht_plan(2**26) == [("tile", 12)] + [("radix4", k) for k in range(12, 26, 2)]
    assert pending.fwht_plan(2**7, 3) == [("tile", 3), ("radix4", 3), ("radix4", 5)]
    assert pending.fwht_plan(2**6, 3) == [("tile", 3), ("radix4", 3), ("radix2", 5)]
    assert pending.fwht_plan(8) == [("tile", 3)]
    with pytest.raises(ValueError, match="power of two"):
        pending.fwht_plan(12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape,log_tile", [((3, 64), 3), ((2, 128), 3), ((2, 2**13), 12),
                                            ((4, 8), 12), ((5, 1), 12), ((0, 8), 12),
                                            ((1, 2), 1)])
def test_fwht_kernels_match_reference(emu, dtype, shape, log_tile):
    rng = np.random.default_rng(5)
    if dtype == np.int64:
        x = rng.integers(-1000, 1000, shape).astype(np.int64)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    ref = dispatch("fwht_rows", x.copy(), engine="numpy")
    got = emu.fwht_rows(x.copy(), log_tile=log_tile)
    if dtype == np.int64:
        np.testing.assert_array_equal(got, ref)
    else:
        tol = 1e-4 if dtype == np.float32 else 1e-11
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.sqrt(max(shape[1], 1)))


def test_fwht_kernel_scale(emu):
    x = np.random.default_rng(6).standard_normal((2, 32))
    ref = dispatch("fwht_rows", x.copy(), 0.25, engine="numpy")
    np.testing.assert_allclose(emu.fwht_rows(x.copy(), 0.25, log_tile=2), ref, rtol=1e-12)
