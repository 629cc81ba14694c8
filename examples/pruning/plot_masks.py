"""
======================================
What the masks look like
======================================

The first layer of a network on the 8x8 digits has one row per pixel. We prune a trained
64-64-10 ``MLPClassifier`` to 10 % of its weights with three criteria and show the masks
of that layer (pixels down, hidden units across), then the number of connections each
pixel keeps, as an 8x8 image:

* **global magnitude** keeps the largest weights wherever they are: this layer keeps 8 %,
  the small output layer more, and the pixels keep very different numbers of connections.
  Magnitude only sees sizes: the weights of pixels that are constant in the data get no
  gradient and keep their initial size, so they are not removed first;
* **random** (uniform density per layer) keeps exactly 10 % of this layer, blind to the data;
* **2:4** (N:M) keeps exactly 2 of every 4 consecutive weights along the input axis (every
  hidden unit keeps 2 of pixels 0-3, 2 of pixels 4-7, ...), the pattern sparse tensor cores
  accelerate; its density is 50 % whatever the target.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sparsopt.pruning import MagnitudeCriterion, MLPPruner, NMCriterion, RandomCriterion

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
dense = MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0).fit(X, y)

criteria = {"global magnitude": MagnitudeCriterion("global"),
            "random (uniform)": RandomCriterion("uniform"),
            "2:4": NMCriterion(2, 4)}
masks = {name: MLPPruner(dense, density=0.1, criterion=crit, finetune_epochs=0,
                         refit_estimator=False, random_state=0).fit(X, y).masks_[0]
         for name, crit in criteria.items()}

fig, axes = plt.subplots(2, 3, figsize=(10, 6.5))
for col, (name, mask) in enumerate(masks.items()):
    axes[0, col].imshow(mask, cmap="gray_r", aspect="auto", interpolation="nearest")
    axes[0, col].set_title(f"{name}: {mask.mean():.0%} kept")
    axes[0, col].set_xlabel("hidden unit")
    axes[0, col].set_ylabel("input pixel")
    im = axes[1, col].imshow(mask.sum(axis=1).reshape(8, 8), cmap="viridis")
    axes[1, col].set_title("connections kept per pixel")
    axes[1, col].axis("off")
    fig.colorbar(im, ax=axes[1, col], fraction=0.046)
fig.tight_layout()
plt.show()
