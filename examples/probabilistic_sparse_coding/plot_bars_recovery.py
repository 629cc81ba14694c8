"""
=========================================================
Bars recovery by binary sparse coding over EM iterations
=========================================================

The bars test (Földiák 1990; spec of :func:`~sparsopt.datasets.make_bars`): each 5 x 5
image is the sum of a few of the 10 horizontal and vertical bars of height 10, each bar
present with probability 0.2, plus Gaussian noise of standard deviation 2. Binary sparse
coding (BSC) has exactly this generative model, so truncated EM should find the 10 bars,
the prior :math:`\\pi = 0.2` and the noise level :math:`\\sigma = 2` from the images
alone.

We run :func:`~sparsopt.decomposition.bsc_em` (the function behind
:class:`~sparsopt.decomposition.BinarySparseCoding`) with ProSper's annealing schedule
(``anneal="default"``: the temperature falls from 5 to 1 over the first 80% of the
iterations, the data truncation factor rises from 0 to 1 over the first two thirds) and
a callback that keeps a copy of the atoms at a few iterations.
"""

# %%
# Data and truncated EM with a callback
# -------------------------------------

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment

from sparsopt.datasets import make_bars
from sparsopt.decomposition import bsc_em

X, W_true, S_true = make_bars(1000, size=5, random_state=0)
print(X.shape, W_true.shape, "mean bars per image:", S_true.sum(axis=1).mean())

n_iter = 150
shown = [1, 10, 30, 60, 100, n_iter]
snapshots, prior, noise = {}, [], []


def keep(state):
    prior.append(state.info["prior"])
    noise.append(state.info["noise_std"])
    if state.iteration in shown:
        snapshots[state.iteration] = np.array(state.x, copy=True)


W, res = bsc_em(X, 10, n_preselect=8, max_active=5, max_iter=n_iter, anneal="default",
                random_state=0, callback=keep)
shown[-1] = res.n_iter  # EM may stop early once the log-likelihood no longer changes
snapshots[res.n_iter] = W  # the returned atoms, after the last iteration
print(f"{res.n_iter} EM iterations ({res.stopped_by})")
print(f"pi = {res.prior:.3f} (true 0.2), sigma = {res.noise_std:.3f} (true 2)")

# %%
# The learned atoms, matched to the true bars
# -------------------------------------------
# The atoms come out in any order; we match them to the bars by the Hungarian algorithm
# on the mean absolute pixel error and show them in the bars' order.


def match(W_est):
    cost = np.abs(W_true[:, None, :] - W_est[None, :, :]).mean(axis=2)
    rows, cols = linear_sum_assignment(cost)
    return W_est[cols], cost[rows, cols]


fig, axes = plt.subplots(len(shown) + 1, 10, figsize=(8, 1.0 * (len(shown) + 1)))
for j in range(10):
    axes[0, j].imshow(W_true[j].reshape(5, 5), cmap="gray", vmin=0, vmax=10)
axes[0, 0].set_ylabel("truth", rotation=0, ha="right", va="center")
for i, it in enumerate(shown, start=1):
    W_it, err = match(snapshots[it])
    for j in range(10):
        axes[i, j].imshow(W_it[j].reshape(5, 5), cmap="gray", vmin=0, vmax=10)
    axes[i, 0].set_ylabel(f"it {it}\nMAE {err.max():.2f}", rotation=0, ha="right",
                          va="center", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("BSC atoms over EM iterations (MAE: worst bar, per pixel)")
fig.tight_layout()

W_final, err = match(W)
print("per-bar mean absolute error:", np.round(err, 3))

# %%
# Prior, noise level and log-likelihood
# -------------------------------------
# While the temperature is above 1 the posterior is flattened and the parameters wander;
# once it reaches 1 (at 80% of the iterations) they settle at the generating values.
# The monitored log-likelihood is the truncated one, annealed while :math:`T > 1`.

fig, axes = plt.subplots(1, 3, figsize=(11, 3))
it = np.arange(1, len(prior) + 1)
axes[0].plot(it, prior)
axes[0].axhline(0.2, color="k", ls="--", lw=1)
axes[0].set(title=r"prior $\pi$", xlabel="EM iteration")
axes[1].plot(it, noise)
axes[1].axhline(2.0, color="k", ls="--", lw=1)
axes[1].set(title=r"noise $\sigma$", xlabel="EM iteration")
curve = res.log_likelihood_curve
axes[2].plot(np.arange(1, len(curve) + 1), curve)
axes[2].set(title="log-likelihood per image", xlabel="EM iteration")
for ax in axes:
    ax.axvline(0.8 * n_iter, color="C7", lw=1, ls=":")
fig.tight_layout()
plt.show()
