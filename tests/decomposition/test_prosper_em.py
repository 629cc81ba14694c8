"""Truncated EM of BSC/GSC: M-steps, annealing, estimators, errors, float32."""

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from sparsopt.datasets import make_bars
from sparsopt.decomposition import (
    BinarySparseCoding,
    GaussianSparseCoding,
    LinearAnnealing,
    bsc_em,
    gsc_em,
    truncation_moments,
)
from sparsopt.decomposition._prosper_em import truncation_moments_per_unit
from sparsopt.exceptions import ConvergenceWarning


def _bsc_loglik(X, W, pi, sigma):
    H, D = W.shape
    S = np.array(list(itertools.product([0, 1], repeat=H)), dtype=float)
    lj = (S.sum(1) * math.log(pi) + (H - S.sum(1)) * math.log1p(-pi)
          - 0.5 * D * math.log(2 * math.pi * sigma**2)
          - ((X[:, None, :] - S @ W) ** 2).sum(-1) / (2 * sigma**2))
    return logsumexp(lj, axis=1)


def test_truncation_moments_match_enumeration():
    H, g, pi = 6, 3, 0.27
    S = np.array(list(itertools.product([0, 1], repeat=H)))
    k = S.sum(1)
    p = pi**k * (1 - pi) ** (H - k)
    A, B = truncation_moments(pi, H, g)
    assert A == pytest.approx(p[k <= g].sum())
    assert B == pytest.approx((k * p)[k <= g].sum())
    pis = np.linspace(0.1, 0.6, H)
    p = np.prod(np.where(S == 1, pis, 1 - pis), axis=1)
    A, Bh = truncation_moments_per_unit(pis, g)
    assert A == pytest.approx(p[k <= g].sum())
    np.testing.assert_allclose(Bh, (S * p[:, None])[k <= g].sum(0))


def test_bsc_exact_em_increases_the_likelihood():
    """With γ = H' = H and no annealing the truncated EM is exact EM: the exact
    log-likelihood (the monitored curve) never decreases, and equals it."""
    X, _, _ = make_bars(80, 2, random_state=0)
    W, res = bsc_em(X, 4, n_preselect=4, max_active=4, max_iter=15, random_state=0)
    curve = res.log_likelihood_curve
    assert np.all(np.diff(curve) >= -1e-9)
    ll = _bsc_loglik(X, W, res.prior, res.noise_std).mean()
    assert ll >= curve[-1] - 1e-9


def test_gsc_exact_em_increases_the_likelihood():
    X, _, _ = make_bars(80, 2, model="spike_and_slab", random_state=0)
    _, res = gsc_em(X, 4, n_preselect=4, max_active=4, max_iter=15, random_state=0)
    assert np.all(np.diff(res.log_likelihood_curve) >= -1e-8)


def test_bsc_mstep_is_the_weighted_least_squares_solution():
    """One exact EM step: W solves Σ⟨ssᵀ⟩ W = Σ⟨s⟩xᵀ, π = mean⟨|s|⟩/H, σ² the mean
    expected residual at the new W."""
    X, _, _ = make_bars(50, 2, random_state=1)
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((4, 4)) * 3
    init = dict(components=W0, prior=0.3, noise_std=1.5)
    W1, res = bsc_em(X, 4, n_preselect=4, max_active=4, max_iter=1, init=init)
    S = np.array(list(itertools.product([0, 1], repeat=4)), dtype=float)
    lj = S.sum(1) * math.log(0.3 / 0.7) - ((X[:, None] - S @ W0) ** 2).sum(-1) / (2 * 1.5**2)
    q = np.exp(lj - logsumexp(lj, axis=1, keepdims=True))
    Ess = np.einsum("ns,sh,sk->hk", q, S, S)
    W = np.linalg.solve(Ess, (q @ S).T @ X)
    np.testing.assert_allclose(W1, W, rtol=1e-8)
    assert res.prior == pytest.approx((q @ S).sum() / (50 * 4))
    r = np.einsum("ns,ns->", q, ((X[:, None] - S @ W) ** 2).sum(-1))
    assert res.noise_std == pytest.approx(math.sqrt(r / (50 * 4)))
    # prosper_compat: σ with the old W
    _, res_c = bsc_em(X, 4, n_preselect=4, max_active=4, max_iter=1, init=init,
                      prosper_compat=True)
    r0 = np.einsum("ns,ns->", q, ((X[:, None] - S @ W0) ** 2).sum(-1))
    assert res_c.noise_std == pytest.approx(math.sqrt(r0 / (50 * 4)))


def test_linear_annealing_schedule():
    a = LinearAnnealing(temperature=[(0, 5.0), (0.8, 1.0)],
                        ncut_factor=[(0, 0.0), (2 / 3, 1.0)], W_noise=[(0, 0.1), (-10, 0.0)])
    v = a(0, 100)
    assert (v["temperature"], v["ncut_factor"], v["W_noise"]) == (5.0, 0.0, 0.1)
    assert a(40, 100)["temperature"] == pytest.approx(3.0)
    assert a(95, 100)["temperature"] == 1.0 and a(95, 100)["ncut_factor"] == 1.0
    assert a(90, 100)["W_noise"] == 0.0 and a(45, 100)["W_noise"] == pytest.approx(0.05)
    assert LinearAnnealing.default("gsc")(0, 10)["temperature"] == 4.0
    with pytest.raises(ValueError, match="temperature"):
        LinearAnnealing(temperature="hot")


