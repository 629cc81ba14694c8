"""Sparse coding against a dictionary, and dictionary learning (batch, online, orthogonal,
supervised)."""

from ._dict_learning import DictionaryLearning, dict_learning, learn_dictionary
from ._dict_online import (
    MiniBatchDictionaryLearning,
    dict_learning_online,
    learn_dictionary_online,
)
from ._encode import SOLVERS, sparse_encode
from ._orthogonal import OrthogonalDictionaryLearning, orthogonal_dictionary_learning
from ._sparse_coder import SparseCoder
from ._supervised import SupervisedDictionaryLearning, supervised_dictionary_learning

__all__ = [
    "SOLVERS",
    "DictionaryLearning",
    "MiniBatchDictionaryLearning",
    "OrthogonalDictionaryLearning",
    "SparseCoder",
    "SupervisedDictionaryLearning",
    "dict_learning",
    "dict_learning_online",
    "learn_dictionary",
    "learn_dictionary_online",
    "orthogonal_dictionary_learning",
    "sparse_encode",
    "supervised_dictionary_learning",
]
