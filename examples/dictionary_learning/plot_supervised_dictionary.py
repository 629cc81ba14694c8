"""
=====================================================
Supervised dictionary learning against PCA features
=====================================================

A dictionary learned to reconstruct the data keeps its directions of largest variance.
When the label depends on a direction of small variance, the codes on such a
dictionary carry little information about it, whatever the classifier that reads them.
Supervised dictionary learning (supervised matrix factorization, Lee, Lyu and Yao)
learns the atoms and a logistic model together: the objective adds the classification
loss to :math:`\\xi` times the reconstruction error, so a weak but discriminative
direction can win an atom.

On the synthetic problem of the spec (100 features, three strong directions, one weak
direction that drives the label, and an auxiliary covariate), we compare
:class:`~sparsopt.decomposition.SupervisedDictionaryLearning` with two atoms against a
logistic regression on the first two principal components, look at what the atoms
capture, vary :math:`\\xi`, and show why the lifted solver needs its block scaling.
"""

# %%
# The data
# --------
# Each sample is :math:`x = \sum_k s_k g_k q_k + 0.5\,\varepsilon`, with orthonormal
# directions :math:`q_1, \dots, q_4` in :math:`\mathbb{R}^{100}`, standard deviations
# :math:`s = (5, 4, 3, 0.6)`, standard Gaussian :math:`g` and white noise
# :math:`\varepsilon`. The label is Bernoulli with log-odds :math:`3 g_4 + z`, where
# :math:`z` is a standard Gaussian covariate given as column 100 of ``X``: it goes to the
# classifier only (``aux_features=[100]``), not to the dictionary. 700 samples train,
# 300 test.

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sparsopt.decomposition import SupervisedDictionaryLearning, supervised_dictionary_learning

rng = np.random.default_rng(0)
n_dict_features, n_samples = 100, 1000
Q, _ = np.linalg.qr(rng.standard_normal((n_dict_features, 4)))
g = rng.standard_normal((n_samples, 4))
X = g @ np.diag([5.0, 4.0, 3.0, 0.6]) @ Q.T + 0.5 * rng.standard_normal((n_samples, 100))
z = rng.standard_normal(n_samples)
y = (rng.random(n_samples) < 1 / (1 + np.exp(-(3.0 * g[:, 3] + z)))).astype(int)
X = np.column_stack([X, z])
X_train, y_train, X_test, y_test = X[:700], y[:700], X[700:], y[700:]
label_direction = Q[:, 3]

# %%
# Baselines and the supervised dictionary
# ---------------------------------------
# PCA with two components keeps the two strongest directions; a logistic regression
# then reads the two scores and :math:`z`. A logistic regression on all 101 raw
# features is the other baseline. :class:`~sparsopt.decomposition.SupervisedDictionaryLearning`
# with ``mode="filter"`` (the classifier reads the projections of ``X`` on the atoms)
# and :math:`\xi = 10^{-3}` is fitted by block coordinate descent (``"bcd"``) and by
# low-rank projected gradient on the lifted problem (``"lpgd"``); ``mode="feature"``
# (the classifier reads the codes) is shown for comparison. The problems are small, so
# one BLAS thread is faster.

blas = threadpool_limits(limits=1, user_api="blas")
start = time.perf_counter()
pca = PCA(2).fit(X_train[:, :100])


def pca_features(X):
    return np.column_stack([pca.transform(X[:, :100]), X[:, 100]])


accuracy = {
    "PCA(2) + z, logistic": LogisticRegression().fit(pca_features(X_train), y_train)
    .score(pca_features(X_test), y_test),
    "raw 101 features, logistic": LogisticRegression().fit(X_train, y_train)
    .score(X_test, y_test),
}
models = {
    "SDL filter, BCD": dict(mode="filter", solver="bcd"),
    "SDL filter, LPGD": dict(mode="filter", solver="lpgd"),
    "SDL feature, BCD": dict(mode="feature", solver="bcd"),
}
fitted = {}
for name, params in models.items():
    sdl = SupervisedDictionaryLearning(2, xi=1e-3, aux_features=[100], random_state=0,
                                       **params).fit(X_train, y_train)
    fitted[name] = sdl
    accuracy[name] = sdl.score(X_test, y_test)

