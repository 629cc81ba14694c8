"""altmin_complete and soft_impute: recovery, options, float32, bad input, the loop."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sparsopt.completion import CompletionResult, altmin_complete, soft_impute
from sparsopt.datasets import make_low_rank_completion
from sparsopt.exceptions import ConvergenceWarning


def _problem(m=120, n=100, k=3, density=0.3, noise=0.0, seed=0, **kw):
    X, U, V = make_low_rank_completion(m, n, k, density=density, noise=noise,
                                       random_state=seed, **kw)
    return X, U @ V.T


def _relerr(res, M):
    return np.linalg.norm(res.U @ res.V.T - M) / np.linalg.norm(M)


@pytest.mark.parametrize("solver", ["normal", "sketch"])
def test_exact_recovery_sparse_input(solver):
    X, M = _problem()
    res = altmin_complete(X, 3, solver=solver, random_state=0)
    assert isinstance(res, CompletionResult)
    assert res.converged and res.info["solver"] == solver
    assert _relerr(res, M) < 1e-8
    assert res.stop_crit <= 1e-10 or res.stopped_by == "tol_change"
    U, V = res.x
    assert U is res.U and V is res.V


def test_dense_nan_input_gives_the_same_completion():
    Xs, M = _problem()
    Xd = np.full(Xs.shape, np.nan)
    Xd[Xs.nonzero()] = Xs.data
    a = altmin_complete(Xs, 3, random_state=0)
    b = altmin_complete(Xd, 3, random_state=0)
    np.testing.assert_allclose(a.U @ a.V.T, b.U @ b.V.T, atol=1e-8)


def test_sketch_iterates_track_the_exact_ones():
    """The robustness claim in miniature: inexact (sketched) solves, same iterates."""
    X, M = _problem(200, 180, 4, density=0.25)
    kw = dict(random_state=0, max_iter=8, tol=0.0, tol_change=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ex = altmin_complete(X, 4, solver="normal", **kw)
        sk = altmin_complete(X, 4, solver="sketch", sketch_size=6, n_inner=4, **kw)
    e1 = [h["stop_crit"] for h in ex.history]
    e2 = [h["stop_crit"] for h in sk.history]
    np.testing.assert_allclose(e2, e1, rtol=0.05)


@pytest.mark.parametrize("sketch", ["countsketch", "gaussian"])
def test_sketch_kinds_converge(sketch):
    X, M = _problem(150, 120, 3, density=0.4)
    res = altmin_complete(X, 3, solver="sketch", sketch=sketch, sketch_size=8,
                          random_state=0)
    assert res.converged and _relerr(res, M) < 1e-7


def test_results_do_not_depend_on_threads_or_engine():
    X, _ = _problem(80, 70, 2, density=0.4)
    kw = dict(solver="sketch", sketch_size=4, random_state=0, max_iter=5, tol=0.0,
              tol_change=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = altmin_complete(X, 2, n_jobs=1, **kw)
        b = altmin_complete(X, 2, n_jobs=3, **kw)
        c = altmin_complete(X, 2, engine="numpy", **kw)
    np.testing.assert_array_equal(a.U, b.U)
    np.testing.assert_allclose(a.U @ a.V.T, c.U @ c.V.T, rtol=1e-8, atol=1e-8)


def test_float32_stays_float32():
    X, M = _problem(dtype=np.float32)
    res = altmin_complete(X, 3, random_state=0)
    assert res.U.dtype == np.float32 and res.V.dtype == np.float32
    assert res.converged and _relerr(res, M) < 1e-4


def test_noisy_data_stops_on_the_change_and_fits_to_the_noise_level():
    X, M = _problem(200, 150, 3, density=0.4, noise=0.1)
    res = altmin_complete(X, 3, random_state=0, tol_change=1e-9)
    assert res.converged and res.stopped_by == "tol_change"
    rmse = np.sqrt(np.mean((res.U @ res.V.T - M) ** 2))
    assert rmse < 0.1  # below the noise level on the whole matrix


def test_balanced_factors_and_singular_values():
    X, M = _problem()
    res = altmin_complete(X, 3, random_state=0)
    np.testing.assert_allclose(res.U.T @ res.U, res.V.T @ res.V, atol=1e-8)
    np.testing.assert_allclose(res.singular_values,
                               np.linalg.svd(M, compute_uv=False)[:3], rtol=1e-8)
    i, j = np.array([0, 5, 7]), np.array([3, 3, 9])
    np.testing.assert_allclose(res.predict(i, j), M[i, j], atol=1e-7)
    np.testing.assert_allclose(res.to_dense(), M, atol=1e-7)


def test_paper_mode_options_run():
    X, M = _problem(300, 300, 2, density=0.6)
    res = altmin_complete(X, 2, clip=True, orthonormalize_steps=True, random_state=0,
                          max_iter=30)
    assert _relerr(res, M) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = altmin_complete(X, 2, sample_splitting=True, max_iter=4, random_state=0)
    assert _relerr(split, M) < 0.1


def test_warm_start_from_a_result():
    X, M = _problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = altmin_complete(X, 3, random_state=0, max_iter=3)
    res = altmin_complete(X, 3, init=first, random_state=0)
    assert res.converged and _relerr(res, M) < 1e-8
    rnd = altmin_complete(X, 3, init="random", random_state=0, max_iter=200)
    assert rnd.converged


def test_underdetermined_rows_are_reported():
    X, _ = _problem(60, 50, 3, density=0.5)
    coo = X.tocoo()
    keep = (coo.row != 0) | (coo.col == 1)  # row 0 keeps a single observation < rank
    X = sp.csr_array((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=X.shape)
    with pytest.warns(UserWarning, match="fewer observed entries than rank"):
        res = altmin_complete(X, 3, random_state=0, max_iter=50, tol_change=1e-8)
    assert 0 in res.info["underdetermined_rows"]
    assert np.all(np.isfinite(res.U)) and np.all(np.isfinite(res.V))


def test_explicit_zeros_are_observations():
    """A stored zero of a sparse matrix is an observed zero, as a 0 in a dense array."""
    rows = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    cols = np.array([0, 1, 1, 2, 0, 2, 0, 1])
    vals = np.array([1.0, 2.0, 0.0, 0.0, 3.0, 0.0, 1.0, 2.0])
    X = sp.coo_array((vals, (rows, cols)), shape=(4, 3))
    D = np.full((4, 3), np.nan)
    D[rows, cols] = vals
    a = altmin_complete(X, 1, random_state=0, tol_change=1e-9)
    b = altmin_complete(D, 1, random_state=0, tol_change=1e-9)
    assert a.info["n_observed"] == b.info["n_observed"] == 8
    np.testing.assert_allclose(a.to_dense(), b.to_dense(), atol=1e-8)


def test_ill_posed_inputs_are_refused_with_clear_errors():
    X, _ = _problem(30, 20, 2, density=0.5)
    D = X.toarray()
    D[D == 0] = np.nan
    with pytest.raises(ValueError, match="rank=20 must be smaller"):
        altmin_complete(X, 20)
    with pytest.raises(ValueError, match="rank must be >= 1"):
        altmin_complete(X, -1)
    with pytest.raises(ValueError, match="rank must be >= 1"):
        altmin_complete(X, 0)
    with pytest.raises(TypeError, match="rank must be an integer"):
        altmin_complete(X, 2.5)
    with pytest.raises(ValueError, match="no observed entries"):
        altmin_complete(np.full((5, 4), np.nan), 1)
    bad = D.copy()
    bad[2, :] = np.nan
    with pytest.raises(ValueError, match=r"rows without any observed entry \(rows 2\)"):
        altmin_complete(bad, 1)
    bad = D.copy()
    bad[:, 3] = np.nan
    with pytest.raises(ValueError, match="columns without any observed entry"):
        altmin_complete(bad, 1)
    bad = D.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        altmin_complete(bad, 1)
    S = X.copy()
    S.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite stored values"):
        altmin_complete(S, 1)
    with pytest.raises(ValueError, match="solver"):
        altmin_complete(X, 2, solver="exact")
    with pytest.raises(ValueError, match="sketch must be"):
        altmin_complete(X, 2, sketch="srht")
    with pytest.raises(ValueError, match="sketch_size"):
        altmin_complete(X, 2, sketch_size=2)
    with pytest.raises(ValueError, match="init U must have shape"):
        altmin_complete(X, 2, init=np.ones((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        altmin_complete(np.ones(5), 1)
    with pytest.raises(TypeError, match="numeric"):
        altmin_complete(np.array([["a", "b"], ["c", "d"]]), 1)


def test_max_iter_warns_once_and_callback_stops():
    X, _ = _problem()
    with pytest.warns(ConvergenceWarning, match="relative observed residual"):
        res = altmin_complete(X, 3, random_state=0, max_iter=2)
    assert not res.converged and res.n_iter == 2
    seen = []
    res = altmin_complete(X, 3, random_state=0, callback=lambda s: seen.append(s) or True)
    assert res.stopped_by == "callback" and len(seen) == 1
    assert isinstance(seen[0].x, tuple)


def test_auto_rule_picks_normal_for_small_ranks():
    X, _ = _problem()
    assert altmin_complete(X, 3, random_state=0).info["solver"] == "normal"


def test_soft_impute_recovers_with_a_bias_floor():
    X, M = _problem(150, 120, 3, density=0.4)
    res = soft_impute(X, 5, alpha=1.0, tol=1e-8, random_state=0, max_iter=300)
    assert isinstance(res, CompletionResult) and res.converged
    assert res.info["n_nonzero_sv"] == 3
    err = _relerr(res, M)
    assert 1e-4 < err < 0.05  # shrinkage bias: it never reaches AltMin's 1e-8
    ref = soft_impute(X, 5, alpha=1.0, tol=1e-8, random_state=0, max_iter=300,
                      engine="numpy")
    np.testing.assert_allclose(ref.U @ ref.V.T, res.U @ res.V.T, atol=1e-6)


def test_soft_impute_default_alpha_and_float32():
    X, _ = _problem(dtype=np.float32)
    res = soft_impute(X, 4, random_state=0)
    assert res.U.dtype == np.float32
    assert res.info["alpha"] > 0
    with pytest.raises(ValueError, match="init"):
        soft_impute(X, 4, init="nope")
