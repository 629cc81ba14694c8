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
from ._prosper_anneal import LinearAnnealing
from ._prosper_em import ProsperResult, bsc_em, gsc_em, truncation_moments
from ._prosper_estep import EStepResult, preselect, state_combinations, truncated_estep
from ._prosper_models import BinarySparseCoding, GaussianSparseCoding
from ._sparse_coder import SparseCoder
from ._supervised import SupervisedDictionaryLearning, supervised_dictionary_learning

__all__ = [
    "SOLVERS",
    "BinarySparseCoding",
    "DictionaryLearning",
    "EStepResult",
    "GaussianSparseCoding",
    "LinearAnnealing",
    "ProsperResult",
    "MiniBatchDictionaryLearning",
    "OrthogonalDictionaryLearning",
    "SparseCoder",
    "SupervisedDictionaryLearning",
    "bsc_em",
    "dict_learning",
    "dict_learning_online",
    "gsc_em",
    "learn_dictionary",
    "learn_dictionary_online",
    "orthogonal_dictionary_learning",
    "preselect",
    "sparse_encode",
    "state_combinations",
    "supervised_dictionary_learning",
    "truncated_estep",
    "truncation_moments",
]
