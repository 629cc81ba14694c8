"""The result object of every transport solver."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class OTResult:
    """Solution of an entropic optimal transport problem.

    For a batch of ``B`` problems every array gains a leading axis of length ``B``
    (``n_iter``, ``marginal_error``, ``converged``, ``cost``, ``objective`` become
    arrays), ``history`` holds one tuple per problem and each ``info`` value is a
    tuple with one entry per problem.

    Attributes
    ----------
    plan : ndarray of shape (n, m)
        Transport plan ``P_ij = exp((f_i + g_j - M_ij) / reg)`` (exactly zero on
        rows and columns whose marginal mass is zero).
    cost : float
        Linear transport cost ``<M, P>`` of the returned plan.
    f, g : ndarray of shape (n,) and (m,)
        Dual potentials, in the convention of the plan above (``-inf`` where the
        marginal mass is zero).
    n_iter : int
        Total iterations: Sinkhorn sweeps plus Newton steps.
    marginal_error : float
        ``||P 1 - a||_1 + ||P^T 1 - b||_1``, measured on the returned plan.
    converged : bool
        Whether ``marginal_error <= tol`` was reached (for the unbalanced solver:
        the potentials' change).
    objective : float
        Entropic objective ``<M, P> + reg * sum P (log P - 1)`` of the returned plan.
    reg : float
        Entropic regularisation used.
    history : tuple of dict
        One record per check: ``iteration`` (iterations done), ``stage``
        (``"sinkhorn"``, ``"newton"``, ``"fallback"``, ``"scaling"`` or
        ``"eps=<reg>"`` for an eps-scaling stage), ``marginal_error``,
        ``time`` (seconds since the start). In log-domain Sinkhorn stages the error
        comes free from the last sweep's row log-sum-exp, so it is that of the iterate
        one sweep earlier (the final ``marginal_error`` is measured on the plan).
    info : mapping
        Solver details: ``method``, and for Sinkhorn-Newton-Sparse ``n_sinkhorn``,
        ``n_newton``, ``n_cg`` (matrix-vector products in CG), ``n_plan_evals``
        (``O(nm)`` plan formations, line-search trials included), ``densities``...

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import sinkhorn
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn(np.full(2, 0.5), np.full(2, 0.5), M, reg=0.1)
    >>> res.plan.round(3)
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> bool(res.converged)
    True
    """

    plan: Any
    cost: Any
    f: Any
    g: Any
    n_iter: Any
    marginal_error: Any
    converged: Any
    objective: Any = None
    reg: float = None
    history: tuple = ()
    info: Any = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "history", tuple(self.history))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    def __reduce__(self):
        return (type(self), (self.plan, self.cost, self.f, self.g, self.n_iter,
                             self.marginal_error, self.converged, self.objective, self.reg,
                             self.history, dict(self.info)))

    @property
    def potentials(self):
        """``(f, g)``; POT's ``ot.solve(...).potentials`` are these divided by ``reg``."""
        return self.f, self.g

    @classmethod
    def stack(cls, results):
        """One batched result from a list of per-problem results."""
        keys = []
        for r in results:
            keys.extend(k for k in r.info if k not in keys)
        info = {k: tuple(r.info.get(k) for r in results) for k in keys}
        return cls(
            plan=np.stack([r.plan for r in results]),
            cost=np.array([r.cost for r in results]),
            f=np.stack([r.f for r in results]),
            g=np.stack([r.g for r in results]),
            n_iter=np.array([r.n_iter for r in results]),
            marginal_error=np.array([r.marginal_error for r in results]),
            converged=np.array([bool(r.converged) for r in results]),
            objective=np.array([r.objective for r in results]),
            reg=results[0].reg,
            history=tuple(r.history for r in results),
            info=info,
        )
