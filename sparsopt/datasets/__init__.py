"""Small generators and loaders of built-in data (no network access needed)."""

from ._bars import make_bars
from ._bcd_problems import make_bcd_problem
from ._completion_problem import make_low_rank_completion
from ._graph_problems import harmonic_system, make_knn_label_problem, make_lattice_label_problem
from ._orthogonal_problem import make_orthogonal_dictionary_problem
from ._walsh import make_sparse_walsh
from .generators import make_kronecker_problem, make_sparse_coding_problem, make_sparse_signal
from .images import load_image_patches

__all__ = [
    "harmonic_system",
    "load_image_patches",
    "make_bars",
    "make_bcd_problem",
    "make_knn_label_problem",
    "make_kronecker_problem",
    "make_lattice_label_problem",
    "make_low_rank_completion",
    "make_orthogonal_dictionary_problem",
    "make_sparse_coding_problem",
    "make_sparse_signal",
    "make_sparse_walsh",
]
