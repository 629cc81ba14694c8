"""
============================================================
Sparse logistic regression: l1 against MCP, and multinomial
============================================================

:class:`~sparsopt.linear_model.SparseLogisticRegression` and
:class:`~sparsopt.linear_model.MultinomialLogisticRegression` minimise the *mean*
log-loss plus ``alpha`` times a penalty, with a working-set proximal Newton solver. The
penalty is a choice, not a fixed ℓ1: any separable penalty of :mod:`sparsopt.penalties`
(``"l1"``, ``"mcp"``, ``"scad"``, ``"l0"``, ...) and, for the multinomial model, the row-wise
group penalty that keeps or drops a feature for *all* classes at once.

For scikit-learn users: ``LogisticRegression`` with an ℓ1 penalty and ``C`` has the same
minimiser as ``SparseLogisticRegression(alpha=1 / (n_samples * C))``.

We compare ℓ1 and the minimax concave penalty (MCP) along a path of ``alpha`` on a
synthetic problem whose true model has 10 of 200 features, then fit a multinomial model
on the digits with ℓ1 and group penalties and look at the pixels each one keeps.
"""

# %%
# Binary problem: 10 informative features out of 200
# ---------------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sparsopt.exceptions import ConvergenceWarning
from sparsopt.linear_model import MultinomialLogisticRegression, SparseLogisticRegression
from sparsopt.solvers import logistic_alpha_max

rng = np.random.default_rng(0)
n_samples, n_features = 600, 200
X = rng.standard_normal((n_samples, n_features))
w_true = np.zeros(n_features)
w_true[:10] = rng.choice([-1.0, 1.0], 10) * rng.uniform(1.0, 2.0, 10)
y = (rng.random(n_samples) < 1 / (1 + np.exp(-X @ w_true))).astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

# the smallest alpha with all coefficients zero (labels as -1/+1)
a_max = logistic_alpha_max(X_train, 2.0 * y_train - 1.0)
alphas = a_max * np.geomspace(0.9, 0.02, 15)

path = {}
for penalty in ("l1", "mcp"):
    model = SparseLogisticRegression(penalty=penalty, warm_start=True, max_iter=200)
    rows = []
    for a in alphas:
        with warnings.catch_warnings():
            # at the smallest alphas the non-convex fit may stop at its iteration cap
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.set_params(alpha=a).fit(X_train, y_train)
        w = model.coef_.ravel()
        rows.append((np.count_nonzero(w), np.count_nonzero(w[:10]),
                     model.score(X_test, y_test)))
    path[penalty] = np.array(rows)

print(f"{'alpha/alpha_max':>16}  {'l1: nnz (true) acc':>20}  {'mcp: nnz (true) acc':>20}")
for a, r1, rm in zip(alphas / a_max, path["l1"], path["mcp"]):
    print(f"{a:>16.3f}  {r1[0]:>6.0f} ({r1[1]:>2.0f}) {r1[2]:>6.3f}   "
          f"{rm[0]:>6.0f} ({rm[1]:>2.0f}) {rm[2]:>6.3f}")

# %%
# Both penalties pick up the informative features first (the count in brackets). Below the
# ``alpha`` where all 10 are in, ℓ1 must let noise features in as ``alpha`` decreases: its
# shrinkage biases every coefficient, and the fit compensates with more of them. MCP stops
# shrinking a coefficient beyond ``gamma * alpha`` (``gamma=3`` by default): it holds
# exactly the true support over a range of ``alpha``, where its held-out accuracy peaks,
# and its model stays much smaller at small ``alpha``.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
for penalty, style in (("l1", "o-"), ("mcp", "s-")):
    axes[0].plot(alphas / a_max, path[penalty][:, 0], style, label=penalty, ms=4)
    axes[1].plot(alphas / a_max, path[penalty][:, 2], style, label=penalty, ms=4)
axes[0].axhline(10, color="k", lw=0.8, ls=":")
axes[0].set_ylabel("non-zero coefficients")
axes[1].set_ylabel("held-out accuracy")
for ax in axes:
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel(r"$\alpha / \alpha_{\max}$")
    ax.legend()
fig.tight_layout()

# %%
# Multinomial model on the digits: l1 against the group penalty
# --------------------------------------------------------------
# ``coef_`` has one row per class. ℓ1 zeroes single (pixel, class) entries; the group
# penalty zeroes whole columns, i.e. drops a pixel for every class.
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
for ax, penalty, alpha in zip(axes, ("l1", "group"), (0.01, 0.02)):
    model = MultinomialLogisticRegression(penalty=penalty, alpha=alpha).fit(X_train, y_train)
    used = np.any(model.coef_ != 0, axis=0)
    print(f"{penalty:>5}: alpha={alpha}, non-zero entries {np.count_nonzero(model.coef_)}"
          f" / {model.coef_.size}, pixels used {used.sum()} / {used.size}, "
          f"held-out accuracy {model.score(X_test, y_test):.3f}")
    ax.imshow(np.abs(model.coef_).sum(axis=0).reshape(8, 8), cmap="Greys")
    ax.set_title(f"{penalty}: {used.sum()} pixels used")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("sum over classes of |coef_| per pixel")
fig.tight_layout()
plt.show()
