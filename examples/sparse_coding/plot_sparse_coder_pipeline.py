"""
===================================================
Sparse codes as features: SparseCoder in a pipeline
===================================================

:class:`~sparsopt.decomposition.SparseCoder` is a scikit-learn transformer: it fits
in a :class:`~sklearn.pipeline.Pipeline`, its parameters can be tuned by
:class:`~sklearn.model_selection.GridSearchCV`, and it supports
``set_output(transform="pandas")``. Here it turns handwritten digits into sparse codes
on a dictionary of training images, and a logistic regression classifies the codes. We
compare ℓ1 codes with MCP codes (a nonconvex penalty that does not shrink large
coefficients) over a small grid of ``alpha``.
"""

# %%
# Data and dictionary
# -------------------
# The 8x8 digits of scikit-learn. The dictionary is made of the 50 centroids of a
# k-means clustering of the training images, scaled to unit norm (a cheap stand-in
# for dictionary learning). The atoms come from the training split only.
#
# Which preprocessing? The codes solve ``min_c 1/2 ||x - c D||^2 + alpha pen(c)`` for
# each image ``x``, so a transformer that rescales *features*, such as
# :class:`~sklearn.preprocessing.StandardScaler`, would change the images (and make
# them differ from the atoms) and is best avoided. We use
# :class:`~sklearn.preprocessing.Normalizer`, which scales each image to unit norm
# like the atoms: the same ``alpha`` then means the same thing for every image.

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from sparsopt.decomposition import SparseCoder
from sparsopt.exceptions import ConvergenceWarning

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                    stratify=y)
kmeans = KMeans(n_clusters=50, n_init=1, random_state=0)
kmeans.fit(Normalizer().fit_transform(X_train))
D = kmeans.cluster_centers_
D /= np.linalg.norm(D, axis=1, keepdims=True)

fig, axes = plt.subplots(2, 10, figsize=(8, 1.9), layout="constrained")
for ax, atom in zip(axes.ravel(), D):
    ax.imshow(atom.reshape(8, 8), cmap="gray_r")
    ax.set_axis_off()
fig.suptitle("The first 20 of the 50 atoms")
plt.show()

# %%
# A pipeline and a grid search over the penalty and ``alpha``
# -----------------------------------------------------------
# ``SparseCoder`` uses coordinate descent for both penalties (``solver="auto"``). Codes
# used as features do not need a tight solve, so ``tol=1e-4``: the atoms of a digit
# dictionary are very correlated, which makes tight solves slow: even so, with MCP at
# small ``alpha`` a few images reach ``max_iter``, and we silence that warning.

warnings.filterwarnings("ignore", category=ConvergenceWarning)

pipe = make_pipeline(Normalizer(), SparseCoder(D, tol=1e-4),
                     LogisticRegression(max_iter=1000))
param_grid = {
    "sparsecoder__penalty": ["l1", "mcp"],
    "sparsecoder__alpha": [0.03, 0.1, 0.3],
}
search = GridSearchCV(pipe, param_grid, cv=3).fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)
table = results.pivot(index="param_sparsecoder__alpha", columns="param_sparsecoder__penalty",
                      values="mean_test_score")
print(table.round(3))
print("best:", search.best_params_, f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Accuracy and sparsity of the codes
# ----------------------------------
# For each penalty, the best ``alpha`` of the grid search, the test accuracy and the
# mean number of non-zero coefficients per image (from ``transform`` on the test set).

rows = []
for penalty in ["l1", "mcp"]:
    best = results[results["param_sparsecoder__penalty"] == penalty]
    alpha = float(best.loc[best["mean_test_score"].idxmax(), "param_sparsecoder__alpha"])
    model = make_pipeline(Normalizer(), SparseCoder(D, penalty=penalty, alpha=alpha, tol=1e-4),
                          LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    codes = model[:-1].transform(X_test)
    rows.append({"penalty": penalty, "alpha": alpha,
                 "test accuracy": model.score(X_test, y_test),
                 "non-zeros per image": np.mean(np.count_nonzero(codes, axis=1))})
raw = make_pipeline(Normalizer(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
rows.append({"penalty": "none (raw pixels)", "alpha": np.nan,
             "test accuracy": raw.score(X_test, y_test), "non-zeros per image": 64})
print(pd.DataFrame(rows).round(3).to_string(index=False))

# %%
# With a few active atoms per image, the ℓ1 codes classify at least as well as the
# raw pixels. MCP codes are *worse* features here, although MCP reconstructs better
# at equal sparsity (see
# :ref:`sphx_glr_auto_examples_sparse_coding_plot_beyond_l1.py`). A likely reason:
# with strongly correlated atoms (several centroids per digit), MCP picks one of
# nearly equivalent atoms and keeps it unshrunk, so a small change of the image can
# switch the code to another atom, while ℓ1 spreads the weight smoothly over similar
# atoms. Better reconstruction does not imply better features; the grid search is the
# way to decide.
#
# pandas output
# -------------
# With ``set_output(transform="pandas")`` the codes come back as a DataFrame whose
# columns are named after the estimator: ``sparsecoder0``, ``sparsecoder1``, ...
# ``fit`` also records a report of the encoding (``n_iter_``, ``converged_``,
# ``objective_``).

coder = SparseCoder(D, penalty="mcp", alpha=0.03).set_output(transform="pandas")
df = coder.fit_transform(Normalizer().fit_transform(X_test[:5]))
print(type(df).__name__, df.shape)
print(df.loc[:, (df != 0).any()].iloc[:, :6].round(3).to_string())  # some used atoms
print("active atoms per image:", (df != 0).sum(axis=1).tolist())
print(f"epochs: {coder.n_iter_}, converged: {coder.converged_}, "
      f"mean objective: {coder.objective_:.4f}")

# %%
# The largest coefficients of the first test image point at the atoms it is made of:

codes = df.to_numpy()
top = np.argsort(-np.abs(codes[0]))[:4]
fig, axes = plt.subplots(1, 5, figsize=(8, 1.9), layout="constrained")
axes[0].imshow(X_test[0].reshape(8, 8), cmap="gray_r")
axes[0].set_title(f"image (digit {y_test[0]})", fontsize=9)
for ax, j in zip(axes[1:], top):
    ax.imshow(D[j].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{df.columns[j]}\n{codes[0, j]:+.2f}", fontsize=9)
for ax in axes:
    ax.set_axis_off()
plt.show()
