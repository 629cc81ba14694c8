"""Reproductions of the ProSper bars tests (spec section 2(d)): T2a (BSC) and T2b (GSC).

T2a runs at the spec's full size (N = 1000, H = 10, H' = 8, γ = 5, 150 EM steps, ProSper's
annealing: T 5 → 1 at 80 %, N_cut factor 0 → 1 at 2/3) with the spec's pass criteria:
|π - 0.2| < 0.01, |σ - 2| < 0.05 and every bar matched (Hungarian) with per-pixel
MAE < 0.25, in at least 4 of 5 seeds (about 1.5 s per seed with the Numba E-step).

T2b runs at the spec's GSC defaults (N = 10000, H' = 7, γ = 4, 150 steps, T 4 → 1 at
80 %, N_cut 0 → 1 at 2/3, and sparsopt's switch to residual preselection at 80 %) and
judges as T2a does (at least 4 of 5 seeds) with the spec's tolerances: |σ² - 1| < 0.1,
every bar matched with MAE < 0.25 and |μ_h - 1| < 0.1, ``π_h`` within 0.01.

* Only ``μ_h W_h`` and ``ψ_h/μ_h`` are identifiable (``W_h → c W_h``, ``z_h → z_h/c``
  leaves the model unchanged): the bars are judged on ``μ_h W_h``, ``μ_h`` in the ground
  truth's scale of ``W_h`` (``|μ_h| ||W_h|| / ||W_true,h||``) and ``ψ_h/μ_h`` against 1.
* ``π_h`` is judged against the frequency of bar ``h`` in the sample (and the mean of
  ``π_h`` against 0.2): the sample's own frequencies miss 0.2 by more than 0.01 on 2 of
  these 5 seeds at N = 10000 (max 0.0113) and on all 5 at the spec's reduced N = 2000
  (0.012-0.026), so no estimator can meet ``|π_h - 0.2| < 0.01`` there.
* With singleton preselection throughout (the spec's rule, ``residual_from=None``),
  ``σ²`` is biased upwards: 1.08-1.18 at N = 2000 on seeds 1-5, the same when the EM
  starts at the ground truth, because 13 % of the points have a true support outside
  ``K_n`` (3.3 % expected from ``γ``) and the data truncation keeps most of them.
  Residual preselection in the last 20 % of the steps gives 0.98-1.00.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment

from sparsopt.datasets import make_bars
from sparsopt.decomposition import BinarySparseCoding, GaussianSparseCoding


def _match(W, W_true):
    """Per-bar MAE after Hungarian matching, and the matching (true bar -> unit)."""
    cost = np.abs(W_true[:, None, :] - W[None, :, :]).mean(-1)
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols], cols


def _t2a(seed):
    X, W_true, _ = make_bars(1000, 5, random_state=seed)
    est = BinarySparseCoding(10, n_preselect=8, max_active=5, n_iter=150, anneal="default",
                             random_state=seed).fit(X)
    mae, _ = _match(est.components_, W_true)
    return (abs(est.prior_ - 0.2) < 0.01 and abs(est.noise_std_ - 2.0) < 0.05
            and mae.max() < 0.25)


def test_t2a_bsc_bars():
    ok = [_t2a(seed) for seed in range(1, 6)]
    assert sum(ok) >= 4, ok


def _t2b(seed):
    X, W_true, S = make_bars(10000, 5, model="spike_and_slab", random_state=seed)
    est = GaussianSparseCoding(10, n_preselect=7, max_active=4, n_iter=150,
                               anneal="default", random_state=seed, n_jobs=2).fit(X)
    mae, cols = _match(est.components_ * est.slab_mean_[:, None], W_true)
    active = S != 0
    freq = active.mean(axis=0)                       # the sample's π_h
    pi = est.prior_[cols]
    mu = np.abs(est.slab_mean_[cols]) * (np.linalg.norm(est.components_[cols], axis=1)
                                         / np.linalg.norm(W_true, axis=1))
    cv = est.slab_std_[cols] / np.abs(est.slab_mean_[cols])
    return (abs(est.noise_std_**2 - 1.0) < 0.1
            and mae.max() < 0.25
            and np.abs(pi - freq).max() < 0.01 and abs(pi.mean() - 0.2) < 0.01
            and np.abs(mu - 1.0).max() < 0.1
            and np.abs(cv - 1.0).max() < 0.1)


def test_t2b_gsc_bars():
    ok = [_t2b(seed) for seed in range(1, 6)]
    assert sum(ok) >= 4, ok
