"""Linear models: sparse Bayesian learning (:class:`SBLRegressor`, :class:`KroneckerSBL`)."""

from ._label_propagation import GraphLabelPropagation
from ._sbl import KroneckerSBL, SBLRegressor

__all__ = ["GraphLabelPropagation", "KroneckerSBL", "SBLRegressor"]
