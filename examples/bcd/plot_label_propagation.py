"""
==================================================
Label propagation on a graph with tree-block BCD
==================================================

Semi-supervised learning on two moons (the paper's dataset E): 2000 points, 100 of them
labelled, a symmetrised 5-nearest-neighbour graph :math:`W`. The harmonic function of
Zhu, Ghahramani and Lafferty clamps the labels :math:`y_l` and minimises
:math:`\\tfrac12\\sum_{ij} W_{ij}(x_i - x_j)^2` over the unlabelled values, a sparse
quadratic :math:`f(x) = \\tfrac12 x^\\top A x - b^\\top x` with
:math:`A = (D - W)_{uu}` and :math:`b = W_{ul} y_l`.

Block coordinate descent can update *huge* blocks of such a problem cheaply: when the
subgraph of a block is a forest, the exact block minimisation is a two-pass Gaussian
elimination (message passing) costing :math:`O(|b|)`. Following Nutini, Laradji and
Schmidt (JMLR 2022, figure 6b) we compare

* **greedy trees**: every iteration, grow the largest forest along decreasing
  :math:`|\\nabla_i f|` (union-find);
* **red-black**: cycle through the classes of a greedy graph colouring (independent
  sets: the block matrix is diagonal);
* **general**: the :math:`n^{1/3}` largest :math:`|\\nabla_i f|`, solved densely;
* **tree partition + Anderson**: cycle through a fixed partition into forests and
  extrapolate the iterates (Anderson acceleration), the default of the estimator.
"""

# %%
# The problem and its exact solution
# ----------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.sparse.linalg import spsolve

from sparsopt.datasets import make_knn_label_problem
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.linear_model import GraphLabelPropagation
from sparsopt.solvers import label_propagation_bcd

A, b, info = make_knn_label_problem(2000, 100, n_neighbors=5, random_state=0)
x_star = spsolve(A.tocsc(), b)
f_star = 0.5 * x_star @ (A @ x_star) - b @ x_star
print(f"{A.shape[0]} unknowns, {A.nnz} non-zeros in A")

# %%
# Convergence of the three block rules
# ------------------------------------
# Same budget of 300 iterations each; the history holds :math:`f(x)` after every
# iteration.
n_iter = 300
curves = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budget on purpose
    for blocks, anderson in (("greedy_tree", 0), ("red_black", 0), ("general", 0),
                             ("tree_partition", 5)):
        res = label_propagation_bcd(A, b, blocks=blocks, anderson=anderson, max_iter=n_iter,
                                    tol=0.0)
        f = np.array([h["objective"] for h in res.history])
        # below ~1e-13 |f*|, f - f* is rounding noise of two numbers of size |f*|
        curves[blocks] = np.maximum(f - f_star, 1e-13 * abs(f_star))
        print(f"{blocks:15s} f - f* after {n_iter} iterations: {curves[blocks][-1]:.2e} "
              f"({res.info['effective_passes']:.1f} passes over the unknowns)")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
labels = {"greedy_tree": "Greedy tree", "red_black": "Red-black", "general": "General",
          "tree_partition": "Tree partition + Anderson"}
for key, gap in curves.items():
    ax0.semilogy(np.arange(1, n_iter + 1), gap, label=labels[key])
ax0.set_xlabel("iteration")
ax0.set_ylabel(r"$f(x) - f^*$")
ax0.set_title("Block rules on the 5-NN graph")
ax0.legend()

# %%
# The resulting labelling
# -----------------------
# :class:`~sparsopt.linear_model._label_propagation.GraphLabelPropagation` wraps the same
# solver as a scikit-learn classifier: ``y = -1`` marks the unlabelled samples.
X, y_true = info.X, info.y_true
y = np.full(X.shape[0], -1)
y[info.labeled] = y_true[info.labeled]
model = GraphLabelPropagation(n_neighbors=5, tol=1e-8).fit(X, y)
acc = np.mean(model.transduction_ == y_true)
print(f"transductive accuracy: {acc:.3f} after {model.n_iter_} iterations")

ax1.scatter(X[:, 0], X[:, 1], c=model.label_distributions_[:, 1], cmap="coolwarm", s=8)
ax1.scatter(X[info.labeled, 0], X[info.labeled, 1], c=y_true[info.labeled], cmap="coolwarm",
            s=60, edgecolors="k", marker="*")
ax1.set_title(f"P(moon 1), 100 labels (stars): accuracy {acc:.3f}")
ax1.set_aspect("equal")
fig.tight_layout()
plt.show()
