"""Solvers: plain functions returning a :class:`SolverResult`."""

from ._loop import run_iterations
from ._result import SolverResult, SolverState
from .capabilities import require
from .proximal_gradient import proximal_gradient

__all__ = ["SolverResult", "SolverState", "proximal_gradient", "require", "run_iterations"]
