"""Working-set coordinate descent for squared loss + any separable penalty, and working-set
block coordinate descent for the group lasso (the skglm/celer recipe): :func:`working_set_cd`,
:func:`working_set_cd_path`, :func:`alpha_max`.

The objective is scikit-learn's mean datafit plus the penalty's value::

    1/(2n) sum_i s_i (y_i - x_i^T w)^2 + pen.value(w)

(``n`` = number of samples, sample weights ``s`` rescaled to sum to ``n``; with
``fit_intercept`` the data are centred first, implicitly for sparse ``X``). With
``pen = L1(alpha)`` this is exactly scikit-learn's Lasso, with ``ElasticNet(alpha, l1_ratio)``
its elastic net.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import scipy.sparse as sp

from ..._core.loop import LoopMonitor
from ...backends import _kinds, kernel_for
from ...exceptions import ConvergenceWarning
from ...penalties import GroupSpec, get_penalty
from ...utils.validation import check_array, check_int, check_scalar

WS_STRATEGIES = ("gs-s", "gs-r", "gap")  # codes 0, 1, 2 of the glm_cd_scores kernel

#: inner working-set problems are solved to this fraction of the outer KKT violation (skglm)
INNER_FRACTION = 0.3
#: stop (not converged) when the gap has not dropped below 0.99 x its best value for this many
#: outer iterations: the tolerance is below what the dtype's rounding allows
STAGNATION_ITERS = 20
STAGNATION_DECREASE = 0.99


class _OuterStop:
    """The outer loop's budget and stagnation stops, shared by the separable and group paths.

    ``update(n_outer, n_epochs, crit)`` returns ``"max_iter"``, ``"max_epochs"``,
    ``"stagnation"`` (no ``STAGNATION_DECREASE`` progress of ``crit`` in
    ``STAGNATION_ITERS`` outer iterations) or ``None`` (go on).
    """

    def __init__(self, max_iter, max_epochs):
        self.max_iter, self.max_epochs = max_iter, max_epochs
        self.best, self.best_at = float("inf"), 0

    def __call__(self, n_outer, n_epochs, crit):
        if n_outer >= self.max_iter or n_epochs >= self.max_epochs:
            return "max_epochs" if n_epochs >= self.max_epochs else "max_iter"
        if crit < STAGNATION_DECREASE * self.best:
            self.best, self.best_at = crit, n_outer
        elif n_outer - self.best_at >= STAGNATION_ITERS:
            return "stagnation"
        return None


# ----------------------------------------------------------------------------- problem set-up


def _vdot(a, b):
    """float64 dot product of two vectors without BLAS (a threaded BLAS ``ddot`` costs
    milliseconds of thread synchronisation on a busy machine, more than the product)."""
    return float(np.multiply(a, b, dtype=np.float64).sum())


class _Problem:
    """Centred, weighted data in the form the kernels need (built once, reused on a path).

    Dense: ``X`` Fortran-ordered, centred and row-scaled by ``sqrt(sample_weight)``.
    Sparse: ``Xs`` CSC row-scaled, with the centring kept implicit: the effective columns are
    ``Xs_j - mu_j v`` with ``v = sqrt(sample_weight)`` (ones without weights).
    """

    def __init__(self, X, y, sample_weight, fit_intercept, owner):
        self.sparse = sp.issparse(X)
        n, p = X.shape
        self.n, self.p = n, p
        dtype = X.dtype
        self.dtype = dtype
        y = np.asarray(y, dtype=dtype)
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            sw = sw * (n / sw.sum())
            s = np.sqrt(sw)
        else:
            sw = s = None
        self.fit_intercept = bool(fit_intercept)
        if fit_intercept:
            y_off = float(np.average(y, weights=sw))
        else:
            y_off = 0.0
        yc = (y.astype(np.float64) - y_off)
        if s is not None:
            yc = yc * s
        self.y = np.ascontiguousarray(yc, dtype=dtype)
        self.y_offset = y_off
        if self.sparse:
            Xs = sp.csc_matrix(X)  # the kernels need no sorted indices
            if s is not None:
                Xs = sp.csc_matrix(sp.diags(s.astype(dtype)) @ Xs)
            self.data = np.ascontiguousarray(Xs.data, dtype=dtype)
            self.indices = np.ascontiguousarray(Xs.indices, dtype=np.int32)
            self.indptr = np.ascontiguousarray(Xs.indptr, dtype=np.int32)
            self.Xs = sp.csc_matrix((self.data, self.indices, self.indptr), shape=(n, p))
            self.XsT = self.Xs.T
            self.v = (np.ones(n) if s is None else s).astype(dtype)
            if fit_intercept:
                w_ = np.ones(n) if sw is None else sw
                mu = np.asarray(sp.csr_matrix(X).T @ w_).ravel() / w_.sum()
            else:
                mu = np.zeros(p)
            self.mu = mu.astype(dtype)
            self.x_offset = mu
            d64 = self.data.astype(np.float64)
            cols = np.repeat(np.arange(p), np.diff(self.indptr))
            sq = np.bincount(cols, weights=d64 * d64, minlength=p)
            if fit_intercept:
                v64 = self.v.astype(np.float64)
                xv = np.bincount(cols, weights=d64 * v64[self.indices], minlength=p)
                self.vv = _vdot(v64, v64)
                norms2 = sq - 2.0 * mu * xv + mu * mu * self.vv
            else:
                xv = np.zeros(p)
                self.vv = float(n)
                norms2 = sq
            self.xv = xv.astype(dtype)
            self.norms2 = np.maximum(norms2, 0.0)
        else:
            X = np.asarray(X)
            if fit_intercept or s is not None:
                Xc = np.array(X, dtype=dtype, order="F", copy=True)
            else:
                Xc = np.asfortranarray(X, dtype=dtype)  # never modified
            if fit_intercept:
                x_off = np.average(X, axis=0, weights=sw)
                Xc -= x_off.astype(dtype)
            else:
                x_off = np.zeros(p)
            if s is not None:
                Xc *= s.astype(dtype)[:, None]
            self.X = Xc
            self.x_offset = np.asarray(x_off, dtype=np.float64)
            self.norms2 = np.einsum("ij,ij->j", self.X, self.X, dtype=np.float64)
        self.lc = np.ascontiguousarray(self.norms2 / n, dtype=dtype)
        self.yn2 = _vdot(self.y, self.y)
        self.owner = owner

    # residual state: dense R, or (Rs, c) with R = Rs + c v
    def residual(self, w):
        if self.sparse:
            Rs = (self.y - self.Xs @ w).astype(self.dtype)
            c = np.array([_vdot(self.mu, w)], dtype=self.dtype)
            if not self.fit_intercept:
                c[0] = 0.0
            return Rs, c
        return (self.y - self.X @ w).astype(self.dtype), None

    def true_residual(self, R, c):
        if self.sparse and self.fit_intercept:
            return np.asarray(R, dtype=np.float64) + float(c[0]) * self.v.astype(np.float64)
        return np.asarray(R, dtype=np.float64)

    def neg_grad(self, R, c):
        """``X^T R / n`` for every feature (float64), and the true residual."""
        Rt = self.true_residual(R, c)
        if self.sparse:
            g = np.asarray(self.XsT @ R, dtype=np.float64).ravel()
            if self.fit_intercept:
                cc = float(c[0])
                s = _vdot(self.v, R)
                g += cc * self.xv - self.mu * (s + cc * self.vv)
        else:
            g = np.asarray(self.X.T @ R, dtype=np.float64)
        return g / self.n, Rt

    def intercept(self, w):
        if not self.fit_intercept:
            return 0.0
        return float(self.y_offset - _vdot(self.x_offset, w))


def _validate(X, y, sample_weight, owner):
    X = check_array(X, "X", owner, ndim=2, allow_sparse=True)
    if sp.issparse(X) and X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    n = X.shape[0]
    if n < 1 or X.shape[1] < 1:
        raise ValueError(f"{owner}: X must have at least one sample and one feature, "
                         f"got shape {X.shape}.")
    y = check_array(y, "y", owner, ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"{owner}: y has {y.shape[0]} entries but X has {n} rows.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{owner}: y contains NaN or infinity.")
    if sample_weight is not None:
        sample_weight = check_array(sample_weight, "sample_weight", owner, ndim=1)
        if sample_weight.shape[0] != n:
            raise ValueError(f"{owner}: sample_weight has {sample_weight.shape[0]} entries but "
                             f"X has {n} rows.")
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise ValueError(f"{owner}: sample_weight must be finite and non-negative.")
        if not sample_weight.sum() > 0:
            raise ValueError(f"{owner}: sample_weight must have a positive sum.")
    return X, y, sample_weight


def _check_params(max_iter, max_epochs, tol, p0, ws_strategy, owner):
    max_iter = check_int(max_iter, "max_iter", owner, lower=1)
    max_epochs = check_int(max_epochs, "max_epochs", owner, lower=1)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    p0 = check_int(p0, "p0", owner, lower=1)
    if ws_strategy not in WS_STRATEGIES:
        raise ValueError(f"{owner}: ws_strategy must be one of {WS_STRATEGIES}, "
                         f"got {ws_strategy!r}.")
    return max_iter, max_epochs, tol, p0


def _penalty(penalty, alpha, owner, n_features):
    """The penalty object and its kernel spec: the coordinate channel ``pen.spec()`` for a
    separable penalty, the group channel ``pen.group_spec(n_features)`` otherwise (the one
    TypeError for a penalty with neither)."""
    if isinstance(penalty, str):
        alpha = check_scalar(alpha, "alpha", owner, lower=0.0)
    pen = get_penalty(penalty, alpha)
    return pen, _spec_of(pen, n_features, owner)


def _spec_of(pen, n_features, owner):
    if pen.is_separable:
        return pen.spec(solver=owner)
    try:
        return pen.group_spec(n_features, solver=owner)
    except TypeError as err:
        raise TypeError(
            f"{owner} needs a separable penalty with a coordinate-wise kernel (l1, l0, lq, "
            "cel0, mcp, scad, log, elasticnet, optionally + Positive() or Box()) or a sum of "
            "group norms over disjoint groups (GroupL21, optionally + Positive()); "
            f"{type(pen).__name__} is neither ({err}). Use proximal_gradient, which only "
            "needs its prox.") from None


def _gap_terms(spec):
    """Kernel-selection helper (the one place the solver looks at ``spec.kind``).

    The duality gap, gap-safe screening and celer's ``"gap"`` scores exist in closed form
    for the convex l1 and elastic-net penalties, alone or under the non-negative orthant:
    return ``(alpha1, alpha2, positive)`` of ``alpha1 ||w||_1 + alpha2 / 2 ||w||^2`` then,
    ``None`` for every other penalty (they stop on the largest optimality violation).
    """
    box_ok = spec.upper == np.inf and spec.lower in (-np.inf, 0.0)
    if not box_ok:
        return None
    p = spec.params
    if spec.kind == _kinds.KIND_L1:
        return float(p[0]), 0.0, spec.lower == 0.0
    if spec.kind == _kinds.KIND_ELASTICNET:
        return float(p[0] * p[1]), float(p[0] * (1.0 - p[1])), spec.lower == 0.0
    return None


def _outer_monitor(owner, max_iter, max_epochs, tol_s, callback, verbose, criterion, w):
    """The outer loop's :class:`LoopMonitor` and its stop on the epoch budget."""
    mon = LoopMonitor(owner, max_iter=max_iter, tol=tol_s, callback=callback, verbose=verbose,
                      criterion=criterion, x0=w)
    return mon, _OuterStop(max_iter, max_epochs)


