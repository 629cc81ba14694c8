"""Proximal gradient (ISTA) and its accelerated, restarted variant (FISTA)."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import numpy as np

from .._core.capabilities import require
from .._core.loop import copy_array, run_iterations
from ..backends import device, is_numpy_namespace
from ..losses import Multinomial, get_loss
from ..penalties import get_penalty
from ..utils.validation import check_array, check_int, check_scalar
from .coding._common import input_namespace


def proximal_gradient(X, y, *, loss="squared", penalty="l1", alpha=1.0, init=None, step=None,
                      accelerated="auto", restart=True, sample_weight=None, max_iter=1000,
                      tol=1e-6, check_every=5, callback=None, verbose=None, engine=None):
    """Minimize ``mean_i loss(y_i, x_i^T w) + penalty(w)`` by proximal gradient descent.

    ISTA takes ``x <- prox_{s penalty}(x - s grad f(x))``; FISTA adds Nesterov
    momentum and, with ``restart=True``, the gradient-based adaptive restart of
    O'Donoghue and Candès, which keeps it monotone-ish on nonconvex-looking
    landscapes and fast on strongly convex ones.

    Objective (scikit-learn's regression convention, the same as :func:`working_set_cd`,
    :func:`prox_newton` and :func:`bcd` on ``(X, y)``)::

        F(w) = 1/sum(s) * sum_i s_i loss(y_i, x_i^T w) + penalty.value(w)

    with ``s`` the sample weights (ones by default; only their ratios matter, as in
    scikit-learn, where they are rescaled to sum to ``n_samples``). For ``loss="squared"``
    this is ``1/(2n) ||y - X w||^2 + penalty(w)``, scikit-learn's ``Lasso`` objective.

    Array API: ``X``, ``y`` (and ``init``, ``sample_weight``) of any array-API namespace
    (CuPy, ...) are solved in it, on their device, with the same iterations: gradient,
    prox (the penalty's namespace-generic kernel), momentum and its restart (a device
    mask, no host decision per iteration) stay there; the stopping test and the
    objective bring one host float per check, and ``result.x`` is an array of that
    namespace. The step ``1/L`` comes from the largest singular value computed there.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Design matrix. float32 stays float32. Dense arrays of another array-API
        namespace are supported (see above); SciPy sparse matrices are NumPy-only.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Target (class indices for ``loss="multinomial"``, -1/+1 for ``"logistic"``).
    loss : str or Loss, default="squared"
        Data fit; see :mod:`sparsopt.losses`.
    penalty : str or Penalty, default="l1"
        Regularizer with a ``prox``: a name of :func:`sparsopt.penalties.get_penalty` (built
        with ``alpha``) or a penalty object (its own ``alpha`` is used), possibly
        constrained (``L1(0.1) + Positive()``).
    alpha : float, default=1.0
        Regularization strength when ``penalty`` is a name.
    init : ndarray of shape (n_features,) or (n_features, n_targets), default=None
        Starting point (zeros by default).
    step : float, default=None
        Step size; ``None`` uses ``1 / L`` with ``L`` the Lipschitz constant of the
        gradient of the loss part.
    accelerated : bool or "auto", default="auto"
        FISTA momentum. ``"auto"`` uses it for convex penalties and plain ISTA
        (which decreases the objective monotonically) for nonconvex ones.
    restart : bool, default=True
        Adaptive restart of the momentum (only with acceleration).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights of the samples in the mean (not all zero).
    max_iter : int, default=1000
        Hard cap on iterations.
    tol : float, default=1e-6
        Tolerance on the stopping criterion, the relative gradient-mapping norm
        ``||x - prox(x - s grad f(x))||_inf / (s * max(||grad f(0)||_inf, eps))``
        (zero exactly at stationary points).
    check_every : int, default=5
        Evaluate the criterion, the objective and the callback every this many iterations.
    callback : callable, default=None
        ``callback(state) -> bool``; returning True stops the solver.
    verbose : int or None, default=None
        Print the criterion and objective at each check; ``None`` uses
        ``sparsopt.get_config()["verbose"]``.
    engine : {"auto", "numpy", "numba", "cupy"}, default=None
        Backend of the prox kernels.

    Returns
    -------
    result : SolverResult
        ``x`` of shape (n_features,) or (n_features, n_targets); ``info`` has
        ``step``, ``lipschitz``, ``accelerated`` and ``restarts``.

    References
    ----------
    .. [1] A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding
       algorithm for linear inverse problems", SIAM J. Imaging Sci. 2(1), 2009.
    .. [2] B. O'Donoghue and E. Candès, "Adaptive restart for accelerated gradient
       schemes", Found. Comput. Math. 15, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import L1
    >>> from sparsopt.solvers import proximal_gradient
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20))
    >>> w_true = np.zeros(20); w_true[:3] = [2.0, -1.0, 1.5]
    >>> res = proximal_gradient(X, X @ w_true, penalty=L1(alpha=0.02), tol=1e-8, max_iter=5000)
    >>> res.converged, np.flatnonzero(np.abs(res.x) > 1e-6).tolist()
    (True, [0, 1, 2])
    """
    name = "proximal_gradient"
    xp = input_namespace(X, y, init, sample_weight)  # TypeError for mixed libraries
    loss = get_loss(loss)
    penalty = get_penalty(penalty, alpha=alpha)
    if not is_numpy_namespace(xp):
        A, y, weights, x0 = _validate_namespace(xp, X, y, init, sample_weight, loss, name)
        if isinstance(loss, Multinomial):  # a private copy that may cache its one-hot target
            loss = copy.copy(loss)  # for this run's (validated, private) y only
            loss.__dict__["_cache_onehot"] = True
        require(penalty, {"prox", "value"}, solver=name)
        require(loss, {"value", "grad", "lipschitz"}, solver=name)
    else:
        A, y, weights, x0 = _validate_numpy(X, y, init, sample_weight, loss, penalty, name)
    max_iter = check_int(max_iter, "max_iter", name, lower=1)
    check_every = check_int(check_every, "check_every", name, lower=1)
    tol = check_scalar(tol, "tol", name, lower=0.0)
    if accelerated == "auto":
        accelerated = bool(penalty.is_convex)
    elif not isinstance(accelerated, (bool, np.bool_)):
        raise ValueError(f"{name}: accelerated must be True, False or 'auto', got {accelerated!r}.")

    lipschitz = loss.lipschitz_constant(A, weights)
    if step is None:
        if lipschitz == 0:
            raise ValueError(f"{name}: X is zero, so the step 1/L is undefined; pass step.")
        step = 1.0 / lipschitz
    step = check_scalar(step, "step", name, lower=0.0, lower_inclusive=False)
    penalty.check_step(step)
    return _solve(xp, A, y, weights, x0, loss, penalty, step, lipschitz, accelerated,
                  restart, max_iter, tol, check_every, callback, verbose, engine, name)


def _validate_numpy(X, y, init, sample_weight, loss, penalty, name):
    """The NumPy (and SciPy sparse) inputs checked: ``(A, y, weights, x0)``."""
    A = check_array(X, "X", name, ndim=2, allow_sparse=True)
    dtype = A.dtype
    require(penalty, {"prox", "value"}, solver=name)
    require(loss, {"value", "grad", "lipschitz"}, solver=name)
    if isinstance(loss, Multinomial):
        y = loss.check_target(np.asarray(y))
        n_out = int(y.max()) + 1 if init is None else np.shape(init)[1]
    else:
        y = check_array(y, "y", name, ndim=(1, 2))
        y = loss.check_target(y).astype(dtype, copy=False)
        n_out = None if y.ndim == 1 else y.shape[1]
    if y.shape[0] != A.shape[0]:
        raise ValueError(
            f"{name}: y has {y.shape[0]} samples but X has {A.shape[0]} rows."
        )
    if sample_weight is not None:
        sample_weight = check_array(sample_weight, "sample_weight", name, ndim=1)
        if sample_weight.shape[0] != A.shape[0] or np.any(sample_weight < 0) \
                or not sample_weight.sum() > 0:
            raise ValueError(
                f"{name}: sample_weight must be non-negative, not all zero, with one entry "
                "per sample."
            )
        weights = (sample_weight / sample_weight.sum()).astype(dtype)
    else:
        weights = np.full(A.shape[0], 1.0 / A.shape[0], dtype=dtype)
    shape = (A.shape[1],) if n_out is None else (A.shape[1], n_out)
    if init is None:
        x0 = np.zeros(shape, dtype=dtype)
    else:
        x0 = check_array(init, "init", name, copy=True).astype(dtype, copy=False)
        if x0.shape != shape:
            raise ValueError(f"{name}: init must have shape {shape}, got {x0.shape}.")
    return A, y, weights, x0


def _validate_namespace(xp, X, y, init, sample_weight, loss, name):
    """Arrays of another namespace checked there: ``(A, y, weights, x0)`` on X's device."""
    from .coding._common import check_namespace_array

    A = check_namespace_array(X, "X", name, 2)
    dtype = A.dtype
    if isinstance(loss, Multinomial):
        y = loss.check_target(y)
        n_out = (int(xp.max(y)) + 1 if y.shape[0] else 1) if init is None else init.shape[1]
    else:
        if getattr(y, "ndim", None) not in (1, 2):
            raise ValueError(f"{name}: y must have 1 or 2 dimension(s), got shape "
                             f"{tuple(getattr(y, 'shape', ()))}.")
        y = check_namespace_array(y, "y", name, y.ndim)
        y = xp.astype(loss.check_target(y), dtype)
        n_out = None if y.ndim == 1 else y.shape[1]
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"{name}: y has {y.shape[0]} samples but X has {A.shape[0]} rows.")
    if sample_weight is not None:
        sw = check_namespace_array(sample_weight, "sample_weight", name, 1)
        if sw.shape[0] != A.shape[0] or bool(xp.any(sw < 0)) or not float(xp.sum(sw)) > 0:
            raise ValueError(
                f"{name}: sample_weight must be non-negative, not all zero, with one entry "
                "per sample."
            )
        weights = xp.astype(sw / xp.sum(sw), dtype)
    else:
        weights = xp.full(A.shape[0], 1.0 / A.shape[0], dtype=dtype, device=device(A))
    shape = (A.shape[1],) if n_out is None else (A.shape[1], n_out)
    if init is None:
        x0 = xp.zeros(shape, dtype=dtype, device=device(A))
    else:
        x0 = xp.astype(check_namespace_array(init, "init", name, init.ndim), dtype, copy=True)
        if tuple(x0.shape) != shape:
            raise ValueError(f"{name}: init must have shape {shape}, got {tuple(x0.shape)}.")
    return A, y, weights, x0


