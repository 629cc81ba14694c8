"""The outer loop every iterative solver runs: checks, callback, guard, warnings."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._config import get_config
from ..exceptions import NonFiniteIterateWarning
from .result import SolverResult, SolverState


def _all_finite(x):
    xp = np
    if type(x).__module__.split(".")[0] == "cupy":  # pragma: no cover - GPU only
        import cupy as xp
    return bool(xp.isfinite(x).all())


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
    if max_iter < 1:
        raise ValueError(f"{solver}: max_iter must be >= 1, got {max_iter}.")
    if check_every < 1:
        raise ValueError(f"{solver}: check_every must be >= 1, got {check_every}.")
    if verbose is None:
        verbose = get_config()["verbose"]
    history = []
    last_good = state.x.copy()
    last_good_iter = 0
    crit = float("inf")
    converged = False
    stopped_by = "max_iter"
    t0 = time.perf_counter()
    if verbose:
        print(f"{solver}: {'iter':>7} {'stop_crit':>12} {'objective':>14}")
    it = 0
    for it in range(1, max_iter + 1):
        check = it % check_every == 0 or it == max_iter
        x_prev = state.x.copy() if check else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # overflow is caught below by the finiteness guard, with one clear warning
            step(state, it)
        if not check:
            continue
        if not _all_finite(state.x):
            warnings.warn(
                f"{solver}: the iterate became NaN or infinite at iteration <= {it}; returning "
                f"the last finite iterate (iteration {last_good_iter}). Reduce the step size or "
                "check the input scaling.",
                NonFiniteIterateWarning,
                stacklevel=3,
            )
            state.x = last_good
            stopped_by = "nonfinite"
            it = last_good_iter
            break
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            crit = float(stop_crit(state, x_prev))
            obj = float(objective(state)) if objective is not None else None
        elapsed = time.perf_counter() - t0
        history.append({"iteration": it, "stop_crit": crit, "objective": obj, "time": elapsed})
        if verbose:
            obj_s = f"{obj:14.6e}" if obj is not None else f"{'-':>14}"
            print(f"{solver}: {it:7d} {crit:12.4e} {obj_s}")
        last_good = state.x.copy()
        last_good_iter = it
        if crit <= tol:
            converged = True
            stopped_by = "tol"
            break
        if callback is not None and callback(
            SolverState(iteration=it, x=state.x, stop_crit=crit, objective=obj, elapsed=elapsed)
        ):
            stopped_by = "callback"
            break
    if stopped_by == "max_iter":
        warnings.warn(
            f"{solver} did not converge: {criterion} = {crit:.3e} > tol = {tol:.1e} after "
            f"max_iter = {max_iter} iterations. Increase max_iter or tol"
            + (f"; {hint}" if hint else "") + ".",
            ConvergenceWarning,
            stacklevel=3,
        )
    extra = dict(info or {})
    extra.update(stopped_by=stopped_by, criterion=criterion, tol=tol,
                 time=time.perf_counter() - t0)
    return SolverResult(x=state.x, n_iter=it, converged=converged, stop_crit=crit,
                        history=history, info=extra)
