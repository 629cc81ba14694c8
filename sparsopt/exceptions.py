"""Warnings and errors raised by sparsopt."""

from sklearn.exceptions import ConvergenceWarning


class NonFiniteIterateWarning(RuntimeWarning):
    """A solver produced NaN or infinity and rolled back to the last finite iterate."""


__all__ = ["ConvergenceWarning", "NonFiniteIterateWarning"]