def _outer_check(mon, outer_stop, n_outer, w, crit, primal, n_epochs, ws_size):
    """``(stop, stopped_by)`` after an outer iteration: the monitor's test (tolerance,
    callback, iteration cap), then the epoch budget's (``stopped_by`` names it)."""
    if mon.check(n_outer, w, crit, primal, n_epochs=n_epochs, ws_size=ws_size):
        return True, None
    stopped_by = outer_stop(n_outer, n_epochs, crit)
    return stopped_by is not None, stopped_by


def _init_coef(init, p, dtype, lower, upper, owner):
    """The starting coefficients: zeros, or ``init`` (shape ``(p,)``, finite) clipped to
    ``[lower, upper]``."""
    if init is None:
        return np.zeros(p, dtype=dtype)
    w = np.array(init, dtype=dtype).ravel()
    if w.shape != (p,):
        raise ValueError(f"{owner}: init must have shape ({p},), got {np.shape(init)}.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{owner}: init contains NaN or infinity.")
    return np.clip(w, lower, upper).astype(dtype)


def _check_coordinate_steps(pen, spec, lc64, owner):
    """The coordinate steps ``1 / L_j`` must make the penalty's prox well posed (MCP needs
    ``gamma > 1 / L_j``, SCAD ``gamma > 1 + 1 / L_j``): one clear ValueError otherwise."""
    if spec.kind == _kinds.KIND_CEL0:
        # CEL0's weights are the column norms here, a_j^2 / L_j = 1 by construction: the
        # kernels use the limit of its prox (hard thresholding), always well defined
        return
    pos = lc64[lc64 > 0]
    if pos.size == 0:
        return
    j = int(np.argmin(np.where(lc64 > 0, lc64, np.inf)))
    step = 1.0 / float(lc64[j])
    try:
        pen.check_step(step)
    except ValueError as err:
        raise ValueError(
            f"{owner}: coordinate descent uses the steps 1 / L_j with L_j = ||X_j||^2 / n; "
            f"column {j} has ||X_j|| / sqrt(n) = {np.sqrt(lc64[j]):.4g}, so its step is "
            f"{step:.4g} and {err} (MCP needs gamma > n / ||X_j||^2 for every column: "
            "increase gamma or standardise the columns of X.)") from None


# ----------------------------------------------------------------------------- duality gap


