"""Sparse coding of signals against a dictionary (more estimators as families land)."""

from ._encode import SOLVERS, sparse_encode
from ._orthogonal import OrthogonalDictionaryLearning, orthogonal_dictionary_learning
from ._sparse_coder import SparseCoder

__all__ = [
    "SOLVERS",
    "OrthogonalDictionaryLearning",
    "SparseCoder",
    "orthogonal_dictionary_learning",
    "sparse_encode",
]