for name, acc in accuracy.items():
    print(f"{name:28s} test accuracy {acc:.3f}")
sdl = fitted["SDL filter, BCD"]
print(f"\nSDL filter, BCD: {sdl.n_iter_} sweep(s), weight of z {sdl.aux_coef_[0, 0]:.2f}")

# %%
# The filter-mode dictionary (either solver) reaches the accuracy of the logistic
# regression on all 101 features with only two projections, and beats the principal
# components by about 0.09. The feature mode does worse at this small :math:`\xi`: the
# training codes are free to fit the labels, but the codes of new samples come from the
# reconstruction term alone (least squares on the atoms), so what was learned on the
# training codes does not carry over.
#
# What the atoms capture
# ----------------------
# The absolute inner products of the unit-norm atoms with the four true directions:
# PCA finds :math:`q_1` and :math:`q_2`; the supervised dictionary keeps :math:`q_1` and
# spends its other atom mostly on the label direction :math:`q_4`.

overlaps = {"PCA": np.abs(pca.components_ @ Q), "SDL filter, BCD": np.abs(sdl.components_ @ Q)}
for name, M in overlaps.items():
    print(f"{name:16s} |<atom, q_k>|:", np.round(M, 2).tolist())

fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained",
                         gridspec_kw={"width_ratios": [1.4, 1, 1]})
names = list(accuracy)
axes[0].barh(names[::-1], [accuracy[n] for n in names[::-1]],
             color=["C2", "C2", "C2", "C7", "C7"])
axes[0].set_xlim(0.5, 0.75)
axes[0].set_xlabel("test accuracy")
for ax, (name, M) in zip(axes[1:], overlaps.items()):
    im = ax.imshow(M, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(4), ["$q_1$\n(5)", "$q_2$\n(4)", "$q_3$\n(3)", "$q_4$, label\n(0.6)"],
                  fontsize=8)
    ax.set_yticks(range(2), ["atom 1", "atom 2"])
    ax.set_title(name, fontsize=10)
    for (i, j), v in np.ndenumerate(M):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v > 0.5 else "k")
fig.colorbar(im, ax=axes[1:], shrink=0.8, label="|<atom, q_k>|")
plt.show()

# %%
# The label direction is not recovered exactly (overlap about 0.7): the atom is pulled
# between the labels and the reconstruction, and the data are noisy. The weight of the
# auxiliary covariate is positive, as in the model (``aux_coef_``).
#
# The weight of the reconstruction
# --------------------------------
# Replacing the second principal direction (variance 16) by the label direction
# (variance 0.36) costs about :math:`\xi \cdot 700 \cdot (16 - 0.36)` in reconstruction
# error, and gains the difference of the logistic losses of the two classifiers. The
# supervised dictionary wins while :math:`\xi` is below the ratio of the two.



def residual(atoms):
    """Squared error of the least-squares reconstruction of X_train on the atoms."""
    Xd = X_train[:, :100]
    return float(np.sum((Xd - Xd @ np.linalg.pinv(atoms) @ atoms) ** 2))


almost_unpenalized = LogisticRegression(C=1e4).fit(pca_features(X_train), y_train)
loss_gain = (log_loss(y_train, almost_unpenalized.predict_proba(pca_features(X_train)),
                      normalize=False)
             - log_loss(y_train, sdl.predict_proba(X_train), normalize=False))
reconstruction_cost = residual(sdl.components_) - residual(pca.components_)
print(f"extra reconstruction error of the SDL atoms: {reconstruction_cost:.0f}, "
      f"logistic loss gained: {loss_gain:.0f}, ratio {loss_gain / reconstruction_cost:.3f}")

xis = np.geomspace(1e-4, 1, 9)
sweep = [SupervisedDictionaryLearning(2, xi=xi, aux_features=[100], random_state=0)
         .fit(X_train, y_train) for xi in xis]
sweep_acc = [m.score(X_test, y_test) for m in sweep]
sweep_overlap = [np.abs(m.components_ @ label_direction).max() for m in sweep]
for xi, acc, ov in zip(xis, sweep_acc, sweep_overlap):
    print(f"xi = {xi:7.1e}   test accuracy {acc:.3f}   label overlap {ov:.2f}")