def duality_gap(Rt, G, w, y, a1, a2, positive, n):
    """Duality gap of the (1/n-scaled) elastic net at ``w``; also the dual scaling.

    ``Rt = y - X w`` and ``G = X^T Rt / n``. With ``a1 > 0`` the dual point is ``const * Rt / n``
    with ``const = min(1, a1 / max_j |G_j - a2 w_j|)`` (scikit-learn's and celer's rescaling;
    one-sided with ``positive``). With ``a1 = 0`` and ``a2 > 0`` it is ``Rt / n`` in the ridge
    dual. Returns ``(gap, primal, const)``.
    """
    w = np.asarray(w, dtype=np.float64)
    rn2 = _vdot(Rt, Rt)
    ry = _vdot(Rt, y)
    l1 = float(np.abs(w).sum())
    l2 = _vdot(w, w)
    primal = 0.5 / n * rn2 + a1 * l1 + 0.5 * a2 * l2
    if a1 > 0.0 or a2 == 0.0:
        xta = G - a2 * w
        dn = float(np.max(xta)) if positive else float(np.max(np.abs(xta)))
        const = a1 / dn if dn > a1 else 1.0
        gap = (0.5 / n * rn2 * (1.0 + const * const) + a1 * l1 - const * ry / n
               + 0.5 * a2 * (1.0 + const * const) * l2)
        return max(gap, 0.0), primal, const
    # ridge part only: dual point Rt / n, conjugate ||G_+||^2 / (2 a2)
    gp = np.maximum(G, 0.0) if positive else G
    dual = ry / n - 0.5 / n * rn2 - 0.5 / a2 * _vdot(gp, gp)
    return max(primal - dual, 0.0), primal, 1.0


# ----------------------------------------------------------------------------- the solver


def _solve(prob, pen, spec, *, init=None, max_iter=100, max_epochs=50_000, tol=1e-4, p0=10,
           ws_strategy="gs-r", anderson=True, screening=True, verbose=None, callback=None,
           engine=None, warn=True, owner="working_set_cd", budget_name="max_epochs"):
    if isinstance(spec, GroupSpec):  # the group channel: block coordinate descent
        return _solve_group(prob, pen, spec, init=init, max_iter=max_iter,
                            max_epochs=max_epochs, tol=tol, p0=p0, ws_strategy=ws_strategy,
                            anderson=anderson, verbose=verbose, callback=callback,
                            engine=engine, warn=warn, owner=owner, budget_name=budget_name)
    n, p = prob.n, prob.p
    dtype = prob.dtype
    gap_terms = _gap_terms(spec)
    use_gap = gap_terms is not None
    if ws_strategy == "gap" and not use_gap:
        raise ValueError(f"{owner}: ws_strategy='gap' (celer's dual scores) needs the l1 or "
                         f"elastic-net penalty; got {pen!r}. Use 'gs-r' or 'gs-s'.")
    a1, a2, positive = gap_terms if use_gap else (0.0, 0.0, False)
    kind, params = int(spec.kind), np.ascontiguousarray(spec.params, dtype=np.float64)
    lower, upper = float(spec.lower), float(spec.upper)
    lc64 = prob.norms2 / n
    norms = np.sqrt(prob.norms2)
    aj = np.sqrt(lc64)  # CEL0's weights under the mean datafit: ||X_j|| / sqrt(n)
    _check_coordinate_steps(pen, spec, lc64, owner)
    w = _init_coef(init, p, dtype, lower, upper, owner)
    R, c = prob.residual(w)
    op = "glm_cd_ws_sparse" if prob.sparse else "glm_cd_ws_dense"
    kern = kernel_for(op, w, engine=engine)
    K = 5 if anderson else 0
    score_kernel = kernel_for("glm_cd_scores", w, engine=engine)
    strategy = WS_STRATEGIES.index(ws_strategy)
    # optimality violation: GS-r ranks by the prox step, so it stops on the fixed-point
    # violation (skglm's "fixpoint"); GS-s on the subdifferential distance. The l1/elastic
    # net keep the subdifferential distance inside the working sets (and the gap outside).
    crit_mode = 1 if (not use_gap and strategy == 1) else 0
    # inner test after epochs 10, 20, ... (l1 / elastic net: unchanged iterates) or after
    # epochs 1, 11, ... (skglm's schedule: quick working-set turnover, which steers non-convex
    # problems to better stationary points)
    check_offset = 0 if use_gap else 1
    score = np.empty(p)
    tol_s = tol * prob.yn2 / n if use_gap else tol
    criterion = ("duality gap (<= tol * ||y||^2 / n)" if use_gap else
                 ("fixed-point violation" if crit_mode else "subdifferential distance"))
    do_screen = bool(screening) and use_gap and a1 > 0.0 and a2 == 0.0
    screened = np.zeros(p, dtype=bool)
    mon, outer_stop = _outer_monitor(owner, max_iter, max_epochs, tol_s, callback, verbose,
                                     criterion, w)
    n_outer = n_epochs = 0
    stopped_by, crit, best_dual = None, float("inf"), -float("inf")
    theta_corr = None
    const = 1.0
    ws_size = 0
    while True:
        if n_outer and dtype == np.float32:
            # fresh residual: no float32 drift from the kernels' updates and extrapolations
            # (in float64 the drift stays at rounding level: the kernels bound the Anderson
            # weights)
            R, c = prob.residual(w)
        G, Rt = prob.neg_grad(R, c)
        w64 = np.asarray(w, dtype=np.float64)
        finite = bool(np.all(np.isfinite(G)))
        if use_gap and finite:
            gap, primal, const = duality_gap(Rt, G, w64, prob.y, a1, a2, positive, n)
            # every dual point seen stays feasible: keep the best one (its value and, for the
            # screening sphere, its correlations x_j^T theta)
            dual = primal - gap
            if dual >= best_dual:
                best_dual = dual
                theta_corr = const * G
            crit = max(primal - best_dual, 0.0)
            kkt_max = None
        elif finite:
            primal = 0.5 / n * _vdot(Rt, Rt) + float(
                _pen_values(kind, params, aj, w64).sum())
            kkt_max, n_supp = score_kernel(w64, G, lc64, norms, kind, params, lower, upper,
                                           strategy, crit_mode, 1.0, screened, score)
            crit = float(kkt_max)
        else:
            crit, primal = float("nan"), float("nan")
        stop, stopped_by = _outer_check(mon, outer_stop, n_outer, w, crit, primal, n_epochs,
                                        ws_size)
        if stop:
            break
        # gap-safe screening (Fercoq, Gramfort, Salmon 2015): |x_j^T theta| + ||x_j|| r < a1
        if do_screen:
            radius = np.sqrt(2.0 * crit / n)
            corr = theta_corr if positive else np.abs(theta_corr)
            new = (~screened) & (corr + norms * radius < a1)
            if new.any():
                screened |= new
                nz = np.flatnonzero(new & (w != 0))
                if nz.size:  # a screened coefficient is zero at the optimum
                    w[nz] = 0
                    R, c = prob.residual(w)
                    G, Rt = prob.neg_grad(R, c)
                    w64 = w.astype(np.float64)
                    const = duality_gap(Rt, G, w64, prob.y, a1, a2, positive, n)[2]
        if use_gap:
            kkt_max, n_supp = score_kernel(w64, G, lc64, norms, kind, params, lower, upper,
                                           strategy, crit_mode, float(const), screened, score)
        # working set: support forced in, then the largest scores
        n_free = p - int(screened.sum())
        size = min(max(p0, 2 * n_supp), n_free)
        if size <= 0:
            mon.converged, mon.stopped_by = True, "tol"
            break
        if size < p:
            ws = np.argpartition(-score, size - 1)[:size]
        else:
            ws = np.arange(p)
        ws = np.sort(ws).astype(np.int64)
        # the kernel's gradients carry the rounding of X's dtype: never ask for less
        # (a float32 working set would otherwise run its whole epoch budget)
        # (rounding of the dot products, and one ulp of a coefficient times its curvature)
        inner_tol = max(INNER_FRACTION * float(kkt_max),
                        8.0 * float(np.finfo(dtype).eps)
                        * (float(norms.max()) * float(np.linalg.norm(Rt)) / n
                           + float(np.max(lc64 * np.abs(w64)))))
        budget = max_epochs - n_epochs
        if prob.sparse:
            ep = kern(prob.data, prob.indices, prob.indptr, n, prob.fit_intercept, prob.mu,
                      prob.v, prob.xv, prob.vv, w, R, c, ws, prob.lc, kind, params, lower,
                      upper, budget, inner_tol, K, crit_mode, check_offset)
        else:
            ep = kern(prob.X.T, w, R, ws, prob.lc, kind, params, lower, upper, budget,
                      inner_tol, K, crit_mode, check_offset)
        n_epochs += int(ep)
        n_outer += 1
        ws_size = int(size)
    return _finish(mon, w, stopped_by, warn, owner, criterion, crit, tol_s, budget_name,
                   max_epochs, n_epochs, n_outer, dtype, prob,
                   dual_gap=float(mon.stop_crit) if use_gap else float("nan"),
                   n_screened=int(screened.sum()))


