"""Batched orthogonal matching pursuit: ``sparsopt.solvers.omp`` and the ``omp_gram`` kernels."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.decomposition import sparse_encode
from sklearn.linear_model import orthogonal_mp

from sparsopt.backends import get_kernel
from sparsopt.backends._numpy.omp import (
    STOP_DEPENDENT,
    STOP_N_NONZERO,
    STOP_TOL,
    STOP_ZERO_CORR,
)
from sparsopt.datasets import load_image_patches, make_sparse_coding_problem
from sparsopt.exceptions import NonFiniteIterateWarning
from sparsopt.solvers import SolverResult, omp

ENGINES = ("numpy", "numba")
MAX_EXAMPLES = int(os.environ.get("SPARSOPT_CONFORMANCE_EXAMPLES", "40"))


def _problem(n_samples=15, n_features=30, n_components=40, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((n_components, n_features))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.standard_normal((n_samples, n_features))
    return X.astype(dtype), D.astype(dtype)


def _sk_omp(X, D, **kw):
    """scikit-learn's OMP in sparsopt's layout (it takes D.T and X.T)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no premature stop expected
        return np.atleast_2d(orthogonal_mp(D.T, X.T, **kw).T)


# ----------------------------------------------------------------------------- (a) scikit-learn


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n_nonzero", [1, 5, 12])
def test_matches_sklearn_n_nonzero(engine, n_nonzero):
    X, D = _problem()
    res = omp(X, D, n_nonzero_coefs=n_nonzero, engine=engine)
    ref = _sk_omp(X, D, n_nonzero_coefs=n_nonzero)
    np.testing.assert_allclose(res.x, ref, rtol=0, atol=1e-8)
    assert np.array_equal(res.x != 0, ref != 0)
    assert res.info["n_active"].tolist() == [n_nonzero] * X.shape[0]
    assert res.n_iter == n_nonzero and res.converged
    assert res.info["engine"] == engine


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("frac", [0.6, 0.2, 0.01])
def test_matches_sklearn_tol(engine, frac):
    X, D = _problem(seed=1)
    tol = frac * float(np.min(np.sum(X**2, axis=1)))
    res = omp(X, D, tol=tol, n_nonzero_coefs=1, engine=engine)  # tol overrides
    ref = _sk_omp(X, D, tol=tol)
    np.testing.assert_allclose(res.x, ref, rtol=0, atol=1e-8)
    resid = np.sum((X - res.x @ D) ** 2, axis=1)
    assert np.all(resid <= tol * (1 + 1e-12))
    np.testing.assert_allclose(res.info["residual_sq"], resid, rtol=1e-10, atol=1e-12)
    assert np.all(res.info["stop_reason"] == STOP_TOL)
    assert res.info["n_active"].tolist() == np.count_nonzero(ref, axis=1).tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_default_n_nonzero_like_sparse_encode(engine):
    X, D = _problem()
    res = omp(X, D, engine=engine)
    # sparse_encode's default, 10% of n_features (orthogonal_mp's design is D.T, so its
    # own default would be 10% of n_components)
    assert res.info["n_nonzero_coefs"] == 3
    np.testing.assert_allclose(res.x, _sk_omp(X, D, n_nonzero_coefs=3), rtol=0, atol=1e-8)
    assert omp(X[:, :2], D[:1, :2], engine=engine).info["n_nonzero_coefs"] == 1


def test_matches_sklearn_sparse_encode_on_patches():
    X = load_image_patches(n_patches=200)
    rng = np.random.default_rng(0)
    D = rng.standard_normal((256, 64))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    ref = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=10)
    res = omp(X, D, n_nonzero_coefs=10)
    np.testing.assert_allclose(res.x, ref, rtol=0, atol=1e-8)


# ----------------------------------------------------------------------------- (b) recovery


@pytest.mark.parametrize("engine", ENGINES)
def test_exact_support_recovery_noiseless(engine):
    X, D, C = make_sparse_coding_problem(20, 64, 128, 4, noise=0.0, random_state=3)
    res = omp(X, D, n_nonzero_coefs=4, engine=engine)
    assert np.array_equal(res.x != 0, C != 0)
    np.testing.assert_allclose(res.x, C, rtol=0, atol=1e-10)
    assert res.stop_crit < 1e-12  # ||x||^2 - c_S . b_S: cancellation leaves ~eps ||x||^2
    # tol mode stops after the same k atoms
    res_tol = omp(X, D, tol=1e-12, engine=engine)
    assert np.array_equal(res_tol.x != 0, C != 0)
    assert res_tol.info["n_active"].tolist() == [4] * 20


