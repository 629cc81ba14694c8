"""Truncated E-step of BSC/GSC: exact posterior when γ = H' = H, blocks, threads, dtypes."""

import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from sparsopt.datasets import make_bars
from sparsopt.decomposition import preselect, state_combinations, truncated_estep
from sparsopt.decomposition._prosper_estep import n_states

ENGINES = ["numpy", "numba"]


def _problem(H=5, D=6, n=12, seed=0):
    rng = np.random.default_rng(seed)
    W = 2.0 * rng.standard_normal((H, D))
    S = (rng.random((n, H)) < 0.3).astype(float)
    X = S @ W + rng.standard_normal((n, D))
    return X, W


def _all_states(H):
    return np.array(list(itertools.product([0, 1], repeat=H)), dtype=float)


def _exact_bsc(X, W, pi, sigma):
    S = _all_states(W.shape[0])
    H, D = W.shape
    lj = (S.sum(1) * math.log(pi) + (H - S.sum(1)) * math.log1p(-pi)
          - 0.5 * D * math.log(2 * math.pi * sigma**2)
          - ((X[:, None, :] - S @ W) ** 2).sum(-1) / (2 * sigma**2))
    lz = logsumexp(lj, axis=1)
    q = np.exp(lj - lz[:, None])
    return lz, q @ S, np.einsum("ns,sh,sk->hk", q, S, S)


def _exact_gsc(X, W, pi, mu, psi2, sigma2):
    S = _all_states(W.shape[0])
    D = W.shape[1]
    lj = np.empty((X.shape[0], len(S)))
    for t, s in enumerate(S):
        A = s.astype(bool)
        C = sigma2 * np.eye(D) + W[A].T @ np.diag(psi2[A]) @ W[A]
        lj[:, t] = multivariate_normal(W[A].T @ mu[A], C).logpdf(X) \
            + (np.log(pi) * s + np.log1p(-pi) * (1 - s)).sum()
    return logsumexp(lj, axis=1)


def test_state_combinations_count_and_order():
    c = state_combinations(5, 3)
    assert c.shape == (math.comb(5, 2) + math.comb(5, 3), 3)
    assert (c[:10, 2] == -1).all() and (c[10:] >= 0).all()
    assert n_states(10, 8, 5) == 1 + 10 + sum(math.comb(8, k) for k in range(2, 6))
    assert state_combinations(4, 1).shape == (0, 1)


