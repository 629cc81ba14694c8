"""The loop protocol every iterative solver follows: checks, callback, guard, warnings.

Two entry points share one implementation:

* :func:`run_iterations` drives a solver written as a ``step(state, iteration)`` function;
* :class:`LoopMonitor` serves solvers that own their loop (compiled epochs, homotopies,
  EM sweeps, Newton steps): the solver calls :meth:`LoopMonitor.check` at each check of
  its stopping criterion and :meth:`LoopMonitor.result` at the end.

Either way a solver gets the same behaviour: ``callback(SolverState)`` returning True
stops the run (``converged=False``, ``stopped_by="callback"``), ``verbose=None`` reads
:func:`sparsopt.get_config`, a non-finite iterate rolls back to the last finite one with one
:class:`~sparsopt.exceptions.NonFiniteIterateWarning`, and reaching ``max_iter`` gives one
:class:`~sparsopt.exceptions.ConvergenceWarning` that names the criterion, the tolerance
and what to change.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .._config import get_config
from ..backends._namespace import array_namespace
from ..exceptions import ConvergenceWarning, NonFiniteIterateWarning
from .result import SolverResult, SolverState


def all_finite(x):
    """Whether every entry of ``x`` (an array of any namespace, or a tuple of them) is finite.

    One host synchronization for device arrays (a 0-D boolean), no transfer of ``x``.
    """
    if isinstance(x, (tuple, list)):
        return all(all_finite(a) for a in x)
    if isinstance(x, np.ndarray):
        return bool(np.isfinite(x).all())
    xp = array_namespace(x)
    return bool(xp.all(xp.isfinite(x)))


def resolve_verbose(verbose):
    """``verbose`` as an int; ``None`` reads ``sparsopt.get_config()["verbose"]``."""
    if verbose is None:
        return int(get_config()["verbose"])
    if isinstance(verbose, bool):
        return int(verbose)
    try:
        v = int(verbose)
    except (TypeError, ValueError):
        raise ValueError(f"verbose must be None, a bool or a non-negative int, "
                         f"got {verbose!r}.") from None
    if v < 0:
        raise ValueError(f"verbose must be non-negative, got {verbose!r}.")
    return v


def check_max_iter(max_iter, solver, name="max_iter"):
    """Validate a hard iteration cap (an int >= 1)."""
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"{solver}: {name} must be an integer >= 1, got {max_iter!r}.")
    return int(max_iter)


def warn_not_converged(solver, criterion, value, tol, max_iter, hint="", stacklevel=3):
    """The one ConvergenceWarning text of the library."""
    warnings.warn(
        f"{solver} did not converge: {criterion} = {value:.3e} > tol = {tol:.1e} after "
        f"max_iter = {max_iter} iterations. Increase max_iter or tol"
        + (f"; {hint}" if hint else "") + ".",
        ConvergenceWarning,
        stacklevel=stacklevel + 1,
    )


def warn_nonfinite(solver, iteration, last_good_iter, stacklevel=3):
    """The one NonFiniteIterateWarning text of the library."""
    warnings.warn(
        f"{solver}: the iterate became NaN or infinite at iteration <= {iteration}; returning "
        f"the last finite iterate (iteration {last_good_iter}). Reduce the step size or "
        "check the input scaling.",
        NonFiniteIterateWarning,
        stacklevel=stacklevel + 1,
    )


def _copy(x):
    if isinstance(x, tuple):
        return tuple(_copy(a) for a in x)
    if isinstance(x, np.ndarray):
        return x.copy()
    return copy_array(x)


def copy_array(x):
    """A copy of ``x`` in its own namespace and on its device (``x.copy()`` for NumPy)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    return array_namespace(x).asarray(x, copy=True)