def _finish(mon, w, stopped_by, warn, owner, criterion, crit, tol_s, budget_name, max_epochs,
            n_epochs, n_outer, dtype, prob, stacklevel=4, **info):
    """The one end of a working-set run: at most one ConvergenceWarning, the result
    (``stacklevel`` points the warning at the public function's caller)."""
    if stopped_by is not None:
        mon.stopped_by = stopped_by
    converged = mon.converged
    stopped_by = mon.stopped_by
    if not converged and warn and stopped_by == "stagnation":
        warnings.warn(
            f"{owner} did not converge: the {criterion} stagnates at {crit:.3e} > "
            f"{tol_s:.3e} ({STAGNATION_ITERS} working-set iterations without progress): the "
            f"tolerance is below the rounding level of {np.dtype(dtype).name}. Increase tol "
            "(or use float64 data).", ConvergenceWarning, stacklevel=stacklevel)
    elif not converged and warn and stopped_by in ("max_iter", "max_epochs"):
        limit = (f"{budget_name} = {max_epochs} epochs" if stopped_by == "max_epochs"
                 else f"{n_outer} working-set iterations")
        hint = budget_name if stopped_by == "max_epochs" else "max_iter"
        warnings.warn(
            f"{owner} did not converge: {criterion} = {crit:.3e} > {tol_s:.3e} after "
            f"{limit}. Increase {hint} or tol.", ConvergenceWarning, stacklevel=stacklevel)
    mon.n_iter = int(n_epochs)  # n_iter counts epochs (the budget), checks are outer
    if mon.stopped_by == "nonfinite":
        w = mon.last_finite  # what result() rolls back to
    if "dual_gap" in info and np.isfinite(info["dual_gap"]):
        info["dual_gap"] = float(mon.stop_crit)
    res = mon.result(w, warn=False, stacklevel=stacklevel, intercept=prob.intercept(w),
                     n_epochs=int(n_epochs), n_outer=int(n_outer), tol_scaled=float(tol_s),
                     **info)
    return res


# ----------------------------------------------------------------------------- group lasso


class _Groups:
    """The group structure of a :class:`~sparsopt.penalties.GroupSpec` on a prepared problem.

    Every feature is in exactly one block: the spec's groups, then each feature in no group
    as an unpenalised singleton (threshold 0). ``lg[G] = ||X_G||_2^2 / n`` (squared spectral
    norm of the group's centred, weighted columns under the mean datafit).
    """

    def __init__(self, prob, gspec):
        p, n = prob.p, prob.n
        covered = np.zeros(p, dtype=bool)
        covered[gspec.indices] = True
        free = np.flatnonzero(~covered).astype(np.int64)
        n_pen = gspec.indptr.size - 1
        self.gptr = np.ascontiguousarray(np.concatenate(
            [gspec.indptr, gspec.indptr[-1] + np.arange(1, free.size + 1)]), dtype=np.int64)
        self.gidx = np.ascontiguousarray(np.concatenate([gspec.indices, free]), dtype=np.int64)
        self.thresh = np.ascontiguousarray(np.concatenate(
            [gspec.thresholds, np.zeros(free.size)]), dtype=np.float64)
        self.n_groups = self.gptr.size - 1
        self.n_penalized = n_pen
        self.sizes = np.diff(self.gptr)
        self.label = np.repeat(np.arange(self.n_groups), self.sizes)
        self.lower = float(gspec.lower)
        self.positive = self.lower == 0.0
        # the block constants depend on the data and the groups only: computed once per
        # problem (a path reuses them for every alpha)
        key = (gspec.indptr.tobytes(), gspec.indices.tobytes())
        cache = prob.__dict__.setdefault("_block_lipschitz", {})
        if key not in cache:
            lg = _block_norms2(prob, self.gptr, self.gidx) / n
            cache.clear()
            cache[key] = np.ascontiguousarray(lg)
        self.lg = cache[key]
        self.lg_kernel = self.lg.astype(np.float64)
        # the duality gap needs every group penalised (an unpenalised feature's dual
        # constraint X_j^T theta = 0 cannot be met by rescaling the residual)
        self.all_penalized = bool(np.all(self.thresh > 0.0))

    def group_sums(self, values):
        """``sum_{j in G} values_j`` for every group (values indexed by feature)."""
        return np.bincount(self.label, weights=np.asarray(values)[self.gidx],
                           minlength=self.n_groups)

    def penalty(self, w):
        w = np.asarray(w, dtype=np.float64)
        return float(self.thresh @ np.sqrt(self.group_sums(w * w)))

    def scores(self, w, G):
        """Subdifferential distance of every group (GS-s), the length of the block
        prox-gradient step from 0 (GS-r) and the group norms of ``G`` (under the orthant, of
        ``max(G, 0)``)."""
        w = np.asarray(w, dtype=np.float64)
        Gp = np.maximum(G, 0.0) if self.positive else G
        gn = np.sqrt(self.group_sums(Gp * Gp))
        wn = np.sqrt(self.group_sums(w * w))
        dist0 = np.maximum(gn - self.thresh, 0.0)
        wn_f = wn[self.label]
        inv = np.zeros(self.gidx.size)
        nz_f = wn_f > 0
        inv[nz_f] = 1.0 / wn_f[nz_f]
        wf, gf = w[self.gidx], G[self.gidx]
        r = gf - self.thresh[self.label] * wf * inv
        if self.positive:
            r = np.where(wf == 0.0, np.maximum(gf, 0.0), r)
        distnz = np.sqrt(np.bincount(self.label, weights=r * r, minlength=self.n_groups))
        kkt = np.where(wn > 0, distnz, dist0)
        safe = np.where(self.lg > 0, self.lg, 1.0)
        step0 = np.where(self.lg > 0, dist0 / safe, 0.0)
        return kkt, step0, gn, wn


