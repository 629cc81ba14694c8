"""Solvers: plain functions returning a :class:`SolverResult`, grouped by family.

The public import path is ``sparsopt.solvers`` for every family; the code of a family
lives in its own sub-package:

* generic: :func:`proximal_gradient` (any loss, any penalty with a prox);
* ``coding/``: batched sparse coding of the rows of ``X`` against a dictionary:
  :func:`encode` (the dispatcher), :func:`ista`, :func:`fista`, :func:`lca`, :func:`iht`,
  :func:`omp`, :func:`cd`, :func:`lars`;
* ``glm/``: regression and classification on ``(X, y)`` with scikit-learn's mean datafit:
  working-set coordinate descent (:func:`working_set_cd`, :func:`working_set_cd_path`)
  and proximal Newton (:func:`prox_newton`);
* ``blockcd/``: block coordinate descent with greedy rules (:func:`bcd`) and message
  passing on tree blocks (:func:`label_propagation_bcd` and the block builders);
* ``bayes/``: sparse Bayesian learning (:func:`sbl`, :func:`kronecker_sbl`).

Optimal transport is its own public namespace, :mod:`sparsopt.ot`. The loop, state and
result protocol every family shares lives in ``sparsopt._core`` and is re-exported here.
"""

from .._core.capabilities import require
from .._core.loop import run_iterations
from .._core.result import SolverResult, SolverState
from .bayes.kronecker_sbl import kronecker_posterior, kronecker_sbl
from .bayes.sbl import SBLPosterior, sbl, sbl_posterior
from .blockcd.engine import bcd
from .blockcd.trees import (
    greedy_tree_block,
    is_forest,
    label_propagation_bcd,
    lattice_blocks,
    red_black_blocks,
    solve_tree_block,
    tree_partition_blocks,
)
from .coding.cd import cd
from .coding.encode import encode
from .coding.iht import iht
from .coding.ista import fista, ista, lca
from .coding.lars import lars
from .coding.omp import omp
from .glm.prox_newton import logistic_alpha_max, prox_newton
from .glm.working_set_cd import working_set_cd, working_set_cd_path
from .proximal_gradient import proximal_gradient

__all__ = [
    "SBLPosterior",
    "SolverResult",
    "SolverState",
    "bcd",
    "cd",
    "encode",
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
    "working_set_cd",
    "working_set_cd_path",
]
