"""The result object of every transport solver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.result import SolverResult
from ..backends import array_namespace


@dataclass(frozen=True, kw_only=True)
class OTResult(SolverResult):
    """Solution of an entropic optimal transport problem.

    A :class:`~sparsopt.solvers.SolverResult` whose iterate ``x`` is the transport plan
    and whose ``stop_crit`` is its L1 marginal error (for :func:`sinkhorn_unbalanced`:
    the potentials' change, the quantity compared with ``tol``), with the fields below.

    For a batch of ``B`` problems every array gains a leading axis of length ``B``
    (``x``/``plan``, ``f``, ``g``, and ``n_iter``, ``stop_crit``, ``marginal_error``,
    ``converged``, ``cost``, ``objective`` become arrays), ``history`` holds one tuple
    per problem and each ``info`` value is a tuple with one entry per problem.

    For inputs of another array-API library (CuPy, ...) ``x``/``plan``, ``f`` and ``g``
    are arrays of that library, on its device (as are ``info["row_scaling"]`` and
    ``info["col_scaling"]`` of :func:`sinkhorn_knopp_scaling`); the scalars (``cost``,
    ``marginal_error``, ``objective``, ``stop_crit``...) and ``history`` are host
    values. Use :func:`sparsopt.backends.to_numpy` for a NumPy copy.

    Attributes
    ----------
    x : ndarray of shape (n, m)
        The transport plan (the same array as :attr:`plan`).
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
    stop_crit : float
        The stopping criterion of the returned plan (its ``marginal_error`` for the
        balanced solvers).
    marginal_error : float
        ``||P 1 - a||_1 + ||P^T 1 - b||_1``, measured on the returned plan.
    converged : bool
        Whether ``stop_crit <= tol`` was reached. ``False`` when a callback stopped
        the run or the iterates became non-finite (see :attr:`stopped_by`).
    objective : float
        Entropic objective ``<M, P> + reg * sum P (log P - 1)`` of the returned plan
        (plus the two KL terms for :func:`sinkhorn_unbalanced`).
    reg : float
        Entropic regularisation used.
    history : tuple of dict
        One record per check: ``iteration`` (iterations done), ``stop_crit``,
        ``objective`` (``None``), ``time`` (seconds since the start), ``stage``
        (``"sinkhorn"``, ``"newton"``, ``"fallback"``, ``"scaling"`` or
        ``"eps=<reg>"`` for an eps-scaling stage) and ``marginal_error`` (for the
        unbalanced solver ``potential_change``). In log-domain Sinkhorn stages the
        error comes free from the last sweep's row log-sum-exp, so it is that of the
        iterate one sweep earlier (the final ``marginal_error`` is measured on the plan).
    info : mapping
        Solver details: ``solver``, ``stopped_by``, ``criterion``, ``tol``, and for
        Sinkhorn-Newton-Sparse ``n_sinkhorn``, ``n_newton``, ``n_cg`` (matrix-vector
        products in CG), ``n_plan_evals`` (``O(nm)`` plan formations, line-search
        trials included), ``densities``...

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import sinkhorn
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn(np.full(2, 0.5), np.full(2, 0.5), M, reg=0.1)
    >>> res.plan.round(3)
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> res.x is res.plan, bool(res.converged)
    (True, True)
    """

    plan: Any = None
    cost: Any = None
    f: Any = None
    g: Any = None
    marginal_error: Any = None
    objective: Any = None
    reg: float = None

    def __post_init__(self):
        super().__post_init__()
        # x and plan are one array; stop_crit defaults to the marginal error
        if self.plan is None:
            object.__setattr__(self, "plan", self.x)
        elif self.x is None:
            object.__setattr__(self, "x", self.plan)
        if self.marginal_error is None:
            object.__setattr__(self, "marginal_error", self.stop_crit)

    def _fields(self):
        fields = super()._fields()
        fields.update(plan=self.plan, cost=self.cost, f=self.f, g=self.g,
                      marginal_error=self.marginal_error, objective=self.objective,
                      reg=self.reg)
        return fields

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
        # plans and potentials stay in their namespace (the scalars are host values)
        stack = array_namespace(results[0].plan).stack
        plan = stack([r.plan for r in results])
        return cls(
            x=plan,
            plan=plan,
            n_iter=np.array([r.n_iter for r in results]),
            converged=np.array([bool(r.converged) for r in results]),
            stop_crit=np.array([r.stop_crit for r in results]),
            cost=np.array([r.cost for r in results]),
            f=stack([r.f for r in results]),
            g=stack([r.g for r in results]),
            marginal_error=np.array([r.marginal_error for r in results]),
            objective=np.array([r.objective for r in results]),
            reg=results[0].reg,
            history=tuple(r.history for r in results),
            info=info,
        )