def _block_norms2(prob, gptr, gidx):
    """``||X_G||_2^2`` of every group's centred, weighted columns (the top eigenvalue of its
    Gram matrix), batched over the groups of equal size."""
    sizes = np.diff(gptr)
    out = np.zeros(sizes.size)
    one = sizes == 1
    out[one] = prob.norms2[gidx[gptr[:-1][one]]]
    for m in np.unique(sizes[sizes > 1]):
        which = np.flatnonzero(sizes == m)
        idx = gidx[gptr[which][:, None] + np.arange(m)]  # (n_groups_m, m) feature indices
        gram = np.empty((which.size, m, m))
        if prob.sparse:
            if m <= 16:  # m^2 sparse products over all the groups of this size at once
                A = prob.Xs[:, idx.ravel()].tocsc()
                for a in range(m):
                    Aa = A[:, a::m]
                    for b in range(a, m):
                        gram[:, a, b] = gram[:, b, a] = np.asarray(
                            Aa.multiply(A[:, b::m]).sum(axis=0), dtype=np.float64).ravel()
            else:
                for k, cols in enumerate(idx):
                    B = prob.Xs[:, cols].toarray().astype(np.float64)
                    gram[k] = B.T @ B
            if prob.fit_intercept:  # implicit centring: (Xs_j - mu_j v)^T (Xs_l - mu_l v)
                mu = prob.mu.astype(np.float64)[idx]
                xv = prob.xv.astype(np.float64)[idx]
                gram -= mu[:, :, None] * xv[:, None, :] + xv[:, :, None] * mu[:, None, :]
                gram += prob.vv * mu[:, :, None] * mu[:, None, :]
        else:
            Xg = np.asarray(prob.X[:, idx.ravel()], dtype=np.float64).reshape(prob.n,
                                                                             which.size, m)
            Xg = Xg.transpose(1, 0, 2)  # (n_groups_m, n, m)
            gram = np.matmul(Xg.transpose(0, 2, 1), Xg)
        out[which] = np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0.0)
    return out


def _group_gap(Rt, G, grp, w, y, n):
    """Duality gap of the group lasso (all groups penalised): the dual point is
    ``const * Rt / n`` with ``const = min(1, 1 / max_G ||X_G^T Rt / n|| / t_G)`` (one-sided
    norms under the orthant). Returns ``(gap, primal)``."""
    rn2 = _vdot(Rt, Rt)
    ry = _vdot(Rt, y)
    pen = grp.penalty(w)
    primal = 0.5 / n * rn2 + pen
    Gp = np.maximum(G, 0.0) if grp.positive else G
    dn = float(np.max(np.sqrt(grp.group_sums(Gp * Gp)) / grp.thresh))
    const = 1.0 / dn if dn > 1.0 else 1.0
    gap = 0.5 / n * rn2 * (1.0 + const * const) + pen - const * ry / n
    return max(gap, 0.0), primal


def _solve_group(prob, pen, gspec, *, init=None, max_iter=100, max_epochs=50_000, tol=1e-4,
                 p0=10, ws_strategy="gs-r", anderson=True, verbose=None, callback=None,
                 engine=None, warn=True, owner="working_set_cd", budget_name="max_epochs"):
    """Working-set block coordinate descent for the group lasso (the group channel)."""
    n, p = prob.n, prob.p
    dtype = prob.dtype
    if ws_strategy == "gap":
        raise ValueError(f"{owner}: ws_strategy='gap' (celer's dual scores) needs the l1 or "
                         f"elastic-net penalty; got {pen!r}. Use 'gs-r' or 'gs-s'.")
    grp = _Groups(prob, gspec)
    lower = grp.lower
    w = _init_coef(init, p, dtype, lower, np.inf, owner)
    R, c = prob.residual(w)
    op = "glm_bcd_ws_sparse" if prob.sparse else "glm_bcd_ws_dense"
    kern = kernel_for(op, w, engine=engine)
    K = 5 if anderson else 0
    use_gap = grp.all_penalized
    tol_s = tol * prob.yn2 / n if use_gap else tol
    criterion = ("duality gap (<= tol * ||y||^2 / n)" if use_gap else
                 "group subdifferential distance")
    norms = np.sqrt(prob.norms2)
    mon, outer_stop = _outer_monitor(owner, max_iter, max_epochs, tol_s, callback, verbose,
                                     criterion, w)
    n_outer = n_epochs = 0
    stopped_by, crit, best_dual = None, float("inf"), -float("inf")
    ws_size = 0
    while True:
        if n_outer and dtype == np.float32:
            R, c = prob.residual(w)  # fresh residual: no float32 drift
        G, Rt = prob.neg_grad(R, c)
        w64 = np.asarray(w, dtype=np.float64)
        finite = bool(np.all(np.isfinite(G)))
        if finite:
            kkt, step0, _, wn = grp.scores(w64, G)
            kkt_max = float(kkt.max(initial=0.0))
            if use_gap:
                gap, primal = _group_gap(Rt, G, grp, w64, prob.y, n)
                best_dual = max(best_dual, primal - gap)  # every dual point stays feasible
                crit = max(primal - best_dual, 0.0)
            else:
                primal = 0.5 / n * _vdot(Rt, Rt) + grp.penalty(w64)
                crit = kkt_max
        else:
            crit, primal = float("nan"), float("nan")
        stop, stopped_by = _outer_check(mon, outer_stop, n_outer, w, crit, primal, n_epochs,
                                        ws_size)
        if stop:
            break
        # working set of GROUPS: the support forced in, then the largest scores
        support = wn > 0
        score = np.where(support, np.inf, kkt if ws_strategy == "gs-s" else step0)
        n_supp = int(support.sum())
        size = min(max(p0, 2 * n_supp), grp.n_groups)
        if size < grp.n_groups:
            ws = np.argpartition(-score, size - 1)[:size]
        else:
            ws = np.arange(grp.n_groups)
        ws = np.sort(ws).astype(np.int64)
        inner_tol = max(INNER_FRACTION * kkt_max,
                        8.0 * float(np.finfo(dtype).eps)
                        * (float(norms.max()) * float(np.linalg.norm(Rt)) / n
                           + float(np.max(prob.norms2 / n * np.abs(w64)))))
        budget = max_epochs - n_epochs
        if prob.sparse:
            ep = kern(prob.data, prob.indices, prob.indptr, n, prob.fit_intercept, prob.mu,
                      prob.v, prob.xv, prob.vv, w, R, c, grp.gptr, grp.gidx, ws, grp.lg_kernel,
                      grp.thresh, lower, budget, inner_tol, K, 0)
        else:
            ep = kern(prob.X.T, w, R, grp.gptr, grp.gidx, ws, grp.lg_kernel, grp.thresh, lower,
                      budget, inner_tol, K, 0)
        n_epochs += int(ep)
        n_outer += 1
        ws_size = int(size)
    return _finish(mon, w, stopped_by, warn, owner, criterion, crit, tol_s, budget_name,
                   max_epochs, n_epochs, n_outer, dtype, prob, stacklevel=5,
                   dual_gap=float(mon.stop_crit) if use_gap else float("nan"),
                   n_screened=0, n_groups=int(grp.n_penalized))


