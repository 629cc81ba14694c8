"""Supervised dictionary learning (supervised matrix factorization, Lee, Lyu & Yao).

A dictionary ``W`` (``components_``), codes ``H`` and a multinomial logistic classifier
are learned jointly, so that the dictionary both reconstructs the data and carries the
directions that predict the label. Two models:

* ``mode="filter"`` (SMF-W): the classifier reads the projections ``x W`` of a sample
  onto the atoms, ``logits = beta W^T x + gamma [1; z]``;
* ``mode="feature"`` (SMF-H): the classifier reads the sample's codes ``h``,
  ``logits = beta h + gamma [1; z]``;

both with the reconstruction term ``xi ||X - H W||_F^2``. Auxiliary covariates ``z``
(columns of ``X`` named by ``aux_features``) enter the classifier only.

Two solvers: block coordinate descent on the factors (``"bcd"``) and low-rank
projected gradient descent on the lifted convex problem (``"lpgd"``), warm-started
from a few BCD sweeps.

The package holds one module per piece: :mod:`.problem` (validation, loss, data),
:mod:`.factors` (block coordinate descent on the factors, initialisation),
:mod:`.lifted` (projected gradient descent on the lifted problem), :mod:`.learn` (the
native function) and :mod:`.estimator`.
"""

from .estimator import SupervisedDictionaryLearning
from .learn import supervised_dictionary_learning
from .problem import MODES, SOLVERS, _split_features

__all__ = ["MODES", "SOLVERS", "SupervisedDictionaryLearning", "_split_features",
           "supervised_dictionary_learning"]
