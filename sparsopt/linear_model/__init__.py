"""Linear models: sparse Bayesian learning (:class:`SBLRegressor`, :class:`KroneckerSBL`)."""

from ._sbl import KroneckerSBL, SBLRegressor

__all__ = ["KroneckerSBL", "SBLRegressor"]