def test_preselect_takes_the_largest_scores():
    s = np.array([[0.1, 0.9, 0.5, 0.7], [4.0, 3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(preselect(s, 2), [[1, 3], [0, 1]])
    np.testing.assert_array_equal(preselect(s, 4), [[0, 1, 2, 3]] * 2)
    # ties go to the lower unit, NaN counts as -inf
    t = np.array([[1.0, 2.0, 2.0, 2.0], [np.nan, -np.inf, 0.0, np.nan]])
    for engine in ENGINES:
        np.testing.assert_array_equal(preselect(t, 2, engine=engine), [[1, 2], [0, 2]])


@pytest.mark.parametrize("engine", ENGINES)
def test_bsc_estep_is_exact_when_nothing_is_truncated(engine):
    X, W = _problem()
    H, D = W.shape
    pi, sigma = 0.3, 1.3
    e = truncated_estep(X, W, prior=pi, noise_std=sigma, n_preselect=H, max_active=H,
                        engine=engine)
    lz, es, ess = _exact_bsc(X, W, pi, sigma)
    const = H * math.log1p(-pi) - 0.5 * D * math.log(2 * math.pi * sigma**2)
    np.testing.assert_allclose(e.logz + const, lz, rtol=1e-10)
    np.testing.assert_allclose(e.es, es, atol=1e-12)
    np.testing.assert_allclose(e.second_moment(), ess, atol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_gsc_estep_is_exact_when_nothing_is_truncated(engine):
    X, W = _problem(H=4, D=5)
    H = W.shape[0]
    rng = np.random.default_rng(1)
    pi, mu, psi2 = rng.uniform(0.1, 0.6, H), rng.normal(1, 0.5, H), rng.uniform(0.3, 2, H)
    sigma2 = 0.8
    e = truncated_estep(X, W, model="gsc", prior=pi, noise_std=math.sqrt(sigma2),
                        n_preselect=H, max_active=H, slab_mean=mu, slab_var=psi2,
                        engine=engine)
    np.testing.assert_allclose(e.logz, _exact_gsc(X, W, pi, mu, psi2, sigma2), rtol=1e-10)
    # slab moments are consistent (Cauchy-Schwarz) and the second moment is PSD
    assert np.all(e.esz2 * e.es >= e.esz**2 - 1e-9)
    M = e.second_moment()
    np.testing.assert_allclose(M, M.T)
    assert np.linalg.eigvalsh(M).min() > -1e-8


def test_truncation_keeps_the_singletons_and_lowers_the_evidence():
    X, W = _problem(H=6)
    full = truncated_estep(X, W, prior=0.3, noise_std=1.0, n_preselect=6, max_active=6)
    trunc = truncated_estep(X, W, prior=0.3, noise_std=1.0, n_preselect=3, max_active=2)
    assert np.all(trunc.logz <= full.logz + 1e-10)
    assert np.all((trunc.es >= 0) & (trunc.es <= 1 + 1e-12))
    assert trunc.cand.shape == (X.shape[0], 3)


@pytest.mark.parametrize("model", ["bsc", "gsc"])
def test_blocks_threads_and_engines_agree(model):
    X, W = _problem(H=6, n=37)
    kw = dict(model=model, noise_std=1.2, n_preselect=4, max_active=3)
    if model == "gsc":
        kw.update(prior=np.full(6, 0.3), slab_mean=np.ones(6), slab_var=np.ones(6))
    else:
        kw.update(prior=0.3)
    ref = truncated_estep(X, W, engine="numpy", **kw)
    for bs, nj in ((5, 1), (37, None), (8, 2)):
        e = truncated_estep(X, W, block_size=bs, n_jobs=nj, engine="numba", **kw)
        np.testing.assert_allclose(e.logz, ref.logz, rtol=1e-10)
        np.testing.assert_allclose(e.es, ref.es, atol=1e-12)
        np.testing.assert_allclose(e.ecc, ref.ecc, atol=1e-12)


@pytest.mark.parametrize("model", ["bsc", "gsc"])
def test_float32_stays_float32_and_is_close(model):
    X, W, _ = make_bars(40, random_state=0)
    kw = dict(model=model, noise_std=2.0, n_preselect=6, max_active=3)
    if model == "gsc":
        kw.update(prior=np.full(10, 0.2), slab_mean=np.ones(10), slab_var=np.ones(10))
    else:
        kw.update(prior=0.2)
    e64 = truncated_estep(X, W, **kw)
    e32 = truncated_estep(X.astype(np.float32), W.astype(np.float32), **kw)
    assert e32.es.dtype == np.float32 and e32.logz.dtype == np.float32
    np.testing.assert_allclose(e32.es, e64.es, atol=1e-3)
    np.testing.assert_allclose(e32.logz, e64.logz, rtol=1e-4)


def test_temperature_flattens_the_posterior():
    X, W = _problem()
    cold = truncated_estep(X, W, prior=0.3, noise_std=0.5, n_preselect=5, max_active=5)
    hot = truncated_estep(X, W, prior=0.3, noise_std=0.5, n_preselect=5, max_active=5,
                          temperature=50.0)
    ent = [-(np.clip(e.es, 1e-12, 1) * np.log(np.clip(e.es, 1e-12, 1))).sum() for e in
           (cold, hot)]
    assert ent[1] > ent[0]


@pytest.mark.parametrize("model", ["bsc", "gsc"])
def test_numba_flushes_tiny_posteriors_to_zero(model):
    # sharp posteriors (little noise): the states far from the data point have posteriors
    # far below 1e-30 of the best one; the kernel sets them to 0 instead of leaving
    # subnormal numbers (which slow down the M-step's products)
    X, W, _ = make_bars(200, random_state=0)
    kw = dict(slab_mean=np.ones(10), slab_var=np.full(10, 0.1)) if model == "gsc" else {}
    prior = np.full(10, 0.2) if model == "gsc" else 0.2
    e = truncated_estep(X, W, model=model, prior=prior, noise_std=0.3, n_preselect=6,
                        max_active=3, engine="numba", **kw)
    ref = truncated_estep(X, W, model=model, prior=prior, noise_std=0.3, n_preselect=6,
                          max_active=3, engine="numpy", **kw)
    for a in (e.es, e.ecc) + ((e.esz, e.esz2) if model == "gsc" else ()):
        nz = np.abs(a[a != 0])
        assert nz.size and nz.min() >= np.finfo(a.dtype).tiny
    assert (e.es == 0).mean() > 0.5
    np.testing.assert_allclose(e.es, ref.es, atol=1e-25)
    np.testing.assert_allclose(e.logz, ref.logz, rtol=1e-12)


def test_numba_bsc_kernel_any_order_of_supports():
    # the kernel extends each support's prefix; rows given in another order than
    # state_combinations' (parents after children) are summed from scratch instead
    from sparsopt.backends import dispatch

    rng = np.random.default_rng(0)
    H, D, n, Hp, g = 9, 7, 20, 6, 4
    W, Y = rng.standard_normal((H, D)), rng.standard_normal((n, D))
    cand = np.sort(np.argsort(rng.random((n, H)), axis=1)[:, :Hp], axis=1).astype(np.int64)
    combos = state_combinations(Hp, g)
    combos = combos[rng.permutation(len(combos))].copy()
    outs = {}
    for eng in ENGINES:
        outs[eng] = [np.empty(n), np.empty((n, H)), np.empty((n, Hp, Hp))]
        dispatch("prosper_bsc_estep", Y @ W.T, np.einsum("ij,ij->i", Y, Y), W @ W.T, cand,
                 combos, -1.0, 1.0, 0.7, 1.3, *outs[eng], engine=eng)
    for a, b in zip(outs["numpy"], outs["numba"]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
