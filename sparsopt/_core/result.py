"""Result and state objects shared by all solvers."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class SolverResult:
    """What every sparsopt solver returns.

    Attributes
    ----------
    x : ndarray
        Final iterate (the last finite one if the run was rolled back).
    n_iter : int
        Iterations performed.
    converged : bool
        Whether the stopping criterion fell below the tolerance. ``False`` when a callback
        stopped the run (see :attr:`stopped_by`).
    stop_crit : float
        Last value of the stopping criterion.
    history : tuple of dict
        One record per check: ``iteration``, ``stop_crit``, ``objective`` (or
        ``None``), ``time`` (seconds since the start).
    info : mapping
        Solver-specific extras (step size, criterion name, ``stopped_by``...).

    Notes
    -----
    ``x, result = solver(...)`` unpacks into the solution and the full result.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import SolverResult
    >>> res = SolverResult(x=np.zeros(2), n_iter=3, converged=True, stop_crit=0.0)
    >>> x, info = res
    >>> info.n_iter
    3
    """

    x: Any
    n_iter: int
    converged: bool
    stop_crit: float
    history: tuple = ()
    info: Any = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "history", tuple(self.history))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    def __iter__(self):
        return iter((self.x, self))

    def _fields(self):
        """Constructor arguments of this result (subclasses with more fields extend it)."""
        return dict(x=self.x, n_iter=self.n_iter, converged=self.converged,
                    stop_crit=self.stop_crit, history=self.history, info=dict(self.info))

    def with_info(self, **extra):
        """A copy with ``extra`` entries added to ``info`` (solvers add their own details)."""
        fields = self._fields()
        fields["info"].update(extra)
        return type(self)(**fields)

    def __reduce__(self):
        fields = self._fields()
        return (_rebuild, (type(self), fields))

    @property
    def objective(self):
        """Last recorded objective value, or ``None`` if the solver recorded none."""
        for rec in reversed(self.history):
            if rec.get("objective") is not None:
                return rec["objective"]
        return None

    @property
    def stopped_by(self):
        """Why the run ended: ``"tol"``, ``"max_iter"``, ``"callback"``, ``"nonfinite"``
        (or a solver-specific reason recorded in ``info``)."""
        return self.info.get("stopped_by")


def _rebuild(cls, fields):
    return cls(**fields)


@dataclass(frozen=True)
class SolverState:
    """What a callback receives at each check of the stopping criterion.

    Every iterative solver of every family calls ``callback(state)`` with one of these;
    returning True stops the run (``result.converged`` is then False and
    ``result.stopped_by == "callback"``).

    Attributes
    ----------
    iteration : int
    x : ndarray
        Current iterate. Read it, do not modify it.
    stop_crit : float
    objective : float or None
    elapsed : float
        Seconds since the solver started.
    info : mapping
        Solver-specific extras (for instance the current dictionary of a dictionary
        learner, or the dual potentials of an optimal-transport solver).
    """

    iteration: int
    x: Any
    stop_crit: float
    objective: Any
    elapsed: float
    info: Any = field(default_factory=dict)