# ----------------------------------------------------------------------------- (c) dtypes


@pytest.mark.parametrize("engine", ENGINES)
def test_float32_in_float32_out(engine):
    X, D = _problem(dtype=np.float32)
    res = omp(X, D, n_nonzero_coefs=5, engine=engine)
    assert res.x.dtype == np.float32
    assert res.info["residual_sq"].dtype == np.float64
    ref = omp(X.astype(np.float64), D.astype(np.float64), n_nonzero_coefs=5, engine=engine)
    assert np.array_equal(res.x != 0, ref.x != 0)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-4, atol=1e-5)
    # the dictionary follows X
    assert omp(X, D.astype(np.float64), n_nonzero_coefs=5, engine=engine).x.dtype == np.float32


# ----------------------------------------------------------------------------- (d) conformance


@st.composite
def _gram_problem(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    K = draw(st.integers(1, 20))
    n = draw(st.integers(1, 8))
    p = draw(st.integers(1, K + 8))  # overcomplete (p < K) and undercomplete
    n_nonzero = draw(st.integers(1, K))
    seed = draw(st.integers(0, 2**32 - 1))
    use_tol = draw(st.booleans())
    frac = draw(st.floats(1e-3, 1.0))  # tol = 0 would compare rounding errors with 0
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((K, p))
    X = scale * rng.standard_normal((n, p))
    X[rng.random(n) < 0.15] = 0.0  # some zero signals
    G = np.ascontiguousarray((D @ D.T).astype(dtype))
    B = np.ascontiguousarray((X @ D.T).astype(dtype))
    norms_sq = np.sum(X * X, axis=1)
    tol = frac * float(norms_sq.max()) if use_tol else -1.0
    return G, B, norms_sq, n_nonzero, tol


def _run_kernels(G, B, norms_sq, n_nonzero, tol):
    res = {}
    for backend in ENGINES:
        out = np.full(B.shape, np.nan, dtype=B.dtype)  # the kernel must overwrite it all
        ret = get_kernel("omp_gram", backend)(G, B, norms_sq, n_nonzero, tol, out)
        res[backend] = (out, *ret)
    return res


def _assert_agree(res, dtype, norms_sq):
    (c_np, na_np, sr_np, rs_np), (c_nb, na_nb, sr_nb, rs_nb) = res["numpy"], res["numba"]
    for arr in (na_np, sr_np, na_nb, sr_nb):
        assert arr.dtype == np.int64
    assert c_np.dtype == c_nb.dtype == dtype
    np.testing.assert_array_equal(na_nb, na_np)
    np.testing.assert_array_equal(sr_nb, sr_np)
    np.testing.assert_array_equal(c_nb != 0, c_np != 0)
    rtol = 1e-4 if dtype == np.float32 else 1e-6
    scale = max(float(np.max(np.abs(c_np))), np.finfo(np.float64).tiny)
    np.testing.assert_allclose(c_nb, c_np, rtol=rtol, atol=1e-9 * scale)
    # residual energies ||x||^2 - c_S . b_S cancel down to rounding (times cond(G_SS))
    np.testing.assert_allclose(rs_nb, rs_np, rtol=rtol, atol=1e-9 * float(norms_sq.max()))


@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_gram_problem())
def test_numba_kernel_matches_numpy_reference(problem):
    G, B, norms_sq, n_nonzero, tol = problem
    res = _run_kernels(G, B, norms_sq, n_nonzero, tol)
    _assert_agree(res, B.dtype, norms_sq)
    n_active = res["numpy"][1]
    assert np.all(n_active <= n_nonzero)
    assert np.all(np.count_nonzero(res["numpy"][0], axis=1) == n_active)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_nonzero, tol", [(16, -1.0), (10, -1.0), (16, 0.05)])
def test_kernels_agree_overcomplete(dtype, n_nonzero, tol):
    X, D = _problem(n_samples=30, n_features=16, n_components=64, seed=4)
    G = (D @ D.T).astype(dtype)
    B = (X @ D.T).astype(dtype)
    norms_sq = np.sum(X * X, axis=1)
    _assert_agree(_run_kernels(G, B, norms_sq, n_nonzero, tol), dtype, norms_sq)


