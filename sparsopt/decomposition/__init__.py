"""Sparse coding of signals against a dictionary (more estimators as families land)."""

from ._encode import SOLVERS, sparse_encode
from ._orthogonal import OrthogonalDictionaryLearning, orthogonal_dictionary_learning
from ._sparse_coder import SparseCoder
from ._supervised import SupervisedDictionaryLearning, supervised_dictionary_learning

__all__ = [
    "SOLVERS",
    "OrthogonalDictionaryLearning",
    "SparseCoder",
    "SupervisedDictionaryLearning",
    "orthogonal_dictionary_learning",
    "sparse_encode",
    "supervised_dictionary_learning",
]
