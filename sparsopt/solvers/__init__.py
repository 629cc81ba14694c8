"""Solvers: plain functions returning a :class:`SolverResult`.

Generic: :func:`proximal_gradient` (any loss, any penalty with a prox). Block coordinate
descent with greedy rules: :func:`bcd`; message passing on tree blocks for sparse
quadratics: :func:`label_propagation_bcd`. Batched sparse
coding (rows of ``X`` against a dictionary): :func:`ista`, :func:`fista`, :func:`lca`,
:func:`iht`, :func:`omp`, :func:`cd`, :func:`lars`. Sparse Bayesian learning:
:func:`sbl` (dense dictionary), :func:`kronecker_sbl` (Kronecker dictionary and prior).
"""

from ._bcd_trees import (
    greedy_tree_block,
    is_forest,
    label_propagation_bcd,
    lattice_blocks,
    red_black_blocks,
    solve_tree_block,
    tree_partition_blocks,
)
from ._loop import run_iterations
from ._result import SolverResult, SolverState
from .bcd import bcd
from .capabilities import require
from .cd import cd
from .glm_cd import lasso_cd, lasso_cd_path
from .iht import iht
from .ista import fista, ista, lca
from .kronecker_sbl import kronecker_posterior, kronecker_sbl
from .lars import lars
from .omp import omp
from .prox_newton import logistic_alpha_max, prox_newton
from .proximal_gradient import proximal_gradient
from .sbl import sbl, sbl_posterior

__all__ = [
    "SolverResult",
    "SolverState",
    "bcd",
    "cd",
    "fista",
    "greedy_tree_block",
    "is_forest",
    "iht",
    "kronecker_posterior",
    "kronecker_sbl",
    "label_propagation_bcd",
    "lattice_blocks",
    "ista",
    "lars",
    "lasso_cd",
    "lasso_cd_path",
    "lca",
    "logistic_alpha_max",
    "omp",
    "prox_newton",
    "proximal_gradient",
    "red_black_blocks",
    "require",
    "run_iterations",
    "sbl",
    "sbl_posterior",
    "solve_tree_block",
    "tree_partition_blocks",
]