# ----------------------------------------------------------------------------- (e) edge cases


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("tol", [None, 0.1])
def test_zero_signal_gives_zero_code(engine, tol):
    X, D = _problem(n_samples=4)
    X[1] = 0.0
    res = omp(X, D, n_nonzero_coefs=5, tol=tol, engine=engine)
    assert np.all(res.x[1] == 0)
    assert res.info["n_active"][1] == 0
    assert res.info["residual_sq"][1] == 0
    assert res.info["stop_reason"][1] == (STOP_ZERO_CORR if tol is None else STOP_TOL)
    assert np.all(res.info["n_active"][[0, 2, 3]] > 0)
    assert np.isfinite(res.stop_crit)


@pytest.mark.parametrize("engine", ENGINES)
def test_all_zero_input(engine):
    X, D = _problem(n_samples=3)
    res = omp(np.zeros_like(X), D, n_nonzero_coefs=3, engine=engine)
    assert np.all(res.x == 0) and res.n_iter == 0 and res.stop_crit == 0.0


@pytest.mark.parametrize("engine", ENGINES)
def test_duplicated_atoms_stop_cleanly(engine):
    X, D = _problem(n_samples=10, n_features=8, n_components=6, seed=5)
    D2 = np.vstack([D, D, D[:2]])  # every atom two or three times
    res = omp(X, D2, n_nonzero_coefs=8, engine=engine)
    assert np.all(np.isfinite(res.x))
    # a duplicate of a selected atom is never selected: at most one of each pair
    for j in range(6):
        assert np.all((res.x[:, j] != 0) + (res.x[:, j + 6] != 0) <= 1)
    # the codes reproduce OMP on the dictionary without duplicates
    ref = omp(X, D, n_nonzero_coefs=6, engine=engine)
    folded = res.x[:, :6] + res.x[:, 6:12]
    folded[:, :2] += res.x[:, 12:]
    np.testing.assert_allclose(folded, ref.x, rtol=0, atol=1e-10)


