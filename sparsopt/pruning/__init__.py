"""Neural-network pruning: masks, criteria, schedules and the sparse MLP estimators.

A network's weights are a list of 2-D arrays shaped like scikit-learn's ``coefs_``
(``(n_in, n_out)`` per layer); a mask is a boolean array of the same shape (True =
kept); the density is kept / size over the prunable layers.

* Allocation: :func:`layer_densities`, :func:`layer_counts` (uniform, ER, ERK).
* Criteria (which weights to keep): :class:`MagnitudeCriterion`,
  :class:`RandomCriterion`, :class:`NMCriterion`, :class:`GroupEnvelope`, and
  :func:`get_criterion`.
* Schedules (when, and to which density): :class:`OneShot`, :class:`Iterative`,
  :class:`PolynomialDecay`, :class:`Constant`, :class:`PruneEvent`, and
  :func:`get_schedule`.
* Meta-estimator and soups: :class:`MLPPruner` (prune a scikit-learn MLP in place),
  :func:`sparse_soup` (average pruned networks that share a mask).
* Sparse MLPs: :class:`SparseMLPClassifier`, :class:`SparseMLPRegressor`, with the mask
  updaters :class:`SRSTE`, :class:`NeuroRegeneration` and :class:`SoftShrinkage`.
* Sparse inference: :func:`to_sparse_network` packs the layers as compressed sparse
  rows, :func:`sparse_network_forward` runs the fused forward pass.
"""

from ._allocation import layer_counts, layer_densities
from ._criteria import (
    GroupEnvelope,
    MagnitudeCriterion,
    NMCriterion,
    PruningCriterion,
    RandomCriterion,
    get_criterion,
)
from ._estimators import SparseMLPClassifier, SparseMLPRegressor
from ._meta import MLPPruner
from ._schedules import (
    Constant,
    Iterative,
    OneShot,
    PolynomialDecay,
    PruneEvent,
    PruningSchedule,
    get_schedule,
)
from ._soups import sparse_soup
from ._sparse import SparseNetwork, sparse_network_forward, to_sparse_network
from ._updaters import SRSTE, MaskUpdater, NeuroRegeneration, SoftShrinkage

__all__ = [
    "Constant",
    "GroupEnvelope",
    "Iterative",
    "MLPPruner",
    "MagnitudeCriterion",
    "NMCriterion",
    "OneShot",
    "PolynomialDecay",
    "PruneEvent",
    "PruningCriterion",
    "PruningSchedule",
    "RandomCriterion",
    "SparseNetwork",
    "get_criterion",
    "get_schedule",
    "layer_counts",
    "layer_densities",
    "sparse_soup",
    # the sparse MLP and its mask updaters
    "MaskUpdater",
    "NeuroRegeneration",
    "SRSTE",
    "SoftShrinkage",
    "SparseMLPClassifier",
    "SparseMLPRegressor",
    "sparse_network_forward",
    "to_sparse_network",
]