def test_annealing_with_noise_and_ncut_runs():
    X, _, _ = make_bars(100, 3, random_state=0)
    anneal = LinearAnnealing(temperature=[(0, 3.0), (0.5, 1.0)], ncut_factor=[(0, 0.0), (0.5, 1.0)],
                             W_noise=[(0, 0.5), (0.5, 0.0)], prior_noise=0.01,
                             noise_std_noise=0.01, anneal_prior=True)
    W, res = bsc_em(X, 6, n_preselect=4, max_active=3, max_iter=6, anneal=anneal,
                    random_state=0)
    assert np.isfinite(W).all() and 0 < res.prior < 1 and res.noise_std > 0
    assert [r["temperature"] for r in res.history][:2] == pytest.approx([3.0, 7 / 3])


def test_tol_stops_early_and_warns_otherwise():
    X, _, _ = make_bars(100, 3, random_state=0)
    _, res = bsc_em(X, 6, n_preselect=4, max_active=2, max_iter=200, tol=1e-3, random_state=0)
    assert res.converged and res.n_iter < 200
    with pytest.warns(ConvergenceWarning):
        bsc_em(X, 6, n_preselect=4, max_active=2, max_iter=2, tol=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bsc_em(X, 6, n_preselect=4, max_active=2, max_iter=2, random_state=0)


@pytest.mark.parametrize("Est", [BinarySparseCoding, GaussianSparseCoding])
def test_estimator_float32_and_outputs(Est):
    X, _, _ = make_bars(120, 3, random_state=0)
    X32 = X.astype(np.float32)
    est = Est(6, n_preselect=4, max_active=2, n_iter=5, random_state=0).fit(X32)
    assert est.components_.dtype == np.float32
    Z = est.transform(X32)
    assert Z.dtype == np.float32 and Z.shape == (120, 6)
    assert est.inverse_transform(Z).shape == X.shape
    s = est.score_samples(X32)
    assert s.shape == (120,) and np.isfinite(s).all()
    assert est.score(X32) == pytest.approx(s.mean())
    assert est.log_likelihood_curve_.shape == (5,) and est.n_iter_ == 5
    states, probs, marg = est.inference(X32[:7], n_top=3)
    assert states.shape == (7, 3, 6) and probs.shape == (7, 3) and marg.shape == (7, 6)
    assert np.all(np.diff(probs, axis=1) <= 1e-6) and np.all(probs.sum(1) <= 1 + 1e-5)
    assert list(est.get_feature_names_out())[:2] == [f"{Est.__name__.lower()}{i}"
                                                   for i in range(2)]


def test_bsc_score_and_inference_are_exact_without_truncation():
    X, _, _ = make_bars(60, 2, random_state=2)
    est = BinarySparseCoding(4, n_preselect=4, max_active=4, n_iter=5, random_state=0).fit(X)
    exact = _bsc_loglik(X, est.components_, est.prior_, est.noise_std_)
    np.testing.assert_allclose(est.score_samples(X), exact, rtol=1e-10)
    states, probs, marg = est.inference(X, n_top=16)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(np.einsum("nt,nth->nh", probs, states), marg, atol=1e-10)
    np.testing.assert_allclose(marg, est.transform(X), atol=1e-12)
    states_b, probs_b, _ = est.set_params(block_size=7).inference(X, n_top=16)
    np.testing.assert_allclose(probs_b, probs, rtol=1e-12)
    np.testing.assert_array_equal(states_b, states)


def test_gsc_inference_matches_the_estep():
    X, _, _ = make_bars(30, 2, model="spike_and_slab", random_state=2)
    est = GaussianSparseCoding(4, n_preselect=4, max_active=4, n_iter=4,
                               random_state=0).fit(X)
    states, probs, marg = est.inference(X, n_top=16)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-8)
    np.testing.assert_allclose(np.einsum("nt,nth->nh", probs, states), marg, atol=1e-8)


def test_gsc_prosper_compat_changes_the_fit():
    X, _, _ = make_bars(60, 2, model="spike_and_slab", random_state=0)
    a = GaussianSparseCoding(4, n_preselect=3, max_active=2, n_iter=3, random_state=0).fit(X)
    b = GaussianSparseCoding(4, n_preselect=3, max_active=2, n_iter=3, random_state=0,
                             prosper_compat=True).fit(X)
    assert not np.allclose(a.components_, b.components_)


