"""
============================================
Imputing masked pixels of handwritten digits
============================================

The 8 x 8 digits bundled with scikit-learn form a 1797 x 64 matrix that is close to low
rank: a few "eigendigits" explain most of each image. Here 30% of the pixels of every
image are hidden (NaN) and :class:`sparsopt.completion.MatrixCompletion` fills them from
a low-rank model learned on the training images; the model then imputes *new* test
images, one least-squares fit per row, as it would inside a
:class:`~sklearn.pipeline.Pipeline`. The rank is chosen by
:class:`~sklearn.model_selection.GridSearchCV` on the estimator's ``score`` (the negative
RMSE on held-out observed pixels), and compared with scikit-learn's ``KNNImputer``.
"""

# %%
# Masked digits
# -------------

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.impute import KNNImputer
from sklearn.model_selection import GridSearchCV

from sparsopt.completion import MatrixCompletion

digits = load_digits()
X = digits.data / 16.0
rng = np.random.default_rng(0)
mask = rng.random(X.shape) < 0.3
X_masked = np.where(mask, np.nan, X)
# pixels that are always blank have no observation in some columns: keep them observed
always_blank = X.max(axis=0) == 0
X_masked[:, always_blank] = 0.0
train, test = np.arange(1400), np.arange(1400, X.shape[0])

# %%
# Choosing the rank by cross-validation
# -------------------------------------

# real images are not exactly low rank: a ridge (alpha) keeps the rows with few observed
# pixels from overfitting, and a looser tol stops once the fit no longer changes
search = GridSearchCV(MatrixCompletion(center=True, alpha=3.0, tol=1e-3, random_state=0),
                      {"rank": [4, 8, 12, 20]}, cv=3)
search.fit(X_masked[train])
for rank, score in zip(search.cv_results_["param_rank"], search.cv_results_["mean_test_score"]):
    print(f"rank {rank:2d}: held-out RMSE {-score:.3f}")
imp = search.best_estimator_
print("chosen rank:", imp.rank)

# %%
# Imputing unseen images
# ----------------------
# Each test image is completed from its own observed pixels and the learned column
# factors. Real images are only approximately low rank: on these tiny 8 x 8 digits the
# nearest-neighbour imputer is about as good (slightly better in this run), and both beat
# filling by column means by a wide margin. Low-rank completion shines when the matrix is
# close to low rank and large (see :ref:`user_guide_completion` for the benchmark).


def rmse(X_filled):
    return np.sqrt(np.mean((X_filled[test][mask[test]] - X[test][mask[test]]) ** 2))


X_mc = imp.transform(X_masked[test])
knn = KNNImputer(n_neighbors=5).fit(X_masked[train])
X_knn = knn.transform(X_masked[test])
X_knn_full = np.empty_like(X)
X_knn_full[test] = X_knn
X_mc_full = np.empty_like(X)
X_mc_full[test] = X_mc
mean_fill = np.where(np.isnan(X_masked), np.nanmean(X_masked[train], axis=0), X_masked)
print(f"RMSE on the masked test pixels: MatrixCompletion {rmse(X_mc_full):.3f}, "
      f"KNNImputer {rmse(X_knn_full):.3f}, column means {rmse(mean_fill):.3f}")

fig, axes = plt.subplots(4, 6, figsize=(7, 5))
for col, i in enumerate(test[:6]):
    for row, (img, title) in enumerate([(X[i], "original"), (X_masked[i], "masked"),
                                        (X_mc_full[i], "MatrixCompletion"),
                                        (X_knn_full[i], "KNNImputer")]):
        ax = axes[row, col]
        ax.imshow(np.nan_to_num(img, nan=0.5).reshape(8, 8), cmap="gray_r", vmin=0,
                  vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if col == 0:
            ax.set_ylabel(title, fontsize=8)
fig.tight_layout()
plt.show()