class LoopMonitor:
    """The loop protocol for a solver that owns its loop.

    Parameters
    ----------
    solver : str
        Name used in messages.
    max_iter : int
        The solver's hard iteration cap (validated here).
    tol : float or None
        The run converged when the criterion is ``<= tol``. ``None``: no tolerance, the
        run goes to ``max_iter`` (or a callback stop) and reaching it is not a warning.
    callback : callable ``callback(SolverState) -> bool | None`` or None
        Called at every finite check, the one that meets ``tol`` included; True stops
        the run (a check that also meets ``tol`` is still reported as converged).
    verbose : int, bool or None
        One printed line per check when > 0; ``None`` reads the global configuration.
    criterion : str
        Name of the stopping criterion (for the warning).
    hint : str
        Extra advice appended to the ConvergenceWarning.
    x0 : ndarray, tuple of ndarrays or None
        The initial iterate: where a run rolls back to if its first check is not finite.
        ``None`` means there is no finite iterate before the first check, so a
        non-finite first check raises ``FloatingPointError``.
    keep_finite : bool, default=True
        Keep a copy of the last finite iterate at each check (for the roll back). A
        solver that keeps its own copy passes False and gives ``x`` to :meth:`result`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt._core.loop import LoopMonitor
    >>> mon = LoopMonitor("halving", max_iter=100, tol=1e-3, x0=np.ones(2))
    >>> x = np.ones(2)
    >>> for it in range(1, 101):
    ...     x = x / 2
    ...     if mon.check(it, x, stop_crit=float(np.abs(x).max())):
    ...         break
    >>> res = mon.result(x)
    >>> res.converged, res.n_iter
    (True, 10)
    """

    def __init__(self, solver, *, max_iter, tol, callback=None, verbose=None,
                 criterion="stopping criterion", hint="", x0=None, keep_finite=True):
        self.solver = solver
        self.max_iter = check_max_iter(max_iter, solver)
        if tol is not None and not (isinstance(tol, (int, float, np.floating, np.integer))
                                    and tol >= 0):
            raise ValueError(f"{solver}: tol must be a non-negative number or None, got "
                             f"{tol!r}.")
        self.tol = None if tol is None else float(tol)
        if callback is not None and not callable(callback):
            raise TypeError(f"{solver}: callback must be callable or None, got "
                            f"{type(callback).__name__}.")
        self.callback = callback
        self.verbose = resolve_verbose(verbose)
        self.criterion = criterion
        self.hint = hint
        self.keep_finite = keep_finite
        self.history = []
        self.stop_crit = math.inf
        self.converged = False
        self.stopped_by = "max_iter"
        self.n_iter = 0
        self.last_finite = None if x0 is None else _copy(x0)
        self.last_finite_iter = 0
        self.t0 = time.perf_counter()
        if self.verbose:
            print(f"{solver}: {'iter':>7} {'stop_crit':>12} {'objective':>14}")

    @property
    def elapsed(self):
        """Seconds since the monitor was created."""
        return time.perf_counter() - self.t0

    def check(self, iteration, x, stop_crit, objective=None, *, finite=None, **info):
        """Record one check of the stopping criterion; True means: stop now.

        Parameters
        ----------
        iteration : int
            Iterations done so far.
        x : ndarray or tuple of ndarrays
            Current iterate (not copied unless ``keep_finite``).
        stop_crit : float
            Current value of the stopping criterion.
        objective : float or None
            Recorded in the history when given.
        finite : bool or None
            True when the solver has just checked that ``x`` is finite (the monitor then
            does not scan it again); None scans it.
        **info
            Extra entries for the history record and the callback's ``state.info``.

        Returns
        -------
        stop : bool
            True when the criterion reached ``tol``, the callback asked to stop, or the
            iterate is no longer finite (the solver then ends with :meth:`result`).
        """
        self.n_iter = int(iteration)
        crit = float(stop_crit)
        if not (finite if finite is not None else all_finite(x)) or math.isnan(crit):
            self.stopped_by = "nonfinite"
            return True
        self.stop_crit = crit
        obj = None if objective is None else float(objective)
        elapsed = self.elapsed
        rec = {"iteration": self.n_iter, "stop_crit": crit, "objective": obj, "time": elapsed}
        rec.update(info)
        self.history.append(rec)
        if self.verbose:
            obj_s = f"{obj:14.6e}" if obj is not None else f"{'-':>14}"
            print(f"{self.solver}: {self.n_iter:7d} {crit:12.4e} {obj_s}")
        if self.keep_finite:
            self.last_finite = _copy(x)
        self.last_finite_iter = self.n_iter
        # the callback sees every finite check, the last one included; when the criterion
        # met tol at the same check, the run is reported as converged whatever it returns
        asked = self.callback is not None and self.callback(
            SolverState(iteration=self.n_iter, x=x, stop_crit=crit, objective=obj,
                        elapsed=elapsed, info=info)
        )
        if self.tol is not None and crit <= self.tol:
            self.converged = True
            self.stopped_by = "tol"
            return True
        if asked:
            self.stopped_by = "callback"
            return True
        return False

    def result(self, x=None, *, result_cls=SolverResult, warn=True, stacklevel=2, **info):
        """Package the run: roll back if needed, warn once, return a :class:`SolverResult`.

        Parameters
        ----------
        x : ndarray or None
            The final iterate. After a non-finite check, the last finite iterate kept by
            the monitor is returned instead (with ``keep_finite=False`` the solver passes
            the finite iterate it restored itself). ``None`` uses the monitor's copy.
        result_cls : type, default=SolverResult
            A subclass to build instead.
        warn : bool, default=True
            Emit the ConvergenceWarning when ``max_iter`` was reached (a solver running
            a path warns once for the whole path and passes False).
        **info
            Solver-specific entries of ``result.info`` (a subclass's extra fields go
            through ``info`` too: keys matching its fields are passed to the constructor).
        """
        n_iter = self.n_iter
        if self.stopped_by == "nonfinite":
            if self.keep_finite or x is None or not all_finite(x):
                x = self.last_finite  # else: the solver restored its own finite iterate
            if x is None:
                raise FloatingPointError(
                    f"{self.solver}: the iterate became NaN or infinite before any finite "
                    "iterate was recorded. Check the input scaling and the step size.")
            warn_nonfinite(self.solver, self.n_iter, self.last_finite_iter,
                           stacklevel=stacklevel + 1)
            n_iter = self.last_finite_iter
        elif x is None:
            x = self.last_finite
        if self.stopped_by == "max_iter" and warn and self.tol is not None:
            warn_not_converged(self.solver, self.criterion, self.stop_crit, self.tol,
                               self.max_iter, self.hint, stacklevel=stacklevel + 1)
        extra = dict(stopped_by=self.stopped_by, criterion=self.criterion, tol=self.tol,
                     time=self.elapsed)
        extra.update(info)
        fields = {k: extra.pop(k) for k in list(extra)
                  if k in getattr(result_cls, "__dataclass_fields__", {})
                  and k not in ("x", "n_iter", "converged", "stop_crit", "history", "info")}
        return result_cls(x=x, n_iter=n_iter, converged=self.converged,
                          stop_crit=self.stop_crit, history=self.history, info=extra, **fields)


