"""Working-set coordinate descent for the Lasso and the elastic net (the skglm/celer recipe).

The objective is scikit-learn's, with the same scaling::

    1/(2n) ||y - X w||^2 + alpha * l1_ratio * ||w||_1 + alpha * (1 - l1_ratio) / 2 * ||w||^2

(``n`` = number of samples; with sample weights ``s`` rescaled to sum to ``n``, the data term
is ``1/(2n) sum_i s_i (y_i - x_i w)^2``; with ``fit_intercept`` the data are centred first,
implicitly for sparse ``X``).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp

from ..._config import get_config
from ..._core.result import SolverResult, SolverState
from ...backends import kernel_for
from ...exceptions import ConvergenceWarning, NonFiniteIterateWarning
from ...utils.validation import check_array, check_int, check_scalar

WS_STRATEGIES = ("gs-s", "gs-r", "gap")  # codes 0, 1, 2 of the glm_cd_scores kernel

#: inner working-set problems are solved to this fraction of the outer KKT violation (skglm)
INNER_FRACTION = 0.3
#: stop (not converged) when the gap has not dropped below 0.99 x its best value for this many
#: outer iterations: the tolerance is below what the dtype's rounding allows
STAGNATION_ITERS = 20
STAGNATION_DECREASE = 0.99


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


def _check_params(alpha, l1_ratio, max_iter, max_epochs, tol, p0, ws_strategy, owner):
    alpha = check_scalar(alpha, "alpha", owner, lower=0.0)
    l1_ratio = check_scalar(l1_ratio, "l1_ratio", owner, lower=0.0, upper=1.0)
    max_iter = check_int(max_iter, "max_iter", owner, lower=1)
    max_epochs = check_int(max_epochs, "max_epochs", owner, lower=1)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    p0 = check_int(p0, "p0", owner, lower=1)
    if ws_strategy not in WS_STRATEGIES:
        raise ValueError(f"{owner}: ws_strategy must be one of {WS_STRATEGIES}, "
                         f"got {ws_strategy!r}.")
    return alpha, l1_ratio, max_iter, max_epochs, tol, p0


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


def _solve(prob, alpha, l1_ratio, *, positive=False, w0=None, max_iter=100, max_epochs=50_000,
           tol=1e-4, p0=10, ws_strategy="gs-r", anderson=True, screening=True, verbose=None,
           callback=None, engine=None, warn=True, owner="lasso_cd", budget_name="max_epochs"):
    n, p = prob.n, prob.p
    dtype = prob.dtype
    a1 = alpha * l1_ratio
    a2 = alpha * (1.0 - l1_ratio)
    if verbose is None:
        verbose = get_config()["verbose"]
    if w0 is None:
        w = np.zeros(p, dtype=dtype)
    else:
        w = np.array(w0, dtype=dtype).ravel()
        if w.shape != (p,):
            raise ValueError(f"{owner}: w0 must have shape ({p},), got {np.shape(w0)}.")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"{owner}: w0 contains NaN or infinity.")
        if positive:
            w = np.maximum(w, 0).astype(dtype)
    R, c = prob.residual(w)
    op = "glm_cd_ws_sparse" if prob.sparse else "glm_cd_ws_dense"
    kern = kernel_for(op, w, engine=engine)
    K = 5 if anderson else 0
    score_kernel = kernel_for("glm_cd_scores", w, engine=engine)
    strategy = WS_STRATEGIES.index(ws_strategy)
    score = np.empty(p)
    tol_s = tol * prob.yn2 / n
    norms = np.sqrt(prob.norms2)
    lc64 = prob.norms2 / n
    do_screen = bool(screening) and a1 > 0.0 and a2 == 0.0
    screened = np.zeros(p, dtype=bool)
    history = []
    t0 = time.perf_counter()
    n_outer = n_epochs = 0
    converged = False
    stopped_by = "max_iter"
    last_good = w.copy()
    gap = best_gap = float("inf")
    best_at = 0
    best_dual = -float("inf")
    theta_corr = None
    if verbose:
        print(f"{owner}: {'iter':>5} {'epochs':>8} {'ws':>6} {'dual gap':>12} {'objective':>14}")
    while True:
        if n_outer and dtype == np.float32:
            # fresh residual: no float32 drift from the kernels' updates and extrapolations
            # (in float64 the drift stays at rounding level: the kernels bound the Anderson
            # weights)
            R, c = prob.residual(w)
        G, Rt = prob.neg_grad(R, c)
        w64 = np.asarray(w, dtype=np.float64)
        if not (np.all(np.isfinite(w64)) and np.all(np.isfinite(G))):
            warnings.warn(
                f"{owner}: the coefficients became NaN or infinite; returning the last finite "
                "iterate. Check the scaling of X and y.", NonFiniteIterateWarning, stacklevel=3)
            w = last_good
            R, c = prob.residual(w)
            G, Rt = prob.neg_grad(R, c)
            gap = duality_gap(Rt, G, w, prob.y, a1, a2, positive, n)[0]
            stopped_by = "nonfinite"
            break
        last_good = w.copy()
        gap, primal, const = duality_gap(Rt, G, w64, prob.y, a1, a2, positive, n)
        # every dual point seen stays feasible: keep the best one (its value and, for the
        # screening sphere, its correlations x_j^T theta)
        dual = primal - gap
        if dual >= best_dual:
            best_dual = dual
            theta_corr = const * G
        gap = max(primal - best_dual, 0.0)
        elapsed = time.perf_counter() - t0
        history.append({"iteration": n_outer, "stop_crit": gap, "objective": primal,
                        "time": elapsed, "n_epochs": n_epochs})
        if verbose:
            print(f"{owner}: {n_outer:5d} {n_epochs:8d} {'':>6} {gap:12.4e} {primal:14.6e}")
        if gap <= tol_s:
            converged = True
            stopped_by = "tol"
            break
        if callback is not None and callback(SolverState(
                iteration=n_outer, x=w, stop_crit=gap, objective=primal, elapsed=elapsed)):
            stopped_by = "callback"
            break
        if n_outer >= max_iter or n_epochs >= max_epochs:
            stopped_by = "max_epochs" if n_epochs >= max_epochs else "max_iter"
            break
        if gap < STAGNATION_DECREASE * best_gap:
            best_gap, best_at = gap, n_outer
        elif n_outer - best_at >= STAGNATION_ITERS:
            stopped_by = "stagnation"
            break
        # gap-safe screening (Fercoq, Gramfort, Salmon 2015): |x_j^T theta| + ||x_j|| r < a1
        if do_screen:
            radius = np.sqrt(2.0 * gap / n)
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
        # working set: support forced in, then the largest scores
        kkt_max, n_supp = score_kernel(w64, G, lc64, norms, a1, a2, bool(positive), strategy,
                                       float(const), screened, score)
        n_free = p - int(screened.sum())
        size = min(max(p0, 2 * n_supp), n_free)
        if size <= 0:
            stopped_by = "tol"
            converged = True
            break
        if size < p:
            ws = np.argpartition(-score, size - 1)[:size]
        else:
            ws = np.arange(p)
        ws = np.sort(ws).astype(np.int64)
        # the kernel's gradients carry the rounding of X's dtype: never ask for less
        # (a float32 working set would otherwise run its whole epoch budget)
        # (rounding of the dot products, and one ulp of a coefficient times its curvature)
        inner_tol = max(INNER_FRACTION * kkt_max,
                        8.0 * float(np.finfo(dtype).eps)
                        * (float(norms.max()) * float(np.linalg.norm(Rt)) / n
                           + float(np.max(lc64 * np.abs(w64)))))
        budget = max_epochs - n_epochs
        if prob.sparse:
            ep = kern(prob.data, prob.indices, prob.indptr, n, prob.fit_intercept, prob.mu,
                      prob.v, prob.xv, prob.vv, w, R, c, ws, prob.lc, a1, a2, bool(positive),
                      budget, inner_tol, K)
        else:
            ep = kern(prob.X.T, w, R, ws, prob.lc, a1, a2, bool(positive), budget, inner_tol, K)
        n_epochs += int(ep)
        n_outer += 1
        history[-1]["ws_size"] = int(size)
    if not converged and warn and stopped_by == "stagnation":
        warnings.warn(
            f"{owner} did not converge: the duality gap stagnates at {gap:.3e} > tol * "
            f"||y||^2 / n = {tol_s:.3e} ({STAGNATION_ITERS} working-set iterations without "
            f"progress): the tolerance is below the rounding level of {np.dtype(dtype).name}. "
            "Increase tol (or use float64 data).", ConvergenceWarning, stacklevel=3)
    elif not converged and warn and stopped_by in ("max_iter", "max_epochs"):
        limit = (f"{budget_name} = {max_epochs} epochs" if stopped_by == "max_epochs"
                 else f"{n_outer} working-set iterations")
        hint = budget_name if stopped_by == "max_epochs" else "max_iter"
        warnings.warn(
            f"{owner} did not converge: duality gap = {gap:.3e} > tol * ||y||^2 / n = "
            f"{tol_s:.3e} after {limit}. Increase {hint} or tol.",
            ConvergenceWarning, stacklevel=3)
    info = {"dual_gap": float(gap), "n_epochs": int(n_epochs), "n_outer": int(n_outer),
            "criterion": "duality gap", "tol": tol, "tol_scaled": float(tol_s),
            "n_screened": int(screened.sum()), "stopped_by": stopped_by,
            "intercept": prob.intercept(w), "time": time.perf_counter() - t0}
    return SolverResult(x=w, n_iter=n_epochs, converged=converged, stop_crit=float(gap),
                        history=history, info=info)


def lasso_cd(X, y, *, alpha, l1_ratio=1.0, sample_weight=None, fit_intercept=False,
             positive=False, w0=None, max_iter=100, max_epochs=50_000, tol=1e-4, p0=10,
             ws_strategy="gs-r", anderson=True, screening=True, verbose=None, callback=None,
             engine=None):
    """Lasso / elastic net by working-set coordinate descent with Anderson acceleration.

    Minimises scikit-learn's objective (same scaling, same parameter names)::

        1/(2n) ||y - X w||^2 + alpha * l1_ratio * ||w||_1
                             + alpha * (1 - l1_ratio) / 2 * ||w||^2

    (``+ indicator(w >= 0)`` with ``positive``). Each outer iteration computes the full
    gradient, the duality gap (stop when ``gap <= tol * ||y||^2 / n``, scikit-learn's and
    celer's criterion), discards features with the gap-safe sphere test (pure Lasso), and
    builds a working set: the current support plus the features with the largest greedy
    scores, ``max(p0, 2 |support|)`` in all. The working-set problem is solved by cyclic
    proximal coordinate descent (a Numba kernel on dense Fortran columns or CSC columns) with
    Anderson extrapolation every 6 epochs, accepted only if the objective decreases, until its
    largest subdifferential distance is below 0.3 times the outer one.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Design. float32 stays float32; sparse input is used as CSC without densifying.
    y : ndarray of shape (n_samples,)
        Target.
    alpha : float
        Regularization strength (>= 0).
    l1_ratio : float, default=1.0
        Mix between l1 (1.0, the Lasso) and squared l2 (0.0).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights, rescaled internally to sum to ``n_samples`` (as scikit-learn).
    fit_intercept : bool, default=False
        Centre the data (implicitly for sparse ``X``); the intercept is in
        ``result.info["intercept"]``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    w0 : ndarray of shape (n_features,), default=None
        Warm start.
    max_iter : int, default=100
        Maximum number of outer (working-set) iterations.
    max_epochs : int, default=50000
        Budget of coordinate-descent epochs (passes over the working set), all outer
        iterations together.
    tol : float, default=1e-4
        Stop when the duality gap is ``<= tol * ||y||^2 / n`` (``y`` centred and weighted),
        the criterion of scikit-learn's coordinate descent and of celer.
    p0 : int, default=10
        Size of the first working set.
    ws_strategy : {"gs-r", "gs-s", "gap"}, default="gs-r"
        Greedy score that ranks features outside the support: ``"gs-r"`` the length of the
        coordinate prox-gradient step (skglm's ``fixpoint``), ``"gs-s"`` the distance of the
        negative gradient to the subdifferential (skglm's ``subdiff``), ``"gap"`` celer's
        priority ``(alpha l1_ratio - |x_j^T theta|) / ||x_j||``.
    anderson : bool, default=True
        Anderson acceleration (K = 5) of the inner coordinate descent.
    screening : bool, default=True
        Gap-safe screening (only used when ``l1_ratio == 1``).
    verbose : int or None, default=None
        Print one line per outer iteration (``None``: the global config).
    callback : callable ``callback(SolverState) -> bool`` or None, default=None
        Called once per outer iteration; returning True stops the solver.
    engine : {"auto", "numpy", "numba"} or None, default=None
        Kernel backend (``"numpy"`` is the slow reference).

    Returns
    -------
    result : SolverResult
        ``x`` the coefficients of shape (n_features,) in the dtype of ``X``; ``n_iter`` the
        epochs used; ``stop_crit`` the final duality gap; ``history`` one record per outer
        iteration (``objective``, ``stop_crit`` = gap, ``time``, ``n_epochs``, ``ws_size``);
        ``info`` with ``dual_gap``, ``intercept``, ``n_epochs``, ``n_outer``, ``n_screened``,
        ``tol_scaled``.

    Warns
    -----
    ConvergenceWarning
        Once, when the duality gap is still above the tolerance after the budget.

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
    .. [5] J. Nutini, I. Laradji and M. Schmidt, "Let's make block coordinate descent
       converge faster", JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import lasso_cd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 100))
    >>> w_true = np.zeros(100); w_true[:3] = [2.0, -1.0, 1.5]
    >>> y = X @ w_true
    >>> res = lasso_cd(X, y, alpha=0.1, tol=1e-8)
    >>> np.flatnonzero(res.x).tolist(), res.converged
    ([0, 1, 2], True)
    """
    owner = "lasso_cd"
    X, y, sample_weight = _validate(X, y, sample_weight, owner)
    alpha, l1_ratio, max_iter, max_epochs, tol, p0 = _check_params(
        alpha, l1_ratio, max_iter, max_epochs, tol, p0, ws_strategy, owner)
    prob = _Problem(X, y, sample_weight, fit_intercept, owner)
    return _solve(prob, alpha, l1_ratio, positive=positive, w0=w0, max_iter=max_iter,
                  max_epochs=max_epochs, tol=tol, p0=p0, ws_strategy=ws_strategy,
                  anderson=anderson, screening=screening, verbose=verbose, callback=callback,
                  engine=engine, owner=owner)


def alpha_max(X, y, *, l1_ratio=1.0, sample_weight=None, fit_intercept=False, positive=False):
    """Smallest ``alpha`` for which the (elastic-net) solution is zero.

    ``max_j |x_j^T y| / (n * l1_ratio)`` on the centred, weighted data (one-sided with
    ``positive``), as scikit-learn's path.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    l1_ratio : float, default=1.0
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=False
    positive : bool, default=False

    Returns
    -------
    alpha_max : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers.glm.working_set_cd import alpha_max
    >>> alpha_max(np.eye(2), np.array([2.0, -4.0]))
    2.0
    """
    X, y, sample_weight = _validate(X, y, sample_weight, "alpha_max")
    prob = _Problem(X, y, sample_weight, fit_intercept, "alpha_max")
    return _alpha_max(prob, l1_ratio, positive)


def _alpha_max(prob, l1_ratio, positive):
    R, c = prob.residual(np.zeros(prob.p, dtype=prob.dtype))
    G, _ = prob.neg_grad(R, c)
    m = float(np.max(G)) if positive else float(np.max(np.abs(G)))
    return max(m, 0.0) / max(l1_ratio, 1e-3)


def lasso_cd_path(X, y, *, alphas, l1_ratio=1.0, sample_weight=None, fit_intercept=False,
                  positive=False, w0=None, max_iter=100, max_epochs=50_000, tol=1e-4, p0=10,
                  ws_strategy="gs-r", anderson=True, screening=True, engine=None, warn=True):
    """Warm-started regularisation path of :func:`lasso_cd`.

    The data are centred and weighted once; each ``alpha`` (solved in decreasing order)
    starts from the previous solution.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    alphas : array-like of shape (n_alphas,)
        Regularization strengths (sorted internally in decreasing order).
    l1_ratio, sample_weight, fit_intercept, positive, w0, max_iter, max_epochs, tol, p0, \
ws_strategy, anderson, screening, engine
        As in :func:`lasso_cd` (``max_epochs`` is per ``alpha``).
    warn : bool, default=True
        Emit one ConvergenceWarning if some ``alpha`` did not converge.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,)
    dual_gaps : ndarray of shape (n_alphas,)
    n_iters : ndarray of shape (n_alphas,)
        Epochs per ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import lasso_cd_path
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((30, 8)), rng.standard_normal(30)
    >>> alphas, coefs, _, gaps, _ = lasso_cd_path(X, y, alphas=[0.5, 0.1, 0.01])
    >>> coefs.shape, [int(np.count_nonzero(c)) <= 8 for c in coefs.T]
    ((8, 3), [True, True, True])
    """
    owner = "lasso_cd_path"
    X, y, sample_weight = _validate(X, y, sample_weight, owner)
    alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
    if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError(f"{owner}: alphas must be a non-empty array of finite values >= 0.")
    _, l1_ratio, max_iter, max_epochs, tol, p0 = _check_params(
        float(alphas[0]), l1_ratio, max_iter, max_epochs, tol, p0, ws_strategy, owner)
    prob = _Problem(X, y, sample_weight, fit_intercept, owner)
    coefs, intercepts, gaps, n_iters, bad = _path(
        prob, alphas, l1_ratio, positive=positive, w0=w0, max_iter=max_iter,
        max_epochs=max_epochs, tol=tol, p0=p0, ws_strategy=ws_strategy, anderson=anderson,
        screening=screening, engine=engine, owner=owner)
    if bad and warn:
        warnings.warn(
            f"{owner} did not converge for {len(bad)} of {alphas.size} alphas (smallest "
            f"{min(bad):.3e}): the duality gap stayed above tol * ||y||^2 / n after "
            f"max_epochs = {max_epochs}. Increase max_epochs (max_iter in the estimators) or "
            "tol.", ConvergenceWarning, stacklevel=2)
    return alphas, coefs, intercepts, gaps, n_iters


def _path(prob, alphas, l1_ratio, *, w0=None, owner="lasso_cd_path", **kwargs):
    """Warm-started solves on a prepared problem; also returns the alphas that did not
    converge (no warning: the caller emits one)."""
    coefs = np.empty((prob.p, alphas.size), dtype=prob.dtype)
    intercepts = np.empty(alphas.size)
    gaps = np.empty(alphas.size)
    n_iters = np.empty(alphas.size, dtype=np.int64)
    w = w0
    bad = []
    for k, a in enumerate(alphas):
        res = _solve(prob, float(a), l1_ratio, w0=w, verbose=0, warn=False, owner=owner,
                     **kwargs)
        w = res.x
        coefs[:, k] = w
        intercepts[k] = res.info["intercept"]
        gaps[k] = res.info["dual_gap"]
        n_iters[k] = res.n_iter
        if not res.converged:
            bad.append(float(a))
    return coefs, intercepts, gaps, n_iters, bad


__all__ = ["alpha_max", "duality_gap", "lasso_cd", "lasso_cd_path"]
