"""Linear models: sparse Bayesian learning (:class:`SBLRegressor`, :class:`KroneckerSBL`),
Lasso-type models (:class:`Lasso`, :class:`ElasticNet`, :class:`LassoCV`),
sparse logistic models (:class:`SparseLogisticRegression`,
:class:`MultinomialLogisticRegression`) and graph label propagation
(:class:`GraphLabelPropagation`)."""

from ._label_propagation import GraphLabelPropagation
from ._lasso import ElasticNet, Lasso, LassoCV
from ._logistic import MultinomialLogisticRegression, SparseLogisticRegression
from ._sbl import KroneckerSBL, SBLRegressor

__all__ = [
    "ElasticNet",
    "GraphLabelPropagation",
    "KroneckerSBL",
    "Lasso",
    "LassoCV",
    "MultinomialLogisticRegression",
    "SBLRegressor",
    "SparseLogisticRegression",
]
