"""
=============================================
Image denoising with a learned dictionary
=============================================

A noisy image is cut into all its overlapping 8x8 patches; a dictionary is learned on
these noisy patches with :class:`~sparsopt.decomposition.MiniBatchDictionaryLearning`;
every patch is replaced by its sparse approximation on the dictionary; and the image is
rebuilt by averaging the overlapping patches. Noise has no sparse representation on
atoms learned from the image, so a sparse code keeps the structure and drops most of
the noise (Elad and Aharon, 2006, with K-SVD; here the online algorithm of Mairal et
al., 2010).

We compare three sparse coders on the same dictionary, each at several sparsity
levels, by the peak signal-to-noise ratio (PSNR) of the rebuilt image:

* ℓ1 codes, the exact lasso solutions of the homotopy (``"lars"``),
* orthogonal matching pursuit (OMP) with a fixed number of atoms per patch,
* ℓ0-penalised codes by coordinate descent.
"""

# %%
# The noisy image
# ---------------
# A 128 x 192 region of scikit-learn's ``china.jpg`` in grey levels in [0, 1]
# (:func:`~sparsopt.datasets.load_image_patches` returns the grayscale image with
# ``return_image=True``; we ask for a single patch and ignore it), with white Gaussian
# noise of standard deviation :math:`\sigma = 0.1`.
#
# The patches come from :func:`sklearn.feature_extraction.image.extract_patches_2d`
# (all 22 385 of them). The mean of each patch (its DC component) is not coded: it is
# subtracted before learning and added back after coding. The rest is divided by
# :math:`\sigma`, so that the noise has about unit variance in every pixel and ``alpha``
# is in units of the noise variance. The products of one mini-batch are too small to
# gain from several BLAS threads, and on a busy machine the threads wait for each other:
# we use one.

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.image import extract_patches_2d, reconstruct_from_patches_2d
from threadpoolctl import threadpool_limits

from sparsopt.datasets import load_image_patches
from sparsopt.decomposition import MiniBatchDictionaryLearning

blas = threadpool_limits(limits=1, user_api="blas")
_, image = load_image_patches("china", n_patches=1, return_image=True)  # the image only
clean = image[150:278, 280:472]
sigma = 0.1
rng = np.random.default_rng(0)
noisy = clean + sigma * rng.standard_normal(clean.shape)


def psnr(estimate):
    """Peak signal-to-noise ratio (dB) against the clean image, for a peak of 1."""
    return 10 * np.log10(1.0 / np.mean((estimate - clean) ** 2))


patch_size = (8, 8)
patches = extract_patches_2d(noisy, patch_size).reshape(-1, 64)
dc = patches.mean(axis=1, keepdims=True)
X = (patches - dc) / sigma
print(f"image {clean.shape}, {X.shape[0]} patches; PSNR of the noisy image "
      f"{psnr(noisy):.2f} dB")

# %%
# Learning the dictionary on the noisy patches
# --------------------------------------------
# 100 atoms, ℓ1 codes with ``alpha=1`` during the fit, and the default mini-batches of
# 256 patches with early stopping.

start = time.perf_counter()
dl = MiniBatchDictionaryLearning(n_components=100, alpha=1.0, random_state=0).fit(X)
print(f"dictionary: {dl.n_steps_} mini-batches, {time.perf_counter() - start:.1f} s")

# %%
# Denoising with three coders
# ---------------------------
# ``transform`` codes with scikit-learn's ``transform_algorithm`` (its default is
# ``"omp"``) or with a sparsopt coder: ``transform_algorithm="lasso_lars"`` and
# ``transform_alpha`` for the ℓ1 codes, ``"omp"`` and ``transform_n_nonzero_coefs`` for
# OMP, and ``transform_penalty="l0"`` (sparsopt's spelling) for the ℓ0 codes. Each
# patch estimate is ``codes @ components_``, scaled back and with its
# mean added; :func:`sklearn.feature_extraction.image.reconstruct_from_patches_2d`
# averages the overlapping estimates of every pixel.


def denoise(**transform_params):
    """Rebuilt image, non-zeros of every patch and coding time for one coder."""
    defaults = {"transform_algorithm": None, "transform_alpha": None,
                "transform_n_nonzero_coefs": None, "transform_penalty": None}
    dl.set_params(**{**defaults, **transform_params})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes = dl.transform(X)
    seconds = time.perf_counter() - start
    estimate = (codes @ dl.components_) * sigma + dc
    rebuilt = reconstruct_from_patches_2d(estimate.reshape(-1, *patch_size), clean.shape)
    return np.clip(rebuilt, 0.0, 1.0), np.count_nonzero(codes, axis=1), seconds


