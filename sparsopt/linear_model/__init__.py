"""Linear models: sparse Bayesian learning (:class:`SBLRegressor`, :class:`KroneckerSBL`),
Lasso-type models (:class:`Lasso`, :class:`ElasticNet`, :class:`LassoCV`,
:class:`ElasticNetCV`, their paths :func:`lasso_path` and :func:`enet_path`),
least squares with any separable penalty (:class:`SparseRegression`:
MCP, SCAD, l0, lq, ...),
sparse logistic models (:class:`SparseLogisticRegression`,
:class:`MultinomialLogisticRegression`) and graph label propagation
(:class:`GraphLabelPropagation`)."""

from ._label_propagation import GraphLabelPropagation
from ._lasso import ElasticNet, Lasso, enet_path, lasso_path
from ._lasso_cv import ElasticNetCV, LassoCV
from ._logistic import MultinomialLogisticRegression, SparseLogisticRegression
from ._sbl import KroneckerSBL, SBLRegressor
from ._sparse_regression import SparseRegression

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "GraphLabelPropagation",
    "KroneckerSBL",
    "Lasso",
    "LassoCV",
    "MultinomialLogisticRegression",
    "SBLRegressor",
    "SparseLogisticRegression",
    "SparseRegression",
    "enet_path",
    "lasso_path",
]
