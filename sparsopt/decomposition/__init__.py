"""Sparse coding of signals against a dictionary (more estimators as families land)."""

from ._encode import SOLVERS, sparse_encode
from ._sparse_coder import SparseCoder

__all__ = ["SOLVERS", "SparseCoder", "sparse_encode"]