def _solve(xp, A, y, weights, x0, loss, penalty, step, lipschitz, accelerated, restart,
           max_iter, tol, check_every, callback, verbose, engine, name):
    """:func:`proximal_gradient`'s loop, on NumPy (and SciPy sparse) or any namespace.

    Everything but the momentum step is written once; NumPy decides FISTA's restart on
    the host per iteration (:func:`_momentum_numpy`), other namespaces on the device
    (:func:`_momentum_namespace`).
    """
    dtype = A.dtype
    if is_numpy_namespace(xp):
        def grad(x):
            return np.asarray(A.T @ loss.grad(y, A @ x, weights), dtype=dtype)
    else:
        def grad(x):
            g = A.T @ loss.grad(y, A @ x, weights)
            return g if g.dtype == dtype else xp.astype(g, dtype)

    def obj(x):
        return loss.value(y, A @ x, weights) + penalty.value(x, check_finite=False)

    scale = float(xp.max(xp.abs(grad(xp.zeros(x0.shape, dtype=dtype, device=device(x0))))))
    scale = scale if scale > 0 else 1.0

    def prox(v):
        # inputs were validated; non-finite iterates are caught by the loop's guard
        return penalty.prox(v, step, engine=engine, check_finite=False)

    momentum = _momentum_numpy if is_numpy_namespace(xp) else _momentum_namespace
    state, one_step = momentum(xp, x0, lambda v: prox(v - step * grad(v)), accelerated,
                               restart)

    def crit(s, x_prev):
        gm = s.x - prox(s.x - step * grad(s.x))
        return float(xp.max(xp.abs(gm))) / (step * scale)

    result = run_iterations(
        one_step, state, stop_crit=crit, max_iter=max_iter, tol=tol, check_every=check_every,
        objective=lambda s: obj(s.x), callback=callback, verbose=verbose, solver=name,
        criterion="relative gradient-mapping norm",
        hint="for nonconvex penalties a smaller step can help",
        info={"step": step, "lipschitz": lipschitz, "accelerated": accelerated},
    )
    return result.with_info(restarts=int(state.restarts))