@pytest.mark.parametrize("backend", ENGINES)
def test_kernel_stops_on_linear_dependence(backend):
    # G of two identical atoms with correlations no signal can have: after atom 0 the
    # correlation with atom 1 is still 0.5, but atom 1 adds nothing new.
    G = np.ones((2, 2))
    B = np.array([[1.0, 0.5], [0.0, 0.0]])
    out = np.full((2, 2), np.nan)
    n_active, stop, resid = get_kernel("omp_gram", backend)(G, B, np.array([2.0, 0.0]), 2,
                                                            -1.0, out)
    assert n_active.tolist() == [1, 0]
    assert stop.tolist() == [STOP_DEPENDENT, STOP_ZERO_CORR]
    np.testing.assert_array_equal(out, [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(resid, [1.0, 0.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_solver_counts_dependent_samples(engine):
    # a (user-given) singular gram: the second atom is dependent on the first
    D = np.eye(2)
    X = np.array([[1.0, 0.5], [1.0, 1.0], [0.0, 0.0]])
    gram = np.ones((2, 2))
    res = omp(X, D, n_nonzero_coefs=2, gram=gram, engine=engine)
    assert res.info["n_dependent"] == 1
    assert res.info["stop_reason"].tolist() == [STOP_DEPENDENT, STOP_ZERO_CORR, STOP_ZERO_CORR]
    assert res.info["n_active"].tolist() == [1, 1, 0]
    assert np.all(np.isfinite(res.x))


@pytest.mark.parametrize("engine", ENGINES)
def test_n_nonzero_equals_n_components_is_least_squares(engine):
    X, D = _problem(n_samples=6, n_features=12, n_components=8, seed=6)
    res = omp(X, D, n_nonzero_coefs=8, engine=engine)
    lsq = np.linalg.lstsq(D.T, X.T, rcond=None)[0].T
    np.testing.assert_allclose(res.x, lsq, rtol=0, atol=1e-10)
    assert np.all(res.info["stop_reason"] == STOP_N_NONZERO)
    np.testing.assert_allclose(res.info["residual_sq"], np.sum((X - lsq @ D) ** 2, axis=1),
                               rtol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_single_atom_and_single_sample(engine):
    res = omp([[3.0, 4.0]], [[0.6, 0.8]], n_nonzero_coefs=1, engine=engine)
    np.testing.assert_allclose(res.x, [[5.0]])
    assert res.stop_crit < 1e-28


def test_result_fields():
    X, D = _problem()
    res = omp(X, D, n_nonzero_coefs=4, gram=D @ D.T)
    assert isinstance(res, SolverResult)
    codes, full = res
    assert codes is res.x and codes.shape == (15, 40)
    resid = np.sum((X - codes @ D) ** 2, axis=1)
    np.testing.assert_allclose(res.info["residual_sq"], resid, rtol=1e-10)
    np.testing.assert_allclose(res.stop_crit, np.max(resid / np.sum(X**2, axis=1)), rtol=1e-10)
    assert res.info["n_active"].dtype == np.int64 and res.info["n_dependent"] == 0
    assert res.history[0]["iteration"] == 4


# ----------------------------------------------------------------------------- (f) bad inputs


_X, _D = _problem(n_samples=3, n_features=6, n_components=8)


def _with(arr, i, j, v):
    a = arr.copy()
    a[i, j] = v
    return a


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(X=_with(_X, 0, 0, np.nan)), ValueError, "X contains NaN"),
    (dict(X=_with(_X, 1, 2, np.inf)), ValueError, "X contains NaN or infinity"),
    (dict(dictionary=_with(_D, 0, 0, np.nan)), ValueError, "dictionary contains NaN"),
    (dict(X=_X[0]), ValueError, "X must have 2 dimension"),
    (dict(dictionary=_D[0]), ValueError, "dictionary must have 2 dimension"),
    (dict(X=_X[:, :5]), ValueError, "X has 5 features but dictionary has 6"),
    (dict(X=np.zeros((0, 6))), ValueError, "X is empty"),
    (dict(X=[["a"] * 6]), TypeError, "X must be numeric"),
    (dict(n_nonzero_coefs=0), ValueError, "n_nonzero_coefs must be >= 1"),
    (dict(n_nonzero_coefs=7), ValueError, r"n_nonzero_coefs=7 exceeds min\(n_features"),
    (dict(n_nonzero_coefs=2.0), TypeError, "n_nonzero_coefs must be an integer"),
    (dict(n_nonzero_coefs=True), TypeError, "n_nonzero_coefs must be an integer"),
    (dict(tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(tol=np.nan), ValueError, "tol must be finite"),
    (dict(tol="0.1"), TypeError, "tol must be a real number"),
    (dict(gram=np.eye(7)), ValueError, r"gram must have shape \(8, 8\)"),
    (dict(gram=np.triu(np.ones((8, 8)))), ValueError, "gram must be the symmetric"),
    (dict(gram=_with(np.eye(8), 0, 0, np.inf)), ValueError, "gram contains NaN"),
    (dict(n_jobs=0), ValueError, "n_jobs must be a non-zero integer"),
    (dict(engine="fortran"), ValueError, "engine must be one of"),
    (dict(engine="cupy"), TypeError, "engine='cupy' needs CuPy arrays"),
])
def test_bad_inputs_are_named(kwargs, exc, match):
    args = dict(X=_X, dictionary=_D, n_nonzero_coefs=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        omp(args.pop("X"), args.pop("dictionary"), **args)


def test_n_nonzero_upper_bound_ignored_in_tol_mode():
    res = omp(_X, _D, n_nonzero_coefs=7, tol=0.0)  # like scikit-learn: tol wins
    assert res.info["n_nonzero_coefs"] == 6


# ----------------------------------------------------------------------------- (g) threads


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("tol", [None, 0.5])
def test_n_jobs_gives_identical_results(engine, tol):
    X, D = _problem(n_samples=41, seed=7)
    a = omp(X, D, n_nonzero_coefs=6, tol=tol, engine=engine)
    for n_jobs in (2, -1, 3):
        b = omp(X, D, n_nonzero_coefs=6, tol=tol, n_jobs=n_jobs, engine=engine)
        np.testing.assert_array_equal(b.x, a.x)
        for key in ("n_active", "residual_sq", "stop_reason"):
            np.testing.assert_array_equal(b.info[key], a.info[key])


def test_nonfinite_rows_roll_back_to_zero(monkeypatch):
    import sparsopt.solvers.coding.omp as omp_module

    real = omp_module.get_kernel

    def nan_kernel(op, backend):
        kernel = real(op, backend)

        def run(G, B, norms_sq, cap, tol, out):
            na, sr, rs = kernel(G, B, norms_sq, cap, tol, out)
            out[0] = np.nan
            return na, sr, rs

        return run

    X, D, _ = make_sparse_coding_problem(6, 20, 40, 3, noise=0.0, random_state=0)
    monkeypatch.setattr(omp_module, "get_kernel", nan_kernel)
    with pytest.warns(NonFiniteIterateWarning):
        res = omp(X, D, n_nonzero_coefs=3)
    assert res.info["n_nonfinite"] == 1 and np.all(res.x[0] == 0)
    assert res.info["n_active"][0] == 0 and res.stopped_by == "finite"
    np.testing.assert_allclose(res.info["residual_sq"][0], X[0] @ X[0])
    assert np.all(np.isfinite(res.x))