def _alpha_max_group(prob, gspec1):
    """``max_G ||X_G^T y|| / (n w_G)`` over the penalised groups (``gspec1``: thresholds at
    alpha = 1, i.e. the weights; one-sided norms under the orthant)."""
    R, c = prob.residual(np.zeros(prob.p, dtype=prob.dtype))
    G, _ = prob.neg_grad(R, c)
    if gspec1.lower == 0.0:
        G = np.maximum(G, 0.0)
    lab = np.repeat(np.arange(gspec1.indptr.size - 1), np.diff(gspec1.indptr))
    gn = np.sqrt(np.bincount(lab, weights=G[gspec1.indices] ** 2,
                             minlength=gspec1.indptr.size - 1))
    wts = gspec1.thresholds
    ratio = np.where(wts > 0, gn / np.where(wts > 0, wts, 1.0), 0.0)
    return float(ratio.max(initial=0.0))


def _pen_values(kind, params, aj, w):
    from ...backends._numpy.glm_cd import pen_values

    return pen_values(kind, params, aj, w)


def working_set_cd(X, y, *, penalty="l1", alpha=1.0, sample_weight=None, fit_intercept=False,
                   init=None, max_iter=100, max_epochs=50_000, tol=1e-4, p0=10,
                   ws_strategy="gs-r", anderson=True, screening=True, callback=None,
                   verbose=None, engine=None):
    """Squared loss + any separable penalty (or the group lasso) by working-set coordinate
    descent.

    **Objective**: scikit-learn's mean datafit plus the penalty::

        1/(2n) sum_i s_i (y_i - x_i^T w)^2 + pen.value(w)

    with the sample weights ``s`` rescaled to sum to ``n`` (ones by default); with
    ``fit_intercept`` the data are centred first (implicitly for sparse ``X``). ``L1(alpha)``
    gives scikit-learn's Lasso, ``ElasticNet(alpha, l1_ratio)`` its elastic net,
    ``penalty + Positive()`` its ``positive=True``.

    Each outer iteration computes the full gradient and an optimality measure, builds a
    working set (the current support plus the features with the largest greedy scores,
    ``max(p0, 2 |support|)`` in all) and solves the problem restricted to it by cyclic
    proximal coordinate descent (a Numba kernel on dense Fortran columns or CSC columns)::

        w_j <- clip(prox_{pen / L_j}(w_j + x_j^T r / (n L_j)), lower, upper),
        L_j = ||x_j||^2 / n,

    with Anderson extrapolation every 6 epochs, accepted only if the objective decreases,
    until the working set's largest violation is below 0.3 times the outer one.

    Stopping criteria:

    * convex ``L1`` / ``ElasticNet`` (alone or ``+ Positive()``): the duality gap, ``gap <=
      tol * ||y||^2 / n`` (scikit-learn's and celer's criterion), with gap-safe screening
      (pure l1);
    * every other penalty (MCP, SCAD, log, l0, lq, CEL0, boxes): the largest optimality
      violation over all features ``<= tol`` (skglm's criterion): with ``ws_strategy="gs-r"``
      the fixed-point violation ``|w_j - prox(w_j + g_j / L_j)| L_j``, with ``"gs-s"`` the
      distance of ``g_j = x_j^T r / n`` to the (limiting) subdifferential (at ``w_j = 0`` the
      larger of the two: the limiting subdifferential of l0 and lq at 0 is the whole line).
      No screening (not valid for non-convex penalties).

    **Group lasso** (``GroupL21(alpha, groups, weights)``, optionally ``+ Positive()``; the
    penalty is reached through its group channel ``pen.group_spec(n_features)``): the
    working sets hold GROUPS (features in no group are unpenalised singletons) and the inner
    solver is cyclic block coordinate descent with the block soft threshold::

        v = w_G + X_G^T r / (n L_G)        (max(v, 0) under Positive())
        w_G <- max(1 - alpha w_g / (L_G ||v||), 0) v,    L_G = ||X_G||_2^2 / n

    (``||X_G||_2`` the spectral norm of the group's centred, weighted columns), with the same
    Anderson extrapolation. Scores: the group's subdifferential distance (``"gs-s"``:
    ``max(||g_G|| - alpha w_g, 0)`` at a zero group, ``||g_G - alpha w_g w_G / ||w_G|| ||``
    otherwise, one-sided under ``Positive()``) or the length of the block step from 0
    (``"gs-r"``). Stopping: the duality gap ``<= tol * ||y||^2 / n`` (the dual point is the
    residual rescaled so that ``max_g ||X_G^T theta|| / (alpha w_g) <= 1``) when every feature
    is in a group of positive weight; otherwise the largest group subdifferential distance
    ``<= tol``. No screening, no ``"gap"`` scores.

    For non-convex penalties the result is a stationary point (coordinate-wise minimum) that
    depends on ``init``. CEL0 uses the column norms ``a_j = ||x_j|| / sqrt(n)`` as its weights
    (its exact-relaxation weights under the mean datafit; the penalty's own ``a`` is not
    used); the coordinate step then is hard thresholding at ``sqrt(2 alpha) / a_j``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Design. float32 stays float32; sparse input is used as CSC without densifying.
    y : ndarray of shape (n_samples,)
        Target.
    penalty : str or Penalty, default="l1"
        A separable penalty with a kernel spec (``"l1"``, ``"elasticnet"``, ``"mcp"``,
        ``"scad"``, ``"log"``, ``"l0"``, ``"l1/2"``, ``"l2/3"``, ``"lq"``, ``"cel0"``, an
        instance such as ``MCP(alpha=0.1, gamma=3.0)``, optionally ``+ Positive()`` or
        ``+ Box(...)``), or the group lasso ``GroupL21(...)`` (optionally ``+ Positive()``).
        Penalties with neither kernel (k-support, ...) raise a TypeError (use
        :func:`~sparsopt.solvers.proximal_gradient`).
    alpha : float, default=1.0
        Regularization strength when ``penalty`` is a name (ignored for an instance).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights, rescaled internally to sum to ``n_samples`` (as scikit-learn).
    fit_intercept : bool, default=False
        Centre the data (implicitly for sparse ``X``); the intercept is in
        ``result.info["intercept"]``.
    init : ndarray of shape (n_features,), None or "l1", default=None
        Initial coefficients (zeros by default); clipped to the penalty's box. ``"l1"``
        (MCP and SCAD, optionally ``+ Positive()``): start at the solution of the Lasso with
        the same ``alpha`` (their convex relaxation; solved first, to a relative duality
        gap of 1e-6): a lower stationary point than from 0 on the benchmark problems
        (``result.info["init_n_epochs"]`` counts that solve's epochs).
    max_iter : int, default=100
        Maximum number of outer (working-set) iterations.
    max_epochs : int, default=50000
        Budget of coordinate-descent epochs (passes over the working set), all outer
        iterations together.
    tol : float, default=1e-4
        Tolerance of the stopping criterion (see above).
    p0 : int, default=10
        Size of the first working set.
    ws_strategy : {"gs-r", "gs-s", "gap"}, default="gs-r"
        Greedy score that ranks features outside the support: ``"gs-r"`` the length of the
        coordinate prox-gradient step (skglm's ``fixpoint``), ``"gs-s"`` the distance of the
        negative gradient to the subdifferential (skglm's ``subdiff``), ``"gap"`` celer's
        priority ``(alpha1 - |x_j^T theta|) / ||x_j||`` (l1 and elastic net only).
    anderson : bool, default=True
        Anderson acceleration (K = 5) of the inner coordinate descent.
    screening : bool, default=True
        Gap-safe screening (pure l1 only).
    callback : callable ``callback(SolverState) -> bool`` or None, default=None
        Called once per outer iteration; returning True stops the solver
        (``converged=False``, ``info["stopped_by"] == "callback"``).
    verbose : int or None, default=None
        Print one line per outer iteration (``None``: the global config).
    engine : {"auto", "numpy", "numba"} or None, default=None
        Kernel backend (``"numpy"`` is the slow reference).

    Returns
    -------
    result : SolverResult
        ``x`` the coefficients of shape (n_features,) in the dtype of ``X``; ``n_iter`` the
        epochs used; ``stop_crit`` the final criterion; ``history`` one record per outer
        iteration (``objective``, ``stop_crit``, ``time``, ``n_epochs``, ``ws_size``);
        ``info`` with ``intercept``, ``dual_gap`` (NaN without a gap), ``n_epochs``,
        ``n_outer``, ``n_screened``, ``tol_scaled``, ``stopped_by``, ``criterion`` (and
        ``n_groups``, the number of penalised groups, for the group lasso).

    Raises
    ------
    TypeError
        For a penalty with neither a coordinate-wise nor a group kernel (k-support, ...).
    ValueError
        When a coordinate step ``1 / L_j`` makes the penalty's prox ill-posed (MCP needs
        ``gamma > 1 / L_j``, SCAD ``gamma > 1 + 1 / L_j``).

    Warns
    -----
    ConvergenceWarning
        Once, when the criterion is still above the tolerance after the budget.

    See Also
    --------
    sparsopt.linear_model.SparseRegression : the estimator.
    sparsopt.solvers.proximal_gradient : any penalty with a prox (k-support, ...).

    References
    ----------
    .. [1] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias, "Beyond L1:
       faster and better sparse models with skglm", NeurIPS 2022.
    .. [2] Q. Bertrand and M. Massias, "Anderson acceleration of coordinate descent",
       AISTATS 2021.
    .. [3] M. Massias, A. Gramfort and J. Salmon, "Celer: a fast solver for the Lasso with
       dual extrapolation", ICML 2018.
    .. [4] O. Fercoq, A. Gramfort and J. Salmon, "Mind the duality gap: safer rules for the
       Lasso", ICML 2015.
    .. [5] P. Breheny and J. Huang, "Coordinate descent algorithms for nonconvex penalized
       regression, with applications to biological feature selection", Ann. Appl. Stat.
       5(1), 2011.
    .. [6] M. Yuan and Y. Lin, "Model selection and estimation in regression with grouped
       variables", J. R. Statist. Soc. B 68(1), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import MCP
    >>> from sparsopt.solvers import working_set_cd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 100))
    >>> w_true = np.zeros(100); w_true[:3] = [2.0, -1.0, 1.5]
    >>> y = X @ w_true
    >>> res = working_set_cd(X, y, alpha=0.1, tol=1e-8)
    >>> np.flatnonzero(res.x).tolist(), res.converged
    ([0, 1, 2], True)
    >>> res = working_set_cd(X, y, penalty=MCP(alpha=0.1, gamma=3.0), tol=1e-10)
    >>> np.round(res.x[:3], 6).tolist()  # MCP: no shrinkage of the large coefficients
    [2.0, -1.0, 1.5]
    >>> from sparsopt.penalties import GroupL21
    >>> res = working_set_cd(X, y, penalty=GroupL21(alpha=0.1, groups=5), tol=1e-8)
    >>> np.flatnonzero(np.abs(res.x).reshape(20, 5).sum(axis=1)).tolist()  # groups in/out
    [0]
    """
    owner = "working_set_cd"
    X, y, sample_weight = _validate(X, y, sample_weight, owner)
    pen, spec = _penalty(penalty, alpha, owner, X.shape[1])
    max_iter, max_epochs, tol, p0 = _check_params(max_iter, max_epochs, tol, p0, ws_strategy,
                                                  owner)
    prob = _Problem(X, y, sample_weight, fit_intercept, owner)
    relax = None
    if isinstance(init, str):
        init, relax = _l1_relaxation(prob, pen, spec, init, max_epochs, engine, owner)
    res = _solve(prob, pen, spec, init=init, max_iter=max_iter, max_epochs=max_epochs,
                 tol=tol, p0=p0, ws_strategy=ws_strategy, anderson=anderson,
                 screening=screening, verbose=verbose, callback=callback, engine=engine,
                 owner=owner)
    if relax is not None:
        res = res.with_info(init="l1",
                            init_n_epochs=int(relax.info.get("n_epochs", relax.n_iter)))
    return res


