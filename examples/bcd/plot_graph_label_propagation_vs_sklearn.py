"""
===========================================================
GraphLabelPropagation, used like scikit-learn's classifiers
===========================================================

:class:`~sparsopt.linear_model.GraphLabelPropagation` is a semi-supervised classifier with
scikit-learn's conventions, like :class:`~sklearn.semi_supervised.LabelPropagation`:
``fit(X, y)`` with ``y = -1`` on the unlabelled samples, then ``transduction_`` (the labels
given to the training samples), ``label_distributions_``, and ``predict`` /
``predict_proba`` on new samples. It computes the harmonic solution of Zhu, Ghahramani and
Lafferty on a symmetrised k-nearest-neighbour graph by block coordinate descent with exact
solves on forest-shaped blocks (message passing) and Anderson acceleration, and stops on
the relative residual of that linear system.

On two moons, we vary the number of labelled points, compare the accuracy on the
unlabelled points with scikit-learn's ``LabelPropagation(kernel="knn")`` (same number of
neighbours, its defaults otherwise), and show ``predict`` on a grid of new points.
"""

# %%
# Accuracy against the number of labels
# -------------------------------------
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.semi_supervised import LabelPropagation

from sparsopt.linear_model import GraphLabelPropagation

X, y_true = make_moons(1000, noise=0.1, random_state=0)
rng = np.random.default_rng(0)
# the same number of labels in each moon, in a random order
order = np.ravel(np.c_[rng.permutation(np.flatnonzero(y_true == 0)),
                       rng.permutation(np.flatnonzero(y_true == 1))])

print(f"{'labels':>6}  {'sparsopt acc':>12} {'time':>7}  {'sklearn acc':>11} {'time':>7}")
for n_labels in (6, 10, 20, 50):
    y = np.full(len(y_true), -1)
    y[order[:n_labels]] = y_true[order[:n_labels]]
    unlabelled = y == -1
    row = []
    for model in (GraphLabelPropagation(n_neighbors=7),
                  LabelPropagation(kernel="knn", n_neighbors=7, max_iter=10_000)):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # scikit-learn's iteration often reaches max_iter with few labels; it warns
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        elapsed = time.perf_counter() - t0
        row += [np.mean(model.transduction_[unlabelled] == y_true[unlabelled]), elapsed]
    print(f"{n_labels:>6}  {row[0]:>12.3f} {row[1]:>6.2f}s  {row[2]:>11.3f} {row[3]:>6.2f}s")

# %%
# The two libraries build their graphs and stop differently (sparsopt: a symmetrised
# 7-NN graph and the residual of the linear system; scikit-learn: its own normalisation
# and the change between two iterations), so they can disagree on a few points when
# labels are scarce; with 20 labels or more both label the moons almost perfectly.
# The first sparsopt fit includes the compilation of its Numba kernels (or their load
# from the disk cache); ``python -m sparsopt warmup`` does it once after installing.
# Timings depend on the machine and its load.
#
# The labelling and predictions on new points
# -------------------------------------------
# With 20 labels: ``label_distributions_`` on the training points, and ``predict`` on a
# grid, which gives a new point the average distribution of its ``n_neighbors`` nearest
# training points.
y = np.full(len(y_true), -1)
labelled = order[:20]
y[labelled] = y_true[labelled]
model = GraphLabelPropagation(n_neighbors=7).fit(X, y)

xx, yy = np.meshgrid(np.linspace(-1.5, 2.5, 160), np.linspace(-1.0, 1.5, 100))
Z = model.predict_proba(np.c_[xx.ravel(), yy.ravel()])[:, 1].reshape(xx.shape)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].scatter(X[:, 0], X[:, 1], c=model.label_distributions_[:, 1], cmap="coolwarm", s=6)
axes[0].scatter(X[labelled, 0], X[labelled, 1], c=y_true[labelled], cmap="coolwarm",
                s=120, marker="*", edgecolors="k")
axes[0].set_title("label_distributions_[:, 1] (stars: the 20 labels)")
cs = axes[1].contourf(xx, yy, Z, levels=np.linspace(0, 1, 11), cmap="coolwarm")
axes[1].scatter(X[:, 0], X[:, 1], c="k", s=0.5)
axes[1].set_title("predict_proba(new points)[:, 1]")
fig.colorbar(cs, ax=axes[1])
for ax in axes:
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()
