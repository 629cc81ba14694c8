"""Linear models: sparse Bayesian learning (:class:`SBLRegressor`, :class:`KroneckerSBL`),
sparse logistic models (:class:`SparseLogisticRegression`,
:class:`MultinomialLogisticRegression`) and graph label propagation
(:class:`GraphLabelPropagation`)."""

from ._label_propagation import GraphLabelPropagation
from ._logistic import MultinomialLogisticRegression, SparseLogisticRegression
from ._sbl import KroneckerSBL, SBLRegressor

__all__ = [
    "GraphLabelPropagation",
    "KroneckerSBL",
    "MultinomialLogisticRegression",
    "SBLRegressor",
    "SparseLogisticRegression",
]
