"""Structured linear operators: :class:`KroneckerOperator` and :func:`kron_apply`."""

from ._kronecker import KroneckerOperator, kron_apply

__all__ = ["KroneckerOperator", "kron_apply"]
