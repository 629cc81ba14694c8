"""
=====================================================
Accuracy vs density: which pruning method to pick
=====================================================

A 64-128-10 network on the digits, pruned to 2-30 % of its weights four ways:

* **one-shot global magnitude + fine-tuning**: scikit-learn's ``MLPClassifier`` trained
  densely, then :class:`~sparsopt.pruning.MLPPruner` keeps the largest weights over the
  whole network and fine-tunes with the mask fixed;
* **one-shot ERK magnitude + fine-tuning**: the same, with the per-layer densities of the
  Erdős-Rényi-Kernel allocation (small layers keep more);
* **gradual magnitude** (Zhu and Gupta): :class:`~sparsopt.pruning.SparseMLPClassifier`
  prunes a little at a time during training (cubic schedule);
* **random ERK at initialisation**: a random mask with ERK densities, fixed, trained from
  scratch (static sparse training).

Gradual pruning holds up best at 2 %: the network adapts while it loses weights. One-shot
pruning recovers with fine-tuning down to about 10 % and loses much below; a random mask at
initialisation trails the magnitude criteria at low density. On this small network global
and ERK one-shot pruning are close; on deeper ones global pruning can empty a small layer
(:ref:`user_guide_pruning`). The run takes about ten seconds.
"""

# %%
# Data and the dense network
# --------------------------

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sparsopt.pruning import (
    MagnitudeCriterion,
    MLPPruner,
    OneShot,
    PolynomialDecay,
    RandomCriterion,
    SparseMLPClassifier,
)

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_tr)
X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)

params = dict(hidden_layer_sizes=(128,), batch_size=64, max_iter=30, random_state=0)
dense = MLPClassifier(**params).fit(X_tr, y_tr)
print(f"dense accuracy: {dense.score(X_te, y_te):.3f}")

# %%
# Four methods at four densities
# ------------------------------
# ``MLPPruner(refit_estimator=False)`` prunes a copy of the fitted network; the sparse
# MLPs train from scratch with the same epochs.

densities = [0.02, 0.05, 0.1, 0.3]


def oneshot(scope):
    return lambda d: MLPPruner(dense, density=d, criterion=MagnitudeCriterion(scope),
                               finetune_epochs=10, refit_estimator=False,
                               random_state=0).fit(X_tr, y_tr)


def sparse(**kw):
    return lambda d: SparseMLPClassifier(density=d, **params, **kw).fit(X_tr, y_tr)


methods = {
    "one-shot global + FT": oneshot("global"),
    "one-shot ERK + FT": oneshot("erk"),
    "gradual magnitude": sparse(schedule=PolynomialDecay(begin=0.1, end=0.6, frequency=20)),
    "random ERK at init": sparse(criterion=RandomCriterion("erk"), schedule=OneShot("init")),
}
scores = {name: [make(d).score(X_te, y_te) for d in densities]
          for name, make in methods.items()}
for name, acc in scores.items():
    print(f"{name:<22}", "  ".join(f"{a:.3f}" for a in acc))

# %%
# Plot
# ----

fig, ax = plt.subplots(figsize=(6, 4))
for name, acc in scores.items():
    ax.plot(densities, acc, "o-", label=name)
ax.axhline(dense.score(X_te, y_te), color="k", ls=":", label="dense")
ax.set_xscale("log")
ax.set_xticks(densities, [f"{d:.0%}" for d in densities])
ax.set_xlabel("density (fraction of weights kept)")
ax.set_ylabel("test accuracy")
ax.set_title("digits, 64-128-10 MLP")
ax.legend()
fig.tight_layout()
plt.show()