coders = {
    "ℓ1 (lars)": [{"transform_algorithm": "lasso_lars", "transform_alpha": a}
                  for a in (1.0, 1.5, 2.5)],
    "OMP": [{"transform_algorithm": "omp", "transform_n_nonzero_coefs": k}
            for k in (1, 2, 4, 6)],
    "ℓ0 (cd)": [{"transform_penalty": "l0", "transform_alpha": a} for a in (2.0, 4.0, 8.0)],
}
results = {}
for name, settings in coders.items():
    results[name] = []
    for params in settings:
        rebuilt, counts, seconds = denoise(**params)
        nnz = counts.mean()
        results[name].append((nnz, psnr(rebuilt), rebuilt, counts))
        value = ", ".join(f"{k.removeprefix('transform_')}={v}" for k, v in params.items()
                          if k != "transform_algorithm")
        print(f"{name:10s} {value:28s} {nnz:5.2f} non-zeros/patch  PSNR {psnr(rebuilt):.2f} dB"
              f"  ({seconds:.2f} s)")

# %%
# PSNR against sparsity
# ---------------------

fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
for name, rows in results.items():
    ax.plot([r[0] for r in rows], [r[1] for r in rows], "o-", label=name)
ax.axhline(psnr(noisy), color="0.5", ls=":", label="noisy image")
ax.set_xscale("log")
ax.set_xlabel("mean number of non-zeros per patch")
ax.set_ylabel("PSNR (dB)")
ax.set_title(f"Denoising, σ = {sigma}: 100 atoms learned on the noisy patches")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

# %%
# The images
# ----------
# The best setting of each coder, with the noisy image and the learned atoms.

best = {name: max(rows, key=lambda r: r[1]) for name, rows in results.items()}
fig, axes = plt.subplots(2, 3, figsize=(11, 5.6), layout="constrained")
panels = [("original", clean), (f"noisy: {psnr(noisy):.2f} dB", noisy)]
for name, (nnz, value, rebuilt, _) in best.items():
    panels.append((f"{name}: {value:.2f} dB, {nnz:.1f} non-zeros/patch", rebuilt))
for ax, (title, img) in zip(axes.ravel()[[0, 1, 3, 4, 5]], panels):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
atoms = dl.components_.reshape(10, 10, 8, 8)
tiles = np.pad(atoms / np.abs(atoms).max(axis=(2, 3), keepdims=True),
               ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=np.nan)
axes[0, 2].imshow(tiles.transpose(0, 2, 1, 3).reshape(90, 90)[:-1, :-1], cmap="gray",
                  vmin=-1, vmax=1, interpolation="nearest")
axes[0, 2].set_title("the 100 learned atoms", fontsize=10)
axes[0, 2].set_axis_off()
plt.show()
blas.restore_original_limits()

# %%
# How many atoms the best ℓ0 codes use, on the temple (the left quarter of the image)
# and on the sky and the lake (the right half):

counts = best["ℓ0 (cd)"][3].reshape(clean.shape[0] - 7, clean.shape[1] - 7)
width = counts.shape[1]
print(f"l0 codes: {counts[:, :width // 4].mean():.1f} non-zeros per patch on the temple, "
      f"{counts[:, width // 2:].mean():.1f} on the sky and the lake")

# %%
# All three coders raise the PSNR by 5.5 to 8 dB. The best ℓ1 codes use many more atoms
# than the others: the lasso shrinks every coefficient by ``alpha``, so a threshold high
# enough to remove the noise also biases the structure, and the best trade-off keeps
# many small coefficients. OMP and ℓ0 select a few atoms per patch and fit them without
# shrinkage. OMP gives every patch the same number of atoms; the penalised ℓ0 codes
# adapt it to the content (six atoms per patch on the temple, fewer than one on the sky
# and the lake), and are the best here. With the patches divided by :math:`\sigma`, the
# ℓ0 penalty keeps an atom when it lowers the squared error of the patch by more than
# :math:`2\alpha\sigma^2`: for orthonormal atoms, when its coefficient exceeds
# :math:`\sqrt{2\alpha}\,\sigma`, about :math:`2.8\sigma` for the best ``alpha=4``.
#
# See :ref:`user_guide_dictionary_learning` for the algorithm and its options, and
# :ref:`user_guide_sparse_coding` for the coders.