def _momentum_numpy(xp, x0, forward_backward, accelerated, restart):
    """``(state, one_step)`` of the NumPy loop: FISTA's restart test is a host decision."""
    state = SimpleNamespace(x=x0, y=x0.copy(), t=1.0, restarts=0)

    def one_step(s, it):
        x_new = forward_backward(s.y)
        if accelerated:
            if restart and float(np.vdot(s.y - x_new, x_new - s.x)) > 0:
                s.t = 1.0
                s.y = x_new
                s.restarts += 1
            else:
                # math.sqrt gives a Python float, which keeps float32 iterates float32
                t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * s.t * s.t))
                s.y = x_new + ((s.t - 1.0) / t_new) * (x_new - s.x)
                s.t = t_new
        else:
            s.y = x_new
        s.x = x_new

    return state, one_step


def _momentum_namespace(xp, x0, forward_backward, accelerated, restart):
    """``(state, one_step)`` on arrays of a non-NumPy namespace.

    FISTA's restart test is evaluated on the device (``t`` a float64 0-D array, the
    momentum zeroed by ``where``), so no host decision is taken per iteration; the
    restart count comes to the host once, at the end.
    """
    dtype = x0.dtype
    dev = device(x0)
    state = SimpleNamespace(x=x0, y=copy_array(x0),
                            t=xp.ones((), dtype=xp.float64, device=dev),
                            restarts=xp.zeros((), dtype=xp.int64, device=dev))

    def one_step(s, it):
        x_new = forward_backward(s.y)
        if accelerated:
            t_new = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * s.t * s.t))
            beta = (s.t - 1.0) / t_new
            if restart:
                bad = xp.sum((s.y - x_new) * (x_new - s.x)) > 0
                s.restarts = s.restarts + xp.astype(bad, xp.int64)
                t_new = xp.where(bad, 1.0, t_new)
                beta = xp.where(bad, 0.0, beta)
            s.y = x_new + xp.astype(beta, dtype) * (x_new - s.x)
            s.t = t_new
        else:
            s.y = x_new
        s.x = x_new

    return state, one_step
