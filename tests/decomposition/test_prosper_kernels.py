"""The BSC E-step kernel's vectorised exponential; the BSC kernel's column blocks and the GSC
kernel against the NumPy references (float64 to 1e-12 relative, blocks of points that
cross the BSC kernel's column width); the M-step's second moments."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.backends import dispatch
from sparsopt.decomposition import state_combinations

numba_prosper = pytest.importorskip("sparsopt.backends._numba.prosper")

CUT = math.log(1e-30)


def _exp_cols(lj, mx):
    out = np.full_like(lj, np.nan)
    tot = np.full(lj.shape[1], np.nan)
    numba_prosper._exp_cols(lj, mx, lj.shape[0], lj.shape[1], CUT, out, tot)
    return out, tot


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(CUT, 0.0), min_size=1, max_size=70), st.floats(-50.0, 50.0))
def test_vectorised_exp_matches_numpy_exp(values, shift):
    v = np.array(values)
    lj = (v + shift)[:, None] * np.ones((1, 3))
    mx = np.full(3, shift)
    out, tot = _exp_cols(lj, mx)
    x = lj - mx[None, :]   # the kernel's argument, rounded as the kernel rounds it
    ref = np.exp(x)
    keep = x > CUT
    np.testing.assert_array_equal(out[~keep], 0.0)
    rel = np.abs(out[keep] - ref[keep]) / ref[keep]
    assert rel.max(initial=0.0) <= 4e-16
    np.testing.assert_allclose(tot, out.sum(axis=0), rtol=1e-15)


def test_vectorised_exp_on_a_dense_grid_and_at_the_ends():
    x = np.concatenate([np.linspace(CUT, 0.0, 100_001), [0.0, -0.0, -1e-300, -5e-324,
                                                         CUT + 1e-12, CUT, CUT - 1.0,
                                                         -745.0, -1e300, -np.inf]])
    out, _ = _exp_cols(x[:, None], np.zeros(1))
    out = out[:, 0]
    keep = x > CUT
    ref = np.exp(x[keep])
    assert np.max(np.abs(out[keep] - ref) / ref) <= 4e-16
    assert (out[~keep] == 0.0).all()
    assert (out[x == 0.0] == 1.0).all()


def _bsc_case(n, H, Hp, gamma, dtype, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((H, 9)).astype(dtype)
    S = (rng.random((n, H)) < 0.25).astype(dtype)
    Y = (S @ W + 0.5 * rng.standard_normal((n, 9))).astype(dtype)
    yw = Y @ W.T
    cand = np.sort(np.argsort(-yw, axis=1)[:, :Hp], axis=1).astype(np.int64)
    return (yw, np.einsum("ij,ij->i", Y, Y), W @ W.T, cand,
            state_combinations(Hp, gamma), math.log(0.25 / 0.75))


@pytest.mark.parametrize("n", [1, 63, 64, 65, 150])
@pytest.mark.parametrize("beta", [1.0, 0.3])
def test_bsc_kernel_column_blocks_equal_the_reference(n, beta):
    H, Hp, gamma = 12, 6, 4
    args = _bsc_case(n, H, Hp, gamma, np.float64)
    outs = {}
    for engine in ("numpy", "numba"):
        out = (np.full(n, np.nan), np.full((n, H), np.nan), np.full((n, Hp, Hp), np.nan))
        dispatch("prosper_bsc_estep", *args, beta, beta, 0.4, *out, engine=engine)
        outs[engine] = out
    for a, b in zip(outs["numpy"], outs["numba"]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())


def test_bsc_kernel_float32_outputs():
    n, H, Hp, gamma = 70, 10, 5, 3
    args32 = _bsc_case(n, H, Hp, gamma, np.float32)
    out32 = (np.empty(n, np.float32), np.empty((n, H), np.float32),
             np.empty((n, Hp, Hp), np.float32))
    dispatch("prosper_bsc_estep", *args32, 1.0, 1.0, 0.5, *out32, engine="numba")
    args64 = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32
                   else a for a in args32)
    out64 = (np.empty(n), np.empty((n, H)), np.empty((n, Hp, Hp)))
    dispatch("prosper_bsc_estep", *args64, 1.0, 1.0, 0.5, *out64, engine="numba")
    for a, b in zip(out32, out64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


def test_pair_moments_weights_and_symmetry():
    rng = np.random.default_rng(1)
    n, H, Hp = 40, 7, 4
    cand = np.sort(np.argsort(rng.random((n, H)), axis=1)[:, :Hp], axis=1).astype(np.int64)
    ecc = rng.random((n, Hp, Hp))
    ecc = ecc + ecc.transpose(0, 2, 1)
    ecc[:, np.arange(Hp), np.arange(Hp)] = 0.0
    diag = rng.random((n, H))
    w = (rng.random(n) < 0.6).astype(float)
    out = np.empty((H, H))
    dispatch("prosper_pair_moments", cand, ecc, diag, w, out, engine="numba")
    ref = np.zeros((H, H))
    for i in range(n):
        ref[np.ix_(cand[i], cand[i])] += w[i] * ecc[i]
        ref[np.diag_indices(H)] += w[i] * diag[i]
    np.testing.assert_allclose(out, ref, rtol=1e-13)
    np.testing.assert_allclose(out, out.T, rtol=1e-13)


@pytest.mark.parametrize("half", [0.5, 1.0])
def test_gsc_kernel_equals_the_reference(half):
    n, H, Hp, gamma = 40, 8, 5, 3
    rng = np.random.default_rng(3)
    yw, yy, G, cand, combos, _ = _bsc_case(n, H, Hp, gamma, np.float64, seed=3)
    pi = rng.uniform(0.05, 0.5, H)
    args = (yw, yy, G, cand, combos, np.log(pi / (1 - pi)), rng.normal(size=H),
            rng.uniform(0.2, 2.0, H), 0.7, 0.8, half, -3.0)
    outs = {}
    for engine in ("numpy", "numba"):
        out = [np.full(n, np.nan)] + [np.full((n, H), np.nan) for _ in range(3)] \
            + [np.full((n, Hp, Hp), np.nan)]
        dispatch("prosper_gsc_estep", *args, *out, engine=engine)
        outs[engine] = out
    for a, b in zip(outs["numpy"], outs["numba"]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())