#: relative duality gap of the l1 solve behind ``init="l1"`` (a starting point only)
L1_INIT_TOL = 1e-6


def _l1_relaxation(prob, pen, spec, init, max_epochs, engine, owner):
    """``init="l1"``: the Lasso with the penalty's slope at 0, from 0 (a starting point).

    MCP and SCAD equal ``alpha |w|`` near 0 and lie below it: the Lasso is their convex
    relaxation with the same ``alpha``, and starting the non-convex descent at its solution
    (instead of 0) reaches a lower stationary point on every problem of
    ``benchmarks/bench_sparse_regression.py`` (the local linear approximation of Zou & Li
    2008, and Zhang 2010, start there too).
    """
    from ...penalties import L1, Positive

    if init != "l1":
        raise ValueError(f"{owner}: init must be an array, None or 'l1', got {init!r}.")
    if isinstance(spec, GroupSpec) or spec.kind not in (_kinds.KIND_MCP, _kinds.KIND_SCAD):
        raise ValueError(f"{owner}: init='l1' (the Lasso relaxation) is defined for MCP and "
                         f"SCAD, whose slope at 0 is alpha; got {pen!r}.")
    if spec.lower == 0.0 and spec.upper == np.inf:
        relax = L1(float(spec.params[0])) + Positive()
    elif spec.lower == -np.inf and spec.upper == np.inf:
        relax = L1(float(spec.params[0]))
    else:
        raise ValueError(f"{owner}: init='l1' supports no box other than Positive(); got "
                         f"{pen!r}.")
    rspec = relax.spec()
    res = _solve(prob, relax, rspec, max_iter=100, max_epochs=max_epochs, tol=L1_INIT_TOL,
                 verbose=0, engine=engine, warn=False, owner=owner)
    return res.x, res


def _slope_at_zero(spec, owner):
    """``pen'(0+) / alpha``: 0 is stationary iff ``max_j |g_j| <= alpha * slope`` (kinds with
    a finite slope at 0 only; the kernel-selection helper's companion)."""
    k, p = spec.kind, spec.params
    if k in (_kinds.KIND_L1, _kinds.KIND_MCP, _kinds.KIND_SCAD):
        return 1.0
    if k == _kinds.KIND_ELASTICNET:
        return max(float(p[1]), 1e-3)
    if k == _kinds.KIND_LOG:
        return 1.0 / float(p[1])
    raise ValueError(
        f"{owner}: alpha_max is not defined for this penalty (kind {k}): w = 0 is a "
        "stationary point for every alpha (l0, lq, CEL0) or the penalty has no strength. "
        "Use the l1 value, alpha_max(X, y), as a scale.")