def run_iterations(step, state, *, stop_crit, max_iter, tol, check_every=1, objective=None,
                   callback=None, verbose=None, solver="solver", criterion="stopping criterion",
                   hint="", info=None):
    """Drive an iterative solver and package its :class:`SolverResult`.

    Parameters
    ----------
    step : callable ``step(state, iteration)``
        Performs one iteration in place on ``state`` (any object with an ``x``
        attribute holding the current iterate; other attributes are the solver's).
    state : object
        Mutable solver state; ``state.x`` must exist before the loop.
    stop_crit : callable ``stop_crit(state, x_prev) -> float``
        Stopping criterion, evaluated every ``check_every`` iterations with the
        iterate of the previous iteration.
    max_iter : int
        Hard cap on iterations.
    tol : float
        The run converged when ``stop_crit <= tol``.
    check_every : int, default=1
        Check (criterion, finiteness, callback, objective) every this many iterations.
    objective : callable ``objective(state) -> float`` or None
        Recorded in the history at each check when given.
    callback : callable ``callback(SolverState) -> bool | None`` or None
        Called at each check; returning True stops the solver (not a failure).
    verbose : int or None, default=None
        Print one line per check when > 0; ``None`` uses
        ``sparsopt.get_config()["verbose"]``.
    solver : str
        Name used in messages.
    criterion : str
        Description of ``stop_crit`` used in the warning.
    hint : str
        Extra advice appended to the ConvergenceWarning.
    info : dict or None
        Extra entries for ``SolverResult.info``.

    Returns
    -------
    result : SolverResult

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` was reached before ``stop_crit <= tol``.
    NonFiniteIterateWarning
        If an iterate became NaN/inf: the result holds the last finite iterate.
    """
    if isinstance(check_every, bool) or not isinstance(check_every, (int, np.integer)) \
            or check_every < 1:
        raise ValueError(f"{solver}: check_every must be >= 1, got {check_every}.")
    mon = LoopMonitor(solver, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion=criterion, hint=hint, x0=state.x)
    for it in range(1, mon.max_iter + 1):
        check = it % check_every == 0 or it == mon.max_iter
        x_prev = _copy(state.x) if check else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # overflow is caught below by the finiteness guard, with one clear warning
            step(state, it)
        if not check:
            continue
        if not all_finite(state.x):
            mon.n_iter = it
            mon.stopped_by = "nonfinite"
            break
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            crit = float(stop_crit(state, x_prev))
            obj = float(objective(state)) if objective is not None else None
        if mon.check(it, state.x, crit, obj):
            break
    res = mon.result(state.x, stacklevel=3, **(info or {}))
    state.x = res.x
    return res