@pytest.mark.parametrize("Est", [BinarySparseCoding, GaussianSparseCoding])
def test_bad_input_is_named(Est):
    X, _, _ = make_bars(20, 2, random_state=0)
    with pytest.raises(ValueError, match="n_preselect"):
        Est(3, n_preselect=4, max_active=2).fit(X)
    with pytest.raises(ValueError, match="max_active"):
        Est(4, n_preselect=2, max_active=3).fit(X)
    with pytest.raises(ValueError, match="n_components"):
        Est(0).fit(X)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est(4, n_preselect=2, max_active=2).fit(Xn)
    with pytest.raises(ValueError, match="n_top"):
        Est(4, n_preselect=2, max_active=2, n_iter=1).fit(X).inference(X, n_top=0)


def test_em_functions_name_bad_arguments():
    X, _, _ = make_bars(20, 2, random_state=0)
    with pytest.raises(ValueError, match="n_preselect"):
        bsc_em(X, 3, n_preselect=4, max_active=2)
    with pytest.raises(ValueError, match="max_active"):
        gsc_em(X, 4, n_preselect=2, max_active=3)
    with pytest.raises(ValueError, match="max_iter"):
        bsc_em(X, 4, n_preselect=2, max_active=2, max_iter=0)
    with pytest.raises(ValueError, match="infinity"):
        bsc_em(np.full((3, 4), np.inf), 2, n_preselect=2, max_active=1)
    with pytest.raises(ValueError, match="anneal"):
        bsc_em(X, 4, n_preselect=2, max_active=2, anneal="fast")
    with pytest.raises(ValueError, match="init"):
        bsc_em(X, 4, n_preselect=2, max_active=2, init={"components": np.ones((2, 2))})


def test_make_bars():
    X, W, S = make_bars(500, 4, random_state=0)
    assert X.shape == (500, 16) and W.shape == (8, 16) and S.shape == (500, 8)
    assert abs(S.mean() - 0.25) < 0.03
    np.testing.assert_array_equal(W.reshape(8, 4, 4)[0, 0], 10.0)
    np.testing.assert_array_equal(W.reshape(8, 4, 4)[4, :, 0], 10.0)
    _, _, S2 = make_bars(300, model="spike_and_slab", prior=0.5, random_state=0)
    assert np.any((S2 != 0) & (S2 != 1))
    with pytest.raises(ValueError, match="prior"):
        make_bars(10, prior=1.5)
    with pytest.raises(ValueError, match="model"):
        make_bars(10, model="ternary")


def test_tol_none_runs_every_iteration_and_callback_sees_each():
    # regression: with tol=None the run stopped (stopped_by="tol") at the first iteration
    # whose log-likelihood change was exactly 0, and the callback missed that iteration
    X, _, _ = make_bars(300, random_state=0)
    calls = []
    _, res = bsc_em(X, 10, n_preselect=6, max_active=3, max_iter=150, anneal="default",
                    random_state=0, callback=lambda s: calls.append(s.iteration))
    assert res.n_iter == 150 and res.stopped_by == "max_iter" and not res.converged
    assert calls == list(range(1, 151))
    assert len(res.log_likelihood_curve) == 150


def test_callback_called_at_the_iteration_that_meets_tol():
    X, _, _ = make_bars(100, 3, random_state=0)
    calls = []
    _, res = bsc_em(X, 6, n_preselect=4, max_active=2, max_iter=200, tol=1e-3, random_state=0,
                    callback=lambda s: calls.append(s.iteration))
    assert res.converged and res.stopped_by == "tol" and res.n_iter < 200
    assert calls == list(range(1, res.n_iter + 1))
    assert len(res.log_likelihood_curve) == res.n_iter


def test_mstep_solve_cholesky_and_singular_fallback():
    from sparsopt.decomposition._prosper_em import _lstsq_rows

    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 6))
    M, R = A.T @ A, rng.standard_normal((6, 4))
    np.testing.assert_allclose(_lstsq_rows(M, R), np.linalg.solve(M, R), rtol=1e-10)
    # more columns than rows, well conditioned: through the inverse from the factor
    Rw = rng.standard_normal((6, 50))
    np.testing.assert_allclose(_lstsq_rows(M, Rw), np.linalg.solve(M, Rw), rtol=1e-10)
    # ill conditioned (cond ~ 1e8): the triangular solves
    U = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    Mi = (U * np.logspace(0, -8, 6)) @ U.T
    np.testing.assert_allclose(_lstsq_rows(Mi, Rw), np.linalg.solve(Mi, Rw), rtol=1e-6)
    M[3, :] = M[:, 3] = 0.0  # a unit never active: singular, answered by least squares
    np.testing.assert_allclose(_lstsq_rows(M, R), np.linalg.lstsq(M, R, rcond=None)[0],
                               atol=1e-10)


def test_mstep_xt_product_sparse_and_dense_paths():
    from sparsopt.decomposition._prosper_em import _xt_dot

    rng = np.random.default_rng(0)
    X, w = rng.standard_normal((40, 7)), (rng.random(40) < 0.7).astype(float)
    for density in (0.05, 0.9):  # the kernel below 25% nonzeros, BLAS above
        E = np.where(rng.random((40, 5)) < density, rng.random((40, 5)), 0.0)
        for engine in ("numba", "numpy"):
            np.testing.assert_allclose(_xt_dot(X, E, w, engine), X.T @ (E * w[:, None]),
                                       rtol=1e-12, atol=1e-12)
