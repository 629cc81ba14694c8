"""
==========================================================
Atoms learned on image patches by spike-and-slab coding
==========================================================

Spike-and-slab sparse coding (GSC) explains each patch as a few active atoms, each with
a Gaussian amplitude, plus white noise. Learned by truncated EM on natural-image patches
(8 x 8 patches of the bundled ``china.jpg``, mean removed), its atoms come out as
oriented edges and gratings, as with other sparse coding methods on images, while the
prior :math:`\\pi_h` of each atom, its amplitude distribution and the noise level are
learned too (Sheikh, Shelton and Lücke, 2014).

:class:`~sparsopt.decomposition.GaussianSparseCoding` with 32 atoms, :math:`H' = 6`
preselected atoms and up to :math:`\\gamma = 3` active atoms per patch, on 3000 patches
with ProSper's annealing schedule; a few seconds on two cores.
"""

# %%
# Data and the model
# ------------------

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.datasets import load_image_patches
from sparsopt.decomposition import GaussianSparseCoding

X = load_image_patches(patch_size=(8, 8), n_patches=3000, random_state=0)
X /= X.std()

gsc = GaussianSparseCoding(32, n_preselect=6, max_active=3, n_iter=50, anneal="default",
                           random_state=0).fit(X)
print(f"{gsc.n_iter_} EM iterations, noise std {gsc.noise_std_:.3f} "
      f"(data std 1), mean prior {np.mean(gsc.prior_):.3f}")

# %%
# The atoms
# ---------
# Sorted by their prior probability of being active (shown above each atom).

order = np.argsort(gsc.prior_)[::-1]
fig, axes = plt.subplots(4, 8, figsize=(8, 4.6))
for ax, h in zip(axes.ravel(), order):
    atom = gsc.components_[h].reshape(8, 8)
    m = np.abs(atom).max() or 1.0
    ax.imshow(atom, cmap="gray", vmin=-m, vmax=m)
    ax.set_title(f"{gsc.prior_[h]:.2f}", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("GSC atoms on 8x8 patches of china.jpg (title: prior $\\pi_h$)")
fig.tight_layout()

# %%
# Codes and reconstructions
# -------------------------
# ``transform`` gives the posterior mean of the amplitudes :math:`\langle s \odot z
# \rangle` (most are close to zero); the reconstruction is ``codes @ components_``.

scale = load_image_patches(patch_size=(8, 8), n_patches=3000, random_state=0).std()
X_test = load_image_patches(patch_size=(8, 8), n_patches=500, random_state=1) / scale
codes = gsc.transform(X_test)
recon = codes @ gsc.components_
err = np.sum((X_test - recon) ** 2) / np.sum(X_test**2)
_, prob, marginals = gsc.inference(X_test, n_top=1)
print(f"held-out relative error {err:.3f}; mean probability of the MAP state {prob.mean():.2f}; "
      f"atoms with p(s_h = 1 | x) > 0.5 per patch: {(marginals > 0.5).sum(axis=1).mean():.2f}")

fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for j in range(8):
    m = np.abs(X_test[j]).max()
    axes[0, j].imshow(X_test[j].reshape(8, 8), cmap="gray", vmin=-m, vmax=m)
    axes[1, j].imshow(recon[j].reshape(8, 8), cmap="gray", vmin=-m, vmax=m)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("patch")
axes[1, 0].set_ylabel("posterior\nmean")
fig.tight_layout()
plt.show()
