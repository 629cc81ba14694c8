"""Online EM (``partial_fit``) and residual preselection of BSC / GSC."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from sparsopt.datasets import make_bars
from sparsopt.decomposition import (
    BinarySparseCoding,
    GaussianSparseCoding,
    LinearAnnealing,
    truncated_estep,
)


@pytest.mark.parametrize("cls", [BinarySparseCoding, GaussianSparseCoding])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_first_partial_fit_is_one_em_iteration(cls, dtype):
    X, _, _ = make_bars(300, random_state=0)
    X = X.astype(dtype)
    a = cls(10, n_preselect=6, max_active=3, n_iter=1, random_state=0).fit(X)
    b = cls(10, n_preselect=6, max_active=3, n_iter=1, random_state=0).partial_fit(X)
    assert b.components_.dtype == dtype
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.noise_std_ == b.noise_std_
    np.testing.assert_array_equal(a.prior_, b.prior_)
    assert b.n_steps_ == 1


def _stream_bsc(seed, n_batches=600, batch=200):
    est = BinarySparseCoding(10, n_preselect=8, max_active=5, n_iter=150, anneal="default",
                             random_state=seed)
    rng = np.random.RandomState(seed)
    for _ in range(n_batches):
        Xb, W_true, _ = make_bars(batch, 5, random_state=rng)
        est.partial_fit(Xb)
    cost = np.abs(W_true[:, None, :] - est.components_[None]).mean(-1)
    mae = cost[linear_sum_assignment(cost)].max()
    return est, (abs(est.prior_ - 0.2) < 0.01 and abs(est.noise_std_ - 2.0) < 0.05
                 and mae < 0.25)


def test_partial_fit_learns_bars_from_a_stream():
    """Mini-batches of 200 fresh bars samples: the annealing runs over the first 150
    calls, the running statistics then settle on the T2a tolerances."""
    results = [_stream_bsc(seed) for seed in range(3)]
    assert sum(ok for _, ok in results) >= 2, [ok for _, ok in results]
    assert all(est.n_steps_ == 600 for est, _ in results)


def test_partial_fit_continues_fit():
    X, _, _ = make_bars(400, random_state=1)
    est = BinarySparseCoding(10, n_preselect=6, max_active=3, n_iter=5,
                             random_state=0).fit(X)
    W = est.components_.copy()
    est.partial_fit(X[:100])
    assert est.n_steps_ == 6 and est.log_likelihood_curve_.shape == (6,)
    assert not np.array_equal(W, est.components_)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:10, :5])


def test_learning_decay_is_validated():
    X, _, _ = make_bars(50, random_state=0)
    with pytest.raises(ValueError, match="learning_decay"):
        BinarySparseCoding(10, learning_decay=0.4).partial_fit(X)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_residual_preselection_covers_more_true_supports(seed):
    """GSC bars at the ground truth: about 3.3 % of the points have more than γ bars (no
    preselection can cover them); singleton scores lose the true support of about 9 %
    more (a weakly active bar loses to inactive bars crossing a strong one), matching
    pursuit of about 3 %: it at least halves the preselection's misses."""
    X, W, S = make_bars(2000, 5, model="spike_and_slab", random_state=seed)
    H, gamma = 10, 4
    kw = dict(model="gsc", prior=np.full(H, 0.2), noise_std=1.0, n_preselect=7,
              max_active=gamma, slab_mean=np.ones(H), slab_var=np.ones(H))
    support = S != 0
    bound = np.mean(support.sum(axis=1) <= gamma)

    def coverage(cand):
        inside = np.zeros_like(support)
        np.put_along_axis(inside, cand, True, axis=1)
        return np.mean(~(support & ~inside).any(axis=1) & (support.sum(axis=1) <= gamma))

    single = coverage(truncated_estep(X, W, **kw).cand)
    resid = coverage(truncated_estep(X, W, preselection="residual", **kw).cand)
    assert bound - resid < 0.5 * (bound - single), (bound, single, resid)
    with pytest.raises(ValueError, match="preselection"):
        truncated_estep(X[:3], W, preselection="greedy", **kw)


def test_default_gsc_schedule_ends_with_residual_preselection():
    X, _, _ = make_bars(200, model="spike_and_slab", random_state=0)
    kw = dict(n_preselect=5, max_active=3, n_iter=10, anneal="default", random_state=0)
    assert GaussianSparseCoding(10, **kw).fit(X).preselection_ == "residual"
    assert GaussianSparseCoding(10, prosper_compat=True, **kw).fit(X).preselection_ \
        == "singleton"
    assert BinarySparseCoding(10, **kw).fit(X).preselection_ == "singleton"
    a = LinearAnnealing(residual_from=-2)
    assert [a(i, 10)["preselection"] for i in (7, 8)] == ["singleton", "residual"]
    with pytest.raises(ValueError, match="residual_from"):
        LinearAnnealing(residual_from="late")