# %%
# The switch happens between :math:`\xi = 10^{-2}` and :math:`3 \cdot 10^{-2}`: the
# supervised atoms reconstruct about :math:`10^4` worse (squared error summed over the
# 700 samples) and the logistic loss (summed too) drops by about 170 nats. Both terms
# are sums over samples, so the threshold does not depend on the number of samples,
# but it scales as :math:`1/\text{scale}^2` of ``X``: standardize ``X`` before choosing
# :math:`\xi`, and choose it by cross-validation. Standardizing does not change the
# picture here:

pipe = make_pipeline(StandardScaler(), SupervisedDictionaryLearning(
    2, xi=1e-3, aux_features=[100], random_state=0)).fit(X_train, y_train)
print(f"StandardScaler + SDL filter: test accuracy {pipe.score(X_test, y_test):.3f}")

# %%
# The PCA trap of the lifted solver
# ---------------------------------
# ``solver="lpgd"`` runs projected gradient steps on the lifted variables :math:`A`
# (the classifier weights in feature space) and :math:`B` (the reconstruction) and
# projects :math:`[sA, B]` onto the matrices of rank 2. The singular values of
# :math:`B \approx X` are about :math:`s_k\sqrt{n}`, and with :math:`s = 1` they swamp
# :math:`A`: from the PCA dictionary (``init="svd"``, no BCD warm start) every
# projection keeps the two principal directions and the iterates do not move.
# ``block_scale="auto"`` (the default) scales :math:`A` so that each block moves with
# its own :math:`1/L` step; the projection then lets the label direction in.

histories = {}
for block_scale in (1.0, "auto"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of steps
        D, res = supervised_dictionary_learning(
            X_train, y_train, n_components=2, xi=1e-3, solver="lpgd", aux_features=[100],
            block_scale=block_scale, init="svd", warm_start_iter=0, max_iter=120, tol=0.0)
    histories[block_scale] = [h["objective"] for h in res.history]
    print(f"block_scale={block_scale!s:5s}: s = {res.info['block_scale']:7.1f}, objective "
          f"{histories[block_scale][0]:.1f} -> {histories[block_scale][-1]:.1f}, "
          f"label overlap {np.abs(D @ label_direction).max():.2f}")
blas.restore_original_limits()
print(f"\nall fits: {time.perf_counter() - start:.1f} s")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
threshold = loss_gain / reconstruction_cost
axes[0].semilogx(xis, sweep_acc, "o-", label="SDL filter, BCD")
axes[0].axhline(accuracy["PCA(2) + z, logistic"], color="C7", ls="--", label="PCA(2) + z")
axes[0].set_ylabel("test accuracy")
axes[1].semilogx(xis, sweep_overlap, "o-", color="C1")
axes[1].set_ylabel(r"label direction: max$_j\,|\langle d_j, q_4\rangle|$")
for ax in axes[:2]:
    ax.axvline(threshold, color="k", lw=0.8, ls=":", label="loss gained / reconstruction cost")
    ax.set_xlabel(r"$\xi$")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
for block_scale, F in histories.items():
    axes[2].plot(F, label=f"block_scale={block_scale!r}")
axes[2].set_xlabel("LPGD iteration (from the PCA dictionary)")
axes[2].set_ylabel("lifted objective")
axes[2].legend(fontsize=8)
plt.show()

# %%
# With ``block_scale=1.0`` the objective decreases by less than :math:`10^{-4}` in 120
# steps: the iterates stay at a fixed point of the projected iteration, far from the
# minimiser. This is
# why ``solver="lpgd"`` also starts, by default, from 20 BCD sweeps and from the better
# of a PCA and a supervised initial dictionary (``init="auto"``), and reports the norm
# of its projected-gradient mapping in ``stationarity_``. The exponential convergence
# proved by Lee, Lyu and Yao needs conditions (restricted strong convexity and
# smoothness of the lifted objective) that do not hold when :math:`\xi` times the
# number of features is much larger than the curvature of the logistic loss.
#
# See :ref:`user_guide_dictionary_learning` for the objectives and the solvers.