def alpha_max(X, y, *, penalty="l1", sample_weight=None, fit_intercept=False):
    """Smallest ``alpha`` for which ``w = 0`` is a solution (stationary point).

    ``max_j |x_j^T y| / (n * pen'(0+) / alpha)`` on the centred, weighted data (one-sided
    under ``Positive()``), as scikit-learn's path: ``/ l1_ratio`` for the elastic net,
    ``* eps`` for the log penalty, the l1 value for MCP and SCAD. For the group lasso
    ``GroupL21(groups=..., weights=w)``: ``max_g ||X_G^T y|| / (n w_g)`` over the groups of
    positive weight (``||max(X_G^T y, 0)||`` under ``Positive()``); it assumes every feature is
    penalised (features in no group or of weight 0 are ignored, while ``w = 0`` is then not
    a solution unless they are already optimal at 0).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    penalty : str or Penalty, default="l1"
        Its parameters other than ``alpha`` (``l1_ratio``, ``eps``, the constraint) are used.
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=False

    Returns
    -------
    alpha_max : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import ElasticNet
    >>> from sparsopt.solvers.glm.working_set_cd import alpha_max
    >>> alpha_max(np.eye(2), np.array([2.0, -4.0]))
    2.0
    >>> alpha_max(np.eye(2), np.array([2.0, -4.0]), penalty=ElasticNet(l1_ratio=0.5))
    4.0
    >>> from sparsopt.penalties import GroupL21
    >>> alpha_max(np.eye(2), np.array([6.0, -8.0]), penalty=GroupL21(groups=2, weights=[1.0]))
    5.0
    """
    X, y, sample_weight = _validate(X, y, sample_weight, "alpha_max")
    pen, spec = _penalty(penalty, 1.0, "alpha_max", X.shape[1])
    prob = _Problem(X, y, sample_weight, fit_intercept, "alpha_max")
    if isinstance(spec, GroupSpec):  # the group channel: thresholds at alpha = 1 (weights)
        return _alpha_max_group(prob, _with_alpha(pen, 1.0).group_spec(prob.p, "alpha_max"))
    return _alpha_max(prob, spec, "alpha_max")


def _alpha_max(prob, spec, owner="alpha_max"):
    slope = _slope_at_zero(spec, owner)
    R, c = prob.residual(np.zeros(prob.p, dtype=prob.dtype))
    G, _ = prob.neg_grad(R, c)
    if spec.lower >= 0.0:
        m = float(np.max(G))
    elif spec.upper <= 0.0:
        m = float(np.max(-G))
    else:
        m = float(np.max(np.abs(G)))
    return max(m, 0.0) / slope


def working_set_cd_path(X, y, *, alphas, penalty="l1", sample_weight=None, fit_intercept=False,
                        init=None, max_iter=100, max_epochs=50_000, tol=1e-4, p0=10,
                        ws_strategy="gs-r", anderson=True, screening=True, engine=None,
                        warn=True):
    """Warm-started regularisation path of :func:`working_set_cd`.

    The data are centred and weighted once; each ``alpha`` (solved in decreasing order)
    starts from the previous solution. The penalty at each ``alpha`` is ``penalty`` with its
    ``alpha`` replaced (its other parameters and its constraint kept). ``GroupL21`` works
    too (its groups and weights kept).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    alphas : array-like of shape (n_alphas,)
        Regularization strengths (sorted internally in decreasing order).
    penalty, sample_weight, fit_intercept, init, max_iter, max_epochs, tol, p0, \
ws_strategy, anderson, screening, engine
        As in :func:`working_set_cd` (``max_epochs`` is per ``alpha``).
    warn : bool, default=True
        Emit one ConvergenceWarning if some ``alpha`` did not converge.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,)
    stop_crits : ndarray of shape (n_alphas,)
        Final stopping criterion per ``alpha`` (the duality gap for l1 / elastic net and the
        group lasso with every feature penalised).
    n_iters : ndarray of shape (n_alphas,)
        Epochs per ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import working_set_cd_path
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 8)), rng.standard_normal(30)
    >>> alphas, coefs, _, gaps, _ = working_set_cd_path(X, y, alphas=[0.5, 0.1, 0.01])
    >>> coefs.shape, [int(np.count_nonzero(c)) <= 8 for c in coefs.T]
    ((8, 3), [True, True, True])
    """
    owner = "working_set_cd_path"
    X, y, sample_weight = _validate(X, y, sample_weight, owner)
    alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
    if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError(f"{owner}: alphas must be a non-empty array of finite values >= 0.")
    pen, _ = _penalty(penalty, float(alphas[0]), owner, X.shape[1])
    max_iter, max_epochs, tol, p0 = _check_params(max_iter, max_epochs, tol, p0, ws_strategy,
                                                  owner)
    prob = _Problem(X, y, sample_weight, fit_intercept, owner)
    coefs, intercepts, gaps, n_iters, bad = _path(
        prob, pen, alphas, init=init, max_iter=max_iter, max_epochs=max_epochs, tol=tol, p0=p0,
        ws_strategy=ws_strategy, anderson=anderson, screening=screening, engine=engine,
        owner=owner)
    if bad and warn:
        warnings.warn(
            f"{owner} did not converge for {len(bad)} of {alphas.size} alphas (smallest "
            f"{min(bad):.3e}): the stopping criterion stayed above the tolerance after "
            f"max_epochs = {max_epochs}. Increase max_epochs (max_iter in the estimators) or "
            "tol.", ConvergenceWarning, stacklevel=2)
    return alphas, coefs, intercepts, gaps, n_iters


def _with_alpha(pen, alpha):
    """``pen`` with its strength replaced (the inner penalty's, under a constraint)."""
    if hasattr(pen, "penalty") and hasattr(pen, "constraint"):
        return type(pen)(_with_alpha(pen.penalty, alpha), pen.constraint)
    return pen.set_params(alpha=float(alpha)) if hasattr(pen, "set_params") else pen


def _path(prob, pen, alphas, *, init=None, owner="working_set_cd_path", **kwargs):
    """Warm-started solves on a prepared problem; also returns the alphas that did not
    converge (no warning: the caller emits one)."""
    coefs = np.empty((prob.p, alphas.size), dtype=prob.dtype)
    intercepts = np.empty(alphas.size)
    gaps = np.empty(alphas.size)
    n_iters = np.empty(alphas.size, dtype=np.int64)
    w = init
    bad = []
    pen = copy.deepcopy(pen)
    for k, a in enumerate(alphas):
        pen_a = _with_alpha(pen, a)
        res = _solve(prob, pen_a, _spec_of(pen_a, prob.p, owner), init=w, verbose=0,
                     warn=False,
                     owner=owner, **kwargs)
        w = res.x
        coefs[:, k] = w
        intercepts[k] = res.info["intercept"]
        gaps[k] = res.stop_crit
        n_iters[k] = res.n_iter
        if not res.converged:
            bad.append(float(a))
    return coefs, intercepts, gaps, n_iters, bad


__all__ = ["alpha_max", "duality_gap", "working_set_cd", "working_set_cd_path"]
